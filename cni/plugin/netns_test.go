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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/netattach"

	// The reference plugins are built from the module in go.mod (refPlugins); these
	// imports keep their dependencies in go.sum when go mod tidy runs.
	_ "github.com/containernetworking/plugins/pkg/ip"
	_ "github.com/containernetworking/plugins/pkg/link"
	_ "github.com/containernetworking/plugins/pkg/utils"
	_ "github.com/containernetworking/plugins/plugins/ipam/host-local/backend/disk"
	_ "github.com/mattn/go-shellwords"

	"github.com/plexus-net/plexus/internal/testenv"
)

// requireRoot skips (or, in CI, fails) a test that needs root and netns.
func requireRoot(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t, "network namespaces and links")
}

var refPluginNames = []string{
	"main/bridge", "main/macvlan", "main/host-device", "main/ptp",
	"ipam/host-local", "ipam/static", "meta/tuning", "meta/bandwidth", "meta/portmap",
}

var (
	refOnce sync.Once
	refDir  string
	refErr  error
)

// refPlugins builds the reference CNI plugins of the containernetworking/plugins
// version in go.mod, once per test binary, into a temporary directory.
func refPlugins(t *testing.T) string {
	t.Helper()
	refOnce.Do(func() {
		refDir, refErr = os.MkdirTemp("", "plexus-refplugins-")
		if refErr != nil {
			return
		}
		args := []string{"build", "-o", refDir + "/"}
		for _, n := range refPluginNames {
			args = append(args, "github.com/containernetworking/plugins/plugins/"+n)
		}
		cmd := exec.Command("go", args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			refErr = fmt.Errorf("go build of the reference plugins failed: %w\n%s", err, out.String())
		}
	})
	if refErr != nil {
		t.Fatal(refErr)
	}
	return refDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if refDir != "" {
		_ = os.RemoveAll(refDir)
	}
	os.Exit(code)
}

// netnsEnv is one real-netns scenario: a "host" netns standing in for the node (with
// veth uplinks the test creates) and a pod netns.
type netnsEnv struct {
	t        *testing.T
	version  string
	dir      string
	hostNS   ns.NetNS
	podNS    ns.NetNS
	source   *fakeSource
	sink     *fakeSink
	plugin   *Plugin
	conf     map[string]any
	stderr   *bytes.Buffer
	ipamDirs []string
}

