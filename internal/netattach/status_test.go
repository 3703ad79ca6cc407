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
	"path/filepath"
	"reflect"
	"testing"

	types040 "github.com/containernetworking/cni/pkg/types/040"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
)

func mustResult(t *testing.T, js string) *types100.Result {
	t.Helper()
	r, err := types100.NewResult([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	res, err := types100.NewResultFromResult(r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestBuildNetworkStatus(t *testing.T) {
	t.Parallel()
	res := mustResult(t, `{"cniVersion":"1.0.0",
		"interfaces":[{"name":"br0","mac":"aa:aa:aa:aa:aa:aa"},{"name":"net1","mac":"02:00:00:00:00:01","mtu":1400,"sandbox":"/var/run/netns/x"},{"name":"net2","sandbox":"/var/run/netns/x"}],
		"ips":[{"address":"10.1.1.5/24","gateway":"10.1.1.1","interface":1},{"address":"fd00::5/64","interface":2},{"address":"192.168.0.9/24"}],
		"routes":[{"dst":"0.0.0.0/0","gw":"10.1.1.1"},{"dst":"10.9.0.0/16","gw":"10.1.1.2"}],
		"dns":{"nameservers":["10.0.0.10"],"search":["svc"]}}`)
	di := PCIDeviceInfo("0000:03:00.1")
	got, err := BuildNetworkStatus("ns/nad", res, false, di)
	if err != nil {
		t.Fatal(err)
	}
	want := []NetworkStatus{
		{Name: "ns/nad", Interface: "net1", IPs: []string{"10.1.1.5"}, Mac: "02:00:00:00:00:01", Mtu: 1400,
			DNS: DNS{Nameservers: []string{"10.0.0.10"}, Search: []string{"svc"}}, Gateway: []string{"10.1.1.1"}, DeviceInfo: di},
		{Name: "ns/nad", Interface: "net2", IPs: []string{"fd00::5", "192.168.0.9"},
			DNS: DNS{Nameservers: []string{"10.0.0.10"}, Search: []string{"svc"}}, Gateway: []string{"10.1.1.1"}, DeviceInfo: di},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	def, err := BuildNetworkStatus("cbr0", res, true, nil)
	if err != nil || !def[0].Default || def[1].Default {
		t.Fatalf("default goes to the gateway's interface: %+v %v", def, err)
	}
}

func TestBuildNetworkStatusMinimal(t *testing.T) {
	t.Parallel()
	got, err := BuildNetworkStatus("ns/tuning", nil, false, nil)
	if err != nil || len(got) != 1 || got[0].Name != "ns/tuning" || got[0].Interface != "" {
		t.Fatalf("nil result: %+v %v", got, err)
	}
	// A 0.4.0 result without interfaces still yields one entry with the IPs.
	old := &types040.Result{CNIVersion: "0.4.0"}
	if err := json.Unmarshal([]byte(`{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.2.0.3/16"}]}`), old); err != nil {
		t.Fatal(err)
	}
	got, err = BuildNetworkStatus("ns/ipam-only", old, true, nil)
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].IPs, []string{"10.2.0.3"}) || !got[0].Default {
		t.Fatalf("interface-less result: %+v %v", got, err)
	}
}

// TestNetworkStatusWireCompatible keeps NetworkStatus in step with the NAD client type.
func TestNetworkStatusWireCompatible(t *testing.T) {
	t.Parallel()
	ours := []NetworkStatus{{Name: "ns/a", Interface: "net1", IPs: []string{"10.0.0.1"}, Mac: "02:00:00:00:00:01", Mtu: 9000,
		Default: true, DNS: DNS{Nameservers: []string{"1.1.1.1"}, Domain: "d", Search: []string{"s"}, Options: []string{"o"}},
		Gateway: []string{"10.0.0.254"},
		DeviceInfo: &DeviceInfo{Type: "pci", Version: "1.1.0", Pci: &PciDevice{PciAddress: "0000:01:00.1", Vhostnet: "v", RdmaDevice: "r",
			PfPciAddress: "p", RepresentorDevice: "rep"}, Vdpa: &VdpaDevice{ParentDevice: "pd", Driver: "dr", Path: "pa", PciAddress: "x",
			PfPciAddress: "y", RepresentorDevice: "z"}, VhostUser: &VhostDevice{Mode: "client", Path: "/s"}, Memif: &MemifDevice{Role: "master", Path: "/m", Mode: "ip"}}}}
	value, err := FormatNetworkStatus(ours)
	if err != nil {
		t.Fatal(err)
	}
	var theirs []nadv1.NetworkStatus
	if err := json.Unmarshal([]byte(value), &theirs); err != nil {
		t.Fatal(err)
	}
	back, err := json.Marshal(theirs)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal([]byte(value), &a)
	_ = json.Unmarshal(back, &b)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("JSON differs:\nours   %s\ntheirs %s", value, back)
	}
}

func TestResultIPs(t *testing.T) {
	t.Parallel()
	res := mustResult(t, `{"cniVersion":"1.0.0","interfaces":[{"name":"net1","sandbox":"x"},{"name":"net2","sandbox":"x"}],
		"ips":[{"address":"10.1.1.5/24","interface":0},{"address":"10.2.1.5/24","interface":1}]}`)
	if got := ResultIPs(res, "net2"); !reflect.DeepEqual(got, []string{"10.2.1.5/24"}) {
		t.Fatalf("got %v", got)
	}
}

func TestDeviceInfoFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := DevicePluginDeviceInfoPath(filepath.Join(dir, "dp"), "intel.com/sriov", "0000:03:00.1")
	if filepath.Base(p) != "intel.com-sriov-0000:03:00.1-device.json" {
		t.Fatalf("dp path %s", p)
	}
	if c := CNIDeviceInfoPath("/d", "ns/nad", "abc", "net1"); c != "/d/ns-nad-abc_net1" {
		t.Fatalf("cni path %s", c)
	}
	di := PCIDeviceInfo("0000:03:00.1")
	if err := SaveDeviceInfo(p, di); err != nil {
		t.Fatal(err)
	}
	got, err := LoadDeviceInfo(p)
	if err != nil || !reflect.DeepEqual(got, di) {
		t.Fatalf("got %+v %v", got, err)
	}
}
