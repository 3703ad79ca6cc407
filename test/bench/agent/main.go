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

// Command agent benchmarks plexus-cni through the node agent against direct API mode and the
// delegates alone. It starts a real API server (envtest: etcd + kube-apiserver), the real agent
// binary (informers, unix socket, journal, status writer) for one node, and execs bin/plexus-cni
// like a runtime does, with real reference plugins in test network namespaces:
//
//   - per-ADD latency at 1, 4 and 16 attachments: agent mode, direct mode (the same API server),
//     and the same delegates through libcni; overhead = plexus-cni wall − its delegates' wall
//     (from its timing log), and the API requests plexus-cni made;
//   - 100 concurrent pod ADDs on one node through the agent vs the same delegates alone;
//   - the agent's RSS with 100+ pods on its node and 400 elsewhere.
//
// Run as root: go run ./test/bench/agent (make bench). Figures are printed, nothing is asserted.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/plexus-net/plexus/internal/agent"
	"github.com/plexus-net/plexus/internal/benchutil"
)

var (
	sizes     = flag.String("attachments", "1,4,16", "attachment counts (cluster network included)")
	iters     = flag.Int("iters", 30, "measured ADD/DEL iterations per size and mode")
	burst     = flag.Int("burst", 100, "concurrent pod ADDs on one node")
	noise     = flag.Int("noise-pods", 400, "pods on other nodes (the agent must not cache them)")
	rounds    = flag.Int("burst-rounds", 3, "alternating rounds of the concurrent burst")
	keepAgent = flag.Bool("agent-log", false, "print the agent's log at the end")
	verbose   = flag.Bool("v", false, "print plexus-cni's timing line of the last ADD per size")
	compare   = flag.String("compare", "", "a second plexus-cni binary: agent mode is measured with both, alternately (A/B of two builds)")
)

const nodeName = "bench-node"

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	root, work          string
	plexus, agentBin    string
	plugins             string
	hostNS, podNS       ns.NetNS
	client              client.Client
	kubeconfig          string
	clusterConf, mvConf string
	agentCmd            *exec.Cmd
	agentLog            *bytes.Buffer
	socket              string
}

