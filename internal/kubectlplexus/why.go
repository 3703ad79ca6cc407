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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

// attachmentReasons are the pod Event reasons that explain attachments: the kubelet's sandbox
// failure and the ones the Plexus meta-plugin (and Multus) emit.
var attachmentReasons = map[string]bool{
	"FailedCreatePodSandBox":   true,
	"AddedInterface":           true,
	"NoNetworkFound":           true,
	"InvalidNetworkAnnotation": true,
	"InvalidNetworkConfig":     true,
	"NetworkNotAllowed":        true,
	"AttachmentFailed":         true,
}

// WhyReport is everything "kubectl plexus why" knows about a pod's attachments.
type WhyReport struct {
	// Networks is the requested-versus-reported view of the pod.
	Networks *PodNetworks
	// MissingNADs are requested NADs (namespace/name) that do not exist.
	MissingNADs []string
	// Events are the pod's attachment-related and Warning events, oldest first.
	Events []corev1.Event
	// Policies are the AttachmentPolicies of the pod's namespace that select the pod or list it
	// as failing.
	Policies []PolicyFinding
}

// PolicyFinding is what one AttachmentPolicy says about the pod.
type PolicyFinding struct {
	// Name is the policy name.
	Name string
	// Selects is true when the policy's podSelector matches the pod.
	Selects bool
	// Planes are the planes the policy attaches.
	Planes []string
	// Failing is the policy's failingPods entry for the pod, if any.
	Failing *plexusv1alpha1.FailingPod
	// Ready and Reason summarise the policy's conditions.
	Ready, Reason string
}

