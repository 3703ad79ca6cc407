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

package hugepages

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/sysfs"
)

// Reasons, equal to the NodeNetworkState condition reasons of the API.
const (
	ReasonShortfall        = plexusv1alpha1.NodeNetworkStateHugepagesShortfallReason
	ReasonReadBackMismatch = plexusv1alpha1.NodeNetworkStateReadBackMismatchReason
)

var (
	// ErrShortfall is wrapped by every *ShortfallError.
	ErrShortfall = errors.New(ReasonShortfall)
	// ErrReadBackMismatch means the pool holds more pages than requested after a write (pages
	// in use cannot be freed; they stay as surplus pages).
	ErrReadBackMismatch = errors.New(ReasonReadBackMismatch)
	// ErrUnsupportedPageSize means the page size is not 2Mi or 1Gi, or the kernel lacks the pool.
	ErrUnsupportedPageSize = errors.New("unsupported hugepage size")
)

// Target is a desired pool size.
type Target struct {
	// PageSize is "2Mi" or "1Gi".
	PageSize plexusv1alpha1.HugepageSize
	// NUMANode selects a per-node pool; nil is the node-wide pool.
	NUMANode *int
	// Count is the number of pages.
	Count int
}

// Pool is an observed pool.
type Pool struct {
	// PageSize is "2Mi" or "1Gi".
	PageSize plexusv1alpha1.HugepageSize
	// NUMANode is the NUMA node; nil for the node-wide pool.
	NUMANode *int
	// Requested is the target count (0 when Read without a target).
	Requested int
	// Allocated is nr_hugepages as read back.
	Allocated int
	// Free is free_hugepages.
	Free int
}

// ShortfallError reports a pool the kernel could not fill.
type ShortfallError struct {
	// Pool is the pool with Requested and Allocated.
	Pool Pool
}

func (e *ShortfallError) Error() string {
	return fmt.Sprintf("%s: %s: requested %d pages, allocated %d", poolName(e.Pool.PageSize, e.Pool.NUMANode),
		ReasonShortfall, e.Pool.Requested, e.Pool.Allocated)
}

// Unwrap returns ErrShortfall.
func (e *ShortfallError) Unwrap() error { return ErrShortfall }

// ReasonOf returns the reason of err: ReasonShortfall, ReasonReadBackMismatch or "".
func ReasonOf(err error) string {
	switch {
	case errors.Is(err, ErrShortfall):
		return ReasonShortfall
	case errors.Is(err, ErrReadBackMismatch):
		return ReasonReadBackMismatch
	}
	return ""
}

func sizeKB(ps plexusv1alpha1.HugepageSize) (int, error) {
	switch ps {
	case plexusv1alpha1.HugepageSize2Mi:
		return 2048, nil
	case plexusv1alpha1.HugepageSize1Gi:
		return 1048576, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrUnsupportedPageSize, ps)
}

func poolName(ps plexusv1alpha1.HugepageSize, node *int) string {
	if node == nil {
		return "hugepages-" + string(ps)
	}
	return fmt.Sprintf("hugepages-%s/numa%d", ps, *node)
}

// PoolDir returns the sysfs directory (relative to the root) of a pool.
func PoolDir(ps plexusv1alpha1.HugepageSize, node *int) (string, error) {
	kb, err := sizeKB(ps)
	if err != nil {
		return "", err
	}
	if node == nil {
		return fmt.Sprintf("kernel/mm/hugepages/hugepages-%dkB", kb), nil
	}
	return fmt.Sprintf("devices/system/node/node%d/hugepages/hugepages-%dkB", *node, kb), nil
}

// ReadPool reads one pool.
func ReadPool(root sysfs.Root, ps plexusv1alpha1.HugepageSize, node *int) (Pool, error) {
	dir, err := PoolDir(ps, node)
	if err != nil {
		return Pool{}, err
	}
	p := Pool{PageSize: ps, NUMANode: node}
	if p.Allocated, err = sysfs.ReadInt(root, dir+"/nr_hugepages"); err != nil {
		return Pool{}, fmt.Errorf("%s: %w", poolName(ps, node), err)
	}
	if p.Free, err = sysfs.ReadInt(root, dir+"/free_hugepages"); err != nil {
		return Pool{}, fmt.Errorf("%s: %w", poolName(ps, node), err)
	}
	return p, nil
}

