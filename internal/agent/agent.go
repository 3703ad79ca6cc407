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

package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/cni/kube"
	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/agent/install"
	"github.com/plexus-net/plexus/internal/agent/journal"
	"github.com/plexus-net/plexus/internal/agent/kubecache"
	"github.com/plexus-net/plexus/internal/agent/nodestate"
	"github.com/plexus-net/plexus/internal/agent/server"
	"github.com/plexus-net/plexus/internal/agent/statuswriter"
	"github.com/plexus-net/plexus/internal/agent/uplink"
)

// Intervals of the agent's loops.
const (
	installRetry    = time.Second
	installResync   = 5 * time.Second
	uplinkResync    = 30 * time.Second
	credsResync     = 30 * time.Second
	nodeStateResync = 5 * time.Minute
)

// Scheme returns the scheme of the agent's clients.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(nadv1.AddToScheme(s))
	utilruntime.Must(plexusv1alpha1.AddToScheme(s))
	return s
}

// Agent is a running node agent.
type Agent struct {
	cfg    Config
	log    logr.Logger
	client client.Client
	node   *corev1.Node

	installer *install.Installer
	synced    atomic.Bool

	mu         sync.Mutex
	uplink     *uplink.Uplink
	installed  []install.Component
	installErr error
	published  bool
	conditions []metav1.Condition
	dirty      chan struct{}
}

// Run runs the agent until ctx is done. It never removes the CNI configuration on the way out
// (only Uninstall mode does).
func Run(ctx context.Context, cfg Config, restCfg *rest.Config, log logr.Logger) error {
	cfg.Defaults()
	scheme := Scheme()
	c, err := client.New(restCfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("failed to create the API client: %w", err)
	}
	node := &corev1.Node{}
	if err := c.Get(ctx, types.NamespacedName{Name: cfg.NodeName}, node); err != nil {
		return fmt.Errorf("failed to get node %s: %w", cfg.NodeName, err)
	}
	if err := cfg.ApplyNodeAnnotations(node.Annotations); err != nil {
		return fmt.Errorf("node %s: %w", cfg.NodeName, err)
	}
	a := &Agent{cfg: cfg, log: log, client: c, node: node, dirty: make(chan struct{}, 1)}
	a.installer = a.newInstaller()
	log.Info("Starting the node agent", "node", cfg.NodeName, "binDir", cfg.CNIBinDir, "confDir", cfg.CNIConfDir,
		"socket", cfg.Socket(), "uninstall", cfg.Uninstall)
	if cfg.Uninstall {
		return a.runUninstall(ctx)
	}
	return a.run(ctx, restCfg, scheme)
}

func (a *Agent) newInstaller() *install.Installer {
	cfg := &a.cfg
	meta := install.MetaConf{
		CNIDir: cfg.CNICacheDir, BinDir: cfg.CNIBinDir, ConfDir: cfg.CNIConfDir, AgentSocket: cfg.Socket(),
		PodResourcesSocket: cfg.PodResourcesSocket, LogFile: cfg.CNILogFile, LogLevel: cfg.CNILogLevel,
		NamespaceIsolation: cfg.NamespaceIsolation, GlobalNamespaces: cfg.GlobalNamespaces,
		ReadinessIndicatorFile: cfg.ReadinessIndicatorFile,
	}
	if cfg.APIServer != "" {
		meta.Kubeconfig = a.fallbackCreds().KubeconfigPath()
	}
	return &install.Installer{SourceDir: cfg.PluginsDir, Plugins: cfg.Plugins, BinDir: cfg.CNIBinDir, ConfDir: cfg.CNIConfDir,
		ClusterNetwork: cfg.ClusterNetwork, Meta: meta, Version: cfg.Version}
}

func (a *Agent) fallbackCreds() *install.FallbackCredentials {
	return &install.FallbackCredentials{Dir: a.cfg.StateDir, Server: a.cfg.APIServer,
		TokenFile: filepath.Join(a.cfg.ServiceAccountDir, "token"), CAFile: filepath.Join(a.cfg.ServiceAccountDir, "ca.crt")}
}

