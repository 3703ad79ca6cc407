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

package v1alpha1

import (
	"fmt"
	"slices"
	"sort"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

// userSource names the pod's own networks annotation in conflict messages.
const userSource = "the pod's networks annotation"

// sourcedElement is one network of the merged annotation and where it came from.
type sourcedElement struct {
	elem   netattach.NetworkSelectionElement
	source string
}

// ConflictError is a rejection: two sources ask for incompatible attachments.
type ConflictError struct {
	// Message names both sources.
	Message string
}

// Error implements error.
func (e *ConflictError) Error() string { return e.Message }

// mergeNetworks merges the attachments of the policies into the pod's networks annotation:
// the user's entries first, unchanged, then the policies' attachments (policies sorted by name,
// attachments in order), skipping attachments the annotation already has. It returns the merged
// elements, whether anything was added, and a *ConflictError when two sources claim the same
// interface name or both claim the default route.
func mergeNetworks(namespace string, user []netattach.NetworkSelectionElement, policies []plexusv1alpha1.AttachmentPolicy) ([]netattach.NetworkSelectionElement, bool, error) {
	sorted := slices.Clone(policies)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })

	merged := make([]sourcedElement, 0, len(user))
	for _, e := range user {
		merged = append(merged, sourcedElement{elem: e, source: userSource})
	}
	added := false
	for i := range sorted {
		p := &sorted[i]
		source := fmt.Sprintf("AttachmentPolicy %s", p.Name)
		for _, a := range p.Spec.Attachments {
			e := elementFor(namespace, a)
			if hasEquivalent(merged, e) {
				continue
			}
			merged = append(merged, sourcedElement{elem: e, source: source})
			added = true
		}
	}
	if err := checkConflicts(merged); err != nil {
		return nil, false, err
	}
	out := make([]netattach.NetworkSelectionElement, len(merged))
	for i := range merged {
		out[i] = merged[i].elem
	}
	return out, added, nil
}

// elementFor turns an attachment into a networks annotation element (the NAD named like the
// plane, in the pod's namespace).
func elementFor(namespace string, a plexusv1alpha1.Attachment) netattach.NetworkSelectionElement {
	e := netattach.NetworkSelectionElement{
		Name:          a.Plane,
		Namespace:     namespace,
		InterfaceName: a.Interface,
		IPRequest:     slices.Clone(a.IPs),
		MacRequest:    a.MAC,
	}
	if len(a.DefaultRoute) > 0 {
		e.GatewayRequest = slices.Clone(a.DefaultRoute)
	}
	if bw := a.Bandwidth; bw != nil {
		e.BandwidthRequest = &netattach.BandwidthEntry{
			IngressRate: deref(bw.IngressRate), IngressBurst: deref(bw.IngressBurst),
			EgressRate: deref(bw.EgressRate), EgressBurst: deref(bw.EgressBurst),
		}
	}
	return e
}

func deref(v *int64) int {
	if v == nil {
		return 0
	}
	return int(*v)
}

// hasEquivalent reports whether the merged list already attaches the same network on the same
// interface (or, for an attachment without an interface name, at all). That keeps what the
// user wrote and makes re-invocation idempotent.
func hasEquivalent(merged []sourcedElement, e netattach.NetworkSelectionElement) bool {
	for _, m := range merged {
		if m.elem.Key() != e.Key() {
			continue
		}
		if e.InterfaceName == "" || m.elem.InterfaceName == "" || m.elem.InterfaceName == e.InterfaceName {
			return true
		}
	}
	return false
}

// checkConflicts rejects two sources that end up with the same interface name (explicit, or
// the net<N> default the meta-plugin gives by position) or that both claim the default route.
func checkConflicts(merged []sourcedElement) error {
	ifOwner := map[string]int{}
	routeOwner := -1
	for i, m := range merged {
		name := m.elem.InterfaceName
		if name == "" {
			name = fmt.Sprintf("net%d", i+1)
		}
		if j, ok := ifOwner[name]; ok {
			return conflict(merged[j], m, fmt.Sprintf("both use interface %s", name))
		}
		ifOwner[name] = i
		if m.elem.HasDefaultRoute() {
			if routeOwner >= 0 {
				return conflict(merged[routeOwner], m, "both set the default route")
			}
			routeOwner = i
		}
	}
	return nil
}

func conflict(a, b sourcedElement, what string) error {
	return &ConflictError{Message: fmt.Sprintf("conflicting attachments: %s (network %s) and %s (network %s) %s",
		a.source, a.elem.Key(), b.source, b.elem.Key(), what)}
}
