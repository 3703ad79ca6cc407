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
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/hugepages"
	"github.com/plexus-net/plexus/internal/nodepolicy"
	"github.com/plexus-net/plexus/internal/sriov"
	"github.com/plexus-net/plexus/internal/sysfs"
)

const (
	// FieldOwner is the server-side apply field manager of the hardware reconciler's share of the
	// NodeNetworkState (pfs, hugepages, policies, disruptionPlan, applied*, and the Progressing,
	// Degraded and DisruptionRequired conditions).
	FieldOwner = "plexus-agent/hardware"

	// DevicePluginConfigMapName is the operator-rendered ConfigMap holding one device plugin
	// configuration per node. It must equal controllers.DevicePluginConfigMapName (a test checks).
	DevicePluginConfigMapName = "plexus-device-plugin-config"

	// DefaultDevicePluginSelector selects the SR-IOV device plugin pods.
	DefaultDevicePluginSelector = "app.kubernetes.io/name=sriov-device-plugin"

	// CordonAnnotation marks a node the hardware reconciler cordoned, so that only it uncordons
	// (a node an administrator cordoned stays cordoned), also after an agent restart.
	CordonAnnotation = "plexus.dev/hardware-cordon"

	// DrainTimeoutReason means the evictions were accepted but the pods did not go away within
	// drainTimeout; the node was uncordoned and the change was not applied.
	DrainTimeoutReason = "DrainTimeout"
	// DrainBlockedReason means an eviction was still refused (HTTP 429, a PodDisruptionBudget)
	// when drainTimeout passed; the node was uncordoned and the change was not applied.
	DrainBlockedReason = plexusv1alpha1.NodeNetworkStateDrainBlockedReason

	// Defaults of the Reconciler's timing knobs.
	defaultDrainTimeout = 10 * time.Minute
	defaultPollInterval = 2 * time.Second
	defaultRetryBlocked = 5 * time.Minute
	defaultResync       = 10 * time.Minute
	defaultBudgetRetry  = 10 * time.Second
	failureRetry        = time.Minute
)

// Reconciler enacts the NodeNetworkPolicies selecting one node. All requests are for that node.
type Reconciler struct {
	// Client reads policies, the node, the NodeNetworkState and the device plugin ConfigMap from
	// the cache and writes to the API server.
	Client client.Client
	// APIReader reads pods and Leases uncached (the agent caches neither).
	APIReader client.Reader
	// NodeName is this node.
	NodeName string
	// Namespace holds the budget Leases and the device plugin ConfigMap (the operator namespace).
	Namespace string
	// SysRoot is the sysfs root (sysfs.New("/sys"), or a fake tree in tests).
	SysRoot sysfs.Root
	// PCIRoot is the sysfs root SR-IOV PFs and VFs are discovered and configured through
	// (default SysRoot; the plexus.dev/pci-sys-root override). Hugepages always use SysRoot.
	PCIRoot sysfs.Root
	// StateDir holds the SR-IOV, hugepages and device plugin state files.
	StateDir string
	// PodResources lists the devices kubelet allocated to the pods of this node.
	PodResources sriov.PodDeviceLister
	// Evictions is a REST client of the policy/v1 API, used to post Evictions without
	// client-go's automatic 429 retries (default: built from the manager's config).
	Evictions rest.Interface
	// DevicePluginSelector selects the device plugin pods to restart (default
	// DefaultDevicePluginSelector).
	DevicePluginSelector labels.Selector
	// PollInterval is how often the drain re-evicts and checks pods (default 2s).
	PollInterval time.Duration
	// RetryBlocked is when a blocked drain is retried (default 5m).
	RetryBlocked time.Duration
	// Resync is how often the host is re-checked for drift (default 10m).
	Resync time.Duration
}

