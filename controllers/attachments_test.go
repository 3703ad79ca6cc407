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
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

func TestEvaluatePod(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	started := func(ago time.Duration) []corev1.PodCondition {
		return []corev1.PodCondition{{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now.Add(-ago))}}
	}
	tests := []struct {
		name       string
		networks   string
		status     string
		conditions []corev1.PodCondition
		sandbox    string
		want       attachState
		reason     string
		perNetwork map[string]attachState
		recheck    bool
	}{
		{name: "no networks", want: attachAttached},
		{name: "invalid annotation", networks: `[{"name":`, want: attachFailed, reason: plexusv1alpha1.PodInvalidAnnotationReason},
		{name: "not started yet", networks: "a", want: attachPending,
			perNetwork: map[string]attachState{"ns/a": attachPending}},
		{name: "all attached", networks: "a,b@data",
			status: `[{"name":"cbr0","interface":"eth0","default":true},{"name":"ns/a","interface":"net1"},{"name":"ns/b","interface":"data"}]`,
			want:   attachAttached, perNetwork: map[string]attachState{"ns/a": attachAttached, "ns/b": attachAttached}},
		{name: "same network twice needs two entries", networks: "a,a",
			status: `[{"name":"ns/a","interface":"net1"}]`, conditions: started(time.Second),
			want: attachFailed, reason: plexusv1alpha1.PodMissingAttachmentReason},
		{name: "started without an interface", networks: "a,b",
			status: `[{"name":"ns/a","interface":"net1"}]`, conditions: started(time.Second),
			want: attachFailed, reason: plexusv1alpha1.PodMissingAttachmentReason,
			perNetwork: map[string]attachState{"ns/a": attachAttached, "ns/b": attachFailed}},
		{name: "wrong interface name", networks: "a@data",
			status: `[{"name":"ns/a","interface":"net1"}]`, conditions: started(time.Second),
			want: attachFailed, reason: plexusv1alpha1.PodMissingAttachmentReason},
		{name: "sandbox failed", networks: "a,b", sandbox: `plexus: failed to add network "ns/b": plugin bridge failed`,
			want: attachFailed, reason: plexusv1alpha1.PodSandboxFailedReason,
			perNetwork: map[string]attachState{"ns/a": attachPending, "ns/b": attachFailed}},
		{name: "started, status not written yet", networks: "a", conditions: started(10 * time.Second),
			want: attachPending, recheck: true},
		{name: "started long ago without status", networks: "a", conditions: started(2 * time.Minute),
			want: attachFailed, reason: plexusv1alpha1.PodMissingAttachmentReason},
		{name: "success after an earlier sandbox failure", networks: "a", sandbox: "old failure",
			status: `[{"name":"ns/a","interface":"net1"}]`, want: attachAttached},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Annotations: map[string]string{}}}
			if tt.networks != "" {
				pod.Annotations[netattach.NetworksAnnotation] = tt.networks
			}
			if tt.status != "" {
				pod.Annotations[netattach.NetworkStatusAnnotation] = tt.status
			}
			pod.Status.Conditions = tt.conditions
			res := evaluatePod(pod, tt.sandbox, now)
			g.Expect(res.state).To(Equal(tt.want))
			g.Expect(res.reason).To(Equal(tt.reason))
			for k, v := range tt.perNetwork {
				g.Expect(res.perNetwork).To(HaveKeyWithValue(k, v))
			}
			g.Expect(res.recheckAfter > 0).To(Equal(tt.recheck))
		})
	}
}

func TestTrimPod(t *testing.T) {
	g := NewWithT(t)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"app": "x"},
			Annotations:   map[string]string{netattach.NetworksAnnotation: "a", "other": "big"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "i"}},
			ReadinessGates: []corev1.PodReadinessGate{{ConditionType: plexusv1alpha1.AttachmentsReadyPodCondition}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady}, {Type: corev1.PodReadyToStartContainers}}},
	}
	out, err := trimPod(pod)
	g.Expect(err).NotTo(HaveOccurred())
	tp := out.(*corev1.Pod)
	g.Expect(tp.Annotations).To(Equal(map[string]string{netattach.NetworksAnnotation: "a"}))
	g.Expect(tp.Labels).To(Equal(pod.Labels))
	g.Expect(tp.Spec.Containers).To(BeEmpty())
	g.Expect(tp.ManagedFields).To(BeEmpty())
	g.Expect(tp.Spec.NodeName).To(Equal("n1"))
	g.Expect(hasAttachmentsGate(tp)).To(BeTrue())
	g.Expect(tp.Status.Conditions).To(HaveLen(1))
}

func TestBoundFailingPods(t *testing.T) {
	g := NewWithT(t)
	var pods []plexusv1alpha1.FailingPod
	for i := 30; i > 0; i-- {
		pods = append(pods, plexusv1alpha1.FailingPod{Name: string(rune('a'+i%26)) + string(rune('a'+i/26))})
	}
	out := boundFailingPods(pods)
	g.Expect(out).To(HaveLen(maxFailingPods))
	for i := 1; i < len(out); i++ {
		g.Expect(out[i-1].Name < out[i].Name).To(BeTrue())
	}
}
