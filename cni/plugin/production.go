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
	"os"

	"github.com/plexus-net/plexus/cni/agentclient"
	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/resolve"
)

// ResolveOptions maps the configuration to the resolution options.
func (c *NetConf) ResolveOptions() resolve.Options {
	return resolve.Options{
		ClusterNetwork:     c.ClusterNetwork,
		DefaultNetworks:    c.DefaultNetworks,
		SystemNamespaces:   c.SystemNamespaces,
		MultusNamespace:    c.MultusNamespace,
		NamespaceIsolation: c.NamespaceIsolation,
		GlobalNamespaces:   c.GlobalNamespaces,
		ConfDir:            c.ConfDir,
	}
}

// APIConfigured reports whether direct mode can reach an API server: a kubeconfig is
// configured, or the in-cluster service environment is present.
func (c *NetConf) APIConfigured() bool {
	return c.Kubeconfig != "" || InCluster()
}

// InCluster reports whether the in-cluster service environment (KUBERNETES_SERVICE_HOST and
// _PORT) is present; cni/kube's LoadConfig uses it for an empty kubeconfig path, so plexus-cni
// and plexus-cni-direct agree on when direct mode has an API server.
func InCluster() bool {
	return os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != ""
}

// productionResolver prefers the node agent when agentSocket is configured: one local
// round trip, no API request. When the agent does not answer (connect timeout 100 ms, or
// not ready) the invocation switches to direct mode.
func (p *Plugin) productionResolver(ctx context.Context, conf *NetConf) (api.Resolver, api.StatusSink, error) {
	if conf.AgentSocket == "" || p.SkipAgent {
		return p.directMode(ctx, conf)
	}
	f := &agentclient.Fallback{
		Agent:  agentclient.New(conf.AgentSocket, conf.ResolveOptions(), conf.PodResourcesSocket),
		Direct: func() (api.Resolver, api.StatusSink, error) { return p.directMode(ctx, conf) },
	}
	return f, f, nil
}

// directMode is Plugin.Direct when set (plexus-cni-direct). plexus-cni itself resolves
// file-based networks without any API access, and hands every invocation that needs the
// API server to plexus-cni-direct (errHandOff).
func (p *Plugin) directMode(ctx context.Context, conf *NetConf) (api.Resolver, api.StatusSink, error) {
	if p.Direct != nil {
		return p.Direct(ctx, conf)
	}
	if !conf.APIConfigured() {
		return &resolve.Resolver{Opts: conf.ResolveOptions()}, NoopSink{}, nil
	}
	return nil, nil, errHandOff
}

// NoopSink drops reports (no API server, no agent: nowhere to publish).
type NoopSink struct{}

// Report implements api.StatusSink.
func (NoopSink) Report(context.Context, api.PodRef, *api.StatusReport) error { return nil }
