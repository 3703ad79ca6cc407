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

package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/containernetworking/cni/pkg/types"
	"golang.org/x/sys/unix"

	"github.com/plexus-net/plexus/cni/api"
)

// DirectBinary is the direct-mode build of the meta-plugin (cni/direct), installed next to
// plexus-cni. It is the same plugin with the API-server client linked in; plexus-cni leaves
// that client out because net/http, TLS and YAML cost about 0.7 ms of start-up per exec, and
// the node agent path never needs them.
const DirectBinary = "plexus-cni-direct"

// Environment of a hand-off to DirectBinary.
const (
	// HandOffEnv carries why plexus-cni handed over; plexus-cni-direct then skips the agent.
	HandOffEnv = "PLEXUS_CNI_HANDOFF"
	// ReportEnv makes plexus-cni-direct publish one ReportRequest read from stdin.
	ReportEnv = "PLEXUS_CNI_REPORT"
)

// errHandOff means the invocation needs the API server, which plexus-cni leaves to
// DirectBinary.
var errHandOff = errors.New("direct API mode is needed (no node agent answered)")

// handOff replaces this process with DirectBinary, which runs the whole command again with
// the same environment and configuration. Nothing has been changed on the node when it is
// called (it runs before the cache is written and before any delegate).
func (p *Plugin) handOff(inv *invocation, cause error) error {
	if inv.conf.AgentSocket != "" {
		inv.log.Infof("Handing the command to %s: %v", DirectBinary, cause) // the agent should have answered
	} else {
		inv.log.Verbosef("Handing the command to %s: %v", DirectBinary, cause) // direct mode by configuration
	}
	if p.HandOff != nil {
		return p.HandOff(inv.args, cause.Error())
	}
	path, err := findDirect(inv.conf.binDirs(inv.args.Path))
	if err != nil {
		return types.NewError(types.ErrTryAgainLater, "plexus-cni: no node agent answered and "+DirectBinary+" is not installed", err.Error())
	}
	env := append(os.Environ(), HandOffEnv+"="+cause.Error())
	if err := execWithStdin(path, inv.args.StdinData, env); err != nil {
		return types.NewError(types.ErrInternal, "plexus-cni: failed to hand the command to "+DirectBinary, err.Error())
	}
	return nil // not reached: exec replaced the process
}

// handOffErr returns whether err asks for a hand-off.
func handOffErr(err error) bool { return errors.Is(err, errHandOff) }

// findDirect looks for DirectBinary next to this executable, then in the bin dirs.
func findDirect(binDirs []string) (string, error) {
	var dirs []string
	if self, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(self))
	}
	dirs = append(dirs, binDirs...)
	for _, d := range dirs {
		path := filepath.Join(d, DirectBinary)
		if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s not found in %v", DirectBinary, dirs)
}

// execWithStdin execs path with data as its stdin (memFile), so the new image reads the
// configuration this one consumed.
func execWithStdin(path string, data []byte, env []string) error {
	f, err := memFile("plexus-cni-stdin", data)
	if err != nil {
		return fmt.Errorf("failed to write stdin for %s: %w", path, err)
	}
	// Only fd 0 goes on: the original (close-on-exec anyway) would otherwise be inherited by
	// plexus-cni-direct and its delegates.
	defer f.Close() //nolint:errcheck // reached only when exec fails
	if err := unix.Dup3(int(f.Fd()), 0, 0); err != nil {
		return fmt.Errorf("dup3: %w", err)
	}
	return syscall.Exec(path, []string{path}, env)
}

// ReportRequest is what plexus-cni gives plexus-cni-direct (ReportEnv) when the agent went
// away between resolving and reporting: the configuration, the pod and the report.
type ReportRequest struct {
	Conf   json.RawMessage  `json:"conf"`
	Pod    api.PodRef       `json:"pod"`
	Report api.StatusReport `json:"report"`
}

// handOffSink publishes through sink, and through a plexus-cni-direct child process when
// the sink needs direct mode: the pod's networking is in place by then, so only the report
// is handed over, not the command.
type handOffSink struct {
	sink api.StatusSink
	inv  *invocation
}

func (h handOffSink) Report(ctx context.Context, ref api.PodRef, r *api.StatusReport) error {
	err := h.sink.Report(ctx, ref, r)
	if !handOffErr(err) {
		return err
	}
	path, ferr := findDirect(h.inv.conf.binDirs(h.inv.args.Path))
	if ferr != nil {
		return fmt.Errorf("%w: %w", err, ferr)
	}
	in, merr := json.Marshal(ReportRequest{Conf: h.inv.args.StdinData, Pod: ref, Report: *r})
	if merr != nil {
		return merr
	}
	cmd := exec.CommandContext(ctx, path)
	cmd.Env = append(os.Environ(), ReportEnv+"=1")
	cmd.Stdin = bytes.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s (report): %w: %s", DirectBinary, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// ServeReport is plexus-cni-direct's report mode: it reads a ReportRequest from r and
// publishes it with direct mode.
func (p *Plugin) ServeReport(r io.Reader) error {
	var req ReportRequest
	if err := json.NewDecoder(r).Decode(&req); err != nil {
		return fmt.Errorf("invalid report request: %w", err)
	}
	conf, err := LoadNetConf(req.Conf)
	if err != nil {
		return err
	}
	if p.Direct == nil {
		return errors.New("report mode needs direct mode")
	}
	ctx := context.Background()
	_, sink, err := p.Direct(ctx, conf)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, conf.apiTimeout())
	defer cancel()
	return sink.Report(ctx, req.Pod, &req.Report)
}
