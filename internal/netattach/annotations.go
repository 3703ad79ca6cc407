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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
)

// Annotation keys of the multi-network specification and of Multus.
const (
	// NetworksAnnotation is the pod annotation that selects secondary networks (spec §4).
	NetworksAnnotation = "k8s.v1.cni.cncf.io/networks"
	// NetworkStatusAnnotation is the pod annotation that reports attachments (spec §5).
	NetworkStatusAnnotation = "k8s.v1.cni.cncf.io/network-status"
	// DefaultNetworkAnnotation is Multus' pod annotation that replaces the cluster network
	// for one pod with a NetworkAttachmentDefinition.
	DefaultNetworkAnnotation = "v1.multus-cni.io/default-network"
	// ResourceNameAnnotation is the NetworkAttachmentDefinition annotation naming the
	// device-plugin resource whose allocated device IDs the attachment uses.
	ResourceNameAnnotation = "k8s.v1.cni.cncf.io/resourceName"
)

// ErrInvalidSelection is matched (errors.Is) by every error ParseNetworks and
// ParseDefaultNetwork return for bad annotation content.
var ErrInvalidSelection = errors.New("invalid network selection annotation")

// PortMapEntry is one element of the portMappings key (spec §4.1.2.1.7).
type PortMapEntry struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"`
	HostIP        string `json:"hostIP,omitempty"`
}

// BandwidthEntry is the value of the bandwidth key (spec §4.1.2.1.8).
type BandwidthEntry struct {
	IngressRate  int `json:"ingressRate"`
	IngressBurst int `json:"ingressBurst"`
	EgressRate   int `json:"egressRate"`
	EgressBurst  int `json:"egressBurst"`
}

// NetworkSelectionElement is one element of the networks annotation (spec v1.3 §4.1.2)
// plus Multus' deviceID extension. InterfaceRequest (the deprecated pre-v3.2 Multus
// alias of interface) is accepted on input and folded into InterfaceName by the parser.
type NetworkSelectionElement struct {
	// Name is the NetworkAttachmentDefinition name.
	Name string `json:"name"`
	// Namespace is the NetworkAttachmentDefinition namespace; defaulted by the parser.
	Namespace string `json:"namespace,omitempty"`
	// InterfaceName is the requested interface name inside the pod.
	InterfaceName string `json:"interface,omitempty"`
	// InterfaceRequest is the deprecated Multus alias of interface (input only).
	InterfaceRequest string `json:"interfaceRequest,omitempty"`
	// IPRequest lists static IPs (with optional prefix length).
	IPRequest []string `json:"ips,omitempty"`
	// MacRequest is the requested MAC address.
	MacRequest string `json:"mac,omitempty"`
	// GatewayRequest lists the default-route gateways (one per IP family). A non-nil
	// empty list means "this attachment claims the default route but adds no gateway".
	GatewayRequest []string `json:"default-route,omitempty"`
	// PortMappings are passed as the portMappings capability.
	PortMappings []PortMapEntry `json:"portMappings,omitempty"`
	// BandwidthRequest is passed as the bandwidth capability.
	BandwidthRequest *BandwidthEntry `json:"bandwidth,omitempty"`
	// CNIArgs are merged into the delegate configuration's args.cni (annotation wins).
	CNIArgs map[string]any `json:"cni-args,omitempty"`
	// InfinibandGUIDRequest is passed as the infinibandGUID capability.
	InfinibandGUIDRequest string `json:"infiniband-guid,omitempty"`
	// IPAMClaimReference names an IPAMClaim (spec v1.3 §4.1.2.1.11).
	IPAMClaimReference string `json:"ipam-claim-reference,omitempty"`
	// DeviceID is Multus' explicit device ID (a device-plugin allocation wins over it).
	DeviceID string `json:"deviceID,omitempty"`
}

// MarshalJSON keeps an empty default-route list (it still claims the default route),
// which omitempty alone would drop.
func (e NetworkSelectionElement) MarshalJSON() ([]byte, error) {
	type plain NetworkSelectionElement
	b, err := json.Marshal(plain(e))
	if err != nil || e.GatewayRequest == nil || len(e.GatewayRequest) > 0 {
		return b, err
	}
	return append(b[:len(b)-1], `,"default-route":[]}`...), nil
}

// HasDefaultRoute reports whether the element carries the default-route key
// (possibly with an empty list).
func (e *NetworkSelectionElement) HasDefaultRoute() bool { return e.GatewayRequest != nil }

