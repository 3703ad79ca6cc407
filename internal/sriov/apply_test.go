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

package sriov_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/internal/sriov"
	"github.com/plexus-net/plexus/internal/sysfs"
	"github.com/plexus-net/plexus/internal/sysfs/fake"

	"github.com/plexus-net/plexus/internal/testenv"
)

const (
	pfA = "0000:3b:00.0"
	pfB = "0000:3b:00.1"
)

type env struct {
	tree  *fake.Tree
	state string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	tr, err := fake.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, addr := range []string{pfA, pfB} {
		if err := tr.AddPF(fake.PF{Address: addr, Name: fmt.Sprintf("ens1f%d", i), Vendor: "8086", Device: "158b",
			VFDevice: "154c", Driver: "i40e", VFDriver: "iavf", TotalVFs: 8, NUMANode: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.AddDriver("vfio-pci"); err != nil {
		t.Fatal(err)
	}
	return &env{tree: tr, state: filepath.Join(t.TempDir(), "state", "sriov.json")}
}

func (e *env) apply(d sriov.Desired) (sriov.Result, error) {
	return sriov.Apply(context.Background(), e.tree, d, e.state)
}

// writes returns the logged writes as "path=value" for paths containing sub.
func (e *env) writes(sub string) []string {
	var out []string
	for _, w := range e.tree.Writes() {
		if strings.Contains(w.Path, sub) {
			out = append(out, w.Path+"="+w.Data)
		}
	}
	return out
}

func numvfs(addr string) string { return "bus/pci/devices/" + addr + "/sriov_numvfs" }

func pfWith(addr string, n int, groups ...sriov.VFGroup) sriov.PFConfig {
	return sriov.PFConfig{PCIAddress: addr, NumVfs: n, Groups: groups}
}

func netdev(first, last int) sriov.VFGroup {
	return sriov.VFGroup{First: first, Last: last, DeviceType: sriov.DeviceTypeNetdevice, ResourceName: "net"}
}

func vfio(first, last int) sriov.VFGroup {
	return sriov.VFGroup{First: first, Last: last, DeviceType: sriov.DeviceTypeVfioPci, ResourceName: "dpdk"}
}

func drivers(g Gomega, root sysfs.Root, addr string) []string {
	pf, err := sriov.DiscoverPF(root, addr)
	g.Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, vf := range pf.VFs {
		out = append(out, vf.Driver)
	}
	return out
}

func TestDiscover(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	g.Expect(sysfs.WriteInt(e.tree, numvfs(pfB), 2)).To(Succeed())
	pfs, err := sriov.Discover(e.tree)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pfs).To(HaveLen(2))
	g.Expect(pfs[1]).To(Equal(sriov.PF{
		PCIAddress: pfB, Name: "ens1f1", Vendor: "8086", DeviceID: "158b", VFDeviceID: "154c", Driver: "i40e",
		NUMANode: 1, TotalVfs: 8, NumVfs: 2, MTU: 1500,
		VFs: []sriov.VF{
			{Index: 0, PCIAddress: fake.VFAddress(pfB, 0), Driver: "iavf", Netdev: "ens1f1v0", MTU: 1500},
			{Index: 1, PCIAddress: fake.VFAddress(pfB, 1), Driver: "iavf", Netdev: "ens1f1v1", MTU: 1500},
		},
	}))
	st := pfs[1].Status()
	g.Expect(st.VFs).To(HaveLen(2))
	g.Expect(st.VFDeviceID).To(Equal("154c"))
}

func TestApplyCreateGrowShrink(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)

	// Create: 0 -> 4, no reset write.
	res, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 4, netdev(0, 3))}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Unchanged).To(BeFalse())
	g.Expect(e.writes("sriov_numvfs")).To(Equal([]string{numvfs(pfA) + "=4"}))
	g.Expect(drivers(g, e.tree, pfA)).To(Equal([]string{"iavf", "iavf", "iavf", "iavf"}))

	// Same desired state again: nothing written at all.
	e.tree.ResetWrites()
	res, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 4, netdev(0, 3))}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Unchanged).To(BeTrue())
	g.Expect(e.tree.Writes()).To(BeEmpty())

	// Grow 4 -> 6 on A and create 2 on B: 0 then N on A only.
	e.tree.ResetWrites()
	_, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 6, netdev(0, 5)), pfWith(pfB, 2)}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.writes("sriov_numvfs")).To(Equal([]string{numvfs(pfA) + "=0", numvfs(pfA) + "=6", numvfs(pfB) + "=2"}))

	// Shrink B 2 -> 1; A unchanged and untouched.
	e.tree.ResetWrites()
	_, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 6, netdev(0, 5)), pfWith(pfB, 1)}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.writes("")).To(Equal([]string{numvfs(pfB) + "=0", numvfs(pfB) + "=1"}))
	g.Expect(sysfs.ReadInt(e.tree, numvfs(pfB))).To(Equal(1))

	// Remove B from the desired state: Plexus configured it, so its VFs are released.
	e.tree.ResetWrites()
	_, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 6, netdev(0, 5))}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.writes("")).To(Equal([]string{numvfs(pfB) + "=0"}))
	st, err := sriov.LoadState(e.state)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Owned).To(Equal([]string{pfA}))
	g.Expect(st.Complete).To(BeTrue())
}