func run() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, links)")
	}
	b := &bench{}
	var err error
	if b.root, err = repoRoot(); err != nil {
		return err
	}
	if b.work, err = os.MkdirTemp("", "plexus-agent-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.work) //nolint:errcheck // best effort
	if err := b.build(); err != nil {
		return err
	}
	env, err := b.startAPI()
	if err != nil {
		return err
	}
	defer env.Stop() //nolint:errcheck // best effort
	if b.hostNS, err = testutils.NewNS(); err != nil {
		return err
	}
	defer func() { _ = b.hostNS.Close(); _ = testutils.UnmountNS(b.hostNS) }()
	if b.podNS, err = testutils.NewNS(); err != nil {
		return err
	}
	defer func() { _ = b.podNS.Close(); _ = testutils.UnmountNS(b.podNS) }()
	if err := b.hostNS.Do(func(ns.NetNS) error { return setupHostNS() }); err != nil {
		return err
	}
	if err := b.proxyAPI(); err != nil {
		return err
	}
	if err := b.objects(); err != nil {
		return err
	}
	if err := b.startAgent(); err != nil {
		return err
	}
	defer b.stopAgent()

	fmt.Printf("plexus-cni and agent built from %s; real kube-apiserver (envtest); %d pods elsewhere in the cluster\n", b.root, *noise)
	fmt.Println("ovh = plexus-cni wall - its delegates' wall (its timing log); API = API requests plexus-cni made to resolve")
	fmt.Println("resolve, cache, status: p50 of plexus-cni's own phases (agent or API round trip, cache write, status hand-off)")
	fmt.Printf("%-7s %4s | %9s %9s | %9s %9s | %9s | %4s | %9s %9s %9s\n", "mode", "att", "ADD p50", "ADD p99", "ovh p50", "ovh p99", "direct50", "API",
		"resolve", "cache", "status")
	for _, s := range strings.Split(*sizes, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("bad size %q", s)
		}
		for _, mode := range []string{"agent", "direct"} {
			rs, err := b.measure(mode, n)
			if err != nil {
				return fmt.Errorf("%s %d: %w", mode, n, err)
			}
			for k, r := range rs {
				label := mode
				if len(rs) > 1 {
					label = fmt.Sprintf("%s %c", mode, 'A'+k)
				}
				fmt.Printf("%-7s %4d | %9s %9s | %9s %9s | %9s | %4.1f | %9s %9s %9s\n", label, n, benchutil.MS(r.add.P(50)), benchutil.MS(r.add.P(99)),
					benchutil.MS(r.ovh.P(50)), benchutil.MS(r.ovh.P(99)), benchutil.MS(r.direct.P(50)), r.api,
					benchutil.MS(r.phases["resolve"].P(50)), benchutil.MS(r.phases["cache"].P(50)), benchutil.MS(r.phases["status"].P(50)))
				if *verbose {
					fmt.Printf("        last ADD: %s\n", r.lastTiming)
				}
			}
		}
	}
	fmt.Println()
	cpu0 := procCPU(b.agentCmd.Process.Pid)
	if err := b.burstBench(); err != nil {
		return err
	}
	adds := *burst * *rounds * 2 // an ADD and a DEL per pod per round
	fmt.Printf("agent CPU during the burst rounds: %s for %d plexus-cni invocations (%.2fms each)\n",
		benchutil.MS(procCPU(b.agentCmd.Process.Pid)-cpu0), adds, float64(procCPU(b.agentCmd.Process.Pid)-cpu0)/1e6/float64(adds))
	rss, hwm := procStatus(b.agentCmd.Process.Pid, "VmRSS"), procStatus(b.agentCmd.Process.Pid, "VmHWM")
	fmt.Printf("\nagent memory: RSS %s, peak RSS %s (%d pods on its node, %d elsewhere, 1 NAD)\n", rss, hwm, *burst+len(strings.Split(*sizes, ",")), *noise)
	if *keepAgent {
		fmt.Println(b.agentLog.String())
	}
	return nil
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func (b *bench) build() error {
	b.plugins = filepath.Join(b.work, "plugins")
	b.plexus = filepath.Join(b.plugins, "plexus-cni")
	b.agentBin = filepath.Join(b.work, "agent")
	gobuild := func(args ...string) error {
		cmd := exec.Command("go", append([]string{"build", "-ldflags", "-s -w"}, args...)...)
		cmd.Dir = b.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %v: %w\n%s", args, err, out)
		}
		return nil
	}
	if err := gobuild("-o", b.plexus, "./cni"); err != nil {
		return err
	}
	// plexus-cni hands direct-mode commands to plexus-cni-direct, installed next to it.
	if err := gobuild("-o", filepath.Join(b.plugins, "plexus-cni-direct"), "./cni/direct"); err != nil {
		return err
	}
	if err := gobuild("-o", b.agentBin, "./cmd/agent"); err != nil {
		return err
	}
	args := []string{"-o", b.plugins + "/"}
	for _, p := range []string{"main/bridge", "main/macvlan", "ipam/host-local", "meta/tuning"} {
		args = append(args, "github.com/containernetworking/plugins/plugins/"+p)
	}
	return gobuild(args...)
}