// scope is the request-local state of one reconcile.
type scope struct {
	// node is this node; set before the phases run.
	node *corev1.Node
	// current is the NodeNetworkState as cached (nil if none); set before the phases run.
	current *plexusv1alpha1.NodeNetworkState
	// policies are every NodeNetworkPolicy; set by reconcileObserve.
	policies []plexusv1alpha1.NodeNetworkPolicy
	// pfs are the PFs discovered before applying; set by reconcileObserve.
	pfs []sriov.PF
	// res is the merged desired state; set by reconcileObserve.
	res nodepolicy.Resolution
	// plan is the SR-IOV work and planErr the PFs that cannot be planned; set by reconcilePlan.
	plan    sriov.Plan
	planErr error
	// disruption lists the pods holding VFs the plan resets; set by reconcilePlan.
	disruption sriov.Disruption
	// disruptionState is the state of the plan as published; set by reconcileDisruption.
	disruptionState plexusv1alpha1.DisruptionState
	// waiting is true while the change waits for the budget or the evictions.
	waiting bool
	// drainErr is set when the drain failed (reason DrainBlocked or DrainTimeout).
	drainErr *DrainError
	// applied is true once reconcileApply ran; sriovRes, sriovErr and pools are its results.
	applied  bool
	sriovRes sriov.Result
	sriovErr error
	// hp is the hugepages outcome; set by reconcileApply (also after a blocked drain).
	hp hugepagesOutcome
	// dpErr is a failure to restart the device plugin.
	dpErr error
	// reconcileErr is the error the reconcile returns (API or kubelet trouble); set before the
	// final status write.
	reconcileErr error
}

// poolResult is the outcome of one hugepage target.
type poolResult struct {
	target hugepages.Target
	pool   hugepages.Pool
	err    error
}

// phase is one step of a reconcile; a non-zero result or an error ends the reconcile.
type phase func(ctx context.Context, s *scope) (ctrl.Result, error)

// +kubebuilder:rbac:groups=net.plexus.dev,resources=nodenetworkpolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=net.plexus.dev,resources=nodenetworkstates,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=net.plexus.dev,resources=nodenetworkstates/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups="",resources=pods/eviction,verbs=create
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;create;update;delete

// Reconcile converges this node's hardware to the policies that select it.
func (r *Reconciler) Reconcile(ctx context.Context, _ ctrl.Request) (_ ctrl.Result, retErr error) {
	node := &corev1.Node{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: r.NodeName}, node); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("failed to get Node %s: %w", r.NodeName, err)
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("Node", klog.KObj(node)))
	s := &scope{node: node}
	cur, err := r.getState(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	s.current = cur
	defer func() {
		if s.policies == nil && retErr != nil {
			return // nothing observed yet: keep the previous report
		}
		s.reconcileErr = retErr
		retErr = errors.Join(retErr, r.writeStatus(ctx, s))
	}()

	phases := []phase{r.reconcileObserve, r.reconcilePlan, r.reconcileDisruption, r.reconcileApply, r.reconcileDevicePlugin}
	for _, p := range phases {
		res, err := p(ctx, s)
		if err != nil || !res.IsZero() {
			return res, err
		}
	}
	if s.failed() {
		// The kernel may free memory or a device later; nothing watches that.
		return ctrl.Result{RequeueAfter: failureRetry}, nil
	}
	return ctrl.Result{RequeueAfter: r.resync()}, nil
}

// reconcileObserve reads the policies and the host and resolves the desired state.
func (r *Reconciler) reconcileObserve(ctx context.Context, s *scope) (ctrl.Result, error) {
	list := &plexusv1alpha1.NodeNetworkPolicyList{}
	if err := r.Client.List(ctx, list); err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to list NodeNetworkPolicies: %w", err)
	}
	pfs, err := sriov.Discover(r.pciRoot())
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("failed to discover SR-IOV devices: %w", err)
	}
	s.policies = append([]plexusv1alpha1.NodeNetworkPolicy{}, list.Items...)
	s.pfs = pfs
	s.res = nodepolicy.Resolve(s.node.Labels, s.policies, pfStatuses(pfs))
	return ctrl.Result{}, nil
}

