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

// Package resolve computes a pod's ordered attachments from its annotations, the
// NetworkAttachmentDefinitions it selects and the meta-plugin configuration: cluster
// network (or the default-network annotation), defaultNetworks, then the networks
// annotation; namespace isolation; interface names; per-attachment capability
// arguments; device IDs. The data comes from a Source (the API server in direct
// mode, informer caches in the node agent), so both compute the same answer.
package resolve
