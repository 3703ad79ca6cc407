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

package netattach

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// NetworkStatus is one element of the network-status annotation (spec §5). Its JSON is
// identical to the NAD client's k8s.cni.cncf.io/v1.NetworkStatus (a test keeps them in
// step); it is declared here so plexus-cni does not link apimachinery (+0.3 ms init).
type NetworkStatus struct {
	Name       string      `json:"name"`
	Interface  string      `json:"interface,omitempty"`
	IPs        []string    `json:"ips,omitempty"`
	Mac        string      `json:"mac,omitempty"`
	Mtu        int         `json:"mtu,omitempty"`
	Default    bool        `json:"default,omitempty"`
	DNS        DNS         `json:"dns,omitempty"`
	DeviceInfo *DeviceInfo `json:"device-info,omitempty"`
	Gateway    []string    `json:"gateway,omitempty"`
}

// DNS is the dns key of a NetworkStatus.
type DNS struct {
	Nameservers []string `json:"nameservers,omitempty"`
	Domain      string   `json:"domain,omitempty"`
	Search      []string `json:"search,omitempty"`
	Options     []string `json:"options,omitempty"`
}

// Device-info types and version (spec "Device Information" document, v1.1.0).
const (
	DeviceInfoTypePCI       = "pci"
	DeviceInfoTypeVHostUser = "vhost-user"
	DeviceInfoTypeMemif     = "memif"
	DeviceInfoTypeVDPA      = "vdpa"
	DeviceInfoVersion       = "1.1.0"
)

// DeviceInfo is the device-info key of a NetworkStatus and the content of a
// device-info file.
type DeviceInfo struct {
	Type      string       `json:"type,omitempty"`
	Version   string       `json:"version,omitempty"`
	Pci       *PciDevice   `json:"pci,omitempty"`
	Vdpa      *VdpaDevice  `json:"vdpa,omitempty"`
	VhostUser *VhostDevice `json:"vhost-user,omitempty"`
	Memif     *MemifDevice `json:"memif,omitempty"`
}

// PciDevice describes a PCI device.
type PciDevice struct {
	PciAddress        string `json:"pci-address,omitempty"`
	Vhostnet          string `json:"vhost-net,omitempty"`
	RdmaDevice        string `json:"rdma-device,omitempty"`
	PfPciAddress      string `json:"pf-pci-address,omitempty"`
	RepresentorDevice string `json:"representor-device,omitempty"`
}

// VdpaDevice describes a vDPA device.
type VdpaDevice struct {
	ParentDevice      string `json:"parent-device,omitempty"`
	Driver            string `json:"driver,omitempty"`
	Path              string `json:"path,omitempty"`
	PciAddress        string `json:"pci-address,omitempty"`
	PfPciAddress      string `json:"pf-pci-address,omitempty"`
	RepresentorDevice string `json:"representor-device,omitempty"`
}

// VhostDevice describes a vhost-user socket.
type VhostDevice struct {
	Mode string `json:"mode,omitempty"`
	Path string `json:"path,omitempty"`
}

// MemifDevice describes a memif socket.
type MemifDevice struct {
	Role string `json:"role,omitempty"`
	Path string `json:"path,omitempty"`
	Mode string `json:"mode,omitempty"`
}

// BuildNetworkStatus turns one attachment's CNI result into network-status entries:
// one per sandbox interface (interface, its IPs without prefix length, mac, mtu),
// each with the result's DNS, the gateways of its default routes and devInfo. IPs
// that name no interface go to the last entry. When isDefault is set, the entry of the
// interface owning a gateway (else the first sandbox interface) is marked default.
// A result without sandbox interfaces (or a nil result) yields one minimal entry
// (spec §5.1.1), never none.
func BuildNetworkStatus(name string, result cnitypes.Result, isDefault bool, devInfo *DeviceInfo) ([]NetworkStatus, error) {
	minimal := NetworkStatus{Name: name, Default: isDefault, DeviceInfo: devInfo}
	if result == nil {
		return []NetworkStatus{minimal}, nil
	}
	res, err := types100.NewResultFromResult(result)
	if err != nil {
		return nil, fmt.Errorf("failed to convert the result of network %s: %w", name, err)
	}
	dns := DNS{Nameservers: res.DNS.Nameservers, Domain: res.DNS.Domain, Search: res.DNS.Search, Options: res.DNS.Options}
	var gateways []string
	for _, r := range res.Routes {
		if r == nil || r.GW == nil {
			continue
		}
		if ones, _ := r.Dst.Mask.Size(); ones == 0 && (r.Dst.IP == nil || r.Dst.IP.IsUnspecified()) {
			gateways = append(gateways, r.GW.String())
		}
	}
	byIface := map[int]int{} // result interface index -> status index
	var out []NetworkStatus
	for i, iface := range res.Interfaces {
		if iface == nil || iface.Sandbox == "" {
			continue
		}
		byIface[i] = len(out)
		out = append(out, NetworkStatus{Name: name, Interface: iface.Name, Mac: iface.Mac, Mtu: iface.Mtu,
			DNS: dns, Gateway: gateways, DeviceInfo: devInfo})
	}
	if len(out) == 0 {
		minimal.DNS, minimal.Gateway = dns, gateways
		for _, ip := range res.IPs {
			minimal.IPs = append(minimal.IPs, ip.Address.IP.String())
		}
		return []NetworkStatus{minimal}, nil
	}
	defaultIdx := -1
	for _, ip := range res.IPs {
		idx := len(out) - 1
		if ip.Interface != nil {
			if si, ok := byIface[*ip.Interface]; ok {
				idx = si
			}
		}
		out[idx].IPs = append(out[idx].IPs, ip.Address.IP.String())
		if ip.Gateway != nil && defaultIdx < 0 && ip.Interface != nil {
			if _, ok := byIface[*ip.Interface]; ok {
				defaultIdx = idx
			}
		}
	}
	if isDefault {
		if defaultIdx < 0 {
			defaultIdx = 0
		}
		out[defaultIdx].Default = true
	}
	return out, nil
}

