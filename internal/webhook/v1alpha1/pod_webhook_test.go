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

package v1alpha1

import (
	"context"
	"testing"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

func TestPodAttacherDefault(t *testing.T) {
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = plexusv1alpha1.AddToScheme(scheme)
	_ = nadv1.AddToScheme(scheme)
	web := policy("web", plexusv1alpha1.Attachment{Plane: "vf", Interface: "vf0"}, plexusv1alpha1.Attachment{Plane: "vf", Interface: "vf1"})
	web.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	web.Spec.ReadinessGate = plexusv1alpha1.ReadinessGateEnabled
	edge := policy("edge", plexusv1alpha1.Attachment{Plane: "edge"}, plexusv1alpha1.Attachment{Plane: "vf"})
	edge.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{"app": "edge"}}
	elsewhere := policy("elsewhere", plexusv1alpha1.Attachment{Plane: "vf"})
	elsewhere.Namespace = "other"
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&web, &elsewhere, &edge,
		// A hand-written NAD of a device pool (no plane), and the edge plane's rendered NAD.
		&nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "dpdk",
			Annotations: map[string]string{netattach.ResourceNameAnnotation: "vendor.example/dpdk"}}},
		&nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "edge",
			Labels: map[string]string{plexusv1alpha1.PlaneLabel: "edge"}}},
		&plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: "edge"},
			Spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeBridge,
				NodeSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"zone": "edge"},
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "gpu", Operator: metav1.LabelSelectorOpExists}}}}},
		&plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: "vf"},
			Spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeSRIOV,
				SRIOV: &plexusv1alpha1.SRIOVSettings{ResourceName: "plexus.dev/vf"}}},
	).Build()
	a := &PodAttacher{Client: c}
	ctx := admission.NewContextWithRequest(context.Background(), admission.Request{
		AdmissionRequest: admissionv1.AdmissionRequest{Namespace: "ns", Operation: admissionv1.Create}})

	t.Run("matching pod", func(t *testing.T) {
		g := NewWithT(t)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "web-", Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
		g.Expect(a.Default(ctx, pod)).To(Succeed())
		g.Expect(pod.Annotations[netattach.NetworksAnnotation]).To(MatchJSON(
			`[{"name":"vf","namespace":"ns","interface":"vf0"},{"name":"vf","namespace":"ns","interface":"vf1"}]`))
		q := pod.Spec.Containers[0].Resources.Limits["plexus.dev/vf"]
		g.Expect(q.Value()).To(BeEquivalentTo(2))
		g.Expect(pod.Spec.ReadinessGates).To(HaveLen(1))

		before := pod.DeepCopy()
		g.Expect(a.Default(ctx, pod)).To(Succeed())
		g.Expect(pod).To(Equal(before), "re-invocation changes nothing")
	})

	t.Run("plane nodeSelector becomes required node affinity", func(t *testing.T) {
		g := NewWithT(t)
		want := []corev1.NodeSelectorRequirement{
			{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"edge"}},
			{Key: "gpu", Operator: corev1.NodeSelectorOpExists},
		}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "e", Labels: map[string]string{"app": "edge"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
		g.Expect(a.Default(ctx, pod)).To(Succeed())
		terms := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		g.Expect(terms).To(HaveLen(1))
		g.Expect(terms[0].MatchExpressions).To(Equal(want))
		q := pod.Spec.Containers[0].Resources.Limits["plexus.dev/vf"]
		g.Expect(q.Value()).To(BeEquivalentTo(1), "the plane without a nodeSelector still counts its VF")
		before := pod.DeepCopy()
		g.Expect(a.Default(ctx, pod)).To(Succeed())
		g.Expect(pod).To(Equal(before), "re-invocation changes nothing")

		// The pod's own terms are ORed by the scheduler: the plane's requirements are ANDed into each.
		own := corev1.NodeSelectorRequirement{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}
		pod = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "e2", Labels: map[string]string{"app": "edge"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}, Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
					{MatchExpressions: []corev1.NodeSelectorRequirement{own}},
					{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n2"}}}},
				}}}}}}
		g.Expect(a.Default(ctx, pod)).To(Succeed())
		terms = pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		g.Expect(terms).To(HaveLen(2))
		g.Expect(terms[0].MatchExpressions).To(Equal(append([]corev1.NodeSelectorRequirement{own}, want...)))
		g.Expect(terms[1].MatchExpressions).To(Equal(want))
		g.Expect(terms[1].MatchFields).To(HaveLen(1))
	})

	t.Run("hand-written annotation without a policy", func(t *testing.T) {
		g := NewWithT(t)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "h", Labels: map[string]string{"app": "none"},
			Annotations: map[string]string{netattach.NetworksAnnotation: "dpdk@d0,dpdk@d1,other/edge"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
		g.Expect(a.Default(ctx, pod)).To(Succeed())
		g.Expect(pod.Annotations[netattach.NetworksAnnotation]).To(Equal("dpdk@d0,dpdk@d1,other/edge"), "the annotation is the user's")
		q := pod.Spec.Containers[0].Resources.Limits["vendor.example/dpdk"]
		g.Expect(q.Value()).To(BeEquivalentTo(2), "one device per attachment of the NAD's resourceName")
		g.Expect(pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms).To(HaveLen(1),
			"the plane behind other/edge brings its nodeSelector")
		g.Expect(pod.Spec.ReadinessGates).To(BeEmpty(), "readiness gates come from policies only")
		before := pod.DeepCopy()
		g.Expect(a.Default(ctx, pod)).To(Succeed())
		g.Expect(pod).To(Equal(before), "re-invocation changes nothing")

		for _, ann := range []string{"a/b/c", "nowhere", ""} {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "h2", Annotations: map[string]string{netattach.NetworksAnnotation: ann}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
			before := pod.DeepCopy()
			g.Expect(a.Default(ctx, pod)).To(Succeed(), "no policy: a bad or unknown network is plexus-cni's to report, never a rejection (%q)", ann)
			g.Expect(pod).To(Equal(before), ann)
		}
	})

	t.Run("non-matching pod", func(t *testing.T) {
		g := NewWithT(t)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db", Labels: map[string]string{"app": "db"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
		before := pod.DeepCopy()
		g.Expect(a.Default(ctx, pod)).To(Succeed())
		g.Expect(pod).To(Equal(before))
	})

	t.Run("invalid own annotation", func(t *testing.T) {
		g := NewWithT(t)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x", Labels: map[string]string{"app": "web"},
			Annotations: map[string]string{netattach.NetworksAnnotation: "a/b/c"}}}
		err := a.Default(ctx, pod)
		g.Expect(apierrors.IsInvalid(err)).To(BeTrue())
		g.Expect(err.Error()).To(ContainSubstring(netattach.NetworksAnnotation))
	})
}

func TestAddNodeAffinityAddsSharedRequirementsOnce(t *testing.T) {
	g := NewWithT(t)
	sel := func(labels map[string]string) *plexusv1alpha1.NetworkPlane {
		return &plexusv1alpha1.NetworkPlane{Spec: plexusv1alpha1.NetworkPlaneSpec{NodeSelector: &metav1.LabelSelector{MatchLabels: labels}}}
	}
	pod := &corev1.Pod{}
	g.Expect(addNodeAffinity(pod, []*plexusv1alpha1.NetworkPlane{
		sel(map[string]string{"zone": "a"}), sel(map[string]string{"zone": "a", "rack": "r1"}), {},
	})).To(BeTrue())
	g.Expect(pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms).To(Equal([]corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}},
			{Key: "rack", Operator: corev1.NodeSelectorOpIn, Values: []string{"r1"}},
		}}}))
	g.Expect(addNodeAffinity(pod, []*plexusv1alpha1.NetworkPlane{sel(map[string]string{"zone": "a"})})).To(BeFalse())
}
