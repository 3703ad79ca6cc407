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

package resolve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/internal/netattach"
)

type source struct {
	mu    sync.Mutex
	pods  map[string]*Pod
	nads  map[string]*netattach.NetworkAttachmentDefinition
	calls int
	// inFlight/maxInFlight observe concurrent GetNAD calls; barrier, when set, holds
	// each GetNAD until that many are in flight (or a second passes).
	inFlight, maxInFlight, barrier int
	arrived                        chan struct{}
}

func (s *source) GetPod(_ context.Context, ns, name string) (*Pod, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if p, ok := s.pods[ns+"/"+name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("pod: %w", ErrNotFound)
}

func (s *source) GetNAD(_ context.Context, ns, name string) (*netattach.NetworkAttachmentDefinition, error) {
	s.mu.Lock()
	s.calls++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	reached := s.barrier > 0 && s.inFlight == s.barrier
	s.mu.Unlock()
	if s.barrier > 0 {
		if reached {
			close(s.arrived)
		}
		select {
		case <-s.arrived:
		case <-time.After(time.Second):
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
	if n, ok := s.nads[ns+"/"+name]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("nad: %w", ErrNotFound)
}

type devices map[string][]string

func (d devices) DeviceIDs(context.Context, string, string) (map[string][]string, error) {
	return d, nil
}

func TestClusterNetworkForms(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	confDir := filepath.Join(dir, "confs")
	g.Expect(os.MkdirAll(confDir, 0o700)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(confDir, "20-b.conf"), []byte(`{"cniVersion":"1.0.0","name":"b","type":"ptp"}`), 0o600)).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(confDir, "10-a.conflist"), []byte(`{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]}`), 0o600)).To(Succeed())
	src := &source{nads: map[string]*netattach.NetworkAttachmentDefinition{
		"kube-system/calico": {Namespace: "kube-system", Name: "calico", Config: `{"cniVersion":"1.0.0","type":"calico"}`}}}
	for _, tc := range []struct{ value, network string }{
		{confDir, "a"}, // directory: lexically first
		{filepath.Join(confDir, "20-b.conf"), "b"}, // file
		{"calico", "kube-system/calico"},           // NAD in multusNamespace
		{"b", "b"},                                 // no such NAD: conf named so in confDir
	} {
		r := &Resolver{Source: src, Opts: Options{ClusterNetwork: tc.value, MultusNamespace: "kube-system", ConfDir: confDir}}
		got, err := r.Resolve(context.Background(), api.PodRef{IfName: "eth0"})
		g.Expect(err).NotTo(HaveOccurred(), tc.value)
		g.Expect(got.Attachments).To(HaveLen(1))
		g.Expect(got.Attachments[0].Network).To(Equal(tc.network), tc.value)
		g.Expect(got.Attachments[0].ClusterNetwork).To(BeTrue())
		g.Expect(got.Attachments[0].IfName).To(Equal("eth0"))
		g.Expect(got.SkipStatus).To(BeTrue(), "no pod, no status")
	}
	r := &Resolver{Source: src, Opts: Options{ClusterNetwork: "nothing", MultusNamespace: "kube-system", ConfDir: confDir}}
	_, err := r.Resolve(context.Background(), api.PodRef{IfName: "eth0"})
	g.Expect(errors.Is(err, api.ErrNetworkNotFound)).To(BeTrue())
}

