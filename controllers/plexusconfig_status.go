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
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// maxListedNodes bounds how many nodes a condition message names.
const maxListedNodes = 5

// failingAgentReasons are the container waiting reasons that mean the agent pod is failing,
// not merely starting.
var failingAgentReasons = map[string]bool{
	"CrashLoopBackOff": true, "ErrImagePull": true, "ImagePullBackOff": true, "ErrImageNeverPull": true,
	"InvalidImageName": true, "CreateContainerConfigError": true, "CreateContainerError": true,
	"RunContainerError": true, "PreStartHookError": true,
}

// agentRollout is what the status needs from the DaemonSet and its pods.
type agentRollout struct {
	// current is true when the DaemonSet controller has observed the latest spec.
	current                 bool
	desired, updated, ready int32
	available, misscheduled int32
	failing                 map[string]string // node -> why
}

// rolloutFromDaemonSet reads the rollout counters of ds.
func rolloutFromDaemonSet(ds *appsv1.DaemonSet) agentRollout {
	st := ds.Status
	return agentRollout{
		current: st.ObservedGeneration >= ds.Generation,
		desired: st.DesiredNumberScheduled, updated: st.UpdatedNumberScheduled,
		ready: st.NumberReady, available: st.NumberAvailable, misscheduled: st.NumberMisscheduled,
	}
}

// complete is true when every node runs the current agent and it is available there.
func (r agentRollout) complete() bool {
	return r.current && r.updated >= r.desired && r.available >= r.desired
}

// failingAgentPods names the nodes whose agent pod is failing, with the reason.
func failingAgentPods(pods []corev1.Pod) map[string]string {
	out := map[string]string{}
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName == "" || p.DeletionTimestamp != nil {
			continue
		}
		if p.Status.Phase == corev1.PodFailed {
			out[p.Spec.NodeName] = fmt.Sprintf("pod %s failed: %s", p.Name, p.Status.Reason)
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && failingAgentReasons[w.Reason] {
				out[p.Spec.NodeName] = fmt.Sprintf("pod %s: %s: %s", p.Name, w.Reason, truncateMessage(w.Message, 200))
				break
			}
			if t := cs.LastTerminationState.Terminated; t != nil && !cs.Ready && cs.RestartCount > 0 && t.ExitCode != 0 {
				out[p.Spec.NodeName] = fmt.Sprintf("pod %s restarted %d times, last exit code %d: %s", p.Name, cs.RestartCount,
					t.ExitCode, truncateMessage(t.Message, 200))
				break
			}
		}
	}
	return out
}

func truncateMessage(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// describeFailing renders "node-a (why); node-b (why)" for at most maxListedNodes nodes.
func describeFailing(failing map[string]string) string {
	nodes := make([]string, 0, len(failing))
	for n := range failing {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	parts := make([]string, 0, maxListedNodes)
	for i, n := range nodes {
		if i == maxListedNodes {
			parts = append(parts, fmt.Sprintf("and %d more", len(nodes)-maxListedNodes))
			break
		}
		parts = append(parts, fmt.Sprintf("node %s (%s)", n, failing[n]))
	}
	return strings.Join(parts, "; ")
}

// setPlexusConfigStatus computes the status from the scope.
func setPlexusConfigStatus(s *plexusConfigScope, reconcileErr error) {
	c := s.config
	gen := c.Generation
	r := s.rollout
	c.Status.DesiredNodes, c.Status.UpdatedNodes, c.Status.ReadyNodes = r.desired, r.updated, r.ready
	if reconcileErr == nil {
		c.Status.ObservedGeneration = gen
	}
	ready := metav1.Condition{Type: plexusv1alpha1.ReadyCondition, ObservedGeneration: gen}
	progressing := metav1.Condition{Type: plexusv1alpha1.ProgressingCondition, ObservedGeneration: gen,
		Status: metav1.ConditionFalse, Reason: plexusv1alpha1.AsExpectedReason}
	degraded := metav1.Condition{Type: plexusv1alpha1.DegradedCondition, ObservedGeneration: gen,
		Status: metav1.ConditionFalse, Reason: plexusv1alpha1.AsExpectedReason, Message: "Nothing is failing"}

	counts := fmt.Sprintf("%d of %d nodes updated, %d ready", r.updated, r.desired, r.ready)
	switch {
	case s.deleting:
		ready.Status, ready.Reason = metav1.ConditionFalse, plexusv1alpha1.PlexusConfigUninstallingReason
		ready.Message = "Removing the Plexus CNI configuration from every node: " + counts
	case !r.current || r.updated < r.desired || r.available < r.desired:
		ready.Status, ready.Reason = metav1.ConditionFalse, plexusv1alpha1.PlexusConfigAgentsNotReadyReason
		ready.Message = fmt.Sprintf("%d of %d nodes have a ready agent", r.available, r.desired)
	case r.desired == 0:
		ready.Status, ready.Reason = metav1.ConditionTrue, plexusv1alpha1.PlexusConfigNoNodesReason
		ready.Message = "No node is eligible for the agent"
	default:
		ready.Status, ready.Reason = metav1.ConditionTrue, plexusv1alpha1.PlexusConfigRolloutCompleteReason
		ready.Message = fmt.Sprintf("The agent is current and ready on all %d nodes", r.desired)
	}
	if !r.complete() {
		progressing.Status, progressing.Reason = metav1.ConditionTrue, plexusv1alpha1.PlexusConfigRollingOutReason
		progressing.Message = counts
	} else {
		progressing.Message = counts
	}
	switch {
	case reconcileErr != nil:
		degraded.Status, degraded.Reason = metav1.ConditionTrue, plexusv1alpha1.PlexusConfigApplyFailedReason
		degraded.Message = truncateMessage(reconcileErr.Error(), 1024)
		if ready.Status == metav1.ConditionTrue {
			ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, degraded.Reason, degraded.Message
		}
	case len(r.failing) > 0:
		degraded.Status, degraded.Reason = metav1.ConditionTrue, plexusv1alpha1.PlexusConfigAgentFailedReason
		degraded.Message = "The agent is failing on " + describeFailing(r.failing)
	}
	meta.SetStatusCondition(&c.Status.Conditions, ready)
	meta.SetStatusCondition(&c.Status.Conditions, progressing)
	meta.SetStatusCondition(&c.Status.Conditions, degraded)
}
