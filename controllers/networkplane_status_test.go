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
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// fakeRecorder records Eventf calls as "type reason".
type fakeRecorder struct{ events []string }

func (f *fakeRecorder) Eventf(_ runtime.Object, _ runtime.Object, eventtype, reason, _, _ string, _ ...interface{}) {
	f.events = append(f.events, eventtype+" "+reason)
}

func (f *fakeRecorder) AnnotatedEventf(_ runtime.Object, _ runtime.Object, _ map[string]string, eventtype, reason, _, _ string, _ ...interface{}) {
	f.events = append(f.events, eventtype+" "+reason)
}

func TestSetPlaneStatus(t *testing.T) {
	tests := []struct {
		name        string
		scope       planeScope
		err         error
		ready       metav1.ConditionStatus
		reason      string
		degraded    metav1.ConditionStatus
		observedGen int64
	}{
		{name: "rendered", scope: planeScope{selected: map[string]bool{"a": true}, rendered: map[string]bool{"a": true}},
			ready: metav1.ConditionTrue, reason: plexusv1alpha1.NetworkPlaneRenderedReason, degraded: metav1.ConditionFalse, observedGen: 3},
		{name: "no namespaces", scope: planeScope{selected: map[string]bool{}},
			ready: metav1.ConditionTrue, reason: plexusv1alpha1.NetworkPlaneNoMatchingNamespacesReason, degraded: metav1.ConditionFalse, observedGen: 3},
		{name: "conflict", scope: planeScope{selected: map[string]bool{"a": true}, conflicts: []string{"a"}},
			ready: metav1.ConditionFalse, reason: plexusv1alpha1.NetworkPlaneNADConflictReason, degraded: metav1.ConditionTrue, observedGen: 3},
		{name: "invalid config is terminal", scope: planeScope{configErr: errInvalidPlaneConfig}, err: reconcile.TerminalError(errInvalidPlaneConfig),
			ready: metav1.ConditionFalse, reason: plexusv1alpha1.NetworkPlaneInvalidConfigReason, degraded: metav1.ConditionTrue, observedGen: 3},
		{name: "apply failure keeps the old observedGeneration", scope: planeScope{applyErr: errors.New("boom")}, err: errors.New("boom"),
			ready: metav1.ConditionFalse, reason: plexusv1alpha1.NetworkPlaneApplyFailedReason, degraded: metav1.ConditionTrue, observedGen: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			p := &plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: "p", Generation: 3},
				Status: plexusv1alpha1.NetworkPlaneStatus{ObservedGeneration: 1}}
			s := tt.scope
			s.plane = p
			setPlaneStatus(&s, tt.err)
			ready := meta.FindStatusCondition(p.Status.Conditions, plexusv1alpha1.ReadyCondition)
			g.Expect(ready.Status).To(Equal(tt.ready))
			g.Expect(ready.Reason).To(Equal(tt.reason))
			g.Expect(ready.ObservedGeneration).To(BeEquivalentTo(3))
			g.Expect(meta.FindStatusCondition(p.Status.Conditions, plexusv1alpha1.DegradedCondition).Status).To(Equal(tt.degraded))
			g.Expect(p.Status.ObservedGeneration).To(Equal(tt.observedGen))
		})
	}
}

func TestRecordTransitions(t *testing.T) {
	g := NewWithT(t)
	cond := func(typ string, st metav1.ConditionStatus, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: st, Reason: reason}
	}
	ready := cond(plexusv1alpha1.ReadyCondition, metav1.ConditionTrue, "Rendered")
	notDegraded := cond(plexusv1alpha1.DegradedCondition, metav1.ConditionFalse, "AsExpected")
	conflict := cond(plexusv1alpha1.ReadyCondition, metav1.ConditionFalse, "NADConflict")
	degraded := cond(plexusv1alpha1.DegradedCondition, metav1.ConditionTrue, "NADConflict")

	for i, tt := range []struct {
		before, after []metav1.Condition
		want          []string
	}{
		{before: nil, after: []metav1.Condition{ready, notDegraded}, want: []string{"Normal Rendered"}},
		{before: []metav1.Condition{ready, notDegraded}, after: []metav1.Condition{ready, notDegraded}, want: nil},
		{before: []metav1.Condition{ready, notDegraded}, after: []metav1.Condition{conflict, degraded}, want: []string{"Warning NADConflict"}},
		{before: []metav1.Condition{conflict, degraded}, after: []metav1.Condition{conflict, notDegraded}, want: []string{"Normal AsExpected"}},
	} {
		rec := &fakeRecorder{}
		recordTransitions(rec, &plexusv1alpha1.NetworkPlane{}, tt.before, tt.after)
		g.Expect(rec.events).To(Equal(tt.want), fmt.Sprint("case ", i))
	}
}
