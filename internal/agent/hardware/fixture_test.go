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

package hardware

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/grpc"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/sriov"
	"github.com/plexus-net/plexus/internal/sysfs/fake"
)

const (
	pfA = "0000:3b:00.0"
	pfB = "0000:3b:00.1"
)

// fakeKubelet is a kubelet PodResources v1 server on a unix socket whose List answer the spec
// sets.
type fakeKubelet struct {
	podresourcesv1.UnimplementedPodResourcesListerServer
	mu    sync.Mutex
	pods  []*podresourcesv1.PodResources
	calls int
}

func (k *fakeKubelet) List(context.Context, *podresourcesv1.ListPodResourcesRequest) (*podresourcesv1.ListPodResourcesResponse, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls++
	return &podresourcesv1.ListPodResourcesResponse{PodResources: k.pods}, nil
}

// hold makes the pod namespace/name hold the given VF PCI addresses.
func (k *fakeKubelet) hold(ns, name string, vfs ...string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.pods = append(k.pods, &podresourcesv1.PodResources{Namespace: ns, Name: name, Containers: []*podresourcesv1.ContainerResources{{
		Name:    "app",
		Devices: []*podresourcesv1.ContainerDevices{{ResourceName: "plexus.dev/net", DeviceIds: vfs}},
	}}})
}

func (k *fakeKubelet) listCalls() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.calls
}

// startFakeKubelet serves a fakeKubelet until the spec ends and returns a client for it.
func startFakeKubelet() (*fakeKubelet, *sriov.PodResourcesClient) {
	dir, err := os.MkdirTemp("", "podres")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	sock := filepath.Join(dir, "kubelet.sock")
	l, err := net.Listen("unix", sock)
	Expect(err).NotTo(HaveOccurred())
	k := &fakeKubelet{}
	srv := grpc.NewServer()
	podresourcesv1.RegisterPodResourcesListerServer(srv, k)
	go func() { _ = srv.Serve(l) }()
	DeferCleanup(srv.Stop)
	c, err := sriov.NewPodResourcesClient(sock)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(c.Close)
	return k, c
}

// fixture is one spec's node: a Node object with a unique label, a fake sysfs tree with two
// PFs (ens1f0, ens1f1; 8 VFs each, iavf, vfio-pci loaded) and 2Mi hugepages on two NUMA nodes,
// a fake kubelet and a reconciler for the node.
type fixture struct {
	node    string
	label   string
	tree    *fake.Tree
	kubelet *fakeKubelet
	r       *Reconciler
	ns      string
}

func newFixture(ctx context.Context) *fixture {
	f := &fixture{node: "node-" + rand.String(6)}
	f.label = f.node
	tr, err := fake.New(GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
	for i, addr := range []string{pfA, pfB} {
		Expect(tr.AddPF(fake.PF{Address: addr, Name: fmt.Sprintf("ens1f%d", i), Vendor: "8086", Device: "158b",
			VFDevice: "154c", Driver: "i40e", VFDriver: "iavf", TotalVFs: 8, NUMANode: i})).To(Succeed())
	}
	Expect(tr.AddDriver("vfio-pci")).To(Succeed())
	Expect(tr.SetHugepages(2048, 2, 1024)).To(Succeed())
	f.tree = tr
	var pr *sriov.PodResourcesClient
	f.kubelet, pr = startFakeKubelet()

	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: f.node, Labels: map[string]string{"hw-test": f.label}}}
	Expect(k8sClient.Create(ctx, node)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) {
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, node))).To(Succeed())
		nns := &plexusv1alpha1.NodeNetworkState{ObjectMeta: metav1.ObjectMeta{Name: f.node}}
		Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, nns))).To(Succeed())
	})
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "hw-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	f.ns = ns.Name
	f.r = f.newReconciler(pr)
	return f
}

// newReconciler returns a reconciler on the fixture's node, tree and state directory (a
// second one models an agent restart).
func (f *fixture) newReconciler(pr sriov.PodDeviceLister) *Reconciler {
	stateDir := GinkgoT().TempDir()
	if f.r != nil {
		stateDir = f.r.StateDir
		pr = f.r.PodResources
	}
	ev, err := EvictionClient(restCfg)
	Expect(err).NotTo(HaveOccurred())
	return &Reconciler{Client: k8sClient, APIReader: k8sClient, Evictions: ev, NodeName: f.node, Namespace: testNamespace,
		SysRoot: f.tree, StateDir: stateDir, PodResources: pr, DevicePluginSelector: mustSelector(DefaultDevicePluginSelector),
		PollInterval: 50 * time.Millisecond}
}

func (f *fixture) reconcile(ctx context.Context) (ctrl.Result, error) {
	return f.r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Name: f.node}})
}

// policy creates a NodeNetworkPolicy selecting only the fixture's node.
func (f *fixture) policy(ctx context.Context, name string, spec plexusv1alpha1.NodeNetworkPolicySpec) *plexusv1alpha1.NodeNetworkPolicy {
	spec.NodeSelector = metav1.LabelSelector{MatchLabels: map[string]string{"hw-test": f.label}}
	p := &plexusv1alpha1.NodeNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: f.node + "-" + name}, Spec: spec}
	Expect(k8sClient.Create(ctx, p)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, p))).To(Succeed()) })
	return p
}

func (f *fixture) state(ctx context.Context) *plexusv1alpha1.NodeNetworkState {
	nns := &plexusv1alpha1.NodeNetworkState{}
	Expect(k8sClient.Get(ctx, types.NamespacedName{Name: f.node}, nns)).To(Succeed())
	return nns
}

func (f *fixture) getNode(ctx context.Context) *corev1.Node {
	n := &corev1.Node{}
	Expect(k8sClient.Get(ctx, types.NamespacedName{Name: f.node}, n)).To(Succeed())
	return n
}

func (f *fixture) numVfs(addr string) string {
	b, err := f.tree.ReadFile("bus/pci/devices/" + addr + "/sriov_numvfs")
	Expect(err).NotTo(HaveOccurred())
	return string(b[:len(b)-1])
}

// heldLeases lists the budget Leases the fixture's node holds.
func (f *fixture) heldLeases(ctx context.Context) []string {
	list := &coordinationv1.LeaseList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(testNamespace))).To(Succeed())
	var out []string
	for _, l := range list.Items {
		if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == f.node {
			out = append(out, l.Name)
		}
	}
	return out
}

func (f *fixture) pod(ctx context.Context, name string, labels map[string]string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
	Expect(k8sClient.Create(ctx, p)).To(Succeed())
	return p
}

func condition(nns *plexusv1alpha1.NodeNetworkState, typ string) metav1.Condition {
	c := meta.FindStatusCondition(nns.Status.Conditions, typ)
	Expect(c).NotTo(BeNil(), "condition %s", typ)
	return *c
}

func policyEntry(nns *plexusv1alpha1.NodeNetworkState, name string) plexusv1alpha1.NodePolicyStatus {
	for _, p := range nns.Status.Policies {
		if p.Name == name {
			return p
		}
	}
	Fail("no policies[] entry for " + name)
	return plexusv1alpha1.NodePolicyStatus{}
}

func mustSelector(s string) labels.Selector {
	sel, err := labels.Parse(s)
	Expect(err).NotTo(HaveOccurred())
	return sel
}
