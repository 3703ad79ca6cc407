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

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/agentclient"
	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/agent/journal"
	"github.com/plexus-net/plexus/internal/netattach"
)

type fakeSource struct {
	pods map[string]*resolve.Pod
	nads map[string]*netattach.NetworkAttachmentDefinition
}

func (f *fakeSource) GetPod(_ context.Context, ns, name string) (*resolve.Pod, error) {
	if p, ok := f.pods[ns+"/"+name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("pod: %w", resolve.ErrNotFound)
}

func (f *fakeSource) GetNAD(_ context.Context, ns, name string) (*netattach.NetworkAttachmentDefinition, error) {
	if n, ok := f.nads[ns+"/"+name]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("nad: %w", resolve.ErrNotFound)
}

func (f *fakeSource) LiveRequests() int { return 0 }

type harness struct {
	socket  string
	journal *journal.Journal
	ready   atomic.Bool
	opts    resolve.Options
	cancel  context.CancelFunc
	done    chan struct{}
}

func startServer(t testing.TB, maxConcurrent int) *harness {
	t.Helper()
	g := NewWithT(t)
	dir := t.TempDir()
	cluster := filepath.Join(dir, "10-bridge.conflist")
	g.Expect(os.WriteFile(cluster, []byte(`{"cniVersion":"1.0.0","name":"cbr0","plugins":[{"type":"bridge"}]}`), 0o600)).To(Succeed())
	src := &fakeSource{
		pods: map[string]*resolve.Pod{
			"ns/p":       {Namespace: "ns", Name: "p", UID: "u1", Annotations: map[string]string{netattach.NetworksAnnotation: "macnet,bridged"}},
			"ns/missing": {Namespace: "ns", Name: "missing", UID: "u2", Annotations: map[string]string{netattach.NetworksAnnotation: "nope"}},
		},
		nads: map[string]*netattach.NetworkAttachmentDefinition{
			"ns/macnet":  {Namespace: "ns", Name: "macnet", Config: `{"cniVersion":"1.0.0","type":"macvlan","ipam":{"type":"static"}}`},
			"ns/bridged": {Namespace: "ns", Name: "bridged", Config: `{"cniVersion":"1.0.0","type":"bridge","bridge":"br9"}`},
		},
	}
	j, err := journal.Open(filepath.Join(dir, "journal"))
	g.Expect(err).NotTo(HaveOccurred())
	h := &harness{socket: filepath.Join(dir, "run", "agent.sock"), journal: j, done: make(chan struct{}),
		opts: resolve.Options{ClusterNetwork: cluster, MultusNamespace: "kube-system", SystemNamespaces: []string{"kube-system"}}}
	h.ready.Store(true)
	s := &Server{Socket: h.socket, Sources: func(string) ResolveSource { return src }, Journal: j,
		Uplink: func() string { return "eth9" }, Ready: h.ready.Load, MaxConcurrent: maxConcurrent, Log: logr.Discard()}
	l, err := s.Listen()
	g.Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { defer close(h.done); _ = s.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-h.done })
	return h
}

func (h *harness) client() *agentclient.Client { return agentclient.New(h.socket, h.opts, "") }

func TestResolveRoundTrip(t *testing.T) {
	g := NewWithT(t)
	h := startServer(t, 0)
	fi, err := os.Stat(h.socket)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	di, err := os.Stat(filepath.Dir(h.socket))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(di.Mode().Perm()).To(Equal(os.FileMode(0o700)))

	out, err := h.client().Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "p", UID: "u1", ContainerID: "c1", IfName: "eth0"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.UID).To(Equal("u1"))
	g.Expect(out.APIRequests).To(BeZero())
	g.Expect(out.Attachments).To(HaveLen(3))
	g.Expect(out.Attachments[0].ClusterNetwork).To(BeTrue())
	g.Expect(out.Attachments[0].IfName).To(Equal("eth0"))
	g.Expect(out.Attachments[1].Network).To(Equal("ns/macnet"))
	g.Expect(out.Attachments[1].IfName).To(Equal("net1"))
	var mac map[string]any
	g.Expect(json.Unmarshal(out.Attachments[1].Config, &mac)).To(Succeed())
	g.Expect(mac).To(HaveKeyWithValue("master", "eth9"), "the default-route uplink is substituted")
	g.Expect(mac).To(HaveKeyWithValue("name", "macnet"))
	g.Expect(string(out.Attachments[2].Config)).NotTo(ContainSubstring("master"), "only macvlan/ipvlan get a master")
}

