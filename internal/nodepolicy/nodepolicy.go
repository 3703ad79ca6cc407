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

package nodepolicy

import (
	"fmt"
	"slices"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/hugepages"
	"github.com/plexus-net/plexus/internal/sriov"
)

// Issue reasons.
const (
	// ReasonConflict is a conflict with a higher-priority policy (or an earlier entry of the same
	// policy).
	ReasonConflict = plexusv1alpha1.NodeNetworkStatePolicyConflictReason
	// ReasonPFNotFound is an sriov entry whose pfSelector matches no PF of the node.
	ReasonPFNotFound = plexusv1alpha1.NodeNetworkStatePFNotFoundReason
	// ReasonInvalidSelector is a nodeSelector that cannot be parsed.
	ReasonInvalidSelector = plexusv1alpha1.NodeNetworkPolicyInvalidNodeSelectorReason
)

// PolicyRef identifies a policy that applies to the node.
type PolicyRef struct {
	// Name, Generation and Priority of the policy.
	Name       string
	Generation int64
	Priority   int32
}

// Issue is a problem with one policy on this node.
type Issue struct {
	// Policy is the policy the issue is reported against (the loser of a conflict).
	Policy string
	// Other is the winning policy of a conflict (may equal Policy).
	Other string
	// Subject is what the issue is about: a PF PCI address, a hugepage pool, a selector.
	Subject string
	// Reason is one of the Reason* constants.
	Reason string
	// Message is human readable.
	Message string
}

// Resolution is the merged desired state of one node.
type Resolution struct {
	// Policies are the policies selecting the node, by priority then name.
	Policies []PolicyRef
	// SRIOV is the desired SR-IOV state.
	SRIOV sriov.Desired
	// Hugepages are the desired hugepage pools.
	Hugepages []hugepages.Target
	// Issues are conflicts and unmatched selectors, in resolution order.
	Issues []Issue
	// Disruption is the disruption budget of the highest-priority policy that sets one.
	Disruption *plexusv1alpha1.DisruptionBudget
}

// IssuesFor returns the issues reported against policy.
func (r Resolution) IssuesFor(policy string) []Issue {
	var out []Issue
	for _, i := range r.Issues {
		if i.Policy == policy {
			out = append(out, i)
		}
	}
	return out
}

// Selects reports whether p's nodeSelector matches the node labels.
func Selects(p *plexusv1alpha1.NodeNetworkPolicy, nodeLabels map[string]string) (bool, error) {
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.NodeSelector)
	if err != nil {
		return false, fmt.Errorf("policy %s: nodeSelector: %w", p.Name, err)
	}
	return sel.Matches(labels.Set(nodeLabels)), nil
}

// Priority returns p's priority, DefaultNodeNetworkPolicyPriority when unset.
func Priority(p *plexusv1alpha1.NodeNetworkPolicy) int32 {
	if p.Spec.Priority == nil {
		return plexusv1alpha1.DefaultNodeNetworkPolicyPriority
	}
	return *p.Spec.Priority
}

// Sort orders policies by priority (lower first), then name.
func Sort(policies []plexusv1alpha1.NodeNetworkPolicy) {
	sort.SliceStable(policies, func(i, j int) bool {
		pi, pj := Priority(&policies[i]), Priority(&policies[j])
		if pi != pj {
			return pi < pj
		}
		return policies[i].Name < policies[j].Name
	})
}

// PFMatches reports whether pf satisfies every set field of sel.
func PFMatches(sel plexusv1alpha1.PFSelector, pf plexusv1alpha1.PFStatus) bool {
	if len(sel.PFNames) == 0 && sel.Vendor == "" && sel.DeviceID == "" && len(sel.PCIAddresses) == 0 {
		return false
	}
	if len(sel.PFNames) > 0 && (pf.Name == "" || !slices.Contains(sel.PFNames, pf.Name)) {
		return false
	}
	if sel.Vendor != "" && sel.Vendor != pf.Vendor {
		return false
	}
	if sel.DeviceID != "" && sel.DeviceID != pf.DeviceID {
		return false
	}
	if len(sel.PCIAddresses) > 0 && !slices.Contains(sel.PCIAddresses, pf.PCIAddress) {
		return false
	}
	return true
}

