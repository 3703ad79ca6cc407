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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
)

// ErrAgentUnavailable means the agent did not answer; it also matches api.ErrUnavailable.
var ErrAgentUnavailable = fmt.Errorf("node agent unavailable: %w", api.ErrUnavailable)

// Client timeouts: the agent is local, so a slow connect or answer means "no agent".
const (
	connectTimeout = 100 * time.Millisecond
	answerTimeout  = 2 * time.Second
)

// Client is plexus-cni's client of the node agent. It implements api.Resolver and
// api.StatusSink.
type Client struct {
	opts               Options
	podResourcesSocket string
	http               *http.Client
}

var (
	_ api.Resolver   = (*Client)(nil)
	_ api.StatusSink = (*Client)(nil)
)

// New returns a client for the agent on socket; opts (plexus-cni's resolution
// configuration) and podResourcesSocket travel with every resolution.
func New(socket string, opts resolve.Options, podResourcesSocket string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: connectTimeout}
			return d.DialContext(ctx, "unix", socket)
		},
		ResponseHeaderTimeout: answerTimeout,
		DisableCompression:    true,
	}
	return &Client{opts: FromResolveOptions(opts), podResourcesSocket: podResourcesSocket, http: &http.Client{Transport: tr}}
}

// Resolve implements api.Resolver.
func (c *Client) Resolve(ctx context.Context, ref api.PodRef) (*api.ResolvedPod, error) {
	out := &api.ResolvedPod{}
	req := ResolveRequest{Pod: ref, Options: c.opts, PodResourcesSocket: c.podResourcesSocket}
	if err := c.post(ctx, PathResolve, req, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Report implements api.StatusSink: 202 means the agent journaled it durably.
func (c *Client) Report(ctx context.Context, ref api.PodRef, r *api.StatusReport) error {
	if r == nil {
		return nil
	}
	return c.post(ctx, PathReport, ReportRequest{Pod: ref, Report: *r}, nil)
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("failed to marshal the agent request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://plexus-agent"+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("failed to build the agent request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAgentUnavailable, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%w: failed to read the answer: %w", ErrAgentUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable:
		return fmt.Errorf("%w: HTTP 503: %s", ErrAgentUnavailable, bytes.TrimSpace(b))
	case resp.StatusCode >= 300:
		var er ErrorResponse
		if json.Unmarshal(b, &er) != nil || er.Message == "" {
			return fmt.Errorf("%w: HTTP %d: %s", ErrAgentUnavailable, resp.StatusCode, bytes.TrimSpace(b))
		}
		return er.Err()
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%w: invalid answer: %w", ErrAgentUnavailable, err)
		}
	}
	return nil
}

// Fallback asks the agent first; once the agent is unavailable it builds direct mode
// (Direct, called at most once) and uses it for the rest of the invocation, reports
// included. It implements api.Resolver and api.StatusSink.
type Fallback struct {
	// Agent is the node agent client.
	Agent *Client
	// Direct builds the direct-mode resolver and sink.
	Direct func() (api.Resolver, api.StatusSink, error)

	mu         sync.Mutex
	useDirect  bool
	direct     api.Resolver
	directSink api.StatusSink
}

var (
	_ api.Resolver   = (*Fallback)(nil)
	_ api.StatusSink = (*Fallback)(nil)
)

func (f *Fallback) switchToDirect() (api.Resolver, api.StatusSink, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.direct == nil {
		r, s, err := f.Direct()
		if err != nil {
			return nil, nil, fmt.Errorf("direct mode: %w", err)
		}
		f.direct, f.directSink = r, s
	}
	f.useDirect = true
	return f.direct, f.directSink, nil
}

func (f *Fallback) agentInUse() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.useDirect
}

// Resolve implements api.Resolver.
func (f *Fallback) Resolve(ctx context.Context, ref api.PodRef) (*api.ResolvedPod, error) {
	if f.agentInUse() {
		out, err := f.Agent.Resolve(ctx, ref)
		if !errors.Is(err, ErrAgentUnavailable) {
			return out, err
		}
	}
	r, _, err := f.switchToDirect()
	if err != nil {
		return nil, err
	}
	return r.Resolve(ctx, ref)
}

// Report implements api.StatusSink.
func (f *Fallback) Report(ctx context.Context, ref api.PodRef, rep *api.StatusReport) error {
	if f.agentInUse() {
		err := f.Agent.Report(ctx, ref, rep)
		if !errors.Is(err, ErrAgentUnavailable) {
			return err
		}
	}
	_, s, err := f.switchToDirect()
	if err != nil {
		return err
	}
	return s.Report(ctx, ref, rep)
}
