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
	"os"
	"path/filepath"
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

	// "Crash": a new journal on the same directory, plus a torn temp file and a corrupt entry.
	g.Expect(os.WriteFile(filepath.Join(dir, ".entry-torn"), []byte("{"), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, "garbage.json"), []byte("not json"), 0o600)).To(Succeed())
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
	g.Expect(entries).To(HaveLen(2), "torn and corrupt files are removed")
	for _, e := range entries {
		info, _ := e.Info()
		g.Expect(info.Mode().Perm()).To(Equal(os.FileMode(0o600)))
	}
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
	entries, _ := os.ReadDir(dir)
	g.Expect(entries).To(BeEmpty(), "a fully flushed entry leaves no file")
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
