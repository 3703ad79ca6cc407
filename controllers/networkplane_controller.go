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
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/metrics"
	"github.com/plexus-net/plexus/internal/netattach"
)

// planeFieldOwner is the server-side apply field manager of the NetworkPlane controller.
const planeFieldOwner = "plexus/networkplane"

// defaultApplyWorkers bounds the parallel NAD writes of one plane reconcile.
const defaultApplyWorkers = 8

// NetworkPlaneReconciler renders each NetworkPlane as a NAD in every namespace its
// namespaceSelector matches, restores hand-edited NADs, deletes NADs of namespaces that stop
// matching, and reports rendered namespaces and attached pods.
type NetworkPlaneReconciler struct {
	// Client reads from the manager cache and writes to the API server.
	Client client.Client
	// Recorder emits Events on the plane.
	Recorder recorder.EventRecorder
	// ApplyWorkers bounds parallel NAD writes per reconcile (default 8).
	ApplyWorkers int
}

// planeScope is the request-local state of one plane reconcile.
type planeScope struct {
	// plane is the object being reconciled; status is written from it at the end.
	plane *plexusv1alpha1.NetworkPlane
	// original is the plane as read, the base of the status patch.
	original *plexusv1alpha1.NetworkPlane
	// config is the rendered CNI config; set by reconcileConfig (nil if invalid).
	config []byte
	// configErr is the render error; set by reconcileConfig.
	configErr error
	// selected are the names of the namespaces the selector matches; set by
	// reconcileNamespaces (nil when they could not be determined).
	selected map[string]bool
	// existing maps namespace to the NAD named like the plane there; set by
	// reconcileNamespaces.
	existing map[string]*nadv1.NetworkAttachmentDefinition
	// rendered are the namespaces holding the current NAD; set by reconcileNADs.
	rendered map[string]bool
	// conflicts are the selected namespaces with a foreign NAD; set by reconcileNADs.
	conflicts []string
	// applyErr aggregates NAD write failures; set by reconcileNADs and reconcileGC.
	applyErr error
	// attached, pending and failed are pod counts; set by reconcilePods.
	attached, pending, failed int32
}

// +kubebuilder:rbac:groups=net.plexus.dev,resources=networkplanes,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=net.plexus.dev,resources=networkplanes/status,verbs=get;update;patch
// NOTE: update on networkplanes/finalizers lets the NADs carry blockOwnerDeletion owner references
// when the OwnerReferencesPermissionEnforcement admission plugin is on.
// +kubebuilder:rbac:groups=net.plexus.dev,resources=networkplanes/finalizers,verbs=update
// +kubebuilder:rbac:groups=k8s.cni.cncf.io,resources=network-attachment-definitions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile renders one NetworkPlane.
func (r *NetworkPlaneReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	plane := &plexusv1alpha1.NetworkPlane{}
	if err := r.Client.Get(ctx, req.NamespacedName, plane); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.DeletePlane(req.Name)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get NetworkPlane %s: %w", req.Name, err)
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("NetworkPlane", klog.KObj(plane)))

	if plane.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(plane, plexusv1alpha1.NetworkPlaneFinalizer) {
		base := plane.DeepCopy()
		controllerutil.AddFinalizer(plane, plexusv1alpha1.NetworkPlaneFinalizer)
		if err := r.Client.Patch(ctx, plane, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("failed to add finalizer to NetworkPlane %s: %w", plane.Name, err)
		}
		// Carry on in the same pass: the plane is current and owns its finalizer now.
	}

	s := &planeScope{plane: plane, original: plane.DeepCopy()}
	if !plane.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.reconcileDelete(ctx, s)
	}
	defer func() {
		retErr = errors.Join(retErr, r.writeStatus(ctx, s, retErr))
	}()

	phases := []func(context.Context, *planeScope) error{
		r.reconcileConfig,
		r.reconcileNamespaces,
		r.reconcileNADs,
		r.reconcileGC,
		r.reconcilePods,
	}
	return ctrl.Result{}, runPhases(ctx, s, phases)
}

