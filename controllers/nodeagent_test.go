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
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/agent/journal"
	"github.com/plexus-net/plexus/internal/agent/nodestate"
	"github.com/plexus-net/plexus/internal/agent/statuswriter"
	"github.com/plexus-net/plexus/internal/netattach"
)

func createNode(name string) *corev1.Node {
	GinkgoHelper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, n))).To(Succeed())
	Expect(k8sClient.Get(ctx, types.NamespacedName{Name: name}, n)).To(Succeed())
	return n
}

func createPodOn(ns, name, node string) *corev1.Pod {
	GinkgoHelper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{NodeName: node, AutomountServiceAccountToken: ptrTo(false),
			Containers: []corev1.Container{{Name: "c", Image: "plexus.local/testpod:latest"}}},
	}
	Expect(k8sClient.Create(ctx, p)).To(Succeed())
	return p
}

var _ = Describe("The node agent's NodeNetworkState reporter", func() {
	It("creates and server-side applies the node's state, owned by the Node", func() {
		node := createNode("nns-node-1")
		rep := &nodestate.Reporter{Client: k8sClient, NodeName: node.Name, NodeUID: node.UID}
		st := &nodestate.State{
			Uplink:     &plexusv1alpha1.UplinkStatus{Name: "eth0", Addresses: []string{"192.0.2.10/24"}},
			Interfaces: []plexusv1alpha1.InterfaceStatus{{Name: "eth0", MAC: "02:00:00:00:00:01", MTU: 1500, Driver: "virtio_net", State: "up"}},
			Installed:  []plexusv1alpha1.InstalledComponent{{Name: "plexus-cni", Version: "v0.1.0"}, {Name: "macvlan", Version: "v1.9.1"}},
			Conditions: []metav1.Condition{
				nodestate.Condition(plexusv1alpha1.NodeNetworkStateInstalledCondition, true, plexusv1alpha1.NodeNetworkStateInstalledReason, "ok"),
				nodestate.Condition(plexusv1alpha1.ReadyCondition, false, plexusv1alpha1.NodeNetworkStateAgentNotReadyReason, "syncing"),
			},
		}
		Expect(rep.Apply(ctx, st)).To(Succeed())
		nns := &plexusv1alpha1.NodeNetworkState{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: node.Name}, nns)).To(Succeed())
		Expect(nns.OwnerReferences).To(ContainElement(HaveField("UID", node.UID)))
		Expect(nns.Status.Uplink.Name).To(Equal("eth0"))
		Expect(nns.Status.Installed).To(HaveLen(2))
		Expect(meta.IsStatusConditionTrue(nns.Status.Conditions, plexusv1alpha1.NodeNetworkStateInstalledCondition)).To(BeTrue())
		managers := []string{}
		for _, m := range nns.ManagedFields {
			managers = append(managers, m.Manager)
		}
		Expect(managers).To(ContainElement(nodestate.FieldOwner))

		// Another writer's fields (the hardware reconciler) survive the agent's apply.
		nns.Status.AppliedSpecHash = "hw-hash"
		Expect(k8sClient.Status().Update(ctx, nns)).To(Succeed())
		st.Uplink.Name = "bond0"
		st.Conditions[1] = nodestate.Condition(plexusv1alpha1.ReadyCondition, true, plexusv1alpha1.NodeNetworkStateAgentReadyReason, "ok")
		Expect(rep.Apply(ctx, st)).To(Succeed())
		Expect(k8sClient.Get(ctx, types.NamespacedName{Name: node.Name}, nns)).To(Succeed())
		Expect(nns.Status.Uplink.Name).To(Equal("bond0"))
		Expect(nns.Status.AppliedSpecHash).To(Equal("hw-hash"))
		Expect(meta.IsStatusConditionTrue(nns.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
	})
})

