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
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/plexus-net/plexus/test/e2e/framework"
)

// These specs drive plexus-cni through the real kubelet and containerd: every pod of the local
// cluster goes through it (cluster-up wraps the bridge cluster network with it, and the node
// agent keeps doing so once deployed). Secondary networks use bridges the specs create and the
// test uplink plexus-up0 (a veth pair), never the machine's own interfaces.
var _ = Describe("The meta-plugin on real pods", Label("metaplugin"), func() {
	var (
		ns      string
		bridge  string
		ipamDir string
	)

	nad := func(namespace, name, config string) *nadv1.NetworkAttachmentDefinition {
		return &nadv1.NetworkAttachmentDefinition{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
			Spec:       nadv1.NetworkAttachmentDefinitionSpec{Config: config},
		}
	}
	// bridgeConf is a node-local bridge network with host-local IPAM whose reservations live in
	// ipamDir/<network name>, so the specs can check that DEL frees them.
	bridgeConf := func(name, subnet string) string {
		return fmt.Sprintf(`{"cniVersion":"1.0.0","name":%q,"type":"bridge","bridge":%q,
			"ipam":{"type":"host-local","ranges":[[{"subnet":%q}]],"dataDir":%q}}`, name, bridge, subnet, ipamDir)
	}

	BeforeEach(func(ctx SpecContext) {
		Expect(cluster.Client.Scheme().Recognizes(nadv1.SchemeGroupVersion.WithKind("NetworkAttachmentDefinition"))).To(BeTrue())
		ns = createNamespace(ctx, "e2e-cni")
		// Names stay unique per spec so leftovers from one spec cannot satisfy another.
		bridge = "plxe" + ns[len(ns)-5:]
		ipamDir = filepath.Join(cluster.Dir, "e2e-ipam", ns)
		DeferCleanup(func() {
			if l, err := netlink.LinkByName(bridge); err == nil {
				Expect(netlink.LinkDel(l)).To(Succeed())
			}
			Expect(os.RemoveAll(ipamDir)).To(Succeed())
		})
		Expect(cluster.Client.Create(ctx, nad(ns, "br-a", bridgeConf("br-a", "10.220.0.0/24")))).To(Succeed())
		Expect(cluster.Client.Create(ctx, nad(ns, "br-b", bridgeConf("br-b", "10.221.0.0/24")))).To(Succeed())
	})

	It("gives a pod without the networks annotation only the cluster network", func(ctx SpecContext) {
		pod := testPod(ns, "plain", nil)
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())
		pod = waitReady(ctx, pod)

		links, err := cluster.PodLinks(ctx, pod)
		Expect(err).NotTo(HaveOccurred())
		Expect(linkNames(links)).To(ConsistOf("lo", "eth0"))
		Eventually(networkStatus).WithContext(ctx).WithArguments(pod).Should(ConsistOf(
			SatisfyAll(HaveField("Interface", "eth0"), HaveField("Default", true), HaveField("IPs", ContainElement(pod.Status.PodIP))),
		))
	})

	It("attaches three networks, the same NAD twice and a named interface, with the exact network-status", func(ctx SpecContext) {
		pod := testPod(ns, "multi", map[string]string{
			"k8s.v1.cni.cncf.io/networks": "br-a, br-a@second, br-b",
		})
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())
		pod = waitReady(ctx, pod)

		links, err := cluster.PodLinks(ctx, pod)
		Expect(err).NotTo(HaveOccurred())
		Expect(linkNames(links)).To(ConsistOf("lo", "eth0", "net1", "second", "net3"),
			"interfaces are net<index> unless named; a named one still takes its index")
		Expect(links["net1"].IPv4s()).To(ConsistOf(HavePrefix("10.220.0.")))
		Expect(links["second"].IPv4s()).To(ConsistOf(HavePrefix("10.220.0.")))
		Expect(links["net3"].IPv4s()).To(ConsistOf(HavePrefix("10.221.0.")))
		Expect(links["net1"].IPv4s()).NotTo(Equal(links["second"].IPv4s()), "two attachments to one network get two addresses")

		var status []nadv1.NetworkStatus
		Eventually(func(g Gomega) {
			status = networkStatus(ctx, pod)
			g.Expect(status).To(HaveLen(4))
		}).WithContext(ctx).Should(Succeed())
		Expect(status[0]).To(SatisfyAll(HaveField("Interface", "eth0"), HaveField("Default", true)))
		for i, want := range []struct{ name, ifname string }{{ns + "/br-a", "net1"}, {ns + "/br-a", "second"}, {ns + "/br-b", "net3"}} {
			got := status[i+1]
			Expect(got.Name).To(Equal(want.name))
			Expect(got.Interface).To(Equal(want.ifname))
			Expect(got.Default).To(BeFalse())
			Expect(got.Mac).To(Equal(links[want.ifname].Address), "network-status mac is the interface's")
			Expect(bareIPs(got.IPs)).To(Equal(bareIPs(links[want.ifname].IPv4s())), "network-status ips are the interface's")
		}

		By("recording an AddedInterface event per attachment")
		Eventually(func(g Gomega) {
			events := &corev1.EventList{}
			g.Expect(cluster.Client.List(ctx, events, client.InNamespace(ns))).To(Succeed())
			added := 0
			for _, e := range events.Items {
				if e.InvolvedObject.Name == pod.Name && e.Reason == "AddedInterface" {
					added++
				}
			}
			g.Expect(added).To(BeNumerically(">=", 3))
		}).WithContext(ctx).Should(Succeed())

		By("freeing every link and address when the pod is deleted")
		Expect(cluster.Client.Delete(ctx, pod)).To(Succeed())
		Eventually(func(g Gomega) {
			err := cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{})
			g.Expect(client.IgnoreNotFound(err)).To(Succeed())
			g.Expect(err).To(HaveOccurred())
		}).WithContext(ctx).Should(Succeed())
		Eventually(bridgePorts).WithArguments(bridge).Should(BeZero(), "no veth left on the bridge")
		Eventually(ipamReservations).WithArguments(ipamDir).Should(BeEmpty(), "no host-local reservation left")
	})

	It("uses a NAD of another namespace only where namespace isolation allows it", func(ctx SpecContext) {
		// The local cluster runs plexus-cni with namespaceIsolation on and "plexus-global" global.
		global := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plexus-global"}}
		Expect(client.IgnoreAlreadyExists(cluster.Client.Create(ctx, global))).To(Succeed())
		other := createNamespace(ctx, "e2e-cni-other")
		globalNAD := nad("plexus-global", "shared-"+ns[len(ns)-5:], bridgeConf("shared-"+ns, "10.222.0.0/24"))
		Expect(cluster.Client.Create(ctx, globalNAD)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, globalNAD))).To(Succeed())
		})
		Expect(cluster.Client.Create(ctx, nad(other, "private", bridgeConf("private-"+ns, "10.223.0.0/24")))).To(Succeed())

		allowed := testPod(ns, "allowed", map[string]string{"k8s.v1.cni.cncf.io/networks": "plexus-global/" + globalNAD.Name})
		Expect(cluster.Client.Create(ctx, allowed)).To(Succeed())
		allowed = waitReady(ctx, allowed)
		links, err := cluster.PodLinks(ctx, allowed)
		Expect(err).NotTo(HaveOccurred())
		Expect(links["net1"].IPv4s()).To(ConsistOf(HavePrefix("10.222.0.")))

		denied := testPod(ns, "denied", map[string]string{"k8s.v1.cni.cncf.io/networks": other + "/private"})
		Expect(cluster.Client.Create(ctx, denied)).To(Succeed())
		Eventually(func(g Gomega) {
			events := &corev1.EventList{}
			g.Expect(cluster.Client.List(ctx, events, client.InNamespace(ns))).To(Succeed())
			var msgs []string
			for _, e := range events.Items {
				if e.InvolvedObject.Name == denied.Name {
					msgs = append(msgs, e.Reason+": "+e.Message)
				}
			}
			g.Expect(strings.Join(msgs, "\n")).To(ContainSubstring(other+"/private"), "an event names the refused network")
		}).WithContext(ctx).Should(Succeed())
		got := &corev1.Pod{}
		Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(denied), got)).To(Succeed())
		Expect(got.Status.PodIP).To(BeEmpty(), "the refused pod never got a sandbox network")
		Expect(ipamReservations(filepath.Join(ipamDir))).NotTo(ContainElement(HavePrefix("10.223.")))
	})

	It("applies static IPs, a MAC and default-route on a macvlan attachment over the test uplink", func(ctx SpecContext) {
		conf := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"mv-static-%s","plugins":[
			{"type":"macvlan","master":"plexus-up0","mode":"bridge","capabilities":{"ips":true},
			 "ipam":{"type":"static","routes":[{"dst":"0.0.0.0/0","gw":"10.230.0.1"}]}},
			{"type":"tuning","capabilities":{"mac":true}}]}`, ns)
		Expect(cluster.Client.Create(ctx, nad(ns, "mv-static", conf))).To(Succeed())
		pod := testPod(ns, "static", map[string]string{"k8s.v1.cni.cncf.io/networks": `[{"name":"mv-static","ips":["10.230.0.5/24"],"mac":"02:00:00:aa:bb:05","default-route":["10.230.0.1"]}]`})
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())
		pod = waitReady(ctx, pod)

		links, err := cluster.PodLinks(ctx, pod)
		Expect(err).NotTo(HaveOccurred())
		Expect(links["net1"].IPv4s()).To(ConsistOf("10.230.0.5/24"))
		Expect(links["net1"].Address).To(Equal("02:00:00:aa:bb:05"))
		routes, err := cluster.InPodNetns(ctx, pod, "ip", "-4", "route", "show", "default")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.TrimSpace(routes)).To(Equal("default via 10.230.0.1 dev net1"),
			"the attachment that claims default-route owns the only default route")

		Eventually(func(g Gomega) {
			status := networkStatus(ctx, pod)
			g.Expect(status).To(HaveLen(2))
			// Spec §5.3.5: "default" marks the cluster-wide default network, whatever holds the
			// default route; the gateway key says where the default route went.
			g.Expect(status[1]).To(SatisfyAll(HaveField("Name", ns+"/mv-static"), HaveField("Mac", "02:00:00:aa:bb:05"),
				HaveField("Default", false), HaveField("Gateway", ConsistOf("10.230.0.1"))))
			g.Expect(status[0]).To(SatisfyAll(HaveField("Interface", "eth0"), HaveField("Default", true), HaveField("Gateway", BeEmpty())))
		}).WithContext(ctx).Should(Succeed())
	})
})

// networkStatus returns the pod's parsed network-status annotation (nil while absent).
func networkStatus(ctx SpecContext, pod *corev1.Pod) []nadv1.NetworkStatus {
	got := &corev1.Pod{}
	Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
	raw, ok := got.Annotations[nadv1.NetworkStatusAnnot]
	if !ok {
		return nil
	}
	var status []nadv1.NetworkStatus
	Expect(json.Unmarshal([]byte(raw), &status)).To(Succeed(), raw)
	return status
}

func linkNames(links map[string]framework.Link) []string {
	names := make([]string, 0, len(links))
	for n := range links {
		names = append(names, n)
	}
	return names
}

// bareIPs drops prefix lengths: network-status may carry "10.0.0.5" or "10.0.0.5/24".
func bareIPs(ips []string) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, strings.SplitN(ip, "/", 2)[0])
	}
	return out
}

// bridgePorts counts the links enslaved to a host bridge (0 when the bridge is gone).
func bridgePorts(name string) int {
	br, err := netlink.LinkByName(name)
	if err != nil {
		return 0
	}
	links, err := netlink.LinkList()
	Expect(err).NotTo(HaveOccurred())
	n := 0
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			n++
		}
	}
	return n
}

// ipamReservations lists the addresses host-local still holds under dir (all networks).
func ipamReservations(dir string) []string {
	var ips []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), "last_reserved_ip") && d.Name() != "lock" {
			ips = append(ips, d.Name())
		}
		return nil
	})
	return ips
}
