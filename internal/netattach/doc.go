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

// Package netattach implements the Kubernetes Network Plumbing WG multi-network
// specification (v1.3) pieces that the meta-plugin, the node agent and the
// operator share: parsing and formatting of the k8s.v1.cni.cncf.io/networks and
// v1.multus-cni.io/default-network pod annotations, resolution and validation
// of NetworkAttachmentDefinition CNI configurations (spec §3.4), the
// network-status annotation built from CNI results (spec §5) and the
// device-info file format.
//
// The package must stay free of controller-runtime and client-go: plexus-cni
// links it and starts on every pod sandbox creation.
package netattach
