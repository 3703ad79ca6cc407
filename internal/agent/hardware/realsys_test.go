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
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/sysfs"

	"github.com/plexus-net/plexus/internal/testenv"
)

// numa0Pool2Mi is the real per-NUMA 2Mi pool the spec resizes.
const numa0Pool2Mi = "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"

var _ = Describe("The hardware reconciler on this machine's real /sys", Label("root"), func() {
	It("allocates 8 2Mi hugepages on NUMA node 0 and gives them back", func(ctx SpecContext) {
		testenv.RequireRoot(GinkgoT(), "writes /sys")
		root := sysfs.New("/sys")
		if !sysfs.Exists(root, numa0Pool2Mi) {
			testenv.SkipOrFail(GinkgoT(), "no 2Mi hugepage pool on NUMA node 0 in /sys")
		}
		release, err := testenv.LockHugepages()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(release)
		original, err := sysfs.ReadInt(root, numa0Pool2Mi)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			// Restore whatever happened above, even on failure.
			Expect(sysfs.WriteInt(root, numa0Pool2Mi, original)).To(Succeed())
			Expect(sysfs.ReadInt(root, numa0Pool2Mi)).To(Equal(original))
		})

		f := newFixture(ctx)
		f.r.SysRoot = root
		p := f.policy(ctx, "hugepages", plexusv1alpha1.NodeNetworkPolicySpec{Hugepages: []plexusv1alpha1.HugepagesConfig{{
			PageSize: plexusv1alpha1.HugepageSize2Mi, Count: 8, NUMANode: ptr.To[int32](0)}}})
		const want = int32(8)

		_, err = f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(sysfs.ReadInt(root, numa0Pool2Mi)).To(Equal(8))
		nns := f.state(ctx)
		Expect(nns.Status.Hugepages).To(ContainElement(And(HaveField("PageSize", plexusv1alpha1.HugepageSize2Mi),
			HaveField("NUMANode", HaveValue(BeEquivalentTo(0))), HaveField("Requested", want), HaveField("Allocated", want))))
		Expect(policyEntry(nns, p.Name).State).To(Equal(plexusv1alpha1.PolicyApplyStateApplied))

		By("deleting the policy: the pool goes back to its original size")
		Expect(k8sClient.Delete(ctx, p)).To(Succeed())
		_, err = f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(sysfs.ReadInt(root, numa0Pool2Mi)).To(Equal(original))
	})
})
