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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// PlexusConfigName is the name of the only PlexusConfig the operator acts on.
const PlexusConfigName = "cluster"

// PlexusConfig condition reasons. The condition types are ReadyCondition, ProgressingCondition
// and DegradedCondition.
const (
	// PlexusConfigRolloutCompleteReason (Ready=True, Progressing=False) means every node runs the
	// current agent and the agent is ready there.
	PlexusConfigRolloutCompleteReason = "RolloutComplete"
	// PlexusConfigRollingOutReason (Progressing=True) means agents are being updated; the message
	// counts the updated nodes ("2 of 3 nodes updated").
	PlexusConfigRollingOutReason = "RollingOut"
	// PlexusConfigAgentsNotReadyReason (Ready=False) means some nodes have no ready agent yet.
	PlexusConfigAgentsNotReadyReason = "AgentsNotReady"
	// PlexusConfigNoNodesReason (Ready=True) means no node is eligible for the agent.
	PlexusConfigNoNodesReason = "NoNodes"
	// PlexusConfigAgentFailedReason (Degraded=True) means the agent pod of at least one node is
	// failing (crash loop, image pull error, ...); the message names the nodes.
	PlexusConfigAgentFailedReason = "AgentFailed"
	// PlexusConfigApplyFailedReason (Degraded=True) means writing the agent DaemonSet failed.
	PlexusConfigApplyFailedReason = "ApplyFailed"
	// PlexusConfigUninstallingReason (Ready=False) means the PlexusConfig is being deleted and the
	// agents are removing the Plexus CNI configuration from their nodes.
	PlexusConfigUninstallingReason = "Uninstalling"
)

// PlexusConfigFinalizer makes the operator uninstall Plexus from every node (remove the CNI
// configuration, restore the cluster network) before the PlexusConfig and the agent go away.
const PlexusConfigFinalizer = "net.plexus.dev/agent-uninstall"

// NodeNetworkState conditions and reasons written by the node agent's installer.
const (
	// NodeNetworkStateInstalledCondition is True when the agent has installed plexus-cni and the
	// delegate plugins and published the Plexus CNI configuration on the node.
	NodeNetworkStateInstalledCondition = "Installed"
	// NodeNetworkStateInstalledReason (Installed=True) means the configuration is published.
	NodeNetworkStateInstalledReason = "Installed"
	// NodeNetworkStateWaitingForClusterNetworkReason (Installed=False) means the cluster network's
	// configuration (or the readiness indicator file) does not exist yet, so nothing is published.
	NodeNetworkStateWaitingForClusterNetworkReason = "WaitingForClusterNetwork"
	// NodeNetworkStateInstallFailedReason (Installed=False) means copying a binary or writing the
	// configuration failed.
	NodeNetworkStateInstallFailedReason = "InstallFailed"
	// NodeNetworkStateUninstalledReason (Installed=False) means the agent removed the Plexus
	// configuration because Plexus is being uninstalled.
	NodeNetworkStateUninstalledReason = "Uninstalled"
	// NodeNetworkStateAgentReadyReason (Ready=True) means the agent serves the meta-plugin.
	NodeNetworkStateAgentReadyReason = "AgentReady"
	// NodeNetworkStateAgentNotReadyReason (Ready=False) means the agent's caches are not synced
	// or the installation is not complete.
	NodeNetworkStateAgentNotReadyReason = "AgentNotReady"
)

// Node annotations the agent reads to override the host paths of PlexusConfig on one node (the
// local development cluster keeps every node's CNI directories under .cluster/nodeN). Every
// overridden path must lie below spec.hostPaths.hostRoot, which the agent DaemonSet mounts.
const (
	// CNIBinDirAnnotation overrides spec.hostPaths.cniBinDir.
	CNIBinDirAnnotation = "plexus.dev/cni-bin-dir"
	// CNIConfDirAnnotation overrides spec.hostPaths.cniConfDir.
	CNIConfDirAnnotation = "plexus.dev/cni-conf-dir"
	// CNICacheDirAnnotation overrides plexus-cni's cache directory (default /var/lib/cni/plexus).
	CNICacheDirAnnotation = "plexus.dev/cni-cache-dir"
	// CNILogFileAnnotation sets plexus-cni's log file (default: stderr, i.e. the runtime's log).
	CNILogFileAnnotation = "plexus.dev/cni-log-file"
	// AgentStateDirAnnotation overrides the agent's state directory (default /var/lib/plexus).
	AgentStateDirAnnotation = "plexus.dev/agent-state-dir"
	// AgentRunDirAnnotation overrides the agent's socket directory (default /run/plexus).
	AgentRunDirAnnotation = "plexus.dev/agent-run-dir"
	// PodResourcesSocketAnnotation overrides the kubelet PodResources socket
	// (default /var/lib/kubelet/pod-resources/kubelet.sock).
	PodResourcesSocketAnnotation = "plexus.dev/pod-resources-socket"
	// PCISysRootAnnotation points the agent's SR-IOV discovery and configuration (the PCI
	// devices below bus/pci) at another sysfs tree than the host's (default: the agent's
	// --sys-root). A development and test override: the local cluster's e2e suite gives a node a
	// fake SR-IOV NIC this way. Hugepages and the uplink keep using the host's sysfs.
	PCISysRootAnnotation = "plexus.dev/pci-sys-root"
)

