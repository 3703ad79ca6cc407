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

package hardware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/hugepages"
)

// hugepagesState records, per pool Plexus resized, the size the pool had before, so the pool
// goes back to it when no policy wants it any more (the SR-IOV state file's "owned" idea).
type hugepagesState struct {
	// Original maps poolKey to nr_hugepages before Plexus first wrote the pool.
	Original map[string]int `json:"original,omitempty"`
}

func poolKey(ps plexusv1alpha1.HugepageSize, node *int) string {
	if node == nil {
		return string(ps)
	}
	return fmt.Sprintf("%s/numa%d", ps, *node)
}

func (r *Reconciler) hugepagesStateFile() string {
	return filepath.Join(r.StateDir, "hugepages-state.json")
}

func loadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("failed to parse %s: %w", path, err)
	}
	return nil
}

// saveJSON writes v atomically (temp file, fsync, rename).
func saveJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("failed to encode %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // no-op after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("failed to sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("failed to close %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to rename %s: %w", path, err)
	}
	return nil
}

// hugepagesOutcome is what applyHugepages did.
type hugepagesOutcome struct {
	// pools has one result per target, in apply order (per-NUMA pools first, as
	// hugepages.Apply does).
	pools []poolResult
	// releaseErr is the failure to give released pools their original size back.
	releaseErr error
}

// applyHugepages sizes every target pool and gives pools Plexus resized earlier but no policy
// wants any more back their original size. It returns an error only when the state file cannot
// be read or written; pool failures are in the outcome.
func (r *Reconciler) applyHugepages(ctx context.Context, targets []hugepages.Target) (hugepagesOutcome, error) {
	var st hugepagesState
	if err := loadJSON(r.hugepagesStateFile(), &st); err != nil {
		return hugepagesOutcome{}, err
	}
	if st.Original == nil {
		st.Original = map[string]int{}
	}
	wanted := map[string]bool{}
	recorded := false
	for _, t := range targets {
		k := poolKey(t.PageSize, t.NUMANode)
		wanted[k] = true
		if _, ok := st.Original[k]; ok {
			continue
		}
		cur, err := hugepages.ReadPool(r.SysRoot, t.PageSize, t.NUMANode)
		if err != nil {
			continue // reported by Apply below
		}
		st.Original[k], recorded = cur.Allocated, true
	}
	// NOTE: the original sizes are saved before the first write, so a crash never loses them.
	if recorded {
		if err := saveJSON(r.hugepagesStateFile(), st); err != nil {
			return hugepagesOutcome{}, err
		}
	}

	ordered := append([]hugepages.Target(nil), targets...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].NUMANode != nil && ordered[j].NUMANode == nil })
	results := make([]poolResult, 0, len(ordered))
	for _, t := range ordered {
		pools, err := hugepages.Apply(ctx, r.SysRoot, []hugepages.Target{t})
		pr := poolResult{target: t, err: err}
		if len(pools) > 0 {
			pr.pool = pools[0]
		}
		results = append(results, pr)
	}

	var releaseErrs []error
	released := false
	keys := make([]string, 0, len(st.Original))
	for k := range st.Original {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if wanted[k] {
			continue
		}
		t, err := targetOf(k, st.Original[k])
		if err == nil {
			_, err = hugepages.Apply(ctx, r.SysRoot, []hugepages.Target{t})
		}
		if err != nil && !errors.Is(err, hugepages.ErrShortfall) {
			releaseErrs = append(releaseErrs, fmt.Errorf("restore hugepages %s to %d pages: %w", k, st.Original[k], err))
			continue
		}
		// A shortfall restoring a larger original size is not retried forever: the pool is
		// no longer Plexus's.
		delete(st.Original, k)
		released = true
	}
	if released {
		if err := saveJSON(r.hugepagesStateFile(), st); err != nil {
			return hugepagesOutcome{pools: results, releaseErr: errors.Join(releaseErrs...)}, err
		}
	}
	return hugepagesOutcome{pools: results, releaseErr: errors.Join(releaseErrs...)}, nil
}

// targetOf parses a poolKey back into a target of count pages.
func targetOf(key string, count int) (hugepages.Target, error) {
	for _, ps := range []plexusv1alpha1.HugepageSize{plexusv1alpha1.HugepageSize2Mi, plexusv1alpha1.HugepageSize1Gi} {
		if key == string(ps) {
			return hugepages.Target{PageSize: ps, Count: count}, nil
		}
		var n int
		if _, err := fmt.Sscanf(key, string(ps)+"/numa%d", &n); err == nil {
			return hugepages.Target{PageSize: ps, NUMANode: &n, Count: count}, nil
		}
	}
	return hugepages.Target{}, fmt.Errorf("unknown hugepage pool %q", key)
}
