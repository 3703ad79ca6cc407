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
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	admissionregistrationv1ac "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Secret keys.
const (
	CACertKey  = "ca.crt"
	caKeyKey   = "ca.key"
	TLSCertKey = corev1.TLSCertKey
	TLSKeyKey  = corev1.TLSPrivateKeyKey
)

// fieldOwner is the server-side apply field manager for caBundle injection.
const fieldOwner = "plexus/certs"

// Options configure the self-managed webhook certificates.
type Options struct {
	// Namespace is the operator's namespace (where the Secret and the webhook Service live).
	Namespace string
	// SecretName is the Secret holding the CA and the serving certificate.
	SecretName string
	// ServiceName is the webhook Service; the serving certificate is valid for its DNS names.
	ServiceName string
	// CertDir is where tls.crt and tls.key are written for the webhook server.
	CertDir string
	// MutatingWebhookConfigurations and ValidatingWebhookConfigurations get the CA bundle.
	MutatingWebhookConfigurations   []string
	ValidatingWebhookConfigurations []string
	// CAValidity and CertValidity are the lifetimes of new certificates (defaults 5 years and
	// 1 year).
	CAValidity, CertValidity time.Duration
	// RenewBefore renews a certificate that expires within this window (default 30 days).
	RenewBefore time.Duration
	// CheckInterval is how often the running Manager re-checks expiry and the CA bundles
	// (default 1 hour).
	CheckInterval time.Duration
}

func (o *Options) defaults() {
	if o.CAValidity == 0 {
		o.CAValidity = 5 * 365 * 24 * time.Hour
	}
	if o.CertValidity == 0 {
		o.CertValidity = 365 * 24 * time.Hour
	}
	if o.RenewBefore == 0 {
		o.RenewBefore = 30 * 24 * time.Hour
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = time.Hour
	}
}

// Manager keeps the webhook serving certificate and the CA bundles current. Call Ensure once
// before the webhook server starts; add the Manager to the controller manager so it re-checks
// periodically (every replica runs it: each needs the files).
type Manager struct {
	// Client must read live objects (not a cache): it runs before the cache starts.
	Client client.Client
	// Options are the certificate options.
	Options Options
	// Now returns the current time (tests override it).
	Now func() time.Time
}

// NeedLeaderElection makes the Manager run on every replica.
func (m *Manager) NeedLeaderElection() bool { return false }

// retryInterval is how soon Start retries after a failed Ensure (for example when the webhook
// configurations are applied after the operator started).
const retryInterval = 10 * time.Second

// Start runs Ensure at once and then every CheckInterval (every retryInterval while it fails)
// until ctx ends.
func (m *Manager) Start(ctx context.Context) error {
	m.Options.defaults()
	for {
		next := m.Options.CheckInterval
		if err := m.Ensure(ctx); err != nil {
			// Swallowed: the current certificate keeps serving; retried soon.
			ctrl.LoggerFrom(ctx).Error(err, "Failed to refresh webhook certificates")
			next = retryInterval
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(next):
		}
	}
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Ensure makes sure the Secret holds a valid CA and serving certificate (creating or renewing
// them), writes the serving pair to CertDir, and injects the CA into the webhook
// configurations.
func (m *Manager) Ensure(ctx context.Context) error {
	ca, err := m.EnsureFiles(ctx)
	if err != nil {
		return err
	}
	return m.injectCABundle(ctx, ca)
}

// EnsureFiles is Ensure without the CA bundle injection: the webhook server can start with it.
// It returns the CA certificate (PEM).
func (m *Manager) EnsureFiles(ctx context.Context) ([]byte, error) {
	m.Options.defaults()
	var secret *corev1.Secret
	var err error
	// Replicas race on the Secret at start; a conflict means another one just wrote it.
	for attempt := 0; attempt < 3; attempt++ {
		if secret, err = m.ensureSecret(ctx); !apierrors.IsConflict(err) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if err := writeFiles(m.Options.CertDir, secret.Data); err != nil {
		return nil, err
	}
	return secret.Data[CACertKey], nil
}

// ensureSecret returns a Secret with a current CA and serving certificate.
func (m *Manager) ensureSecret(ctx context.Context) (*corev1.Secret, error) {
	key := types.NamespacedName{Namespace: m.Options.Namespace, Name: m.Options.SecretName}
	secret := &corev1.Secret{}
	err := m.Client.Get(ctx, key, secret)
	switch {
	case apierrors.IsNotFound(err):
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "plexus"}},
			Type: corev1.SecretTypeOpaque,
		}
		data, err := m.generate(nil)
		if err != nil {
			return nil, err
		}
		secret.Data = data
		if err := m.Client.Create(ctx, secret); err != nil {
			if apierrors.IsAlreadyExists(err) { // another replica won the race
				return secret, m.Client.Get(ctx, key, secret)
			}
			return nil, fmt.Errorf("failed to create Secret %s: %w", key, err)
		}
		return secret, nil
	case err != nil:
		return nil, fmt.Errorf("failed to get Secret %s: %w", key, err)
	}
	if m.valid(secret.Data) {
		return secret, nil
	}
	data, err := m.generate(secret.Data)
	if err != nil {
		return nil, err
	}
	secret.Data = data
	if err := m.Client.Update(ctx, secret); err != nil {
		return nil, fmt.Errorf("failed to update Secret %s: %w", key, err)
	}
	return secret, nil
}