type pfClaim struct {
	cfg    sriov.PFConfig
	owner  string // policy that set numVfs
	mtuSet string // policy that set the MTU
}

type poolClaim struct {
	target hugepages.Target
	owner  string
}

// Resolve merges the policies that select a node with nodeLabels, given the node's discovered
// PFs. The input slice is not modified.
func Resolve(nodeLabels map[string]string, policies []plexusv1alpha1.NodeNetworkPolicy, pfs []plexusv1alpha1.PFStatus) Resolution {
	ordered := append([]plexusv1alpha1.NodeNetworkPolicy(nil), policies...)
	Sort(ordered)
	var res Resolution
	claims := map[string]*pfClaim{}
	var claimOrder []string
	pools := map[string]*poolClaim{}
	var poolOrder []string
	sizes := map[plexusv1alpha1.HugepageSize]string{} // page size -> "global"/"numa" mode owner key

	for i := range ordered {
		p := &ordered[i]
		ok, err := Selects(p, nodeLabels)
		if err != nil {
			res.Issues = append(res.Issues, Issue{Policy: p.Name, Subject: "nodeSelector",
				Reason: ReasonInvalidSelector, Message: err.Error()})
			continue
		}
		if !ok {
			continue
		}
		res.Policies = append(res.Policies, PolicyRef{Name: p.Name, Generation: p.Generation, Priority: Priority(p)})
		if res.Disruption == nil && p.Spec.Disruption != nil {
			res.Disruption = p.Spec.Disruption.DeepCopy()
		}
		for e, entry := range p.Spec.Sriov {
			matched := false
			for _, pf := range pfs {
				if !PFMatches(entry.PFSelector, pf) {
					continue
				}
				matched = true
				if iss := claimPF(claims, &claimOrder, p.Name, entry, pf); iss != nil {
					res.Issues = append(res.Issues, *iss)
				}
			}
			if !matched {
				res.Issues = append(res.Issues, Issue{Policy: p.Name, Subject: fmt.Sprintf("sriov[%d]", e),
					Reason: ReasonPFNotFound, Message: fmt.Sprintf("sriov[%d].pfSelector matches no PF on the node", e)})
			}
		}
		for _, hp := range p.Spec.Hugepages {
			if iss := claimPool(pools, &poolOrder, sizes, p.Name, hp); iss != nil {
				res.Issues = append(res.Issues, *iss)
			}
		}
	}
	for _, a := range claimOrder {
		res.SRIOV.PFs = append(res.SRIOV.PFs, claims[a].cfg)
	}
	sort.Slice(res.SRIOV.PFs, func(i, j int) bool { return res.SRIOV.PFs[i].PCIAddress < res.SRIOV.PFs[j].PCIAddress })
	for _, k := range poolOrder {
		res.Hugepages = append(res.Hugepages, pools[k].target)
	}
	return res
}

func vfRange(entry plexusv1alpha1.SriovConfig) (int, int) {
	if entry.VFRange != nil {
		return int(entry.VFRange.First), int(entry.VFRange.Last)
	}
	return 0, int(entry.NumVfs) - 1
}

