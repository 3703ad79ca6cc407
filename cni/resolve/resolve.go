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

package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/netattach"
)

// Pod is the part of a pod resolution needs.
type Pod struct {
	Namespace   string
	Name        string
	UID         string
	Annotations map[string]string
}

// ErrNotFound is returned (wrapped) by a Source when an object does not exist.
var ErrNotFound = errors.New("not found")

// Source reads pods and NetworkAttachmentDefinitions. It must be safe for concurrent
// use: the NADs of one pod are read in parallel.
type Source interface {
	GetPod(ctx context.Context, namespace, name string) (*Pod, error)
	GetNAD(ctx context.Context, namespace, name string) (*netattach.NetworkAttachmentDefinition, error)
}

// DeviceLookup returns the device IDs allocated to a pod per resource name.
type DeviceLookup interface {
	DeviceIDs(ctx context.Context, namespace, name string) (map[string][]string, error)
}

// Options are the meta-plugin configuration keys resolution uses.
type Options struct {
	// ClusterNetwork is a conf file path, a conf directory, or a NAD name.
	ClusterNetwork string
	// DefaultNetworks are attached to every pod outside SystemNamespaces.
	DefaultNetworks []string
	// SystemNamespaces get no DefaultNetworks and no network-status write.
	SystemNamespaces []string
	// MultusNamespace holds the NADs of ClusterNetwork, DefaultNetworks and the
	// default-network annotation.
	MultusNamespace string
	// NamespaceIsolation restricts pods to NADs of their namespace and GlobalNamespaces.
	NamespaceIsolation bool
	GlobalNamespaces   []string
	// ConfDir holds on-disk configurations of NADs without spec.config.
	ConfDir string
}

// Resolver implements api.Resolver over a Source. It is safe for concurrent use.
type Resolver struct {
	Source  Source
	Devices DeviceLookup
	Opts    Options
	// Requests, when set, returns the number of API requests made so far.
	Requests func() int

	// nads memoises NAD reads within one Resolve (a NAD selected twice is read once);
	// prefetch fills it concurrently.
	nads map[string]nadResult
}

type nadResult struct {
	nad *netattach.NetworkAttachmentDefinition
	err error
}

// maxPrefetch bounds the concurrent NAD reads of one resolution.
const maxPrefetch = 8

var _ api.Resolver = (*Resolver)(nil)

// Resolve implements api.Resolver.
func (r *Resolver) Resolve(ctx context.Context, ref api.PodRef) (*api.ResolvedPod, error) {
	before := r.requests()
	call := *r // per-call copy: Resolve is safe for concurrent use
	call.nads = map[string]nadResult{}
	out, err := call.resolve(ctx, ref)
	if out != nil {
		out.APIRequests = r.requests() - before
	}
	return out, err
}

func (r *Resolver) requests() int {
	if r.Requests == nil {
		return 0
	}
	return r.Requests()
}

type pending struct {
	elem    *netattach.NetworkSelectionElement
	nad     *netattach.NetworkAttachmentDefinition
	network string
	config  []byte
	cluster bool
}

