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

// Package deviceplugin renders the configuration file of the SR-IOV network device plugin
// (k8snetworkplumbingwg/sriov-network-device-plugin) for one node from the node's resolved
// SR-IOV state. The format is the plugin's documented "resourceList" JSON: one resource per
// resource name, each with a list of netDevice selectors (vendors, devices, drivers, pfNames,
// rootDevices, pciAddresses); pfNames and rootDevices carry "#first-last" VF ranges. The plugin's
// Go module is not a dependency: the types here mirror the documented fields. Output is
// deterministic (sorted, stable JSON) so it can be compared and hashed.
package deviceplugin
