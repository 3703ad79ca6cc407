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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
)

// ErrAgentUnavailable means the agent did not answer; it also matches api.ErrUnavailable.
var ErrAgentUnavailable error = agentUnavailable{}

// agentUnavailable is ErrAgentUnavailable's type: a plain value, not fmt.Errorf, so this
// package (linked into plexus-cni) runs no fmt at init.
type agentUnavailable struct{}

func (agentUnavailable) Error() string {
	return "node agent unavailable: " + api.ErrUnavailable.Error()
}
func (agentUnavailable) Unwrap() error { return api.ErrUnavailable }

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
	socket             string
}

var (
	_ api.Resolver   = (*Client)(nil)
	_ api.StatusSink = (*Client)(nil)
)

// New returns a client for the agent on socket; opts (plexus-cni's resolution
// configuration) and podResourcesSocket travel with every resolution.
func New(socket string, opts resolve.Options, podResourcesSocket string) *Client {
	return &Client{opts: FromResolveOptions(opts), podResourcesSocket: podResourcesSocket, socket: socket}
}

// Resolve implements api.Resolver.
func (c *Client) Resolve(ctx context.Context, ref api.PodRef) (*api.ResolvedPod, error) {
	req := &Request{Op: OpResolve, Resolve: &ResolveRequest{Pod: ref, Options: c.opts, PodResourcesSocket: c.podResourcesSocket}}
	ans, err := c.call(ctx, req)
	if err != nil {
		return nil, err
	}
	if ans.Resolved == nil {
		return nil, fmt.Errorf("%w: answer without a resolution", ErrAgentUnavailable)
	}
	return ans.Resolved, nil
}

// Report implements api.StatusSink: CodeAccepted means the agent journaled it durably.
func (c *Client) Report(ctx context.Context, ref api.PodRef, r *api.StatusReport) error {
	if r == nil {
		return nil
	}
	_, err := c.call(ctx, &Request{Op: OpReport, Report: &ReportRequest{Pod: ref, Report: *r}})
	return err
}

// Healthy reports whether the agent answers and its caches are synced.
func (c *Client) Healthy(ctx context.Context) error {
	_, err := c.call(ctx, &Request{Op: OpHealth})
	return err
}

// call sends one request on a new connection and reads the answer. Any failure to talk to
// the agent, and CodeUnavailable, match ErrAgentUnavailable.
func (c *Client) call(ctx context.Context, req *Request) (*Answer, error) {
	deadline := time.Now().Add(answerTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn, err := dialUnix(c.socket, connectTimeout, deadline)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAgentUnavailable, err)
	}
	defer conn.Close() //nolint:errcheck // nothing was written that a close could lose
	if err := json.NewEncoder(conn).Encode(req.wire()); err != nil {
		return nil, fmt.Errorf("%w: failed to send the request: %w", ErrAgentUnavailable, err)
	}
	ans := &Answer{}
	if err := json.NewDecoder(io.LimitReader(conn, MaxAnswerBytes)).Decode(ans); err != nil {
		return nil, fmt.Errorf("%w: failed to read the answer: %w", ErrAgentUnavailable, err)
	}
	switch ans.Code {
	case CodeOK, CodeAccepted:
		return ans, nil
	case CodeUnavailable:
		return nil, fmt.Errorf("%w: %s", ErrAgentUnavailable, ans.Error.message())
	}
	if ans.Error == nil || ans.Error.Message == "" || ans.Error.Cause == CauseInvalidRequest {
		return nil, fmt.Errorf("%w: code %d: %s", ErrAgentUnavailable, ans.Code, ans.Error.message())
	}
	return nil, ans.Error.Err()
}

// unixConn is a blocking unix stream socket. plexus-cni talks to the agent through plain
// blocking system calls rather than package net: the calling thread sleeps in read() and the
// kernel wakes it when the answer arrives, instead of a parked goroutine woken through the
// runtime's poller (one wake-up less per round trip, and no poller set up in a process that
// lives for milliseconds). Timeouts are the socket's own (SO_SNDTIMEO, SO_RCVTIMEO).
type unixConn struct{ fd int }

