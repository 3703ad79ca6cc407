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
	"fmt"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

func testPod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			Containers:                   []corev1.Container{{Name: "app", Image: "plexus.local/testpod:latest"}},
			AutomountServiceAccountToken: ptrTo(false),
		},
	}
}

func getPod(g Gomega, ns, name string) *corev1.Pod {
	pod := &corev1.Pod{}
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, pod)).To(Succeed())
	return pod
}

func getPolicy(g Gomega, ns, name string) *plexusv1alpha1.AttachmentPolicy {
	p := &plexusv1alpha1.AttachmentPolicy{}
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, p)).To(Succeed())
	return p
}

// createPolicy creates a policy and waits until the operator has reconciled it (so the webhook's
// cache has it too).
func createPolicy(ns, name string, gate plexusv1alpha1.ReadinessGateMode, selector map[string]string, attachments ...plexusv1alpha1.Attachment) {
	p := &plexusv1alpha1.AttachmentPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: plexusv1alpha1.AttachmentPolicySpec{
			PodSelector:   metav1.LabelSelector{MatchLabels: selector},
			Attachments:   attachments,
			ReadinessGate: gate,
		},
	}
	Expect(k8sClient.Create(ctx, p)).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(getPolicy(g, ns, name).Status.ObservedGeneration).To(BeNumerically(">", 0))
	}).Should(Succeed())
}

// createReadyPlane creates a plane and waits until it is rendered (and cached).
func createReadyPlane(p *plexusv1alpha1.NetworkPlane) {
	Expect(k8sClient.Create(ctx, p)).To(Succeed())
	DeferCleanup(deletePlane, p.Name)
	Eventually(func(g Gomega) {
		got := getPlane(g, p.Name)
		g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
	}).Should(Succeed())
}

// markStarted sets what the kubelet would: phase Running and PodReadyToStartContainers.
func markStarted(ns, name string) {
	Eventually(func(g Gomega) {
		pod := getPod(g, ns, name)
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()})
		g.Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())
	}).Should(Succeed())
}

// setNetworkStatus writes the network-status annotation as the node agent would.
func setNetworkStatus(ns, name, value string) {
	Eventually(func(g Gomega) {
		pod := getPod(g, ns, name)
		pod.Annotations[netattach.NetworkStatusAnnotation] = value
		g.Expect(k8sClient.Update(ctx, pod)).To(Succeed())
	}).Should(Succeed())
}

