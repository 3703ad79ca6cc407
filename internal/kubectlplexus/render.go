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
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// RenderPods writes one row per secondary attachment of each pod. Pods without secondary
// networks are left out. With allNamespaces the first column is NAMESPACE.
func RenderPods(out io.Writer, pods []*PodNetworks, allNamespaces bool) error {
	headers := []string{"POD", "INTERFACE", "NETWORK", "PLANE", "IPS", "MAC", "STATE"}
	if allNamespaces {
		headers = append([]string{"NAMESPACE"}, headers...)
	}
	sorted := append([]*PodNetworks{}, pods...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Pod, sorted[j].Pod
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	t := newTable(out, headers...)
	for _, p := range sorted {
		if !p.HasSecondaryNetworks() {
			continue
		}
		rows := p.Attachments
		if p.AnnotationError != nil && len(rows) == 0 {
			rows = []Attachment{{Interface: "-", Network: "-", State: StateInvalid}}
		}
		for _, a := range rows {
			cells := []string{p.Pod.Name, a.Interface, a.Network, dash(a.Plane), joinOrNone(a.IPs), dash(a.MAC), a.State}
			if allNamespaces {
				cells = append([]string{p.Pod.Namespace}, cells...)
			}
			t.row(cells...)
		}
	}
	return t.flush()
}

// RenderPlanes writes the NetworkPlanes with their status: rendered namespaces, attached and
// failed pods, readiness and its reason.
func RenderPlanes(out io.Writer, planes []plexusv1alpha1.NetworkPlane, now time.Time) error {
	sorted := append([]plexusv1alpha1.NetworkPlane{}, planes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	t := newTable(out, "NAME", "TYPE", "READY", "NAMESPACES", "ATTACHED", "FAILED", "REASON", "AGE")
	for i := range sorted {
		p := &sorted[i]
		ready, reason := conditionSummary(p.Status.Conditions, p.Generation, p.Status.ObservedGeneration)
		t.row(p.Name, string(p.Spec.Type), ready,
			fmt.Sprint(p.Status.RenderedNamespaces), fmt.Sprint(p.Status.AttachedPods), fmt.Sprint(p.Status.FailedPods),
			reason, age(now, p.CreationTimestamp.Time))
	}
	return t.flush()
}

// conditionSummary returns the Ready status and the most telling reason: Degraded's when it is
// True, else Ready's; "Unknown"/"NotObserved" while the controller has not seen the generation.
func conditionSummary(conds []metav1.Condition, generation, observed int64) (string, string) {
	ready := meta.FindStatusCondition(conds, plexusv1alpha1.ReadyCondition)
	if ready == nil {
		return "Unknown", "NotReconciled"
	}
	reason := ready.Reason
	if d := meta.FindStatusCondition(conds, plexusv1alpha1.DegradedCondition); d != nil && d.Status == "True" {
		reason = d.Reason
	}
	if observed != 0 && observed < generation {
		return "Unknown", "NotObserved"
	}
	return string(ready.Status), reason
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// podPhase is kubectl's STATUS column in short: the waiting reason of the first waiting
// container (ContainerCreating, CrashLoopBackOff, …) or the phase.
func podPhase(pod *corev1.Pod) string {
	for _, cs := range append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
			return cs.State.Waiting.Reason
		}
	}
	if pod.DeletionTimestamp != nil {
		return "Terminating"
	}
	if pod.Status.Phase == corev1.PodPending && len(pod.Status.ContainerStatuses) == 0 && pod.Spec.NodeName != "" {
		return "ContainerCreating"
	}
	return strings.TrimSpace(string(pod.Status.Phase))
}
