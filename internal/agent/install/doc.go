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

// Package install puts plexus-cni and the delegate plugins into the host CNI bin directory and
// publishes the Plexus CNI configuration, both atomically: a temporary file in the target
// directory, then a rename, so a runtime executing a binary never sees "text file busy" and
// containerd 1.6 (which only reloads files created inside the conf dir) picks the change up. The
// configuration is published only once the cluster network's own configuration (and the
// readiness indicator file, when configured) exists, and it is never removed by a restart or a
// SIGTERM; only Uninstall removes it.
package install
