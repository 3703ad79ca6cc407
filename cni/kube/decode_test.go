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

package kube

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
)

// TestDecodeList checks the hand-written protobuf walk against messages encoded by the
// real generated types, and that truncated input errors instead of panicking.
func TestDecodeList(t *testing.T) {
	msg := &podresourcesv1.ListPodResourcesResponse{PodResources: []*podresourcesv1.PodResources{
		{Name: "web", Namespace: "ns", CpuIds: []int64{3, 4}, Containers: []*podresourcesv1.ContainerResources{{
			Name: "c", CpuIds: []int64{1}, Memory: []*podresourcesv1.ContainerMemory{{MemoryType: "hugepages-1Gi", Size: 1 << 30}},
			Devices: []*podresourcesv1.ContainerDevices{{ResourceName: "intel.com/sriov", DeviceIds: []string{"0000:03:00.1", "0000:03:00.2"},
				Topology: &podresourcesv1.TopologyInfo{Nodes: []*podresourcesv1.NUMANode{{ID: 1}}}}},
		}}},
	}}
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeList(b, "ns", "web")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"intel.com/sriov": {"0000:03:00.1", "0000:03:00.2"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range len(b) {
		_, _ = decodeList(b[:i], "ns", "web") // must not panic
	}
	if _, err := decodeList([]byte{0x0a, 0xff}, "ns", "web"); err == nil {
		t.Fatal("a truncated length must be an error")
	}
}
