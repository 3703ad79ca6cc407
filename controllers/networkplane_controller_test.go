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
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

// uniqueName returns a DNS-1123 label unique to this run.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%06x", prefix, rand.IntN(1<<24))
}

func bridgePlane(name, selectorKey string) *plexusv1alpha1.NetworkPlane {
	return &plexusv1alpha1.NetworkPlane{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: plexusv1alpha1.NetworkPlaneSpec{
			Type:   plexusv1alpha1.NetworkPlaneTypeBridge,
			Bridge: &plexusv1alpha1.BridgeSettings{Name: "br-test"},
			IPAM: &plexusv1alpha1.IPAM{Type: plexusv1alpha1.IPAMTypeHostLocal,
				Ranges: []plexusv1alpha1.IPRange{{Subnet: "10.99.0.0/24"}}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{selectorKey: "yes"}},
		},
	}
}

func getNAD(g Gomega, ns, name string) *nadv1.NetworkAttachmentDefinition {
	nad := &nadv1.NetworkAttachmentDefinition{}
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, nad)).To(Succeed())
	return nad
}

func expectNoNAD(g Gomega, ns, name string) {
	err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &nadv1.NetworkAttachmentDefinition{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "NAD %s/%s should not exist (err=%v)", ns, name, err)
}

func getPlane(g Gomega, name string) *plexusv1alpha1.NetworkPlane {
	p := &plexusv1alpha1.NetworkPlane{}
	g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: name}, p)).To(Succeed())
	return p
}

func deletePlane(name string) {
	p := &plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, p))).To(Succeed())
	Eventually(func(g Gomega) {
		g.Expect(apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Name: name}, p))).To(BeTrue())
	}).Should(Succeed())
}