func newNetnsEnv(t *testing.T, version string) *netnsEnv {
	t.Helper()
	requireRoot(t)
	bin := refPlugins(t)
	e := &netnsEnv{t: t, version: version, dir: t.TempDir(), sink: &fakeSink{}, stderr: &bytes.Buffer{},
		source: &fakeSource{pods: map[string]*resolve.Pod{}, nads: map[string]*netattach.NetworkAttachmentDefinition{}}}
	var err error
	if e.hostNS, err = testutils.NewNS(); err != nil {
		t.Fatalf("failed to create the host netns: %v", err)
	}
	t.Cleanup(func() { _ = e.hostNS.Close(); _ = testutils.UnmountNS(e.hostNS) })
	if e.podNS, err = testutils.NewNS(); err != nil {
		t.Fatalf("failed to create the pod netns: %v", err)
	}
	t.Cleanup(func() { _ = e.podNS.Close(); _ = testutils.UnmountNS(e.podNS) })
	// Uplinks: veth pairs inside the host netns only.
	err = e.hostNS.Do(func(ns.NetNS) error {
		for _, name := range []string{"uplink0", "hd0"} {
			veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}
			if err := netlink.LinkAdd(veth); err != nil {
				return fmt.Errorf("failed to add veth %s: %w", name, err)
			}
			for _, n := range []string{name, name + "p"} {
				l, err := netlinksafe.LinkByName(n)
				if err != nil {
					return err
				}
				if err := netlink.LinkSetUp(l); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	clusterConf := filepath.Join(e.dir, "10-cluster.conflist")
	e.writeJSON(clusterConf, map[string]any{"cniVersion": version, "name": "cluster", "plugins": []any{
		map[string]any{"type": "bridge", "bridge": "cl0", "isGateway": true, "ipam": e.hostLocal("10.88.0.0/24", true)},
	}})
	e.conf = map[string]any{"cniVersion": version, "name": "plexus", "type": "plexus-cni", "clusterNetwork": clusterConf,
		"cniDir": filepath.Join(e.dir, "cache"), "binDir": bin, "confDir": filepath.Join(e.dir, "nads"),
		"deviceInfoDir": filepath.Join(e.dir, "devinfo"), "logLevel": "debug"}
	e.plugin = &Plugin{Stdout: &bytes.Buffer{}, Stderr: e.stderr,
		NewResolver: func(_ context.Context, conf *NetConf) (api.Resolver, api.StatusSink, error) {
			return &resolve.Resolver{Source: e.source, Opts: conf.ResolveOptions()}, e.sink, nil
		}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin log:\n%s", e.stderr)
		}
	})
	return e
}

func (e *netnsEnv) writeJSON(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *netnsEnv) hostLocal(subnet string, defaultRoute bool) map[string]any {
	dir := filepath.Join(e.dir, "ipam", strings.NewReplacer("/", "_", ".", "_").Replace(subnet))
	e.ipamDirs = append(e.ipamDirs, dir)
	ipam := map[string]any{"type": "host-local", "subnet": subnet, "dataDir": dir}
	if defaultRoute {
		ipam["routes"] = []any{map[string]any{"dst": "0.0.0.0/0"}}
	}
	return ipam
}

func (e *netnsEnv) nad(name string, conf map[string]any) {
	conf["cniVersion"] = e.version
	b, err := json.Marshal(conf)
	if err != nil {
		e.t.Fatal(err)
	}
	e.source.nads["ns1/"+name] = &netattach.NetworkAttachmentDefinition{Namespace: "ns1", Name: name, Config: string(b)}
}

func (e *netnsEnv) args(containerID string) *skel.CmdArgs {
	stdin, err := json.Marshal(e.conf)
	if err != nil {
		e.t.Fatal(err)
	}
	return &skel.CmdArgs{ContainerID: containerID, Netns: e.podNS.Path(), IfName: "eth0", StdinData: stdin,
		Args: "K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod;K8S_POD_INFRA_CONTAINER_ID=" + containerID + ";K8S_POD_UID=uid-1"}
}

// run calls a plexus command from inside the host netns, as the runtime would on a node.
func (e *netnsEnv) run(f func(*skel.CmdArgs) error, containerID string) error {
	var cmdErr error
	if err := e.hostNS.Do(func(ns.NetNS) error {
		cmdErr = f(e.args(containerID))
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return cmdErr
}

// podLinks lists the pod's links (lo excluded) with their IPv4 addresses.
func (e *netnsEnv) podLinks() map[string][]string {
	out := map[string][]string{}
	err := e.podNS.Do(func(ns.NetNS) error {
		links, err := netlinksafe.LinkList()
		if err != nil {
			return err
		}
		for _, l := range links {
			if l.Attrs().Name == "lo" {
				continue
			}
			addrs, err := netlinksafe.AddrList(l, netlink.FAMILY_V4)
			if err != nil {
				return err
			}
			out[l.Attrs().Name] = []string{}
			for _, a := range addrs {
				out[l.Attrs().Name] = append(out[l.Attrs().Name], a.IPNet.String())
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// defaultRoutes lists the pod's IPv4 default routes as "gw dev".
func (e *netnsEnv) defaultRoutes() []string {
	var out []string
	err := e.podNS.Do(func(ns.NetNS) error {
		routes, err := netlinksafe.RouteList(nil, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if !isDefault(r.Dst) {
				continue
			}
			l, err := netlink.LinkByIndex(r.LinkIndex)
			if err != nil {
				return err
			}
			out = append(out, r.Gw.String()+" "+l.Attrs().Name)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// reservations returns the host-local reservations held by containerID.
func (e *netnsEnv) reservations(containerID string) []string {
	var out []string
	for _, d := range e.ipamDirs {
		_ = filepath.Walk(d, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return nil //nolint:nilerr // a missing dir holds no reservation
			}
			b, _ := os.ReadFile(path)
			if strings.Contains(string(b), containerID) {
				out = append(out, path)
			}
			return nil
		})
	}
	return out
}

func (e *netnsEnv) hostHasLink(name string) bool {
	found := false
	_ = e.hostNS.Do(func(ns.NetNS) error {
		_, err := netlinksafe.LinkByName(name)
		found = err == nil
		return nil
	})
	return found
}

// tcpReachable listens on addr in the host netns and connects to it from the pod.
func (e *netnsEnv) tcpReachable(addr string) error {
	var ln net.Listener
	if err := e.hostNS.Do(func(ns.NetNS) error {
		var err error
		ln, err = net.Listen("tcp4", addr)
		return err
	}); err != nil {
		return fmt.Errorf("listen in the host netns: %w", err)
	}
	defer ln.Close()
	return e.podNS.Do(func(ns.NetNS) error {
		c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
		if err != nil {
			return fmt.Errorf("connect from the pod: %w", err)
		}
		return c.Close()
	})
}

func (e *netnsEnv) standardNADs() {
	e.nad("mv", map[string]any{"plugins": []any{
		map[string]any{"type": "macvlan", "master": "uplink0", "mode": "bridge", "ipam": e.hostLocal("10.10.0.0/24", false)},
		map[string]any{"type": "tuning", "sysctl": map[string]any{"net.ipv4.conf.IFNAME.arp_filter": "1"}},
	}})
	e.nad("hd", map[string]any{"type": "host-device", "device": "hd0", "capabilities": map[string]any{"ips": true},
		"ipam": map[string]any{"type": "static"}})
	e.nad("br", map[string]any{"type": "bridge", "bridge": "br1", "isGateway": true, "ipam": e.hostLocal("10.20.0.0/24", false)})
}

func TestNetnsMultiAttachment(t *testing.T) {
	for _, v := range []string{"0.3.1", "0.4.0", "1.0.0", "1.1.0"} {
		t.Run(v, func(t *testing.T) {
			g := NewWithT(t)
			e := newNetnsEnv(t, v)
			e.standardNADs()
			e.source.pods["ns1/pod"] = &resolve.Pod{Namespace: "ns1", Name: "pod", UID: "uid-1", Annotations: map[string]string{
				netattach.NetworksAnnotation: `[{"name":"mv"},{"name":"hd","interface":"hostdev","ips":["10.30.0.5/24"]},{"name":"br","default-route":["10.20.0.1"]}]`}}

			g.Expect(e.run(e.plugin.CmdAdd, "ctr1")).To(Succeed())
			links := e.podLinks()
			g.Expect(links).To(HaveLen(4))
			g.Expect(links["eth0"]).To(ConsistOf(HavePrefix("10.88.0.")))
			g.Expect(links["net1"]).To(ConsistOf(HavePrefix("10.10.0.")))
			g.Expect(links["hostdev"]).To(ConsistOf("10.30.0.5/24"))
			g.Expect(links["net3"]).To(ConsistOf(HavePrefix("10.20.0.")))
			g.Expect(e.hostHasLink("hd0")).To(BeFalse(), "host-device moved hd0 into the pod")
			// default-route: the cluster network's default route is replaced by the requested one.
			g.Expect(e.defaultRoutes()).To(ConsistOf("10.20.0.1 net3"))
			// Traffic stays inside the test's namespaces: pod -> br1 gateway in the host netns.
			g.Expect(e.tcpReachable("10.20.0.1:7777")).To(Succeed())
			g.Expect(e.reservations("ctr1")).To(HaveLen(3))
			st := e.sink.status()
			g.Expect(st).To(HaveLen(4))
			g.Expect(st[0].Name).To(Equal("cluster"))
			g.Expect(st[0].Default).To(BeTrue())
			g.Expect(st[0].Gateway).To(BeEmpty())
			g.Expect(st[3].Name).To(Equal("ns1/br"))
			g.Expect(st[3].Gateway).To(Equal([]string{"10.20.0.1"}))
			g.Expect(st[2].IPs).To(Equal([]string{"10.30.0.5"}))

			if testutils.SpecVersionHasCHECK(v) {
				// CHECK passes against the rewritten cached results (routes included).
				g.Expect(e.run(e.plugin.CmdCheck, "ctr1")).To(Succeed())
			}
			if testutils.SpecVersionHasSTATUS(v) {
				g.Expect(e.run(e.plugin.CmdStatus, "")).To(Succeed())
			}

			// DEL with the API down and the NADs deleted: everything is freed from the cache.
			e.source.down = true
			e.source.nads = map[string]*netattach.NetworkAttachmentDefinition{}
			g.Expect(e.run(e.plugin.CmdDel, "ctr1")).To(Succeed())
			g.Expect(e.podLinks()).To(BeEmpty())
			g.Expect(e.reservations("ctr1")).To(BeEmpty())
			g.Expect(e.hostHasLink("hd0")).To(BeTrue(), "host-device returned hd0 to the host")
			// DEL is idempotent.
			g.Expect(e.run(e.plugin.CmdDel, "ctr1")).To(Succeed())
		})
	}
}

// TestNetnsDelAfterNetnsGone: the runtime may call DEL after the sandbox's netns is
// gone; that is not an error and the addresses are still freed.
func TestNetnsDelAfterNetnsGone(t *testing.T) {
	g := NewWithT(t)
	e := newNetnsEnv(t, "1.0.0")
	e.standardNADs()
	e.source.pods["ns1/pod"] = &resolve.Pod{Namespace: "ns1", Name: "pod", UID: "uid-1", Annotations: map[string]string{
		netattach.NetworksAnnotation: "mv,br"}}
	g.Expect(e.run(e.plugin.CmdAdd, "ctr3")).To(Succeed())
	g.Expect(e.reservations("ctr3")).To(HaveLen(3))
	path := e.podNS.Path()
	g.Expect(e.podNS.Close()).To(Succeed())
	g.Expect(testutils.UnmountNS(e.podNS)).To(Succeed())
	_, err := os.Stat(path)
	g.Expect(os.IsNotExist(err)).To(BeTrue())
	g.Expect(e.run(e.plugin.CmdDel, "ctr3")).To(Succeed())
	g.Expect(e.reservations("ctr3")).To(BeEmpty())
}

func TestNetnsRollback(t *testing.T) {
	for _, v := range []string{"0.3.1", "0.4.0", "1.0.0", "1.1.0"} {
		t.Run(v, func(t *testing.T) {
			g := NewWithT(t)
			e := newNetnsEnv(t, v)
			e.standardNADs()
			// tuning fails after macvlan and host-local succeeded in the same list.
			e.nad("mvbad", map[string]any{"plugins": []any{
				map[string]any{"type": "macvlan", "master": "uplink0", "mode": "bridge", "ipam": e.hostLocal("10.40.0.0/24", false)},
				map[string]any{"type": "tuning", "sysctl": map[string]any{"net.ipv4.conf.IFNAME.no_such_knob": "1"}},
			}})
			e.source.pods["ns1/pod"] = &resolve.Pod{Namespace: "ns1", Name: "pod", UID: "uid-1", Annotations: map[string]string{
				netattach.NetworksAnnotation: `mv,mvbad,br`}}
			err := e.run(e.plugin.CmdAdd, "ctr2")
			g.Expect(err).To(HaveOccurred())
			var te *types.Error
			g.Expect(errors.As(err, &te)).To(BeTrue(), "the delegate's typed error is preserved: %v", err)
			g.Expect(err.Error()).To(ContainSubstring("no_such_knob"))
			g.Expect(e.podLinks()).To(BeEmpty(), "rollback leaves no link in the pod")
			g.Expect(e.reservations("ctr2")).To(BeEmpty(), "rollback leaves no host-local reservation")
			g.Expect(e.hostHasLink("hd0")).To(BeTrue())
			_, cacheErr := loadCache(filepath.Join(e.dir, "cache"), "ctr2")
			g.Expect(errors.Is(cacheErr, errNoCache)).To(BeTrue())
		})
	}
}

func TestNetnsGC(t *testing.T) {
	g := NewWithT(t)
	e := newNetnsEnv(t, "1.1.0")
	e.standardNADs()
	e.source.pods["ns1/pod"] = &resolve.Pod{Namespace: "ns1", Name: "pod", UID: "uid-1", Annotations: map[string]string{
		netattach.NetworksAnnotation: "br"}}
	g.Expect(e.run(e.plugin.CmdAdd, "keep")).To(Succeed())
	// A second sandbox the runtime no longer knows about (say it lost its state).
	e.conf["cni.dev/valid-attachments"] = []any{map[string]any{"containerID": "keep", "ifname": "eth0"}}
	other, err := testutils.NewNS()
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = other.Close(); _ = testutils.UnmountNS(other) }()
	podNS := e.podNS
	e.podNS = other
	g.Expect(e.run(e.plugin.CmdAdd, "stale")).To(Succeed())
	g.Expect(e.reservations("stale")).To(HaveLen(2))
	e.podNS = podNS
	g.Expect(e.run(e.plugin.CmdGC, "")).To(Succeed())
	g.Expect(e.reservations("stale")).To(BeEmpty(), "GC released the stale sandbox's addresses")
	g.Expect(e.reservations("keep")).To(HaveLen(2))
}
