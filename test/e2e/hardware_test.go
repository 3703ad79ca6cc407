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
	"context"
	"encoding/json"
	"fmt"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/agent/hardware"
	"github.com/plexus-net/plexus/internal/sysfs"

	"github.com/plexus-net/plexus/internal/testenv"
)

const (
	// hwNode is the node the hardware specs target.
	hwNode = "plexus-node1"
	// numa0Pool2Mi is the real 2Mi pool of NUMA node 0, relative to /sys.
	numa0Pool2Mi = "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
	// devicePluginConfigMap is the operator's device plugin ConfigMap.
	devicePluginConfigMap = "plexus-device-plugin-config"
)

// uninstallAgent deletes the PlexusConfig, waits for the agents to remove Plexus and gives the
// nodes back their direct-mode configuration (as the agent specs do).
func uninstallAgent(ctx SpecContext) {
	cfg := &plexusv1alpha1.PlexusConfig{ObjectMeta: metav1.ObjectMeta{Name: plexusv1alpha1.PlexusConfigName}}
	Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, cfg))).To(Succeed())
	Eventually(func() bool {
		return apierrors.IsNotFound(cluster.Client.Get(ctx, client.ObjectKeyFromObject(cfg), cfg))
	}).WithContext(ctx).WithTimeout(3 * time.Minute).Should(BeTrue())
	for n := 1; n <= cluster.Nodes; n++ {
		_, err := cluster.Script(ctx, "cluster/node-up.sh", fmt.Sprint(n))
		Expect(err).NotTo(HaveOccurred())
	}
}

