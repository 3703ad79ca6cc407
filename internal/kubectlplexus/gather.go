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
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

// nadGVK is the NetworkAttachmentDefinition kind; only its metadata is read.
var nadGVK = schema.GroupVersionKind{Group: "k8s.cni.cncf.io", Version: "v1", Kind: "NetworkAttachmentDefinition"}

// EventObjectNameField is the field selector the events of one object are listed with.
const EventObjectNameField = "involvedObject.name"

// NewScheme returns the types the plugin reads.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, plexusv1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Gatherer reads what the subcommands show.
type Gatherer struct {
	Client client.Reader
}

// PodNetworks lists the pods of namespace (every namespace when namespace is empty) with their
// secondary networks; pods without any are left out.
func (g *Gatherer) PodNetworks(ctx context.Context, namespace string) ([]*PodNetworks, error) {
	pods := &corev1.PodList{}
	if err := g.Client.List(ctx, pods, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("failed to list pods: %w", err)
	}
	planes, err := g.nadPlanes(ctx, namespace)
	if err != nil {
		return nil, err
	}
	var out []*PodNetworks
	for i := range pods.Items {
		if p := AnalyzePod(&pods.Items[i], planes); p.HasSecondaryNetworks() {
			out = append(out, p)
		}
	}
	return out, nil
}

// nadPlanes maps "namespace/name" of every NAD Plexus rendered to its NetworkPlane. A cluster
// without the NAD CRD has no NADs.
func (g *Gatherer) nadPlanes(ctx context.Context, namespace string) (map[string]string, error) {
	nads := &metav1.PartialObjectMetadataList{}
	nads.SetGroupVersionKind(nadGVK.GroupVersion().WithKind(nadGVK.Kind + "List"))
	if err := g.Client.List(ctx, nads, client.InNamespace(namespace)); err != nil {
		// No NAD CRD, or no right to list NADs: the PLANE column stays empty.
		if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			return map[string]string{}, nil
		}
		return nil, fmt.Errorf("failed to list NetworkAttachmentDefinitions: %w", err)
	}
	out := map[string]string{}
	for _, n := range nads.Items {
		if plane := n.Labels[plexusv1alpha1.PlaneLabel]; plane != "" {
			out[n.Namespace+"/"+n.Name] = plane
		}
	}
	return out, nil
}

// Planes lists the NetworkPlanes.
func (g *Gatherer) Planes(ctx context.Context) ([]plexusv1alpha1.NetworkPlane, error) {
	list := &plexusv1alpha1.NetworkPlaneList{}
	if err := g.Client.List(ctx, list); err != nil {
		return nil, fmt.Errorf("failed to list NetworkPlanes: %w", err)
	}
	return list.Items, nil
}

// Why gathers the report for one pod.
func (g *Gatherer) Why(ctx context.Context, namespace, name string) (*WhyReport, error) {
	pod := &corev1.Pod{}
	if err := g.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, pod); err != nil {
		return nil, fmt.Errorf("failed to get pod %s/%s: %w", namespace, name, err)
	}
	planes, err := g.nadPlanes(ctx, namespace)
	if err != nil {
		return nil, err
	}
	r := &WhyReport{Networks: AnalyzePod(pod, planes)}

	if v := pod.Annotations[netattach.NetworksAnnotation]; v != "" {
		if requested, err := netattach.ParseNetworks(v, pod.Namespace); err == nil {
			seen := map[string]bool{}
			for _, e := range requested {
				if seen[e.Key()] {
					continue
				}
				seen[e.Key()] = true
				exists, err := g.nadExists(ctx, e.Namespace, e.Name)
				if err != nil {
					return nil, err
				}
				if !exists {
					r.MissingNADs = append(r.MissingNADs, e.Key())
				}
			}
		}
	}

	events := &corev1.EventList{}
	if err := g.Client.List(ctx, events, client.InNamespace(namespace), client.MatchingFields{EventObjectNameField: name}); err != nil && !apierrors.IsForbidden(err) {
		return nil, fmt.Errorf("failed to list events of pod %s/%s: %w", namespace, name, err)
	}
	var podEvents []corev1.Event
	for _, e := range events.Items {
		if e.InvolvedObject.Kind == "Pod" && (e.InvolvedObject.UID == "" || e.InvolvedObject.UID == pod.UID) {
			podEvents = append(podEvents, e)
		}
	}
	r.Events = RelevantEvents(podEvents)

	policies := &plexusv1alpha1.AttachmentPolicyList{}
	if err := g.Client.List(ctx, policies, client.InNamespace(namespace)); err != nil {
		if !meta.IsNoMatchError(err) && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
			return nil, fmt.Errorf("failed to list AttachmentPolicies: %w", err)
		}
	}
	r.Policies = NewPolicyFindings(pod, policies.Items)
	return r, nil
}

func (g *Gatherer) nadExists(ctx context.Context, namespace, name string) (bool, error) {
	nad := &metav1.PartialObjectMetadata{}
	nad.SetGroupVersionKind(nadGVK)
	err := g.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, nad)
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return false, nil
	case apierrors.IsForbidden(err):
		return true, nil // cannot tell: do not claim it is missing
	default:
		return false, fmt.Errorf("failed to get NetworkAttachmentDefinition %s/%s: %w", namespace, name, err)
	}
}
