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

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"

	"github.com/plexus-net/plexus/internal/testenv"
)

const agentNamespace = "plexus-system"

// annotateNodePaths points the agent of every local node at the node's own directories (what
// hack/cluster/node-up.sh should do; idempotent).
func annotateNodePaths(ctx SpecContext) {
	for n := 1; n <= cluster.Nodes; n++ {
		d := cluster.NodeDir(n)
		_, err := cluster.Kubectl(ctx, "annotate", "node", fmt.Sprintf("plexus-node%d", n), "--overwrite",
			plexusv1alpha1.CNIBinDirAnnotation+"="+filepath.Join(d, "cni", "bin"),
			plexusv1alpha1.CNIConfDirAnnotation+"="+filepath.Join(d, "cni", "net.d"),
			plexusv1alpha1.CNICacheDirAnnotation+"="+filepath.Join(d, "cni", "cache"),
			plexusv1alpha1.CNILogFileAnnotation+"="+filepath.Join(d, "logs", "plexus-cni.log"),
			plexusv1alpha1.AgentStateDirAnnotation+"="+filepath.Join(d, "agent", "state"),
			plexusv1alpha1.AgentRunDirAnnotation+"="+filepath.Join(d, "agent", "run"),
			plexusv1alpha1.PodResourcesSocketAnnotation+"="+filepath.Join(d, "kubelet", "pod-resources", "kubelet.sock"))
		Expect(err).NotTo(HaveOccurred())
	}
}

// makeDeploy runs `make deploy` against the local cluster.
func makeDeploy(ctx SpecContext) {
	cmd := exec.CommandContext(ctx, "make", "deploy")
	cmd.Dir = cluster.Root
	cmd.Env = append(os.Environ(), "CLUSTER_DIR="+cluster.Dir)
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "make deploy:\n%s", out)
}

func agentPods(ctx context.Context) ([]corev1.Pod, error) {
	pods := &corev1.PodList{}
	err := cluster.Client.List(ctx, pods, client.InNamespace(agentNamespace), client.MatchingLabels{"app.kubernetes.io/name": "plexus-agent"})
	return pods.Items, err
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// createLocalPlexusConfig creates the PlexusConfig the hardware specs use: images from the
// nodes (never pulled), every host path under the cluster dir (hostRoot; each node's
// annotations name its own dirs), one agent unavailable at a time. It retries while the CRD and
// the operator's webhooks come up after make deploy.
func createLocalPlexusConfig(ctx SpecContext) {
	cfg := &plexusv1alpha1.PlexusConfig{
		ObjectMeta: metav1.ObjectMeta{Name: plexusv1alpha1.PlexusConfigName},
		Spec: plexusv1alpha1.PlexusConfigSpec{
			Agent:     plexusv1alpha1.AgentSpec{ImagePullPolicy: string(corev1.PullNever)},
			HostPaths: plexusv1alpha1.HostPathsSpec{HostRoot: cluster.Dir},
			Rollout:   plexusv1alpha1.RolloutSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1))},
		},
	}
	Eventually(func() error { return client.IgnoreAlreadyExists(cluster.Client.Create(ctx, cfg)) }).WithContext(ctx).Should(Succeed())
}

func waitPlexusConfigReady(ctx SpecContext) {
	Eventually(func(g Gomega) {
		c := &plexusv1alpha1.PlexusConfig{}
		g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: plexusv1alpha1.PlexusConfigName}, c)).To(Succeed())
		g.Expect(c.Status.ObservedGeneration).To(Equal(c.Generation))
		ready := meta.FindStatusCondition(c.Status.Conditions, plexusv1alpha1.ReadyCondition)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionTrue), "%s: %s", ready.Reason, ready.Message)
	}).WithContext(ctx).WithTimeout(4 * time.Minute).Should(Succeed())
}

