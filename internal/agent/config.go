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

package agent

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/cni/agentclient"
)

// Default host paths.
const (
	DefaultCNIBinDir          = "/opt/cni/bin"
	DefaultCNIConfDir         = "/etc/cni/net.d"
	DefaultCNICacheDir        = "/var/lib/cni/plexus"
	DefaultStateDir           = "/var/lib/plexus"
	DefaultRunDir             = "/run/plexus"
	DefaultPodResourcesSocket = "/var/lib/kubelet/pod-resources/kubelet.sock"
	DefaultPluginsDir         = "/plugins"
	DefaultReadyFile          = "/tmp/plexus-agent/ready"
	DefaultServiceAccountDir  = "/var/run/secrets/kubernetes.io/serviceaccount" //nolint:gosec // a path
)

// Config is the agent configuration, built from flags in cmd/agent (rendered by the operator
// from the PlexusConfig) and then adjusted per node by ApplyNodeAnnotations.
type Config struct {
	// NodeName is this node (downward API).
	NodeName string
	// PluginsDir holds plexus-cni and the delegate plugins in the image.
	PluginsDir string
	// Plugins restricts the delegate plugins installed (empty: all).
	Plugins []string
	// CNIBinDir, CNIConfDir and CNICacheDir are the host CNI directories.
	CNIBinDir, CNIConfDir, CNICacheDir string
	// HostRoot is the extra host directory node annotations may point into ("" = none).
	HostRoot string
	// ClusterNetwork is the cluster network configuration's name ("" = auto).
	ClusterNetwork string
	// ReadinessIndicatorFile must exist before the configuration is published.
	ReadinessIndicatorFile string
	// NamespaceIsolation and GlobalNamespaces are written into plexus-cni's configuration.
	NamespaceIsolation bool
	GlobalNamespaces   []string
	// StateDir holds the journal and the fallback credentials; RunDir the socket.
	StateDir, RunDir string
	// PodResourcesSocket is the kubelet PodResources socket.
	PodResourcesSocket string
	// CNILogFile and CNILogLevel are plexus-cni's logging settings.
	CNILogFile, CNILogLevel string
	// SysRoot is the sysfs root (/sys).
	SysRoot string
	// ReadyFile is written once the agent is ready (the readiness probe checks it).
	ReadyFile string
	// ServiceAccountDir holds the agent's token and CA (for plexus-cni's fallback kubeconfig).
	ServiceAccountDir string
	// APIServer is the API server URL written into the fallback kubeconfig ("" = none).
	APIServer string
	// MaxConcurrent bounds concurrent socket requests.
	MaxConcurrent int
	// Uninstall makes the agent remove the Plexus configuration and idle.
	Uninstall bool
	// Version is the agent's (and plexus-cni's) version.
	Version string
}

// Defaults fills unset paths.
func (c *Config) Defaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.CNIBinDir, DefaultCNIBinDir)
	def(&c.CNIConfDir, DefaultCNIConfDir)
	def(&c.CNICacheDir, DefaultCNICacheDir)
	def(&c.StateDir, DefaultStateDir)
	def(&c.RunDir, DefaultRunDir)
	def(&c.PodResourcesSocket, DefaultPodResourcesSocket)
	def(&c.PluginsDir, DefaultPluginsDir)
	def(&c.ReadyFile, DefaultReadyFile)
	def(&c.SysRoot, "/sys")
	def(&c.ServiceAccountDir, DefaultServiceAccountDir)
}

// Socket is the agent socket path.
func (c *Config) Socket() string { return filepath.Join(c.RunDir, agentclient.SocketName) }

// ApplyNodeAnnotations overrides host paths from the node's plexus.dev/* annotations. Every
// overridden path must be absolute and lie below HostRoot (the only extra host directory the
// DaemonSet mounts).
func (c *Config) ApplyNodeAnnotations(ann map[string]string) error {
	var errs []error
	set := func(key string, dst *string) {
		v, ok := ann[key]
		if !ok || v == "" {
			return
		}
		v = filepath.Clean(v)
		switch {
		case !filepath.IsAbs(v):
			errs = append(errs, fmt.Errorf("node annotation %s=%q: not an absolute path", key, v))
		case c.HostRoot == "":
			errs = append(errs, fmt.Errorf("node annotation %s=%q: PlexusConfig spec.hostPaths.hostRoot is not set, so the path is not mounted", key, v))
		case !within(v, c.HostRoot):
			errs = append(errs, fmt.Errorf("node annotation %s=%q: not below hostRoot %s", key, v, c.HostRoot))
		default:
			*dst = v
		}
	}
	set(plexusv1alpha1.CNIBinDirAnnotation, &c.CNIBinDir)
	set(plexusv1alpha1.CNIConfDirAnnotation, &c.CNIConfDir)
	set(plexusv1alpha1.CNICacheDirAnnotation, &c.CNICacheDir)
	set(plexusv1alpha1.CNILogFileAnnotation, &c.CNILogFile)
	set(plexusv1alpha1.AgentStateDirAnnotation, &c.StateDir)
	set(plexusv1alpha1.AgentRunDirAnnotation, &c.RunDir)
	set(plexusv1alpha1.PodResourcesSocketAnnotation, &c.PodResourcesSocket)
	return errors.Join(errs...)
}

func within(path, root string) bool {
	root = filepath.Clean(root)
	return path == root || strings.HasPrefix(path, root+string(filepath.Separator))
}