// runPhases runs every phase and aggregates their errors. Transient errors win over terminal
// ones, so a spec error elsewhere does not stop the retry of a failed write.
func runPhases[S any](ctx context.Context, s S, phases []func(context.Context, S) error) error {
	var transient, terminal []error
	for _, phase := range phases {
		err := phase(ctx, s)
		switch {
		case err == nil:
		case errors.Is(err, reconcile.TerminalError(nil)):
			terminal = append(terminal, err)
		default:
			transient = append(transient, err)
		}
	}
	if len(transient) > 0 {
		return errors.Join(transient...)
	}
	return errors.Join(terminal...)
}

// reconcileConfig renders the plane's CNI config. A render error is the user's: it is reported
// in the conditions and not retried until the spec changes.
func (r *NetworkPlaneReconciler) reconcileConfig(_ context.Context, s *planeScope) error {
	s.config, s.configErr = desiredNADConfig(s.plane)
	if s.configErr != nil {
		return reconcile.TerminalError(s.configErr)
	}
	return nil
}

// reconcileNamespaces finds the selected namespaces and the NADs named like the plane.
func (r *NetworkPlaneReconciler) reconcileNamespaces(ctx context.Context, s *planeScope) error {
	sel, err := metav1.LabelSelectorAsSelector(s.plane.Spec.NamespaceSelector)
	if err != nil {
		return reconcile.TerminalError(fmt.Errorf("invalid namespaceSelector: %w", err))
	}
	if s.plane.Spec.NamespaceSelector == nil {
		sel = labels.Nothing()
	}
	namespaces := &corev1.NamespaceList{}
	if err := r.Client.List(ctx, namespaces, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return fmt.Errorf("failed to list namespaces: %w", err)
	}
	s.selected = map[string]bool{}
	for i := range namespaces.Items {
		ns := &namespaces.Items[i]
		if ns.DeletionTimestamp.IsZero() && ns.Status.Phase != corev1.NamespaceTerminating {
			s.selected[ns.Name] = true
		}
	}

	nads := &nadv1.NetworkAttachmentDefinitionList{}
	if err := r.Client.List(ctx, nads, client.MatchingFields{nadNameIndex: s.plane.Name}); err != nil {
		return fmt.Errorf("failed to list NADs named %s: %w", s.plane.Name, err)
	}
	s.existing = make(map[string]*nadv1.NetworkAttachmentDefinition, len(nads.Items))
	for i := range nads.Items {
		s.existing[nads.Items[i].Namespace] = &nads.Items[i]
	}
	return nil
}

// ownedBy reports whether a NAD belongs to the plane: it carries the plane's labels or an owner
// reference to it.
func ownedBy(nad *nadv1.NetworkAttachmentDefinition, plane *plexusv1alpha1.NetworkPlane) bool {
	if nad.Labels[plexusv1alpha1.ManagedByLabel] == plexusv1alpha1.ManagedByValue &&
		nad.Labels[plexusv1alpha1.PlaneLabel] == plane.Name {
		return true
	}
	for _, ref := range nad.OwnerReferences {
		if ref.UID == plane.UID {
			return true
		}
	}
	return false
}

// upToDate reports whether an owned NAD already equals the desired one, so no write is needed.
func upToDate(cur, want *nadv1.NetworkAttachmentDefinition) bool {
	if cur.Spec.Config != want.Spec.Config {
		return false
	}
	for k, v := range want.Labels {
		if cur.Labels[k] != v {
			return false
		}
	}
	for k, v := range want.Annotations {
		if cur.Annotations[k] != v {
			return false
		}
	}
	for _, ref := range cur.OwnerReferences {
		if ref.UID == want.OwnerReferences[0].UID {
			return true
		}
	}
	return false
}

// reconcileNADs applies the desired NAD into every selected namespace, skipping NADs that are
// already current and NADs Plexus does not own.
func (r *NetworkPlaneReconciler) reconcileNADs(ctx context.Context, s *planeScope) error {
	s.rendered = map[string]bool{}
	if s.config == nil {
		return nil
	}
	var todo []string
	for _, ns := range slices.Sorted(maps.Keys(s.selected)) {
		cur := s.existing[ns]
		want := desiredNAD(s.plane, ns, s.config)
		switch {
		case cur != nil && !ownedBy(cur, s.plane):
			s.conflicts = append(s.conflicts, ns)
		case cur != nil && upToDate(cur, want):
			s.rendered[ns] = true
		default:
			todo = append(todo, ns)
		}
	}

	var mu sync.Mutex
	var errs []error
	r.parallel(todo, func(ns string) {
		err := r.applyNAD(ctx, s, ns)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		s.rendered[ns] = true
	})
	s.applyErr = errors.Join(errs...)
	return s.applyErr
}

