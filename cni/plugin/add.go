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
	"path/filepath"
	"strings"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/netattach"
)

// CmdAdd attaches the pod to its cluster network and every selected network.
func (p *Plugin) CmdAdd(args *skel.CmdArgs) error {
	inv, err := p.begin("ADD", args)
	if err != nil {
		return err
	}
	defer inv.log.Close()
	ctx := context.Background()
	if err := waitReady(ctx, inv.conf, true); err != nil {
		return err
	}
	resolver, sink, err := p.resolver(ctx, inv)
	if handOffErr(err) {
		return p.handOff(inv, err)
	}
	if err != nil {
		return toCNIError(err)
	}
	tResolve := time.Now()
	rctx, cancel := context.WithTimeout(ctx, inv.conf.apiTimeout())
	resolved, err := resolver.Resolve(rctx, inv.ref)
	cancel()
	resolveWall := time.Since(tResolve)
	if handOffErr(err) {
		return p.handOff(inv, err)
	}
	if err != nil {
		inv.log.Errorf("Failed to resolve attachments: %v", err)
		var re *api.ResolveError
		if errors.As(err, &re) && re.Reason != "" {
			inv.warn(ctx, sink, re.Reason, err.Error())
		}
		return toCNIError(err)
	}
	inv.log.Verbosef("Resolved %d attachments (%d API requests)", len(resolved.Attachments), resolved.APIRequests)
	entry := &cacheEntry{ContainerID: args.ContainerID, PodNamespace: inv.ref.Namespace, PodName: inv.ref.Name,
		PodUID: resolved.UID, CNIArgs: inv.k8s.delegateArgs(args.ContainerID)}
	for i := range resolved.Attachments {
		d, err := buildDelegate(&resolved.Attachments[i], inv.conf, args.ContainerID)
		if err != nil {
			inv.warn(ctx, sink, api.ReasonInvalidNetworkConfig, err.Error())
			return err
		}
		entry.Delegates = append(entry.Delegates, d)
	}
	tCache := time.Now()
	if err := saveCache(inv.conf.CNIDir, entry); err != nil {
		return types.NewError(types.ErrIOFailure, "plexus-cni: failed to save the delegate cache", err.Error())
	}
	cacheWall := time.Since(tCache)
	results, err := inv.addAll(ctx, p, entry)
	if err != nil {
		inv.warn(ctx, sink, api.ReasonAddFailed, err.Error())
		return err
	}
	report := inv.report(entry, results, resolved)
	tStatus := time.Now()
	if inv.ref.Name != "" && (!resolved.SkipStatus || len(report.Events) > 0) {
		sctx, cancel := context.WithTimeout(ctx, inv.conf.apiTimeout())
		if err := sink.Report(sctx, inv.ref, report); err != nil {
			// The pod's networking is in place; the status is observability and must
			// not tear it down (the agent journals it instead of failing).
			inv.log.Errorf("Failed to publish network-status: %v", err)
		}
		cancel()
	}
	inv.timing("resolve=", resolveWall, " cache=", cacheWall, " status=", time.Since(tStatus), " api=", resolved.APIRequests)
	return printResult(p.stdout(), results[0], inv.conf.CNIVersion)
}

func printResult(w io.Writer, res types.Result, cniVersion string) error {
	conv, err := res.GetAsVersion(cniVersion)
	if err != nil {
		return types.NewError(types.ErrIncompatibleCNIVersion, "plexus-cni: cannot convert the cluster network's result", err.Error())
	}
	if err := conv.PrintTo(w); err != nil {
		return types.NewError(types.ErrIOFailure, "plexus-cni: failed to print the result", err.Error())
	}
	return nil
}

// addAll runs the delegates in order; on failure it rolls back (DEL in reverse, the
// failed one included) and returns the delegate's original error.
func (inv *invocation) addAll(ctx context.Context, p *Plugin, entry *cacheEntry) ([]types.Result, error) {
	results := make([]types.Result, len(entry.Delegates))
	for i, d := range entry.Delegates {
		res, err := inv.addOne(ctx, d, entry)
		if err != nil {
			inv.log.Errorf("ADD of %s (%s) failed, rolling back: %v", d.Network, d.IfName, err)
			inv.rollback(ctx, entry, i)
			return nil, fmt.Errorf("attachment %s (%s): %w", d.Network, d.IfName, err)
		}
		results[i] = res
	}
	if err := inv.fixDefaultRoutes(p, entry, results); err != nil {
		inv.log.Errorf("Default-route setup failed, rolling back: %v", err)
		inv.rollback(ctx, entry, len(entry.Delegates)-1)
		return nil, types.NewError(types.ErrInternal, "plexus-cni: default-route setup failed", err.Error())
	}
	return results, nil
}