// ResultIPs returns the addresses (CIDR form) a result gives to interface ifName, or
// every address when the result names no sandbox interface.
func ResultIPs(result cnitypes.Result, ifName string) []string {
	if result == nil {
		return nil
	}
	res, err := types100.NewResultFromResult(result)
	if err != nil {
		return nil
	}
	var ips []string
	for _, ip := range res.IPs {
		if ip.Interface != nil && *ip.Interface >= 0 && *ip.Interface < len(res.Interfaces) &&
			res.Interfaces[*ip.Interface].Name != ifName {
			continue
		}
		ips = append(ips, ip.Address.String())
	}
	return ips
}

// FormatNetworkStatus renders the network-status annotation value.
func FormatNetworkStatus(statuses []NetworkStatus) (string, error) {
	if statuses == nil {
		statuses = []NetworkStatus{}
	}
	b, err := json.MarshalIndent(statuses, "", "    ")
	if err != nil {
		return "", fmt.Errorf("failed to marshal network status: %w", err)
	}
	return string(b), nil
}

// DevicePluginDeviceInfoPath is where a device plugin writes the device-info file for
// one allocated device: <dir>/<resourceName>-<deviceID>-device.json with "/" in the
// resource name replaced by "-" (dir is normally /var/run/k8s.cni.cncf.io/devinfo/dp).
func DevicePluginDeviceInfoPath(dir, resourceName, deviceID string) string {
	name := strings.ReplaceAll(resourceName+"-"+deviceID+"-device.json", "/", "-")
	return filepath.Join(dir, name)
}

// CNIDeviceInfoPath is the device-info file a meta-plugin hands to a delegate for one
// attachment: <dir>/<network>-<containerID>_<ifName> with "/" replaced by "-" (dir is
// normally /var/run/k8s.cni.cncf.io/devinfo/cni).
func CNIDeviceInfoPath(dir, network, containerID, ifName string) string {
	name := strings.ReplaceAll(network+"-"+containerID+"_"+ifName, "/", "-")
	return filepath.Join(dir, name)
}

// LoadDeviceInfo reads a device-info file.
func LoadDeviceInfo(path string) (*DeviceInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read device-info file: %w", err)
	}
	var di DeviceInfo
	if err := json.Unmarshal(b, &di); err != nil {
		return nil, fmt.Errorf("failed to parse device-info file %s: %w", path, err)
	}
	return &di, nil
}

// SaveDeviceInfo writes a device-info file atomically (temp file + rename).
func SaveDeviceInfo(path string, di *DeviceInfo) error {
	b, err := json.Marshal(di)
	if err != nil {
		return fmt.Errorf("failed to marshal device-info: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("failed to create device-info directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".devinfo-*")
	if err != nil {
		return fmt.Errorf("failed to create device-info file: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after a successful rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close() //nolint:errcheck,gosec // the write error is the one to report
		return fmt.Errorf("failed to write device-info file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("failed to write device-info file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to install device-info file: %w", err)
	}
	return nil
}

// PCIDeviceInfo is the device-info for a PCI device ID when no device plugin wrote one.
func PCIDeviceInfo(deviceID string) *DeviceInfo {
	return &DeviceInfo{Type: DeviceInfoTypePCI, Version: DeviceInfoVersion, Pci: &PciDevice{PciAddress: deviceID}}
}
