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

// Package plugin is the plexus-cni meta-plugin: CNI ADD, DEL, CHECK, STATUS and GC.
// ADD resolves the pod's attachments (node agent or API server), saves the delegate
// list atomically, runs the delegates through libcni in order, rolls back in reverse
// on failure, fixes default routes, reports network-status and events and returns the
// cluster network's result. DEL needs nothing but the on-disk cache.
//
// Every effect (plugin execution, resolution, status publication, output, clock) is
// injected through Plugin; the zero Plugin is production.
package plugin
