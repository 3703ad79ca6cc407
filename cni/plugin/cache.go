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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/pkg/utils"
)

// cacheVersion is bumped when cacheEntry changes incompatibly.
const cacheVersion = 1

// cacheEntry is everything DEL needs, saved before the first delegate runs.
type cacheEntry struct {
	Version      int         `json:"version"`
	ContainerID  string      `json:"containerID"`
	PodNamespace string      `json:"podNamespace,omitempty"`
	PodName      string      `json:"podName,omitempty"`
	PodUID       string      `json:"podUID,omitempty"`
	CNIArgs      [][2]string `json:"cniArgs,omitempty"`
	Delegates    []*delegate `json:"delegates"`
}

// delegate is one resolved attachment in the form it is executed and cached.
type delegate struct {
	// Network is the network-status name (ns/nad or the conf name).
	Network string `json:"network"`
	// Conf is the exact configuration list given to libcni.
	Conf json.RawMessage `json:"conf"`
	// IfName is the interface inside the pod.
	IfName string `json:"ifName"`
	// ClusterNetwork marks attachment 0.
	ClusterNetwork bool `json:"clusterNetwork,omitempty"`
	// CapabilityArgs are the capability arguments (libcni filters them per plugin).
	CapabilityArgs map[string]any `json:"capabilityArgs,omitempty"`
	// DeviceID/ResourceName/DeviceInfoFile describe an allocated device.
	DeviceID       string `json:"deviceID,omitempty"`
	ResourceName   string `json:"resourceName,omitempty"`
	DeviceInfoFile string `json:"deviceInfoFile,omitempty"`
	// GatewayRequest/ClaimsDefaultRoute carry the annotation's default-route.
	GatewayRequest     []string `json:"gatewayRequest,omitempty"`
	ClaimsDefaultRoute bool     `json:"claimsDefaultRoute,omitempty"`
}

func cachePath(cniDir, containerID string) (string, error) {
	// libcni's own container-ID rule (its regexp is compiled at init anyway), which also
	// keeps the ID a single path element.
	if utils.ValidateContainerID(containerID) != nil {
		return "", fmt.Errorf("container ID %q cannot name a cache file", containerID)
	}
	return filepath.Join(cniDir, "delegates", containerID+".json"), nil
}

// saveCache writes the entry atomically: temp file in the same directory, fsync, rename.
// NOTE: the directory is not fsync'd (it cost 0.3-1 ms per ADD here). The data is on
// disk before the rename, so a crash never leaves a torn cache; at worst the rename is
// lost with the last journal commit, and DEL then falls back to resolving the pod.
func saveCache(cniDir string, e *cacheEntry) error {
	path, err := cachePath(cniDir, e.ContainerID)
	if err != nil {
		return err
	}
	e.Version = cacheVersion
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("failed to marshal delegate cache: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create cache directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+e.ContainerID+".*")
	if err != nil {
		return fmt.Errorf("failed to create delegate cache: %w", err)
	}
	success := false
	defer func() {
		if !success {
			tmp.Close()           //nolint:errcheck,gosec // already failing
			os.Remove(tmp.Name()) //nolint:errcheck,gosec // already failing
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("failed to write delegate cache: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("failed to sync delegate cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("failed to close delegate cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("failed to install delegate cache: %w", err)
	}
	success = true
	return nil
}

// errNoCache is returned (wrapped) by loadCache when there is no entry.
var errNoCache = errors.New("no delegate cache")

func loadCache(cniDir, containerID string) (*cacheEntry, error) {
	path, err := cachePath(cniDir, containerID)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, errNoCache)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read delegate cache: %w", err)
	}
	e := &cacheEntry{}
	if err := json.Unmarshal(b, e); err != nil {
		return nil, fmt.Errorf("corrupt delegate cache %s: %w", path, err)
	}
	if e.Version != cacheVersion {
		return nil, fmt.Errorf("delegate cache %s has version %d, want %d", path, e.Version, cacheVersion)
	}
	return e, nil
}

func removeCache(cniDir, containerID string) error {
	path, err := cachePath(cniDir, containerID)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("failed to remove delegate cache: %w", err)
	}
	return nil
}

// listCaches returns every cache entry (for GC and STATUS); unreadable ones are skipped.
func listCaches(cniDir string) []*cacheEntry {
	files, _ := filepath.Glob(filepath.Join(cniDir, "delegates", "*.json"))
	var out []*cacheEntry
	for _, f := range files {
		id := filepath.Base(f)
		id = id[:len(id)-len(".json")]
		if e, err := loadCache(cniDir, id); err == nil {
			out = append(out, e)
		}
	}
	return out
}
