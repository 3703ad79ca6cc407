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

// Package api is the contract between plexus-cni and whoever resolves a pod's
// attachments and records their status: the direct API-server mode inside
// plexus-cni (cni/kube) today, the node agent over its unix socket later. It holds
// only plain types and interfaces so the agent can import it without pulling in
// the meta-plugin or controller-runtime.
package api
