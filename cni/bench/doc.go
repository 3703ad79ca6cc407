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

// Command bench measures plexus-cni's overhead the way a container runtime sees it:
// it execs bin/plexus-cni with CNI_COMMAND=ADD/DEL and the configuration on stdin,
// with real reference plugins (bridge, macvlan + host-local, tuning) as delegates in
// test network namespaces, alternating with the same delegates called directly
// through libcni. Overhead = plexus wall time − direct wall time of the same
// delegates, paired per iteration. Run as root: go run ./cni/bench
package main
