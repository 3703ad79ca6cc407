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

// NetworkPlane condition reasons. The condition types are ReadyCondition and DegradedCondition.
const (
	// NetworkPlaneRenderedReason (Ready=True) means the NAD is up to date in every namespace the
	// namespaceSelector matches.
	NetworkPlaneRenderedReason = "Rendered"
	// NetworkPlaneNoMatchingNamespacesReason (Ready=True) means the namespaceSelector matches no
	// namespace, so there is nothing to render. It is not an error: GitOps may create the plane
	// before the namespaces.
	NetworkPlaneNoMatchingNamespacesReason = "NoMatchingNamespaces"
	// NetworkPlaneNADConflictReason (Ready=False, Degraded=True) means a NAD with the plane's name
	// exists in a selected namespace and is not managed by Plexus. Plexus never overwrites it; the
	// message names the namespaces.
	NetworkPlaneNADConflictReason = "NADConflict"
	// NetworkPlaneInvalidConfigReason (Ready=False, Degraded=True) means the spec renders to a CNI
	// configuration that fails validation (for example a bad raw config). Fix the spec.
	NetworkPlaneInvalidConfigReason = "InvalidConfig"
	// NetworkPlaneApplyFailedReason (Ready=False, Degraded=True) means writing or deleting a NAD
	// failed; the operator retries with backoff.
	NetworkPlaneApplyFailedReason = "ApplyFailed"
)

// Labels, annotations and finalizers Plexus puts on the objects it manages.
const (
	// ManagedByLabel is the standard label Plexus sets on every object it renders.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of ManagedByLabel on objects Plexus renders.
	ManagedByValue = "plexus"
	// PlaneLabel names the NetworkPlane a rendered NAD belongs to.
	PlaneLabel = "net.plexus.dev/plane"
	// ConfigHashAnnotation on a rendered NAD holds the hash of the CNI config Plexus rendered, so
	// the operator can tell a hand edit (drift, restored with a DriftRestored event) from a spec
	// change.
	ConfigHashAnnotation = "net.plexus.dev/config-hash"
	// NetworkPlaneFinalizer lets the operator delete the rendered NADs before the plane goes away.
	NetworkPlaneFinalizer = "net.plexus.dev/nad-cleanup"
	// WebhookOptOutLabel set to "disabled" on a namespace or pod excludes it from the Plexus pod
	// webhook.
	WebhookOptOutLabel = "net.plexus.dev/webhook"
)

// NetworkPlaneType is the CNI plugin family a plane renders to.
// +kubebuilder:validation:Enum=macvlan;ipvlan;bridge;host-device;sriov;vlan;raw
type NetworkPlaneType string

// NetworkPlane types.
const (
	// NetworkPlaneTypeMacvlan renders the macvlan plugin on the uplink.
	NetworkPlaneTypeMacvlan NetworkPlaneType = "macvlan"
	// NetworkPlaneTypeIPVlan renders the ipvlan plugin on the uplink.
	NetworkPlaneTypeIPVlan NetworkPlaneType = "ipvlan"
	// NetworkPlaneTypeBridge renders the bridge plugin (a Linux bridge on each node).
	NetworkPlaneTypeBridge NetworkPlaneType = "bridge"
	// NetworkPlaneTypeHostDevice renders the host-device plugin (moves a host NIC into the pod).
	NetworkPlaneTypeHostDevice NetworkPlaneType = "host-device"
	// NetworkPlaneTypeSRIOV renders the sriov plugin and a device-plugin resource name.
	NetworkPlaneTypeSRIOV NetworkPlaneType = "sriov"
	// NetworkPlaneTypeVLAN renders the vlan plugin (an 802.1Q sub-interface of the uplink).
	NetworkPlaneTypeVLAN NetworkPlaneType = "vlan"
	// NetworkPlaneTypeRaw uses spec.raw.config as the NAD config, unchanged.
	NetworkPlaneTypeRaw NetworkPlaneType = "raw"
)

