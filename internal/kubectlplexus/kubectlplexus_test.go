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

package kubectlplexus

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/internal/netattach"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func pod(ns, name string, phase corev1.PodPhase, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(name + "-uid"), Annotations: annotations,
			Labels: map[string]string{"app": name}},
		Spec:   corev1.PodSpec{NodeName: "plexus-node1"},
		Status: corev1.PodStatus{Phase: phase},
	}
}

const statusTwoNets = `[
 {"name":"cbr0","interface":"eth0","ips":["10.0.0.5"],"default":true},
 {"name":"app/storage","interface":"net1","ips":["192.168.10.5"],"mac":"aa:bb:cc:dd:ee:01"},
 {"name":"app/payments","interface":"pay0","ips":["10.20.0.7","fd00::7"],"mac":"aa:bb:cc:dd:ee:02"}
]`

func TestAnalyzePod(t *testing.T) {
	planes := map[string]string{"app/storage": "storage"}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		want    []string // "ifname network state ips"
		summary string
	}{{
		name: "all attached, short form with @ifname",
		pod: pod("app", "web", corev1.PodRunning, map[string]string{
			netattach.NetworksAnnotation:      "storage,payments@pay0",
			netattach.NetworkStatusAnnotation: statusTwoNets,
		}),
		want:    []string{"net1 app/storage Attached 192.168.10.5", "pay0 app/payments Attached 10.20.0.7,fd00::7"},
		summary: StateAttached,
	}, {
		name: "no status yet",
		pod: pod("app", "web", corev1.PodPending, map[string]string{
			netattach.NetworksAnnotation: `[{"name":"storage"},{"name":"other","namespace":"shared"}]`,
		}),
		want:    []string{"net1 app/storage Pending ", "net2 shared/other Pending "},
		summary: StatePending,
	}, {
		name: "status lacks a network",
		pod: pod("app", "web", corev1.PodRunning, map[string]string{
			netattach.NetworksAnnotation:      "storage,missing",
			netattach.NetworkStatusAnnotation: statusTwoNets,
		}),
		want:    []string{"net1 app/storage Attached 192.168.10.5", "net2 app/missing Missing ", "pay0 app/payments Unrequested 10.20.0.7,fd00::7"},
		summary: StateMissing,
	}, {
		name: "bare NAD name in status (old writers)",
		pod: pod("app", "web", corev1.PodRunning, map[string]string{
			netattach.NetworksAnnotation:      "storage",
			netattach.NetworkStatusAnnotation: `[{"name":"storage","interface":"net1","ips":["192.168.10.9"]}]`,
		}),
		want:    []string{"net1 app/storage Attached 192.168.10.9"},
		summary: StateAttached,
	}, {
		name:    "invalid annotation",
		pod:     pod("app", "web", corev1.PodPending, map[string]string{netattach.NetworksAnnotation: `[{"name":`}),
		summary: StateInvalid,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AnalyzePod(tt.pod, planes)
			var rows []string
			for _, a := range got.Attachments {
				rows = append(rows, strings.Join([]string{a.Interface, a.Network, a.State, strings.Join(a.IPs, ",")}, " "))
			}
			if strings.Join(rows, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("attachments:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(tt.want, "\n"))
			}
			if s := got.Summary(); s != tt.summary {
				t.Errorf("summary %s, want %s", s, tt.summary)
			}
			if !got.HasSecondaryNetworks() {
				t.Errorf("pod has secondary networks")
			}
		})
	}
	if AnalyzePod(pod("app", "plain", corev1.PodRunning, nil), nil).HasSecondaryNetworks() {
		t.Errorf("a pod without annotations has no secondary networks")
	}
}

