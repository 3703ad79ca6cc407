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
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/cni/agentclient"
	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/netattach"

	"github.com/plexus-net/plexus/internal/testenv"
)

func TestApplyNodeAnnotations(t *testing.T) {
	g := NewWithT(t)
	c := Config{HostRoot: "/work/.cluster"}
	c.Defaults()
	g.Expect(c.ApplyNodeAnnotations(map[string]string{
		plexusv1alpha1.CNIBinDirAnnotation:     "/work/.cluster/node1/cni/bin",
		plexusv1alpha1.AgentRunDirAnnotation:   "/work/.cluster/node1/run/",
		plexusv1alpha1.AgentStateDirAnnotation: "/work/.cluster/node1/state",
	})).To(Succeed())
	g.Expect(c.CNIBinDir).To(Equal("/work/.cluster/node1/cni/bin"))
	g.Expect(c.Socket()).To(Equal("/work/.cluster/node1/run/agent.sock"))
	g.Expect(c.CNIConfDir).To(Equal(DefaultCNIConfDir))

	err := c.ApplyNodeAnnotations(map[string]string{
		plexusv1alpha1.CNIConfDirAnnotation: "/etc/../work/.clusterX/net.d",
		plexusv1alpha1.CNILogFileAnnotation: "relative/log",
	})
	g.Expect(err).To(MatchError(ContainSubstring("not below hostRoot")))
	g.Expect(err).To(MatchError(ContainSubstring("not an absolute path")))
	noRoot := Config{}
	g.Expect(noRoot.ApplyNodeAnnotations(map[string]string{plexusv1alpha1.CNIBinDirAnnotation: "/x"})).
		To(MatchError(ContainSubstring("hostRoot is not set")))
}

// startEnvtest starts an API server with the Plexus and NAD CRDs, or skips without the binaries.
func startEnvtest(t *testing.T) (*envtest.Environment, client.Client) {
	t.Helper()
	g := NewWithT(t)
	root := filepath.Join("..", "..")
	assets := testenv.RequireEnvtest(t)
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases"), filepath.Join(root, "config", "nad")},
		ErrorIfCRDPathMissing: true, BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	return env, c
}

