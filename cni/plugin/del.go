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
	"strings"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	cniversion "github.com/containernetworking/cni/pkg/version"
)

// CmdDel detaches every delegate, in reverse order, from the cache saved at ADD. It
// needs neither the API server, nor the NAD, nor the pod. Without a cache it resolves
// the pod as ADD would, and failing that detaches the cluster network alone.
func (p *Plugin) CmdDel(args *skel.CmdArgs) error {
	inv, err := p.begin("DEL", args)
	if err != nil {
		return err
	}
	defer inv.log.Close()
	ctx := context.Background()
	tLoad := time.Now()
	entry, err := loadCache(inv.conf.CNIDir, args.ContainerID)
	loadWall := time.Since(tLoad)
	if err != nil {
		inv.log.Infof("No usable delegate cache (%v); resolving the pod instead", err)
		entry, err = inv.resolveForDel(ctx, p)
		if handOffErr(err) {
			return p.handOff(inv, err)
		}
		if entry == nil {
			return nil
		}
	}
	var errs []error
	for i := len(entry.Delegates) - 1; i >= 0; i-- {
		if err := inv.delOne(ctx, entry.Delegates[i], entry); err != nil {
			inv.log.Errorf("DEL failed: %v", err)
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// Keep the cache: the runtime retries DEL and must find the same delegates.
		return delError(errs)
	}
	tRemove := time.Now()
	if err := removeCache(inv.conf.CNIDir, args.ContainerID); err != nil {
		return types.NewError(types.ErrIOFailure, "plexus-cni: "+err.Error(), "")
	}
	inv.timing("cache-load=", loadWall, " cache-remove=", time.Since(tRemove))
	return nil
}

// delError returns the single delegate error as is (its *types.Error preserved), or
// one error naming every failure.
func delError(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	code := types.ErrInternal
	var te *types.Error
	if errors.As(errs[0], &te) {
		code = te.Code
	}
	return types.NewError(code, fmt.Sprintf("plexus-cni: %d delegates failed DEL", len(errs)), strings.Join(msgs, "; "))
}

// resolveForDel rebuilds the delegate list without a cache: the resolver first, then
// the cluster network alone (no pod). nil means there is nothing to delete; the error is
// only ever errHandOff (resolution needs plexus-cni-direct).
func (inv *invocation) resolveForDel(ctx context.Context, p *Plugin) (*cacheEntry, error) {
	entry := &cacheEntry{ContainerID: inv.args.ContainerID, CNIArgs: inv.k8s.delegateArgs(inv.args.ContainerID)}
	resolver, _, err := p.resolver(ctx, inv)
	if handOffErr(err) {
		return nil, err
	}
	if err != nil {
		inv.log.Errorf("Cannot resolve for DEL: %v", err)
		return nil, nil
	}
	rctx, cancel := context.WithTimeout(ctx, inv.conf.apiTimeout())
	defer cancel()
	resolved, err := resolver.Resolve(rctx, inv.ref)
	if handOffErr(err) {
		return nil, err
	}
	if err != nil && inv.ref.Name != "" {
		inv.log.Errorf("Cannot resolve pod for DEL (%v); detaching the cluster network only", err)
		noPod := inv.ref
		noPod.Name, noPod.Namespace, noPod.UID = "", "", ""
		resolved, err = resolver.Resolve(rctx, noPod)
	}
	if err != nil {
		inv.log.Errorf("Cannot resolve the cluster network for DEL, nothing detached: %v", err)
		return nil, nil
	}
	for i := range resolved.Attachments {
		d, err := buildDelegate(&resolved.Attachments[i], inv.conf, inv.args.ContainerID)
		if err != nil {
			inv.log.Errorf("Skipping %s on DEL: %v", resolved.Attachments[i].Network, err)
			continue
		}
		entry.Delegates = append(entry.Delegates, d)
	}
	return entry, nil
}

// CmdCheck forwards CHECK to every cached delegate whose version supports it.
func (p *Plugin) CmdCheck(args *skel.CmdArgs) error {
	inv, err := p.begin("CHECK", args)
	if err != nil {
		return err
	}
	defer inv.log.Close()
	entry, err := loadCache(inv.conf.CNIDir, args.ContainerID)
	if err != nil {
		return types.NewError(types.ErrUnknownContainer, "plexus-cni: container was not added by plexus-cni", err.Error())
	}
	ctx := context.Background()
	for _, d := range entry.Delegates {
		list, err := d.confList()
		if err != nil {
			return types.NewError(types.ErrInvalidNetworkConfig, err.Error(), "")
		}
		if ok, _ := cniversion.GreaterThanOrEqualTo(list.CNIVersion, "0.4.0"); !ok || list.DisableCheck {
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, inv.conf.delegateTimeout())
		err = inv.cni.CheckNetworkList(dctx, list, d.runtimeConf(entry.ContainerID, args.Netns, entry.CNIArgs))
		cancel()
		if err != nil {
			return fmt.Errorf("attachment %s (%s): %w", d.Network, d.IfName, err)
		}
	}
	return nil
}

// networks returns the cluster network (resolved without a pod) and every distinct
// delegate network found in the caches, keyed by libcni network name. The error is only
// ever errHandOff (the cluster network is a NAD and needs plexus-cni-direct).
func (inv *invocation) networks(ctx context.Context, p *Plugin) (cluster *libcni.NetworkConfigList, others map[string]*libcni.NetworkConfigList, caches []*cacheEntry, err error) {
	others = map[string]*libcni.NetworkConfigList{}
	resolver, _, err := p.resolver(ctx, inv)
	if handOffErr(err) {
		return nil, nil, nil, err
	}
	if err == nil {
		rctx, cancel := context.WithTimeout(ctx, inv.conf.apiTimeout())
		resolved, err := resolver.Resolve(rctx, inv.ref)
		cancel()
		if handOffErr(err) {
			return nil, nil, nil, err
		}
		if err == nil && len(resolved.Attachments) > 0 {
			if d, err := buildDelegate(&resolved.Attachments[0], inv.conf, ""); err == nil {
				cluster, _ = d.confList()
			}
		} else if err != nil {
			inv.log.Errorf("Cannot resolve the cluster network: %v", err)
		}
	}
	caches = listCaches(inv.conf.CNIDir)
	for _, e := range caches {
		for _, d := range e.Delegates {
			l, err := d.confList()
			if err != nil || (cluster != nil && l.Name == cluster.Name) {
				continue
			}
			others[l.Name] = l
		}
	}
	return cluster, others, caches, nil
}

// CmdStatus forwards STATUS to the cluster network (its error is ours) and to every
// cached secondary network (errors logged: one broken secondary network must not make
// the node's pod networking NotReady).
func (p *Plugin) CmdStatus(args *skel.CmdArgs) error {
	inv, err := p.begin("STATUS", args)
	if err != nil {
		return err
	}
	defer inv.log.Close()
	ctx := context.Background()
	if err := waitReady(ctx, inv.conf, false); err != nil {
		return err
	}
	cluster, others, _, err := inv.networks(ctx, p)
	if handOffErr(err) {
		return p.handOff(inv, err)
	}
	if cluster == nil {
		return types.NewError(errPluginNotAvailable, "plexus-cni: the cluster network cannot be resolved", "")
	}
	dctx, cancel := context.WithTimeout(ctx, inv.conf.delegateTimeout())
	defer cancel()
	if err := inv.cni.GetStatusNetworkList(dctx, cluster); err != nil {
		return fmt.Errorf("cluster network %s: %w", cluster.Name, err)
	}
	for name, l := range others {
		if err := inv.cni.GetStatusNetworkList(dctx, l); err != nil {
			inv.log.Errorf("STATUS of network %s failed: %v", name, err)
		}
	}
	return nil
}

// CmdGC gives every network (cluster and cached secondaries) its valid attachments:
// the delegates, recorded in plexus-cni's caches, of the containers the runtime says
// are valid. libcni then DELs stale attachments and forwards GC (CNI ≥ 1.1.0).
func (p *Plugin) CmdGC(args *skel.CmdArgs) error {
	inv, err := p.begin("GC", args)
	if err != nil {
		return err
	}
	defer inv.log.Close()
	ctx := context.Background()
	if err := waitReady(ctx, inv.conf, true); err != nil {
		return err
	}
	valid := map[string]bool{}
	for _, a := range inv.conf.ValidAttachments {
		valid[a.ContainerID] = true
	}
	cluster, others, caches, err := inv.networks(ctx, p)
	if handOffErr(err) {
		return p.handOff(inv, err)
	}
	perNetwork := map[string][]types.GCAttachment{}
	for _, e := range caches {
		if !valid[e.ContainerID] {
			continue
		}
		for _, d := range e.Delegates {
			if l, err := d.confList(); err == nil {
				perNetwork[l.Name] = append(perNetwork[l.Name], types.GCAttachment{ContainerID: e.ContainerID, IfName: d.IfName})
			}
		}
	}
	lists := make([]*libcni.NetworkConfigList, 0, len(others)+1)
	if cluster != nil {
		// The cluster network's attachments are exactly the runtime's (same ifname).
		perNetwork[cluster.Name] = append(perNetwork[cluster.Name], inv.conf.ValidAttachments...)
		lists = append(lists, cluster)
	}
	for _, l := range others {
		lists = append(lists, l)
	}
	var errs []error
	for _, l := range lists {
		dctx, cancel := context.WithTimeout(ctx, inv.conf.delegateTimeout())
		if err := inv.cni.GCNetworkList(dctx, l, &libcni.GCArgs{ValidAttachments: perNetwork[l.Name]}); err != nil {
			errs = append(errs, fmt.Errorf("network %s: %w", l.Name, err))
		}
		cancel()
	}
	if len(errs) > 0 {
		return delError(errs)
	}
	return nil
}
