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
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/netattach"
)

const (
	macvlanTuning = `{"cniVersion":"1.0.0","plugins":[
		{"type":"macvlan","master":"eth9","capabilities":{"ips":true,"mac":true},"args":{"cni":{"fromNAD":"nad","both":"nad"}},"ipam":{"type":"static"}},
		{"type":"tuning","capabilities":{"mac":true}}]}`
	bridgeConf = `{"cniVersion":"0.4.0","type":"bridge","bridge":"br9","ipam":{"type":"host-local","subnet":"10.9.0.0/24"}}`
)

// stdinAt returns the delegate stdin a call received.
func stdinAt(g *WithT, e *env, cmd, typ, ifName string) map[string]any {
	c := e.exec.find(cmd, typ, ifName)
	g.Expect(c).NotTo(BeNil(), "no %s of %s for %s", cmd, typ, ifName)
	return c.Stdin
}

func TestAddDelegatesInOrder(t *testing.T) {
	g := NewWithT(t)
	for _, v := range []string{"0.3.1", "0.4.0", "1.0.0", "1.1.0"} {
		t.Run(v, func(t *testing.T) {
			g = NewWithT(t)
			e := newEnv(t, v)
			e.addNAD("ns1", "mv", macvlanTuning, nil)
			e.addNAD("other", "br", bridgeConf, nil)
			e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: `[
				{"name":"mv","interface":"data0","ips":["10.1.1.5/24"],"cni-args":{"both":"annotation","extra":true}},
				{"name":"br","namespace":"other"},
				{"name":"mv"}]`})
			g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())

			// Order: cluster (both plugins), then each attachment; explicit names consume an index.
			g.Expect(e.exec.summary("ADD")).To(Equal([]string{
				"ADD ptp eth0", "ADD portmap eth0",
				"ADD macvlan data0", "ADD tuning data0",
				"ADD bridge net2",
				"ADD macvlan net3", "ADD tuning net3",
			}))
			// CNI_ARGS: the runtime's K8S_POD_* plus IgnoreUnknown, for every delegate.
			for _, c := range e.exec.calls {
				g.Expect(c.Args).To(ContainSubstring("IgnoreUnknown=true"))
				g.Expect(c.Args).To(ContainSubstring("K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod;K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=uid-1"))
				g.Expect(c.NetNS).To(Equal("/var/run/netns/c1"))
			}
			// The runtime's runtimeConfig goes to the cluster network only (spec §7.5),
			// and only to plugins declaring the capability.
			g.Expect(stdinAt(g, e, "ADD", "ptp", "eth0")).To(HaveKeyWithValue("runtimeConfig",
				HaveKeyWithValue("portMappings", HaveLen(1))))
			g.Expect(stdinAt(g, e, "ADD", "ptp", "eth0")["runtimeConfig"]).NotTo(HaveKey("bandwidth"))
			for _, c := range e.exec.calls {
				if c.IfName != "eth0" {
					rc, _ := c.Stdin["runtimeConfig"].(map[string]any)
					g.Expect(rc).NotTo(HaveKey("portMappings"), "%s %s got the runtime's portMappings", c.Type, c.IfName)
					g.Expect(rc).NotTo(HaveKey("bandwidth"))
				}
			}
			// Capability args: ips to macvlan (declares it), not to tuning (does not).
			mv := stdinAt(g, e, "ADD", "macvlan", "data0")
			g.Expect(mv["runtimeConfig"]).To(Equal(map[string]any{"ips": []any{"10.1.1.5/24"}}))
			g.Expect(stdinAt(g, e, "ADD", "tuning", "data0")).NotTo(HaveKey("runtimeConfig"))
			// cni-args merged into args.cni, the annotation winning, on every plugin.
			g.Expect(mv["args"]).To(Equal(map[string]any{"cni": map[string]any{"fromNAD": "nad", "both": "annotation", "extra": true}}))
			g.Expect(stdinAt(g, e, "ADD", "tuning", "data0")["args"]).To(Equal(map[string]any{"cni": map[string]any{"both": "annotation", "extra": true}}))
			// The second use of the same NAD has no cni-args and no ips.
			g.Expect(stdinAt(g, e, "ADD", "macvlan", "net3")["args"]).To(Equal(map[string]any{"cni": map[string]any{"fromNAD": "nad", "both": "nad"}}))
			g.Expect(stdinAt(g, e, "ADD", "macvlan", "net3")).NotTo(HaveKey("runtimeConfig"))
			// Name injection: the NAD configs had no name.
			g.Expect(stdinAt(g, e, "ADD", "bridge", "net2")).To(HaveKeyWithValue("name", "br"))

			// The result printed is the cluster network's, in the requested version.
			res, err := types100.NewResult(e.stdout.Bytes())
			if v == "0.3.1" || v == "0.4.0" {
				g.Expect(e.stdout.String()).To(ContainSubstring(`"cniVersion": "` + v + `"`))
			} else {
				g.Expect(err).NotTo(HaveOccurred())
				r := res.(*types100.Result)
				g.Expect(r.CNIVersion).To(Equal(v))
				g.Expect(r.Interfaces).To(HaveLen(1))
				g.Expect(r.Interfaces[0].Name).To(Equal("eth0"))
			}

			// Status: one entry per attachment, names ns/nad, cluster default.
			st := e.sink.status()
			g.Expect(st).To(HaveLen(4))
			g.Expect([]string{st[0].Name, st[1].Name, st[2].Name, st[3].Name}).To(Equal([]string{"cluster", "ns1/mv", "other/br", "ns1/mv"}))
			g.Expect([]string{st[0].Interface, st[1].Interface, st[2].Interface, st[3].Interface}).To(Equal([]string{"eth0", "data0", "net2", "net3"}))
			g.Expect(st[0].Default).To(BeTrue())
			g.Expect(st[1].Default || st[2].Default || st[3].Default).To(BeFalse())
			ev := e.sink.events()
			g.Expect(ev).To(HaveLen(4))
			g.Expect(ev[1]).To(Equal(api.Event{Type: "Normal", Reason: "AddedInterface", Message: "Add data0 [10.3.0.5/24] from ns1/mv"}))
			g.Expect(e.cacheExists("c1")).To(BeTrue())

			// CHECK goes to every delegate that supports it; DEL in reverse.
			g.Expect(e.plugin.CmdCheck(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
			if v == "0.3.1" {
				g.Expect(e.exec.summary("CHECK")).To(Equal([]string{"CHECK macvlan data0", "CHECK tuning data0", "CHECK bridge net2", "CHECK macvlan net3", "CHECK tuning net3"}))
			} else {
				g.Expect(e.exec.summary("CHECK")).To(HaveLen(7))
			}
			g.Expect(e.plugin.CmdDel(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
			g.Expect(e.exec.summary("DEL")).To(Equal([]string{
				"DEL tuning net3", "DEL macvlan net3", "DEL bridge net2", "DEL tuning data0", "DEL macvlan data0", "DEL portmap eth0", "DEL ptp eth0",
			}))
			g.Expect(e.cacheExists("c1")).To(BeFalse())
		})
	}
}

func TestAddRollbackReturnsOriginalError(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.addNAD("ns1", "mv", macvlanTuning, nil)
	e.addNAD("ns1", "br", bridgeConf, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: "mv,br,mv"})
	orig := types.NewError(types.ErrInvalidNetworkConfig, "bridge exploded", "details")
	e.exec.fail["ADD bridge net2"] = orig

	err := e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))
	g.Expect(err).To(HaveOccurred())
	var te *types.Error
	g.Expect(errors.As(err, &te)).To(BeTrue())
	g.Expect(te).To(BeIdenticalTo(orig))
	g.Expect(err.Error()).To(ContainSubstring("ns1/br (net2)"))
	// Nothing after the failure ran; everything up to it (the failed one included) was deleted in reverse.
	g.Expect(e.exec.summary("")).To(Equal([]string{
		"ADD ptp eth0", "ADD portmap eth0", "ADD macvlan net1", "ADD tuning net1", "ADD bridge net2",
		"DEL bridge net2", "DEL tuning net1", "DEL macvlan net1", "DEL portmap eth0", "DEL ptp eth0",
	}))
	g.Expect(e.cacheExists("c1")).To(BeFalse())
	g.Expect(e.stdout.Len()).To(BeZero())
	g.Expect(e.sink.status()).To(BeNil())
	g.Expect(e.sink.events()).To(ContainElement(HaveField("Reason", api.ReasonAddFailed)))
}

