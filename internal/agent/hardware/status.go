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

package hardware

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/hugepages"
	"github.com/plexus-net/plexus/internal/nodepolicy"
	"github.com/plexus-net/plexus/internal/sriov"
	"github.com/plexus-net/plexus/internal/sysfs"
)

// maxMessageLen bounds messages (the CRD allows 1024).
const maxMessageLen = 1024

// writeStatus applies this reconciler's share of the NodeNetworkState status, creating the
// object first if the agent's other writer has not yet.
func (r *Reconciler) writeStatus(ctx context.Context, s *scope) error {
	if s.current == nil {
		if err := r.ensureState(ctx, s); err != nil {
			return err
		}
	}
	status := r.desiredStatus(s)
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&status)
	if err != nil {
		return fmt.Errorf("failed to convert NodeNetworkState status: %w", err)
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": plexusv1alpha1.GroupVersion.String(), "kind": "NodeNetworkState",
		"metadata": map[string]any{"name": r.NodeName}, "status": u,
	}}
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldOwner),
		client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply NodeNetworkState %s status: %w", r.NodeName, err)
	}
	// Keep transition times and applied fields for a second write in the same reconcile.
	if s.current == nil {
		s.current = &plexusv1alpha1.NodeNetworkState{}
	}
	s.current.Status.Conditions = status.Conditions
	s.current.Status.AppliedSpecHash = status.AppliedSpecHash
	s.current.Status.AppliedPolicyGeneration = status.AppliedPolicyGeneration
	return nil
}

// ensureState creates the NodeNetworkState, owned by the Node (same owner reference as the
// agent's other writer, so ownership is shared, not conflicting).
func (r *Reconciler) ensureState(ctx context.Context, s *scope) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": plexusv1alpha1.GroupVersion.String(), "kind": "NodeNetworkState",
		"metadata": map[string]any{"name": r.NodeName, "ownerReferences": []any{map[string]any{
			"apiVersion": "v1", "kind": "Node", "name": s.node.Name, "uid": string(s.node.UID),
		}}},
	}}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply NodeNetworkState %s: %w", r.NodeName, err)
	}
	return nil
}

// desiredStatus computes this reconciler's share of the status from the scope.
func (r *Reconciler) desiredStatus(s *scope) plexusv1alpha1.NodeNetworkStateStatus {
	var st plexusv1alpha1.NodeNetworkStateStatus
	pfs := s.pfs
	if s.applied && s.sriovRes.PFs != nil {
		pfs = s.sriovRes.PFs
	}
	st.PFs = pfStatuses(pfs)
	if len(st.PFs) == 0 {
		st.PFs = nil
	}
	st.Hugepages = hugepagesStatus(r.SysRoot, s)
	st.Policies = policyStatuses(s)
	if len(s.disruption.PFs) > 0 && s.disruptionState != plexusv1alpha1.DisruptionStateNone {
		st.DisruptionPlan = s.disruption.Status(s.disruptionState)
	}
	if s.current != nil {
		st.AppliedSpecHash = s.current.Status.AppliedSpecHash
		st.AppliedPolicyGeneration = s.current.Status.AppliedPolicyGeneration
	}
	if s.applied && !s.failed() {
		st.AppliedSpecHash = specHash(s.res)
		st.AppliedPolicyGeneration = 0
		if len(s.res.Policies) > 0 {
			st.AppliedPolicyGeneration = s.res.Policies[0].Generation
		}
	}
	var prev []metav1.Condition
	if s.current != nil {
		prev = s.current.Status.Conditions
	}
	st.Conditions = conditions(s, prev, st.Hugepages)
	return st
}

