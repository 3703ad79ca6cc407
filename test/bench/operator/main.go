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

// Command operator benchmarks the Plexus operator's controllers on envtest (a real etcd and
// kube-apiserver): a NetworkPlane selecting N namespaces (time to converge and API writes), API
// writes at steady state, and the manager's memory with P pods in its cache. It prints figures
// and asserts nothing. Run it from the repository root: go run ./test/bench/operator.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/controllers"
	"github.com/plexus-net/plexus/internal/netattach"
)

// options are the benchmark parameters.
type options struct {
	namespaces int
	pods       int
	steady     time.Duration
	workers    int
	qps        float64
}

func main() {
	var o options
	flag.IntVar(&o.namespaces, "namespaces", 1000, "namespaces the plane selects")
	flag.IntVar(&o.pods, "pods", 10000, "pods (requesting the plane) in the manager's cache")
	flag.DurationVar(&o.steady, "steady", time.Minute, "how long to count writes at steady state")
	flag.IntVar(&o.workers, "apply-workers", 8, "parallel NAD writes per plane reconcile")
	flag.Float64Var(&o.qps, "qps", 50, "manager client QPS (the operator's default --kube-api-qps)")
	flag.Parse()
	log.SetLogger(logr.Discard())
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
}

// writeCounter counts mutating API requests by verb and resource.
type writeCounter struct {
	total atomic.Int64
	mu    sync.Mutex
	byKey map[string]int64
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet {
			w.total.Add(1)
			w.mu.Lock()
			w.byKey[req.Method+" "+resourceOf(req.URL.Path)]++
			w.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

func (w *writeCounter) snapshot() (int64, map[string]int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int64, len(w.byKey))
	for k, v := range w.byKey {
		out[k] = v
	}
	return w.total.Load(), out
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// resourceOf reduces an API path to its resource (and subresource), dropping names.
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for i := 0; i < len(parts); i++ {
		switch parts[i] {
		case "api", "apis", "v1", "v1alpha1", "net.plexus.dev", "k8s.cni.cncf.io", "events.k8s.io":
			continue
		case "namespaces":
			i++ // skip the namespace name
			continue
		}
		out = append(out, parts[i])
	}
	if len(out) >= 3 {
		return out[0] + "/" + out[2] // resource/subresource
	}
	if len(out) >= 1 {
		return out[0]
	}
	return path
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func run(o options) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(root, "bin", "k8s")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases"), filepath.Join(root, "config", "nad")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("failed to start envtest: %w", err)
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	scheme := controllers.Scheme()
	driverCfg := rest.CopyConfig(cfg)
	driverCfg.QPS, driverCfg.Burst = 2000, 4000
	driver, err := client.New(driverCfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}

	fmt.Printf("Plexus operator benchmark: %d namespaces, %d pods, envtest %s, GOMAXPROCS=%d\n",
		o.namespaces, o.pods, assets, runtime.GOMAXPROCS(0))
	t0 := time.Now()
	nsNames, err := createNamespaces(ctx, driver, o.namespaces)
	if err != nil {
		return err
	}
	if err := createPods(ctx, driver, nsNames, o.pods); err != nil {
		return err
	}
	fmt.Printf("setup: %d namespaces and %d pods created in %s (not counted)\n", len(nsNames), o.pods, time.Since(t0).Round(time.Millisecond))

	// The manager's client goes through the write counter.
	counter := &writeCounter{byKey: map[string]int64{}}
	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.QPS, mgrCfg.Burst = float32(o.qps), int(2*o.qps)
	mgrCfg.WrapTransport = counter.wrap
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		Scheme:  scheme,
		Cache:   controllers.CacheOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		return err
	}
	if err := controllers.SetupReconcilers(ctx, mgr, controllers.Config{ApplyWorkers: o.workers}); err != nil {
		return err
	}
	go func() { _ = mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return errors.New("cache did not sync")
	}

	// 1. Converge: one plane selecting every benchmark namespace.
	start := time.Now()
	plane := &plexusv1alpha1.NetworkPlane{
		ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: plexusv1alpha1.NetworkPlaneSpec{
			Type:   plexusv1alpha1.NetworkPlaneTypeMacvlan,
			Uplink: &plexusv1alpha1.Uplink{InterfaceName: "plexus-up0"},
			IPAM: &plexusv1alpha1.IPAM{Type: plexusv1alpha1.IPAMTypeWhereabouts,
				Ranges: []plexusv1alpha1.IPRange{{Subnet: "10.128.0.0/14"}}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"plexus-bench": "yes"}},
		},
	}
	if err := driver.Create(ctx, plane); err != nil {
		return err
	}
	if err := waitFor(ctx, 10*time.Minute, func() (bool, error) {
		p := &plexusv1alpha1.NetworkPlane{}
		if err := driver.Get(ctx, types.NamespacedName{Name: "bench"}, p); err != nil {
			return false, err
		}
		// Converged = every NAD rendered and the plane reports Ready for this generation (the
		// last status write and its Event belong to convergence, not to steady state).
		ready := meta.FindStatusCondition(p.Status.Conditions, plexusv1alpha1.ReadyCondition)
		return p.Status.RenderedNamespaces == int32(o.namespaces) && p.Status.ObservedGeneration == p.Generation &&
			ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == p.Generation, nil
	}); err != nil {
		return fmt.Errorf("plane did not converge: %w", err)
	}
	converge := time.Since(start)
	total, byKey := counter.snapshot()
	fmt.Printf("\n[converge] plane selecting %d namespaces: Ready in %s, %d API writes\n", o.namespaces, converge.Round(time.Millisecond), total)
	printWrites(byKey)

	// 2. Steady state: let the reconciles still queued from convergence (one per NAD event, some
	// of them reading a cache that has not seen the last status write yet) drain: wait until no
	// write happened for 15 s, report what that tail cost, then count writes for o.steady.
	settleStart := time.Now()
	last, _ := counter.snapshot()
	quietSince := time.Now()
	for time.Since(quietSince) < 15*time.Second && time.Since(settleStart) < 3*time.Minute {
		time.Sleep(time.Second) // NOTE: polling a counter in a benchmark, not a test.
		if n, _ := counter.snapshot(); n != last {
			last, quietSince = n, time.Now()
		}
	}
	tail, tailKeys := counter.snapshot()
	fmt.Printf("\n[settle] %d trailing API writes after Ready, quiet for 15s after %s\n", tail-total, time.Since(settleStart).Round(time.Second))
	printWrites(diffWrites(byKey, tailKeys))
	before, beforeKeys := counter.snapshot()
	time.Sleep(o.steady) // NOTE: a benchmark measuring a rate has to wait; this is not a test.
	after, afterKeys := counter.snapshot()
	perMin := float64(after-before) / o.steady.Minutes()
	fmt.Printf("\n[steady] %d API writes in %s = %.1f writes/minute (target 0)\n", after-before, o.steady, perMin)
	for k, v := range afterKeys {
		if d := v - beforeKeys[k]; d > 0 {
			fmt.Printf("  %-50s %d\n", k, d)
		}
	}

	// 3. Memory with the pods in the cache.
	pods := &corev1.PodList{}
	if err := mgr.GetClient().List(ctx, pods); err != nil {
		return err
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := vmRSS()
	fmt.Printf("\n[memory] %d pods in the manager cache: process RSS %.1f MiB (manager + benchmark driver; target <= 200 MiB), Go heap in use %.1f MiB\n",
		len(pods.Items), float64(rss)/(1<<20), float64(ms.HeapInuse)/(1<<20))
	return nil
}

