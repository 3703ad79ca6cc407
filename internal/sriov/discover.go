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
	"fmt"
	"sort"
	"strconv"
	"strings"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/sysfs"
)

// VF is a discovered virtual function.
type VF struct {
	// Index is the VF index on its PF (virtfn<Index>).
	Index int `json:"index"`
	// PCIAddress is the VF PCI address.
	PCIAddress string `json:"pciAddress"`
	// Driver is the bound driver, "" if unbound.
	Driver string `json:"driver,omitempty"`
	// DriverOverride is driver_override, "" if unset.
	DriverOverride string `json:"driverOverride,omitempty"`
	// Netdev is the VF netdevice name, "" if none.
	Netdev string `json:"netdev,omitempty"`
	// MTU is the netdevice MTU, 0 if no netdevice.
	MTU int `json:"mtu,omitempty"`
}

// PF is a discovered SR-IOV capable physical function.
type PF struct {
	// PCIAddress is the PF PCI address.
	PCIAddress string `json:"pciAddress"`
	// Name is the PF netdevice name, "" if none.
	Name string `json:"name,omitempty"`
	// Vendor and DeviceID are the PCI IDs (hex without 0x).
	Vendor   string `json:"vendor,omitempty"`
	DeviceID string `json:"deviceID,omitempty"`
	// VFDeviceID is the device ID of the VFs, "" when there are none.
	VFDeviceID string `json:"vfDeviceID,omitempty"`
	// Driver is the PF driver.
	Driver string `json:"driver,omitempty"`
	// NUMANode is numa_node (-1 unknown).
	NUMANode int `json:"numaNode"`
	// TotalVfs is sriov_totalvfs and NumVfs sriov_numvfs.
	TotalVfs int `json:"totalVfs"`
	NumVfs   int `json:"numVfs"`
	// MTU is the PF netdevice MTU.
	MTU int `json:"mtu,omitempty"`
	// VFs are the VFs sorted by index.
	VFs []VF `json:"vfs,omitempty"`
}

func devPath(addr string) string { return "bus/pci/devices/" + addr }

// Discover returns every SR-IOV capable PF (a PCI device with sriov_totalvfs) below root, sorted
// by PCI address.
func Discover(root sysfs.Root) ([]PF, error) {
	entries, err := root.ReadDir("bus/pci/devices")
	if err != nil {
		return nil, fmt.Errorf("list PCI devices: %w", err)
	}
	var pfs []PF
	for _, e := range entries {
		if !sysfs.Exists(root, devPath(e.Name())+"/sriov_totalvfs") {
			continue
		}
		pf, err := DiscoverPF(root, e.Name())
		if err != nil {
			return nil, err
		}
		pfs = append(pfs, pf)
	}
	sort.Slice(pfs, func(i, j int) bool { return pfs[i].PCIAddress < pfs[j].PCIAddress })
	return pfs, nil
}

// DiscoverPF reads one PF. A missing device yields an *Error with ReasonPFNotFound.
func DiscoverPF(root sysfs.Root, addr string) (PF, error) {
	base := devPath(addr)
	if !sysfs.Exists(root, base+"/sriov_totalvfs") {
		return PF{}, &Error{Reason: ReasonPFNotFound, Device: addr, Op: "discover"}
	}
	pf := PF{PCIAddress: addr, NUMANode: -1}
	var err error
	if pf.TotalVfs, err = sysfs.ReadInt(root, base+"/sriov_totalvfs"); err != nil {
		return PF{}, fmt.Errorf("pf %s: %w", addr, err)
	}
	if pf.NumVfs, err = sysfs.ReadInt(root, base+"/sriov_numvfs"); err != nil {
		return PF{}, fmt.Errorf("pf %s: %w", addr, err)
	}
	pf.Vendor = readHexID(root, base+"/vendor")
	pf.DeviceID = readHexID(root, base+"/device")
	if n, err := sysfs.ReadInt(root, base+"/numa_node"); err == nil {
		pf.NUMANode = n
	}
	if pf.Driver, err = sysfs.LinkBase(root, base+"/driver"); err != nil {
		return PF{}, fmt.Errorf("pf %s: %w", addr, err)
	}
	pf.Name, pf.MTU = netdev(root, base)

	entries, err := root.ReadDir(base)
	if err != nil {
		return PF{}, fmt.Errorf("pf %s: %w", addr, err)
	}
	for _, e := range entries {
		idxStr, ok := strings.CutPrefix(e.Name(), "virtfn")
		if !ok {
			continue
		}
		idx, err := strconv.Atoi(idxStr)
		if err != nil {
			continue
		}
		vfAddr, err := sysfs.LinkBase(root, base+"/"+e.Name())
		if err != nil {
			return PF{}, fmt.Errorf("pf %s: %w", addr, err)
		}
		vf, err := discoverVF(root, idx, vfAddr)
		if err != nil {
			return PF{}, err
		}
		if pf.VFDeviceID == "" {
			pf.VFDeviceID = readHexID(root, devPath(vfAddr)+"/device")
		}
		pf.VFs = append(pf.VFs, vf)
	}
	sort.Slice(pf.VFs, func(i, j int) bool { return pf.VFs[i].Index < pf.VFs[j].Index })
	return pf, nil
}

func discoverVF(root sysfs.Root, idx int, addr string) (VF, error) {
	base := devPath(addr)
	vf := VF{Index: idx, PCIAddress: addr}
	var err error
	if vf.Driver, err = sysfs.LinkBase(root, base+"/driver"); err != nil {
		return VF{}, fmt.Errorf("vf %s: %w", addr, err)
	}
	vf.DriverOverride = readOverride(root, addr)
	vf.Netdev, vf.MTU = netdev(root, base)
	return vf, nil
}

// readOverride returns driver_override, mapping the kernel's "(null)" to "".
func readOverride(root sysfs.Root, addr string) string {
	s, err := sysfs.ReadString(root, devPath(addr)+"/driver_override")
	if err != nil || s == "(null)" {
		return ""
	}
	return s
}

func readHexID(root sysfs.Root, rel string) string {
	s, err := sysfs.ReadString(root, rel)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(s, "0x")
}

// netdev returns the first netdevice below a PCI device directory and its MTU.
func netdev(root sysfs.Root, base string) (string, int) {
	entries, err := root.ReadDir(base + "/net")
	if err != nil || len(entries) == 0 {
		return "", 0
	}
	name := entries[0].Name()
	mtu, _ := sysfs.ReadInt(root, base+"/net/"+name+"/mtu")
	return name, mtu
}

// Status converts a discovered PF to its NodeNetworkState representation.
func (pf PF) Status() plexusv1alpha1.PFStatus {
	s := plexusv1alpha1.PFStatus{
		Name:       pf.Name,
		PCIAddress: pf.PCIAddress,
		Vendor:     pf.Vendor,
		DeviceID:   pf.DeviceID,
		VFDeviceID: pf.VFDeviceID,
		Driver:     pf.Driver,
		NUMANode:   int32(pf.NUMANode),
		TotalVfs:   int32(pf.TotalVfs),
		NumVfs:     int32(pf.NumVfs),
		MTU:        int32(pf.MTU),
	}
	for _, vf := range pf.VFs {
		s.VFs = append(s.VFs, plexusv1alpha1.VFStatus{
			Index:      int32(vf.Index),
			PCIAddress: vf.PCIAddress,
			Driver:     vf.Driver,
			Netdev:     vf.Netdev,
			MTU:        int32(vf.MTU),
		})
	}
	return s
}
