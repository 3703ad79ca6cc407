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
	"net/http"
	"os"
	"path/filepath"
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

// Handler returns the HTTP handler (exported for tests).
func (s *Server) Handler() http.Handler {
	n := s.MaxConcurrent
	if n <= 0 {
		n = DefaultMaxConcurrent
	}
	s.sem = make(chan struct{}, n)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+agentclient.PathResolve, s.limit(s.handleResolve))
	mux.HandleFunc("POST "+agentclient.PathReport, s.limit(s.handleReport))
	mux.HandleFunc("GET "+agentclient.PathHealthz, func(w http.ResponseWriter, _ *http.Request) {
		if s.Ready != nil && !s.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok") // the client may have gone
	})
	return mux
}

func (s *Server) limit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-r.Context().Done():
			return
		}
		if s.Ready != nil && !s.Ready() {
			http.Error(w, "agent caches are not synced yet", http.StatusServiceUnavailable)
			return
		}
		h(w, r)
	}
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

// Serve serves on l until ctx is done, then drains for up to 5 s. Closing the listener removes
// the socket; plexus-cni treats a missing socket or a refused connect as "no agent".
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errCh := make(chan error, 1)
	go func() { errCh <- srv.Serve(l) }()
	select {
	case err := <-errCh:
		return fmt.Errorf("agent socket server stopped: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("failed to drain the agent socket: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone
}

func badRequest(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, agentclient.ErrorResponse{Message: err.Error(), Cause: agentclient.CauseInvalidRequest})
}

func (s *Server) handleResolve(w http.ResponseWriter, r *http.Request) {
	var req agentclient.ResolveRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		badRequest(w, fmt.Errorf("invalid resolve request: %w", err))
		return
	}
	start := time.Now()
	src := s.Sources(req.Pod.UID)
	res := &resolve.Resolver{Source: src, Opts: req.Options.ResolveOptions(), Requests: src.LiveRequests}
	if s.Devices != nil && req.PodResourcesSocket != "" {
		res.Devices = s.Devices(req.PodResourcesSocket)
	}
	out, err := res.Resolve(r.Context(), req.Pod)
	if err != nil {
		s.Log.V(4).Info("Resolution failed", "pod", req.Pod.String(), "err", err.Error())
		writeJSON(w, http.StatusUnprocessableEntity, agentclient.NewErrorResponse(err))
		return
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
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	var req agentclient.ReportRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&req); err != nil {
		badRequest(w, fmt.Errorf("invalid report: %w", err))
		return
	}
	if req.Pod.Namespace == "" || req.Pod.Name == "" {
		w.WriteHeader(http.StatusAccepted) // nothing to write for a non-Kubernetes sandbox
		return
	}
	if err := s.Journal.Append(req.Pod, &req.Report); err != nil {
		s.Log.Error(err, "Failed to journal a status report", "pod", req.Pod.String())
		writeJSON(w, http.StatusInternalServerError, agentclient.ErrorResponse{Message: err.Error()})
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
