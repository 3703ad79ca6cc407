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

package hardware

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/sriov"
	"github.com/plexus-net/plexus/internal/sysfs"
)

// serviceAccountNamespaceFile holds the pod's namespace in every pod with a service account.
const serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace" //nolint:gosec // a path

// Options configure the hardware reconciler of the node agent.
type Options struct {
	// NodeName is this node.
	NodeName string
	// Namespace is the operator namespace (budget Leases, device plugin ConfigMap); empty reads
	// the pod's own namespace from its service account.
	Namespace string
	// SysRoot is the host's sysfs (default /sys).
	SysRoot string
	// PCISysRoot is the sysfs SR-IOV PFs and VFs are discovered and configured through
	// (default SysRoot). The plexus.dev/pci-sys-root node annotation (below HostRoot) overrides
	// it; hugepages always use SysRoot.
	PCISysRoot string
	// StateDir is the agent's state directory; the reconciler keeps its files in
	// StateDir/hardware. A plexus.dev/agent-state-dir node annotation below HostRoot overrides it.
	StateDir string
	// HostRoot is the host directory node annotations may point into ("" ignores them).
	HostRoot string
	// PodResourcesSocket is the kubelet PodResources socket (default
	// sriov.DefaultPodResourcesSocket); the plexus.dev/pod-resources-socket annotation overrides it.
	PodResourcesSocket string
	// DevicePluginSelector selects the device plugin pods (default DefaultDevicePluginSelector).
	DevicePluginSelector string
}

// Scheme returns the scheme of the hardware reconciler's manager.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(plexusv1alpha1.AddToScheme(s))
	return s
}

// CacheOptions restrict the cache to what one node needs: its own Node and NodeNetworkState,
// the device plugin ConfigMap and every NodeNetworkPolicy. Pods and Leases are read uncached.
func CacheOptions(nodeName, namespace string) cache.Options {
	byName := func(name string) fields.Selector { return fields.OneTermEqualSelector("metadata.name", name) }
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Node{}:                     {Field: byName(nodeName)},
			&plexusv1alpha1.NodeNetworkState{}: {Field: byName(nodeName)},
			&corev1.ConfigMap{}: {Namespaces: map[string]cache.Config{
				namespace: {FieldSelector: byName(DevicePluginConfigMapName)}}},
		},
	}
}

// NewManager returns a manager for the hardware reconciler of node o.NodeName: no leader
// election (one agent per node), no metrics or health endpoints of its own.
func NewManager(restCfg *rest.Config, o Options) (manager.Manager, error) {
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 Scheme(),
		Cache:                  CacheOptions(o.NodeName, o.Namespace),
		Client:                 client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Pod{}, &coordinationv1.Lease{}}}},
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create the hardware manager: %w", err)
	}
	return mgr, nil
}

// Setup registers the hardware reconciler with mgr (whose cache must follow CacheOptions).
// podResources lists the devices of this node's pods.
func Setup(mgr manager.Manager, o Options, podResources sriov.PodDeviceLister) error {
	var sel labels.Selector
	if o.DevicePluginSelector != "" {
		var err error
		if sel, err = labels.Parse(o.DevicePluginSelector); err != nil {
			return fmt.Errorf("device plugin selector %q: %w", o.DevicePluginSelector, err)
		}
	}
	return (&Reconciler{
		Client:               mgr.GetClient(),
		APIReader:            mgr.GetAPIReader(),
		NodeName:             o.NodeName,
		Namespace:            o.Namespace,
		SysRoot:              sysfs.New(o.SysRoot),
		PCIRoot:              pciRoot(o),
		StateDir:             filepath.Join(o.StateDir, "hardware"),
		PodResources:         podResources,
		DevicePluginSelector: sel,
	}).SetupWithManager(mgr)
}

// pciRoot is the sysfs of the PCI devices, nil when it is SysRoot.
func pciRoot(o Options) sysfs.Root {
	if o.PCISysRoot == "" || filepath.Clean(o.PCISysRoot) == filepath.Clean(o.SysRoot) {
		return nil
	}
	return sysfs.New(o.PCISysRoot)
}

// Run resolves o (namespace, node annotations), then runs the hardware reconciler until ctx
// is done. cmd/agent runs it next to agent.Run.
func Run(ctx context.Context, restCfg *rest.Config, o Options) error {
	if err := o.resolve(ctx, restCfg); err != nil {
		return err
	}
	pr, err := sriov.NewPodResourcesClient(o.PodResourcesSocket)
	if err != nil {
		return err
	}
	defer pr.Close() //nolint:errcheck // best effort on the way out
	mgr, err := NewManager(restCfg, o)
	if err != nil {
		return err
	}
	if err := Setup(mgr, o, pr); err != nil {
		return fmt.Errorf("failed to set up the hardware reconciler: %w", err)
	}
	ctrl.LoggerFrom(ctx).Info("Starting the hardware reconciler", "sysRoot", o.SysRoot, "pciSysRoot", o.PCISysRoot,
		"stateDir", filepath.Join(o.StateDir, "hardware"), "namespace", o.Namespace)
	return mgr.Start(ctx)
}

// resolve fills defaults and applies the node's path annotations.
func (o *Options) resolve(ctx context.Context, restCfg *rest.Config) error {
	if o.NodeName == "" {
		return errors.New("hardware: no node name")
	}
	if o.SysRoot == "" {
		o.SysRoot = "/sys"
	}
	if o.PodResourcesSocket == "" {
		o.PodResourcesSocket = sriov.DefaultPodResourcesSocket
	}
	if o.PCISysRoot == "" {
		o.PCISysRoot = o.SysRoot
	}
	if o.Namespace == "" {
		b, err := os.ReadFile(serviceAccountNamespaceFile)
		if err != nil {
			return fmt.Errorf("hardware: no namespace given and none in the service account: %w", err)
		}
		o.Namespace = strings.TrimSpace(string(b))
	}
	c, err := client.New(restCfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return fmt.Errorf("failed to create the API client: %w", err)
	}
	node := &corev1.Node{}
	if err := c.Get(ctx, types.NamespacedName{Name: o.NodeName}, node); err != nil {
		return fmt.Errorf("failed to get Node %s: %w", o.NodeName, err)
	}
	return o.applyNodeAnnotations(node.Annotations)
}

// applyNodeAnnotations honours the agent's state-dir and pod-resources overrides and the
// PCI sysfs override (the same rules as the agent: absolute, below HostRoot).
func (o *Options) applyNodeAnnotations(ann map[string]string) error {
	var errs []error
	set := func(key string, dst *string) {
		v := ann[key]
		if v == "" {
			return
		}
		v = filepath.Clean(v)
		root := filepath.Clean(o.HostRoot)
		if !filepath.IsAbs(v) || o.HostRoot == "" || (v != root && !strings.HasPrefix(v, root+string(filepath.Separator))) {
			errs = append(errs, fmt.Errorf("node annotation %s=%q: not an absolute path below hostRoot %q", key, v, o.HostRoot))
			return
		}
		*dst = v
	}
	set(plexusv1alpha1.AgentStateDirAnnotation, &o.StateDir)
	set(plexusv1alpha1.PodResourcesSocketAnnotation, &o.PodResourcesSocket)
	set(plexusv1alpha1.PCISysRootAnnotation, &o.PCISysRoot)
	return errors.Join(errs...)
}
