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

package fake

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/plexus-net/plexus/internal/sysfs"
)

// PF describes an SR-IOV physical function to create in the fake tree.
type PF struct {
	// Address is the PCI address, e.g. 0000:3b:00.0.
	Address string
	// Name is the PF netdevice name; empty for none.
	Name string
	// Vendor and Device are the PCI IDs of the PF (hex, no 0x); VFDevice is the VFs' device ID.
	Vendor, Device, VFDevice string
	// Driver is the PF driver; empty means no driver bound (sriov_numvfs then fails with ENOENT).
	Driver string
	// VFDriver is the kernel VF driver VFs are probed with, e.g. iavf.
	VFDriver string
	// TotalVFs is sriov_totalvfs.
	TotalVFs int
	// NUMANode is numa_node.
	NUMANode int
	// MTU is the PF netdevice MTU (default 1500).
	MTU int
}

// Write is one logged write.
type Write struct {
	// Path is the path relative to the root.
	Path string
	// Data is what was written, without a trailing newline.
	Data string
	// Err is the error returned to the writer.
	Err error
}

// Injection makes writes fail.
type Injection struct {
	// Path is the attribute, relative to the root.
	Path string
	// Value restricts the injection to writes of this value (trailing newline ignored); empty
	// matches any value.
	Value string
	// Err is returned instead of performing the write, e.g. syscall.ENOMEM.
	Err error
	// Times is how many writes fail; 0 means every matching write.
	Times int
}

type device struct {
	pf       *PF // the PF itself, or the parent of a VF
	isVF     bool
	vfIndex  int
	override string
	driver   string
	netdev   string
}

// Tree is a fake sysfs tree. It implements sysfs.Root and is safe for concurrent use.
type Tree struct {
	dir string

	mu          sync.Mutex
	devices     map[string]*device // by PCI address
	drivers     map[string]bool    // loaded drivers
	failProbe   map[string]error   // driver -> probe error
	injections  []*Injection
	beforeWrite func(rel, data string) error
	writes      []Write
	hpCapacity  map[string]int // "<kB>/<node>" -> max pages
}

var _ sysfs.Root = (*Tree)(nil)

// New creates an empty tree (PCI bus, drivers_probe, no devices) in dir, which must exist, e.g.
// t.TempDir().
func New(dir string) (*Tree, error) {
	t := &Tree{
		dir:        dir,
		devices:    map[string]*device{},
		drivers:    map[string]bool{},
		failProbe:  map[string]error{},
		hpCapacity: map[string]int{},
	}
	for _, d := range []string{"bus/pci/devices", "bus/pci/drivers", "kernel/mm/hugepages", "devices/system/node"} {
		if err := os.MkdirAll(t.Path(d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := t.put("bus/pci/drivers_probe", ""); err != nil {
		return nil, err
	}
	return t, nil
}

// Path implements sysfs.Root.
func (t *Tree) Path(rel string) string { return filepath.Join(t.dir, filepath.FromSlash(rel)) }

// ReadFile implements sysfs.Root.
func (t *Tree) ReadFile(rel string) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return os.ReadFile(t.Path(rel))
}

// ReadDir implements sysfs.Root.
func (t *Tree) ReadDir(rel string) ([]fs.DirEntry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return os.ReadDir(t.Path(rel))
}

// Readlink implements sysfs.Root.
func (t *Tree) Readlink(rel string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return os.Readlink(t.Path(rel))
}

// Stat implements sysfs.Root.
func (t *Tree) Stat(rel string) (fs.FileInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return os.Stat(t.Path(rel))
}

// AddDriver makes a driver "loaded": bus/pci/drivers/<name>/{bind,unbind} appear.
func (t *Tree) AddDriver(name string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.addDriver(name)
}

func (t *Tree) addDriver(name string) error {
	if t.drivers[name] {
		return nil
	}
	base := "bus/pci/drivers/" + name
	for _, f := range []string{"bind", "unbind"} {
		if err := t.put(base+"/"+f, ""); err != nil {
			return err
		}
	}
	t.drivers[name] = true
	return nil
}

// FailProbe makes probing devices with driver fail with err (e.g. vfio-pci without an IOMMU).
// A nil err clears it.
func (t *Tree) FailProbe(driver string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		delete(t.failProbe, driver)
		return
	}
	t.failProbe[driver] = err
}

// Inject adds a write failure.
func (t *Tree) Inject(in Injection) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := in
	t.injections = append(t.injections, &c)
}

