/*
Copyright 2026 The Plexus Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package hugepages_test

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/hugepages"
	"github.com/plexus-net/plexus/internal/sysfs"
	"github.com/plexus-net/plexus/internal/sysfs/fake"
)

func intp(i int) *int { return &i }

func TestApplyFake(t *testing.T) {
	g := NewWithT(t)
	tr, err := fake.New(t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tr.SetHugepages(2048, 2, 100)).To(Succeed())
	g.Expect(tr.SetHugepages(1048576, 2, 2)).To(Succeed())
	ctx := context.Background()

	pools, err := hugepages.Apply(ctx, tr, []hugepages.Target{
		{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: intp(0), Count: 10},
		{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: intp(1), Count: 20},
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pools).To(HaveLen(2))
	g.Expect(pools[1].Allocated).To(Equal(20))
	g.Expect(pools[1].Requested).To(Equal(20))

	all, err := hugepages.Read(tr)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(all).To(HaveLen(6))
	g.Expect(all[0]).To(Equal(hugepages.Pool{PageSize: plexusv1alpha1.HugepageSize2Mi, Allocated: 30, Free: 30}))

	// Unchanged pools are not written.
	tr.ResetWrites()
	_, err = hugepages.Apply(ctx, tr, []hugepages.Target{{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: intp(0), Count: 10}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tr.Writes()).To(BeEmpty())

	// 1Gi: node 1 can only hold 2 pages.
	pools, err = hugepages.Apply(ctx, tr, []hugepages.Target{
		{PageSize: plexusv1alpha1.HugepageSize1Gi, NUMANode: intp(1), Count: 4},
		{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: intp(0), Count: 5},
	})
	g.Expect(err).To(MatchError(hugepages.ErrShortfall))
	g.Expect(hugepages.ReasonOf(err)).To(Equal("HugepagesShortfall"))
	var se *hugepages.ShortfallError
	g.Expect(errors.As(err, &se)).To(BeTrue())
	g.Expect(se.Pool.Requested).To(Equal(4))
	g.Expect(se.Pool.Allocated).To(Equal(2))
	g.Expect(se.Error()).To(ContainSubstring("requested 4 pages, allocated 2"))
	g.Expect(pools[1].Allocated).To(Equal(5), "other pools still applied")
	st := pools[0].Status()
	g.Expect(*st.NUMANode).To(Equal(int32(1)))
	g.Expect(st.Requested).To(Equal(int32(4)))
	g.Expect(st.Allocated).To(Equal(int32(2)))

	_, err = hugepages.Apply(ctx, tr, []hugepages.Target{{PageSize: "4Mi", Count: 1}})
	g.Expect(err).To(MatchError(hugepages.ErrUnsupportedPageSize))
	_, err = hugepages.Apply(ctx, tr, []hugepages.Target{{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: intp(7), Count: 1}})
	g.Expect(err).To(MatchError(hugepages.ErrUnsupportedPageSize))
}

func TestApplyOrdersPerNUMAFirst(t *testing.T) {
	g := NewWithT(t)
	tr, err := fake.New(t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tr.SetHugepages(2048, 1, 100)).To(Succeed())
	_, err = hugepages.Apply(context.Background(), tr, []hugepages.Target{
		{PageSize: plexusv1alpha1.HugepageSize2Mi, Count: 8},
		{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: intp(0), Count: 3},
	})
	// Node-wide last: 8 wins over the per-node 3 (nodepolicy never emits both for one size).
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sysfs.ReadInt(tr, "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")).To(Equal(8))
	var paths []string
	for _, w := range tr.Writes() {
		paths = append(paths, w.Path)
	}
	g.Expect(paths).To(Equal([]string{
		"devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
		"kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
	}))
}
