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
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

// defaultCNIVersion is used when a plane does not set spec.cniVersion (the CRD defaults it too).
const defaultCNIVersion = "1.0.0"

// errInvalidPlaneConfig marks render failures caused by the plane's spec; retrying won't help.
var errInvalidPlaneConfig = errors.New("invalid NetworkPlane configuration")

// desiredNADConfig renders the CNI configuration list of a plane: the main plugin, then the
// bandwidth plugin when spec.bandwidth is set. A raw plane's config is validated and returned
// unchanged. The output is deterministic (JSON object keys are sorted), so it can be compared
// byte for byte with what is stored.
func desiredNADConfig(plane *plexusv1alpha1.NetworkPlane) ([]byte, error) {
	spec := &plane.Spec
	if spec.Type == plexusv1alpha1.NetworkPlaneTypeRaw {
		if spec.Raw == nil {
			return nil, fmt.Errorf("%w: type raw needs spec.raw", errInvalidPlaneConfig)
		}
		if err := netattach.ValidateNADConfig([]byte(spec.Raw.Config)); err != nil {
			return nil, fmt.Errorf("%w: spec.raw.config: %w", errInvalidPlaneConfig, err)
		}
		return []byte(spec.Raw.Config), nil
	}

	main, err := mainPlugin(spec)
	if err != nil {
		return nil, err
	}
	if spec.IPAM != nil {
		main["ipam"] = desiredIPAM(spec.IPAM)
	}
	if caps := pluginCapabilities(spec); len(caps) > 0 {
		main["capabilities"] = caps
	}
	plugins := []map[string]any{main}
	if spec.Bandwidth != nil {
		plugins = append(plugins, bandwidthPlugin(spec.Bandwidth))
	}

	version := spec.CNIVersion
	if version == "" {
		version = defaultCNIVersion
	}
	out, err := json.Marshal(map[string]any{
		"cniVersion": version,
		"name":       plane.Name,
		"plugins":    plugins,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to marshal CNI config: %w", err)
	}
	if err := netattach.ValidateNADConfig(out); err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalidPlaneConfig, err)
	}
	return out, nil
}

// mainPlugin renders the plugin of the plane's type (without ipam and capabilities).
func mainPlugin(spec *plexusv1alpha1.NetworkPlaneSpec) (map[string]any, error) {
	p := map[string]any{"type": string(spec.Type)}
	if spec.MTU != nil {
		p["mtu"] = *spec.MTU
	}
	switch spec.Type {
	case plexusv1alpha1.NetworkPlaneTypeMacvlan:
		setMaster(p, spec.Uplink)
		p["mode"] = string(plexusv1alpha1.MacvlanMode("bridge"))
		if spec.Macvlan != nil && spec.Macvlan.Mode != "" {
			p["mode"] = string(spec.Macvlan.Mode)
		}
	case plexusv1alpha1.NetworkPlaneTypeIPVlan:
		setMaster(p, spec.Uplink)
		p["mode"] = "l2"
		if spec.IPVlan != nil && spec.IPVlan.Mode != "" {
			p["mode"] = string(spec.IPVlan.Mode)
		}
	case plexusv1alpha1.NetworkPlaneTypeBridge:
		if spec.Bridge == nil {
			return nil, fmt.Errorf("%w: type bridge needs spec.bridge", errInvalidPlaneConfig)
		}
		p["bridge"] = spec.Bridge.Name
		if spec.Bridge.VLAN != nil {
			p["vlan"] = *spec.Bridge.VLAN
		}
		if ptr.Deref(spec.Bridge.IsGateway, false) {
			p["isGateway"] = true
		}
	case plexusv1alpha1.NetworkPlaneTypeHostDevice:
		if spec.HostDevice == nil {
			return nil, fmt.Errorf("%w: type host-device needs spec.hostDevice", errInvalidPlaneConfig)
		}
		if spec.HostDevice.Device != "" {
			p["device"] = spec.HostDevice.Device
		} else {
			p["pciBusID"] = spec.HostDevice.PCIAddress
		}
	case plexusv1alpha1.NetworkPlaneTypeSRIOV:
		if spec.SRIOV == nil {
			return nil, fmt.Errorf("%w: type sriov needs spec.sriov", errInvalidPlaneConfig)
		}
		if spec.SRIOV.VLAN != nil {
			p["vlan"] = *spec.SRIOV.VLAN
		}
		if spec.SRIOV.SpoofChk != "" {
			p["spoofchk"] = string(spec.SRIOV.SpoofChk)
		}
		if spec.SRIOV.Trust != "" {
			p["trust"] = string(spec.SRIOV.Trust)
		}
	case plexusv1alpha1.NetworkPlaneTypeVLAN:
		if spec.VLAN == nil || spec.Uplink == nil || spec.Uplink.InterfaceName == "" {
			return nil, fmt.Errorf("%w: type vlan needs spec.vlan and spec.uplink.interfaceName", errInvalidPlaneConfig)
		}
		setMaster(p, spec.Uplink)
		p["vlanId"] = spec.VLAN.ID
	default:
		return nil, fmt.Errorf("%w: unknown type %q", errInvalidPlaneConfig, spec.Type)
	}
	return p, nil
}

