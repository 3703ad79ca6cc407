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
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
	"github.com/plexus-net/plexus/internal/sysfs"
	"github.com/plexus-net/plexus/internal/sysfs/fake"
	"github.com/plexus-net/plexus/test/e2e/framework/sriovdp"
)

// The fake SR-IOV NIC of node 1: one PF with two VFs already created (numVfs writes are covered
// by the unit tests of internal/sriov and internal/agent/hardware).
const (
	fakePFAddress  = "0000:3b:00.0"
	fakePFName     = "plxpf0" // VF netdevices: plxpf0v0, plxpf0v1 (backed by real veths)
	fakeVFDevice   = "1889"
	fakeVFDriver   = "iavf"
	fakeNumVfs     = 2
	fakeResource   = "fakevf"
	fakeResourceFQ = "plexus.dev/" + fakeResource
	// vfMTU is the MTU the policy sets on the PF and the VFs (the VFs' is the real veths').
	vfMTU int32 = 1400
	// devInfoRoot is the multi-net spec's device-info directory (plexus-cni's default).
	devInfoRoot = "/var/run/k8s.cni.cncf.io"
)

// fakePCITree writes node 1's fake PCI sysfs below the cluster dir (inside the agent's
// hostRoot), removed when the spec ends.
func fakePCITree() string {
	dir := filepath.Join(cluster.NodeDir(1), "fake-pci-sys")
	Expect(os.RemoveAll(dir)).To(Succeed())
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	DeferCleanup(os.RemoveAll, dir)
	tree, err := fake.New(dir)
	Expect(err).NotTo(HaveOccurred())
	Expect(tree.AddPF(fake.PF{Address: fakePFAddress, Name: fakePFName, Vendor: "8086", Device: "1592", VFDevice: fakeVFDevice,
		Driver: "ice", VFDriver: fakeVFDriver, TotalVFs: 4, NUMANode: 0})).To(Succeed())
	Expect(sysfs.WriteInt(tree, "bus/pci/devices/"+fakePFAddress+"/sriov_numvfs", fakeNumVfs)).To(Succeed())
	return dir
}

// vfVeths backs every VF netdevice of the fake tree with a real veth in the host netns (its
// peer, <name>h, stays on the host), removed when the spec ends, and returns their MACs.
func vfVeths(tree string) map[string]string {
	devs, err := sriovdp.Discover(sysfs.New(tree))
	Expect(err).NotTo(HaveOccurred())
	Expect(devs).To(HaveLen(fakeNumVfs))
	macs := map[string]string{}
	for _, d := range devs {
		Expect(d.Netdev).NotTo(BeEmpty())
		peer := d.Netdev + "h"
		deleteLink(peer) // a killed run's leftover
		deleteLink(d.Netdev)
		Expect(netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: d.Netdev}, PeerName: peer})).To(Succeed())
		// Deleting the host end removes the pair, wherever the other end is.
		DeferCleanup(deleteLink, peer)
		for _, n := range []string{d.Netdev, peer} {
			l, err := netlink.LinkByName(n)
			Expect(err).NotTo(HaveOccurred())
			Expect(netlink.LinkSetUp(l)).To(Succeed())
		}
		l, err := netlink.LinkByName(d.Netdev)
		Expect(err).NotTo(HaveOccurred())
		macs[d.Netdev] = l.Attrs().HardwareAddr.String()
	}
	return macs
}

func deleteLink(name string) {
	if l, err := netlink.LinkByName(name); err == nil {
		Expect(netlink.LinkDel(l)).To(Succeed())
	}
}

// installSriovStandIn builds test/e2e/cmd/fake-sriov-cni for the fake tree and installs it as
// "sriov" in node 1's CNI bin dir until the spec ends.
func installSriovStandIn(ctx SpecContext, tree string) {
	dst := filepath.Join(cluster.NodeDir(1), "cni", "bin", "sriov")
	_, err := os.Stat(dst)
	Expect(os.IsNotExist(err)).To(BeTrue(), "%s exists: node 1 has a real sriov plugin", dst)
	tmp := filepath.Join(cluster.NodeDir(1), "cni", "bin", ".sriov.tmp")
	cmd := exec.CommandContext(ctx, "go", "build", "-ldflags", "-X main.sysRoot="+tree, "-o", tmp, "./test/e2e/cmd/fake-sriov-cni")
	cmd.Dir = cluster.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build fake-sriov-cni:\n%s", out)
	Expect(os.Rename(tmp, dst)).To(Succeed())
	DeferCleanup(os.Remove, dst)
}

