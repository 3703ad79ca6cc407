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

package netattach

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	cniversion "github.com/containernetworking/cni/pkg/version"
)

// ErrConfigNotFound is returned (wrapped) when no CNI configuration exists for a network.
var ErrConfigNotFound = errors.New("no CNI configuration found")

// NetworkAttachmentDefinition is the part of a k8s.cni.cncf.io/v1
// NetworkAttachmentDefinition that resolution needs. It is deliberately not the
// NAD client type, so plexus-cni does not link apimachinery.
type NetworkAttachmentDefinition struct {
	// Namespace and Name identify the object.
	Namespace string
	Name      string
	// Annotations are the object's annotations (resourceName lives here).
	Annotations map[string]string
	// Config is spec.config ("" when the spec is empty).
	Config string
}

// ResourceName returns the k8s.v1.cni.cncf.io/resourceName annotation, if any.
func (n *NetworkAttachmentDefinition) ResourceName() string {
	return n.Annotations[ResourceNameAnnotation]
}

// ResolveNADConfig returns the CNI configuration of a NetworkAttachmentDefinition per
// spec §3.4.1: spec.config when present, else the on-disk .conflist, then .conf/.json
// in confDir whose "name" equals the NAD name. A configuration without a "name" gets
// the NAD name injected (spec §3.4.2). The result is validated with ValidateNADConfig.
func ResolveNADConfig(nad *NetworkAttachmentDefinition, confDir string) ([]byte, error) {
	var (
		conf []byte
		err  error
	)
	if strings.TrimSpace(nad.Config) != "" {
		conf = []byte(nad.Config)
	} else {
		conf, err = LoadConfFromDir(confDir, nad.Name)
		if err != nil {
			return nil, fmt.Errorf("NetworkAttachmentDefinition %s/%s has no spec.config: %w", nad.Namespace, nad.Name, err)
		}
	}
	conf, err = InjectName(conf, nad.Name)
	if err != nil {
		return nil, fmt.Errorf("NetworkAttachmentDefinition %s/%s: %w", nad.Namespace, nad.Name, err)
	}
	if err := ValidateNADConfig(conf); err != nil {
		return nil, fmt.Errorf("NetworkAttachmentDefinition %s/%s: %w", nad.Namespace, nad.Name, err)
	}
	return conf, nil
}

// confFiles lists the files of dir with one of exts, in lexical order.
func confFiles(dir string, exts ...string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to read CNI configuration directory %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		for _, ext := range exts {
			if filepath.Ext(e.Name()) == ext {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// LoadConfFromDir finds the configuration named name in dir: .conflist files first,
// then .conf and .json files, each group in lexical order (spec §3.4.1 steps 2-3).
func LoadConfFromDir(dir, name string) ([]byte, error) {
	for _, group := range [][]string{{".conflist"}, {".conf", ".json"}} {
		files, err := confFiles(dir, group...)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // unreadable files are not candidates
			}
			var hdr struct {
				Name string `json:"name"`
			}
			if json.Unmarshal(b, &hdr) == nil && hdr.Name == name {
				return b, nil
			}
		}
	}
	return nil, fmt.Errorf("network %q in %s: %w", name, dir, ErrConfigNotFound)
}

// FirstConfInDir returns the path and bytes of the lexically first .conflist, .conf or
// .json file in dir (the clusterNetwork-as-directory rule).
func FirstConfInDir(dir string) (string, []byte, error) {
	files, err := confFiles(dir, ".conflist", ".conf", ".json")
	if err != nil {
		return "", nil, err
	}
	if len(files) == 0 {
		return "", nil, fmt.Errorf("directory %s: %w", dir, ErrConfigNotFound)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return "", nil, fmt.Errorf("failed to read %s: %w", files[0], err)
	}
	return files[0], b, nil
}

// InjectName sets "name" in a configuration that lacks one (spec §3.4.2). A
// configuration that has a name is returned unchanged, byte for byte.
func InjectName(conf []byte, name string) ([]byte, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(conf, &raw); err != nil {
		return nil, fmt.Errorf("CNI configuration is not a JSON object: %w", err)
	}
	if n, ok := raw["name"]; ok && string(n) != `""` && string(n) != "null" {
		return conf, nil
	}
	nb, err := json.Marshal(name)
	if err != nil {
		return nil, fmt.Errorf("failed to marshal network name: %w", err)
	}
	raw["name"] = nb
	out, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("failed to marshal CNI configuration: %w", err)
	}
	return out, nil
}

