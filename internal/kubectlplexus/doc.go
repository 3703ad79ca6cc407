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

// Package kubectlplexus implements the kubectl plugin "kubectl plexus": tables of the secondary
// networks of pods (requested in k8s.v1.cni.cncf.io/networks versus reported in
// k8s.v1.cni.cncf.io/network-status), of NetworkPlanes from their status, and a "why" report
// that explains a failed attachment from the pod's annotations, its Events and the
// AttachmentPolicy status. Gathering (API reads) and rendering (pure functions over objects) are
// separate so the tables are unit-tested from fixture objects.
package kubectlplexus