var _ = Describe("NetworkPlane controller", func() {
	var key, name string

	BeforeEach(func() {
		key = "plexus-test/" + uniqueName("sel")
		name = uniqueName("plane")
	})
	AfterEach(func() { deletePlane(name) })

	It("renders the NAD into selected namespaces, follows relabelling and garbage-collects", func() {
		ns1 := newNamespace(map[string]string{key: "yes"})
		ns2 := newNamespace(map[string]string{key: "yes"})
		other := newNamespace(nil)
		Expect(k8sClient.Create(ctx, bridgePlane(name, key))).To(Succeed())

		Eventually(func(g Gomega) {
			for _, ns := range []string{ns1, ns2} {
				nad := getNAD(g, ns, name)
				g.Expect(nad.Labels).To(HaveKeyWithValue(plexusv1alpha1.ManagedByLabel, plexusv1alpha1.ManagedByValue))
				g.Expect(nad.Labels).To(HaveKeyWithValue(plexusv1alpha1.PlaneLabel, name))
				g.Expect(nad.OwnerReferences).To(HaveLen(1))
				g.Expect(nad.Spec.Config).To(ContainSubstring(`"bridge":"br-test"`))
				g.Expect(nad.ManagedFields).To(ContainElement(HaveField("Manager", planeFieldOwner)))
			}
			expectNoNAD(g, other, name)
			p := getPlane(g, name)
			g.Expect(p.Finalizers).To(ContainElement(plexusv1alpha1.NetworkPlaneFinalizer))
			g.Expect(p.Status.RenderedNamespaces).To(BeEquivalentTo(2))
			g.Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
			ready := meta.FindStatusCondition(p.Status.Conditions, plexusv1alpha1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(ready.Reason).To(Equal(plexusv1alpha1.NetworkPlaneRenderedReason))
			g.Expect(ready.ObservedGeneration).To(Equal(p.Generation))
		}).Should(Succeed())

		By("relabelling: ns2 stops matching, other starts matching")
		setNamespaceLabel(ns2, key, "")
		setNamespaceLabel(other, key, "yes")
		Eventually(func(g Gomega) {
			expectNoNAD(g, ns2, name)
			getNAD(g, other, name)
			getNAD(g, ns1, name)
			g.Expect(getPlane(g, name).Status.RenderedNamespaces).To(BeEquivalentTo(2))
		}).Should(Succeed())

		By("a new matching namespace")
		ns3 := newNamespace(map[string]string{key: "yes"})
		Eventually(func(g Gomega) { getNAD(g, ns3, name) }).Should(Succeed())

		By("a spec change re-renders everywhere")
		Eventually(func(g Gomega) {
			p := getPlane(g, name)
			p.Spec.Bridge.Name = "br-changed"
			g.Expect(k8sClient.Update(ctx, p)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			for _, ns := range []string{ns1, other, ns3} {
				g.Expect(getNAD(g, ns, name).Spec.Config).To(ContainSubstring(`"bridge":"br-changed"`))
			}
		}).Should(Succeed())

		By("deleting the plane deletes every NAD")
		deletePlane(name)
		Eventually(func(g Gomega) {
			for _, ns := range []string{ns1, other, ns3} {
				expectNoNAD(g, ns, name)
			}
		}).Should(Succeed())
	})

	It("restores a hand-edited NAD and records DriftRestored", func() {
		ns := newNamespace(map[string]string{key: "yes"})
		Expect(k8sClient.Create(ctx, bridgePlane(name, key))).To(Succeed())
		var want string
		Eventually(func(g Gomega) { want = getNAD(g, ns, name).Spec.Config }).Should(Succeed())

		Eventually(func(g Gomega) {
			nad := getNAD(g, ns, name)
			nad.Spec.Config = `{"cniVersion":"1.0.0","name":"hacked","type":"macvlan","master":"eth9"}`
			g.Expect(k8sClient.Update(ctx, nad)).To(Succeed())
		}).Should(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getNAD(g, ns, name).Spec.Config).To(Equal(want))
			events := &eventsv1.EventList{}
			g.Expect(k8sClient.List(ctx, events)).To(Succeed())
			g.Expect(events.Items).To(ContainElement(And(
				HaveField("Reason", "DriftRestored"),
				HaveField("Regarding.Name", name),
				HaveField("Type", corev1.EventTypeWarning),
			)))
		}).Should(Succeed())
	})

	It("never overwrites a NAD it does not own and reports NADConflict", func() {
		ns := newNamespace(map[string]string{key: "yes"})
		ok := newNamespace(map[string]string{key: "yes"})
		foreignConfig := `{"cniVersion":"1.0.0","name":"mine","type":"macvlan","master":"eth0"}`
		foreign := &nadv1.NetworkAttachmentDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       nadv1.NetworkAttachmentDefinitionSpec{Config: foreignConfig},
		}
		Expect(k8sClient.Create(ctx, foreign)).To(Succeed())
		Expect(k8sClient.Create(ctx, bridgePlane(name, key))).To(Succeed())

		Eventually(func(g Gomega) {
			p := getPlane(g, name)
			degraded := meta.FindStatusCondition(p.Status.Conditions, plexusv1alpha1.DegradedCondition)
			g.Expect(degraded).NotTo(BeNil())
			g.Expect(degraded.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(degraded.Reason).To(Equal(plexusv1alpha1.NetworkPlaneNADConflictReason))
			g.Expect(degraded.Message).To(ContainSubstring(ns))
			g.Expect(meta.IsStatusConditionFalse(p.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
			g.Expect(p.Status.RenderedNamespaces).To(BeEquivalentTo(1))
			getNAD(g, ok, name)
		}).Should(Succeed())
		Consistently(func(g Gomega) {
			nad := getNAD(g, ns, name)
			g.Expect(nad.Spec.Config).To(Equal(foreignConfig))
			g.Expect(nad.Labels).NotTo(HaveKey(plexusv1alpha1.PlaneLabel))
		}, "1s").Should(Succeed())

		By("removing the foreign NAD lets the plane render")
		Expect(k8sClient.Delete(ctx, foreign)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(getNAD(g, ns, name).Labels).To(HaveKeyWithValue(plexusv1alpha1.PlaneLabel, name))
			p := getPlane(g, name)
			g.Expect(meta.IsStatusConditionTrue(p.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
			g.Expect(meta.IsStatusConditionFalse(p.Status.Conditions, plexusv1alpha1.DegradedCondition)).To(BeTrue())
		}).Should(Succeed())
	})

	It("reports an invalid raw config and renders nothing", func() {
		ns := newNamespace(map[string]string{key: "yes"})
		p := &plexusv1alpha1.NetworkPlane{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: plexusv1alpha1.NetworkPlaneSpec{
				Type:              plexusv1alpha1.NetworkPlaneTypeRaw,
				Raw:               &plexusv1alpha1.RawSettings{Config: `{"cniVersion":"1.0.0","name":"x","type":"../../evil"}`},
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: "yes"}},
			},
		}
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			p := getPlane(g, name)
			ready := meta.FindStatusCondition(p.Status.Conditions, plexusv1alpha1.ReadyCondition)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Reason).To(Equal(plexusv1alpha1.NetworkPlaneInvalidConfigReason))
			g.Expect(ready.Message).To(ContainSubstring("binary name"))
			g.Expect(p.Status.ObservedGeneration).To(Equal(p.Generation))
		}).Should(Succeed())
		expectNoNAD(Default, ns, name)
	})

	It("annotates SR-IOV NADs with the device-plugin resource", func() {
		ns := newNamespace(map[string]string{key: "yes"})
		p := &plexusv1alpha1.NetworkPlane{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: plexusv1alpha1.NetworkPlaneSpec{
				Type:              plexusv1alpha1.NetworkPlaneTypeSRIOV,
				SRIOV:             &plexusv1alpha1.SRIOVSettings{ResourceName: "plexus.dev/vf_test", VLAN: ptr.To[int32](10)},
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: "yes"}},
			},
		}
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			nad := getNAD(g, ns, name)
			g.Expect(nad.Annotations).To(HaveKeyWithValue(netattach.ResourceNameAnnotation, "plexus.dev/vf_test"))
			g.Expect(nad.Spec.Config).To(ContainSubstring(`"type":"sriov"`))
			// The allocated VF reaches the plugin as runtimeConfig.deviceID only if it declares it.
			var conf struct {
				Plugins []struct {
					Capabilities map[string]bool `json:"capabilities"`
				} `json:"plugins"`
			}
			g.Expect(json.Unmarshal([]byte(nad.Spec.Config), &conf)).To(Succeed())
			g.Expect(conf.Plugins).NotTo(BeEmpty())
			g.Expect(conf.Plugins[0].Capabilities).To(HaveKeyWithValue("deviceID", true))
		}).Should(Succeed())
	})
})

