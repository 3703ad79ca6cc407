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

// Command operator is the Plexus operator: the NetworkPlane and AttachmentPolicy reconcilers,
// the pod and NAD admission webhooks, self-managed webhook certificates and metrics. It is only
// manager wiring: flags become a Config that is passed down; nothing is global.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/plexus-net/plexus/controllers"
	"github.com/plexus-net/plexus/internal/certs"
	"github.com/plexus-net/plexus/internal/metrics"
	webhookv1alpha1 "github.com/plexus-net/plexus/internal/webhook/v1alpha1"
)

// RBAC the manager wiring needs besides the reconcilers' own markers: the self-managed webhook
// certificates (a Secret in the operator's namespace, caBundle injection into the two Plexus
// webhook configurations only).
// +kubebuilder:rbac:groups="",namespace=plexus-system,resources=secrets,verbs=get;create;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=get
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,resourceNames=plexus-mutating-webhook-configuration,verbs=patch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,resourceNames=plexus-validating-webhook-configuration,verbs=patch

// leaderElectionID is the stable lease name of the operator.
const leaderElectionID = "plexus-operator.net.plexus.dev"

// Config is the operator configuration, built from flags.
type Config struct {
	// The fields mirror the flags of the same names; see parseFlags.
	MetricsAddr      string
	MetricsSecure    bool
	ProbeAddr        string
	LeaderElect      bool
	EnableHTTP2      bool
	Namespace        string
	KubeAPIQPS       float64
	KubeAPIBurst     int
	WebhookPort      int
	WebhookCertDir   string
	SelfManagedCerts bool
	Certs            certs.Options
	Controllers      controllers.Config
	Zap              zap.Options
}

