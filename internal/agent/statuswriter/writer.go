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

package statuswriter

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/plexus-net/plexus/internal/agent/journal"
	"github.com/plexus-net/plexus/internal/netattach"
)

// Component is the reporting component of the Events the agent records.
const Component = "plexus-agent"

// Backoff bounds.
const (
	minBackoff = 200 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// PodLookup reads a pod from the node-local cache.
type PodLookup func(ctx context.Context, namespace, name string) (*corev1.Pod, bool)

// Writer flushes the journal to the API server.
type Writer struct {
	// Journal holds the pending reports.
	Journal *journal.Journal
	// Client writes pods/status and Events (uncached).
	Client client.Client
	// Cached looks a pod up in the cache to drop reports of pods already gone or recreated
	// without an API request (nil: always try the PATCH).
	Cached PodLookup
	// NodeName is the reporting instance and the Events' source host.
	NodeName string
	// Workers is the number of pods written in parallel (default 4).
	Workers int
	// Settle is how long the writer waits for the reports to stop coming before it writes
	// (default 250 ms), and MaxSettle bounds that wait (default 2 s). During a burst of pod
	// starts the API writes then do not compete with the ADDs for CPU, and several reports of
	// one pod coalesce into one PATCH.
	Settle, MaxSettle time.Duration
	// Log is the writer's logger.
	Log logr.Logger

	mu       sync.Mutex
	inflight map[string]bool
	retry    map[string]retryState
}

type retryState struct {
	attempts int
	next     time.Time
}

// Run flushes until ctx is done. Whatever is still pending stays in the journal for the next
// agent.
func (w *Writer) Run(ctx context.Context) {
	workers := w.Workers
	if workers <= 0 {
		workers = 4
	}
	w.inflight, w.retry = map[string]bool{}, map[string]retryState{}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.Journal.C():
			w.settle(ctx)
		case <-timer.C:
		}
		wait := w.dispatch(ctx, sem, &wg)
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// settle returns once no report arrived for Settle, or after MaxSettle.
func (w *Writer) settle(ctx context.Context) {
	quiet, bound := w.Settle, w.MaxSettle
	if quiet <= 0 {
		quiet = 250 * time.Millisecond
	}
	if bound <= 0 {
		bound = 2 * time.Second
	}
	hard := time.NewTimer(bound)
	defer hard.Stop()
	for {
		t := time.NewTimer(quiet)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-hard.C:
			t.Stop()
			return
		case <-t.C:
			return
		case <-w.Journal.C():
			t.Stop()
		}
	}
}

// dispatch starts a flush for every due entry and returns when to look again.
func (w *Writer) dispatch(ctx context.Context, sem chan struct{}, wg *sync.WaitGroup) time.Duration {
	now := time.Now()
	wait := maxBackoff
	for _, e := range w.Journal.Pending() {
		key := e.Key()
		w.mu.Lock()
		busy := w.inflight[key]
		rs, retrying := w.retry[key]
		w.mu.Unlock()
		if busy {
			continue
		}
		if retrying && rs.next.After(now) {
			wait = min(wait, rs.next.Sub(now))
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return 0
		}
		w.mu.Lock()
		w.inflight[key] = true
		w.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := w.flush(ctx, e)
			w.mu.Lock()
			delete(w.inflight, key)
			if err != nil {
				rs := w.retry[key]
				rs.attempts++
				d := min(minBackoff<<min(rs.attempts-1, 10), maxBackoff)
				rs.next = time.Now().Add(d)
				w.retry[key] = rs
				w.Log.V(2).Info("Failed to write pod status, retrying", "pod", key, "attempt", rs.attempts, "in", d, "err", err.Error())
			} else {
				delete(w.retry, key)
			}
			w.mu.Unlock()
			// Look again: more may have arrived, or the retry is due.
			w.kick()
		}()
	}
	return wait
}

func (w *Writer) kick() {
	// A journal signal is the wake-up; Append uses the same channel. Pending entries that wait
	// for their backoff are not busy-looped: dispatch skips them and sleeps until they are due.
	w.Journal.Signal()
}

// flush writes one pod's status and events.
func (w *Writer) flush(ctx context.Context, e *journal.Entry) error {
	log := w.Log.WithValues("pod", e.Key())
	if w.Cached != nil && e.UID != "" {
		if pod, ok := w.Cached(ctx, e.Namespace, e.Name); ok && string(pod.UID) != e.UID {
			log.V(2).Info("Dropping the status of a pod that was recreated", "uid", e.UID, "currentUID", pod.UID)
			return w.Journal.Drop(e)
		}
	}
	statusDone := false
	if e.HasStatus {
		err := w.patchStatus(ctx, e)
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err) || apierrors.IsInvalid(err):
			// Gone, or another UID (the precondition failed): nothing to write, ever.
			log.V(2).Info("Dropping the status of a pod that is gone", "err", err.Error())
			return w.Journal.Drop(e)
		case err != nil:
			return err
		}
		statusDone = true
		log.V(4).Info("Wrote network-status")
	}
	sent := 0
	var evErr error
	for _, ev := range e.Events {
		if err := w.createEvent(ctx, e, ev.Type, ev.Reason, ev.Message); err != nil {
			if apierrors.IsNotFound(err) { // the namespace is gone
				return w.Journal.Drop(e)
			}
			evErr = err
			break
		}
		sent++
	}
	if err := w.Journal.Ack(e, statusDone, sent); err != nil {
		return err
	}
	return evErr
}

// patchStatus sends one JSON merge patch of pods/status with the UID as precondition (the
// subresource Multus writes; RBAC pods/status patch).
func (w *Writer) patchStatus(ctx context.Context, e *journal.Entry) error {
	value, err := netattach.FormatNetworkStatus(e.NetworkStatus)
	if err != nil {
		return fmt.Errorf("failed to format network-status: %w", err)
	}
	meta := map[string]any{"annotations": map[string]string{netattach.NetworkStatusAnnotation: value}}
	if e.UID != "" {
		meta["uid"] = e.UID
	}
	patch, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return fmt.Errorf("failed to marshal the patch: %w", err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name}}
	if err := w.Client.Status().Patch(ctx, pod, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("failed to patch the status of pod %s: %w", e.Key(), err)
	}
	return nil
}

func (w *Writer) createEvent(ctx context.Context, e *journal.Entry, typ, reason, msg string) error {
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: e.Name + ".", Namespace: e.Namespace},
		InvolvedObject: corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: e.Namespace, Name: e.Name,
			UID: types.UID(e.UID)},
		Reason: reason, Message: msg, Type: typ,
		Source:              corev1.EventSource{Component: Component, Host: w.NodeName},
		ReportingController: Component, ReportingInstance: w.NodeName,
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	if err := w.Client.Create(ctx, ev); err != nil {
		return fmt.Errorf("failed to record event %s on pod %s: %w", reason, e.Key(), err)
	}
	return nil
}
