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
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/plexus-net/plexus/internal/testenv"
)

// The suite runs on a real etcd + kube-apiserver (controller-runtime envtest) with the
// NetworkAttachmentDefinition CRD from config/nad. plexus-cni talks to it as a user
// holding only the RBAC plexus-cni needs.
var (
	admin          client.Client
	kubeconfigPath string
	envtestErr     error
)

const cniGroup = "plexus:cni"

func TestMain(m *testing.M) {
	code := func() int {
		env, err := startEnvtest()
		if err != nil {
			envtestErr = err
			return m.Run()
		}
		defer func() {
			if err := env.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "failed to stop envtest: %v\n", err)
			}
			_ = os.RemoveAll(filepath.Dir(kubeconfigPath))
		}()
		return m.Run()
	}()
	os.Exit(code)
}

func startEnvtest() (*envtest.Environment, error) {
	assets, err := testenv.EnvtestAssets()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "nad")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("failed to start envtest: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = env.Stop()
		}
	}()
	if admin, err = client.New(cfg, client.Options{}); err != nil {
		return nil, err
	}
	ctx := context.Background()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "plexus-cni"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"pods/status"}, Verbs: []string{"patch"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
		{APIGroups: []string{"k8s.cni.cncf.io"}, Resources: []string{"network-attachment-definitions"}, Verbs: []string{"get"}},
	}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "plexus-cni"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "plexus-cni"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: cniGroup}}}
	for _, o := range []client.Object{role, binding} {
		if err := admin.Create(ctx, o); err != nil {
			return nil, err
		}
	}
	user, err := env.AddUser(envtest.User{Name: "plexus-cni", Groups: []string{cniGroup}}, nil)
	if err != nil {
		return nil, err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "plexus-kube-")
	if err != nil {
		return nil, err
	}
	kubeconfigPath = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kc, 0o600); err != nil {
		return nil, err
	}
	ok = true
	return env, nil
}

// requireEnvtest skips (or with CI=true fails) when the API server could not start.
func requireEnvtest(t *testing.T) {
	t.Helper()
	if envtestErr != nil {
		testenv.SkipOrFail(t, "envtest unavailable: %v", envtestErr)
	}
}

func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cni-"}}
	if err := admin.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

func createPod(t *testing.T, ns, name string, annotations map[string]string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if err := admin.Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

func createNAD(t *testing.T, ns, name, config string, annotations map[string]string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "k8s.cni.cncf.io", Version: "v1", Kind: "NetworkAttachmentDefinition"})
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetAnnotations(annotations)
	if config != "" {
		u.Object["spec"] = map[string]any{"config": config}
	}
	if err := admin.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

func deleteNAD(t *testing.T, ns, name string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "k8s.cni.cncf.io", Version: "v1", Kind: "NetworkAttachmentDefinition"})
	u.SetNamespace(ns)
	u.SetName(name)
	if err := admin.Delete(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

func podEvents(t *testing.T, ns string) []corev1.Event {
	t.Helper()
	var list corev1.EventList
	if err := admin.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
