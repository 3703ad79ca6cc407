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

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

const (
	// nodeNetworkPolicyFieldOwner is the server-side apply field manager of this controller.
	nodeNetworkPolicyFieldOwner = "plexus/nodenetworkpolicy"
	// DevicePluginConfigMapName is the ConfigMap holding one SR-IOV device plugin configuration
	// per node, keyed by node name; the device plugin DaemonSet mounts it and reads
	// /etc/pcidp/$(NODE_NAME).
	DevicePluginConfigMapName = "plexus-device-plugin-config"
)

// NodeNetworkPolicyReconciler aggregates the NodeNetworkState reports of the nodes a
// NodeNetworkPolicy selects into the policy's status, and renders the device plugin
// configuration of every node into one ConfigMap. The node agent does the hardware work.
//
// Requests for a policy are cluster-scoped (no namespace); the request {Namespace, Name of the
// ConfigMap} re-renders the device plugin ConfigMap.
type NodeNetworkPolicyReconciler struct {
	// Client reads from the manager cache and writes to the API server.
	Client client.Client
	// Recorder emits Events on condition transitions of the policy (required by
	// SetupWithManager; Reconcile tolerates nil).
	Recorder recorder.EventRecorder
	// Namespace is where the device plugin ConfigMap lives (the operator namespace).
	Namespace string
	// ResourcePrefix is the device plugin resource prefix (default deviceplugin.DefaultResourcePrefix).
	ResourcePrefix string
}

// nodePolicyScope is the request-local state of one policy reconcile.
type nodePolicyScope struct {
	// policy is the object being reconciled; status is written from it at the end.
	policy *plexusv1alpha1.NodeNetworkPolicy
	// original is the policy as read, the base of the status patch.
	original *plexusv1alpha1.NodeNetworkPolicy
	// agg is what the matched nodes report; set by reconcileNodes.
	agg nodePolicyAggregate
}

// +kubebuilder:rbac:groups=net.plexus.dev,resources=nodenetworkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=net.plexus.dev,resources=nodenetworkpolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=net.plexus.dev,resources=nodenetworkstates,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// NOTE: create is needed because the first server-side apply of the ConfigMap creates it.
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile updates one policy's status, or re-renders the device plugin ConfigMap.
func (r *NodeNetworkPolicyReconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	if req.Namespace != "" {
		return ctrl.Result{}, r.reconcileDevicePluginConfig(ctx)
	}
	p := &plexusv1alpha1.NodeNetworkPolicy{}
	if err := r.Client.Get(ctx, req.NamespacedName, p); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get NodeNetworkPolicy %s: %w", req.Name, err)
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("NodeNetworkPolicy", klog.KObj(p)))
	s := &nodePolicyScope{policy: p, original: p.DeepCopy()}
	defer func() {
		setNodeNetworkPolicyStatus(s.policy, s.agg, retErr)
		if r.Recorder != nil {
			recordTransitions(r.Recorder, s.policy, s.original.Status.Conditions, s.policy.Status.Conditions)
		}
		if err := r.Client.Status().Patch(ctx, s.policy, client.MergeFrom(s.original)); err != nil && !apierrors.IsNotFound(err) {
			retErr = errors.Join(retErr, fmt.Errorf("failed to patch NodeNetworkPolicy %s status: %w", p.Name, err))
		}
	}()
	return ctrl.Result{}, r.reconcileNodes(ctx, s)
}

// reconcileNodes aggregates the NodeNetworkStates of the matched nodes.
func (r *NodeNetworkPolicyReconciler) reconcileNodes(ctx context.Context, s *nodePolicyScope) error {
	nodes, states, err := r.listNodes(ctx)
	if err != nil {
		return err
	}
	s.agg = aggregateNodePolicy(s.policy, nodes, states)
	if s.agg.selectorErr != nil {
		return reconcile.TerminalError(s.agg.selectorErr)
	}
	return nil
}

