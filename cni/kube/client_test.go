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

package kube_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/api"
	"github.com/plexus-net/plexus/cni/kube"
	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/netattach"
)

func newClient(t *testing.T) *kube.Client {
	t.Helper()
	cfg, err := kube.LoadConfig(kubeconfigPath)
	if err != nil {
		t.Fatal(err)
	}
	return kube.NewClient(cfg)
}

func TestClientGetPatchEvent(t *testing.T) {
	requireEnvtest(t)
	g := NewWithT(t)
	ctx := ctxT(t)
	ns := newNamespace(t)
	pod := createPod(t, ns, "web", map[string]string{netattach.NetworksAnnotation: "a"})
	createNAD(t, ns, "a", `{"cniVersion":"1.0.0","type":"bridge"}`, map[string]string{netattach.ResourceNameAnnotation: "x.io/dev"})
	c := newClient(t)

	got, err := c.GetPod(ctx, ns, "web")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.UID).To(Equal(string(pod.UID)))
	g.Expect(got.Annotations).To(HaveKeyWithValue(netattach.NetworksAnnotation, "a"))

	nad, err := c.GetNAD(ctx, ns, "a")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(nad.Config).To(Equal(`{"cniVersion":"1.0.0","type":"bridge"}`))
	g.Expect(nad.ResourceName()).To(Equal("x.io/dev"))

	_, err = c.GetNAD(ctx, ns, "missing")
	g.Expect(errors.Is(err, resolve.ErrNotFound)).To(BeTrue(), "got %v", err)
	_, err = c.GetPod(ctx, ns, "missing")
	g.Expect(errors.Is(err, resolve.ErrNotFound)).To(BeTrue(), "got %v", err)

	status := []netattach.NetworkStatus{{Name: "cluster", Interface: "eth0", IPs: []string{"10.0.0.5"}, Default: true}}
	g.Expect(c.PatchNetworkStatus(ctx, ns, "web", string(pod.UID), status)).To(Succeed())
	var after corev1.Pod
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(pod), &after)).To(Succeed())
	want, _ := netattach.FormatNetworkStatus(status)
	g.Expect(after.Annotations).To(HaveKeyWithValue(netattach.NetworkStatusAnnotation, want))
	g.Expect(after.Annotations).To(HaveKeyWithValue(netattach.NetworksAnnotation, "a"), "merge patch keeps other annotations")

	// The UID is a precondition: a recreated pod is not touched.
	err = c.PatchNetworkStatus(ctx, ns, "web", "00000000-0000-0000-0000-000000000000", status)
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.Error()).To(MatchRegexp(`HTTP (409|422)`))

	g.Expect(c.PostEvent(ctx, api.PodRef{Namespace: ns, Name: "web"}, string(pod.UID),
		api.Event{Type: "Normal", Reason: "AddedInterface", Message: "Add net1 [10.1.1.5/24] from ns/nad"})).To(Succeed())
	evs := podEvents(t, ns)
	g.Expect(evs).To(HaveLen(1))
	g.Expect(evs[0].InvolvedObject.Name).To(Equal("web"))
	g.Expect(evs[0].InvolvedObject.UID).To(Equal(pod.UID))
	g.Expect(evs[0].Reason).To(Equal("AddedInterface"))
	g.Expect(evs[0].Source.Component).To(Equal("plexus-cni"))
	g.Expect(c.Requests()).To(Equal(7))
}

func TestResolverAgainstAPIServer(t *testing.T) {
	requireEnvtest(t)
	g := NewWithT(t)
	ctx := ctxT(t)
	ns, shared := newNamespace(t), newNamespace(t)
	confDir := t.TempDir()
	g.Expect(os.WriteFile(filepath.Join(confDir, "ondisk.conflist"),
		[]byte(`{"cniVersion":"1.0.0","name":"ondisk","plugins":[{"type":"macvlan","master":"eth1"}]}`), 0o600)).To(Succeed())
	clusterConf := filepath.Join(confDir, "cluster.conf")
	g.Expect(os.WriteFile(clusterConf, []byte(`{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"ptp"}`), 0o600)).To(Succeed())
	createNAD(t, ns, "ondisk", "", nil)
	createNAD(t, shared, "br", `{"cniVersion":"0.4.0","type":"bridge"}`, nil)
	pod := createPod(t, ns, "p", map[string]string{netattach.NetworksAnnotation: "ondisk@data," + shared + "/br"})

	c := newClient(t)
	r := &resolve.Resolver{Source: c, Requests: c.Requests, Opts: resolve.Options{ClusterNetwork: clusterConf,
		MultusNamespace: "kube-system", ConfDir: confDir, SystemNamespaces: []string{"kube-system"}}}
	got, err := r.Resolve(ctx, api.PodRef{Namespace: ns, Name: "p", UID: string(pod.UID), IfName: "eth0"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.UID).To(Equal(string(pod.UID)))
	g.Expect(got.APIRequests).To(Equal(3))
	g.Expect(got.Attachments).To(HaveLen(3))
	g.Expect(got.Attachments[0].Network).To(Equal("k8s-pod-network"))
	g.Expect(got.Attachments[0].ClusterNetwork).To(BeTrue())
	g.Expect(got.Attachments[1].Network).To(Equal(ns + "/ondisk"))
	g.Expect(got.Attachments[1].IfName).To(Equal("data"))
	g.Expect(string(got.Attachments[1].Config)).To(ContainSubstring("macvlan"))
	g.Expect(got.Attachments[2].Network).To(Equal(shared + "/br"))
	g.Expect(got.Attachments[2].IfName).To(Equal("net2"))
	g.Expect(string(got.Attachments[2].Config)).To(ContainSubstring(`"name":"br"`))

	// Namespace isolation (spec §7.4) refuses the cross-namespace NAD with a clear error.
	r.Opts.NamespaceIsolation, r.Opts.GlobalNamespaces = true, []string{"default"}
	_, err = r.Resolve(ctx, api.PodRef{Namespace: ns, Name: "p", IfName: "eth0"})
	g.Expect(errors.Is(err, api.ErrNetworkNotAllowed)).To(BeTrue())
	g.Expect(err.Error()).To(ContainSubstring("may not use NetworkAttachmentDefinition " + shared + "/br"))
	r.Opts.GlobalNamespaces = []string{shared}
	_, err = r.Resolve(ctx, api.PodRef{Namespace: ns, Name: "p", IfName: "eth0"})
	g.Expect(err).NotTo(HaveOccurred())

	// A NAD that does not exist.
	createPod(t, ns, "q", map[string]string{netattach.NetworksAnnotation: "nope"})
	_, err = r.Resolve(ctx, api.PodRef{Namespace: ns, Name: "q", IfName: "eth0"})
	var re *api.ResolveError
	g.Expect(errors.As(err, &re)).To(BeTrue())
	g.Expect(re.Reason).To(Equal(api.ReasonNoNetworkFound))
	g.Expect(strings.Contains(err.Error(), ns+"/nope")).To(BeTrue())
}
