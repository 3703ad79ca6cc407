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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	. "github.com/onsi/gomega"
)

// script writes an executable shell script into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFileExecPassesStdinEnvAndStderr(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	// Echoes stdin and an environment variable to stdout, and a line to stderr.
	p := script(t, dir, "echo", `printf '{"stdin":%s,"cmd":"%s"}' "$(cat)" "$CNI_COMMAND"; echo diag >&2`)
	var stderr bytes.Buffer
	e := newFileExec(&stderr)
	big := `{"pad":"` + strings.Repeat("x", 200000) + `"}` // larger than a pipe buffer
	out, err := e.ExecPlugin(context.Background(), p, []byte(big), []string{"CNI_COMMAND=ADD", "PATH=/usr/bin:/bin"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(string(out)).To(Equal(`{"stdin":` + big + `,"cmd":"ADD"}`))
	g.Expect(stderr.String()).To(Equal("diag\n"))
}

// A failing plugin gives the same error as libcni's own RawExec.
func TestFileExecErrorsMatchRawExec(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"json error":        `echo '{"cniVersion":"1.0.0","code":7,"msg":"bad config","details":"no master"}'; exit 1`,
		"stderr only":       `echo 'it broke' >&2; exit 1`,
		"silent":            `exit 3`,
		"garbage on stdout": `echo 'not json'; exit 1`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			p := script(t, dir, strings.ReplaceAll(name, " ", "-"), body)
			env := []string{"PATH=/usr/bin:/bin"}
			_, got := newFileExec(nil).ExecPlugin(context.Background(), p, []byte("{}"), env)
			_, want := (&invoke.RawExec{}).ExecPlugin(context.Background(), p, []byte("{}"), env)
			g.Expect(got).To(HaveOccurred())
			g.Expect(got).To(BeAssignableToTypeOf(&types.Error{}))
			g.Expect(got).To(Equal(want))
		})
	}
}

// A plugin binary held open for writing ("text file busy") is retried, like RawExec does.
func TestFileExecRetriesTextFileBusy(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "busy")
	w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o700)
	g.Expect(err).NotTo(HaveOccurred())
	_, err = w.WriteString("#!/bin/sh\necho '{\"ok\":true}'\n")
	g.Expect(err).NotTo(HaveOccurred())

	waits := 0
	old := textBusyWait
	t.Cleanup(func() { textBusyWait = old })
	textBusyWait = func(context.Context) error {
		waits++
		if waits == 2 {
			return w.Close() // the installer finishes writing
		}
		return nil
	}
	out, err := newFileExec(nil).ExecPlugin(context.Background(), p, nil, []string{"PATH=/usr/bin:/bin"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(strings.TrimSpace(string(out))).To(Equal(`{"ok":true}`))
	g.Expect(waits).To(Equal(2))

	// Busy for good: the attempts run out and the error says why.
	w2, err := os.OpenFile(p, os.O_WRONLY, 0o700)
	g.Expect(err).NotTo(HaveOccurred())
	defer w2.Close() //nolint:errcheck // test cleanup
	waits = 0
	textBusyWait = func(context.Context) error { waits++; return nil }
	_, err = newFileExec(nil).ExecPlugin(context.Background(), p, nil, nil)
	g.Expect(err).To(MatchError(ContainSubstring("text file busy")))
	g.Expect(waits).To(Equal(textBusyRetries))
}

// A delegate that outlives its deadline is killed.
func TestFileExecHonoursTheContext(t *testing.T) {
	g := NewWithT(t)
	p := script(t, t.TempDir(), "hang", `exec sleep 600`)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := newFileExec(nil).ExecPlugin(ctx, p, nil, []string{"PATH=/usr/bin:/bin"})
	g.Expect(err).To(MatchError(ContainSubstring("signal: killed")))
}