func parseFlags(args []string) (*Config, error) {
	cfg := &Config{Zap: zap.Options{Development: false, TimeEncoder: zapcore.ISO8601TimeEncoder}}
	fs := flag.NewFlagSet("operator", flag.ContinueOnError)
	fs.StringVar(&cfg.MetricsAddr, "metrics-bind-address", ":8443", "Address of the metrics endpoint (:8443 HTTPS, :8080 HTTP, 0 disables).")
	fs.BoolVar(&cfg.MetricsSecure, "metrics-secure", true, "Serve metrics over HTTPS with authentication and authorization through the API server.")
	fs.StringVar(&cfg.ProbeAddr, "health-probe-bind-address", ":8081", "Address of the health and readiness probes.")
	fs.BoolVar(&cfg.LeaderElect, "leader-elect", false, "Enable leader election (required with more than one replica).")
	fs.BoolVar(&cfg.EnableHTTP2, "enable-http2", false, "Serve metrics and webhooks over HTTP/2 (off: HTTP/2 rapid-reset CVEs).")
	fs.StringVar(&cfg.Namespace, "namespace", os.Getenv("POD_NAMESPACE"), "Namespace the operator runs in (default $POD_NAMESPACE).")
	fs.Float64Var(&cfg.KubeAPIQPS, "kube-api-qps", 50, "Client-side QPS limit towards the API server.")
	fs.IntVar(&cfg.KubeAPIBurst, "kube-api-burst", 100, "Client-side burst limit towards the API server.")
	fs.IntVar(&cfg.WebhookPort, "webhook-port", 9443, "Port of the webhook server.")
	fs.StringVar(&cfg.WebhookCertDir, "webhook-cert-dir", "/tmp/k8s-webhook-server/serving-certs", "Directory with the webhook serving tls.crt and tls.key.")
	fs.BoolVar(&cfg.SelfManagedCerts, "self-managed-certs", true, "Generate the webhook CA and serving certificate and inject the CA bundle (disable when cert-manager provides them).")
	fs.StringVar(&cfg.Certs.SecretName, "webhook-secret-name", "plexus-webhook-server-cert", "Secret holding the self-managed webhook certificates.")
	fs.StringVar(&cfg.Certs.ServiceName, "webhook-service-name", "plexus-webhook-service", "Service in front of the webhook server.")
	mutating := fs.String("mutating-webhook-configuration", "plexus-mutating-webhook-configuration", "MutatingWebhookConfiguration that gets the CA bundle.")
	validating := fs.String("validating-webhook-configuration", "plexus-validating-webhook-configuration", "ValidatingWebhookConfiguration that gets the CA bundle.")
	fs.IntVar(&cfg.Controllers.ApplyWorkers, "nad-apply-workers", 8, "NADs one NetworkPlane reconcile writes in parallel.")
	fs.IntVar(&cfg.Controllers.PlaneConcurrency, "networkplane-concurrency", 2, "NetworkPlanes reconciled in parallel.")
	fs.IntVar(&cfg.Controllers.PolicyConcurrency, "attachmentpolicy-concurrency", 2, "AttachmentPolicies reconciled in parallel.")
	cfg.Zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if cfg.Namespace == "" {
		return nil, errors.New("--namespace (or $POD_NAMESPACE) is required")
	}
	cfg.Certs.Namespace = cfg.Namespace
	cfg.Controllers.AgentNamespace = cfg.Namespace
	cfg.Controllers.AgentNamespace = cfg.Namespace
	cfg.Certs.CertDir = cfg.WebhookCertDir
	cfg.Certs.MutatingWebhookConfigurations = []string{*mutating}
	cfg.Certs.ValidatingWebhookConfigurations = []string{*validating}
	return cfg, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&cfg.Zap)))
	if err := run(ctrl.SetupSignalHandler(), cfg); err != nil {
		ctrl.Log.Error(err, "Operator failed")
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg *Config) error {
	log := ctrl.Log.WithName("setup")
	restCfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("failed to load kubeconfig: %w", err)
	}
	restCfg.QPS, restCfg.Burst = float32(cfg.KubeAPIQPS), cfg.KubeAPIBurst

	var tlsOpts []func(*tls.Config)
	if !cfg.EnableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	scheme := controllers.Scheme()

	var certManager *certs.Manager
	if cfg.SelfManagedCerts {
		// The certificates must exist before the webhook server starts, so this uses a live
		// client, not the manager's cache.
		direct, err := client.New(restCfg, client.Options{Scheme: scheme})
		if err != nil {
			return fmt.Errorf("failed to create client: %w", err)
		}
		cm := &certs.Manager{Client: direct, Options: cfg.Certs}
		ensureCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		// The CA bundle is injected by the certificate manager once the manager runs (and
		// retried until the webhook configurations exist).
		if _, err := cm.EnsureFiles(ensureCtx); err != nil {
			return fmt.Errorf("failed to set up webhook certificates: %w", err)
		}
		log.Info("Webhook certificates ready", "dir", cfg.WebhookCertDir)
		certManager = cm
	}

	metricsOpts := metricsserver.Options{
		BindAddress:   cfg.MetricsAddr,
		SecureServing: cfg.MetricsSecure,
		TLSOpts:       tlsOpts,
	}
	if cfg.MetricsSecure {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                        scheme,
		Cache:                         controllers.CacheOptions(),
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        cfg.ProbeAddr,
		LeaderElection:                cfg.LeaderElect,
		LeaderElectionID:              leaderElectionID,
		LeaderElectionReleaseOnCancel: true,
		WebhookServer: webhook.NewServer(webhook.Options{
			Port:    cfg.WebhookPort,
			CertDir: cfg.WebhookCertDir,
			TLSOpts: tlsOpts,
		}),
	})
	if err != nil {
		return fmt.Errorf("failed to create manager: %w", err)
	}
	if err := setup(ctx, mgr, cfg, certManager); err != nil {
		return err
	}
	log.Info("Starting manager")
	return mgr.Start(ctx)
}

// setup registers metrics, reconcilers, webhooks, the certificate refresher and probes.
func setup(ctx context.Context, mgr ctrl.Manager, cfg *Config, certManager *certs.Manager) error {
	if err := metrics.Register(); err != nil {
		return err
	}
	if err := controllers.SetupReconcilers(ctx, mgr, cfg.Controllers); err != nil {
		return err
	}
	if err := webhookv1alpha1.SetupPodWebhookWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the pod webhook: %w", err)
	}
	if err := webhookv1alpha1.SetupNADWebhookWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the NAD webhook: %w", err)
	}
	if certManager != nil {
		if err := mgr.Add(certManager); err != nil {
			return fmt.Errorf("failed to add the certificate manager: %w", err)
		}
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return fmt.Errorf("failed to add ready check: %w", err)
	}
	return nil
}