// setMaster renders the uplink. A named uplink becomes "master"; for defaultRoute, master is
// omitted and the macvlan/ipvlan plugins use the node's default-route interface themselves.
func setMaster(p map[string]any, u *plexusv1alpha1.Uplink) {
	if u != nil && u.InterfaceName != "" {
		p["master"] = u.InterfaceName
	}
}

// pluginCapabilities declares the runtimeConfig capabilities the main plugin honours, so the
// per-pod ips and mac of an attachment reach it (spec §4.1.2.1.3), and, for sriov, the VF the
// device plugin allocated: the runtime passes runtimeConfig.deviceID (the CNI conventions'
// deviceID capability) only to plugins that declare it.
func pluginCapabilities(spec *plexusv1alpha1.NetworkPlaneSpec) map[string]bool {
	caps := map[string]bool{}
	if spec.IPAM != nil && spec.IPAM.Type == plexusv1alpha1.IPAMTypeStatic {
		caps["ips"] = true
	}
	switch spec.Type {
	case plexusv1alpha1.NetworkPlaneTypeMacvlan, plexusv1alpha1.NetworkPlaneTypeBridge, plexusv1alpha1.NetworkPlaneTypeSRIOV:
		caps["mac"] = true
	}
	if spec.Type == plexusv1alpha1.NetworkPlaneTypeSRIOV {
		caps["deviceID"] = true
	}
	return caps
}

