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
	"errors"
	"fmt"
	"sort"
)

// VFAction is what to do to one VF.
type VFAction struct {
	// Index is the VF index.
	Index int `json:"index"`
	// VfioPci is true to bind to vfio-pci, false for the kernel VF driver.
	VfioPci bool `json:"vfioPci"`
	// MTU to set on a netdevice VF, 0 to leave alone.
	MTU int `json:"mtu,omitempty"`
}

// PFPlan is the work on one PF.
type PFPlan struct {
	// PCIAddress identifies the PF.
	PCIAddress string `json:"pciAddress"`
	// Name is the PF netdevice name.
	Name string `json:"name,omitempty"`
	// FromVfs and ToVfs are the current and desired VF counts.
	FromVfs int `json:"fromVfs"`
	ToVfs   int `json:"toVfs"`
	// MTU is the PF MTU to set, 0 for none.
	MTU int `json:"mtu,omitempty"`
	// VFs are the per-VF actions (after the count change).
	VFs []VFAction `json:"vfs,omitempty"`
	// Release is true when the PF left the desired state and its VFs are removed.
	Release bool `json:"release,omitempty"`
}

// ChangesNumVfs reports whether sriov_numvfs must be written.
func (p PFPlan) ChangesNumVfs() bool { return p.FromVfs != p.ToVfs }

// ResetsVfs reports whether existing VFs are destroyed (numVfs N -> 0 -> M with N > 0).
func (p PFPlan) ResetsVfs() bool { return p.FromVfs > 0 && p.ToVfs != p.FromVfs }

// Empty reports whether there is nothing to do.
func (p PFPlan) Empty() bool { return !p.ChangesNumVfs() && p.MTU == 0 && len(p.VFs) == 0 }

// Plan is the work needed to converge a node, per PF.
type Plan struct {
	// PFs are the PFs with work, sorted by address.
	PFs []PFPlan `json:"pfs,omitempty"`
}

// Empty reports whether the node already matches.
func (p Plan) Empty() bool { return len(p.PFs) == 0 }

// ComputePlan diffs the observed PFs against the desired state. release lists PFs configured
// earlier that are no longer desired; their VFs are removed. VF driver and MTU actions are
// computed against the VFs that will exist after the count change: existing VFs when the count
// is unchanged, fresh VFs otherwise (every fresh VF gets an action, so its driver is verified).
//
// A PF that cannot be planned (ErrPFNotFound, ErrNumVfsExceedsTotal) is left out of the plan and
// reported in the returned error; the plan is still valid for the other PFs.
func ComputePlan(observed []PF, desired Desired, release []string) (Plan, error) {
	byAddr := map[string]PF{}
	for _, pf := range observed {
		byAddr[pf.PCIAddress] = pf
	}
	var plan Plan
	var errs []error
	wanted := map[string]bool{}
	for _, cfg := range desired.normalized().PFs {
		wanted[cfg.PCIAddress] = true
		pf, ok := byAddr[cfg.PCIAddress]
		if !ok {
			errs = append(errs, &Error{Reason: ReasonPFNotFound, Device: cfg.PCIAddress, Op: "plan"})
			continue
		}
		if cfg.NumVfs > pf.TotalVfs {
			errs = append(errs, &Error{Reason: ReasonNumVfsExceedsTotal, Device: cfg.PCIAddress,
				Op: fmt.Sprintf("plan numVfs %d (sriov_totalvfs %d)", cfg.NumVfs, pf.TotalVfs)})
			continue
		}
		p := PFPlan{PCIAddress: pf.PCIAddress, Name: pf.Name, FromVfs: pf.NumVfs, ToVfs: cfg.NumVfs}
		if cfg.MTU != 0 && cfg.MTU != pf.MTU {
			p.MTU = cfg.MTU
		}
		current := map[int]VF{}
		if !p.ChangesNumVfs() {
			for _, vf := range pf.VFs {
				current[vf.Index] = vf
			}
		}
		for i := 0; i < cfg.NumVfs; i++ {
			if a, ok := vfAction(cfg, i, current[i], p.ChangesNumVfs()); ok {
				p.VFs = append(p.VFs, a)
			}
		}
		if !p.Empty() {
			plan.PFs = append(plan.PFs, p)
		}
	}
	for _, addr := range release {
		pf, ok := byAddr[addr]
		if wanted[addr] || !ok || pf.NumVfs == 0 {
			continue
		}
		plan.PFs = append(plan.PFs, PFPlan{PCIAddress: addr, Name: pf.Name, FromVfs: pf.NumVfs, Release: true})
	}
	sort.Slice(plan.PFs, func(i, j int) bool { return plan.PFs[i].PCIAddress < plan.PFs[j].PCIAddress })
	return plan, errors.Join(errs...)
}

// vfAction returns the action for VF i, or false when it already matches. fresh means the VF
// will be newly created (kernel VF driver, default MTU).
func vfAction(cfg PFConfig, i int, cur VF, fresh bool) (VFAction, bool) {
	g, _ := cfg.groupOf(i)
	wantVfio := g.DeviceType == DeviceTypeVfioPci
	a := VFAction{Index: i, VfioPci: wantVfio}
	if !wantVfio && g.MTU != 0 {
		a.MTU = g.MTU
	}
	if fresh {
		return a, true
	}
	isVfio := cur.Driver == VfioPciDriver
	driverOK := isVfio == wantVfio && cur.Driver != "" &&
		(wantVfio == (cur.DriverOverride == VfioPciDriver))
	mtuOK := a.MTU == 0 || cur.MTU == a.MTU
	if driverOK && mtuOK {
		return VFAction{}, false
	}
	return a, true
}
