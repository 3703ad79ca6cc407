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

package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// RouteChange is the default-route work on one pod interface.
type RouteChange struct {
	// IfName is the interface inside the pod.
	IfName string
	// Families lists the IP families (netlink.FAMILY_V4/V6) whose default routes via
	// IfName are deleted.
	Families []int
	// Gateways are added as default routes via IfName after the deletion.
	Gateways []net.IP
}

// planDefaultRoutes implements default-route (spec §4.1.2.1.9): when one attachment
// asks for gateways, every other interface loses its default route of those families
// (the cluster network's included) and the requester gets exactly the requested ones.
// An absent or empty default-route changes nothing (unlike Multus, issue #1011).
func planDefaultRoutes(ds []*delegate) []RouteChange {
	var claimer *delegate
	for _, d := range ds {
		if d.ClaimsDefaultRoute && len(d.GatewayRequest) > 0 {
			claimer = d
			break
		}
	}
	if claimer == nil {
		return nil
	}
	var fams []int
	var gws []net.IP
	for _, g := range claimer.GatewayRequest {
		ip := net.ParseIP(g)
		if ip == nil {
			continue // validated by the parser
		}
		gws = append(gws, ip)
		fams = append(fams, family(ip))
	}
	plan := make([]RouteChange, 0, len(ds))
	for _, d := range ds {
		c := RouteChange{IfName: d.IfName, Families: fams}
		if d == claimer {
			c.Gateways = gws
		}
		plan = append(plan, c)
	}
	return plan
}

func family(ip net.IP) int {
	if ip.To4() != nil {
		return netlink.FAMILY_V4
	}
	return netlink.FAMILY_V6
}

func defaultDst(fam int) *net.IPNet {
	if fam == netlink.FAMILY_V4 {
		return &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
	}
	return &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
}

func isDefault(dst *net.IPNet) bool {
	if dst == nil {
		return true
	}
	ones, _ := dst.Mask.Size()
	return ones == 0 && dst.IP.IsUnspecified()
}

// applyDefaultRoutes changes the routes inside the pod's netns.
func applyDefaultRoutes(netnsPath string, plan []RouteChange) error {
	return ns.WithNetNSPath(netnsPath, func(_ ns.NetNS) error {
		for _, c := range plan {
			link, err := netlinksafe.LinkByName(c.IfName)
			if err != nil {
				if len(c.Gateways) == 0 {
					continue // a delegate that made no interface has no default route to drop
				}
				return fmt.Errorf("failed to find interface %s: %w", c.IfName, err)
			}
			for _, fam := range c.Families {
				routes, err := netlinksafe.RouteListFiltered(fam, &netlink.Route{LinkIndex: link.Attrs().Index}, netlink.RT_FILTER_OIF)
				if err != nil {
					return fmt.Errorf("failed to list routes of %s: %w", c.IfName, err)
				}
				for i := range routes {
					if !isDefault(routes[i].Dst) {
						continue
					}
					if err := netlink.RouteDel(&routes[i]); err != nil {
						return fmt.Errorf("failed to delete default route via %s: %w", c.IfName, err)
					}
				}
			}
			for _, gw := range c.Gateways {
				r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: defaultDst(family(gw)), Gw: gw}
				if err := netlink.RouteAdd(r); err != nil {
					return fmt.Errorf("failed to add default route via %s dev %s: %w", gw, c.IfName, err)
				}
			}
		}
		return nil
	})
}

// rewriteResult applies a route change to a result (converted to the 1.0.0 form).
func rewriteResult(res types.Result, c RouteChange) (*types100.Result, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("failed to convert result: %w", err)
	}
	drop := map[int]bool{}
	for _, f := range c.Families {
		drop[f] = true
	}
	kept := r.Routes[:0]
	for _, rt := range r.Routes {
		if rt != nil && isDefault(&rt.Dst) && drop[dstFamily(rt)] {
			continue
		}
		kept = append(kept, rt)
	}
	r.Routes = kept
	for _, gw := range c.Gateways {
		r.Routes = append(r.Routes, &types.Route{Dst: *defaultDst(family(gw)), GW: gw})
	}
	return r, nil
}

func dstFamily(r *types.Route) int {
	if r.Dst.IP != nil && r.Dst.IP.To4() == nil {
		return netlink.FAMILY_V6
	}
	if r.Dst.IP == nil && r.GW != nil {
		return family(r.GW)
	}
	return netlink.FAMILY_V4
}

// rewriteCachedResult replaces the result libcni cached for an attachment so CHECK
// compares against the routes actually installed.
func rewriteCachedResult(cniDir, netName, containerID, ifName string, res *types100.Result, cniVersion string) error {
	path := filepath.Join(cniDir, "results", fmt.Sprintf("%s-%s-%s", netName, containerID, ifName))
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read cached result: %w", err)
	}
	var cached map[string]json.RawMessage
	if err := json.Unmarshal(b, &cached); err != nil {
		return fmt.Errorf("failed to parse cached result %s: %w", path, err)
	}
	conv, err := res.GetAsVersion(cniVersion)
	if err != nil {
		return fmt.Errorf("failed to convert result to %s: %w", cniVersion, err)
	}
	rb, err := json.Marshal(conv)
	if err != nil {
		return fmt.Errorf("failed to marshal result: %w", err)
	}
	cached["result"] = rb
	out, err := json.Marshal(cached)
	if err != nil {
		return fmt.Errorf("failed to marshal cached result: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return fmt.Errorf("failed to write cached result: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("failed to install cached result: %w", err)
	}
	return nil
}
