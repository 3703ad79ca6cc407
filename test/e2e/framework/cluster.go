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

package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/plexus-net/plexus/internal/testenv"
)

// Cluster is the local cluster under test.
type Cluster struct {
	// Root is the repository root.
	Root string
	// Dir is the cluster state dir (.cluster), Kubeconfig its admin kubeconfig.
	Dir        string
	Kubeconfig string
	// Nodes is the number of nodes (NODES).
	Nodes int
	// Client is an admin client; set by Connect.
	Client client.Client
	// Scheme holds the types Client knows.
	Scheme *runtime.Scheme
}

// NewCluster describes the cluster of the repository that contains the working directory.
func NewCluster() (*Cluster, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	dir := os.Getenv("CLUSTER_DIR")
	if dir == "" {
		dir = filepath.Join(root, ".cluster")
	}
	nodes := 1
	if v := os.Getenv("NODES"); v != "" {
		if nodes, err = strconv.Atoi(v); err != nil || nodes < 1 {
			return nil, fmt.Errorf("bad NODES=%q", v)
		}
	}
	return &Cluster{Root: root, Dir: dir, Kubeconfig: filepath.Join(dir, "kubeconfig"), Nodes: nodes}, nil
}

// Script runs hack/<name> from the repository root with the cluster's environment and returns
// its combined output.
func (c *Cluster) Script(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.Root, "hack", name), args...)
	cmd.Dir = c.Root
	cmd.Env = append(os.Environ(), "CLUSTER_DIR="+c.Dir, "NODES="+strconv.Itoa(c.Nodes))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("hack/%s %s failed: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Up starts the cluster (idempotent) and connects the client.
func (c *Cluster) Up(ctx context.Context) error {
	if _, err := c.Script(ctx, "cluster/up.sh"); err != nil {
		return err
	}
	return c.Connect()
}

// Down stops the cluster and removes its state.
func (c *Cluster) Down(ctx context.Context) error {
	_, err := c.Script(ctx, "cluster/down.sh")
	return err
}

// Connect builds the admin client from the kubeconfig.
func (c *Cluster) Connect(addToScheme ...func(*runtime.Scheme) error) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("failed to load %s: %w", c.Kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	c.Scheme = runtime.NewScheme()
	for _, add := range append([]func(*runtime.Scheme) error{clientgoscheme.AddToScheme}, addToScheme...) {
		if err := add(c.Scheme); err != nil {
			return err
		}
	}
	c.Client, err = client.New(cfg, client.Options{Scheme: c.Scheme})
	return err
}

// Kubectl runs kubectl against the cluster.
func (c *Cluster) Kubectl(ctx context.Context, args ...string) (string, error) {
	return run(ctx, nil, "kubectl", append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
}

// KubectlStdin runs kubectl with stdin.
func (c *Cluster) KubectlStdin(ctx context.Context, stdin string, args ...string) (string, error) {
	return run(ctx, strings.NewReader(stdin), "kubectl", append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
}

// NodeIndex returns N of node "plexus-nodeN".
func NodeIndex(nodeName string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(nodeName, "plexus-node"))
	if err != nil {
		return 0, fmt.Errorf("%q is not a local cluster node", nodeName)
	}
	return n, nil
}

// NodeDir is the state dir of node n.
func (c *Cluster) NodeDir(n int) string { return filepath.Join(c.Dir, fmt.Sprintf("node%d", n)) }

// Crictl runs crictl against the containerd of node n.
func (c *Cluster) Crictl(ctx context.Context, n int, args ...string) (string, error) {
	sock := "unix://" + filepath.Join(c.NodeDir(n), "cri", "containerd.sock")
	return run(ctx, nil, filepath.Join(c.Root, "bin", "k8s", "crictl"), append([]string{"-r", sock, "-i", sock}, args...)...)
}

// PodNetns returns the network namespace path of a running pod's sandbox, as the runtime created it.
func (c *Cluster) PodNetns(ctx context.Context, pod *corev1.Pod) (string, error) {
	n, err := NodeIndex(pod.Spec.NodeName)
	if err != nil {
		return "", err
	}
	id, err := c.Crictl(ctx, n, "pods", "-q", "--name", pod.Name, "--namespace", pod.Namespace, "--state", "ready")
	if err != nil {
		return "", err
	}
	id = strings.TrimSpace(strings.Split(strings.TrimSpace(id), "\n")[0])
	if id == "" {
		return "", fmt.Errorf("no ready sandbox for pod %s/%s on node %d", pod.Namespace, pod.Name, n)
	}
	out, err := c.Crictl(ctx, n, "inspectp", id)
	if err != nil {
		return "", err
	}
	var inspect struct {
		Info struct {
			RuntimeSpec struct {
				Linux struct {
					Namespaces []struct {
						Type string `json:"type"`
						Path string `json:"path"`
					} `json:"namespaces"`
				} `json:"linux"`
			} `json:"runtimeSpec"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &inspect); err != nil {
		return "", fmt.Errorf("failed to parse crictl inspectp: %w", err)
	}
	for _, ns := range inspect.Info.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" && ns.Path != "" {
			return ns.Path, nil
		}
	}
	return "", fmt.Errorf("sandbox %s has no network namespace path", id)
}

// InPodNetns runs a host command (e.g. "ip -j addr") inside the pod's network namespace with nsenter.
func (c *Cluster) InPodNetns(ctx context.Context, pod *corev1.Pod, args ...string) (string, error) {
	netns, err := c.PodNetns(ctx, pod)
	if err != nil {
		return "", err
	}
	return run(ctx, nil, "nsenter", append([]string{"--net=" + netns}, args...)...)
}

// Link is the part of "ip -j addr" output tests look at.
type Link struct {
	IfName    string `json:"ifname"`
	Address   string `json:"address"`
	MTU       int    `json:"mtu"`
	OperState string `json:"operstate"`
	AddrInfo  []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// PodLinks lists the links of the pod's network namespace, seen from the host.
func (c *Cluster) PodLinks(ctx context.Context, pod *corev1.Pod) (map[string]Link, error) {
	out, err := c.InPodNetns(ctx, pod, "ip", "-j", "addr", "show")
	if err != nil {
		return nil, err
	}
	var links []Link
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		return nil, fmt.Errorf("failed to parse ip -j addr: %w", err)
	}
	byName := make(map[string]Link, len(links))
	for _, l := range links {
		byName[l.IfName] = l
	}
	return byName, nil
}

// IPv4s returns the link's IPv4 addresses in CIDR form.
func (l Link) IPv4s() []string {
	var out []string
	for _, a := range l.AddrInfo {
		if a.Family == "inet" {
			out = append(out, fmt.Sprintf("%s/%d", a.Local, a.PrefixLen))
		}
	}
	return out
}

func run(ctx context.Context, stdin *strings.Reader, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}
