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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DeviceTypeNetDevice is the only pool type the fake supports (kernel or vfio-pci bound VFs).
const DeviceTypeNetDevice = "netDevice"

// Config is the device plugin configuration file ({"resourceList": [...]}).
type Config struct {
	// ResourceList are the resource pools.
	ResourceList []ResourceConfig `json:"resourceList"`
}

// ResourceConfig is one resource pool.
type ResourceConfig struct {
	// ResourceName is the resource name without prefix.
	ResourceName string `json:"resourceName"`
	// ResourcePrefix is the resource's prefix (the plugin's default is intel.com).
	ResourcePrefix string `json:"resourcePrefix,omitempty"`
	// DeviceType is netDevice.
	DeviceType string `json:"deviceType,omitempty"`
	// Selectors are alternatives: a device joins the pool if one of them matches. The plugin
	// accepts one selector object or a list.
	Selectors Selectors `json:"selectors"`
}

// Selectors is a list of selectors that also parses from a single object.
type Selectors []Selector

// Selector selects netDevice VFs; every set field must match.
type Selector struct {
	// Vendors are PCI vendor IDs (hex, no 0x).
	Vendors []string `json:"vendors,omitempty"`
	// Devices are the VFs' PCI device IDs.
	Devices []string `json:"devices,omitempty"`
	// Drivers are the drivers the VFs are bound to.
	Drivers []string `json:"drivers,omitempty"`
	// PFNames are PF netdevice names, each optionally with "#" and a comma-separated list of VF
	// indexes and ranges (ens1f0#0-3,6).
	PFNames []string `json:"pfNames,omitempty"`
	// RootDevices are PF PCI addresses with the same optional VF ranges.
	RootDevices []string `json:"rootDevices,omitempty"`
	// PCIAddresses are VF PCI addresses.
	PCIAddresses []string `json:"pciAddresses,omitempty"`
}

// UnmarshalJSON accepts a selector object or a list of them, rejecting unknown fields.
func (s *Selectors) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one Selector
		if err := strictUnmarshal(b, &one); err != nil {
			return err
		}
		*s = Selectors{one}
		return nil
	}
	var many []Selector
	if err := strictUnmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// FullName is <prefix>/<name>.
func (r ResourceConfig) FullName() string {
	prefix := r.ResourcePrefix
	if prefix == "" {
		prefix = "intel.com"
	}
	return prefix + "/" + r.ResourceName
}

// Parse reads a configuration file, rejecting unknown fields and pools the fake cannot serve.
func Parse(b []byte) (*Config, error) {
	var c Config
	if err := strictUnmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("device plugin config: %w", err)
	}
	var errs []error
	for i, r := range c.ResourceList {
		if r.ResourceName == "" {
			errs = append(errs, fmt.Errorf("resourceList[%d]: no resourceName", i))
		}
		if r.DeviceType != "" && r.DeviceType != DeviceTypeNetDevice {
			errs = append(errs, fmt.Errorf("resourceList[%d]: deviceType %q is not supported by the fake", i, r.DeviceType))
		}
		for j, s := range r.Selectors {
			for _, p := range append(slices.Clone(s.PFNames), s.RootDevices...) {
				if _, _, err := parseRanged(p); err != nil {
					errs = append(errs, fmt.Errorf("resourceList[%d].selectors[%d]: %w", i, j, err))
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("device plugin config: %w", err)
	}
	return &c, nil
}

func strictUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// Matches reports whether the selector selects d.
func (s Selector) Matches(d Device) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return in(s.Vendors, d.Vendor) && in(s.Devices, d.DeviceID) && in(s.Drivers, d.Driver) &&
		in(s.PCIAddresses, d.PCIAddress) &&
		rangedMatch(s.PFNames, d.PFName, d.Index) && rangedMatch(s.RootDevices, d.PFAddress, d.Index)
}

// rangedMatch matches "<name>[#ranges]" entries against a PF identifier and a VF index.
func rangedMatch(list []string, id string, index int) bool {
	if len(list) == 0 {
		return true
	}
	for _, e := range list {
		name, in, err := parseRanged(e)
		if err == nil && name == id && in(index) {
			return true
		}
	}
	return false
}

// parseRanged splits "ens1f0#0-3,6" into the name and a VF index predicate.
func parseRanged(e string) (string, func(int) bool, error) {
	name, spec, ranged := strings.Cut(e, "#")
	if !ranged {
		return name, func(int) bool { return true }, nil
	}
	type span struct{ first, last int }
	var spans []span
	for _, part := range strings.Split(spec, ",") {
		a, b, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(a)
		if err != nil {
			return "", nil, fmt.Errorf("bad VF range in %q", e)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(b); err != nil || last < first {
				return "", nil, fmt.Errorf("bad VF range in %q", e)
			}
		}
		spans = append(spans, span{first, last})
	}
	return name, func(i int) bool {
		for _, s := range spans {
			if i >= s.first && i <= s.last {
				return true
			}
		}
		return false
	}, nil
}
