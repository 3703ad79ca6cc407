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

// Package testenv is what the project's tests share about the machine they run on: where the
// envtest binaries are, and what to do when a precondition (root, envtest, a kernel feature) is
// missing: skip on a developer's machine, fail in CI, which runs as root with everything installed.
// It is imported by tests only.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// T is the part of testing.TB (and of Ginkgo's GinkgoT()) the helpers use.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// InCI reports whether the tests run in CI (CI set to anything but empty).
func InCI() bool { return os.Getenv("CI") != "" }

// SkipOrFail skips the test, or fails it in CI, where a missing precondition is a bug.
func SkipOrFail(t T, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("precondition missing in CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// RequireRoot skips (or fails in CI) unless the test runs as root.
func RequireRoot(t T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "needs root: %s", why)
	}
}

// RepoRoot is the repository root: the nearest directory above the working directory that
// holds go.mod.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if d == filepath.Dir(d) {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

// EnvtestAssets returns the directory of the envtest binaries (etcd, kube-apiserver):
// $KUBEBUILDER_ASSETS, else <repo>/bin/k8s (what make k8s-bins builds), as an absolute path.
// It fails when kube-apiserver is not there.
func EnvtestAssets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "bin", "k8s")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		return "", errors.Join(fmt.Errorf("envtest binaries missing in %s (run make k8s-bins)", dir), err)
	}
	return dir, nil
}

// RequireEnvtest returns the envtest binaries directory, or skips (fails in CI) without it.
func RequireEnvtest(t T) string {
	t.Helper()
	dir, err := EnvtestAssets()
	if err != nil {
		SkipOrFail(t, "%v", err)
	}
	return dir
}

// HugepagesLock is the machine-wide lock held by every test that resizes this machine's real
// hugepage pools, so that packages (and the e2e suite) can run in parallel.
const HugepagesLock = "/tmp/plexus-hugepages.lock"

// LockHugepages takes HugepagesLock, waiting for other holders, and returns its release.
func LockHugepages() (release func(), err error) {
	f, err := os.OpenFile(HugepagesLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s: %w", HugepagesLock, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("failed to lock %s: %w", HugepagesLock, err)
	}
	return func() { _ = f.Close() }, nil
}
