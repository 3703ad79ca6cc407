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
	"errors"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

func testNode(name string, lbls map[string]string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}}
}

func testState(node string, entries ...plexusv1alpha1.NodePolicyStatus) *plexusv1alpha1.NodeNetworkState {
	return &plexusv1alpha1.NodeNetworkState{
		ObjectMeta: metav1.ObjectMeta{Name: node},
		Status:     plexusv1alpha1.NodeNetworkStateStatus{Policies: entries},
	}
}

func entry(policy string, gen int64, st plexusv1alpha1.PolicyApplyState, reason, msg string) plexusv1alpha1.NodePolicyStatus {
	return plexusv1alpha1.NodePolicyStatus{Name: policy, Generation: gen, State: st, Reason: reason, Message: msg}
}

func testPolicy(sel map[string]string) *plexusv1alpha1.NodeNetworkPolicy {
	return &plexusv1alpha1.NodeNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "sriov", Generation: 2},
		Spec:       plexusv1alpha1.NodeNetworkPolicySpec{NodeSelector: metav1.LabelSelector{MatchLabels: sel}},
	}
}

func condOf(p *plexusv1alpha1.NodeNetworkPolicy, t string) metav1.Condition {
	c := meta.FindStatusCondition(p.Status.Conditions, t)
	if c == nil {
		return metav1.Condition{}
	}
	return *c
}

func TestNodeNetworkPolicyStatus(t *testing.T) {
	worker := map[string]string{"role": "worker"}
	nodes := []corev1.Node{
		testNode("w1", worker), testNode("w2", worker), testNode("w3", worker), testNode("cp", map[string]string{"role": "cp"}),
	}
	applied := plexusv1alpha1.PolicyApplyStateApplied
	failed := plexusv1alpha1.PolicyApplyStateFailed
	tests := []struct {
		name                         string
		sel                          map[string]string
		states                       map[string]*plexusv1alpha1.NodeNetworkState
		err                          error
		matched, configured, failedN int32
		failing                      []plexusv1alpha1.FailingNode
		ready, progressing, degraded metav1.ConditionStatus
		readyReason, degradedReason  string
		observedGeneration           int64
	}{
		{
			name: "all configured", sel: worker,
			states: map[string]*plexusv1alpha1.NodeNetworkState{
				"w1": testState("w1", entry("sriov", 2, applied, "", "")),
				"w2": testState("w2", entry("other", 1, failed, "DeviceBusy", ""), entry("sriov", 2, applied, "", "")),
				"w3": testState("w3", entry("sriov", 2, applied, "", "")),
			},
			matched: 3, configured: 3,
			ready: metav1.ConditionTrue, progressing: metav1.ConditionFalse, degraded: metav1.ConditionFalse,
			readyReason: "Configured", degradedReason: "AsExpected", observedGeneration: 2,
		},
		{
			name: "pending: no state, old generation", sel: worker,
			states: map[string]*plexusv1alpha1.NodeNetworkState{
				"w1": testState("w1", entry("sriov", 2, applied, "", "")),
				"w2": testState("w2", entry("sriov", 1, applied, "", "")),
			},
			matched: 3, configured: 1,
			ready: metav1.ConditionFalse, progressing: metav1.ConditionTrue, degraded: metav1.ConditionFalse,
			readyReason: "NodesPending", degradedReason: "AsExpected", observedGeneration: 2,
		},
		{
			name: "failing nodes with reasons", sel: worker,
			states: map[string]*plexusv1alpha1.NodeNetworkState{
				"w3": testState("w3", entry("sriov", 2, failed, "NumVfsExceedsTotal", "0000:3b:00.0: numVfs 128 > 64")),
				"w1": testState("w1", entry("sriov", 2, failed, "HugepagesShortfall", "requested 512, allocated 100")),
				"w2": testState("w2", entry("sriov", 2, applied, "", "")),
			},
			matched: 3, configured: 1, failedN: 2,
			failing: []plexusv1alpha1.FailingNode{
				{Node: "w1", Reason: "HugepagesShortfall", Message: "requested 512, allocated 100"},
				{Node: "w3", Reason: "NumVfsExceedsTotal", Message: "0000:3b:00.0: numVfs 128 > 64"},
			},
			ready: metav1.ConditionFalse, progressing: metav1.ConditionFalse, degraded: metav1.ConditionTrue,
			readyReason: "NodesFailed", degradedReason: "NodesFailed", observedGeneration: 2,
		},
		{
			name: "conflicts only", sel: worker,
			states: map[string]*plexusv1alpha1.NodeNetworkState{
				"w1": testState("w1", entry("sriov", 2, plexusv1alpha1.PolicyApplyStateConflict, "PolicyConflict", "loses to high")),
			},
			matched: 3, failedN: 1,
			failing: []plexusv1alpha1.FailingNode{{Node: "w1", Reason: "PolicyConflict", Message: "loses to high"}},
			ready:   metav1.ConditionFalse, progressing: metav1.ConditionTrue, degraded: metav1.ConditionTrue,
			readyReason: "PolicyConflict", degradedReason: "PolicyConflict", observedGeneration: 2,
		},
		{
			name: "no matching nodes", sel: map[string]string{"role": "gpu"},
			ready: metav1.ConditionTrue, progressing: metav1.ConditionFalse, degraded: metav1.ConditionFalse,
			readyReason: "NoMatchingNodes", degradedReason: "AsExpected", observedGeneration: 2,
		},
		{
			name: "transient error keeps observedGeneration", sel: worker, err: errors.New("etcd down"),
			matched: 0,
			ready:   metav1.ConditionUnknown, progressing: metav1.ConditionFalse, degraded: metav1.ConditionFalse,
			readyReason: "InternalError", degradedReason: "AsExpected", observedGeneration: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			p := testPolicy(tt.sel)
			p.Status.ObservedGeneration = 1
			var agg nodePolicyAggregate
			if tt.err == nil {
				agg = aggregateNodePolicy(p, nodes, tt.states)
			}
			setNodeNetworkPolicyStatus(p, agg, tt.err)
			g.Expect(p.Status.MatchedNodes).To(Equal(tt.matched))
			g.Expect(p.Status.ConfiguredNodes).To(Equal(tt.configured))
			g.Expect(p.Status.FailedNodes).To(Equal(tt.failedN))
			g.Expect(p.Status.FailingNodes).To(Equal(tt.failing))
			g.Expect(p.Status.ObservedGeneration).To(Equal(tt.observedGeneration))
			g.Expect(condOf(p, "Ready").Status).To(Equal(tt.ready))
			g.Expect(condOf(p, "Ready").Reason).To(Equal(tt.readyReason))
			g.Expect(condOf(p, "Progressing").Status).To(Equal(tt.progressing))
			g.Expect(condOf(p, "Degraded").Status).To(Equal(tt.degraded))
			g.Expect(condOf(p, "Degraded").Reason).To(Equal(tt.degradedReason))
			g.Expect(condOf(p, "Ready").ObservedGeneration).To(Equal(int64(2)))
		})
	}
}

