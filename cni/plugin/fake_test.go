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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/netattach"
)

// call is one delegate execution seen by fakeExec.
type call struct {
	Command string
	Type    string
	IfName  string
	Args    string
	NetNS   string
	Stdin   map[string]any
}

// fakeExec implements invoke.Exec: it records every call and answers from a script.
type fakeExec struct {
	mu    sync.Mutex
	calls []call
	// fail maps "COMMAND type ifname" to the error to return.
	fail map[string]error
}

func (f *fakeExec) ExecPlugin(_ context.Context, pluginPath string, stdin []byte, environ []string) ([]byte, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	var conf map[string]any
	if err := json.Unmarshal(stdin, &conf); err != nil {
		return nil, fmt.Errorf("fakeExec: bad stdin: %w", err)
	}
	c := call{Command: env["CNI_COMMAND"], Type: filepath.Base(pluginPath), IfName: env["CNI_IFNAME"],
		Args: env["CNI_ARGS"], NetNS: env["CNI_NETNS"], Stdin: conf}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	err := f.fail[c.Command+" "+c.Type+" "+c.IfName]
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if c.Command != "ADD" {
		return nil, nil
	}
	if prev, ok := conf["prevResult"]; ok { // chained plugin: pass the result on
		return json.Marshal(prev)
	}
	ver, _ := conf["cniVersion"].(string)
	n := len(f.calls)
	res := map[string]any{
		"cniVersion": ver,
		"interfaces": []any{map[string]any{"name": c.IfName, "mac": fmt.Sprintf("02:00:00:00:00:%02x", n), "sandbox": c.NetNS}},
		"ips":        []any{map[string]any{"address": fmt.Sprintf("10.%d.0.5/24", n), "gateway": fmt.Sprintf("10.%d.0.1", n), "interface": 0}},
		"routes":     []any{map[string]any{"dst": "0.0.0.0/0", "gw": fmt.Sprintf("10.%d.0.1", n)}},
	}
	if ver == "0.3.1" || ver == "0.4.0" {
		res["ips"].([]any)[0].(map[string]any)["version"] = "4"
	}
	return json.Marshal(res)
}

func (f *fakeExec) FindInPath(plugin string, _ []string) (string, error) {
	return "/fake/" + plugin, nil
}

func (f *fakeExec) Decode(_ []byte) (version.PluginInfo, error) { return version.All, nil }

func (f *fakeExec) summary(cmd string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if cmd == "" || c.Command == cmd {
			out = append(out, c.Command+" "+c.Type+" "+c.IfName)
		}
	}
	return out
}

func (f *fakeExec) find(cmd, typ, ifName string) *call {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.calls {
		c := &f.calls[i]
		if c.Command == cmd && c.Type == typ && c.IfName == ifName {
			return c
		}
	}
	return nil
}

// fakeSource is an in-memory resolve.Source.
type fakeSource struct {
	pods map[string]*resolve.Pod
	nads map[string]*netattach.NetworkAttachmentDefinition
	down bool
}

func (s *fakeSource) GetPod(_ context.Context, ns, name string) (*resolve.Pod, error) {
	if s.down {
		return nil, fmt.Errorf("connection refused")
	}
	if p, ok := s.pods[ns+"/"+name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("pod %s/%s: %w", ns, name, resolve.ErrNotFound)
}

func (s *fakeSource) GetNAD(_ context.Context, ns, name string) (*netattach.NetworkAttachmentDefinition, error) {
	if s.down {
		return nil, fmt.Errorf("connection refused")
	}
	if n, ok := s.nads[ns+"/"+name]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("nad %s/%s: %w", ns, name, resolve.ErrNotFound)
}

type fakeDevices map[string][]string

func (d fakeDevices) DeviceIDs(context.Context, string, string) (map[string][]string, error) {
	return d, nil
}

// fakeSink records status reports.
type fakeSink struct {
	mu      sync.Mutex
	reports []*api.StatusReport
}

func (s *fakeSink) Report(_ context.Context, _ api.PodRef, r *api.StatusReport) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports = append(s.reports, r)
	return nil
}