// agentSysRoot is the host sysfs as the deployed agent's container sees it (its --sys-root).
func agentSysRoot(ctx SpecContext) string {
	ds := &appsv1.DaemonSet{}
	Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: agentNamespace, Name: "plexus-agent"}, ds)).To(Succeed())
	for _, c := range ds.Spec.Template.Spec.Containers {
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "--sys-root="); ok {
				return v
			}
		}
	}
	Fail("the agent DaemonSet has no --sys-root argument")
	return ""
}

// removeIfCreated removes dir when the spec ends if it does not exist now (plexus-cni and the
// fake device plugin create the device-info directories on the host).
func removeIfCreated(dir string) {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		DeferCleanup(os.RemoveAll, dir)
	}
}

// podDeviceIDs asks node 1's kubelet (PodResources List) which devices of resourceName the pod
// holds.
func podDeviceIDs(ctx SpecContext, ns, name, resourceName string) ([]string, error) {
	sock := filepath.Join(cluster.NodeDir(1), "kubelet", "pod-resources", "kubelet.sock")
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close() //nolint:errcheck // read-only
	resp, err := podresourcesv1.NewPodResourcesListerClient(conn).List(ctx, &podresourcesv1.ListPodResourcesRequest{})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, p := range resp.GetPodResources() {
		if p.GetNamespace() != ns || p.GetName() != name {
			continue
		}
		for _, c := range p.GetContainers() {
			for _, d := range c.GetDevices() {
				if d.GetResourceName() == resourceName {
					ids = append(ids, d.GetDeviceIds()...)
				}
			}
		}
	}
	return ids, nil
}