// hugepagesSchedulable compares, for every page size the policies ask for, the node-wide pool
// with the capacity kubelet reports on the Node (kubelet reads it only when it starts). relevant
// is false when no policy asks for hugepages.
func hugepagesSchedulable(node *corev1.Node, targets []hugepages.Target, pools []plexusv1alpha1.HugepagesStatus) (ok bool, msg string, relevant bool) {
	sizes := map[plexusv1alpha1.HugepageSize]bool{}
	for _, t := range targets {
		sizes[t.PageSize] = true
	}
	if len(sizes) == 0 || node == nil {
		return true, "", false
	}
	var stale, fine []string
	for _, p := range pools {
		if p.NUMANode != nil || !sizes[p.PageSize] {
			continue
		}
		pageBytes := resource.MustParse(string(p.PageSize))
		want := pageBytes.Value() * int64(p.Allocated)
		name := corev1.ResourceName(corev1.ResourceHugePagesPrefix + string(p.PageSize))
		have := node.Status.Capacity[name] // absent: zero
		line := fmt.Sprintf("%s: %d pages allocated (%s), kubelet offers %s", name, p.Allocated,
			resource.NewQuantity(want, resource.BinarySI), have.String())
		if have.Value() != want {
			stale = append(stale, line)
		} else {
			fine = append(fine, line)
		}
	}
	if len(stale) > 0 {
		return false, strings.Join(stale, "; ") + ". kubelet reads hugepage capacity only when it starts: restart it (or the node) so pods can request these pages", true
	}
	return true, strings.Join(fine, "; "), true
}

// specHash hashes the merged desired state (SR-IOV and hugepages).
func specHash(res nodepolicy.Resolution) string {
	hp := append([]hugepages.Target(nil), res.Hugepages...)
	slices.SortFunc(hp, func(a, b hugepages.Target) int {
		return strings.Compare(poolKey(a.PageSize, a.NUMANode), poolKey(b.PageSize, b.NUMANode))
	})
	b, _ := json.Marshal(struct { // cannot fail: plain values
		SRIOV     string
		Hugepages []hugepages.Target
	}{res.SRIOV.Hash(), hp})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// hugepagesStatus reports every pool of the host, with requested set for the targets.
func hugepagesStatus(root sysfs.Root, s *scope) []plexusv1alpha1.HugepagesStatus {
	requested := map[string]int{}
	for _, t := range s.res.Hugepages {
		requested[poolKey(t.PageSize, t.NUMANode)] = t.Count
	}
	pools, err := hugepages.Read(root)
	if err != nil {
		for _, p := range s.hp.pools {
			if p.pool.PageSize != "" {
				pools = append(pools, p.pool)
			}
		}
	}
	var out []plexusv1alpha1.HugepagesStatus
	for _, p := range pools {
		p.Requested = requested[poolKey(p.PageSize, p.NUMANode)]
		out = append(out, p.Status())
	}
	return out
}

// policyStatuses reports each policy selecting the node.
func policyStatuses(s *scope) []plexusv1alpha1.NodePolicyStatus {
	byName := map[string]*plexusv1alpha1.NodeNetworkPolicy{}
	for i := range s.policies {
		byName[s.policies[i].Name] = &s.policies[i]
	}
	vfToPF := map[string]string{}
	for _, pf := range s.pfs {
		vfToPF[pf.PCIAddress] = pf.PCIAddress
		for _, vf := range pf.VFs {
			vfToPF[vf.PCIAddress] = pf.PCIAddress
		}
	}
	disrupted := map[string]bool{}
	for _, pf := range s.disruption.PFs {
		disrupted[pf.PCIAddress] = true
	}
	sriovErrs := sriovErrorsByPF(errors.Join(s.planErr, s.sriovErr), vfToPF)

	var out []plexusv1alpha1.NodePolicyStatus
	for _, ref := range s.res.Policies {
		ps := plexusv1alpha1.NodePolicyStatus{Name: ref.Name, Generation: ref.Generation, State: plexusv1alpha1.PolicyApplyStateApplied}
		fail := func(state plexusv1alpha1.PolicyApplyState, reason, msg string) {
			if ps.State == plexusv1alpha1.PolicyApplyStateApplied || ps.State == plexusv1alpha1.PolicyApplyStatePending {
				ps.State, ps.Reason, ps.Message = state, reason, shorten(msg)
			}
		}
		for _, iss := range s.res.IssuesFor(ref.Name) {
			state := plexusv1alpha1.PolicyApplyStateFailed
			if iss.Reason == nodepolicy.ReasonConflict {
				state = plexusv1alpha1.PolicyApplyStateConflict
			}
			fail(state, iss.Reason, iss.Message)
		}
		pfsOfPolicy := policyPFs(s.res.SRIOV, ref.Name)
		ok := ps.State == plexusv1alpha1.PolicyApplyStateApplied
		switch {
		case s.drainErr != nil && anyIn(pfsOfPolicy, disrupted):
			fail(plexusv1alpha1.PolicyApplyStateFailed, s.drainErr.Reason, s.drainErr.Error())
		case ok && s.waiting && anyIn(pfsOfPolicy, disrupted):
			ps.State, ps.Message = plexusv1alpha1.PolicyApplyStatePending, "Waiting for the disruption budget and the evictions of status.disruptionPlan"
		case ok && !s.applied && s.drainErr == nil:
			ps.State = plexusv1alpha1.PolicyApplyStatePending
		}
		for _, pf := range pfsOfPolicy {
			if e, ok := sriovErrs[pf]; ok {
				reason := sriov.ReasonOf(e)
				if reason == "" {
					reason = plexusv1alpha1.InternalErrorReason
				}
				fail(plexusv1alpha1.PolicyApplyStateFailed, reason, e.Error())
			}
		}
		if p := byName[ref.Name]; p != nil {
			for _, pr := range s.hp.pools {
				if pr.err != nil && declaresPool(p, pr.target) {
					reason := hugepages.ReasonOf(pr.err)
					if reason == "" {
						reason = plexusv1alpha1.InternalErrorReason
					}
					fail(plexusv1alpha1.PolicyApplyStateFailed, reason, pr.err.Error())
				}
			}
		}
		out = append(out, ps)
	}
	return out
}

// sriovErrorsByPF indexes the *sriov.Error values of err by PF address; other errors go under "".
func sriovErrorsByPF(err error, vfToPF map[string]string) map[string]error {
	out := map[string]error{}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		var se *sriov.Error
		if x, ok := e.(*sriov.Error); ok { //nolint:errorlint // walking the join tree by hand
			se = x
		}
		if se != nil {
			pf := vfToPF[se.Device]
			if pf == "" {
				pf = se.Device
			}
			out[pf] = errors.Join(out[pf], se)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, c := range j.Unwrap() {
				walk(c)
			}
			return
		}
		if errors.As(e, &se) {
			walk(se)
			return
		}
		out[""] = errors.Join(out[""], e)
	}
	walk(err)
	return out
}