func TestRenderPods(t *testing.T) {
	pods := []*PodNetworks{
		AnalyzePod(pod("app", "web", corev1.PodRunning, map[string]string{
			netattach.NetworksAnnotation: "storage,payments@pay0", netattach.NetworkStatusAnnotation: statusTwoNets,
		}), map[string]string{"app/storage": "storage", "app/payments": "payments"}),
		AnalyzePod(pod("app", "db", corev1.PodPending, map[string]string{netattach.NetworksAnnotation: "storage"}),
			map[string]string{"app/storage": "storage"}),
	}
	var buf bytes.Buffer
	if err := RenderPods(&buf, pods, true); err != nil {
		t.Fatal(err)
	}
	want := `NAMESPACE   POD   INTERFACE   NETWORK        PLANE      IPS                 MAC                 STATE
app         db    net1        app/storage    storage    <none>              -                   Pending
app         web   net1        app/storage    storage    192.168.10.5        aa:bb:cc:dd:ee:01   Attached
app         web   pay0        app/payments   payments   10.20.0.7,fd00::7   aa:bb:cc:dd:ee:02   Attached
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := RenderPods(&buf, pods[1:], false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "POD   INTERFACE   NETWORK") {
		t.Errorf("without -A there is no NAMESPACE column:\n%s", buf.String())
	}
}

func condition(typ, status, reason string, gen int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: metav1.ConditionStatus(status), Reason: reason, ObservedGeneration: gen}
}

func TestRenderPlanes(t *testing.T) {
	created := metav1.NewTime(now.Add(-3 * time.Hour))
	planes := []plexusv1alpha1.NetworkPlane{{
		ObjectMeta: metav1.ObjectMeta{Name: "storage", Generation: 2, CreationTimestamp: created},
		Spec:       plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeBridge},
		Status: plexusv1alpha1.NetworkPlaneStatus{ObservedGeneration: 2, RenderedNamespaces: 3, AttachedPods: 7, FailedPods: 1,
			Conditions: []metav1.Condition{condition("Ready", "True", "Rendered", 2), condition("Degraded", "False", "AsExpected", 2)}},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: "payments", Generation: 1, CreationTimestamp: created},
		Spec:       plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeMacvlan},
		Status: plexusv1alpha1.NetworkPlaneStatus{ObservedGeneration: 1,
			Conditions: []metav1.Condition{condition("Ready", "False", "NADConflict", 1), condition("Degraded", "True", "NADConflict", 1)}},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: "fresh", Generation: 1, CreationTimestamp: metav1.NewTime(now.Add(-5 * time.Second))},
		Spec:       plexusv1alpha1.NetworkPlaneSpec{Type: plexusv1alpha1.NetworkPlaneTypeVLAN},
	}}
	var buf bytes.Buffer
	if err := RenderPlanes(&buf, planes, now); err != nil {
		t.Fatal(err)
	}
	want := `NAME       TYPE      READY     NAMESPACES   ATTACHED   FAILED   REASON          AGE
fresh      vlan      Unknown   0            0          0        NotReconciled   5s
payments   macvlan   False     0            0          0        NADConflict     3h
storage    bridge    True      3            7          1        Rendered        3h
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestWhyMissingNAD(t *testing.T) {
	scheme, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	p := pod("app", "web", corev1.PodPending, map[string]string{netattach.NetworksAnnotation: "storage,nope@data0"})
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}}
	nad := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "storage",
		Labels: map[string]string{plexusv1alpha1.PlaneLabel: "storage"}}}
	nad.SetGroupVersionKind(nadGVK)
	ev := func(name, typ, reason, msg string, ago time.Duration) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: "app", Name: name},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "app", Name: "web", UID: p.UID},
			Type:           typ, Reason: reason, Message: msg, Count: 1, LastTimestamp: metav1.NewTime(now.Add(-ago)),
		}
	}
	policy := &plexusv1alpha1.AttachmentPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "web-nets", Generation: 1},
		Spec: plexusv1alpha1.AttachmentPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Attachments: []plexusv1alpha1.Attachment{{Plane: "storage"}, {Plane: "nope", Interface: "data0"}},
		},
		Status: plexusv1alpha1.AttachmentPolicyStatus{ObservedGeneration: 1,
			Conditions:  []metav1.Condition{condition("Ready", "False", "PodsFailed", 1), condition("Degraded", "True", "PlaneNotFound", 1)},
			FailingPods: []plexusv1alpha1.FailingPod{{Name: "web", Reason: "SandboxFailed", Message: "network app/nope: not found"}}},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(p, nad, policy,
			ev("e1", "Warning", "NoNetworkFound", "cannot find NetworkAttachmentDefinition app/nope", 30*time.Second),
			ev("e2", "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: plexus: app/nope not found", 20*time.Second),
			ev("e3", "Normal", "Scheduled", "Successfully assigned app/web", 40*time.Second),
		).
		WithIndex(&corev1.Event{}, EventObjectNameField, func(o client.Object) []string {
			return []string{o.(*corev1.Event).InvolvedObject.Name}
		}).Build()
	g := &Gatherer{Client: c}
	r, err := g.Why(context.Background(), "app", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.MissingNADs) != 1 || r.MissingNADs[0] != "app/nope" {
		t.Errorf("missing NADs %v, want [app/nope]", r.MissingNADs)
	}
	if len(r.Events) != 2 {
		t.Errorf("want the two attachment events, got %d", len(r.Events))
	}
	var buf bytes.Buffer
	if err := RenderWhy(&buf, r, now); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"Pod app/web: ContainerCreating on node plexus-node1",
		"INTERFACE   NETWORK       PLANE     IPS      STATE     DETAIL",
		"net1        app/storage   storage   <none>   Pending   no network-status yet",
		"data0       app/nope      -         <none>   Pending   NetworkAttachmentDefinition not found",
		"30s         Warning   NoNetworkFound           1       cannot find NetworkAttachmentDefinition app/nope",
		"web-nets   true          storage,nope   False   PlaneNotFound   SandboxFailed: network app/nope: not found",
		"Network app/nope is requested but NetworkAttachmentDefinition nope does not exist in namespace app (NoNetworkFound)",
		"Event FailedCreatePodSandBox: Failed to create pod sandbox: plexus: app/nope not found",
		"AttachmentPolicy web-nets lists the pod as failing: SandboxFailed: network app/nope: not found",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("why output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Scheduled") {
		t.Errorf("normal non-network events are left out:\n%s", out)
	}

	pods, err := g.PodNetworks(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 1 || pods[0].Attachments[0].Plane != "storage" {
		t.Errorf("PodNetworks: want web with plane storage on net1, got %+v", pods)
	}
}