// NetworkPlaneSpec is one secondary network, rendered as a NetworkAttachmentDefinition named like
// the plane into every namespace the namespaceSelector matches.
// +kubebuilder:validation:XValidation:rule="self.type == 'raw' ? has(self.raw) : !has(self.raw)",message="raw is required for type raw and forbidden otherwise"
// +kubebuilder:validation:XValidation:rule="!has(self.macvlan) || self.type == 'macvlan'",message="macvlan settings are only allowed with type macvlan"
// +kubebuilder:validation:XValidation:rule="!has(self.ipvlan) || self.type == 'ipvlan'",message="ipvlan settings are only allowed with type ipvlan"
// +kubebuilder:validation:XValidation:rule="self.type == 'bridge' ? has(self.bridge) : !has(self.bridge)",message="bridge is required for type bridge and forbidden otherwise"
// +kubebuilder:validation:XValidation:rule="self.type == 'host-device' ? has(self.hostDevice) : !has(self.hostDevice)",message="hostDevice is required for type host-device and forbidden otherwise"
// +kubebuilder:validation:XValidation:rule="self.type == 'sriov' ? has(self.sriov) : !has(self.sriov)",message="sriov is required for type sriov and forbidden otherwise"
// +kubebuilder:validation:XValidation:rule="self.type == 'vlan' ? has(self.vlan) : !has(self.vlan)",message="vlan is required for type vlan and forbidden otherwise"
// +kubebuilder:validation:XValidation:rule="!has(self.uplink) || self.type in ['macvlan', 'ipvlan', 'vlan']",message="uplink is only meaningful for macvlan, ipvlan and vlan"
// +kubebuilder:validation:XValidation:rule="self.type != 'vlan' || (has(self.uplink) && has(self.uplink.interfaceName))",message="type vlan needs uplink.interfaceName: the vlan plugin cannot follow the default route"
// +kubebuilder:validation:XValidation:rule="self.type != 'raw' || (!has(self.uplink) && !has(self.ipam) && !has(self.mtu) && !has(self.bandwidth))",message="uplink, ipam, mtu and bandwidth must be part of raw.config for type raw"
// +kubebuilder:validation:XValidation:rule="!has(self.mtu) || self.type in ['macvlan', 'ipvlan', 'bridge', 'vlan']",message="mtu is only supported for macvlan, ipvlan, bridge and vlan"
type NetworkPlaneSpec struct {
	// type is the CNI plugin family: macvlan, ipvlan, bridge, host-device, sriov, vlan or raw.
	// +required
	Type NetworkPlaneType `json:"type"`

	// cniVersion is the CNI spec version written into the rendered config.
	// +optional
	// +kubebuilder:default="1.0.0"
	// +kubebuilder:validation:Enum="0.3.1";"0.4.0";"1.0.0";"1.1.0"
	CNIVersion string `json:"cniVersion,omitempty"`

	// macvlan holds the settings for type macvlan.
	// +optional
	Macvlan *MacvlanSettings `json:"macvlan,omitempty"`

	// ipvlan holds the settings for type ipvlan.
	// +optional
	IPVlan *IPVlanSettings `json:"ipvlan,omitempty"`

	// bridge holds the settings for type bridge.
	// +optional
	Bridge *BridgeSettings `json:"bridge,omitempty"`

	// hostDevice holds the settings for type host-device.
	// +optional
	HostDevice *HostDeviceSettings `json:"hostDevice,omitempty"`

	// sriov holds the settings for type sriov.
	// +optional
	SRIOV *SRIOVSettings `json:"sriov,omitempty"`

	// vlan holds the settings for type vlan.
	// +optional
	VLAN *VLANSettings `json:"vlan,omitempty"`

	// raw holds a complete CNI configuration for type raw.
	// +optional
	Raw *RawSettings `json:"raw,omitempty"`

	// uplink is the host interface macvlan, ipvlan and vlan attach to. When unset, macvlan and
	// ipvlan use each node's default-route interface.
	// +optional
	Uplink *Uplink `json:"uplink,omitempty"`

	// mtu is the MTU of the pod interface. When unset, the plugin default applies (usually the
	// uplink's MTU).
	// +optional
	// +kubebuilder:validation:Minimum=576
	// +kubebuilder:validation:Maximum=65535
	MTU *int32 `json:"mtu,omitempty"`

	// ipam configures address management for the pod interfaces. When unset, the interface has
	// no IP address (layer 2 only).
	// +optional
	IPAM *IPAM `json:"ipam,omitempty"`

	// bandwidth caps the traffic of every pod interface on this plane by chaining the bandwidth
	// plugin. Setting it (even empty) also lets attachments ask for their own caps.
	// +optional
	Bandwidth *Bandwidth `json:"bandwidth,omitempty"`

	// namespaceSelector selects the namespaces the NAD is rendered into. An empty selector selects
	// every namespace; an unset selector selects none.
	// +optional
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// nodeSelector selects the nodes where the plane is available. Pods attached to the plane,
	// by an AttachmentPolicy or by their own networks annotation, get a required node affinity
	// for these nodes from the pod webhook at creation (ANDed into any they have), so they are
	// scheduled only where the plane works.
	// +optional
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`
}

// MacvlanMode is the macvlan mode.
// +kubebuilder:validation:Enum=bridge;private;vepa;passthru
type MacvlanMode string

// MacvlanSettings are the macvlan plugin settings.
type MacvlanSettings struct {
	// mode is the macvlan mode: bridge (default), private, vepa or passthru.
	// +optional
	// +kubebuilder:default=bridge
	Mode MacvlanMode `json:"mode,omitempty"`
}

// IPVlanMode is the ipvlan mode.
// +kubebuilder:validation:Enum=l2;l3;l3s
type IPVlanMode string

// IPVlanSettings are the ipvlan plugin settings.
type IPVlanSettings struct {
	// mode is the ipvlan mode: l2 (default), l3 or l3s.
	// +optional
	// +kubebuilder:default=l2
	Mode IPVlanMode `json:"mode,omitempty"`
}

// BridgeSettings are the bridge plugin settings.
type BridgeSettings struct {
	// name is the Linux bridge on each node; it is created when missing.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`
	Name string `json:"name"`

	// vlan tags the pod's bridge port with this VLAN ID.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4094
	VLAN *int32 `json:"vlan,omitempty"`

	// isGateway assigns the IPAM gateway address to the bridge. It mirrors the bridge plugin's
	// boolean key of the same name, which is a static setting rather than evolving state.
	// +optional
	IsGateway *bool `json:"isGateway,omitempty"`
}

