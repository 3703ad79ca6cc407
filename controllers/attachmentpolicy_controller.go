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

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/metrics"
)

// AttachmentPolicyReconciler publishes, for each AttachmentPolicy, how many of the pods it
// selects got their attachments, from the pods' network-status annotations and
// FailedCreatePodSandBox events. The pod webhook (internal/webhook) does the mutation.
type AttachmentPolicyReconciler struct {
	// Client reads from the manager cache (pods are trimmed there) and writes status.
	Client client.Client
	// Recorder emits Events on the policy.
	Recorder recorder.EventRecorder
}

// policyScope is the request-local state of one policy reconcile.
type policyScope struct {
	// policy is the object being reconciled; status is written from it at the end.
	policy *plexusv1alpha1.AttachmentPolicy
	// original is the policy as read, the base of the status patch.
	original *plexusv1alpha1.AttachmentPolicy
	// missingPlanes are attachment planes that do not exist; set by reconcilePlanes.
	missingPlanes []string
	// unrenderedPlanes are attachment planes whose NAD is not in the policy's namespace; set by
	// reconcilePlanes.
	unrenderedPlanes []string
	// matched, attached, pending and failed count pods; set by reconcilePods.
	matched, attached, pending, failed int32
	// failing are the failed pods, sorted by name and bounded; set by reconcilePods.
	failing []plexusv1alpha1.FailingPod
	// recheckAfter is when a pending pod turns failed without a new event; set by
	// reconcilePods.
	recheckAfter time.Duration
}

// +kubebuilder:rbac:groups=net.plexus.dev,resources=attachmentpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=net.plexus.dev,resources=attachmentpolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=net.plexus.dev,resources=networkplanes,verbs=get;list;watch
// +kubebuilder:rbac:groups=k8s.cni.cncf.io,resources=network-attachment-definitions,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile computes one policy's attachment status.
func (r *AttachmentPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	policy := &plexusv1alpha1.AttachmentPolicy{}
	if err := r.Client.Get(ctx, req.NamespacedName, policy); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.DeletePolicy(req.Namespace, req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get AttachmentPolicy %s: %w", req.NamespacedName, err)
	}
	if !policy.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("AttachmentPolicy", klog.KObj(policy)))

	s := &policyScope{policy: policy, original: policy.DeepCopy()}
	defer func() {
		retErr = errors.Join(retErr, r.writeStatus(ctx, s, retErr))
	}()

	err := runPhases(ctx, s, []func(context.Context, *policyScope) error{
		r.reconcilePlanes,
		r.reconcilePods,
	})
	return ctrl.Result{RequeueAfter: s.recheckAfter}, err
}

// reconcilePlanes records attachments whose NetworkPlane does not exist, or whose NAD Plexus has
// not rendered into the policy's namespace.
func (r *AttachmentPolicyReconciler) reconcilePlanes(ctx context.Context, s *policyScope) error {
	seen := map[string]bool{}
	for _, a := range s.policy.Spec.Attachments {
		if seen[a.Plane] {
			continue
		}
		seen[a.Plane] = true
		plane := &plexusv1alpha1.NetworkPlane{}
		err := r.Client.Get(ctx, types.NamespacedName{Name: a.Plane}, plane)
		switch {
		case apierrors.IsNotFound(err):
			s.missingPlanes = append(s.missingPlanes, a.Plane)
			continue
		case err != nil:
			return fmt.Errorf("failed to get NetworkPlane %s: %w", a.Plane, err)
		}
		nad := &nadv1.NetworkAttachmentDefinition{}
		err = r.Client.Get(ctx, types.NamespacedName{Namespace: s.policy.Namespace, Name: a.Plane}, nad)
		switch {
		case apierrors.IsNotFound(err) || (err == nil && !ownedBy(nad, plane)):
			s.unrenderedPlanes = append(s.unrenderedPlanes, a.Plane)
		case err != nil:
			return fmt.Errorf("failed to get NAD %s/%s: %w", s.policy.Namespace, a.Plane, err)
		}
	}
	return nil
}