func TestDiagnoseHealthyAndUnmutated(t *testing.T) {
	healthy := &WhyReport{Networks: AnalyzePod(pod("app", "web", corev1.PodRunning, map[string]string{
		netattach.NetworksAnnotation: "storage", netattach.NetworkStatusAnnotation: statusTwoNets,
	}), nil)}
	healthy.Events = []corev1.Event{{Type: corev1.EventTypeWarning, Reason: "MissingClusterDNS", Message: "kubelet does not have ClusterDNS IP configured"}}
	if d := Diagnose(healthy); len(d) != 1 || d[0] != "Every requested network is attached." {
		t.Errorf("healthy, with an unrelated warning: %v", d)
	}
	plain := pod("app", "old", corev1.PodRunning, nil)
	policies := []plexusv1alpha1.AttachmentPolicy{{
		ObjectMeta: metav1.ObjectMeta{Name: "all"},
		Spec:       plexusv1alpha1.AttachmentPolicySpec{Attachments: []plexusv1alpha1.Attachment{{Plane: "storage"}}},
	}}
	r := &WhyReport{Networks: AnalyzePod(plain, nil), Policies: NewPolicyFindings(plain, policies)}
	if d := Diagnose(r); len(d) != 1 || !strings.Contains(d[0], "NotMutated") {
		t.Errorf("unmutated: %v", d)
	}
	none := &WhyReport{Networks: AnalyzePod(plain, nil)}
	if d := Diagnose(none); len(d) != 1 || !strings.Contains(d[0], "requests no secondary network") {
		t.Errorf("no networks: %v", d)
	}
}