func (s *fakeSink) events() []api.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []api.Event
	for _, r := range s.reports {
		out = append(out, r.Events...)
	}
	return out
}

func (s *fakeSink) status() []netattach.NetworkStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.reports {
		if r.NetworkStatus != nil {
			return r.NetworkStatus
		}
	}
	return nil
}

// env is one test's plugin, fakes and directories.
type env struct {
	t       *testing.T
	dir     string
	exec    *fakeExec
	source  *fakeSource
	devices fakeDevices
	sink    *fakeSink
	plugin  *Plugin
	stdout  *bytes.Buffer
	stderr  *bytes.Buffer
	conf    map[string]any
	routes  [][]RouteChange
}

func newEnv(t *testing.T, cniVersion string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, exec: &fakeExec{fail: map[string]error{}}, sink: &fakeSink{},
		source: &fakeSource{pods: map[string]*resolve.Pod{}, nads: map[string]*netattach.NetworkAttachmentDefinition{}},
		stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, devices: fakeDevices{}}
	clusterConf := filepath.Join(dir, "net.d", "10-cluster.conflist")
	if err := os.MkdirAll(filepath.Dir(clusterConf), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(clusterConf, []byte(`{"cniVersion":"`+cniVersion+`","name":"cluster","plugins":[
		{"type":"ptp","capabilities":{"portMappings":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e.conf = map[string]any{
		"cniVersion": cniVersion, "name": "plexus", "type": "plexus-cni",
		"clusterNetwork": clusterConf, "cniDir": filepath.Join(dir, "cache"), "confDir": filepath.Join(dir, "nads"),
		"deviceInfoDir": filepath.Join(dir, "devinfo"), "logLevel": "debug",
		"runtimeConfig": map[string]any{"portMappings": []any{map[string]any{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}},
			"bandwidth": map[string]any{"ingressRate": 1}},
	}
	e.plugin = &Plugin{
		Exec:   e.exec,
		Stdout: e.stdout,
		Stderr: e.stderr,
		NewResolver: func(_ context.Context, conf *NetConf) (api.Resolver, api.StatusSink, error) {
			return &resolve.Resolver{Source: e.source, Devices: e.devices, Opts: conf.ResolveOptions()}, e.sink, nil
		},
		DefaultRoutes: func(_ string, plan []RouteChange) error {
			e.routes = append(e.routes, plan)
			return nil
		},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin log:\n%s", e.stderr)
		}
	})
	return e
}

func (e *env) addPod(ns, name, uid string, annotations map[string]string) {
	e.source.pods[ns+"/"+name] = &resolve.Pod{Namespace: ns, Name: name, UID: uid, Annotations: annotations}
}

func (e *env) addNAD(ns, name, config string, annotations map[string]string) {
	e.source.nads[ns+"/"+name] = &netattach.NetworkAttachmentDefinition{Namespace: ns, Name: name, Config: config, Annotations: annotations}
}

func (e *env) args(containerID, ns, pod, uid string) *skel.CmdArgs {
	stdin, err := json.Marshal(e.conf)
	if err != nil {
		e.t.Fatal(err)
	}
	cniArgs := ""
	if pod != "" {
		cniArgs = fmt.Sprintf("K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s", ns, pod, containerID, uid)
	}
	return &skel.CmdArgs{ContainerID: containerID, Netns: "/var/run/netns/" + containerID, IfName: "eth0",
		Args: cniArgs, Path: "/opt/cni/bin", StdinData: stdin}
}

func (e *env) cacheExists(containerID string) bool {
	_, err := os.Stat(filepath.Join(e.dir, "cache", "delegates", containerID+".json"))
	return err == nil
}

// typedErr returns the *types.Error inside err, if any.
func typedErr(err error) *types.Error {
	var te *types.Error
	if errors.As(err, &te) {
		return te
	}
	return nil
}