// reconcilePlan computes the SR-IOV plan and who holds the VFs it would reset.
func (r *Reconciler) reconcilePlan(ctx context.Context, s *scope) (ctrl.Result, error) {
	st, err := sriov.LoadState(r.sriovStateFile())
	if err != nil {
		return ctrl.Result{}, err
	}
	s.plan, s.planErr = sriov.ComputePlan(s.pfs, s.res.SRIOV, releasable(st, s.res.SRIOV))
	if s.plan.Empty() {
		return ctrl.Result{}, nil
	}
	if s.disruption, err = sriov.PlanDisruption(ctx, s.plan, s.pfs, r.PodResources); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// reconcileDisruption runs the disruption plan when pods hold VFs the plan resets: publish the
// plan, take a budget slot, cordon, evict. Without such pods there is nothing to do.
func (r *Reconciler) reconcileDisruption(ctx context.Context, s *scope) (ctrl.Result, error) {
	if !s.disruption.Disruptive() {
		// NOTE: a cordon left by an interrupted drain (its pods are gone now) is lifted by
		// reconcileApply after the apply, not before, so no pod lands on VFs about to be reset.
		s.disruptionState = plexusv1alpha1.DisruptionStateNone
		return ctrl.Result{}, nil
	}
	log := ctrl.LoggerFrom(ctx)
	s.waiting = true
	s.disruptionState = plexusv1alpha1.DisruptionStatePending
	// NOTE: the plan is published before anything disruptive happens, so users see which pods
	// will be evicted while the node waits for the budget.
	if err := r.writeStatus(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	budget, err := r.budgetFor(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	ok, err := r.acquireSlot(ctx, budget)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !ok {
		log.Info("Waiting for a disruption budget slot", "budget", budget.key, "maxUnavailable", budget.max)
		return ctrl.Result{RequeueAfter: defaultBudgetRetry}, nil
	}
	log.Info("Cordoning Node to evict the pods holding VFs", "pods", podsOf(s.disruption))
	if err := r.cordon(ctx, s.node); err != nil {
		return ctrl.Result{}, err
	}
	s.disruptionState = plexusv1alpha1.DisruptionStateDraining
	if err := r.writeStatus(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.drain(ctx, podsOf(s.disruption), budget.drainTimeout); err != nil {
		var de *DrainError
		if !errors.As(err, &de) {
			return ctrl.Result{}, err
		}
		log.Info("Drain did not finish; uncordoning Node and leaving the hardware unchanged",
			"reason", de.Reason, "pods", de.Pods)
		s.drainErr, s.disruptionState = de, plexusv1alpha1.DisruptionStateBlocked
		if err := r.uncordon(ctx, s.node); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.releaseSlots(ctx); err != nil {
			return ctrl.Result{}, err
		}
		// Hugepages do not depend on the drain: apply them anyway.
		if s.hp, err = r.applyHugepages(ctx, s.res.Hugepages); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: r.retryBlocked()}, nil
	}
	if err := r.renewSlot(ctx, budget); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, nil
}

// reconcileApply applies SR-IOV and hugepages, then lifts the cordon and releases the slot.
func (r *Reconciler) reconcileApply(ctx context.Context, s *scope) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if !s.plan.Empty() {
		log.Info("Applying SR-IOV configuration", "pfs", len(s.plan.PFs))
	}
	var err error
	s.sriovRes, s.sriovErr = sriov.Apply(ctx, r.pciRoot(), s.res.SRIOV, r.sriovStateFile())
	if s.sriovErr != nil && ctx.Err() != nil {
		return ctrl.Result{}, s.sriovErr
	}
	if s.hp, err = r.applyHugepages(ctx, s.res.Hugepages); err != nil {
		return ctrl.Result{}, err
	}
	s.applied, s.waiting = true, false
	if s.disruptionState != plexusv1alpha1.DisruptionStateNone {
		s.disruptionState = plexusv1alpha1.DisruptionStateCompleted
	}
	if s.disruptionState == plexusv1alpha1.DisruptionStateNone && s.node.Annotations[CordonAnnotation] == "" {
		return ctrl.Result{}, nil
	}
	// Lift the cordon of this drain, or of one an agent restart interrupted.
	if err := r.uncordon(ctx, s.node); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{}, r.releaseSlots(ctx)
}

// reconcileDevicePlugin restarts this node's device plugin when its configuration or the VFs
// changed; the plugin discovers devices and reads its configuration only at start.
func (r *Reconciler) reconcileDevicePlugin(ctx context.Context, s *scope) (ctrl.Result, error) {
	vfsChanged := !s.sriovRes.Unchanged && !s.sriovRes.Plan.Empty()
	restarted, err := r.restartDevicePlugin(ctx, vfsChanged)
	if err != nil {
		if apierrors.IsTooManyRequests(err) {
			s.dpErr = err
			return ctrl.Result{RequeueAfter: defaultBudgetRetry}, nil
		}
		return ctrl.Result{}, err
	}
	if restarted > 0 {
		ctrl.LoggerFrom(ctx).Info("Restarted the device plugin", "pods", restarted)
	}
	return ctrl.Result{}, nil
}

// failed reports whether the last apply left something failing.
func (s *scope) failed() bool {
	if s.sriovErr != nil || s.planErr != nil || s.hp.releaseErr != nil || len(s.res.Issues) > 0 || s.drainErr != nil {
		return true
	}
	for _, p := range s.hp.pools {
		if p.err != nil {
			return true
		}
	}
	return false
}

func (r *Reconciler) getState(ctx context.Context) (*plexusv1alpha1.NodeNetworkState, error) {
	st := &plexusv1alpha1.NodeNetworkState{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: r.NodeName}, st); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("failed to get NodeNetworkState %s: %w", r.NodeName, err)
	}
	return st, nil
}

