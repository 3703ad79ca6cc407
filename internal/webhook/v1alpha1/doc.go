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

// Package v1alpha1 holds the Plexus admission webhooks: the pod mutating webhook that turns
// AttachmentPolicies into the k8s.v1.cni.cncf.io/networks annotation (plus SR-IOV resource
// requests and the AttachmentsReady readiness gate), and the validating webhook that rejects
// NetworkAttachmentDefinitions whose CNI config is invalid. No check depends on live node state.
package v1alpha1