// reconcilePods evaluates every pod the policy selects.
func (r *AttachmentPolicyReconciler) reconcilePods(ctx context.Context, s *policyScope) error {
	sel, err := metav1.LabelSelectorAsSelector(&s.policy.Spec.PodSelector)
	if err != nil {
		return reconcile.TerminalError(fmt.Errorf("invalid podSelector: %w", err))
	}
	pods := &corev1.PodList{}
	if err := r.Client.List(ctx, pods, client.InNamespace(s.policy.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return fmt.Errorf("failed to list pods: %w", err)
	}
	now := time.Now()
	var failing []plexusv1alpha1.FailingPod
	for i := range pods.Items {
		pod := &pods.Items[i]
		if !pod.DeletionTimestamp.IsZero() || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		s.matched++
		ev, err := latestSandboxFailure(ctx, r.Client, pod)
		if err != nil {
			return err
		}
		state, reason, message, recheck := evaluatePodForPolicy(s.policy, pod, ev, now)
		switch state {
		case attachAttached:
			s.attached++
		case attachFailed:
			s.failed++
			failing = append(failing, plexusv1alpha1.FailingPod{Name: pod.Name, Reason: reason, Message: message})
		default:
			s.pending++
			if recheck > 0 && (s.recheckAfter == 0 || recheck < s.recheckAfter) {
				s.recheckAfter = recheck
			}
		}
	}
	s.failing = boundFailingPods(failing)
	return nil
}

// evaluatePodForPolicy is the state of a pod as far as a policy is concerned: a pod whose
// networks annotation lacks one of the policy's attachments was not mutated; otherwise it is the
// pod's overall attachment state.
func evaluatePodForPolicy(policy *plexusv1alpha1.AttachmentPolicy, pod *corev1.Pod, sandboxFailure string, now time.Time) (attachState, string, string, time.Duration) {
	res := evaluatePod(pod, sandboxFailure, now)
	if res.reason == plexusv1alpha1.PodInvalidAnnotationReason {
		return res.state, res.reason, res.message, 0
	}
	for _, a := range policy.Spec.Attachments {
		found := false
		for _, e := range res.requested {
			if e.Name == a.Plane && e.Namespace == pod.Namespace && (a.Interface == "" || e.InterfaceName == a.Interface) {
				found = true
				break
			}
		}
		if !found {
			return attachFailed, plexusv1alpha1.PodNotMutatedReason,
				fmt.Sprintf("the pod's networks annotation lacks %s from this policy: it was created before the policy or while the webhook was unavailable; recreate the pod", a.Plane), 0
		}
	}
	return res.state, res.reason, res.message, res.recheckAfter
}

// writeStatus sets conditions and counts, emits Events on transitions, and patches the status
// once, only when it changed.
func (r *AttachmentPolicyReconciler) writeStatus(ctx context.Context, s *policyScope, reconcileErr error) error {
	setPolicyStatus(s, reconcileErr)
	p := s.policy
	metrics.PolicyPods.WithLabelValues(p.Namespace, p.Name, metrics.StateAttached).Set(float64(s.attached))
	metrics.PolicyPods.WithLabelValues(p.Namespace, p.Name, metrics.StatePending).Set(float64(s.pending))
	metrics.PolicyPods.WithLabelValues(p.Namespace, p.Name, metrics.StateFailed).Set(float64(s.failed))
	recordTransitions(r.Recorder, p, s.original.Status.Conditions, p.Status.Conditions)
	if equality.Semantic.DeepEqual(s.original.Status, p.Status) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, p, client.MergeFrom(s.original)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to patch status of AttachmentPolicy %s: %w", klog.KObj(p), err)
	}
	return nil
}