// macvlanNAD is a NAD on the test uplink plexus-up0 (a veth node-up.sh creates on every node),
// with host-local addresses kept under node 1's directory.
func macvlanNAD(ns, name, subnet string) *nadv1.NetworkAttachmentDefinition {
	conf := fmt.Sprintf(`{"cniVersion":"1.0.0","type":"macvlan","master":"plexus-up0","mode":"bridge",`+
		`"ipam":{"type":"host-local","ranges":[[{"subnet":"%s"}]],"dataDir":"%s"}}`, subnet, filepath.Join(cluster.NodeDir(1), "cni", "ipam"))
	return &nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: nadv1.NetworkAttachmentDefinitionSpec{Config: conf}}
}

// createNAD creates a NAD, retrying while the operator's NAD webhook is not reachable yet.
func createNAD(ctx context.Context, nad *nadv1.NetworkAttachmentDefinition) {
	GinkgoHelper()
	Eventually(func() error { return client.IgnoreAlreadyExists(cluster.Client.Create(ctx, nad)) }).WithContext(ctx).Should(Succeed())
}

// auditEntry is the part of an audit event the tests read.
type auditEntry struct {
	Stage     string `json:"stage"`
	Verb      string `json:"verb"`
	UserAgent string `json:"userAgent"`
	User      struct {
		Username string `json:"username"`
	} `json:"user"`
	RequestURI string `json:"requestURI"`
}