// ClearInjections removes all write failures.
func (t *Tree) ClearInjections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.injections = nil
}

// BeforeWrite installs a hook called before every write; a non-nil error is returned to the
// writer and the write is not performed (use it to simulate a crash between two writes).
func (t *Tree) BeforeWrite(fn func(rel, data string) error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.beforeWrite = fn
}

// Writes returns the write log.
func (t *Tree) Writes() []Write {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Write(nil), t.writes...)
}

// ResetWrites clears the write log.
func (t *Tree) ResetWrites() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.writes = nil
}

// AddPF creates a PF with its driver bound and 0 VFs. The PF and VF drivers are added as loaded.
func (t *Tree) AddPF(pf PF) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if pf.MTU == 0 {
		pf.MTU = 1500
	}
	p := pf
	base := devPath(pf.Address)
	files := map[string]string{
		"vendor":          "0x" + pf.Vendor,
		"device":          "0x" + pf.Device,
		"numa_node":       strconv.Itoa(pf.NUMANode),
		"sriov_totalvfs":  strconv.Itoa(pf.TotalVFs),
		"sriov_numvfs":    "0",
		"driver_override": "(null)",
	}
	for f, v := range files {
		if err := t.put(base+"/"+f, v); err != nil {
			return err
		}
	}
	d := &device{pf: &p}
	t.devices[pf.Address] = d
	for _, drv := range []string{pf.Driver, pf.VFDriver} {
		if drv != "" {
			if err := t.addDriver(drv); err != nil {
				return err
			}
		}
	}
	if pf.Driver != "" {
		if err := t.bind(pf.Address, d, pf.Driver); err != nil {
			return err
		}
	}
	return nil
}

// SetHugepages creates the hugepage pool files for one page size (in kB) on numaNodes NUMA nodes,
// each able to hold at most capacity pages.
func (t *Tree) SetHugepages(sizeKB, numaNodes, capacity int) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for n := 0; n < numaNodes; n++ {
		t.hpCapacity[fmt.Sprintf("%d/%d", sizeKB, n)] = capacity
		if err := t.setNodePages(sizeKB, n, 0); err != nil {
			return err
		}
	}
	return t.syncGlobalPages(sizeKB)
}

// VFAddress returns the PCI address the fake gives VF index of the PF at pfAddr.
func VFAddress(pfAddr string, index int) string {
	// 0000:3b:00.1 -> domain 0000, bus 3b, function 1; VFs go to devices 0x02+0x10*fn+index/8.
	dom, bus, fn := pfAddr[:4], pfAddr[5:7], int(pfAddr[11]-'0')
	return fmt.Sprintf("%s:%s:%02x.%d", dom, bus, 0x02+0x10*fn+index/8, index%8)
}

func devPath(addr string) string { return "bus/pci/devices/" + addr }

func (t *Tree) put(rel, content string) error {
	p := t.Path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(content+"\n"), 0o644)
}

func (t *Tree) symlink(rel, target string) error {
	p := t.Path(rel)
	_ = os.Remove(p)
	return os.Symlink(target, p)
}

func errno(rel string, e error) error {
	return &fs.PathError{Op: "write", Path: rel, Err: e}
}

