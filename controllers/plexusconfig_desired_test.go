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
	"testing"

	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

func plexusConfig(spec plexusv1alpha1.PlexusConfigSpec) *plexusv1alpha1.PlexusConfig {
	return &plexusv1alpha1.PlexusConfig{ObjectMeta: metav1.ObjectMeta{Name: plexusv1alpha1.PlexusConfigName}, Spec: spec}
}

func hostPaths(ds *appsv1.DaemonSet) map[string]string {
	out := map[string]string{}
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.HostPath != nil {
			out[v.Name] = v.HostPath.Path
		}
	}
	return out
}

func TestDesiredAgentDaemonSet(t *testing.T) {
	tests := []struct {
		name      string
		spec      plexusv1alpha1.PlexusConfigSpec
		uninstall bool
		check     func(g Gomega, ds *appsv1.DaemonSet)
	}{
		{
			name: "defaults",
			check: func(g Gomega, ds *appsv1.DaemonSet) {
				c := ds.Spec.Template.Spec.Containers[0]
				g.Expect(c.Image).To(Equal("plexus.local/agent:latest"))
				g.Expect(c.ImagePullPolicy).To(Equal(corev1.PullIfNotPresent))
				g.Expect(c.Args).To(ContainElements("--cni-bin-dir=/opt/cni/bin", "--cni-conf-dir=/etc/cni/net.d", "--zap-log-level=info"))
				g.Expect(c.Args).NotTo(ContainElement(HavePrefix("--uninstall")))
				g.Expect(c.Args).NotTo(ContainElement(HavePrefix("--host-root")))
				g.Expect(hostPaths(ds)).To(Equal(map[string]string{
					"cni-bin": "/opt/cni/bin", "cni-conf": "/etc/cni/net.d", "state": "/var/lib/plexus", "run": "/run/plexus",
					"pod-resources": "/var/lib/kubelet/pod-resources", "sys": "/sys",
				}))
				g.Expect(c.Args).To(ContainElement("--sys-root=/host/sys"), "NodeNetworkPolicy needs the host's sysfs")
				g.Expect(ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(Equal(ptr.To(intstr.FromInt32(1))))
			},
		},
		{
			name: "security: host network, no host PID, no capabilities, node-critical, tolerates everything",
			check: func(g Gomega, ds *appsv1.DaemonSet) {
				ps := ds.Spec.Template.Spec
				g.Expect(ps.HostNetwork).To(BeTrue())
				g.Expect(ps.HostPID).To(BeFalse())
				g.Expect(ps.HostIPC).To(BeFalse())
				g.Expect(ps.PriorityClassName).To(Equal("system-node-critical"))
				g.Expect(ps.Tolerations).To(Equal([]corev1.Toleration{{Operator: corev1.TolerationOpExists}}))
				g.Expect(ps.ServiceAccountName).To(Equal(AgentName))
				sc := ps.Containers[0].SecurityContext
				g.Expect(*sc.Privileged).To(BeFalse())
				g.Expect(*sc.AllowPrivilegeEscalation).To(BeFalse())
				g.Expect(*sc.ReadOnlyRootFilesystem).To(BeTrue())
				g.Expect(sc.Capabilities.Drop).To(Equal([]corev1.Capability{"ALL"}))
				g.Expect(sc.Capabilities.Add).To(Equal([]corev1.Capability{"NET_ADMIN"}), "VF/PF MTU writes through sysfs need it; nothing else does")
				g.Expect(ps.Containers[0].ReadinessProbe.Exec.Command).To(Equal([]string{"/agent", "probe", "--ready-file=/tmp/plexus-agent/ready"}))
				g.Expect(ps.Containers[0].Env[0].ValueFrom.FieldRef.FieldPath).To(Equal("spec.nodeName"))
			},
		},
		{
			name: "everything set",
			spec: plexusv1alpha1.PlexusConfigSpec{
				Agent:              plexusv1alpha1.AgentSpec{Image: "reg/agent:v2", ImagePullPolicy: "Never", LogLevel: plexusv1alpha1.AgentLogLevelDebug},
				Plugins:            []string{"macvlan", "host-local"},
				ClusterNetwork:     plexusv1alpha1.ClusterNetworkSpec{Name: "cbr0", ReadinessIndicatorFile: "/run/flannel/subnet.env"},
				NamespaceIsolation: &plexusv1alpha1.NamespaceIsolationSpec{GlobalNamespaces: []string{"default", "shared"}},
				Rollout:            plexusv1alpha1.RolloutSpec{MaxUnavailable: ptr.To(intstr.FromString("25%"))},
				HostPaths: plexusv1alpha1.HostPathsSpec{CNIBinDir: "/usr/libexec/cni", CNIConfDir: "/etc/kubernetes/cni/net.d",
					StateDir: "/work/.cluster/state", RunDir: "/work/.cluster/run", KubeletPodResourcesDir: "/var/lib/k0s/kubelet/pod-resources",
					HostRoot: "/work/.cluster/"},
			},
			check: func(g Gomega, ds *appsv1.DaemonSet) {
				c := ds.Spec.Template.Spec.Containers[0]
				g.Expect(c.Image).To(Equal("reg/agent:v2"))
				g.Expect(c.ImagePullPolicy).To(Equal(corev1.PullNever))
				g.Expect(c.Args).To(ContainElements("--cni-bin-dir=/usr/libexec/cni", "--cni-conf-dir=/etc/kubernetes/cni/net.d",
					"--host-root=/work/.cluster", "--plugins=macvlan,host-local", "--cluster-network=cbr0",
					"--readiness-indicator-file=/run/flannel/subnet.env", "--namespace-isolation",
					"--global-namespaces=default,shared", "--zap-log-level=4", "--state-dir=/work/.cluster/state",
					"--run-dir=/work/.cluster/run", "--pod-resources-socket=/var/lib/k0s/kubelet/pod-resources/kubelet.sock"))
				g.Expect(hostPaths(ds)).To(HaveKeyWithValue("pod-resources", "/var/lib/k0s/kubelet/pod-resources"))
				g.Expect(hostPaths(ds)).To(HaveKeyWithValue("host-root", "/work/.cluster"))
				g.Expect(hostPaths(ds)).To(HaveKeyWithValue("cni-bin", "/usr/libexec/cni"))
				g.Expect(c.VolumeMounts).To(ContainElement(corev1.VolumeMount{Name: "host-root", MountPath: "/work/.cluster"}),
					"host paths are mounted at the same path")
				g.Expect(ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(Equal(ptr.To(intstr.FromString("25%"))))
			},
		},
		{
			name:      "uninstall",
			uninstall: true,
			check: func(g Gomega, ds *appsv1.DaemonSet) {
				g.Expect(ds.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--uninstall"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			ds := desiredAgentDaemonSet(plexusConfig(tt.spec), "plexus-system", tt.uninstall)
			g.Expect(ds.Namespace).To(Equal("plexus-system"))
			g.Expect(ds.Name).To(Equal(AgentName))
			g.Expect(ds.Spec.Selector.MatchLabels).To(Equal(map[string]string{"app.kubernetes.io/name": AgentName}))
			g.Expect(ds.Spec.Template.Labels).To(HaveKeyWithValue("app.kubernetes.io/name", AgentName))
			tt.check(g, ds)
		})
	}
}

func TestFailingAgentPods(t *testing.T) {
	g := NewWithT(t)
	pod := func(name, node string, cs corev1.ContainerStatus) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{cs}}}
	}
	pods := []corev1.Pod{
		pod("a", "node-a", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 10s"}}}),
		pod("b", "node-b", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}),
		pod("c", "node-c", corev1.ContainerStatus{Ready: true}),
		pod("d", "node-d", corev1.ContainerStatus{RestartCount: 2, LastTerminationState: corev1.ContainerState{
			Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "node x: boom"}}}),
	}
	got := failingAgentPods(pods)
	g.Expect(got).To(HaveLen(2))
	g.Expect(got).To(HaveKeyWithValue("node-a", ContainSubstring("CrashLoopBackOff")))
	g.Expect(got).To(HaveKeyWithValue("node-d", ContainSubstring("exit code 1")))
	g.Expect(describeFailing(got)).To(HavePrefix("node node-a (pod a: CrashLoopBackOff"))
}

