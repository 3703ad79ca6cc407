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

package nodestate

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// FieldOwner is the server-side apply field manager of the agent.
const FieldOwner = "plexus-agent"

// State is the agent's share of a NodeNetworkState status. Fields left nil/empty are not
// applied, so the agent never takes over what another writer (the hardware reconciler) owns.
type State struct {
	Uplink     *plexusv1alpha1.UplinkStatus
	Interfaces []plexusv1alpha1.InterfaceStatus
	Installed  []plexusv1alpha1.InstalledComponent
	// Conditions are the condition types the agent owns (Ready, Installed).
	Conditions []metav1.Condition
}

// Reporter applies State to the node's NodeNetworkState.
type Reporter struct {
	// Client writes the NodeNetworkState.
	Client client.Client
	// NodeName names the NodeNetworkState; NodeUID, when set, makes the Node its owner (the
	// state goes away with the node).
	NodeName string
	NodeUID  types.UID
}

// Apply creates the NodeNetworkState if needed and applies st to its status.
func (r *Reporter) Apply(ctx context.Context, st *State) error {
	meta := map[string]any{"name": r.NodeName}
	if r.NodeUID != "" {
		meta["ownerReferences"] = []any{map[string]any{
			"apiVersion": "v1", "kind": "Node", "name": r.NodeName, "uid": string(r.NodeUID),
		}}
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": plexusv1alpha1.GroupVersion.String(), "kind": "NodeNetworkState", "metadata": meta,
	}}
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply NodeNetworkState %s: %w", r.NodeName, err)
	}
	status := plexusv1alpha1.NodeNetworkStateStatus{Uplink: st.Uplink, Interfaces: st.Interfaces, Installed: st.Installed,
		Conditions: st.Conditions}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&status)
	if err != nil {
		return fmt.Errorf("failed to convert NodeNetworkState status: %w", err)
	}
	obj = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": plexusv1alpha1.GroupVersion.String(), "kind": "NodeNetworkState",
		"metadata": map[string]any{"name": r.NodeName}, "status": u,
	}}
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("failed to apply NodeNetworkState %s status: %w", r.NodeName, err)
	}
	return nil
}

// Condition builds a condition with the current time.
func Condition(typ string, ok bool, reason, msg string) metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, LastTransitionTime: metav1.Now()}
}