// Key returns "namespace/name".
func (e *NetworkSelectionElement) Key() string { return e.Namespace + "/" + e.Name }

// SelectionError names the exact problem in an annotation: the element index (-1 when
// the annotation as a whole is bad), the key and the offending value.
type SelectionError struct {
	// Annotation is the annotation key (or a short label for it).
	Annotation string
	// Index is the element index, or -1.
	Index int
	// Key is the JSON key at fault ("" when the element itself is bad).
	Key string
	// Value is the offending value as written.
	Value string
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *SelectionError) Error() string {
	var b strings.Builder
	b.WriteString(e.Annotation)
	if e.Index >= 0 {
		fmt.Fprintf(&b, "[%d]", e.Index)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ".%s", e.Key)
	}
	b.WriteString(": ")
	if e.Value != "" {
		fmt.Fprintf(&b, "invalid value %q: ", e.Value)
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidSelection) true.
func (e *SelectionError) Is(target error) bool { return target == ErrInvalidSelection }

// isDNS1123Label reports whether s matches [a-z0-9]([-a-z0-9]*[a-z0-9])? with at most 63
// characters. The DNS-1123 checks are written out rather than package-level regexps: this
// package is linked into plexus-cni, where compiling regexps at init costs every pod
// sandbox start-up time.
func isDNS1123Label(s string) bool { return len(s) <= 63 && dnsLabelShape(s) }

// isDNS1123Subdomain reports whether s is dot-separated label shapes, at most 253
// characters in all (Kubernetes does not bound the labels of a subdomain to 63).
func isDNS1123Subdomain(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if !dnsLabelShape(label) {
			return false
		}
	}
	return true
}

// dnsLabelShape reports whether s matches [a-z0-9]([-a-z0-9]*[a-z0-9])?.
func dnsLabelShape(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// knownKeys are the JSON keys this implementation understands. Others must be
// reverse-domain names (spec §4.1.2.1: non-standard keys contain a '.') and are ignored.
var knownKeys = map[string]bool{
	"name": true, "namespace": true, "interface": true, "interfaceRequest": true, "ips": true,
	"mac": true, "default-route": true, "portMappings": true, "bandwidth": true, "cni-args": true,
	"infiniband-guid": true, "ipam-claim-reference": true, "deviceID": true,
}

// ParseNetworks parses the k8s.v1.cni.cncf.io/networks annotation value: either the
// comma-separated short form "[namespace/]name[@interface]" or a JSON list of
// NetworkSelectionElement. The namespace defaults to podNamespace. An empty value
// yields no elements. Every returned error matches ErrInvalidSelection and names the
// element index, key and value at fault.
func ParseNetworks(value, podNamespace string) ([]NetworkSelectionElement, error) {
	return parseSelection(NetworksAnnotation, value, podNamespace)
}

// ParseDefaultNetwork parses the v1.multus-cni.io/default-network annotation: exactly
// one element in either form. The namespace defaults to defaultNamespace (Multus'
// multusNamespace, not the pod's). An empty value returns nil, nil.
func ParseDefaultNetwork(value, defaultNamespace string) (*NetworkSelectionElement, error) {
	elems, err := parseSelection(DefaultNetworkAnnotation, value, defaultNamespace)
	if err != nil {
		return nil, err
	}
	switch len(elems) {
	case 0:
		return nil, nil
	case 1:
		return &elems[0], nil
	default:
		return nil, &SelectionError{Annotation: DefaultNetworkAnnotation, Index: -1,
			Reason: fmt.Sprintf("exactly one network expected, found %d", len(elems))}
	}
}

// FormatNetworks renders elements as the canonical JSON list form of the networks
// annotation (interfaceRequest folded into interface, empty keys omitted).
func FormatNetworks(elems []NetworkSelectionElement) (string, error) {
	out := make([]NetworkSelectionElement, len(elems))
	for i, e := range elems {
		if e.InterfaceName == "" {
			e.InterfaceName = e.InterfaceRequest
		}
		e.InterfaceRequest = ""
		out[i] = e
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("failed to marshal network selection elements: %w", err)
	}
	return string(b), nil
}

func parseSelection(annotation, value, defaultNamespace string) ([]NetworkSelectionElement, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	var (
		elems []NetworkSelectionElement
		err   error
	)
	if strings.ContainsAny(value, `[{"`) {
		elems, err = parseJSONSelection(annotation, value)
	} else {
		elems, err = parseShortSelection(annotation, value)
	}
	if err != nil {
		return nil, err
	}
	for i := range elems {
		if elems[i].Namespace == "" {
			elems[i].Namespace = defaultNamespace
		}
		if err := validateElement(annotation, i, &elems[i]); err != nil {
			return nil, err
		}
	}
	if err := validateAcrossElements(annotation, elems); err != nil {
		return nil, err
	}
	return elems, nil
}

func parseShortSelection(annotation, value string) ([]NetworkSelectionElement, error) {
	items := strings.Split(value, ",")
	elems := make([]NetworkSelectionElement, 0, len(items))
	for i, item := range items {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, &SelectionError{Annotation: annotation, Index: i, Reason: "empty network reference (stray comma?)"}
		}
		var e NetworkSelectionElement
		rest := item
		if at := strings.Index(rest, "@"); at >= 0 {
			e.InterfaceName = strings.TrimSpace(rest[at+1:])
			rest = rest[:at]
			if strings.Contains(e.InterfaceName, "@") {
				return nil, &SelectionError{Annotation: annotation, Index: i, Value: item, Reason: "more than one '@'"}
			}
			if e.InterfaceName == "" {
				return nil, &SelectionError{Annotation: annotation, Index: i, Key: "interface", Value: item, Reason: "empty interface name after '@'"}
			}
		}
		switch parts := strings.Split(rest, "/"); len(parts) {
		case 1:
			e.Name = strings.TrimSpace(parts[0])
		case 2:
			e.Namespace, e.Name = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
			if e.Namespace == "" {
				return nil, &SelectionError{Annotation: annotation, Index: i, Key: "namespace", Value: item, Reason: "empty namespace before '/'"}
			}
		default:
			return nil, &SelectionError{Annotation: annotation, Index: i, Value: item, Reason: "more than one '/'"}
		}
		elems = append(elems, e)
	}
	return elems, nil
}

