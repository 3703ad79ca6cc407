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

// Package fake is an in-process, kernel-like sysfs for tests. A Tree is backed by a real temp
// directory: reads (and directory listings, symlinks) go to the files there, while writes to the
// attributes the kernel gives side effects to go through hooks that behave like the kernel:
//
//   - bus/pci/devices/<pf>/sriov_numvfs: ERANGE above sriov_totalvfs, EINVAL for non-numbers, a
//     no-op for the current value, ENOENT without a PF driver, EBUSY for non-zero to non-zero, and
//     injectable ENOMEM; enabling creates the VF directories (vendor, device, numa_node, physfn,
//     driver_override, driver, net/<ifname>/mtu) and virtfn<N> links, disabling removes them.
//   - bus/pci/devices/<dev>/driver_override: stored as written, read back as "(null)" when empty.
//   - bus/pci/drivers/<drv>/bind and unbind, bus/pci/drivers_probe: driver matching honours
//     driver_override like pci_match_device; drivers_probe succeeds even when nothing binds, like
//     the kernel, so callers must read the driver link back.
//   - .../net/<ifname>/mtu: EINVAL outside 68..9702.
//   - kernel/mm/hugepages/hugepages-<kB>kB/nr_hugepages and the per-NUMA-node files: allocation
//     is capped by a per-node capacity, so shortfalls can be produced.
//
// Any write can additionally be made to fail with an injected errno, and every write is logged.
package fake
