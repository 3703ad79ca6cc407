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

package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/containernetworking/plugins/pkg/testutils"
	"github.com/vishvananda/netlink"

	"github.com/plexus-net/plexus/internal/benchutil"
)

var (
	plexusBin  = flag.String("plexus", "", "plexus-cni binary (default: build ./cni into a temp dir)")
	compareBin = flag.String("compare", "", "a second plexus-cni binary, run in the same iterations (A/B of two builds; its rows are marked B)")
	pluginDir  = flag.String("plugins", "", "reference plugin dir (default: build them from go.mod's containernetworking/plugins)")
	sizes      = flag.String("attachments", "1,4,16,64", "attachment counts (cluster network included)")
	iterScale  = flag.Float64("scale", 1, "multiply the default iteration counts")
	scenarios  = flag.String("scenarios", "local,direct-api", "local: no API (cluster + defaultNetworks from files, the agent-mode path); direct-api: a TLS HTTP/2 API server for pod, NADs, status and events")
	cniVersion = flag.String("cni-version", "1.0.0", "CNI version of every configuration")
	verbose    = flag.Bool("v", false, "print plexus-cni's last ADD timing line per size")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type env struct {
	work    string
	plexus  string
	plugins string
	hostNS  ns.NetNS
	podNS   ns.NetNS
	api     *fakeAPI
}

func run() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, links)")
	}
	work, err := os.MkdirTemp("", "plexus-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	e := &env{work: work, plexus: *plexusBin, plugins: *pluginDir}
	if err := e.build(); err != nil {
		return err
	}
	if e.hostNS, err = testutils.NewNS(); err != nil {
		return fmt.Errorf("failed to create the host netns: %w", err)
	}
	defer func() { _ = e.hostNS.Close(); _ = testutils.UnmountNS(e.hostNS) }()
	if e.podNS, err = testutils.NewNS(); err != nil {
		return fmt.Errorf("failed to create the pod netns: %w", err)
	}
	defer func() { _ = e.podNS.Close(); _ = testutils.UnmountNS(e.podNS) }()
	// The uplink and the fake API server live in the host netns (its loopback).
	if err := e.hostNS.Do(func(ns.NetNS) error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(lo); err != nil {
			return err
		}
		e.api = newFakeAPI()
		return addVeth("uplink0")
	}); err != nil {
		return err
	}
	defer e.api.srv.Close()

	if *compareBin != "" {
		fmt.Printf("A = %s, B = %s, run alternately in the same iterations\n", e.plexus, *compareBin)
	}
	fmt.Printf("plexus-cni %s, delegates from %s, CNI %s, cache dir on %s\n", e.plexus, e.plugins, *cniVersion, fsType(work))
	for _, line := range []string{
		"ovh = plexus-cni wall (exec to exit) - sum of its delegate calls (from its timing log); inproc = the part of",
		"ovh plexus-cni measures itself (no exec, runtime start-up, exit); direct = the same delegates run through",
		"libcni by this program in the same iteration; -dir = ADD - direct, paired per iteration (the delegates run",
		"by plexus-cni cost less than direct ones from 16 attachments on, so this goes below zero); ovh/extra = (ovh",
		"p50 - ovh p50 at the smallest size) / extra attachments; dirCPU = CPU time of the direct ADD (delegates and",
		"libcni); +CPU = plexus-cni's ADD CPU time (itself and its delegates) - dirCPU, per iteration.",
	} {
		fmt.Println(line)
	}
	fmt.Println("Load average now:", benchutil.LoadAvg())
	if err := e.floor(); err != nil {
		return err
	}
	fmt.Printf("process start-up of plexus-cni (VERSION), p50 %s", startup(e.plexus))
	var inNS string
	_ = e.hostNS.Do(func(ns.NetNS) error { inNS = startup(e.plexus); return nil })
	fmt.Printf(", from inside the host netns %s", inNS)
	if *compareBin != "" {
		fmt.Printf("; B: %s", startup(*compareBin))
	}
	fmt.Printf("\n\n")
	var counts []int
	for _, s := range strings.Split(*sizes, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil || n < 1 {
			return fmt.Errorf("bad attachment count %q", s)
		}
		counts = append(counts, n)
	}
	for _, sc := range strings.Split(*scenarios, ",") {
		fmt.Printf("scenario %s\n", sc)
		fmt.Printf("%4s %5s | %9s %9s %9s %9s | %9s %9s %9s | %9s | %7s | %9s %9s | %9s %9s | %9s %9s\n", "att", "iters",
			"ADD p50", "ADD p99", "direct50", "-dir p50", "ovh p50", "ovh p99", "ovh/extra", "inproc50", "API/ADD",
			"DEL p50", "dirDEL50", "DELovh50", "DELovh99", "dirCPU50", "+CPU p50")
		base := map[int]time.Duration{}
		for _, n := range counts {
			rs, err := e.measure(sc, n, iterations(n))
			if err != nil {
				return fmt.Errorf("%s, %d attachments: %w", sc, n, err)
			}
			for k, r := range rs {
				label := fmt.Sprint(n)
				if len(rs) > 1 {
					label = fmt.Sprintf("%s %d", string(rune('A'+k)), n)
				}
				perExtra := "-"
				if n == counts[0] {
					base[k] = r.ovhAdd.P(50)
				} else {
					perExtra = benchutil.MS((r.ovhAdd.P(50) - base[k]) / time.Duration(n-counts[0]))
				}
				fmt.Printf("%4s %5d | %9s %9s %9s %9s | %9s %9s %9s | %9s | %7.1f | %9s %9s | %9s %9s | %9s %9s\n", label, r.iters,
					benchutil.MS(r.add.P(50)), benchutil.MS(r.add.P(99)), benchutil.MS(r.direct.P(50)), benchutil.MS(r.vsDirect.P(50)), benchutil.MS(r.ovhAdd.P(50)), benchutil.MS(r.ovhAdd.P(99)), perExtra,
					benchutil.MS(r.inProcAdd.P(50)), r.apiPerAdd, benchutil.MS(r.del.P(50)), benchutil.MS(r.directDel.P(50)), benchutil.MS(r.ovhDel.P(50)), benchutil.MS(r.ovhDel.P(99)),
					benchutil.MS(r.directCPU.P(50)), benchutil.MS(r.extraCPU.P(50)))
				if *verbose {
					fmt.Printf("      last ADD: %s\n", r.lastTiming)
				}
			}
		}
		fmt.Println("load average:", benchutil.LoadAvg())
		fmt.Println()
	}
	return nil
}

