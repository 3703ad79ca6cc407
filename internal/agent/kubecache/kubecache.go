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
	"fmt"
	"sync/atomic"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/plexus-net/plexus/cni/resolve"
	"github.com/plexus-net/plexus/internal/netattach"
)

// DefaultMissWait is how long a pod missing from the cache is waited for before the live GET.
const DefaultMissWait = time.Second

// Options returns the cache options of the agent: pods of nodeName only, trimmed to the
// metadata resolution needs; NADs without managed fields.
func Options(nodeName string) cache.Options {
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {
				Field:     fields.OneTermEqualSelector("spec.nodeName", nodeName),
				Transform: TrimPod,
			},
		},
	}
}

// TrimPod keeps a pod's identity, annotations and node: everything else (spec, status, labels,
// managed fields) is dropped, so a node with 250 pods costs little memory.
func TrimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, ResourceVersion: pod.ResourceVersion,
			Annotations: pod.Annotations, DeletionTimestamp: pod.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{NodeName: pod.Spec.NodeName},
	}, nil
}

// Cache serves pods and NADs from the informers.
type Cache struct {
	// Cache is the started controller-runtime cache (Options).
	Cache cache.Cache
	// Live is an uncached reader for the fallbacks.
	Live client.Reader
	// MissWait bounds the wait for a pod missing from the cache (default DefaultMissWait).
	MissWait time.Duration

	live atomic.Int64
}

// LiveRequests is the number of live API requests made so far.
func (c *Cache) LiveRequests() int { return int(c.live.Load()) }

// Start creates the informers and waits for them to sync.
func (c *Cache) Start(ctx context.Context) error {
	for _, obj := range []client.Object{&corev1.Pod{}, &nadv1.NetworkAttachmentDefinition{}} {
		if _, err := c.Cache.GetInformer(ctx, obj); err != nil {
			return fmt.Errorf("failed to start the %T informer: %w", obj, err)
		}
	}
	if !c.Cache.WaitForCacheSync(ctx) {
		return fmt.Errorf("caches did not sync: %w", ctx.Err())
	}
	return nil
}

// CachedPod returns the cached pod, if any.
func (c *Cache) CachedPod(ctx context.Context, namespace, name string) (*corev1.Pod, bool) {
	pod := &corev1.Pod{}
	if err := c.Cache.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, pod); err != nil {
		return nil, false
	}
	return pod, true
}

// Source returns a resolve.Source for one request; uid is the pod UID the runtime asked for
// ("" when unknown): a cached pod with another UID counts as a miss.
func (c *Cache) Source(uid string) *Source { return &Source{c: c, uid: uid} }

// Source is a resolve.Source over the cache for one request.
type Source struct {
	c    *Cache
	uid  string
	live int
}

// LiveRequests is the number of live API requests this request made.
func (s *Source) LiveRequests() int { return s.live }

var _ resolve.Source = (*Source)(nil)

// GetPod implements resolve.Source: the cache, a bounded wait for the informer, then one
// live GET.
func (s *Source) GetPod(ctx context.Context, namespace, name string) (*resolve.Pod, error) {
	wait := s.c.MissWait
	if wait <= 0 {
		wait = DefaultMissWait
	}
	deadline := time.Now().Add(wait)
	tick := 2 * time.Millisecond
	for {
		if pod, ok := s.c.CachedPod(ctx, namespace, name); ok && (s.uid == "" || string(pod.UID) == s.uid) {
			return toPod(pod), nil
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for pod %s/%s in the cache: %w", namespace, name, ctx.Err())
		case <-time.After(tick):
		}
		if tick < 50*time.Millisecond {
			tick *= 2
		}
	}
	pod := &corev1.Pod{}
	s.live++
	s.c.live.Add(1)
	if err := s.c.Live.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("pod %s/%s: %w", namespace, name, resolve.ErrNotFound)
		}
		return nil, fmt.Errorf("failed to get pod %s/%s: %w", namespace, name, err)
	}
	return toPod(pod), nil
}

func toPod(p *corev1.Pod) *resolve.Pod {
	return &resolve.Pod{Namespace: p.Namespace, Name: p.Name, UID: string(p.UID), Annotations: p.Annotations}
}

// GetNAD implements resolve.Source: the cache, then one live GET (a NAD created a moment ago).
func (s *Source) GetNAD(ctx context.Context, namespace, name string) (*netattach.NetworkAttachmentDefinition, error) {
	nad := &nadv1.NetworkAttachmentDefinition{}
	key := types.NamespacedName{Namespace: namespace, Name: name}
	err := s.c.Cache.Get(ctx, key, nad)
	if apierrors.IsNotFound(err) {
		s.live++
		s.c.live.Add(1)
		err = s.c.Live.Get(ctx, key, nad)
	}
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("NetworkAttachmentDefinition %s/%s: %w", namespace, name, resolve.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to get NetworkAttachmentDefinition %s/%s: %w", namespace, name, err)
	}
	return &netattach.NetworkAttachmentDefinition{Namespace: nad.Namespace, Name: nad.Name,
		Annotations: nad.Annotations, Config: nad.Spec.Config}, nil
}