func (r *Resolver) resolve(ctx context.Context, ref api.PodRef) (*api.ResolvedPod, error) {
	var pod *Pod
	if ref.Name != "" && r.Source != nil {
		p, err := r.Source.GetPod(ctx, ref.Namespace, ref.Name)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, &api.ResolveError{Transient: true, Err: fmt.Errorf("pod %s: %w", ref, api.ErrPodNotFound)}
		case err != nil:
			return nil, &api.ResolveError{Transient: true, Err: fmt.Errorf("failed to get pod %s: %w: %w", ref, api.ErrUnavailable, err)}
		}
		if ref.UID != "" && p.UID != ref.UID && !isStaticPod(p) {
			return nil, &api.ResolveError{Transient: true,
				Err: fmt.Errorf("pod %s has UID %s, the runtime asked for %s: %w", ref, p.UID, ref.UID, api.ErrPodNotFound)}
		}
		pod = p
	}
	var elems []netattach.NetworkSelectionElement
	if pod != nil {
		var err error
		if elems, err = netattach.ParseNetworks(pod.Annotations[netattach.NetworksAnnotation], pod.Namespace); err != nil {
			return nil, &api.ResolveError{Reason: api.ReasonInvalidNetworkAnnotation, Err: err}
		}
	}
	inSystemNS := pod != nil && slices.Contains(r.Opts.SystemNamespaces, pod.Namespace)
	r.prefetch(ctx, r.nadKeys(pod, elems, inSystemNS))
	var list []pending
	cluster, err := r.clusterNetwork(ctx, pod)
	if err != nil {
		return nil, err
	}
	list = append(list, *cluster)
	if !inSystemNS {
		for _, dn := range r.Opts.DefaultNetworks {
			p, err := r.byName(ctx, dn, "defaultNetworks")
			if err != nil {
				return nil, err
			}
			list = append(list, *p)
		}
	}
	for i := range elems {
		p, err := r.selected(ctx, pod, &elems[i])
		if err != nil {
			return nil, err
		}
		list = append(list, *p)
	}
	out := &api.ResolvedPod{SkipStatus: pod == nil || inSystemNS}
	if pod != nil {
		out.UID = pod.UID
	}
	if err := r.build(ctx, ref, list, out); err != nil {
		return nil, err
	}
	return out, nil
}

// isStaticPod reports whether p is the mirror of a static pod (its UID differs from the
// one the kubelet uses).
func isStaticPod(p *Pod) bool {
	src, ok := p.Annotations["kubernetes.io/config.source"]
	return (ok && src != "api") || p.Annotations["kubernetes.io/config.mirror"] != ""
}

// clusterNetwork resolves attachment 0: the default-network annotation, else
// ClusterNetwork as a file, a directory or a name (NAD, then on-disk conf).
func (r *Resolver) clusterNetwork(ctx context.Context, pod *Pod) (*pending, error) {
	if pod != nil {
		elem, err := netattach.ParseDefaultNetwork(pod.Annotations[netattach.DefaultNetworkAnnotation], r.Opts.MultusNamespace)
		if err != nil {
			return nil, &api.ResolveError{Reason: api.ReasonInvalidNetworkAnnotation, Err: err}
		}
		if elem != nil {
			p, err := r.nad(ctx, elem.Namespace, elem.Name)
			if err != nil {
				return nil, err
			}
			p.cluster = true
			return p, nil
		}
	}
	p, err := r.byName(ctx, r.Opts.ClusterNetwork, "clusterNetwork")
	if err != nil {
		return nil, err
	}
	p.cluster = true
	return p, nil
}

// byName resolves a clusterNetwork/defaultNetworks value (Multus rules).
func (r *Resolver) byName(ctx context.Context, value, key string) (*pending, error) {
	if value == "" {
		return nil, api.NewResolveError(api.ReasonInvalidNetworkConfig, false, "%s is not configured", key)
	}
	if strings.Contains(value, "/") {
		path, conf, err := loadPath(value)
		if err != nil {
			return nil, &api.ResolveError{Reason: api.ReasonInvalidNetworkConfig, Transient: true,
				Err: fmt.Errorf("%s %s: %w", key, value, err)}
		}
		if err := netattach.ValidateNADConfig(conf); err != nil {
			return nil, &api.ResolveError{Reason: api.ReasonInvalidNetworkConfig, Err: fmt.Errorf("%s %s: %w", key, path, err)}
		}
		return &pending{network: confName(conf), config: conf}, nil
	}
	p, err := r.nad(ctx, r.Opts.MultusNamespace, value)
	if err == nil {
		return p, nil
	}
	if !errors.Is(err, api.ErrNetworkNotFound) {
		return nil, err
	}
	conf, ferr := netattach.LoadConfFromDir(r.Opts.ConfDir, value)
	if ferr != nil {
		return nil, err
	}
	if verr := netattach.ValidateNADConfig(conf); verr != nil {
		return nil, &api.ResolveError{Reason: api.ReasonInvalidNetworkConfig, Err: fmt.Errorf("%s %s: %w", key, value, verr)}
	}
	return &pending{network: value, config: conf}, nil
}

