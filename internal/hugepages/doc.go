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

// Package hugepages allocates and observes hugepage pools at runtime through a sysfs root: the
// node-wide pool kernel/mm/hugepages/hugepages-<kB>kB/nr_hugepages and the per-NUMA-node pools
// devices/system/node/node<N>/hugepages/hugepages-<kB>kB/nr_hugepages. Every write is read back:
// the kernel silently allocates as many pages as it can, so a short read-back is reported as a
// ShortfallError (reason HugepagesShortfall) with the requested and allocated counts.
//
// NOTE: kubelet reads hugepage capacity only when it starts; the agent must restart it (or
// persist the pools for boot) after a change, see docs/node-hardware.md.
package hugepages
