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
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"

	"github.com/plexus-net/plexus/cni/resolve"
)

// PodResources reads device allocations from the kubelet PodResources API
// (k8s.io/kubelet/pkg/apis/podresources/v1, List) over its unix socket. It speaks
// gRPC directly (HTTP/2 cleartext via net/http, protobuf decoded by hand) to keep
// grpc-go's init out of plexus-cni; see the package comment for the figures.
type PodResources struct {
	// Socket is the kubelet socket (/var/lib/kubelet/pod-resources/kubelet.sock).
	Socket string
}

var _ resolve.DeviceLookup = (*PodResources)(nil)

// ListMethod is the gRPC method PodResources calls.
const ListMethod = "/v1.PodResourcesLister/List"

// DeviceIDs implements resolve.DeviceLookup: device IDs per resource name of every
// container of the pod, sorted.
func (p *PodResources) DeviceIDs(ctx context.Context, namespace, name string) (map[string][]string, error) {
	body, err := p.call(ctx, ListMethod, nil)
	if err != nil {
		return nil, err
	}
	out, err := decodeList(body, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("failed to decode PodResources List response: %w", err)
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out, nil
}

func (p *PodResources) call(ctx context.Context, method string, msg []byte) ([]byte, error) {
	var protos http.Protocols
	protos.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols: &protos,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", p.Socket)
		},
	}
	defer tr.CloseIdleConnections()
	frame := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(msg))) //nolint:gosec // request messages are tiny
	copy(frame[5:], msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost"+method, bytes.NewReader(frame))
	if err != nil {
		return nil, fmt.Errorf("failed to build gRPC request: %w", err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("PodResources %s: %w", method, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only body
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("PodResources %s: failed to read the response: %w", method, err)
	}
	status := resp.Trailer.Get("Grpc-Status")
	if status == "" {
		status = resp.Header.Get("Grpc-Status") // trailers-only response
	}
	if resp.StatusCode != http.StatusOK || (status != "" && status != "0") {
		msg := resp.Trailer.Get("Grpc-Message")
		if msg == "" {
			msg = resp.Header.Get("Grpc-Message")
		}
		return nil, fmt.Errorf("PodResources %s: HTTP %d, gRPC status %s: %s", method, resp.StatusCode, status, msg)
	}
	if len(data) < 5 {
		return nil, fmt.Errorf("PodResources %s: short gRPC response", method)
	}
	if data[0] != 0 {
		return nil, fmt.Errorf("PodResources %s: compressed gRPC response not supported", method)
	}
	n := binary.BigEndian.Uint32(data[1:5])
	if int(n) > len(data)-5 {
		return nil, fmt.Errorf("PodResources %s: truncated gRPC response", method)
	}
	return data[5 : 5+n], nil
}

// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

var errBadProto = errors.New("malformed protobuf message")

// varint decodes a base-128 varint, returning the value and its length (0 on error).
func varint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// fields calls f for every field of a protobuf message; v is the payload of
// length-delimited fields (nil for the others, which are skipped).
//
// NOTE: a hand-written walk instead of google.golang.org/protobuf/encoding/protowire:
// protowire links protobuf's internal/detrand, whose init hashes the executable
// (0.1-0.2 ms on every plexus-cni start).
func fields(b []byte, f func(num uint64, typ int, v []byte) error) error {
	for len(b) > 0 {
		tag, n := varint(b)
		if n == 0 {
			return errBadProto
		}
		b = b[n:]
		num, typ := tag>>3, int(tag&7)
		var v []byte
		switch typ {
		case wireVarint:
			if _, n = varint(b); n == 0 {
				return errBadProto
			}
		case wireFixed64:
			n = 8
		case wireFixed32:
			n = 4
		case wireBytes:
			l, m := varint(b)
			if m == 0 || l > uint64(len(b)-m) {
				return errBadProto
			}
			v, n = b[m:m+int(l)], m+int(l)
		default:
			return fmt.Errorf("%w: wire type %d", errBadProto, typ)
		}
		if n > len(b) {
			return errBadProto
		}
		if err := f(num, typ, v); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

var errStop = errors.New("stop")

// decodeList extracts the devices of one pod from a ListPodResourcesResponse:
// pod_resources=1 {name=1, namespace=2, containers=3 {devices=2 {resource_name=1, device_ids=2}}}.
func decodeList(b []byte, namespace, name string) (map[string][]string, error) {
	out := map[string][]string{}
	err := fields(b, func(num uint64, typ int, pod []byte) error {
		if num != 1 || typ != wireBytes {
			return nil
		}
		var podName, podNS string
		var containers [][]byte
		if err := fields(pod, func(num uint64, typ int, v []byte) error {
			if typ != wireBytes {
				return nil
			}
			switch num {
			case 1:
				podName = string(v)
			case 2:
				podNS = string(v)
			case 3:
				containers = append(containers, v)
			}
			return nil
		}); err != nil {
			return err
		}
		if podName != name || podNS != namespace {
			return nil
		}
		for _, c := range containers {
			if err := fields(c, func(num uint64, typ int, dev []byte) error {
				if num != 2 || typ != wireBytes {
					return nil
				}
				var res string
				var ids []string
				if err := fields(dev, func(num uint64, typ int, v []byte) error {
					if typ != wireBytes {
						return nil
					}
					switch num {
					case 1:
						res = string(v)
					case 2:
						ids = append(ids, string(v))
					}
					return nil
				}); err != nil {
					return err
				}
				if res != "" {
					out[res] = append(out[res], ids...)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return out, nil
}