func printWrites(byKey map[string]int64) {
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  %-50s %d\n", k, byKey[k])
	}
}

func createNamespaces(ctx context.Context, c client.Client, n int) ([]string, error) {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("bench-%04d", i)
	}
	return names, parallel(names, 32, func(name string) error {
		return c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{"plexus-bench": "yes"}}})
	})
}

func createPods(ctx context.Context, c client.Client, namespaces []string, n int) error {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("%s/pod-%05d", namespaces[i%len(namespaces)], i)
	}
	return parallel(items, 32, func(key string) error {
		ns, name, _ := strings.Cut(key, "/")
		return c.Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
				Labels:      map[string]string{"app": "bench", "pod-template-hash": "5d4f8b9c7"},
				Annotations: map[string]string{netattach.NetworksAnnotation: "bench@data0", "kubectl.kubernetes.io/last-applied-configuration": strings.Repeat("x", 1024)}},
			Spec: corev1.PodSpec{
				AutomountServiceAccountToken: ptr(false),
				Containers: []corev1.Container{{Name: "app", Image: "plexus.local/testpod:latest",
					Command: []string{"/bin/sleep", "infinity"},
					Env:     []corev1.EnvVar{{Name: "A", Value: strings.Repeat("v", 256)}}}},
			},
		})
	})
}

func ptr[T any](v T) *T { return &v }

func parallel(items []string, workers int, fn func(string) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	ch := make(chan string)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := fn(it); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	return errors.Join(errs...)
}

func waitFor(ctx context.Context, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ok, err := cond()
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("timed out")
}

// vmRSS reads the resident set size of this process from /proc.
func vmRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			var kb int64
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb * 1024, err
		}
	}
	return 0, errors.New("VmRSS not found")
}

// diffWrites returns the per-request counts added between two snapshots.
func diffWrites(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}
