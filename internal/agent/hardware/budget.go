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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/nodepolicy"
)

// The cross-node disruption budget is a set of coordination Leases in the operator namespace,
// one per slot: "plexus-drain-<hash>-<i>" for i in [0, maxUnavailable). A node may disrupt
// itself only while it holds one. Taking a slot is a Create (only one node can create a name) or
// an Update of an expired Lease at its resourceVersion (only one node can win), so no two nodes
// hold the same slot and at most maxUnavailable nodes of a budget are disrupted at once. The
// holder deletes its Lease when it is done; a Lease whose holder died expires after
// drainTimeout plus leaseSlack and is taken over.
//
// The budget is the disruption setting of the highest-priority policy selecting the node that
// sets one, keyed by that policy's name; percentages are of the nodes that policy selects.
// Nodes whose policies set none share the "default" budget of one node at a time.

const (
	// budgetLabel carries the budget key hash on every slot Lease.
	budgetLabel = "plexus.dev/drain-budget"
	// budgetPolicyAnnotation names the policy whose budget a slot belongs to (for humans).
	budgetPolicyAnnotation = "plexus.dev/drain-budget-policy"
	// managedByLabel marks the slot Leases.
	managedByLabel = "app.kubernetes.io/managed-by"
	managedBy      = "plexus-agent"
	// defaultBudgetKey is the budget of nodes whose policies set no disruption budget.
	defaultBudgetKey = "default"
	// leaseSlack is added to drainTimeout for the Lease duration (apply and uncordon time).
	leaseSlack = 5 * time.Minute
)

// budget is the disruption budget that applies to this node.
type budget struct {
	// key names the budget: the policy that sets it, or defaultBudgetKey.
	key string
	// max is maxUnavailable resolved against the matched nodes (>= 1).
	max int
	// drainTimeout bounds the evictions.
	drainTimeout time.Duration
}

// budgetFor resolves the budget of the node's highest-priority policy that sets one.
func (r *Reconciler) budgetFor(ctx context.Context, s *scope) (budget, error) {
	b := budget{key: defaultBudgetKey, max: 1, drainTimeout: defaultDrainTimeout}
	byName := map[string]*plexusv1alpha1.NodeNetworkPolicy{}
	for i := range s.policies {
		byName[s.policies[i].Name] = &s.policies[i]
	}
	for _, ref := range s.res.Policies {
		p := byName[ref.Name]
		if p == nil || p.Spec.Disruption == nil {
			continue
		}
		d := p.Spec.Disruption
		b.key = p.Name
		if d.DrainTimeout != nil && d.DrainTimeout.Duration > 0 {
			b.drainTimeout = d.DrainTimeout.Duration
		}
		total, err := r.countSelected(ctx, p)
		if err != nil {
			return budget{}, err
		}
		if b.max, err = nodepolicy.MaxUnavailable(d.MaxUnavailable, total); err != nil {
			return budget{}, fmt.Errorf("policy %s: %w", p.Name, err)
		}
		return b, nil
	}
	return b, nil
}

// countSelected counts the nodes p selects (metadata only, uncached).
func (r *Reconciler) countSelected(ctx context.Context, p *plexusv1alpha1.NodeNetworkPolicy) (int, error) {
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.NodeSelector)
	if err != nil {
		return 0, fmt.Errorf("policy %s: nodeSelector: %w", p.Name, err)
	}
	nodes := &metav1.PartialObjectMetadataList{}
	nodes.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NodeList"))
	if err := r.APIReader.List(ctx, nodes, client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return 0, fmt.Errorf("failed to list nodes of policy %s: %w", p.Name, err)
	}
	return len(nodes.Items), nil
}

func budgetHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])[:16]
}

func slotName(key string, i int) string { return fmt.Sprintf("plexus-drain-%s-%d", budgetHash(key), i) }

func (r *Reconciler) leaseExpired(l *coordinationv1.Lease, now time.Time) bool {
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" {
		return true
	}
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return false
	}
	return l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second).Before(now)
}

