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
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"github.com/plexus-net/plexus/internal/sysfs"
)

// Result describes what Apply did.
type Result struct {
	// SpecHash is the hash of the desired state.
	SpecHash string
	// Unchanged is true when the state file says the desired state was applied and the host still
	// matches it: nothing was written.
	Unchanged bool
	// Resumed is true when an interrupted apply of the same desired state was continued.
	Resumed bool
	// Plan is the work that was done (or attempted).
	Plan Plan
	// PFs are the PFs observed after applying.
	PFs []PF
}

// Apply converges the SR-IOV PFs below root to desired and records progress in stateFile. It
// writes sriov_numvfs only on PFs whose count changes (0 first when VFs exist), binds VFs to
// vfio-pci or their kernel VF driver, sets MTUs and reads back every write. A failing PF (or one
// that cannot be planned) does not stop the others; the returned error joins the per-PF *Error
// values. PFs listed in the state file as configured earlier but absent from desired get their
// VFs removed.
//
// Callers must evict the pods found by PlanDisruption before calling Apply for a plan that
// resets VFs.
func Apply(ctx context.Context, root sysfs.Root, desired Desired, stateFile string) (Result, error) {
	res := Result{SpecHash: desired.Hash()}
	st, err := LoadState(stateFile)
	if err != nil {
		return res, err
	}
	observed, err := Discover(root)
	if err != nil {
		return res, err
	}
	release := releasable(st, desired)
	// A PF that cannot be planned is reported, the others are still applied.
	plan, planErr := ComputePlan(observed, desired, release)
	res.Plan = plan
	if planErr == nil && st.SpecHash == res.SpecHash && st.Complete && plan.Empty() {
		res.Unchanged, res.PFs = true, observed
		return res, nil
	}
	res.Resumed = st.SpecHash == res.SpecHash && !st.Complete
	if st.SpecHash != res.SpecHash {
		st = State{Version: stateVersion, SpecHash: res.SpecHash, Owned: st.Owned}
	}
	if st.PFs == nil {
		st.PFs = map[string]PFRecord{}
	}
	st.Complete = false
	for _, pf := range desired.PFs {
		st.own(pf.PCIAddress)
	}
	if err := SaveState(stateFile, st); err != nil {
		return res, err
	}

	errs := []error{planErr}
	applyErrs, err := applyPlan(ctx, root, plan, &st, stateFile)
	if err != nil {
		return res, err
	}
	errs = append(errs, applyErrs...)
	for _, a := range release {
		if !planned(plan, a) {
			st.disown(a) // nothing left to release (no VFs, or PF gone)
		}
	}
	if res.PFs, err = Discover(root); err != nil {
		errs = append(errs, err)
	}
	joined := errors.Join(errs...)
	st.Complete = joined == nil
	if err := SaveState(stateFile, st); err != nil {
		return res, errors.Join(joined, err)
	}
	return res, joined
}

// releasable returns the PFs Plexus configured earlier that are no longer desired.
func releasable(st State, desired Desired) []string {
	wanted := map[string]bool{}
	for _, pf := range desired.PFs {
		wanted[pf.PCIAddress] = true
	}
	var release []string
	for _, a := range st.Owned {
		if !wanted[a] {
			release = append(release, a)
		}
	}
	return release
}

// applyPlan applies every PF of the plan, recording progress in st and the state file. It
// returns the per-PF errors, and an error only when the state file cannot be written.
func applyPlan(ctx context.Context, root sysfs.Root, plan Plan, st *State, stateFile string) ([]error, error) {
	var errs []error
	for _, p := range plan.PFs {
		if err := ctx.Err(); err != nil {
			return append(errs, err), nil
		}
		step := func(s string) error {
			st.PFs[p.PCIAddress] = PFRecord{Step: s}
			return SaveState(stateFile, *st)
		}
		if err := applyPF(ctx, root, p, step); err != nil {
			st.PFs[p.PCIAddress] = PFRecord{Step: st.PFs[p.PCIAddress].Step, Error: err.Error()}
			errs = append(errs, err)
		} else {
			st.PFs[p.PCIAddress] = PFRecord{Done: true}
			if p.Release {
				st.disown(p.PCIAddress)
			}
		}
		if err := SaveState(stateFile, *st); err != nil {
			return errs, err
		}
	}
	return errs, nil
}

func planned(p Plan, addr string) bool {
	for _, pf := range p.PFs {
		if pf.PCIAddress == addr {
			return true
		}
	}
	return false
}

