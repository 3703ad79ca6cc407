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

package sriov_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"google.golang.org/grpc"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/sriov"
	"github.com/plexus-net/plexus/internal/sysfs/fake"
)

// kubelet is a PodResources v1 server with a fixed answer, served on a real unix socket.
type kubelet struct {
	podresourcesv1.UnimplementedPodResourcesListerServer
	pods []*podresourcesv1.PodResources
}

func (k *kubelet) List(context.Context, *podresourcesv1.ListPodResourcesRequest) (*podresourcesv1.ListPodResourcesResponse, error) {
	return &podresourcesv1.ListPodResourcesResponse{PodResources: k.pods}, nil
}

func serveKubelet(t *testing.T, k *kubelet) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "kubelet.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	podresourcesv1.RegisterPodResourcesListerServer(srv, k)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return sock
}

func pod(ns, name string, devs map[string][]string, containers ...string) *podresourcesv1.PodResources {
	pr := &podresourcesv1.PodResources{Namespace: ns, Name: name}
	if len(containers) == 0 {
		containers = []string{"main"}
	}
	for _, c := range containers {
		cr := &podresourcesv1.ContainerResources{Name: c}
		for res, ids := range devs {
			cr.Devices = append(cr.Devices, &podresourcesv1.ContainerDevices{ResourceName: res, DeviceIds: ids})
		}
		pr.Containers = append(pr.Containers, cr)
		devs = nil // devices only on the first container
	}
	return pr
}

func TestPlanDisruptionWithPodResources(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 4, netdev(0, 1), vfio(2, 3)), pfWith(pfB, 2)}})
	g.Expect(err).NotTo(HaveOccurred())

	k := &kubelet{pods: []*podresourcesv1.PodResources{
		pod("telco", "upf-0", map[string][]string{"plexus.dev/dpdk": {fake.VFAddress(pfA, 2)}}),
		pod("telco", "cnf-1", map[string][]string{"plexus.dev/net": {fake.VFAddress(pfA, 0)}}, "init", "main"),
		pod("apps", "web", map[string][]string{"plexus.dev/net": {fake.VFAddress(pfB, 1)}}),
		pod("apps", "cpu-only", nil),
	}}
	// cnf-1 has its VF on the second container entry, as kubelet lists sidecars.
	k.pods[1].Containers[0].Devices, k.pods[1].Containers[1].Devices = nil, k.pods[1].Containers[0].Devices
	client, err := sriov.NewPodResourcesClient(serveKubelet(t, k))
	g.Expect(err).NotTo(HaveOccurred())
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := client.ListPodDevices(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pods).To(HaveLen(3), "pods without devices are dropped")

	// New state: A 4 -> 8 (reset: every VF of A), B keeps 2 VFs but VF 0 goes to vfio-pci
	// (only VF 0 is affected; web holds VF 1).
	desired := sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 8, netdev(0, 7)), pfWith(pfB, 2, vfio(0, 0))}}
	observed, err := sriov.Discover(e.tree)
	g.Expect(err).NotTo(HaveOccurred())
	plan, err := sriov.ComputePlan(observed, desired, nil)
	g.Expect(err).NotTo(HaveOccurred())
	d, err := sriov.PlanDisruption(ctx, plan, observed, client)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.PFs).To(Equal([]sriov.DisruptedPF{
		{PCIAddress: pfA, Name: "ens1f0", Reset: true, Pods: []string{"telco/cnf-1", "telco/upf-0"}},
		{PCIAddress: pfB, Name: "ens1f1"},
	}))
	g.Expect(d.Disruptive()).To(BeTrue())
	st := d.Status(plexusv1alpha1.DisruptionStatePending)
	g.Expect(st.State).To(Equal(plexusv1alpha1.DisruptionStatePending))
	g.Expect(st.PFs[0].PodsToEvict).To(Equal([]string{"telco/cnf-1", "telco/upf-0"}))

	// Now rebinding B's VF 1 is disruptive for web.
	desired.PFs[1] = pfWith(pfB, 2, vfio(1, 1))
	plan, err = sriov.ComputePlan(observed, desired, nil)
	g.Expect(err).NotTo(HaveOccurred())
	d, err = sriov.PlanDisruption(ctx, plan, observed, client)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.PFs[1].Pods).To(Equal([]string{"apps/web"}))

	// An MTU-only change is not disruptive and needs no kubelet call.
	cfgA := pfWith(pfA, 4, netdev(0, 1), vfio(2, 3))
	cfgA.MTU = 9000
	plan, err = sriov.ComputePlan(observed, sriov.Desired{PFs: []sriov.PFConfig{cfgA, pfWith(pfB, 2)}}, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(plan.PFs).To(HaveLen(1))
	d, err = sriov.PlanDisruption(ctx, plan, observed, failingLister{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(d.Disruptive()).To(BeFalse())
	g.Expect(d.Status(plexusv1alpha1.DisruptionStatePending).State).To(Equal(plexusv1alpha1.DisruptionStateNone))
}

func TestPodResourcesUnavailable(t *testing.T) {
	g := NewWithT(t)
	client, err := sriov.NewPodResourcesClient(filepath.Join(t.TempDir(), "absent.sock"))
	g.Expect(err).NotTo(HaveOccurred())
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = client.ListPodDevices(ctx)
	g.Expect(err).To(MatchError(ContainSubstring("podresources List")))
}

type failingLister struct{}

func (failingLister) ListPodDevices(context.Context) ([]sriov.PodDevices, error) {
	panic("must not be called")
}
