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
	"bytes"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	p, err := load("testdata/v1")
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	render(&a, p, "testdata/v1")
	p2, _ := load("testdata/v1")
	render(&b, p2, "testdata/v1")
	if a.String() != b.String() {
		t.Fatal("output is not deterministic")
	}
	out := a.String()
	for _, want := range []string{
		"# API reference: `test.plexus.dev/v1`",
		"| [Thing](#thing) | Cluster | `th` | Thing is a thing. |",
		"- `kubectl get` columns: Mode",
		"| `spec` | [ThingSpec](#thingspec) | yes | spec is the spec. |",
		"- a must not be empty (`self.a.size() > 0`)",
		"| `a` | string | yes | a is a \\| pipe. | max length 8; pattern `^[a-z]+$` |",
		"| `mode` | string | no | mode picks the mode. | one of `fast`, `slow`; default `fast` |",
		"| `parts` | \\[\\][Part](#part) | no | parts are parts. | list type map; map key `name` |",
		"### Part",
		"| `ThingReadyReason` | `Works` | (Ready=True) means it works. |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ThingList") || strings.Contains(out, "ModeFast") || strings.Contains(out, "+groupName") {
		t.Errorf("lists, enum values and markers stay out of the prose:\n%s", out)
	}
}
