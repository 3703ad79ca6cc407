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

package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// recorder is a T that records what happened instead of stopping the test.
type recorder struct{ fatal, skip string }

func (r *recorder) Helper()                      {}
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recorder) Skipf(f string, args ...any)  { r.skip = fmt.Sprintf(f, args...) }

func TestSkipOrFail(t *testing.T) {
	for _, tc := range []struct {
		ci        string
		wantFatal bool
	}{{"", false}, {"true", true}, {"1", true}} {
		t.Setenv("CI", tc.ci)
		r := &recorder{}
		SkipOrFail(r, "no %s", "thing")
		if got := r.fatal != ""; got != tc.wantFatal {
			t.Errorf("CI=%q: fatal=%q skip=%q, want fatal %t", tc.ci, r.fatal, r.skip, tc.wantFatal)
		}
		if !tc.wantFatal && r.skip != "no thing" {
			t.Errorf("CI=%q: skip message %q", tc.ci, r.skip)
		}
	}
}

func TestEnvtestAssets(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KUBEBUILDER_ASSETS", dir)
	if _, err := EnvtestAssets(); err == nil {
		t.Fatal("no kube-apiserver in the directory, want an error")
	}
	if err := os.WriteFile(filepath.Join(dir, "kube-apiserver"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := EnvtestAssets()
	if err != nil || got != dir {
		t.Fatalf("EnvtestAssets() = %q, %v; want %q", got, err, dir)
	}
}
