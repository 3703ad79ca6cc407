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

package install

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/internal/testenv"
)

func writeFile(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFileAtomicSkipsUnchangedAndLeavesNoTemp(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	changed, err := WriteFileAtomic(path, []byte("a"), 0o600)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(BeTrue())
	changed, err = WriteFileAtomic(path, []byte("a"), 0o600)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(BeFalse(), "same content and mode is not rewritten")
	changed, err = WriteFileAtomic(path, []byte("a"), 0o644)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(BeTrue(), "a mode change is applied")
	entries, _ := os.ReadDir(dir)
	g.Expect(entries).To(HaveLen(1))
}

// TestCopyOverRunningBinary replaces a binary while it executes: a plain copy onto it fails with
// ETXTBSY ("text file busy", Multus #1221); the atomic copy never opens it for writing.
func TestCopyOverRunningBinary(t *testing.T) {
	g := NewWithT(t)
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		testenv.SkipOrFail(t, "no sleep binary: %v", err)
	}
	src, bin := t.TempDir(), t.TempDir()
	data, err := os.ReadFile(sleep)
	g.Expect(err).NotTo(HaveOccurred())
	target := filepath.Join(bin, "plugin")
	g.Expect(os.WriteFile(target, data, 0o755)).To(Succeed())
	cmd := exec.Command(target, "30")
	g.Expect(cmd.Start()).To(Succeed())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	// A naive in-place write fails while the binary runs.
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_TRUNC, 0o755)
	if err == nil {
		_ = f.Close()
		t.Log("this kernel allowed writing a running binary; the atomic path is checked anyway")
	} else {
		g.Expect(errors.Is(err, syscall.ETXTBSY)).To(BeTrue(), "unexpected error %v", err)
	}
	newContent := append([]byte(nil), data...)
	newContent = append(newContent, []byte("plexus")...) // different content, same prefix
	writeFile(t, filepath.Join(src, "plugin"), string(newContent), 0o755)
	changed, err := CopyFileAtomic(filepath.Join(src, "plugin"), target, 0o755)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(BeTrue())
	got, _ := os.ReadFile(target)
	g.Expect(got).To(Equal(newContent))
	// The running process keeps its (old) inode.
	g.Expect(cmd.Process.Signal(syscall.Signal(0))).To(Succeed(), "the running binary is unaffected")
}

func newInstaller(t *testing.T) (*Installer, string) {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(root, "plugins")
	for _, p := range []string{"plexus-cni", "plexus-cni-direct", "bridge", "macvlan", "host-local"} {
		writeFile(t, filepath.Join(src, p), "#!/bin/sh\necho "+p+"\n", 0o755)
	}
	return &Installer{
		SourceDir: src, BinDir: filepath.Join(root, "bin"), ConfDir: filepath.Join(root, "net.d"),
		Meta: MetaConf{AgentSocket: "/run/plexus/agent.sock", CNIDir: "/var/lib/cni/plexus"}, Version: "v1.2.3",
	}, root
}

func TestInstallBinariesSelectsPluginsAndReportsVersions(t *testing.T) {
	g := NewWithT(t)
	i, _ := newInstaller(t)
	i.Plugins = []string{"macvlan"}
	comps, err := i.InstallBinaries()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(comps).To(ConsistOf(
		Component{Name: "plexus-cni-direct", Version: "v1.2.3"},
		Component{Name: "plexus-cni", Version: "v1.2.3"},
		HaveField("Name", "macvlan"),
	))
	g.Expect(comps[0].Name).To(Equal("plexus-cni-direct"), "installed before the plexus-cni that hands commands to it")
	_, err = os.Stat(filepath.Join(i.BinDir, "bridge"))
	g.Expect(os.IsNotExist(err)).To(BeTrue(), "unselected plugins are not installed")
	fi, err := os.Stat(filepath.Join(i.BinDir, "macvlan"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o755)))

	i.Plugins = []string{"sriov"}
	_, err = i.InstallBinaries()
	g.Expect(err).To(MatchError(ContainSubstring("plugin sriov is not shipped")))

	g.Expect(os.Remove(filepath.Join(i.SourceDir, "plexus-cni-direct"))).To(Succeed())
	i.Plugins = nil
	_, err = i.InstallBinaries()
	g.Expect(err).To(MatchError(ContainSubstring("plexus-cni-direct is missing")))
}

