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

// AttachmentPolicy condition reasons. The condition types are ReadyCondition and
// DegradedCondition.
const (
	// AttachmentPolicyAllAttachedReason (Ready=True) means every matched pod has all the
	// attachments it asked for.
	AttachmentPolicyAllAttachedReason = "AllAttached"
	// AttachmentPolicyNoMatchingPodsReason (Ready=True) means the podSelector matches no pod yet.
	AttachmentPolicyNoMatchingPodsReason = "NoMatchingPods"
	// AttachmentPolicyPodsPendingReason (Ready=False) means some matched pods have not reported
	// their network-status yet (not scheduled, or sandbox being created).
	AttachmentPolicyPodsPendingReason = "PodsPending"
	// AttachmentPolicyPodsFailedReason (Ready=False, Degraded=True) means at least one matched pod
	// is missing an attachment; status.failingPods names them with reasons.
	AttachmentPolicyPodsFailedReason = "PodsFailed"
	// AttachmentPolicyPlaneNotFoundReason (Degraded=True) means an attachment names a
	// NetworkPlane that does not exist. Pods still get the annotation; their sandbox creation
	// fails until the plane exists.
	AttachmentPolicyPlaneNotFoundReason = "PlaneNotFound"
	// AttachmentPolicyPlaneNotRenderedReason (Degraded=True) means an attachment names a
	// NetworkPlane whose NAD is not in the policy's namespace (the plane's namespaceSelector does
	// not select it, or a foreign NAD blocks it). Pods would fail to start their sandbox.
	AttachmentPolicyPlaneNotRenderedReason = "PlaneNotRendered"
)

// Reasons a pod is listed in AttachmentPolicyStatus.FailingPods.
const (
	// PodNotMutatedReason means the pod matches the policy but its networks annotation lacks the
	// policy's attachments: it was created before the policy, or while the webhook was down.
	// Recreate the pod.
	PodNotMutatedReason = "NotMutated"
	// PodInvalidAnnotationReason means the pod's networks annotation does not parse.
	PodInvalidAnnotationReason = "InvalidAnnotation"
	// PodSandboxFailedReason means the runtime reported FailedCreatePodSandBox for the pod; the
	// message is the event's.
	PodSandboxFailedReason = "SandboxFailed"
	// PodMissingAttachmentReason means the pod is running but its network-status lacks a
	// requested network (it started without the interface).
	PodMissingAttachmentReason = "MissingAttachment"
)

// Pod readiness gate.
const (
	// AttachmentsReadyPodCondition is the pod condition (and readiness gate) Plexus sets to True
	// when every requested network shows up in the pod's network-status.
	AttachmentsReadyPodCondition = "net.plexus.dev/AttachmentsReady"
)

// ReadinessGateMode says whether pods get the AttachmentsReady readiness gate.
// +kubebuilder:validation:Enum=Disabled;Enabled
type ReadinessGateMode string

// Readiness gate modes.
const (
	// ReadinessGateDisabled adds no readiness gate (default).
	ReadinessGateDisabled ReadinessGateMode = "Disabled"
	// ReadinessGateEnabled adds the net.plexus.dev/AttachmentsReady readiness gate to matched
	// pods, so they are not Ready (not in Service endpoints) until their attachments are up.
	ReadinessGateEnabled ReadinessGateMode = "Enabled"
)

// AttachmentPolicySpec selects pods in the policy's namespace and lists the networks they get.
type AttachmentPolicySpec struct {
	// podSelector selects the pods of this namespace the policy applies to. An empty selector
	// selects every pod of the namespace.
	// +required
	PodSelector metav1.LabelSelector `json:"podSelector"`

	// attachments are added, in this order, to the networks annotation of every selected pod when
	// it is created.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:XValidation:rule="self.all(a, !has(a.interface) || self.exists_one(b, has(b.interface) && b.interface == a.interface))",message="interface names must be unique"
	// +kubebuilder:validation:XValidation:rule="self.filter(a, has(a.defaultRoute)).size() <= 1",message="at most one attachment may set defaultRoute"
	Attachments []Attachment `json:"attachments"`

	// readinessGate Enabled adds the net.plexus.dev/AttachmentsReady readiness gate to the
	// selected pods; Plexus sets the condition from the pod's network-status.
	// +optional
	// +kubebuilder:default=Disabled
	ReadinessGate ReadinessGateMode `json:"readinessGate,omitempty"`
}

