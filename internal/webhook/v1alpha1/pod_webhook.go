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

package v1alpha1

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/metrics"
	"github.com/plexus-net/plexus/internal/netattach"
)

// PodWebhookPath is where the pod mutating webhook is served.
const PodWebhookPath = "/mutate-v1-pod"

// NOTE: failurePolicy=ignore is deliberate. Pod creation must never depend on the operator (it
// is not on the pod start path): with Fail, an operator outage would block every pod in every
// selected namespace, including system components. A pod created while the webhook is down
// lacks its attachments; the AttachmentPolicy status reports it as NotMutated, so it is visible.
// The namespaceSelector keeps system namespaces and the operator's own namespace out, and a
// namespace or pod labelled net.plexus.dev/webhook=disabled opts out.
// +kubebuilder:webhook:path=/mutate-v1-pod,mutating=true,failurePolicy=ignore,sideEffects=None,groups="",resources=pods,verbs=create,versions=v1,name=pods.net.plexus.dev,admissionReviewVersions=v1,reinvocationPolicy=IfNeeded,timeoutSeconds=5,matchPolicy=Equivalent,patch=`{"namespaceSelector":{"matchExpressions":[{"key":"kubernetes.io/metadata.name","operator":"NotIn","values":["kube-system","kube-public","kube-node-lease","plexus-system"]},{"key":"net.plexus.dev/webhook","operator":"NotIn","values":["disabled"]}]},"objectSelector":{"matchExpressions":[{"key":"net.plexus.dev/webhook","operator":"NotIn","values":["disabled"]}]}}`

// PodAttacher is the pod mutating webhook: it applies the AttachmentPolicies of the pod's
// namespace whose podSelector matches the pod.
type PodAttacher struct {
	// Client reads AttachmentPolicies and NetworkPlanes (the manager's cached client).
	Client client.Reader
}

var _ admission.Defaulter[*corev1.Pod] = &PodAttacher{}

// Default mutates a pod being created: networks annotation, SR-IOV resource requests, node
// affinity for planes with a nodeSelector, and the readiness gate. It rejects the pod when its annotation is invalid or policies conflict.
func (a *PodAttacher) Default(ctx context.Context, pod *corev1.Pod) error {
	result, err := a.mutate(ctx, pod)
	switch {
	case err == nil:
		metrics.PodMutations.WithLabelValues(result).Inc()
		return nil
	case apierrors.IsInvalid(err):
		metrics.PodMutations.WithLabelValues("rejected").Inc()
	default:
		metrics.PodMutations.WithLabelValues("error").Inc()
	}
	return err
}

func (a *PodAttacher) mutate(ctx context.Context, pod *corev1.Pod) (string, error) {
	namespace := pod.Namespace
	if req, err := admission.RequestFromContext(ctx); err == nil && req.Namespace != "" {
		namespace = req.Namespace
	}
	policies, err := a.matchingPolicies(ctx, namespace, pod.Labels)
	if err != nil {
		return "", err
	}
	annPath := field.NewPath("metadata", "annotations").Key(netattach.NetworksAnnotation)
	user, parseErr := netattach.ParseNetworks(pod.Annotations[netattach.NetworksAnnotation], namespace)
	if len(policies) == 0 {
		// A hand-written annotation, no policy: only what its networks need to be schedulable
		// (device requests, plane node affinity), as the network-resources-injector does for
		// Multus. A bad annotation is plexus-cni's to report (a pod Event), not a reason to
		// reject a pod no policy selects.
		if parseErr != nil || len(user) == 0 {
			return "unchanged", nil
		}
		needs, err := a.networkNeeds(ctx, namespace, user)
		if err != nil {
			return "", err
		}
		if needs.apply(pod) {
			return "mutated", nil
		}
		return "unchanged", nil
	}
	if parseErr != nil {
		return "", invalidPod(pod, field.Invalid(annPath, pod.Annotations[netattach.NetworksAnnotation], parseErr.Error()))
	}
	merged, added, err := mergeNetworks(namespace, user, policies)
	if err != nil {
		return "", invalidPod(pod, field.Invalid(annPath, pod.Annotations[netattach.NetworksAnnotation], err.Error()))
	}
	changed := false
	if added {
		value, err := netattach.FormatNetworks(merged)
		if err != nil {
			return "", err
		}
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[netattach.NetworksAnnotation] = value
		changed = true
	}
	needs, err := a.networkNeeds(ctx, namespace, merged)
	if err != nil {
		return "", err
	}
	if needs.apply(pod) {
		changed = true
	}
	if wantsReadinessGate(policies) && addReadinessGate(pod) {
		changed = true
	}
	if changed {
		ctrl.LoggerFrom(ctx).V(4).Info("Mutated pod", "namespace", namespace, "policies", len(policies))
		return "mutated", nil
	}
	return "unchanged", nil
}