func setNamespaceLabel(name, key, value string) {
	Eventually(func(g Gomega) {
		ns := &corev1.Namespace{}
		g.Expect(k8sClient.Get(ctx, types.NamespacedName{Name: name}, ns)).To(Succeed())
		if value == "" {
			delete(ns.Labels, key)
		} else {
			if ns.Labels == nil {
				ns.Labels = map[string]string{}
			}
			ns.Labels[key] = value
		}
		g.Expect(k8sClient.Update(ctx, ns)).To(Succeed())
	}).Should(Succeed())
}

var _ = Describe("API validation (CEL)", func() {
	DescribeTable("rejects invalid NetworkPlanes",
		func(spec plexusv1alpha1.NetworkPlaneSpec, msg string) {
			p := &plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("bad")}, Spec: spec}
			err := k8sClient.Create(ctx, p)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(msg))
		},
		Entry("vlan without a named uplink", plexusv1alpha1.NetworkPlaneSpec{Type: "vlan", VLAN: &plexusv1alpha1.VLANSettings{ID: 5}}, "uplink.interfaceName"),
		Entry("settings of another type", plexusv1alpha1.NetworkPlaneSpec{Type: "bridge", Bridge: &plexusv1alpha1.BridgeSettings{Name: "b"},
			Macvlan: &plexusv1alpha1.MacvlanSettings{Mode: "bridge"}}, "macvlan settings are only allowed"),
		Entry("raw without config", plexusv1alpha1.NetworkPlaneSpec{Type: "raw"}, "raw is required"),
		Entry("raw with ipam", plexusv1alpha1.NetworkPlaneSpec{Type: "raw", Raw: &plexusv1alpha1.RawSettings{Config: "{}"},
			IPAM: &plexusv1alpha1.IPAM{Type: "dhcp"}}, "must be part of raw.config"),
		Entry("uplink with both choices", plexusv1alpha1.NetworkPlaneSpec{Type: "macvlan",
			Uplink: &plexusv1alpha1.Uplink{InterfaceName: "eth0", DefaultRoute: ptr.To(true)}}, "exactly one of interfaceName"),
		Entry("bad subnet", plexusv1alpha1.NetworkPlaneSpec{Type: "bridge", Bridge: &plexusv1alpha1.BridgeSettings{Name: "b"},
			IPAM: &plexusv1alpha1.IPAM{Type: "host-local", Ranges: []plexusv1alpha1.IPRange{{Subnet: "10.0.0.0/99"}}}}, "must be a CIDR"),
		Entry("gateway outside the subnet", plexusv1alpha1.NetworkPlaneSpec{Type: "bridge", Bridge: &plexusv1alpha1.BridgeSettings{Name: "b"},
			IPAM: &plexusv1alpha1.IPAM{Type: "host-local", Ranges: []plexusv1alpha1.IPRange{{Subnet: "10.0.0.0/24", Gateway: "10.1.0.1"}}}}, "gateway must be inside subnet"),
		Entry("host-local without ranges", plexusv1alpha1.NetworkPlaneSpec{Type: "bridge", Bridge: &plexusv1alpha1.BridgeSettings{Name: "b"},
			IPAM: &plexusv1alpha1.IPAM{Type: "host-local"}}, "ranges is required"),
		Entry("bandwidth rate without burst", plexusv1alpha1.NetworkPlaneSpec{Type: "bridge", Bridge: &plexusv1alpha1.BridgeSettings{Name: "b"},
			Bandwidth: &plexusv1alpha1.Bandwidth{IngressRate: ptr.To[int64](10)}}, "ingressRate and ingressBurst"),
		Entry("bad sriov resource name", plexusv1alpha1.NetworkPlaneSpec{Type: "sriov", SRIOV: &plexusv1alpha1.SRIOVSettings{ResourceName: "novendor"}}, "resourceName"),
	)

	It("rejects a plane name that is not a DNS-1123 label", func() {
		p := &plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: "a.b"},
			Spec: plexusv1alpha1.NetworkPlaneSpec{Type: "bridge", Bridge: &plexusv1alpha1.BridgeSettings{Name: "b"}}}
		Expect(k8sClient.Create(ctx, p)).To(MatchError(ContainSubstring("DNS-1123 label")))
	})

	It("defaults cniVersion", func() {
		n := uniqueName("def")
		p := &plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: n},
			Spec: plexusv1alpha1.NetworkPlaneSpec{Type: "macvlan"}}
		Expect(k8sClient.Create(ctx, p)).To(Succeed())
		DeferCleanup(deletePlane, n)
		Expect(p.Spec.CNIVersion).To(Equal("1.0.0"))
		Expect(p.Spec.Uplink).To(BeNil())
	})

	DescribeTable("rejects invalid AttachmentPolicies",
		func(attachments []plexusv1alpha1.Attachment, msg string) {
			ap := &plexusv1alpha1.AttachmentPolicy{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "default"},
				Spec: plexusv1alpha1.AttachmentPolicySpec{Attachments: attachments}}
			err := k8sClient.Create(ctx, ap)
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(msg))
		},
		Entry("interface longer than 15", []plexusv1alpha1.Attachment{{Plane: "a", Interface: "abcdefghijklmnop"}}, "15"),
		Entry("duplicate interface names", []plexusv1alpha1.Attachment{{Plane: "a", Interface: "x"}, {Plane: "b", Interface: "x"}}, "interface names must be unique"),
		Entry("two default routes", []plexusv1alpha1.Attachment{{Plane: "a", DefaultRoute: []string{"10.0.0.1"}}, {Plane: "b", DefaultRoute: []string{"10.0.1.1"}}}, "at most one attachment may set defaultRoute"),
		Entry("bad IP", []plexusv1alpha1.Attachment{{Plane: "a", IPs: []string{"10.0.0.300/24"}}}, "must be an address with prefix length"),
		Entry("no attachments", []plexusv1alpha1.Attachment{}, "attachments"),
	)
})

var _ = Describe("config/samples", func() {
	It("apply cleanly", func() {
		ns := newNamespace(map[string]string{"net.plexus.dev/networks": "enabled"})
		files, err := filepath.Glob(filepath.Join(repoRoot, "config", "samples", "net_*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		for _, f := range files {
			data, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			u := &unstructured.Unstructured{}
			Expect(yaml.Unmarshal(data, &u.Object)).To(Succeed(), f)
			if u.GetKind() == "AttachmentPolicy" {
				u.SetNamespace(ns)
			}
			// Server-side dry run: the API server validates (schema, CEL) without persisting, so
			// the samples do not interfere with other specs.
			Expect(k8sClient.Create(ctx, u, client.DryRunAll)).To(Succeed(), f)
		}
	})
})