// AgentLogLevel is the verbosity of the node agent.
// +kubebuilder:validation:Enum=Info;Debug;Trace
type AgentLogLevel string

// Agent log levels.
const (
	// AgentLogLevelInfo logs lifecycle events and errors.
	AgentLogLevelInfo AgentLogLevel = "Info"
	// AgentLogLevelDebug also logs every resolution and status write.
	AgentLogLevelDebug AgentLogLevel = "Debug"
	// AgentLogLevelTrace logs everything.
	AgentLogLevelTrace AgentLogLevel = "Trace"
)

// AgentSpec configures the node agent containers.
type AgentSpec struct {
	// image is the agent image; it carries plexus-cni and the delegate plugins under /plugins.
	// +optional
	// +kubebuilder:default="plexus.local/agent:latest"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// imagePullPolicy is the agent container's pull policy.
	// +optional
	// +kubebuilder:default=IfNotPresent
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	ImagePullPolicy string `json:"imagePullPolicy,omitempty"`

	// logLevel is Info (default), Debug or Trace.
	// +optional
	// +kubebuilder:default=Info
	LogLevel AgentLogLevel `json:"logLevel,omitempty"`
}

// ClusterNetworkSpec says which CNI configuration on each node is the cluster network that
// plexus-cni wraps as attachment 0.
type ClusterNetworkSpec struct {
	// name is the "name" of the cluster network's CNI configuration. Empty (auto) means the
	// first configuration in the node's CNI conf dir, in lexical order, that is not Plexus'.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name,omitempty"`

	// readinessIndicatorFile is a host path whose existence means the cluster network is ready.
	// The agent publishes nothing before it exists, and plexus-cni waits for it on ADD. It must
	// lie in the CNI conf dir or below hostPaths.hostRoot.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	ReadinessIndicatorFile string `json:"readinessIndicatorFile,omitempty"`
}

// NamespaceIsolationSpec restricts pods to the NetworkAttachmentDefinitions of their own
// namespace plus the global namespaces (multi-net spec §7.4). Its presence enables isolation.
type NamespaceIsolationSpec struct {
	// globalNamespaces hold NADs every pod may use.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=63
	GlobalNamespaces []string `json:"globalNamespaces,omitempty"`
}

