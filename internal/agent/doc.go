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

// Package agent wires the Plexus node agent together: the installer (plexus-cni, the
// delegate plugins and the CNI configuration, atomically), the node-scoped informers, the unix
// socket the meta-plugin asks, the durable status journal and its writer, uplink detection and
// the NodeNetworkState reporter. The agent never runs a delegate plugin: plexus-cni does, in the
// runtime's context.
package agent
