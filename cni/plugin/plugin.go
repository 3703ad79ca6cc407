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
	"io"
	"os"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/plexus-net/plexus/cni/api"
)

// Plugin is plexus-cni with its effects injected. The zero value is production.
type Plugin struct {
	// Exec runs delegate binaries (nil: fileExec, libcni's exec with memory files for the
	// plugins' stdio).
	Exec invoke.Exec
	// NewResolver builds the resolver and status sink for one invocation (nil: the
	// node agent if agentSocket answers, else direct mode).
	NewResolver func(ctx context.Context, conf *NetConf) (api.Resolver, api.StatusSink, error)
	// Direct builds direct mode: the API server through the kubeconfig or the in-cluster
	// service account, device IDs from the kubelet (kube.DirectMode, in plexus-cni-direct).
	// nil in plexus-cni, which hands every command that needs the API server to
	// plexus-cni-direct (see DirectBinary).
	Direct func(ctx context.Context, conf *NetConf) (api.Resolver, api.StatusSink, error)
	// SkipAgent skips the node agent (plexus-cni-direct after a hand-off: the agent did not
	// answer plexus-cni a moment ago).
	SkipAgent bool
	// HandOff replaces the process with plexus-cni-direct (nil: exec). Tests inject it.
	HandOff func(args *skel.CmdArgs, reason string) error
	// Stdout receives the result (nil: os.Stdout).
	Stdout io.Writer
	// Stderr receives logs when no logFile is configured (nil: os.Stderr).
	Stderr io.Writer
	// DefaultRoutes applies default-route requests inside the netns (nil: netlink).
	DefaultRoutes func(netns string, plan []RouteChange) error
}

// invocation is the request-local state of one CNI call.
type invocation struct {
	args *skel.CmdArgs
	conf *NetConf
	k8s  *k8sArgs
	ref  api.PodRef
	log  *logger
	cni  *libcni.CNIConfig
	// delegateWall sums the wall time of the libcni calls (for the timing log line).
	delegateWall time.Duration
	start        time.Time
}

func (p *Plugin) stdout() io.Writer {
	if p.Stdout != nil {
		return p.Stdout
	}
	return os.Stdout
}

func (p *Plugin) stderr() io.Writer {
	if p.Stderr != nil {
		return p.Stderr
	}
	return os.Stderr
}

// begin parses what every command needs.
func (p *Plugin) begin(cmd string, args *skel.CmdArgs) (*invocation, error) {
	conf, err := LoadNetConf(args.StdinData)
	if err != nil {
		return nil, err
	}
	k, err := parseK8sArgs(args.Args)
	if err != nil {
		return nil, err
	}
	inv := &invocation{args: args, conf: conf, k8s: k, start: time.Now()}
	inv.ref = api.PodRef{Namespace: k.Namespace, Name: k.Name, UID: k.UID, ContainerID: args.ContainerID, IfName: args.IfName}
	inv.log = newLogger(conf, p.stderr(), fmt.Sprintf("%s %s %s: ", cmd, shortID(args.ContainerID), inv.ref))
	exe := p.Exec
	if exe == nil {
		exe = newFileExec(p.stderr())
	}
	inv.cni = libcni.NewCNIConfigWithCacheDir(conf.binDirs(args.Path), conf.CNIDir, exe) // libcni adds results/
	return inv, nil
}

// timing logs where the time of one command went (verbose level; the benchmark reads
// "delegates=" to separate plexus-cni's own overhead from the delegates').
func (inv *invocation) timing(phases ...any) {
	inv.log.Verbosef("Timing: total=%s delegates=%s %s", time.Since(inv.start), inv.delegateWall, fmt.Sprint(phases...))
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func (p *Plugin) resolver(ctx context.Context, inv *invocation) (api.Resolver, api.StatusSink, error) {
	if p.NewResolver != nil {
		return p.NewResolver(ctx, inv.conf)
	}
	r, s, err := p.productionResolver(ctx, inv.conf)
	if err != nil {
		return nil, nil, err
	}
	return r, handOffSink{sink: s, inv: inv}, nil
}

// waitReady waits for the readiness indicator file (spec §6.1.2).
func waitReady(ctx context.Context, conf *NetConf, wait bool) error {
	if conf.ReadinessIndicatorFile == "" {
		return nil
	}
	if _, err := os.Stat(conf.ReadinessIndicatorFile); err == nil {
		return nil
	}
	if !wait {
		return types.NewError(errPluginNotAvailable, "plexus-cni: cluster network not ready",
			fmt.Sprintf("readiness indicator file %s does not exist", conf.ReadinessIndicatorFile))
	}
	ctx, cancel := context.WithTimeout(ctx, conf.readinessTimeout())
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return types.NewError(types.ErrTryAgainLater, "plexus-cni: cluster network not ready",
				fmt.Sprintf("readiness indicator file %s did not appear within %s", conf.ReadinessIndicatorFile, conf.readinessTimeout()))
		case <-t.C:
			if _, err := os.Stat(conf.ReadinessIndicatorFile); err == nil {
				return nil
			}
		}
	}
}

// errPluginNotAvailable is CNI error code 50 (STATUS: cannot service ADD).
const errPluginNotAvailable uint = 50

// toCNIError maps a resolution error to a CNI error, keeping a *types.Error as is.
func toCNIError(err error) error {
	var te *types.Error
	if errors.As(err, &te) {
		return err
	}
	var re *api.ResolveError
	if errors.As(err, &re) {
		code := types.ErrInvalidNetworkConfig
		if re.Transient {
			code = types.ErrTryAgainLater
		}
		return types.NewError(code, "plexus-cni: "+err.Error(), "")
	}
	return types.NewError(types.ErrInternal, "plexus-cni: "+err.Error(), "")
}
