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
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// testPod is a pod running the plexus.local/testpod image (busybox: sleep, ip, nc, ...).
func testPod(namespace, name string, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Annotations: annotations},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](2),
			Containers: []corev1.Container{{
				Name: "main", Image: "plexus.local/testpod:latest", ImagePullPolicy: corev1.PullNever,
			}},
		},
	}
}

// createNamespace makes a fresh namespace for one test and deletes it afterwards.
func createNamespace(ctx SpecContext, prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	Expect(cluster.Client.Create(ctx, ns)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, ns))).To(Succeed())
	})
	return ns.Name
}

// waitReady waits for the pod to be Ready and returns it.
func waitReady(ctx SpecContext, pod *corev1.Pod) *corev1.Pod {
	got := &corev1.Pod{}
	Eventually(func(g Gomega) {
		g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
		ready := false
		for _, c := range got.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		g.Expect(ready).To(BeTrue(), "pod %s/%s is %s: %v", pod.Namespace, pod.Name, got.Status.Phase, got.Status.Conditions)
	}).WithContext(ctx).Should(Succeed())
	return got
}

var _ = Describe("The local cluster", func() {
	It("has every node Ready", func(ctx SpecContext) {
		nodes := &corev1.NodeList{}
		Expect(cluster.Client.List(ctx, nodes)).To(Succeed())
		Expect(nodes.Items).To(HaveLen(cluster.Nodes))
		for _, n := range nodes.Items {
			Expect(n.Status.Conditions).To(ContainElement(And(
				HaveField("Type", corev1.NodeReady), HaveField("Status", corev1.ConditionTrue))), n.Name)
		}
	})

	It("runs a testpod to Ready with eth0 from the cluster network, seen from the host", func(ctx SpecContext) {
		ns := createNamespace(ctx, "e2e-cluster")
		pod := testPod(ns, "probe", nil)
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())
		pod = waitReady(ctx, pod)
		Expect(pod.Status.PodIP).To(HavePrefix("10."))

		links, err := cluster.PodLinks(ctx, pod)
		Expect(err).NotTo(HaveOccurred())
		Expect(links).To(HaveKey("eth0"))
		Expect(links["eth0"].IPv4s()).To(ContainElement(HavePrefix(pod.Status.PodIP+"/")),
			"eth0 inside the pod's netns carries the pod IP the API reports")

		By("reaching the pod's own address from inside the pod")
		out, err := cluster.Kubectl(ctx, "exec", "-n", ns, pod.Name, "--", "ip", "-o", "-4", "addr", "show", "eth0")
		Expect(err).NotTo(HaveOccurred())
		Expect(out).To(ContainSubstring(pod.Status.PodIP))
		Expect(strings.Count(out, "\n")).To(Equal(1), fmt.Sprintf("one IPv4 address on eth0: %q", out))
	})
})