func iterations(n int) int {
	it := 200 / n
	if it > 60 {
		it = 60
	}
	if it < 8 {
		it = 8
	}
	return int(float64(it) * *iterScale)
}

func fsType(path string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return "?"
	}
	switch st.Type {
	case 0x01021994:
		return "tmpfs"
	case 0x794c7630:
		return "overlayfs"
	case 0xef53:
		return "ext4"
	case 0x58465342:
		return "xfs"
	}
	return fmt.Sprintf("fs 0x%x", st.Type)
}

func addVeth(name string) error {
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: name + "p"}); err != nil {
		return fmt.Errorf("failed to add veth %s: %w", name, err)
	}
	for _, n := range []string{name, name + "p"} {
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

func (e *env) build() error {
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	dir := filepath.Dir(strings.TrimSpace(string(root)))
	if e.plexus == "" {
		e.plexus = filepath.Join(e.work, "plexus-cni")
		// Built as hack/build.sh builds it: static (CGO off; a dynamically linked Go binary
		// pays ~1 ms of ld.so start-up per exec) and stripped.
		if out, err := gocmd(dir, "build", "-ldflags", "-s -w", "-o", e.plexus, "./cni"); err != nil {
			return fmt.Errorf("go build ./cni: %w\n%s", err, out)
		}
		// Direct mode is plexus-cni-direct, which plexus-cni execs from its own directory.
		if out, err := gocmd(dir, "build", "-ldflags", "-s -w", "-o", filepath.Join(e.work, "plexus-cni-direct"), "./cni/direct"); err != nil {
			return fmt.Errorf("go build ./cni/direct: %w\n%s", err, out)
		}
	}
	if e.plugins == "" {
		e.plugins = filepath.Join(e.work, "plugins")
		args := []string{"build", "-ldflags", "-s -w", "-o", e.plugins + "/"}
		for _, p := range []string{"main/bridge", "main/macvlan", "ipam/host-local", "meta/tuning"} {
			args = append(args, "github.com/containernetworking/plugins/plugins/"+p)
		}
		if out, err := gocmd(dir, args...); err != nil {
			return fmt.Errorf("go build of the reference plugins: %w\n%s", err, out)
		}
	}
	return nil
}

func gocmd(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}

// startup is the p50 wall time of bin answering VERSION.
func startup(bin string) string {
	var s benchutil.Samples
	for range 50 {
		cmd := exec.Command(bin)
		cmd.Env = []string{"CNI_COMMAND=VERSION"}
		cmd.Stdin = strings.NewReader(`{"cniVersion":"1.0.0"}`)
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return "error: " + err.Error()
		}
		s = append(s, time.Since(start))
	}
	return benchutil.MS(s.P(50))
}

