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

package hardware

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DrainError is a drain that did not finish within drainTimeout.
type DrainError struct {
	// Reason is DrainBlockedReason (an eviction was still refused, typically by a
	// PodDisruptionBudget) or DrainTimeoutReason (the pods did not terminate in time).
	Reason string
	// Pods are the pods still present, as namespace/name, sorted.
	Pods []string
	// Detail is the last refusal message, if any.
	Detail string
}

func (e *DrainError) Error() string {
	msg := fmt.Sprintf("%s: pods still holding VFs after drainTimeout: %s", e.Reason, strings.Join(e.Pods, ", "))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// cordon marks the node unschedulable and records that this reconciler did it. A node that is
// already unschedulable (an administrator cordoned it) is left alone and not marked, so it is
// never uncordoned by the agent.
func (r *Reconciler) cordon(ctx context.Context, node *corev1.Node) error {
	if node.Spec.Unschedulable {
		return nil
	}
	base := node.DeepCopy()
	node.Spec.Unschedulable = true
	if node.Annotations == nil {
		node.Annotations = map[string]string{}
	}
	node.Annotations[CordonAnnotation] = "true"
	if err := r.Client.Patch(ctx, node, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("failed to cordon Node %s: %w", node.Name, err)
	}
	return nil
}

// uncordon lifts a cordon this reconciler set; other cordons stay.
func (r *Reconciler) uncordon(ctx context.Context, node *corev1.Node) error {
	if node.Annotations[CordonAnnotation] == "" {
		return nil
	}
	base := node.DeepCopy()
	node.Spec.Unschedulable = false
	delete(node.Annotations, CordonAnnotation)
	ctrl.LoggerFrom(ctx).Info("Uncordoning Node")
	if err := r.Client.Patch(ctx, node, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("failed to uncordon Node %s: %w", node.Name, err)
	}
	return nil
}

// drain evicts pods (namespace/name) through the Eviction API until they are gone. Refused
// evictions (429: a PodDisruptionBudget) are retried every PollInterval. It returns a
// *DrainError when pods remain after timeout.
func (r *Reconciler) drain(ctx context.Context, pods []string, timeout time.Duration) error {
	log := ctrl.LoggerFrom(ctx)
	deadline := time.Now().Add(timeout)
	pending := map[string]types.UID{} // pod -> UID first seen ("" until read)
	for _, p := range pods {
		pending[p] = ""
	}
	blocked := map[string]string{}
	for {
		for key, uid := range pending {
			ns, name, _ := strings.Cut(key, "/")
			pod := &corev1.Pod{}
			err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, pod)
			switch {
			case apierrors.IsNotFound(err):
				delete(pending, key)
				continue
			case err != nil:
				return fmt.Errorf("failed to get Pod %s: %w", key, err)
			case uid != "" && pod.UID != uid:
				delete(pending, key) // the pod we evicted is gone; a new one took its name
				continue
			}
			pending[key] = pod.UID
			if pod.DeletionTimestamp != nil {
				continue
			}
			log.Info("Evicting Pod that holds a VF", "pod", klog.KObj(pod))
			err = r.evict(ctx, ns, name)
			switch {
			case err == nil:
				delete(blocked, key)
			case apierrors.IsNotFound(err):
				delete(pending, key)
			case apierrors.IsTooManyRequests(err), apierrors.IsForbidden(err):
				blocked[key] = err.Error()
				log.V(2).Info("Eviction refused; retrying", "pod", key, "reason", err.Error())
			default:
				return fmt.Errorf("failed to evict Pod %s: %w", key, err)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return drainError(pending, blocked)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.pollInterval()):
		}
	}
}

func drainError(pending map[string]types.UID, blocked map[string]string) *DrainError {
	e := &DrainError{Reason: DrainTimeoutReason}
	for p := range pending {
		e.Pods = append(e.Pods, p)
		if msg, ok := blocked[p]; ok {
			e.Reason, e.Detail = DrainBlockedReason, msg
		}
	}
	sort.Strings(e.Pods)
	return e
}

// evict posts an Eviction for the pod namespace/name.
func (r *Reconciler) evict(ctx context.Context, ns, name string) error {
	ev := &policyv1.Eviction{TypeMeta: metav1.TypeMeta{APIVersion: policyv1.SchemeGroupVersion.String(), Kind: "Eviction"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	// NOTE: MaxRetries(0): client-go otherwise retries a 429 up to ten times, honouring its
	// Retry-After (10s for a PodDisruptionBudget refusal), which hides the refusal for 100s and
	// overruns drainTimeout. The drain loop does its own retries.
	err := r.Evictions.Post().AbsPath("/api/v1").Namespace(ns).Resource("pods").Name(name).SubResource("eviction").
		MaxRetries(0).Body(ev).Do(ctx).Error()
	if err != nil {
		return fmt.Errorf("failed to evict Pod %s/%s: %w", ns, name, err)
	}
	return nil
}