// dialUnix connects to path, waiting at most connect for a place in the agent's backlog; every
// read and write after that must finish by deadline.
func dialUnix(path string, connect time.Duration, deadline time.Time) (*unixConn, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	c := &unixConn{fd: fd}
	if err := c.setTimeout(unix.SO_SNDTIMEO, connect); err != nil {
		_ = c.Close() // failing anyway
		return nil, err
	}
	for {
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: path})
		if err != unix.EINTR { //nolint:errorlint // a raw errno
			break
		}
	}
	if err != nil {
		_ = c.Close()           // failing anyway
		if err == unix.EAGAIN { //nolint:errorlint // a raw errno
			return nil, fmt.Errorf("dial %s: the agent's backlog stayed full for %s", path, connect)
		}
		return nil, &net.OpError{Op: "dial", Net: "unix", Addr: &net.UnixAddr{Name: path, Net: "unix"}, Err: os.NewSyscallError("connect", err)}
	}
	remaining := time.Until(deadline)
	if remaining <= 0 {
		_ = c.Close() // failing anyway
		return nil, fmt.Errorf("dial %s: %w", path, os.ErrDeadlineExceeded)
	}
	for _, opt := range []int{unix.SO_SNDTIMEO, unix.SO_RCVTIMEO} {
		if err := c.setTimeout(opt, remaining); err != nil {
			_ = c.Close() // failing anyway
			return nil, err
		}
	}
	return c, nil
}

func (c *unixConn) setTimeout(opt int, d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, opt, &tv); err != nil {
		return os.NewSyscallError("setsockopt", err)
	}
	return nil
}

// Read implements io.Reader; a timeout is os.ErrDeadlineExceeded.
func (c *unixConn) Read(b []byte) (int, error) {
	for {
		n, err := unix.Read(c.fd, b)
		switch {
		case err == unix.EINTR: //nolint:errorlint // a raw errno
			continue
		case err == unix.EAGAIN: //nolint:errorlint // a raw errno
			return 0, fmt.Errorf("read from the agent: %w", os.ErrDeadlineExceeded)
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(b) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write implements io.Writer.
func (c *unixConn) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		n, err := unix.Write(c.fd, b[written:])
		switch {
		case err == unix.EINTR: //nolint:errorlint // a raw errno
			continue
		case err == unix.EAGAIN: //nolint:errorlint // a raw errno
			return written, fmt.Errorf("write to the agent: %w", os.ErrDeadlineExceeded)
		case err != nil:
			return written, os.NewSyscallError("write", err)
		}
		written += n
	}
	return written, nil
}

// Close closes the socket.
func (c *unixConn) Close() error { return unix.Close(c.fd) }

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
	var agentErr error
	if f.agentInUse() {
		out, err := f.Agent.Resolve(ctx, ref)
		if !errors.Is(err, ErrAgentUnavailable) {
			return out, err
		}
		agentErr = err
	}
	r, _, err := f.switchToDirect()
	if err != nil {
		return nil, withAgentErr(err, agentErr)
	}
	return r.Resolve(ctx, ref)
}

// Report implements api.StatusSink.
func (f *Fallback) Report(ctx context.Context, ref api.PodRef, rep *api.StatusReport) error {
	var agentErr error
	if f.agentInUse() {
		err := f.Agent.Report(ctx, ref, rep)
		if !errors.Is(err, ErrAgentUnavailable) {
			return err
		}
		agentErr = err
	}
	_, s, err := f.switchToDirect()
	if err != nil {
		return withAgentErr(err, agentErr)
	}
	return s.Report(ctx, ref, rep)
}

// withAgentErr adds why the agent was given up to a direct-mode error (which stays matchable).
func withAgentErr(err, agentErr error) error {
	if agentErr == nil {
		return err
	}
	return fmt.Errorf("%w, after: %v", err, agentErr) //nolint:errorlint // the agent error is context only
}
