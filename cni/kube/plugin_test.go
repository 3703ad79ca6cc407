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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	. "github.com/onsi/gomega"

	"github.com/plexus-net/plexus/cni/kube"
	"github.com/plexus-net/plexus/cni/plugin"
	"github.com/plexus-net/plexus/internal/netattach"
)

// recordingExec is an invoke.Exec that answers ADD with a one-interface result.
type recordingExec struct {
	mu    sync.Mutex
	calls []string
}

func (r *recordingExec) ExecPlugin(_ context.Context, path string, stdin []byte, env []string) ([]byte, error) {
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	r.mu.Lock()
	r.calls = append(r.calls, vars["CNI_COMMAND"]+" "+filepath.Base(path)+" "+vars["CNI_IFNAME"])
	n := len(r.calls)
	r.mu.Unlock()
	if vars["CNI_COMMAND"] != "ADD" {
		return nil, nil
	}
	var conf struct {
		CNIVersion string `json:"cniVersion"`
	}
	_ = json.Unmarshal(stdin, &conf)
	return []byte(fmt.Sprintf(`{"cniVersion":%q,"interfaces":[{"name":%q,"mac":"02:00:00:00:00:%02x","sandbox":%q}],
		"ips":[{"address":"10.%d.0.5/24","interface":0}]}`, conf.CNIVersion, vars["CNI_IFNAME"], n, vars["CNI_NETNS"], n)), nil
}

func (r *recordingExec) FindInPath(p string, _ []string) (string, error) { return "/fake/" + p, nil }
func (r *recordingExec) Decode([]byte) (version.PluginInfo, error)       { return version.All, nil }

func pluginArgs(t *testing.T, conf map[string]any, ns, pod, uid, containerID string) *skel.CmdArgs {
	t.Helper()
	b, err := json.Marshal(conf)
	if err != nil {
		t.Fatal(err)
	}
	return &skel.CmdArgs{ContainerID: containerID, Netns: "/var/run/netns/" + containerID, IfName: "eth0", StdinData: b,
		Args: fmt.Sprintf("K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s", ns, pod, containerID, uid)}
}