func (a *Agent) run(ctx context.Context, restCfg *rest.Config, scheme *runtime.Scheme) error {
	if err := os.MkdirAll(a.cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", a.cfg.StateDir, err)
	}
	// The kubelet creates hostPath directories 0755; the journal and the credentials are root's.
	if err := os.Chmod(a.cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("failed to chmod %s: %w", a.cfg.StateDir, err)
	}
	jr, err := journal.Open(filepath.Join(a.cfg.StateDir, "journal"))
	if err != nil {
		return err
	}
	if n := jr.Len(); n > 0 {
		a.log.Info("Replaying pending pod status from the journal", "pods", n)
	}
	opts := kubecache.Options(a.cfg.NodeName)
	opts.Scheme = scheme
	cc, err := cache.New(restCfg, opts)
	if err != nil {
		return fmt.Errorf("failed to create the cache: %w", err)
	}
	kc := &kubecache.Cache{Cache: cc, Live: a.client}
	srv := &server.Server{
		Socket:  a.cfg.Socket(),
		Sources: func(uid string) server.ResolveSource { return kc.Source(uid) },
		Devices: func(socket string) resolve.DeviceLookup { return &kube.PodResources{Socket: socket} },
		Journal: jr, Uplink: a.uplinkName, Ready: a.synced.Load, MaxConcurrent: a.cfg.MaxConcurrent,
		Log: a.log.WithName("server"),
	}
	l, err := srv.Listen()
	if err != nil {
		return err
	}
	writer := &statuswriter.Writer{Journal: jr, Client: a.client, Cached: kc.CachedPod, NodeName: a.cfg.NodeName,
		Log: a.log.WithName("status")}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errCh := make(chan error, 2)
	goRun := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	goRun(func() {
		if err := cc.Start(ctx); err != nil {
			errCh <- fmt.Errorf("cache stopped: %w", err)
		}
	})
	goRun(func() {
		if err := srv.Serve(ctx, l); err != nil {
			errCh <- err
		}
	})
	goRun(func() {
		if err := kc.Start(ctx); err != nil {
			if ctx.Err() == nil {
				errCh <- err
			}
			return
		}
		a.synced.Store(true)
		a.log.Info("Caches synced; serving plexus-cni from the node-local cache")
		a.markDirty()
		a.updateReadyFile()
	})
	goRun(func() { writer.Run(ctx) })
	goRun(func() { a.installLoop(ctx) })
	goRun(func() { a.uplinkLoop(ctx) })
	goRun(func() { a.nodeStateLoop(ctx) })
	if a.cfg.APIServer != "" {
		goRun(func() { a.credentialsLoop(ctx) })
	}
	var runErr error
	select {
	case <-ctx.Done():
		a.log.Info("Stopping the node agent; the CNI configuration stays in place")
	case runErr = <-errCh:
	}
	cancel()
	wg.Wait()
	_ = os.Remove(a.cfg.ReadyFile) // not ready any more; the file is in the pod's own emptyDir
	if err := jr.Close(); err != nil {
		a.log.Error(err, "Failed to close the journal") // every record was written before its answer
	}
	return runErr
}

func (a *Agent) markDirty() {
	select {
	case a.dirty <- struct{}{}:
	default:
	}
}

