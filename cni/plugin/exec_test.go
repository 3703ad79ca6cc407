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
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	. "github.com/onsi/gomega"
)

func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestForkExecMatchesRawExec runs the same plugins through forkExec and libcni's RawExec and
// expects the same output and the same decoded errors.
func TestForkExecMatchesRawExec(t *testing.T) {
	g := NewWithT(t)
	big := strings.Repeat("x", 256<<10) // larger than a pipe buffer, both ways
	cases := map[string]struct {
		body  string
		stdin string
	}{
		"stdin echoed with env":  {body: `cat; echo "$CNI_COMMAND"`, stdin: `{"cniVersion":"1.0.0"}`},
		"large stdin and stdout": {body: `cat`, stdin: big},
		"CNI error on stdout":    {body: `cat >/dev/null; echo '{"cniVersion":"1.0.0","code":7,"msg":"bad config","details":"d"}'; exit 1`},
		"stderr only":            {body: `echo oops >&2; exit 3`},
		"no output":              {body: `exit 4`},
		"unparsable stdout":      {body: `echo not-json; exit 1`},
	}
	for name, tc := range cases {
		path := script(t, tc.body)
		env := []string{"CNI_COMMAND=ADD", "PATH=/usr/bin:/bin"}
		var fe, re bytes.Buffer
		f := &forkExec{RawExec: invoke.RawExec{Stderr: &fe}}
		r := &invoke.RawExec{Stderr: &re}
		gotOut, gotErr := f.ExecPlugin(context.Background(), path, []byte(tc.stdin), env)
		wantOut, wantErr := r.ExecPlugin(context.Background(), path, []byte(tc.stdin), env)
		g.Expect(gotOut).To(Equal(wantOut), name)
		g.Expect(fe.String()).To(Equal(re.String()), name)
		if wantErr == nil {
			g.Expect(gotErr).NotTo(HaveOccurred(), name)
			continue
		}
		var gotCNI, wantCNI *types.Error
		g.Expect(errors.As(gotErr, &gotCNI)).To(BeTrue(), name)
		g.Expect(errors.As(wantErr, &wantCNI)).To(BeTrue(), name)
		g.Expect(gotCNI.Code).To(Equal(wantCNI.Code), name)
		if name != "no output" { // RawExec's message carries os/exec's wording of the exit status
			g.Expect(gotCNI.Msg).To(Equal(wantCNI.Msg), name)
		}
		g.Expect(gotCNI.Details).To(Equal(wantCNI.Details), name)
	}
}

// TestForkExecKillsOnContextEnd: a delegate outliving its deadline is killed and reaped.
func TestForkExecKillsOnContextEnd(t *testing.T) {
	g := NewWithT(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	path := script(t, "echo $$ > "+pidFile+"; exec sleep 60")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := newForkExec().ExecPlugin(ctx, path, nil, []string{"PATH=/usr/bin:/bin"})
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(ContainSubstring("context deadline exceeded"))
	b, rerr := os.ReadFile(pidFile)
	g.Expect(rerr).NotTo(HaveOccurred())
	var pid int
	for _, c := range strings.TrimSpace(string(b)) {
		pid = pid*10 + int(c-'0')
	}
	// Reaped: the pid no longer exists (not even as a zombie of this process).
	g.Expect(syscall.Kill(pid, 0)).To(MatchError(syscall.ESRCH))
}

// TestForkExecMissingBinary reports the path like libcni does.
func TestForkExecMissingBinary(t *testing.T) {
	g := NewWithT(t)
	_, err := newForkExec().ExecPlugin(context.Background(), "/nonexistent/plugin", nil, nil)
	var cniErr *types.Error
	g.Expect(errors.As(err, &cniErr)).To(BeTrue())
	g.Expect(cniErr.Msg).To(ContainSubstring("/nonexistent/plugin"))
}