// HostDeviceSettings are the host-device plugin settings.
// +kubebuilder:validation:XValidation:rule="has(self.device) != has(self.pciAddress)",message="exactly one of device and pciAddress must be set"
type HostDeviceSettings struct {
	// device is the name of the host interface moved into the pod.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	Device string `json:"device,omitempty"`

	// pciAddress is the PCI address (for example 0000:3b:00.1) of the device moved into the pod.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$`
	PCIAddress string `json:"pciAddress,omitempty"`
}

// SRIOVToggle is an SR-IOV VF on/off setting, as the sriov plugin spells it.
// +kubebuilder:validation:Enum=on;off
type SRIOVToggle string

// SRIOVSettings are the sriov plugin settings.
type SRIOVSettings struct {
	// resourceName is the device-plugin resource the VFs are advertised as, with its prefix (for
	// example plexus.dev/intel_sriov_netdevice). It is written to the NAD's
	// k8s.v1.cni.cncf.io/resourceName annotation, and pods get a request for it.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?/[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$`
	ResourceName string `json:"resourceName"`

	// vlan is the VLAN ID of the VF (0 or unset: untagged).
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4094
	VLAN *int32 `json:"vlan,omitempty"`

	// spoofChk turns MAC spoof checking on the VF on or off.
	// +optional
	SpoofChk SRIOVToggle `json:"spoofChk,omitempty"`

	// trust turns VF trust mode on or off.
	// +optional
	Trust SRIOVToggle `json:"trust,omitempty"`
}

// VLANSettings are the vlan plugin settings.
type VLANSettings struct {
	// id is the 802.1Q VLAN ID.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4094
	ID int32 `json:"id"`
}

// RawSettings carry a complete CNI configuration.
type RawSettings struct {
	// config is a CNI network configuration or configuration list (JSON), used as the NAD's
	// spec.config unchanged. It must declare a supported cniVersion; plugin types must be plain
	// binary names.
	// +required
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=65536
	Config string `json:"config"`
}

