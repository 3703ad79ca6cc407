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

package deviceplugin

import (
	"encoding/json"
	"fmt"
	"sort"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/sriov"
)

// DefaultResourcePrefix is the resource prefix Plexus advertises VFs under; NADs reference
// "<prefix>/<resourceName>" in the k8s.v1.cni.cncf.io/resourceName annotation.
const DefaultResourcePrefix = "plexus.dev"

// DeviceTypeNetDevice is the device plugin's deviceType for network VFs (also used for VFs bound
// to vfio-pci; the plugin mounts /dev/vfio for those).
const DeviceTypeNetDevice = "netDevice"

// Config is the device plugin configuration file.
type Config struct {
	// ResourceList are the resource pools.
	ResourceList []Resource `json:"resourceList"`
}

// Resource is one resource pool.
type Resource struct {
	// ResourceName is the name without prefix.
	ResourceName string `json:"resourceName"`
	// ResourcePrefix overrides the plugin's --resource-prefix.
	ResourcePrefix string `json:"resourcePrefix,omitempty"`
	// DeviceType is "netDevice".
	DeviceType string `json:"deviceType"`
	// Selectors are alternatives; a device joins the pool if any selector matches it.
	Selectors []Selector `json:"selectors"`
}

// Selector is a netDevice selector; all set fields must match.
type Selector struct {
	// Vendors are PCI vendor IDs (hex, no 0x).
	Vendors []string `json:"vendors,omitempty"`
	// Devices are PCI device IDs of the VFs.
	Devices []string `json:"devices,omitempty"`
	// Drivers are the drivers the VFs are bound to.
	Drivers []string `json:"drivers,omitempty"`
	// PFNames are PF netdevice names with an optional "#first-last" VF range.
	PFNames []string `json:"pfNames,omitempty"`
	// RootDevices are PF PCI addresses with an optional "#first-last" VF range.
	RootDevices []string `json:"rootDevices,omitempty"`
	// PCIAddresses are VF PCI addresses.
	PCIAddresses []string `json:"pciAddresses,omitempty"`
}

// Build computes the configuration for a node from its desired SR-IOV state and its discovered
// PFs (for vendor, VF device ID and kernel VF driver). Groups without a resource name are not
// advertised.
func Build(prefix string, desired sriov.Desired, pfs []plexusv1alpha1.PFStatus) Config {
	if prefix == "" {
		prefix = DefaultResourcePrefix
	}
	byAddr := map[string]plexusv1alpha1.PFStatus{}
	for _, pf := range pfs {
		byAddr[pf.PCIAddress] = pf
	}
	resources := map[string]*Resource{}
	type keyed struct {
		key string
		sel Selector
	}
	sels := map[string][]keyed{}
	for _, cfg := range desired.PFs {
		pf := byAddr[cfg.PCIAddress]
		name := cfg.Name
		if name == "" {
			name = pf.Name
		}
		for _, g := range cfg.Groups {
			if g.ResourceName == "" {
				continue
			}
			if _, ok := resources[g.ResourceName]; !ok {
				resources[g.ResourceName] = &Resource{ResourceName: g.ResourceName, ResourcePrefix: prefix, DeviceType: DeviceTypeNetDevice}
			}
			rng := fmt.Sprintf("#%d-%d", g.First, g.Last)
			var s Selector
			if pf.Vendor != "" {
				s.Vendors = []string{pf.Vendor}
			}
			if pf.VFDeviceID != "" {
				s.Devices = []string{pf.VFDeviceID}
			}
			if g.DeviceType == sriov.DeviceTypeVfioPci {
				s.Drivers = []string{sriov.VfioPciDriver}
			} else if d := kernelVFDriver(pf); d != "" {
				s.Drivers = []string{d}
			}
			if name != "" {
				s.PFNames = []string{name + rng}
			} else {
				s.RootDevices = []string{cfg.PCIAddress + rng}
			}
			sels[g.ResourceName] = append(sels[g.ResourceName], keyed{key: fmt.Sprintf("%s/%04d", cfg.PCIAddress, g.First), sel: s})
		}
	}
	names := make([]string, 0, len(resources))
	for n := range resources {
		names = append(names, n)
	}
	sort.Strings(names)
	out := Config{ResourceList: []Resource{}}
	for _, n := range names {
		ks := sels[n]
		sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
		r := resources[n]
		for _, k := range ks {
			r.Selectors = append(r.Selectors, k.sel)
		}
		out.ResourceList = append(out.ResourceList, *r)
	}
	return out
}

// kernelVFDriver returns the non-vfio driver some VF of pf is bound to, or "".
func kernelVFDriver(pf plexusv1alpha1.PFStatus) string {
	for _, vf := range pf.VFs {
		if vf.Driver != "" && vf.Driver != sriov.VfioPciDriver {
			return vf.Driver
		}
	}
	return ""
}

// Render returns the JSON configuration file for a node (see Build).
func Render(prefix string, desired sriov.Desired, pfs []plexusv1alpha1.PFStatus) ([]byte, error) {
	b, err := json.Marshal(Build(prefix, desired, pfs))
	if err != nil {
		return nil, fmt.Errorf("render device plugin config: %w", err)
	}
	return b, nil
}
