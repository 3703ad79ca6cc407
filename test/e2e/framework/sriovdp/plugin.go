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

package sriovdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	nadutils "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/utils"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"

	"github.com/plexus-net/plexus/internal/sysfs"
)

// Options configure a Plugin.
type Options struct {
	// Config is the content of the configuration file (the node's key of the device plugin
	// ConfigMap).
	Config []byte
	// SysRoot is the sysfs the VFs are discovered in.
	SysRoot string
	// RegistryDir is the kubelet's plugin watcher directory (<kubelet root-dir>/plugins_registry).
	RegistryDir string
	// SocketDir holds the device plugin API sockets; it is created if needed.
	SocketDir string
	// DeviceInfo makes the plugin write a device-info file per device at start and remove it
	// at Stop, in /var/run/k8s.cni.cncf.io/devinfo/dp, as the real plugin does.
	DeviceInfo bool
}

// Plugin serves one device plugin per resource pool of the configuration.
type Plugin struct {
	resources map[string]*resource
	devInfo   bool
}

// resource is the device plugin of one pool.
type resource struct {
	pluginapi.UnimplementedDevicePluginServer
	registerapi.UnimplementedRegistrationServer

	name       string
	devices    []Device
	endpoint   string // device plugin API socket
	regSocket  string // plugin watcher socket
	dpServer   *grpc.Server
	regServer  *grpc.Server
	stop       chan struct{}
	mu         sync.Mutex
	registered *registerapi.RegistrationStatus
	allocated  [][]string
}

// Start discovers the VFs, builds the pools and registers every pool with the kubelet whose
// plugin watcher directory is o.RegistryDir. Call Stop to unregister and remove the sockets.
func Start(o Options) (p *Plugin, retErr error) {
	c, err := Parse(o.Config)
	if err != nil {
		return nil, err
	}
	devices, err := Discover(sysfs.New(o.SysRoot))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.SocketDir, 0o750); err != nil {
		return nil, fmt.Errorf("failed to create the socket directory: %w", err)
	}
	p = &Plugin{resources: map[string]*resource{}, devInfo: o.DeviceInfo}
	defer func() {
		if retErr != nil {
			_ = p.Stop()
		}
	}()
	for name, devs := range Pools(c, devices) {
		file := strings.ReplaceAll(name, "/", "_")
		r := &resource{name: name, devices: devs, stop: make(chan struct{}),
			endpoint: filepath.Join(o.SocketDir, file+".sock"), regSocket: filepath.Join(o.RegistryDir, file+"-reg.sock")}
		p.resources[name] = r
		if o.DeviceInfo {
			if err := r.writeDeviceInfo(); err != nil {
				return p, err
			}
		}
		// The device plugin API first: kubelet dials the endpoint as soon as it sees the
		// registration socket.
		if r.dpServer, err = serve(r.endpoint, func(s *grpc.Server) { pluginapi.RegisterDevicePluginServer(s, r) }); err != nil {
			return p, err
		}
		if r.regServer, err = serve(r.regSocket, func(s *grpc.Server) { registerapi.RegisterRegistrationServer(s, r) }); err != nil {
			return p, err
		}
	}
	return p, nil
}

func serve(sock string, register func(*grpc.Server)) (*grpc.Server, error) {
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("failed to remove the stale socket %s: %w", sock, err)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", sock, err)
	}
	s := grpc.NewServer()
	register(s)
	go func() { _ = s.Serve(l) }()
	return s, nil
}

