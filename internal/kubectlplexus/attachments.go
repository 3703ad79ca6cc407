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

package kubectlplexus

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/plexus-net/plexus/internal/netattach"
)

// Attachment states shown in the STATE column.
const (
	// StateAttached: the network-status reports the interface.
	StateAttached = "Attached"
	// StatePending: the pod has no network-status yet (sandbox not created, or the status is
	// still being written).
	StatePending = "Pending"
	// StateMissing: the network-status exists but lacks the requested network.
	StateMissing = "Missing"
	// StateInvalid: the networks annotation does not parse.
	StateInvalid = "InvalidAnnotation"
	// StateUnrequested: the network-status reports a secondary interface nobody requested
	// (for example from a default-network override).
	StateUnrequested = "Unrequested"
)

// Attachment is one secondary network of a pod: what was requested and what was reported.
type Attachment struct {
	// Interface is the requested interface name, or the one the network-status reports, or the
	// default name (net1, net2, … by position).
	Interface string
	// Network is the NAD as namespace/name.
	Network string
	// Plane is the NetworkPlane the NAD was rendered from, when known.
	Plane string
	// IPs and MAC come from the network-status.
	IPs []string
	MAC string
	// State is one of the State constants.
	State string
	// Detail explains a non-Attached state.
	Detail string
}

// PodNetworks is the secondary-network view of one pod.
type PodNetworks struct {
	Pod         *corev1.Pod
	Attachments []Attachment
	// Requested is false when the pod has no networks annotation.
	Requested bool
	// HasStatus is true when the pod carries a network-status annotation.
	HasStatus bool
	// Statuses is the parsed network-status (cluster network included).
	Statuses []netattach.NetworkStatus
	// AnnotationError is set when the networks annotation or the status does not parse.
	AnnotationError error
}

// HasSecondaryNetworks reports whether the pod asks for or has any secondary network.
func (p *PodNetworks) HasSecondaryNetworks() bool {
	return p.Requested || len(p.Attachments) > 0 || p.AnnotationError != nil
}

// Summary is a one-word state of the whole pod: Attached when every requested network is
// attached, else the first non-attached state.
func (p *PodNetworks) Summary() string {
	if p.AnnotationError != nil {
		return StateInvalid
	}
	for _, a := range p.Attachments {
		if a.State != StateAttached && a.State != StateUnrequested {
			return a.State
		}
	}
	return StateAttached
}

// AnalyzePod compares the pod's requested networks with its network-status. planes maps a NAD
// "namespace/name" to the NetworkPlane it was rendered from (may be nil).
func AnalyzePod(pod *corev1.Pod, planes map[string]string) *PodNetworks {
	out := &PodNetworks{Pod: pod}
	var requested []netattach.NetworkSelectionElement
	if v, ok := pod.Annotations[netattach.NetworksAnnotation]; ok && strings.TrimSpace(v) != "" {
		out.Requested = true
		var err error
		requested, err = netattach.ParseNetworks(v, pod.Namespace)
		if err != nil {
			out.AnnotationError = err
		}
	}
	if v, ok := pod.Annotations[netattach.NetworkStatusAnnotation]; ok {
		out.HasStatus = true
		if err := json.Unmarshal([]byte(v), &out.Statuses); err != nil && out.AnnotationError == nil {
			out.AnnotationError = fmt.Errorf("%s does not parse: %w", netattach.NetworkStatusAnnotation, err)
		}
	}
	used := make([]bool, len(out.Statuses))
	for i := range out.Statuses {
		used[i] = out.Statuses[i].Default
	}
	for i, r := range requested {
		key := r.Key()
		ifname := r.InterfaceName
		if ifname == "" {
			ifname = fmt.Sprintf("net%d", i+1)
		}
		a := Attachment{Interface: ifname, Network: key, Plane: planes[key]}
		idx := findStatus(out.Statuses, used, key, ifname)
		switch {
		case idx >= 0:
			used[idx] = true
			s := out.Statuses[idx]
			a.Interface, a.IPs, a.MAC, a.State = s.Interface, s.IPs, s.Mac, StateAttached
		case !out.HasStatus:
			a.State, a.Detail = StatePending, "no network-status yet"
			if pod.Status.Phase == corev1.PodRunning {
				a.Detail = "pod is running but no network-status was written"
			}
		default:
			a.State, a.Detail = StateMissing, "not in the network-status"
		}
		out.Attachments = append(out.Attachments, a)
	}
	for i, s := range out.Statuses {
		if used[i] || s.Interface == "" {
			continue
		}
		out.Attachments = append(out.Attachments, Attachment{
			Interface: s.Interface, Network: s.Name, Plane: planes[s.Name], IPs: s.IPs, MAC: s.Mac,
			State: StateUnrequested,
		})
	}
	return out
}

// findStatus returns the unused network-status entry for the network, preferring the one with
// the expected interface name; -1 when there is none.
func findStatus(statuses []netattach.NetworkStatus, used []bool, key, ifname string) int {
	candidate := -1
	for i, s := range statuses {
		if used[i] || !sameNetwork(s.Name, key) {
			continue
		}
		if s.Interface == ifname {
			return i
		}
		if candidate < 0 {
			candidate = i
		}
	}
	return candidate
}

// sameNetwork compares a network-status name with "namespace/name"; old writers put the bare
// NAD name in the status.
func sameNetwork(statusName, key string) bool {
	if statusName == key {
		return true
	}
	_, name, _ := strings.Cut(key, "/")
	return !strings.Contains(statusName, "/") && statusName == name
}