// NewPolicyFindings returns the findings of the policies that select the pod or list it.
func NewPolicyFindings(pod *corev1.Pod, policies []plexusv1alpha1.AttachmentPolicy) []PolicyFinding {
	var out []PolicyFinding
	for i := range policies {
		p := &policies[i]
		f := PolicyFinding{Name: p.Name}
		if sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector); err == nil {
			f.Selects = sel.Matches(labels.Set(pod.Labels))
		}
		for j := range p.Status.FailingPods {
			if p.Status.FailingPods[j].Name == pod.Name {
				f.Failing = &p.Status.FailingPods[j]
			}
		}
		if !f.Selects && f.Failing == nil {
			continue
		}
		for _, a := range p.Spec.Attachments {
			f.Planes = append(f.Planes, a.Plane)
		}
		f.Ready, f.Reason = conditionSummary(p.Status.Conditions, p.Generation, p.Status.ObservedGeneration)
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Diagnose turns the report into plain sentences, most specific first.
func Diagnose(r *WhyReport) []string {
	var out []string
	n := r.Networks
	if n.AnnotationError != nil {
		out = append(out, fmt.Sprintf("The pod's annotations are invalid: %v. Plexus (like Multus) fails the sandbox until the annotation is fixed; recreate the pod with a valid %s.",
			n.AnnotationError, netattach.NetworksAnnotation))
	}
	for _, key := range r.MissingNADs {
		ns, name, _ := strings.Cut(key, "/")
		out = append(out, fmt.Sprintf("Network %s is requested but NetworkAttachmentDefinition %s does not exist in namespace %s (NoNetworkFound). Create it, or a NetworkPlane %q whose namespaceSelector matches namespace %s.",
			key, name, ns, name, ns))
	}
	for _, a := range n.Attachments {
		switch a.State {
		case StateMissing:
			out = append(out, fmt.Sprintf("Interface %s (%s) is missing from the network-status: the pod started without it.", a.Interface, a.Network))
		case StatePending:
			out = append(out, fmt.Sprintf("Interface %s (%s) is not attached yet: %s.", a.Interface, a.Network, a.Detail))
		}
	}
	// Other Warning events (FailedScheduling, MissingClusterDNS, …) explain something only while
	// an attachment is not up.
	healthy := n.AnnotationError == nil && n.Summary() == StateAttached
	latest := map[string]corev1.Event{}
	for _, e := range r.Events {
		if e.Reason == "AddedInterface" {
			continue
		}
		if attachmentReasons[e.Reason] || (e.Type == corev1.EventTypeWarning && !healthy) {
			latest[e.Reason] = e
		}
	}
	for _, reason := range sortedEventReasons(latest) {
		out = append(out, fmt.Sprintf("Event %s: %s", reason, oneLine(latest[reason].Message)))
	}
	for _, p := range r.Policies {
		switch {
		case p.Failing != nil:
			out = append(out, fmt.Sprintf("AttachmentPolicy %s lists the pod as failing: %s: %s", p.Name, p.Failing.Reason, oneLine(p.Failing.Message)))
		case p.Selects && !n.Requested:
			out = append(out, fmt.Sprintf("AttachmentPolicy %s selects the pod but the pod has no networks annotation: it was created before the policy or while the webhook was down (NotMutated). Recreate the pod.", p.Name))
		}
	}
	if len(out) == 0 {
		switch {
		case !n.Requested && len(n.Attachments) == 0:
			out = append(out, fmt.Sprintf("The pod requests no secondary network (no %s annotation) and no AttachmentPolicy selects it.", netattach.NetworksAnnotation))
		default:
			out = append(out, "Every requested network is attached.")
		}
	}
	return out
}

func sortedEventReasons(m map[string]corev1.Event) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// RenderWhy writes the report: the pod line, the attachments table, the events, the policies
// and the diagnosis.
func RenderWhy(out io.Writer, r *WhyReport, now time.Time) error {
	pod := r.Networks.Pod
	node := pod.Spec.NodeName
	if node == "" {
		node = "<not scheduled>"
	}
	fmt.Fprintf(out, "Pod %s/%s: %s on node %s\n\n", pod.Namespace, pod.Name, podPhase(pod), node)

	fmt.Fprintf(out, "Requested networks (%s) vs network-status:\n", netattach.NetworksAnnotation)
	if len(r.Networks.Attachments) == 0 {
		fmt.Fprintln(out, "  <none>")
	} else {
		t := newTable(out, "INTERFACE", "NETWORK", "PLANE", "IPS", "STATE", "DETAIL")
		for _, a := range r.Networks.Attachments {
			detail := a.Detail
			if contains(r.MissingNADs, a.Network) {
				detail = "NetworkAttachmentDefinition not found"
			}
			t.row(a.Interface, a.Network, dash(a.Plane), joinOrNone(a.IPs), a.State, dash(detail))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(out, "\nEvents:")
	if len(r.Events) == 0 {
		fmt.Fprintln(out, "  <none>")
	} else {
		t := newTable(out, "LAST SEEN", "TYPE", "REASON", "COUNT", "MESSAGE")
		for _, e := range r.Events {
			count := e.Count
			if count == 0 {
				count = 1
			}
			t.row(age(now, eventTime(e)), e.Type, e.Reason, fmt.Sprint(count), oneLine(e.Message))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(out, "\nAttachmentPolicies:")
	if len(r.Policies) == 0 {
		fmt.Fprintln(out, "  <none>")
	} else {
		t := newTable(out, "NAME", "SELECTS POD", "PLANES", "READY", "REASON", "POD FAILURE")
		for _, p := range r.Policies {
			failure := "-"
			if p.Failing != nil {
				failure = p.Failing.Reason + ": " + oneLine(p.Failing.Message)
			}
			t.row(p.Name, fmt.Sprint(p.Selects), joinOrNone(p.Planes), p.Ready, p.Reason, failure)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(out, "\nDiagnosis:")
	for _, d := range Diagnose(r) {
		fmt.Fprintf(out, "  - %s\n", d)
	}
	return nil
}

// RelevantEvents keeps the attachment-related and Warning events of the pod, oldest first.
func RelevantEvents(events []corev1.Event) []corev1.Event {
	var out []corev1.Event
	for _, e := range events {
		if attachmentReasons[e.Reason] || e.Type == corev1.EventTypeWarning {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	return out
}

// eventTime is the last time the event was seen (core/v1 or events.k8s.io/v1 fields).
func eventTime(e corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

func contains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}
