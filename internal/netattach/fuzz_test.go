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
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseNetworkSelection checks that the annotation parser never panics, that
// every error matches ErrInvalidSelection, and that what it accepts survives a
// FormatNetworks/ParseNetworks round trip unchanged.
func FuzzParseNetworkSelection(f *testing.F) {
	for _, s := range []string{"a", "ns/a@net1,b", `[{"name":"a","ips":["10.0.0.1/24"]}]`} {
		f.Add(s, "default")
	}
	f.Fuzz(func(t *testing.T, value, podNamespace string) {
		elems, err := ParseNetworks(value, podNamespace)
		if err != nil {
			if !errors.Is(err, ErrInvalidSelection) {
				t.Fatalf("error %v does not match ErrInvalidSelection", err)
			}
			return
		}
		for _, e := range elems {
			if e.Name == "" || e.Namespace == "" {
				t.Fatalf("accepted an element without name or namespace: %+v", e)
			}
		}
		if len(elems) == 0 {
			return
		}
		out, err := FormatNetworks(elems)
		if err != nil {
			t.Fatalf("FormatNetworks: %v", err)
		}
		again, err := ParseNetworks(out, "unused-namespace")
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if !reflect.DeepEqual(normalize(t, again), normalize(t, elems)) {
			t.Fatalf("round trip changed the elements:\n%s\n%+v\n%+v", out, again, elems)
		}
		if strings.Contains(out, "interfaceRequest") {
			t.Fatalf("canonical form kept interfaceRequest: %s", out)
		}
	})
}

// normalize compares through JSON so numbers in cni-args compare equal.
func normalize(t *testing.T, elems []NetworkSelectionElement) any {
	t.Helper()
	b, err := json.Marshal(elems)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}
