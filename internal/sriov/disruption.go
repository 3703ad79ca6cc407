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
	"context"
	"fmt"
	"sort"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// PodDevices is a pod and the device IDs (for SR-IOV: VF PCI addresses) kubelet allocated to its
// containers, init containers included.
type PodDevices struct {
	// Namespace and Name identify the pod.
	Namespace, Name string
	// DeviceIDs are the allocated device IDs of every resource.
	DeviceIDs []string
}

// PodDeviceLister lists the devices allocated to the pods of this node. PodResourcesClient is the
// kubelet implementation.
type PodDeviceLister interface {
	ListPodDevices(ctx context.Context) ([]PodDevices, error)
}

// DisruptedPF is a PF whose VFs an apply would reset or rebind, and the pods holding them.
type DisruptedPF struct {
	// PCIAddress and Name identify the PF.
	PCIAddress, Name string
	// Reset is true when sriov_numvfs changes (every VF is destroyed); otherwise only VFs that
	// change driver are affected.
	Reset bool
	// Pods are the pods holding affected VFs, as namespace/name, sorted.
	Pods []string
}

// Disruption is the disruption plan of an apply.
type Disruption struct {
	// PFs are the affected PFs, sorted by address.
	PFs []DisruptedPF
}

// Disruptive reports whether any pod must be evicted before applying.
func (d Disruption) Disruptive() bool {
	for _, pf := range d.PFs {
		if len(pf.Pods) > 0 {
			return true
		}
	}
	return false
}

// PlanDisruption finds, for the PFs plan resets and the VFs it rebinds, the pods that hold those
// VFs according to lister. PFs whose VFs nobody holds are listed with no pods (applying them is
// not disruptive). MTU-only changes are not disruptive.
func PlanDisruption(ctx context.Context, plan Plan, observed []PF, lister PodDeviceLister) (Disruption, error) {
	byAddr := map[string]PF{}
	for _, pf := range observed {
		byAddr[pf.PCIAddress] = pf
	}
	affected := map[string]string{} // VF address -> PF address
	var out Disruption
	for _, p := range plan.PFs {
		pf := byAddr[p.PCIAddress]
		d := DisruptedPF{PCIAddress: p.PCIAddress, Name: p.Name, Reset: p.ResetsVfs()}
		current := map[int]VF{}
		for _, vf := range pf.VFs {
			current[vf.Index] = vf
			if d.Reset {
				affected[vf.PCIAddress] = p.PCIAddress
			}
		}
		n := 0
		if !d.Reset {
			for _, a := range p.VFs {
				vf, ok := current[a.Index]
				if ok && vf.Driver != "" && (vf.Driver == VfioPciDriver) != a.VfioPci {
					affected[vf.PCIAddress] = p.PCIAddress
					n++
				}
			}
		}
		if d.Reset || n > 0 {
			out.PFs = append(out.PFs, d)
		}
	}
	if len(out.PFs) == 0 {
		return out, nil
	}
	pods, err := lister.ListPodDevices(ctx)
	if err != nil {
		return Disruption{}, fmt.Errorf("list pod resources: %w", err)
	}
	holders := map[string]map[string]bool{} // PF -> pods
	for _, pod := range pods {
		for _, id := range pod.DeviceIDs {
			if pfAddr, ok := affected[id]; ok {
				if holders[pfAddr] == nil {
					holders[pfAddr] = map[string]bool{}
				}
				holders[pfAddr][pod.Namespace+"/"+pod.Name] = true
			}
		}
	}
	for i := range out.PFs {
		for p := range holders[out.PFs[i].PCIAddress] {
			out.PFs[i].Pods = append(out.PFs[i].Pods, p)
		}
		sort.Strings(out.PFs[i].Pods)
	}
	sort.Slice(out.PFs, func(i, j int) bool { return out.PFs[i].PCIAddress < out.PFs[j].PCIAddress })
	return out, nil
}

// Status converts the plan to its NodeNetworkState representation with the given state (state
// is forced to None when no pod must be evicted).
func (d Disruption) Status(state plexusv1alpha1.DisruptionState) *plexusv1alpha1.DisruptionPlan {
	if !d.Disruptive() {
		state = plexusv1alpha1.DisruptionStateNone
	}
	plan := &plexusv1alpha1.DisruptionPlan{State: state}
	for _, pf := range d.PFs {
		plan.PFs = append(plan.PFs, plexusv1alpha1.DisruptedPF{
			PCIAddress:  pf.PCIAddress,
			Name:        pf.Name,
			PodsToEvict: append([]string(nil), pf.Pods...),
		})
	}
	return plan
}
