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

package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("token", "secret-token\n")
	cases := []struct {
		name, content, wantErr, wantServer, wantTokenFile string
	}{
		{name: "token file relative", content: `apiVersion: v1
clusters:
- name: a
  cluster: {server: "http://127.0.0.1:8080/"}
users:
- name: u
  user: {tokenFile: token}
contexts:
- name: ctx
  context: {cluster: a, user: u}
current-context: ctx
`, wantServer: "http://127.0.0.1:8080", wantTokenFile: filepath.Join(dir, "token")},
		{name: "json form, single context", content: `{"clusters":[{"name":"a","cluster":{"server":"https://h:6443","insecure-skip-tls-verify":true}}],
			"users":[{"name":"u","user":{"token":"t"}}],"contexts":[{"name":"c","context":{"cluster":"a","user":"u"}}]}`,
			wantServer: "https://h:6443"},
		{name: "missing context", content: `current-context: nope
contexts: []`, wantErr: `kubeconfig has no context "nope"`},
		{name: "bad CA", content: `clusters: [{name: a, cluster: {server: "https://h", certificate-authority-data: "bm90IGEgY2VydA=="}}]
contexts: [{name: c, context: {cluster: a}}]
current-context: c`, wantErr: "holds no PEM certificate"},
		{name: "not yaml", content: "\t::", wantErr: "failed to parse kubeconfig"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := write("kc"+string(rune('a'+i)), tc.content)
			cfg, err := LoadConfig(p)
			if tc.wantErr != "" {
				if err == nil || !contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v does not contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Server != tc.wantServer || cfg.TokenFile != tc.wantTokenFile {
				t.Fatalf("got %+v", cfg)
			}
		})
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := LoadConfig(""); err != ErrNoConfig {
		t.Fatalf("want ErrNoConfig, got %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
