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

package fake_test

import (
	"errors"
	"syscall"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/internal/sysfs"
	"github.com/plexus-net/plexus/internal/sysfs/fake"
)

const pf0 = "0000:3b:00.0"

func newTree(t *testing.T) *fake.Tree {
	t.Helper()
	tr, err := fake.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.AddPF(fake.PF{Address: pf0, Name: "ens1f0", Vendor: "8086", Device: "158b", VFDevice: "154c",
		Driver: "i40e", VFDriver: "iavf", TotalVFs: 8}); err != nil {
		t.Fatal(err)
	}
	if err := tr.AddDriver("vfio-pci"); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestNumVfsKernelSemantics(t *testing.T) {
	g := NewWithT(t)
	tr := newTree(t)
	numvfs := "bus/pci/devices/" + pf0 + "/sriov_numvfs"

	g.Expect(sysfs.WriteInt(tr, numvfs, 9)).To(MatchError(syscall.ERANGE))
	g.Expect(sysfs.WriteString(tr, numvfs, "x")).To(MatchError(syscall.EINVAL))
	g.Expect(sysfs.WriteInt(tr, numvfs, 4)).To(Succeed())
	g.Expect(sysfs.ReadInt(tr, numvfs)).To(Equal(4))
	g.Expect(sysfs.WriteInt(tr, numvfs, 4)).To(Succeed(), "same value is a no-op")
	g.Expect(sysfs.WriteInt(tr, numvfs, 2)).To(MatchError(syscall.EBUSY), "non-zero to non-zero")

	vf3 := fake.VFAddress(pf0, 3)
	g.Expect(sysfs.LinkBase(tr, "bus/pci/devices/"+pf0+"/virtfn3")).To(Equal(vf3))
	g.Expect(sysfs.LinkBase(tr, "bus/pci/devices/"+vf3+"/physfn")).To(Equal(pf0))
	g.Expect(sysfs.LinkBase(tr, "bus/pci/devices/"+vf3+"/driver")).To(Equal("iavf"))
	g.Expect(sysfs.ReadInt(tr, "bus/pci/devices/"+vf3+"/net/ens1f0v3/mtu")).To(Equal(1500))

	g.Expect(sysfs.WriteInt(tr, numvfs, 0)).To(Succeed())
	g.Expect(sysfs.Exists(tr, "bus/pci/devices/"+vf3)).To(BeFalse())
	g.Expect(sysfs.Exists(tr, "bus/pci/devices/"+pf0+"/virtfn0")).To(BeFalse())
	g.Expect(sysfs.WriteInt(tr, numvfs, 2)).To(Succeed())

	tr.Inject(fake.Injection{Path: numvfs, Value: "0", Err: syscall.ENOMEM, Times: 1})
	g.Expect(sysfs.WriteInt(tr, numvfs, 0)).To(MatchError(syscall.ENOMEM))
	g.Expect(sysfs.WriteInt(tr, numvfs, 0)).To(Succeed(), "injection used up")
}

func TestNumVfsWithoutPFDriver(t *testing.T) {
	g := NewWithT(t)
	tr, err := fake.New(t.TempDir())
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(tr.AddPF(fake.PF{Address: pf0, Vendor: "8086", Device: "158b", TotalVFs: 4})).To(Succeed())
	g.Expect(sysfs.WriteInt(tr, "bus/pci/devices/"+pf0+"/sriov_numvfs", 2)).To(MatchError(syscall.ENOENT))
}

func TestDriverBinding(t *testing.T) {
	g := NewWithT(t)
	tr := newTree(t)
	g.Expect(sysfs.WriteInt(tr, "bus/pci/devices/"+pf0+"/sriov_numvfs", 1)).To(Succeed())
	vf := fake.VFAddress(pf0, 0)
	dev := "bus/pci/devices/" + vf

	g.Expect(sysfs.ReadString(tr, dev+"/driver_override")).To(Equal("(null)"))
	// vfio-pci has no ID table: without driver_override it does not match.
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers/iavf/unbind", vf)).To(Succeed())
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers/vfio-pci/bind", vf)).To(MatchError(syscall.ENODEV))

	g.Expect(sysfs.WriteString(tr, dev+"/driver_override", "vfio-pci")).To(Succeed())
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers_probe", vf)).To(Succeed())
	g.Expect(sysfs.LinkBase(tr, dev+"/driver")).To(Equal("vfio-pci"))
	g.Expect(sysfs.Exists(tr, dev+"/net")).To(BeFalse())
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers/iavf/bind", vf)).To(MatchError(syscall.ENODEV), "override excludes iavf")
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers/iavf/unbind", vf)).To(MatchError(syscall.ENODEV), "not bound to iavf")

	g.Expect(sysfs.WriteString(tr, dev+"/driver_override", "")).To(Succeed())
	g.Expect(sysfs.ReadString(tr, dev+"/driver_override")).To(Equal("(null)"))
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers/vfio-pci/unbind", vf)).To(Succeed())
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers/iavf/bind", vf)).To(Succeed())
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers/iavf/bind", vf)).To(MatchError(syscall.EBUSY))

	// A failing probe is invisible to drivers_probe, like the kernel.
	tr.FailProbe("vfio-pci", syscall.EINVAL)
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers/iavf/unbind", vf)).To(Succeed())
	g.Expect(sysfs.WriteString(tr, dev+"/driver_override", "vfio-pci")).To(Succeed())
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers_probe", vf)).To(Succeed())
	g.Expect(sysfs.LinkBase(tr, dev+"/driver")).To(Equal(""))
	g.Expect(sysfs.WriteString(tr, "bus/pci/drivers_probe", "0000:ff:00.0")).To(MatchError(syscall.ENODEV))
}

func TestMTUAndHooks(t *testing.T) {
	g := NewWithT(t)
	tr := newTree(t)
	mtu := "bus/pci/devices/" + pf0 + "/net/ens1f0/mtu"
	g.Expect(sysfs.WriteInt(tr, mtu, 9000)).To(Succeed())
	g.Expect(sysfs.ReadInt(tr, mtu)).To(Equal(9000))
	g.Expect(sysfs.WriteInt(tr, mtu, 10)).To(MatchError(syscall.EINVAL))

	crash := errors.New("crash")
	tr.BeforeWrite(func(rel, data string) error { return crash })
	g.Expect(sysfs.WriteInt(tr, mtu, 1500)).To(MatchError(crash))
	g.Expect(sysfs.ReadInt(tr, mtu)).To(Equal(9000))
	g.Expect(tr.Writes()).To(HaveLen(3))
}

func TestHugepages(t *testing.T) {
	g := NewWithT(t)
	tr := newTree(t)
	g.Expect(tr.SetHugepages(2048, 2, 10)).To(Succeed())
	global := "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
	node1 := "devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
	g.Expect(sysfs.WriteInt(tr, node1, 4)).To(Succeed())
	g.Expect(sysfs.ReadInt(tr, global)).To(Equal(4))
	g.Expect(sysfs.WriteInt(tr, node1, 50)).To(Succeed(), "a shortfall is not a write error")
	g.Expect(sysfs.ReadInt(tr, node1)).To(Equal(10))
	g.Expect(sysfs.WriteInt(tr, global, 15)).To(Succeed())
	g.Expect(sysfs.ReadInt(tr, "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages")).To(Equal(10))
	g.Expect(sysfs.ReadInt(tr, node1)).To(Equal(5))
}
