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

// Package hardware is the node agent's hardware reconciler: it enacts the NodeNetworkPolicies
// that select its node (SR-IOV VFs, vfio-pci, hugepages) through a sysfs root and reports the
// result in the node's NodeNetworkState.
//
// One reconcile observes the host (sriov.Discover), resolves the policies (nodepolicy.Resolve),
// plans the SR-IOV changes and finds the pods holding VFs that a change would reset (kubelet
// PodResources). A non-disruptive change is applied at once and never cordons. A disruptive one
// is first published in status.disruptionPlan, then waits for a slot of the cross-node budget
// (a coordination Lease per slot, see budget.go), cordons the node, evicts only the listed pods
// through the Eviction API (PodDisruptionBudgets apply), applies, uncordons and releases the
// slot. When the evictions do not finish within drainTimeout the node is uncordoned, nothing is
// applied and the policies report DrainBlocked (a PodDisruptionBudget refused) or DrainTimeout.
//
// Status is written with server-side apply under the field manager FieldOwner, so it shares the
// NodeNetworkState with the agent's other writer ("plexus-agent": uplink, interfaces, installed,
// the Ready and Installed conditions) without either clobbering the other.
package hardware