func applyPF(ctx context.Context, root sysfs.Root, p PFPlan, step func(string) error) error {
	base := devPath(p.PCIAddress)
	if p.MTU != 0 {
		if err := step("mtu"); err != nil {
			return err
		}
		if p.Name == "" {
			return &Error{Reason: ReasonPFNotFound, Device: p.PCIAddress, Op: "set PF MTU: PF has no netdevice"}
		}
		if err := writeVerify(root, base+"/net/"+p.Name+"/mtu", strconv.Itoa(p.MTU), p.PCIAddress,
			"set PF MTU", ""); err != nil {
			return err
		}
	}
	if p.ChangesNumVfs() {
		if p.FromVfs > 0 {
			if err := step("numvfs-0"); err != nil {
				return err
			}
			if err := writeNumVfs(root, p.PCIAddress, 0); err != nil {
				return err
			}
		}
		if p.ToVfs > 0 {
			if err := step("numvfs-" + strconv.Itoa(p.ToVfs)); err != nil {
				return err
			}
			if err := writeNumVfs(root, p.PCIAddress, p.ToVfs); err != nil {
				return err
			}
		}
	}
	if len(p.VFs) == 0 {
		return nil
	}
	if err := step("vfs"); err != nil {
		return err
	}
	pf, err := DiscoverPF(root, p.PCIAddress)
	if err != nil {
		return err
	}
	vfs := map[int]VF{}
	for _, vf := range pf.VFs {
		vfs[vf.Index] = vf
	}
	for _, a := range p.VFs {
		if err := ctx.Err(); err != nil {
			return err
		}
		vf, ok := vfs[a.Index]
		if !ok {
			return &Error{Reason: ReasonReadBackMismatch, Device: p.PCIAddress,
				Op: fmt.Sprintf("find VF %d after setting sriov_numvfs", a.Index)}
		}
		if err := applyVF(root, vf, a); err != nil {
			return err
		}
	}
	return nil
}

func writeNumVfs(root sysfs.Root, addr string, n int) error {
	rel := devPath(addr) + "/sriov_numvfs"
	op := fmt.Sprintf("set sriov_numvfs to %d", n)
	if err := sysfs.WriteInt(root, rel, n); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return &Error{Reason: ReasonDriverBindFailed, Device: addr, Op: op + " (no PF driver bound)", Err: err}
		}
		return writeError(addr, op, err, "")
	}
	got, err := sysfs.ReadInt(root, rel)
	if err != nil || got != n {
		return &Error{Reason: ReasonReadBackMismatch, Device: addr,
			Op: fmt.Sprintf("%s: read back %d", op, got), Err: err}
	}
	return nil
}

// writeVerify writes val to rel and checks that reading rel back yields val.
func writeVerify(root sysfs.Root, rel, val, device, op, fallback string) error {
	if err := sysfs.WriteString(root, rel, val); err != nil {
		return writeError(device, op, err, fallback)
	}
	got, err := sysfs.ReadString(root, rel)
	if got == "(null)" {
		got = ""
	}
	if err != nil || got != val {
		return &Error{Reason: ReasonReadBackMismatch, Device: device,
			Op: fmt.Sprintf("%s: wrote %q, read back %q", op, val, got), Err: err}
	}
	return nil
}

func applyVF(root sysfs.Root, vf VF, a VFAction) error {
	base := devPath(vf.PCIAddress)
	want := ""
	if a.VfioPci {
		want = VfioPciDriver
	}
	if vf.DriverOverride != want {
		if err := writeVerify(root, base+"/driver_override", want, vf.PCIAddress,
			"set driver_override", ReasonDriverBindFailed); err != nil {
			return err
		}
	}
	wrong := vf.Driver != "" && (vf.Driver == VfioPciDriver) != a.VfioPci
	if wrong {
		if err := sysfs.WriteString(root, "bus/pci/drivers/"+vf.Driver+"/unbind", vf.PCIAddress); err != nil {
			return writeError(vf.PCIAddress, "unbind from "+vf.Driver, err, ReasonDriverBindFailed)
		}
	}
	if vf.Driver == "" || wrong {
		if err := sysfs.WriteString(root, "bus/pci/drivers_probe", vf.PCIAddress); err != nil {
			return writeError(vf.PCIAddress, "probe drivers", err, ReasonDriverBindFailed)
		}
	}
	// drivers_probe succeeds even when no driver binds: the driver link is the truth.
	got, err := sysfs.LinkBase(root, base+"/driver")
	if err != nil || got == "" || (got == VfioPciDriver) != a.VfioPci {
		op := "bind kernel VF driver"
		if a.VfioPci {
			op = "bind vfio-pci (is the vfio-pci module loaded and the IOMMU enabled?)"
		}
		return &Error{Reason: ReasonDriverBindFailed, Device: vf.PCIAddress,
			Op: fmt.Sprintf("%s: driver is %q", op, got), Err: err}
	}
	if a.VfioPci || a.MTU == 0 {
		return nil
	}
	name, mtu := netdev(root, base)
	if name == "" {
		return &Error{Reason: ReasonDriverBindFailed, Device: vf.PCIAddress, Op: "VF has no netdevice after bind"}
	}
	if mtu == a.MTU {
		return nil
	}
	return writeVerify(root, base+"/net/"+name+"/mtu", strconv.Itoa(a.MTU), vf.PCIAddress,
		"set VF MTU", "")
}
