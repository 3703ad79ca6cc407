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

// Package verify tests "make verify" itself: in a scratch clone of the committed tree it must pass,
// and it must fail once an API type changes without the generated code being regenerated.
package verify

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestVerifyCatchesStaleGeneratedCode(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and runs the code generators")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		t.Fatalf("not a git checkout: %v", err)
	}
	clone := filepath.Join(t.TempDir(), "plexus")
	run(t, root, "git", "clone", "-q", "--no-hardlinks", root, clone)
	// The clone shares the tool cache (~/.cache/plexus) and needs the pinned tools in its bin/.
	run(t, clone, "make", "-s", "tools")

	if out, err := verifyGenerated(clone); err != nil {
		t.Fatalf("verify fails on the committed tree itself: %v\n%s", err, out)
	}

	// A new API type, committed without running the generators: deepcopy code is now stale.
	probe := "package v1alpha1\n\n// DriftProbe is a type added by the verify test.\ntype DriftProbe struct {\n\t// Items is a slice, so DeepCopy has work to do.\n\tItems []string `json:\"items,omitempty\"`\n}\n"
	header, err := os.ReadFile(filepath.Join(root, "hack", "boilerplate.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(clone, "api", "v1alpha1", "driftprobe_types.go"), append(header, []byte("\n"+probe)...), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, clone, "git", "add", "-A")
	run(t, clone, "git", "-c", "user.name=test", "-c", "user.email=test@plexus.dev", "commit", "-qm", "add a type, forget make generate")

	out, err := verifyGenerated(clone)
	if err == nil {
		t.Fatalf("verify passed although zz_generated.deepcopy.go is stale:\n%s", out)
	}
	if !strings.Contains(out, "generated files are stale") || !strings.Contains(out, "zz_generated.deepcopy.go") {
		t.Fatalf("verify failed without naming the stale file:\n%s", out)
	}
}

func verifyGenerated(dir string) (string, error) {
	cmd := exec.Command(filepath.Join(dir, "hack", "verify.sh"), "generated")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func run(t *testing.T, dir string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
