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

// Command fake-sriov-cni stands in for sriov-cni in the e2e suite, on machines without SR-IOV
// hardware. The suite builds it with the fake sysfs tree's path
// (-ldflags "-X main.sysRoot=<dir>") and installs it as "sriov" in one node's CNI bin dir. It
// takes the VF the device plugin allocated from runtimeConfig.deviceID (a PCI address: the
// meta-plugin passes it only to plugins that declare the deviceID capability), looks the VF's
// netdevice up in the fake tree (bus/pci/devices/<addr>/net/<ifname>) and delegates to the
// reference host-device plugin with that device and the same ipam. The test backs every fake
// VF netdevice with a real veth, so the pod really gets the interface.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// sysRoot is the fake sysfs tree, set at build time.
var sysRoot string

// netConf is the part of sriov-cni's configuration the stand-in reads.
type netConf struct {
	types.NetConf
	// DeviceID is the meta-plugin's injected copy of the device (Multus does the same).
	DeviceID      string `json:"deviceID,omitempty"`
	RuntimeConfig struct {
		DeviceID string `json:"deviceID,omitempty"`
	} `json:"runtimeConfig,omitempty"`
}

func main() {
	skel.PluginMainFuncs(skel.CNIFuncs{Add: cmdAdd, Del: cmdDel, Check: cmdCheck},
		version.All, "fake-sriov-cni: sriov-cni stand-in for the Plexus e2e suite")
}

// delegateConf parses the configuration, finds the VF's netdevice and returns host-device's
// configuration for it.
func delegateConf(stdin []byte, del bool) ([]byte, error) {
	if sysRoot == "" {
		return nil, errors.New("built without -X main.sysRoot")
	}
	var conf netConf
	if err := json.Unmarshal(stdin, &conf); err != nil {
		return nil, fmt.Errorf("failed to parse the configuration: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(stdin, &raw); err != nil {
		return nil, fmt.Errorf("failed to parse the configuration: %w", err)
	}
	id := conf.RuntimeConfig.DeviceID
	if id == "" {
		return nil, errors.New("no runtimeConfig.deviceID: the network must declare the deviceID capability and request a device plugin resource")
	}
	if conf.DeviceID != "" && conf.DeviceID != id {
		return nil, fmt.Errorf("deviceID %q and runtimeConfig.deviceID %q differ", conf.DeviceID, id)
	}
	ifname, err := vfNetdev(id)
	if err != nil {
		if !del {
			return nil, err
		}
		// host-device's DEL finds the link by the container interface name; "device" only
		// has to be set.
		ifname = id
	}
	out := map[string]json.RawMessage{}
	for _, k := range []string{"cniVersion", "name", "ipam"} {
		if v, ok := raw[k]; ok {
			out[k] = v
		}
	}
	out["type"], _ = json.Marshal("host-device")
	out["device"], _ = json.Marshal(ifname)
	return json.Marshal(out)
}

// vfNetdev returns the netdevice name of the VF at PCI address addr in the fake tree.
func vfNetdev(addr string) (string, error) {
	if filepath.Base(addr) != addr {
		return "", fmt.Errorf("bad PCI address %q", addr)
	}
	entries, err := os.ReadDir(filepath.Join(sysRoot, "bus", "pci", "devices", addr, "net"))
	if err != nil {
		return "", fmt.Errorf("VF %s has no netdevice in %s: %w", addr, sysRoot, err)
	}
	if len(entries) != 1 {
		return "", fmt.Errorf("VF %s has %d netdevices", addr, len(entries))
	}
	return entries[0].Name(), nil
}

func cmdAdd(args *skel.CmdArgs) error {
	conf, err := delegateConf(args.StdinData, false)
	if err != nil {
		return err
	}
	res, err := invoke.DelegateAdd(context.Background(), "host-device", conf, nil)
	if err != nil {
		return err
	}
	var nc types.NetConf
	if err := json.Unmarshal(args.StdinData, &nc); err != nil {
		return err
	}
	return types.PrintResult(res, nc.CNIVersion)
}

func cmdDel(args *skel.CmdArgs) error {
	conf, err := delegateConf(args.StdinData, true)
	if err != nil {
		return err
	}
	return invoke.DelegateDel(context.Background(), "host-device", conf, nil)
}

func cmdCheck(args *skel.CmdArgs) error {
	conf, err := delegateConf(args.StdinData, false)
	if err != nil {
		return err
	}
	return invoke.DelegateCheck(context.Background(), "host-device", conf, nil)
}
