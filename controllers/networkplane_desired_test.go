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

package controllers

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/containernetworking/cni/libcni"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

func plane(name string, spec plexusv1alpha1.NetworkPlaneSpec) *plexusv1alpha1.NetworkPlane {
	return &plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}, Spec: spec}
}

func TestDesiredNADConfig(t *testing.T) {
	hostLocal := &plexusv1alpha1.IPAM{
		Type:   plexusv1alpha1.IPAMTypeHostLocal,
		Ranges: []plexusv1alpha1.IPRange{{Subnet: "10.10.0.0/24", RangeStart: "10.10.0.10", RangeEnd: "10.10.0.200", Gateway: "10.10.0.1"}},
		Routes: []plexusv1alpha1.Route{{Dst: "10.20.0.0/16"}},
	}
	tests := []struct {
		name string
		spec plexusv1alpha1.NetworkPlaneSpec
		// want are JSON paths into the main plugin (plugins[0]) and their expected values.
		want map[string]any
		// absent are main plugin keys that must not be rendered.
		absent []string
		// plugins is the expected number of plugins.
		plugins int
	}{
		{
			name: "macvlan on a named uplink",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeMacvlan, CNIVersion: "1.0.0",
				Macvlan: &plexusv1alpha1.MacvlanSettings{Mode: "private"},
				Uplink:  &plexusv1alpha1.Uplink{InterfaceName: "plexus-up0"}, MTU: ptr.To[int32](1400), IPAM: hostLocal},
			want:    map[string]any{"type": "macvlan", "master": "plexus-up0", "mode": "private", "mtu": 1400.0, "ipam.type": "host-local"},
			plugins: 1,
		},
		{
			name: "macvlan on the default route omits master",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeMacvlan,
				Uplink: &plexusv1alpha1.Uplink{DefaultRoute: ptr.To(true)}},
			want:    map[string]any{"type": "macvlan", "mode": "bridge"},
			absent:  []string{"master", "ipam", "mtu"},
			plugins: 1,
		},
		{
			name: "ipvlan l3",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeIPVlan,
				IPVlan: &plexusv1alpha1.IPVlanSettings{Mode: "l3"}, Uplink: &plexusv1alpha1.Uplink{InterfaceName: "eth1"},
				IPAM: &plexusv1alpha1.IPAM{Type: plexusv1alpha1.IPAMTypeDHCP}},
			want:    map[string]any{"type": "ipvlan", "master": "eth1", "mode": "l3", "ipam.type": "dhcp"},
			plugins: 1,
		},
		{
			name: "bridge with vlan, gateway and bandwidth",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeBridge,
				Bridge:    &plexusv1alpha1.BridgeSettings{Name: "br-plexus", VLAN: ptr.To[int32](100), IsGateway: ptr.To(true)},
				IPAM:      hostLocal,
				Bandwidth: &plexusv1alpha1.Bandwidth{IngressRate: ptr.To[int64](1000000), IngressBurst: ptr.To[int64](100000)}},
			want:    map[string]any{"type": "bridge", "bridge": "br-plexus", "vlan": 100.0, "isGateway": true, "capabilities.mac": true},
			absent:  []string{"capabilities.deviceID"},
			plugins: 2,
		},
		{
			name: "host-device by name",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeHostDevice,
				HostDevice: &plexusv1alpha1.HostDeviceSettings{Device: "eth2"}},
			want:    map[string]any{"type": "host-device", "device": "eth2"},
			absent:  []string{"pciBusID"},
			plugins: 1,
		},
		{
			name: "host-device by PCI address",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeHostDevice,
				HostDevice: &plexusv1alpha1.HostDeviceSettings{PCIAddress: "0000:3b:00.1"}},
			want:    map[string]any{"type": "host-device", "pciBusID": "0000:3b:00.1"},
			plugins: 1,
		},
		{
			name: "sriov with static IPAM from the attachment",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeSRIOV,
				SRIOV: &plexusv1alpha1.SRIOVSettings{ResourceName: "plexus.dev/vf_a", VLAN: ptr.To[int32](42), SpoofChk: "off", Trust: "on"},
				IPAM:  &plexusv1alpha1.IPAM{Type: plexusv1alpha1.IPAMTypeStatic}},
			want: map[string]any{"type": "sriov", "vlan": 42.0, "spoofchk": "off", "trust": "on", "capabilities.ips": true,
				"capabilities.mac": true, "capabilities.deviceID": true, "ipam.type": "static"},
			plugins: 1,
		},
		{
			name: "vlan with static addresses",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeVLAN,
				VLAN: &plexusv1alpha1.VLANSettings{ID: 200}, Uplink: &plexusv1alpha1.Uplink{InterfaceName: "bond0"},
				IPAM: &plexusv1alpha1.IPAM{Type: plexusv1alpha1.IPAMTypeStatic,
					Addresses: []plexusv1alpha1.StaticAddress{{Address: "192.168.200.5/24", Gateway: "192.168.200.1"}}}},
			want:    map[string]any{"type": "vlan", "master": "bond0", "vlanId": 200.0, "ipam.type": "static"},
			plugins: 1,
		},
		{
			name: "macvlan with whereabouts",
			spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeMacvlan, CNIVersion: "0.4.0",
				Uplink: &plexusv1alpha1.Uplink{InterfaceName: "eth1"},
				IPAM: &plexusv1alpha1.IPAM{Type: plexusv1alpha1.IPAMTypeWhereabouts,
					Ranges:  []plexusv1alpha1.IPRange{{Subnet: "10.30.0.0/16"}},
					Exclude: []string{"10.30.0.0/30"}}},
			want:    map[string]any{"ipam.type": "whereabouts", "ipam.range": "10.30.0.0/16"},
			plugins: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			p := plane("net-a", tt.spec)
			conf, err := desiredNADConfig(p)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(netattach.ValidateNADConfig(conf)).To(Succeed())

			// libcni must accept it as a configuration list.
			list, err := libcni.ConfListFromBytes(conf)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(list.Name).To(Equal("net-a"))
			g.Expect(list.Plugins).To(HaveLen(tt.plugins))
			wantVersion := tt.spec.CNIVersion
			if wantVersion == "" {
				wantVersion = defaultCNIVersion
			}
			g.Expect(list.CNIVersion).To(Equal(wantVersion))
			if tt.plugins == 2 {
				g.Expect(list.Plugins[1].Network.Type).To(Equal("bandwidth"))
				g.Expect(list.Plugins[1].Network.Capabilities).To(HaveKeyWithValue("bandwidth", true))
			}

			var main map[string]any
			g.Expect(json.Unmarshal(list.Plugins[0].Bytes, &main)).To(Succeed())
			for path, v := range tt.want {
				g.Expect(lookup(main, path)).To(Equal(v), path)
			}
			for _, k := range tt.absent {
				g.Expect(lookup(main, k)).To(BeNil(), k)
			}

			// Rendering is deterministic.
			again, err := desiredNADConfig(p)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(again).To(Equal(conf))
		})
	}
}