func claimPF(claims map[string]*pfClaim, order *[]string, policy string, entry plexusv1alpha1.SriovConfig, pf plexusv1alpha1.PFStatus) *Issue {
	first, last := vfRange(entry)
	dt := string(entry.DeviceType)
	if dt == "" {
		dt = sriov.DeviceTypeNetdevice
	}
	mtu := 0
	if entry.MTU != nil {
		mtu = int(*entry.MTU)
	}
	group := sriov.VFGroup{First: first, Last: last, DeviceType: dt, MTU: mtu, ResourceName: entry.ResourceName, Policy: policy}
	c, ok := claims[pf.PCIAddress]
	if !ok {
		cfg := sriov.PFConfig{PCIAddress: pf.PCIAddress, Name: pf.Name, NumVfs: int(entry.NumVfs), MTU: mtu}
		if entry.NumVfs > 0 {
			cfg.Groups = []sriov.VFGroup{group}
		}
		claims[pf.PCIAddress] = &pfClaim{cfg: cfg, owner: policy}
		if mtu != 0 {
			claims[pf.PCIAddress].mtuSet = policy
		}
		*order = append(*order, pf.PCIAddress)
		return nil
	}
	conflict := func(other, msg string, args ...any) *Issue {
		return &Issue{Policy: policy, Other: other, Subject: pf.PCIAddress, Reason: ReasonConflict,
			Message: fmt.Sprintf("PF %s (%s): ", pf.PCIAddress, pf.Name) + fmt.Sprintf(msg, args...)}
	}
	if int(entry.NumVfs) != c.cfg.NumVfs {
		return conflict(c.owner, "numVfs %d conflicts with numVfs %d of policy %s", entry.NumVfs, c.cfg.NumVfs, c.owner)
	}
	if mtu != 0 && c.cfg.MTU != 0 && mtu != c.cfg.MTU {
		return conflict(c.mtuSet, "mtu %d conflicts with mtu %d of policy %s", mtu, c.cfg.MTU, c.mtuSet)
	}
	for _, g := range c.cfg.Groups {
		if first <= g.Last && g.First <= last {
			msg := "VF range %d-%d overlaps VF range %d-%d of policy %s"
			if g.DeviceType != dt {
				msg += fmt.Sprintf(" (deviceType %s vs %s)", dt, g.DeviceType)
			}
			return conflict(g.Policy, msg, first, last, g.First, g.Last, g.Policy)
		}
	}
	if c.cfg.MTU == 0 && mtu != 0 {
		c.cfg.MTU, c.mtuSet = mtu, policy
	}
	c.cfg.Groups = append(c.cfg.Groups, group)
	sort.Slice(c.cfg.Groups, func(i, j int) bool { return c.cfg.Groups[i].First < c.cfg.Groups[j].First })
	return nil
}

func claimPool(pools map[string]*poolClaim, order *[]string, modes map[plexusv1alpha1.HugepageSize]string, policy string, hp plexusv1alpha1.HugepagesConfig) *Issue {
	t := hugepages.Target{PageSize: hp.PageSize, Count: int(hp.Count)}
	key, mode := string(hp.PageSize), "node-wide"
	if hp.NUMANode != nil {
		n := int(*hp.NUMANode)
		t.NUMANode = &n
		key, mode = fmt.Sprintf("%s/numa%d", hp.PageSize, n), "per-NUMA"
	}
	if m, ok := modes[hp.PageSize]; ok && m != mode {
		// Writing the node-wide pool redistributes the per-NUMA pools: never mix them.
		var owner string
		for _, k := range *order {
			if pools[k].target.PageSize == hp.PageSize {
				owner = pools[k].owner
				break
			}
		}
		return &Issue{Policy: policy, Other: owner, Subject: key, Reason: ReasonConflict,
			Message: fmt.Sprintf("hugepages %s: %s pool conflicts with the %s pools of policy %s", hp.PageSize, mode, m, owner)}
	}
	modes[hp.PageSize] = mode
	if c, ok := pools[key]; ok {
		if c.target.Count != t.Count {
			return &Issue{Policy: policy, Other: c.owner, Subject: key, Reason: ReasonConflict,
				Message: fmt.Sprintf("hugepages %s: count %d conflicts with count %d of policy %s", key, t.Count, c.target.Count, c.owner)}
		}
		return nil
	}
	pools[key] = &poolClaim{target: t, owner: policy}
	*order = append(*order, key)
	return nil
}
