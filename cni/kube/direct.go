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

package kube

import (
	"context"
	"errors"
	"fmt"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/plugin"
	"github.com/plexus-net/plexus/cni/resolve"
)

// DirectMode is plugin.Plugin's Direct in plexus-cni-direct: the API server through the
// kubeconfig (or the in-cluster service account), device IDs from the kubelet. Without any
// API access only file-based cluster and default networks resolve.
func DirectMode(_ context.Context, conf *plugin.NetConf) (api.Resolver, api.StatusSink, error) {
	r := &resolve.Resolver{Opts: conf.ResolveOptions(), Devices: &PodResources{Socket: conf.PodResourcesSocket}}
	cfg, err := LoadConfig(conf.Kubeconfig)
	switch {
	case errors.Is(err, ErrNoConfig):
		return r, plugin.NoopSink{}, nil
	case err != nil:
		return nil, nil, fmt.Errorf("kubeconfig %s: %w", conf.Kubeconfig, err)
	}
	client := NewClient(cfg)
	r.Source, r.Requests = client, client.Requests
	return r, client, nil
}
