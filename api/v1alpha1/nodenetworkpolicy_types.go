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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// NodeNetworkPolicy condition reasons. The condition types are the generic Ready, Progressing and
// Degraded types of conditions.go; AsExpectedReason and InternalErrorReason from there are used
// too.
const (
	// NodeNetworkPolicyConfiguredReason (Ready=True) means every matched node applied the policy.
	NodeNetworkPolicyConfiguredReason = "Configured"
	// NodeNetworkPolicyNodesPendingReason (Ready=False, Progressing=True) means some matched nodes
	// have not yet applied the current generation of the policy.
	NodeNetworkPolicyNodesPendingReason = "NodesPending"
	// NodeNetworkPolicyNodesFailedReason (Degraded=True) means at least one matched node reported a
	// failure; status.failingNodes names them with their reasons.
	NodeNetworkPolicyNodesFailedReason = "NodesFailed"
	// NodeNetworkPolicyNoMatchingNodesReason (Ready=True) means the nodeSelector matches no node:
	// there is nothing to wait for. It is reported, never rejected at admission, so GitOps can
	// apply policies before the nodes exist or are labelled.
	NodeNetworkPolicyNoMatchingNodesReason = "NoMatchingNodes"
	// NodeNetworkPolicyInvalidNodeSelectorReason (Degraded=True) means the nodeSelector cannot be
	// parsed.
	NodeNetworkPolicyInvalidNodeSelectorReason = "InvalidNodeSelector"
	// NodeNetworkPolicyConflictReason (Degraded=True) means the policy conflicts with another
	// policy on at least one node (same PF claimed with different settings or overlapping VF
	// ranges) and lost the priority tie-break there.
	NodeNetworkPolicyConflictReason = "PolicyConflict"
)

// DefaultNodeNetworkPolicyPriority is the priority of a NodeNetworkPolicy that sets none.
const DefaultNodeNetworkPolicyPriority int32 = 99

// SriovDeviceType is the driver class the VFs of a PF are bound to.
// +kubebuilder:validation:Enum=netdevice;vfio-pci
type SriovDeviceType string

const (
	// SriovDeviceTypeNetdevice keeps the VFs on the PF's kernel VF driver (a Linux netdevice).
	SriovDeviceTypeNetdevice SriovDeviceType = "netdevice"
	// SriovDeviceTypeVfioPci binds the VFs to vfio-pci for DPDK/userspace use.
	SriovDeviceTypeVfioPci SriovDeviceType = "vfio-pci"
)

// HugepageSize is a hugepage size in Kubernetes quantity notation.
// +kubebuilder:validation:Enum="2Mi";"1Gi"
type HugepageSize string

const (
	// HugepageSize2Mi is the 2 MiB page size (hugepages-2048kB).
	HugepageSize2Mi HugepageSize = "2Mi"
	// HugepageSize1Gi is the 1 GiB page size (hugepages-1048576kB).
	HugepageSize1Gi HugepageSize = "1Gi"
)

// NodeNetworkPolicySpec is the desired node hardware configuration for the selected nodes.
// +kubebuilder:validation:XValidation:rule="(has(self.sriov) && size(self.sriov) > 0) || (has(self.hugepages) && size(self.hugepages) > 0)",message="at least one of sriov or hugepages must be set"
type NodeNetworkPolicySpec struct {
	// nodeSelector selects the nodes this policy applies to. An empty selector selects every node.
	// +required
	NodeSelector metav1.LabelSelector `json:"nodeSelector"`

	// priority orders overlapping policies on a node: the lower value wins (0 is the highest
	// priority); ties are broken by name. Conflicts are reported, never silently merged.
	// Defaults to 99 (DefaultNodeNetworkPolicyPriority).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=99
	// +kubebuilder:default=99
	Priority *int32 `json:"priority,omitempty"`

	// sriov lists the SR-IOV physical functions to configure and how.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Sriov []SriovConfig `json:"sriov,omitempty"`

	// hugepages lists the hugepage pools to allocate.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Hugepages []HugepagesConfig `json:"hugepages,omitempty"`

	// disruption bounds how many nodes may be disrupted at once while the policy rolls out.
	// +optional
	Disruption *DisruptionBudget `json:"disruption,omitempty"`
}

// SriovConfig configures the VFs of the PFs matched by pfSelector.
// +kubebuilder:validation:XValidation:rule="!has(self.vfRange) || self.vfRange.last < self.numVfs",message="vfRange.last must be lower than numVfs"
type SriovConfig struct {
	// pfSelector selects the physical functions on the node. All set fields must match.
	// +required
	PFSelector PFSelector `json:"pfSelector"`

	// numVfs is the number of VFs to create on each selected PF. 0 removes the VFs.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=256
	NumVfs int32 `json:"numVfs"`

	// deviceType is the driver class of the VFs: netdevice (kernel VF driver) or vfio-pci (DPDK).
	// +optional
	// +kubebuilder:default=netdevice
	DeviceType SriovDeviceType `json:"deviceType,omitempty"`

	// mtu is the MTU set on the PF and on netdevice VFs. Unset leaves the MTU alone.
	// +optional
	// +kubebuilder:validation:Minimum=576
	// +kubebuilder:validation:Maximum=9702
	MTU *int32 `json:"mtu,omitempty"`

	// resourceName is the device-plugin resource name the VFs are advertised under (without the
	// prefix); NADs reference it in the k8s.v1.cni.cncf.io/resourceName annotation.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]([a-zA-Z0-9_-]*[a-zA-Z0-9])?$`
	ResourceName string `json:"resourceName"`

	// vfRange restricts this entry to VFs first..last of each PF, so that several policies or
	// entries can partition the VFs of one PF (device-plugin "pf#first-last" syntax).
	// +optional
	VFRange *VFRange `json:"vfRange,omitempty"`
}

