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
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/blang/semver/v4"
	"github.com/operator-framework/api/pkg/lib/version"
	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// webhookCertDir is where controller-runtime reads the webhook serving certificate, and where
	// OLM mounts the certificate it generates. Mounts of the deployment at this path are removed,
	// because OLM adds its own and a pod cannot mount two volumes at one path.
	webhookCertDir = "/tmp/k8s-webhook-server/serving-certs"
	// initializationKind and initializationName are the object the console offers to create
	// right after install.
	initializationKind = "PlexusConfig"
	initializationName = "cluster"
	ownedGroup         = "net.plexus.dev"
)

// supportedKinds are the extra objects a registry+v1 bundle may carry besides the CSV and CRDs.
var supportedKinds = map[string]bool{
	"ClusterRole": true, "ClusterRoleBinding": true, "ConfigMap": true, "ConsoleCLIDownload": true,
	"ConsoleLink": true, "ConsoleQuickStart": true, "ConsoleYAMLSample": true,
	"PodDisruptionBudget": true, "PriorityClass": true, "PrometheusRule": true, "Role": true,
	"RoleBinding": true, "Secret": true, "Service": true, "ServiceAccount": true,
	"ServiceMonitor": true, "VerticalPodAutoscaler": true,
}

// bundle is the generated content: file name under manifests/ to object.
type bundle struct {
	files map[string]any
}

// inventory is the kustomize output sorted by role.
type inventory struct {
	csv          *operatorsv1alpha1.ClusterServiceVersion
	crds         []*apiextensionsv1.CustomResourceDefinition
	deployments  []*appsv1.Deployment
	roles        map[string]*unstructured.Unstructured // "ClusterRole/name" or "Role/name"
	bindings     []*unstructured.Unstructured
	webhooks     []*unstructured.Unstructured
	services     []*unstructured.Unstructured
	examples     []*unstructured.Unstructured
	others       []*unstructured.Unstructured
	serviceAccts map[string]bool
}

func buildBundle(objs []*unstructured.Unstructured, pkg, ver, createdAt string, webhookArgs []string, warn io.Writer) (*bundle, error) {
	inv, err := classify(objs, warn)
	if err != nil {
		return nil, err
	}
	csv := inv.csv
	v, err := semver.ParseTolerant(ver)
	if err != nil {
		return nil, fmt.Errorf("bad version %q: %w", ver, err)
	}
	csv.Name = fmt.Sprintf("%s.v%s", pkg, v.String())
	csv.Namespace = ""
	csv.Spec.Version = version.OperatorVersion{Version: v}
	if csv.Annotations == nil {
		csv.Annotations = map[string]string{}
	}
	csv.Annotations["createdAt"] = createdAt
	if _, ok := csv.Annotations["operatorframework.io/suggested-namespace"]; !ok {
		csv.Annotations["operatorframework.io/suggested-namespace"] = "plexus-system"
	}

	owned, err := ownedCRDs(inv.crds, csv.Spec.CustomResourceDefinitions.Owned)
	if err != nil {
		return nil, err
	}
	csv.Spec.CustomResourceDefinitions.Owned = owned

	if err := setExamples(csv, inv.examples, inv.crds); err != nil {
		return nil, err
	}

	webhookDeployment, err := setWebhooks(csv, inv)
	if err != nil {
		return nil, err
	}
	strategy, usedRoles, err := installStrategy(inv, webhookDeployment, webhookArgs, warn)
	if err != nil {
		return nil, err
	}
	csv.Spec.InstallStrategy = operatorsv1alpha1.NamedInstallStrategy{
		StrategyName: operatorsv1alpha1.InstallStrategyNameDeployment,
		StrategySpec: strategy,
	}
	csv.Spec.RelatedImages = relatedImages(inv.deployments)
	if len(inv.deployments) > 0 && len(inv.deployments[0].Spec.Template.Spec.Containers) > 0 {
		csv.Annotations["containerImage"] = inv.deployments[0].Spec.Template.Spec.Containers[0].Image
	}

	files := map[string]any{}
	csvMap, err := toCleanMap(csv)
	if err != nil {
		return nil, err
	}
	delete(csvMap, "status")
	if spec, ok := csvMap["spec"].(map[string]any); ok {
		// Typed zero values that operator-sdk does not write either.
		if a, ok := spec["apiservicedefinitions"].(map[string]any); ok && len(a) == 0 {
			delete(spec, "apiservicedefinitions")
		}
		if c, ok := spec["cleanup"].(map[string]any); ok && c["enabled"] == false {
			delete(spec, "cleanup")
		}
	}
	files[pkg+".clusterserviceversion.yaml"] = csvMap
	for _, crd := range inv.crds {
		m, err := toCleanMap(crd)
		if err != nil {
			return nil, err
		}
		delete(m, "status")
		files[fmt.Sprintf("%s_%s.yaml", crd.Spec.Group, crd.Spec.Names.Plural)] = m
	}
	webhookServices := webhookServiceNames(inv.webhooks)
	for _, s := range inv.services {
		if !webhookServices[s.GetName()] {
			inv.others = append(inv.others, s)
		}
	}
	for key, r := range inv.roles {
		if !usedRoles[key] {
			inv.others = append(inv.others, r)
		}
	}
	for _, o := range inv.others {
		u := o.DeepCopy()
		u.SetNamespace("")
		files[extraFileName(u)] = cleanMap(u.Object)
	}
	return &bundle{files: files}, nil
}