// WriteFile implements sysfs.Root with the kernel-like side effects described in the package doc.
func (t *Tree) WriteFile(rel string, data []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	val := strings.TrimSuffix(string(data), "\n")
	err := t.write(rel, val)
	t.writes = append(t.writes, Write{Path: rel, Data: val, Err: err})
	return err
}

func (t *Tree) write(rel, val string) error {
	rel = path.Clean(rel)
	if t.beforeWrite != nil {
		if err := t.beforeWrite(rel, val); err != nil {
			return err
		}
	}
	for _, in := range t.injections {
		if in.Path == rel && (in.Value == "" || in.Value == val) && in.Times >= 0 {
			if in.Times > 0 {
				in.Times--
				if in.Times == 0 {
					in.Times = -1 // exhausted
				}
			}
			return errno(t.Path(rel), in.Err)
		}
	}
	if _, err := os.Lstat(t.Path(rel)); err != nil {
		return errno(t.Path(rel), syscall.ENOENT)
	}
	parts := strings.Split(rel, "/")
	switch {
	case rel == "bus/pci/drivers_probe":
		return t.probe(val)
	case len(parts) == 5 && parts[0] == "bus" && parts[2] == "drivers" && parts[4] == "bind":
		return t.bindStore(parts[3], val)
	case len(parts) == 5 && parts[0] == "bus" && parts[2] == "drivers" && parts[4] == "unbind":
		return t.unbindStore(parts[3], val)
	case len(parts) == 5 && parts[2] == "devices" && parts[4] == "sriov_numvfs":
		return t.numvfsStore(parts[3], val)
	case len(parts) == 5 && parts[2] == "devices" && parts[4] == "driver_override":
		return t.overrideStore(parts[3], val)
	case parts[len(parts)-1] == "mtu" && len(parts) >= 3 && parts[len(parts)-3] == "net":
		return t.mtuStore(rel, val)
	case parts[len(parts)-1] == "nr_hugepages":
		return t.hugepagesStore(rel, val)
	}
	return os.WriteFile(t.Path(rel), []byte(val+"\n"), 0o644)
}

func (t *Tree) numvfsStore(addr, val string) error {
	p := t.Path(devPath(addr) + "/sriov_numvfs")
	d := t.devices[addr]
	if d == nil || d.isVF {
		return errno(p, syscall.ENOENT)
	}
	n, err := strconv.ParseUint(val, 0, 16)
	if err != nil {
		return errno(p, syscall.EINVAL)
	}
	if int(n) > d.pf.TotalVFs {
		return errno(p, syscall.ERANGE)
	}
	cur, _ := t.readInt(devPath(addr) + "/sriov_numvfs")
	if int(n) == cur {
		return nil
	}
	if d.driver == "" {
		return errno(p, syscall.ENOENT)
	}
	if n == 0 {
		for i := 0; i < cur; i++ {
			if err := t.removeVF(addr, i); err != nil {
				return err
			}
		}
		return t.put(devPath(addr)+"/sriov_numvfs", "0")
	}
	if cur != 0 {
		return errno(p, syscall.EBUSY)
	}
	for i := 0; i < int(n); i++ {
		if err := t.createVF(d, i); err != nil {
			return err
		}
	}
	return t.put(devPath(addr)+"/sriov_numvfs", strconv.Itoa(int(n)))
}

func (t *Tree) createVF(pf *device, i int) error {
	addr := VFAddress(pf.pf.Address, i)
	base := devPath(addr)
	files := map[string]string{
		"vendor":          "0x" + pf.pf.Vendor,
		"device":          "0x" + pf.pf.VFDevice,
		"numa_node":       strconv.Itoa(pf.pf.NUMANode),
		"driver_override": "(null)",
	}
	for f, v := range files {
		if err := t.put(base+"/"+f, v); err != nil {
			return err
		}
	}
	if err := t.symlink(base+"/physfn", "../"+pf.pf.Address); err != nil {
		return err
	}
	if err := t.symlink(devPath(pf.pf.Address)+"/virtfn"+strconv.Itoa(i), "../"+addr); err != nil {
		return err
	}
	vf := &device{pf: pf.pf, isVF: true, vfIndex: i}
	t.devices[addr] = vf
	// sriov_drivers_autoprobe defaults to 1: the VF driver probes new VFs.
	if drv := pf.pf.VFDriver; drv != "" && t.drivers[drv] && t.failProbe[drv] == nil {
		return t.bind(addr, vf, drv)
	}
	return nil
}