// policyPFs returns the PFs on which policy has a VF group, plus "" (errors not tied to a PF
// concern every policy with SR-IOV entries).
func policyPFs(d sriov.Desired, policy string) []string {
	var out []string
	for _, pf := range d.PFs {
		for _, g := range pf.Groups {
			if g.Policy == policy {
				out = append(out, pf.PCIAddress)
				break
			}
		}
	}
	if len(out) > 0 {
		out = append(out, "")
	}
	return out
}

func anyIn(keys []string, set map[string]bool) bool {
	for _, k := range keys {
		if set[k] {
			return true
		}
	}
	return false
}

// declaresPool reports whether p asks for the pool of t.
func declaresPool(p *plexusv1alpha1.NodeNetworkPolicy, t hugepages.Target) bool {
	for _, hp := range p.Spec.Hugepages {
		var n *int
		if hp.NUMANode != nil {
			v := int(*hp.NUMANode)
			n = &v
		}
		if poolKey(hp.PageSize, n) == poolKey(t.PageSize, t.NUMANode) {
			return true
		}
	}
	return false
}

// conditions computes Progressing, Degraded, DisruptionRequired and (while policies ask for
// hugepages) HugepagesSchedulable, keeping transition times.
func conditions(s *scope, prev []metav1.Condition, pools []plexusv1alpha1.HugepagesStatus) []metav1.Condition {
	hpOK, hpMsg, hpRelevant := hugepagesSchedulable(s.node, s.res.Hugepages, pools)
	out := make([]metav1.Condition, 0, 4)
	for _, c := range prev {
		switch c.Type {
		case plexusv1alpha1.ProgressingCondition, plexusv1alpha1.DegradedCondition,
			plexusv1alpha1.NodeNetworkStateDisruptionRequiredCondition:
			out = append(out, c)
		case plexusv1alpha1.NodeNetworkStateHugepagesSchedulableCondition:
			if hpRelevant {
				out = append(out, c)
			}
		}
	}
	set := func(typ string, ok bool, reason, msg string) {
		st := metav1.ConditionFalse
		if ok {
			st = metav1.ConditionTrue
		}
		meta.SetStatusCondition(&out, metav1.Condition{Type: typ, Status: st, Reason: reason, Message: shorten(msg)})
	}

	reason, msg := failure(s)
	switch {
	case s.waiting:
		set(plexusv1alpha1.ProgressingCondition, true, plexusv1alpha1.NodeNetworkStateApplyingReason,
			"A disruptive change waits for the disruption budget and the evictions of status.disruptionPlan")
	case reason != "":
		set(plexusv1alpha1.ProgressingCondition, false, reason, "The last apply failed; it is retried")
	default:
		set(plexusv1alpha1.ProgressingCondition, false, plexusv1alpha1.NodeNetworkStateAppliedReason,
			"The desired hardware state is applied and read back")
	}
	if reason != "" {
		set(plexusv1alpha1.DegradedCondition, true, reason, msg)
	} else {
		set(plexusv1alpha1.DegradedCondition, false, plexusv1alpha1.AsExpectedReason, "Nothing is failing")
	}
	switch {
	case s.drainErr != nil:
		set(plexusv1alpha1.NodeNetworkStateDisruptionRequiredCondition, true, s.drainErr.Reason, s.drainErr.Error())
	case s.waiting:
		set(plexusv1alpha1.NodeNetworkStateDisruptionRequiredCondition, true, plexusv1alpha1.NodeNetworkStateDisruptionPendingReason,
			"Pods to evict: "+strings.Join(podsOf(s.disruption), ", "))
	default:
		set(plexusv1alpha1.NodeNetworkStateDisruptionRequiredCondition, false, plexusv1alpha1.NodeNetworkStateNoDisruptionReason,
			"No pod holds a VF that must be reset")
	}
	switch {
	case !hpRelevant:
	case hpOK:
		set(plexusv1alpha1.NodeNetworkStateHugepagesSchedulableCondition, true, plexusv1alpha1.AsExpectedReason, hpMsg)
	default:
		set(plexusv1alpha1.NodeNetworkStateHugepagesSchedulableCondition, false, plexusv1alpha1.NodeNetworkStateKubeletRestartRequiredReason, hpMsg)
	}
	return out
}