func (b *bench) startAPI() (*envtest.Environment, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(b.root, "bin", "k8s")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(b.root, "config", "crd", "bases"), filepath.Join(b.root, "config", "nad")},
		ErrorIfCRDPathMissing: true, BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("envtest: %w", err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	if b.client, err = client.New(cfg, client.Options{Scheme: agent.Scheme()}); err != nil {
		return env, err
	}
	user, err := env.AddUser(envtest.User{Name: "bench-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return env, err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return env, err
	}
	b.kubeconfig = filepath.Join(b.work, "kubeconfig")
	return env, os.WriteFile(b.kubeconfig, kc, 0o600)
}

// proxyAPI makes the API server reachable as 127.0.0.1:<port> inside the test host netns,
// where plexus-cni runs: a TCP relay listening in the netns, dialling the real loopback. TLS
// passes through untouched (the serving certificate is for 127.0.0.1).
func (b *bench) proxyAPI() error {
	kc, err := os.ReadFile(b.kubeconfig)
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`https://127\.0\.0\.1:(\d+)`).FindSubmatch(kc)
	if m == nil {
		return fmt.Errorf("no loopback server in the envtest kubeconfig")
	}
	target := "127.0.0.1:" + string(m[1])
	var l net.Listener
	if err := b.hostNS.Do(func(ns.NetNS) error {
		var err error
		l, err = net.Listen("tcp", target)
		return err
	}); err != nil {
		return fmt.Errorf("listen in the test netns: %w", err)
	}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close() //nolint:errcheck // relay
				out, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer out.Close() //nolint:errcheck // relay
				go func() { _, _ = io.Copy(out, in) }()
				_, _ = io.Copy(in, out)
			}()
		}
	}()
	return nil
}

func setupHostNS() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return err
	}
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "uplink0"}, PeerName: "uplink0p"}); err != nil {
		return err
	}
	for _, n := range []string{"uplink0", "uplink0p"} {
		l, err := netlink.LinkByName(n)
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return err
		}
	}
	return nil
}

func annotation(n int) string {
	var names []string
	for range n - 1 {
		names = append(names, "mv")
	}
	return strings.Join(names, ",")
}

