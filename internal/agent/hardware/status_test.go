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

package hardware

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/hugepages"
	"github.com/plexus-net/plexus/internal/nodepolicy"
	"github.com/plexus-net/plexus/internal/sriov"
)

func TestPoolKeyRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ps   plexusv1alpha1.HugepageSize
		node *int
	}{
		{plexusv1alpha1.HugepageSize2Mi, nil},
		{plexusv1alpha1.HugepageSize1Gi, nil},
		{plexusv1alpha1.HugepageSize2Mi, ptr.To(0)},
		{plexusv1alpha1.HugepageSize1Gi, ptr.To(3)},
	} {
		t.Run(poolKey(tc.ps, tc.node), func(t *testing.T) {
			g := NewWithT(t)
			got, err := targetOf(poolKey(tc.ps, tc.node), 7)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(hugepages.Target{PageSize: tc.ps, NUMANode: tc.node, Count: 7}))
		})
	}
	_, err := targetOf("4Ki", 1)
	NewWithT(t).Expect(err).To(HaveOccurred())
}

func TestDrainErrorReason(t *testing.T) {
	g := NewWithT(t)
	e := drainError(map[string]types.UID{"b/p": "", "a/p": ""}, nil)
	g.Expect(e.Reason).To(Equal(DrainTimeoutReason))
	g.Expect(e.Pods).To(Equal([]string{"a/p", "b/p"}))
	e = drainError(map[string]types.UID{"a/p": ""}, map[string]string{"a/p": "Cannot evict pod as it would violate the pod's disruption budget."})
	g.Expect(e.Reason).To(Equal(DrainBlockedReason))
	g.Expect(e.Error()).To(ContainSubstring("disruption budget"))
}

func TestSpecHashIgnoresOrder(t *testing.T) {
	g := NewWithT(t)
	a := nodepolicy.Resolution{Hugepages: []hugepages.Target{
		{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: ptr.To(0), Count: 8},
		{PageSize: plexusv1alpha1.HugepageSize1Gi, Count: 2},
	}}
	b := nodepolicy.Resolution{Hugepages: []hugepages.Target{a.Hugepages[1], a.Hugepages[0]}}
	g.Expect(specHash(a)).To(Equal(specHash(b)))
	b.Hugepages[0].Count = 3
	g.Expect(specHash(a)).NotTo(Equal(specHash(b)))
}

func TestSriovErrorsByPF(t *testing.T) {
	g := NewWithT(t)
	vfToPF := map[string]string{"0000:3b:00.0": "0000:3b:00.0", "0000:3b:02.1": "0000:3b:00.0"}
	vfErr := &sriov.Error{Reason: sriov.ReasonDriverBindFailed, Device: "0000:3b:02.1", Op: "bind vfio-pci"}
	pfErr := &sriov.Error{Reason: sriov.ReasonDeviceBusy, Device: "0000:3b:00.1", Op: "set sriov_numvfs", Err: syscall.EBUSY}
	other := errors.New("disk full")
	got := sriovErrorsByPF(errors.Join(fmt.Errorf("apply: %w", vfErr), pfErr, other), vfToPF)
	g.Expect(got).To(HaveLen(3))
	g.Expect(sriov.ReasonOf(got["0000:3b:00.0"])).To(Equal(sriov.ReasonDriverBindFailed), "a VF error counts against its PF")
	g.Expect(errors.Is(got["0000:3b:00.1"], syscall.EBUSY)).To(BeTrue())
	g.Expect(got[""]).To(MatchError(other))
}

func TestPolicyPFs(t *testing.T) {
	g := NewWithT(t)
	d := sriov.Desired{PFs: []sriov.PFConfig{
		{PCIAddress: "a", Groups: []sriov.VFGroup{{Policy: "p1"}, {Policy: "p2"}}},
		{PCIAddress: "b", Groups: []sriov.VFGroup{{Policy: "p2"}}},
	}}
	g.Expect(policyPFs(d, "p1")).To(Equal([]string{"a", ""}))
	g.Expect(policyPFs(d, "p2")).To(Equal([]string{"a", "b", ""}))
	g.Expect(policyPFs(d, "hugepages-only")).To(BeEmpty())
}

func TestHugepagesSchedulable(t *testing.T) {
	node := func(capacity map[string]string) *corev1.Node {
		n := &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{}}}
		for k, v := range capacity {
			n.Status.Capacity[corev1.ResourceName(k)] = resource.MustParse(v)
		}
		return n
	}
	pools := []plexusv1alpha1.HugepagesStatus{
		{PageSize: plexusv1alpha1.HugepageSize2Mi, Allocated: 8},
		{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: ptr.To[int32](0), Allocated: 8},
		{PageSize: plexusv1alpha1.HugepageSize1Gi, Allocated: 0},
	}
	want2Mi := []hugepages.Target{{PageSize: plexusv1alpha1.HugepageSize2Mi, Count: 8, NUMANode: ptr.To(0)}}
	for name, tc := range map[string]struct {
		node     *corev1.Node
		targets  []hugepages.Target
		ok       bool
		relevant bool
		msg      string
	}{
		"no policy asks for hugepages": {node: node(nil), targets: nil, ok: true, relevant: false},
		"kubelet started before the pool was allocated": {node: node(map[string]string{"hugepages-2Mi": "0"}), targets: want2Mi,
			ok: false, relevant: true, msg: "hugepages-2Mi: 8 pages allocated (16Mi), kubelet offers 0. kubelet reads hugepage capacity only when it starts"},
		"no capacity entry at all":         {node: node(nil), targets: want2Mi, ok: false, relevant: true, msg: "kubelet offers 0"},
		"kubelet offers what is allocated": {node: node(map[string]string{"hugepages-2Mi": "16Mi"}), targets: want2Mi, ok: true, relevant: true, msg: "16Mi"},
		"only the requested sizes count": {node: node(map[string]string{"hugepages-2Mi": "16Mi", "hugepages-1Gi": "4Gi"}), targets: want2Mi,
			ok: true, relevant: true},
		"1Gi asked, kubelet still offers the old 4Gi": {node: node(map[string]string{"hugepages-2Mi": "0", "hugepages-1Gi": "4Gi"}),
			targets: []hugepages.Target{{PageSize: plexusv1alpha1.HugepageSize1Gi, Count: 0}}, ok: false, relevant: true,
			msg: "hugepages-1Gi: 0 pages allocated (0), kubelet offers 4Gi"},
	} {
		g := NewWithT(t)
		ok, msg, relevant := hugepagesSchedulable(tc.node, tc.targets, pools)
		g.Expect(ok).To(Equal(tc.ok), name)
		g.Expect(relevant).To(Equal(tc.relevant), name)
		g.Expect(msg).To(ContainSubstring(tc.msg), name)
	}
}
