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

package controllers

import (
	"context"
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/deviceplugin"
)

// nnpFixture creates cluster-scoped objects under a unique label so specs do not see each other.
type nnpFixture struct {
	id string
	ns string
}

func newNNPFixture() *nnpFixture {
	f := &nnpFixture{id: rand.String(6)}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "nnp-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	f.ns = ns.Name
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, ns))).To(Succeed()) })
	return f
}

func (f *nnpFixture) name(s string) string { return s + "-" + f.id }

func (f *nnpFixture) node(name string, extra map[string]string) *corev1.Node {
	lbls := map[string]string{"plexus-test": f.id}
	for k, v := range extra {
		lbls[k] = v
	}
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: f.name(name), Labels: lbls}}
	Expect(k8sClient.Create(ctx, n)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, n))).To(Succeed()) })
	return n
}

func (f *nnpFixture) policy(name string, spec plexusv1alpha1.NodeNetworkPolicySpec) *plexusv1alpha1.NodeNetworkPolicy {
	if spec.NodeSelector.MatchLabels == nil {
		spec.NodeSelector.MatchLabels = map[string]string{}
	}
	spec.NodeSelector.MatchLabels["plexus-test"] = f.id
	p := &plexusv1alpha1.NodeNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: f.name(name)}, Spec: spec}
	Expect(k8sClient.Create(ctx, p)).To(Succeed())
	DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, p))).To(Succeed()) })
	return p
}

// state creates or updates a node's NodeNetworkState status, as the agent would.
func (f *nnpFixture) state(node string, pfs []plexusv1alpha1.PFStatus, entries ...plexusv1alpha1.NodePolicyStatus) {
	s := &plexusv1alpha1.NodeNetworkState{}
	err := k8sClient.Get(ctx, types.NamespacedName{Name: node}, s)
	if apierrors.IsNotFound(err) {
		s = &plexusv1alpha1.NodeNetworkState{ObjectMeta: metav1.ObjectMeta{Name: node}}
		Expect(k8sClient.Create(ctx, s)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, s))).To(Succeed()) })
	} else {
		Expect(err).NotTo(HaveOccurred())
	}
	s.Status.PFs, s.Status.Policies = pfs, entries
	Expect(k8sClient.Status().Update(ctx, s)).To(Succeed())
}

func sriovSpec(pfName string, numVfs int32, res string) plexusv1alpha1.NodeNetworkPolicySpec {
	return plexusv1alpha1.NodeNetworkPolicySpec{Sriov: []plexusv1alpha1.SriovConfig{{
		PFSelector: plexusv1alpha1.PFSelector{PFNames: []string{pfName}}, NumVfs: numVfs, ResourceName: res,
	}}}
}

var testPF = plexusv1alpha1.PFStatus{Name: "ens1f0", PCIAddress: "0000:3b:00.0", Vendor: "8086", DeviceID: "158b",
	VFDeviceID: "154c", Driver: "i40e", TotalVfs: 64, NumVfs: 8,
	VFs: []plexusv1alpha1.VFStatus{{Index: 0, PCIAddress: "0000:3b:02.0", Driver: "iavf"}}}

