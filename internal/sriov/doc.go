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

// Package sriov discovers SR-IOV physical and virtual functions below a sysfs root and converges
// them to a desired state: it changes sriov_numvfs only on PFs whose VF count changes (writing 0
// then N, because the kernel refuses non-zero to non-zero with EBUSY), binds VFs to vfio-pci
// (driver_override + drivers_probe) or back to their kernel VF driver, sets MTUs, and reads back
// every write. Failures carry typed reasons (see Error and the Err* sentinels).
//
// Apply records its progress and a hash of the desired state in a state file (written
// atomically), so an agent restarted in the middle of an apply resumes instead of redoing
// disruptive writes, and an unchanged desired state costs no write at all. PlanDisruption lists
// the pods (from the kubelet PodResources API) that hold VFs of the PFs an apply would reset.
//
// The package is a library for the node agent; it never talks to the API server.
package sriov
