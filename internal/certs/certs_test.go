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
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func newManager(t *testing.T) (*Manager, client.Client) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	none := admissionregistrationv1.SideEffectClassNone
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&admissionregistrationv1.MutatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "m"},
			Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "pods.net.plexus.dev", SideEffects: &none,
				AdmissionReviewVersions: []string{"v1"}}},
		},
		&admissionregistrationv1.ValidatingWebhookConfiguration{
			ObjectMeta: metav1.ObjectMeta{Name: "v"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "nads.net.plexus.dev", SideEffects: &none,
				AdmissionReviewVersions: []string{"v1"}}},
		},
	).Build()
	return &Manager{Client: c, Options: Options{
		Namespace: "plexus-system", SecretName: "cert", ServiceName: "plexus-webhook-service",
		CertDir: t.TempDir(), MutatingWebhookConfigurations: []string{"m"}, ValidatingWebhookConfigurations: []string{"v"},
	}}, c
}

func TestEnsure(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	m, c := newManager(t)
	g.Expect(m.Ensure(ctx)).To(Succeed())

	secret := &corev1.Secret{}
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: "plexus-system", Name: "cert"}, secret)).To(Succeed())
	ca := secret.Data[CACertKey]
	g.Expect(ca).NotTo(BeEmpty())

	// The files form a pair valid for the service name and chain to the CA.
	pair, err := tls.LoadX509KeyPair(filepath.Join(m.Options.CertDir, "tls.crt"), filepath.Join(m.Options.CertDir, "tls.key"))
	g.Expect(err).NotTo(HaveOccurred())
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	g.Expect(err).NotTo(HaveOccurred())
	pool := x509.NewCertPool()
	g.Expect(pool.AppendCertsFromPEM(ca)).To(BeTrue())
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "plexus-webhook-service.plexus-system.svc"})
	g.Expect(err).NotTo(HaveOccurred())

	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	g.Expect(c.Get(ctx, types.NamespacedName{Name: "m"}, mwc)).To(Succeed())
	g.Expect(mwc.Webhooks[0].ClientConfig.CABundle).To(Equal(ca))
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	g.Expect(c.Get(ctx, types.NamespacedName{Name: "v"}, vwc)).To(Succeed())
	g.Expect(vwc.Webhooks[0].ClientConfig.CABundle).To(Equal(ca))

	// A second run changes nothing.
	rv := secret.ResourceVersion
	g.Expect(m.Ensure(ctx)).To(Succeed())
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: "plexus-system", Name: "cert"}, secret)).To(Succeed())
	g.Expect(secret.ResourceVersion).To(Equal(rv))

	// Near expiry of the serving certificate: renewed, CA kept.
	oldCert := secret.Data[TLSCertKey]
	m.Now = func() time.Time { return time.Now().Add(340 * 24 * time.Hour) }
	g.Expect(m.Ensure(ctx)).To(Succeed())
	g.Expect(c.Get(ctx, types.NamespacedName{Namespace: "plexus-system", Name: "cert"}, secret)).To(Succeed())
	g.Expect(secret.Data[TLSCertKey]).NotTo(Equal(oldCert))
	g.Expect(secret.Data[CACertKey]).To(Equal(ca))
	onDisk, err := os.ReadFile(filepath.Join(m.Options.CertDir, "tls.crt"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(onDisk).To(Equal(secret.Data[TLSCertKey]))
}