func TestRollbackFailureKeepsCacheForDel(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.addNAD("ns1", "br", bridgeConf, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: "br"})
	e.exec.fail["ADD bridge net1"] = types.NewError(11, "busy", "")
	e.exec.fail["DEL ptp eth0"] = errors.New("ptp DEL failed")
	g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).NotTo(Succeed())
	g.Expect(e.cacheExists("c1")).To(BeTrue())
	delete(e.exec.fail, "DEL ptp eth0")
	e.source.down = true
	g.Expect(e.plugin.CmdDel(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.cacheExists("c1")).To(BeFalse())
}

func TestCapabilityGating(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.addNAD("ns1", "br", bridgeConf, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: `[{"name":"br","ips":["10.9.0.7/24"],"mac":"02:00:00:00:00:09"}]`})
	err := e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))
	te := typedErr(err)
	g.Expect(te).NotTo(BeNil())
	g.Expect(te.Code).To(Equal(types.ErrInvalidNetworkConfig))
	g.Expect(te.Msg).To(ContainSubstring("ns1/br (net1): the pod requests ips, mac but no plugin in the configuration declares the capability"))
	g.Expect(e.exec.calls).To(BeEmpty())
	g.Expect(e.cacheExists("c1")).To(BeFalse())
	g.Expect(e.sink.events()).To(ConsistOf(HaveField("Reason", api.ReasonInvalidNetworkConfig)))
}