// applyNAD server-side applies the desired NAD into one namespace and reports drift.
func (r *NetworkPlaneReconciler) applyNAD(ctx context.Context, s *planeScope, ns string) error {
	want := desiredNAD(s.plane, ns, s.config)
	if cur := s.existing[ns]; cur != nil &&
		cur.Annotations[plexusv1alpha1.ConfigHashAnnotation] == want.Annotations[plexusv1alpha1.ConfigHashAnnotation] &&
		cur.Spec.Config != want.Spec.Config {
		// The hash says Plexus rendered this config, yet the config differs: a hand edit.
		metrics.DriftRestored.WithLabelValues(s.plane.Name).Inc()
		r.Recorder.Eventf(s.plane, nil, corev1.EventTypeWarning, "DriftRestored", "RestoreNAD",
			"Restored NetworkAttachmentDefinition %s/%s, edited outside Plexus", ns, s.plane.Name)
	}
	ctrl.LoggerFrom(ctx).V(4).Info("Applying NetworkAttachmentDefinition", "NetworkAttachmentDefinition", klog.KObj(want))
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(want)
	if err != nil {
		return fmt.Errorf("failed to convert NAD %s/%s: %w", ns, want.Name, err)
	}
	unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
	metrics.NADWrites.WithLabelValues("apply").Inc()
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(&unstructured.Unstructured{Object: u}),
		client.FieldOwner(planeFieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply NAD %s/%s: %w", ns, want.Name, err)
	}
	return nil
}

// reconcileGC deletes the plane's NADs in namespaces that are no longer selected.
func (r *NetworkPlaneReconciler) reconcileGC(ctx context.Context, s *planeScope) error {
	if s.selected == nil {
		return nil // the selection is unknown (error above): never delete on a guess
	}
	nads, err := r.ownedNADs(ctx, s.plane)
	if err != nil {
		return err
	}
	var stale []*nadv1.NetworkAttachmentDefinition
	for _, nad := range nads {
		if !s.selected[nad.Namespace] {
			stale = append(stale, nad)
		}
	}
	err = r.deleteNADs(ctx, stale)
	s.applyErr = errors.Join(s.applyErr, err)
	return err
}