// floor prints what no meta-plugin written in Go avoids on this machine: the exec of a
// static Go program that does nothing (the Go runtime's start-up and exit), and the atomic
// cache write the meta-plugin must make before its first delegate (temp file, fsync,
// rename, in the cache directory's file system).
func (e *env) floor() error {
	dir := filepath.Join(e.work, "floor")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"os\"\n\nfunc main() { _, _ = os.Stdout.WriteString(\"{}\\n\") }\n"), 0o600); err != nil {
		return err
	}
	hello := filepath.Join(dir, "hello")
	if out, err := gocmd(dir, "build", "-ldflags", "-s -w", "-o", hello, src); err != nil {
		return fmt.Errorf("go build of the floor program: %w\n%s", err, out)
	}
	var w benchutil.Samples
	data := make([]byte, 1500)
	for i := range 50 {
		start := time.Now()
		if err := writeSynced(dir, fmt.Sprintf("c%d", i), data); err != nil {
			return err
		}
		w = append(w, time.Since(start))
	}
	fmt.Printf("floor: static Go program doing nothing, exec p50 %s; temp+write+fsync+rename of 1.5 KB p50 %s\n", startup(hello), benchutil.MS(w.P(50)))
	return nil
}

func writeSynced(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(dir, name))
}

type result struct {
	iters int
	// add is the plexus ADD wall; direct the same delegates through libcni.
	add, direct benchutil.Samples
	// directCPU is the CPU time of a direct ADD (the delegates' processes and libcni's work
	// in this process); extraCPU is
	// plexus-cni's ADD CPU time (its own and its delegates') minus directCPU in the same
	// iteration.
	directCPU, extraCPU benchutil.Samples
	// vsDirect is the plexus ADD wall minus the direct ADD wall of the same iteration: the
	// overhead with the delegates' time taken from the direct run instead of plexus-cni's log.
	vsDirect benchutil.Samples
	// ovhAdd/ovhDel are plexus wall − Σ delegate wall (from plexus' timing log).
	ovhAdd, ovhDel benchutil.Samples
	// inProcAdd is the ADD overhead plexus-cni measures itself (no exec/start-up/exit).
	inProcAdd benchutil.Samples
	// lastTiming is plexus-cni's timing line of the last ADD.
	lastTiming string
	// del/directDel are the DEL walls.
	del, directDel benchutil.Samples
	apiPerAdd      float64
}