func TestResolutionFailures(t *testing.T) {
	cases := []struct {
		name       string
		annotation string
		isolation  bool
		code       uint
		reason     string
		msg        string
	}{
		{"bad annotation", `[{"name":"br","mac":"nope"}]`, false, types.ErrInvalidNetworkConfig, api.ReasonInvalidNetworkAnnotation,
			`k8s.v1.cni.cncf.io/networks[0].mac: invalid value "nope"`},
		{"missing NAD", "ns1/missing", false, types.ErrTryAgainLater, api.ReasonNoNetworkFound,
			"NetworkAttachmentDefinition ns1/missing: network attachment definition not found"},
		{"isolation", "other/br", true, types.ErrInvalidNetworkConfig, api.ReasonNetworkNotAllowed,
			"namespace isolation: pod ns1/pod may not use NetworkAttachmentDefinition other/br (allowed namespaces: ns1, default)"},
		{"invalid NAD config", "ns1/badconf", false, types.ErrInvalidNetworkConfig, api.ReasonInvalidNetworkConfig,
			`plugin "type" "../../bin/sh" must be a binary name`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t, "1.0.0")
			e.conf["namespaceIsolation"] = tc.isolation
			e.addNAD("other", "br", bridgeConf, nil)
			e.addNAD("ns1", "badconf", `{"cniVersion":"1.0.0","type":"../../bin/sh"}`, nil)
			e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: tc.annotation})
			te := typedErr(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1")))
			g.Expect(te).NotTo(BeNil())
			g.Expect(te.Code).To(Equal(tc.code))
			g.Expect(te.Msg).To(ContainSubstring(tc.msg))
			g.Expect(e.exec.calls).To(BeEmpty())
			ev := e.sink.events()
			g.Expect(ev).To(HaveLen(1))
			g.Expect(ev[0].Type).To(Equal("Warning"))
			g.Expect(ev[0].Reason).To(Equal(tc.reason))
			g.Expect(ev[0].Message).To(ContainSubstring(tc.msg))
		})
	}
}