func TestNodeNetworkPolicyStatusBoundsAndSelector(t *testing.T) {
	g := NewWithT(t)
	var nodes []corev1.Node
	states := map[string]*plexusv1alpha1.NodeNetworkState{}
	long := string(make([]byte, 2000))
	for i := range 40 {
		n := fmt.Sprintf("n%02d", i)
		nodes = append(nodes, testNode(n, nil))
		states[n] = testState(n, entry("sriov", 2, plexusv1alpha1.PolicyApplyStateFailed, "DriverBindFailed", long))
	}
	p := testPolicy(nil)
	setNodeNetworkPolicyStatus(p, aggregateNodePolicy(p, nodes, states), nil)
	g.Expect(p.Status.FailedNodes).To(Equal(int32(40)))
	g.Expect(p.Status.FailingNodes).To(HaveLen(maxFailingNodes))
	g.Expect(p.Status.FailingNodes[0].Node).To(Equal("n00"))
	g.Expect(len(p.Status.FailingNodes[0].Message)).To(BeNumerically("<=", maxNodeMessageLen))
	g.Expect(condOf(p, "Degraded").Message).To(HavePrefix("40 of 40 matched nodes failed: n00 (DriverBindFailed), "))
	g.Expect(condOf(p, "Degraded").Message).To(HaveSuffix("and 35 more"))

	bad := testPolicy(nil)
	bad.Spec.NodeSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Nope"}}
	agg := aggregateNodePolicy(bad, nodes, states)
	g.Expect(agg.selectorErr).To(HaveOccurred())
	setNodeNetworkPolicyStatus(bad, agg, reconcile.TerminalError(agg.selectorErr))
	g.Expect(condOf(bad, "Degraded").Reason).To(Equal("InvalidNodeSelector"))
	g.Expect(bad.Status.ObservedGeneration).To(Equal(int64(2)))
}

func TestDesiredDevicePluginConfig(t *testing.T) {
	g := NewWithT(t)
	pf := plexusv1alpha1.PFStatus{Name: "ens1f0", PCIAddress: "0000:3b:00.0", Vendor: "8086", VFDeviceID: "154c", TotalVfs: 64}
	policies := []plexusv1alpha1.NodeNetworkPolicy{{
		ObjectMeta: metav1.ObjectMeta{Name: "p"},
		Spec: plexusv1alpha1.NodeNetworkPolicySpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"sriov": "true"}},
			Sriov: []plexusv1alpha1.SriovConfig{{PFSelector: plexusv1alpha1.PFSelector{PFNames: []string{"ens1f0"}},
				NumVfs: 4, DeviceType: plexusv1alpha1.SriovDeviceTypeVfioPci, ResourceName: "dpdk"}},
		},
	}}
	nodes := []corev1.Node{
		testNode("a", map[string]string{"sriov": "true"}),
		testNode("b", map[string]string{"sriov": "true"}), // no state yet
		testNode("c", nil),
	}
	states := map[string]*plexusv1alpha1.NodeNetworkState{
		"a": {ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: plexusv1alpha1.NodeNetworkStateStatus{PFs: []plexusv1alpha1.PFStatus{pf}}},
		"c": {ObjectMeta: metav1.ObjectMeta{Name: "c"}, Status: plexusv1alpha1.NodeNetworkStateStatus{PFs: []plexusv1alpha1.PFStatus{pf}}},
	}
	data, err := desiredDevicePluginConfig("", policies, nodes, states)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(data).To(HaveLen(2))
	g.Expect(data["a"]).To(MatchJSON(`{"resourceList":[{"resourceName":"dpdk","resourcePrefix":"plexus.dev","deviceType":"netDevice",
		"selectors":[{"vendors":["8086"],"devices":["154c"],"drivers":["vfio-pci"],"pfNames":["ens1f0#0-3"]}]}]}`))
	g.Expect(data["b"]).To(Equal(`{"resourceList":[]}`))
}