// matchingPolicies lists the policies of the namespace whose podSelector matches.
func (a *PodAttacher) matchingPolicies(ctx context.Context, namespace string, podLabels map[string]string) ([]plexusv1alpha1.AttachmentPolicy, error) {
	list := &plexusv1alpha1.AttachmentPolicyList{}
	if err := a.Client.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("failed to list AttachmentPolicies in %s: %w", namespace, err)
	}
	var out []plexusv1alpha1.AttachmentPolicy
	for _, p := range list.Items {
		if !p.DeletionTimestamp.IsZero() {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil {
			continue // the CRD schema makes this unreachable; an invalid selector matches nothing
		}
		if sel.Matches(labels.Set(podLabels)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// needs is what a pod's networks require of its spec.
type needs struct {
	// resources counts device-plugin resources (one per attachment of a network that names one).
	resources map[corev1.ResourceName]int64
	// planes are the NetworkPlanes the networks were rendered from (their nodeSelector applies).
	planes []*plexusv1alpha1.NetworkPlane
}

func (n needs) apply(pod *corev1.Pod) bool {
	changed := addDeviceResources(pod, n.resources)
	if addNodeAffinity(pod, n.planes) {
		changed = true
	}
	return changed
}

// networkNeeds looks up each attachment's network. A NAD's k8s.v1.cni.cncf.io/resourceName
// annotation counts one device per attachment (hand-written NADs included, as Multus users know
// it from the network-resources-injector); a NAD rendered by a plane (its net.plexus.dev/plane
// label) brings the plane's nodeSelector. A plane whose NAD is not rendered yet counts from its
// spec. Networks that exist nowhere add nothing (plexus-cni and the policy status report them).
func (a *PodAttacher) networkNeeds(ctx context.Context, namespace string, elems []netattach.NetworkSelectionElement) (needs, error) {
	out := needs{resources: map[corev1.ResourceName]int64{}}
	planes := map[string]*plexusv1alpha1.NetworkPlane{}
	plane := func(name string) (*plexusv1alpha1.NetworkPlane, error) {
		if p, seen := planes[name]; seen {
			return p, nil
		}
		p := &plexusv1alpha1.NetworkPlane{}
		if err := a.Client.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			if !apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("failed to get NetworkPlane %s: %w", name, err)
			}
			p = nil
		}
		planes[name] = p
		return p, nil
	}
	seenPlane := map[string]bool{}
	for _, e := range elems {
		nad := &nadv1.NetworkAttachmentDefinition{}
		err := a.Client.Get(ctx, types.NamespacedName{Namespace: e.Namespace, Name: e.Name}, nad)
		if err != nil && !apierrors.IsNotFound(err) {
			return needs{}, fmt.Errorf("failed to get NetworkAttachmentDefinition %s/%s: %w", e.Namespace, e.Name, err)
		}
		var p *plexusv1alpha1.NetworkPlane
		switch {
		case err == nil:
			if r := nad.Annotations[netattach.ResourceNameAnnotation]; r != "" {
				out.resources[corev1.ResourceName(r)]++
			}
			if name := nad.Labels[plexusv1alpha1.PlaneLabel]; name != "" {
				if p, err = plane(name); err != nil {
					return needs{}, err
				}
			}
		case e.Namespace == namespace:
			// Not rendered yet: a plane of that name will render it into this namespace.
			if p, err = plane(e.Name); err != nil {
				return needs{}, err
			}
			if p != nil && p.Spec.Type == plexusv1alpha1.NetworkPlaneTypeSRIOV && p.Spec.SRIOV != nil {
				out.resources[corev1.ResourceName(p.Spec.SRIOV.ResourceName)]++
			}
		}
		if p != nil && !seenPlane[p.Name] {
			seenPlane[p.Name] = true
			out.planes = append(out.planes, p)
		}
	}
	return out, nil
}

// addNodeAffinity restricts the pod to the nodes every one of its planes is available on: each
// plane's nodeSelector becomes node-affinity requirements, ANDed into every required term the pod
// already has (or into a new single term). Requirements already present are not added again, so
// a re-invocation changes nothing.
func addNodeAffinity(pod *corev1.Pod, planes []*plexusv1alpha1.NetworkPlane) bool {
	// Requirements two planes share are added once: each is checked against the term as it grows.
	var reqs []corev1.NodeSelectorRequirement
	for _, plane := range planes {
		if plane.Spec.NodeSelector != nil {
			reqs = append(reqs, nodeRequirements(plane.Spec.NodeSelector)...)
		}
	}
	if len(reqs) == 0 {
		return false
	}
	if pod.Spec.Affinity == nil {
		pod.Spec.Affinity = &corev1.Affinity{}
	}
	if pod.Spec.Affinity.NodeAffinity == nil {
		pod.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := pod.Spec.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	terms := &na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(*terms) == 0 {
		*terms = []corev1.NodeSelectorTerm{{}}
	}
	changed := false
	for i := range *terms {
		t := &(*terms)[i]
		for _, r := range reqs {
			if !slices.ContainsFunc(t.MatchExpressions, func(e corev1.NodeSelectorRequirement) bool {
				return equality.Semantic.DeepEqual(e, r)
			}) {
				t.MatchExpressions = append(t.MatchExpressions, r)
				changed = true
			}
		}
	}
	return changed
}

// nodeRequirements turns a label selector into node selector requirements (the operators are
// the same four; matchLabels are In with one value), sorted for a stable pod spec.
func nodeRequirements(sel *metav1.LabelSelector) []corev1.NodeSelectorRequirement {
	var out []corev1.NodeSelectorRequirement
	keys := make([]string, 0, len(sel.MatchLabels))
	for k := range sel.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, corev1.NodeSelectorRequirement{Key: k, Operator: corev1.NodeSelectorOpIn, Values: []string{sel.MatchLabels[k]}})
	}
	for _, e := range sel.MatchExpressions {
		out = append(out, corev1.NodeSelectorRequirement{Key: e.Key, Operator: corev1.NodeSelectorOperator(e.Operator),
			Values: append([]string(nil), e.Values...)})
	}
	return out
}