func TestPodUIDMismatchAndNotFound(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.addPod("ns1", "pod", "uid-new", nil)
	te := typedErr(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-old")))
	g.Expect(te).NotTo(BeNil())
	g.Expect(te.Code).To(Equal(types.ErrTryAgainLater))
	g.Expect(te.Msg).To(ContainSubstring("has UID uid-new, the runtime asked for uid-old"))
	te = typedErr(e.plugin.CmdAdd(e.args("c2", "ns1", "gone", "uid-x")))
	g.Expect(te.Code).To(Equal(types.ErrTryAgainLater))
	// A static pod's mirror has another UID and is accepted.
	e.addPod("ns1", "static", "mirror-uid", map[string]string{"kubernetes.io/config.mirror": "x"})
	g.Expect(e.plugin.CmdAdd(e.args("c3", "ns1", "static", "kubelet-uid"))).To(Succeed())
}

func TestDelWithoutAPIAndIdempotent(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.1.0")
	e.addNAD("ns1", "br", bridgeConf, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: "br"})
	g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	// API down, NAD and pod gone: DEL works from the cache alone.
	e.source.down = true
	delete(e.source.nads, "ns1/br")
	delete(e.source.pods, "ns1/pod")
	g.Expect(e.plugin.CmdDel(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.exec.summary("DEL")).To(Equal([]string{"DEL bridge net1", "DEL portmap eth0", "DEL ptp eth0"}))
	// Again: no cache, no API: the cluster network (from its file) is still detached.
	g.Expect(e.plugin.CmdDel(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.exec.summary("DEL")[3:]).To(Equal([]string{"DEL portmap eth0", "DEL ptp eth0"}))
	g.Expect(e.stderr.String()).To(ContainSubstring("No usable delegate cache"))
}

func TestDelWithoutCacheResolves(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.addNAD("ns1", "br", bridgeConf, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: "br"})
	g.Expect(e.plugin.CmdDel(e.args("c9", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.exec.summary("DEL")).To(Equal([]string{"DEL bridge net1", "DEL portmap eth0", "DEL ptp eth0"}))
}

func TestDelAggregatesAndKeepsCache(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.addNAD("ns1", "br", bridgeConf, nil)
	e.addNAD("ns1", "mv", macvlanTuning, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: "br,mv"})
	g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	e.exec.fail["DEL bridge net1"] = types.NewError(types.ErrTryAgainLater, "bridge busy", "")
	e.exec.fail["DEL tuning net2"] = errors.New("tuning broke")
	err := e.plugin.CmdDel(e.args("c1", "ns1", "pod", "uid-1"))
	te := typedErr(err)
	g.Expect(te).NotTo(BeNil())
	g.Expect(te.Msg).To(Equal("plexus-cni: 2 delegates failed DEL"))
	g.Expect(te.Details).To(And(ContainSubstring("bridge busy"), ContainSubstring("tuning broke")))
	// Every delegate was attempted despite the failures (inside one configuration list
	// libcni stops at the first failing plugin, so macvlan after tuning is not called).
	g.Expect(e.exec.summary("DEL")).To(Equal([]string{"DEL tuning net2", "DEL bridge net1", "DEL portmap eth0", "DEL ptp eth0"}))
	g.Expect(e.cacheExists("c1")).To(BeTrue())
	e.exec.fail = map[string]error{}
	g.Expect(e.plugin.CmdDel(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.cacheExists("c1")).To(BeFalse())
}

func TestDefaultRoute(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.addNAD("ns1", "br", bridgeConf, nil)
	e.addNAD("ns1", "mv", macvlanTuning, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: `[{"name":"br","default-route":["10.9.0.1"]},{"name":"mv"}]`})
	g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.routes).To(HaveLen(1))
	plan := e.routes[0]
	g.Expect(plan).To(HaveLen(3))
	g.Expect(plan[0].IfName).To(Equal("eth0"))
	g.Expect(plan[0].Families).To(HaveLen(1))
	g.Expect(plan[0].Gateways).To(BeEmpty())
	g.Expect(plan[1].IfName).To(Equal("net1"))
	g.Expect(plan[1].Gateways).To(HaveLen(1))
	g.Expect(plan[1].Gateways[0].String()).To(Equal("10.9.0.1"))
	// The cluster result returned to the runtime has lost its default route.
	var res map[string]any
	g.Expect(json.Unmarshal(e.stdout.Bytes(), &res)).To(Succeed())
	g.Expect(res["routes"]).To(BeNil())
	st := e.sink.status()
	g.Expect(st[0].Gateway).To(BeEmpty())
	g.Expect(st[1].Gateway).To(Equal([]string{"10.9.0.1"}))

	// An empty default-route list changes nothing (Multus #1011).
	e2 := newEnv(t, "1.0.0")
	e2.addNAD("ns1", "br", bridgeConf, nil)
	e2.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: `[{"name":"br","default-route":[]}]`})
	g.Expect(e2.plugin.CmdAdd(e2.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e2.routes).To(BeEmpty())
	g.Expect(e2.sink.status()[0].Gateway).To(Equal([]string{"10.1.0.1"}))
}

