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

package kube_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/kube"
)

// fakeKubelet serves the real PodResourcesLister gRPC service on a unix socket.
type fakeKubelet struct {
	podresourcesv1.UnimplementedPodResourcesListerServer
	resp *podresourcesv1.ListPodResourcesResponse
}

func (f *fakeKubelet) List(context.Context, *podresourcesv1.ListPodResourcesRequest) (*podresourcesv1.ListPodResourcesResponse, error) {
	return f.resp, nil
}

func TestPodResourcesDeviceIDs(t *testing.T) {
	g := NewWithT(t)
	sock := filepath.Join(t.TempDir(), "kubelet.sock")
	ln, err := net.Listen("unix", sock)
	g.Expect(err).NotTo(HaveOccurred())
	srv := grpc.NewServer()
	podresourcesv1.RegisterPodResourcesListerServer(srv, &fakeKubelet{resp: &podresourcesv1.ListPodResourcesResponse{
		PodResources: []*podresourcesv1.PodResources{
			{Name: "other", Namespace: "ns", Containers: []*podresourcesv1.ContainerResources{{Name: "c",
				Devices: []*podresourcesv1.ContainerDevices{{ResourceName: "intel.com/sriov", DeviceIds: []string{"0000:09:00.1"}}}}}},
			{Name: "web", Namespace: "ns", Containers: []*podresourcesv1.ContainerResources{
				{Name: "a", CpuIds: []int64{1, 2}, Devices: []*podresourcesv1.ContainerDevices{
					{ResourceName: "intel.com/sriov", DeviceIds: []string{"0000:03:00.4", "0000:03:00.2"},
						Topology: &podresourcesv1.TopologyInfo{Nodes: []*podresourcesv1.NUMANode{{ID: 0}}}},
				}},
				{Name: "b", Devices: []*podresourcesv1.ContainerDevices{
					{ResourceName: "intel.com/sriov", DeviceIds: []string{"0000:03:00.3"}},
					{ResourceName: "nvidia.com/gpu", DeviceIds: []string{"GPU-1"}},
				}},
			}},
		}}})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	pr := &kube.PodResources{Socket: sock}
	got, err := pr.DeviceIDs(context.Background(), "ns", "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(map[string][]string{
		"intel.com/sriov": {"0000:03:00.2", "0000:03:00.3", "0000:03:00.4"},
		"nvidia.com/gpu":  {"GPU-1"},
	}))
	got, err = pr.DeviceIDs(context.Background(), "ns", "absent")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(BeEmpty())

	_, err = (&kube.PodResources{Socket: filepath.Join(t.TempDir(), "missing.sock")}).DeviceIDs(context.Background(), "ns", "web")
	g.Expect(err).To(HaveOccurred())
}
