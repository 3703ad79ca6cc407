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

// Package controllers holds the Plexus operator's reconcilers: NetworkPlane (renders a NAD into
// every selected namespace with server-side apply, restores drift, garbage-collects), the
// AttachmentPolicy status aggregator (matched/attached/failed pods from network-status and
// FailedCreatePodSandBox events), the pod readiness-gate reconciler, and the node hardware
// reconcilers. Render functions are pure and table-tested; setup.go holds the scheme, cache
// options and indexes shared by cmd/operator and the envtest suite.
package controllers