// RolloutSpec is how a change of the agent rolls across nodes.
type RolloutSpec struct {
	// maxUnavailable is the number or percentage of nodes whose agent may be unavailable during
	// an update (default 1).
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:XIntOrString
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// HostPathsSpec are the host directories the agent installs into.
type HostPathsSpec struct {
	// cniBinDir is the runtime's CNI binary directory.
	// +optional
	// +kubebuilder:default="/opt/cni/bin"
	// +kubebuilder:validation:Pattern=`^/.+`
	// +kubebuilder:validation:MaxLength=4096
	CNIBinDir string `json:"cniBinDir,omitempty"`

	// cniConfDir is the runtime's CNI configuration directory.
	// +optional
	// +kubebuilder:default="/etc/cni/net.d"
	// +kubebuilder:validation:Pattern=`^/.+`
	// +kubebuilder:validation:MaxLength=4096
	CNIConfDir string `json:"cniConfDir,omitempty"`

	// stateDir is the agent's state directory (status journal, plexus-cni's fallback
	// credentials).
	// +optional
	// +kubebuilder:default="/var/lib/plexus"
	// +kubebuilder:validation:Pattern=`^/.+`
	// +kubebuilder:validation:MaxLength=4096
	StateDir string `json:"stateDir,omitempty"`

	// runDir holds the agent's unix socket.
	// +optional
	// +kubebuilder:default="/run/plexus"
	// +kubebuilder:validation:Pattern=`^/.+`
	// +kubebuilder:validation:MaxLength=4096
	RunDir string `json:"runDir,omitempty"`

	// kubeletPodResourcesDir holds the kubelet PodResources socket (kubelet.sock), read for the
	// device IDs of SR-IOV attachments.
	// +optional
	// +kubebuilder:default="/var/lib/kubelet/pod-resources"
	// +kubebuilder:validation:Pattern=`^/.+`
	// +kubebuilder:validation:MaxLength=4096
	KubeletPodResourcesDir string `json:"kubeletPodResourcesDir,omitempty"`

	// hostRoot is an extra host directory mounted into the agent at the same path, for nodes
	// whose paths are overridden by node annotations (plexus.dev/cni-bin-dir, ...). It must not
	// be "/".
	// +optional
	// +kubebuilder:validation:Pattern=`^/.+`
	// +kubebuilder:validation:MaxLength=4096
	HostRoot string `json:"hostRoot,omitempty"`
}

// PlexusConfigSpec is the cluster-wide Plexus configuration.
type PlexusConfigSpec struct {
	// agent configures the node agent DaemonSet.
	// +optional
	Agent AgentSpec `json:"agent,omitempty"`

	// plugins are the reference CNI plugins the agent installs next to plexus-cni. Empty means
	// every plugin the agent image ships.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:Pattern=`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`
	Plugins []string `json:"plugins,omitempty"`

	// clusterNetwork selects the configuration plexus-cni wraps.
	// +optional
	ClusterNetwork ClusterNetworkSpec `json:"clusterNetwork,omitempty"`

	// namespaceIsolation, when set, restricts pods to NADs of their namespace and the global ones.
	// +optional
	NamespaceIsolation *NamespaceIsolationSpec `json:"namespaceIsolation,omitempty"`

	// rollout is how agent updates roll across nodes.
	// +optional
	Rollout RolloutSpec `json:"rollout,omitempty"`

	// hostPaths are the host directories the agent installs into.
	// +optional
	HostPaths HostPathsSpec `json:"hostPaths,omitempty"`
}

// PlexusConfigStatus is the observed state of the agent rollout.
type PlexusConfigStatus struct {
	// conditions are Ready, Progressing and Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=32
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// desiredNodes is the number of nodes that should run the agent.
	// +optional
	DesiredNodes int32 `json:"desiredNodes,omitempty"`

	// updatedNodes is the number of nodes running the current agent.
	// +optional
	UpdatedNodes int32 `json:"updatedNodes,omitempty"`

	// readyNodes is the number of nodes whose agent is ready.
	// +optional
	ReadyNodes int32 `json:"readyNodes,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories=plexus
// +kubebuilder:validation:XValidation:rule="self.metadata.name == 'cluster'",message="PlexusConfig is a singleton: its name must be 'cluster'"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desiredNodes`
// +kubebuilder:printcolumn:name="Updated",type=integer,JSONPath=`.status.updatedNodes`
// +kubebuilder:printcolumn:name="Ready Nodes",type=integer,JSONPath=`.status.readyNodes`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// PlexusConfig is the cluster-wide Plexus configuration (a singleton named "cluster"): the node
// agent DaemonSet, the delegate plugins it installs, the cluster network it wraps, namespace
// isolation and the rollout strategy.
type PlexusConfig struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard object metadata; the name must be "cluster".
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired configuration.
	// +optional
	Spec PlexusConfigSpec `json:"spec,omitempty"`

	// status is the observed rollout state.
	// +optional
	Status PlexusConfigStatus `json:"status,omitempty"`
}

// GetConditions returns the status conditions.
func (c *PlexusConfig) GetConditions() []metav1.Condition { return c.Status.Conditions }

// SetConditions replaces the status conditions.
func (c *PlexusConfig) SetConditions(conds []metav1.Condition) { c.Status.Conditions = conds }

// +kubebuilder:object:root=true

// PlexusConfigList contains a list of PlexusConfig.
type PlexusConfigList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the standard list metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the configurations.
	Items []PlexusConfig `json:"items"`
}

func init() {
	SchemeBuilder.Register(&PlexusConfig{}, &PlexusConfigList{})
}
