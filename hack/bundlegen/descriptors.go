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

package main

import (
	"sort"
	"strings"
	"unicode"

	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

const conditionsDescriptor = "urn:alm:descriptor:io.kubernetes.conditions"

// ownedCRDs lists every CRD of the install as owned, one entry per served version. Texts and
// descriptors written in the CSV base win; what the base leaves out comes from the CRD schema,
// so a new kind or field shows up without touching the base.
func ownedCRDs(crds []*apiextensionsv1.CustomResourceDefinition, base []operatorsv1alpha1.CRDDescription) ([]operatorsv1alpha1.CRDDescription, error) {
	fromBase := map[string]operatorsv1alpha1.CRDDescription{}
	for _, d := range base {
		fromBase[d.Name+"/"+d.Version] = d
	}
	var out []operatorsv1alpha1.CRDDescription
	for _, crd := range crds {
		versions := append([]apiextensionsv1.CustomResourceDefinitionVersion{}, crd.Spec.Versions...)
		sort.Slice(versions, func(i, j int) bool { return versions[i].Name < versions[j].Name })
		for _, v := range versions {
			if !v.Served {
				continue
			}
			d := fromBase[crd.Name+"/"+v.Name]
			d.Name, d.Version, d.Kind = crd.Name, v.Name, crd.Spec.Names.Kind
			var schema *apiextensionsv1.JSONSchemaProps
			if v.Schema != nil {
				schema = v.Schema.OpenAPIV3Schema
			}
			if d.DisplayName == "" {
				d.DisplayName = words(crd.Spec.Names.Kind)
			}
			if d.Description == "" && schema != nil {
				d.Description = firstParagraph(schema.Description)
			}
			if d.Description == "" {
				d.Description = d.DisplayName
			}
			if len(d.SpecDescriptors) == 0 && schema != nil {
				d.SpecDescriptors = specDescriptors(schema.Properties["spec"])
			}
			if len(d.StatusDescriptors) == 0 && schema != nil {
				d.StatusDescriptors = statusDescriptors(schema.Properties["status"])
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func specDescriptors(spec apiextensionsv1.JSONSchemaProps) []operatorsv1alpha1.SpecDescriptor {
	var out []operatorsv1alpha1.SpecDescriptor
	for _, name := range sortedKeys(spec.Properties) {
		p := spec.Properties[name]
		out = append(out, operatorsv1alpha1.SpecDescriptor{
			Path: name, DisplayName: words(name), Description: firstSentence(p.Description),
		})
	}
	return out
}

func statusDescriptors(status apiextensionsv1.JSONSchemaProps) []operatorsv1alpha1.StatusDescriptor {
	var out []operatorsv1alpha1.StatusDescriptor
	for _, name := range sortedKeys(status.Properties) {
		p := status.Properties[name]
		d := operatorsv1alpha1.StatusDescriptor{
			Path: name, DisplayName: words(name), Description: firstSentence(p.Description),
		}
		if name == "conditions" {
			d.XDescriptors = []string{conditionsDescriptor}
		}
		out = append(out, d)
	}
	return out
}

func sortedKeys(m map[string]apiextensionsv1.JSONSchemaProps) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// acronyms are spelled out in display names whatever the Go/JSON casing.
var acronyms = map[string]string{
	"cni": "CNI", "ipam": "IPAM", "mtu": "MTU", "sriov": "SR-IOV", "vlan": "VLAN", "ipvlan": "IPVLAN",
	"ip": "IP", "ips": "IPs", "mac": "MAC", "pf": "PF", "pfs": "PFs", "vf": "VF", "vfs": "VFs",
	"numa": "NUMA", "pci": "PCI", "id": "ID", "nad": "NAD", "nads": "NADs", "dns": "DNS",
}

// words turns "NetworkPlane" or "renderedNamespaces" into "Network Plane" / "Rendered Namespaces";
// runs of capitals stay together and known acronyms are spelled out ("CNI Version", "SR-IOV").
func words(s string) string {
	parts := strings.Fields(splitCamel(s))
	for i, p := range parts {
		if a, ok := acronyms[strings.ToLower(p)]; ok {
			parts[i] = a
		}
	}
	return strings.Join(parts, " ")
}

func splitCamel(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prevLower := unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || (unicode.IsUpper(rs[i-1]) && nextLower) {
				b.WriteByte(' ')
			}
		}
		if i == 0 {
			r = unicode.ToUpper(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// firstParagraph returns the text up to the first blank line, on one line.
func firstParagraph(s string) string {
	p, _, _ := strings.Cut(strings.TrimSpace(s), "\n\n")
	return strings.Join(strings.Fields(p), " ")
}

// firstSentence returns the first sentence of a field doc, on one line.
func firstSentence(s string) string {
	p := firstParagraph(s)
	if i := strings.Index(p, ". "); i >= 0 {
		return p[:i+1]
	}
	return p
}