func parseJSONSelection(annotation, value string) ([]NetworkSelectionElement, error) {
	if !strings.HasPrefix(value, "[") {
		return nil, &SelectionError{Annotation: annotation, Index: -1,
			Reason: "JSON form must be a list of objects (wrap the object in [ ])"}
	}
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(value), &raws); err != nil {
		return nil, &SelectionError{Annotation: annotation, Index: -1, Reason: "not a JSON list: " + err.Error()}
	}
	elems := make([]NetworkSelectionElement, 0, len(raws))
	for i, raw := range raws {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil || keys == nil {
			return nil, &SelectionError{Annotation: annotation, Index: i, Value: string(raw), Reason: "element must be a JSON object"}
		}
		names := make([]string, 0, len(keys))
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if !knownKeys[k] && !strings.Contains(k, ".") {
				return nil, &SelectionError{Annotation: annotation, Index: i, Key: k,
					Reason: "unknown key (non-standard keys must be reverse-domain names containing a '.')"}
			}
		}
		var e NetworkSelectionElement
		dec := json.NewDecoder(bytes.NewReader(raw))
		if err := dec.Decode(&e); err != nil {
			se := &SelectionError{Annotation: annotation, Index: i, Reason: err.Error()}
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				se.Key = te.Field
				se.Value = te.Value
				se.Reason = fmt.Sprintf("wrong type, expected %s", jsonTypeName(te.Type.Kind().String()))
			}
			return nil, se
		}
		if dr, ok := keys["default-route"]; ok && e.GatewayRequest == nil && string(bytes.TrimSpace(dr)) != "null" {
			e.GatewayRequest = []string{}
		}
		if e.InterfaceName == "" && e.InterfaceRequest != "" {
			e.InterfaceName = e.InterfaceRequest
		}
		e.InterfaceRequest = ""
		elems = append(elems, e)
	}
	return elems, nil
}

func jsonTypeName(kind string) string {
	switch kind {
	case "slice":
		return "a list"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int64", "uint", "uint64":
		return "an integer"
	default:
		return "a " + kind
	}
}

