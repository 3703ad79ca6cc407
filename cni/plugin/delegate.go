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
	"maps"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/netattach"
)

// requestedCapabilities are the per-attachment runtime-config keys; each is also the
// capability a plugin must declare to receive it (spec §4.1.2.1.3-10).
var requestedCapabilities = []string{"ips", "mac", "bandwidth", "portMappings", "infinibandGUID", "deviceID"}

// buildDelegate turns a resolved attachment into the delegate plexus-cni executes:
// a configuration list (single confs wrapped), cni-args merged into args.cni of every
// plugin, a device-plugin device ID injected as deviceID/pciBusID, and the capability
// arguments: the runtime's for the cluster network only (spec §7.5), the pod's
// requests for the others, each of which some plugin must declare.
func buildDelegate(a *api.Attachment, conf *NetConf, containerID string) (*delegate, error) {
	invalid := func(format string, args ...any) error {
		return types.NewError(types.ErrInvalidNetworkConfig,
			fmt.Sprintf("plexus-cni: attachment %s (%s): %s", a.Network, a.IfName, fmt.Sprintf(format, args...)), "")
	}
	list, err := delegateConfList(a)
	if err != nil {
		return nil, invalid("%v", err)
	}
	d := &delegate{
		Network: a.Network, Conf: list.Bytes, IfName: a.IfName, ClusterNetwork: a.ClusterNetwork,
		DeviceID: a.DeviceID, ResourceName: a.ResourceName,
		GatewayRequest: a.GatewayRequest, ClaimsDefaultRoute: a.ClaimsDefaultRoute,
	}
	caps, missing := capabilityArgs(a, conf, list)
	if len(missing) > 0 {
		return nil, invalid("the pod requests %s but no plugin in the configuration declares the capability (add \"capabilities\": {%q: true})",
			strings.Join(missing, ", "), missing[0])
	}
	if a.DeviceID != "" {
		caps["deviceID"] = a.DeviceID
		d.DeviceInfoFile = netattach.CNIDeviceInfoPath(filepath.Join(conf.DeviceInfoDir, "cni"), a.Network, containerID, a.IfName)
		caps["CNIDeviceInfoFile"] = d.DeviceInfoFile
	}
	if len(caps) > 0 {
		d.CapabilityArgs = caps
	}
	return d, nil
}

// delegateConfList parses the attachment's configuration, injects cni-args and a
// device-plugin device ID into every plugin (re-marshalling only then, so an untouched
// configuration stays byte for byte), and wraps a single configuration in a list.
func delegateConfList(a *api.Attachment) (*libcni.NetworkConfigList, error) {
	raw := map[string]any{}
	if err := json.Unmarshal(a.Config, &raw); err != nil {
		return nil, fmt.Errorf("configuration is not a JSON object: %w", err)
	}
	plugins := []map[string]any{raw}
	pl, isList := raw["plugins"]
	if isList {
		list, ok := pl.([]any)
		if !ok || len(list) == 0 {
			return nil, errors.New(`"plugins" must be a non-empty list`)
		}
		plugins = plugins[:0]
		for i, p := range list {
			m, ok := p.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("plugins[%d] is not an object", i)
			}
			plugins = append(plugins, m)
		}
	}
	confBytes := a.Config
	if injectPluginArgs(a, plugins) {
		b, err := json.Marshal(raw)
		if err != nil {
			return nil, fmt.Errorf("failed to marshal configuration: %w", err)
		}
		confBytes = b
	}
	if isList {
		return libcni.NetworkConfFromBytes(confBytes)
	}
	single, err := libcni.NetworkPluginConfFromBytes(confBytes)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromConf(single) //nolint:staticcheck // single confs are still what NADs hold
}

// injectPluginArgs merges cni-args into args.cni (the annotation wins over the NAD,
// spec §4.1.2.1.6) and sets deviceID/pciBusID; it reports whether anything changed.
func injectPluginArgs(a *api.Attachment, plugins []map[string]any) bool {
	modified := false
	for _, p := range plugins {
		if len(a.CNIArgs) > 0 {
			args, _ := p["args"].(map[string]any)
			if args == nil {
				args = map[string]any{}
			}
			cni, _ := args["cni"].(map[string]any)
			merged := map[string]any{}
			maps.Copy(merged, cni)
			maps.Copy(merged, a.CNIArgs)
			args["cni"] = merged
			p["args"] = args
			modified = true
		}
		if a.DeviceIDFromResource && a.DeviceID != "" {
			p["deviceID"] = a.DeviceID
			p["pciBusID"] = a.DeviceID
			modified = true
		}
	}
	return modified
}

// capabilityArgs returns the capability arguments of a delegate and, for a secondary
// attachment, the requested capabilities no plugin of the list declares (sorted).
func capabilityArgs(a *api.Attachment, conf *NetConf, list *libcni.NetworkConfigList) (map[string]any, []string) {
	caps := map[string]any{}
	if a.ClusterNetwork {
		maps.Copy(caps, conf.RuntimeConfig)
		return caps, nil
	}
	declared := map[string]bool{}
	for _, p := range list.Plugins {
		for k, v := range p.Network.Capabilities {
			declared[k] = declared[k] || v
		}
	}
	var missing []string
	for _, k := range requestedCapabilities {
		v, ok := a.RuntimeConfig[k]
		if !ok {
			continue
		}
		if !declared[k] {
			missing = append(missing, k)
		}
		caps[k] = v
	}
	sort.Strings(missing)
	return caps, missing
}

// confList parses the cached configuration list.
func (d *delegate) confList() (*libcni.NetworkConfigList, error) {
	l, err := libcni.NetworkConfFromBytes(d.Conf)
	if err != nil {
		return nil, fmt.Errorf("attachment %s (%s): %w", d.Network, d.IfName, err)
	}
	return l, nil
}

// runtimeConf is the libcni runtime configuration for this delegate.
func (d *delegate) runtimeConf(containerID, netns string, args [][2]string) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{
		ContainerID:    containerID,
		NetNS:          netns,
		IfName:         d.IfName,
		Args:           args,
		CapabilityArgs: d.CapabilityArgs,
	}
}
