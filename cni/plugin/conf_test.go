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

package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/types"
	. "github.com/onsi/gomega"
)

func TestLoadNetConf(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		wantErr string
		check   func(g *WithT, c *NetConf)
	}{
		{name: "defaults", in: `{"cniVersion":"1.0.0","name":"plexus","type":"plexus-cni","clusterNetwork":"k8s-pod-network"}`,
			check: func(g *WithT, c *NetConf) {
				g.Expect(c.SystemNamespaces).To(Equal([]string{"kube-system"}))
				g.Expect(c.MultusNamespace).To(Equal("kube-system"))
				g.Expect(c.CNIDir).To(Equal("/var/lib/cni/plexus"))
				g.Expect(c.ConfDir).To(Equal("/etc/cni/multus/net.d"))
				g.Expect(c.PodResourcesSocket).To(Equal("/var/lib/kubelet/pod-resources/kubelet.sock"))
				g.Expect(c.DeviceInfoDir).To(Equal("/var/run/k8s.cni.cncf.io/devinfo"))
				g.Expect(c.GlobalNamespaces).To(BeNil())
				g.Expect(c.apiTimeout()).To(Equal(10 * time.Second))
				g.Expect(c.delegateTimeout()).To(Equal(60 * time.Second))
				g.Expect(c.binDirs("")).To(Equal([]string{"/opt/cni/bin"}))
			}},
		{name: "multus keys carry over", in: `{"cniVersion":"0.3.1","name":"multus-cni-network","type":"multus","clusterNetwork":"/etc/cni/net.d/10-calico.conflist",
			"defaultNetworks":["mon"],"systemNamespaces":["kube-system","infra"],"multusNamespace":"net","namespaceIsolation":true,
			"globalNamespaces":"default, shared","readinessindicatorfile":"/run/ready","cniDir":"/var/lib/cni/multus","binDir":"/opt/multus/bin",
			"kubeconfig":"/etc/cni/net.d/multus.d/multus.kubeconfig","logLevel":"verbose","logFile":"/var/log/multus.log","confDir":"/etc/cni/multus/net.d",
			"capabilities":{"portMappings":true},"runtimeConfig":{"portMappings":[{"hostPort":80,"containerPort":8080}]},"retryDeleteOnError":true,
			"apiTimeoutSeconds":3,"delegateTimeoutSeconds":20}`,
			check: func(g *WithT, c *NetConf) {
				g.Expect(c.GlobalNamespaces).To(Equal(StringList{"default", "shared"}))
				g.Expect(c.SystemNamespaces).To(Equal([]string{"kube-system", "infra"}))
				g.Expect(c.binDirs("/a:/b")).To(Equal([]string{"/opt/multus/bin", "/a", "/b"}))
				g.Expect(c.RuntimeConfig).To(HaveKey("portMappings"))
				g.Expect(c.apiTimeout()).To(Equal(3 * time.Second))
				g.Expect(c.delegateTimeout()).To(Equal(20 * time.Second))
			}},
		{name: "isolation defaults global namespaces", in: `{"cniVersion":"1.0.0","clusterNetwork":"x","namespaceIsolation":true}`,
			check: func(g *WithT, c *NetConf) { g.Expect(c.GlobalNamespaces).To(Equal(StringList{"default"})) }},
		{name: "global namespaces as a list", in: `{"cniVersion":"1.0.0","clusterNetwork":"x","globalNamespaces":["a","b"]}`,
			check: func(g *WithT, c *NetConf) { g.Expect(c.GlobalNamespaces).To(Equal(StringList{"a", "b"})) }},
		{name: "agent socket and bin dirs", in: `{"cniVersion":"1.1.0","clusterNetwork":"x","agentSocket":"/run/plexus/agent.sock","binDirs":["/x","/y"]}`,
			check: func(g *WithT, c *NetConf) {
				g.Expect(c.AgentSocket).To(Equal("/run/plexus/agent.sock"))
				g.Expect(c.binDirs("")).To(Equal([]string{"/x", "/y"}))
			}},
		{name: "not json", in: `{`, wantErr: "plexus-cni: invalid configuration"},
		{name: "no cluster network", in: `{"cniVersion":"1.0.0"}`, wantErr: "clusterNetwork is required"},
		{name: "bad log level", in: `{"cniVersion":"1.0.0","clusterNetwork":"x","logLevel":"loud"}`, wantErr: `logLevel "loud"`},
		{name: "relative cniDir", in: `{"cniVersion":"1.0.0","clusterNetwork":"x","cniDir":"cache"}`, wantErr: `"cache" must be an absolute path`},
		{name: "bad globalNamespaces", in: `{"cniVersion":"1.0.0","clusterNetwork":"x","globalNamespaces":3}`, wantErr: "must be a string or a list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := LoadNetConf([]byte(tc.in))
			if tc.wantErr != "" {
				g.Expect(err).To(HaveOccurred())
				te := typedErr(err)
				g.Expect(te).NotTo(BeNil())
				g.Expect(te.Code).To(Equal(types.ErrInvalidNetworkConfig))
				g.Expect(te.Msg + " " + te.Details).To(ContainSubstring(tc.wantErr))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			tc.check(g, c)
		})
	}
}

