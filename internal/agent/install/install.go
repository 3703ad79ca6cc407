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
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/plexus-net/plexus/internal/netattach"
)

// Defaults.
const (
	// DefaultConfName sorts before every usual cluster network configuration.
	DefaultConfName = "00-plexus.conflist"
	// MetaPluginName is the meta-plugin binary and its configuration "type".
	MetaPluginName = "plexus-cni"
	// DirectPluginName is plexus-cni's direct API mode build (plugin.DirectBinary), which
	// plexus-cni execs when no agent answers; always installed, before plexus-cni.
	DirectPluginName = "plexus-cni-direct"
	// ConfNetworkName is the "name" of the Plexus configuration list.
	ConfNetworkName = "plexus"
	// AgentManagedMarker in the conf dir tells other installers (the local cluster's
	// node-up.sh) that the agent owns the Plexus configuration on this node.
	AgentManagedMarker = ".agent-managed"
)

// ErrClusterNetworkNotReady means the cluster network's configuration or the readiness
// indicator file does not exist yet; nothing is published.
var ErrClusterNetworkNotReady = errors.New("cluster network not ready")

// Component is an installed binary and its version.
type Component struct {
	Name    string
	Version string
}

// MetaConf is what the installer writes into plexus-cni's configuration entry, besides the
// cluster network it finds.
type MetaConf struct {
	CNIDir                 string   `json:"cniDir,omitempty"`
	BinDir                 string   `json:"binDir,omitempty"`
	ConfDir                string   `json:"confDir,omitempty"`
	AgentSocket            string   `json:"agentSocket,omitempty"`
	Kubeconfig             string   `json:"kubeconfig,omitempty"`
	PodResourcesSocket     string   `json:"podResourcesSocket,omitempty"`
	LogFile                string   `json:"logFile,omitempty"`
	LogLevel               string   `json:"logLevel,omitempty"`
	NamespaceIsolation     bool     `json:"namespaceIsolation,omitempty"`
	GlobalNamespaces       []string `json:"globalNamespaces,omitempty"`
	ReadinessIndicatorFile string   `json:"readinessindicatorfile,omitempty"`
}

// Installer installs Plexus on one node.
type Installer struct {
	// SourceDir holds plexus-cni and the delegate plugins (/plugins in the agent image).
	SourceDir string
	// Plugins restricts the delegate plugins installed (empty: every file in SourceDir).
	// plexus-cni is always installed.
	Plugins []string
	// BinDir and ConfDir are the host CNI directories.
	BinDir, ConfDir string
	// ConfName is the configuration file name (default DefaultConfName).
	ConfName string
	// ClusterNetwork is the cluster network configuration's name ("" = auto: the first
	// configuration in ConfDir that is not Plexus').
	ClusterNetwork string
	// Meta is copied into plexus-cni's configuration entry.
	Meta MetaConf
	// Version is plexus-cni's version (the agent's: they ship in the same image).
	Version string
}

func (i *Installer) confName() string {
	if i.ConfName != "" {
		return i.ConfName
	}
	return DefaultConfName
}

// ConfPath is the path of the Plexus configuration.
func (i *Installer) ConfPath() string { return filepath.Join(i.ConfDir, i.confName()) }

// InstallBinaries copies plexus-cni and the selected plugins into BinDir atomically, skipping
// files whose content is already there, and returns what is installed.
func (i *Installer) InstallBinaries() ([]Component, error) {
	entries, err := os.ReadDir(i.SourceDir)
	if err != nil {
		return nil, fmt.Errorf("failed to list plugins in %s: %w", i.SourceDir, err)
	}
	if err := os.MkdirAll(i.BinDir, 0o755); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", i.BinDir, err)
	}
	// plexus-cni-direct goes in before the plexus-cni that may hand commands to it.
	slices.SortStableFunc(entries, func(a, b os.DirEntry) int {
		return boolInt(b.Name() == DirectPluginName) - boolInt(a.Name() == DirectPluginName)
	})
	var out []Component
	var errs []error
	found := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		meta := name == MetaPluginName || name == DirectPluginName
		if !meta && len(i.Plugins) > 0 && !slices.Contains(i.Plugins, name) {
			continue
		}
		found[name] = true
		src, dst := filepath.Join(i.SourceDir, name), filepath.Join(i.BinDir, name)
		if _, err := CopyFileAtomic(src, dst, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, Component{Name: name, Version: i.versionOf(src, name)})
	}
	for _, m := range []string{MetaPluginName, DirectPluginName} {
		if !found[m] {
			errs = append(errs, fmt.Errorf("%s is missing from %s", m, i.SourceDir))
		}
	}
	for _, p := range i.Plugins {
		if !found[p] {
			errs = append(errs, fmt.Errorf("plugin %s is not shipped in %s", p, i.SourceDir))
		}
	}
	return out, errors.Join(errs...)
}