func (r *NodeNetworkPolicyReconciler) listNodes(ctx context.Context) ([]corev1.Node, map[string]*plexusv1alpha1.NodeNetworkState, error) {
	nodes := &corev1.NodeList{}
	if err := r.Client.List(ctx, nodes); err != nil {
		return nil, nil, fmt.Errorf("failed to list nodes: %w", err)
	}
	list := &plexusv1alpha1.NodeNetworkStateList{}
	if err := r.Client.List(ctx, list); err != nil {
		return nil, nil, fmt.Errorf("failed to list NodeNetworkStates: %w", err)
	}
	states := make(map[string]*plexusv1alpha1.NodeNetworkState, len(list.Items))
	for i := range list.Items {
		states[list.Items[i].Name] = &list.Items[i]
	}
	return nodes.Items, states, nil
}

// reconcileDevicePluginConfig renders every node's device plugin configuration and applies the
// ConfigMap. Keys of nodes no longer selected by any policy disappear because the apply no longer
// contains them.
func (r *NodeNetworkPolicyReconciler) reconcileDevicePluginConfig(ctx context.Context) error {
	policies := &plexusv1alpha1.NodeNetworkPolicyList{}
	if err := r.Client.List(ctx, policies); err != nil {
		return fmt.Errorf("failed to list NodeNetworkPolicies: %w", err)
	}
	nodes, states, err := r.listNodes(ctx)
	if err != nil {
		return err
	}
	data, err := desiredDevicePluginConfig(r.ResourcePrefix, policies.Items, nodes, states)
	if err != nil {
		return err
	}
	cm := corev1ac.ConfigMap(DevicePluginConfigMapName, r.Namespace).
		WithLabels(map[string]string{"app.kubernetes.io/managed-by": "plexus", "app.kubernetes.io/component": "device-plugin"}).
		WithData(data)
	ctrl.LoggerFrom(ctx).V(4).Info("Applying device plugin ConfigMap", "nodes", len(data))
	if err := r.Client.Apply(ctx, cm, client.FieldOwner(nodeNetworkPolicyFieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply ConfigMap %s/%s: %w", r.Namespace, DevicePluginConfigMapName, err)
	}
	return nil
}

// SetupWithManager registers the controller.
func (r *NodeNetworkPolicyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Client == nil || r.Recorder == nil || r.Namespace == "" {
		return errors.New("NodeNetworkPolicyReconciler needs Client, Recorder and Namespace")
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("nodenetworkpolicy").
		For(&plexusv1alpha1.NodeNetworkPolicy{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&plexusv1alpha1.NodeNetworkPolicy{}, handler.EnqueueRequestsFromMapFunc(r.toDevicePluginConfig),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&plexusv1alpha1.NodeNetworkState{}, handler.EnqueueRequestsFromMapFunc(r.nodeNetworkStateToPolicies)).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.nodeToPolicies), builder.WithPredicates(nodeLabelsChanged())).
		Complete(r)
}

// toDevicePluginConfig maps any event to the device plugin ConfigMap request.
func (r *NodeNetworkPolicyReconciler) toDevicePluginConfig(context.Context, client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: r.Namespace, Name: DevicePluginConfigMapName}}}
}

// nodeNetworkStateToPolicies maps a node's state to every policy (their counts may change) and to
// the device plugin ConfigMap (the discovered PFs may change).
func (r *NodeNetworkPolicyReconciler) nodeNetworkStateToPolicies(ctx context.Context, o client.Object) []reconcile.Request {
	return r.allPolicies(ctx, o)
}

// nodeToPolicies maps a created, deleted or relabelled node to every policy and the ConfigMap.
func (r *NodeNetworkPolicyReconciler) nodeToPolicies(ctx context.Context, o client.Object) []reconcile.Request {
	return r.allPolicies(ctx, o)
}

func (r *NodeNetworkPolicyReconciler) allPolicies(ctx context.Context, o client.Object) []reconcile.Request {
	reqs := r.toDevicePluginConfig(ctx, o)
	list := &plexusv1alpha1.NodeNetworkPolicyList{}
	if err := r.Client.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Failed to list NodeNetworkPolicies")
		return reqs
	}
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: list.Items[i].Name}})
	}
	return reqs
}

// nodeLabelsChanged passes node creations, deletions and label changes, not status heartbeats.
func nodeLabelsChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels())
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
