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
	"errors"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
)

// Operations of the agent protocol. Each connection carries one Request (a JSON value) and
// one Answer (a JSON value); there is no HTTP, so plexus-cni links no net/http or TLS code.
const (
	// OpResolve answers a ResolveRequest with an api.ResolvedPod.
	OpResolve = "resolve"
	// OpReport accepts a ReportRequest; CodeAccepted means it is durably journaled.
	OpReport = "report"
	// OpHealth answers CodeOK once the agent's caches are synced.
	OpHealth = "health"
)

// Answer codes (HTTP's numbers, for familiarity in logs).
const (
	CodeOK          = 200
	CodeAccepted    = 202
	CodeBadRequest  = 400
	CodeRejected    = 422
	CodeInternal    = 500
	CodeUnavailable = 503
)

// Request is what plexus-cni sends: the operation and its argument.
type Request struct {
	Op      string          `json:"op"`
	Resolve *ResolveRequest `json:"resolve,omitempty"`
	Report  *ReportRequest  `json:"report,omitempty"`
}

// wire is r as it is encoded: the same JSON as r itself, through a type that holds only the
// operation's argument. encoding/json builds an encoder for the whole static type graph of
// a value the first time it meets its type, and plexus-cni is a new process for every
// command: encoding a resolve request through Request would build the encoders of the
// report's network-status types as well (about 0.2 ms on the test machine).
func (r *Request) wire() any {
	switch {
	case r.Resolve != nil && r.Report == nil:
		return struct {
			Op      string          `json:"op"`
			Resolve *ResolveRequest `json:"resolve"`
		}{r.Op, r.Resolve}
	case r.Report != nil && r.Resolve == nil:
		return struct {
			Op     string         `json:"op"`
			Report *ReportRequest `json:"report"`
		}{r.Op, r.Report}
	case r.Report == nil && r.Resolve == nil:
		return struct {
			Op string `json:"op"`
		}{r.Op}
	}
	return r
}

// Answer is the agent's reply: a code, the resolution for OpResolve, an error otherwise.
type Answer struct {
	Code     int              `json:"code"`
	Resolved *api.ResolvedPod `json:"resolved,omitempty"`
	Error    *ErrorResponse   `json:"error,omitempty"`
}

// Size limits of one request and one answer.
const (
	MaxRequestBytes = 4 << 20
	MaxAnswerBytes  = 16 << 20
)

// SocketName is the agent socket's file name inside its run directory.
const SocketName = "agent.sock"

// Options are the resolution options of the plexus-cni configuration, sent with every
// request so the agent resolves exactly as direct mode would.
type Options struct {
	ClusterNetwork     string   `json:"clusterNetwork"`
	DefaultNetworks    []string `json:"defaultNetworks,omitempty"`
	SystemNamespaces   []string `json:"systemNamespaces,omitempty"`
	MultusNamespace    string   `json:"multusNamespace,omitempty"`
	NamespaceIsolation bool     `json:"namespaceIsolation,omitempty"`
	GlobalNamespaces   []string `json:"globalNamespaces,omitempty"`
	ConfDir            string   `json:"confDir,omitempty"`
}

// FromResolveOptions converts resolution options to their wire form.
func FromResolveOptions(o resolve.Options) Options {
	return Options{ClusterNetwork: o.ClusterNetwork, DefaultNetworks: o.DefaultNetworks, SystemNamespaces: o.SystemNamespaces,
		MultusNamespace: o.MultusNamespace, NamespaceIsolation: o.NamespaceIsolation, GlobalNamespaces: o.GlobalNamespaces,
		ConfDir: o.ConfDir}
}

// ResolveOptions converts the wire form back.
func (o Options) ResolveOptions() resolve.Options {
	return resolve.Options{ClusterNetwork: o.ClusterNetwork, DefaultNetworks: o.DefaultNetworks, SystemNamespaces: o.SystemNamespaces,
		MultusNamespace: o.MultusNamespace, NamespaceIsolation: o.NamespaceIsolation, GlobalNamespaces: o.GlobalNamespaces,
		ConfDir: o.ConfDir}
}

// ResolveRequest asks for the attachments of a pod.
type ResolveRequest struct {
	Pod     api.PodRef `json:"pod"`
	Options Options    `json:"options"`
	// PodResourcesSocket is the kubelet PodResources socket for device IDs ("" for none).
	PodResourcesSocket string `json:"podResourcesSocket,omitempty"`
}

// ReportRequest hands over the status of an ADD.
type ReportRequest struct {
	Pod    api.PodRef       `json:"pod"`
	Report api.StatusReport `json:"report"`
}

// Error causes on the wire; each maps to a cni/api sentinel.
const (
	CausePodNotFound        = "PodNotFound"
	CauseNetworkNotFound    = "NetworkNotFound"
	CauseNetworkNotAllowed  = "NetworkNotAllowed"
	CauseUnavailable        = "Unavailable"
	CauseInvalidRequest     = "InvalidRequest"
	CauseResolutionRejected = "Rejected"
)

// ErrorResponse is the error of every answer that is not CodeOK or CodeAccepted.
type ErrorResponse struct {
	Message   string `json:"message"`
	Reason    string `json:"reason,omitempty"`
	Transient bool   `json:"transient,omitempty"`
	Cause     string `json:"cause,omitempty"`
}

func (e *ErrorResponse) message() string {
	if e == nil {
		return "(no message)"
	}
	return e.Message
}

// NewErrorResponse encodes a resolution error for the wire.
func NewErrorResponse(err error) ErrorResponse {
	out := ErrorResponse{Message: err.Error(), Cause: CauseResolutionRejected}
	var re *api.ResolveError
	if errors.As(err, &re) {
		out.Reason, out.Transient = re.Reason, re.Transient
	}
	switch {
	case errors.Is(err, api.ErrPodNotFound):
		out.Cause = CausePodNotFound
	case errors.Is(err, api.ErrNetworkNotFound):
		out.Cause = CauseNetworkNotFound
	case errors.Is(err, api.ErrNetworkNotAllowed):
		out.Cause = CauseNetworkNotAllowed
	case errors.Is(err, api.ErrUnavailable):
		out.Cause = CauseUnavailable
	}
	return out
}

// Err turns a wire error back into the *api.ResolveError it was made from, with the sentinel
// cause matched by errors.Is.
func (e ErrorResponse) Err() error {
	var cause error
	switch e.Cause {
	case CausePodNotFound:
		cause = api.ErrPodNotFound
	case CauseNetworkNotFound:
		cause = api.ErrNetworkNotFound
	case CauseNetworkNotAllowed:
		cause = api.ErrNetworkNotAllowed
	case CauseUnavailable:
		cause = api.ErrUnavailable
	}
	if cause == nil {
		return &api.ResolveError{Reason: e.Reason, Transient: e.Transient, Err: errors.New(e.Message)}
	}
	return &api.ResolveError{Reason: e.Reason, Transient: e.Transient, Err: &wrapped{msg: e.Message, cause: cause}}
}

// wrapped keeps the agent's message verbatim while matching the sentinel.
type wrapped struct {
	msg   string
	cause error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.cause }
