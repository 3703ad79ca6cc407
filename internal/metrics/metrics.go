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

package metrics

import (
	"fmt"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Definition documents one metric; docs/metrics.md is generated from the definitions.
type Definition struct {
	// Name is the full metric name.
	Name string
	// Type is gauge or counter.
	Type string
	// Help is the help text.
	Help string
	// Labels are the label names.
	Labels    []string
	collector prometheus.Collector
}

// Label values of AttachmentPods' state label.
const (
	StateAttached = "attached"
	StatePending  = "pending"
	StateFailed   = "failed"
)

// all holds the definitions of every metric, appended by gauge and counter at package init.
var all []Definition

func gauge(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	all = append(all, Definition{Name: name, Type: "gauge", Help: help, Labels: labels, collector: g})
	return g
}

func counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	all = append(all, Definition{Name: name, Type: "counter", Help: help, Labels: labels, collector: c})
	return c
}

// The Plexus operator metrics. They are package-level collectors, as the Prometheus registry
// model expects; they hold no configuration.
var (
	// AttachmentPods counts pods requesting a plane by attachment state.
	AttachmentPods = gauge("plexus_attachments",
		"Pods that request a NetworkPlane, by attachment state (attached, pending, failed).", "plane", "state")

	// NADsRendered counts the namespaces holding a plane's current NAD.
	NADsRendered = gauge("plexus_nads_rendered",
		"Namespaces that hold the current NetworkAttachmentDefinition of a NetworkPlane.", "plane")

	// NADConflicts counts the namespaces where a foreign NAD blocks a plane.
	NADConflicts = gauge("plexus_nad_conflicts",
		"Selected namespaces where a NetworkAttachmentDefinition not managed by Plexus has the plane's name.", "plane")

	// DriftRestored counts hand-edited NADs put back.
	DriftRestored = counter("plexus_nad_drift_restored_total",
		"Managed NetworkAttachmentDefinitions edited outside Plexus and restored.", "plane")

	// NADWrites counts NAD writes (apply and delete) by the NetworkPlane controller.
	NADWrites = counter("plexus_nad_writes_total",
		"NetworkAttachmentDefinition writes by the NetworkPlane controller, by operation (apply, delete).", "operation")

	// PolicyPods counts pods matched by an AttachmentPolicy by state.
	PolicyPods = gauge("plexus_policy_pods",
		"Pods matched by an AttachmentPolicy, by attachment state (attached, pending, failed).", "namespace", "policy", "state")

	// PodMutations counts pod webhook decisions.
	PodMutations = counter("plexus_pod_webhook_requests_total",
		"Pod admission requests handled by the Plexus webhook, by result (mutated, unchanged, rejected, error).", "result")
)

// Definitions lists every Plexus metric, sorted by name.
func Definitions() []Definition {
	defs := append([]Definition(nil), all...)
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs
}

// Register adds the Plexus metrics to controller-runtime's registry (served on the manager's
// metrics endpoint). It is idempotent.
func Register() error {
	for _, d := range Definitions() {
		if err := ctrlmetrics.Registry.Register(d.collector); err != nil {
			if _, ok := err.(prometheus.AlreadyRegisteredError); ok {
				continue
			}
			return fmt.Errorf("failed to register metric %s: %w", d.Name, err)
		}
	}
	return nil
}

// DeletePlane drops every series of a deleted plane.
func DeletePlane(plane string) {
	NADsRendered.DeleteLabelValues(plane)
	NADConflicts.DeleteLabelValues(plane)
	DriftRestored.DeleteLabelValues(plane)
	for _, s := range []string{StateAttached, StatePending, StateFailed} {
		AttachmentPods.DeleteLabelValues(plane, s)
	}
}

// DeletePolicy drops every series of a deleted policy.
func DeletePolicy(namespace, policy string) {
	for _, s := range []string{StateAttached, StatePending, StateFailed} {
		PolicyPods.DeleteLabelValues(namespace, policy, s)
	}
}

// Markdown renders the metrics reference (docs/metrics.md).
func Markdown() string {
	var b strings.Builder
	b.WriteString("# Plexus operator metrics\n\n")
	b.WriteString("<!-- Generated from internal/metrics by `go test ./internal/metrics -run TestMetricsDoc -update`. Do not edit. -->\n\n")
	b.WriteString("The operator serves these on its metrics endpoint (HTTPS, port 8443, authenticated and\n")
	b.WriteString("authorized through the API server), next to the controller-runtime defaults\n")
	b.WriteString("(`controller_runtime_reconcile_*`, `workqueue_*`, `rest_client_*`, Go and process metrics).\n\n")
	b.WriteString("| Name | Type | Labels | Description |\n|---|---|---|---|\n")
	for _, d := range Definitions() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Name, d.Type, "`"+strings.Join(d.Labels, "`, `")+"`", d.Help)
	}
	return b.String()
}
