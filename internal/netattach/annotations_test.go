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

package netattach

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestParseNetworks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		want    []NetworkSelectionElement
		wantErr string // substring; "" means success
	}{
		{name: "empty", in: "  ", want: nil},
		{name: "short name", in: "macvlan", want: []NetworkSelectionElement{{Name: "macvlan", Namespace: "pod-ns"}}},
		{name: "short list with namespaces and ifnames", in: " a , other/b@eth7,c@x ",
			want: []NetworkSelectionElement{
				{Name: "a", Namespace: "pod-ns"},
				{Name: "b", Namespace: "other", InterfaceName: "eth7"},
				{Name: "c", Namespace: "pod-ns", InterfaceName: "x"},
			}},
		{name: "same network twice", in: "a,a", want: []NetworkSelectionElement{{Name: "a", Namespace: "pod-ns"}, {Name: "a", Namespace: "pod-ns"}}},
		{name: "two slashes", in: "a/b/c", wantErr: `networks[0]: invalid value "a/b/c": more than one '/'`},
		{name: "two ats", in: "a@b@c", wantErr: `more than one '@'`},
		{name: "trailing comma", in: "a,", wantErr: `networks[1]: empty network reference`},
		{name: "empty ifname", in: "a@", wantErr: `networks[0].interface`},
		{name: "empty namespace", in: "/a", wantErr: `networks[0].namespace`},
		{name: "bad name", in: "Bad_Name", wantErr: `networks[0].name: invalid value "Bad_Name"`},
		{name: "bad namespace", in: "a.b/c", wantErr: `networks[0].namespace: invalid value "a.b"`},
		{name: "long ifname", in: "a@abcdefghijklmnop", wantErr: `networks[0].interface: invalid value "abcdefghijklmnop": longer than 15`},
		{name: "duplicate ifname", in: "a@x,b@x", wantErr: `networks[1].interface: invalid value "x": interface name already requested by element 0`},
		{name: "json full", in: `[{"name":"n","namespace":"ns","interface":"net9","ips":["10.1.1.5/24","fd00::5"],"mac":"02:00:00:00:00:01",
			"default-route":["10.1.1.1"],"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}],
			"bandwidth":{"ingressRate":1000,"ingressBurst":10,"egressRate":1000,"egressBurst":10},
			"cni-args":{"k":"v"},"infiniband-guid":"c2:11:22:33:44:55:66:77","deviceID":"0000:03:00.1","example.com/x":1}]`,
			want: []NetworkSelectionElement{{Name: "n", Namespace: "ns", InterfaceName: "net9", IPRequest: []string{"10.1.1.5/24", "fd00::5"},
				MacRequest: "02:00:00:00:00:01", GatewayRequest: []string{"10.1.1.1"},
				PortMappings:     []PortMapEntry{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
				BandwidthRequest: &BandwidthEntry{IngressRate: 1000, IngressBurst: 10, EgressRate: 1000, EgressBurst: 10},
				CNIArgs:          map[string]any{"k": "v"}, InfinibandGUIDRequest: "c2:11:22:33:44:55:66:77", DeviceID: "0000:03:00.1"}}},
		{name: "json interfaceRequest alias", in: `[{"name":"n","interfaceRequest":"foo"}]`,
			want: []NetworkSelectionElement{{Name: "n", Namespace: "pod-ns", InterfaceName: "foo"}}},
		{name: "json ipam claim", in: `[{"name":"n","ipam-claim-reference":"claim"}]`,
			want: []NetworkSelectionElement{{Name: "n", Namespace: "pod-ns", IPAMClaimReference: "claim"}}},
		{name: "json empty default-route is kept", in: `[{"name":"n","default-route":[]}]`,
			want: []NetworkSelectionElement{{Name: "n", Namespace: "pod-ns", GatewayRequest: []string{}}}},
		{name: "json object not list", in: `{"name":"n"}`, wantErr: "must be a list"},
		{name: "json broken", in: `[{"name":"n"`, wantErr: "not a JSON list"},
		{name: "json element not object", in: `["n"]`, wantErr: "networks[0]: invalid value"},
		{name: "json missing name", in: `[{"namespace":"x"}]`, wantErr: "networks[0].name: network name is required"},
		{name: "json unknown key", in: `[{"name":"n","ipz":["1.2.3.4"]}]`, wantErr: `networks[0].ipz: unknown key`},
		{name: "json wrong type", in: `[{"name":"n","ips":"10.0.0.1"}]`, wantErr: `networks[0].ips: invalid value "string": wrong type, expected a list`},
		{name: "json bad ip", in: `[{"name":"n"},{"name":"m","ips":["10.0.0.300"]}]`, wantErr: `networks[1].ips: invalid value "10.0.0.300": not an IP address or CIDR`},
		{name: "json bad mac", in: `[{"name":"n","mac":"zz"}]`, wantErr: `networks[0].mac: invalid value "zz"`},
		{name: "json 8-byte mac", in: `[{"name":"n","mac":"c2:11:22:33:44:55:66:77"}]`, wantErr: `not a 6-byte MAC`},
		{name: "json bad guid", in: `[{"name":"n","infiniband-guid":"02:00:00:00:00:01"}]`, wantErr: `networks[0].infiniband-guid`},
		{name: "json bad port", in: `[{"name":"n","portMappings":[{"hostPort":0,"containerPort":80}]}]`, wantErr: `networks[0].portMappings[0].hostPort: invalid value "0"`},
		{name: "json bad protocol", in: `[{"name":"n","portMappings":[{"hostPort":1,"containerPort":80,"protocol":"icmp"}]}]`, wantErr: `protocol: invalid value "icmp"`},
		{name: "json negative bandwidth", in: `[{"name":"n","bandwidth":{"ingressRate":-1}}]`, wantErr: `networks[0].bandwidth.ingressRate`},
		{name: "json bad gateway", in: `[{"name":"n","default-route":["x"]}]`, wantErr: `networks[0].default-route: invalid value "x"`},
		{name: "json two v4 gateways", in: `[{"name":"n","default-route":["10.0.0.1","10.0.0.2"]}]`, wantErr: `at most one gateway per IP family`},
		{name: "json dual-stack gateways", in: `[{"name":"n","default-route":["10.0.0.1","fd00::1"]}]`,
			want: []NetworkSelectionElement{{Name: "n", Namespace: "pod-ns", GatewayRequest: []string{"10.0.0.1", "fd00::1"}}}},
		{name: "json default-route twice", in: `[{"name":"n","default-route":["10.0.0.1"]},{"name":"m","default-route":[]}]`,
			wantErr: `networks[1].default-route: only one element may set default-route (element 0 already does)`},
		{name: "json ips with claim", in: `[{"name":"n","ips":["10.0.0.1"],"ipam-claim-reference":"c"}]`, wantErr: `cannot be combined with ips`},
		{name: "json ifname with slash", in: `[{"name":"n","interface":"a/b"}]`, wantErr: `networks[0].interface: invalid value "a/b"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseNetworks(tc.in, "pod-ns")
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("expected error containing %q, got %+v", tc.wantErr, got)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tc.wantErr)
				}
				if !errors.Is(err, ErrInvalidSelection) {
					t.Fatalf("error %q does not match ErrInvalidSelection", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseDefaultNetwork(t *testing.T) {
	t.Parallel()
	e, err := ParseDefaultNetwork("calico", "kube-system")
	if err != nil || e == nil || e.Key() != "kube-system/calico" {
		t.Fatalf("short form: %+v, %v", e, err)
	}
	e, err = ParseDefaultNetwork(`[{"name":"flannel","namespace":"net"}]`, "kube-system")
	if err != nil || e.Key() != "net/flannel" {
		t.Fatalf("json form: %+v, %v", e, err)
	}
	if e, err := ParseDefaultNetwork("", "kube-system"); e != nil || err != nil {
		t.Fatalf("empty: %+v, %v", e, err)
	}
	_, err = ParseDefaultNetwork("a,b", "kube-system")
	if err == nil || !strings.Contains(err.Error(), "v1.multus-cni.io/default-network: exactly one network expected, found 2") {
		t.Fatalf("two networks: %v", err)
	}
}

func TestFormatNetworksRoundTrip(t *testing.T) {
	t.Parallel()
	in := `[{"name":"b","namespace":"x","interfaceRequest":"foo","default-route":[]},{"name":"a","ips":["10.0.0.1/24"]}]`
	elems, err := ParseNetworks(in, "ns")
	if err != nil {
		t.Fatal(err)
	}
	out, err := FormatNetworks(elems)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"b","namespace":"x","interface":"foo","default-route":[]},{"name":"a","namespace":"ns","ips":["10.0.0.1/24"]}]`
	if out != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	again, err := ParseNetworks(out, "other")
	if err != nil || !reflect.DeepEqual(again, elems) {
		t.Fatalf("round trip differs: %v\n%#v\n%#v", err, again, elems)
	}
}

func TestSelectionErrorJSON(t *testing.T) {
	t.Parallel()
	_, err := ParseNetworks(`[{"name":"n","bandwidth":"fast"}]`, "ns")
	var se *SelectionError
	if !errors.As(err, &se) || se.Index != 0 || se.Key != "bandwidth" {
		t.Fatalf("want SelectionError on bandwidth, got %#v", err)
	}
	if _, err := json.Marshal(se); err != nil {
		t.Fatal(err)
	}
}

// The DNS-1123 checks are written out (no regexp at init in plexus-cni); they must accept
// exactly what Kubernetes' regular expressions accept.
func TestDNS1123MatchesTheRegexps(t *testing.T) {
	t.Parallel()
	label := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	subdomain := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	inputs := []string{"", "a", "-", "a-", "-a", "a-b", "a--b", "A", "a.b", "a..b", ".a", "a.", "a.-b", "a-.b",
		"0", "9z", "a_b", "ä", "a b", "my-net.example.com", strings.Repeat("a", 63), strings.Repeat("a", 64),
		strings.Repeat("a.", 126) + "a", strings.Repeat("a.", 126) + "ab", strings.Repeat("a", 63) + "." + strings.Repeat("b", 63)}
	// Every string of up to 3 characters over an alphabet with the interesting classes.
	alphabet := []string{"a", "z", "0", "-", ".", "A", "_"}
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		inputs = append(inputs, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+c, n-1)
		}
	}
	gen("", 3)
	for _, in := range inputs {
		if got, want := isDNS1123Label(in), label.MatchString(in) && len(in) <= 63; got != want {
			t.Errorf("isDNS1123Label(%q) = %v, the regexp says %v", in, got, want)
		}
		if got, want := isDNS1123Subdomain(in), subdomain.MatchString(in) && len(in) <= 253; got != want {
			t.Errorf("isDNS1123Subdomain(%q) = %v, the regexp says %v", in, got, want)
		}
	}
}
