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

package hardware

import (
	"testing"

	. "github.com/onsi/gomega"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

func TestApplyNodeAnnotationsPCISysRoot(t *testing.T) {
	g := NewWithT(t)
	o := Options{HostRoot: "/srv/plexus", SysRoot: "/host/sys"}
	g.Expect(o.applyNodeAnnotations(map[string]string{plexusv1alpha1.PCISysRootAnnotation: "/srv/plexus/node1/pci-sys/"})).To(Succeed())
	g.Expect(o.PCISysRoot).To(Equal("/srv/plexus/node1/pci-sys"))
	g.Expect(o.SysRoot).To(Equal("/host/sys"), "hugepages keep the host's sysfs")
	g.Expect(pciRoot(o)).NotTo(BeNil())
	g.Expect(pciRoot(o).Path("bus/pci/devices")).To(Equal("/srv/plexus/node1/pci-sys/bus/pci/devices"))

	for _, bad := range []string{"/sys", "relative/pci-sys", "/srv/plexus-other/pci-sys"} {
		o := Options{HostRoot: "/srv/plexus", SysRoot: "/host/sys"}
		err := o.applyNodeAnnotations(map[string]string{plexusv1alpha1.PCISysRootAnnotation: bad})
		g.Expect(err).To(MatchError(ContainSubstring(plexusv1alpha1.PCISysRootAnnotation)), bad)
		g.Expect(o.PCISysRoot).To(BeEmpty(), bad)
	}
	noRoot := Options{SysRoot: "/host/sys"}
	g.Expect(noRoot.applyNodeAnnotations(map[string]string{plexusv1alpha1.PCISysRootAnnotation: "/srv/plexus/pci-sys"})).
		To(MatchError(ContainSubstring("hostRoot")), "without hostRoot nothing else is mounted")
}

func TestPCIRootDefaultsToSysRoot(t *testing.T) {
	g := NewWithT(t)
	g.Expect(pciRoot(Options{SysRoot: "/host/sys"})).To(BeNil())
	g.Expect(pciRoot(Options{SysRoot: "/host/sys", PCISysRoot: "/host/sys/"})).To(BeNil())
	r := &Reconciler{}
	g.Expect(r.pciRoot()).To(BeNil())
}