func TestParseK8sArgs(t *testing.T) {
	g := NewWithT(t)
	a, err := parseK8sArgs("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;K8S_POD_UID=u;FOO=bar")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(a.Namespace).To(Equal("ns"))
	g.Expect(a.Name).To(Equal("p"))
	g.Expect(a.UID).To(Equal("u"))
	g.Expect(a.delegateArgs("cid")).To(Equal([][2]string{{"IgnoreUnknown", "true"}, {"K8S_POD_NAMESPACE", "ns"},
		{"K8S_POD_NAME", "p"}, {"K8S_POD_UID", "u"}, {"FOO", "bar"}, {"K8S_POD_INFRA_CONTAINER_ID", "cid"}}))
	_, err = parseK8sArgs("novalue")
	g.Expect(typedErr(err).Code).To(Equal(types.ErrInvalidEnvironmentVariables))
	g.Expect(strings.Contains(err.Error(), "novalue")).To(BeTrue())
}

func TestCacheRoundTrip(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	e := &cacheEntry{ContainerID: "abc", Delegates: []*delegate{{Network: "ns/a", Conf: []byte(`{"name":"a"}`), IfName: "net1"}}}
	g.Expect(saveCache(dir, e)).To(Succeed())
	got, err := loadCache(dir, "abc")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got.Delegates[0].Network).To(Equal("ns/a"))
	g.Expect(string(got.Delegates[0].Conf)).To(Equal(`{"name":"a"}`))
	g.Expect(listCaches(dir)).To(HaveLen(1))
	g.Expect(removeCache(dir, "abc")).To(Succeed())
	g.Expect(removeCache(dir, "abc")).To(Succeed(), "idempotent")
	_, err = loadCache(dir, "abc")
	g.Expect(err).To(MatchError(ContainSubstring("no delegate cache")))
	g.Expect(saveCache(dir, &cacheEntry{ContainerID: "../escape"})).To(MatchError(ContainSubstring("cannot name a cache file")))
}

func TestCachePathContainerIDs(t *testing.T) {
	g := NewWithT(t)
	for _, id := range []string{"abc", "0", "A1_b.c-d", "6f0e5a4e-0000-4000-8000-000000000001", strings.Repeat("f", 64)} {
		_, err := cachePath("/c", id)
		g.Expect(err).NotTo(HaveOccurred(), id)
	}
	for _, id := range []string{"", "_a", ".a", "-a", "..", "../escape", "a/b", "a b", "a\x00", "ä", "a:b"} {
		_, err := cachePath("/c", id)
		g.Expect(err).To(MatchError(ContainSubstring("cannot name a cache file")), id)
	}
}