func TestDeviceIDFromResource(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.devices["intel.com/sriov"] = []string{"0000:03:00.2", "0000:03:00.1"}
	sriov := `{"cniVersion":"1.0.0","type":"sriov","capabilities":{"deviceID":true,"CNIDeviceInfoFile":true}}`
	e.addNAD("ns1", "sr", sriov, map[string]string{netattach.ResourceNameAnnotation: "intel.com/sriov"})
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: "sr,sr"})
	// The device plugin's device-info for the first device is handed to the delegate.
	dp := netattach.DevicePluginDeviceInfoPath(filepath.Join(e.dir, "devinfo", "dp"), "intel.com/sriov", "0000:03:00.1")
	g.Expect(netattach.SaveDeviceInfo(dp, &netattach.DeviceInfo{Type: "pci", Version: "1.1.0",
		Pci: &netattach.PciDevice{PciAddress: "0000:03:00.1", RdmaDevice: "mlx5_0"}})).To(Succeed())

	g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	first := stdinAt(g, e, "ADD", "sriov", "net1")
	second := stdinAt(g, e, "ADD", "sriov", "net2")
	g.Expect(first).To(HaveKeyWithValue("deviceID", "0000:03:00.1"))
	g.Expect(first).To(HaveKeyWithValue("pciBusID", "0000:03:00.1"))
	g.Expect(second).To(HaveKeyWithValue("deviceID", "0000:03:00.2"))
	rc := first["runtimeConfig"].(map[string]any)
	g.Expect(rc).To(HaveKeyWithValue("deviceID", "0000:03:00.1"))
	infoFile := rc["CNIDeviceInfoFile"].(string)
	g.Expect(infoFile).To(Equal(filepath.Join(e.dir, "devinfo", "cni", "ns1-sr-c1_net1")))
	st := e.sink.status()
	g.Expect(st[1].DeviceInfo).NotTo(BeNil())
	g.Expect(st[1].DeviceInfo.Pci.RdmaDevice).To(Equal("mlx5_0"))
	g.Expect(st[2].DeviceInfo.Pci.PciAddress).To(Equal("0000:03:00.2"))
	g.Expect(e.plugin.CmdDel(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	_, err := os.Stat(infoFile)
	g.Expect(os.IsNotExist(err)).To(BeTrue())
}

func TestDefaultNetworksAndSystemNamespaces(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.conf["defaultNetworks"] = []string{"mon"}
	e.addNAD("kube-system", "mon", bridgeConf, nil)
	e.addNAD("ns1", "mv", macvlanTuning, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: "mv"})
	e.addPod("kube-system", "sys", "uid-2", nil)
	g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.exec.summary("ADD")).To(Equal([]string{"ADD ptp eth0", "ADD portmap eth0", "ADD bridge net1", "ADD macvlan net2", "ADD tuning net2"}))
	g.Expect(e.sink.status()[1].Name).To(Equal("kube-system/mon"))
	// A pod in a system namespace gets neither default networks nor a status write.
	e.sink.reports = nil
	g.Expect(e.plugin.CmdAdd(e.args("c2", "kube-system", "sys", "uid-2"))).To(Succeed())
	g.Expect(e.exec.summary("ADD")[5:]).To(Equal([]string{"ADD ptp eth0", "ADD portmap eth0"}))
	g.Expect(e.sink.status()).To(BeNil())
}

