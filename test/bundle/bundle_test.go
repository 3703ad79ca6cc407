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

package bundle

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/operator-framework/api/pkg/manifests"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"github.com/operator-framework/api/pkg/validation"
	"sigs.k8s.io/yaml"
)

const bundleDir = "../../bundle"

func loadBundle(t *testing.T) *manifests.Bundle {
	t.Helper()
	if _, err := os.Stat(filepath.Join(bundleDir, "manifests")); err != nil {
		t.Fatalf("no generated bundle: run 'make bundle' (%v)", err)
	}
	b, err := manifests.GetBundleFromDir(bundleDir)
	if err != nil {
		t.Fatalf("failed to load the bundle: %v", err)
	}
	return b
}

// TestBundleValidates runs the operator-framework validators operator-sdk runs with
// --select-optional suite=operatorframework. Errors fail the test; warnings are logged.
func TestBundleValidates(t *testing.T) {
	b := loadBundle(t)
	validators := validation.DefaultBundleValidators.WithValidators(
		validation.OperatorHubV2Validator,
		validation.StandardCapabilitiesValidator,
		validation.StandardCategoriesValidator,
		validation.GoodPracticesValidator,
		validation.AlphaDeprecatedAPIsValidator,
		validation.ObjectValidator,
	)
	objs := append(b.ObjectsToValidate(), map[string]string{"k8s-version": "1.37"})
	for _, r := range validators.Validate(objs...) {
		for _, e := range r.Errors {
			t.Errorf("%s: %v", r.Name, e)
		}
		for _, w := range r.Warnings {
			t.Logf("warning: %s: %v", r.Name, w)
		}
	}
}

// TestBundleMetadata checks the package, channels and mediatype in metadata/annotations.yaml.
func TestBundleMetadata(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(bundleDir, "metadata", "annotations.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"operators.operatorframework.io.bundle.mediatype.v1":       "registry+v1",
		"operators.operatorframework.io.bundle.manifests.v1":       "manifests/",
		"operators.operatorframework.io.bundle.metadata.v1":        "metadata/",
		"operators.operatorframework.io.bundle.package.v1":         "plexus",
		"operators.operatorframework.io.bundle.channels.v1":        "alpha",
		"operators.operatorframework.io.bundle.channel.default.v1": "alpha",
	}
	for k, v := range want {
		if got := meta.Annotations[k]; got != v {
			t.Errorf("annotations.yaml %s = %q, want %q", k, got, v)
		}
	}
	b := loadBundle(t)
	if b.Package != "plexus" || b.DefaultChannel != "alpha" || !slices.Equal(b.Channels, []string{"alpha"}) {
		t.Errorf("loader saw package %q channels %v default %q", b.Package, b.Channels, b.DefaultChannel)
	}
}

