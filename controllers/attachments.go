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
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

// attachState is the attachment state of one pod (or of one of its networks).
type attachState string

const (
	// attachPending: the pod has not reported its network-status yet.
	attachPending attachState = "pending"
	// attachAttached: every requested network shows up in network-status.
	attachAttached attachState = "attached"
	// attachFailed: the sandbox failed, the annotation is invalid, or the pod runs without a
	// requested network.
	attachFailed attachState = "failed"
)

// statusGracePeriod is how long a started pod may lack a network-status annotation before it is
// reported as failed: the node agent writes the annotation asynchronously after the sandbox is
// up.
const statusGracePeriod = 60 * time.Second

// maxMessageLen bounds messages copied from pods and events into status.
const maxMessageLen = 1024

// podAttachments is the evaluated attachment state of one pod.
type podAttachments struct {
	// requested are the parsed networks annotation elements (namespace defaulted).
	requested []netattach.NetworkSelectionElement
	// state is the overall state.
	state attachState
	// reason is a FailingPod reason when state is failed.
	reason string
	// message explains reason.
	message string
	// perNetwork is the state per requested "namespace/name" key (failed wins over pending).
	perNetwork map[string]attachState
	// recheckAfter, when non-zero, is when a pending pod turns failed without any new event.
	recheckAfter time.Duration
}

// evaluatePod compares what a pod asked for (networks annotation) with what it got
// (network-status annotation) and with the last FailedCreatePodSandBox event message
// (sandboxFailure, empty if none). It is pure: now is passed in.
func evaluatePod(pod *corev1.Pod, sandboxFailure string, now time.Time) podAttachments {
	res := podAttachments{perNetwork: map[string]attachState{}}
	value := pod.Annotations[netattach.NetworksAnnotation]
	requested, err := netattach.ParseNetworks(value, pod.Namespace)
	if err != nil {
		res.state, res.reason, res.message = attachFailed, plexusv1alpha1.PodInvalidAnnotationReason, truncate(err.Error())
		return res
	}
	res.requested = requested
	if len(requested) == 0 {
		res.state = attachAttached
		return res
	}

	statuses, hasStatus := parseNetworkStatus(pod.Annotations[netattach.NetworkStatusAnnotation])
	used := make([]bool, len(statuses))
	var missing []string
	for _, e := range requested {
		key := e.Key()
		if matchStatus(statuses, used, key, e.InterfaceName) {
			if _, seen := res.perNetwork[key]; !seen {
				res.perNetwork[key] = attachAttached
			}
			continue
		}
		res.perNetwork[key] = attachPending
		missing = append(missing, describeElement(e))
	}
	if len(missing) == 0 {
		res.state = attachAttached
		return res
	}

	started, startedAt := podStarted(pod)
	switch {
	case sandboxFailure != "":
		res.state, res.reason, res.message = attachFailed, plexusv1alpha1.PodSandboxFailedReason, truncate(sandboxFailure)
	case hasStatus && started:
		res.state, res.reason = attachFailed, plexusv1alpha1.PodMissingAttachmentReason
		res.message = truncate("pod started without " + strings.Join(missing, ", "))
	case started && now.Sub(startedAt) >= statusGracePeriod:
		res.state, res.reason = attachFailed, plexusv1alpha1.PodMissingAttachmentReason
		res.message = truncate(fmt.Sprintf("pod started %s ago and has no network-status; missing %s",
			now.Sub(startedAt).Round(time.Second), strings.Join(missing, ", ")))
	case started:
		res.state = attachPending
		res.recheckAfter = statusGracePeriod - now.Sub(startedAt)
	default:
		res.state = attachPending
	}
	if res.state == attachFailed {
		for key, st := range res.perNetwork {
			if st == attachPending && (res.reason != plexusv1alpha1.PodSandboxFailedReason || mentions(sandboxFailure, key)) {
				res.perNetwork[key] = attachFailed
			}
		}
	}
	return res
}

// mentions reports whether a sandbox failure message names the network "namespace/name".
func mentions(msg, key string) bool {
	_, name, _ := strings.Cut(key, "/")
	return strings.Contains(msg, key) || strings.Contains(msg, `"`+name+`"`)
}

// parseNetworkStatus decodes the network-status annotation. A malformed value counts as absent.
func parseNetworkStatus(value string) ([]nadv1.NetworkStatus, bool) {
	if strings.TrimSpace(value) == "" {
		return nil, false
	}
	var statuses []nadv1.NetworkStatus
	if err := json.Unmarshal([]byte(value), &statuses); err != nil {
		return nil, false
	}
	return statuses, true
}

// matchStatus finds an unused status entry for network key (and interface, when requested).
func matchStatus(statuses []nadv1.NetworkStatus, used []bool, key, ifname string) bool {
	for i := range statuses {
		if used[i] || statuses[i].Name != key {
			continue
		}
		if ifname != "" && statuses[i].Interface != ifname {
			continue
		}
		used[i] = true
		return true
	}
	return false
}

// podStarted reports whether the pod's sandbox (and so its networking) is up, and since when.
func podStarted(pod *corev1.Pod) (bool, time.Time) {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReadyToStartContainers && c.Status == corev1.ConditionTrue {
			return true, c.LastTransitionTime.Time
		}
	}
	if pod.Status.Phase == corev1.PodRunning || pod.Status.Phase == corev1.PodSucceeded {
		if pod.Status.StartTime != nil {
			return true, pod.Status.StartTime.Time
		}
		return true, time.Time{}
	}
	return false, time.Time{}
}

func describeElement(e netattach.NetworkSelectionElement) string {
	if e.InterfaceName != "" {
		return fmt.Sprintf("%s (interface %s)", e.Key(), e.InterfaceName)
	}
	return e.Key()
}

func truncate(s string) string {
	if len(s) <= maxMessageLen {
		return s
	}
	return s[:maxMessageLen-3] + "..."
}

// hasAttachmentsGate reports whether the pod carries the AttachmentsReady readiness gate.
func hasAttachmentsGate(pod *corev1.Pod) bool {
	for _, g := range pod.Spec.ReadinessGates {
		if g.ConditionType == plexusv1alpha1.AttachmentsReadyPodCondition {
			return true
		}
	}
	return false
}

// requestedNetworkKeys returns the sorted, de-duplicated "namespace/name" keys a pod asks for
// (nil when the annotation is absent or invalid). It backs the pod index.
func requestedNetworkKeys(pod *corev1.Pod) []string {
	value := pod.Annotations[netattach.NetworksAnnotation]
	if value == "" {
		return nil
	}
	elems, err := netattach.ParseNetworks(value, pod.Namespace)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	keys := make([]string, 0, len(elems))
	for _, e := range elems {
		if !seen[e.Key()] {
			seen[e.Key()] = true
			keys = append(keys, e.Key())
		}
	}
	sort.Strings(keys)
	return keys
}
