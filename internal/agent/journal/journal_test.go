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
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/netattach"
)

var pod = api.PodRef{Namespace: "ns", Name: "p", UID: "u1"}

func status(iface string) []netattach.NetworkStatus {
	return []netattach.NetworkStatus{{Name: "cbr0", Interface: "eth0", Default: true}, {Name: "ns/net", Interface: iface}}
}

func ev(reason string) api.Event {
	return api.Event{Type: api.EventTypeNormal, Reason: reason, Message: reason}
}

func TestReplayAfterRestart(t *testing.T) {
	g := NewWithT(t)
	dir := filepath.Join(t.TempDir(), "journal")
	j, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(j.Append(pod, &api.StatusReport{UID: "u1", NetworkStatus: status("net1"), Events: []api.Event{ev("A")}})).To(Succeed())
	other := api.PodRef{Namespace: "ns", Name: "q", UID: "u2"}
	g.Expect(j.Append(other, &api.StatusReport{Events: []api.Event{ev("B")}})).To(Succeed())
	fi, err := os.Stat(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.Mode().Perm()).To(Equal(os.FileMode(0o700)))

	// "Crash": a new journal on the same directory, after a torn last line and a temp file
	// of an interrupted rewrite.
	f, err := os.OpenFile(filepath.Join(dir, LogName), os.O_WRONLY|os.O_APPEND, 0)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = f.WriteString(`{"put":{"namespace":"ns","name":"torn","hasSta`)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(f.Close()).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, ".journal.log-123"), []byte("{"), 0o600)).To(Succeed())
	g.Expect(j.Close()).To(Succeed())
	j2, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Eventually(j2.C()).Should(Receive(), "a replayed journal signals the writer")
	pending := j2.Pending()
	g.Expect(pending).To(HaveLen(2))
	g.Expect(pending[0].Key()).To(Equal("ns/p"))
	g.Expect(pending[0].UID).To(Equal("u1"))
	g.Expect(pending[0].HasStatus).To(BeTrue())
	g.Expect(pending[0].NetworkStatus).To(Equal(status("net1")))
	g.Expect(pending[0].Events).To(Equal([]api.Event{ev("A")}))
	g.Expect(pending[1].HasStatus).To(BeFalse())
	entries, _ := os.ReadDir(dir)
	g.Expect(entries).To(HaveLen(1), "only the log is left")
	info, _ := entries[0].Info()
	g.Expect(info.Name()).To(Equal(LogName))
	g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))

	// The reopened journal goes on appending, and a third start sees it all.
	g.Expect(j2.Append(other, &api.StatusReport{Events: []api.Event{ev("C")}})).To(Succeed())
	g.Expect(j2.Close()).To(Succeed())
	j3, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(j3.Pending()[1].Events).To(Equal([]api.Event{ev("B"), ev("C")}))
}

// An agent upgraded from the one-file-per-pod journal takes its entries over.
func TestLegacyFilesAreTakenOver(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	legacy := &Entry{Namespace: "ns", Name: "old", UID: "u0", HasStatus: true, NetworkStatus: status("net1")}
	b, err := json.Marshal(legacy)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.WriteFile(filepath.Join(dir, legacyFileName("ns/old")), b, 0o600)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, "garbage.json"), []byte("not json"), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, ".entry-torn"), []byte("{"), 0o600)).To(Succeed())
	j, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	p := j.Pending()
	g.Expect(p).To(HaveLen(1))
	g.Expect(p[0].Key()).To(Equal("ns/old"))
	g.Expect(p[0].NetworkStatus).To(Equal(status("net1")))
	entries, _ := os.ReadDir(dir)
	g.Expect(entries).To(HaveLen(1), "the legacy files are in the log now")
	g.Expect(j.Close()).To(Succeed())
	j2, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(j2.Pending()).To(HaveLen(1))
}