// desiredIPAM renders the ipam object of the main plugin.
func desiredIPAM(ipam *plexusv1alpha1.IPAM) map[string]any {
	out := map[string]any{"type": string(ipam.Type)}
	routes := make([]map[string]any, 0, len(ipam.Routes))
	for _, r := range ipam.Routes {
		route := map[string]any{"dst": r.Dst}
		if r.GW != "" {
			route["gw"] = r.GW
		}
		routes = append(routes, route)
	}
	if len(routes) > 0 {
		out["routes"] = routes
	}
	switch ipam.Type {
	case plexusv1alpha1.IPAMTypeHostLocal:
		sets := make([][]map[string]any, 0, len(ipam.Ranges))
		for _, r := range ipam.Ranges {
			rng := map[string]any{"subnet": r.Subnet}
			putNonEmpty(rng, "rangeStart", r.RangeStart)
			putNonEmpty(rng, "rangeEnd", r.RangeEnd)
			putNonEmpty(rng, "gateway", r.Gateway)
			sets = append(sets, []map[string]any{rng})
		}
		out["ranges"] = sets
	case plexusv1alpha1.IPAMTypeStatic:
		if len(ipam.Addresses) > 0 {
			addrs := make([]map[string]any, 0, len(ipam.Addresses))
			for _, a := range ipam.Addresses {
				addr := map[string]any{"address": a.Address}
				putNonEmpty(addr, "gateway", a.Gateway)
				addrs = append(addrs, addr)
			}
			out["addresses"] = addrs
		}
	case plexusv1alpha1.IPAMTypeWhereabouts:
		// One range uses the top-level keys every whereabouts release understands; several
		// ranges need ipRanges.
		if len(ipam.Ranges) == 1 {
			r := ipam.Ranges[0]
			out["range"] = r.Subnet
			putNonEmpty(out, "range_start", r.RangeStart)
			putNonEmpty(out, "range_end", r.RangeEnd)
			putNonEmpty(out, "gateway", r.Gateway)
		} else {
			rngs := make([]map[string]any, 0, len(ipam.Ranges))
			for _, r := range ipam.Ranges {
				rng := map[string]any{"range": r.Subnet}
				putNonEmpty(rng, "range_start", r.RangeStart)
				putNonEmpty(rng, "range_end", r.RangeEnd)
				rngs = append(rngs, rng)
			}
			out["ipRanges"] = rngs
		}
		if len(ipam.Exclude) > 0 {
			out["exclude"] = ipam.Exclude
		}
	case plexusv1alpha1.IPAMTypeDHCP:
		// The dhcp plugin takes everything from the DHCP server.
	}
	return out
}

func putNonEmpty(m map[string]any, key, value string) {
	if value != "" {
		m[key] = value
	}
}

// bandwidthPlugin renders the bandwidth plugin; it always declares the bandwidth capability so
// an attachment's own caps (runtimeConfig) reach it.
func bandwidthPlugin(bw *plexusv1alpha1.Bandwidth) map[string]any {
	p := map[string]any{
		"type":         "bandwidth",
		"capabilities": map[string]bool{"bandwidth": true},
	}
	for key, v := range map[string]*int64{
		"ingressRate": bw.IngressRate, "ingressBurst": bw.IngressBurst,
		"egressRate": bw.EgressRate, "egressBurst": bw.EgressBurst,
	} {
		if v != nil {
			p[key] = *v
		}
	}
	return p
}

// configHash is the value of the config-hash annotation for a rendered config.
func configHash(config []byte) string {
	sum := sha256.Sum256(config)
	return hex.EncodeToString(sum[:8])
}

// desiredNAD is the NAD a plane renders into one namespace: named like the plane, labelled as
// managed by Plexus, owned by the plane, with the resourceName annotation for SR-IOV planes.
func desiredNAD(plane *plexusv1alpha1.NetworkPlane, namespace string, config []byte) *nadv1.NetworkAttachmentDefinition {
	nad := &nadv1.NetworkAttachmentDefinition{
		TypeMeta: metav1.TypeMeta{
			APIVersion: nadv1.SchemeGroupVersion.String(),
			Kind:       "NetworkAttachmentDefinition",
		},
		ObjectMeta: metav1.ObjectMeta{
			Name:      plane.Name,
			Namespace: namespace,
			Labels: map[string]string{
				plexusv1alpha1.ManagedByLabel: plexusv1alpha1.ManagedByValue,
				plexusv1alpha1.PlaneLabel:     plane.Name,
			},
			Annotations: map[string]string{
				plexusv1alpha1.ConfigHashAnnotation: configHash(config),
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         plexusv1alpha1.GroupVersion.String(),
				Kind:               "NetworkPlane",
				Name:               plane.Name,
				UID:                plane.UID,
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: nadv1.NetworkAttachmentDefinitionSpec{Config: string(config)},
	}
	if plane.Spec.Type == plexusv1alpha1.NetworkPlaneTypeSRIOV && plane.Spec.SRIOV != nil {
		nad.Annotations[netattach.ResourceNameAnnotation] = plane.Spec.SRIOV.ResourceName
	}
	return nad
}
