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

package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/netattach"
)

// MaxEvents bounds the events kept per pod; older ones are dropped first.
const MaxEvents = 64

// Entry is the pending status of one pod.
type Entry struct {
	// Namespace, Name and UID identify the pod; UID guards against a recreated pod.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
	// NetworkStatus is the network-status to publish when HasStatus is set.
	NetworkStatus []netattach.NetworkStatus `json:"networkStatus,omitempty"`
	HasStatus     bool                      `json:"hasStatus,omitempty"`
	// Events are the events still to record.
	Events []api.Event `json:"events,omitempty"`

	// Seq and StatusSeq change on every write and every status write; Ack uses them to tell
	// what was flushed from what arrived meanwhile.
	Seq       uint64 `json:"-"`
	StatusSeq uint64 `json:"-"`
}

// Key is the entry's key: namespace/name.
func (e *Entry) Key() string { return e.Namespace + "/" + e.Name }

func (e *Entry) clone() *Entry {
	c := *e
	c.NetworkStatus = append([]netattach.NetworkStatus(nil), e.NetworkStatus...)
	c.Events = append([]api.Event(nil), e.Events...)
	return &c
}

// Journal is the durable set of pending entries.
type Journal struct {
	dir string
	// Sync makes every write fsync the file and the directory. Without it a write survives an
	// agent crash or restart (the page cache outlives the process) but not a machine crash,
	// after which every pod sandbox is recreated with a fresh ADD anyway.
	Sync bool

	mu      sync.Mutex
	entries map[string]*Entry
	seq     uint64
	notify  chan struct{}
}

// Open loads the journal in dir (created 0700), discarding unreadable files.
func Open(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the journal directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to chmod %s: %w", dir, err)
	}
	j := &Journal{dir: dir, entries: map[string]*Entry{}, notify: make(chan struct{}, 1)}
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to list %s: %w", dir, err)
	}
	for _, f := range files {
		path := filepath.Join(dir, f.Name())
		if strings.HasPrefix(f.Name(), ".") {
			_ = os.Remove(path) // a temp file of an interrupted write; the previous version stands
			continue
		}
		b, err := os.ReadFile(path)
		e := &Entry{}
		if err != nil || json.Unmarshal(b, e) != nil || e.Name == "" || fileName(e.Key()) != f.Name() {
			_ = os.Remove(path) // unreadable: nothing to replay
			continue
		}
		j.seq++
		e.Seq, e.StatusSeq = j.seq, j.seq
		j.entries[e.Key()] = e
	}
	if len(j.entries) > 0 {
		j.signal()
	}
	return j, nil
}

// fileName maps a key to a file name (hashed: namespace and name are not path-safe together).
func fileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + ".json"
}

// C is signalled whenever there is something new to flush.
func (j *Journal) C() <-chan struct{} { return j.notify }

func (j *Journal) signal() {
	select {
	case j.notify <- struct{}{}:
	default:
	}
}

// Append records a report durably and coalesces it with what is pending for the pod: a
// report for another UID replaces the entry, a network-status replaces the pending one and
// events accumulate.
func (j *Journal) Append(ref api.PodRef, r *api.StatusReport) error {
	if ref.Namespace == "" || ref.Name == "" {
		return errors.New("journal: report without a pod")
	}
	uid := r.UID
	if uid == "" {
		uid = ref.UID
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	key := ref.Namespace + "/" + ref.Name
	e, ok := j.entries[key]
	if !ok || (uid != "" && e.UID != "" && e.UID != uid) {
		e = &Entry{Namespace: ref.Namespace, Name: ref.Name}
	} else {
		e = e.clone()
	}
	if uid != "" {
		e.UID = uid
	}
	j.seq++
	e.Seq = j.seq
	if r.NetworkStatus != nil {
		e.NetworkStatus, e.HasStatus, e.StatusSeq = r.NetworkStatus, true, j.seq
	}
	e.Events = append(e.Events, r.Events...)
	if n := len(e.Events); n > MaxEvents {
		e.Events = e.Events[n-MaxEvents:]
	}
	if err := j.persist(e); err != nil {
		return err
	}
	j.entries[key] = e
	j.signal()
	return nil
}

// Pending returns copies of the pending entries, oldest write first.
func (j *Journal) Pending() []*Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*Entry, 0, len(j.entries))
	for _, e := range j.entries {
		out = append(out, e.clone())
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Seq < out[b].Seq })
	return out
}

// Len is the number of pending entries.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// Ack records what of flushed (a copy from Pending) was written: the status if statusDone
// (and no newer status arrived since) and the first events of the entry. An entry with
// nothing left is deleted.
func (j *Journal) Ack(flushed *Entry, statusDone bool, eventsDone int) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	cur, ok := j.entries[flushed.Key()]
	if !ok || cur.UID != flushed.UID {
		return nil
	}
	e := cur.clone()
	if statusDone && e.StatusSeq == flushed.StatusSeq {
		e.HasStatus, e.NetworkStatus = false, nil
	}
	if eventsDone > len(e.Events) {
		eventsDone = len(e.Events)
	}
	e.Events = e.Events[eventsDone:]
	return j.replace(e)
}

// Drop forgets the entry flushed came from (the pod is gone or has another UID), unless a
// report for another UID arrived meanwhile.
func (j *Journal) Drop(flushed *Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	cur, ok := j.entries[flushed.Key()]
	if !ok || cur.UID != flushed.UID {
		return nil
	}
	cur = cur.clone()
	cur.HasStatus, cur.NetworkStatus, cur.Events = false, nil, nil
	return j.replace(cur)
}

// replace stores e, deleting it when nothing is left. Callers hold mu.
func (j *Journal) replace(e *Entry) error {
	if !e.HasStatus && len(e.Events) == 0 {
		path := filepath.Join(j.dir, fileName(e.Key()))
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("failed to remove %s: %w", path, err)
		}
		delete(j.entries, e.Key())
		return nil
	}
	if err := j.persist(e); err != nil {
		return err
	}
	j.entries[e.Key()] = e
	return nil
}

// persist writes e atomically: temp file in the journal dir, then rename.
func (j *Journal) persist(e *Entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("failed to marshal journal entry %s: %w", e.Key(), err)
	}
	path := filepath.Join(j.dir, fileName(e.Key()))
	tmp, err := os.CreateTemp(j.dir, ".entry-*")
	if err != nil {
		return fmt.Errorf("failed to create a journal file: %w", err)
	}
	_, werr := tmp.Write(data)
	if werr == nil && j.Sync {
		werr = tmp.Sync()
	}
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name()) // best effort; Open removes leftovers too
		return fmt.Errorf("failed to write journal entry %s: %w", e.Key(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name()) // best effort
		return fmt.Errorf("failed to commit journal entry %s: %w", e.Key(), err)
	}
	if j.Sync {
		d, err := os.Open(j.dir)
		if err != nil {
			return fmt.Errorf("failed to open %s: %w", j.dir, err)
		}
		defer d.Close() //nolint:errcheck // read-only
		if err := d.Sync(); err != nil {
			return fmt.Errorf("failed to fsync %s: %w", j.dir, err)
		}
	}
	return nil
}

// Signal wakes up whoever waits on C.
func (j *Journal) Signal() { j.signal() }