func validateElement(annotation string, i int, e *NetworkSelectionElement) error {
	bad := func(key, value, reason string) error {
		return &SelectionError{Annotation: annotation, Index: i, Key: key, Value: value, Reason: reason}
	}
	if e.Name == "" {
		return bad("name", "", "network name is required")
	}
	if !isDNS1123Subdomain(e.Name) {
		return bad("name", e.Name, "not a valid NetworkAttachmentDefinition name (DNS-1123 subdomain)")
	}
	if !isDNS1123Label(e.Namespace) {
		return bad("namespace", e.Namespace, "not a valid namespace name (DNS-1123 label)")
	}
	if e.InterfaceName != "" {
		if reason := validateIfName(e.InterfaceName); reason != "" {
			return bad("interface", e.InterfaceName, reason)
		}
	}
	for _, ip := range e.IPRequest {
		if net.ParseIP(ip) == nil {
			if _, _, err := net.ParseCIDR(ip); err != nil {
				return bad("ips", ip, "not an IP address or CIDR")
			}
		}
	}
	if e.MacRequest != "" {
		if hw, err := net.ParseMAC(e.MacRequest); err != nil || len(hw) != 6 {
			return bad("mac", e.MacRequest, "not a 6-byte MAC address (use infiniband-guid for InfiniBand)")
		}
	}
	if e.InfinibandGUIDRequest != "" {
		if hw, err := net.ParseMAC(e.InfinibandGUIDRequest); err != nil || len(hw) != 8 {
			return bad("infiniband-guid", e.InfinibandGUIDRequest, "not an 8-byte InfiniBand GUID")
		}
	}
	if e.IPAMClaimReference != "" && len(e.IPRequest) > 0 {
		return bad("ipam-claim-reference", e.IPAMClaimReference, "cannot be combined with ips (spec v1.3 §4.1.2.1.11)")
	}
	for j, pm := range e.PortMappings {
		key := fmt.Sprintf("portMappings[%d]", j)
		if pm.ContainerPort < 1 || pm.ContainerPort > 65535 {
			return bad(key+".containerPort", fmt.Sprint(pm.ContainerPort), "must be 1-65535")
		}
		if pm.HostPort < 1 || pm.HostPort > 65535 {
			return bad(key+".hostPort", fmt.Sprint(pm.HostPort), "must be 1-65535")
		}
		switch strings.ToLower(pm.Protocol) {
		case "", "tcp", "udp", "sctp":
		default:
			return bad(key+".protocol", pm.Protocol, "must be tcp, udp or sctp")
		}
		if pm.HostIP != "" && net.ParseIP(pm.HostIP) == nil {
			return bad(key+".hostIP", pm.HostIP, "not an IP address")
		}
	}
	if b := e.BandwidthRequest; b != nil {
		for k, v := range map[string]int{"ingressRate": b.IngressRate, "ingressBurst": b.IngressBurst, "egressRate": b.EgressRate, "egressBurst": b.EgressBurst} {
			if v < 0 {
				return bad("bandwidth."+k, fmt.Sprint(v), "must not be negative")
			}
		}
	}
	var v4, v6 int
	for _, gw := range e.GatewayRequest {
		ip := net.ParseIP(gw)
		if ip == nil {
			return bad("default-route", gw, "not an IP address")
		}
		if ip.To4() != nil {
			v4++
		} else {
			v6++
		}
		if v4 > 1 || v6 > 1 {
			return bad("default-route", gw, "at most one gateway per IP family")
		}
	}
	return nil
}

// validateIfName applies the kernel's dev_valid_name rules, restricted to printable
// ASCII (the name travels through JSON, CNI_IFNAME and netlink).
func validateIfName(name string) string {
	switch {
	case len(name) > 15:
		return "longer than 15 characters"
	case name == "." || name == "..":
		return "not a valid interface name"
	case strings.ContainsAny(name, "/:"):
		return "must not contain '/' or ':'"
	}
	for _, c := range []byte(name) {
		if c <= ' ' || c >= 0x7f {
			return "must be printable ASCII without whitespace"
		}
	}
	return ""
}

func validateAcrossElements(annotation string, elems []NetworkSelectionElement) error {
	firstRoute := -1
	ifnames := map[string]int{}
	for i := range elems {
		e := &elems[i]
		if e.HasDefaultRoute() {
			if firstRoute >= 0 {
				return &SelectionError{Annotation: annotation, Index: i, Key: "default-route",
					Reason: fmt.Sprintf("only one element may set default-route (element %d already does)", firstRoute)}
			}
			firstRoute = i
		}
		if e.InterfaceName != "" {
			if j, dup := ifnames[e.InterfaceName]; dup {
				return &SelectionError{Annotation: annotation, Index: i, Key: "interface", Value: e.InterfaceName,
					Reason: fmt.Sprintf("interface name already requested by element %d", j)}
			}
			ifnames[e.InterfaceName] = i
		}
	}
	return nil
}
