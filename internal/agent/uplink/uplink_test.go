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
	"net"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"

	"github.com/plexus-net/plexus/internal/testenv"
)

func requireRoot(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t, "uplink tests use network namespaces")
}

// inNetns runs f in a fresh network namespace holding a veth pair up0/peer0.
func inNetns(t *testing.T, f func() error) {
	t.Helper()
	g := NewWithT(t)
	netns, err := testutils.NewNS()
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = netns.Close(); _ = testutils.UnmountNS(netns) }()
	g.Expect(netns.Do(func(ns.NetNS) error {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "up0"}, PeerName: "peer0"}
		if err := netlink.LinkAdd(veth); err != nil {
			return err
		}
		for _, n := range []string{"lo", "up0", "peer0"} {
			l, err := netlink.LinkByName(n)
			if err != nil {
				return err
			}
			if err := netlink.LinkSetUp(l); err != nil {
				return err
			}
		}
		return f()
	})).To(Succeed())
}

func addAddr(name, cidr string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	a.Flags |= 0x80 // IFA_F_NODAD: usable at once
	return netlink.AddrAdd(l, a)
}

func addDefault(name, gw string, metric int) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	return netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.ParseIP(gw), Priority: metric})
}

func TestDetectIPv4DefaultRoute(t *testing.T) {
	requireRoot(t)
	inNetns(t, func() error {
		g := NewWithT(t)
		_, err := Detect()
		g.Expect(err).To(MatchError(ErrNoDefaultRoute))
		g.Expect(addAddr("up0", "10.9.0.2/24")).To(Succeed())
		g.Expect(addAddr("peer0", "10.8.0.2/24")).To(Succeed())
		g.Expect(addDefault("peer0", "10.8.0.1", 200)).To(Succeed())
		g.Expect(addDefault("up0", "10.9.0.1", 100)).To(Succeed())
		up, err := Detect()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(up.Name).To(Equal("up0"), "the lowest metric wins")
		g.Expect(up.Addresses).To(ContainElement("10.9.0.2/24"))

		ifs, err := Interfaces("/sys", up.Name)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(ifs).To(ContainElement(HaveField("Name", "up0")), "the uplink is always listed")
		g.Expect(ifs).NotTo(ContainElement(HaveField("Name", "lo")))
		return nil
	})
}

func TestDetectIPv6DefaultRoute(t *testing.T) {
	requireRoot(t)
	inNetns(t, func() error {
		g := NewWithT(t)
		g.Expect(addAddr("up0", "fd00:9::2/64")).To(Succeed())
		g.Expect(addDefault("up0", "fd00:9::1", 0)).To(Succeed())
		up, err := Detect()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(up.Name).To(Equal("up0"))
		g.Expect(up.Addresses).To(ContainElement("fd00:9::2/64"))
		return nil
	})
}

func TestSubstituteMaster(t *testing.T) {
	g := NewWithT(t)
	single := []byte(`{"cniVersion":"1.0.0","name":"m","type":"macvlan","mode":"bridge"}`)
	out, changed := SubstituteMaster(single, "eth1")
	g.Expect(changed).To(BeTrue())
	var m map[string]any
	g.Expect(json.Unmarshal(out, &m)).To(Succeed())
	g.Expect(m).To(HaveKeyWithValue("master", "eth1"))

	named := []byte(`{"cniVersion":"1.0.0","name":"m","type":"ipvlan","master":"bond0"}`)
	out, changed = SubstituteMaster(named, "eth1")
	g.Expect(changed).To(BeFalse())
	g.Expect(out).To(Equal(named), "an explicit master is kept byte for byte")

	list := []byte(`{"cniVersion":"1.0.0","name":"l","plugins":[{"type":"ipvlan"},{"type":"tuning"}]}`)
	out, changed = SubstituteMaster(list, "eth1")
	g.Expect(changed).To(BeTrue())
	g.Expect(string(out)).To(ContainSubstring(`"master":"eth1"`))
	g.Expect(string(out)).To(ContainSubstring(`"type":"tuning"`))

	bridge := []byte(`{"cniVersion":"1.0.0","name":"b","type":"bridge"}`)
	_, changed = SubstituteMaster(bridge, "eth1")
	g.Expect(changed).To(BeFalse())
	_, changed = SubstituteMaster(single, "")
	g.Expect(changed).To(BeFalse(), "no uplink detected: the plugin picks its own default")
}
