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

package sriov

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// stateVersion is the state file format version.
const stateVersion = 1

// State is what Apply persists between runs.
type State struct {
	// Version is the file format version.
	Version int `json:"version"`
	// SpecHash is Desired.Hash of the desired state being (or last) applied.
	SpecHash string `json:"specHash,omitempty"`
	// Complete is true once every PF of SpecHash was applied and read back.
	Complete bool `json:"complete"`
	// Owned are the PFs Plexus configured; only those are released when they leave the spec.
	Owned []string `json:"owned,omitempty"`
	// PFs is the per-PF progress for SpecHash.
	PFs map[string]PFRecord `json:"pfs,omitempty"`
}

// PFRecord is the progress of one PF.
type PFRecord struct {
	// Done is true once the PF was converged and read back.
	Done bool `json:"done"`
	// Step is the last step started: "mtu", "numvfs-0", "numvfs-N", "vfs".
	Step string `json:"step,omitempty"`
	// Error is the last error, if any.
	Error string `json:"error,omitempty"`
}

// LoadState reads the state file; a missing file yields an empty State.
func LoadState(path string) (State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Version: stateVersion}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read state %s: %w", path, err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("parse state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return State{}, fmt.Errorf("state %s: unsupported version %d", path, st.Version)
	}
	return st, nil
}

// SaveState writes the state file atomically: a temp file in the same directory is written,
// fsynced and renamed over the old one, then the directory is fsynced.
func SaveState(path string, st State) error {
	st.Version = stateVersion
	sort.Strings(st.Owned)
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("state temp file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open state dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync state dir: %w", err)
	}
	return nil
}

func (st *State) own(addr string) {
	for _, a := range st.Owned {
		if a == addr {
			return
		}
	}
	st.Owned = append(st.Owned, addr)
}

func (st *State) disown(addr string) {
	out := st.Owned[:0]
	for _, a := range st.Owned {
		if a != addr {
			out = append(out, a)
		}
	}
	st.Owned = out
}
