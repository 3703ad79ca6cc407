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
	"context"
	"fmt"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

// Field indexes registered by SetupIndexes.
const (
	// nadNameIndex indexes NADs by metadata.name, to find every NAD named like a plane.
	nadNameIndex = "plexus.nad.name"
	// podNetworksIndex indexes pods by the "namespace/name" networks they request.
	podNetworksIndex = "plexus.pod.networks"
	// eventPodUIDIndex indexes FailedCreatePodSandBox events by the UID of their pod.
	eventPodUIDIndex = "plexus.event.poduid"
)

// sandboxFailedReason is the kubelet event reason for a failed pod sandbox (and so a failed CNI
// ADD).
const sandboxFailedReason = "FailedCreatePodSandBox"

// Scheme returns a scheme with the Kubernetes, Plexus and NAD types.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(plexusv1alpha1.AddToScheme(s))
	utilruntime.Must(nadv1.AddToScheme(s))
	return s
}

// CacheOptions are the manager cache options of the operator, shared by main and the tests.
// Managed fields are stripped from everything; pods are trimmed to what attachment status needs
// (metadata with two annotations, readiness gates, phase and three condition types), and only
// FailedCreatePodSandBox events are cached.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {Transform: trimPod},
			&corev1.Event{}: {
				Field:     fields.OneTermEqualSelector("reason", sandboxFailedReason),
				Transform: trimEvent,
			},
		},
	}
}

// trimPod keeps the fields of a pod that attachment status reads and drops the rest, so 10,000
// pods stay cheap in the cache. Objects read from the cache are therefore partial pods.
func trimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	trimmed := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              pod.Name,
			Namespace:         pod.Namespace,
			UID:               pod.UID,
			ResourceVersion:   pod.ResourceVersion,
			Generation:        pod.Generation,
			CreationTimestamp: pod.CreationTimestamp,
			DeletionTimestamp: pod.DeletionTimestamp,
			Labels:            pod.Labels,
		},
		Spec: corev1.PodSpec{
			NodeName:       pod.Spec.NodeName,
			ReadinessGates: pod.Spec.ReadinessGates,
		},
		Status: corev1.PodStatus{
			Phase:     pod.Status.Phase,
			StartTime: pod.Status.StartTime,
		},
	}
	for _, key := range []string{netattach.NetworksAnnotation, netattach.NetworkStatusAnnotation} {
		if v, ok := pod.Annotations[key]; ok {
			if trimmed.Annotations == nil {
				trimmed.Annotations = map[string]string{}
			}
			trimmed.Annotations[key] = v
		}
	}
	for _, c := range pod.Status.Conditions {
		switch c.Type {
		case corev1.PodReadyToStartContainers, corev1.PodScheduled, plexusv1alpha1.AttachmentsReadyPodCondition:
			trimmed.Status.Conditions = append(trimmed.Status.Conditions, c)
		}
	}
	return trimmed, nil
}

// trimEvent keeps what the attachment status needs from a FailedCreatePodSandBox event.
func trimEvent(obj any) (any, error) {
	ev, ok := obj.(*corev1.Event)
	if !ok {
		return obj, nil
	}
	return &corev1.Event{
		TypeMeta: ev.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: ev.Name, Namespace: ev.Namespace, UID: ev.UID, ResourceVersion: ev.ResourceVersion,
		},
		InvolvedObject: ev.InvolvedObject,
		Reason:         ev.Reason,
		Message:        truncate(ev.Message),
		LastTimestamp:  ev.LastTimestamp,
		EventTime:      ev.EventTime,
		Count:          ev.Count,
	}, nil
}

// SetupIndexes registers the field indexes the reconcilers use.
func SetupIndexes(ctx context.Context, mgr manager.Manager) error {
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &nadv1.NetworkAttachmentDefinition{}, nadNameIndex, func(o client.Object) []string {
		return []string{o.GetName()}
	}); err != nil {
		return fmt.Errorf("failed to index NADs by name: %w", err)
	}
	if err := idx.IndexField(ctx, &corev1.Pod{}, podNetworksIndex, func(o client.Object) []string {
		return requestedNetworkKeys(o.(*corev1.Pod))
	}); err != nil {
		return fmt.Errorf("failed to index pods by networks: %w", err)
	}
	if err := idx.IndexField(ctx, &corev1.Event{}, eventPodUIDIndex, func(o client.Object) []string {
		ev := o.(*corev1.Event)
		if ev.InvolvedObject.Kind != "Pod" || ev.InvolvedObject.UID == "" {
			return nil
		}
		return []string{string(ev.InvolvedObject.UID)}
	}); err != nil {
		return fmt.Errorf("failed to index events by pod: %w", err)
	}
	return nil
}

// Config is the controllers' share of the operator configuration.
type Config struct {
	// ApplyWorkers is how many NADs a plane reconcile writes in parallel.
	ApplyWorkers int
	// PlaneConcurrency is the number of planes reconciled in parallel.
	PlaneConcurrency int
	// PolicyConcurrency is the number of policies reconciled in parallel.
	PolicyConcurrency int
	// AgentNamespace is where the node agent DaemonSet and the device-plugin ConfigMap live (the
	// operator's namespace); empty disables the PlexusConfig and NodeNetworkPolicy controllers.
	AgentNamespace string
}

// SetupReconcilers registers the indexes and every reconciler this package owns with mgr.
func SetupReconcilers(ctx context.Context, mgr manager.Manager, cfg Config) error {
	if err := SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	if err := (&NetworkPlaneReconciler{
		Client:       mgr.GetClient(),
		Recorder:     mgr.GetEventRecorder("plexus-networkplane"),
		ApplyWorkers: cfg.ApplyWorkers,
	}).SetupWithManager(mgr, cfg.PlaneConcurrency); err != nil {
		return fmt.Errorf("failed to set up the NetworkPlane controller: %w", err)
	}
	if err := (&AttachmentPolicyReconciler{
		Client:   mgr.GetClient(),
		Recorder: mgr.GetEventRecorder("plexus-attachmentpolicy"),
	}).SetupWithManager(mgr, cfg.PolicyConcurrency); err != nil {
		return fmt.Errorf("failed to set up the AttachmentPolicy controller: %w", err)
	}
	if err := (&PodAttachmentReconciler{
		Client: mgr.GetClient(),
	}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the pod attachment controller: %w", err)
	}
	if cfg.AgentNamespace != "" {
		if err := (&NodeNetworkPolicyReconciler{
			Client:    mgr.GetClient(),
			Recorder:  mgr.GetEventRecorder("plexus-nodenetworkpolicy"),
			Namespace: cfg.AgentNamespace,
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("failed to set up the NodeNetworkPolicy controller: %w", err)
		}
		if err := (&PlexusConfigReconciler{
			Client:    mgr.GetClient(),
			APIReader: mgr.GetAPIReader(),
			Scheme:    mgr.GetScheme(),
			Namespace: cfg.AgentNamespace,
			Recorder:  mgr.GetEventRecorder("plexus-plexusconfig"),
		}).SetupWithManager(mgr); err != nil {
			return fmt.Errorf("failed to set up the PlexusConfig controller: %w", err)
		}
	}
	return nil
}