func auditLogSize() int64 {
	fi, err := os.Stat(filepath.Join(cluster.Dir, "logs", "audit.log"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// plexusCNIRequests lists the API requests plexus-cni made (any identity) after offset.
func plexusCNIRequests(offset int64) []string {
	f, err := os.Open(filepath.Join(cluster.Dir, "logs", "audit.log"))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close() //nolint:errcheck // read-only
	_, err = f.Seek(offset, io.SeekStart)
	Expect(err).NotTo(HaveOccurred())
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Stage != "ResponseComplete" {
			continue
		}
		if strings.HasPrefix(e.UserAgent, "plexus-cni") || e.User.Username == "plexus-cni" {
			out = append(out, fmt.Sprintf("%s %s by %s (%s)", e.Verb, e.RequestURI, e.User.Username, e.UserAgent))
		}
	}
	return out
}

// checkAttached asserts the pod has eth0 and net1 and a two-entry network-status.
func checkAttached(g Gomega, ctx context.Context, pod *corev1.Pod) {
	got := &corev1.Pod{}
	g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
	g.Expect(got.Annotations).To(HaveKey(networkStatusAnnotation), "pod %s", pod.Name)
	var st []map[string]any
	g.Expect(json.Unmarshal([]byte(got.Annotations[networkStatusAnnotation]), &st)).To(Succeed())
	g.Expect(st).To(HaveLen(2), "pod %s network-status %s", pod.Name, got.Annotations[networkStatusAnnotation])
	g.Expect(st[1]).To(HaveKeyWithValue("interface", "net1"))
	links, err := cluster.PodLinks(ctx, got)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(links).To(HaveKey("eth0"))
	g.Expect(links).To(HaveKey("net1"))
}

var _ = Describe("The node agent", Ordered, Label("agent"), func() {
	BeforeAll(func(ctx SpecContext) {
		annotateNodePaths(ctx) // hack/cluster/up.sh does it too; kept for clusters started before it did

		By("deploying Plexus with make deploy")
		makeDeploy(ctx)
		By("waiting for the operator (its webhooks admit NADs)")
		Eventually(func(g Gomega) {
			d := &appsv1.Deployment{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: agentNamespace, Name: "plexus-controller-manager"}, d)).To(Succeed())
			g.Expect(d.Status.AvailableReplicas).To(BeNumerically(">=", 1))
		}).WithContext(ctx).WithTimeout(3 * time.Minute).Should(Succeed())
		By("creating the PlexusConfig for the local cluster")
		cfg := &plexusv1alpha1.PlexusConfig{
			ObjectMeta: metav1.ObjectMeta{Name: plexusv1alpha1.PlexusConfigName},
			Spec: plexusv1alpha1.PlexusConfigSpec{
				Agent: plexusv1alpha1.AgentSpec{ImagePullPolicy: string(corev1.PullNever)},
				// Every host path lies in the cluster dir (node 1's as the defaults; each node's
				// annotations point at its own), so the agent creates nothing elsewhere on the host.
				HostPaths: plexusv1alpha1.HostPathsSpec{
					HostRoot:               cluster.Dir,
					CNIBinDir:              filepath.Join(cluster.NodeDir(1), "cni", "bin"),
					CNIConfDir:             filepath.Join(cluster.NodeDir(1), "cni", "net.d"),
					StateDir:               filepath.Join(cluster.NodeDir(1), "agent", "state"),
					RunDir:                 filepath.Join(cluster.NodeDir(1), "agent", "run"),
					KubeletPodResourcesDir: filepath.Join(cluster.NodeDir(1), "kubelet", "pod-resources"),
				},
				Rollout: plexusv1alpha1.RolloutSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1))},
			},
		}
		Eventually(func() error { return client.IgnoreAlreadyExists(cluster.Client.Create(ctx, cfg)) }).WithContext(ctx).Should(Succeed())
		waitPlexusConfigReady(ctx)
	}, NodeTimeout(8*time.Minute))

	AfterAll(func(ctx SpecContext) {
		By("uninstalling: deleting the PlexusConfig")
		cfg := &plexusv1alpha1.PlexusConfig{ObjectMeta: metav1.ObjectMeta{Name: plexusv1alpha1.PlexusConfigName}}
		Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, cfg))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(cluster.Client.Get(ctx, client.ObjectKeyFromObject(cfg), cfg))
		}).WithContext(ctx).WithTimeout(3 * time.Minute).Should(BeTrue())
		for n := 1; n <= cluster.Nodes; n++ {
			_, err := os.Stat(filepath.Join(cluster.NodeDir(n), "cni", "net.d", "00-plexus.conflist"))
			Expect(os.IsNotExist(err)).To(BeTrue(), "node %d: the agent removed the Plexus configuration", n)
			// Give the node back its direct-mode configuration for the rest of the suite.
			_, err = cluster.Script(ctx, "cluster/node-up.sh", fmt.Sprint(n))
			Expect(err).NotTo(HaveOccurred())
		}
	}, NodeTimeout(6*time.Minute))

	It("installs Plexus on every node and reports NodeNetworkState", func(ctx SpecContext) {
		for n := 1; n <= cluster.Nodes; n++ {
			name := fmt.Sprintf("plexus-node%d", n)
			Eventually(func(g Gomega) {
				nns := &plexusv1alpha1.NodeNetworkState{}
				g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: name}, nns)).To(Succeed())
				g.Expect(meta.IsStatusConditionTrue(nns.Status.Conditions, plexusv1alpha1.NodeNetworkStateInstalledCondition)).To(BeTrue())
				g.Expect(meta.IsStatusConditionTrue(nns.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
				g.Expect(nns.Status.Uplink).NotTo(BeNil())
				g.Expect(nns.Status.Installed).To(ContainElement(HaveField("Name", "plexus-cni")))
				g.Expect(nns.Status.Installed).To(ContainElement(HaveField("Name", "macvlan")))
			}).WithContext(ctx).Should(Succeed())
			conf, err := os.ReadFile(filepath.Join(cluster.NodeDir(n), "cni", "net.d", "00-plexus.conflist"))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(conf)).To(ContainSubstring(`"agentSocket": "` + filepath.Join(cluster.NodeDir(n), "agent", "run", "agent.sock")))
			node := &corev1.Node{}
			Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: name}, node)).To(Succeed())
			Expect(node.Status.Conditions).To(ContainElement(And(HaveField("Type", corev1.NodeReady), HaveField("Status", corev1.ConditionTrue))))
		}
	})

	It("attaches pods from the agent's cache with no API request from plexus-cni", func(ctx SpecContext) {
		ns := createNamespace(ctx, "e2e-agent")
		createNAD(ctx, macvlanNAD(ns, "macnet", "10.77.1.0/24"))
		offset := auditLogSize()
		var pods []*corev1.Pod
		for i := range 3 {
			p := testPod(ns, fmt.Sprintf("p%d", i), map[string]string{networksAnnotation: "macnet"})
			p.Spec.NodeName = "plexus-node1"
			Expect(cluster.Client.Create(ctx, p)).To(Succeed())
			pods = append(pods, p)
		}
		for _, p := range pods {
			waitReady(ctx, p)
			Eventually(func(g Gomega) { checkAttached(g, ctx, p) }).WithContext(ctx).Should(Succeed())
		}
		Expect(plexusCNIRequests(offset)).To(BeEmpty(), "plexus-cni made API requests although the agent answered")
	})

	It("loses no attachment and no status when the agent is killed during a burst of 20 pods", func(ctx SpecContext) {
		ns := createNamespace(ctx, "e2e-agent-kill")
		createNAD(ctx, macvlanNAD(ns, "macnet", "10.77.2.0/24"))
		var pods []*corev1.Pod
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			p := testPod(ns, fmt.Sprintf("b%02d", i), map[string]string{networksAnnotation: "macnet"})
			p.Spec.NodeName = "plexus-node1"
			pods = append(pods, p)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer GinkgoRecover()
				if err := cluster.Client.Create(ctx, p); err != nil {
					errs <- err
				}
			}()
			if i == 5 {
				By("killing the agent on plexus-node1 mid-burst")
				ap, err := agentPods(ctx)
				Expect(err).NotTo(HaveOccurred())
				for _, a := range ap {
					if a.Spec.NodeName == "plexus-node1" {
						Expect(cluster.Client.Delete(ctx, &a, client.GracePeriodSeconds(0))).To(Succeed())
					}
				}
			}
		}
		wg.Wait()
		close(errs)
		Expect(errs).To(BeEmpty())
		for _, p := range pods {
			waitReady(ctx, p)
		}
		for _, p := range pods {
			Eventually(func(g Gomega) { checkAttached(g, ctx, p) }).WithContext(ctx).Should(Succeed())
		}
		waitPlexusConfigReady(ctx)
	}, SpecTimeout(6*time.Minute))

	It("rolls an agent update across nodes honouring maxUnavailable", func(ctx SpecContext) {
		if cluster.Nodes < 2 {
			testenv.SkipOrFail(GinkgoT(), "needs NODES=2")
		}
		cfg := &plexusv1alpha1.PlexusConfig{}
		Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: plexusv1alpha1.PlexusConfigName}, cfg)).To(Succeed())
		cfg.Spec.Agent.LogLevel = plexusv1alpha1.AgentLogLevelDebug // a template change: every agent restarts
		Expect(cluster.Client.Update(ctx, cfg)).To(Succeed())
		maxSeen := 0
		Eventually(func(g Gomega) {
			ds := &appsv1.DaemonSet{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: agentNamespace, Name: "plexus-agent"}, ds)).To(Succeed())
			pods, err := agentPods(ctx)
			g.Expect(err).NotTo(HaveOccurred())
			unavailable := cluster.Nodes
			for i := range pods {
				if podReady(&pods[i]) && pods[i].DeletionTimestamp == nil {
					unavailable--
				}
			}
			maxSeen = max(maxSeen, unavailable)
			g.Expect(ds.Status.ObservedGeneration).To(Equal(ds.Generation))
			g.Expect(ds.Status.UpdatedNumberScheduled).To(BeEquivalentTo(cluster.Nodes))
			g.Expect(ds.Status.NumberAvailable).To(BeEquivalentTo(cluster.Nodes))
		}).WithContext(ctx).WithPolling(50 * time.Millisecond).WithTimeout(4 * time.Minute).Should(Succeed())
		Expect(maxSeen).To(BeNumerically("<=", 1), "at most maxUnavailable=1 agent was unavailable at any time")
		waitPlexusConfigReady(ctx)
	}, SpecTimeout(6*time.Minute))
})