func TestDefaultNetworkAnnotation(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	e.addNAD("kube-system", "alt", `{"cniVersion":"1.0.0","type":"bridge"}`, nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.DefaultNetworkAnnotation: "alt"})
	g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.exec.summary("ADD")).To(Equal([]string{"ADD bridge eth0"}))
	// The runtime's capabilities follow the cluster network even when replaced.
	g.Expect(e.sink.status()[0].Name).To(Equal("kube-system/alt"))
	g.Expect(e.sink.status()[0].Default).To(BeTrue())
}

func TestStatusAndGC(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.1.0")
	e.addNAD("ns1", "br", strings.Replace(bridgeConf, "0.4.0", "1.1.0", 1), nil)
	e.addPod("ns1", "pod", "uid-1", map[string]string{netattach.NetworksAnnotation: "br"})
	g.Expect(e.plugin.CmdAdd(e.args("c1", "ns1", "pod", "uid-1"))).To(Succeed())
	g.Expect(e.plugin.CmdAdd(e.args("c2", "ns1", "pod", "uid-1"))).To(Succeed())

	g.Expect(e.plugin.CmdStatus(e.args("", "", "", ""))).To(Succeed())
	g.Expect(e.exec.summary("STATUS")).To(Equal([]string{"STATUS ptp ", "STATUS portmap ", "STATUS bridge "}))

	// GC: c1 is valid, c2 is not. libcni DELs c2's cached attachments of both networks
	// and then forwards GC with the valid attachments to every plugin.
	e.conf["cni.dev/valid-attachments"] = []any{map[string]any{"containerID": "c1", "ifname": "eth0"}}
	g.Expect(e.plugin.CmdGC(e.args("", "", "", ""))).To(Succeed())
	g.Expect(e.exec.summary("DEL")).To(ConsistOf("DEL ptp eth0", "DEL portmap eth0", "DEL bridge net1"))
	for _, c := range e.exec.calls {
		if c.Command == "DEL" {
			g.Expect(c.Args).To(ContainSubstring("K8S_POD_INFRA_CONTAINER_ID=c2"))
		}
	}
	gcBridge := stdinAt(g, e, "GC", "bridge", "")
	g.Expect(gcBridge["cni.dev/valid-attachments"]).To(Equal([]any{map[string]any{"containerID": "c1", "ifname": "net1"}}))
	gcPtp := stdinAt(g, e, "GC", "ptp", "")
	g.Expect(gcPtp["cni.dev/valid-attachments"]).To(ContainElement(map[string]any{"containerID": "c1", "ifname": "eth0"}))

	// STATUS fails with code 50 while the readiness indicator is missing.
	e.conf["readinessindicatorfile"] = filepath.Join(e.dir, "ready")
	te := typedErr(e.plugin.CmdStatus(e.args("", "", "", "")))
	g.Expect(te).NotTo(BeNil())
	g.Expect(te.Code).To(Equal(uint(50)))
}

func TestNothingOnStdoutButTheResult(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, "1.0.0")
	g.Expect(e.plugin.CmdAdd(e.args("c1", "", "", ""))).To(Succeed())
	var res map[string]any
	g.Expect(json.Unmarshal(e.stdout.Bytes(), &res)).To(Succeed())
	g.Expect(e.stderr.String()).To(ContainSubstring("[debug]"))
}