// TestPluginDirectMode runs plexus-cni's ADD/DEL with the production resolver and
// status sink against the API server (delegates faked).
func TestPluginDirectMode(t *testing.T) {
	requireEnvtest(t)
	g := NewWithT(t)
	ctx := ctxT(t)
	ns := newNamespace(t)
	dir := t.TempDir()
	clusterConf := filepath.Join(dir, "cluster.conf")
	g.Expect(os.WriteFile(clusterConf, []byte(`{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"ptp"}`), 0o600)).To(Succeed())
	createNAD(t, ns, "mv", `{"cniVersion":"1.0.0","type":"macvlan","capabilities":{"ips":true}}`, nil)
	pod := createPod(t, ns, "web", map[string]string{netattach.NetworksAnnotation: `[{"name":"mv","ips":["10.1.1.5/24"]},{"name":"mv"}]`})
	conf := map[string]any{"cniVersion": "1.0.0", "name": "plexus", "type": "plexus-cni", "clusterNetwork": clusterConf,
		"kubeconfig": kubeconfigPath, "cniDir": filepath.Join(dir, "cache"), "podResourcesSocket": filepath.Join(dir, "none.sock"),
		"apiTimeoutSeconds": 5}
	exec := &recordingExec{}
	stdout, stderr := &bytes.Buffer{}, &bytes.Buffer{}
	p := &plugin.Plugin{Exec: exec, Stdout: stdout, Stderr: stderr, Direct: kube.DirectMode}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("plugin log:\n%s", stderr)
		}
	})

	g.Expect(p.CmdAdd(pluginArgs(t, conf, ns, "web", string(pod.UID), "ctr1"))).To(Succeed())
	g.Expect(exec.calls).To(Equal([]string{"ADD ptp eth0", "ADD macvlan net1", "ADD macvlan net2"}))
	var after corev1.Pod
	g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(pod), &after)).To(Succeed())
	var status []netattach.NetworkStatus
	g.Expect(json.Unmarshal([]byte(after.Annotations[netattach.NetworkStatusAnnotation]), &status)).To(Succeed())
	g.Expect(status).To(HaveLen(3))
	g.Expect(status[0]).To(And(HaveField("Name", "k8s-pod-network"), HaveField("Interface", "eth0"), HaveField("Default", true)))
	g.Expect(status[1]).To(And(HaveField("Name", ns+"/mv"), HaveField("Interface", "net1"), HaveField("IPs", []string{"10.2.0.5"})))
	g.Expect(status[2]).To(And(HaveField("Name", ns+"/mv"), HaveField("Interface", "net2")))
	msgs := []string{}
	for _, ev := range podEvents(t, ns) {
		g.Expect(ev.Reason).To(Equal("AddedInterface"))
		g.Expect(ev.Type).To(Equal("Normal"))
		msgs = append(msgs, ev.Message)
	}
	g.Expect(msgs).To(ConsistOf("Add eth0 [10.1.0.5/24] from k8s-pod-network", "Add net1 [10.2.0.5/24] from "+ns+"/mv",
		"Add net2 [10.3.0.5/24] from "+ns+"/mv"))

	// DEL with the API server unreachable and the NAD deleted: the cache is enough.
	deleteNAD(t, ns, "mv")
	bad := filepath.Join(dir, "unreachable.kubeconfig")
	g.Expect(os.WriteFile(bad, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600)).To(Succeed())
	conf["kubeconfig"] = bad
	g.Expect(p.CmdDel(pluginArgs(t, conf, ns, "web", string(pod.UID), "ctr1"))).To(Succeed())
	g.Expect(exec.calls[3:]).To(Equal([]string{"DEL macvlan net2", "DEL macvlan net1", "DEL ptp eth0"}))

	// ADD with the API server unreachable fails fast with "try again later".
	conf["apiTimeoutSeconds"] = 2
	start := time.Now()
	err := p.CmdAdd(pluginArgs(t, conf, ns, "web", string(pod.UID), "ctr2"))
	var te *types.Error
	g.Expect(err).To(BeAssignableToTypeOf(te))
	g.Expect(err.(*types.Error).Code).To(Equal(types.ErrTryAgainLater))
	g.Expect(time.Since(start)).To(BeNumerically("<", 5*time.Second))
}

// TestPluginBadAnnotationEvent checks what a user sees for a bad networks annotation:
// the ADD fails with ErrInvalidNetworkConfig and a Warning event names the problem.
func TestPluginBadAnnotationEvent(t *testing.T) {
	requireEnvtest(t)
	g := NewWithT(t)
	ns := newNamespace(t)
	dir := t.TempDir()
	clusterConf := filepath.Join(dir, "cluster.conf")
	g.Expect(os.WriteFile(clusterConf, []byte(`{"cniVersion":"1.0.0","name":"k8s-pod-network","type":"ptp"}`), 0o600)).To(Succeed())
	pod := createPod(t, ns, "web", map[string]string{netattach.NetworksAnnotation: `[{"name":"mv","mac":"02:00:00:00:00"}]`})
	conf := map[string]any{"cniVersion": "1.0.0", "name": "plexus", "type": "plexus-cni", "clusterNetwork": clusterConf,
		"kubeconfig": kubeconfigPath, "cniDir": filepath.Join(dir, "cache")}
	exec := &recordingExec{}
	p := &plugin.Plugin{Exec: exec, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Direct: kube.DirectMode}
	err := p.CmdAdd(pluginArgs(t, conf, ns, "web", string(pod.UID), "ctr1"))
	g.Expect(err).To(HaveOccurred())
	g.Expect(err.(*types.Error).Code).To(Equal(types.ErrInvalidNetworkConfig))
	g.Expect(exec.calls).To(BeEmpty())
	evs := podEvents(t, ns)
	g.Expect(evs).To(HaveLen(1))
	g.Expect(evs[0].Type).To(Equal("Warning"))
	g.Expect(evs[0].Reason).To(Equal("InvalidNetworkAnnotation"))
	g.Expect(evs[0].Message).To(Equal(`k8s.v1.cni.cncf.io/networks[0].mac: invalid value "02:00:00:00:00": not a 6-byte MAC address (use infiniband-guid for InfiniBand)`))
}