var _ = Describe("The node agent's status writer", func() {
	It("writes network-status once per pod from the journal and drops reports of pods that are gone", func(sctx SpecContext) {
		ns := newNamespace(nil)
		pod := createPodOn(ns, "p1", "writer-node")
		recreated := createPodOn(ns, "p2", "writer-node")
		j, err := journal.Open(filepath.Join(GinkgoT().TempDir(), "journal"))
		Expect(err).NotTo(HaveOccurred())
		st := []netattach.NetworkStatus{{Name: "cbr0", Interface: "eth0", IPs: []string{"10.88.0.5"}, Default: true},
			{Name: ns + "/macnet", Interface: "net1", IPs: []string{"10.10.0.5"}}}
		ref := api.PodRef{Namespace: ns, Name: pod.Name, UID: string(pod.UID)}
		Expect(j.Append(ref, &api.StatusReport{UID: string(pod.UID), NetworkStatus: st[:1],
			Events: []api.Event{{Type: api.EventTypeNormal, Reason: api.ReasonAddedInterface, Message: "Add eth0 [10.88.0.5] from cbr0"}}})).To(Succeed())
		Expect(j.Append(ref, &api.StatusReport{UID: string(pod.UID), NetworkStatus: st})).To(Succeed())
		// A report for an older incarnation of p2, and one for a pod that never existed.
		Expect(j.Append(api.PodRef{Namespace: ns, Name: recreated.Name, UID: "old-uid"}, &api.StatusReport{UID: "old-uid", NetworkStatus: st})).To(Succeed())
		Expect(j.Append(api.PodRef{Namespace: ns, Name: "ghost", UID: "ghost-uid"}, &api.StatusReport{UID: "ghost-uid", NetworkStatus: st})).To(Succeed())

		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		w := &statuswriter.Writer{Journal: j, Client: k8sClient, NodeName: "writer-node", Log: logr.Discard()}
		done := make(chan struct{})
		go func() { defer close(done); w.Run(wctx) }()
		defer func() { cancel(); <-done }()

		Eventually(j.Len).Should(BeZero())
		got := &corev1.Pod{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
		want, err := netattach.FormatNetworkStatus(st)
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Annotations).To(HaveKeyWithValue(netattach.NetworkStatusAnnotation, want), "the coalesced, latest status")
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(recreated), got)).To(Succeed())
		Expect(got.Annotations).NotTo(HaveKey(netattach.NetworkStatusAnnotation), "the UID precondition protects a recreated pod")

		events := &corev1.EventList{}
		Expect(k8sClient.List(ctx, events, client.InNamespace(ns))).To(Succeed())
		Expect(events.Items).To(ContainElement(And(
			HaveField("Reason", api.ReasonAddedInterface),
			HaveField("InvolvedObject.UID", pod.UID),
			HaveField("Source.Host", "writer-node"),
		)))
	}, SpecTimeout(60*time.Second))
})

// applyAgentManifests creates every object of a config/agent file as config/default renders it:
// names prefixed with "plexus-", namespace plexus-system.
func applyAgentManifests(path string) {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return
			}
			Expect(err).NotTo(HaveOccurred())
		}
		if len(u.Object) == 0 {
			continue
		}
		u.SetName("plexus-" + u.GetName())
		if u.GetNamespace() != "" {
			u.SetNamespace("plexus-system")
		}
		if u.GetKind() == "ValidatingAdmissionPolicy" || u.GetKind() == "ValidatingAdmissionPolicyBinding" ||
			u.GetKind() == "ClusterRoleBinding" {
			u.SetNamespace("")
		}
		if name, ok, _ := unstructured.NestedString(u.Object, "roleRef", "name"); ok {
			Expect(unstructured.SetNestedField(u.Object, "plexus-"+name, "roleRef", "name")).To(Succeed())
		}
		if subjects, ok, _ := unstructured.NestedSlice(u.Object, "subjects"); ok {
			for _, s := range subjects {
				m := s.(map[string]any)
				m["name"], m["namespace"] = "plexus-"+m["name"].(string), "plexus-system"
			}
			Expect(unstructured.SetNestedSlice(u.Object, subjects, "subjects")).To(Succeed())
		}
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, u))).To(Succeed(), "%s %s", u.GetKind(), u.GetName())
	}
}