// filesContaining lists the files below dir whose name contains s.
func filesContaining(dir, s string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), s) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// An sriov plane end to end on the real cluster, with only the hardware faked: the deployed
// agent applies a NodeNetworkPolicy against a fake PCI sysfs tree on node 1 (the
// plexus.dev/pci-sys-root override), the operator renders the device plugin config, a fake
// device plugin reads it, selects the VFs and registers them with node 1's kubelet, the pod
// webhook adds the resource request, kubelet allocates a VF, plexus-cni reads it from the
// PodResources API and passes it as runtimeConfig.deviceID to the plane's "sriov" delegate (a
// stand-in that hands the VF's veth to the real host-device plugin).
var _ = Describe("SR-IOV planes", Ordered, Label("hardware", "sriov"), func() {
	var (
		tree string
		macs map[string]string
	)

	BeforeAll(func(ctx SpecContext) {
		Expect(cluster.Connect(plexusv1alpha1.AddToScheme, nadv1.AddToScheme)).To(Succeed())
		By("creating node 1's fake PCI tree and a veth per fake VF")
		tree = fakePCITree()
		macs = vfVeths(tree)
		removeIfCreated(devInfoRoot)

		By("pointing node 1's agent at the fake PCI tree")
		_, err := cluster.Kubectl(ctx, "annotate", "node", hwNode, "--overwrite", plexusv1alpha1.PCISysRootAnnotation+"="+tree)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			_, err := cluster.Kubectl(ctx, "annotate", "node", hwNode, plexusv1alpha1.PCISysRootAnnotation+"-")
			Expect(err).NotTo(HaveOccurred())
		})
		annotateNodePaths(ctx)

		By("deploying Plexus with make deploy and the agent with a PlexusConfig")
		makeDeploy(ctx)
		// The agents read node annotations when they start. Every spec deletes its PlexusConfig
		// when it ends, so they start now, with the override (the PF in NodeNetworkState shows it).
		createLocalPlexusConfig(ctx)
		DeferCleanup(uninstallAgent, NodeTimeout(5*time.Minute))
		waitPlexusConfigReady(ctx)

		// The VFs' MTU is the real veths': each VF's net/<ifname> in the fake tree becomes a link to
		// the veth's directory in the host sysfs as the agent's container sees it (its --sys-root
		// mount), so the policy's MTU is a real kernel write by the deployed agent, which the
		// kernel only allows with CAP_NET_ADMIN.
		By("backing the fake VFs' net/<ifname> with the real veths' sysfs directories")
		agentSys := agentSysRoot(ctx)
		devs, err := sriovdp.Discover(sysfs.New(tree))
		Expect(err).NotTo(HaveOccurred())
		for _, d := range devs {
			netDir := filepath.Join(tree, "bus", "pci", "devices", d.PCIAddress, "net", d.Netdev)
			Expect(os.RemoveAll(netDir)).To(Succeed())
			Expect(os.Symlink(filepath.Join(agentSys, "class", "net", d.Netdev), netDir)).To(Succeed())
		}
	}, NodeTimeout(10*time.Minute))

	It("allocates a VF through the device plugin and hands it to the plane's delegate as its deviceID", func(ctx SpecContext) {
		By("applying a NodeNetworkPolicy that selects the fake PF by name")
		nnp := &plexusv1alpha1.NodeNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "e2e-sriov-fakevf"},
			Spec: plexusv1alpha1.NodeNetworkPolicySpec{
				NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelHostname: hwNode}},
				Sriov: []plexusv1alpha1.SriovConfig{{PFSelector: plexusv1alpha1.PFSelector{PFNames: []string{fakePFName}},
					NumVfs: fakeNumVfs, DeviceType: plexusv1alpha1.SriovDeviceTypeNetdevice, ResourceName: fakeResource, MTU: ptr.To(vfMTU)}},
			}}
		Expect(cluster.Client.Create(ctx, nnp)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, nnp))).To(Succeed()) })

		var vfs []plexusv1alpha1.VFStatus
		Eventually(func(g Gomega) {
			nns := &plexusv1alpha1.NodeNetworkState{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: hwNode}, nns)).To(Succeed())
			var entry *plexusv1alpha1.NodePolicyStatus
			for i := range nns.Status.Policies {
				if nns.Status.Policies[i].Name == nnp.Name {
					entry = &nns.Status.Policies[i]
				}
			}
			g.Expect(entry).NotTo(BeNil())
			g.Expect(entry.Generation).To(Equal(nnp.Generation))
			g.Expect(entry.State).To(Equal(plexusv1alpha1.PolicyApplyStateApplied), "%s: %s", entry.Reason, entry.Message)
			var pf *plexusv1alpha1.PFStatus
			for i := range nns.Status.PFs {
				if nns.Status.PFs[i].Name == fakePFName {
					pf = &nns.Status.PFs[i]
				}
			}
			g.Expect(pf).NotTo(BeNil(), "the agent reports the fake PF")
			g.Expect(pf.PCIAddress).To(Equal(fakePFAddress))
			g.Expect(pf.NumVfs).To(BeEquivalentTo(fakeNumVfs))
			g.Expect(pf.VFs).To(HaveLen(fakeNumVfs))
			for _, vf := range pf.VFs {
				g.Expect(vf.Driver).To(Equal(fakeVFDriver))
				g.Expect(macs).To(HaveKey(vf.Netdev))
				g.Expect(vf.MTU).To(Equal(vfMTU))
			}
			vfs = pf.VFs
		}).WithContext(ctx).Should(Succeed())
		Expect(sysfs.ReadInt(sysfs.New(tree), "bus/pci/devices/"+fakePFAddress+"/sriov_numvfs")).To(Equal(fakeNumVfs))
		for netdev := range macs {
			l, err := netlink.LinkByName(netdev)
			Expect(err).NotTo(HaveOccurred())
			Expect(l.Attrs().MTU).To(BeEquivalentTo(vfMTU), "the agent set %s's MTU through sysfs (needs CAP_NET_ADMIN)", netdev)
		}
		Eventually(func(g Gomega) {
			got := &plexusv1alpha1.NodeNetworkPolicy{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(nnp), got)).To(Succeed())
			g.Expect(got.Status.ConfiguredNodes).To(BeEquivalentTo(1))
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, plexusv1alpha1.ReadyCondition)).To(BeTrue())
		}).WithContext(ctx).Should(Succeed())

		By("the operator rendering node 1's device plugin config for the VFs")
		var dpConfig []byte
		Eventually(func(g Gomega) {
			cm := &corev1.ConfigMap{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: agentNamespace, Name: devicePluginConfigMap}, cm)).To(Succeed())
			g.Expect(cm.Data).To(HaveKey(hwNode))
			c, err := sriovdp.Parse([]byte(cm.Data[hwNode]))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.ResourceList).To(ConsistOf(And(
				HaveField("ResourceName", fakeResource), HaveField("ResourcePrefix", "plexus.dev"), HaveField("DeviceType", sriovdp.DeviceTypeNetDevice),
				HaveField("Selectors", ConsistOf(sriovdp.Selector{Vendors: []string{"8086"}, Devices: []string{fakeVFDevice},
					Drivers: []string{fakeVFDriver}, PFNames: []string{fmt.Sprintf("%s#0-%d", fakePFName, fakeNumVfs-1)}})))))
			dpConfig = []byte(cm.Data[hwNode])
		}).WithContext(ctx).Should(Succeed())

		By("registering the fake device plugin with node 1's kubelet through its plugin watcher")
		sockDir := filepath.Join(cluster.NodeDir(1), "fake-sriovdp")
		dp, err := sriovdp.Start(sriovdp.Options{Config: dpConfig, SysRoot: tree,
			RegistryDir: filepath.Join(cluster.NodeDir(1), "kubelet", "plugins_registry"), SocketDir: sockDir, DeviceInfo: true})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(os.RemoveAll, sockDir)
		DeferCleanup(dp.Stop)
		Expect(dp.Resources()).To(ConsistOf(fakeResourceFQ))
		vfAddrs := make([]string, 0, len(vfs))
		netdevOf := map[string]string{}
		for _, vf := range vfs {
			vfAddrs = append(vfAddrs, vf.PCIAddress)
			netdevOf[vf.PCIAddress] = vf.Netdev
		}
		Expect(dp.Devices(fakeResourceFQ)).To(HaveEach(HaveField("PCIAddress", BeElementOf(vfAddrs))))
		Expect(dp.Devices(fakeResourceFQ)).To(HaveLen(fakeNumVfs), "the config's selectors pick every VF of the policy")
		Eventually(func() (bool, error) { return dp.Registered(fakeResourceFQ) }).WithContext(ctx).Should(BeTrue())
		Eventually(func(g Gomega) {
			node := &corev1.Node{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: hwNode}, node)).To(Succeed())
			q, ok := node.Status.Allocatable[corev1.ResourceName(fakeResourceFQ)]
			g.Expect(ok).To(BeTrue(), "allocatable: %v", node.Status.Allocatable)
			g.Expect(q.Value()).To(BeEquivalentTo(fakeNumVfs))
		}).WithContext(ctx).Should(Succeed())

		By("installing the sriov stand-in in node 1's CNI bin dir")
		installSriovStandIn(ctx, tree)

		By("creating an sriov plane and a policy attaching it")
		ns := createNamespace(ctx, "e2e-sriov")
		nsObj := &corev1.Namespace{}
		Expect(cluster.Client.Get(ctx, types.NamespacedName{Name: ns}, nsObj)).To(Succeed())
		nsObj.Labels["e2e.plexus.dev/sriov"] = ns
		Expect(cluster.Client.Update(ctx, nsObj)).To(Succeed())
		plane := &plexusv1alpha1.NetworkPlane{ObjectMeta: metav1.ObjectMeta{Name: ns},
			Spec: plexusv1alpha1.NetworkPlaneSpec{
				Type:  plexusv1alpha1.NetworkPlaneTypeSRIOV,
				SRIOV: &plexusv1alpha1.SRIOVSettings{ResourceName: fakeResourceFQ},
				IPAM: &plexusv1alpha1.IPAM{Type: plexusv1alpha1.IPAMTypeStatic,
					Addresses: []plexusv1alpha1.StaticAddress{{Address: "10.78.0.10/24"}}},
				NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"e2e.plexus.dev/sriov": ns}},
			}}
		Expect(cluster.Client.Create(ctx, plane)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, plane))).To(Succeed()) })
		Eventually(func(g Gomega) {
			nad := &nadv1.NetworkAttachmentDefinition{}
			g.Expect(cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: plane.Name}, nad)).To(Succeed())
			g.Expect(nad.Annotations).To(HaveKeyWithValue(netattach.ResourceNameAnnotation, fakeResourceFQ))
			var conf struct {
				Plugins []struct {
					Type         string          `json:"type"`
					Capabilities map[string]bool `json:"capabilities"`
				} `json:"plugins"`
			}
			g.Expect(json.Unmarshal([]byte(nad.Spec.Config), &conf)).To(Succeed())
			g.Expect(conf.Plugins).To(HaveLen(1))
			g.Expect(conf.Plugins[0].Type).To(Equal("sriov"))
			g.Expect(conf.Plugins[0].Capabilities).To(HaveKeyWithValue("deviceID", true))
		}).WithContext(ctx).Should(Succeed())
		// The pod webhook (failurePolicy Ignore) must be served: a NAD write goes through the
		// operator's NAD webhook (failurePolicy Fail) only then.
		Eventually(func() error {
			return client.IgnoreAlreadyExists(cluster.Client.Create(ctx, &nadv1.NetworkAttachmentDefinition{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "webhook-probe"},
				Spec:       nadv1.NetworkAttachmentDefinitionSpec{Config: `{"cniVersion":"1.0.0","name":"probe","type":"bridge"}`},
			}))
		}).WithContext(ctx).Should(Succeed())
		policy := &plexusv1alpha1.AttachmentPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "vf"},
			Spec: plexusv1alpha1.AttachmentPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "vf"}},
				Attachments: []plexusv1alpha1.Attachment{{Plane: plane.Name}},
			}}
		Expect(cluster.Client.Create(ctx, policy)).To(Succeed())
		// Once the operator reconciled the policy, its cache (which the webhook reads) has it.
		Eventually(func(g Gomega) {
			got := &plexusv1alpha1.AttachmentPolicy{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(policy), got)).To(Succeed())
			g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
		}).WithContext(ctx).Should(Succeed())

		By("creating a pod the policy selects: the webhook adds the VF request, the scheduler picks node 1")
		pod := testPod(ns, "vf", nil)
		pod.Labels = map[string]string{"app": "vf"}
		Expect(cluster.Client.Create(ctx, pod)).To(Succeed())
		// Deleted (and its CNI DEL done) before the stand-in, the plugin and the veths go.
		DeferCleanup(func(ctx SpecContext) {
			Expect(client.IgnoreNotFound(cluster.Client.Delete(ctx, pod, client.GracePeriodSeconds(0)))).To(Succeed())
			Eventually(func() bool {
				return apierrors.IsNotFound(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{}))
			}).WithContext(ctx).Should(BeTrue())
		}, NodeTimeout(3*time.Minute))
		limit, ok := pod.Spec.Containers[0].Resources.Limits[corev1.ResourceName(fakeResourceFQ)]
		Expect(ok).To(BeTrue(), "the pod webhook requests the plane's device plugin resource: %v", pod.Spec.Containers[0].Resources)
		Expect(limit.Value()).To(BeEquivalentTo(1))
		running := waitReady(ctx, pod)
		Expect(running.Status.Phase).To(Equal(corev1.PodRunning))
		Expect(running.Spec.NodeName).To(Equal(hwNode), "only node 1 has the resource")

		By("kubelet's allocation: the device plugin's Allocate and the PodResources API agree")
		Expect(dp.Allocations(fakeResourceFQ)).To(HaveLen(1))
		allocated := dp.Allocations(fakeResourceFQ)[0]
		Expect(allocated).To(HaveLen(1))
		vf := allocated[0]
		Expect(vf).To(BeElementOf(vfAddrs))
		Expect(podDeviceIDs(ctx, ns, pod.Name, fakeResourceFQ)).To(ConsistOf(vf))
		netdev := netdevOf[vf]
		GinkgoWriter.Printf("allocated VF %s (netdevice %s, MAC %s)\n", vf, netdev, macs[netdev])
		env, err := cluster.Kubectl(ctx, "exec", "-n", ns, pod.Name, "--", "env")
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Split(env, "\n")).To(ContainElement(sriovdp.EnvName(fakeResourceFQ) + "=" + vf))

		By("the VF's netdevice in the pod as net1 with the plane's address")
		links, err := cluster.PodLinks(ctx, running)
		Expect(err).NotTo(HaveOccurred())
		Expect(links).To(HaveKey("net1"), "links: %v", linkNames(links))
		Expect(links["net1"].Address).To(Equal(macs[netdev]), "net1 is the allocated VF's veth")
		Expect(links["net1"].IPv4s()).To(ConsistOf("10.78.0.10/24"))
		Expect(links["net1"].MTU).To(BeEquivalentTo(vfMTU), "the MTU the policy set on the VF")
		_, err = netlink.LinkByName(netdev)
		Expect(errors.As(err, &netlink.LinkNotFoundError{})).To(BeTrue(), "%s left the host netns", netdev)

		By("network-status carrying the allocated VF in device-info")
		Eventually(func(g Gomega) {
			got := &corev1.Pod{}
			g.Expect(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), got)).To(Succeed())
			var status []nadv1.NetworkStatus
			g.Expect(json.Unmarshal([]byte(got.Annotations[nadv1.NetworkStatusAnnot]), &status)).To(Succeed())
			g.Expect(status).To(ContainElement(SatisfyAll(
				HaveField("Name", ns+"/"+plane.Name), HaveField("Interface", "net1"), HaveField("Mac", macs[netdev]),
				HaveField("IPs", WithTransform(bareIPs, ConsistOf("10.78.0.10"))),
				HaveField("DeviceInfo", HaveValue(SatisfyAll(HaveField("Type", nadv1.DeviceInfoTypePCI),
					// pf-pci-address comes from the device plugin's device-info file.
					HaveField("Pci", HaveValue(And(HaveField("PciAddress", vf), HaveField("PfPciAddress", fakePFAddress)))))))),
			), "%s", got.Annotations[nadv1.NetworkStatusAnnot])
		}).WithContext(ctx).Should(Succeed())
		sandbox, err := cluster.Crictl(ctx, 1, "pods", "-q", "--name", pod.Name, "--namespace", ns, "--state", "ready")
		Expect(err).NotTo(HaveOccurred())
		sandbox = strings.TrimSpace(sandbox)
		Expect(sandbox).NotTo(BeEmpty())
		devInfo := filesContaining(filepath.Join(devInfoRoot, "devinfo", "cni"), sandbox)
		Expect(devInfo).To(HaveLen(1), "plexus-cni's device-info file for net1")
		Expect(devInfo[0]).To(HaveSuffix("_net1"))
		di, err := netattach.LoadDeviceInfo(devInfo[0])
		Expect(err).NotTo(HaveOccurred())
		Expect(di.Pci).To(HaveValue(HaveField("PciAddress", vf)))
		cacheDir := filepath.Join(cluster.NodeDir(1), "cni", "cache")
		Expect(filesContaining(filepath.Join(cacheDir, "delegates"), sandbox)).NotTo(BeEmpty())

		By("deleting the pod: host-device gives the VF back, the device-info and the cache go")
		Expect(cluster.Client.Delete(ctx, pod)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(cluster.Client.Get(ctx, client.ObjectKeyFromObject(pod), &corev1.Pod{}))
		}).WithContext(ctx).Should(BeTrue())
		Eventually(func(g Gomega) {
			l, err := netlink.LinkByName(netdev)
			g.Expect(err).NotTo(HaveOccurred(), "%s is back in the host netns", netdev)
			g.Expect(l.Attrs().HardwareAddr.String()).To(Equal(macs[netdev]))
			g.Expect(filesContaining(filepath.Join(devInfoRoot, "devinfo", "cni"), sandbox)).To(BeEmpty())
			g.Expect(filesContaining(cacheDir, sandbox)).To(BeEmpty())
			g.Expect(podDeviceIDs(ctx, ns, pod.Name, fakeResourceFQ)).To(BeEmpty())
		}).WithContext(ctx).Should(Succeed())
	}, SpecTimeout(8*time.Minute))
})
