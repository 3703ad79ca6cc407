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

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// plexusConfigFieldOwner is the server-side apply field manager of the PlexusConfig controller.
const plexusConfigFieldOwner = "plexus/plexusconfig"

// Timings of the PlexusConfig controller.
const (
	// rolloutPoll re-checks an incomplete rollout: container states of agent pods have no
	// watch here (the pod cache is trimmed), the DaemonSet status does.
	rolloutPoll = 10 * time.Second
	// uninstallTimeout bounds how long deletion waits for every node to uninstall; a node that
	// is down must not block the deletion forever.
	uninstallTimeout = 5 * time.Minute
)

// PlexusConfigReconciler renders the node agent DaemonSet from the PlexusConfig singleton and
// reports the rollout.
type PlexusConfigReconciler struct {
	// Client reads from the cache and writes.
	Client client.Client
	// APIReader lists agent pods uncached (their container states are trimmed from the cache).
	APIReader client.Reader
	// Scheme sets owner references.
	Scheme *runtime.Scheme
	// Namespace is where the agent DaemonSet runs (the operator's namespace).
	Namespace string
	// Recorder, when set, emits an Event on the PlexusConfig when a condition changes.
	Recorder recorder.EventRecorder
}

// plexusConfigScope is the request-local state of one reconcile.
type plexusConfigScope struct {
	// config is the PlexusConfig being reconciled (its status is written at the end).
	config *plexusv1alpha1.PlexusConfig
	// deleting is set when the PlexusConfig has a deletionTimestamp.
	deleting bool
	// rollout is set after reconcileDaemonSet.
	rollout agentRollout
}

// +kubebuilder:rbac:groups=net.plexus.dev,resources=plexusconfigs,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=net.plexus.dev,resources=plexusconfigs/status,verbs=get;update;patch
// The finalizers subresource is needed to set blockOwnerDeletion on the DaemonSet's owner reference
// (OwnerReferencesPermissionEnforcement).
// +kubebuilder:rbac:groups=net.plexus.dev,resources=plexusconfigs/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=daemonsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile implements reconcile.Reconciler.
func (r *PlexusConfigReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	cfg := &plexusv1alpha1.PlexusConfig{}
	if err := r.Client.Get(ctx, req.NamespacedName, cfg); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if cfg.Name != plexusv1alpha1.PlexusConfigName {
		return ctrl.Result{}, nil // the CRD rejects other names; nothing to do with old ones
	}
	if cfg.DeletionTimestamp.IsZero() && controllerutil.AddFinalizer(cfg, plexusv1alpha1.PlexusConfigFinalizer) {
		if err := r.Client.Update(ctx, cfg); err != nil {
			return ctrl.Result{}, fmt.Errorf("failed to add the finalizer to PlexusConfig %s: %w", cfg.Name, err)
		}
		return ctrl.Result{}, nil
	}
	orig := cfg.DeepCopy()
	s := &plexusConfigScope{config: cfg, deleting: !cfg.DeletionTimestamp.IsZero()}
	defer func() {
		if s.deleting && !controllerutil.ContainsFinalizer(cfg, plexusv1alpha1.PlexusConfigFinalizer) {
			return // gone
		}
		setPlexusConfigStatus(s, retErr)
		if r.Recorder != nil {
			recordTransitions(r.Recorder, cfg, orig.Status.Conditions, cfg.Status.Conditions)
		}
		if err := r.Client.Status().Patch(ctx, cfg, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("failed to patch PlexusConfig %s status: %w", cfg.Name, err))
		}
	}()
	if s.deleting {
		return r.reconcileDelete(ctx, s)
	}
	if err := r.reconcileDaemonSet(ctx, s, false); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.reconcileFailures(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if !s.rollout.complete() {
		return ctrl.Result{RequeueAfter: rolloutPoll}, nil
	}
	return ctrl.Result{}, nil
}

