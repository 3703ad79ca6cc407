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

// Command agent is the Plexus node agent (one per node, rendered by the operator from the
// PlexusConfig). "agent probe" is its readiness probe. All logic lives in internal/agent.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/plexus-net/plexus/internal/agent"
	"github.com/plexus-net/plexus/internal/agent/hardware"
	"github.com/plexus-net/plexus/internal/version"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "probe" {
		os.Exit(probe(os.Args[2:]))
	}
	cfg := agent.Config{Version: version.Version}
	var plugins, globalNS string
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	fs.StringVar(&cfg.NodeName, "node-name", os.Getenv("NODE_NAME"), "This node's name (default $NODE_NAME).")
	fs.StringVar(&cfg.PluginsDir, "plugins-dir", agent.DefaultPluginsDir, "Directory holding plexus-cni and the delegate plugins.")
	fs.StringVar(&plugins, "plugins", "", "Comma-separated delegate plugins to install (empty: all).")
	fs.StringVar(&cfg.CNIBinDir, "cni-bin-dir", agent.DefaultCNIBinDir, "Host CNI binary directory.")
	fs.StringVar(&cfg.CNIConfDir, "cni-conf-dir", agent.DefaultCNIConfDir, "Host CNI configuration directory.")
	fs.StringVar(&cfg.CNICacheDir, "cni-cache-dir", agent.DefaultCNICacheDir, "plexus-cni's cache directory.")
	fs.StringVar(&cfg.HostRoot, "host-root", "", "Extra host directory node annotations may point into.")
	fs.StringVar(&cfg.ClusterNetwork, "cluster-network", "", "Cluster network configuration name (empty: auto).")
	fs.StringVar(&cfg.ReadinessIndicatorFile, "readiness-indicator-file", "", "File that must exist before the configuration is published.")
	fs.BoolVar(&cfg.NamespaceIsolation, "namespace-isolation", false, "Restrict pods to NADs of their namespace and the global namespaces.")
	fs.StringVar(&globalNS, "global-namespaces", "", "Comma-separated namespaces every pod may use NADs from.")
	fs.StringVar(&cfg.StateDir, "state-dir", agent.DefaultStateDir, "Agent state directory (journal, fallback credentials).")
	fs.StringVar(&cfg.RunDir, "run-dir", agent.DefaultRunDir, "Agent socket directory.")
	fs.StringVar(&cfg.PodResourcesSocket, "pod-resources-socket", agent.DefaultPodResourcesSocket, "kubelet PodResources socket.")
	fs.StringVar(&cfg.CNILogLevel, "cni-log-level", "", "plexus-cni log level (error, info, verbose, debug).")
	fs.StringVar(&cfg.ReadyFile, "ready-file", agent.DefaultReadyFile, "Readiness marker file.")
	fs.IntVar(&cfg.MaxConcurrent, "max-concurrent", 64, "Maximum concurrent socket requests.")
	fs.BoolVar(&cfg.Uninstall, "uninstall", false, "Remove the Plexus CNI configuration from the node and idle.")
	fs.StringVar(&cfg.APIServer, "api-server", inClusterServer(), "API server URL for plexus-cni's fallback kubeconfig (empty: none).")
	fs.StringVar(&cfg.SysRoot, "sys-root", "/sys", "The host's sysfs (SR-IOV and hugepages are configured through it).")
	pciSysRoot := fs.String("pci-sys-root", "", "The sysfs SR-IOV devices are discovered and configured through (default: --sys-root). "+
		"A development and test override, like the plexus.dev/pci-sys-root node annotation.")
	hw := fs.Bool("hardware", true, "Enact NodeNetworkPolicies (SR-IOV, hugepages) on this node.")
	opts := zap.Options{Development: false, TimeEncoder: zapcore.RFC3339NanoTimeEncoder}
	opts.BindFlags(fs)
	_ = fs.Parse(os.Args[1:]) // ExitOnError
	cfg.Plugins = splitList(plugins)
	cfg.GlobalNamespaces = splitList(globalNS)
	log := zap.New(zap.UseFlagOptions(&opts))
	ctrl.SetLogger(log)
	if cfg.NodeName == "" {
		log.Error(nil, "No node name: set --node-name or NODE_NAME")
		os.Exit(2)
	}
	ctx := ctrl.SetupSignalHandler()
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "Failed to load the API configuration")
		os.Exit(1)
	}
	restCfg.UserAgent = "plexus-agent/" + version.Version
	if *hw && !cfg.Uninstall {
		go runHardware(ctrl.LoggerInto(ctx, log.WithName("hardware")), restCfg, cfg, *pciSysRoot)
	}
	if err := agent.Run(ctx, cfg, restCfg, log); err != nil {
		log.Error(err, "Node agent failed")
		os.Exit(1)
	}
}

// runHardware runs the hardware reconciler next to the agent until ctx is done, restarting it
// after a failure: a hardware problem must not stop the agent serving plexus-cni.
func runHardware(ctx context.Context, restCfg *rest.Config, cfg agent.Config, pciSysRoot string) {
	log := ctrl.LoggerFrom(ctx)
	for {
		err := hardware.Run(ctx, restCfg, hardware.Options{NodeName: cfg.NodeName, SysRoot: cfg.SysRoot, PCISysRoot: pciSysRoot,
			StateDir: cfg.StateDir, HostRoot: cfg.HostRoot, PodResourcesSocket: cfg.PodResourcesSocket})
		if ctx.Err() != nil {
			return
		}
		log.Error(err, "Hardware reconciler stopped; restarting it")
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

func inClusterServer() string {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return ""
	}
	return "https://" + net.JoinHostPort(host, port)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// probe succeeds when the agent wrote its readiness marker.
func probe(args []string) int {
	fs := flag.NewFlagSet("probe", flag.ExitOnError)
	file := fs.String("ready-file", agent.DefaultReadyFile, "Readiness marker file.")
	_ = fs.Parse(args) // ExitOnError
	if _, err := os.Stat(*file); err != nil {
		fmt.Fprintf(os.Stderr, "not ready: %v\n", err)
		return 1
	}
	return 0
}
