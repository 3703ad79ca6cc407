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

package main

import (
	"io"
	"strings"
	"testing"

	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// input is a miniature kustomize output: CSV base, a CRD, the operator Deployment with a
// webhook-cert mount, RBAC bound to two service accounts, a webhook with its Service, a metrics
// Service, cert-manager and Namespace objects, and a sample.
const input = `
apiVersion: operators.coreos.com/v1alpha1
kind: ClusterServiceVersion
metadata: {name: x.v0.0.0, namespace: placeholder, annotations: {capabilities: Basic Install}}
spec:
  displayName: X
  customresourcedefinitions:
    owned:
    - {name: widgets.net.plexus.dev, version: v1alpha1, kind: Widget, displayName: The Widget}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.net.plexus.dev}
spec:
  group: net.plexus.dev
  names: {kind: Widget, plural: widgets}
  scope: Cluster
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is a test kind.
        properties:
          spec: {type: object, properties: {sizeMTU: {type: integer, description: sizeMTU is the size. It is big.}}}
          status: {type: object, properties: {conditions: {type: array, items: {type: object}}}}
---
apiVersion: v1
kind: Namespace
metadata: {name: sys}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: serving-cert, namespace: sys}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: op, namespace: sys}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: op, namespace: sys, labels: {app: op}}
spec:
  selector: {matchLabels: {app: op}}
  template:
    metadata: {labels: {app: op}}
    spec:
      serviceAccountName: op
      containers:
      - name: manager
        image: reg/op:1
        args: [--leader-elect, --self-managed-certs=true]
        env: [{name: RELATED_IMAGE_AGENT, value: reg/agent:1}]
        ports: [{name: webhook, containerPort: 9443}]
        volumeMounts:
        - {name: cert, mountPath: /tmp/k8s-webhook-server/serving-certs}
        - {name: tmp, mountPath: /tmp/work}
      volumes:
      - {name: cert, emptyDir: {}}
      - {name: tmp, emptyDir: {}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: op-role}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: op-role}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: op-role}
subjects: [{kind: ServiceAccount, name: op, namespace: sys}, {kind: ServiceAccount, name: agent, namespace: sys}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: leader, namespace: sys}
rules: [{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: leader, namespace: sys}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: leader}
subjects: [{kind: ServiceAccount, name: op, namespace: sys}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: viewer}
rules: [{apiGroups: [net.plexus.dev], resources: [widgets], verbs: [get]}]
---
apiVersion: v1
kind: Service
metadata: {name: webhook-service, namespace: sys}
spec: {selector: {app: op}, ports: [{port: 443, targetPort: webhook}]}
---
apiVersion: v1
kind: Service
metadata: {name: metrics, namespace: sys}
spec: {selector: {app: op}, ports: [{port: 8443}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: mwc}
webhooks:
- name: pods.net.plexus.dev
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig: {service: {name: webhook-service, namespace: sys, path: /mutate}}
  namespaceSelector: {matchLabels: {a: b}}
---
apiVersion: net.plexus.dev/v1alpha1
kind: Widget
metadata: {name: sample}
spec: {sizeMTU: 3}
`

func build(t *testing.T) (*bundle, *operatorsv1alpha1.ClusterServiceVersion) {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(input, "\n---\n") {
		m := map[string]any{}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	b, err := buildBundle(objs, "x", "1.2.3", "2026-01-01T00:00:00Z", []string{"--self-managed-certs=false"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(b.files["x.clusterserviceversion.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	csv := &operatorsv1alpha1.ClusterServiceVersion{}
	if err := yaml.Unmarshal(data, csv); err != nil {
		t.Fatal(err)
	}
	return b, csv
}

func TestBuildBundle(t *testing.T) {
	b, csv := build(t)
	if csv.Name != "x.v1.2.3" || csv.Namespace != "" || csv.Spec.Version.String() != "1.2.3" {
		t.Errorf("name/namespace/version: %s %q %s", csv.Name, csv.Namespace, csv.Spec.Version.String())
	}
	var names []string
	for n := range b.files {
		names = append(names, n)
	}
	for _, want := range []string{"net.plexus.dev_widgets.yaml", "metrics_v1_service.yaml", "viewer_rbac.authorization.k8s.io_v1_clusterrole.yaml"} {
		if _, ok := b.files[want]; !ok {
			t.Errorf("missing %s in %v", want, names)
		}
	}
	for _, n := range names {
		if strings.Contains(n, "webhook-service") || strings.Contains(n, "serviceaccount") || strings.Contains(n, "namespace") ||
			strings.Contains(n, "certificate") || strings.Contains(n, "op-role") || strings.Contains(n, "binding") {
			t.Errorf("%s must not be in the bundle", n)
		}
	}

	owned := csv.Spec.CustomResourceDefinitions.Owned
	if len(owned) != 1 || owned[0].DisplayName != "The Widget" || owned[0].Description != "A Widget is a test kind." {
		t.Fatalf("owned: %+v", owned)
	}
	if d := owned[0].SpecDescriptors; len(d) != 1 || d[0].DisplayName != "Size MTU" || d[0].Description != "sizeMTU is the size." {
		t.Errorf("spec descriptors: %+v", d)
	}
	if d := owned[0].StatusDescriptors; len(d) != 1 || d[0].XDescriptors[0] != conditionsDescriptor {
		t.Errorf("status descriptors: %+v", d)
	}
	if !strings.Contains(csv.Annotations["alm-examples"], `"name": "sample"`) || csv.Annotations["createdAt"] != "2026-01-01T00:00:00Z" {
		t.Errorf("annotations: %v", csv.Annotations)
	}

	s := csv.Spec.InstallStrategy.StrategySpec
	if len(s.DeploymentSpecs) != 1 {
		t.Fatalf("deployments: %+v", s.DeploymentSpecs)
	}
	pod := s.DeploymentSpecs[0].Spec.Template.Spec
	if len(pod.Volumes) != 1 || pod.Volumes[0].Name != "tmp" || len(pod.Containers[0].VolumeMounts) != 1 {
		t.Errorf("the webhook certificate volume must be dropped, the others kept: %+v %+v", pod.Volumes, pod.Containers[0].VolumeMounts)
	}
	if got := strings.Join(pod.Containers[0].Args, " "); got != "--leader-elect --self-managed-certs=false" {
		t.Errorf("args: %s", got)
	}
	if len(s.ClusterPermissions) != 2 || s.ClusterPermissions[0].ServiceAccountName != "agent" || s.ClusterPermissions[1].ServiceAccountName != "op" {
		t.Errorf("clusterPermissions: %+v", s.ClusterPermissions)
	}
	if len(s.Permissions) != 1 || s.Permissions[0].Rules[0].Resources[0] != "leases" {
		t.Errorf("permissions: %+v", s.Permissions)
	}

	w := csv.Spec.WebhookDefinitions
	if len(w) != 1 || w[0].DeploymentName != "op" || w[0].ContainerPort != 443 || w[0].TargetPort.String() != "webhook" ||
		*w[0].WebhookPath != "/mutate" || w[0].Type != operatorsv1alpha1.MutatingAdmissionWebhook {
		t.Errorf("webhookdefinitions: %+v", w)
	}
	imgs := map[string]string{}
	for _, r := range csv.Spec.RelatedImages {
		imgs[r.Name] = r.Image
	}
	if imgs["agent"] != "reg/agent:1" || imgs["op-manager"] != "reg/op:1" || csv.Annotations["containerImage"] != "reg/op:1" {
		t.Errorf("relatedImages %v, containerImage %s", imgs, csv.Annotations["containerImage"])
	}
}

func TestWords(t *testing.T) {
	for in, want := range map[string]string{
		"NetworkPlane": "Network Plane", "renderedNamespaces": "Rendered Namespaces", "cniVersion": "CNI Version",
		"SRIOVSettings": "SR-IOV Settings", "sriov": "SR-IOV", "pfs": "PFs", "mtu": "MTU",
	} {
		if got := words(in); got != want {
			t.Errorf("words(%q) = %q, want %q", in, got, want)
		}
	}
}
