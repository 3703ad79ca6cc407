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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	"golang.org/x/sys/unix"
)

// fileExec is the invoke.Exec plexus-cni runs its delegates with. It gives each plugin
// memory files (memfd) as stdin, stdout and stderr instead of pipes: os/exec then starts
// no copying goroutines and registers nothing with the poller, which saves about 0.1 ms of
// CPU and a few tens of microseconds of wall time per delegate on the test machine
// (docs/meta-plugin.md). Everything else is libcni's: plugin lookup, VERSION decoding, the
// "text file busy" retry and the error a failing plugin produces. Where no anonymous file
// can be made at all it falls back to libcni's RawExec.
type fileExec struct {
	raw invoke.RawExec
	version.PluginDecoder
}

var _ invoke.Exec = (*fileExec)(nil)

func newFileExec(stderr io.Writer) *fileExec {
	return &fileExec{raw: invoke.RawExec{Stderr: stderr}}
}

// FindInPath implements invoke.Exec.
func (e *fileExec) FindInPath(plugin string, paths []string) (string, error) {
	return e.raw.FindInPath(plugin, paths)
}

// textBusyRetries is RawExec's: a plugin binary being written (the agent installs with
// rename, other installers may not) is retried five times, a second apart.
const textBusyRetries = 5

// textBusyWait waits before the next attempt; tests replace it.
var textBusyWait = func(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Second):
		return nil
	}
}

// ExecPlugin implements invoke.Exec.
func (e *fileExec) ExecPlugin(ctx context.Context, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	stdin, err := memFile("cni-stdin", stdinData)
	if err != nil {
		return e.raw.ExecPlugin(ctx, pluginPath, stdinData, environ)
	}
	defer stdin.Close() //nolint:errcheck // read-only use
	stdout, err := memFile("cni-stdout", nil)
	if err != nil {
		return e.raw.ExecPlugin(ctx, pluginPath, stdinData, environ)
	}
	defer stdout.Close() //nolint:errcheck // read-only use
	stderr, err := memFile("cni-stderr", nil)
	if err != nil {
		return e.raw.ExecPlugin(ctx, pluginPath, stdinData, environ)
	}
	defer stderr.Close() //nolint:errcheck // read-only use

	for attempt := 0; ; attempt++ {
		cmd := exec.CommandContext(ctx, pluginPath)
		cmd.Env = environ
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
		err = cmd.Run()
		if err == nil || attempt == textBusyRetries || !errors.Is(err, syscall.ETXTBSY) {
			break
		}
		if err := textBusyWait(ctx); err != nil {
			return nil, err
		}
	}
	out, rerr := readAll(stdout)
	errOut, _ := readAll(stderr) // informational only
	if err != nil {
		return nil, pluginError(err, out, errOut)
	}
	if rerr != nil {
		return nil, fmt.Errorf("failed to read the output of %s: %w", pluginPath, rerr)
	}
	if len(errOut) > 0 && e.raw.Stderr != nil {
		_, _ = e.raw.Stderr.Write(errOut) // as RawExec: stderr is passed on, best effort
	}
	return out, nil
}

// memFile is an anonymous file holding data, positioned at its start: a memfd, or an
// unlinked temp file where memfd_create is refused.
func memFile(name string, data []byte) (*os.File, error) {
	var f *os.File
	if fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC); err == nil {
		f = os.NewFile(uintptr(fd), name)
	} else {
		t, terr := os.CreateTemp("", name+"-")
		if terr != nil {
			return nil, fmt.Errorf("memfd_create: %w; temp file: %w", err, terr)
		}
		_ = os.Remove(t.Name()) // unlinked: gone once closed
		f = t
	}
	if len(data) > 0 {
		if _, err := f.Write(data); err != nil {
			_ = f.Close() // failing anyway
			return nil, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			_ = f.Close() // failing anyway
			return nil, err
		}
	}
	return f, nil
}

// readAll reads what a plugin wrote into f.
func readAll(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// pluginError is the error of a failed plugin, as libcni's RawExec builds it: the plugin's
// JSON error from stdout, else its stderr, else the exit status.
func pluginError(err error, stdout, stderr []byte) error {
	msg := types.Error{}
	switch {
	case len(stdout) == 0 && len(stderr) == 0:
		msg.Msg = fmt.Sprintf("netplugin failed with no error message: %v", err)
	case len(stdout) == 0:
		msg.Msg = fmt.Sprintf("netplugin failed: %q", string(stderr))
	default:
		if perr := json.Unmarshal(stdout, &msg); perr != nil {
			msg.Msg = fmt.Sprintf("netplugin failed but error parsing its diagnostic message %q: %v", string(stdout), perr)
		}
	}
	return &msg
}
