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
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// maxFailingPods bounds status.failingPods (the CRD allows 20).
const maxFailingPods = 20

// boundFailingPods sorts failing pods by name and keeps the first maxFailingPods.
func boundFailingPods(pods []plexusv1alpha1.FailingPod) []plexusv1alpha1.FailingPod {
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	if len(pods) > maxFailingPods {
		pods = pods[:maxFailingPods]
	}
	return pods
}

// setPolicyStatus computes the policy's status from the scope.
func setPolicyStatus(s *policyScope, reconcileErr error) {
	p := s.policy
	gen := p.Generation
	p.Status.MatchedPods, p.Status.AttachedPods, p.Status.FailedPods = s.matched, s.attached, s.failed
	p.Status.FailingPods = s.failing
	if reconcileErr == nil || errors.Is(reconcileErr, reconcile.TerminalError(nil)) {
		p.Status.ObservedGeneration = gen
	}

	ready := metav1.Condition{Type: plexusv1alpha1.ReadyCondition, ObservedGeneration: gen}
	switch {
	case reconcileErr != nil && !errors.Is(reconcileErr, reconcile.TerminalError(nil)):
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, plexusv1alpha1.InternalErrorReason, truncate(reconcileErr.Error())
	case s.failed > 0:
		ready.Status, ready.Reason = metav1.ConditionFalse, plexusv1alpha1.AttachmentPolicyPodsFailedReason
		ready.Message = fmt.Sprintf("%d of %d matched pods are missing attachments", s.failed, s.matched)
	case s.pending > 0:
		ready.Status, ready.Reason = metav1.ConditionFalse, plexusv1alpha1.AttachmentPolicyPodsPendingReason
		ready.Message = fmt.Sprintf("%d of %d matched pods have not reported their network status yet", s.pending, s.matched)
	case s.matched == 0:
		ready.Status, ready.Reason, ready.Message = metav1.ConditionTrue, plexusv1alpha1.AttachmentPolicyNoMatchingPodsReason, "The podSelector matches no pod"
	default:
		ready.Status, ready.Reason = metav1.ConditionTrue, plexusv1alpha1.AttachmentPolicyAllAttachedReason
		ready.Message = fmt.Sprintf("All %d matched pods are attached", s.matched)
	}

	degraded := metav1.Condition{Type: plexusv1alpha1.DegradedCondition, ObservedGeneration: gen,
		Status: metav1.ConditionFalse, Reason: plexusv1alpha1.AsExpectedReason, Message: "Nothing is failing"}
	switch {
	case len(s.missingPlanes) > 0:
		degraded.Status, degraded.Reason = metav1.ConditionTrue, plexusv1alpha1.AttachmentPolicyPlaneNotFoundReason
		degraded.Message = "NetworkPlanes not found: " + strings.Join(s.missingPlanes, ", ")
	case len(s.unrenderedPlanes) > 0:
		degraded.Status, degraded.Reason = metav1.ConditionTrue, plexusv1alpha1.AttachmentPolicyPlaneNotRenderedReason
		degraded.Message = fmt.Sprintf("NetworkPlanes not rendered into namespace %s (check their namespaceSelector and NADConflict condition): %s",
			p.Namespace, strings.Join(s.unrenderedPlanes, ", "))
	case s.failed > 0:
		degraded.Status, degraded.Reason, degraded.Message = metav1.ConditionTrue, ready.Reason, ready.Message
	}
	meta.SetStatusCondition(&p.Status.Conditions, ready)
	meta.SetStatusCondition(&p.Status.Conditions, degraded)
}
