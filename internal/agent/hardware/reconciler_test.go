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
	"context"
	"errors"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/controllers"
	"github.com/plexus-net/plexus/internal/agent/nodestate"
	"github.com/plexus-net/plexus/internal/sysfs/fake"
)

func sriovSpec(pf string, numVfs int32, dt plexusv1alpha1.SriovDeviceType) plexusv1alpha1.NodeNetworkPolicySpec {
	return plexusv1alpha1.NodeNetworkPolicySpec{Sriov: []plexusv1alpha1.SriovConfig{{
		PFSelector: plexusv1alpha1.PFSelector{PFNames: []string{pf}}, NumVfs: numVfs, DeviceType: dt, ResourceName: "net",
	}}}
}

var _ = Describe("The hardware reconciler", func() {
	It("creates VFs and hugepages and reports them in NodeNetworkState", func(ctx SpecContext) {
		f := newFixture(ctx)
		spec := sriovSpec("ens1f0", 4, plexusv1alpha1.SriovDeviceTypeNetdevice)
		spec.Hugepages = []plexusv1alpha1.HugepagesConfig{{PageSize: plexusv1alpha1.HugepageSize2Mi, Count: 16, NUMANode: ptr.To[int32](0)}}
		p := f.policy(ctx, "vfs", spec)

		res, err := f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.RequeueAfter).To(Equal(defaultResync))
		Expect(f.numVfs(pfA)).To(Equal("4"))
		Expect(f.numVfs(pfB)).To(Equal("0"))

		nns := f.state(ctx)
		Expect(nns.Status.PFs).To(ContainElement(And(HaveField("Name", "ens1f0"), HaveField("NumVfs", int32(4)), HaveField("VFs", HaveLen(4)))))
		Expect(nns.Status.Hugepages).To(ContainElement(And(HaveField("PageSize", plexusv1alpha1.HugepageSize2Mi),
			HaveField("NUMANode", HaveValue(BeEquivalentTo(0))), HaveField("Requested", int32(16)), HaveField("Allocated", int32(16)))))
		Expect(policyEntry(nns, p.Name)).To(And(HaveField("State", plexusv1alpha1.PolicyApplyStateApplied), HaveField("Generation", p.Generation)))
		Expect(nns.Status.AppliedSpecHash).NotTo(BeEmpty())
		Expect(nns.Status.AppliedPolicyGeneration).To(Equal(p.Generation))
		Expect(nns.Status.DisruptionPlan).To(BeNil())
		Expect(condition(nns, plexusv1alpha1.ProgressingCondition)).To(And(HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", plexusv1alpha1.NodeNetworkStateAppliedReason)))
		Expect(condition(nns, plexusv1alpha1.DegradedCondition)).To(HaveField("Status", metav1.ConditionFalse))
		Expect(condition(nns, plexusv1alpha1.NodeNetworkStateDisruptionRequiredCondition)).To(And(
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", plexusv1alpha1.NodeNetworkStateNoDisruptionReason)))
		Expect(f.kubelet.listCalls()).To(BeZero(), "creating VFs on a PF without VFs disrupts nobody: kubelet is not asked")
		Expect(f.getNode(ctx).Spec.Unschedulable).To(BeFalse())

		By("saying that kubelet does not offer the new pages until it restarts")
		Expect(condition(nns, plexusv1alpha1.NodeNetworkStateHugepagesSchedulableCondition)).To(And(
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", plexusv1alpha1.NodeNetworkStateKubeletRestartRequiredReason),
			HaveField("Message", ContainSubstring("hugepages-2Mi: 16 pages allocated (32Mi), kubelet offers 0"))))
		node := f.getNode(ctx)
		node.Status.Capacity = corev1.ResourceList{"hugepages-2Mi": resource.MustParse("32Mi")} // what a restarted kubelet reports
		Expect(k8sClient.Status().Update(ctx, node)).To(Succeed())
		_, err = f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		nns = f.state(ctx)
		Expect(condition(nns, plexusv1alpha1.NodeNetworkStateHugepagesSchedulableCondition)).To(And(
			HaveField("Status", metav1.ConditionTrue), HaveField("Reason", plexusv1alpha1.AsExpectedReason)))

		By("sharing the NodeNetworkState with the agent's other writer through server-side apply")
		rep := &nodestate.Reporter{Client: k8sClient, NodeName: f.node}
		Expect(rep.Apply(ctx, &nodestate.State{Uplink: &plexusv1alpha1.UplinkStatus{Name: "eth0"},
			Conditions: []metav1.Condition{nodestate.Condition(plexusv1alpha1.ReadyCondition, true, plexusv1alpha1.NodeNetworkStateAgentReadyReason, "ok")}})).To(Succeed())
		_, err = f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		nns = f.state(ctx)
		Expect(nns.Status.Uplink).NotTo(BeNil())
		Expect(nns.Status.PFs).NotTo(BeEmpty())
		Expect(condition(nns, plexusv1alpha1.ReadyCondition).Reason).To(Equal(plexusv1alpha1.NodeNetworkStateAgentReadyReason))
		Expect(condition(nns, plexusv1alpha1.ProgressingCondition).Reason).To(Equal(plexusv1alpha1.NodeNetworkStateAppliedReason))
		managers := map[string]bool{}
		for _, m := range nns.ManagedFields {
			if m.Subresource == "status" {
				managers[m.Manager] = true
			}
		}
		Expect(managers).To(HaveKey(FieldOwner))
		Expect(managers).To(HaveKey(nodestate.FieldOwner))

		By("giving the pools back their original size when the policy goes away")
		Expect(k8sClient.Delete(ctx, p)).To(Succeed())
		_, err = f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.numVfs(pfA)).To(Equal("0"), "VFs Plexus created are removed")
		nns = f.state(ctx)
		Expect(nns.Status.Policies).To(BeEmpty())
		Expect(nns.Status.Hugepages).To(ContainElement(And(HaveField("NUMANode", HaveValue(BeEquivalentTo(0))),
			HaveField("Allocated", BeZero()), HaveField("Requested", BeZero()))))
		Expect(nns.Status.Uplink).NotTo(BeNil(), "the other writer's fields stay")
		Expect(meta.FindStatusCondition(nns.Status.Conditions, plexusv1alpha1.NodeNetworkStateHugepagesSchedulableCondition)).To(BeNil(),
			"no policy asks for hugepages any more")
	})

	It("discovers and configures SR-IOV through PCIRoot while hugepages keep SysRoot", func(ctx SpecContext) {
		f := newFixture(ctx)
		// The fixture's tree (PFs and hugepages) becomes the PCI root; SysRoot is a second tree
		// with hugepages only, as the host's /sys is next to a fake PCI tree in the e2e suite.
		sys, err := fake.New(GinkgoT().TempDir())
		Expect(err).NotTo(HaveOccurred())
		Expect(sys.SetHugepages(2048, 1, 64)).To(Succeed())
		f.r.PCIRoot, f.r.SysRoot = f.tree, sys
		spec := sriovSpec("ens1f0", 2, plexusv1alpha1.SriovDeviceTypeNetdevice)
		spec.Hugepages = []plexusv1alpha1.HugepagesConfig{{PageSize: plexusv1alpha1.HugepageSize2Mi, Count: 8, NUMANode: ptr.To[int32](0)}}
		p := f.policy(ctx, "split", spec)

		_, err = f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.numVfs(pfA)).To(Equal("2"))
		Expect(sys.Writes()).NotTo(ContainElement(HaveField("Path", ContainSubstring("bus/pci"))), "no PCI write goes to SysRoot")
		Expect(f.tree.Writes()).NotTo(ContainElement(HaveField("Path", ContainSubstring("hugepages"))), "no hugepages write goes to PCIRoot")
		nns := f.state(ctx)
		Expect(policyEntry(nns, p.Name)).To(HaveField("State", plexusv1alpha1.PolicyApplyStateApplied))
		Expect(nns.Status.PFs).To(ContainElement(And(HaveField("Name", "ens1f0"), HaveField("VFs", HaveLen(2)))))
		Expect(nns.Status.Hugepages).To(ContainElement(And(HaveField("NUMANode", HaveValue(BeEquivalentTo(0))),
			HaveField("Requested", int32(8)), HaveField("Allocated", int32(8)))))
		b, err := sys.ReadFile("devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.TrimSpace(string(b))).To(Equal("8"))
	})

	It("reports PFNotFound and conflicts per policy, and Degraded on the node", func(ctx SpecContext) {
		f := newFixture(ctx)
		missing := f.policy(ctx, "missing", sriovSpec("ens9f9", 2, ""))
		winner := f.policy(ctx, "a-winner", sriovSpec("ens1f1", 4, ""))
		loserSpec := sriovSpec("ens1f1", 2, "")
		loserSpec.Priority = ptr.To[int32](99)
		winnerSpec := winner.Spec.DeepCopy()
		winnerSpec.Priority = ptr.To[int32](1)
		winner.Spec = *winnerSpec
		Expect(k8sClient.Update(ctx, winner)).To(Succeed())
		loser := f.policy(ctx, "z-loser", loserSpec)

		_, err := f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		nns := f.state(ctx)
		Expect(policyEntry(nns, missing.Name)).To(And(HaveField("State", plexusv1alpha1.PolicyApplyStateFailed),
			HaveField("Reason", plexusv1alpha1.NodeNetworkStatePFNotFoundReason)))
		Expect(policyEntry(nns, loser.Name)).To(And(HaveField("State", plexusv1alpha1.PolicyApplyStateConflict),
			HaveField("Reason", plexusv1alpha1.NodeNetworkStatePolicyConflictReason)))
		Expect(policyEntry(nns, winner.Name).State).To(Equal(plexusv1alpha1.PolicyApplyStateApplied))
		Expect(f.numVfs(pfB)).To(Equal("4"))
		Expect(condition(nns, plexusv1alpha1.DegradedCondition).Status).To(Equal(metav1.ConditionTrue))
	})

	Context("with a pod holding a VF", func() {
		var f *fixture
		var p *plexusv1alpha1.NodeNetworkPolicy
		var holder *corev1.Pod

		BeforeEach(func(ctx SpecContext) {
			f = newFixture(ctx)
			spec := sriovSpec("ens1f0", 4, "")
			spec.Disruption = &plexusv1alpha1.DisruptionBudget{MaxUnavailable: ptr.To(intstr.FromInt32(1)),
				DrainTimeout: &metav1.Duration{Duration: 2 * time.Second}}
			p = f.policy(ctx, "vfs", spec)
			_, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.numVfs(pfA)).To(Equal("4"))
			holder = f.pod(ctx, "dpdk-app", map[string]string{"app": "dpdk"})
			f.kubelet.hold(f.ns, holder.Name, fake.VFAddress(pfA, 1))
			p.Spec.Sriov[0].NumVfs = 8
			Expect(k8sClient.Update(ctx, p)).To(Succeed())
		})

		It("publishes the plan, cordons, evicts, applies and uncordons, in that order", func(ctx SpecContext) {
			type seen struct {
				plan        *plexusv1alpha1.DisruptionPlan
				cordoned    bool
				podGone     bool
				numvfsWrite string
			}
			var first *seen
			f.tree.BeforeWrite(func(rel, data string) error {
				if first != nil || !strings.HasSuffix(rel, "sriov_numvfs") {
					return nil
				}
				s := &seen{numvfsWrite: data}
				nns := &plexusv1alpha1.NodeNetworkState{}
				if err := k8sClient.Get(ctx, types.NamespacedName{Name: f.node}, nns); err == nil {
					s.plan = nns.Status.DisruptionPlan
				}
				s.cordoned = f.getNode(ctx).Spec.Unschedulable
				s.podGone = apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(holder), &corev1.Pod{}))
				first = s
				return nil
			})

			_, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(first).NotTo(BeNil())
			Expect(first.numvfsWrite).To(Equal("0"), "N -> 0 -> M")
			Expect(first.plan).NotTo(BeNil(), "the plan is in status before the VFs are reset")
			Expect(first.plan.State).To(Equal(plexusv1alpha1.DisruptionStateDraining))
			Expect(first.plan.PFs).To(ConsistOf(And(HaveField("PCIAddress", pfA), HaveField("PodsToEvict", ConsistOf(f.ns+"/dpdk-app")))))
			Expect(first.cordoned).To(BeTrue(), "cordoned while the VFs are reset")
			Expect(first.podGone).To(BeTrue(), "the holder was evicted before the VFs were reset")

			Expect(f.numVfs(pfA)).To(Equal("8"))
			node := f.getNode(ctx)
			Expect(node.Spec.Unschedulable).To(BeFalse())
			Expect(node.Annotations).NotTo(HaveKey(CordonAnnotation))
			Expect(f.heldLeases(ctx)).To(BeEmpty(), "the budget slot is released")
			nns := f.state(ctx)
			Expect(nns.Status.DisruptionPlan).NotTo(BeNil())
			Expect(nns.Status.DisruptionPlan.State).To(Equal(plexusv1alpha1.DisruptionStateCompleted))
			Expect(policyEntry(nns, p.Name)).To(And(HaveField("State", plexusv1alpha1.PolicyApplyStateApplied), HaveField("Generation", p.Generation)))
			Expect(condition(nns, plexusv1alpha1.NodeNetworkStateDisruptionRequiredCondition).Status).To(Equal(metav1.ConditionFalse))
		})

		It("uncordons and reports DrainBlocked when a PodDisruptionBudget refuses the eviction until drainTimeout", func(ctx SpecContext) {
			pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "keep-dpdk"},
				Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "dpdk"}}}}
			Expect(k8sClient.Create(ctx, pdb)).To(Succeed())
			// The Eviction API ignores budgets for pods that are not running.
			holder.Status.Phase = corev1.PodRunning
			Expect(k8sClient.Status().Update(ctx, holder)).To(Succeed())
			f.tree.ResetWrites()

			res, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.RequeueAfter).To(Equal(defaultRetryBlocked))
			Expect(f.numVfs(pfA)).To(Equal("4"), "nothing applied")
			Expect(f.tree.Writes()).To(BeEmpty())
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(holder), &corev1.Pod{})).To(Succeed(), "the pod stays")
			node := f.getNode(ctx)
			Expect(node.Spec.Unschedulable).To(BeFalse(), "uncordoned after the timeout")
			Expect(node.Annotations).NotTo(HaveKey(CordonAnnotation))
			Expect(f.heldLeases(ctx)).To(BeEmpty())
			nns := f.state(ctx)
			Expect(policyEntry(nns, p.Name)).To(And(HaveField("State", plexusv1alpha1.PolicyApplyStateFailed),
				HaveField("Reason", DrainBlockedReason), HaveField("Message", ContainSubstring(f.ns+"/dpdk-app"))))
			Expect(nns.Status.DisruptionPlan.State).To(Equal(plexusv1alpha1.DisruptionStateBlocked))
			Expect(condition(nns, plexusv1alpha1.NodeNetworkStateDisruptionRequiredCondition)).To(And(
				HaveField("Status", metav1.ConditionTrue), HaveField("Reason", DrainBlockedReason)))
			Expect(condition(nns, plexusv1alpha1.DegradedCondition).Reason).To(Equal(DrainBlockedReason))
		})

		It("waits for a budget slot another node holds, without cordoning", func(ctx SpecContext) {
			other := &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: slotName(p.Name, 0),
					Labels: map[string]string{budgetLabel: budgetHash(p.Name), managedByLabel: managedBy}},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("other-node"), LeaseDurationSeconds: ptr.To[int32](600),
					RenewTime: &metav1.MicroTime{Time: time.Now()}},
			}
			Expect(k8sClient.Create(ctx, other)).To(Succeed())
			DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, other))).To(Succeed()) })

			res, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.RequeueAfter).To(Equal(defaultBudgetRetry))
			Expect(f.getNode(ctx).Spec.Unschedulable).To(BeFalse())
			Expect(f.numVfs(pfA)).To(Equal("4"))
			nns := f.state(ctx)
			Expect(nns.Status.DisruptionPlan.State).To(Equal(plexusv1alpha1.DisruptionStatePending))
			Expect(policyEntry(nns, p.Name).State).To(Equal(plexusv1alpha1.PolicyApplyStatePending))
			Expect(condition(nns, plexusv1alpha1.NodeNetworkStateDisruptionRequiredCondition).Reason).To(
				Equal(plexusv1alpha1.NodeNetworkStateDisruptionPendingReason))
			Expect(condition(nns, plexusv1alpha1.ProgressingCondition).Status).To(Equal(metav1.ConditionTrue))

			By("taking the slot once the other node releases it")
			Expect(k8sClient.Delete(ctx, other)).To(Succeed())
			_, err = f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.numVfs(pfA)).To(Equal("8"))
		})
	})

	It("lets only maxUnavailable nodes of a policy disrupt themselves at once", func(ctx SpecContext) {
		a, b := newFixture(ctx), newFixture(ctx)
		pair := "pair-" + a.node
		for _, f := range []*fixture{a, b} {
			n := f.getNode(ctx)
			n.Labels["hw-pair"] = pair
			Expect(k8sClient.Update(ctx, n)).To(Succeed())
		}
		spec := sriovSpec("ens1f0", 4, "")
		spec.NodeSelector = metav1.LabelSelector{MatchLabels: map[string]string{"hw-pair": pair}}
		spec.Disruption = &plexusv1alpha1.DisruptionBudget{MaxUnavailable: ptr.To(intstr.FromString("50%")),
			DrainTimeout: &metav1.Duration{Duration: 5 * time.Second}}
		p := &plexusv1alpha1.NodeNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: pair}, Spec: spec}
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, p))).To(Succeed()) })
		for _, f := range []*fixture{a, b} {
			_, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.numVfs(pfA)).To(Equal("4"))
			holder := f.pod(ctx, "app", nil)
			f.kubelet.hold(f.ns, holder.Name, fake.VFAddress(pfA, 0))
		}
		p.Spec.Sriov[0].NumVfs = 2
		Expect(k8sClient.Update(ctx, p)).To(Succeed())

		By("node b reconciling while node a is in the middle of its disruptive apply")
		var bResult ctrl.Result
		var bCordoned bool
		a.tree.BeforeWrite(func(rel, data string) error {
			if !strings.HasSuffix(rel, "sriov_numvfs") || data != "0" {
				return nil
			}
			res, err := b.reconcile(ctx)
			if err != nil {
				return err
			}
			bResult, bCordoned = res, b.getNode(ctx).Spec.Unschedulable
			return nil
		})
		_, err := a.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(a.numVfs(pfA)).To(Equal("2"))
		Expect(bResult.RequeueAfter).To(Equal(defaultBudgetRetry), "50 percent of 2 nodes is 1 slot, held by a")
		Expect(bCordoned).To(BeFalse())
		Expect(b.numVfs(pfA)).To(Equal("4"))
		Expect(policyEntry(b.state(ctx), p.Name).State).To(Equal(plexusv1alpha1.PolicyApplyStatePending))

		By("node b taking the slot a released")
		_, err = b.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(b.numVfs(pfA)).To(Equal("2"))
		Expect(b.getNode(ctx).Spec.Unschedulable).To(BeFalse())
	})

	It("never cordons for a change nobody is disrupted by", func(ctx SpecContext) {
		f := newFixture(ctx)
		p := f.policy(ctx, "vfs", sriovSpec("ens1f0", 4, ""))
		_, err := f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		before := f.getNode(ctx).ResourceVersion

		By("growing the VF count and moving VFs to vfio-pci with no pod holding them")
		p.Spec.Sriov[0].NumVfs = 6
		p.Spec.Sriov[0].DeviceType = plexusv1alpha1.SriovDeviceTypeVfioPci
		Expect(k8sClient.Update(ctx, p)).To(Succeed())
		f.tree.BeforeWrite(func(string, string) error {
			defer GinkgoRecover()
			Expect(f.getNode(ctx).Spec.Unschedulable).To(BeFalse())
			return nil
		})
		_, err = f.reconcile(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.numVfs(pfA)).To(Equal("6"))
		Expect(f.getNode(ctx).ResourceVersion).To(Equal(before), "the Node was never patched")
		Expect(f.heldLeases(ctx)).To(BeEmpty())
		nns := f.state(ctx)
		Expect(nns.Status.DisruptionPlan).To(BeNil())
		Expect(policyEntry(nns, p.Name).State).To(Equal(plexusv1alpha1.PolicyApplyStateApplied))
	})

	Context("after an agent restart", func() {
		It("resumes an interrupted SR-IOV apply from the state file", func(ctx SpecContext) {
			f := newFixture(ctx)
			p := f.policy(ctx, "vfs", sriovSpec("ens1f0", 4, ""))
			_, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			p.Spec.Sriov[0].NumVfs = 8
			Expect(k8sClient.Update(ctx, p)).To(Succeed())
			crash := errors.New("agent killed")
			f.tree.BeforeWrite(func(rel, data string) error {
				if strings.HasSuffix(rel, "sriov_numvfs") && data == "8" {
					return crash
				}
				return nil
			})
			_, err = f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.numVfs(pfA)).To(Equal("0"), "killed between the 0 and the 8 writes")
			Expect(policyEntry(f.state(ctx), p.Name).State).To(Equal(plexusv1alpha1.PolicyApplyStateFailed))

			By("a new reconciler on the same state directory")
			f.tree.BeforeWrite(nil)
			f.tree.ResetWrites()
			f.r = f.newReconciler(nil)
			_, err = f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.numVfs(pfA)).To(Equal("8"))
			var numvfs []string
			for _, w := range f.tree.Writes() {
				if strings.HasSuffix(w.Path, "sriov_numvfs") {
					numvfs = append(numvfs, w.Data)
				}
			}
			Expect(numvfs).To(Equal([]string{"8"}), "the PF at 0 VFs gets only the new count")
			Expect(policyEntry(f.state(ctx), p.Name).State).To(Equal(plexusv1alpha1.PolicyApplyStateApplied))
		})

		It("lifts a cordon and frees a slot left by a drain the agent did not finish", func(ctx SpecContext) {
			f := newFixture(ctx)
			node := f.getNode(ctx)
			node.Spec.Unschedulable = true
			node.Annotations = map[string]string{CordonAnnotation: "true"}
			Expect(k8sClient.Update(ctx, node)).To(Succeed())
			lease := &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: slotName("left-over-"+f.node, 0),
					Labels: map[string]string{budgetLabel: budgetHash("left-over-" + f.node), managedByLabel: managedBy}},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(f.node), LeaseDurationSeconds: ptr.To[int32](600),
					RenewTime: &metav1.MicroTime{Time: time.Now()}},
			}
			Expect(k8sClient.Create(ctx, lease)).To(Succeed())

			_, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			node = f.getNode(ctx)
			Expect(node.Spec.Unschedulable).To(BeFalse())
			Expect(node.Annotations).NotTo(HaveKey(CordonAnnotation))
			Expect(f.heldLeases(ctx)).To(BeEmpty())
		})

		It("leaves a cordon an administrator set", func(ctx SpecContext) {
			f := newFixture(ctx)
			node := f.getNode(ctx)
			node.Spec.Unschedulable = true
			Expect(k8sClient.Update(ctx, node)).To(Succeed())
			_, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(f.getNode(ctx).Spec.Unschedulable).To(BeTrue())
		})
	})

	Describe("the device plugin restart", func() {
		It("is a no-op without a device plugin pod", func(ctx SpecContext) {
			f := newFixture(ctx)
			f.policy(ctx, "vfs", sriovSpec("ens1f0", 2, ""))
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: DevicePluginConfigMapName},
				Data: map[string]string{f.node: `{"resourceList":[]}`}}
			Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, cm))).To(Succeed())
			_, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
		})

		It("evicts this node's device plugin pod only when this node's config or VFs changed", func(ctx SpecContext) {
			f := newFixture(ctx)
			setConfig := func(v string) {
				cm := &corev1.ConfigMap{}
				err := k8sClient.Get(ctx, types.NamespacedName{Namespace: testNamespace, Name: DevicePluginConfigMapName}, cm)
				if apierrors.IsNotFound(err) {
					cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: DevicePluginConfigMapName}}
					cm.Data = map[string]string{f.node: v}
					Expect(k8sClient.Create(ctx, cm)).To(Succeed())
					return
				}
				Expect(err).NotTo(HaveOccurred())
				if cm.Data == nil {
					cm.Data = map[string]string{}
				}
				cm.Data[f.node] = v
				Expect(k8sClient.Update(ctx, cm)).To(Succeed())
			}
			dpPod := func(name, node string) *corev1.Pod {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name,
					Labels: map[string]string{"app.kubernetes.io/name": "sriov-device-plugin"}},
					Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "dp", Image: "dp"}}}}
				Expect(k8sClient.Create(ctx, pod)).To(Succeed())
				return pod
			}
			evicted := func(pod *corev1.Pod) bool {
				got := &corev1.Pod{}
				err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), got)
				return apierrors.IsNotFound(err) || (err == nil && got.DeletionTimestamp != nil)
			}
			setConfig(`{"resourceList":[{"resourceName":"net"}]}`)
			mine := dpPod("dp-mine", f.node)
			others := dpPod("dp-other", "some-other-node")

			_, err := f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(evicted(mine)).To(BeTrue(), "first config for this node")
			Expect(evicted(others)).To(BeFalse(), "another node's plugin is left alone")

			By("not restarting again for the same config")
			again := dpPod("dp-mine-2", f.node)
			_, err = f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(evicted(again)).To(BeFalse())

			By("restarting after an agent restart only if the config changed meanwhile")
			f.r = f.newReconciler(nil)
			_, err = f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(evicted(again)).To(BeFalse())
			setConfig(`{"resourceList":[{"resourceName":"net2"}]}`)
			_, err = f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(evicted(again)).To(BeTrue())

			By("restarting when the VFs change")
			third := dpPod("dp-mine-3", f.node)
			f.policy(ctx, "vfs", sriovSpec("ens1f1", 2, ""))
			_, err = f.reconcile(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(evicted(third)).To(BeTrue())
		})
	})

	It("reconciles on policy and node label changes when run by a manager", func(ctx SpecContext) {
		f := newFixture(ctx)
		mgr, err := ctrlNewManager(f)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.r.SetupWithManager(mgr)).To(Succeed())
		mctx, stop := contextWithCancel(ctx)
		DeferCleanup(stop)
		go func() {
			defer GinkgoRecover()
			Expect(mgr.Start(mctx)).To(Succeed())
		}()

		By("a policy selecting the node by a label the node does not have yet")
		spec := sriovSpec("ens1f0", 3, "")
		spec.NodeSelector = metav1.LabelSelector{MatchLabels: map[string]string{"sriov": f.node}}
		p := &plexusv1alpha1.NodeNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: f.node + "-late"}, Spec: spec}
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, p))).To(Succeed()) })
		Consistently(func() string { return f.numVfs(pfA) }).WithTimeout(time.Second).Should(Equal("0"))

		By("labelling the node")
		node := f.getNode(ctx)
		node.Labels["sriov"] = f.node
		Expect(k8sClient.Update(ctx, node)).To(Succeed())
		Eventually(func() string { return f.numVfs(pfA) }).Should(Equal("3"))

		By("changing the policy")
		Eventually(func() error {
			if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
				return err
			}
			p.Spec.Sriov[0].NumVfs = 5
			return k8sClient.Update(ctx, p)
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(f.numVfs(pfA)).To(Equal("5"))
			nns := &plexusv1alpha1.NodeNetworkState{}
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: f.node}, nns)).To(Succeed())
			g.Expect(nns.Status.Policies).To(ContainElement(And(HaveField("Name", p.Name), HaveField("Generation", p.Generation),
				HaveField("State", plexusv1alpha1.PolicyApplyStateApplied))))
		}).Should(Succeed())
	})

	It("uses the operator's device plugin ConfigMap name", func() {
		Expect(DevicePluginConfigMapName).To(Equal(controllers.DevicePluginConfigMapName))
	})

	It("fails the drain with DrainTimeout when evicted pods do not go away", func(ctx SpecContext) {
		f := newFixture(ctx)
		// A pod bound to a node with a finalizer: the eviction is accepted, the pod stays.
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "sticky", Finalizers: []string{"test.plexus.dev/hold"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			got := &corev1.Pod{}
			if k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), got) == nil {
				got.Finalizers = nil
				Expect(k8sClient.Update(ctx, got)).To(Succeed())
			}
		})
		err := f.r.drain(ctx, []string{f.ns + "/sticky"}, 300*time.Millisecond)
		var de *DrainError
		Expect(errors.As(err, &de)).To(BeTrue())
		Expect(de.Reason).To(Equal(DrainTimeoutReason))
		Expect(de.Pods).To(Equal([]string{f.ns + "/sticky"}))
	})
})

// ctrlNewManager returns a manager with the agent's cache layout for the fixture's node.
func ctrlNewManager(f *fixture) (manager.Manager, error) {
	return ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 Scheme(),
		Cache:                  CacheOptions(f.node, testNamespace),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
}

func contextWithCancel(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(context.WithoutCancel(ctx))
}