// SetupWithManager registers the controller: policies, the pods of their namespaces, sandbox
// failure events, and planes appearing or disappearing.
func (r *AttachmentPolicyReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	if r.Client == nil || r.Recorder == nil {
		return errors.New("AttachmentPolicyReconciler needs Client and Recorder")
	}
	if concurrency <= 0 {
		concurrency = 2
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&plexusv1alpha1.AttachmentPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(r.podToPolicies), builder.WithPredicates(podChanged())).
		Watches(&corev1.Event{}, handler.EnqueueRequestsFromMapFunc(r.eventToPolicies)).
		Watches(&plexusv1alpha1.NetworkPlane{}, handler.EnqueueRequestsFromMapFunc(r.planeToPolicies),
			builder.WithPredicates(createOrDelete())).
		Watches(&nadv1.NetworkAttachmentDefinition{}, handler.EnqueueRequestsFromMapFunc(r.nadToPolicies),
			builder.WithPredicates(createOrDelete())).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Named("attachmentpolicy").
		Complete(r)
}

// podToPolicies maps a pod to the policies of its namespace that select it.
func (r *AttachmentPolicyReconciler) podToPolicies(ctx context.Context, o client.Object) []reconcile.Request {
	return r.policiesSelecting(ctx, o.GetNamespace(), labels.Set(o.GetLabels()))
}

// eventToPolicies maps a sandbox failure event to the policies selecting its pod.
func (r *AttachmentPolicyReconciler) eventToPolicies(ctx context.Context, o client.Object) []reconcile.Request {
	ev, ok := o.(*corev1.Event)
	if !ok || ev.InvolvedObject.Kind != "Pod" {
		return nil
	}
	pod := &corev1.Pod{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ev.InvolvedObject.Namespace, Name: ev.InvolvedObject.Name}, pod); err != nil {
		return nil
	}
	return r.policiesSelecting(ctx, pod.Namespace, labels.Set(pod.Labels))
}

func (r *AttachmentPolicyReconciler) policiesSelecting(ctx context.Context, namespace string, podLabels labels.Set) []reconcile.Request {
	policies := &plexusv1alpha1.AttachmentPolicyList{}
	if err := r.Client.List(ctx, policies, client.InNamespace(namespace)); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list AttachmentPolicies for a pod event")
		return nil
	}
	var reqs []reconcile.Request
	for i := range policies.Items {
		sel, err := metav1.LabelSelectorAsSelector(&policies.Items[i].Spec.PodSelector)
		if err == nil && sel.Matches(podLabels) {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&policies.Items[i])})
		}
	}
	return reqs
}

// planeToPolicies maps a plane to every policy that names it.
func (r *AttachmentPolicyReconciler) planeToPolicies(ctx context.Context, o client.Object) []reconcile.Request {
	policies := &plexusv1alpha1.AttachmentPolicyList{}
	if err := r.Client.List(ctx, policies); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list AttachmentPolicies for a NetworkPlane event")
		return nil
	}
	var reqs []reconcile.Request
	for i := range policies.Items {
		for _, a := range policies.Items[i].Spec.Attachments {
			if a.Plane == o.GetName() {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&policies.Items[i])})
				break
			}
		}
	}
	return reqs
}

// nadToPolicies maps a NAD to the policies of its namespace that name it.
func (r *AttachmentPolicyReconciler) nadToPolicies(ctx context.Context, o client.Object) []reconcile.Request {
	policies := &plexusv1alpha1.AttachmentPolicyList{}
	if err := r.Client.List(ctx, policies, client.InNamespace(o.GetNamespace())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list AttachmentPolicies for a NAD event")
		return nil
	}
	var reqs []reconcile.Request
	for i := range policies.Items {
		for _, a := range policies.Items[i].Spec.Attachments {
			if a.Plane == o.GetName() {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&policies.Items[i])})
				break
			}
		}
	}
	return reqs
}

// podChanged passes pod events that can change attachment status: creation, deletion, and
// updates of the trimmed fields (labels, the two annotations, phase, conditions, deletion).
func podChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			oldPod, ok1 := e.ObjectOld.(*corev1.Pod)
			newPod, ok2 := e.ObjectNew.(*corev1.Pod)
			if !ok1 || !ok2 {
				return true
			}
			a, b := oldPod.DeepCopy(), newPod.DeepCopy()
			a.ResourceVersion, b.ResourceVersion = "", ""
			return !equality.Semantic.DeepEqual(a, b)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// createOrDelete passes only creations and deletions.
func createOrDelete() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
