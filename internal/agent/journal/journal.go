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
	"bufio"
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
	"github.com/plexus-net/plexus/internal/agent/install"
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

// Journal is the durable set of pending entries: an append-only log in its directory, one
// JSON record per line, each the whole new state of one entry (or its deletion). Replaying the
// log keeps the last record of every entry. A report therefore costs one write system call
// rather than a temp file and a rename (about 0.4 ms less per pod ADD on the test machine,
// time the meta-plugin waits for), and the log is rewritten from memory when it has grown to
// several times what is pending.
type Journal struct {
	dir string
	// Sync makes every write fdatasync the log. Without it a write survives an agent crash or
	// restart (the page cache outlives the process) but not a machine crash, after which
	// every pod sandbox is recreated with a fresh ADD anyway.
	Sync bool

	mu      sync.Mutex
	entries map[string]*Entry
	seq     uint64
	notify  chan struct{}
	log     *os.File
	records int
	bytes   int64
}

// LogName is the log's file name in the journal directory.
const LogName = "journal.log"

// minCompactRecords is the smallest log (in records) that is rewritten; past it the log is
// rewritten once it holds compactFactor times as many records as there are entries, or once
// it has grown by maxLogGrowth bytes with at least twice as many records as entries (entries
// with many events make large records).
const (
	minCompactRecords = 1024
	compactFactor     = 8
	maxLogGrowth      = 16 << 20
)

// record is one line of the log.
type record struct {
	Put *Entry `json:"put,omitempty"`
	Del string `json:"del,omitempty"`
}

// Open loads the journal in dir (created 0700): it replays the log, ignoring a torn last line,
// takes over the one-file-per-pod entries older agents wrote, and rewrites the log.
func Open(dir string) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the journal directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to chmod %s: %w", dir, err)
	}
	j := &Journal{dir: dir, entries: map[string]*Entry{}, notify: make(chan struct{}, 1)}
	legacy, err := j.loadLegacy()
	if err != nil {
		return nil, err
	}
	if err := j.replay(); err != nil {
		return nil, err
	}
	if err := j.compact(); err != nil {
		return nil, err
	}
	for _, path := range legacy {
		_ = os.Remove(path) // taken over by the log just written; a leftover is read again and replaced by the log
	}
	if len(j.entries) > 0 {
		j.signal()
	}
	return j, nil
}

// loadLegacy reads the per-pod files of older agents into entries (the log, replayed after,
// is newer) and returns their paths; temp files of interrupted writes are removed.
func (j *Journal) loadLegacy() ([]string, error) {
	files, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("failed to list %s: %w", j.dir, err)
	}
	var paths []string
	for _, f := range files {
		path := filepath.Join(j.dir, f.Name())
		switch {
		case strings.HasPrefix(f.Name(), "."):
			_ = os.Remove(path) // a temp file of an interrupted write; the previous version stands
			continue
		case !strings.HasSuffix(f.Name(), ".json"):
			continue
		}
		paths = append(paths, path)
		b, err := os.ReadFile(path)
		e := &Entry{}
		if err != nil || json.Unmarshal(b, e) != nil || e.Name == "" || legacyFileName(e.Key()) != f.Name() {
			continue // unreadable: nothing to replay
		}
		j.seq++
		e.Seq, e.StatusSeq = j.seq, j.seq
		j.entries[e.Key()] = e
	}
	return paths, nil
}

// legacyFileName is the file name older agents gave an entry.
func legacyFileName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16]) + ".json"
}

// replay applies the log's records in order. A line that does not parse can only be the
// last one, torn by a machine crash; it and anything after it are ignored.
func (j *Journal) replay() error {
	f, err := os.Open(filepath.Join(j.dir, LogName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to open the journal: %w", err)
	}
	defer f.Close() //nolint:errcheck // read-only
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxRecordBytes)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			break
		}
		switch {
		case r.Put != nil && r.Put.Name != "":
			j.seq++ // replayed entries keep the order of their last writes
			r.Put.Seq, r.Put.StatusSeq = j.seq, j.seq
			j.entries[r.Put.Key()] = r.Put
		case r.Del != "":
			delete(j.entries, r.Del)
		}
	}
	return nil // a read error past the last good record is a torn tail too
}

// maxRecordBytes bounds one line of the log (an entry holds at most MaxEvents events and
// one network-status).
const maxRecordBytes = 16 << 20

// compact writes the entries as a new log (temp file, fsync, rename, directory fsync) and
// appends to it from then on. Callers hold mu, or have not shared the journal yet.
func (j *Journal) compact() error {
	tmp, err := os.CreateTemp(j.dir, "."+LogName+"-*")
	if err != nil {
		return fmt.Errorf("failed to create the journal: %w", err)
	}
	w := bufio.NewWriter(tmp)
	keys := make([]string, 0, len(j.entries))
	for k := range j.entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return j.entries[keys[a]].Seq < j.entries[keys[b]].Seq })
	var werr error
	for _, k := range keys {
		b, err := json.Marshal(record{Put: j.entries[k]})
		if err != nil {
			werr = err
			break
		}
		_, _ = w.Write(b)
		_ = w.WriteByte('\n')
	}
	if werr == nil {
		werr = w.Flush()
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if err := errors.Join(werr, tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name()) // best effort
		return fmt.Errorf("failed to write the journal: %w", err)
	}
	path := filepath.Join(j.dir, LogName)
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name()) // best effort
		return fmt.Errorf("failed to install the journal: %w", err)
	}
	if err := install.SyncDir(j.dir); err != nil {
		return err
	}
	log, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("failed to open the journal: %w", err)
	}
	if j.log != nil {
		_ = j.log.Close() // replaced; every record in it is in the new file
	}
	j.log, j.records, j.bytes = log, len(keys), 0
	return nil
}

// Close closes the log; the journal must not be used afterwards.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.log == nil {
		return nil
	}
	err := j.log.Close()
	j.log = nil
	return err
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
		if err := j.append(record{Del: e.Key()}); err != nil {
			return err
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

// persist records e's new state. Callers hold mu.
func (j *Journal) persist(e *Entry) error {
	return j.append(record{Put: e})
}

// append writes one record with a single write to the end of the log (fdatasync'd with
// Sync), then rewrites the log if it has grown past what is pending. Callers hold mu.
func (j *Journal) append(r record) error {
	if j.log == nil {
		return errors.New("journal is closed")
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("failed to marshal a journal record: %w", err)
	}
	b = append(b, '\n')
	if _, err := j.log.Write(b); err != nil {
		return fmt.Errorf("failed to write the journal: %w", err)
	}
	if j.Sync {
		if err := j.log.Sync(); err != nil {
			return fmt.Errorf("failed to sync the journal: %w", err)
		}
	}
	j.records++
	j.bytes += int64(len(b))
	if (j.records >= minCompactRecords && j.records >= compactFactor*len(j.entries)) ||
		(j.bytes >= maxLogGrowth && j.records >= 2*len(j.entries)) {
		if err := j.compact(); err != nil {
			// The record is in the log, which stays valid: report success and try to
			// rewrite it again after another minCompactRecords records.
			j.records, j.bytes = 0, 0
		}
	}
	return nil
}

// Signal wakes up whoever waits on C.
func (j *Journal) Signal() { j.signal() }
