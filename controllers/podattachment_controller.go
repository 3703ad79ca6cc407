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
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// podFieldOwner is the server-side apply field manager of the pod readiness-gate condition.
const podFieldOwner = "plexus/pod-attachments"

// Reasons of the AttachmentsReady pod condition (besides the FailingPod reasons).
const (
	podAttachedReason = "Attached"
	podPendingReason  = "Pending"
)

// PodAttachmentReconciler sets the net.plexus.dev/AttachmentsReady condition on pods that carry
// that readiness gate, from their network-status annotation and sandbox failure events.
type PodAttachmentReconciler struct {
	// Client reads trimmed pods from the cache and applies the pod status condition.
	Client client.Client
}

// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods/status,verbs=get;patch

// Reconcile sets one pod's AttachmentsReady condition.
func (r *PodAttachmentReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pod := &corev1.Pod{}
	if err := r.Client.Get(ctx, req.NamespacedName, pod); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !hasAttachmentsGate(pod) || !pod.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	ev, err := latestSandboxFailure(ctx, r.Client, pod)
	if err != nil {
		return ctrl.Result{}, err
	}
	res := evaluatePod(pod, ev, time.Now())
	want := desiredPodCondition(res)
	cur := findPodCondition(pod, plexusv1alpha1.AttachmentsReadyPodCondition)
	if cur != nil && cur.Status == want.Status && cur.Reason == want.Reason && cur.Message == want.Message {
		return ctrl.Result{RequeueAfter: res.recheckAfter}, nil
	}
	ltt := metav1.Now()
	if cur != nil && cur.Status == want.Status {
		ltt = cur.LastTransitionTime
	}
	ctrl.LoggerFrom(ctx).V(2).Info("Setting pod condition", "Pod", klog.KObj(pod),
		"condition", plexusv1alpha1.AttachmentsReadyPodCondition, "status", want.Status, "reason", want.Reason)
	apply := corev1ac.Pod(pod.Name, pod.Namespace).WithStatus(corev1ac.PodStatus().WithConditions(
		corev1ac.PodCondition().
			WithType(want.Type).WithStatus(want.Status).
			WithReason(want.Reason).WithMessage(want.Message).
			WithLastTransitionTime(ltt)))
	if err := r.Client.Status().Apply(ctx, apply, client.FieldOwner(podFieldOwner), client.ForceOwnership); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("failed to set condition %s on pod %s: %w", want.Type, klog.KObj(pod), err)
	}
	return ctrl.Result{RequeueAfter: res.recheckAfter}, nil
}

// desiredPodCondition is the AttachmentsReady condition for an evaluated pod.
func desiredPodCondition(res podAttachments) corev1.PodCondition {
	c := corev1.PodCondition{Type: plexusv1alpha1.AttachmentsReadyPodCondition}
	switch res.state {
	case attachAttached:
		c.Status, c.Reason, c.Message = corev1.ConditionTrue, podAttachedReason, "Every requested network is attached"
	case attachFailed:
		c.Status, c.Reason, c.Message = corev1.ConditionFalse, res.reason, res.message
	default:
		c.Status, c.Reason, c.Message = corev1.ConditionFalse, podPendingReason, "Waiting for the pod's network-status"
	}
	return c
}

func findPodCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// SetupWithManager registers the controller for pods with the readiness gate, and their
// sandbox failure events.
func (r *PodAttachmentReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil {
		return errors.New("PodAttachmentReconciler needs Client")
	}
	gated := predicate.NewPredicateFuncs(func(o client.Object) bool {
		pod, ok := o.(*corev1.Pod)
		return ok && hasAttachmentsGate(pod)
	})
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.Pod{}, builder.WithPredicates(gated, podChanged())).
		Watches(&corev1.Event{}, handler.EnqueueRequestsFromMapFunc(eventToPod)).
		Named("podattachment").
		Complete(r)
}

// eventToPod maps a sandbox failure event to its pod.
func eventToPod(_ context.Context, o client.Object) []reconcile.Request {
	ev, ok := o.(*corev1.Event)
	if !ok || ev.InvolvedObject.Kind != "Pod" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{
		Namespace: ev.InvolvedObject.Namespace, Name: ev.InvolvedObject.Name}}}
}