// Uplink selects the host interface a plane attaches to on each node.
// +kubebuilder:validation:XValidation:rule="has(self.interfaceName) != (has(self.defaultRoute) && self.defaultRoute)",message="set exactly one of interfaceName and defaultRoute: true"
type Uplink struct {
	// interfaceName is the name of the uplink interface on every node (for example bond0.100 or
	// plexus-up0).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_.@-]*$`
	InterfaceName string `json:"interfaceName,omitempty"`

	// defaultRoute: true uses each node's default-route interface, detected per node.
	// +optional
	DefaultRoute *bool `json:"defaultRoute,omitempty"`
}

// IPAMType is the IPAM plugin.
// +kubebuilder:validation:Enum=host-local;static;dhcp;whereabouts
type IPAMType string

// IPAM types.
const (
	// IPAMTypeHostLocal allocates from per-node ranges (the host-local plugin).
	IPAMTypeHostLocal IPAMType = "host-local"
	// IPAMTypeStatic uses fixed addresses, or the attachment's ips.
	IPAMTypeStatic IPAMType = "static"
	// IPAMTypeDHCP asks a DHCP server on the segment (needs the CNI dhcp daemon on the nodes).
	IPAMTypeDHCP IPAMType = "dhcp"
	// IPAMTypeWhereabouts allocates cluster-wide unique addresses (whereabouts-compatible config).
	IPAMTypeWhereabouts IPAMType = "whereabouts"
)

// IPAM is the address management of a plane.
// +kubebuilder:validation:XValidation:rule="!(self.type in ['host-local', 'whereabouts']) || (has(self.ranges) && size(self.ranges) > 0)",message="ranges is required for host-local and whereabouts"
// +kubebuilder:validation:XValidation:rule="self.type in ['host-local', 'whereabouts'] || !has(self.ranges)",message="ranges is only allowed for host-local and whereabouts"
// +kubebuilder:validation:XValidation:rule="self.type == 'static' || !has(self.addresses)",message="addresses is only allowed for static"
// +kubebuilder:validation:XValidation:rule="self.type == 'whereabouts' || !has(self.exclude)",message="exclude is only allowed for whereabouts"
// +kubebuilder:validation:XValidation:rule="self.type != 'dhcp' || !has(self.routes)",message="routes come from the DHCP server for dhcp"
type IPAM struct {
	// type is the IPAM plugin: host-local, static, dhcp or whereabouts.
	// +required
	Type IPAMType `json:"type"`

	// ranges are the address ranges to allocate from (host-local, whereabouts).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	Ranges []IPRange `json:"ranges,omitempty"`

	// addresses are fixed addresses for static IPAM. Leave empty to take them from each
	// attachment's ips.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	Addresses []StaticAddress `json:"addresses,omitempty"`

	// routes are added in the pod for this interface.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	Routes []Route `json:"routes,omitempty"`

	// exclude lists CIDRs never allocated (whereabouts).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="must be a CIDR"
	Exclude []string `json:"exclude,omitempty"`
}

// IPRange is one address range.
// +kubebuilder:validation:XValidation:rule="!has(self.rangeStart) || cidr(self.subnet).containsIP(self.rangeStart)",message="rangeStart must be inside subnet"
// +kubebuilder:validation:XValidation:rule="!has(self.rangeEnd) || cidr(self.subnet).containsIP(self.rangeEnd)",message="rangeEnd must be inside subnet"
// +kubebuilder:validation:XValidation:rule="!has(self.gateway) || cidr(self.subnet).containsIP(self.gateway)",message="gateway must be inside subnet"
type IPRange struct {
	// subnet is the CIDR of the range, for example 10.10.0.0/24.
	// +required
	// +kubebuilder:validation:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="must be a CIDR"
	Subnet string `json:"subnet"`

	// rangeStart is the first allocatable address (default: the subnet's first host address).
	// +optional
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	RangeStart string `json:"rangeStart,omitempty"`

	// rangeEnd is the last allocatable address (default: the subnet's last host address).
	// +optional
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	RangeEnd string `json:"rangeEnd,omitempty"`

	// gateway is the gateway address of the range.
	// +optional
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	Gateway string `json:"gateway,omitempty"`
}

