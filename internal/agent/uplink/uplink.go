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

package uplink

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoDefaultRoute means the node has neither an IPv4 nor an IPv6 default route.
var ErrNoDefaultRoute = errors.New("no default route")

// Uplink is the default-route interface.
type Uplink struct {
	// Name is the interface name.
	Name string
	// Addresses are its global addresses in CIDR form.
	Addresses []string
}

// Detect finds the default-route interface of the current network namespace: the IPv4
// default route with the lowest metric, else the IPv6 one. Multipath routes use their first
// next hop.
func Detect() (*Uplink, error) {
	for _, family := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		idx, err := defaultRouteLink(family)
		if err != nil {
			return nil, err
		}
		if idx == 0 {
			continue
		}
		link, err := netlink.LinkByIndex(idx)
		if err != nil {
			return nil, fmt.Errorf("failed to get link %d: %w", idx, err)
		}
		return &Uplink{Name: link.Attrs().Name, Addresses: addresses(link)}, nil
	}
	return nil, ErrNoDefaultRoute
}

func defaultRouteLink(family int) (int, error) {
	routes, err := netlinksafe.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return 0, fmt.Errorf("failed to list routes: %w", err)
	}
	best, bestPrio := 0, -1
	for _, r := range routes {
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		idx := r.LinkIndex
		if idx == 0 && len(r.MultiPath) > 0 {
			idx = r.MultiPath[0].LinkIndex
		}
		if idx == 0 {
			continue
		}
		if bestPrio < 0 || r.Priority < bestPrio {
			best, bestPrio = idx, r.Priority
		}
	}
	return best, nil
}

func addresses(link netlink.Link) []string {
	addrs, err := netlinksafe.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if a.IP.IsGlobalUnicast() {
			out = append(out, a.IPNet.String())
		}
	}
	sort.Strings(out)
	return out
}

// Interface is one node interface.
type Interface struct {
	Name, MAC, Driver, PCIAddress, State string
	MTU                                  int
}

// Interfaces lists the node's device-backed interfaces (those with a /sys/class/net/X/device)
// plus the uplink; virtual links (veths of pods, bridges) are left out.
func Interfaces(sysRoot, uplink string) ([]Interface, error) {
	links, err := netlinksafe.LinkList()
	if err != nil {
		return nil, fmt.Errorf("failed to list links: %w", err)
	}
	var out []Interface
	for _, l := range links {
		a := l.Attrs()
		dev := filepath.Join(sysRoot, "class/net", a.Name, "device")
		_, statErr := os.Stat(dev)
		if statErr != nil && a.Name != uplink {
			continue
		}
		it := Interface{Name: a.Name, MAC: a.HardwareAddr.String(), MTU: a.MTU, State: a.OperState.String()}
		if statErr == nil {
			if target, err := filepath.EvalSymlinks(dev); err == nil {
				it.PCIAddress = pciAddress(filepath.Base(target))
			}
			if drv, err := filepath.EvalSymlinks(filepath.Join(dev, "driver")); err == nil {
				it.Driver = filepath.Base(drv)
			}
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// pciAddress returns s when it looks like a PCI address (dddd:bb:dd.f).
func pciAddress(s string) string {
	if len(s) == 12 && s[4] == ':' && s[7] == ':' && s[10] == '.' {
		return s
	}
	return ""
}

// masterPlugins are the plugin types whose "master" defaults to the default-route interface.
var masterPlugins = map[string]bool{"macvlan": true, "ipvlan": true}

// SubstituteMaster sets "master" to uplink in every macvlan/ipvlan plugin of a configuration
// (or configuration list) that names none. It returns the configuration unchanged, byte for
// byte, when there is nothing to substitute.
func SubstituteMaster(conf []byte, uplink string) ([]byte, bool) {
	if uplink == "" {
		return conf, false
	}
	raw := map[string]any{}
	if json.Unmarshal(conf, &raw) != nil {
		return conf, false
	}
	changed := false
	fix := func(p map[string]any) {
		t, _ := p["type"].(string)
		if !masterPlugins[t] {
			return
		}
		if m, _ := p["master"].(string); m == "" {
			p["master"] = uplink
			changed = true
		}
	}
	if plugins, ok := raw["plugins"].([]any); ok {
		for _, p := range plugins {
			if m, ok := p.(map[string]any); ok {
				fix(m)
			}
		}
	} else {
		fix(raw)
	}
	if !changed {
		return conf, false
	}
	out, err := json.Marshal(raw)
	if err != nil {
		return conf, false
	}
	return out, true
}
