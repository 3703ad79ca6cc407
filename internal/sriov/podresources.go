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

package sriov

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	podresourcesv1 "k8s.io/kubelet/pkg/apis/podresources/v1"
)

// DefaultPodResourcesSocket is the kubelet PodResources API socket.
const DefaultPodResourcesSocket = "/var/lib/kubelet/pod-resources/kubelet.sock"

// maxPodResourcesMsgSize bounds a List response (kubelet's own client uses 16 MiB).
const maxPodResourcesMsgSize = 16 << 20

// PodResourcesClient is a PodDeviceLister backed by the kubelet PodResources v1 API.
type PodResourcesClient struct {
	conn   *grpc.ClientConn
	client podresourcesv1.PodResourcesListerClient
}

var _ PodDeviceLister = (*PodResourcesClient)(nil)

// NewPodResourcesClient connects (lazily) to the PodResources socket at socketPath.
func NewPodResourcesClient(socketPath string) (*PodResourcesClient, error) {
	conn, err := grpc.NewClient("unix://"+socketPath,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxPodResourcesMsgSize)))
	if err != nil {
		return nil, fmt.Errorf("pod resources client %s: %w", socketPath, err)
	}
	return &PodResourcesClient{conn: conn, client: podresourcesv1.NewPodResourcesListerClient(conn)}, nil
}

// Close closes the connection.
func (c *PodResourcesClient) Close() error { return c.conn.Close() }

// ListPodDevices implements PodDeviceLister with the List RPC.
func (c *PodResourcesClient) ListPodDevices(ctx context.Context) ([]PodDevices, error) {
	resp, err := c.client.List(ctx, &podresourcesv1.ListPodResourcesRequest{})
	if err != nil {
		return nil, fmt.Errorf("podresources List: %w", err)
	}
	var out []PodDevices
	for _, pr := range resp.GetPodResources() {
		pd := PodDevices{Namespace: pr.GetNamespace(), Name: pr.GetName()}
		// NOTE: kubelet reports restartable init containers (sidecars) in Containers too.
		for _, ctr := range pr.GetContainers() {
			for _, dev := range ctr.GetDevices() {
				pd.DeviceIDs = append(pd.DeviceIDs, dev.GetDeviceIds()...)
			}
		}
		if len(pd.DeviceIDs) > 0 {
			out = append(out, pd)
		}
	}
	return out, nil
}