func (r *Reconciler) leaseSpec(b budget, now time.Time) coordinationv1.LeaseSpec {
	return coordinationv1.LeaseSpec{
		HolderIdentity:       ptr.To(r.NodeName),
		LeaseDurationSeconds: ptr.To(int32((b.drainTimeout + leaseSlack) / time.Second)),
		AcquireTime:          &metav1.MicroTime{Time: now},
		RenewTime:            &metav1.MicroTime{Time: now},
	}
}

// acquireSlot takes (or keeps) a slot of budget b. It returns false when every slot is held.
func (r *Reconciler) acquireSlot(ctx context.Context, b budget) (bool, error) {
	leases := &coordinationv1.LeaseList{}
	if err := r.APIReader.List(ctx, leases, client.InNamespace(r.Namespace),
		client.MatchingLabels{budgetLabel: budgetHash(b.key)}); err != nil {
		return false, fmt.Errorf("failed to list disruption budget Leases: %w", err)
	}
	now := time.Now()
	active := 0
	for i := range leases.Items {
		l := &leases.Items[i]
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == r.NodeName {
			return true, r.renew(ctx, l, b)
		}
		if !r.leaseExpired(l, now) {
			active++
		}
	}
	if active >= b.max {
		return false, nil
	}
	existing := map[string]*coordinationv1.Lease{}
	for i := range leases.Items {
		existing[leases.Items[i].Name] = &leases.Items[i]
	}
	for i := range b.max {
		name := slotName(b.key, i)
		if l, ok := existing[name]; ok {
			if !r.leaseExpired(l, now) {
				continue
			}
			l.Spec = r.leaseSpec(b, now)
			err := r.Client.Update(ctx, l)
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				continue // another node won it
			}
			if err != nil {
				return false, fmt.Errorf("failed to take over Lease %s/%s: %w", r.Namespace, name, err)
			}
			ctrl.LoggerFrom(ctx).Info("Took over an expired disruption budget slot", "lease", name)
			return true, nil
		}
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.Namespace,
				Labels:      map[string]string{budgetLabel: budgetHash(b.key), managedByLabel: managedBy},
				Annotations: map[string]string{budgetPolicyAnnotation: b.key}},
			Spec: r.leaseSpec(b, now),
		}
		err := r.Client.Create(ctx, l)
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("failed to create Lease %s/%s: %w", r.Namespace, name, err)
		}
		ctrl.LoggerFrom(ctx).Info("Took a disruption budget slot", "lease", name, "budget", b.key, "maxUnavailable", b.max)
		return true, nil
	}
	return false, nil
}

func (r *Reconciler) renew(ctx context.Context, l *coordinationv1.Lease, b budget) error {
	l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	l.Spec.LeaseDurationSeconds = ptr.To(int32((b.drainTimeout + leaseSlack) / time.Second))
	if err := r.Client.Update(ctx, l); err != nil {
		return fmt.Errorf("failed to renew Lease %s/%s: %w", l.Namespace, l.Name, err)
	}
	return nil
}

// renewSlot renews the slot this node holds in budget b (before the apply).
func (r *Reconciler) renewSlot(ctx context.Context, b budget) error {
	_, err := r.acquireSlot(ctx, b)
	return err
}

// releaseSlots deletes every slot Lease this node holds.
func (r *Reconciler) releaseSlots(ctx context.Context) error {
	leases := &coordinationv1.LeaseList{}
	if err := r.APIReader.List(ctx, leases, client.InNamespace(r.Namespace),
		client.MatchingLabels{managedByLabel: managedBy}); err != nil {
		return fmt.Errorf("failed to list disruption budget Leases: %w", err)
	}
	for i := range leases.Items {
		l := &leases.Items[i]
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != r.NodeName {
			continue
		}
		err := r.Client.Delete(ctx, l, client.Preconditions{UID: ptr.To(l.UID), ResourceVersion: ptr.To(l.ResourceVersion)})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("failed to release Lease %s/%s: %w", l.Namespace, l.Name, err)
		}
		ctrl.LoggerFrom(ctx).V(2).Info("Released the disruption budget slot", "lease", types.NamespacedName{Namespace: l.Namespace, Name: l.Name})
	}
	return nil
}