// addDeviceResources makes the first container request (and limit) at least the counted number
// of each device resource, so the scheduler places the pod where VFs are free.
func addDeviceResources(pod *corev1.Pod, resources map[corev1.ResourceName]int64) bool {
	if len(resources) == 0 || len(pod.Spec.Containers) == 0 {
		return false
	}
	names := make([]string, 0, len(resources))
	for n := range resources {
		names = append(names, string(n))
	}
	sort.Strings(names)
	c := &pod.Spec.Containers[0]
	changed := false
	for _, n := range names {
		name := corev1.ResourceName(n)
		want := *resource.NewQuantity(resources[name], resource.DecimalSI)
		for _, list := range []*corev1.ResourceList{&c.Resources.Requests, &c.Resources.Limits} {
			if cur, ok := (*list)[name]; ok && cur.Cmp(want) >= 0 {
				continue
			}
			if *list == nil {
				*list = corev1.ResourceList{}
			}
			(*list)[name] = want
			changed = true
		}
	}
	return changed
}

func wantsReadinessGate(policies []plexusv1alpha1.AttachmentPolicy) bool {
	for _, p := range policies {
		if p.Spec.ReadinessGate == plexusv1alpha1.ReadinessGateEnabled {
			return true
		}
	}
	return false
}

func addReadinessGate(pod *corev1.Pod) bool {
	for _, g := range pod.Spec.ReadinessGates {
		if g.ConditionType == plexusv1alpha1.AttachmentsReadyPodCondition {
			return false
		}
	}
	pod.Spec.ReadinessGates = append(pod.Spec.ReadinessGates,
		corev1.PodReadinessGate{ConditionType: plexusv1alpha1.AttachmentsReadyPodCondition})
	return true
}

func invalidPod(pod *corev1.Pod, errs ...*field.Error) error {
	name := pod.Name
	if name == "" {
		name = pod.GenerateName
	}
	return apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, name, errs)
}

// SetupPodWebhookWithManager registers the pod mutating webhook.
func SetupPodWebhookWithManager(mgr ctrl.Manager) error {
	if mgr.GetClient() == nil {
		return errors.New("manager has no client")
	}
	return ctrl.NewWebhookManagedBy(mgr, &corev1.Pod{}).
		WithDefaulter(&PodAttacher{Client: mgr.GetClient()}).
		WithDefaulterCustomPath(PodWebhookPath).
		Complete()
}
