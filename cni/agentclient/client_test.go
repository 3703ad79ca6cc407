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

package agentclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/agentclient"
	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
)

// serve answers every request on a unix socket with handler and returns the socket path.
func serve(t *testing.T, handler func(*agentclient.Request) *agentclient.Answer) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				var req agentclient.Request
				if err := json.NewDecoder(conn).Decode(&req); err != nil {
					return
				}
				_ = json.NewEncoder(conn).Encode(handler(&req))
			}()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return sock
}

type direct struct{ resolves, reports int }

func (d *direct) Resolve(context.Context, api.PodRef) (*api.ResolvedPod, error) {
	d.resolves++
	return &api.ResolvedPod{UID: "direct"}, nil
}

func (d *direct) Report(context.Context, api.PodRef, *api.StatusReport) error {
	d.reports++
	return nil
}

func TestClientWire(t *testing.T) {
	g := NewWithT(t)
	var got agentclient.ResolveRequest
	var reported *agentclient.ReportRequest
	sock := serve(t, func(r *agentclient.Request) *agentclient.Answer {
		switch r.Op {
		case agentclient.OpResolve:
			got = *r.Resolve
			if got.Pod.Name == "bad" {
				er := agentclient.NewErrorResponse(
					api.NewResolveError(api.ReasonNoNetworkFound, true, "NetworkAttachmentDefinition ns/x: %w", api.ErrNetworkNotFound))
				return &agentclient.Answer{Code: agentclient.CodeRejected, Error: &er}
			}
			return &agentclient.Answer{Code: agentclient.CodeOK,
				Resolved: &api.ResolvedPod{UID: "u1", Attachments: []api.Attachment{{Network: "cbr0", IfName: got.Pod.IfName}}}}
		case agentclient.OpReport:
			reported = r.Report
			return &agentclient.Answer{Code: agentclient.CodeAccepted}
		}
		return &agentclient.Answer{Code: agentclient.CodeBadRequest, Error: &agentclient.ErrorResponse{Message: "unknown op", Cause: agentclient.CauseInvalidRequest}}
	})
	c := agentclient.New(sock, resolve.Options{ClusterNetwork: "/etc/cni/net.d/10-x.conflist", NamespaceIsolation: true}, "/pr.sock")
	out, err := c.Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "p", IfName: "eth0"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.UID).To(Equal("u1"))
	g.Expect(out.Attachments[0].IfName).To(Equal("eth0"))
	g.Expect(got.Options.ClusterNetwork).To(Equal("/etc/cni/net.d/10-x.conflist"))
	g.Expect(got.Options.NamespaceIsolation).To(BeTrue())
	g.Expect(got.PodResourcesSocket).To(Equal("/pr.sock"))

	_, err = c.Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "bad"})
	g.Expect(err).To(MatchError(api.ErrNetworkNotFound))
	g.Expect(errors.Is(err, agentclient.ErrAgentUnavailable)).To(BeFalse())
	var re *api.ResolveError
	g.Expect(errors.As(err, &re)).To(BeTrue())
	g.Expect(re.Reason).To(Equal(api.ReasonNoNetworkFound))
	g.Expect(err.Error()).To(Equal("NetworkAttachmentDefinition ns/x: network attachment definition not found"))

	g.Expect(c.Report(context.Background(), api.PodRef{Namespace: "ns", Name: "p"}, &api.StatusReport{UID: "u1"})).To(Succeed())
	g.Expect(reported).NotTo(BeNil())
	g.Expect(reported.Pod.Name).To(Equal("p"))
	g.Expect(reported.Report.UID).To(Equal("u1"))
}

func TestFallback(t *testing.T) {
	g := NewWithT(t)
	notReady := serve(t, func(*agentclient.Request) *agentclient.Answer {
		return &agentclient.Answer{Code: agentclient.CodeUnavailable, Error: &agentclient.ErrorResponse{Message: "agent caches are not synced yet"}}
	})
	skewed := serve(t, func(*agentclient.Request) *agentclient.Answer {
		return &agentclient.Answer{Code: agentclient.CodeBadRequest,
			Error: &agentclient.ErrorResponse{Message: `unknown operation "resolve"`, Cause: agentclient.CauseInvalidRequest}}
	})
	// A listener that never answers: the client's answer timeout (not the test) ends the wait.
	mute := filepath.Join(t.TempDir(), "mute.sock")
	ln, err := net.Listen("unix", mute)
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = ln.Close() })
	for name, sock := range map[string]string{"unavailable": notReady, "version skew": skewed, "no socket": filepath.Join(t.TempDir(), "none.sock"), "mute": mute} {
		d := &direct{}
		f := &agentclient.Fallback{Agent: agentclient.New(sock, resolve.Options{}, ""),
			Direct: func() (api.Resolver, api.StatusSink, error) { return d, d, nil }}
		start := time.Now()
		out, err := f.Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "p"})
		g.Expect(err).NotTo(HaveOccurred(), name)
		g.Expect(out.UID).To(Equal("direct"), name)
		if name != "mute" {
			g.Expect(time.Since(start)).To(BeNumerically("<", time.Second), name)
		}
		g.Expect(f.Report(context.Background(), api.PodRef{Namespace: "ns", Name: "p"}, &api.StatusReport{})).To(Succeed())
		g.Expect(d.reports).To(Equal(1), name)
	}
	_, err = agentclient.New(filepath.Join(t.TempDir(), "none.sock"), resolve.Options{}, "").Resolve(context.Background(), api.PodRef{})
	g.Expect(errors.Is(err, api.ErrUnavailable)).To(BeTrue())
}
