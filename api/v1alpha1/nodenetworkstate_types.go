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
)

// NodeNetworkState condition reasons. The condition types are the generic Ready, Progressing and
// Degraded types shared by every Plexus kind, plus NodeNetworkStateDisruptionRequiredCondition
// and NodeNetworkStateHugepagesSchedulableCondition.
// The failure reasons are also used in NodeNetworkPolicy status.failingNodes and
// NodeNetworkState status.policies.
const (
	// NodeNetworkStateDisruptionRequiredCondition is True while applying the desired state needs a
	// VF reset on a PF whose VFs are held by pods (see status.disruptionPlan).
	NodeNetworkStateDisruptionRequiredCondition = "DisruptionRequired"
	// NodeNetworkStateHugepagesSchedulableCondition is present while policies ask for hugepages
	// on the node: True when kubelet's node capacity (hugepages-<size>) matches the pages
	// allocated, False (KubeletRestartRequired) when kubelet, which reads hugepage capacity only
	// when it starts, does not offer them to pods yet.
	NodeNetworkStateHugepagesSchedulableCondition = "HugepagesSchedulable"
	// NodeNetworkStateKubeletRestartRequiredReason (HugepagesSchedulable=False) means the pools
	// changed since kubelet started; restart kubelet (or the node) so pods can request them.
	NodeNetworkStateKubeletRestartRequiredReason = "KubeletRestartRequired"

	// NodeNetworkStateAppliedReason (Ready=True) means the desired hardware state is applied and
	// read back.
	NodeNetworkStateAppliedReason = "Applied"
	// NodeNetworkStateApplyingReason (Progressing=True) means the agent is applying a change.
	NodeNetworkStateApplyingReason = "Applying"
	// NodeNetworkStateNumVfsExceedsTotalReason means numVfs is larger than the PF's sriov_totalvfs.
	NodeNetworkStateNumVfsExceedsTotalReason = "NumVfsExceedsTotal"
	// NodeNetworkStateDeviceBusyReason means the kernel refused a write with EBUSY (e.g. VFs in
	// use, or a non-zero to non-zero sriov_numvfs change attempted by someone else).
	NodeNetworkStateDeviceBusyReason = "DeviceBusy"
	// NodeNetworkStateDriverBindFailedReason means a VF could not be bound to the wanted driver
	// (for vfio-pci: usually IOMMU disabled or the vfio-pci module missing).
	NodeNetworkStateDriverBindFailedReason = "DriverBindFailed"
	// NodeNetworkStatePFNotFoundReason means a selected PF is not present on the node.
	NodeNetworkStatePFNotFoundReason = "PFNotFound"
	// NodeNetworkStateOutOfMemoryReason means the kernel returned ENOMEM creating VFs (typically
	// missing BAR space: BIOS SR-IOV support or pci=realloc).
	NodeNetworkStateOutOfMemoryReason = "OutOfMemory"
	// NodeNetworkStatePermissionDeniedReason means the kernel refused a sysfs write with EPERM or
	// EACCES: the agent lacks a privilege (CAP_NET_ADMIN for MTUs) or /sys is mounted read-only.
	NodeNetworkStatePermissionDeniedReason = "PermissionDenied"
	// NodeNetworkStateReadBackMismatchReason means a sysfs write succeeded but reading it back
	// returned another value.
	NodeNetworkStateReadBackMismatchReason = "ReadBackMismatch"
	// NodeNetworkStateHugepagesShortfallReason means the kernel allocated fewer hugepages than
	// requested (status.hugepages shows requested and allocated).
	NodeNetworkStateHugepagesShortfallReason = "HugepagesShortfall"
	// NodeNetworkStatePolicyConflictReason means two policies claim the same PF with different
	// settings or overlapping VF ranges; the lower-priority one is not applied.
	NodeNetworkStatePolicyConflictReason = "PolicyConflict"
	// NodeNetworkStateDrainBlockedReason means evicting the pods of the disruption plan did not
	// finish within drainTimeout; the node was uncordoned and the change was not applied.
	NodeNetworkStateDrainBlockedReason = "DrainBlocked"
	// NodeNetworkStateDisruptionPendingReason (DisruptionRequired=True) means the change waits for
	// the disruption budget or for the evictions of the plan.
	NodeNetworkStateDisruptionPendingReason = "DisruptionPending"
	// NodeNetworkStateNoDisruptionReason (DisruptionRequired=False) means no pod holds a VF of a
	// PF that must be reset.
	NodeNetworkStateNoDisruptionReason = "NoDisruption"
)

// PolicyApplyState is the enactment state of one NodeNetworkPolicy on one node.
// +kubebuilder:validation:Enum=Pending;Applied;Failed;Conflict
type PolicyApplyState string