// versionOf reads a Go binary's build info: the containernetworking/plugins module version for
// reference plugins, Version for plexus-cni, else the main module version or a content hash.
func (i *Installer) versionOf(path, name string) string {
	if (name == MetaPluginName || name == DirectPluginName) && i.Version != "" {
		return i.Version
	}
	if bi, err := buildinfo.ReadFile(path); err == nil {
		for _, d := range bi.Deps {
			if d.Path == "github.com/containernetworking/plugins" {
				return d.Version
			}
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	if sum, err := FileSHA256(path); err == nil {
		return "sha256:" + sum[:12]
	}
	return ""
}

// ClusterNetworkConf finds the cluster network's configuration in ConfDir: by name when
// ClusterNetwork is set, else the lexically first .conf/.conflist/.json that is not Plexus'
// (nor Multus', when migrating). It returns ErrClusterNetworkNotReady when there is none.
func (i *Installer) ClusterNetworkConf() (string, []byte, error) {
	entries, err := os.ReadDir(i.ConfDir)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil, fmt.Errorf("%w: %s does not exist", ErrClusterNetworkNotReady, i.ConfDir)
	}
	if err != nil {
		return "", nil, fmt.Errorf("failed to list %s: %w", i.ConfDir, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, ".") || n == i.confName() {
			continue
		}
		switch filepath.Ext(n) {
		case ".conf", ".conflist", ".json":
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		path := filepath.Join(i.ConfDir, n)
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var hdr struct {
			Name    string `json:"name"`
			Type    string `json:"type"`
			Plugins []struct {
				Type string `json:"type"`
			} `json:"plugins"`
		}
		if json.Unmarshal(b, &hdr) != nil {
			continue
		}
		types := []string{hdr.Type}
		for _, p := range hdr.Plugins {
			types = append(types, p.Type)
		}
		if slices.ContainsFunc(types, isMetaPlugin) {
			continue
		}
		if i.ClusterNetwork != "" && hdr.Name != i.ClusterNetwork {
			continue
		}
		return path, b, nil
	}
	what := "no cluster network configuration"
	if i.ClusterNetwork != "" {
		what = fmt.Sprintf("no configuration named %q", i.ClusterNetwork)
	}
	return "", nil, fmt.Errorf("%w: %s in %s", ErrClusterNetworkNotReady, what, i.ConfDir)
}

func isMetaPlugin(t string) bool {
	return t == MetaPluginName || t == "multus" || t == "multus-shim"
}

// RenderConf builds the Plexus configuration list wrapping the cluster network at path.
func (i *Installer) RenderConf(clusterPath string, clusterConf []byte) ([]byte, error) {
	var hdr struct {
		CNIVersion string `json:"cniVersion"`
	}
	if err := json.Unmarshal(clusterConf, &hdr); err != nil {
		return nil, fmt.Errorf("cluster network configuration %s: %w", clusterPath, err)
	}
	version := "1.0.0"
	if slices.Contains([]string{"0.3.1", "0.4.0", "1.0.0", "1.1.0"}, hdr.CNIVersion) {
		version = hdr.CNIVersion
	}
	entry := map[string]any{}
	b, err := json.Marshal(i.Meta)
	if err != nil {
		return nil, fmt.Errorf("failed to marshal the meta-plugin settings: %w", err)
	}
	if err := json.Unmarshal(b, &entry); err != nil {
		return nil, fmt.Errorf("failed to convert the meta-plugin settings: %w", err)
	}
	entry["type"] = MetaPluginName
	entry["clusterNetwork"] = clusterPath
	// The runtime passes runtimeConfig only for declared capabilities: declare the cluster
	// network's so portMappings, bandwidth, ... still reach it through plexus-cni.
	if caps := netattach.Capabilities(clusterConf); len(caps) > 0 {
		entry["capabilities"] = caps
	}
	conf := map[string]any{"cniVersion": version, "name": ConfNetworkName, "plugins": []any{entry}}
	out, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("failed to marshal the configuration: %w", err)
	}
	return append(out, '\n'), nil
}

// PublishConf writes the Plexus configuration once the cluster network is ready. It returns
// the cluster network's path and whether the file changed; ErrClusterNetworkNotReady (wrapped)
// when it must wait.
func (i *Installer) PublishConf() (string, bool, error) {
	if f := i.Meta.ReadinessIndicatorFile; f != "" {
		if _, err := os.Stat(f); err != nil {
			return "", false, fmt.Errorf("%w: readiness indicator file %s: %w", ErrClusterNetworkNotReady, f, err)
		}
	}
	path, conf, err := i.ClusterNetworkConf()
	if err != nil {
		return "", false, err
	}
	data, err := i.RenderConf(path, conf)
	if err != nil {
		return path, false, err
	}
	if _, err := WriteFileAtomic(filepath.Join(i.ConfDir, AgentManagedMarker), nil, 0o600); err != nil {
		return path, false, err
	}
	changed, err := WriteFileAtomic(i.ConfPath(), data, 0o600)
	return path, changed, err
}

// Published reports whether a Plexus configuration is in place.
func (i *Installer) Published() bool {
	_, err := os.Stat(i.ConfPath())
	return err == nil
}

// Uninstall removes the Plexus configuration (only if it is Plexus') so the runtime uses the
// cluster network directly again. Binaries and plexus-cni's caches stay: pods created through
// Plexus still need them to be torn down.
func (i *Installer) Uninstall() error {
	b, err := os.ReadFile(i.ConfPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", i.ConfPath(), err)
	}
	if !strings.Contains(string(b), `"`+MetaPluginName+`"`) {
		return fmt.Errorf("%s is not a Plexus configuration; leaving it alone", i.ConfPath())
	}
	if err := os.Remove(i.ConfPath()); err != nil {
		return fmt.Errorf("failed to remove %s: %w", i.ConfPath(), err)
	}
	if err := os.Remove(filepath.Join(i.ConfDir, AgentManagedMarker)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("failed to remove the agent marker: %w", err)
	}
	return SyncDir(i.ConfDir)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
