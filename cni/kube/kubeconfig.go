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

package kube

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/plexus-net/plexus/cni/plugin"
)

// Config is how to reach the API server.
type Config struct {
	// Server is the API server URL.
	Server string
	// TLS is the client TLS configuration (nil for plain http).
	TLS *tls.Config
	// Token is a bearer token; TokenFile is re-read per request when set.
	Token     string
	TokenFile string
	// Username/Password for basic auth (rare).
	Username, Password string
}

type kubeconfigFile struct {
	CurrentContext string `json:"current-context"`
	Clusters       []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server        string `json:"server"`
			CAData        []byte `json:"certificate-authority-data"`
			CAFile        string `json:"certificate-authority"`
			Insecure      bool   `json:"insecure-skip-tls-verify"`
			TLSServerName string `json:"tls-server-name"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			Token     string `json:"token"`
			TokenFile string `json:"tokenFile"`
			CertData  []byte `json:"client-certificate-data"`
			CertFile  string `json:"client-certificate"`
			KeyData   []byte `json:"client-key-data"`
			KeyFile   string `json:"client-key"`
			Username  string `json:"username"`
			Password  string `json:"password"`
		} `json:"user"`
	} `json:"users"`
	Contexts []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster string `json:"cluster"`
			User    string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
}

// In-cluster service-account paths.
const (
	saTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token" //nolint:gosec // a path, not a secret
	saCAFile    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
)

// ErrNoConfig means neither a kubeconfig nor an in-cluster environment is available.
var ErrNoConfig = errors.New("no kubeconfig and not running in a cluster")

// LoadConfig reads a kubeconfig file (YAML or JSON; current context; certificate,
// key and CA as data or files relative to the kubeconfig; token or tokenFile). An
// empty path means in-cluster configuration from KUBERNETES_SERVICE_HOST/PORT.
func LoadConfig(path string) (*Config, error) {
	if path == "" {
		if !plugin.InCluster() {
			return nil, ErrNoConfig
		}
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		ca, err := os.ReadFile(saCAFile)
		if err != nil {
			return nil, fmt.Errorf("failed to read in-cluster CA: %w", err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		return &Config{Server: "https://" + net.JoinHostPort(host, port), TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			TokenFile: saTokenFile}, nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read kubeconfig: %w", err)
	}
	var kc kubeconfigFile
	if err := yaml.Unmarshal(raw, &kc); err != nil {
		return nil, fmt.Errorf("failed to parse kubeconfig %s: %w", path, err)
	}
	return kc.config(filepath.Dir(path))
}

func (kc *kubeconfigFile) config(base string) (*Config, error) {
	ctxName := kc.CurrentContext
	if ctxName == "" && len(kc.Contexts) == 1 {
		ctxName = kc.Contexts[0].Name
	}
	var clusterName, userName string
	found := false
	for _, c := range kc.Contexts {
		if c.Name == ctxName {
			clusterName, userName, found = c.Context.Cluster, c.Context.User, true
		}
	}
	if !found {
		return nil, fmt.Errorf("kubeconfig has no context %q", ctxName)
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	cfg := &Config{}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	found = false
	for _, c := range kc.Clusters {
		if c.Name != clusterName {
			continue
		}
		found = true
		cfg.Server = strings.TrimSuffix(c.Cluster.Server, "/")
		tlsCfg.ServerName = c.Cluster.TLSServerName
		tlsCfg.InsecureSkipVerify = c.Cluster.Insecure //nolint:gosec // the kubeconfig asks for it
		ca := c.Cluster.CAData
		if len(ca) == 0 && c.Cluster.CAFile != "" {
			b, err := os.ReadFile(abs(c.Cluster.CAFile))
			if err != nil {
				return nil, fmt.Errorf("failed to read certificate-authority: %w", err)
			}
			ca = b
		}
		if len(ca) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return nil, errors.New("kubeconfig certificate-authority holds no PEM certificate")
			}
			tlsCfg.RootCAs = pool
		}
	}
	if !found {
		return nil, fmt.Errorf("kubeconfig has no cluster %q", clusterName)
	}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		cfg.Token, cfg.TokenFile = u.User.Token, abs(u.User.TokenFile)
		cfg.Username, cfg.Password = u.User.Username, u.User.Password
		cert, key := u.User.CertData, u.User.KeyData
		var err error
		if len(cert) == 0 && u.User.CertFile != "" {
			if cert, err = os.ReadFile(abs(u.User.CertFile)); err != nil {
				return nil, fmt.Errorf("failed to read client-certificate: %w", err)
			}
		}
		if len(key) == 0 && u.User.KeyFile != "" {
			if key, err = os.ReadFile(abs(u.User.KeyFile)); err != nil {
				return nil, fmt.Errorf("failed to read client-key: %w", err)
			}
		}
		if len(cert) > 0 {
			pair, err := tls.X509KeyPair(cert, key)
			if err != nil {
				return nil, fmt.Errorf("invalid client certificate/key: %w", err)
			}
			tlsCfg.Certificates = []tls.Certificate{pair}
		}
	}
	if strings.HasPrefix(cfg.Server, "https://") {
		cfg.TLS = tlsCfg
	}
	return cfg, nil
}

// httpClient builds the HTTP client for cfg.
func (cfg *Config) httpClient() *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     cfg.TLS,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
	}
	return &http.Client{Transport: tr}
}