func (t *Tree) removeVF(pfAddr string, i int) error {
	addr := VFAddress(pfAddr, i)
	if d := t.devices[addr]; d != nil && d.driver != "" {
		t.unbind(addr, d)
	}
	delete(t.devices, addr)
	if err := os.RemoveAll(t.Path(devPath(addr))); err != nil {
		return err
	}
	return os.Remove(t.Path(devPath(pfAddr) + "/virtfn" + strconv.Itoa(i)))
}

func (t *Tree) nativeDriver(d *device) string {
	if d.isVF {
		return d.pf.VFDriver
	}
	return d.pf.Driver
}

// matches mirrors pci_match_device: with driver_override set only that driver matches; without
// it the device's ID-table driver does (vfio-pci has no ID table).
func (t *Tree) matches(d *device, drv string) bool {
	if d.override != "" {
		return d.override == drv
	}
	return t.nativeDriver(d) == drv
}

func (t *Tree) bind(addr string, d *device, drv string) error {
	base := devPath(addr)
	if err := t.symlink(base+"/driver", "../../drivers/"+drv); err != nil {
		return err
	}
	if err := t.symlink("bus/pci/drivers/"+drv+"/"+addr, "../../devices/"+addr); err != nil {
		return err
	}
	d.driver = drv
	if drv != "vfio-pci" {
		name := d.pf.Name
		if d.isVF {
			name = fmt.Sprintf("%sv%d", d.pf.Name, d.vfIndex)
			if d.pf.Name == "" {
				name = fmt.Sprintf("vf%s", strings.NewReplacer(":", "", ".", "").Replace(addr))
			}
		}
		if name != "" {
			mtu := 1500
			if !d.isVF {
				mtu = d.pf.MTU
			}
			d.netdev = name
			return t.put(base+"/net/"+name+"/mtu", strconv.Itoa(mtu))
		}
	}
	return nil
}

func (t *Tree) unbind(addr string, d *device) {
	base := devPath(addr)
	_ = os.Remove(t.Path(base + "/driver"))
	_ = os.Remove(t.Path("bus/pci/drivers/" + d.driver + "/" + addr))
	_ = os.RemoveAll(t.Path(base + "/net"))
	d.driver, d.netdev = "", ""
}

func (t *Tree) probe(addr string) error {
	d := t.devices[addr]
	if d == nil {
		return errno(t.Path("bus/pci/drivers_probe"), syscall.ENODEV)
	}
	if d.driver != "" {
		return nil
	}
	drv := d.override
	if drv == "" {
		drv = t.nativeDriver(d)
	}
	// Like device_attach: a missing driver or a failing probe is not an error of the write.
	if drv == "" || !t.drivers[drv] || t.failProbe[drv] != nil {
		return nil
	}
	return t.bind(addr, d, drv)
}

func (t *Tree) bindStore(drv, addr string) error {
	p := t.Path("bus/pci/drivers/" + drv + "/bind")
	d := t.devices[addr]
	if d == nil || !t.matches(d, drv) {
		return errno(p, syscall.ENODEV)
	}
	if d.driver != "" {
		return errno(p, syscall.EBUSY)
	}
	if err := t.failProbe[drv]; err != nil {
		return errno(p, err)
	}
	return t.bind(addr, d, drv)
}

