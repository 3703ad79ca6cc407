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

package kubecache

import (
	"context"
	"sync"
	"testing"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/plexus-net/plexus/cni/resolve"
)

// store is a pod/NAD store that serves as the informer cache (Get only) or the live reader.
type store struct {
	cache.Cache // only Get is used
	mu          sync.Mutex
	pods        map[string]*corev1.Pod
	nads        map[string]*nadv1.NetworkAttachmentDefinition
	gets        int
}

func newStore() *store {
	return &store{pods: map[string]*corev1.Pod{}, nads: map[string]*nadv1.NetworkAttachmentDefinition{}}
}

func (s *store) put(p *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pods[p.Namespace+"/"+p.Name] = p
}

func (s *store) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	switch o := obj.(type) {
	case *corev1.Pod:
		if p, ok := s.pods[key.String()]; ok {
			p.DeepCopyInto(o)
			return nil
		}
		return apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, key.Name)
	case *nadv1.NetworkAttachmentDefinition:
		if n, ok := s.nads[key.String()]; ok {
			n.DeepCopyInto(o)
			return nil
		}
		return apierrors.NewNotFound(schema.GroupResource{Resource: "network-attachment-definitions"}, key.Name)
	}
	return nil
}

func (s *store) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

func pod(name, uid string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("u" + uid),
		Annotations: map[string]string{"k8s.v1.cni.cncf.io/networks": "net"}}}
}

func TestTrimPod(t *testing.T) {
	g := NewWithT(t)
	full := pod("p", "1")
	full.Labels = map[string]string{"a": "b"}
	full.Spec = corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "i", Env: []corev1.EnvVar{{Name: "X", Value: "y"}}}}}
	full.Status.Phase = corev1.PodRunning
	out, err := TrimPod(full)
	g.Expect(err).NotTo(HaveOccurred())
	p := out.(*corev1.Pod)
	g.Expect(p.Annotations).To(Equal(full.Annotations))
	g.Expect(p.UID).To(Equal(full.UID))
	g.Expect(p.Spec.NodeName).To(Equal("n1"))
	g.Expect(p.Spec.Containers).To(BeEmpty())
	g.Expect(p.Labels).To(BeEmpty())
	g.Expect(p.Status.Phase).To(BeEmpty())
}

func TestPodMissWaitsForTheInformerThenGetsLive(t *testing.T) {
	g := NewWithT(t)
	informer, live := newStore(), newStore()
	c := &Cache{Cache: informer, Live: live, MissWait: 300 * time.Millisecond}
	ctx := context.Background()

	// Just created: the informer delivers it while the request waits; no API request.
	go func() {
		time.Sleep(30 * time.Millisecond) // the informer's delay, simulated
		informer.put(pod("new", "1"))
	}()
	src := c.Source("u1")
	p, err := src.GetPod(ctx, "ns", "new")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.UID).To(Equal("u1"))
	g.Expect(src.LiveRequests()).To(BeZero())

	// The informer never sees it (lagging watch): one live GET after the bounded wait.
	live.put(pod("lagging", "2"))
	src = c.Source("u2")
	start := time.Now()
	p, err = src.GetPod(ctx, "ns", "lagging")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.UID).To(Equal("u2"))
	g.Expect(src.LiveRequests()).To(Equal(1))
	g.Expect(time.Since(start)).To(BeNumerically(">=", 300*time.Millisecond))

	// The cache holds an older pod with the same name: the runtime's UID wins after the wait.
	informer.put(pod("recreated", "old"))
	live.put(pod("recreated", "3"))
	src = c.Source("u3")
	p, err = src.GetPod(ctx, "ns", "recreated")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(p.UID).To(Equal("u3"))
	g.Expect(c.LiveRequests()).To(Equal(2))

	// Gone everywhere: the resolver's not-found sentinel.
	_, err = c.Source("").GetPod(ctx, "ns", "ghost")
	g.Expect(err).To(MatchError(resolve.ErrNotFound))
}

func TestNADMissIsCheckedLiveOnce(t *testing.T) {
	g := NewWithT(t)
	informer, live := newStore(), newStore()
	live.nads["ns/net"] = &nadv1.NetworkAttachmentDefinition{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "net"},
		Spec: nadv1.NetworkAttachmentDefinitionSpec{Config: `{"type":"macvlan"}`}}
	c := &Cache{Cache: informer, Live: live}
	src := c.Source("")
	n, err := src.GetNAD(context.Background(), "ns", "net")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(n.Config).To(Equal(`{"type":"macvlan"}`))
	g.Expect(src.LiveRequests()).To(Equal(1))
	_, err = src.GetNAD(context.Background(), "ns", "missing")
	g.Expect(err).To(MatchError(resolve.ErrNotFound))
}
