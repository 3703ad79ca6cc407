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

package sriov

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
)

// Device types of a VF group.
const (
	// DeviceTypeNetdevice keeps VFs on their kernel VF driver.
	DeviceTypeNetdevice = "netdevice"
	// DeviceTypeVfioPci binds VFs to vfio-pci.
	DeviceTypeVfioPci = "vfio-pci"
	// VfioPciDriver is the vfio-pci driver name.
	VfioPciDriver = "vfio-pci"
)

// VFGroup configures VFs First..Last (inclusive) of a PF.
type VFGroup struct {
	// First and Last are the inclusive VF index range.
	First int `json:"first"`
	Last  int `json:"last"`
	// DeviceType is DeviceTypeNetdevice or DeviceTypeVfioPci.
	DeviceType string `json:"deviceType"`
	// MTU is set on netdevice VFs; 0 leaves it alone.
	MTU int `json:"mtu,omitempty"`
	// ResourceName is the device-plugin resource the group is advertised under.
	ResourceName string `json:"resourceName,omitempty"`
	// Policy is the NodeNetworkPolicy the group comes from.
	Policy string `json:"policy,omitempty"`
}

// PFConfig is the desired state of one PF.
type PFConfig struct {
	// PCIAddress identifies the PF.
	PCIAddress string `json:"pciAddress"`
	// Name is the PF netdevice name, informational (device-plugin pfNames).
	Name string `json:"name,omitempty"`
	// NumVfs is the VF count.
	NumVfs int `json:"numVfs"`
	// MTU is the PF MTU; 0 leaves it alone.
	MTU int `json:"mtu,omitempty"`
	// Groups configure ranges of VFs; VFs in no group stay on the kernel VF driver.
	Groups []VFGroup `json:"groups,omitempty"`
}

// Desired is the desired SR-IOV state of a node. PFs not listed are left alone, except PFs a
// previous Apply configured (recorded in the state file), whose VFs are removed.
type Desired struct {
	// PFs are the PFs to configure.
	PFs []PFConfig `json:"pfs,omitempty"`
}

// normalized returns a copy with PFs sorted by address and groups by First.
func (d Desired) normalized() Desired {
	out := Desired{PFs: make([]PFConfig, len(d.PFs))}
	for i, pf := range d.PFs {
		pf.Groups = append([]VFGroup(nil), pf.Groups...)
		sort.Slice(pf.Groups, func(a, b int) bool { return pf.Groups[a].First < pf.Groups[b].First })
		out.PFs[i] = pf
	}
	sort.Slice(out.PFs, func(a, b int) bool { return out.PFs[a].PCIAddress < out.PFs[b].PCIAddress })
	return out
}

// Hash returns a stable hash of the desired state (order of PFs and groups does not matter).
func (d Desired) Hash() string {
	b, _ := json.Marshal(d.normalized()) // cannot fail: plain structs
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// groupOf returns the group covering VF index, if any.
func (c PFConfig) groupOf(index int) (VFGroup, bool) {
	for _, g := range c.Groups {
		if index >= g.First && index <= g.Last {
			return g, true
		}
	}
	return VFGroup{}, false
}
