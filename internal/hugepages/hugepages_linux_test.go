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

package hugepages_test

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"golang.org/x/sys/unix"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/hugepages"
	"github.com/plexus-net/plexus/internal/sysfs"

	"github.com/plexus-net/plexus/internal/testenv"
)

const (
	global2M = "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
	node02M  = "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
)

// realSysfs returns the machine's /sys for tests that change real hugepage pools, restoring the
// 2Mi pool afterwards even when the test fails. It skips without root, or without a writable
// per-node pool, unless CI is set (CI runs as root, so a skip there is a failure).
func realSysfs(t *testing.T) (sysfs.Root, int) {
	t.Helper()
	skip := func(msg string) { testenv.SkipOrFail(t, "%s", msg) }
	testenv.RequireRoot(t, "writes /sys/kernel/mm/hugepages")
	// Other packages' tests (the agent's hardware reconciler, the e2e suite) change the same
	// pools: take the machine-wide lock they take, so the packages can run in parallel.
	release, err := testenv.LockHugepages()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release) // registered first: runs after the restore below
	root := sysfs.New("/sys")
	orig, err := sysfs.ReadInt(root, global2M)
	if err != nil {
		skip("no 2Mi hugepage pool: " + err.Error())
	}
	if unix.Access(root.Path(node02M), unix.W_OK) != nil {
		skip("per-NUMA hugepage pool not writable: " + root.Path(node02M))
	}
	t.Cleanup(func() {
		if err := sysfs.WriteInt(root, global2M, orig); err != nil {
			t.Errorf("restore %s to %d: %v", global2M, orig, err)
		}
		if got, _ := sysfs.ReadInt(root, global2M); got != orig {
			t.Errorf("restore %s: want %d, have %d (pages in use?)", global2M, orig, got)
		}
	})
	return root, orig
}

func TestRealHugepages(t *testing.T) {
	root, orig := realSysfs(t)
	g := NewWithT(t)
	ctx := context.Background()
	node0 := intp(0)

	// Allocate 4 more pages in the node-wide pool and read them back.
	pools, err := hugepages.Apply(ctx, root, []hugepages.Target{{PageSize: plexusv1alpha1.HugepageSize2Mi, Count: orig + 4}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pools[0].Allocated).To(Equal(orig + 4))
	g.Expect(sysfs.ReadInt(root, global2M)).To(Equal(orig + 4))

	// Per NUMA node: grow node 0, then shrink it.
	n0, err := sysfs.ReadInt(root, node02M)
	g.Expect(err).NotTo(HaveOccurred())
	pools, err = hugepages.Apply(ctx, root, []hugepages.Target{{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: node0, Count: n0 + 2}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pools[0].Allocated).To(Equal(n0 + 2))
	pools, err = hugepages.Apply(ctx, root, []hugepages.Target{{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: node0, Count: n0 - 1}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pools[0].Allocated).To(Equal(n0 - 1))
	g.Expect(pools[0].Free).To(BeNumerically("<=", n0-1))

	all, err := hugepages.Read(root)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(all).To(ContainElement(HaveField("NUMANode", Equal(node0))))
}

// TestRealHugepagesShortfall asks the kernel for more pages than it will hand out and checks the
// read-back is reported as HugepagesShortfall with requested and allocated counts.
//
// NOTE: the kernel answers a huge nr_hugepages by allocating as many pages as it can, i.e. by
// taking (almost) all free memory of the machine until the write returns. On a shared machine
// that would OOM-kill other people's processes. The allocation loop stops early when the writer
// has a signal pending (set_max_huge_pages "Bail for signals"), so the test asks for half of the
// available memory and signals the writing thread once ~256 MiB were taken: the kernel then stops
// and keeps what it allocated, which is exactly the "read back less than requested" situation of
// a fragmented or exhausted node, while the machine never loses more than a few hundred MiB.
func TestRealHugepagesShortfall(t *testing.T) {
	root, orig := realSysfs(t)
	g := NewWithT(t)
	const pageKB = 2048
	avail := meminfoKB(t, "MemAvailable")
	requested := orig + int(avail/pageKB/2)
	g.Expect(requested).To(BeNumerically(">", orig+256), "not enough memory for a meaningful test")

	type result struct {
		pools []hugepages.Pool
		err   error
	}
	done := make(chan result, 1)
	baseline := meminfoKB(t, "MemFree")
	go func() {
		pools, err := hugepages.Apply(context.Background(), root, []hugepages.Target{
			{PageSize: plexusv1alpha1.HugepageSize2Mi, NUMANode: intp(0), Count: requested},
		})
		done <- result{pools, err}
	}()
	var res result
	deadline := time.Now().Add(30 * time.Second)
	const budgetKB = 256 << 10
	for res.pools == nil && res.err == nil {
		select {
		case res = <-done:
			continue
		default:
		}
		if baseline-meminfoKB(t, "MemFree") > budgetKB || time.Now().After(deadline) {
			signalAllThreads(t)
		}
	}
	g.Expect(res.err).To(MatchError(hugepages.ErrShortfall))
	g.Expect(hugepages.ReasonOf(res.err)).To(Equal("HugepagesShortfall"))
	g.Expect(res.pools).To(HaveLen(1))
	p := res.pools[0]
	g.Expect(p.Requested).To(Equal(requested))
	g.Expect(p.Allocated).To(BeNumerically("<", requested))
	g.Expect(p.Allocated).To(BeNumerically(">=", 0))
	t.Logf("requested %d pages, kernel allocated %d", p.Requested, p.Allocated)
}

func meminfoKB(t *testing.T, key string) int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), key+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("%s not in /proc/meminfo", key)
	return 0
}

// signalAllThreads sends SIGURG (which the Go runtime tolerates at any time) to every thread of
// the process, so the one blocked in the nr_hugepages write sees a pending signal.
func signalAllThreads(t *testing.T) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	pid := os.Getpid()
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			_ = unix.Tgkill(pid, tid, unix.SIGURG)
		}
	}
}