// classify sorts the objects by what the bundle does with them.
func classify(objs []*unstructured.Unstructured, warn io.Writer) (*inventory, error) {
	inv := &inventory{roles: map[string]*unstructured.Unstructured{}, serviceAccts: map[string]bool{}}
	for _, u := range objs {
		gvk := u.GroupVersionKind()
		switch {
		case gvk.Kind == "ClusterServiceVersion":
			if inv.csv != nil {
				return nil, fmt.Errorf("more than one ClusterServiceVersion in the input")
			}
			inv.csv = &operatorsv1alpha1.ClusterServiceVersion{}
			if err := fromUnstructured(u, inv.csv); err != nil {
				return nil, err
			}
		case gvk.Kind == "CustomResourceDefinition":
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := fromUnstructured(u, crd); err != nil {
				return nil, err
			}
			inv.crds = append(inv.crds, crd)
		case gvk.Kind == "Deployment":
			d := &appsv1.Deployment{}
			if err := fromUnstructured(u, d); err != nil {
				return nil, err
			}
			inv.deployments = append(inv.deployments, d)
		case gvk.Kind == "ClusterRole" || gvk.Kind == "Role":
			inv.roles[gvk.Kind+"/"+u.GetName()] = u
		case gvk.Kind == "ClusterRoleBinding" || gvk.Kind == "RoleBinding":
			inv.bindings = append(inv.bindings, u)
		case gvk.Kind == "MutatingWebhookConfiguration" || gvk.Kind == "ValidatingWebhookConfiguration":
			inv.webhooks = append(inv.webhooks, u)
		case gvk.Kind == "Service" && gvk.Group == "":
			inv.services = append(inv.services, u)
		case gvk.Kind == "ServiceAccount" && gvk.Group == "":
			// OLM creates the service accounts the CSV names; a bundled copy is an error.
			inv.serviceAccts[u.GetName()] = true
		case gvk.Kind == "Namespace" && gvk.Group == "":
			// OLM installs into the namespace the user picks (suggested-namespace).
		case gvk.Group == "cert-manager.io":
			// OLM generates and rotates the webhook serving certificate itself.
		case strings.HasSuffix(gvk.Group, ownedGroup) || gvk.Group == "k8s.cni.cncf.io":
			inv.examples = append(inv.examples, u)
		case supportedKinds[gvk.Kind]:
			inv.others = append(inv.others, u)
		default:
			fmt.Fprintf(warn, "bundlegen: skipping %s %s: kind not supported in a registry+v1 bundle\n", gvk.Kind, u.GetName())
		}
	}
	if inv.csv == nil {
		return nil, fmt.Errorf("no ClusterServiceVersion base in the input (config/manifests/bases)")
	}
	sort.Slice(inv.crds, func(i, j int) bool { return inv.crds[i].Name < inv.crds[j].Name })
	sort.Slice(inv.deployments, func(i, j int) bool { return inv.deployments[i].Name < inv.deployments[j].Name })
	sortObjects(inv.bindings)
	sortObjects(inv.webhooks)
	sortObjects(inv.services)
	sortObjects(inv.examples)
	sortObjects(inv.others)
	return inv, nil
}

func sortObjects(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool { return objectKey(objs[i]) < objectKey(objs[j]) })
}

