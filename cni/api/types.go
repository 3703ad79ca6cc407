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

package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/plexus-net/plexus/internal/netattach"
)

// PodRef identifies the pod sandbox a CNI request is for (from CNI_ARGS and the
// request itself).
type PodRef struct {
	// Namespace and Name are K8S_POD_NAMESPACE and K8S_POD_NAME ("" outside Kubernetes).
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// UID is K8S_POD_UID ("" when the runtime does not pass it).
	UID string `json:"uid,omitempty"`
	// ContainerID is CNI_CONTAINERID (the sandbox ID).
	ContainerID string `json:"containerID"`
	// IfName is CNI_IFNAME, the cluster network's interface (normally eth0).
	IfName string `json:"ifName"`
}

// String returns "namespace/name".
func (r PodRef) String() string { return r.Namespace + "/" + r.Name }

// Attachment is one delegate to run for a pod, fully resolved. Attachments[0] of a
// ResolvedPod is the cluster network.
type Attachment struct {
	// Network is the network-status name: "namespace/nad" for a NetworkAttachmentDefinition,
	// the configuration name for an on-disk cluster network.
	Network string `json:"network"`
	// Config is the delegate's CNI configuration or configuration list, name injected.
	Config []byte `json:"config"`
	// IfName is the interface name inside the pod.
	IfName string `json:"ifName"`
	// ClusterNetwork is set on the cluster-network attachment only.
	ClusterNetwork bool `json:"clusterNetwork,omitempty"`
	// RuntimeConfig holds the capability arguments the pod requested for this attachment
	// (ips, mac, bandwidth, portMappings, infinibandGUID, deviceID). Never the runtime's.
	RuntimeConfig map[string]any `json:"runtimeConfig,omitempty"`
	// CNIArgs is the annotation's cni-args, merged into args.cni of every plugin.
	CNIArgs map[string]any `json:"cniArgs,omitempty"`
	// ResourceName is the NAD's k8s.v1.cni.cncf.io/resourceName.
	ResourceName string `json:"resourceName,omitempty"`
	// DeviceID is the device allocated to this attachment (device plugin first, then the
	// annotation's deviceID).
	DeviceID string `json:"deviceID,omitempty"`
	// DeviceIDFromResource is true when DeviceID came from the device plugin.
	DeviceIDFromResource bool `json:"deviceIDFromResource,omitempty"`
	// GatewayRequest is the annotation's default-route (nil: not claimed).
	GatewayRequest []string `json:"gatewayRequest,omitempty"`
	// ClaimsDefaultRoute is true when the annotation element carried default-route.
	ClaimsDefaultRoute bool `json:"claimsDefaultRoute,omitempty"`
}

// ResolvedPod is a Resolver's answer.
type ResolvedPod struct {
	// UID is the pod's UID as the API (or the agent's cache) knows it; "" when unknown.
	UID string `json:"uid,omitempty"`
	// SkipStatus is set when network-status must not be written (system namespaces).
	SkipStatus bool `json:"skipStatus,omitempty"`
	// Attachments are the delegates in order: cluster network first.
	Attachments []Attachment `json:"attachments"`
	// APIRequests counts the API requests the resolution made (for benchmarks).
	APIRequests int `json:"apiRequests,omitempty"`
}

// Resolver turns a pod reference into its ordered attachments.
type Resolver interface {
	Resolve(ctx context.Context, ref PodRef) (*ResolvedPod, error)
}

// Event types.
const (
	EventTypeNormal  = "Normal"
	EventTypeWarning = "Warning"
)

// Event reasons emitted on pods.
const (
	// ReasonAddedInterface is emitted once per attachment after a successful ADD.
	ReasonAddedInterface = "AddedInterface"
	// ReasonInvalidNetworkAnnotation is emitted when a networks annotation is rejected.
	ReasonInvalidNetworkAnnotation = "InvalidNetworkAnnotation"
	// ReasonNoNetworkFound is emitted when a selected NAD does not exist.
	ReasonNoNetworkFound = "NoNetworkFound"
	// ReasonNetworkNotAllowed is emitted when namespace isolation forbids a NAD.
	ReasonNetworkNotAllowed = "NetworkNotAllowed"
	// ReasonInvalidNetworkConfig is emitted when a NAD's CNI configuration is unusable.
	ReasonInvalidNetworkConfig = "InvalidNetworkConfig"
	// ReasonAddFailed is emitted when a delegate's ADD fails.
	ReasonAddFailed = "AttachmentFailed"
)

// Event is a pod event to record.
type Event struct {
	Type    string `json:"type"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// StatusReport is what plexus-cni hands over at the end of an ADD: the network-status
// to publish (nil: publish nothing) and the events to record.
type StatusReport struct {
	// UID is the pod UID the report is about (guards against a recreated pod).
	UID string `json:"uid,omitempty"`
	// NetworkStatus is the full network-status annotation value to set; nil leaves it alone.
	NetworkStatus []netattach.NetworkStatus `json:"networkStatus,omitempty"`
	// Events are recorded on the pod.
	Events []Event `json:"events,omitempty"`
}

// StatusSink publishes status reports: one PATCH plus events in direct mode, a
// journal entry in the node agent.
type StatusSink interface {
	Report(ctx context.Context, ref PodRef, report *StatusReport) error
}

// Well-known causes of resolution failure, matched with errors.Is.
var (
	// ErrPodNotFound means the pod does not exist (or has another UID).
	ErrPodNotFound = errors.New("pod not found")
	// ErrNetworkNotFound means a selected NetworkAttachmentDefinition does not exist.
	ErrNetworkNotFound = errors.New("network attachment definition not found")
	// ErrNetworkNotAllowed means namespace isolation forbids the selection (spec §7.4).
	ErrNetworkNotAllowed = errors.New("network attachment not allowed")
	// ErrUnavailable means the source of truth (API server, agent) cannot be reached.
	ErrUnavailable = errors.New("resolver unavailable")
)

// ResolveError is a resolution failure with the pod event that explains it.
type ResolveError struct {
	// Reason is the event reason (ReasonNoNetworkFound, ...); "" for no event.
	Reason string
	// Transient is true when a retry may succeed (CNI code 11, try again later).
	Transient bool
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *ResolveError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ResolveError) Unwrap() error { return e.Err }

// NewResolveError builds a ResolveError from a formatted message.
func NewResolveError(reason string, transient bool, format string, args ...any) *ResolveError {
	return &ResolveError{Reason: reason, Transient: transient, Err: fmt.Errorf(format, args...)}
}
