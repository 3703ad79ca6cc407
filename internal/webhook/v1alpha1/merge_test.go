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
	"testing"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

func policy(name string, attachments ...plexusv1alpha1.Attachment) plexusv1alpha1.AttachmentPolicy {
	return plexusv1alpha1.AttachmentPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec:       plexusv1alpha1.AttachmentPolicySpec{Attachments: attachments},
	}
}

func TestMergeNetworks(t *testing.T) {
	tests := []struct {
		name      string
		user      string
		policies  []plexusv1alpha1.AttachmentPolicy
		want      string
		added     bool
		wantError []string
	}{
		{
			name:     "policies sorted by name, attachments in order",
			policies: []plexusv1alpha1.AttachmentPolicy{policy("b", plexusv1alpha1.Attachment{Plane: "p3"}), policy("a", plexusv1alpha1.Attachment{Plane: "p1"}, plexusv1alpha1.Attachment{Plane: "p2", Interface: "data"})},
			want:     `[{"name":"p1","namespace":"ns"},{"name":"p2","namespace":"ns","interface":"data"},{"name":"p3","namespace":"ns"}]`,
			added:    true,
		},
		{
			name:     "user entries first and kept",
			user:     "other/x@ext,p1",
			policies: []plexusv1alpha1.AttachmentPolicy{policy("a", plexusv1alpha1.Attachment{Plane: "p1"}, plexusv1alpha1.Attachment{Plane: "p2", IPs: []string{"10.0.0.5/24"}, MAC: "02:00:00:00:00:01", DefaultRoute: []string{"10.0.0.1"}})},
			want:     `[{"name":"x","namespace":"other","interface":"ext"},{"name":"p1","namespace":"ns"},{"name":"p2","namespace":"ns","ips":["10.0.0.5/24"],"mac":"02:00:00:00:00:01","default-route":["10.0.0.1"]}]`,
			added:    true,
		},
		{
			name:     "idempotent on re-invocation",
			user:     `[{"name":"p1","namespace":"ns"},{"name":"p2","namespace":"ns","interface":"data"}]`,
			policies: []plexusv1alpha1.AttachmentPolicy{policy("a", plexusv1alpha1.Attachment{Plane: "p1"}, plexusv1alpha1.Attachment{Plane: "p2", Interface: "data"})},
			want:     `[{"name":"p1","namespace":"ns"},{"name":"p2","namespace":"ns","interface":"data"}]`,
		},
		{
			name:     "same plane twice on two interfaces is two attachments",
			policies: []plexusv1alpha1.AttachmentPolicy{policy("a", plexusv1alpha1.Attachment{Plane: "p1", Interface: "a0"}, plexusv1alpha1.Attachment{Plane: "p1", Interface: "a1"})},
			want:     `[{"name":"p1","namespace":"ns","interface":"a0"},{"name":"p1","namespace":"ns","interface":"a1"}]`,
			added:    true,
		},
		{
			name:     "bandwidth",
			policies: []plexusv1alpha1.AttachmentPolicy{policy("a", plexusv1alpha1.Attachment{Plane: "p1", Bandwidth: &plexusv1alpha1.Bandwidth{EgressRate: ptr64(1000), EgressBurst: ptr64(100)}})},
			want:     `[{"name":"p1","namespace":"ns","bandwidth":{"ingressRate":0,"ingressBurst":0,"egressRate":1000,"egressBurst":100}}]`,
			added:    true,
		},
		{
			name:      "two policies claim one interface",
			policies:  []plexusv1alpha1.AttachmentPolicy{policy("a", plexusv1alpha1.Attachment{Plane: "p1", Interface: "data"}), policy("b", plexusv1alpha1.Attachment{Plane: "p2", Interface: "data"})},
			wantError: []string{"AttachmentPolicy a", "AttachmentPolicy b", "interface data"},
		},
		{
			name:      "explicit name collides with a positional default",
			user:      "x",
			policies:  []plexusv1alpha1.AttachmentPolicy{policy("a", plexusv1alpha1.Attachment{Plane: "p1", Interface: "net1"})},
			wantError: []string{"the pod's networks annotation", "AttachmentPolicy a", "interface net1"},
		},
		{
			name:      "two default routes",
			policies:  []plexusv1alpha1.AttachmentPolicy{policy("a", plexusv1alpha1.Attachment{Plane: "p1", DefaultRoute: []string{"10.0.0.1"}}), policy("b", plexusv1alpha1.Attachment{Plane: "p2", DefaultRoute: []string{"10.1.0.1"}})},
			wantError: []string{"AttachmentPolicy a", "AttachmentPolicy b", "default route"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			user, err := netattach.ParseNetworks(tt.user, "ns")
			g.Expect(err).NotTo(HaveOccurred())
			merged, added, err := mergeNetworks("ns", user, tt.policies)
			if tt.wantError != nil {
				g.Expect(err).To(HaveOccurred())
				for _, s := range tt.wantError {
					g.Expect(err.Error()).To(ContainSubstring(s))
				}
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(added).To(Equal(tt.added))
			got, err := netattach.FormatNetworks(merged)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(MatchJSON(tt.want))
			_, err = netattach.ParseNetworks(got, "ns")
			g.Expect(err).NotTo(HaveOccurred())
		})
	}
}

func ptr64(v int64) *int64 { return &v }

func TestAddDeviceResources(t *testing.T) {
	g := NewWithT(t)
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}, {Name: "d"}}}}
	res := map[corev1.ResourceName]int64{"plexus.dev/vf_a": 2}
	g.Expect(addDeviceResources(pod, res)).To(BeTrue())
	req := pod.Spec.Containers[0].Resources.Requests[corev1.ResourceName("plexus.dev/vf_a")]
	lim := pod.Spec.Containers[0].Resources.Limits[corev1.ResourceName("plexus.dev/vf_a")]
	g.Expect(req.Cmp(resource.MustParse("2"))).To(Equal(0))
	g.Expect(lim.Cmp(resource.MustParse("2"))).To(Equal(0))
	g.Expect(pod.Spec.Containers[1].Resources.Requests).To(BeEmpty())
	g.Expect(addDeviceResources(pod, res)).To(BeFalse(), "idempotent")
	g.Expect(addReadinessGate(pod)).To(BeTrue())
	g.Expect(addReadinessGate(pod)).To(BeFalse())
}

func TestValidateNAD(t *testing.T) {
	g := NewWithT(t)
	nad := func(config string) error {
		return validateNAD(nadWithConfig(config))
	}
	g.Expect(nad("")).To(Succeed())
	g.Expect(nad(`{"cniVersion":"1.0.0","name":"a","type":"bridge"}`)).To(Succeed())
	g.Expect(nad(`{"cniVersion":"1.0.0","name":"a","type":"../bridge"}`)).To(MatchError(ContainSubstring("spec.config")))
	g.Expect(nad(`not json`)).To(HaveOccurred())
	g.Expect(nad(`{"name":"a","type":"bridge"}`)).To(HaveOccurred())
}

func nadWithConfig(config string) *nadv1.NetworkAttachmentDefinition {
	return &nadv1.NetworkAttachmentDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"},
		Spec:       nadv1.NetworkAttachmentDefinitionSpec{Config: config},
	}
}
