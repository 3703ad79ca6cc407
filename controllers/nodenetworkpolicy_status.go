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
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/nodepolicy"
)

// maxFailingNodes bounds status.failingNodes (the CRD allows 16).
const maxFailingNodes = 16

// maxNodeMessageLen bounds a failing node's message (the CRD allows 1024).
const maxNodeMessageLen = 1024

// nodePolicyAggregate is what the matched nodes report about one policy.
type nodePolicyAggregate struct {
	// matched, configured, failed and pending count matched nodes by state.
	matched, configured, failed, pending int32
	// failing are the failing nodes sorted by name (not yet bounded).
	failing []plexusv1alpha1.FailingNode
	// conflicts counts failing nodes whose reason is a policy conflict.
	conflicts int32
	// selectorErr is set when the nodeSelector cannot be parsed.
	selectorErr error
}

// aggregateNodePolicy counts the nodes p selects by the enactment state their NodeNetworkState
// reports for the current generation of p. A node without a state, without an entry for p or with
// an entry for an older generation is pending.
func aggregateNodePolicy(p *plexusv1alpha1.NodeNetworkPolicy, nodes []corev1.Node, states map[string]*plexusv1alpha1.NodeNetworkState) nodePolicyAggregate {
	var agg nodePolicyAggregate
	for i := range nodes {
		node := &nodes[i]
		ok, err := nodepolicy.Selects(p, node.Labels)
		if err != nil {
			agg.selectorErr = err
			return nodePolicyAggregate{selectorErr: err}
		}
		if !ok {
			continue
		}
		agg.matched++
		entry := policyEntry(states[node.Name], p.Name)
		if entry == nil || entry.Generation != p.Generation {
			agg.pending++
			continue
		}
		switch entry.State {
		case plexusv1alpha1.PolicyApplyStateApplied:
			agg.configured++
		case plexusv1alpha1.PolicyApplyStateFailed, plexusv1alpha1.PolicyApplyStateConflict:
			agg.failed++
			reason := entry.Reason
			if reason == "" {
				reason = string(entry.State)
			}
			if entry.State == plexusv1alpha1.PolicyApplyStateConflict || reason == plexusv1alpha1.NodeNetworkStatePolicyConflictReason {
				agg.conflicts++
			}
			agg.failing = append(agg.failing, plexusv1alpha1.FailingNode{
				Node: node.Name, Reason: reason, Message: shortenMessage(entry.Message, maxNodeMessageLen),
			})
		default:
			agg.pending++
		}
	}
	sort.Slice(agg.failing, func(i, j int) bool { return agg.failing[i].Node < agg.failing[j].Node })
	return agg
}

func policyEntry(s *plexusv1alpha1.NodeNetworkState, name string) *plexusv1alpha1.NodePolicyStatus {
	if s == nil {
		return nil
	}
	for i := range s.Status.Policies {
		if s.Status.Policies[i].Name == name {
			return &s.Status.Policies[i]
		}
	}
	return nil
}

