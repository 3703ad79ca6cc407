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

// Package kube is plexus-cni's direct API-server mode, used when no node agent
// answers: a minimal REST client (GET pod, GET NetworkAttachmentDefinition, one
// merge PATCH of the pod's network-status annotation, Event POSTs) built on net/http
// and a kubeconfig parsed with sigs.k8s.io/yaml, plus a kubelet PodResources client.
//
// NOTE: client-go is deliberately not used. plexus-cni runs on every sandbox
// creation and Go runs every linked package's init: measured on this machine
// (GODEBUG=inittrace=1, median of 9 runs), the CNI base set (skel, libcni, netlink,
// net/http) spends 0.51 ms in init, adding sigs.k8s.io/yaml 0.59 ms, adding
// client-go/tools/clientcmd 1.28 ms (+1.2 ms process wall p50), and the gRPC
// PodResources client 0.95 ms (+0.7 ms wall p50). Hence this package speaks the few
// REST calls it needs and gRPC over HTTP/2 cleartext with net/http and a
// hand-written protobuf walk.
package kube