// objects creates the node, the NAD, the pods of this node and the noise pods elsewhere.
func (b *bench) objects() error {
	ctx := context.Background()
	confDir := filepath.Join(b.work, "net.d")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return err
	}
	b.clusterConf = filepath.Join(confDir, "10-cluster.conflist")
	cluster := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"cluster","plugins":[{"type":"bridge","bridge":"cl0","isGateway":true,
		"ipam":{"type":"host-local","subnet":"10.88.0.0/16","dataDir":%q}}]}`, filepath.Join(b.work, "ipam-cluster"))
	if err := os.WriteFile(b.clusterConf, []byte(cluster), 0o600); err != nil {
		return err
	}
	b.mvConf = fmt.Sprintf(`{"cniVersion":"1.0.0","name":"mv","plugins":[{"type":"macvlan","master":"uplink0","mode":"bridge",
		"ipam":{"type":"host-local","subnet":"10.90.0.0/16","dataDir":%q}},{"type":"tuning","sysctl":{"net.ipv4.conf.IFNAME.arp_filter":"1"}}]}`,
		filepath.Join(b.work, "ipam-mv"))
	objs := []client.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}},
		&nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: "mv"},
			Spec: nadv1.NetworkAttachmentDefinitionSpec{Config: b.mvConf}},
	}
	pod := func(name, node, ann string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: name,
			Annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": ann}},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "plexus.local/testpod:latest"}}}}
	}
	for _, s := range strings.Split(*sizes, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			objs = append(objs, pod(fmt.Sprintf("size-%d", n), nodeName, annotation(n)))
		}
	}
	for i := range *burst {
		objs = append(objs, pod(fmt.Sprintf("burst-%03d", i), nodeName, "mv"))
	}
	for i := range *noise {
		objs = append(objs, pod(fmt.Sprintf("elsewhere-%03d", i), fmt.Sprintf("other-%d", i%20), "mv"))
	}
	for _, o := range objs {
		if err := b.client.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

func (b *bench) startAgent() error {
	b.socket = filepath.Join(b.work, "run", "agent.sock")
	ready := filepath.Join(b.work, "ready")
	b.agentLog = &bytes.Buffer{}
	b.agentCmd = exec.Command(b.agentBin, "--node-name="+nodeName, "--plugins-dir="+b.plugins,
		"--cni-bin-dir="+filepath.Join(b.work, "bin"), "--cni-conf-dir="+filepath.Join(b.work, "net.d"),
		"--cni-cache-dir="+filepath.Join(b.work, "cache"), "--state-dir="+filepath.Join(b.work, "state"),
		"--run-dir="+filepath.Dir(b.socket), "--ready-file="+ready, "--api-server=")
	b.agentCmd.Env = append(os.Environ(), "KUBECONFIG="+b.kubeconfig)
	b.agentCmd.Stdout, b.agentCmd.Stderr = b.agentLog, b.agentLog
	if err := b.agentCmd.Start(); err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agent not ready after 60s:\n%s", b.agentLog)
		}
		time.Sleep(50 * time.Millisecond) // polling a file another process writes
	}
}

func (b *bench) stopAgent() {
	_ = b.agentCmd.Process.Signal(syscall.SIGTERM) // best effort
	_ = b.agentCmd.Wait()
}

// conf is plexus-cni's configuration for a mode, as a runtime passes it (one plugin of the
// published conflist, cniVersion and name injected).
func (b *bench) conf(mode string) ([]byte, string, error) {
	logFile := filepath.Join(b.work, "plexus-"+mode+".log")
	c := map[string]any{"cniVersion": "1.0.0", "name": "plexus", "type": "plexus-cni", "clusterNetwork": b.clusterConf,
		"cniDir": filepath.Join(b.work, "cache-"+mode), "binDir": b.plugins, "logLevel": "verbose", "logFile": logFile,
		"confDir": filepath.Join(b.work, "net.d"), "podResourcesSocket": filepath.Join(b.work, "none.sock")}
	switch mode {
	case "agent":
		c["agentSocket"] = b.socket // no kubeconfig at all: plexus-cni cannot reach the API
	case "direct":
		c["kubeconfig"] = b.kubeconfig
	case "local":
		// No agent, no API: the same delegates from files (cluster + defaultNetworks), to
		// separate plexus-cni's own cost from the agent round trips.
		mvPath := filepath.Join(b.work, "mv.conflist")
		if err := os.WriteFile(mvPath, []byte(b.mvConf), 0o600); err != nil {
			return nil, "", err
		}
		c["defaultNetworks"] = []string{mvPath}
		c["systemNamespaces"] = []string{}
	}
	out, err := json.Marshal(c)
	return out, logFile, err
}

type result struct {
	add, ovh, direct benchutil.Samples
	// phases are plexus-cni's own ADD phases (resolve, cache, status) from its timing lines.
	phases     map[string]benchutil.Samples
	api        float64
	lastTiming string
}

var apiRe = regexp.MustCompile(`Resolved \d+ attachments \((\d+) API requests\)`)

func k8sArgs(pod, id string) string {
	return "IgnoreUnknown=true;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=" + pod + ";K8S_POD_INFRA_CONTAINER_ID=" + id
}

// exec runs plexus-cni once in the host netns, returns its wall time and its log.
func (b *bench) exec(binary, command, pod, id string, netns ns.NetNS, stdin []byte, logFile string) (time.Duration, string, error) {
	if err := os.Truncate(logFile, 0); err != nil && !os.IsNotExist(err) {
		return 0, "", err
	}
	wall, err := benchutil.Exec(b.hostNS, benchutil.CNICall{Binary: binary, Command: command, ContainerID: id,
		Netns: netns.Path(), Args: k8sArgs(pod, id), Path: b.plugins, Stdin: stdin})
	log, _ := os.ReadFile(logFile)
	return wall, string(log), err
}

// measure runs mode with n attachments; with binary B as well (agent mode and -compare),
// the two binaries take turns every iteration and the second result is B's.
func (b *bench) measure(mode string, n int) ([]*result, error) {
	binaries := []string{b.plexus}
	if mode == "agent" && *compare != "" {
		binaries = append(binaries, *compare)
	}
	stdin, logFile, err := b.conf(mode)
	if err != nil {
		return nil, err
	}
	cluster, err := libcni.NetworkConfFromBytes(must(os.ReadFile(b.clusterConf)))
	if err != nil {
		return nil, err
	}
	mv, err := libcni.NetworkConfFromBytes([]byte(b.mvConf))
	if err != nil {
		return nil, err
	}
	direct := libcni.NewCNIConfigWithCacheDir([]string{b.plugins}, filepath.Join(b.work, "direct-cache"), nil)
	pod := fmt.Sprintf("size-%d", n)
	results := make([]*result, len(binaries))
	apiTotal := make([]int, len(binaries))
	for k := range results {
		results[k] = &result{phases: map[string]benchutil.Samples{}}
	}
	for i := range *iters + 1 {
		for turn := range binaries {
			k := (turn + i) % len(binaries)
			id := fmt.Sprintf("%s-%d-%d-%d", mode, n, k, i)
			wall, log, err := b.exec(binaries[k], "ADD", pod, id, b.podNS, stdin, logFile)
			if err != nil {
				return nil, err
			}
			if _, _, err := b.exec(binaries[k], "DEL", pod, id, b.podNS, stdin, logFile); err != nil {
				return nil, err
			}
			if i == 0 {
				continue // warm-up
			}
			t, err := benchutil.LastTiming(log)
			if err != nil {
				return nil, err
			}
			r := results[k]
			r.lastTiming = t.Line
			for name, v := range t.Phases {
				r.phases[name] = append(r.phases[name], v)
			}
			if a := apiRe.FindStringSubmatch(log); a != nil {
				v, _ := strconv.Atoi(a[1])
				apiTotal[k] += v
			}
			r.add = append(r.add, wall)
			r.ovh = append(r.ovh, wall-t.Delegates)
		}
		d, err := b.directAddDel(direct, fmt.Sprintf("d%s-%d-%d", mode, n, i), b.podNS, cluster, mv, n)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			continue
		}
		for _, r := range results {
			r.direct = append(r.direct, d)
		}
	}
	for k, r := range results {
		r.api = float64(apiTotal[k]) / float64(*iters)
	}
	return results, nil
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// directAddDel runs the same delegates through libcni and returns the ADD wall time.
func (b *bench) directAddDel(c *libcni.CNIConfig, id string, netns ns.NetNS, cluster, mv *libcni.NetworkConfigList, n int) (time.Duration, error) {
	rt := func(ifName string) *libcni.RuntimeConf {
		return &libcni.RuntimeConf{ContainerID: id, NetNS: netns.Path(), IfName: ifName}
	}
	d := benchutil.Direct{CNI: c, HostNS: b.hostNS, Cluster: cluster, Secondary: mv}
	add, err := d.Add(context.Background(), rt, n)
	if err != nil {
		return 0, err
	}
	_, err = d.Del(context.Background(), rt, n)
	return add, err
}

// burstBench runs *burst concurrent ADDs (2 attachments each) through the agent and the same
// delegates alone, in alternating rounds, each in its own pod netns.
func (b *bench) burstBench() error {
	netnss := make([]ns.NetNS, *burst)
	for i := range netnss {
		n, err := testutils.NewNS()
		if err != nil {
			return err
		}
		netnss[i] = n
		defer func() { _ = n.Close(); _ = testutils.UnmountNS(n) }()
	}
	stdin, _, err := b.conf("agent")
	if err != nil {
		return err
	}
	cluster, err := libcni.NetworkConfFromBytes(must(os.ReadFile(b.clusterConf)))
	if err != nil {
		return err
	}
	mv, err := libcni.NetworkConfFromBytes([]byte(b.mvConf))
	if err != nil {
		return err
	}
	direct := libcni.NewCNIConfigWithCacheDir([]string{b.plugins}, filepath.Join(b.work, "burst-direct-cache"), nil)
	fmt.Printf("%d concurrent pod ADDs on one node (eth0 bridge + net1 macvlan/tuning each)\n", *burst)
	local, _, err := b.conf("local")
	if err != nil {
		return err
	}
	fmt.Println("agent: plexus-cni through the agent; local: plexus-cni with the same delegates from files (no agent,")
	fmt.Println("no API); delegates: the delegates alone through libcni")
	fmt.Printf("%-9s %5s | %9s %9s %9s | %8s\n", "mode", "round", "total", "pod p50", "pod p99", "failures")
	var totals = map[string]benchutil.Samples{}
	for round := range *rounds {
		modes := []string{"agent", "local", "delegates"}
		if round%2 == 1 {
			modes = []string{"delegates", "local", "agent"}
		}
		for _, mode := range modes {
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				per   benchutil.Samples
				fails int
				errs  []string
			)
			start := time.Now()
			for i := range *burst {
				wg.Add(1)
				go func() {
					defer wg.Done()
					pod, id := fmt.Sprintf("burst-%03d", i), fmt.Sprintf("%s-r%d-%03d", mode, round, i)
					var d time.Duration
					var err error
					switch mode {
					case "agent":
						d, _, err = b.exec(b.plexus, "ADD", pod, id, netnss[i], stdin, filepath.Join(b.work, "burst.log"))
					case "local":
						d, _, err = b.exec(b.plexus, "ADD", pod, id, netnss[i], local, filepath.Join(b.work, "burst-local.log"))
					default:
						d, err = b.directAdd(direct, id, netnss[i], cluster, mv)
					}
					mu.Lock()
					defer mu.Unlock()
					per = append(per, d)
					if err != nil {
						fails++
						errs = append(errs, err.Error())
					}
				}()
			}
			wg.Wait()
			total := time.Since(start)
			totals[mode] = append(totals[mode], total)
			fmt.Printf("%-9s %5d | %9s %9s %9s | %8d\n", mode, round, benchutil.MS(total), benchutil.MS(per.P(50)), benchutil.MS(per.P(99)), fails)
			if len(errs) > 0 {
				fmt.Printf("  first failure: %s\n", errs[0])
			}
			// Tear down before the next round (not measured).
			for i := range *burst {
				id := fmt.Sprintf("%s-r%d-%03d", mode, round, i)
				switch mode {
				case "agent":
					_, _, _ = b.exec(b.plexus, "DEL", fmt.Sprintf("burst-%03d", i), id, netnss[i], stdin, filepath.Join(b.work, "burst.log"))
				case "local":
					_, _, _ = b.exec(b.plexus, "DEL", fmt.Sprintf("burst-%03d", i), id, netnss[i], local, filepath.Join(b.work, "burst-local.log"))
				default:
					_ = b.hostNS.Do(func(ns.NetNS) error {
						ctx := context.Background()
						_ = direct.DelNetworkList(ctx, mv, &libcni.RuntimeConf{ContainerID: id, NetNS: netnss[i].Path(), IfName: "net1"})
						return direct.DelNetworkList(ctx, cluster, &libcni.RuntimeConf{ContainerID: id, NetNS: netnss[i].Path(), IfName: "eth0"})
					})
				}
			}
		}
	}
	a, l, d := totals["agent"].P(50), totals["local"].P(50), totals["delegates"].P(50)
	pct := func(x time.Duration) float64 { return 100 * (float64(x) - float64(d)) / float64(d) }
	fmt.Printf("median total: agent %s (%+.1f%%), plexus-cni without agent %s (%+.1f%%), delegates alone %s\n",
		benchutil.MS(a), pct(a), benchutil.MS(l), pct(l), benchutil.MS(d))
	return nil
}

func (b *bench) directAdd(c *libcni.CNIConfig, id string, netns ns.NetNS, cluster, mv *libcni.NetworkConfigList) (time.Duration, error) {
	rt := func(ifName string) *libcni.RuntimeConf {
		return &libcni.RuntimeConf{ContainerID: id, NetNS: netns.Path(), IfName: ifName}
	}
	return benchutil.Direct{CNI: c, HostNS: b.hostNS, Cluster: cluster, Secondary: mv}.Add(context.Background(), rt, 2)
}

// procCPU is the user+system CPU time of a process (clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.Atoi(f[11])
	k, _ := strconv.Atoi(f[12])
	return time.Duration(u+k) * 10 * time.Millisecond
}

func procStatus(pid int, key string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			f := strings.Fields(v)
			if len(f) == 2 {
				kb, _ := strconv.Atoi(f[0])
				return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
			}
		}
	}
	return "?"
}
