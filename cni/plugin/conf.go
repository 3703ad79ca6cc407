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

package plugin

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	cniversion "github.com/containernetworking/cni/pkg/version"
)

// Defaults of the configuration keys.
const (
	DefaultCNIDir             = "/var/lib/cni/plexus"
	DefaultBinDir             = "/opt/cni/bin"
	DefaultConfDir            = "/etc/cni/multus/net.d"
	DefaultMultusNamespace    = "kube-system"
	DefaultPodResourcesSocket = "/var/lib/kubelet/pod-resources/kubelet.sock"
	DefaultDeviceInfoDir      = "/var/run/k8s.cni.cncf.io/devinfo"
	DefaultAPITimeout         = 10 * time.Second
	DefaultDelegateTimeout    = 60 * time.Second
	DefaultReadinessTimeout   = 45 * time.Second
)

// NetConf is plexus-cni's entry in the node's CNI configuration. Keys that mean the
// same as in Multus have Multus' names so configurations carry over.
type NetConf struct {
	types.PluginConf

	// ClusterNetwork is a conf file path, a conf directory (first conf in it) or a NAD
	// name (NAD in MultusNamespace, then a conf with that name in ConfDir).
	ClusterNetwork string `json:"clusterNetwork"`
	// DefaultNetworks are attached to every pod outside SystemNamespaces, after the
	// cluster network and before the annotation's networks.
	DefaultNetworks []string `json:"defaultNetworks,omitempty"`
	// SystemNamespaces get no DefaultNetworks and no network-status (default kube-system).
	SystemNamespaces []string `json:"systemNamespaces,omitempty"`
	// MultusNamespace holds the NADs named by clusterNetwork, defaultNetworks and the
	// default-network annotation (default kube-system).
	MultusNamespace string `json:"multusNamespace,omitempty"`
	// NamespaceIsolation limits pods to NADs of their own namespace and GlobalNamespaces.
	NamespaceIsolation bool `json:"namespaceIsolation,omitempty"`
	// GlobalNamespaces is a comma-separated list (Multus form) or a JSON list.
	GlobalNamespaces StringList `json:"globalNamespaces,omitempty"`
	// ReadinessIndicatorFile must exist before ADD, STATUS and GC proceed.
	ReadinessIndicatorFile string `json:"readinessindicatorfile,omitempty"`
	// CNIDir holds the delegate caches and libcni's result cache.
	CNIDir string `json:"cniDir,omitempty"`
	// BinDir and BinDirs are searched for delegate binaries before CNI_PATH.
	BinDir  string   `json:"binDir,omitempty"`
	BinDirs []string `json:"binDirs,omitempty"`
	// ConfDir holds on-disk configurations of NADs without spec.config.
	ConfDir string `json:"confDir,omitempty"`
	// Kubeconfig is used to reach the API server when no node agent answers.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// AgentSocket is the node agent's unix socket (optional).
	AgentSocket string `json:"agentSocket,omitempty"`
	// PodResourcesSocket is the kubelet PodResources API socket.
	PodResourcesSocket string `json:"podResourcesSocket,omitempty"`
	// DeviceInfoDir is the device-info root (dp/ written by device plugins, cni/ by us).
	DeviceInfoDir string `json:"deviceInfoDir,omitempty"`
	// LogLevel is error, info (default), verbose or debug; LogFile is the log file
	// (default: stderr). plexus-cni never logs to stdout.
	LogLevel string `json:"logLevel,omitempty"`
	LogFile  string `json:"logFile,omitempty"`
	// APITimeoutSeconds bounds resolution and status writes (default 10).
	APITimeoutSeconds int `json:"apiTimeoutSeconds,omitempty"`
	// DelegateTimeoutSeconds bounds each delegate call (default 60).
	DelegateTimeoutSeconds int `json:"delegateTimeoutSeconds,omitempty"`
	// ReadinessTimeoutSeconds bounds the wait for ReadinessIndicatorFile (default 45).
	ReadinessTimeoutSeconds int `json:"readinessTimeoutSeconds,omitempty"`
	// RuntimeConfig is what the runtime passed for our declared capabilities; it goes to
	// the cluster network only (spec §7.5).
	RuntimeConfig map[string]any `json:"runtimeConfig,omitempty"`
}

// StringList accepts a JSON list or a comma-separated string.
type StringList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = nil
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				*l = append(*l, part)
			}
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("must be a string or a list of strings: %w", err)
	}
	*l = list
	return nil
}

// LoadNetConf parses and defaults plexus-cni's configuration. Errors are *types.Error
// with code ErrInvalidNetworkConfig.
func LoadNetConf(stdin []byte) (*NetConf, error) {
	conf := &NetConf{}
	if err := json.Unmarshal(stdin, conf); err != nil {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "plexus-cni: invalid configuration", err.Error())
	}
	if conf.RawPrevResult != nil {
		if err := cniversion.ParsePrevResult(&conf.PluginConf); err != nil {
			return nil, types.NewError(types.ErrInvalidNetworkConfig, "plexus-cni: invalid prevResult", err.Error())
		}
	}
	if conf.SystemNamespaces == nil {
		conf.SystemNamespaces = []string{"kube-system"}
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&conf.MultusNamespace, DefaultMultusNamespace)
	def(&conf.CNIDir, DefaultCNIDir)
	def(&conf.ConfDir, DefaultConfDir)
	def(&conf.PodResourcesSocket, DefaultPodResourcesSocket)
	def(&conf.DeviceInfoDir, DefaultDeviceInfoDir)
	if conf.NamespaceIsolation && conf.GlobalNamespaces == nil {
		conf.GlobalNamespaces = StringList{"default"}
	}
	switch strings.ToLower(conf.LogLevel) {
	case "", "error", "info", "verbose", "debug", "panic":
	default:
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "plexus-cni: invalid configuration",
			fmt.Sprintf("logLevel %q must be error, info, verbose or debug", conf.LogLevel))
	}
	if conf.ClusterNetwork == "" {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "plexus-cni: invalid configuration", "clusterNetwork is required")
	}
	for _, d := range []string{conf.CNIDir, conf.ConfDir, conf.DeviceInfoDir} {
		if !filepath.IsAbs(d) {
			return nil, types.NewError(types.ErrInvalidNetworkConfig, "plexus-cni: invalid configuration",
				fmt.Sprintf("directory %q must be an absolute path", d))
		}
	}
	return conf, nil
}

// binDirs is where delegates are looked up: binDir, binDirs, then CNI_PATH.
func (c *NetConf) binDirs(cniPath string) []string {
	var dirs []string
	if c.BinDir != "" {
		dirs = append(dirs, c.BinDir)
	}
	dirs = append(dirs, c.BinDirs...)
	for _, d := range filepath.SplitList(cniPath) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		dirs = []string{DefaultBinDir}
	}
	return dirs
}

func seconds(n int, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	return time.Duration(n) * time.Second
}

func (c *NetConf) apiTimeout() time.Duration { return seconds(c.APITimeoutSeconds, DefaultAPITimeout) }
func (c *NetConf) delegateTimeout() time.Duration {
	return seconds(c.DelegateTimeoutSeconds, DefaultDelegateTimeout)
}
func (c *NetConf) readinessTimeout() time.Duration {
	return seconds(c.ReadinessTimeoutSeconds, DefaultReadinessTimeout)
}