func loadPath(path string) (string, []byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	if fi.IsDir() {
		return netattach.FirstConfInDir(path)
	}
	b, err := os.ReadFile(path)
	return path, b, err
}

func confName(conf []byte) string {
	var hdr struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(conf, &hdr) // a conf that does not parse has no name
	return hdr.Name
}

// selected resolves one element of the networks annotation.
func (r *Resolver) selected(ctx context.Context, pod *Pod, e *netattach.NetworkSelectionElement) (*pending, error) {
	if r.Opts.NamespaceIsolation && e.Namespace != pod.Namespace && !slices.Contains(r.Opts.GlobalNamespaces, e.Namespace) {
		return nil, &api.ResolveError{Reason: api.ReasonNetworkNotAllowed, Err: fmt.Errorf(
			"namespace isolation: pod %s/%s may not use NetworkAttachmentDefinition %s (allowed namespaces: %s): %w",
			pod.Namespace, pod.Name, e.Key(), strings.Join(append([]string{pod.Namespace}, r.Opts.GlobalNamespaces...), ", "),
			api.ErrNetworkNotAllowed)}
	}
	p, err := r.nad(ctx, e.Namespace, e.Name)
	if err != nil {
		return nil, err
	}
	p.elem = e
	return p, nil
}

func (r *Resolver) nad(ctx context.Context, namespace, name string) (*pending, error) {
	if r.Source == nil {
		return nil, &api.ResolveError{Reason: api.ReasonNoNetworkFound,
			Err: fmt.Errorf("NetworkAttachmentDefinition %s/%s: no API access configured: %w", namespace, name, api.ErrNetworkNotFound)}
	}
	key := namespace + "/" + name
	res, ok := r.nads[key]
	if !ok {
		res.nad, res.err = r.Source.GetNAD(ctx, namespace, name)
		if r.nads != nil {
			r.nads[key] = res
		}
	}
	nad, err := res.nad, res.err
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, &api.ResolveError{Reason: api.ReasonNoNetworkFound, Transient: true,
			Err: fmt.Errorf("NetworkAttachmentDefinition %s/%s: %w", namespace, name, api.ErrNetworkNotFound)}
	case err != nil:
		return nil, &api.ResolveError{Transient: true,
			Err: fmt.Errorf("failed to get NetworkAttachmentDefinition %s/%s: %w: %w", namespace, name, api.ErrUnavailable, err)}
	}
	conf, err := netattach.ResolveNADConfig(nad, r.Opts.ConfDir)
	if err != nil {
		return nil, &api.ResolveError{Reason: api.ReasonInvalidNetworkConfig, Err: err}
	}
	return &pending{nad: nad, network: namespace + "/" + name, config: conf}, nil
}