func TestApplyLeavesForeignPFsAlone(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	g.Expect(sysfs.WriteInt(e.tree, numvfs(pfB), 3)).To(Succeed()) // created by someone else
	e.tree.ResetWrites()
	_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 1)}})
	g.Expect(err).NotTo(HaveOccurred())
	_, err = e.apply(sriov.Desired{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(e.writes(pfB)).To(BeEmpty())
	g.Expect(sysfs.ReadInt(e.tree, numvfs(pfB))).To(Equal(3))
	g.Expect(sysfs.ReadInt(e.tree, numvfs(pfA))).To(Equal(0))
}

func TestApplyDriverSwitch(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 4, vfio(0, 1), netdev(2, 3))}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(drivers(g, e.tree, pfA)).To(Equal([]string{"vfio-pci", "vfio-pci", "iavf", "iavf"}))
	vf0 := fake.VFAddress(pfA, 0)
	g.Expect(sysfs.ReadString(e.tree, "bus/pci/devices/"+vf0+"/driver_override")).To(Equal("vfio-pci"))

	// netdevice -> vfio-pci on VFs 2-3 without touching sriov_numvfs.
	e.tree.ResetWrites()
	_, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 4, vfio(0, 3))}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(drivers(g, e.tree, pfA)).To(Equal([]string{"vfio-pci", "vfio-pci", "vfio-pci", "vfio-pci"}))
	g.Expect(e.writes("sriov_numvfs")).To(BeEmpty())
	g.Expect(e.writes(fake.VFAddress(pfA, 0))).To(BeEmpty(), "VF 0 already on vfio-pci")

	// And back to the kernel driver, with a VF MTU.
	e.tree.ResetWrites()
	g1 := netdev(0, 3)
	g1.MTU = 9000
	cfg := pfWith(pfA, 4, g1)
	cfg.MTU = 9000
	_, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{cfg}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(drivers(g, e.tree, pfA)).To(Equal([]string{"iavf", "iavf", "iavf", "iavf"}))
	pf, err := sriov.DiscoverPF(e.tree, pfA)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pf.MTU).To(Equal(9000))
	for _, vf := range pf.VFs {
		g.Expect(vf.MTU).To(Equal(9000))
		g.Expect(vf.DriverOverride).To(BeEmpty())
	}
	g.Expect(e.writes("sriov_numvfs")).To(BeEmpty())
}

