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
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	networksAnnotation      = "k8s.v1.cni.cncf.io/networks"
	networkStatusAnnotation = "k8s.v1.cni.cncf.io/network-status"
)

// kubectlPlexus runs bin/kubectl-plexus against the cluster and returns its combined output.
func kubectlPlexus(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(cluster.Root, "bin", "kubectl-plexus"),
		append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl-plexus %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// e2eBridge is the Linux bridge the bridge plugin creates on the node for the test NAD.
const e2eBridge = "plxe2e0"

// bridgeNAD is a NetworkAttachmentDefinition on the test bridge plxe2e0 (created in the node's
// network namespace by the bridge plugin) with host-local IPAM whose state stays under node 1's
// directory (removed with the cluster).
func bridgeNAD(namespace, name, subnet string) string {
	config := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"%s","type":"bridge","bridge":"%s","ipam":{"type":"host-local","ranges":[[{"subnet":"%s"}]],"dataDir":"%s"}}`,
		name, e2eBridge, subnet, filepath.Join(cluster.NodeDir(1), "cni", "ipam"))
	return fmt.Sprintf(`apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: %s
  namespace: %s
spec:
  config: '%s'
`, name, namespace, config)
}

// ensureNADCRD installs the NetworkAttachmentDefinition CRD when the deployment did not.
func ensureNADCRD(ctx SpecContext) {
	if _, err := cluster.Kubectl(ctx, "get", "crd", "network-attachment-definitions.k8s.cni.cncf.io"); err == nil {
		return
	}
	_, err := cluster.Kubectl(ctx, "apply", "-f", filepath.Join(cluster.Root, "config", "nad", "k8s.cni.cncf.io_network-attachment-definitions.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Eventually(func() error {
		_, err := cluster.Kubectl(ctx, "get", "network-attachment-definitions", "-A")
		return err
	}).WithContext(ctx).WithTimeout(time.Minute).Should(Succeed())
}

// dumpOnFailure prints what explains a failed spec: the namespace's pods with their annotations,
// its events and the tail of plexus-cni's log on every node.
func dumpOnFailure(ns string) {
	DeferCleanup(func(ctx SpecContext) {
		if !CurrentSpecReport().Failed() {
			return
		}
		out, _ := cluster.Kubectl(ctx, "get", "pods", "-n", ns, "-o", "yaml")
		GinkgoWriter.Println(out)
		out, _ = cluster.Kubectl(ctx, "get", "events", "-n", ns, "--sort-by=.lastTimestamp")
		GinkgoWriter.Println(out)
		for n := 1; n <= cluster.Nodes; n++ {
			log, _ := os.ReadFile(filepath.Join(cluster.NodeDir(n), "logs", "plexus-cni.log"))
			if len(log) > 8192 {
				log = log[len(log)-8192:]
			}
			GinkgoWriter.Printf("node %d plexus-cni.log (tail):\n%s\n", n, log)
		}
	})
}

var _ = Describe("kubectl plexus", func() {
	It("explains a pod that requests a missing NAD", func(ctx SpecContext) {
		ensureNADCRD(ctx)
		ns := createNamespace(ctx, "e2e-kubectl-why")
		dumpOnFailure(ns)
		broken := testPod(ns, "broken", map[string]string{networksAnnotation: "does-not-exist@data0"})
		Expect(cluster.Client.Create(ctx, broken)).To(Succeed())
		Eventually(func(g Gomega) {
			out, err := kubectlPlexus(ctx, "why", "-n", ns, "broken")
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(out).To(ContainSubstring(ns + "/does-not-exist"))
			g.Expect(out).To(ContainSubstring("NetworkAttachmentDefinition does-not-exist does not exist"))
			g.Expect(out).To(ContainSubstring("data0"))
		}).WithContext(ctx).WithTimeout(time.Minute).Should(Succeed())

		out, err := kubectlPlexus(ctx, "pods", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(MatchRegexp(`(?m)^broken\s+data0\s+%s/does-not-exist\s.*\s(Pending|Missing)\s*$`, ns))
	}, NodeTimeout(3*time.Minute))

	It("shows a pod's secondary interface and the planes", func(ctx SpecContext) {
		ensureNADCRD(ctx)
		ns := createNamespace(ctx, "e2e-kubectl-plexus")
		_, err := cluster.KubectlStdin(ctx, bridgeNAD(ns, "plx-bridge", "192.168.177.0/24"), "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred())

		By("running a pod attached to the bridge NAD")
		pod := testPod(ns, "attached", map[string]string{networksAnnotation: "plx-bridge"})
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			// The bridge plugin leaves its bridge behind; node 1 is the host's network namespace.
			Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, pod))).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{}))
			}).WithContext(ctx).WithTimeout(2 * time.Minute).Should(BeTrue())
			_ = exec.CommandContext(ctx, "ip", "link", "del", e2eBridge).Run()
			for n := 2; n <= cluster.Nodes; n++ {
				_ = exec.CommandContext(ctx, "ip", "netns", "exec", fmt.Sprintf("plexus-n%d", n), "ip", "link", "del", e2eBridge).Run()
			}
		})
		dumpOnFailure(ns) // registered last: runs first, before the pod is deleted
		pod = waitReady(ctx, pod)
		var net1IP string
		Eventually(func(g Gomega) {
			got := &corev1.Pod{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
			var statuses []struct {
				Name      string   `json:"name"`
				Interface string   `json:"interface"`
				IPs       []string `json:"ips"`
			}
			g.Expect(json.Unmarshal([]byte(got.Annotations[networkStatusAnnotation]), &statuses)).To(Succeed())
			for _, s := range statuses {
				if s.Interface == "net1" && len(s.IPs) > 0 {
					net1IP = s.IPs[0]
				}
			}
			g.Expect(net1IP).To(HavePrefix("192.168.177."), "network-status: %s", got.Annotations[networkStatusAnnotation])
		}).WithContext(ctx).WithTimeout(2 * time.Minute).Should(Succeed())

		By("listing the pod's attachments with kubectl plexus pods")
		out, err := kubectlPlexus(ctx, "pods", "-n", ns)
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("INTERFACE"))
		Expect(out).To(MatchRegexp(`(?m)^attached\s+net1\s+%s/plx-bridge\s+\S+\s+%s\s+\S+\s+Attached`, ns, strings.ReplaceAll(net1IP, ".", `\.`)))

		out, err = kubectlPlexus(ctx, "pods", "-A")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(MatchRegexp(`(?m)^%s\s+attached\s+net1\s`, ns))

		By("listing the planes with kubectl plexus planes")
		if _, err := cluster.Kubectl(ctx, "get", "crd", "networkplanes.net.plexus.dev"); err == nil {
			out, err = kubectlPlexus(ctx, "planes")
			Expect(err).NotTo(HaveOccurred(), out)
			Expect(out).To(Or(ContainSubstring("NAME"), ContainSubstring("No NetworkPlanes found")))
		} else {
			_, err = kubectlPlexus(ctx, "planes")
			Expect(err).To(HaveOccurred(), "without the NetworkPlane CRD the command fails")
		}

		By("explaining a healthy pod with kubectl plexus why")
		out, err = kubectlPlexus(ctx, "why", "-n", ns, "attached")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring("net1"))
		Expect(out).To(ContainSubstring(net1IP))
		Expect(out).To(ContainSubstring("Every requested network is attached."))
	}, NodeTimeout(6*time.Minute))
})