// Stop unregisters every pool (the kubelet sees its registration socket go away), stops the
// servers and removes the sockets and device-info files.
func (p *Plugin) Stop() error {
	var errs []error
	for _, r := range p.resources {
		if r.regServer != nil {
			r.regServer.Stop()
		}
		if err := os.Remove(r.regSocket); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		select {
		case <-r.stop:
		default:
			close(r.stop)
		}
		if r.dpServer != nil {
			r.dpServer.Stop()
		}
		if err := os.Remove(r.endpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		if p.devInfo {
			for _, d := range r.devices {
				if err := nadutils.CleanDeviceInfoForDP(r.name, d.PCIAddress); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Resources lists the full resource names served.
func (p *Plugin) Resources() []string {
	out := make([]string, 0, len(p.resources))
	for n := range p.resources {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Devices returns the devices of a pool.
func (p *Plugin) Devices(resource string) []Device {
	if r := p.resources[resource]; r != nil {
		return slices.Clone(r.devices)
	}
	return nil
}

// Registered reports whether kubelet accepted the registration of a pool; the error is
// kubelet's reason when it refused it.
func (p *Plugin) Registered(resource string) (bool, error) {
	r := p.resources[resource]
	if r == nil {
		return false, fmt.Errorf("no resource %s", resource)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.registered == nil:
		return false, nil
	case !r.registered.PluginRegistered:
		return false, fmt.Errorf("kubelet refused %s: %s", resource, r.registered.Error)
	}
	return true, nil
}

// Allocations returns the device IDs of every Allocate container request of a pool, in order.
func (p *Plugin) Allocations(resource string) [][]string {
	r := p.resources[resource]
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]string, 0, len(r.allocated))
	for _, a := range r.allocated {
		out = append(out, slices.Clone(a))
	}
	return out
}

// EnvName is the variable Allocate sets: PCIDEVICE_ and the resource name upper-cased with "/"
// and "." replaced by "_" (plexus.dev/fakevf: PCIDEVICE_PLEXUS_DEV_FAKEVF).
func EnvName(resource string) string {
	return "PCIDEVICE_" + strings.ToUpper(strings.NewReplacer("/", "_", ".", "_").Replace(resource))
}

func (r *resource) writeDeviceInfo() error {
	for _, d := range r.devices {
		// NOTE: the library refuses to overwrite; a file left by a killed run is replaced.
		_ = nadutils.CleanDeviceInfoForDP(r.name, d.PCIAddress)
		di := &nadv1.DeviceInfo{Type: nadv1.DeviceInfoTypePCI, Version: nadv1.DeviceInfoVersion,
			Pci: &nadv1.PciDevice{PciAddress: d.PCIAddress, PfPciAddress: d.PFAddress}}
		if err := nadutils.SaveDeviceInfoForDP(r.name, d.PCIAddress, di); err != nil {
			return fmt.Errorf("failed to write the device-info of %s: %w", d.PCIAddress, err)
		}
	}
	return nil
}

// GetInfo implements the plugin watcher's Registration service.
func (r *resource) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	return &registerapi.PluginInfo{Type: registerapi.DevicePlugin, Name: r.name, Endpoint: r.endpoint,
		SupportedVersions: []string{pluginapi.Version}}, nil
}

// NotifyRegistrationStatus records kubelet's answer.
func (r *resource) NotifyRegistrationStatus(_ context.Context, s *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.registered = s
	return &registerapi.RegistrationStatusResponse{}, nil
}

// GetDevicePluginOptions implements the device plugin API: no PreStartContainer, no preferred
// allocation.
func (r *resource) GetDevicePluginOptions(context.Context, *pluginapi.Empty) (*pluginapi.DevicePluginOptions, error) {
	return &pluginapi.DevicePluginOptions{}, nil
}

// ListAndWatch sends the pool once (the devices of a fake tree never change) and holds the
// stream until Stop.
func (r *resource) ListAndWatch(_ *pluginapi.Empty, stream grpc.ServerStreamingServer[pluginapi.ListAndWatchResponse]) error {
	resp := &pluginapi.ListAndWatchResponse{}
	for _, d := range r.devices {
		dev := &pluginapi.Device{ID: d.PCIAddress, Health: pluginapi.Healthy}
		if d.NUMANode >= 0 {
			dev.Topology = &pluginapi.TopologyInfo{Nodes: []*pluginapi.NUMANode{{ID: int64(d.NUMANode)}}}
		}
		resp.Devices = append(resp.Devices, dev)
	}
	if err := stream.Send(resp); err != nil {
		return err
	}
	select {
	case <-r.stop:
	case <-stream.Context().Done():
	}
	return nil
}

// Allocate checks the device IDs and returns the PCIDEVICE_* variable per container.
func (r *resource) Allocate(_ context.Context, req *pluginapi.AllocateRequest) (*pluginapi.AllocateResponse, error) {
	resp := &pluginapi.AllocateResponse{}
	for _, c := range req.ContainerRequests {
		for _, id := range c.DevicesIds {
			if !slices.ContainsFunc(r.devices, func(d Device) bool { return d.PCIAddress == id }) {
				return nil, status.Errorf(codes.InvalidArgument, "%s: unknown device %s", r.name, id)
			}
		}
		r.mu.Lock()
		r.allocated = append(r.allocated, slices.Clone(c.DevicesIds))
		r.mu.Unlock()
		resp.ContainerResponses = append(resp.ContainerResponses, &pluginapi.ContainerAllocateResponse{
			Envs: map[string]string{EnvName(r.name): strings.Join(c.DevicesIds, ",")}})
	}
	return resp, nil
}
