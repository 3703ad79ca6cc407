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
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateNADConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, conf, wantErr string
	}{
		{"conf", `{"cniVersion":"1.0.0","type":"macvlan","master":"eth0"}`, ""},
		{"conflist", `{"cniVersion":"0.4.0","name":"x","plugins":[{"type":"bridge"},{"type":"tuning"}]}`, ""},
		{"cniVersions only", `{"cniVersions":["1.0.0","1.1.0"],"name":"x","plugins":[{"type":"bridge"}]}`, ""},
		{"not json", `{"cniVersion":`, "not valid JSON"},
		{"not object", `[1]`, "not valid JSON"},
		{"no version", `{"type":"macvlan"}`, "no cniVersion"},
		{"unknown version", `{"cniVersion":"9.9.9","type":"macvlan"}`, `unknown cniVersion "9.9.9"`},
		{"version type", `{"cniVersion":1,"type":"macvlan"}`, `cniVersion must be a string`},
		{"no type", `{"cniVersion":"1.0.0"}`, `plugin has no "type"`},
		{"path type", `{"cniVersion":"1.0.0","type":"/bin/sh"}`, `must be a binary name`},
		{"dotdot type", `{"cniVersion":"1.0.0","type":"..evil"}`, `must be a binary name`},
		{"list path type", `{"cniVersion":"1.0.0","plugins":[{"type":"bridge"},{"type":"../x"}]}`, `plugins[1]: plugin "type" "../x"`},
		{"empty list", `{"cniVersion":"1.0.0","plugins":[]}`, `no plugins`},
		{"name type", `{"cniVersion":"1.0.0","name":3,"type":"bridge"}`, `name must be a string`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateNADConfig([]byte(tc.conf))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestResolveNADConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "10-a.conf"), `{"cniVersion":"0.3.1","name":"disk","type":"bridge"}`)
	writeFile(t, filepath.Join(dir, "20-b.conflist"), `{"cniVersion":"1.0.0","name":"disk","plugins":[{"type":"macvlan"}]}`)
	writeFile(t, filepath.Join(dir, "30-c.json"), `{"cniVersion":"1.0.0","name":"only-conf","type":"ptp"}`)
	writeFile(t, filepath.Join(dir, "40-bad.conf"), `not json`)

	t.Run("spec.config wins and gets the name injected", func(t *testing.T) {
		t.Parallel()
		got, err := ResolveNADConfig(&NetworkAttachmentDefinition{Namespace: "ns", Name: "disk",
			Config: `{"cniVersion":"1.0.0","type":"host-device"}`}, dir)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil || m["name"] != "disk" || m["type"] != "host-device" {
			t.Fatalf("got %s (%v)", got, err)
		}
	})
	t.Run("named config is kept byte for byte", func(t *testing.T) {
		t.Parallel()
		in := `{"cniVersion":"1.0.0", "name":"mine","type":"host-device"}`
		got, err := ResolveNADConfig(&NetworkAttachmentDefinition{Namespace: "ns", Name: "disk", Config: in}, dir)
		if err != nil || string(got) != in {
			t.Fatalf("got %s, %v", got, err)
		}
	})
	t.Run("on-disk conflist before conf", func(t *testing.T) {
		t.Parallel()
		got, err := ResolveNADConfig(&NetworkAttachmentDefinition{Namespace: "ns", Name: "disk"}, dir)
		if err != nil || !strings.Contains(string(got), "macvlan") {
			t.Fatalf("got %s, %v", got, err)
		}
	})
	t.Run("on-disk json conf", func(t *testing.T) {
		t.Parallel()
		got, err := ResolveNADConfig(&NetworkAttachmentDefinition{Namespace: "ns", Name: "only-conf"}, dir)
		if err != nil || !strings.Contains(string(got), "ptp") {
			t.Fatalf("got %s, %v", got, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		_, err := ResolveNADConfig(&NetworkAttachmentDefinition{Namespace: "ns", Name: "nope"}, dir)
		if !errors.Is(err, ErrConfigNotFound) || !strings.Contains(err.Error(), "ns/nope") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("invalid spec.config", func(t *testing.T) {
		t.Parallel()
		_, err := ResolveNADConfig(&NetworkAttachmentDefinition{Namespace: "ns", Name: "x", Config: `{"type":"bridge"}`}, dir)
		if err == nil || !strings.Contains(err.Error(), "ns/x: CNI configuration has no cniVersion") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("first conf in dir", func(t *testing.T) {
		t.Parallel()
		path, b, err := FirstConfInDir(dir)
		if err != nil || filepath.Base(path) != "10-a.conf" || !strings.Contains(string(b), "bridge") {
			t.Fatalf("got %s %s %v", path, b, err)
		}
	})
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	got := Capabilities([]byte(`{"plugins":[{"type":"a","capabilities":{"ips":true,"mac":false}},{"type":"b","capabilities":{"portMappings":true}}]}`))
	if len(got) != 2 || !got["ips"] || !got["portMappings"] {
		t.Fatalf("got %v", got)
	}
	got = Capabilities([]byte(`{"type":"a","capabilities":{"mac":true}}`))
	if len(got) != 1 || !got["mac"] {
		t.Fatalf("got %v", got)
	}
}
