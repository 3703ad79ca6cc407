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
	"errors"
	"fmt"

	"github.com/plexus-net/plexus/cni/agentclient"
	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/kube"
	"github.com/plexus-net/plexus/cni/resolve"
)

// resolveOptions maps the configuration to the resolution options.
func (c *NetConf) resolveOptions() resolve.Options {
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

// productionResolver prefers the node agent when agentSocket is configured: one local
// round trip, no API request. When the agent does not answer (connect timeout 100 ms, or
// not ready) the invocation switches to direct mode, built lazily.
func productionResolver(ctx context.Context, conf *NetConf) (api.Resolver, api.StatusSink, error) {
	if conf.AgentSocket == "" {
		return directResolver(ctx, conf)
	}
	f := &agentclient.Fallback{
		Agent:  agentclient.New(conf.AgentSocket, conf.resolveOptions(), conf.PodResourcesSocket),
		Direct: func() (api.Resolver, api.StatusSink, error) { return directResolver(ctx, conf) },
	}
	return f, f, nil
}

// directResolver is direct mode: the API server through the kubeconfig (or the
// in-cluster service account), device IDs from the kubelet. Without any API access
// only file-based cluster and default networks resolve.
func directResolver(_ context.Context, conf *NetConf) (api.Resolver, api.StatusSink, error) {
	r := &resolve.Resolver{Opts: conf.resolveOptions(), Devices: &kube.PodResources{Socket: conf.PodResourcesSocket}}
	cfg, err := kube.LoadConfig(conf.Kubeconfig)
	switch {
	case errors.Is(err, kube.ErrNoConfig):
		return r, noopSink{}, nil
	case err != nil:
		return nil, nil, fmt.Errorf("kubeconfig %s: %w", conf.Kubeconfig, err)
	}
	client := kube.NewClient(cfg)
	r.Source, r.Requests = client, client.Requests
	return r, client, nil
}

type noopSink struct{}

func (noopSink) Report(context.Context, api.PodRef, *api.StatusReport) error { return nil }