// The log is rewritten once it holds many times what is pending, so it stays small however
// many reports pass through.
func TestLogIsCompacted(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	j, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	var max int64
	for i := range 5 * minCompactRecords {
		ref := api.PodRef{Namespace: "ns", Name: fmt.Sprintf("p%d", i%10), UID: "u"}
		g.Expect(j.Append(ref, &api.StatusReport{UID: "u", NetworkStatus: status("net1"), Events: []api.Event{ev("A")}})).To(Succeed())
		if i%3 == 0 {
			e := j.Pending()[0]
			g.Expect(j.Ack(e, true, len(e.Events))).To(Succeed())
		}
		fi, err := os.Stat(filepath.Join(dir, LogName))
		g.Expect(err).NotTo(HaveOccurred())
		max = max64(max, fi.Size())
	}
	one, err := json.Marshal(record{Put: j.Pending()[0]})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(max).To(BeNumerically("<", int64(2*minCompactRecords*len(one))), "the log never grows past the compaction point")
	want := j.Pending()
	g.Expect(j.Close()).To(Succeed())
	j2, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	got := j2.Pending()
	g.Expect(got).To(HaveLen(len(want)))
	for i := range want {
		g.Expect(got[i].Key()).To(Equal(want[i].Key()))
		g.Expect(got[i].Events).To(Equal(want[i].Events))
	}
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func TestCoalescing(t *testing.T) {
	g := NewWithT(t)
	j, err := Open(t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(j.Append(pod, &api.StatusReport{UID: "u1", NetworkStatus: status("net1"), Events: []api.Event{ev("A")}})).To(Succeed())
	g.Expect(j.Append(pod, &api.StatusReport{UID: "u1", NetworkStatus: status("net2"), Events: []api.Event{ev("B")}})).To(Succeed())
	g.Expect(j.Append(pod, &api.StatusReport{UID: "u1", Events: []api.Event{ev("C")}})).To(Succeed())
	p := j.Pending()
	g.Expect(p).To(HaveLen(1), "one entry, so one PATCH per pod")
	g.Expect(p[0].NetworkStatus).To(Equal(status("net2")), "the latest network-status wins")
	g.Expect(p[0].Events).To(Equal([]api.Event{ev("A"), ev("B"), ev("C")}))

	// A report for a recreated pod (another UID) replaces the entry.
	g.Expect(j.Append(api.PodRef{Namespace: "ns", Name: "p", UID: "u9"}, &api.StatusReport{UID: "u9", NetworkStatus: status("net3")})).To(Succeed())
	p = j.Pending()
	g.Expect(p).To(HaveLen(1))
	g.Expect(p[0].UID).To(Equal("u9"))
	g.Expect(p[0].Events).To(BeEmpty())
}

func TestAckKeepsWhatArrivedDuringTheFlush(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	j, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(j.Append(pod, &api.StatusReport{UID: "u1", NetworkStatus: status("net1"), Events: []api.Event{ev("A")}})).To(Succeed())
	flushed := j.Pending()[0]
	// While the writer flushes, a new ADD reports again.
	g.Expect(j.Append(pod, &api.StatusReport{UID: "u1", NetworkStatus: status("net2"), Events: []api.Event{ev("B")}})).To(Succeed())
	g.Expect(j.Ack(flushed, true, 1)).To(Succeed())
	p := j.Pending()
	g.Expect(p).To(HaveLen(1))
	g.Expect(p[0].HasStatus).To(BeTrue(), "the newer status is still pending")
	g.Expect(p[0].NetworkStatus).To(Equal(status("net2")))
	g.Expect(p[0].Events).To(Equal([]api.Event{ev("B")}))

	g.Expect(j.Ack(p[0], true, 1)).To(Succeed())
	g.Expect(j.Len()).To(Equal(0))
	g.Expect(j.Close()).To(Succeed())
	j2, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(j2.Len()).To(Equal(0), "a fully flushed entry is not replayed")
}

func TestDropIgnoresAnotherUID(t *testing.T) {
	g := NewWithT(t)
	j, err := Open(t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(j.Append(pod, &api.StatusReport{UID: "u1", NetworkStatus: status("net1")})).To(Succeed())
	old := j.Pending()[0]
	g.Expect(j.Append(api.PodRef{Namespace: "ns", Name: "p"}, &api.StatusReport{UID: "u2", NetworkStatus: status("net1")})).To(Succeed())
	g.Expect(j.Drop(old)).To(Succeed())
	g.Expect(j.Len()).To(Equal(1), "the new pod's report survives the old pod's drop")
	g.Expect(j.Drop(j.Pending()[0])).To(Succeed())
	g.Expect(j.Len()).To(Equal(0))
}

func TestEventsAreBounded(t *testing.T) {
	g := NewWithT(t)
	j, err := Open(t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	for range MaxEvents + 10 {
		g.Expect(j.Append(pod, &api.StatusReport{Events: []api.Event{ev("X")}})).To(Succeed())
	}
	g.Expect(j.Pending()[0].Events).To(HaveLen(MaxEvents))
}

// Large records (pods with many long events) trigger the rewrite by size as well.
func TestLargeRecordsAreCompactedBySize(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	j, err := Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	long := api.Event{Type: api.EventTypeWarning, Reason: "AttachmentFailed", Message: strings.Repeat("x", 4096)}
	var max, rec int64
	for range 200 {
		g.Expect(j.Append(pod, &api.StatusReport{UID: "u1", Events: []api.Event{long}})).To(Succeed())
		fi, err := os.Stat(filepath.Join(dir, LogName))
		g.Expect(err).NotTo(HaveOccurred())
		max = max64(max, fi.Size())
	}
	b, err := json.Marshal(record{Put: j.Pending()[0]})
	g.Expect(err).NotTo(HaveOccurred())
	rec = int64(len(b))
	g.Expect(200*rec).To(BeNumerically(">", 2*maxLogGrowth), "the test writes well past the size trigger")
	g.Expect(max).To(BeNumerically("<=", maxLogGrowth+2*rec), "the log is rewritten once it has grown by maxLogGrowth")
}