var _ = Describe("AttachmentPolicy: pod webhook and attachment status", func() {
	var key, ns, plane, vfPlane string

	BeforeEach(func() {
		key = "plexus-test/" + uniqueName("sel")
		ns = newNamespace(map[string]string{key: "yes"})
		plane = uniqueName("data")
		vfPlane = uniqueName("vf")
		createReadyPlane(bridgePlane(plane, key))
		createReadyPlane(&plexusv1alpha1.NetworkPlane{
			ObjectMeta: metav1.ObjectMeta{Name: vfPlane},
			Spec: plexusv1alpha1.NetworkPlaneSpec{
				Type:              plexusv1alpha1.NetworkPlaneTypeSRIOV,
				SRIOV:             &plexusv1alpha1.SRIOVSettings{ResourceName: "plexus.dev/vf_test"},
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: "yes"}},
			},
		})
	})

	It("mutates matching pods: networks annotation, SR-IOV resources and readiness gate", func() {
		createPolicy(ns, "web", plexusv1alpha1.ReadinessGateEnabled, map[string]string{"app": "web"},
			plexusv1alpha1.Attachment{Plane: plane, Interface: "data0", IPs: []string{"10.99.0.5/24"}},
			plexusv1alpha1.Attachment{Plane: vfPlane})

		pod := testPod(ns, "web-1", map[string]string{"app": "web"})
		pod.Annotations = map[string]string{netattach.NetworksAnnotation: "other/extra@ext"}
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		Expect(pod.Annotations[netattach.NetworksAnnotation]).To(MatchJSON(fmt.Sprintf(
			`[{"name":"extra","namespace":"other","interface":"ext"},{"name":%q,"namespace":%q,"interface":"data0","ips":["10.99.0.5/24"]},{"name":%q,"namespace":%q}]`,
			plane, ns, vfPlane, ns)))
		req := pod.Spec.Containers[0].Resources.Requests[corev1.ResourceName("plexus.dev/vf_test")]
		lim := pod.Spec.Containers[0].Resources.Limits[corev1.ResourceName("plexus.dev/vf_test")]
		Expect(req.Cmp(resource.MustParse("1"))).To(Equal(0))
		Expect(lim.Cmp(resource.MustParse("1"))).To(Equal(0))
		Expect(pod.Spec.ReadinessGates).To(ConsistOf(corev1.PodReadinessGate{ConditionType: plexusv1alpha1.AttachmentsReadyPodCondition}))

		By("pods the selector does not match are left alone")
		other := testPod(ns, "db-1", map[string]string{"app": "db"})
		Expect(k8sClient.Create(ctx, other)).To(Succeed())
		Expect(other.Annotations).NotTo(HaveKey(netattach.NetworksAnnotation))
		Expect(other.Spec.ReadinessGates).To(BeEmpty())
	})

	It("rejects pods when two policies claim the same interface, naming both", func() {
		createPolicy(ns, "pol-a", "", map[string]string{"app": "web"}, plexusv1alpha1.Attachment{Plane: plane, Interface: "x0"})
		createPolicy(ns, "pol-b", "", map[string]string{"tier": "front"}, plexusv1alpha1.Attachment{Plane: vfPlane, Interface: "x0"})
		err := k8sClient.Create(ctx, testPod(ns, "both", map[string]string{"app": "web", "tier": "front"}))
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(And(ContainSubstring("AttachmentPolicy pol-a"), ContainSubstring("AttachmentPolicy pol-b"), ContainSubstring("interface x0")))
		Expect(k8sClient.Create(ctx, testPod(ns, "only-a", map[string]string{"app": "web"}))).To(Succeed())
	})

	It("rejects pods whose own networks annotation is invalid when a policy applies", func() {
		createPolicy(ns, "web", "", map[string]string{"app": "web"}, plexusv1alpha1.Attachment{Plane: plane})
		pod := testPod(ns, "bad", map[string]string{"app": "web"})
		pod.Annotations = map[string]string{netattach.NetworksAnnotation: `[{"name":`}
		Expect(k8sClient.Create(ctx, pod)).To(MatchError(ContainSubstring(netattach.NetworksAnnotation)))
	})

	It("skips opted-out namespaces, opted-out pods and system namespaces", func() {
		optedOut := newNamespace(map[string]string{key: "yes", plexusv1alpha1.WebhookOptOutLabel: "disabled"})
		createPolicy(optedOut, "web", "", map[string]string{"app": "web"}, plexusv1alpha1.Attachment{Plane: plane})
		pod := testPod(optedOut, "p", map[string]string{"app": "web"})
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		Expect(pod.Annotations).NotTo(HaveKey(netattach.NetworksAnnotation))

		createPolicy(ns, "web", "", map[string]string{"app": "web"}, plexusv1alpha1.Attachment{Plane: plane})
		pod = testPod(ns, "opt-out", map[string]string{"app": "web", plexusv1alpha1.WebhookOptOutLabel: "disabled"})
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		Expect(pod.Annotations).NotTo(HaveKey(netattach.NetworksAnnotation))

		name := uniqueName("web")
		createPolicy("kube-system", name, "", map[string]string{"app": name}, plexusv1alpha1.Attachment{Plane: plane})
		pod = testPod("kube-system", name, map[string]string{"app": name})
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		DeferCleanup(k8sClient.Delete, ctx, pod)
		Expect(pod.Annotations).NotTo(HaveKey(netattach.NetworksAnnotation))
	})

	It("validates NetworkAttachmentDefinitions statically", func() {
		good := &nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Name: "good", Namespace: ns},
			Spec: nadv1.NetworkAttachmentDefinitionSpec{Config: `{"cniVersion":"1.0.0","name":"good","type":"macvlan","master":"eth0"}`}}
		Expect(k8sClient.Create(ctx, good)).To(Succeed())
		for config, msg := range map[string]string{
			`{"cniVersion":"1.0.0","name":"x","type":"../../bin/sh"}`: "binary name",
			`{"cniVersion":"1.0.0",`:                                  "not valid JSON",
			`{"name":"x","type":"bridge"}`:                            "no cniVersion",
			`{"cniVersion":"7.0.0","name":"x","type":"bridge"}`:       "unknown cniVersion",
		} {
			bad := &nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: ns},
				Spec: nadv1.NetworkAttachmentDefinitionSpec{Config: config}}
			Expect(k8sClient.Create(ctx, bad)).To(MatchError(And(ContainSubstring("spec.config"), ContainSubstring(msg))))
		}
		good.Spec.Config = `{"cniVersion":"1.0.0","name":"good","type":"a/b"}`
		Expect(k8sClient.Update(ctx, good)).To(MatchError(ContainSubstring("binary name")))
	})

	It("aggregates attachment status from network-status and sandbox events", func() {
		app := map[string]string{"app": "web"}
		By("a pod created before the policy is not mutated")
		Expect(k8sClient.Create(ctx, testPod(ns, "early", app))).To(Succeed())
		createPolicy(ns, "web", plexusv1alpha1.ReadinessGateEnabled, app, plexusv1alpha1.Attachment{Plane: plane, Interface: "data0"})
		Expect(k8sClient.Create(ctx, testPod(ns, "ok", app))).To(Succeed())
		Expect(k8sClient.Create(ctx, testPod(ns, "broken", app))).To(Succeed())
		Expect(k8sClient.Create(ctx, testPod(ns, "waiting", app))).To(Succeed())

		By("the node agent reports ok attached; the runtime reports broken's sandbox failure")
		markStarted(ns, "ok")
		setNetworkStatus(ns, "ok", fmt.Sprintf(`[{"name":"cbr0","interface":"eth0","default":true},{"name":"%s/%s","interface":"data0","ips":["10.99.0.7"]}]`, ns, plane))
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{GenerateName: "broken.", Namespace: ns},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "broken", UID: getPod(Default, ns, "broken").UID, APIVersion: "v1"},
			Reason:         sandboxFailedReason,
			Message:        fmt.Sprintf(`Failed to create pod sandbox: plexus: ADD %s/%s (data0): plugin bridge failed: operation not permitted`, ns, plane),
			Type:           corev1.EventTypeWarning,
			LastTimestamp:  metav1.Now(),
			Source:         corev1.EventSource{Component: "kubelet"},
		}
		Expect(k8sClient.Create(ctx, ev)).To(Succeed())

		Eventually(func(g Gomega) {
			p := getPolicy(g, ns, "web")
			g.Expect(p.Status.MatchedPods).To(BeEquivalentTo(4))
			g.Expect(p.Status.AttachedPods).To(BeEquivalentTo(1))
			g.Expect(p.Status.FailedPods).To(BeEquivalentTo(2))
			g.Expect(p.Status.FailingPods).To(HaveExactElements(
				plexusv1alpha1.FailingPod{Name: "broken", Reason: plexusv1alpha1.PodSandboxFailedReason, Message: ev.Message},
				And(HaveField("Name", "early"), HaveField("Reason", plexusv1alpha1.PodNotMutatedReason),
					HaveField("Message", ContainSubstring("recreate the pod"))),
			))
			ready := meta.FindStatusCondition(p.Status.Conditions, plexusv1alpha1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal(plexusv1alpha1.AttachmentPolicyPodsFailedReason))
			g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, plexusv1alpha1.DegradedCondition)).To(BeTrue())

			pl := getPlane(g, plane)
			g.Expect(pl.Status.AttachedPods).To(BeEquivalentTo(1))
			g.Expect(pl.Status.FailedPods).To(BeEquivalentTo(1))

			okCond := findPodCondition(getPod(g, ns, "ok"), plexusv1alpha1.AttachmentsReadyPodCondition)
			g.Expect(okCond).NotTo(BeNil())
			g.Expect(okCond.Status).To(Equal(corev1.ConditionTrue))
			brokenCond := findPodCondition(getPod(g, ns, "broken"), plexusv1alpha1.AttachmentsReadyPodCondition)
			g.Expect(brokenCond).NotTo(BeNil())
			g.Expect(brokenCond.Status).To(Equal(corev1.ConditionFalse))
			g.Expect(brokenCond.Reason).To(Equal(plexusv1alpha1.PodSandboxFailedReason))
			waitCond := findPodCondition(getPod(g, ns, "waiting"), plexusv1alpha1.AttachmentsReadyPodCondition)
			g.Expect(waitCond).NotTo(BeNil())
			g.Expect(waitCond.Reason).To(Equal(podPendingReason))
		}).Should(Succeed())

		By("a pod that starts without its interface is reported")
		markStarted(ns, "waiting")
		setNetworkStatus(ns, "waiting", `[{"name":"cbr0","interface":"eth0","default":true}]`)
		Eventually(func(g Gomega) {
			p := getPolicy(g, ns, "web")
			g.Expect(p.Status.FailedPods).To(BeEquivalentTo(3))
			g.Expect(p.Status.FailingPods).To(ContainElement(And(
				HaveField("Name", "waiting"), HaveField("Reason", plexusv1alpha1.PodMissingAttachmentReason))))
		}).Should(Succeed())

		By("deleting failed pods makes the policy ready")
		for _, n := range []string{"early", "broken", "waiting"} {
			Expect(k8sClient.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: n}})).To(Succeed())
		}
		Eventually(func(g Gomega) {
			p := getPolicy(g, ns, "web")
			g.Expect(p.Status.MatchedPods).To(BeEquivalentTo(1))
			g.Expect(p.Status.FailingPods).To(BeEmpty())
			g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
			g.Expect(meta.IsStatusConditionFalse(p.Status.Conditions, plexusv1alpha1.DegradedCondition)).To(BeTrue())
		}).Should(Succeed())
	})

	It("reports attachments naming a missing plane", func() {
		createPolicy(ns, "ghost", "", map[string]string{"app": "x"}, plexusv1alpha1.Attachment{Plane: "does-not-exist"})
		Eventually(func(g Gomega) {
			p := getPolicy(g, ns, "ghost")
			d := meta.FindStatusCondition(p.Status.Conditions, plexusv1alpha1.DegradedCondition)
			g.Expect(d).NotTo(BeNil())
			g.Expect(d.Reason).To(Equal(plexusv1alpha1.AttachmentPolicyPlaneNotFoundReason))
			g.Expect(d.Message).To(ContainSubstring("does-not-exist"))
		}).Should(Succeed())
	})

	It("reports a plane not rendered into the policy's namespace, until its selector matches", func() {
		other := newNamespace(nil)
		createPolicy(other, "web", "", map[string]string{"app": "x"}, plexusv1alpha1.Attachment{Plane: plane})
		Eventually(func(g Gomega) {
			d := meta.FindStatusCondition(getPolicy(g, other, "web").Status.Conditions, plexusv1alpha1.DegradedCondition)
			g.Expect(d).NotTo(BeNil())
			g.Expect(d.Reason).To(Equal(plexusv1alpha1.AttachmentPolicyPlaneNotRenderedReason))
			g.Expect(d.Message).To(ContainSubstring(plane))
		}).Should(Succeed())
		setNamespaceLabel(other, key, "yes")
		Eventually(func(g Gomega) {
			p := getPolicy(g, other, "web")
			g.Expect(meta.IsStatusConditionFalse(p.Status.Conditions, plexusv1alpha1.DegradedCondition)).To(BeTrue())
		}).Should(Succeed())
	})
})