func objectKey(u *unstructured.Unstructured) string {
	return strings.Join([]string{u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName()}, "/")
}

// setExamples writes alm-examples (every sample CR of an owned CRD) and the
// initialization-resource annotation.
func setExamples(csv *operatorsv1alpha1.ClusterServiceVersion, samples []*unstructured.Unstructured, crds []*apiextensionsv1.CustomResourceDefinition) error {
	served := map[string]bool{}
	for _, crd := range crds {
		for _, v := range crd.Spec.Versions {
			served[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = v.Served
		}
	}
	examples := []map[string]any{}
	var initResource map[string]any
	for _, s := range samples {
		gvk := s.GroupVersionKind()
		if !served[gvk.Group+"/"+gvk.Version+"/"+gvk.Kind] {
			continue
		}
		u := s.DeepCopy()
		u.SetNamespace("")
		m := cleanMap(u.Object)
		examples = append(examples, m)
		if gvk.Kind == initializationKind && u.GetName() == initializationName {
			initResource = m
		}
	}
	if initResource == nil && served[ownedGroup+"/v1alpha1/"+initializationKind] {
		initResource = map[string]any{
			"apiVersion": ownedGroup + "/v1alpha1",
			"kind":       initializationKind,
			"metadata":   map[string]any{"name": initializationName},
			"spec":       map[string]any{},
		}
		examples = append(examples, initResource)
	}
	data, err := json.MarshalIndent(examples, "", "  ")
	if err != nil {
		return err
	}
	csv.Annotations["alm-examples"] = string(data)
	if initResource != nil {
		data, err := json.Marshal(initResource)
		if err != nil {
			return err
		}
		csv.Annotations["operatorframework.io/initialization-resource"] = string(data)
	}
	return nil
}

// setWebhooks turns the webhook configurations into webhookdefinitions and returns the name of
// the deployment serving them.
func setWebhooks(csv *operatorsv1alpha1.ClusterServiceVersion, inv *inventory) (string, error) {
	csv.Spec.WebhookDefinitions = nil
	var serving string
	for _, u := range inv.webhooks {
		typ := operatorsv1alpha1.ValidatingAdmissionWebhook
		var hooks []admissionregistrationv1.MutatingWebhook
		if u.GetKind() == "MutatingWebhookConfiguration" {
			typ = operatorsv1alpha1.MutatingAdmissionWebhook
			cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
			if err := fromUnstructured(u, cfg); err != nil {
				return "", err
			}
			hooks = cfg.Webhooks
		} else {
			cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			if err := fromUnstructured(u, cfg); err != nil {
				return "", err
			}
			for _, w := range cfg.Webhooks {
				hooks = append(hooks, admissionregistrationv1.MutatingWebhook{
					Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules, FailurePolicy: w.FailurePolicy,
					MatchPolicy: w.MatchPolicy, NamespaceSelector: w.NamespaceSelector, ObjectSelector: w.ObjectSelector,
					SideEffects: w.SideEffects, TimeoutSeconds: w.TimeoutSeconds,
					AdmissionReviewVersions: w.AdmissionReviewVersions,
				})
			}
		}
		sort.Slice(hooks, func(i, j int) bool { return hooks[i].Name < hooks[j].Name })
		for _, w := range hooks {
			desc := operatorsv1alpha1.WebhookDescription{
				GenerateName: w.Name, Type: typ, ContainerPort: 443, Rules: w.Rules,
				FailurePolicy: w.FailurePolicy, MatchPolicy: w.MatchPolicy, ObjectSelector: w.ObjectSelector,
				SideEffects: w.SideEffects, TimeoutSeconds: w.TimeoutSeconds,
				AdmissionReviewVersions: w.AdmissionReviewVersions, ReinvocationPolicy: w.ReinvocationPolicy,
			}
			if svc := w.ClientConfig.Service; svc != nil {
				desc.WebhookPath = svc.Path
				dep, port, target := webhookBackend(inv, svc.Name)
				desc.DeploymentName = dep
				if port != 0 {
					desc.ContainerPort = port
				}
				desc.TargetPort = target
			}
			if desc.DeploymentName == "" && len(inv.deployments) > 0 {
				desc.DeploymentName = inv.deployments[0].Name
			}
			serving = desc.DeploymentName
			csv.Spec.WebhookDefinitions = append(csv.Spec.WebhookDefinitions, desc)
		}
	}
	return serving, nil
}

// webhookBackend finds the deployment behind a webhook Service (its selector matches the pod
// template labels), the service port and the target port.
func webhookBackend(inv *inventory, serviceName string) (string, int32, *intstr.IntOrString) {
	for _, u := range inv.services {
		if u.GetName() != serviceName {
			continue
		}
		svc := &corev1.Service{}
		if fromUnstructured(u, svc) != nil {
			return "", 0, nil
		}
		var port int32
		var target *intstr.IntOrString
		if len(svc.Spec.Ports) > 0 {
			port = svc.Spec.Ports[0].Port
			t := svc.Spec.Ports[0].TargetPort
			if t.String() != "0" && t.String() != "" {
				target = &t
			}
		}
		for _, d := range inv.deployments {
			if selects(svc.Spec.Selector, d.Spec.Template.Labels) {
				return d.Name, port, target
			}
		}
		return "", port, target
	}
	return "", 0, nil
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func webhookServiceNames(webhooks []*unstructured.Unstructured) map[string]bool {
	names := map[string]bool{}
	for _, u := range webhooks {
		hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
		for _, h := range hooks {
			hm, ok := h.(map[string]any)
			if !ok {
				continue
			}
			if name, ok, _ := unstructured.NestedString(hm, "clientConfig", "service", "name"); ok {
				names[name] = true
			}
		}
	}
	return names
}

// installStrategy builds the deployment install strategy: the deployments as config/default
// deploys them, and the rules of every role bound to a service account, per service account.
// It returns the roles it consumed.
func installStrategy(inv *inventory, webhookDeployment string, webhookArgs []string, warn io.Writer) (operatorsv1alpha1.StrategyDetailsDeployment, map[string]bool, error) {
	var s operatorsv1alpha1.StrategyDetailsDeployment
	for _, d := range inv.deployments {
		spec := d.Spec.DeepCopy()
		if d.Name == webhookDeployment {
			dropCertMounts(&spec.Template.Spec)
			if len(spec.Template.Spec.Containers) > 0 {
				c := &spec.Template.Spec.Containers[0]
				c.Args = setArgs(c.Args, webhookArgs)
			}
		}
		s.DeploymentSpecs = append(s.DeploymentSpecs, operatorsv1alpha1.StrategyDeploymentSpec{
			Name: d.Name, Spec: *spec, Label: d.Labels,
		})
	}
	cluster := map[string][]rbacv1.PolicyRule{}
	namespaced := map[string][]rbacv1.PolicyRule{}
	used := map[string]bool{}
	for _, b := range inv.bindings {
		binding := &rbacv1.RoleBinding{} // ClusterRoleBinding has the same shape
		if err := fromUnstructured(b, binding); err != nil {
			return s, nil, err
		}
		roleKey := binding.RoleRef.Kind + "/" + binding.RoleRef.Name
		role, ok := inv.roles[roleKey]
		if !ok {
			fmt.Fprintf(warn, "bundlegen: skipping %s %s: it binds %s, which is not part of the install\n", b.GetKind(), b.GetName(), roleKey)
			continue
		}
		rules, err := roleRules(role)
		if err != nil {
			return s, nil, err
		}
		used[roleKey] = true
		for _, subj := range binding.Subjects {
			if subj.Kind != rbacv1.ServiceAccountKind {
				continue
			}
			if b.GetKind() == "ClusterRoleBinding" {
				cluster[subj.Name] = appendRules(cluster[subj.Name], rules)
			} else {
				namespaced[subj.Name] = appendRules(namespaced[subj.Name], rules)
			}
		}
	}
	s.ClusterPermissions = permissions(cluster)
	s.Permissions = permissions(namespaced)
	return s, used, nil
}

// dropCertMounts removes the webhook certificate volume the kustomize overlay mounts (OLM mounts
// its own generated certificate at the same path).
func dropCertMounts(pod *corev1.PodSpec) {
	dropped := map[string]bool{}
	for i := range pod.Containers {
		c := &pod.Containers[i]
		kept := c.VolumeMounts[:0]
		for _, m := range c.VolumeMounts {
			if strings.TrimSuffix(m.MountPath, "/") == webhookCertDir {
				dropped[m.Name] = true
				continue
			}
			kept = append(kept, m)
		}
		c.VolumeMounts = kept
		if len(c.VolumeMounts) == 0 {
			c.VolumeMounts = nil
		}
	}
	kept := pod.Volumes[:0]
	for _, v := range pod.Volumes {
		if !dropped[v.Name] {
			kept = append(kept, v)
		}
	}
	pod.Volumes = kept
	if len(pod.Volumes) == 0 {
		pod.Volumes = nil
	}
}

// setArgs sets --key=value flags, replacing any earlier value of the same flag.
func setArgs(args, set []string) []string {
	for _, a := range set {
		key, _, _ := strings.Cut(a, "=")
		kept := args[:0:0]
		for _, old := range args {
			if old != key && !strings.HasPrefix(old, key+"=") {
				kept = append(kept, old)
			}
		}
		args = append(kept, a)
	}
	return args
}

func roleRules(u *unstructured.Unstructured) ([]rbacv1.PolicyRule, error) {
	r := &rbacv1.ClusterRole{}
	if err := fromUnstructured(u, r); err != nil {
		return nil, err
	}
	return r.Rules, nil
}

// appendRules appends rules that are not already there.
func appendRules(to, rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	seen := map[string]bool{}
	for _, r := range to {
		seen[ruleKey(r)] = true
	}
	for _, r := range rules {
		if k := ruleKey(r); !seen[k] {
			seen[k] = true
			to = append(to, r)
		}
	}
	return to
}

func ruleKey(r rbacv1.PolicyRule) string {
	data, _ := json.Marshal(r)
	return string(data)
}

func permissions(bySA map[string][]rbacv1.PolicyRule) []operatorsv1alpha1.StrategyDeploymentPermissions {
	names := make([]string, 0, len(bySA))
	for n := range bySA {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]operatorsv1alpha1.StrategyDeploymentPermissions, 0, len(names))
	for _, n := range names {
		out = append(out, operatorsv1alpha1.StrategyDeploymentPermissions{ServiceAccountName: n, Rules: bySA[n]})
	}
	return out
}

// relatedImages lists the images of the deployments and of RELATED_IMAGE_* / *_IMAGE variables
// (the agent image the operator rolls out), for disconnected installs.
func relatedImages(deployments []*appsv1.Deployment) []operatorsv1alpha1.RelatedImage {
	byImage := map[string]string{}
	add := func(name, image string) {
		if image == "" || strings.ContainsAny(image, " \t$") {
			return
		}
		if _, ok := byImage[image]; !ok {
			byImage[image] = name
		}
	}
	for _, d := range deployments {
		pod := d.Spec.Template.Spec
		for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
			add(d.Name+"-"+c.Name, c.Image)
			for _, e := range c.Env {
				switch {
				case strings.HasPrefix(e.Name, "RELATED_IMAGE_"):
					add(strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(e.Name, "RELATED_IMAGE_"), "_", "-")), e.Value)
				case strings.HasSuffix(e.Name, "_IMAGE"):
					add(strings.ToLower(strings.ReplaceAll(strings.TrimSuffix(e.Name, "_IMAGE"), "_", "-")), e.Value)
				}
			}
			for _, a := range c.Args {
				if k, v, ok := strings.Cut(strings.TrimLeft(a, "-"), "="); ok && strings.HasSuffix(k, "-image") {
					add(strings.TrimSuffix(k, "-image"), v)
				}
			}
		}
	}
	out := make([]operatorsv1alpha1.RelatedImage, 0, len(byImage))
	for image, name := range byImage {
		out = append(out, operatorsv1alpha1.RelatedImage{Name: name, Image: image})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Image < out[j].Image
	})
	return out
}

// extraFileName names an extra object like operator-sdk does: name_group_version_kind.yaml.
func extraFileName(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	parts := []string{u.GetName()}
	if gvk.Group != "" {
		parts = append(parts, gvk.Group)
	}
	parts = append(parts, gvk.Version, strings.ToLower(gvk.Kind))
	return strings.Join(parts, "_") + ".yaml"
}

func fromUnstructured(u *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return fmt.Errorf("failed to convert %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// toCleanMap converts a typed object to a map without null creationTimestamps and empty status.
func toCleanMap(obj any) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return cleanMap(m), nil
}

// cleanMap removes null values (creationTimestamp: null and friends) recursively.
func cleanMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		out[k] = cleanValue(v)
	}
	return out
}

func cleanValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cleanMap(t)
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			out = append(out, cleanValue(e))
		}
		return out
	default:
		return v
	}
}
