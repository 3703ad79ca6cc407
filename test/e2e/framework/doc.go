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

// Package framework drives the real local cluster for the e2e suites: it brings the cluster up
// and down with the hack/cluster scripts, gives tests a client, and inspects pods from the host
// (their network namespaces, through nsenter) and the host itself (leftover processes, netns,
// cgroups, links) so that tests can assert that nothing is leaked.
package framework
