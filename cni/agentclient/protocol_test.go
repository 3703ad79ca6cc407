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

package agentclient

import (
	"encoding/json"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/netattach"
)

// The per-operation wire types encode exactly like Request, so the agent (which decodes
// into Request) sees no difference.
func TestRequestWireIsRequest(t *testing.T) {
	g := NewWithT(t)
	pod := api.PodRef{Namespace: "ns", Name: "p", UID: "u", ContainerID: "c", IfName: "eth0"}
	for _, r := range []*Request{
		{Op: OpHealth},
		{Op: OpResolve, Resolve: &ResolveRequest{Pod: pod, Options: Options{ClusterNetwork: "/x", DefaultNetworks: []string{"a"}}, PodResourcesSocket: "/s"}},
		{Op: OpReport, Report: &ReportRequest{Pod: pod, Report: api.StatusReport{UID: "u",
			NetworkStatus: []netattach.NetworkStatus{{Name: "ns/n", Interface: "net1", IPs: []string{"10.0.0.2"}}},
			Events:        []api.Event{{Type: api.EventTypeNormal, Reason: api.ReasonAddedInterface, Message: "m"}}}}},
		{Op: "both", Resolve: &ResolveRequest{Pod: pod}, Report: &ReportRequest{Pod: pod}},
	} {
		want, err := json.Marshal(r)
		g.Expect(err).NotTo(HaveOccurred())
		got, err := json.Marshal(r.wire())
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(got)).To(Equal(string(want)), r.Op)
	}
}