func TestApplyErrors(t *testing.T) {
	t.Run("NumVfsExceedsTotal", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 9)}})
		g.Expect(err).To(MatchError(sriov.ErrNumVfsExceedsTotal))
		g.Expect(sriov.ReasonOf(err)).To(Equal("NumVfsExceedsTotal"))
		g.Expect(e.tree.Writes()).To(BeEmpty())
	})
	t.Run("OnePFInvalidOthersApplied", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		res, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 64), pfWith(pfB, 2)}})
		g.Expect(err).To(MatchError(sriov.ErrNumVfsExceedsTotal))
		g.Expect(sriov.ReasonOf(err)).To(Equal("NumVfsExceedsTotal"))
		g.Expect(sysfs.ReadInt(e.tree, numvfs(pfB))).To(Equal(2))
		g.Expect(res.Unchanged).To(BeFalse())
		// The error stays until the spec is fixed: never reported as Unchanged.
		_, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 64), pfWith(pfB, 2)}})
		g.Expect(err).To(MatchError(sriov.ErrNumVfsExceedsTotal))
	})
	t.Run("NoKernelVFDriver", func(t *testing.T) {
		g := NewWithT(t)
		tr, err := fake.New(t.TempDir())
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(tr.AddPF(fake.PF{Address: pfA, Name: "ens1f0", Vendor: "8086", Device: "158b", VFDevice: "154c",
			Driver: "i40e", TotalVFs: 4})).To(Succeed())
		_, err = sriov.Apply(context.Background(), tr, sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 2, netdev(0, 1))}},
			filepath.Join(t.TempDir(), "s.json"))
		g.Expect(err).To(MatchError(sriov.ErrDriverBindFailed))
		g.Expect(err.Error()).To(ContainSubstring("bind kernel VF driver"))
	})
	t.Run("PFNotFound", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith("0000:af:00.0", 1)}})
		g.Expect(err).To(MatchError(sriov.ErrPFNotFound))
	})
	t.Run("DeviceBusy", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 2), pfWith(pfB, 2)}})
		g.Expect(err).NotTo(HaveOccurred())
		// VFs in use: the kernel refuses to disable them.
		e.tree.Inject(fake.Injection{Path: numvfs(pfA), Value: "0", Err: syscall.EBUSY})
		res, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 4), pfWith(pfB, 3)}})
		g.Expect(err).To(MatchError(sriov.ErrDeviceBusy))
		g.Expect(err).To(MatchError(syscall.EBUSY))
		var se *sriov.Error
		g.Expect(errors.As(err, &se)).To(BeTrue())
		g.Expect(se.Device).To(Equal(pfA))
		g.Expect(sysfs.ReadInt(e.tree, numvfs(pfA))).To(Equal(2), "left as it was")
		g.Expect(sysfs.ReadInt(e.tree, numvfs(pfB))).To(Equal(3), "other PFs still converge")
		g.Expect(res.PFs).To(HaveLen(2))
		st, _ := sriov.LoadState(e.state)
		g.Expect(st.Complete).To(BeFalse())
		g.Expect(st.PFs[pfA].Error).To(ContainSubstring("DeviceBusy"))
	})
	t.Run("OutOfMemoryThenResume", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 2)}})
		g.Expect(err).NotTo(HaveOccurred())
		e.tree.Inject(fake.Injection{Path: numvfs(pfA), Value: "8", Err: syscall.ENOMEM, Times: 1})
		e.tree.ResetWrites()
		_, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 8)}})
		g.Expect(err).To(MatchError(sriov.ErrOutOfMemory))
		g.Expect(sriov.ReasonOf(err)).To(Equal("OutOfMemory"))
		g.Expect(e.writes("")).To(Equal([]string{numvfs(pfA) + "=0", numvfs(pfA) + "=8"}))
		g.Expect(sysfs.ReadInt(e.tree, numvfs(pfA))).To(Equal(0))

		// Retry (e.g. after pci=realloc): resumes from 0, no second reset.
		e.tree.ResetWrites()
		res, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 8)}})
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(res.Resumed).To(BeTrue())
		g.Expect(e.writes("")).To(Equal([]string{numvfs(pfA) + "=8"}))
	})
	t.Run("DriverBindFailed", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		e.tree.FailProbe("vfio-pci", syscall.EINVAL) // e.g. no IOMMU group
		_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 2, vfio(0, 1))}})
		g.Expect(err).To(MatchError(sriov.ErrDriverBindFailed))
		g.Expect(err.Error()).To(ContainSubstring("IOMMU"))
	})
	t.Run("PermissionDenied", func(t *testing.T) {
		// What a VF MTU write gets from the kernel without CAP_NET_ADMIN (seen on the real cluster).
		g := NewWithT(t)
		e := newEnv(t)
		_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfB, 2)}})
		g.Expect(err).NotTo(HaveOccurred())
		pf, err := sriov.DiscoverPF(e.tree, pfB)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(pf.VFs).NotTo(BeEmpty())
		e.tree.Inject(fake.Injection{Path: "bus/pci/devices/" + pf.VFs[0].PCIAddress + "/net/" + pf.VFs[0].Netdev + "/mtu",
			Value: "9000", Err: syscall.EPERM})
		group := netdev(0, 1)
		group.MTU = 9000
		_, err = e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfB, 2, group)}})
		g.Expect(err).To(MatchError(sriov.ErrPermissionDenied))
		g.Expect(err).To(MatchError(syscall.EPERM))
		g.Expect(sriov.ReasonOf(err)).To(Equal("PermissionDenied"))
		g.Expect(err.Error()).To(ContainSubstring("set VF MTU"))
	})
	t.Run("ReadBackMismatch", func(t *testing.T) {
		g := NewWithT(t)
		e := newEnv(t)
		lying := &lyingRoot{Root: e.tree, path: "bus/pci/devices/" + pfA + "/net/ens1f0/mtu", value: "1500\n"}
		cfg := pfWith(pfA, 0)
		cfg.MTU = 9000
		_, err := sriov.Apply(context.Background(), lying, sriov.Desired{PFs: []sriov.PFConfig{cfg}}, e.state)
		g.Expect(err).To(MatchError(sriov.ErrReadBackMismatch))
	})
}