func TestResolveErrorsKeepTheirCause(t *testing.T) {
	g := NewWithT(t)
	h := startServer(t, 0)
	_, err := h.client().Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "missing", IfName: "eth0"})
	g.Expect(err).To(MatchError(api.ErrNetworkNotFound))
	var re *api.ResolveError
	g.Expect(errors.As(err, &re)).To(BeTrue())
	g.Expect(re.Reason).To(Equal(api.ReasonNoNetworkFound))
	g.Expect(re.Transient).To(BeTrue())

	_, err = h.client().Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "ghost", IfName: "eth0"})
	g.Expect(err).To(MatchError(api.ErrPodNotFound))
	g.Expect(errors.Is(err, agentclient.ErrAgentUnavailable)).To(BeFalse())
}

func TestReportIsJournaled(t *testing.T) {
	g := NewWithT(t)
	h := startServer(t, 0)
	rep := &api.StatusReport{UID: "u1", NetworkStatus: []netattach.NetworkStatus{{Name: "cbr0", Interface: "eth0", Default: true}},
		Events: []api.Event{{Type: api.EventTypeNormal, Reason: api.ReasonAddedInterface, Message: "Add eth0"}}}
	g.Expect(h.client().Report(context.Background(), api.PodRef{Namespace: "ns", Name: "p", UID: "u1"}, rep)).To(Succeed())
	p := h.journal.Pending()
	g.Expect(p).To(HaveLen(1))
	g.Expect(p[0].NetworkStatus).To(Equal(rep.NetworkStatus))
	g.Expect(p[0].Events).To(Equal(rep.Events))
}

type directFake struct{ resolves, reports atomic.Int32 }

func (d *directFake) Resolve(context.Context, api.PodRef) (*api.ResolvedPod, error) {
	d.resolves.Add(1)
	return &api.ResolvedPod{UID: "direct"}, nil
}

func (d *directFake) Report(context.Context, api.PodRef, *api.StatusReport) error {
	d.reports.Add(1)
	return nil
}

func TestFallbackToDirectMode(t *testing.T) {
	g := NewWithT(t)
	h := startServer(t, 0)
	d := &directFake{}
	fallback := func(c *agentclient.Client) *agentclient.Fallback {
		return &agentclient.Fallback{Agent: c, Direct: func() (api.Resolver, api.StatusSink, error) { return d, d, nil }}
	}
	ref := api.PodRef{Namespace: "ns", Name: "p", UID: "u1", IfName: "eth0"}

	// The agent answers: direct mode is never built.
	f := fallback(h.client())
	out, err := f.Resolve(context.Background(), ref)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.UID).To(Equal("u1"))
	g.Expect(f.Report(context.Background(), ref, &api.StatusReport{})).To(Succeed())
	g.Expect(d.resolves.Load()).To(BeZero())

	// Not synced yet: 503, direct mode for the whole invocation.
	h.ready.Store(false)
	f = fallback(h.client())
	out, err = f.Resolve(context.Background(), ref)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.UID).To(Equal("direct"))
	g.Expect(f.Report(context.Background(), ref, &api.StatusReport{})).To(Succeed())
	g.Expect(d.reports.Load()).To(BeEquivalentTo(1))
	h.ready.Store(true)

	// No agent at all (socket gone, agent restarting): direct mode after a failed connect.
	h.cancel()
	<-h.done
	_, err = os.Stat(h.socket)
	g.Expect(os.IsNotExist(err)).To(BeTrue(), "closing the listener removes the socket")
	f = fallback(h.client())
	start := time.Now()
	out, err = f.Resolve(context.Background(), ref)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(out.UID).To(Equal("direct"))
	g.Expect(time.Since(start)).To(BeNumerically("<", time.Second))
}

func TestConcurrentRequestsAreBounded(t *testing.T) {
	g := NewWithT(t)
	h := startServer(t, 4)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := h.client()
			if _, err := c.Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "p", IfName: "eth0", ContainerID: fmt.Sprint(i)}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	g.Expect(errs).To(BeEmpty())
}

// BenchmarkResolveAndReport is one ADD's worth of agent work over the real socket: resolve a pod
// with two secondary networks, then journal its report.
func BenchmarkResolveAndReport(b *testing.B) {
	h := startServer(b, 0)
	c := h.client()
	ref := api.PodRef{Namespace: "ns", Name: "p", UID: "u1", ContainerID: "c1", IfName: "eth0"}
	rep := &api.StatusReport{UID: "u1", NetworkStatus: []netattach.NetworkStatus{{Name: "cbr0", Interface: "eth0", Default: true}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Resolve(ctx, ref); err != nil {
			b.Fatal(err)
		}
		if err := c.Report(ctx, ref, rep); err != nil {
			b.Fatal(err)
		}
	}
}
