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

package nodepolicy_test

import (
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/hugepages"
	"github.com/plexus-net/plexus/internal/nodepolicy"
	"github.com/plexus-net/plexus/internal/sriov"
)

var pfs = []plexusv1alpha1.PFStatus{
	{Name: "ens1f0", PCIAddress: "0000:3b:00.0", Vendor: "8086", DeviceID: "158b", TotalVfs: 64},
	{Name: "ens1f1", PCIAddress: "0000:3b:00.1", Vendor: "8086", DeviceID: "158b", TotalVfs: 64},
	{Name: "ens2f0", PCIAddress: "0000:5e:00.0", Vendor: "15b3", DeviceID: "1017", TotalVfs: 16},
}

var workerLabels = map[string]string{"node-role.kubernetes.io/worker": "", "sriov": "true"}

type sriovOpt func(*plexusv1alpha1.SriovConfig)

func rng(first, last int32) sriovOpt {
	return func(s *plexusv1alpha1.SriovConfig) { s.VFRange = &plexusv1alpha1.VFRange{First: first, Last: last} }
}
func vfioType(s *plexusv1alpha1.SriovConfig) { s.DeviceType = plexusv1alpha1.SriovDeviceTypeVfioPci }
func mtu(m int32) sriovOpt                   { return func(s *plexusv1alpha1.SriovConfig) { s.MTU = &m } }

func sr(pfName string, numVfs int32, res string, opts ...sriovOpt) plexusv1alpha1.SriovConfig {
	s := plexusv1alpha1.SriovConfig{PFSelector: plexusv1alpha1.PFSelector{PFNames: []string{pfName}}, NumVfs: numVfs, ResourceName: res}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func policy(name string, prio int32, sel map[string]string, s ...plexusv1alpha1.SriovConfig) plexusv1alpha1.NodeNetworkPolicy {
	return plexusv1alpha1.NodeNetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 3},
		Spec: plexusv1alpha1.NodeNetworkPolicySpec{
			NodeSelector: metav1.LabelSelector{MatchLabels: sel},
			Priority:     &prio,
			Sriov:        s,
		},
	}
}

func TestResolveSelectionAndOrder(t *testing.T) {
	g := NewWithT(t)
	res := nodepolicy.Resolve(workerLabels, []plexusv1alpha1.NodeNetworkPolicy{
		policy("b", 10, map[string]string{"sriov": "true"}, sr("ens1f0", 8, "netb")),
		policy("a", 10, nil, sr("ens1f1", 4, "neta")),
		policy("z", 1, map[string]string{"sriov": "true"}, sr("ens2f0", 2, "mlx", vfioType)),
		policy("other", 0, map[string]string{"gpu": "true"}, sr("ens1f0", 2, "x")),
	}, pfs)
	g.Expect(res.Policies).To(Equal([]nodepolicy.PolicyRef{
		{Name: "z", Generation: 3, Priority: 1}, {Name: "a", Generation: 3, Priority: 10}, {Name: "b", Generation: 3, Priority: 10},
	}))
	g.Expect(res.Issues).To(BeEmpty())
	g.Expect(res.SRIOV.PFs).To(Equal([]sriov.PFConfig{
		{PCIAddress: "0000:3b:00.0", Name: "ens1f0", NumVfs: 8, Groups: []sriov.VFGroup{{First: 0, Last: 7, DeviceType: "netdevice", ResourceName: "netb", Policy: "b"}}},
		{PCIAddress: "0000:3b:00.1", Name: "ens1f1", NumVfs: 4, Groups: []sriov.VFGroup{{First: 0, Last: 3, DeviceType: "netdevice", ResourceName: "neta", Policy: "a"}}},
		{PCIAddress: "0000:5e:00.0", Name: "ens2f0", NumVfs: 2, Groups: []sriov.VFGroup{{First: 0, Last: 1, DeviceType: "vfio-pci", ResourceName: "mlx", Policy: "z"}}},
	}))
}