// IsConfList reports whether conf is a configuration list (has a "plugins" key).
func IsConfList(conf []byte) bool {
	var raw map[string]json.RawMessage
	if json.Unmarshal(conf, &raw) != nil {
		return false
	}
	_, ok := raw["plugins"]
	return ok
}

// knownCNIVersion reports whether v is a CNI spec version libcni knows.
func knownCNIVersion(v string) bool {
	for _, s := range cniversion.All.SupportedVersions() {
		if s == v {
			return true
		}
	}
	return false
}

type pluginHeader struct {
	Type         any             `json:"type"`
	Capabilities map[string]bool `json:"capabilities"`
}

type confHeader struct {
	Name        any               `json:"name"`
	CNIVersion  any               `json:"cniVersion"`
	CNIVersions []string          `json:"cniVersions"`
	Plugins     []json.RawMessage `json:"plugins"`
	pluginHeader
}

// ValidateNADConfig checks a CNI configuration or configuration list as stored in a
// NetworkAttachmentDefinition: valid JSON object, a known cniVersion (or a cniVersions
// list with a known entry), a string name if present, and for every plugin a non-empty
// string "type" without "/" or ".." (a type is a binary name looked up in the CNI bin
// dirs, never a path).
func ValidateNADConfig(config []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(config, &raw); err != nil {
		return fmt.Errorf("CNI configuration is not valid JSON: %w", err)
	}
	if raw == nil {
		return errors.New("CNI configuration must be a JSON object")
	}
	var hdr confHeader
	if err := json.Unmarshal(config, &hdr); err != nil {
		return fmt.Errorf("CNI configuration has a field of the wrong type: %w", err)
	}
	if hdr.Name != nil {
		if _, ok := hdr.Name.(string); !ok {
			return fmt.Errorf("CNI configuration name must be a string, got %v", hdr.Name)
		}
	}
	if err := validateCNIVersion(hdr.CNIVersion, hdr.CNIVersions); err != nil {
		return err
	}
	if _, isList := raw["plugins"]; isList {
		if len(hdr.Plugins) == 0 {
			return errors.New("CNI configuration list has no plugins")
		}
		for i, p := range hdr.Plugins {
			var ph pluginHeader
			if err := json.Unmarshal(p, &ph); err != nil {
				return fmt.Errorf("plugins[%d] is not a JSON object: %w", i, err)
			}
			if err := validatePluginType(ph.Type); err != nil {
				return fmt.Errorf("plugins[%d]: %w", i, err)
			}
		}
		return nil
	}
	return validatePluginType(hdr.Type)
}

func validateCNIVersion(v any, list []string) error {
	if v == nil || v == "" {
		for _, s := range list {
			if knownCNIVersion(s) {
				return nil
			}
		}
		return errors.New("CNI configuration has no cniVersion")
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("cniVersion must be a string, got %v", v)
	}
	if !knownCNIVersion(s) {
		return fmt.Errorf("unknown cniVersion %q (supported: %s)", s, strings.Join(cniversion.All.SupportedVersions(), ", "))
	}
	return nil
}

func validatePluginType(t any) error {
	s, ok := t.(string)
	switch {
	case t == nil || (ok && s == ""):
		return errors.New(`plugin has no "type"`)
	case !ok:
		return fmt.Errorf(`plugin "type" must be a string, got %v`, t)
	case strings.Contains(s, "/") || strings.Contains(s, `\`) || strings.Contains(s, ".."):
		return fmt.Errorf(`plugin "type" %q must be a binary name, not a path (no "/" or "..")`, s)
	}
	return nil
}

// Capabilities returns the union of the capabilities declared (true) by the plugins of
// a configuration or configuration list.
func Capabilities(conf []byte) map[string]bool {
	var hdr confHeader
	if json.Unmarshal(conf, &hdr) != nil {
		return nil
	}
	caps := map[string]bool{}
	add := func(m map[string]bool) {
		for k, v := range m {
			if v {
				caps[k] = true
			}
		}
	}
	if hdr.Plugins != nil {
		for _, p := range hdr.Plugins {
			var ph pluginHeader
			if json.Unmarshal(p, &ph) == nil {
				add(ph.Capabilities)
			}
		}
	} else {
		add(hdr.Capabilities)
	}
	return caps
}