func lookup(m map[string]any, path string) any {
	var cur any = m
	start := 0
	for i := 0; i <= len(path); i++ {
		if i == len(path) || path[i] == '.' {
			obj, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = obj[path[start:i]]
			start = i + 1
		}
	}
	return cur
}

func TestDesiredNADConfigRaw(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		wantErr bool
	}{
		{name: "single plugin conf", config: `{"cniVersion":"1.0.0","name":"x","type":"macvlan","master":"eth0"}`},
		{name: "conflist", config: `{"cniVersion":"0.3.1","name":"x","plugins":[{"type":"bridge"},{"type":"tuning"}]}`},
		{name: "invalid JSON", config: `{"cniVersion":`, wantErr: true},
		{name: "missing cniVersion", config: `{"name":"x","type":"bridge"}`, wantErr: true},
		{name: "unknown cniVersion", config: `{"cniVersion":"9.9.9","name":"x","type":"bridge"}`, wantErr: true},
		{name: "type is a path", config: `{"cniVersion":"1.0.0","name":"x","type":"../../bin/sh"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			p := plane("raw", plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeRaw,
				Raw: &plexusv1alpha1.RawSettings{Config: tt.config}})
			conf, err := desiredNADConfig(p)
			if tt.wantErr {
				g.Expect(err).To(HaveOccurred())
				g.Expect(errors.Is(err, errInvalidPlaneConfig)).To(BeTrue())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(string(conf)).To(Equal(tt.config))
			if netattach.IsConfList(conf) {
				_, err = libcni.ConfListFromBytes(conf)
			} else {
				_, err = libcni.ConfFromBytes(conf)
			}
			g.Expect(err).NotTo(HaveOccurred())
		})
	}
}

func TestDesiredNAD(t *testing.T) {
	g := NewWithT(t)
	p := plane("vf-a", plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeSRIOV,
		SRIOV: &plexusv1alpha1.SRIOVSettings{ResourceName: "plexus.dev/vf_a"}})
	conf, err := desiredNADConfig(p)
	g.Expect(err).NotTo(HaveOccurred())
	nad := desiredNAD(p, "team-a", conf)
	g.Expect(nad.Name).To(Equal("vf-a"))
	g.Expect(nad.Namespace).To(Equal("team-a"))
	g.Expect(nad.Kind).To(Equal("NetworkAttachmentDefinition"))
	g.Expect(nad.Labels).To(Equal(map[string]string{
		plexusv1alpha1.ManagedByLabel: plexusv1alpha1.ManagedByValue,
		plexusv1alpha1.PlaneLabel:     "vf-a",
	}))
	g.Expect(nad.Annotations).To(HaveKeyWithValue(netattach.ResourceNameAnnotation, "plexus.dev/vf_a"))
	g.Expect(nad.Annotations).To(HaveKeyWithValue(plexusv1alpha1.ConfigHashAnnotation, configHash(conf)))
	g.Expect(nad.OwnerReferences).To(HaveLen(1))
	g.Expect(nad.OwnerReferences[0].UID).To(BeEquivalentTo("uid-vf-a"))
	g.Expect(*nad.OwnerReferences[0].Controller).To(BeTrue())
	g.Expect(nad.Spec.Config).To(Equal(string(conf)))
	g.Expect(upToDate(nad, nad)).To(BeTrue())

	bridge := plane("br", plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeBridge,
		Bridge: &plexusv1alpha1.BridgeSettings{Name: "br0"}})
	conf, err = desiredNADConfig(bridge)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(desiredNAD(bridge, "x", conf).Annotations).NotTo(HaveKey(netattach.ResourceNameAnnotation))
}
