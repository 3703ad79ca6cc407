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

package controllers

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/deviceplugin"
	"github.com/plexus-net/plexus/internal/nodepolicy"
)

// desiredDevicePluginConfig returns the ConfigMap data: one key per node selected by at least
// one policy, holding that node's device plugin configuration. The PFs come from the node's
// NodeNetworkState, so a node gets its resources once its agent has reported.
func desiredDevicePluginConfig(prefix string, policies []plexusv1alpha1.NodeNetworkPolicy, nodes []corev1.Node,
	states map[string]*plexusv1alpha1.NodeNetworkState) (map[string]string, error) {
	data := map[string]string{}
	for i := range nodes {
		node := &nodes[i]
		var pfs []plexusv1alpha1.PFStatus
		if st := states[node.Name]; st != nil {
			pfs = st.Status.PFs
		}
		res := nodepolicy.Resolve(node.Labels, policies, pfs)
		if len(res.Policies) == 0 {
			continue
		}
		b, err := deviceplugin.Render(prefix, res.SRIOV, pfs)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", node.Name, err)
		}
		data[node.Name] = string(b)
	}
	return data, nil
}