var _ = Describe("The node agent's identity", Ordered, func() {
	const agentNS = "plexus-system"
	var agent client.Client

	BeforeAll(func() {
		Expect(client.IgnoreAlreadyExists(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: agentNS}}))).To(Succeed())
		for _, f := range []string{"service_account.yaml", "role.yaml", "role_binding.yaml", "admission_policy.yaml"} {
			applyAgentManifests(filepath.Join(repoRoot, "config", "agent", f))
		}
		createNode("vap-node-1")
		createNode("vap-node-2")
		agentPod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: agentNS, Name: "plexus-agent-vap"},
			Spec: corev1.PodSpec{NodeName: "vap-node-1", ServiceAccountName: "plexus-agent", AutomountServiceAccountToken: ptrTo(false),
				Containers: []corev1.Container{{Name: "agent", Image: "plexus.local/agent:latest"}}},
		}
		Expect(k8sClient.Create(ctx, agentPod)).To(Succeed())
		cs, err := kubernetes.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		// The token the kubelet would mount: bound to the agent pod, so it names the node.
		tr, err := cs.CoreV1().ServiceAccounts(agentNS).CreateToken(ctx, "plexus-agent", &authenticationv1.TokenRequest{
			Spec: authenticationv1.TokenRequestSpec{BoundObjectRef: &authenticationv1.BoundObjectReference{
				Kind: "Pod", APIVersion: "v1", Name: agentPod.Name, UID: agentPod.UID}},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		agentCfg := rest.AnonymousClientConfig(cfg)
		agentCfg.BearerToken = tr.Status.Token
		agent, err = client.New(agentCfg, client.Options{Scheme: k8sClient.Scheme()})
		Expect(err).NotTo(HaveOccurred())
	})

	patchStatus := func(p *corev1.Pod) error {
		patch := []byte(`{"metadata":{"annotations":{"k8s.v1.cni.cncf.io/network-status":"[]"}}}`)
		return agent.Status().Patch(ctx, p, client.RawPatch(types.MergePatchType, patch))
	}

	It("may write the network-status of pods on its own node only", func() {
		ns := newNamespace(nil)
		mine := createPodOn(ns, "mine", "vap-node-1")
		theirs := createPodOn(ns, "theirs", "vap-node-2")
		// The policy is enforced once the API server has loaded it.
		Eventually(func() error { return patchStatus(theirs) }).WithTimeout(20 * time.Second).Should(
			MatchError(ContainSubstring("may only update the status of pods on its own node")))
		Expect(patchStatus(mine)).To(Succeed())
	})

	It("may write its own node's NodeNetworkState only", func() {
		own := &nodestate.Reporter{Client: agent, NodeName: "vap-node-1"}
		Eventually(func() error { return own.Apply(ctx, &nodestate.State{}) }).Should(Succeed())
		other := &nodestate.Reporter{Client: agent, NodeName: "vap-node-2"}
		err := other.Apply(ctx, &nodestate.State{})
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("may only write NodeNetworkState vap-node-1"))
	})

	It("may cordon its own node only", func() {
		cordon := func(name string) error {
			n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
			return agent.Patch(ctx, n, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"unschedulable":false}}`)))
		}
		Eventually(func() error { return cordon("vap-node-2") }).WithTimeout(20 * time.Second).Should(
			MatchError(ContainSubstring("may only cordon or uncordon its own node")))
		Expect(cordon("vap-node-1")).To(Succeed())
	})

	It("may not create or delete pods", func() {
		ns := newNamespace(nil)
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"},
			Spec: corev1.PodSpec{NodeName: "vap-node-1", Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
		Expect(apierrors.IsForbidden(agent.Create(ctx, p))).To(BeTrue(), "RBAC has no pod create")
	})
})
