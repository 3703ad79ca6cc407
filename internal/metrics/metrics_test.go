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
	"flag"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md from the registered metrics")

// docPath is docs/metrics.md relative to this package.
var docPath = filepath.Join("..", "..", "docs", "metrics.md")

// TestMetricsDoc fails when docs/metrics.md does not match the metrics defined here. Run
// "go test ./internal/metrics -run TestMetricsDoc -update" to regenerate it.
func TestMetricsDoc(t *testing.T) {
	g := NewWithT(t)
	want := Markdown()
	if *update {
		g.Expect(os.WriteFile(docPath, []byte(want), 0o644)).To(Succeed())
	}
	got, err := os.ReadFile(docPath)
	g.Expect(err).NotTo(HaveOccurred(), "docs/metrics.md is missing; run go test ./internal/metrics -run TestMetricsDoc -update")
	g.Expect(string(got)).To(Equal(want), "docs/metrics.md is stale; run go test ./internal/metrics -run TestMetricsDoc -update")
}

// TestRegister checks every definition is registered with controller-runtime's registry and
// gathered under its documented name.
func TestRegister(t *testing.T) {
	g := NewWithT(t)
	g.Expect(Register()).To(Succeed())
	g.Expect(Register()).To(Succeed(), "idempotent")
	AttachmentPods.WithLabelValues("p", StateAttached).Set(1)
	NADsRendered.WithLabelValues("p").Set(1)
	NADConflicts.WithLabelValues("p").Set(0)
	DriftRestored.WithLabelValues("p").Inc()
	NADWrites.WithLabelValues("apply").Inc()
	PolicyPods.WithLabelValues("ns", "a", StateAttached).Set(1)
	PodMutations.WithLabelValues("mutated").Inc()
	families, err := ctrlmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, d := range Definitions() {
		g.Expect(names).To(HaveKey(d.Name))
	}
	DeletePlane("p")
	DeletePolicy("ns", "a")
}