// Attachment is one network a pod is attached to.
type Attachment struct {
	// plane is the name of the NetworkPlane (and so of the NAD in the pod's namespace).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Plane string `json:"plane"`

	// interface is the interface name in the pod (default: net1, net2, … by position).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[a-zA-Z0-9_-][a-zA-Z0-9_.-]*$`
	Interface string `json:"interface,omitempty"`

	// ips are static addresses (CIDR notation) for the interface; the plane's IPAM must take them
	// (static IPAM). A policy usually selects one pod when it sets ips.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=4
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self) || (self.contains('/') && isIP(self.split('/')[0]))",message="must be an address with prefix length"
	IPs []string `json:"ips,omitempty"`

	// mac is a static MAC address for the interface.
	// +optional
	// +kubebuilder:validation:MaxLength=17
	// +kubebuilder:validation:Pattern=`^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$`
	MAC string `json:"mac,omitempty"`

	// defaultRoute makes this interface the pod's default route through these gateways (at most
	// one IPv4 and one IPv6 address).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=2
	// +kubebuilder:validation:items:MaxLength=39
	// +kubebuilder:validation:items:XValidation:rule="isIP(self)",message="must be an IP address"
	DefaultRoute []string `json:"defaultRoute,omitempty"`

	// bandwidth caps this interface (needs spec.bandwidth set on the plane, which chains the
	// bandwidth plugin).
	// +optional
	Bandwidth *Bandwidth `json:"bandwidth,omitempty"`
}

// FailingPod is a pod that did not get the attachments it asked for.
type FailingPod struct {
	// name is the pod name.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// reason is a CamelCase reason: NotMutated, InvalidAnnotation, SandboxFailed or
	// MissingAttachment.
	// +required
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason"`

	// message is a human-readable detail (truncated to 1024 characters).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// AttachmentPolicyStatus is the observed state of an AttachmentPolicy.
type AttachmentPolicyStatus struct {
	// conditions: Ready (every matched pod is attached) and Degraded (failed pods, missing planes).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// matchedPods is the number of pods the podSelector matches.
	// +optional
	MatchedPods int32 `json:"matchedPods,omitempty"`

	// attachedPods is the number of matched pods with every requested network attached.
	// +optional
	AttachedPods int32 `json:"attachedPods,omitempty"`

	// failedPods is the number of matched pods missing an attachment.
	// +optional
	FailedPods int32 `json:"failedPods,omitempty"`

	// failingPods lists up to 20 failed pods (sorted by name) with reasons.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	FailingPods []FailingPod `json:"failingPods,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=ap,categories=plexus
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Matched",type=integer,JSONPath=`.status.matchedPods`
// +kubebuilder:printcolumn:name="Attached",type=integer,JSONPath=`.status.attachedPods`
// +kubebuilder:printcolumn:name="Failed",type=integer,JSONPath=`.status.failedPods`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// AttachmentPolicy attaches the pods it selects, in its namespace, to NetworkPlanes: a mutating
// webhook writes the k8s.v1.cni.cncf.io/networks annotation (and SR-IOV resource requests) when
// a pod is created.
type AttachmentPolicy struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired attachments.
	// +required
	Spec AttachmentPolicySpec `json:"spec"`

	// status is the observed state.
	// +optional
	Status AttachmentPolicyStatus `json:"status,omitempty"`
}

// GetConditions returns the conditions of the policy.
func (p *AttachmentPolicy) GetConditions() []metav1.Condition { return p.Status.Conditions }

// SetConditions replaces the conditions of the policy.
func (p *AttachmentPolicy) SetConditions(c []metav1.Condition) { p.Status.Conditions = c }

// +kubebuilder:object:root=true

// AttachmentPolicyList is a list of AttachmentPolicies.
type AttachmentPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the policies.
	Items []AttachmentPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&AttachmentPolicy{}, &AttachmentPolicyList{})
}