// TestAgentEndToEnd runs the whole agent against a real API server: it installs, publishes the
// configuration once the cluster network exists, answers plexus-cni from its cache with zero API
// requests, writes network-status from the journal, reports NodeNetworkState, and leaves the
// configuration in place when stopped (SIGTERM).
func TestAgentEndToEnd(t *testing.T) {
	g := NewWithT(t)
	env, c := startEnvtest(t)
	ctx := context.Background()
	dir := t.TempDir()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "agent-node", Annotations: map[string]string{
		plexusv1alpha1.CNIBinDirAnnotation:     filepath.Join(dir, "node", "cni", "bin"),
		plexusv1alpha1.CNIConfDirAnnotation:    filepath.Join(dir, "node", "cni", "net.d"),
		plexusv1alpha1.AgentStateDirAnnotation: filepath.Join(dir, "node", "state"),
		plexusv1alpha1.AgentRunDirAnnotation:   filepath.Join(dir, "node", "run"),
	}}}
	g.Expect(c.Create(ctx, node)).To(Succeed())
	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "apps"}})).To(Succeed())
	g.Expect(c.Create(ctx, &nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "macnet"},
		Spec: nadv1.NetworkAttachmentDefinitionSpec{Config: `{"cniVersion":"1.0.0","type":"macvlan","ipam":{"type":"static"}}`}})).To(Succeed())
	plugins := filepath.Join(dir, "plugins")
	g.Expect(os.MkdirAll(plugins, 0o755)).To(Succeed())
	for _, p := range []string{"plexus-cni", "plexus-cni-direct", "macvlan", "bridge"} {
		g.Expect(os.WriteFile(filepath.Join(plugins, p), []byte("#!/bin/sh\n"), 0o755)).To(Succeed())
	}
	cfg := Config{NodeName: node.Name, PluginsDir: plugins, HostRoot: dir, ReadyFile: filepath.Join(dir, "ready"), Version: "v9"}
	actx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- Run(actx, cfg, env.Config, logr.Discard()) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()

	confDir := filepath.Join(dir, "node", "cni", "net.d")
	conf := filepath.Join(confDir, "00-plexus.conflist")
	g.Eventually(func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "node", "cni", "bin", "macvlan"))
		return string(b)
	}).
		WithTimeout(10 * time.Second).Should(Equal("#!/bin/sh\n"))
	g.Consistently(func() bool { _, err := os.Stat(conf); return os.IsNotExist(err) }).WithTimeout(1500*time.Millisecond).
		Should(BeTrue(), "nothing is published before the cluster network exists")
	cluster := filepath.Join(confDir, "10-bridge.conflist")
	g.Expect(os.MkdirAll(confDir, 0o755)).To(Succeed())
	g.Expect(os.WriteFile(cluster, []byte(`{"cniVersion":"1.0.0","name":"cbr0","plugins":[{"type":"bridge"}]}`), 0o644)).To(Succeed())
	g.Eventually(func() error { _, err := os.Stat(conf); return err }).WithTimeout(10 * time.Second).Should(Succeed())
	g.Eventually(func() error { _, err := os.Stat(cfg.ReadyFile); return err }).WithTimeout(10 * time.Second).Should(Succeed())

	for _, d := range []string{filepath.Join(dir, "node", "state"), filepath.Join(dir, "node", "run")} {
		fi, err := os.Stat(d)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o700)), d)
	}
	fi, err := os.Stat(conf)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o600)))

	// The NodeNetworkState says Installed and Ready, with versions.
	g.Eventually(func(g Gomega) {
		nns := &plexusv1alpha1.NodeNetworkState{}
		g.Expect(c.Get(ctx, types.NamespacedName{Name: node.Name}, nns)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(nns.Status.Conditions, plexusv1alpha1.NodeNetworkStateInstalledCondition)).To(BeTrue())
		g.Expect(meta.IsStatusConditionTrue(nns.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
		g.Expect(nns.Status.Installed).To(ContainElement(plexusv1alpha1.InstalledComponent{Name: "plexus-cni", Version: "v9"}))
	}).WithTimeout(10 * time.Second).Should(Succeed())

	// plexus-cni's side: resolve a pod from the cache, no API request.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web",
		Annotations: map[string]string{netattach.NetworksAnnotation: "macnet"}},
		Spec: corev1.PodSpec{NodeName: node.Name, Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
	g.Expect(c.Create(ctx, pod)).To(Succeed())
	socket := filepath.Join(dir, "node", "run", agentclient.SocketName)
	ac := agentclient.New(socket, resolve.Options{ClusterNetwork: cluster, MultusNamespace: "kube-system"}, "")
	ref := api.PodRef{Namespace: "apps", Name: "web", UID: string(pod.UID), ContainerID: "c1", IfName: "eth0"}
	res, err := ac.Resolve(ctx, ref)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Attachments).To(HaveLen(2))
	g.Expect(res.Attachments[1].Network).To(Equal("apps/macnet"))
	g.Expect(res.APIRequests).To(BeZero(), "resolved from the informers")

	st := []netattach.NetworkStatus{{Name: "cbr0", Interface: "eth0", Default: true}, {Name: "apps/macnet", Interface: "net1"}}
	g.Expect(ac.Report(ctx, ref, &api.StatusReport{UID: string(pod.UID), NetworkStatus: st})).To(Succeed())
	want, _ := netattach.FormatNetworkStatus(st)
	g.Eventually(func() map[string]string {
		got := &corev1.Pod{}
		_ = c.Get(ctx, client.ObjectKeyFromObject(pod), got)
		return got.Annotations
	}).WithTimeout(10 * time.Second).Should(HaveKeyWithValue(netattach.NetworkStatusAnnotation, want))

	// SIGTERM: the agent stops, the configuration stays.
	cancel()
	g.Expect(<-done).To(Succeed())
	stopped = true
	_, err = os.Stat(conf)
	g.Expect(err).NotTo(HaveOccurred(), "the CNI configuration survives the agent's shutdown")

	// Uninstall mode removes it and reports it.
	cfg.Uninstall = true
	uctx, ucancel := context.WithCancel(ctx)
	udone := make(chan error, 1)
	go func() { udone <- Run(uctx, cfg, env.Config, logr.Discard()) }()
	g.Eventually(func() bool { _, err := os.Stat(conf); return os.IsNotExist(err) }).WithTimeout(10 * time.Second).Should(BeTrue())
	g.Eventually(func(g Gomega) {
		nns := &plexusv1alpha1.NodeNetworkState{}
		g.Expect(c.Get(ctx, types.NamespacedName{Name: node.Name}, nns)).To(Succeed())
		cond := meta.FindStatusCondition(nns.Status.Conditions, plexusv1alpha1.NodeNetworkStateInstalledCondition)
		g.Expect(cond).NotTo(BeNil())
		g.Expect(cond.Reason).To(Equal(plexusv1alpha1.NodeNetworkStateUninstalledReason))
	}).WithTimeout(10 * time.Second).Should(Succeed())
	_, err = os.Stat(cluster)
	g.Expect(err).NotTo(HaveOccurred(), "the cluster network is untouched")
	ucancel()
	g.Expect(<-udone).To(Succeed())
}
