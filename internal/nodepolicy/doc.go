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

// Package nodepolicy resolves which NodeNetworkPolicies apply to a node and merges them into the
// node's desired hardware state. It is pure (no I/O) so the node agent and the operator compute
// exactly the same result from the same inputs.
//
// Overlaps are resolved deterministically: policies are ordered by priority (lower wins), then
// by name. A later policy may add to what an earlier one configured (another VF range of the same
// PF with the same numVfs, another hugepage pool), but never change it: a PF claimed with another
// numVfs or MTU, an overlapping VF range, or a hugepage pool with another count is reported as an
// Issue against the losing policy and that entry is not applied. Nothing is silently merged.
package nodepolicy