// ownedNADs lists the NADs labelled as rendered from the plane, in every namespace.
func (r *NetworkPlaneReconciler) ownedNADs(ctx context.Context, plane *plexusv1alpha1.NetworkPlane) ([]*nadv1.NetworkAttachmentDefinition, error) {
	list := &nadv1.NetworkAttachmentDefinitionList{}
	if err := r.Client.List(ctx, list, client.MatchingLabels{
		plexusv1alpha1.ManagedByLabel: plexusv1alpha1.ManagedByValue,
		plexusv1alpha1.PlaneLabel:     plane.Name,
	}); err != nil {
		return nil, fmt.Errorf("failed to list NADs of NetworkPlane %s: %w", plane.Name, err)
	}
	out := make([]*nadv1.NetworkAttachmentDefinition, 0, len(list.Items))
	for i := range list.Items {
		if list.Items[i].Name == plane.Name {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// deleteNADs deletes NADs (with a UID precondition, so a NAD recreated by someone else survives).
func (r *NetworkPlaneReconciler) deleteNADs(ctx context.Context, nads []*nadv1.NetworkAttachmentDefinition) error {
	var mu sync.Mutex
	var errs []error
	keys := make([]string, len(nads))
	byKey := map[string]*nadv1.NetworkAttachmentDefinition{}
	for i, nad := range nads {
		keys[i] = nad.Namespace
		byKey[nad.Namespace] = nad
	}
	r.parallel(keys, func(ns string) {
		nad := byKey[ns]
		ctrl.LoggerFrom(ctx).Info("Deleting NetworkAttachmentDefinition", "NetworkAttachmentDefinition", klog.KObj(nad))
		metrics.NADWrites.WithLabelValues("delete").Inc()
		err := r.Client.Delete(ctx, nad, client.Preconditions{UID: &nad.UID})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			mu.Lock()
			errs = append(errs, fmt.Errorf("failed to delete NAD %s/%s: %w", nad.Namespace, nad.Name, err))
			mu.Unlock()
		}
	})
	return errors.Join(errs...)
}

// parallel runs fn for every item with at most ApplyWorkers at a time.
func (r *NetworkPlaneReconciler) parallel(items []string, fn func(string)) {
	workers := r.ApplyWorkers
	if workers <= 0 {
		workers = defaultApplyWorkers
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(it)
		}()
	}
	wg.Wait()
}

// reconcilePods counts the pods that request the plane's NAD in the namespaces Plexus rendered it
// into (from any namespace: a pod may name another namespace's NAD), by attachment state.
func (r *NetworkPlaneReconciler) reconcilePods(ctx context.Context, s *planeScope) error {
	namespaces := slices.Sorted(maps.Keys(s.rendered))
	for _, ns := range namespaces {
		key := ns + "/" + s.plane.Name
		pods := &corev1.PodList{}
		if err := r.Client.List(ctx, pods, client.MatchingFields{podNetworksIndex: key}); err != nil {
			return fmt.Errorf("failed to list pods requesting %s: %w", key, err)
		}
		for i := range pods.Items {
			pod := &pods.Items[i]
			if !pod.DeletionTimestamp.IsZero() {
				continue
			}
			ev, err := latestSandboxFailure(ctx, r.Client, pod)
			if err != nil {
				return err
			}
			switch evaluatePod(pod, ev, metav1.Now().Time).perNetwork[key] {
			case attachAttached:
				s.attached++
			case attachFailed:
				s.failed++
			default:
				s.pending++
			}
		}
	}
	return nil
}

// latestSandboxFailure returns the message of the newest FailedCreatePodSandBox event of a pod
// (from the cache), or "".
func latestSandboxFailure(ctx context.Context, c client.Reader, pod *corev1.Pod) (string, error) {
	events := &corev1.EventList{}
	if err := c.List(ctx, events, client.InNamespace(pod.Namespace), client.MatchingFields{eventPodUIDIndex: string(pod.UID)}); err != nil {
		return "", fmt.Errorf("failed to list events of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if len(events.Items) == 0 {
		return "", nil
	}
	sort.Slice(events.Items, func(i, j int) bool {
		return eventTime(&events.Items[i]).Before(eventTime(&events.Items[j]))
	})
	return events.Items[len(events.Items)-1].Message, nil
}

func eventTime(ev *corev1.Event) time.Time {
	if !ev.LastTimestamp.IsZero() {
		return ev.LastTimestamp.Time
	}
	return ev.EventTime.Time
}

// reconcileDelete deletes every NAD of the plane, then releases the finalizer.
func (r *NetworkPlaneReconciler) reconcileDelete(ctx context.Context, s *planeScope) error {
	if !controllerutil.ContainsFinalizer(s.plane, plexusv1alpha1.NetworkPlaneFinalizer) {
		return nil
	}
	nads, err := r.ownedNADs(ctx, s.plane)
	if err != nil {
		return err
	}
	if err := r.deleteNADs(ctx, nads); err != nil {
		return err
	}
	metrics.DeletePlane(s.plane.Name)
	base := s.plane.DeepCopy()
	controllerutil.RemoveFinalizer(s.plane, plexusv1alpha1.NetworkPlaneFinalizer)
	if err := r.Client.Patch(ctx, s.plane, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to remove finalizer from NetworkPlane %s: %w", s.plane.Name, err)
	}
	return nil
}

// writeStatus sets the conditions and counts, emits Events on condition transitions, and
// patches the status once, only when it changed.
func (r *NetworkPlaneReconciler) writeStatus(ctx context.Context, s *planeScope, reconcileErr error) error {
	setPlaneStatus(s, reconcileErr)
	metrics.NADsRendered.WithLabelValues(s.plane.Name).Set(float64(len(s.rendered)))
	metrics.NADConflicts.WithLabelValues(s.plane.Name).Set(float64(len(s.conflicts)))
	metrics.AttachmentPods.WithLabelValues(s.plane.Name, metrics.StateAttached).Set(float64(s.attached))
	metrics.AttachmentPods.WithLabelValues(s.plane.Name, metrics.StatePending).Set(float64(s.pending))
	metrics.AttachmentPods.WithLabelValues(s.plane.Name, metrics.StateFailed).Set(float64(s.failed))
	recordTransitions(r.Recorder, s.plane, s.original.Status.Conditions, s.plane.Status.Conditions)
	if equality.Semantic.DeepEqual(s.original.Status, s.plane.Status) {
		return nil
	}
	if err := r.Client.Status().Patch(ctx, s.plane, client.MergeFrom(s.original)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("failed to patch status of NetworkPlane %s: %w", s.plane.Name, err)
	}
	return nil
}

// SetupWithManager registers the controller: planes, the NADs named like them, namespaces
// (created, relabelled or deleted), and pods requesting a network.
func (r *NetworkPlaneReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	if r.Client == nil || r.Recorder == nil {
		return errors.New("NetworkPlaneReconciler needs Client and Recorder")
	}
	if concurrency <= 0 {
		concurrency = 2
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&plexusv1alpha1.NetworkPlane{}, builder.WithPredicates(specOrLifecycleChanged())).
		Watches(&nadv1.NetworkAttachmentDefinition{}, handler.EnqueueRequestsFromMapFunc(r.nadToPlane)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.namespaceToPlanes),
			builder.WithPredicates(namespaceChanged())).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToPlanes),
			builder.WithPredicates(requestsNetworks(), podChanged())).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Named("networkplane").
		Complete(r)
}