// valid reports whether the data holds a CA and a serving certificate signed by it, both
// outside the renewal window, and valid for the service's DNS names.
func (m *Manager) valid(data map[string][]byte) bool {
	ca, _, err := parsePair(data[CACertKey], data[caKeyKey])
	if err != nil || m.expiring(ca) {
		return false
	}
	cert, _, err := parsePair(data[TLSCertKey], data[TLSKeyKey])
	if err != nil || m.expiring(cert) {
		return false
	}
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return false
	}
	return cert.VerifyHostname(m.dnsNames()[2]) == nil
}

func (m *Manager) expiring(c *x509.Certificate) bool {
	return m.now().Add(m.Options.RenewBefore).After(c.NotAfter)
}

func (m *Manager) dnsNames() []string {
	svc, ns := m.Options.ServiceName, m.Options.Namespace
	return []string{svc, svc + "." + ns, svc + "." + ns + ".svc", svc + "." + ns + ".svc.cluster.local"}
}

// generate returns new secret data. The CA of old is kept when it is still valid, so the CA
// bundle does not change on a serving certificate renewal.
func (m *Manager) generate(old map[string][]byte) (map[string][]byte, error) {
	caCert, caKey, err := parsePair(old[CACertKey], old[caKeyKey])
	caPEM, caKeyPEM := old[CACertKey], old[caKeyKey]
	if err != nil || m.expiring(caCert) {
		caPEM, caKeyPEM, err = m.newCert(nil, nil, "plexus-webhook-ca", m.Options.CAValidity)
		if err != nil {
			return nil, err
		}
		if caCert, caKey, err = parsePair(caPEM, caKeyPEM); err != nil {
			return nil, err
		}
	}
	certPEM, keyPEM, err := m.newCert(caCert, caKey, m.dnsNames()[2], m.Options.CertValidity)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{CACertKey: caPEM, caKeyKey: caKeyPEM, TLSCertKey: certPEM, TLSKeyKey: keyPEM}, nil
}

// newCert creates a self-signed CA (parent nil) or a serving certificate signed by parent.
func (m *Manager) newCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn string, validity time.Duration) ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to generate serial: %w", err)
	}
	now := m.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"plexus"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
	}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = m.dnsNames()
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to create certificate %s: %w", cn, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

func parsePair(certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, errors.New("missing PEM data")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse certificate: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse key: %w", err)
	}
	return cert, key, nil
}

// writeFiles writes tls.crt and tls.key atomically (temp file + rename) when they changed; the
// webhook server's certificate watcher picks them up.
func writeFiles(dir string, data map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	for _, name := range []string{TLSKeyKey, TLSCertKey} {
		path := filepath.Join(dir, name)
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data[name]) {
			continue
		}
		tmp, err := os.CreateTemp(dir, "."+name+"-")
		if err != nil {
			return fmt.Errorf("failed to write %s: %w", path, err)
		}
		_, werr := tmp.Write(data[name])
		cerr := tmp.Close()
		if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o600), os.Rename(tmp.Name(), path)); err != nil {
			_ = os.Remove(tmp.Name())
			return fmt.Errorf("failed to write %s: %w", path, err)
		}
	}
	return nil
}

// injectCABundle sets caBundle on every webhook of the configured webhook configurations, with
// server-side apply (own field manager, so a GitOps re-apply of the configuration without
// caBundle does not remove it). Configurations already carrying the bundle are not written.
func (m *Manager) injectCABundle(ctx context.Context, ca []byte) error {
	var errs []error
	for _, name := range m.Options.MutatingWebhookConfigurations {
		cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
		if err := m.Client.Get(ctx, types.NamespacedName{Name: name}, cfg); err != nil {
			errs = append(errs, fmt.Errorf("failed to get MutatingWebhookConfiguration %s: %w", name, err))
			continue
		}
		apply := admissionregistrationv1ac.MutatingWebhookConfiguration(name)
		current := true
		for _, w := range cfg.Webhooks {
			current = current && bytes.Equal(w.ClientConfig.CABundle, ca)
			apply.WithWebhooks(admissionregistrationv1ac.MutatingWebhook().WithName(w.Name).
				WithClientConfig(admissionregistrationv1ac.WebhookClientConfig().WithCABundle(ca...)))
		}
		if !current {
			if err := m.Client.Apply(ctx, apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
				errs = append(errs, fmt.Errorf("failed to inject caBundle into MutatingWebhookConfiguration %s: %w", name, err))
			}
		}
	}
	for _, name := range m.Options.ValidatingWebhookConfigurations {
		cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := m.Client.Get(ctx, types.NamespacedName{Name: name}, cfg); err != nil {
			errs = append(errs, fmt.Errorf("failed to get ValidatingWebhookConfiguration %s: %w", name, err))
			continue
		}
		apply := admissionregistrationv1ac.ValidatingWebhookConfiguration(name)
		current := true
		for _, w := range cfg.Webhooks {
			current = current && bytes.Equal(w.ClientConfig.CABundle, ca)
			apply.WithWebhooks(admissionregistrationv1ac.ValidatingWebhook().WithName(w.Name).
				WithClientConfig(admissionregistrationv1ac.WebhookClientConfig().WithCABundle(ca...)))
		}
		if !current {
			if err := m.Client.Apply(ctx, apply, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
				errs = append(errs, fmt.Errorf("failed to inject caBundle into ValidatingWebhookConfiguration %s: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}