// PFSelector selects physical functions. Every set field must match; at least one must be set.
// +kubebuilder:validation:XValidation:rule="(has(self.pfNames) && size(self.pfNames) > 0) || has(self.vendor) || has(self.deviceID) || (has(self.pciAddresses) && size(self.pciAddresses) > 0)",message="pfSelector must set at least one of pfNames, vendor, deviceID, pciAddresses"
type PFSelector struct {
	// pfNames are PF netdevice names, e.g. ens1f0.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=15
	PFNames []string `json:"pfNames,omitempty"`

	// vendor is the PCI vendor ID in hex without 0x, e.g. 8086.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{4}$`
	Vendor string `json:"vendor,omitempty"`

	// deviceID is the PCI device ID of the PF in hex without 0x, e.g. 158b.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{4}$`
	DeviceID string `json:"deviceID,omitempty"`

	// pciAddresses are PF PCI addresses, e.g. 0000:3b:00.0.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:Pattern=`^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$`
	PCIAddresses []string `json:"pciAddresses,omitempty"`
}

// VFRange is an inclusive range of VF indexes.
// +kubebuilder:validation:XValidation:rule="self.first <= self.last",message="vfRange.first must be lower than or equal to vfRange.last"
type VFRange struct {
	// first is the first VF index of the range.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=255
	First int32 `json:"first"`

	// last is the last VF index of the range (inclusive).
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=255
	Last int32 `json:"last"`
}

// HugepagesConfig is a hugepage pool to allocate at runtime.
type HugepagesConfig struct {
	// pageSize is the hugepage size: 2Mi or 1Gi.
	// +required
	PageSize HugepageSize `json:"pageSize"`

	// count is the number of pages. Without numaNode it is the node-wide pool size.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1048576
	Count int32 `json:"count"`

	// numaNode restricts the allocation to one NUMA node.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=255
	NUMANode *int32 `json:"numaNode,omitempty"`
}

// DisruptionBudget bounds the rollout of disruptive changes (VF resets evicting pods).
type DisruptionBudget struct {
	// maxUnavailable is how many matched nodes may be disrupted at the same time: an integer or a
	// percentage of the matched nodes. Percentages are rounded up and never yield 0 (min 1).
	// Defaults to 1.
	// +optional
	// +kubebuilder:validation:XIntOrString
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 1 : self.matches('^[1-9][0-9]?%$|^100%$')",message="maxUnavailable must be an integer >= 1 or a percentage between 1% and 100%"
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`

	// drainTimeout bounds how long the agent waits for evictions before it gives up, uncordons and
	// reports DrainBlocked. Defaults to 10m.
	// +optional
	DrainTimeout *metav1.Duration `json:"drainTimeout,omitempty"`
}

// FailingNode is a node that failed to apply the policy.
type FailingNode struct {
	// node is the node name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Node string `json:"node"`

	// reason is a CamelCase failure reason, e.g. NumVfsExceedsTotal or HugepagesShortfall.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason"`

	// message is a human readable description of the failure.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// NodeNetworkPolicyStatus is the observed state of a NodeNetworkPolicy.
type NodeNetworkPolicyStatus struct {
	// conditions are Ready, Progressing and Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation of the spec this status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// matchedNodes is the number of nodes selected by nodeSelector.
	// +optional
	MatchedNodes int32 `json:"matchedNodes,omitempty"`

	// configuredNodes is the number of matched nodes that applied the current generation.
	// +optional
	ConfiguredNodes int32 `json:"configuredNodes,omitempty"`

	// failedNodes is the number of matched nodes that reported a failure.
	// +optional
	FailedNodes int32 `json:"failedNodes,omitempty"`

	// failingNodes lists up to 16 failing nodes with their reasons, sorted by node name.
	// +optional
	// +listType=map
	// +listMapKey=node
	// +kubebuilder:validation:MaxItems=16
	FailingNodes []FailingNode `json:"failingNodes,omitempty"`
}

// NodeNetworkPolicy configures SR-IOV VFs and hugepages on the selected nodes. The node agent
// enacts it and reports NodeNetworkState; the operator aggregates those into this status.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=nnp
// +kubebuilder:printcolumn:name="Priority",type=integer,JSONPath=`.spec.priority`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matchedNodes`
// +kubebuilder:printcolumn:name="Configured",type=integer,JSONPath=`.status.configuredNodes`
// +kubebuilder:printcolumn:name="Failed",type=integer,JSONPath=`.status.failedNodes`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type NodeNetworkPolicy struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired node configuration.
	// +required
	Spec NodeNetworkPolicySpec `json:"spec"`

	// status is the aggregated state of the matched nodes.
	// +optional
	Status NodeNetworkPolicyStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (p *NodeNetworkPolicy) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the status conditions.
func (p *NodeNetworkPolicy) SetConditions(c []metav1.Condition) { p.Status.Conditions = c }

// NodeNetworkPolicyList contains a list of NodeNetworkPolicy.
// +kubebuilder:object:root=true
type NodeNetworkPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the policies.
	Items []NodeNetworkPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NodeNetworkPolicy{}, &NodeNetworkPolicyList{})
}