func (inv *invocation) addOne(ctx context.Context, d *delegate, entry *cacheEntry) (types.Result, error) {
	list, err := d.confList()
	if err != nil {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, err.Error(), "")
	}
	if d.DeviceInfoFile != "" && d.ResourceName != "" {
		// The device plugin's device-info if it wrote one, else a minimal PCI entry; the
		// delegate may refine the file during ADD (it gets the path as CNIDeviceInfoFile).
		src := netattach.DevicePluginDeviceInfoPath(filepath.Join(inv.conf.DeviceInfoDir, "dp"), d.ResourceName, d.DeviceID)
		di, err := netattach.LoadDeviceInfo(src)
		if err != nil {
			di = netattach.PCIDeviceInfo(d.DeviceID)
		}
		if err := netattach.SaveDeviceInfo(d.DeviceInfoFile, di); err != nil {
			inv.log.Errorf("Failed to write device-info %s: %v", d.DeviceInfoFile, err)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, inv.conf.delegateTimeout())
	defer cancel()
	inv.log.Debugf("ADD %s as %s", d.Network, d.IfName)
	t := time.Now()
	defer func() { inv.delegateWall += time.Since(t) }()
	return inv.cni.AddNetworkList(dctx, list, d.runtimeConf(entry.ContainerID, inv.args.Netns, entry.CNIArgs))
}

// rollback DELs delegates last..0 in reverse; errors are logged, the cache is removed
// only when every DEL succeeded (a later runtime DEL retries otherwise).
func (inv *invocation) rollback(ctx context.Context, entry *cacheEntry, last int) {
	var errs []error
	for i := last; i >= 0; i-- {
		if err := inv.delOne(ctx, entry.Delegates[i], entry); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		inv.log.Errorf("Rollback incomplete, keeping the delegate cache for DEL: %v", err)
		return
	}
	if err := removeCache(inv.conf.CNIDir, entry.ContainerID); err != nil {
		inv.log.Errorf("Failed to remove the delegate cache: %v", err)
	}
}

func (inv *invocation) delOne(ctx context.Context, d *delegate, entry *cacheEntry) error {
	list, err := d.confList()
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, inv.conf.delegateTimeout())
	defer cancel()
	inv.log.Debugf("DEL %s as %s", d.Network, d.IfName)
	t := time.Now()
	err = inv.cni.DelNetworkList(dctx, list, d.runtimeConf(entry.ContainerID, inv.args.Netns, entry.CNIArgs))
	inv.delegateWall += time.Since(t)
	if err != nil {
		return fmt.Errorf("attachment %s (%s): %w", d.Network, d.IfName, err)
	}
	if d.DeviceInfoFile != "" {
		if err := os.Remove(d.DeviceInfoFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			inv.log.Errorf("Failed to remove device-info file %s: %v", d.DeviceInfoFile, err)
		}
	}
	return nil
}

// fixDefaultRoutes applies default-route requests in the netns, then to the results
// and libcni's cached results.
func (inv *invocation) fixDefaultRoutes(p *Plugin, entry *cacheEntry, results []types.Result) error {
	plan := planDefaultRoutes(entry.Delegates)
	if len(plan) == 0 {
		return nil
	}
	apply := p.DefaultRoutes
	if apply == nil {
		apply = applyDefaultRoutes
	}
	if err := apply(inv.args.Netns, plan); err != nil {
		return err
	}
	for i, c := range plan {
		d := entry.Delegates[i]
		r, err := rewriteResult(results[i], c)
		if err != nil {
			return err
		}
		results[i] = r
		list, err := d.confList()
		if err != nil {
			return err
		}
		if err := rewriteCachedResult(inv.conf.CNIDir, list.Name, entry.ContainerID, d.IfName, r, list.CNIVersion); err != nil {
			inv.log.Errorf("Failed to update libcni's cached result of %s: %v", d.Network, err)
		}
	}
	return nil
}

// report builds the network-status and the AddedInterface events.
func (inv *invocation) report(entry *cacheEntry, results []types.Result, resolved *api.ResolvedPod) *api.StatusReport {
	rep := &api.StatusReport{UID: resolved.UID}
	var statuses []netattach.NetworkStatus
	for i, d := range entry.Delegates {
		var di *netattach.DeviceInfo
		if d.DeviceInfoFile != "" {
			if loaded, err := netattach.LoadDeviceInfo(d.DeviceInfoFile); err == nil {
				di = loaded
			} else if d.ResourceName != "" {
				di = netattach.PCIDeviceInfo(d.DeviceID)
			}
		}
		st, err := netattach.BuildNetworkStatus(d.Network, results[i], d.ClusterNetwork, di)
		if err != nil {
			inv.log.Errorf("Failed to build network-status of %s: %v", d.Network, err)
			st = []netattach.NetworkStatus{{Name: d.Network, Interface: d.IfName, Default: d.ClusterNetwork}}
		}
		statuses = append(statuses, st...)
		rep.Events = append(rep.Events, api.Event{Type: api.EventTypeNormal, Reason: api.ReasonAddedInterface,
			Message: fmt.Sprintf("Add %s [%s] from %s", d.IfName, strings.Join(netattach.ResultIPs(results[i], d.IfName), " "), d.Network)})
	}
	if !resolved.SkipStatus {
		rep.NetworkStatus = statuses
	}
	return rep
}

// warn records a Warning event on the pod, best effort and bounded.
func (inv *invocation) warn(ctx context.Context, sink api.StatusSink, reason, msg string) {
	if sink == nil || inv.ref.Name == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, inv.conf.apiTimeout())
	defer cancel()
	ev := api.Event{Type: api.EventTypeWarning, Reason: reason, Message: msg}
	if err := sink.Report(ctx, inv.ref, &api.StatusReport{Events: []api.Event{ev}}); err != nil {
		inv.log.Errorf("Failed to record event %s: %v", reason, err)
	}
}
