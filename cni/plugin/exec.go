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
	"syscall"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"golang.org/x/sys/unix"
)

// forkExec is libcni's invoke.Exec with delegates started by syscall.ForkExec instead of
// os/exec. Behaviour matches invoke.RawExec (same error decoding, "text file busy" retries,
// the delegate's stderr copied to ours, killed when the context ends); what it saves is
// os/exec's one-time pidfd probe, which forks an extra child in every short-lived process
// (0.2-0.4 ms per plexus-cni invocation on the machine the benchmarks ran on).
type forkExec struct {
	invoke.RawExec
	version.PluginDecoder
}

var _ invoke.Exec = (*forkExec)(nil)

func newForkExec() *forkExec { return &forkExec{RawExec: invoke.RawExec{Stderr: os.Stderr}} }

// ExecPlugin implements invoke.Exec.
func (e *forkExec) ExecPlugin(ctx context.Context, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		stdout, stderr, err := run(ctx, pluginPath, stdinData, environ)
		if errors.Is(err, syscall.ETXTBSY) && attempt < 5 {
			// The plugin is being replaced (an installer writing it); libcni waits 1 s too.
			select {
			case <-time.After(time.Second):
				continue
			case <-ctx.Done():
			}
		}
		if err != nil {
			return nil, pluginErr(err, stdout, stderr)
		}
		if e.Stderr != nil && len(stderr) > 0 {
			_, _ = e.Stderr.Write(stderr) // informational only, as in libcni
		}
		return stdout, nil
	}
}

// pluginErr decodes a failed delegate's error as libcni does: its stdout is a CNI error.
func pluginErr(err error, stdout, stderr []byte) error {
	emsg := types.Error{}
	switch {
	case len(stdout) == 0 && len(stderr) == 0:
		emsg.Msg = fmt.Sprintf("netplugin failed with no error message: %v", err)
	case len(stdout) == 0:
		emsg.Msg = fmt.Sprintf("netplugin failed: %q", string(stderr))
	default:
		if perr := json.Unmarshal(stdout, &emsg); perr != nil {
			emsg.Msg = fmt.Sprintf("netplugin failed but error parsing its diagnostic message %q: %v", string(stdout), perr)
		}
	}
	return &emsg
}

// run starts path with stdin, collects stdout and stderr, and waits. A context that ends
// first kills the child; the error then names the context's.
func run(ctx context.Context, path string, stdin []byte, env []string) (stdout, stderr []byte, err error) {
	var in, out, errp [2]int
	for _, p := range []*[2]int{&in, &out, &errp} {
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			closeAll(in, out, errp)
			return nil, nil, fmt.Errorf("pipe: %w", err)
		}
	}
	pid, err := syscall.ForkExec(path, []string{path}, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{uintptr(in[0]), uintptr(out[1]), uintptr(errp[1])},
	})
	// The child's ends belong to the child now (or to nobody, on failure).
	_ = unix.Close(in[0])
	_ = unix.Close(out[1])
	_ = unix.Close(errp[1])
	if err != nil {
		_ = unix.Close(in[1])
		_ = unix.Close(out[0])
		_ = unix.Close(errp[0])
		return nil, nil, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}

	// Kill the child when ctx ends, but never after it has been reaped (its pid could be
	// reused): the watcher stops before Wait4.
	stopWatch, watchDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watchDone)
		select {
		case <-ctx.Done():
			_ = syscall.Kill(pid, syscall.SIGKILL)
		case <-stopWatch:
		}
	}()
	errCh := make(chan []byte, 1)
	go func() { errCh <- readAll(errp[0]) }()
	go func() {
		w := os.NewFile(uintptr(in[1]), "stdin")
		_, _ = w.Write(stdin) // a child that exits without reading its stdin is not our error
		_ = w.Close()
	}()
	stdout = readAll(out[0])
	stderr = <-errCh
	var info unix.Siginfo
	for {
		// Wait for exit without reaping, so the watcher can still kill safely.
		err = unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	close(stopWatch)
	<-watchDone
	var ws syscall.WaitStatus
	for {
		_, werr := syscall.Wait4(pid, &ws, 0, nil)
		if !errors.Is(werr, syscall.EINTR) {
			if err == nil {
				err = werr
			}
			break
		}
	}
	if err != nil {
		return stdout, stderr, fmt.Errorf("wait for %s: %w", path, err)
	}
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		return stdout, stderr, nil
	case ws.Signaled() && ctx.Err() != nil:
		return stdout, stderr, fmt.Errorf("%s killed: %w", path, ctx.Err())
	case ws.Signaled():
		return stdout, stderr, fmt.Errorf("%s: signal: %v", path, ws.Signal())
	}
	return stdout, stderr, fmt.Errorf("%s: exit status %d", path, ws.ExitStatus())
}

func readAll(fd int) []byte {
	f := os.NewFile(uintptr(fd), "pipe")
	defer f.Close() //nolint:errcheck // read side
	var b bytes.Buffer
	_, _ = io.Copy(&b, f)
	return b.Bytes()
}

func closeAll(pairs ...[2]int) {
	for _, p := range pairs {
		for _, fd := range p {
			if fd > 0 {
				_ = unix.Close(fd)
			}
		}
	}
}
