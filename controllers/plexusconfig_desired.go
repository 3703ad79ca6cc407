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

package controllers

import (
	"path/filepath"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// Names of the agent objects.
const (
	// AgentName is the name of the agent DaemonSet and of its ServiceAccount (config/agent).
	AgentName = "plexus-agent"
	// agentNameLabel selects the agent pods.
	agentNameLabel = "app.kubernetes.io/name"
	// defaultAgentImage is used when spec.agent.image is empty (the CRD defaults it too).
	defaultAgentImage = "plexus.local/agent:latest"
)

// Paths of the agent: the readiness marker (in-container) and the host path defaults.
const (
	agentReadyDir         = "/tmp/plexus-agent"
	agentReadyFile        = agentReadyDir + "/ready"
	defaultAgentStateDir  = "/var/lib/plexus"
	defaultAgentRunDir    = "/run/plexus"
	defaultPodResourceDir = "/var/lib/kubelet/pod-resources"
)

// agentLabels are the labels of the DaemonSet and its pods (the selector uses the name only).

// hostSysMount is where the agent sees the host's /sys.
const hostSysMount = "/host/sys"

func agentLabels() map[string]string {
	return map[string]string{
		agentNameLabel:                AgentName,
		"app.kubernetes.io/part-of":   "plexus",
		"app.kubernetes.io/component": "node-agent",
		plexusv1alpha1.ManagedByLabel: plexusv1alpha1.ManagedByValue,
	}
}

// desiredAgentDaemonSet renders the node agent DaemonSet from the PlexusConfig. With
// uninstall set, the agents remove the Plexus CNI configuration from their nodes instead.
//
// The agent runs no delegate plugin, so it needs no capability at all: it runs as root (to
// write root-owned host directories) with every capability dropped, a read-only root
// filesystem, host networking (to see the node's default route, netlink reads only) and no
// host PID namespace. Host directories are mounted at the same paths they have on the host, so
// the paths the agent writes into plexus-cni's configuration mean the same on both sides.
func desiredAgentDaemonSet(cfg *plexusv1alpha1.PlexusConfig, namespace string, uninstall bool) *appsv1.DaemonSet {
	spec := &cfg.Spec
	binDir := defaultString(spec.HostPaths.CNIBinDir, "/opt/cni/bin")
	confDir := defaultString(spec.HostPaths.CNIConfDir, "/etc/cni/net.d")
	stateDir := defaultString(spec.HostPaths.StateDir, defaultAgentStateDir)
	runDir := defaultString(spec.HostPaths.RunDir, defaultAgentRunDir)
	podResourcesDir := defaultString(spec.HostPaths.KubeletPodResourcesDir, defaultPodResourceDir)
	image := defaultString(spec.Agent.Image, defaultAgentImage)
	pull := corev1.PullPolicy(defaultString(spec.Agent.ImagePullPolicy, string(corev1.PullIfNotPresent)))
	maxUnavailable := ptr.To(intstr.FromInt32(1))
	if spec.Rollout.MaxUnavailable != nil {
		maxUnavailable = ptr.To(*spec.Rollout.MaxUnavailable)
	}

	args := []string{
		"--cni-bin-dir=" + binDir,
		"--cni-conf-dir=" + confDir,
		"--state-dir=" + stateDir,
		"--run-dir=" + runDir,
		"--pod-resources-socket=" + filepath.Join(podResourcesDir, "kubelet.sock"),
		"--ready-file=" + agentReadyFile,
		"--zap-log-level=" + zapLevel(spec.Agent.LogLevel),
		// The host's sysfs, for NodeNetworkPolicy (SR-IOV VFs, hugepages): the container's own
		// /sys is read-only.
		"--sys-root=" + hostSysMount,
	}
	if spec.HostPaths.HostRoot != "" {
		args = append(args, "--host-root="+filepath.Clean(spec.HostPaths.HostRoot))
	}
	if len(spec.Plugins) > 0 {
		args = append(args, "--plugins="+strings.Join(spec.Plugins, ","))
	}
	if spec.ClusterNetwork.Name != "" {
		args = append(args, "--cluster-network="+spec.ClusterNetwork.Name)
	}
	if spec.ClusterNetwork.ReadinessIndicatorFile != "" {
		args = append(args, "--readiness-indicator-file="+spec.ClusterNetwork.ReadinessIndicatorFile)
	}
	if iso := spec.NamespaceIsolation; iso != nil {
		args = append(args, "--namespace-isolation")
		if len(iso.GlobalNamespaces) > 0 {
			args = append(args, "--global-namespaces="+strings.Join(iso.GlobalNamespaces, ","))
		}
	}
	if uninstall {
		args = append(args, "--uninstall")
	}

	type hostMount struct{ name, path string }
	mounts := []hostMount{{"cni-bin", binDir}, {"cni-conf", confDir}, {"state", stateDir}, {"run", runDir},
		{"pod-resources", podResourcesDir}}
	if r := spec.HostPaths.HostRoot; r != "" {
		mounts = append(mounts, hostMount{"host-root", filepath.Clean(r)})
	}
	volumes := []corev1.Volume{{Name: "ready", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
		Medium: corev1.StorageMediumMemory, SizeLimit: ptr.To(resource.MustParse("1Mi"))}}}}
	volumeMounts := []corev1.VolumeMount{{Name: "ready", MountPath: agentReadyDir}}
	for _, m := range mounts {
		volumes = append(volumes, corev1.Volume{Name: m.name, VolumeSource: corev1.VolumeSource{
			HostPath: &corev1.HostPathVolumeSource{Path: m.path, Type: ptr.To(corev1.HostPathDirectoryOrCreate)}}})
		volumeMounts = append(volumeMounts, corev1.VolumeMount{Name: m.name, MountPath: m.path})
	}
	volumes = append(volumes, corev1.Volume{Name: "sys", VolumeSource: corev1.VolumeSource{
		HostPath: &corev1.HostPathVolumeSource{Path: "/sys", Type: ptr.To(corev1.HostPathDirectory)}}})
	volumeMounts = append(volumeMounts, corev1.VolumeMount{Name: "sys", MountPath: hostSysMount})

	container := corev1.Container{
		Name:            "agent",
		Image:           image,
		ImagePullPolicy: pull,
		Args:            args,
		Env: []corev1.EnvVar{{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}}},
		VolumeMounts: volumeMounts,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/agent", "probe", "--ready-file=" + agentReadyFile}}},
			PeriodSeconds: 2, FailureThreshold: 1, SuccessThreshold: 1, TimeoutSeconds: 2,
		},
		SecurityContext: &corev1.SecurityContext{
			RunAsUser:                ptr.To[int64](0),
			RunAsNonRoot:             ptr.To(false),
			Privileged:               ptr.To(false),
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			// NET_ADMIN only: the hardware reconciler sets PF/VF MTUs through sysfs
			// (net/<if>/mtu), which the kernel refuses without it (EPERM), even to root.
			// Everything else the agent writes (root-owned host dirs, sriov_numvfs,
			// driver_override, bind, nr_hugepages) needs uid 0 only.
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_ADMIN"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
	}

	labels := agentLabels()
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: AgentName, Namespace: namespace, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{agentNameLabel: AgentName}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type:          appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: maxUnavailable, MaxSurge: ptr.To(intstr.FromInt32(0))},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:            AgentName,
					AutomountServiceAccountToken:  ptr.To(true),
					HostNetwork:                   true,
					DNSPolicy:                     corev1.DNSClusterFirstWithHostNet,
					PriorityClassName:             "system-node-critical",
					Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					TerminationGracePeriodSeconds: ptr.To[int64](10),
					Containers:                    []corev1.Container{container},
					Volumes:                       volumes,
				},
			},
		},
	}
}

func defaultString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// zapLevel maps the PlexusConfig log level to a zap level (logr V(n) is zap level -n).
func zapLevel(l plexusv1alpha1.AgentLogLevel) string {
	switch l {
	case plexusv1alpha1.AgentLogLevelDebug:
		return "4"
	case plexusv1alpha1.AgentLogLevelTrace:
		return "6"
	default:
		return "info"
	}
}
