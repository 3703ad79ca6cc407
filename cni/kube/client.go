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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/netattach"
)

// Client is a minimal Kubernetes REST client. It implements resolve.Source and
// api.StatusSink.
type Client struct {
	cfg  *Config
	http *http.Client
	// Component names the event source (default "plexus-cni").
	Component string
	// Host is reported as the event's source host (default: os.Hostname).
	Host     string
	requests atomic.Int64
}

var (
	_ resolve.Source = (*Client)(nil)
	_ api.StatusSink = (*Client)(nil)
)

// NewClient returns a client for cfg.
func NewClient(cfg *Config) *Client {
	h, _ := os.Hostname()
	return &Client{cfg: cfg, http: cfg.httpClient(), Component: "plexus-cni", Host: h}
}

// Requests returns how many API requests the client made.
func (c *Client) Requests() int { return int(c.requests.Load()) }

// StatusError is a non-2xx API answer.
type StatusError struct {
	Code    int
	Method  string
	Path    string
	Message string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, e.Message)
}

// Is makes a 404 match resolve.ErrNotFound.
func (e *StatusError) Is(target error) bool {
	return target == resolve.ErrNotFound && e.Code == http.StatusNotFound
}

func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.Server+path, rd)
	if err != nil {
		return fmt.Errorf("failed to build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "plexus-cni")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if tok, err := c.token(); err != nil {
		return err
	} else if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if c.cfg.Username != "" {
		req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	}
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: failed to read the response: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var st struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &st) != nil || st.Message == "" {
			st.Message = strings.TrimSpace(string(b))
		}
		return &StatusError{Code: resp.StatusCode, Method: method, Path: path, Message: st.Message}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: failed to decode the response: %w", method, path, err)
		}
	}
	return nil
}

func (c *Client) token() (string, error) {
	if c.cfg.TokenFile != "" {
		b, err := os.ReadFile(c.cfg.TokenFile)
		if err != nil {
			return "", fmt.Errorf("failed to read token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return c.cfg.Token, nil
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	UID         string            `json:"uid"`
	Annotations map[string]string `json:"annotations"`
}

// GetPod implements resolve.Source.
func (c *Client) GetPod(ctx context.Context, namespace, name string) (*resolve.Pod, error) {
	var pod struct {
		Metadata objectMeta `json:"metadata"`
	}
	path := "/api/v1/namespaces/" + url.PathEscape(namespace) + "/pods/" + url.PathEscape(name)
	if err := c.do(ctx, http.MethodGet, path, "", nil, &pod); err != nil {
		return nil, err
	}
	m := pod.Metadata
	return &resolve.Pod{Namespace: m.Namespace, Name: m.Name, UID: m.UID, Annotations: m.Annotations}, nil
}

// GetNAD implements resolve.Source.
func (c *Client) GetNAD(ctx context.Context, namespace, name string) (*netattach.NetworkAttachmentDefinition, error) {
	var nad struct {
		Metadata objectMeta `json:"metadata"`
		Spec     struct {
			Config string `json:"config"`
		} `json:"spec"`
	}
	path := "/apis/k8s.cni.cncf.io/v1/namespaces/" + url.PathEscape(namespace) + "/network-attachment-definitions/" + url.PathEscape(name)
	if err := c.do(ctx, http.MethodGet, path, "", nil, &nad); err != nil {
		return nil, err
	}
	return &netattach.NetworkAttachmentDefinition{Namespace: nad.Metadata.Namespace, Name: nad.Metadata.Name,
		Annotations: nad.Metadata.Annotations, Config: nad.Spec.Config}, nil
}

// PatchNetworkStatus sets the pod's network-status annotation with one JSON merge
// patch of pods/status (the subresource Multus writes; RBAC: pods/status patch). A
// non-empty uid is a precondition: a recreated pod with the same name is not touched.
func (c *Client) PatchNetworkStatus(ctx context.Context, namespace, name, uid string, statuses []netattach.NetworkStatus) error {
	value, err := netattach.FormatNetworkStatus(statuses)
	if err != nil {
		return err
	}
	meta := map[string]any{"annotations": map[string]string{netattach.NetworkStatusAnnotation: value}}
	if uid != "" {
		meta["uid"] = uid
	}
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return fmt.Errorf("failed to marshal patch: %w", err)
	}
	path := "/api/v1/namespaces/" + url.PathEscape(namespace) + "/pods/" + url.PathEscape(name) + "/status"
	return c.do(ctx, http.MethodPatch, path, "application/merge-patch+json", patch, nil)
}

// PostEvent records a core/v1 Event on the pod.
func (c *Client) PostEvent(ctx context.Context, ref api.PodRef, uid string, ev api.Event) error {
	now := time.Now().UTC().Format(time.RFC3339)
	obj := map[string]any{
		"apiVersion": "v1",
		"kind":       "Event",
		"metadata":   map[string]any{"generateName": ref.Name + ".", "namespace": ref.Namespace},
		"involvedObject": map[string]any{
			"apiVersion": "v1", "kind": "Pod", "namespace": ref.Namespace, "name": ref.Name, "uid": uid,
		},
		"reason":             ev.Reason,
		"message":            ev.Message,
		"type":               ev.Type,
		"source":             map[string]any{"component": c.Component, "host": c.Host},
		"reportingComponent": c.Component,
		"reportingInstance":  c.Host,
		"firstTimestamp":     now,
		"lastTimestamp":      now,
		"count":              1,
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("failed to marshal event: %w", err)
	}
	return c.do(ctx, http.MethodPost, "/api/v1/namespaces/"+url.PathEscape(ref.Namespace)+"/events", "application/json", body, nil)
}

// Report implements api.StatusSink: the PATCH and the events are sent concurrently;
// a pod that no longer exists is not an error.
func (c *Client) Report(ctx context.Context, ref api.PodRef, r *api.StatusReport) error {
	uid := r.UID
	if uid == "" {
		uid = ref.UID
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, resolve.ErrNotFound) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	if r.NetworkStatus != nil {
		run(func() error { return c.PatchNetworkStatus(ctx, ref.Namespace, ref.Name, r.UID, r.NetworkStatus) })
	}
	for _, ev := range r.Events {
		run(func() error { return c.PostEvent(ctx, ref, uid, ev) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