// reconcileDaemonSet applies the agent DaemonSet and reads its rollout.
func (r *PlexusConfigReconciler) reconcileDaemonSet(ctx context.Context, s *plexusConfigScope, uninstall bool) error {
	want := desiredAgentDaemonSet(s.config, r.Namespace, uninstall)
	if err := controllerutil.SetControllerReference(s.config, want, r.Scheme); err != nil {
		return fmt.Errorf("failed to set the owner of DaemonSet %s: %w", AgentName, err)
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(want)
	if err != nil {
		return fmt.Errorf("failed to convert DaemonSet %s: %w", AgentName, err)
	}
	unstructured.RemoveNestedField(u, "status")
	unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u, "spec", "template", "metadata", "creationTimestamp")
	ctrl.LoggerFrom(ctx).V(4).Info("Applying DaemonSet", "DaemonSet", klog.KObj(want), "uninstall", uninstall)
	obj := &unstructured.Unstructured{Object: u}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(plexusConfigFieldOwner),
		client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply DaemonSet %s/%s: %w", r.Namespace, AgentName, err)
	}
	ds := &appsv1.DaemonSet{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, ds); err != nil {
		return fmt.Errorf("failed to read back DaemonSet %s: %w", AgentName, err)
	}
	s.rollout = rolloutFromDaemonSet(ds)
	return nil
}

// reconcileFailures names the nodes whose agent pod is failing (only while some are not
// available: a complete rollout has nothing failing).
func (r *PlexusConfigReconciler) reconcileFailures(ctx context.Context, s *plexusConfigScope) error {
	if s.rollout.available >= s.rollout.desired && s.rollout.current {
		return nil
	}
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(r.Namespace), client.MatchingLabels{agentNameLabel: AgentName}); err != nil {
		return fmt.Errorf("failed to list agent pods: %w", err)
	}
	s.rollout.failing = failingAgentPods(pods.Items)
	return nil
}

// reconcileDelete switches the agents to uninstall mode, waits until every node has removed
// the Plexus configuration (or uninstallTimeout passed), then deletes the DaemonSet and
// releases the PlexusConfig.
func (r *PlexusConfigReconciler) reconcileDelete(ctx context.Context, s *plexusConfigScope) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if !controllerutil.ContainsFinalizer(s.config, plexusv1alpha1.PlexusConfigFinalizer) {
		return ctrl.Result{}, nil
	}
	if err := r.reconcileDaemonSet(ctx, s, true); err != nil {
		return ctrl.Result{}, err
	}
	waited := time.Since(s.config.DeletionTimestamp.Time)
	if !s.rollout.complete() && waited < uninstallTimeout {
		log.V(2).Info("Waiting for the agents to uninstall Plexus", "updated", s.rollout.updated, "desired", s.rollout.desired)
		return ctrl.Result{RequeueAfter: 2 * time.Second}, nil
	}
	if !s.rollout.complete() {
		log.Info("Gave up waiting for every node to uninstall Plexus", "updated", s.rollout.updated, "available",
			s.rollout.available, "desired", s.rollout.desired)
	}
	ds := &appsv1.DaemonSet{}
	ds.Name, ds.Namespace = AgentName, r.Namespace
	log.Info("Deleting DaemonSet", "DaemonSet", klog.KObj(ds))
	if err := r.Client.Delete(ctx, ds); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("failed to delete DaemonSet %s/%s: %w", r.Namespace, AgentName, err)
	}
	patch := client.MergeFrom(s.config.DeepCopy())
	controllerutil.RemoveFinalizer(s.config, plexusv1alpha1.PlexusConfigFinalizer)
	if err := r.Client.Patch(ctx, s.config, patch); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, fmt.Errorf("failed to remove the finalizer of PlexusConfig %s: %w", s.config.Name, err)
	}
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller.
func (r *PlexusConfigReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil || r.APIReader == nil || r.Scheme == nil || r.Namespace == "" {
		return errors.New("PlexusConfigReconciler needs Client, APIReader, Scheme and Namespace")
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&plexusv1alpha1.PlexusConfig{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return o.GetName() == plexusv1alpha1.PlexusConfigName
		}))).
		Owns(&appsv1.DaemonSet{}).
		Named("plexusconfig").
		Complete(r)
}