const (
	// PolicyApplyStatePending means the agent has not applied this generation yet.
	PolicyApplyStatePending PolicyApplyState = "Pending"
	// PolicyApplyStateApplied means this generation is applied and read back.
	PolicyApplyStateApplied PolicyApplyState = "Applied"
	// PolicyApplyStateFailed means applying this generation failed; reason says why.
	PolicyApplyStateFailed PolicyApplyState = "Failed"
	// PolicyApplyStateConflict means this policy lost a conflict against another policy.
	PolicyApplyStateConflict PolicyApplyState = "Conflict"
)

// DisruptionState is the state of a node's disruption plan.
// +kubebuilder:validation:Enum=None;Pending;Draining;Completed;Blocked
type DisruptionState string

const (
	// DisruptionStateNone means the pending change disrupts no pod.
	DisruptionStateNone DisruptionState = "None"
	// DisruptionStatePending means pods must be evicted and the node waits for the budget.
	DisruptionStatePending DisruptionState = "Pending"
	// DisruptionStateDraining means the listed pods are being evicted.
	DisruptionStateDraining DisruptionState = "Draining"
	// DisruptionStateCompleted means the evictions finished and the change was applied.
	DisruptionStateCompleted DisruptionState = "Completed"
	// DisruptionStateBlocked means evictions did not finish within drainTimeout.
	DisruptionStateBlocked DisruptionState = "Blocked"
)

// NodeNetworkStateStatus is what the node agent observed and applied on its node.
type NodeNetworkStateStatus struct {
	// conditions are Ready, Progressing, Degraded and DisruptionRequired, with typed reasons.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// uplink is the node's default-route interface.
	// +optional
	Uplink *UplinkStatus `json:"uplink,omitempty"`

	// interfaces are the node's physical network interfaces.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=256
	Interfaces []InterfaceStatus `json:"interfaces,omitempty"`

	// installed lists the binaries and plugins the agent installed, with their versions.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Installed []InstalledComponent `json:"installed,omitempty"`

	// pfs are the discovered SR-IOV capable physical functions and their VFs.
	// +optional
	// +listType=map
	// +listMapKey=pciAddress
	// +kubebuilder:validation:MaxItems=64
	PFs []PFStatus `json:"pfs,omitempty"`

	// hugepages are the hugepage pools per page size and NUMA node.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	Hugepages []HugepagesStatus `json:"hugepages,omitempty"`

	// policies is the enactment state of each NodeNetworkPolicy that selects this node.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Policies []NodePolicyStatus `json:"policies,omitempty"`

	// appliedPolicyGeneration is the generation of the highest-priority policy last applied in
	// full; per-policy generations are in policies.
	// +optional
	AppliedPolicyGeneration int64 `json:"appliedPolicyGeneration,omitempty"`

	// appliedSpecHash is the hash of the merged desired hardware state last applied in full.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	AppliedSpecHash string `json:"appliedSpecHash,omitempty"`

	// disruptionPlan is the pending disruptive change on this node, if any.
	// +optional
	DisruptionPlan *DisruptionPlan `json:"disruptionPlan,omitempty"`
}

// UplinkStatus is the default-route interface of a node.
type UplinkStatus struct {
	// name is the interface name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	Name string `json:"name"`

	// addresses are the interface's IP addresses in CIDR notation.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=64
	Addresses []string `json:"addresses,omitempty"`
}

// InterfaceStatus is one network interface of a node.
type InterfaceStatus struct {
	// name is the interface name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	Name string `json:"name"`

	// mac is the hardware address.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	MAC string `json:"mac,omitempty"`

	// mtu is the interface MTU.
	// +optional
	MTU int32 `json:"mtu,omitempty"`

	// driver is the kernel driver bound to the device.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Driver string `json:"driver,omitempty"`

	// pciAddress is the PCI address for PCI devices.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	PCIAddress string `json:"pciAddress,omitempty"`

	// state is the operational state as reported by the kernel (up, down, unknown, ...).
	// +optional
	// +kubebuilder:validation:MaxLength=32
	State string `json:"state,omitempty"`
}

// InstalledComponent is a binary or plugin installed on the node.
type InstalledComponent struct {
	// name is the component name, e.g. plexus-cni or macvlan.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	Name string `json:"name"`

	// version is the installed version.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Version string `json:"version,omitempty"`
}

