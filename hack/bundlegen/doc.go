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

// Command bundlegen turns the output of `kustomize build config/manifests` (the CSV base, the
// operator as config/default deploys it, and the sample CRs) into an OLM registry+v1 bundle:
// bundle/manifests/plexus.clusterserviceversion.yaml with the install strategy, RBAC, owned
// CRDs, webhook definitions and alm-examples filled in, one file per CRD and per other
// supported object, and bundle/metadata/annotations.yaml. It stands in for
// `operator-sdk generate bundle`, which is not available here, and is run by hack/bundle.sh.
//
// The output is deterministic: objects, rules, descriptors and keys are sorted, and createdAt
// (the only volatile field) is kept from the existing CSV while the version does not change.
package main
