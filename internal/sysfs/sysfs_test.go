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

package sysfs_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/internal/sysfs"
)

func TestDirRoot(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	g.Expect(os.MkdirAll(filepath.Join(dir, "bus/pci/devices/0000:00:01.0"), 0o755)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, "bus/pci/devices/0000:00:01.0/numa_node"), []byte("1\n"), 0o644)).To(Succeed())
	g.Expect(os.Symlink("../../drivers/ixgbe", filepath.Join(dir, "bus/pci/devices/0000:00:01.0/driver"))).To(Succeed())

	r := sysfs.New(dir + "/")
	g.Expect(r.Path("bus/pci")).To(Equal(filepath.Join(dir, "bus/pci")))
	g.Expect(sysfs.ReadInt(r, "bus/pci/devices/0000:00:01.0/numa_node")).To(Equal(1))
	g.Expect(sysfs.WriteInt(r, "bus/pci/devices/0000:00:01.0/numa_node", 0)).To(Succeed())
	g.Expect(sysfs.ReadString(r, "bus/pci/devices/0000:00:01.0/numa_node")).To(Equal("0"))
	g.Expect(sysfs.LinkBase(r, "bus/pci/devices/0000:00:01.0/driver")).To(Equal("ixgbe"))
	g.Expect(sysfs.LinkBase(r, "bus/pci/devices/0000:00:01.0/missing")).To(Equal(""))
	g.Expect(sysfs.WriteInt(r, "bus/pci/devices/0000:00:01.0/absent", 1)).To(MatchError(fs.ErrNotExist), "attributes are never created")
	_, err := sysfs.ReadInt(r, "bus/pci/devices/0000:00:01.0/driver")
	g.Expect(err).To(HaveOccurred())
	g.Expect(sysfs.Exists(r, "bus/pci/devices")).To(BeTrue())
	entries, err := r.ReadDir("bus/pci/devices")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(entries).To(HaveLen(1))
}