// lyingRoot returns a fixed value when path is read.
type lyingRoot struct {
	sysfs.Root
	path, value string
}

func (l *lyingRoot) ReadFile(rel string) ([]byte, error) {
	if rel == l.path {
		return []byte(l.value), nil
	}
	return l.Root.ReadFile(rel)
}

func TestApplyCrashBetweenWritesResumes(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	_, err := e.apply(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 2), pfWith(pfB, 8)}})
	g.Expect(err).NotTo(HaveOccurred())

	// New desired state: A 2 -> 6 (vfio), B 8 -> 4. The agent "crashes" right after writing 0 to
	// B's sriov_numvfs (A, lower address, is already done).
	desired := sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 6, vfio(0, 5)), pfWith(pfB, 4)}}
	crash := errors.New("agent killed")
	e.tree.BeforeWrite(func(rel, data string) error {
		if rel == numvfs(pfB) && data == "4" {
			return crash
		}
		return nil
	})
	e.tree.ResetWrites()
	_, err = e.apply(desired)
	g.Expect(err).To(MatchError(crash))
	g.Expect(sysfs.ReadInt(e.tree, numvfs(pfA))).To(Equal(6))
	g.Expect(sysfs.ReadInt(e.tree, numvfs(pfB))).To(Equal(0))
	st, err := sriov.LoadState(e.state)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.SpecHash).To(Equal(desired.Hash()))
	g.Expect(st.Complete).To(BeFalse())
	g.Expect(st.PFs[pfA].Done).To(BeTrue())
	g.Expect(st.PFs[pfB].Step).To(Equal("numvfs-4"))

	// Restarted agent: same desired state, the state file says where it stopped.
	e.tree.BeforeWrite(nil)
	e.tree.ResetWrites()
	res, err := e.apply(desired)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Resumed).To(BeTrue())
	g.Expect(e.writes("")).To(Equal([]string{numvfs(pfB) + "=4"}), "no reset redone, A untouched")
	g.Expect(drivers(g, e.tree, pfA)).To(HaveEach("vfio-pci"))

	e.tree.ResetWrites()
	res, err = e.apply(desired)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Unchanged).To(BeTrue())
	g.Expect(e.tree.Writes()).To(BeEmpty())
}