// TestCSVContent checks what Plexus promises in its CSV beyond what the generic validators
// check: the install mode, OLM console annotations, every Plexus CRD owned with texts, examples
// for every kind, and the operator deployment with its RBAC.
func TestCSVContent(t *testing.T) {
	b := loadBundle(t)
	csv := b.CSV
	if csv == nil {
		t.Fatal("bundle has no CSV")
	}
	ann := csv.GetAnnotations()
	if got := ann["operatorframework.io/suggested-namespace"]; got != "plexus-system" {
		t.Errorf("suggested-namespace = %q, want plexus-system", got)
	}
	var internal []string
	if err := json.Unmarshal([]byte(ann["operators.operatorframework.io/internal-objects"]), &internal); err != nil {
		t.Errorf("internal-objects is not a JSON list: %v", err)
	}
	if !slices.Contains(internal, "nodenetworkstates.net.plexus.dev") {
		t.Errorf("internal-objects %v lacks nodenetworkstates.net.plexus.dev", internal)
	}
	var initRes map[string]any
	if err := json.Unmarshal([]byte(ann["operatorframework.io/initialization-resource"]), &initRes); err != nil {
		t.Errorf("initialization-resource is not a JSON object: %v", err)
	} else if initRes["kind"] != "PlexusConfig" || initRes["metadata"].(map[string]any)["name"] != "cluster" {
		t.Errorf("initialization-resource is %v, want the PlexusConfig cluster", initRes)
	}
	if ann["createdAt"] == "" || ann["containerImage"] == "" && len(csv.Spec.InstallStrategy.StrategySpec.DeploymentSpecs) > 0 {
		t.Errorf("createdAt/containerImage missing: %q %q", ann["createdAt"], ann["containerImage"])
	}

	for _, m := range csv.Spec.InstallModes {
		if want := m.Type == operatorsv1alpha1.InstallModeTypeAllNamespaces; m.Supported != want {
			t.Errorf("install mode %s supported=%v, want %v", m.Type, m.Supported, want)
		}
	}
	if csv.Spec.Maturity != "alpha" || csv.Spec.MinKubeVersion == "" || len(csv.Spec.Keywords) == 0 ||
		len(csv.Spec.Maintainers) == 0 || len(csv.Spec.Links) == 0 || csv.Spec.Provider.Name == "" {
		t.Errorf("CSV lacks maturity/minKubeVersion/keywords/maintainers/links/provider")
	}
	if got, want := csv.Spec.Version.String(), strings.TrimPrefix(csv.GetName(), "plexus.v"); got != want {
		t.Errorf("spec.version %s does not match the CSV name %s", got, csv.GetName())
	}

	owned := map[string]operatorsv1alpha1.CRDDescription{}
	for _, d := range csv.Spec.CustomResourceDefinitions.Owned {
		owned[d.Name] = d
		if d.DisplayName == "" || d.Description == "" {
			t.Errorf("owned CRD %s lacks displayName or description", d.Name)
		}
	}
	for _, crd := range b.V1CRDs {
		if _, ok := owned[crd.Name]; !ok {
			t.Errorf("CRD %s is in the bundle but not owned by the CSV", crd.Name)
		}
	}
	for _, name := range []string{"networkplanes", "attachmentpolicies", "nodenetworkpolicies", "nodenetworkstates", "plexusconfigs"} {
		if _, ok := owned[name+".net.plexus.dev"]; !ok {
			t.Errorf("CSV does not own %s.net.plexus.dev", name)
		}
	}

	var examples []map[string]any
	if err := json.Unmarshal([]byte(ann["alm-examples"]), &examples); err != nil {
		t.Fatalf("alm-examples is not a JSON list: %v", err)
	}
	kinds := map[string]bool{}
	for _, e := range examples {
		kinds[e["kind"].(string)] = true
	}
	for _, d := range owned {
		if !kinds[d.Kind] && d.Kind != "NodeNetworkState" && d.Kind != "NetworkAttachmentDefinition" {
			t.Logf("no alm-example for %s yet (add one to config/samples)", d.Kind)
		}
	}
	if !kinds["PlexusConfig"] {
		t.Errorf("alm-examples lacks a PlexusConfig")
	}

	strategy := csv.Spec.InstallStrategy.StrategySpec
	if len(strategy.DeploymentSpecs) == 0 {
		t.Fatal("the CSV has no install strategy: config/default lost the operator Deployment")
	}
	sas := map[string]bool{}
	for _, p := range append(strategy.ClusterPermissions, strategy.Permissions...) {
		sas[p.ServiceAccountName] = true
	}
	for _, d := range strategy.DeploymentSpecs {
		sa := d.Spec.Template.Spec.ServiceAccountName
		if sa == "" || !sas[sa] {
			t.Errorf("deployment %s runs as service account %q, which has no permissions in the CSV", d.Name, sa)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, m := range c.VolumeMounts {
				if m.MountPath == "/tmp/k8s-webhook-server/serving-certs" {
					t.Errorf("deployment %s mounts %s; OLM mounts its own webhook certificate there", d.Name, m.MountPath)
				}
			}
		}
	}
	// The operator renders the agent DaemonSet with the plexus-agent service account
	// (controllers.AgentName); under OLM that account exists only if the CSV gives it permissions.
	if !sas["plexus-agent"] {
		t.Errorf("no permissions for the plexus-agent service account: OLM would not create it (is config/agent in config/default?)")
	}
	for _, w := range csv.Spec.WebhookDefinitions {
		if w.DeploymentName == "" || w.WebhookPath == nil {
			t.Errorf("webhook %s lacks deploymentName or webhookPath", w.GenerateName)
		}
	}
}
