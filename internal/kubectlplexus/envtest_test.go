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

package kubectlplexus

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"

	"github.com/plexus-net/plexus/internal/testenv"
)

// TestCommandOnAPIServer runs the three subcommands through their kubeconfig flags against a real
// kube-apiserver (envtest) holding the Plexus and NAD CRDs, pods, events, a rendered NAD, a plane
// and a policy: field selectors, metadata-only NAD reads and status subresources are the real
// server's.
func TestCommandOnAPIServer(t *testing.T) {
	assets := testenv.RequireEnvtest(t)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases"), filepath.Join("..", "..", "config", "nad")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("failed to start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seed(ctx, t, c)
	kubeconfig := writeKubeconfig(t, cfg)

	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		cmd := NewCommand(genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
		cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
		if err := cmd.ExecuteContext(ctx); err != nil {
			t.Fatalf("kubectl plexus %v: %v\n%s", args, err, errOut.String())
		}
		return out.String() + errOut.String()
	}

	out := run("pods", "-A")
	for _, re := range []string{
		`(?m)^shop\s+db\s+stor0\s+shop/storage\s+storage\s+10\.50\.0\.12\s+0a:58:0a:32:00:0c\s+Attached$`,
		`(?m)^shop\s+web\s+net1\s+shop/storage\s+storage\s+<none>\s+-\s+Pending$`,
		`(?m)^shop\s+web\s+data0\s+shop/nope\s+-\s+<none>\s+-\s+Pending$`,
	} {
		if !matches(re, out) {
			t.Errorf("pods -A: no line matching %s in:\n%s", re, out)
		}
	}
	if strings.Contains(out, "plain") {
		t.Errorf("a pod without secondary networks is listed:\n%s", out)
	}

	out = run("planes")
	if !matches(`(?m)^storage\s+bridge\s+True\s+1\s+1\s+0\s+Rendered\s+\S+$`, out) {
		t.Errorf("planes:\n%s", out)
	}

	out = run("why", "-n", "shop", "web")
	for _, want := range []string{
		"Pod shop/web: ContainerCreating on node <not scheduled>",
		"NetworkAttachmentDefinition not found",
		"NoNetworkFound",
		"cannot find NetworkAttachmentDefinition shop/nope",
		"web-nets   true",
		"Network shop/nope is requested but NetworkAttachmentDefinition nope does not exist in namespace shop",
		"AttachmentPolicy web-nets lists the pod as failing: SandboxFailed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("why lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "about another pod") {
		t.Errorf("why shows another pod's events:\n%s", out)
	}
}

func seed(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}))
	nad := &unstructured.Unstructured{}
	nad.SetGroupVersionKind(nadGVK)
	nad.SetNamespace("shop")
	nad.SetName("storage")
	nad.SetLabels(map[string]string{plexusv1alpha1.PlaneLabel: "storage"})
	must(unstructured.SetNestedField(nad.Object, `{"cniVersion":"1.0.0","type":"bridge","bridge":"br-st"}`, "spec", "config"))
	must(c.Create(ctx, nad))

	pod := func(name string, annotations map[string]string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, Annotations: annotations, Labels: map[string]string{"app": name}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "busybox"}}},
		}
	}
	web := pod("web", map[string]string{netattach.NetworksAnnotation: "storage,nope@data0"})
	must(c.Create(ctx, web))
	must(c.Create(ctx, pod("db", map[string]string{
		netattach.NetworksAnnotation:      `[{"name":"storage","interface":"stor0"}]`,
		netattach.NetworkStatusAnnotation: `[{"name":"k8s-pod-network","interface":"eth0","ips":["10.0.0.9"],"default":true},{"name":"shop/storage","interface":"stor0","ips":["10.50.0.12"],"mac":"0a:58:0a:32:00:0c"}]`,
	})))
	must(c.Create(ctx, pod("plain", nil)))
	web.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", Image: "busybox",
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
	must(c.Status().Update(ctx, web))

	now := metav1.Now()
	event := func(name, involved string, uid string, reason, msg string) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: "shop", Name: name},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: involved, UID: k8stypes.UID(uid), APIVersion: "v1"},
			Type:           corev1.EventTypeWarning, Reason: reason, Message: msg, Count: 2,
			FirstTimestamp: now, LastTimestamp: now, Source: corev1.EventSource{Component: "plexus-cni"},
		}
	}
	must(c.Create(ctx, event("web.1", "web", string(web.UID), "NoNetworkFound", "cannot find NetworkAttachmentDefinition shop/nope")))
	must(c.Create(ctx, event("db.1", "db", "", "NoNetworkFound", "about another pod")))

	plane := &plexusv1alpha1.NetworkPlane{
		ObjectMeta: metav1.ObjectMeta{Name: "storage"},
		Spec: plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeBridge,
			Bridge: &plexusv1alpha1.BridgeSettings{Name: "br-st"}, NamespaceSelector: &metav1.LabelSelector{}},
	}
	must(c.Create(ctx, plane))
	plane.Status = plexusv1alpha1.NetworkPlaneStatus{ObservedGeneration: plane.Generation, RenderedNamespaces: 1, AttachedPods: 1,
		Conditions: []metav1.Condition{{Type: "Ready", Status: "True", Reason: "Rendered", Message: "ok", LastTransitionTime: now, ObservedGeneration: plane.Generation}}}
	must(c.Status().Update(ctx, plane))

	policy := &plexusv1alpha1.AttachmentPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-nets"},
		Spec: plexusv1alpha1.AttachmentPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Attachments: []plexusv1alpha1.Attachment{{Plane: "storage"}, {Plane: "nope", Interface: "data0"}},
		},
	}
	must(c.Create(ctx, policy))
	policy.Status = plexusv1alpha1.AttachmentPolicyStatus{ObservedGeneration: policy.Generation, MatchedPods: 1, FailedPods: 1,
		Conditions:  []metav1.Condition{{Type: "Ready", Status: "False", Reason: "PodsFailed", Message: "1 pod failed", LastTransitionTime: now, ObservedGeneration: policy.Generation}},
		FailingPods: []plexusv1alpha1.FailingPod{{Name: "web", Reason: "SandboxFailed", Message: "network shop/nope: not found"}}}
	must(c.Status().Update(ctx, policy))
}

func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func matches(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
