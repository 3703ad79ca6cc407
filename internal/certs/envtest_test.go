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

package certs

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/plexus-net/plexus/internal/testenv"
)

// TestEnsureOnAPIServer runs Ensure against a real kube-apiserver: the caBundle goes in with
// server-side apply, survives a re-apply of the configuration without it (another field
// manager), and a second Ensure writes nothing.
func TestEnsureOnAPIServer(t *testing.T) {
	g := NewWithT(t)
	assets := testenv.RequireEnvtest(t)
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	cfg, err := env.Start()
	g.Expect(err).NotTo(HaveOccurred())
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()

	g.Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plexus-system"}})).To(Succeed())
	none := admissionregistrationv1.SideEffectClassNone
	ignore := admissionregistrationv1.Ignore
	url := "https://127.0.0.1:1/never"
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "plexus-mutating-webhook-configuration"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "pods.net.plexus.dev", SideEffects: &none, FailurePolicy: &ignore, AdmissionReviewVersions: []string{"v1"},
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{"CREATE"},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"example.invalid"}, APIVersions: []string{"v1"}, Resources: []string{"nothing"}}}},
		}},
	}
	g.Expect(c.Create(ctx, mwc)).To(Succeed())

	m := &Manager{Client: c, Options: Options{Namespace: "plexus-system", SecretName: "plexus-webhook-server-cert",
		ServiceName: "plexus-webhook-service", CertDir: t.TempDir(),
		MutatingWebhookConfigurations: []string{mwc.Name}}}
	g.Expect(m.Ensure(ctx)).To(Succeed())
	got := &admissionregistrationv1.MutatingWebhookConfiguration{}
	g.Expect(c.Get(ctx, types.NamespacedName{Name: mwc.Name}, got)).To(Succeed())
	g.Expect(got.Webhooks[0].ClientConfig.CABundle).NotTo(BeEmpty())
	ca := got.Webhooks[0].ClientConfig.CABundle

	// A GitOps-style server-side apply of the configuration without caBundle keeps it.
	mwc.TypeMeta = metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"}
	mwc.ResourceVersion, mwc.ManagedFields = "", nil
	g.Expect(c.Patch(ctx, mwc, client.Apply, client.FieldOwner("gitops"), client.ForceOwnership)).To(Succeed()) //nolint:staticcheck // exercising a plain apply
	g.Expect(c.Get(ctx, types.NamespacedName{Name: mwc.Name}, got)).To(Succeed())
	g.Expect(got.Webhooks[0].ClientConfig.CABundle).To(Equal(ca))

	rv := got.ResourceVersion
	g.Expect(m.Ensure(ctx)).To(Succeed())
	g.Expect(c.Get(ctx, types.NamespacedName{Name: mwc.Name}, got)).To(Succeed())
	g.Expect(got.ResourceVersion).To(Equal(rv), "no write when the bundle is current")
}