var _ = Describe("NodeNetworkPolicy API validation", func() {
	var f *nnpFixture
	BeforeEach(func() { f = newNNPFixture() })

	create := func(spec plexusv1alpha1.NodeNetworkPolicySpec) error {
		p := &plexusv1alpha1.NodeNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: f.name("v" + rand.String(4))}, Spec: spec}
		err := k8sClient.Create(ctx, p)
		if err == nil {
			DeferCleanup(func() { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, p))).To(Succeed()) })
		}
		return err
	}
	withSriov := func(mut func(*plexusv1alpha1.SriovConfig)) plexusv1alpha1.NodeNetworkPolicySpec {
		s := sriovSpec("ens1f0", 8, "net")
		mut(&s.Sriov[0])
		return s
	}
	withBudget := func(v intstr.IntOrString) plexusv1alpha1.NodeNetworkPolicySpec {
		s := sriovSpec("ens1f0", 8, "net")
		s.Disruption = &plexusv1alpha1.DisruptionBudget{MaxUnavailable: &v}
		return s
	}

	It("defaults priority and deviceType", func() {
		p := f.policy("defaults", sriovSpec("ens1f0", 8, "net"))
		Expect(p.Spec.Priority).To(HaveValue(Equal(int32(99))))

		zero := f.policy("zero", plexusv1alpha1.NodeNetworkPolicySpec{Priority: ptr.To[int32](0), Sriov: sriovSpec("ens1f0", 8, "net").Sriov})
		Expect(zero.Spec.Priority).To(HaveValue(BeZero()), "priority 0 is kept, not defaulted")
		Expect(p.Spec.Sriov[0].DeviceType).To(Equal(plexusv1alpha1.SriovDeviceTypeNetdevice))
	})

	DescribeTable("accepts",
		func(spec plexusv1alpha1.NodeNetworkPolicySpec) { Expect(create(spec)).To(Succeed()) },
		Entry("a VF range", withSriov(func(s *plexusv1alpha1.SriovConfig) { s.VFRange = &plexusv1alpha1.VFRange{First: 2, Last: 7} })),
		Entry("hugepages only", plexusv1alpha1.NodeNetworkPolicySpec{Hugepages: []plexusv1alpha1.HugepagesConfig{{PageSize: "1Gi", Count: 4, NUMANode: ptr.To[int32](1)}}}),
		Entry("maxUnavailable 2", withBudget(intstr.FromInt32(2))),
		Entry("maxUnavailable 25%", withBudget(intstr.FromString("25%"))),
		Entry("maxUnavailable 100%", withBudget(intstr.FromString("100%"))),
	)

	DescribeTable("rejects",
		func(spec plexusv1alpha1.NodeNetworkPolicySpec, msg string) {
			err := create(spec)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring(msg))
		},
		Entry("vfRange.first > last", withSriov(func(s *plexusv1alpha1.SriovConfig) { s.VFRange = &plexusv1alpha1.VFRange{First: 5, Last: 2} }),
			"vfRange.first must be lower than or equal to vfRange.last"),
		Entry("vfRange.last >= numVfs", withSriov(func(s *plexusv1alpha1.SriovConfig) { s.VFRange = &plexusv1alpha1.VFRange{First: 0, Last: 8} }),
			"vfRange.last must be lower than numVfs"),
		Entry("empty pfSelector", withSriov(func(s *plexusv1alpha1.SriovConfig) { s.PFSelector = plexusv1alpha1.PFSelector{} }),
			"pfSelector must set at least one of"),
		Entry("bad resourceName", withSriov(func(s *plexusv1alpha1.SriovConfig) { s.ResourceName = "-bad-" }), "resourceName"),
		Entry("unknown deviceType", withSriov(func(s *plexusv1alpha1.SriovConfig) { s.DeviceType = "uio" }), "deviceType"),
		Entry("bad PCI address", withSriov(func(s *plexusv1alpha1.SriovConfig) {
			s.PFSelector = plexusv1alpha1.PFSelector{PCIAddresses: []string{"3b:00.0"}}
		}), "pciAddresses"),
		Entry("nothing to do", plexusv1alpha1.NodeNetworkPolicySpec{}, "at least one of sriov or hugepages must be set"),
		Entry("bad page size", plexusv1alpha1.NodeNetworkPolicySpec{Hugepages: []plexusv1alpha1.HugepagesConfig{{PageSize: "4Mi", Count: 1}}}, "pageSize"),
		Entry("maxUnavailable 0", withBudget(intstr.FromInt32(0)), "maxUnavailable must be"),
		Entry("maxUnavailable 0%", withBudget(intstr.FromString("0%")), "maxUnavailable must be"),
		Entry("maxUnavailable abc", withBudget(intstr.FromString("abc")), "maxUnavailable must be"),
	)
})