func TestResolvePFSelectors(t *testing.T) {
	g := NewWithT(t)
	byVendor := plexusv1alpha1.SriovConfig{PFSelector: plexusv1alpha1.PFSelector{Vendor: "8086"}, NumVfs: 2, ResourceName: "intel"}
	byAddr := plexusv1alpha1.SriovConfig{PFSelector: plexusv1alpha1.PFSelector{PCIAddresses: []string{"0000:5e:00.0"}, DeviceID: "1017"}, NumVfs: 1, ResourceName: "m"}
	mismatch := plexusv1alpha1.SriovConfig{PFSelector: plexusv1alpha1.PFSelector{PFNames: []string{"ens1f0"}, Vendor: "15b3"}, NumVfs: 1, ResourceName: "none"}
	res := nodepolicy.Resolve(nil, []plexusv1alpha1.NodeNetworkPolicy{policy("p", 0, nil, byVendor, byAddr, mismatch)}, pfs)
	g.Expect(res.SRIOV.PFs).To(HaveLen(3))
	g.Expect(res.Issues).To(ConsistOf(HaveField("Reason", nodepolicy.ReasonPFNotFound)))
	g.Expect(res.Issues[0].Subject).To(Equal("sriov[2]"))
}

func TestResolveOverlaps(t *testing.T) {
	tests := []struct {
		name      string
		policies  []plexusv1alpha1.NodeNetworkPolicy
		wantPF0   *sriov.PFConfig
		wantIssue []nodepolicy.Issue
	}{
		{
			name: "disjoint VF ranges partition a PF, mixed device types allowed",
			policies: []plexusv1alpha1.NodeNetworkPolicy{
				policy("dpdk", 5, nil, sr("ens1f0", 8, "dpdk", vfioType, rng(4, 7))),
				policy("kernel", 5, nil, sr("ens1f0", 8, "net", rng(0, 3), mtu(9000))),
			},
			wantPF0: &sriov.PFConfig{PCIAddress: "0000:3b:00.0", Name: "ens1f0", NumVfs: 8, MTU: 9000, Groups: []sriov.VFGroup{
				{First: 0, Last: 3, DeviceType: "netdevice", MTU: 9000, ResourceName: "net", Policy: "kernel"},
				{First: 4, Last: 7, DeviceType: "vfio-pci", ResourceName: "dpdk", Policy: "dpdk"},
			}},
		},
		{
			name: "different numVfs: lower priority loses",
			policies: []plexusv1alpha1.NodeNetworkPolicy{
				policy("low", 50, nil, sr("ens1f0", 16, "low")),
				policy("high", 10, nil, sr("ens1f0", 8, "high")),
			},
			wantPF0: &sriov.PFConfig{PCIAddress: "0000:3b:00.0", Name: "ens1f0", NumVfs: 8, Groups: []sriov.VFGroup{
				{First: 0, Last: 7, DeviceType: "netdevice", ResourceName: "high", Policy: "high"},
			}},
			wantIssue: []nodepolicy.Issue{{Policy: "low", Other: "high", Subject: "0000:3b:00.0", Reason: "PolicyConflict",
				Message: "PF 0000:3b:00.0 (ens1f0): numVfs 16 conflicts with numVfs 8 of policy high"}},
		},
		{
			name: "same priority: name breaks the tie; overlapping ranges with another deviceType",
			policies: []plexusv1alpha1.NodeNetworkPolicy{
				policy("b-vfio", 10, nil, sr("ens1f0", 8, "dpdk", vfioType, rng(2, 5))),
				policy("a-net", 10, nil, sr("ens1f0", 8, "net", rng(0, 3))),
			},
			wantPF0: &sriov.PFConfig{PCIAddress: "0000:3b:00.0", Name: "ens1f0", NumVfs: 8, Groups: []sriov.VFGroup{
				{First: 0, Last: 3, DeviceType: "netdevice", ResourceName: "net", Policy: "a-net"},
			}},
			wantIssue: []nodepolicy.Issue{{Policy: "b-vfio", Other: "a-net", Subject: "0000:3b:00.0", Reason: "PolicyConflict",
				Message: "PF 0000:3b:00.0 (ens1f0): VF range 2-5 overlaps VF range 0-3 of policy a-net (deviceType vfio-pci vs netdevice)"}},
		},
		{
			name: "whole-PF claims with different deviceType conflict",
			policies: []plexusv1alpha1.NodeNetworkPolicy{
				policy("a", 1, nil, sr("ens1f0", 4, "net")),
				policy("b", 2, nil, sr("ens1f0", 4, "dpdk", vfioType)),
			},
			wantPF0: &sriov.PFConfig{PCIAddress: "0000:3b:00.0", Name: "ens1f0", NumVfs: 4, Groups: []sriov.VFGroup{
				{First: 0, Last: 3, DeviceType: "netdevice", ResourceName: "net", Policy: "a"},
			}},
			wantIssue: []nodepolicy.Issue{{Policy: "b", Other: "a", Subject: "0000:3b:00.0", Reason: "PolicyConflict",
				Message: "PF 0000:3b:00.0 (ens1f0): VF range 0-3 overlaps VF range 0-3 of policy a (deviceType vfio-pci vs netdevice)"}},
		},
		{
			name: "conflicting MTU",
			policies: []plexusv1alpha1.NodeNetworkPolicy{
				policy("a", 1, nil, sr("ens1f0", 8, "x", rng(0, 3), mtu(9000))),
				policy("b", 2, nil, sr("ens1f0", 8, "y", rng(4, 7), mtu(1500))),
			},
			wantPF0: &sriov.PFConfig{PCIAddress: "0000:3b:00.0", Name: "ens1f0", NumVfs: 8, MTU: 9000, Groups: []sriov.VFGroup{
				{First: 0, Last: 3, DeviceType: "netdevice", MTU: 9000, ResourceName: "x", Policy: "a"},
			}},
			wantIssue: []nodepolicy.Issue{{Policy: "b", Other: "a", Subject: "0000:3b:00.0", Reason: "PolicyConflict",
				Message: "PF 0000:3b:00.0 (ens1f0): mtu 1500 conflicts with mtu 9000 of policy a"}},
		},
		{
			name: "two entries of one policy overlapping",
			policies: []plexusv1alpha1.NodeNetworkPolicy{
				policy("self", 1, nil, sr("ens1f0", 8, "x", rng(0, 4)), sr("ens1f0", 8, "y", rng(4, 7))),
			},
			wantPF0: &sriov.PFConfig{PCIAddress: "0000:3b:00.0", Name: "ens1f0", NumVfs: 8, Groups: []sriov.VFGroup{
				{First: 0, Last: 4, DeviceType: "netdevice", ResourceName: "x", Policy: "self"},
			}},
			wantIssue: []nodepolicy.Issue{{Policy: "self", Other: "self", Subject: "0000:3b:00.0", Reason: "PolicyConflict",
				Message: "PF 0000:3b:00.0 (ens1f0): VF range 4-7 overlaps VF range 0-4 of policy self"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			res := nodepolicy.Resolve(nil, tt.policies, pfs)
			g.Expect(res.Issues).To(Equal(tt.wantIssue))
			g.Expect(res.SRIOV.PFs).To(HaveLen(1))
			g.Expect(res.SRIOV.PFs[0]).To(Equal(*tt.wantPF0))
			for _, iss := range tt.wantIssue {
				g.Expect(res.IssuesFor(iss.Policy)).To(ContainElement(iss))
			}
		})
	}
}

func TestResolveHugepages(t *testing.T) {
	g := NewWithT(t)
	n0, n1 := int32(0), int32(1)
	hp := func(name string, prio int32, h ...plexusv1alpha1.HugepagesConfig) plexusv1alpha1.NodeNetworkPolicy {
		p := policy(name, prio, nil)
		p.Spec.Hugepages = h
		return p
	}
	res := nodepolicy.Resolve(nil, []plexusv1alpha1.NodeNetworkPolicy{
		hp("a", 1, plexusv1alpha1.HugepagesConfig{PageSize: "2Mi", NUMANode: &n0, Count: 512},
			plexusv1alpha1.HugepagesConfig{PageSize: "1Gi", Count: 4}),
		hp("b", 2, plexusv1alpha1.HugepagesConfig{PageSize: "2Mi", NUMANode: &n1, Count: 256},
			plexusv1alpha1.HugepagesConfig{PageSize: "2Mi", NUMANode: &n0, Count: 512}),
		hp("c", 3, plexusv1alpha1.HugepagesConfig{PageSize: "2Mi", NUMANode: &n0, Count: 100},
			plexusv1alpha1.HugepagesConfig{PageSize: "2Mi", Count: 100}),
	}, nil)
	zero, one := 0, 1
	g.Expect(res.Hugepages).To(Equal([]hugepages.Target{
		{PageSize: "2Mi", NUMANode: &zero, Count: 512},
		{PageSize: "1Gi", Count: 4},
		{PageSize: "2Mi", NUMANode: &one, Count: 256},
	}))
	g.Expect(res.Issues).To(HaveLen(2))
	g.Expect(res.Issues[0].Message).To(Equal("hugepages 2Mi/numa0: count 100 conflicts with count 512 of policy a"))
	g.Expect(res.Issues[1].Message).To(Equal("hugepages 2Mi: node-wide pool conflicts with the per-NUMA pools of policy a"))
}

func TestResolveInvalidSelectorAndDisruption(t *testing.T) {
	g := NewWithT(t)
	bad := policy("bad", 0, nil)
	bad.Spec.NodeSelector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Bogus"}}
	good := policy("good", 1, nil)
	mu := intstr.FromString("20%")
	good.Spec.Disruption = &plexusv1alpha1.DisruptionBudget{MaxUnavailable: &mu}
	res := nodepolicy.Resolve(nil, []plexusv1alpha1.NodeNetworkPolicy{bad, good}, nil)
	g.Expect(res.Policies).To(HaveLen(1))
	g.Expect(res.IssuesFor("bad")).To(ConsistOf(HaveField("Reason", nodepolicy.ReasonInvalidSelector)))
	g.Expect(res.Disruption.MaxUnavailable.StrVal).To(Equal("20%"))
}

func TestMaxUnavailable(t *testing.T) {
	i := func(v int) *intstr.IntOrString { x := intstr.FromInt32(int32(v)); return &x }
	s := func(v string) *intstr.IntOrString { x := intstr.FromString(v); return &x }
	tests := []struct {
		in    *intstr.IntOrString
		total int
		want  int
		err   bool
	}{
		{nil, 10, 1, false},
		{i(3), 10, 3, false},
		{i(30), 10, 10, false},
		{i(0), 10, 1, false},
		{s("10%"), 5, 1, false},  // 0.5 rounds up (the sriov operator rounds down to 0 and stalls)
		{s("1%"), 3, 1, false},   // never 0
		{s("33%"), 10, 4, false}, // 3.3 -> 4
		{s("50%"), 10, 5, false},
		{s("100%"), 7, 7, false},
		{s("0%"), 7, 1, false},
		{s("25%"), 0, 1, false},
		{s("abc"), 5, 0, true},
		{s("150%"), 5, 0, true},
		{s("x%"), 5, 0, true},
	}
	for _, tt := range tests {
		g := NewWithT(t)
		got, err := nodepolicy.MaxUnavailable(tt.in, tt.total)
		if tt.err {
			g.Expect(err).To(HaveOccurred(), "%v", tt.in)
			continue
		}
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(got).To(Equal(tt.want), "%v of %d", tt.in, tt.total)
	}
}

func TestSortDefaultsPriority(t *testing.T) {
	g := NewWithT(t)
	unset := policy("a-unset", 0, nil)
	unset.Spec.Priority = nil
	ps := []plexusv1alpha1.NodeNetworkPolicy{unset, policy("b", 99, nil), policy("c", 98, nil)}
	nodepolicy.Sort(ps)
	g.Expect([]string{ps[0].Name, ps[1].Name, ps[2].Name}).To(Equal([]string{"c", "a-unset", "b"}))
	g.Expect(nodepolicy.Priority(&unset)).To(Equal(int32(99)))
}