// pciRoot is where SR-IOV devices are discovered and configured.
func (r *Reconciler) pciRoot() sysfs.Root {
	if r.PCIRoot != nil {
		return r.PCIRoot
	}
	return r.SysRoot
}

func (r *Reconciler) sriovStateFile() string { return filepath.Join(r.StateDir, "sriov-state.json") }

func (r *Reconciler) resync() time.Duration { return orDefault(r.Resync, defaultResync) }

func (r *Reconciler) retryBlocked() time.Duration {
	return orDefault(r.RetryBlocked, defaultRetryBlocked)
}

func (r *Reconciler) pollInterval() time.Duration {
	return orDefault(r.PollInterval, defaultPollInterval)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// releasable returns the PFs a previous apply configured that are no longer desired (mirrors
// what sriov.Apply releases, so the disruption plan covers them).
func releasable(st sriov.State, desired sriov.Desired) []string {
	wanted := map[string]bool{}
	for _, pf := range desired.PFs {
		wanted[pf.PCIAddress] = true
	}
	var out []string
	for _, a := range st.Owned {
		if !wanted[a] {
			out = append(out, a)
		}
	}
	return out
}

func pfStatuses(pfs []sriov.PF) []plexusv1alpha1.PFStatus {
	out := make([]plexusv1alpha1.PFStatus, 0, len(pfs))
	for _, pf := range pfs {
		out = append(out, pf.Status())
	}
	return out
}

func podsOf(d sriov.Disruption) []string {
	seen := map[string]bool{}
	var out []string
	for _, pf := range d.PFs {
		for _, p := range pf.Pods {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// SetupWithManager registers the reconciler. It watches this node (labels), every
// NodeNetworkPolicy (spec changes) and the device plugin ConfigMap; all map to one request.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Evictions == nil {
		rc, err := EvictionClient(mgr.GetConfig())
		if err != nil {
			return err
		}
		r.Evictions = rc
	}
	if r.Client == nil || r.APIReader == nil || r.NodeName == "" || r.Namespace == "" || r.SysRoot == nil ||
		r.StateDir == "" || r.PodResources == nil {
		return errors.New("hardware.Reconciler needs Client, APIReader, NodeName, Namespace, SysRoot, StateDir and PodResources")
	}
	if r.DevicePluginSelector == nil {
		sel, err := labels.Parse(DefaultDevicePluginSelector)
		if err != nil {
			return fmt.Errorf("failed to parse the device plugin selector: %w", err)
		}
		r.DevicePluginSelector = sel
	}
	thisNode := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == r.NodeName })
	dpConfig := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.Namespace && o.GetName() == DevicePluginConfigMapName
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("hardware").
		For(&corev1.Node{}, builder.WithPredicates(thisNode, nodeLabelsChanged())).
		Watches(&plexusv1alpha1.NodeNetworkPolicy{}, handler.EnqueueRequestsFromMapFunc(r.toNode),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(r.toNode), builder.WithPredicates(dpConfig)).
		Complete(r)
}

// toNode maps any event to this node's request.
func (r *Reconciler) toNode(context.Context, client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: r.NodeName}}}
}

// nodeLabelsChanged passes creations and label changes of the node, not status heartbeats.
func nodeLabelsChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			if !maps.Equal(e.ObjectOld.GetLabels(), e.ObjectNew.GetLabels()) {
				return true
			}
			// A kubelet restart publishes new hugepage capacity: HugepagesSchedulable follows it.
			o, okOld := e.ObjectOld.(*corev1.Node)
			n, okNew := e.ObjectNew.(*corev1.Node)
			return okOld && okNew && !maps.EqualFunc(hugepageCapacity(o), hugepageCapacity(n),
				func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })
		},
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// EvictionClient returns the REST client Reconciler.Evictions needs.
func EvictionClient(cfg *rest.Config) (rest.Interface, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to create the eviction client: %w", err)
	}
	return cs.PolicyV1().RESTClient(), nil
}

// hugepageCapacity is the hugepages-<size> part of a node's capacity.
func hugepageCapacity(n *corev1.Node) map[corev1.ResourceName]resource.Quantity {
	out := map[corev1.ResourceName]resource.Quantity{}
	for name, q := range n.Status.Capacity {
		if strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
			out[name] = q
		}
	}
	return out
}