// Read returns every 2Mi and 1Gi pool below root: the node-wide pools, then the per-NUMA pools,
// sorted by page size and node. Missing page sizes are skipped.
func Read(root sysfs.Root) ([]Pool, error) {
	var pools []Pool
	nodes := numaNodes(root)
	for _, ps := range []plexusv1alpha1.HugepageSize{plexusv1alpha1.HugepageSize2Mi, plexusv1alpha1.HugepageSize1Gi} {
		dir, _ := PoolDir(ps, nil)
		if !sysfs.Exists(root, dir) {
			continue
		}
		p, err := ReadPool(root, ps, nil)
		if err != nil {
			return nil, err
		}
		pools = append(pools, p)
		for _, n := range nodes {
			d, _ := PoolDir(ps, &n)
			if !sysfs.Exists(root, d) {
				continue
			}
			p, err := ReadPool(root, ps, &n)
			if err != nil {
				return nil, err
			}
			pools = append(pools, p)
		}
	}
	return pools, nil
}

func numaNodes(root sysfs.Root) []int {
	entries, err := root.ReadDir("devices/system/node")
	if err != nil {
		return nil
	}
	var nodes []int
	for _, e := range entries {
		if s, ok := strings.CutPrefix(e.Name(), "node"); ok {
			if n, err := strconv.Atoi(s); err == nil {
				nodes = append(nodes, n)
			}
		}
	}
	sort.Ints(nodes)
	return nodes
}

// Apply sets each target pool and reads it back. Per-NUMA targets are applied before node-wide
// ones. It returns the observed pools (with Requested set) and the joined errors: a
// *ShortfallError per pool the kernel could not fill, an ErrReadBackMismatch error per pool that
// kept more pages than requested. Writes of a pool that already has Count pages are skipped.
func Apply(ctx context.Context, root sysfs.Root, targets []Target) ([]Pool, error) {
	ordered := append([]Target(nil), targets...)
	sort.SliceStable(ordered, func(i, j int) bool {
		return ordered[i].NUMANode != nil && ordered[j].NUMANode == nil
	})
	var pools []Pool
	var errs []error
	for _, t := range ordered {
		if err := ctx.Err(); err != nil {
			return pools, errors.Join(append(errs, err)...)
		}
		p, err := applyOne(root, t)
		if err != nil {
			errs = append(errs, err)
		}
		if p.PageSize != "" {
			pools = append(pools, p)
		}
	}
	return pools, errors.Join(errs...)
}

func applyOne(root sysfs.Root, t Target) (Pool, error) {
	if t.Count < 0 {
		return Pool{}, fmt.Errorf("%s: negative count %d", poolName(t.PageSize, t.NUMANode), t.Count)
	}
	dir, err := PoolDir(t.PageSize, t.NUMANode)
	if err != nil {
		return Pool{}, err
	}
	if !sysfs.Exists(root, dir+"/nr_hugepages") {
		return Pool{}, fmt.Errorf("%w: %s not present", ErrUnsupportedPageSize, poolName(t.PageSize, t.NUMANode))
	}
	cur, err := ReadPool(root, t.PageSize, t.NUMANode)
	if err != nil {
		return Pool{}, err
	}
	if cur.Allocated != t.Count {
		if err := sysfs.WriteInt(root, dir+"/nr_hugepages", t.Count); err != nil {
			cur.Requested = t.Count
			return cur, fmt.Errorf("%s: set nr_hugepages to %d: %w", poolName(t.PageSize, t.NUMANode), t.Count, err)
		}
		if cur, err = ReadPool(root, t.PageSize, t.NUMANode); err != nil {
			return Pool{}, err
		}
	}
	cur.Requested = t.Count
	switch {
	case cur.Allocated < t.Count:
		return cur, &ShortfallError{Pool: cur}
	case cur.Allocated > t.Count:
		return cur, fmt.Errorf("%s: requested %d pages, %d remain (pages in use): %w",
			poolName(t.PageSize, t.NUMANode), t.Count, cur.Allocated, ErrReadBackMismatch)
	}
	return cur, nil
}

// Status converts a pool to its NodeNetworkState representation.
func (p Pool) Status() plexusv1alpha1.HugepagesStatus {
	s := plexusv1alpha1.HugepagesStatus{
		PageSize:  p.PageSize,
		Requested: int32(p.Requested),
		Allocated: int32(p.Allocated),
		Free:      int32(p.Free),
	}
	if p.NUMANode != nil {
		n := int32(*p.NUMANode)
		s.NUMANode = &n
	}
	return s
}
