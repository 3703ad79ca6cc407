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

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// The operator end to end: planes render NADs, the pod webhook attaches pods by policy, the
// policy reports per-pod status, deleting a plane removes its NADs. Plexus is deployed with
// `make deploy` (the same as the node agent specs do; it is idempotent).
var _ = Describe("The operator", Ordered, Label("operator"), func() {
	var ns string

	BeforeAll(func(ctx SpecContext) {
		By("deploying Plexus with make deploy")
		makeDeploy(ctx)
		Eventually(func(g Gomega) {
			d := &appsv1.Deployment{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: agentNamespace, Name: "plexus-controller-manager"}, d)).To(Succeed())
			g.Expect(d.Status.AvailableReplicas).To(BeNumerically(">=", 1))
		}).WithContext(ctx).Should(Succeed())
		// The pod webhook is called only once the operator serves it; wait until a NAD write
		// (validated by the operator's NAD webhook, failurePolicy Fail) goes through.
		probeNS := createNamespace(ctx, "e2e-op-probe")
		Eventually(func() error {
			return client.IgnoreAlreadyExists(cluster.Client.Create(ctx, &nadv1.NetworkAttachmentDefinition{
				ObjectMeta: metav1.ObjectMeta{Namespace: probeNS, Name: "probe"},
				Spec:       nadv1.NetworkAttachmentDefinitionSpec{Config: `{"cniVersion":"1.0.0","name":"probe","type":"bridge"}`},
			}))
		}).WithContext(ctx).Should(Succeed())
	})

	BeforeEach(func(ctx SpecContext) {
		ns = createNamespace(ctx, "e2e-op")
		nsObj := &corev1.Namespace{}
		Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: ns}, nsObj)).To(Succeed())
		nsObj.Labels["e2e.plexus.dev/operator"] = ns
		Expect(cluster.Client.Update(ctx, nsObj)).To(Succeed())
	})

	plane := func(name, ns string, spec plexusv1alpha1.NetworkPlaneSpec) *plexusv1alpha1.NetworkPlane {
		spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"e2e.plexus.dev/operator": ns}}
		p := &plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, p))).To(Succeed()) })
		return p
	}

	It("attaches every replica of a Deployment by policy, on the plane's nodes only, and reports them attached; deleting the plane removes its NADs", func(ctx SpecContext) {
		// The plane is available on the last node only: every replica must be scheduled there.
		lastNode := fmt.Sprint(cluster.Nodes)
		np := plane(ns, ns, plexusv1alpha1.NetworkPlaneSpec{
			NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"plexus.dev/local-node": lastNode}},
			Type:         plexusv1alpha1.NetworkPlaneType("macvlan"),
			Macvlan:      &plexusv1alpha1.MacvlanSettings{Mode: plexusv1alpha1.MacvlanMode("bridge")},
			Uplink:       &plexusv1alpha1.Uplink{InterfaceName: "plexus-up0"},
			IPAM: &plexusv1alpha1.IPAM{Type: plexusv1alpha1.IPAMType("host-local"),
				Ranges: []plexusv1alpha1.IPRange{{Subnet: "10.240.0.0/24"}}},
		})
		Expect(cluster.Client.Create(ctx, np)).To(Succeed())
		By("rendering the NAD into the selected namespace")
		Eventually(func(g Gomega) {
			nad := &nadv1.NetworkAttachmentDefinition{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: np.Name}, nad)).To(Succeed())
			g.Expect(nad.Labels).To(HaveKeyWithValue("app.kubernetes.io/managed-by", "plexus"))
			g.Expect(nad.Spec.Config).To(ContainSubstring(`"master":"plexus-up0"`))
		}).WithContext(ctx).Should(Succeed())

		policy := &plexusv1alpha1.AttachmentPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: plexusv1alpha1.AttachmentPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Attachments: []plexusv1alpha1.Attachment{{Plane: np.Name}},
			},
		}
		Expect(cluster.Client.Create(ctx, policy)).To(Succeed())
		deploy := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](3),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
					Spec:       testPod(ns, "", nil).Spec,
				},
			},
		}
		Expect(cluster.Client.Create(ctx, deploy)).To(Succeed())

		By("giving every replica net1 on the plane")
		Eventually(func(g Gomega) {
			pods := &corev1.PodList{}
			g.Expect(cluster.Client.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app": "web"})).To(Succeed())
			g.Expect(pods.Items).To(HaveLen(3))
			for i := range pods.Items {
				p := &pods.Items[i]
				g.Expect(p.Annotations).To(HaveKeyWithValue("k8s.v1.cni.cncf.io/networks", ContainSubstring(np.Name)), "the webhook wrote the annotation")
				g.Expect(p.Spec.NodeName).To(Equal("plexus-node"+lastNode), "the plane's nodeSelector became node affinity")
				var status []nadv1.NetworkStatus
				g.Expect(json.Unmarshal([]byte(p.Annotations[nadv1.NetworkStatusAnnot]), &status)).To(Succeed())
				g.Expect(status).To(ContainElement(SatisfyAll(HaveField("Name", ns+"/"+np.Name), HaveField("Interface", "net1"),
					HaveField("IPs", ContainElement(HavePrefix("10.240.0."))))))
			}
		}).WithContext(ctx).Should(Succeed())

		By("reporting 3 attached pods in the policy and the plane")
		Eventually(func(g Gomega) {
			got := &plexusv1alpha1.AttachmentPolicy{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(policy), got)).To(Succeed())
			g.Expect(got.Status.MatchedPods).To(BeEquivalentTo(3))
			g.Expect(got.Status.AttachedPods).To(BeEquivalentTo(3))
			g.Expect(got.Status.FailedPods).To(BeZero())
			gotPlane := &plexusv1alpha1.NetworkPlane{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(np), gotPlane)).To(Succeed())
			g.Expect(gotPlane.Status.RenderedNamespaces).To(BeEquivalentTo(1))
			g.Expect(gotPlane.Status.AttachedPods).To(BeEquivalentTo(3))
		}).WithContext(ctx).Should(Succeed())

		By("removing the plane's NADs when the plane is deleted")
		Expect(cluster.Client.Delete(ctx, deploy, client.PropagationPolicy(metav1.DeletePropagationForeground))).To(Succeed())
		Expect(cluster.Client.Delete(ctx, np)).To(Succeed())
		Eventually(func() bool {
			err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: np.Name}, &nadv1.NetworkAttachmentDefinition{})
			return apierrors.IsNotFound(err)
		}).WithContext(ctx).Should(BeTrue())
	})

	It("gives a pod whose own annotation names the networks their device requests and plane affinity, with no policy", func(ctx SpecContext) {
		lastNode := fmt.Sprint(cluster.Nodes)
		np := plane(ns+"-pinned", ns, plexusv1alpha1.NetworkPlaneSpec{
			NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"plexus.dev/local-node": lastNode}},
			Type:         plexusv1alpha1.NetworkPlaneType("bridge"),
			Bridge:       &plexusv1alpha1.BridgeSettings{Name: "plx-e2e-pin"},
		})
		Expect(cluster.Client.Create(ctx, np)).To(Succeed())
		Eventually(func() error {
			return cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: np.Name}, &nadv1.NetworkAttachmentDefinition{})
		}).WithContext(ctx).Should(Succeed())
		// A hand-written NAD of a device pool, as with Multus and an SR-IOV device plugin.
		nad := &nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool",
			Annotations: map[string]string{"k8s.v1.cni.cncf.io/resourceName": "example.com/e2e-pool"}},
			Spec: nadv1.NetworkAttachmentDefinitionSpec{Config: `{"cniVersion":"1.0.0","type":"host-device","device":"plx-e2e-none"}`}}
		Expect(cluster.Client.Create(ctx, nad)).To(Succeed())

		pod := testPod(ns, "handwritten", map[string]string{"k8s.v1.cni.cncf.io/networks": "pool,pool," + np.Name})
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())
		got := &corev1.Pod{}
		Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
		Expect(got.Annotations).To(HaveKeyWithValue("k8s.v1.cni.cncf.io/networks", "pool,pool,"+np.Name), "the user's annotation is kept as written")
		q := got.Spec.Containers[0].Resources.Limits["example.com/e2e-pool"]
		Expect(q.Value()).To(BeEquivalentTo(2), "one device per attachment of the pool")
		Expect(got.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms).To(ConsistOf(
			HaveField("MatchExpressions", ConsistOf(corev1.NodeSelectorRequirement{Key: "plexus.dev/local-node",
				Operator: corev1.NodeSelectorOpIn, Values: []string{lastNode}}))))
		// No node offers example.com/e2e-pool: the scheduler says so, which proves the request counts.
		Eventually(func(g Gomega) {
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
			g.Expect(got.Status.Conditions).To(ContainElement(SatisfyAll(HaveField("Type", corev1.PodScheduled),
				HaveField("Status", corev1.ConditionFalse), HaveField("Message", ContainSubstring("example.com/e2e-pool")))))
		}).WithContext(ctx).Should(Succeed())
	})

	It("reports a pod whose plane's NAD is broken as failed, with the reason", func(ctx SpecContext) {
		// A raw plane whose plugin does not exist on the node: the NAD is valid to admission (no
		// admission check depends on node state) and fails at ADD.
		np := plane(ns+"-broken", ns, plexusv1alpha1.NetworkPlaneSpec{
			Type: plexusv1alpha1.NetworkPlaneType("raw"),
			Raw:  &plexusv1alpha1.RawSettings{Config: `{"cniVersion":"1.0.0","name":"broken","type":"plexus-e2e-no-such-plugin"}`},
		})
		Expect(cluster.Client.Create(ctx, np)).To(Succeed())
		Eventually(func() error {
			return cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: np.Name}, &nadv1.NetworkAttachmentDefinition{})
		}).WithContext(ctx).Should(Succeed())
		policy := &plexusv1alpha1.AttachmentPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "broken"},
			Spec: plexusv1alpha1.AttachmentPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "broken"}},
				Attachments: []plexusv1alpha1.Attachment{{Plane: np.Name}},
			},
		}
		Expect(cluster.Client.Create(ctx, policy)).To(Succeed())
		pod := testPod(ns, "broken", nil)
		pod.Labels = map[string]string{"app": "broken"}
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())

		Eventually(func(g Gomega) {
			got := &plexusv1alpha1.AttachmentPolicy{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(policy), got)).To(Succeed())
			g.Expect(got.Status.FailedPods).To(BeEquivalentTo(1))
			g.Expect(got.Status.FailingPods).To(ContainElement(SatisfyAll(
				HaveField("Name", "broken"), HaveField("Reason", Not(BeEmpty())),
				HaveField("Message", ContainSubstring("plexus-e2e-no-such-plugin")))))
		}).WithContext(ctx).Should(Succeed())
		got := &corev1.Pod{}
		Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
		Expect(strings.Join([]string{got.Status.PodIP}, "")).To(BeEmpty(), "the pod never got its network")
	})
})
