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
	"fmt"
	"strings"

	"github.com/containernetworking/cni/pkg/types"
)

// k8sArgs are the Kubernetes keys of CNI_ARGS, parsed once.
type k8sArgs struct {
	Namespace   string
	Name        string
	InfraID     string
	UID         string
	passthrough [][2]string
}

func parseK8sArgs(s string) (*k8sArgs, error) {
	a := &k8sArgs{}
	if s == "" {
		return a, nil
	}
	for _, pair := range strings.Split(s, ";") {
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, types.NewError(types.ErrInvalidEnvironmentVariables, "plexus-cni: invalid CNI_ARGS",
				fmt.Sprintf("pair %q is not KEY=VALUE", pair))
		}
		switch k {
		case "K8S_POD_NAMESPACE":
			a.Namespace = v
		case "K8S_POD_NAME":
			a.Name = v
		case "K8S_POD_INFRA_CONTAINER_ID":
			a.InfraID = v
		case "K8S_POD_UID":
			a.UID = v
		case "IgnoreUnknown":
			continue // always re-added below
		}
		a.passthrough = append(a.passthrough, [2]string{k, v})
	}
	return a, nil
}

// delegateArgs are the CNI_ARGS every delegate gets: the runtime's pairs (K8S_POD_*
// included) plus IgnoreUnknown=true, and K8S_POD_INFRA_CONTAINER_ID when missing.
func (a *k8sArgs) delegateArgs(containerID string) [][2]string {
	out := [][2]string{{"IgnoreUnknown", "true"}}
	out = append(out, a.passthrough...)
	if a.InfraID == "" && a.Name != "" {
		out = append(out, [2]string{"K8S_POD_INFRA_CONTAINER_ID", containerID})
	}
	return out
}
