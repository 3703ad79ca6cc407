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
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	. "github.com/onsi/gomega"
)

// buildLean builds plexus-cni (./cni) into dir.
func buildLean(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "plexus-cni")
	cmd := exec.Command("go", "build", "-o", out, "github.com/plexus-net/plexus/cni")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cni: %v\n%s", err, b)
	}
	return out
}

// TestHandOffExecsDirectBinary runs the real plexus-cni binary in the two situations that need
// the API server and checks that plexus-cni-direct (here a recorder standing next to it)
// gets the command with the same stdin and CNI environment, plus the hand-off reason, and that
// its stdout and exit status are the command's. plexus-cni itself must not have written a
// delegate cache (nothing happened on the node before the hand-off).
func TestHandOffExecsDirectBinary(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	lean := buildLean(t, dir)
	rec := filepath.Join(dir, "record")
	script := "#!/bin/sh\ncat > " + rec + ".stdin\nenv > " + rec + ".env\nfor f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done > " + rec + ".fds\n" +
		`echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[]}'` + "\nexit 0\n"
	g.Expect(os.WriteFile(filepath.Join(dir, DirectBinary), []byte(script), 0o700)).To(Succeed())
	cacheDir := filepath.Join(dir, "cache")

	for name, tc := range map[string]struct {
		extra  string
		reason string
	}{
		"no agent configured":   {extra: ``, reason: "direct API mode is needed"},
		"agent does not answer": {extra: `,"agentSocket":"` + filepath.Join(dir, "none.sock") + `"`, reason: "node agent unavailable"},
	} {
		_ = os.Remove(rec + ".stdin")
		conf := `{"cniVersion":"1.0.0","name":"plexus","type":"plexus-cni","clusterNetwork":"/nonexistent.conflist",` +
			`"kubeconfig":"/nonexistent/kubeconfig","cniDir":"` + cacheDir + `"` + tc.extra + `}`
		cmd := exec.Command(lean)
		cmd.Env = []string{"CNI_COMMAND=ADD", "CNI_CONTAINERID=c1", "CNI_NETNS=/var/run/netns/none", "CNI_IFNAME=eth0",
			"CNI_PATH=" + dir, "CNI_ARGS=K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p"}
		cmd.Stdin = strings.NewReader(conf)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		g.Expect(cmd.Run()).To(Succeed(), name+": "+stderr.String())
		g.Expect(stdout.String()).To(ContainSubstring(`"interfaces":[{"name":"eth0"}]`), name)
		stdin, err := os.ReadFile(rec + ".stdin")
		g.Expect(err).NotTo(HaveOccurred(), name)
		g.Expect(string(stdin)).To(Equal(conf), name)
		env, err := os.ReadFile(rec + ".env")
		g.Expect(err).NotTo(HaveOccurred(), name)
		g.Expect(string(env)).To(ContainSubstring("CNI_COMMAND=ADD"), name)
		g.Expect(string(env)).To(ContainSubstring("CNI_ARGS=K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p"), name)
		g.Expect(string(env)).To(MatchRegexp(HandOffEnv+"=.*"+tc.reason), name)
		fds, err := os.ReadFile(rec + ".fds")
		g.Expect(err).NotTo(HaveOccurred(), name)
		g.Expect(strings.Count(string(fds), "memfd:")).To(Equal(1), "%s: only fd 0 carries the replayed stdin:\n%s", name, fds)
		g.Expect(string(fds)).To(MatchRegexp(`(?m)^0 /memfd:plexus-cni-stdin`), name)
		_, err = os.Stat(filepath.Join(cacheDir, "delegates", "c1.json"))
		g.Expect(os.IsNotExist(err)).To(BeTrue(), name+": plexus-cni wrote a cache before handing off")
	}

	// Without plexus-cni-direct the command fails with "try again later", naming what is missing.
	g.Expect(os.Remove(filepath.Join(dir, DirectBinary))).To(Succeed())
	cmd := exec.Command(lean)
	cmd.Env = []string{"CNI_COMMAND=ADD", "CNI_CONTAINERID=c2", "CNI_NETNS=/var/run/netns/none", "CNI_IFNAME=eth0", "CNI_PATH=" + dir}
	cmd.Stdin = strings.NewReader(`{"cniVersion":"1.0.0","name":"plexus","type":"plexus-cni","clusterNetwork":"/x.conflist","kubeconfig":"/k","cniDir":"` + cacheDir + `"}`)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	g.Expect(cmd.Run()).To(HaveOccurred())
	var cniErr types.Error
	g.Expect(json.Unmarshal(stdout.Bytes(), &cniErr)).To(Succeed(), stdout.String())
	g.Expect(cniErr.Code).To(Equal(uint(types.ErrTryAgainLater)))
	g.Expect(cniErr.Msg).To(ContainSubstring(DirectBinary + " is not installed"))
}

// TestNoHandOffWithoutAPI: without a kubeconfig or an in-cluster environment plexus-cni
// resolves file-based networks itself and never hands off.
func TestNoHandOffWithoutAPI(t *testing.T) {
	g := NewWithT(t)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	var handedOff bool
	p := &Plugin{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{},
		HandOff: func(*skel.CmdArgs, string) error { handedOff = true; return nil }}
	dir := t.TempDir()
	args := &skel.CmdArgs{ContainerID: "c1", Netns: "/var/run/netns/none", IfName: "eth0", Path: dir,
		StdinData: []byte(`{"cniVersion":"1.0.0","name":"plexus","type":"plexus-cni","clusterNetwork":"` + filepath.Join(dir, "missing.conflist") + `","cniDir":"` + dir + `"}`)}
	err := p.CmdAdd(args)
	g.Expect(handedOff).To(BeFalse())
	g.Expect(err).To(MatchError(ContainSubstring("missing.conflist")), "resolved locally: the cluster network file is missing")

	// With a kubeconfig, the same command is handed off, and the injected hand-off's result is the command's.
	args.StdinData = []byte(`{"cniVersion":"1.0.0","name":"plexus","type":"plexus-cni","clusterNetwork":"x","kubeconfig":"/k","cniDir":"` + dir + `"}`)
	g.Expect(p.CmdAdd(args)).To(Succeed())
	g.Expect(handedOff).To(BeTrue())
}
