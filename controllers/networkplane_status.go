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
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// maxListedNamespaces bounds how many namespaces a condition message names.
const maxListedNamespaces = 10

// setPlaneStatus computes the plane's status from the scope. observedGeneration moves forward
// only when the reconcile finished or failed for a reason retrying won't fix.
func setPlaneStatus(s *planeScope, reconcileErr error) {
	p := s.plane
	gen := p.Generation
	p.Status.RenderedNamespaces = int32(len(s.rendered))
	p.Status.AttachedPods = s.attached
	p.Status.FailedPods = s.failed
	if reconcileErr == nil || errors.Is(reconcileErr, reconcile.TerminalError(nil)) {
		p.Status.ObservedGeneration = gen
	}

	ready := metav1.Condition{Type: plexusv1alpha1.ReadyCondition, ObservedGeneration: gen}
	degraded := metav1.Condition{Type: plexusv1alpha1.DegradedCondition, ObservedGeneration: gen,
		Status: metav1.ConditionFalse, Reason: plexusv1alpha1.AsExpectedReason, Message: "Nothing is failing"}
	switch {
	case s.configErr != nil:
		ready.Status, ready.Reason = metav1.ConditionFalse, plexusv1alpha1.NetworkPlaneInvalidConfigReason
		ready.Message = s.configErr.Error()
		degraded.Status, degraded.Reason, degraded.Message = metav1.ConditionTrue, ready.Reason, ready.Message
	case len(s.conflicts) > 0:
		ready.Status, ready.Reason = metav1.ConditionFalse, plexusv1alpha1.NetworkPlaneNADConflictReason
		ready.Message = fmt.Sprintf("A NetworkAttachmentDefinition named %s not managed by Plexus exists in namespaces %s; Plexus leaves it alone",
			p.Name, listNamespaces(s.conflicts))
		degraded.Status, degraded.Reason, degraded.Message = metav1.ConditionTrue, ready.Reason, ready.Message
	case s.applyErr != nil || reconcileErr != nil:
		err := s.applyErr
		if err == nil {
			err = reconcileErr
		}
		ready.Status, ready.Reason = metav1.ConditionFalse, plexusv1alpha1.NetworkPlaneApplyFailedReason
		ready.Message = truncate(err.Error())
		degraded.Status, degraded.Reason, degraded.Message = metav1.ConditionTrue, ready.Reason, ready.Message
	case len(s.selected) == 0:
		ready.Status, ready.Reason = metav1.ConditionTrue, plexusv1alpha1.NetworkPlaneNoMatchingNamespacesReason
		ready.Message = "The namespaceSelector matches no namespace"
	default:
		ready.Status, ready.Reason = metav1.ConditionTrue, plexusv1alpha1.NetworkPlaneRenderedReason
		ready.Message = fmt.Sprintf("NetworkAttachmentDefinition %s is current in %d namespaces", p.Name, len(s.rendered))
	}
	meta.SetStatusCondition(&p.Status.Conditions, ready)
	meta.SetStatusCondition(&p.Status.Conditions, degraded)
}

func listNamespaces(ns []string) string {
	if len(ns) <= maxListedNamespaces {
		return strings.Join(ns, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ns[:maxListedNamespaces], ", "), len(ns)-maxListedNamespaces)
}

// recordTransitions emits one Event per transition: for the Ready condition when its status or
// reason changed, otherwise for the first other condition that changed. Warning when Ready turns
// False or Degraded turns True, Normal otherwise.
func recordTransitions(rec recorder.EventRecorder, obj runtime.Object, before, after []metav1.Condition) {
	var changed []metav1.Condition
	for _, c := range after {
		old := meta.FindStatusCondition(before, c.Type)
		if old != nil && old.Status == c.Status && old.Reason == c.Reason {
			continue
		}
		if old == nil && c.Type == plexusv1alpha1.DegradedCondition && c.Status == metav1.ConditionFalse {
			continue // the initial "nothing is failing" is not news
		}
		if c.Type == plexusv1alpha1.ReadyCondition {
			changed = append([]metav1.Condition{c}, changed...)
		} else {
			changed = append(changed, c)
		}
	}
	for _, c := range changed[:min(len(changed), 1)] {
		eventType := corev1.EventTypeNormal
		if (c.Type == plexusv1alpha1.ReadyCondition && c.Status == metav1.ConditionFalse) ||
			(c.Type == plexusv1alpha1.DegradedCondition && c.Status == metav1.ConditionTrue) {
			eventType = corev1.EventTypeWarning
		}
		rec.Eventf(obj, nil, eventType, c.Reason, c.Type, "%s=%s: %s", c.Type, c.Status, c.Message)
	}
}