// nadKeys lists the NADs ("ns/name") resolution will read, in order, without duplicates:
// the default-network annotation's or the clusterNetwork name, the defaultNetworks
// names, and the selected networks namespace isolation allows.
func (r *Resolver) nadKeys(pod *Pod, elems []netattach.NetworkSelectionElement, inSystemNS bool) []string {
	var keys []string
	add := func(ns, name string) {
		if k := ns + "/" + name; !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	byName := func(v string) {
		if v != "" && !strings.Contains(v, "/") {
			add(r.Opts.MultusNamespace, v)
		}
	}
	var dn *netattach.NetworkSelectionElement
	if pod != nil {
		dn, _ = netattach.ParseDefaultNetwork(pod.Annotations[netattach.DefaultNetworkAnnotation], r.Opts.MultusNamespace)
	}
	if dn != nil {
		add(dn.Namespace, dn.Name)
	} else {
		byName(r.Opts.ClusterNetwork)
	}
	if !inSystemNS {
		for _, v := range r.Opts.DefaultNetworks {
			byName(v)
		}
	}
	for _, e := range elems {
		if !r.Opts.NamespaceIsolation || e.Namespace == pod.Namespace || slices.Contains(r.Opts.GlobalNamespaces, e.Namespace) {
			add(e.Namespace, e.Name)
		}
	}
	return keys
}

// prefetch reads several NADs concurrently into the memo, so resolution pays one
// round trip instead of one per NAD. Errors are memoised and reported in order later.
func (r *Resolver) prefetch(ctx context.Context, keys []string) {
	if r.Source == nil || len(keys) < 2 {
		return
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, maxPrefetch)
	)
	for _, k := range keys {
		ns, name, _ := strings.Cut(k, "/")
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nad, err := r.Source.GetNAD(ctx, ns, name)
			mu.Lock()
			r.nads[k] = nadResult{nad: nad, err: err}
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// build assigns interface names, capability arguments and device IDs.
func (r *Resolver) build(ctx context.Context, ref api.PodRef, list []pending, out *api.ResolvedPod) error {
	var devices map[string][]string
	used := map[string]int{}
	for i := range list {
		p := &list[i]
		a := api.Attachment{Network: p.network, Config: p.config, ClusterNetwork: p.cluster}
		switch {
		case p.cluster:
			a.IfName = ref.IfName
		case p.elem != nil && p.elem.InterfaceName != "":
			a.IfName = p.elem.InterfaceName
		default:
			a.IfName = fmt.Sprintf("net%d", i)
		}
		if p.nad != nil && p.nad.ResourceName() != "" && !p.cluster {
			a.ResourceName = p.nad.ResourceName()
			if devices == nil && r.Devices != nil && ref.Name != "" {
				d, err := r.Devices.DeviceIDs(ctx, ref.Namespace, ref.Name)
				if err != nil {
					return &api.ResolveError{Transient: true, Err: fmt.Errorf("failed to get device IDs of pod %s: %w", ref, err)}
				}
				devices = d
			}
			ids := slices.Clone(devices[a.ResourceName])
			sort.Strings(ids)
			if n := used[a.ResourceName]; n < len(ids) {
				a.DeviceID, a.DeviceIDFromResource = ids[n], true
			}
			used[a.ResourceName]++
		}
		if e := p.elem; e != nil {
			a.RuntimeConfig = selectionRuntimeConfig(e)
			if a.DeviceID == "" && e.DeviceID != "" {
				a.DeviceID = e.DeviceID
			}
			a.CNIArgs = e.CNIArgs
			a.GatewayRequest = e.GatewayRequest
			a.ClaimsDefaultRoute = e.HasDefaultRoute()
		}
		out.Attachments = append(out.Attachments, a)
	}
	seen := map[string]int{}
	for i, a := range out.Attachments {
		if j, dup := seen[a.IfName]; dup {
			return api.NewResolveError(api.ReasonInvalidNetworkAnnotation, false,
				"attachments %d (%s) and %d (%s) both use interface %s", j, out.Attachments[j].Network, i, a.Network, a.IfName)
		}
		seen[a.IfName] = i
	}
	return nil
}

// selectionRuntimeConfig maps the capability keys of a selection element.
func selectionRuntimeConfig(e *netattach.NetworkSelectionElement) map[string]any {
	rc := map[string]any{}
	if len(e.IPRequest) > 0 {
		rc["ips"] = e.IPRequest
	}
	if e.MacRequest != "" {
		rc["mac"] = e.MacRequest
	}
	if e.BandwidthRequest != nil {
		rc["bandwidth"] = e.BandwidthRequest
	}
	if len(e.PortMappings) > 0 {
		rc["portMappings"] = e.PortMappings
	}
	if e.InfinibandGUIDRequest != "" {
		rc["infinibandGUID"] = e.InfinibandGUIDRequest
	}
	if e.DeviceID != "" {
		rc["deviceID"] = e.DeviceID
	}
	if len(rc) == 0 {
		return nil
	}
	return rc
}