// installLoop installs the binaries, then publishes the configuration as soon as the cluster
// network is ready, and keeps it in sync with the cluster network's configuration.
func (a *Agent) installLoop(ctx context.Context) {
	binsDone := false
	for {
		var errs []error
		if !binsDone {
			comps, err := a.installer.InstallBinaries()
			if err == nil {
				binsDone = true
				a.log.Info("Installed plexus-cni and the delegate plugins", "binDir", a.cfg.CNIBinDir, "count", len(comps))
			}
			a.mu.Lock()
			a.installed = comps
			a.mu.Unlock()
			errs = append(errs, err)
		}
		published := false
		if binsDone {
			path, changed, err := a.installer.PublishConf()
			switch {
			case err == nil:
				published = true
				if changed {
					a.log.Info("Published the Plexus CNI configuration", "conf", a.installer.ConfPath(), "clusterNetwork", path)
				}
			case errors.Is(err, install.ErrClusterNetworkNotReady) && a.installer.Published():
				// Keep what is published: removing it would let pods start without their
				// secondary networks. plexus-cni reports the missing cluster network per ADD.
				published = true
				errs = append(errs, err)
			default:
				errs = append(errs, err)
			}
		}
		err := errors.Join(errs...)
		a.mu.Lock()
		changed := a.published != published || errString(a.installErr) != errString(err)
		a.published, a.installErr = published, err
		a.mu.Unlock()
		if changed {
			if err != nil {
				a.log.Info("Plexus is not installed yet", "reason", err.Error())
			}
			a.markDirty()
		}
		a.updateReadyFile()
		wait := installResync
		if !published || !binsDone {
			wait = installRetry
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// updateReadyFile writes the readiness marker once caches are synced and the conf is published.
func (a *Agent) updateReadyFile() {
	a.mu.Lock()
	ready := a.published && a.synced.Load()
	a.mu.Unlock()
	if !ready {
		return
	}
	if _, err := os.Stat(a.cfg.ReadyFile); err == nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(a.cfg.ReadyFile), 0o700); err == nil {
		_ = os.WriteFile(a.cfg.ReadyFile, []byte("ok\n"), 0o600) // the probe retries
	}
}

func (a *Agent) uplinkName() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.uplink == nil {
		return ""
	}
	return a.uplink.Name
}

func (a *Agent) uplinkLoop(ctx context.Context) {
	for {
		up, err := uplink.Detect()
		if err != nil {
			a.log.V(2).Info("No default-route uplink", "reason", err.Error())
		}
		a.mu.Lock()
		changed := (a.uplink == nil) != (up == nil) || (up != nil && a.uplink != nil && up.Name != a.uplink.Name)
		a.uplink = up
		a.mu.Unlock()
		if changed {
			if up != nil {
				a.log.Info("Detected the default-route uplink", "uplink", up.Name)
			}
			a.markDirty()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(uplinkResync):
		}
	}
}

func (a *Agent) credentialsLoop(ctx context.Context) {
	creds := a.fallbackCreds()
	for {
		if err := creds.Sync(); err != nil {
			a.log.Error(err, "Failed to write plexus-cni's fallback credentials")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(credsResync):
		}
	}
}

// nodeStateLoop applies the NodeNetworkState on every change and periodically.
func (a *Agent) nodeStateLoop(ctx context.Context) {
	rep := &nodestate.Reporter{Client: a.client, NodeName: a.cfg.NodeName, NodeUID: a.node.UID}
	backoff := time.Second
	for {
		wait := nodeStateResync
		if err := rep.Apply(ctx, a.state()); err != nil {
			if ctx.Err() != nil {
				return
			}
			a.log.Error(err, "Failed to report the NodeNetworkState")
			wait, backoff = backoff, min(backoff*2, time.Minute)
		} else {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-a.dirty:
		case <-time.After(wait):
		}
	}
}

// state builds the agent's share of the NodeNetworkState.
func (a *Agent) state() *nodestate.State {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := &nodestate.State{}
	if a.uplink != nil {
		st.Uplink = &plexusv1alpha1.UplinkStatus{Name: a.uplink.Name, Addresses: a.uplink.Addresses}
	}
	if ifs, err := uplink.Interfaces(a.cfg.SysRoot, a.uplinkNameLocked()); err == nil {
		for _, i := range ifs {
			st.Interfaces = append(st.Interfaces, plexusv1alpha1.InterfaceStatus{Name: i.Name, MAC: i.MAC, MTU: int32(i.MTU),
				Driver: i.Driver, PCIAddress: i.PCIAddress, State: i.State})
		}
	}
	for _, c := range a.installed {
		st.Installed = append(st.Installed, plexusv1alpha1.InstalledComponent{Name: c.Name, Version: c.Version})
	}
	installed := nodestate.Condition(plexusv1alpha1.NodeNetworkStateInstalledCondition, true,
		plexusv1alpha1.NodeNetworkStateInstalledReason, "Plexus CNI configuration published at "+a.installer.ConfPath())
	if !a.published {
		reason := plexusv1alpha1.NodeNetworkStateInstallFailedReason
		if errors.Is(a.installErr, install.ErrClusterNetworkNotReady) {
			reason = plexusv1alpha1.NodeNetworkStateWaitingForClusterNetworkReason
		}
		installed = nodestate.Condition(plexusv1alpha1.NodeNetworkStateInstalledCondition, false, reason, errString(a.installErr))
	}
	ready := nodestate.Condition(plexusv1alpha1.ReadyCondition, true, plexusv1alpha1.NodeNetworkStateAgentReadyReason,
		"The agent serves plexus-cni from its node-local cache")
	if !a.synced.Load() || !a.published {
		ready = nodestate.Condition(plexusv1alpha1.ReadyCondition, false, plexusv1alpha1.NodeNetworkStateAgentNotReadyReason,
			fmt.Sprintf("caches synced: %t, configuration published: %t", a.synced.Load(), a.published))
	}
	a.setCondition(installed)
	a.setCondition(ready)
	st.Conditions = append([]metav1.Condition(nil), a.conditions...)
	return st
}

func (a *Agent) uplinkNameLocked() string {
	if a.uplink == nil {
		return ""
	}
	return a.uplink.Name
}

// setCondition keeps LastTransitionTime unless the status changes. Callers hold mu.
func (a *Agent) setCondition(c metav1.Condition) {
	c.ObservedGeneration = 0
	meta.SetStatusCondition(&a.conditions, c)
}

// runUninstall removes the Plexus configuration, reports it and idles (the operator deletes
// the DaemonSet once every node has reported).
func (a *Agent) runUninstall(ctx context.Context) error {
	err := a.installer.Uninstall()
	rep := &nodestate.Reporter{Client: a.client, NodeName: a.cfg.NodeName, NodeUID: a.node.UID}
	cond := nodestate.Condition(plexusv1alpha1.NodeNetworkStateInstalledCondition, false,
		plexusv1alpha1.NodeNetworkStateUninstalledReason, "Plexus CNI configuration removed; the runtime uses the cluster network directly")
	if err != nil {
		cond = nodestate.Condition(plexusv1alpha1.NodeNetworkStateInstalledCondition, false,
			plexusv1alpha1.NodeNetworkStateInstallFailedReason, "uninstall failed: "+err.Error())
	}
	ready := nodestate.Condition(plexusv1alpha1.ReadyCondition, false, plexusv1alpha1.NodeNetworkStateAgentNotReadyReason,
		"Plexus is being uninstalled")
	for {
		if aerr := rep.Apply(ctx, &nodestate.State{Conditions: []metav1.Condition{cond, ready}}); aerr == nil {
			break
		} else if ctx.Err() != nil {
			return nil
		} else {
			a.log.Error(aerr, "Failed to report the uninstall")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Second):
		}
	}
	if err != nil {
		return err
	}
	a.log.Info("Uninstalled Plexus from the node", "conf", a.installer.ConfPath())
	if mkErr := os.MkdirAll(filepath.Dir(a.cfg.ReadyFile), 0o700); mkErr == nil {
		_ = os.WriteFile(a.cfg.ReadyFile, []byte("uninstalled\n"), 0o600) // the probe retries
	}
	<-ctx.Done()
	return nil
}