func TestApplyCrashBeforeVFBinding(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	desired := sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 3, vfio(0, 2))}}
	crash := errors.New("agent killed")
	e.tree.BeforeWrite(func(rel, data string) error {
		if strings.HasSuffix(rel, "/driver_override") {
			return crash
		}
		return nil
	})
	_, err := e.apply(desired)
	g.Expect(err).To(MatchError(crash))
	g.Expect(sysfs.ReadInt(e.tree, numvfs(pfA))).To(Equal(3))

	e.tree.BeforeWrite(nil)
	e.tree.ResetWrites()
	res, err := e.apply(desired)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Resumed).To(BeTrue())
	g.Expect(e.writes("sriov_numvfs")).To(BeEmpty(), "VFs exist: only the binding is redone")
	g.Expect(drivers(g, e.tree, pfA)).To(HaveEach("vfio-pci"))
}

func TestApplyRedoesDrift(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	desired := sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 2, vfio(0, 1))}}
	_, err := e.apply(desired)
	g.Expect(err).NotTo(HaveOccurred())
	// Someone rebinds VF 1 to iavf by hand.
	vf1 := fake.VFAddress(pfA, 1)
	g.Expect(sysfs.WriteString(e.tree, "bus/pci/devices/"+vf1+"/driver_override", "")).To(Succeed())
	g.Expect(sysfs.WriteString(e.tree, "bus/pci/drivers/vfio-pci/unbind", vf1)).To(Succeed())
	g.Expect(sysfs.WriteString(e.tree, "bus/pci/drivers_probe", vf1)).To(Succeed())
	g.Expect(drivers(g, e.tree, pfA)).To(Equal([]string{"vfio-pci", "iavf"}))

	e.tree.ResetWrites()
	res, err := e.apply(desired)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Unchanged).To(BeFalse())
	g.Expect(drivers(g, e.tree, pfA)).To(Equal([]string{"vfio-pci", "vfio-pci"}))
	g.Expect(e.writes("sriov_numvfs")).To(BeEmpty())
}

func TestState(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	st, err := sriov.LoadState(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.SpecHash).To(BeEmpty())
	st.SpecHash, st.Owned = "abc", []string{pfB, pfA}
	g.Expect(sriov.SaveState(path, st)).To(Succeed())
	got, err := sriov.LoadState(path)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Owned).To(Equal([]string{pfA, pfB}))
	entries, err := os.ReadDir(dir)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(entries).To(HaveLen(1), "no temp files left behind")

	g.Expect(os.WriteFile(path, []byte("{garbage"), 0o644)).To(Succeed())
	_, err = sriov.LoadState(path)
	g.Expect(err).To(HaveOccurred())
	_, err = sriov.LoadState(filepath.Join(dir, "missing"))
	g.Expect(errors.Is(err, fs.ErrNotExist)).To(BeFalse())
}

func TestDesiredHashIsOrderIndependent(t *testing.T) {
	g := NewWithT(t)
	a := sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 4, vfio(2, 3), netdev(0, 1)), pfWith(pfB, 1)}}
	b := sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfB, 1), pfWith(pfA, 4, netdev(0, 1), vfio(2, 3))}}
	g.Expect(a.Hash()).To(Equal(b.Hash()))
	g.Expect(a.Hash()).NotTo(Equal(sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfB, 2)}}.Hash()))
}

func TestApplyHonoursContext(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sriov.Apply(ctx, e.tree, sriov.Desired{PFs: []sriov.PFConfig{pfWith(pfA, 2)}}, e.state)
	g.Expect(err).To(MatchError(context.Canceled))
	g.Expect(e.writes("sriov_numvfs")).To(BeEmpty())
	st, err := sriov.LoadState(e.state)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st.Complete).To(BeFalse())
}

// TestDiscoverRealSysfs runs discovery on this machine's /sys (read-only): PCI devices without
// SR-IOV must simply be ignored.
func TestDiscoverRealSysfs(t *testing.T) {
	if _, err := os.Stat("/sys/bus/pci/devices"); err != nil {
		testenv.SkipOrFail(t, "no PCI bus in /sys: %v", err)
	}
	g := NewWithT(t)
	pfs, err := sriov.Discover(sysfs.New("/sys"))
	g.Expect(err).NotTo(HaveOccurred())
	for _, pf := range pfs {
		g.Expect(pf.NumVfs).To(BeNumerically("<=", pf.TotalVfs))
		g.Expect(pf.VFs).To(HaveLen(pf.NumVfs))
	}
	t.Logf("%d SR-IOV PFs on this machine", len(pfs))
}
