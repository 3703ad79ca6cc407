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

package install

import (
	"fmt"
	"os"
	"path/filepath"
)

// FallbackCredentials are the files plexus-cni's direct mode uses when the agent does not
// answer: a kubeconfig whose tokenFile is the agent's own bound service-account token, copied
// to the host (0600) and refreshed by the agent as the kubelet rotates it (Multus thin mode's
// expired-token problem, issues #852/#1263, does not arise). The token carries the node name,
// so the ValidatingAdmissionPolicy limits it to this node's pods.
type FallbackCredentials struct {
	// Dir is the host directory for the files (the agent state dir).
	Dir string
	// Server is the API server URL reachable from the host network.
	Server string
	// TokenFile and CAFile are the agent's in-container service-account files.
	TokenFile, CAFile string
}

// KubeconfigPath is the kubeconfig plexus-cni is configured with.
func (f *FallbackCredentials) KubeconfigPath() string {
	return filepath.Join(f.Dir, "plexus-cni.kubeconfig")
}

// Sync writes (or refreshes) the token, the CA and the kubeconfig; unchanged files are not
// rewritten.
func (f *FallbackCredentials) Sync() error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", f.Dir, err)
	}
	tok, err := os.ReadFile(f.TokenFile)
	if err != nil {
		return fmt.Errorf("failed to read the service-account token: %w", err)
	}
	ca, err := os.ReadFile(f.CAFile)
	if err != nil {
		return fmt.Errorf("failed to read the service-account CA: %w", err)
	}
	tokenPath, caPath := filepath.Join(f.Dir, "plexus-cni.token"), filepath.Join(f.Dir, "plexus-cni-ca.crt")
	if _, err := WriteFileAtomic(tokenPath, tok, 0o600); err != nil {
		return err
	}
	if _, err := WriteFileAtomic(caPath, ca, 0o600); err != nil {
		return err
	}
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: plexus
  cluster:
    server: %q
    certificate-authority: %q
users:
- name: plexus-cni
  user:
    tokenFile: %q
contexts:
- name: plexus
  context: {cluster: plexus, user: plexus-cni}
current-context: plexus
`, f.Server, caPath, tokenPath)
	_, err = WriteFileAtomic(f.KubeconfigPath(), []byte(kc), 0o600)
	return err
}