// StaticAddress is one fixed address for static IPAM.
type StaticAddress struct {
	// address is the address with prefix length, for example 10.20.0.5/24.
	// +required
	// +kubebuilder:validation:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="isCIDR(self) || (self.contains('/') && isIP(self.split('/')[0]))",message="must be an address with prefix length"
	Address string `json:"address"`

	// gateway is the gateway for this address.
	// +optional
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	Gateway string `json:"gateway,omitempty"`
}

// Route is one route in the pod.
type Route struct {
	// dst is the destination CIDR (0.0.0.0/0 for a default route through this interface).
	// +required
	// +kubebuilder:validation:MaxLength=43
	// +kubebuilder:validation:XValidation:rule="isCIDR(self)",message="must be a CIDR"
	Dst string `json:"dst"`

	// gw is the next hop (default: the range's gateway).
	// +optional
	// +kubebuilder:validation:MaxLength=39
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be an IP address"
	GW string `json:"gw,omitempty"`
}

// Bandwidth caps traffic on an interface (the bandwidth plugin; rates in bits per second,
// bursts in bits). A rate needs its burst and the other way round.
// +kubebuilder:validation:XValidation:rule="has(self.ingressRate) == has(self.ingressBurst)",message="ingressRate and ingressBurst must be set together"
// +kubebuilder:validation:XValidation:rule="has(self.egressRate) == has(self.egressBurst)",message="egressRate and egressBurst must be set together"
type Bandwidth struct {
	// ingressRate is the ingress rate limit in bits per second.
	// +optional
	// +kubebuilder:validation:Minimum=1
	IngressRate *int64 `json:"ingressRate,omitempty"`

	// ingressBurst is the ingress burst size in bits.
	// +optional
	// +kubebuilder:validation:Minimum=1
	IngressBurst *int64 `json:"ingressBurst,omitempty"`

	// egressRate is the egress rate limit in bits per second.
	// +optional
	// +kubebuilder:validation:Minimum=1
	EgressRate *int64 `json:"egressRate,omitempty"`

	// egressBurst is the egress burst size in bits.
	// +optional
	// +kubebuilder:validation:Minimum=1
	EgressBurst *int64 `json:"egressBurst,omitempty"`
}

// NetworkPlaneStatus is the observed state of a NetworkPlane.
type NetworkPlaneStatus struct {
	// conditions: Ready (the NAD is current in every selected namespace) and Degraded (conflict,
	// invalid configuration or write failures).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// renderedNamespaces is the number of namespaces holding the plane's current NAD.
	// +optional
	RenderedNamespaces int32 `json:"renderedNamespaces,omitempty"`

	// attachedPods is the number of pods whose network-status shows an interface on this plane.
	// +optional
	AttachedPods int32 `json:"attachedPods,omitempty"`

	// failedPods is the number of pods that asked for this plane and did not get it.
	// +optional
	FailedPods int32 `json:"failedPods,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=np,categories=plexus
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="name must be a DNS-1123 label (it becomes the NAD name)"
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Namespaces",type=integer,JSONPath=`.status.renderedNamespaces`
// +kubebuilder:printcolumn:name="Attached",type=integer,JSONPath=`.status.attachedPods`
// +kubebuilder:printcolumn:name="Failed",type=integer,JSONPath=`.status.failedPods`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// NetworkPlane is one secondary network. Plexus renders it as a NetworkAttachmentDefinition with
// the plane's name in every namespace its namespaceSelector matches.
type NetworkPlane struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired network.
	// +required
	Spec NetworkPlaneSpec `json:"spec"`

	// status is the observed state.
	// +optional
	Status NetworkPlaneStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the plane.
func (p *NetworkPlane) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the conditions of the plane.
func (p *NetworkPlane) SetConditions(c []metav1.Condition) { p.Status.Conditions = c }

// +kubebuilder:object:root=true

// NetworkPlaneList is a list of NetworkPlanes.
type NetworkPlaneList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the planes.
	Items []NetworkPlane `json:"items"`
}

func init() {
	SchemeBuilder.Register(&NetworkPlane{}, &NetworkPlaneList{})
}
