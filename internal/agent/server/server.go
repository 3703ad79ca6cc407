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
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/plexus-net/plexus/cni/agentclient"
	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/agent/uplink"
)

// DefaultMaxConcurrent bounds the requests handled at once.
const DefaultMaxConcurrent = 64

// ResolveSource is a resolve.Source that counts its live API requests.
type ResolveSource interface {
	resolve.Source
	LiveRequests() int
}

// Journal is where reports go.
type Journal interface {
	Append(ref api.PodRef, r *api.StatusReport) error
}

// Server answers plexus-cni on a unix socket.
type Server struct {
	// Socket is the socket path; its directory is created 0700.
	Socket string
	// Sources returns the resolve.Source of one request (the node-local cache); uid is the
	// pod UID the runtime asked for.
	Sources func(uid string) ResolveSource
	// Devices returns the device lookup for a PodResources socket ("" → none).
	Devices func(socket string) resolve.DeviceLookup
	// Journal records reports durably.
	Journal Journal
	// Uplink returns the node's default-route interface ("" when unknown), substituted as
	// "master" into macvlan/ipvlan delegates that name none.
	Uplink func() string
	// Ready reports whether the caches are synced; until then requests get 503 and plexus-cni
	// falls back to direct mode.
	Ready func() bool
	// MaxConcurrent bounds concurrent handlers (default DefaultMaxConcurrent).
	MaxConcurrent int
	// Log is the server's logger.
	Log logr.Logger

	sem chan struct{}
}

// Listen creates the socket: directory 0700, socket 0600, a stale socket replaced.
func (s *Server) Listen() (net.Listener, error) {
	dir := filepath.Dir(s.Socket)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to chmod %s: %w", dir, err)
	}
	if err := os.Remove(s.Socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("failed to remove the stale socket %s: %w", s.Socket, err)
	}
	l, err := net.Listen("unix", s.Socket)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", s.Socket, err)
	}
	if err := os.Chmod(s.Socket, 0o600); err != nil {
		_ = l.Close() // failing anyway
		return nil, fmt.Errorf("failed to chmod %s: %w", s.Socket, err)
	}
	return l, nil
}

// Serve serves on l until ctx is done, then drains the connections in flight for up to
// 5 s. Closing the listener removes the socket; plexus-cni treats a missing socket or a
// refused connect as "no agent".
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	n := s.MaxConcurrent
	if n <= 0 {
		n = DefaultMaxConcurrent
	}
	s.sem = make(chan struct{}, n)
	var wg sync.WaitGroup
	errCh := make(chan error, 1)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				errCh <- err
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.serveConn(ctx, conn)
			}()
		}
	}()
	select {
	case err := <-errCh:
		return fmt.Errorf("agent socket server stopped: %w", err)
	case <-ctx.Done():
	}
	_ = l.Close() // stops Accept; the error it returns is expected
	<-errCh
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("failed to drain the agent socket within 5s")
	}
}

// serveConn answers the one request of a connection.
func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close() //nolint:errcheck // the answer was written or the client is gone
	if err := conn.SetDeadline(time.Now().Add(connDeadline)); err != nil {
		return
	}
	var req agentclient.Request
	if err := json.NewDecoder(io.LimitReader(conn, agentclient.MaxRequestBytes)).Decode(&req); err != nil {
		s.answer(conn, invalid(fmt.Errorf("invalid request: %w", err)))
		return
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		s.answer(conn, &agentclient.Answer{Code: agentclient.CodeUnavailable, Error: &agentclient.ErrorResponse{Message: "agent is stopping"}})
		return
	}
	if s.Ready != nil && !s.Ready() {
		s.answer(conn, &agentclient.Answer{Code: agentclient.CodeUnavailable,
			Error: &agentclient.ErrorResponse{Message: "agent caches are not synced yet", Cause: agentclient.CauseUnavailable}})
		return
	}
	// A request in flight finishes even when the agent is stopping (Serve drains it).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), connDeadline)
	defer cancel()
	switch {
	case req.Op == agentclient.OpResolve && req.Resolve != nil:
		s.answer(conn, s.resolve(rctx, req.Resolve))
	case req.Op == agentclient.OpReport && req.Report != nil:
		s.answer(conn, s.report(req.Report))
	case req.Op == agentclient.OpHealth:
		s.answer(conn, &agentclient.Answer{Code: agentclient.CodeOK})
	default:
		s.answer(conn, invalid(fmt.Errorf("unknown operation %q", req.Op)))
	}
}

// connDeadline bounds one connection (request, resolution and answer).
const connDeadline = 5 * time.Second

func (s *Server) answer(conn net.Conn, a *agentclient.Answer) {
	_ = json.NewEncoder(conn).Encode(a) // the client may have gone
}

func invalid(err error) *agentclient.Answer {
	return &agentclient.Answer{Code: agentclient.CodeBadRequest,
		Error: &agentclient.ErrorResponse{Message: err.Error(), Cause: agentclient.CauseInvalidRequest}}
}

func (s *Server) resolve(ctx context.Context, req *agentclient.ResolveRequest) *agentclient.Answer {
	start := time.Now()
	src := s.Sources(req.Pod.UID)
	res := &resolve.Resolver{Source: src, Opts: req.Options.ResolveOptions(), Requests: src.LiveRequests}
	if s.Devices != nil && req.PodResourcesSocket != "" {
		res.Devices = s.Devices(req.PodResourcesSocket)
	}
	out, err := res.Resolve(ctx, req.Pod)
	if err != nil {
		s.Log.V(4).Info("Resolution failed", "pod", req.Pod.String(), "err", err.Error())
		er := agentclient.NewErrorResponse(err)
		return &agentclient.Answer{Code: agentclient.CodeRejected, Error: &er}
	}
	if s.Uplink != nil {
		if up := s.Uplink(); up != "" {
			for i := range out.Attachments {
				if !out.Attachments[i].ClusterNetwork {
					out.Attachments[i].Config, _ = uplink.SubstituteMaster(out.Attachments[i].Config, up)
				}
			}
		}
	}
	s.Log.V(4).Info("Resolved pod", "pod", req.Pod.String(), "attachments", len(out.Attachments),
		"apiRequests", out.APIRequests, "duration", time.Since(start))
	return &agentclient.Answer{Code: agentclient.CodeOK, Resolved: out}
}

func (s *Server) report(req *agentclient.ReportRequest) *agentclient.Answer {
	if req.Pod.Namespace == "" || req.Pod.Name == "" {
		return &agentclient.Answer{Code: agentclient.CodeAccepted} // nothing to write for a non-Kubernetes sandbox
	}
	if err := s.Journal.Append(req.Pod, &req.Report); err != nil {
		s.Log.Error(err, "Failed to journal a status report", "pod", req.Pod.String())
		return &agentclient.Answer{Code: agentclient.CodeInternal, Error: &agentclient.ErrorResponse{Message: err.Error()}}
	}
	return &agentclient.Answer{Code: agentclient.CodeAccepted}
}
