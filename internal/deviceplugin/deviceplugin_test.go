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

package deviceplugin_test

import (
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/deviceplugin"
	"github.com/plexus-net/plexus/internal/sriov"
)

func TestRender(t *testing.T) {
	g := NewWithT(t)
	pfs := []plexusv1alpha1.PFStatus{
		{Name: "ens1f0", PCIAddress: "0000:3b:00.0", Vendor: "8086", VFDeviceID: "154c",
			VFs: []plexusv1alpha1.VFStatus{{Index: 0, Driver: "vfio-pci"}, {Index: 4, Driver: "iavf"}}},
		{PCIAddress: "0000:5e:00.0", Vendor: "15b3"},
	}
	desired := sriov.Desired{PFs: []sriov.PFConfig{
		{PCIAddress: "0000:5e:00.0", NumVfs: 2, Groups: []sriov.VFGroup{{First: 0, Last: 1, DeviceType: "vfio-pci", ResourceName: "dpdk"}}},
		{PCIAddress: "0000:3b:00.0", Name: "ens1f0", NumVfs: 8, Groups: []sriov.VFGroup{
			{First: 4, Last: 7, DeviceType: "netdevice", ResourceName: "net"},
			{First: 0, Last: 3, DeviceType: "vfio-pci", ResourceName: "dpdk"},
		}},
		{PCIAddress: "0000:3b:00.1", NumVfs: 1, Groups: []sriov.VFGroup{{First: 0, Last: 0, DeviceType: "netdevice"}}},
	}}
	b, err := deviceplugin.Render("", desired, pfs)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(b)).To(MatchJSON(`{"resourceList":[
	  {"resourceName":"dpdk","resourcePrefix":"plexus.dev","deviceType":"netDevice","selectors":[
	    {"vendors":["8086"],"devices":["154c"],"drivers":["vfio-pci"],"pfNames":["ens1f0#0-3"]},
	    {"vendors":["15b3"],"drivers":["vfio-pci"],"rootDevices":["0000:5e:00.0#0-1"]}]},
	  {"resourceName":"net","resourcePrefix":"plexus.dev","deviceType":"netDevice","selectors":[
	    {"vendors":["8086"],"devices":["154c"],"drivers":["iavf"],"pfNames":["ens1f0#4-7"]}]}
	]}`))

	// Deterministic whatever the input order.
	desired.PFs[0], desired.PFs[1] = desired.PFs[1], desired.PFs[0]
	b2, err := deviceplugin.Render("", desired, pfs)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(b2).To(Equal(b))

	var cfg deviceplugin.Config
	g.Expect(json.Unmarshal(b, &cfg)).To(Succeed())
	g.Expect(cfg.ResourceList).To(HaveLen(2))
}

func TestRenderEmpty(t *testing.T) {
	g := NewWithT(t)
	b, err := deviceplugin.Render("example.com", sriov.Desired{}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(b)).To(Equal(`{"resourceList":[]}`))
}
