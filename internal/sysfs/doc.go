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

// Package sysfs is a small abstraction over a sysfs root directory. The node agent is given the
// root path (/sys, or the host's sysfs mounted into the agent container); everything that reads or
// writes kernel attributes (SR-IOV, hugepages) goes through a Root so tests can substitute the
// kernel-like fake in package sysfs/fake. Paths are always relative to the root, e.g.
// "bus/pci/devices/0000:3b:00.0/sriov_numvfs".
package sysfs