func TestNamesDevicesAndMemo(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	cluster := filepath.Join(dir, "c.conf")
	g.Expect(os.WriteFile(cluster, []byte(`{"cniVersion":"1.0.0","name":"c","type":"ptp"}`), 0o600)).To(Succeed())
	sriov := &netattach.NetworkAttachmentDefinition{Namespace: "ns", Name: "sr", Config: `{"cniVersion":"1.0.0","type":"sriov"}`,
		Annotations: map[string]string{netattach.ResourceNameAnnotation: "intel.com/vf"}}
	src := &source{
		pods: map[string]*Pod{"ns/p": {Namespace: "ns", Name: "p", UID: "u", Annotations: map[string]string{
			netattach.NetworksAnnotation: `[{"name":"sr"},{"name":"sr","interface":"fast0","deviceID":"ignored"},{"name":"sr"},{"name":"sr","deviceID":"0000:ff:00.0"}]`}}},
		nads: map[string]*netattach.NetworkAttachmentDefinition{"ns/sr": sriov},
	}
	r := &Resolver{Source: src, Devices: devices{"intel.com/vf": {"0000:03:00.3", "0000:03:00.1", "0000:03:00.2"}},
		Opts: Options{ClusterNetwork: cluster}}
	got, err := r.Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "p", UID: "u", IfName: "eth0"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(src.calls).To(Equal(2), "one GET for the pod, one for the NAD used four times")
	a := got.Attachments
	g.Expect([]string{a[1].IfName, a[2].IfName, a[3].IfName, a[4].IfName}).To(Equal([]string{"net1", "fast0", "net3", "net4"}))
	g.Expect([]string{a[1].DeviceID, a[2].DeviceID, a[3].DeviceID}).To(Equal([]string{"0000:03:00.1", "0000:03:00.2", "0000:03:00.3"}))
	g.Expect(a[1].DeviceIDFromResource).To(BeTrue())
	// More attachments than devices: the annotation's deviceID is used, not from the resource.
	g.Expect(a[4].DeviceID).To(Equal("0000:ff:00.0"))
	g.Expect(a[4].DeviceIDFromResource).To(BeFalse())
	g.Expect(a[4].RuntimeConfig).To(HaveKeyWithValue("deviceID", "0000:ff:00.0"))
	g.Expect(got.SkipStatus).To(BeFalse())
}

func TestInterfaceClash(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	cluster := filepath.Join(dir, "c.conf")
	g.Expect(os.WriteFile(cluster, []byte(`{"cniVersion":"1.0.0","name":"c","type":"ptp"}`), 0o600)).To(Succeed())
	src := &source{
		pods: map[string]*Pod{"ns/p": {Namespace: "ns", Name: "p", Annotations: map[string]string{netattach.NetworksAnnotation: "a@eth0"}}},
		nads: map[string]*netattach.NetworkAttachmentDefinition{"ns/a": {Namespace: "ns", Name: "a", Config: `{"cniVersion":"1.0.0","type":"bridge"}`}},
	}
	r := &Resolver{Source: src, Opts: Options{ClusterNetwork: cluster}}
	_, err := r.Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "p", IfName: "eth0"})
	var re *api.ResolveError
	g.Expect(errors.As(err, &re)).To(BeTrue())
	g.Expect(re.Reason).To(Equal(api.ReasonInvalidNetworkAnnotation))
	g.Expect(err.Error()).To(ContainSubstring("both use interface eth0"))
}

func TestNADsAreReadConcurrently(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	cluster := filepath.Join(dir, "c.conf")
	g.Expect(os.WriteFile(cluster, []byte(`{"cniVersion":"1.0.0","name":"c","type":"ptp"}`), 0o600)).To(Succeed())
	src := &source{barrier: 3, arrived: make(chan struct{}),
		pods: map[string]*Pod{"ns/p": {Namespace: "ns", Name: "p", Annotations: map[string]string{netattach.NetworksAnnotation: "a,b,other/c,a"}}},
		nads: map[string]*netattach.NetworkAttachmentDefinition{
			"ns/a":    {Namespace: "ns", Name: "a", Config: `{"cniVersion":"1.0.0","type":"bridge"}`},
			"ns/b":    {Namespace: "ns", Name: "b", Config: `{"cniVersion":"1.0.0","type":"macvlan"}`},
			"other/c": {Namespace: "other", Name: "c", Config: `{"cniVersion":"1.0.0","type":"ipvlan"}`},
		}}
	r := &Resolver{Source: src, Opts: Options{ClusterNetwork: cluster}}
	got, err := r.Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "p", IfName: "eth0"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Attachments).To(HaveLen(5))
	g.Expect(src.maxInFlight).To(Equal(3), "the three distinct NADs are read in parallel")
	g.Expect(src.calls).To(Equal(4), "one pod GET and one GET per distinct NAD")
	g.Expect(got.Attachments[4].Network).To(Equal("ns/a"))

	// A missing NAD is still reported in annotation order.
	src = &source{pods: map[string]*Pod{"ns/p": {Namespace: "ns", Name: "p", Annotations: map[string]string{
		netattach.NetworksAnnotation: "a,gone1,gone2"}}}, nads: src.nads}
	r.Source = src
	_, err = r.Resolve(context.Background(), api.PodRef{Namespace: "ns", Name: "p", IfName: "eth0"})
	g.Expect(err).To(MatchError(ContainSubstring("ns/gone1")))
}