var _ = Describe("NodeNetworkPolicy controller", func() {
	var (
		f *nnpFixture
		r *NodeNetworkPolicyReconciler
	)
	BeforeEach(func() {
		f = newNNPFixture()
		r = &NodeNetworkPolicyReconciler{Client: k8sClient, Namespace: f.ns}
	})

	reconcilePolicy := func(p *plexusv1alpha1.NodeNetworkPolicy) *plexusv1alpha1.NodeNetworkPolicy {
		_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: p.Name}})
		Expect(err).NotTo(HaveOccurred())
		got := &plexusv1alpha1.NodeNetworkPolicy{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
		return got
	}
	cond := func(p *plexusv1alpha1.NodeNetworkPolicy, t string) *metav1.Condition {
		return meta.FindStatusCondition(p.Status.Conditions, t)
	}

	It("aggregates matched, configured and failing nodes from NodeNetworkStates", func() {
		n1 := f.node("w1", map[string]string{"sriov": "true"})
		n2 := f.node("w2", map[string]string{"sriov": "true"})
		n3 := f.node("w3", map[string]string{"sriov": "true"})
		f.node("cp", nil)
		p := f.policy("sriov", plexusv1alpha1.NodeNetworkPolicySpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"sriov": "true"}},
			Sriov:        sriovSpec("ens1f0", 8, "net").Sriov,
		})

		got := reconcilePolicy(p)
		Expect(got.Status.MatchedNodes).To(Equal(int32(3)))
		Expect(got.Status.ConfiguredNodes).To(BeZero())
		Expect(got.Status.ObservedGeneration).To(Equal(p.Generation))
		Expect(cond(got, "Ready").Reason).To(Equal("NodesPending"))
		Expect(cond(got, "Progressing").Status).To(Equal(metav1.ConditionTrue))

		applied := plexusv1alpha1.NodePolicyStatus{Name: p.Name, Generation: p.Generation, State: plexusv1alpha1.PolicyApplyStateApplied}
		f.state(n1.Name, []plexusv1alpha1.PFStatus{testPF}, applied)
		f.state(n2.Name, []plexusv1alpha1.PFStatus{testPF}, plexusv1alpha1.NodePolicyStatus{Name: p.Name, Generation: p.Generation,
			State: plexusv1alpha1.PolicyApplyStateFailed, Reason: "NumVfsExceedsTotal", Message: "0000:3b:00.0: numVfs 8 > 4"})
		f.state(n3.Name, []plexusv1alpha1.PFStatus{testPF}, applied)
		got = reconcilePolicy(p)
		Expect(got.Status.ConfiguredNodes).To(Equal(int32(2)))
		Expect(got.Status.FailedNodes).To(Equal(int32(1)))
		Expect(got.Status.FailingNodes).To(Equal([]plexusv1alpha1.FailingNode{
			{Node: n2.Name, Reason: "NumVfsExceedsTotal", Message: "0000:3b:00.0: numVfs 8 > 4"},
		}))
		Expect(cond(got, "Ready").Status).To(Equal(metav1.ConditionFalse))
		Expect(cond(got, "Degraded").Reason).To(Equal("NodesFailed"))
		Expect(cond(got, "Degraded").Message).To(ContainSubstring(n2.Name + " (NumVfsExceedsTotal)"))

		f.state(n2.Name, []plexusv1alpha1.PFStatus{testPF}, applied)
		got = reconcilePolicy(p)
		Expect(got.Status.ConfiguredNodes).To(Equal(int32(3)))
		Expect(got.Status.FailingNodes).To(BeEmpty())
		Expect(cond(got, "Ready").Status).To(Equal(metav1.ConditionTrue))
		Expect(cond(got, "Degraded").Status).To(Equal(metav1.ConditionFalse))

		// A spec change makes every node pending again until the agents catch up.
		got.Spec.Sriov[0].NumVfs = 4
		Expect(k8sClient.Update(ctx, got)).To(Succeed())
		got = reconcilePolicy(got)
		Expect(got.Status.ConfiguredNodes).To(BeZero())
		Expect(cond(got, "Ready").Reason).To(Equal("NodesPending"))
	})

	It("reports a policy that selects no node as Ready/NoMatchingNodes", func() {
		p := f.policy("nomatch", plexusv1alpha1.NodeNetworkPolicySpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"gpu": "true"}},
			Hugepages:    []plexusv1alpha1.HugepagesConfig{{PageSize: "2Mi", Count: 16}},
		})
		got := reconcilePolicy(p)
		Expect(got.Status.MatchedNodes).To(BeZero())
		Expect(cond(got, "Ready").Status).To(Equal(metav1.ConditionTrue))
		Expect(cond(got, "Ready").Reason).To(Equal("NoMatchingNodes"))
	})

	It("renders the device plugin ConfigMap with one key per selected node, by server-side apply", func() {
		n1 := f.node("a", nil)
		n2 := f.node("b", nil)
		p := f.policy("dp", sriovSpec("ens1f0", 8, "net"))
		f.state(n1.Name, []plexusv1alpha1.PFStatus{testPF})

		cmKey := types.NamespacedName{Namespace: f.ns, Name: DevicePluginConfigMapName}
		_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: cmKey})
		Expect(err).NotTo(HaveOccurred())
		cm := &corev1.ConfigMap{}
		Expect(k8sClient.Get(ctx, cmKey, cm)).To(Succeed())
		var cfg deviceplugin.Config
		Expect(json.Unmarshal([]byte(cm.Data[n1.Name]), &cfg)).To(Succeed())
		Expect(cfg.ResourceList).To(HaveLen(1))
		Expect(cfg.ResourceList[0].ResourceName).To(Equal("net"))
		Expect(cfg.ResourceList[0].Selectors[0].PFNames).To(Equal([]string{"ens1f0#0-7"}))
		Expect(cfg.ResourceList[0].Selectors[0].Drivers).To(Equal([]string{"iavf"}))
		Expect(cm.Data).To(HaveKeyWithValue(n2.Name, `{"resourceList":[]}`), "no NodeNetworkState yet")
		Expect(cm.ManagedFields).To(ContainElement(And(
			HaveField("Manager", "plexus/nodenetworkpolicy"),
			HaveField("Operation", metav1.ManagedFieldsOperationApply),
		)))

		// Deleting the policy removes the keys on the next render.
		Expect(k8sClient.Delete(ctx, p)).To(Succeed())
		_, err = r.Reconcile(ctx, ctrl.Request{NamespacedName: cmKey})
		Expect(err).NotTo(HaveOccurred())
		Expect(k8sClient.Get(ctx, cmKey, cm)).To(Succeed())
		Expect(cm.Data).NotTo(HaveKey(n1.Name))
		Expect(cm.Data).NotTo(HaveKey(n2.Name))
	})

	It("follows NodeNetworkState and node label changes through its watches", func() {
		// A manager of its own on the suite's envtest, running only this controller.
		mgr, err := ctrl.NewManager(cfg, ctrl.Options{
			Scheme:     Scheme(),
			Cache:      CacheOptions(),
			Metrics:    metricsserver.Options{BindAddress: "0"},
			Controller: config.Controller{SkipNameValidation: ptrTo(true)},
		})
		Expect(err).NotTo(HaveOccurred())
		mr := &NodeNetworkPolicyReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorder("plexus-nodenetworkpolicy"), Namespace: f.ns}
		Expect(mr.SetupWithManager(mgr)).To(Succeed())
		mgrCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer GinkgoRecover()
			defer close(done)
			Expect(mgr.Start(mgrCtx)).To(Succeed())
		}()
		DeferCleanup(func() { stop(); <-done })

		n1 := f.node("m1", map[string]string{"pool": "dpdk"})
		n2 := f.node("m2", nil)
		p := f.policy("watched", plexusv1alpha1.NodeNetworkPolicySpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"pool": "dpdk"}},
			Sriov:        sriovSpec("ens1f0", 8, "dpdk").Sriov,
		})
		status := func(g Gomega) plexusv1alpha1.NodeNetworkPolicyStatus {
			got := &plexusv1alpha1.NodeNetworkPolicy{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
			return got.Status
		}
		Eventually(func(g Gomega) {
			g.Expect(status(g).MatchedNodes).To(Equal(int32(1)))
		}).Should(Succeed())

		f.state(n1.Name, []plexusv1alpha1.PFStatus{testPF},
			plexusv1alpha1.NodePolicyStatus{Name: p.Name, Generation: p.Generation, State: plexusv1alpha1.PolicyApplyStateApplied})
		Eventually(func(g Gomega) {
			g.Expect(status(g).ConfiguredNodes).To(Equal(int32(1)))
			g.Expect(meta.IsStatusConditionTrue(status(g).Conditions, "Ready")).To(BeTrue())
		}).Should(Succeed())

		n2.Labels["pool"] = "dpdk"
		Expect(k8sClient.Update(ctx, n2)).To(Succeed())
		Eventually(func(g Gomega) {
			st := status(g)
			g.Expect(st.MatchedNodes).To(Equal(int32(2)))
			g.Expect(meta.FindStatusCondition(st.Conditions, "Ready").Reason).To(Equal("NodesPending"))
		}).Should(Succeed())

		Expect((&NodeNetworkPolicyReconciler{Client: mgr.GetClient(), Namespace: f.ns}).SetupWithManager(mgr)).
			To(MatchError(ContainSubstring("needs Client, Recorder and Namespace")))

		Eventually(func(g Gomega) {
			cm := &corev1.ConfigMap{}
			g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: f.ns, Name: DevicePluginConfigMapName}, cm)).To(Succeed())
			g.Expect(cm.Data).To(HaveKey(n2.Name))
			g.Expect(cm.Data[n1.Name]).To(ContainSubstring(`"pfNames":["ens1f0#0-7"]`))
		}).Should(Succeed())
	})
})
