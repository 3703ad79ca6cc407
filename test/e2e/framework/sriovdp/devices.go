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

package sriovdp

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/plexus-net/plexus/internal/sysfs"
)

// Device is a VF as the plugin sees it in sysfs.
type Device struct {
	// PCIAddress is the VF's address: the device ID advertised to kubelet.
	PCIAddress string
	// Vendor and DeviceID are the VF's PCI IDs (hex, no 0x).
	Vendor, DeviceID string
	// Driver is the bound driver ("" when unbound).
	Driver string
	// Netdev is the VF's netdevice name ("" for none, e.g. on vfio-pci).
	Netdev string
	// PFAddress and PFName are the parent PF's address and netdevice name.
	PFAddress, PFName string
	// Index is the VF index on its PF (virtfn<Index>).
	Index int
	// NUMANode is numa_node (-1 unknown).
	NUMANode int
}

// Discover lists the VFs (PCI devices with a physfn link) below root's bus/pci/devices, sorted
// by address.
func Discover(root sysfs.Root) ([]Device, error) {
	entries, err := root.ReadDir("bus/pci/devices")
	if err != nil {
		return nil, fmt.Errorf("list PCI devices: %w", err)
	}
	var out []Device
	for _, e := range entries {
		base := "bus/pci/devices/" + e.Name()
		pf, err := sysfs.LinkBase(root, base+"/physfn")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if pf == "" {
			continue
		}
		d := Device{PCIAddress: e.Name(), PFAddress: pf, NUMANode: -1, Index: -1}
		d.Vendor = hexID(root, base+"/vendor")
		d.DeviceID = hexID(root, base+"/device")
		if d.Driver, err = sysfs.LinkBase(root, base+"/driver"); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if n, err := sysfs.ReadInt(root, base+"/numa_node"); err == nil {
			d.NUMANode = n
		}
		d.Netdev = firstEntry(root, base+"/net")
		pfBase := "bus/pci/devices/" + pf
		d.PFName = firstEntry(root, pfBase+"/net")
		links, err := root.ReadDir(pfBase)
		if err != nil {
			return nil, fmt.Errorf("PF %s: %w", pf, err)
		}
		for _, l := range links {
			idx, ok := strings.CutPrefix(l.Name(), "virtfn")
			if !ok {
				continue
			}
			if t, err := root.Readlink(pfBase + "/" + l.Name()); err == nil && path.Base(t) == d.PCIAddress {
				d.Index, _ = strconv.Atoi(idx)
			}
		}
		if d.Index < 0 {
			return nil, fmt.Errorf("VF %s: no virtfn link on its PF %s", d.PCIAddress, pf)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PCIAddress < out[j].PCIAddress })
	return out, nil
}

// Pools assigns the devices to the configuration's pools (by full resource name): a device
// joins the first pool, in configuration order, one of whose selectors matches it.
func Pools(c *Config, devices []Device) map[string][]Device {
	pools := map[string][]Device{}
	taken := map[string]bool{}
	for _, r := range c.ResourceList {
		name := r.FullName()
		pools[name] = []Device{}
		for _, d := range devices {
			if taken[d.PCIAddress] {
				continue
			}
			for _, s := range r.Selectors {
				if s.Matches(d) {
					pools[name] = append(pools[name], d)
					taken[d.PCIAddress] = true
					break
				}
			}
		}
	}
	return pools
}

func hexID(root sysfs.Root, rel string) string {
	s, err := sysfs.ReadString(root, rel)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(s, "0x")
}

func firstEntry(root sysfs.Root, rel string) string {
	entries, err := root.ReadDir(rel)
	if err != nil || len(entries) == 0 {
		return ""
	}
	return entries[0].Name()
}
