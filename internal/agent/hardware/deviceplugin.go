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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// devicePluginState is what the last device plugin restart was for.
type devicePluginState struct {
	// ConfigHash is the hash of this node's key of the device plugin ConfigMap ("" when absent).
	ConfigHash string `json:"configHash,omitempty"`
}

func (r *Reconciler) devicePluginStateFile() string {
	return filepath.Join(r.StateDir, "deviceplugin-state.json")
}

// restartDevicePlugin evicts this node's device plugin pods when this node's rendered
// configuration changed since the last restart, or when vfsChanged (the plugin discovers
// devices only at start). It is a no-op on nodes without a device plugin. The state file keeps
// an agent restart from restarting the plugin again.
//
// NOTE: the pods are evicted rather than deleted: the agent's admission policy forbids it to
// delete pods, evictions of DaemonSet pods restart them all the same, and a
// PodDisruptionBudget an operator put on the plugin is honoured (429: retried).
func (r *Reconciler) restartDevicePlugin(ctx context.Context, vfsChanged bool) (int, error) {
	hash, err := r.devicePluginConfigHash(ctx)
	if err != nil {
		return 0, err
	}
	var st devicePluginState
	if err := loadJSON(r.devicePluginStateFile(), &st); err != nil {
		return 0, err
	}
	if st.ConfigHash == hash && !vfsChanged {
		return 0, nil
	}
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.MatchingLabelsSelector{Selector: r.DevicePluginSelector},
		client.MatchingFields{"spec.nodeName": r.NodeName}); err != nil {
		return 0, fmt.Errorf("failed to list the device plugin pods: %w", err)
	}
	n := 0
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.DeletionTimestamp != nil {
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Restarting the device plugin", "pod", klog.KObj(pod), "configChanged", st.ConfigHash != hash,
			"vfsChanged", vfsChanged)
		if err := r.evict(ctx, pod.Namespace, pod.Name); err != nil && !apierrors.IsNotFound(err) {
			return n, err
		}
		n++
	}
	st.ConfigHash = hash
	return n, saveJSON(r.devicePluginStateFile(), st)
}

// devicePluginConfigHash hashes this node's key of the device plugin ConfigMap.
func (r *Reconciler) devicePluginConfigHash(ctx context.Context) (string, error) {
	cm := &corev1.ConfigMap{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: r.Namespace, Name: DevicePluginConfigMapName}, cm)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to get ConfigMap %s/%s: %w", r.Namespace, DevicePluginConfigMapName, err)
	}
	data, ok := cm.Data[r.NodeName]
	if !ok {
		return "", nil
	}
	sum := sha256.Sum256([]byte(data))
	return hex.EncodeToString(sum[:]), nil
}