// measure runs one scenario with n attachments (cluster network + n-1 macvlans); with
// -compare it returns a second result for that binary, measured in the same iterations.
func (e *env) measure(scenario string, n, iters int) ([]*result, error) {
	dir := filepath.Join(e.work, fmt.Sprintf("%s-%d", scenario, n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	clusterPath := filepath.Join(dir, "10-cluster.conflist")
	cluster := fmt.Sprintf(`{"cniVersion":%q,"name":"cluster","plugins":[{"type":"bridge","bridge":"cl0","isGateway":true,
		"ipam":{"type":"host-local","subnet":"10.88.0.0/16","dataDir":%q}}]}`, *cniVersion, filepath.Join(dir, "ipam-cluster"))
	mv := fmt.Sprintf(`{"cniVersion":%q,"name":"mv","plugins":[{"type":"macvlan","master":"uplink0","mode":"bridge",
		"ipam":{"type":"host-local","subnet":"10.90.0.0/16","dataDir":%q}},{"type":"tuning","sysctl":{"net.ipv4.conf.IFNAME.arp_filter":"1"}}]}`,
		*cniVersion, filepath.Join(dir, "ipam-mv"))
	mvPath := filepath.Join(dir, "mv.conflist")
	for p, c := range map[string]string{clusterPath: cluster, mvPath: mv} {
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			return nil, err
		}
	}
	conf := map[string]any{"cniVersion": *cniVersion, "name": "plexus", "type": "plexus-cni", "clusterNetwork": clusterPath,
		"cniDir": filepath.Join(dir, "plexus-cache"), "binDir": e.plugins, "logLevel": "verbose",
		"logFile": filepath.Join(dir, "plexus.log"), "podResourcesSocket": filepath.Join(dir, "none.sock")}
	switch scenario {
	case "local":
		var dn []string
		for range n - 1 {
			dn = append(dn, mvPath)
		}
		conf["defaultNetworks"] = dn
		conf["systemNamespaces"] = []string{}
	case "direct-api":
		kc, err := e.api.kubeconfig(dir)
		if err != nil {
			return nil, err
		}
		conf["kubeconfig"] = kc
		// Distinct NADs (mv1, mv2, ...), all with the macvlan + tuning configuration.
		var names []string
		for i := 1; i < n; i++ {
			names = append(names, fmt.Sprintf("mv%d", i))
		}
		e.api.set(strings.Join(names, ","), strings.Replace(mv, `"name":"mv",`, "", 1))
	default:
		return nil, fmt.Errorf("unknown scenario %q", scenario)
	}
	stdin, err := json.Marshal(conf)
	if err != nil {
		return nil, err
	}
	clusterList, err := libcni.NetworkConfFromBytes([]byte(cluster))
	if err != nil {
		return nil, err
	}
	mvList, err := libcni.NetworkConfFromBytes([]byte(mv))
	if err != nil {
		return nil, err
	}
	direct := libcni.NewCNIConfigWithCacheDir([]string{e.plugins}, filepath.Join(dir, "direct-cache"), nil)
	binaries := []string{e.plexus}
	if *compareBin != "" {
		binaries = append(binaries, *compareBin)
	}
	results := make([]*result, len(binaries))
	for b := range results {
		results[b] = &result{iters: iters}
	}
	logFile := conf["logFile"].(string)
	apiBefore := e.api.requests.Load()
	for i := range iters + 1 { // iteration 0 warms caches and is not counted
		// Rounds: each plexus-cni binary and the direct calls, in an order that rotates
		// every iteration so none always runs first.
		var dAdd, dAddCPU, dDel time.Duration
		s := make([]sample, len(binaries))
		rounds := len(binaries) + 1
		for round := range rounds {
			k := (round + i) % rounds
			if k == len(binaries) {
				did := fmt.Sprintf("d%d-%d", n, i)
				if dAdd, dAddCPU, dDel, err = e.directCmds(direct, did, clusterList, mvList, n); err != nil {
					return nil, err
				}
				continue
			}
			pid := fmt.Sprintf("p%d-%d-%d", n, k, i)
			if s[k], err = e.plexusAddDel(binaries[k], pid, stdin, logFile); err != nil {
				return nil, err
			}
			results[k].lastTiming = s[k].timing
		}
		if i == 0 {
			apiBefore = e.api.requests.Load()
			continue
		}
		for k, r := range results {
			r.add = append(r.add, s[k].add)
			r.vsDirect = append(r.vsDirect, s[k].add-dAdd)
			r.extraCPU = append(r.extraCPU, s[k].addCPU-dAddCPU)
			r.directCPU = append(r.directCPU, dAddCPU)
			r.direct = append(r.direct, dAdd)
			r.ovhAdd = append(r.ovhAdd, s[k].add-s[k].addDelegates)
			r.inProcAdd = append(r.inProcAdd, s[k].addInProc)
			r.ovhDel = append(r.ovhDel, s[k].del-s[k].delDelegates)
			r.del = append(r.del, s[k].del)
			r.directDel = append(r.directDel, dDel)
		}
	}
	for _, r := range results {
		r.apiPerAdd = float64(e.api.requests.Load()-apiBefore) / float64(iters*len(binaries))
	}
	return results, nil
}

// sample is one ADD and DEL of one plexus-cni binary.
type sample struct {
	add, addCPU, addDelegates, addInProc time.Duration
	del, delDelegates                    time.Duration
	timing                               string
}

func (e *env) plexusAddDel(binary, id string, stdin []byte, logFile string) (sample, error) {
	var s sample
	add, addDelegates, addInProc, timing, err := e.plexusCmd(binary, "ADD", id, stdin, logFile)
	if err != nil {
		return s, err
	}
	s.add, s.addCPU, s.addDelegates, s.addInProc, s.timing = add.Wall, add.CPU, addDelegates, addInProc, timing
	del, delDelegates, _, _, err := e.plexusCmd(binary, "DEL", id, stdin, logFile)
	s.del, s.delDelegates = del.Wall, delDelegates
	return s, err
}

func k8sArgs(id string) string {
	return "IgnoreUnknown=true;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=pod;K8S_POD_INFRA_CONTAINER_ID=" + id + ";K8S_POD_UID=" + podUID
}

// plexusCmd execs a plexus-cni binary like a runtime does, from the host netns, and returns
// its wall time, the delegates' share of it and its in-process overhead (both from its
// timing log line), and that line.
func (e *env) plexusCmd(binary, command, id string, stdin []byte, logFile string) (run benchutil.Run, delegates, inProc time.Duration, line string, err error) {
	if err := os.Truncate(logFile, 0); err != nil && !os.IsNotExist(err) {
		return run, 0, 0, "", err
	}
	run, err = benchutil.ExecRun(e.hostNS, benchutil.CNICall{Binary: binary, Command: command, ContainerID: id,
		Netns: e.podNS.Path(), Args: k8sArgs(id), Path: e.plugins, Stdin: stdin})
	if err != nil {
		return run, 0, 0, "", err
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		return run, 0, 0, "", fmt.Errorf("failed to read the plexus-cni log: %w", err)
	}
	t, err := benchutil.LastTiming(string(log))
	if err != nil {
		return run, 0, 0, "", err
	}
	return run, t.Delegates, t.Total - t.Delegates, t.Line, nil
}

func (e *env) directCmds(c *libcni.CNIConfig, id string, cluster, mv *libcni.NetworkConfigList, n int) (add, addCPU, del time.Duration, err error) {
	args := [][2]string{}
	for _, kv := range strings.Split(k8sArgs(id), ";") {
		k, v, _ := strings.Cut(kv, "=")
		args = append(args, [2]string{k, v})
	}
	rt := func(ifName string) *libcni.RuntimeConf {
		return &libcni.RuntimeConf{ContainerID: id, NetNS: e.podNS.Path(), IfName: ifName, Args: args}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d := benchutil.Direct{CNI: c, HostNS: e.hostNS, Cluster: cluster, Secondary: mv}
	cpu0 := benchutil.CPU()
	if add, err = d.Add(ctx, rt, n); err != nil {
		return 0, 0, 0, err
	}
	addCPU = benchutil.CPU() - cpu0
	del, err = d.Del(ctx, rt, n)
	return add, addCPU, del, err
}

const podUID = "6f0e5a4e-0000-4000-8000-000000000001"

// fakeAPI is a TLS HTTP/2 stand-in for the API server: the pod (with the networks
// annotation), the NAD, the status PATCH and event POSTs. It counts requests.
type fakeAPI struct {
	srv        *httptest.Server
	requests   atomic.Int64
	annotation atomic.Value
	nadConfig  atomic.Value
}

func newFakeAPI() *fakeAPI {
	f := &fakeAPI{}
	f.annotation.Store("")
	f.nadConfig.Store("")
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.EnableHTTP2 = true
	f.srv.StartTLS()
	return f
}

func (f *fakeAPI) set(annotation, nad string) {
	f.annotation.Store(annotation)
	f.nadConfig.Store(nad)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	var body any
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/namespaces/bench/pods/pod":
		body = map[string]any{"metadata": map[string]any{"name": "pod", "namespace": "bench", "uid": podUID,
			"annotations": map[string]string{"k8s.v1.cni.cncf.io/networks": f.annotation.Load().(string)}}}
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/apis/k8s.cni.cncf.io/v1/namespaces/bench/network-attachment-definitions/"):
		body = map[string]any{"metadata": map[string]any{"name": filepath.Base(r.URL.Path), "namespace": "bench"},
			"spec": map[string]any{"config": f.nadConfig.Load().(string)}}
	case r.Method == http.MethodPatch && r.URL.Path == "/api/v1/namespaces/bench/pods/pod/status":
		body = map[string]any{}
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/namespaces/bench/events":
		w.WriteHeader(http.StatusCreated)
		body = map[string]any{}
	default:
		w.WriteHeader(http.StatusNotFound)
		body = map[string]any{"message": "not found"}
	}
	_ = json.NewEncoder(w).Encode(body)
}

func (f *fakeAPI) kubeconfig(dir string) (string, error) {
	cert := f.srv.TLS.Certificates[0]
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	kc := map[string]any{
		"apiVersion": "v1", "kind": "Config", "current-context": "bench",
		"clusters": []any{map[string]any{"name": "bench", "cluster": map[string]any{"server": f.srv.URL, "certificate-authority-data": ca}}},
		"users":    []any{map[string]any{"name": "bench", "user": map[string]any{"token": "bench"}}},
		"contexts": []any{map[string]any{"name": "bench", "context": map[string]any{"cluster": "bench", "user": "bench"}}},
	}
	b, err := json.Marshal(kc)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "kubeconfig")
	return p, os.WriteFile(p, b, 0o600)
}