// failure returns the first failure reason of the scope and a message naming all failures.
func failure(s *scope) (string, string) {
	var reasons, msgs []string
	add := func(reason, msg string) {
		if reason == "" {
			reason = plexusv1alpha1.InternalErrorReason
		}
		reasons = append(reasons, reason)
		msgs = append(msgs, msg)
	}
	if s.drainErr != nil {
		add(s.drainErr.Reason, s.drainErr.Error())
	}
	for _, iss := range s.res.Issues {
		add(iss.Reason, iss.Policy+": "+iss.Message)
	}
	if err := errors.Join(s.planErr, s.sriovErr); err != nil {
		add(sriov.ReasonOf(err), err.Error())
	}
	for _, p := range s.hp.pools {
		if p.err != nil {
			add(hugepages.ReasonOf(p.err), p.err.Error())
		}
	}
	if s.hp.releaseErr != nil {
		add("", s.hp.releaseErr.Error())
	}
	if s.dpErr != nil {
		add("", "device plugin restart: "+s.dpErr.Error())
	}
	if s.reconcileErr != nil {
		add("", s.reconcileErr.Error())
	}
	if len(reasons) == 0 {
		return "", ""
	}
	return reasons[0], strings.Join(msgs, "; ")
}

func shorten(msg string) string {
	if len(msg) <= maxMessageLen {
		return msg
	}
	return msg[:maxMessageLen-3] + "..."
}