func (t *Tree) unbindStore(drv, addr string) error {
	d := t.devices[addr]
	if d == nil || d.driver != drv {
		return errno(t.Path("bus/pci/drivers/"+drv+"/unbind"), syscall.ENODEV)
	}
	t.unbind(addr, d)
	return nil
}

func (t *Tree) overrideStore(addr, val string) error {
	d := t.devices[addr]
	if d == nil {
		return errno(t.Path(devPath(addr)+"/driver_override"), syscall.ENOENT)
	}
	d.override = val
	shown := val
	if shown == "" {
		shown = "(null)"
	}
	return t.put(devPath(addr)+"/driver_override", shown)
}

func (t *Tree) mtuStore(rel, val string) error {
	n, err := strconv.Atoi(val)
	if err != nil || n < 68 || n > 9702 {
		return errno(t.Path(rel), syscall.EINVAL)
	}
	return t.put(rel, strconv.Itoa(n))
}

func (t *Tree) readInt(rel string) (int, error) {
	b, err := os.ReadFile(t.Path(rel))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func hpDir(sizeKB int) string { return fmt.Sprintf("hugepages-%dkB", sizeKB) }

func (t *Tree) setNodePages(sizeKB, node, n int) error {
	base := fmt.Sprintf("devices/system/node/node%d/hugepages/%s/", node, hpDir(sizeKB))
	if err := t.put(base+"nr_hugepages", strconv.Itoa(n)); err != nil {
		return err
	}
	return t.put(base+"free_hugepages", strconv.Itoa(n))
}

func (t *Tree) nodes(sizeKB int) []int {
	var ns []int
	for k := range t.hpCapacity {
		var s, n int
		if _, err := fmt.Sscanf(k, "%d/%d", &s, &n); err == nil && s == sizeKB {
			ns = append(ns, n)
		}
	}
	sort.Ints(ns)
	return ns
}

func (t *Tree) syncGlobalPages(sizeKB int) error {
	total := 0
	for _, n := range t.nodes(sizeKB) {
		v, err := t.readInt(fmt.Sprintf("devices/system/node/node%d/hugepages/%s/nr_hugepages", n, hpDir(sizeKB)))
		if err != nil {
			return err
		}
		total += v
	}
	base := "kernel/mm/hugepages/" + hpDir(sizeKB) + "/"
	if err := t.put(base+"nr_hugepages", strconv.Itoa(total)); err != nil {
		return err
	}
	return t.put(base+"free_hugepages", strconv.Itoa(total))
}

// hugepagesStore allocates like the kernel: as many pages as fit, no error on a shortfall.
func (t *Tree) hugepagesStore(rel, val string) error {
	n, err := strconv.ParseUint(val, 10, 64)
	if err != nil {
		return errno(t.Path(rel), syscall.EINVAL)
	}
	var sizeKB, node int
	if _, err := fmt.Sscanf(rel, "kernel/mm/hugepages/hugepages-%dkB/nr_hugepages", &sizeKB); err == nil {
		// Spread the global pool over the nodes, filling each up to its capacity.
		remaining := n
		for _, nd := range t.nodes(sizeKB) {
			c := uint64(t.hpCapacity[fmt.Sprintf("%d/%d", sizeKB, nd)])
			take := min(remaining, c)
			if err := t.setNodePages(sizeKB, nd, int(take)); err != nil {
				return err
			}
			remaining -= take
		}
		return t.syncGlobalPages(sizeKB)
	}
	if _, err := fmt.Sscanf(rel, "devices/system/node/node%d/hugepages/hugepages-%dkB/nr_hugepages", &node, &sizeKB); err == nil {
		c := uint64(t.hpCapacity[fmt.Sprintf("%d/%d", sizeKB, node)])
		if err := t.setNodePages(sizeKB, node, int(min(n, c))); err != nil {
			return err
		}
		return t.syncGlobalPages(sizeKB)
	}
	return errors.New("fake: unknown hugepages path " + rel)
}