// nadToPlane maps a NAD to the plane of the same name (owned NADs for drift and deletion,
// foreign ones for conflicts that appear or go away).
func (r *NetworkPlaneReconciler) nadToPlane(_ context.Context, o client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: o.GetName()}}}
}

// namespaceToPlanes maps a namespace event to every plane: selectors are evaluated in Reconcile,
// and planes are few.
func (r *NetworkPlaneReconciler) namespaceToPlanes(ctx context.Context, _ client.Object) []reconcile.Request {
	planes := &plexusv1alpha1.NetworkPlaneList{}
	if err := r.Client.List(ctx, planes); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list NetworkPlanes for a namespace event")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(planes.Items))
	for _, p := range planes.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: p.Name}})
	}
	return reqs
}

// podToPlanes maps a pod to the planes named by its networks annotation.
func podToPlanes(_ context.Context, o client.Object) []reconcile.Request {
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return nil
	}
	var reqs []reconcile.Request
	seen := map[string]bool{}
	for _, key := range requestedNetworkKeys(pod) {
		_, name, _ := strings.Cut(key, "/")
		if !seen[name] {
			seen[name] = true
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
		}
	}
	return reqs
}

// specOrLifecycleChanged passes plane events except status-only updates.
func specOrLifecycleChanged() predicate.Predicate {
	return predicate.Or(
		predicate.GenerationChangedPredicate{},
		predicate.Funcs{
			UpdateFunc: func(e event.UpdateEvent) bool {
				return e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero() ||
					!slices.Equal(e.ObjectOld.GetFinalizers(), e.ObjectNew.GetFinalizers())
			},
			CreateFunc:  func(event.CreateEvent) bool { return false },
			DeleteFunc:  func(event.DeleteEvent) bool { return false },
			GenericFunc: func(event.GenericEvent) bool { return false },
		},
	)
}

// namespaceChanged passes namespace creations, deletions, label changes and the start of
// termination.
func namespaceChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !equality.Semantic.DeepEqual(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels()) ||
				e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// requestsNetworks passes only pods that carry the networks annotation (before or after).
func requestsNetworks() predicate.Predicate {
	has := func(o client.Object) bool {
		_, ok := o.GetAnnotations()[netattach.NetworksAnnotation]
		return ok
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return has(e.Object) },
		DeleteFunc:  func(e event.DeleteEvent) bool { return has(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return has(e.ObjectOld) || has(e.ObjectNew) },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