func TestPublishWaitsForTheClusterNetwork(t *testing.T) {
	g := NewWithT(t)
	i, root := newInstaller(t)
	_, _, err := i.PublishConf()
	g.Expect(err).To(MatchError(ErrClusterNetworkNotReady))
	g.Expect(i.Published()).To(BeFalse())

	// A temp file and an unrelated file are not the cluster network.
	writeFile(t, filepath.Join(i.ConfDir, ".tmp.123"), `{"name":"x","cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}`, 0o644)
	writeFile(t, filepath.Join(i.ConfDir, "README"), "hello", 0o644)
	_, _, err = i.PublishConf()
	g.Expect(err).To(MatchError(ErrClusterNetworkNotReady))

	// The readiness indicator file gates publishing too.
	i.Meta.ReadinessIndicatorFile = filepath.Join(root, "ready")
	writeFile(t, filepath.Join(i.ConfDir, "10-bridge.conflist"),
		`{"name":"cbr0","cniVersion":"1.0.0","plugins":[{"type":"bridge"},{"type":"portmap","capabilities":{"portMappings":true}}]}`, 0o644)
	_, _, err = i.PublishConf()
	g.Expect(err).To(MatchError(ContainSubstring("readiness indicator file")))
	g.Expect(i.Published()).To(BeFalse())

	writeFile(t, i.Meta.ReadinessIndicatorFile, "", 0o644)
	path, changed, err := i.PublishConf()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(BeTrue())
	g.Expect(path).To(Equal(filepath.Join(i.ConfDir, "10-bridge.conflist")))

	b, err := os.ReadFile(i.ConfPath())
	g.Expect(err).NotTo(HaveOccurred())
	var conf struct {
		CNIVersion string           `json:"cniVersion"`
		Name       string           `json:"name"`
		Plugins    []map[string]any `json:"plugins"`
	}
	g.Expect(json.Unmarshal(b, &conf)).To(Succeed())
	g.Expect(conf.CNIVersion).To(Equal("1.0.0"))
	g.Expect(conf.Name).To(Equal("plexus"))
	g.Expect(conf.Plugins).To(HaveLen(1))
	g.Expect(conf.Plugins[0]).To(HaveKeyWithValue("type", "plexus-cni"))
	g.Expect(conf.Plugins[0]).To(HaveKeyWithValue("clusterNetwork", path))
	g.Expect(conf.Plugins[0]).To(HaveKeyWithValue("agentSocket", "/run/plexus/agent.sock"))
	g.Expect(conf.Plugins[0]).To(HaveKeyWithValue("capabilities", map[string]any{"portMappings": true}))
	fi, _ := os.Stat(i.ConfPath())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o600)))

	// Publishing again is a no-op; our own conf is never taken for the cluster network.
	path2, changed, err := i.PublishConf()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(changed).To(BeFalse())
	g.Expect(path2).To(Equal(path))
	entries, _ := os.ReadDir(i.ConfDir)
	for _, e := range entries {
		g.Expect(e.Name()).NotTo(ContainSubstring("plexus-tmp"), "no temp file is left in the conf dir")
	}
}

func TestClusterNetworkByNameSkipsMetaPlugins(t *testing.T) {
	g := NewWithT(t)
	i, _ := newInstaller(t)
	writeFile(t, filepath.Join(i.ConfDir, "00-multus.conf"), `{"name":"multus-cni-network","type":"multus","cniVersion":"0.3.1"}`, 0o644)
	writeFile(t, filepath.Join(i.ConfDir, "10-calico.conflist"), `{"name":"k8s-pod-network","cniVersion":"0.3.1","plugins":[{"type":"calico"}]}`, 0o644)
	writeFile(t, filepath.Join(i.ConfDir, "20-other.conf"), `{"name":"other","type":"bridge","cniVersion":"0.4.0"}`, 0o644)
	path, _, err := i.ClusterNetworkConf()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(filepath.Base(path)).To(Equal("10-calico.conflist"), "auto skips Multus")
	i.ClusterNetwork = "other"
	path, _, err = i.ClusterNetworkConf()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(filepath.Base(path)).To(Equal("20-other.conf"))
	i.ClusterNetwork = "missing"
	_, _, err = i.ClusterNetworkConf()
	g.Expect(err).To(MatchError(ErrClusterNetworkNotReady))
}

func TestUninstallRemovesOnlyPlexusConf(t *testing.T) {
	g := NewWithT(t)
	i, _ := newInstaller(t)
	writeFile(t, filepath.Join(i.ConfDir, "10-bridge.conflist"), `{"name":"cbr0","cniVersion":"1.0.0","plugins":[{"type":"bridge"}]}`, 0o644)
	_, _, err := i.PublishConf()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(i.Uninstall()).To(Succeed())
	g.Expect(i.Published()).To(BeFalse())
	g.Expect(i.Uninstall()).To(Succeed(), "idempotent")
	_, err = os.Stat(filepath.Join(i.ConfDir, "10-bridge.conflist"))
	g.Expect(err).NotTo(HaveOccurred(), "the cluster network stays")

	writeFile(t, i.ConfPath(), `{"name":"someone-else","plugins":[{"type":"bridge"}]}`, 0o644)
	g.Expect(i.Uninstall()).To(MatchError(ContainSubstring("not a Plexus configuration")))
}
