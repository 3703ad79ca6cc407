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
// Package sriovdp is a fake SR-IOV network device plugin for the e2e suite, for machines without
// SR-IOV hardware. It reads a configuration in the sriov-network-device-plugin's format
// (resourceList, netDevice pools and their selectors), selects the VFs of a sysfs tree with
// those selectors, and registers one extended resource per pool with a kubelet through the
// kubelet plugin watcher (a socket in <kubelet root>/plugins_registry), serving the device plugin
// API v1beta1 on a second socket. Like the real plugin's netDevice pools, device IDs are VF PCI
// addresses, Allocate sets PCIDEVICE_<RESOURCE>=<addresses>, and a device-info file per device
// is written where the multi-net spec says (through the network-attachment-definition-client
// utilities the real plugin uses).
//
// It is written from the plugin's documented configuration format, not from its code (its Go
// module is not available here). Unknown configuration fields are errors, so a selector the
// operator starts to render fails the e2e suite instead of being ignored.
package sriovdp