var _ = Describe("Node hardware", Ordered, Label("hardware"), func() {
	var (
		root     = sysfs.New("/sys")
		original int
	)

	BeforeAll(func(ctx SpecContext) {
		if !sysfs.Exists(root, numa0Pool2Mi) {
			testenv.SkipOrFail(GinkgoT(), "no 2Mi hugepage pool on NUMA node 0")
		}
		Expect(cluster.Connect(plexusv1alpha1.AddToScheme, nadv1.AddToScheme)).To(Succeed())
		annotateNodePaths(ctx)
		By("deploying Plexus with make deploy and the agent with a PlexusConfig")
		makeDeploy(ctx)
		createLocalPlexusConfig(ctx)
		DeferCleanup(uninstallAgent, NodeTimeout(5*time.Minute))
		waitPlexusConfigReady(ctx)

		By("taking the machine's hugepages lock and recording the original pool size")
		release, err := testenv.LockHugepages()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(release)
		original, err = sysfs.ReadInt(root, numa0Pool2Mi)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			// Whatever happened, the machine gets its pool size back.
			Expect(sysfs.WriteInt(root, numa0Pool2Mi, original)).To(Succeed())
		})
	}, NodeTimeout(10*time.Minute))

	policy := func(ctx SpecContext, name string, spec plexusv1alpha1.NodeNetworkPolicySpec) *plexusv1alpha1.NodeNetworkPolicy {
		spec.NodeSelector = metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelHostname: hwNode}}
		p := &plexusv1alpha1.NodeNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
		Expect(cluster.Client.Create(ctx, p)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, p))).To(Succeed()) })
		return p
	}
	nodeState := func(g Gomega, ctx context.Context) *plexusv1alpha1.NodeNetworkState {
		nns := &plexusv1alpha1.NodeNetworkState{}
		g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: hwNode}, nns)).To(Succeed())
		return nns
	}
	entry := func(nns *plexusv1alpha1.NodeNetworkState, name string) *plexusv1alpha1.NodePolicyStatus {
		for i := range nns.Status.Policies {
			if nns.Status.Policies[i].Name == name {
				return &nns.Status.Policies[i]
			}
		}
		return nil
	}

	It("reports PFNotFound for an SR-IOV policy and renders the node's device plugin config with no resource", func(ctx SpecContext) {
		p := policy(ctx, "e2e-sriov", plexusv1alpha1.NodeNetworkPolicySpec{Sriov: []plexusv1alpha1.SriovConfig{{
			PFSelector: plexusv1alpha1.PFSelector{PFNames: []string{"plxnope0"}}, NumVfs: 2, ResourceName: "e2enet"}}})

		Eventually(func(g Gomega) {
			nns := nodeState(g, ctx)
			e := entry(nns, p.Name)
			g.Expect(e).NotTo(BeNil())
			g.Expect(e.Generation).To(Equal(p.Generation))
			g.Expect(e.State).To(Equal(plexusv1alpha1.PolicyApplyStateFailed))
			g.Expect(e.Reason).To(Equal(plexusv1alpha1.NodeNetworkStatePFNotFoundReason))
			// Written by the deployed agent's hardware reconciler (its own field manager), next
			// to the agent's other writer.
			managers := map[string]bool{}
			for _, m := range nns.ManagedFields {
				if m.Subresource == "status" {
					managers[m.Manager] = true
				}
			}
			g.Expect(managers).To(HaveKey(hardware.FieldOwner))
			g.Expect(managers).To(HaveKey("plexus-agent"))
			g.Expect(meta.IsStatusConditionTrue(nns.Status.Conditions, plexusv1alpha1.DegradedCondition)).To(BeTrue())
			g.Expect(meta.IsStatusConditionTrue(nns.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue(), "the agent's Ready stays")
		}).WithContext(ctx).Should(Succeed())

		By("the operator reporting the node as failing with PFNotFound")
		Eventually(func(g Gomega) {
			got := &plexusv1alpha1.NodeNetworkPolicy{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
			g.Expect(got.Status.FailedNodes).To(BeEquivalentTo(1))
			g.Expect(got.Status.FailingNodes).To(ConsistOf(And(HaveField("Node", hwNode),
				HaveField("Reason", plexusv1alpha1.NodeNetworkStatePFNotFoundReason))))
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, plexusv1alpha1.DegradedCondition)).To(BeTrue())
		}).WithContext(ctx).Should(Succeed())

		// The node is selected, so it has a key; no PF matched, so the key lists no resource (the
		// device plugin then advertises nothing rather than a stale resource).
		By("the device plugin ConfigMap holding this node's key with an empty resource list")
		Eventually(func(g Gomega) {
			cm := &corev1.ConfigMap{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: agentNamespace, Name: devicePluginConfigMap}, cm)).To(Succeed())
			g.Expect(cm.Data).To(HaveKey(hwNode))
			var conf struct {
				ResourceList []json.RawMessage `json:"resourceList"`
			}
			g.Expect(json.Unmarshal([]byte(cm.Data[hwNode]), &conf)).To(Succeed())
			g.Expect(conf.ResourceList).NotTo(BeNil())
			g.Expect(conf.ResourceList).To(BeEmpty())
		}).WithContext(ctx).Should(Succeed())

		By("deleting the policy: the node's key goes away")
		Expect(cluster.Client.Delete(ctx, p)).To(Succeed())
		Eventually(func(g Gomega) {
			cm := &corev1.ConfigMap{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: agentNamespace, Name: devicePluginConfigMap}, cm)).To(Succeed())
			g.Expect(cm.Data).NotTo(HaveKey(hwNode))
		}).WithContext(ctx).Should(Succeed())
	}, SpecTimeout(4*time.Minute))
	It("allocates 8 2Mi hugepages on NUMA node 0, reports them and gives them back", func(ctx SpecContext) {
		// The container's own /sys is read-only: the deployed agent writes hugepages through the
		// host's /sys, mounted for --sys-root.
		Expect(agentSysRoot(ctx)).NotTo(Equal("/sys"), "the agent DaemonSet mounts the host's /sys for --sys-root")
		GinkgoWriter.Printf("original 2Mi pages on NUMA 0: %d\n", original)
		p := policy(ctx, "e2e-hugepages", plexusv1alpha1.NodeNetworkPolicySpec{Hugepages: []plexusv1alpha1.HugepagesConfig{{
			PageSize: plexusv1alpha1.HugepageSize2Mi, Count: 8, NUMANode: ptr.To[int32](0)}}})

		Eventually(func(g Gomega) {
			nns := nodeState(g, ctx)
			e := entry(nns, p.Name)
			g.Expect(e).NotTo(BeNil())
			g.Expect(e.Generation).To(Equal(p.Generation))
			g.Expect(e.State).To(Equal(plexusv1alpha1.PolicyApplyStateApplied), "%s: %s", e.Reason, e.Message)
			g.Expect(nns.Status.Hugepages).To(ContainElement(And(HaveField("PageSize", plexusv1alpha1.HugepageSize2Mi),
				HaveField("NUMANode", HaveValue(BeEquivalentTo(0))), HaveField("Requested", int32(8)), HaveField("Allocated", int32(8)))))
			// node 1's kubelet read its hugepage capacity when the cluster came up, before these pages.
			c := meta.FindStatusCondition(nns.Status.Conditions, plexusv1alpha1.NodeNetworkStateHugepagesSchedulableCondition)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(c.Reason).To(Equal(plexusv1alpha1.NodeNetworkStateKubeletRestartRequiredReason))
			g.Expect(c.Message).To(ContainSubstring("kubelet reads hugepage capacity only when it starts"))
		}).WithContext(ctx).Should(Succeed())
		Expect(sysfs.ReadInt(root, numa0Pool2Mi)).To(Equal(8))

		By("the operator aggregating the node into the policy status")
		Eventually(func(g Gomega) {
			got := &plexusv1alpha1.NodeNetworkPolicy{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(p), got)).To(Succeed())
			g.Expect(got.Status.MatchedNodes).To(BeEquivalentTo(1))
			g.Expect(got.Status.ConfiguredNodes).To(BeEquivalentTo(1))
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
		}).WithContext(ctx).Should(Succeed())

		By("deleting the policy: the pool goes back to its original size")
		Expect(cluster.Client.Delete(ctx, p)).To(Succeed())
		Eventually(func() (int, error) { return sysfs.ReadInt(root, numa0Pool2Mi) }).WithContext(ctx).Should(Equal(original))
		Eventually(func(g Gomega) {
			nns := nodeState(g, ctx)
			g.Expect(entry(nns, p.Name)).To(BeNil())
			g.Expect(nns.Status.Hugepages).To(ContainElement(And(HaveField("PageSize", plexusv1alpha1.HugepageSize2Mi),
				HaveField("NUMANode", HaveValue(BeEquivalentTo(0))), HaveField("Requested", BeZero()),
				HaveField("Allocated", BeEquivalentTo(original)))))
			g.Expect(meta.FindStatusCondition(nns.Status.Conditions, plexusv1alpha1.NodeNetworkStateHugepagesSchedulableCondition)).To(BeNil())
		}).WithContext(ctx).Should(Succeed())
	}, SpecTimeout(4*time.Minute))

})