func TestSetPlexusConfigStatus(t *testing.T) {
	tests := []struct {
		name                         string
		rollout                      agentRollout
		deleting                     bool
		ready, progressing, degraded metav1.ConditionStatus
		readyReason, progMsg, degMsg string
	}{
		{name: "complete", rollout: agentRollout{current: true, desired: 3, updated: 3, ready: 3, available: 3},
			ready: metav1.ConditionTrue, progressing: metav1.ConditionFalse, degraded: metav1.ConditionFalse,
			readyReason: plexusv1alpha1.PlexusConfigRolloutCompleteReason, progMsg: "3 of 3 nodes updated, 3 ready"},
		{name: "rolling", rollout: agentRollout{current: true, desired: 3, updated: 2, ready: 2, available: 2},
			ready: metav1.ConditionFalse, progressing: metav1.ConditionTrue, degraded: metav1.ConditionFalse,
			readyReason: plexusv1alpha1.PlexusConfigAgentsNotReadyReason, progMsg: "2 of 3 nodes updated, 2 ready"},
		{name: "failing node", rollout: agentRollout{current: true, desired: 2, updated: 2, ready: 1, available: 1,
			failing: map[string]string{"node-b": "pod x: CrashLoopBackOff: boom"}},
			ready: metav1.ConditionFalse, progressing: metav1.ConditionTrue, degraded: metav1.ConditionTrue,
			readyReason: plexusv1alpha1.PlexusConfigAgentsNotReadyReason, degMsg: "node node-b (pod x: CrashLoopBackOff: boom)"},
		{name: "no nodes", rollout: agentRollout{current: true},
			ready: metav1.ConditionTrue, progressing: metav1.ConditionFalse, degraded: metav1.ConditionFalse,
			readyReason: plexusv1alpha1.PlexusConfigNoNodesReason},
		{name: "deleting", deleting: true, rollout: agentRollout{current: true, desired: 1, updated: 0, available: 1},
			ready: metav1.ConditionFalse, progressing: metav1.ConditionTrue, degraded: metav1.ConditionFalse,
			readyReason: plexusv1alpha1.PlexusConfigUninstallingReason},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c := plexusConfig(plexusv1alpha1.PlexusConfigSpec{})
			c.Generation = 4
			setPlexusConfigStatus(&plexusConfigScope{config: c, rollout: tt.rollout, deleting: tt.deleting}, nil)
			g.Expect(c.Status.ObservedGeneration).To(BeEquivalentTo(4))
			g.Expect(c.Status.DesiredNodes).To(Equal(tt.rollout.desired))
			cond := func(typ string) metav1.Condition {
				for _, x := range c.Status.Conditions {
					if x.Type == typ {
						return x
					}
				}
				t.Fatalf("no %s condition", typ)
				return metav1.Condition{}
			}
			g.Expect(cond("Ready").Status).To(Equal(tt.ready))
			g.Expect(cond("Ready").Reason).To(Equal(tt.readyReason))
			g.Expect(cond("Progressing").Status).To(Equal(tt.progressing))
			g.Expect(cond("Degraded").Status).To(Equal(tt.degraded))
			if tt.progMsg != "" {
				g.Expect(cond("Progressing").Message).To(Equal(tt.progMsg))
			}
			if tt.degMsg != "" {
				g.Expect(cond("Degraded").Message).To(ContainSubstring(tt.degMsg))
			}
		})
	}
}