// PFStatus is a discovered SR-IOV physical function.
type PFStatus struct {
	// name is the PF netdevice name (empty when the PF has no netdevice).
	// +optional
	// +kubebuilder:validation:MaxLength=15
	Name string `json:"name,omitempty"`

	// pciAddress is the PF PCI address.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=16
	PCIAddress string `json:"pciAddress"`

	// vendor is the PCI vendor ID (hex, no 0x).
	// +optional
	// +kubebuilder:validation:MaxLength=4
	Vendor string `json:"vendor,omitempty"`

	// deviceID is the PCI device ID (hex, no 0x).
	// +optional
	// +kubebuilder:validation:MaxLength=4
	DeviceID string `json:"deviceID,omitempty"`

	// vfDeviceID is the PCI device ID of the PF's VFs (hex, no 0x), empty without VFs.
	// +optional
	// +kubebuilder:validation:MaxLength=4
	VFDeviceID string `json:"vfDeviceID,omitempty"`

	// driver is the PF's kernel driver.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Driver string `json:"driver,omitempty"`

	// numaNode is the PF's NUMA node (-1 when unknown).
	// +optional
	NUMANode int32 `json:"numaNode,omitempty"`

	// totalVfs is sriov_totalvfs.
	// +optional
	TotalVfs int32 `json:"totalVfs,omitempty"`

	// numVfs is sriov_numvfs.
	// +optional
	NumVfs int32 `json:"numVfs,omitempty"`

	// mtu is the PF netdevice MTU.
	// +optional
	MTU int32 `json:"mtu,omitempty"`

	// vfs are the PF's virtual functions.
	// +optional
	// +listType=map
	// +listMapKey=index
	// +kubebuilder:validation:MaxItems=256
	VFs []VFStatus `json:"vfs,omitempty"`
}

// VFStatus is a virtual function.
type VFStatus struct {
	// index is the VF index on its PF (virtfn<index>).
	// +required
	// +kubebuilder:validation:Minimum=0
	Index int32 `json:"index"`

	// pciAddress is the VF PCI address.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	PCIAddress string `json:"pciAddress,omitempty"`

	// driver is the driver bound to the VF (empty when unbound).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Driver string `json:"driver,omitempty"`

	// netdev is the VF netdevice name, for VFs on a kernel driver.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	Netdev string `json:"netdev,omitempty"`

	// mtu is the VF netdevice MTU.
	// +optional
	MTU int32 `json:"mtu,omitempty"`
}

// HugepagesStatus is one hugepage pool.
type HugepagesStatus struct {
	// pageSize is the page size.
	// +required
	PageSize HugepageSize `json:"pageSize"`

	// numaNode is the NUMA node; unset for the node-wide pool.
	// +optional
	NUMANode *int32 `json:"numaNode,omitempty"`

	// requested is the number of pages the applied policies ask for.
	// +optional
	Requested int32 `json:"requested,omitempty"`

	// allocated is nr_hugepages as read back from the kernel.
	// +optional
	Allocated int32 `json:"allocated,omitempty"`

	// free is free_hugepages.
	// +optional
	Free int32 `json:"free,omitempty"`
}

// NodePolicyStatus is the enactment state of one NodeNetworkPolicy on this node.
type NodePolicyStatus struct {
	// name is the NodeNetworkPolicy name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// generation is the policy generation this entry describes.
	// +required
	Generation int64 `json:"generation"`

	// state is Pending, Applied, Failed or Conflict.
	// +required
	State PolicyApplyState `json:"state"`

	// reason is the typed failure reason when state is Failed or Conflict.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	Reason string `json:"reason,omitempty"`

	// message is a human readable detail.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// DisruptionPlan lists the PFs whose VFs must be reset and the pods holding them.
type DisruptionPlan struct {
	// state is the plan state.
	// +required
	State DisruptionState `json:"state"`

	// pfs are the PFs that need a VF reset.
	// +optional
	// +listType=map
	// +listMapKey=pciAddress
	// +kubebuilder:validation:MaxItems=64
	PFs []DisruptedPF `json:"pfs,omitempty"`
}

// DisruptedPF is a PF that needs a VF reset and the pods that hold its VFs.
type DisruptedPF struct {
	// pciAddress is the PF PCI address.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=16
	PCIAddress string `json:"pciAddress"`

	// name is the PF netdevice name.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	Name string `json:"name,omitempty"`

	// podsToEvict are the pods holding VFs of this PF, as namespace/name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=317
	PodsToEvict []string `json:"podsToEvict,omitempty"`
}

// NodeNetworkState is the per-node hardware and agent state, written by the node agent. Its name
// is the node name.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=nns
// +kubebuilder:printcolumn:name="Uplink",type=string,JSONPath=`.status.uplink.name`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type NodeNetworkState struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata; the name is the node name.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// status is the observed node state.
	// +optional
	Status NodeNetworkStateStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (s *NodeNetworkState) GetConditions() []metav1.Condition { return s.Status.Conditions }

// SetConditions replaces the status conditions.
func (s *NodeNetworkState) SetConditions(c []metav1.Condition) { s.Status.Conditions = c }

// NodeNetworkStateList contains a list of NodeNetworkState.
// +kubebuilder:object:root=true
type NodeNetworkStateList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the node states.
	Items []NodeNetworkState `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NodeNetworkState{}, &NodeNetworkStateList{})
}