// setNodeNetworkPolicyStatus writes counts, failing nodes and the Ready, Progressing and
// Degraded conditions. observedGeneration moves forward only when the reconcile succeeded or
// failed for a reason retrying won't fix.
func setNodeNetworkPolicyStatus(p *plexusv1alpha1.NodeNetworkPolicy, agg nodePolicyAggregate, reconcileErr error) {
	gen := p.Generation
	p.Status.MatchedNodes = agg.matched
	p.Status.ConfiguredNodes = agg.configured
	p.Status.FailedNodes = agg.failed
	p.Status.FailingNodes = agg.failing
	if len(p.Status.FailingNodes) > maxFailingNodes {
		p.Status.FailingNodes = p.Status.FailingNodes[:maxFailingNodes]
	}
	if reconcileErr == nil || errors.Is(reconcileErr, reconcile.TerminalError(nil)) {
		p.Status.ObservedGeneration = gen
	}

	cond := func(t string, st metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: t, Status: st, Reason: reason, Message: msg, ObservedGeneration: gen}
	}
	progress := fmt.Sprintf("%d of %d matched nodes configured", agg.configured, agg.matched)
	ready := cond(plexusv1alpha1.ReadyCondition, metav1.ConditionTrue, plexusv1alpha1.NodeNetworkPolicyConfiguredReason,
		fmt.Sprintf("All %d matched nodes are configured", agg.matched))
	progressing := cond(plexusv1alpha1.ProgressingCondition, metav1.ConditionFalse, plexusv1alpha1.AsExpectedReason, "Nothing is in progress")
	degraded := cond(plexusv1alpha1.DegradedCondition, metav1.ConditionFalse, plexusv1alpha1.AsExpectedReason, "Nothing is failing")

	switch {
	case agg.selectorErr != nil:
		msg := shortenMessage(agg.selectorErr.Error(), maxNodeMessageLen)
		ready = cond(plexusv1alpha1.ReadyCondition, metav1.ConditionFalse, plexusv1alpha1.NodeNetworkPolicyInvalidNodeSelectorReason, msg)
		degraded = cond(plexusv1alpha1.DegradedCondition, metav1.ConditionTrue, plexusv1alpha1.NodeNetworkPolicyInvalidNodeSelectorReason, msg)
	case reconcileErr != nil && !errors.Is(reconcileErr, reconcile.TerminalError(nil)):
		msg := shortenMessage(reconcileErr.Error(), maxNodeMessageLen)
		ready = cond(plexusv1alpha1.ReadyCondition, metav1.ConditionUnknown, plexusv1alpha1.InternalErrorReason, msg)
	case agg.matched == 0:
		ready = cond(plexusv1alpha1.ReadyCondition, metav1.ConditionTrue, plexusv1alpha1.NodeNetworkPolicyNoMatchingNodesReason,
			"The nodeSelector matches no node")
	default:
		if agg.failed > 0 {
			reason := plexusv1alpha1.NodeNetworkPolicyNodesFailedReason
			if agg.conflicts == agg.failed {
				reason = plexusv1alpha1.NodeNetworkPolicyConflictReason
			}
			msg := fmt.Sprintf("%d of %d matched nodes failed: %s", agg.failed, agg.matched, listFailingNodes(agg.failing))
			ready = cond(plexusv1alpha1.ReadyCondition, metav1.ConditionFalse, reason, progress+"; "+msg)
			degraded = cond(plexusv1alpha1.DegradedCondition, metav1.ConditionTrue, reason, msg)
		}
		if agg.pending > 0 {
			msg := fmt.Sprintf("%d of %d matched nodes have not applied generation %d yet", agg.pending, agg.matched, gen)
			if agg.failed == 0 {
				ready = cond(plexusv1alpha1.ReadyCondition, metav1.ConditionFalse, plexusv1alpha1.NodeNetworkPolicyNodesPendingReason, progress)
			}
			progressing = cond(plexusv1alpha1.ProgressingCondition, metav1.ConditionTrue, plexusv1alpha1.NodeNetworkPolicyNodesPendingReason, msg)
		}
	}
	meta.SetStatusCondition(&p.Status.Conditions, ready)
	meta.SetStatusCondition(&p.Status.Conditions, progressing)
	meta.SetStatusCondition(&p.Status.Conditions, degraded)
}

// listFailingNodes names up to 5 failing nodes with their reasons.
func listFailingNodes(nodes []plexusv1alpha1.FailingNode) string {
	const maxListed = 5
	parts := make([]string, 0, maxListed+1)
	for i, n := range nodes {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(nodes)-maxListed))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", n.Node, n.Reason))
	}
	return strings.Join(parts, ", ")
}

// shortenMessage bounds s to n bytes without splitting a UTF-8 sequence.
func shortenMessage(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
