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

package benchutil

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/ns"
)

// Samples are durations of one measurement.
type Samples []time.Duration

// P returns the q-th percentile (nearest rank); 0 for no samples.
func (s Samples) P(q int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := append(Samples(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	idx := (len(c)*q + 99) / 100
	if idx > 0 {
		idx--
	}
	return c[idx]
}

// MS formats a duration in milliseconds with two decimals.
func MS(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// LoadAvg is the 1, 5 and 15 minute load average ("?" if unreadable).
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// CNICall is one plexus-cni invocation as a runtime makes it.
type CNICall struct {
	// Binary is plexus-cni.
	Binary string
	// Command is ADD, DEL, CHECK, ...
	Command string
	// ContainerID, Netns and Args are CNI_CONTAINERID, CNI_NETNS and CNI_ARGS.
	ContainerID, Netns, Args string
	// Path is CNI_PATH.
	Path string
	// Stdin is the network configuration.
	Stdin []byte
}

// Exec runs the call from inside hostNS (the node's netns), with only the CNI environment a
// runtime sets, and returns its wall time from exec to exit.
func Exec(hostNS ns.NetNS, c CNICall) (time.Duration, error) {
	r, err := ExecRun(hostNS, c)
	return r.Wall, err
}

// Run is the cost of one process run.
type Run struct {
	// Wall is from exec to exit.
	Wall time.Duration
	// CPU is the user and system time of the process and of every child it waited for
	// (for plexus-cni: itself and its delegates).
	CPU time.Duration
}

// ExecRun is Exec that also returns the CPU time the call used.
func ExecRun(hostNS ns.NetNS, c CNICall) (Run, error) {
	var run Run
	var wall time.Duration
	var runErr error
	err := hostNS.Do(func(ns.NetNS) error {
		cmd := exec.Command(c.Binary)
		cmd.Env = []string{"CNI_COMMAND=" + c.Command, "CNI_CONTAINERID=" + c.ContainerID, "CNI_NETNS=" + c.Netns,
			"CNI_IFNAME=eth0", "CNI_ARGS=" + c.Args, "CNI_PATH=" + c.Path, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		cmd.Stdin = bytes.NewReader(c.Stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		runErr = cmd.Run()
		wall = time.Since(start)
		if cmd.ProcessState != nil {
			run.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		if runErr != nil {
			runErr = fmt.Errorf("plexus-cni %s %s: %w: %s", c.Command, c.ContainerID, runErr, out.String())
		}
		return nil
	})
	run.Wall = wall
	if err != nil {
		return run, err
	}
	return run, runErr
}

// CPU is the user and system time of this process and of every child it has waited for so
// far; the difference around a sequence of calls is what they cost, this process's share
// (libcni, fork and exec) included, provided nothing else runs in it meanwhile.
func CPU() time.Duration {
	var self, children syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		return 0
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err != nil {
		return 0
	}
	return time.Duration(self.Utime.Nano() + self.Stime.Nano() + children.Utime.Nano() + children.Stime.Nano())
}

// Timing is plexus-cni's last "Timing:" log line.
type Timing struct {
	// Line is the line after "Timing: ".
	Line string
	// Total and Delegates are its total= and delegates= fields.
	Total, Delegates time.Duration
	// Phases are its other duration fields (resolve=, cache=, status=, ...) by name.
	Phases map[string]time.Duration
}

// LastTiming parses the last timing line of a plexus-cni log.
func LastTiming(log string) (Timing, error) {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		_, rest, ok := strings.Cut(lines[i], "Timing: ")
		if !ok {
			continue
		}
		t := Timing{Line: strings.TrimSpace(rest), Phases: map[string]time.Duration{}}
		for _, f := range strings.Fields(rest) {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				continue
			}
			d, err := time.ParseDuration(v)
			switch {
			case k == "total":
				t.Total = d
			case k == "delegates":
				t.Delegates = d
			case err == nil:
				t.Phases[k] = d
				continue
			default:
				continue // not a duration (api=2)
			}
			if err != nil {
				return Timing{}, fmt.Errorf("bad timing line %q: %w", lines[i], err)
			}
		}
		return t, nil
	}
	return Timing{}, fmt.Errorf("no timing line in the plexus-cni log:\n%s", log)
}

// Direct is the baseline plexus-cni is compared with: the same delegates of one pod called
// straight through libcni from HostNS, Cluster as eth0 and Secondary as net1, net2, ...
type Direct struct {
	CNI                *libcni.CNIConfig
	HostNS             ns.NetNS
	Cluster, Secondary *libcni.NetworkConfigList
}

// Add attaches the cluster network and n-1 secondaries in order and returns the wall time.
func (d Direct) Add(ctx context.Context, rt func(ifName string) *libcni.RuntimeConf, n int) (time.Duration, error) {
	var wall time.Duration
	err := d.HostNS.Do(func(ns.NetNS) error {
		start := time.Now()
		if _, err := d.CNI.AddNetworkList(ctx, d.Cluster, rt("eth0")); err != nil {
			return fmt.Errorf("direct ADD cluster: %w", err)
		}
		for i := 1; i < n; i++ {
			if _, err := d.CNI.AddNetworkList(ctx, d.Secondary, rt(fmt.Sprintf("net%d", i))); err != nil {
				return fmt.Errorf("direct ADD net%d: %w", i, err)
			}
		}
		wall = time.Since(start)
		return nil
	})
	return wall, err
}

// Del detaches what Add attached, in reverse, and returns the wall time.
func (d Direct) Del(ctx context.Context, rt func(ifName string) *libcni.RuntimeConf, n int) (time.Duration, error) {
	var wall time.Duration
	err := d.HostNS.Do(func(ns.NetNS) error {
		start := time.Now()
		for i := n - 1; i >= 1; i-- {
			if err := d.CNI.DelNetworkList(ctx, d.Secondary, rt(fmt.Sprintf("net%d", i))); err != nil {
				return fmt.Errorf("direct DEL net%d: %w", i, err)
			}
		}
		if err := d.CNI.DelNetworkList(ctx, d.Cluster, rt("eth0")); err != nil {
			return fmt.Errorf("direct DEL cluster: %w", err)
		}
		wall = time.Since(start)
		return nil
	})
	return wall, err
}
