#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds the pinned Kubernetes and etcd binaries from the Go module proxy through the
# wrapper modules in hack/tools/{k8s,etcd}, with version ldflags, and caches them by version
# and by the wrapper go.sum hash outside the clone (PLEXUS_CACHE, default ~/.cache/plexus),
# so a fresh clone on a warm machine links them instead of rebuilding Kubernetes.
#
#   hack/build-k8s.sh OUTDIR     -> OUTDIR/{etcd,kube-apiserver,kubelet,kube-scheduler,
#                                   kube-controller-manager,kube-proxy,crictl}
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: build-k8s.sh OUTDIR}
KV=$(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' "$ROOT/hack/tools/k8s/go.mod")
EV=$(awk '$1=="require" && $2=="go.etcd.io/etcd/server/v3" {print $3}' "$ROOT/hack/tools/etcd/go.mod")
CRICTLV=${CRICTL_VERSION:-v1.37.0}
KEY=$(cat "$ROOT/hack/tools/k8s/go.sum" "$ROOT/hack/tools/etcd/go.sum" <(echo "$CRICTLV") | sha256sum | cut -c1-12)
CACHE=${PLEXUS_CACHE:-$HOME/.cache/plexus}/k8s-$KV-etcd-$EV-$KEY
BINS=(etcd kube-apiserver kubelet kube-scheduler kube-controller-manager kube-proxy crictl)

have_all() { local d=$1 b; for b in "${BINS[@]}"; do [ -x "$d/$b" ] || return 1; done; }

if ! have_all "$CACHE"; then
  mkdir -p "$CACHE.tmp"
  minor=$(echo "$KV" | cut -d. -f2)
  LDF="-s -w -X k8s.io/component-base/version.gitVersion=$KV -X k8s.io/component-base/version.gitMajor=1"
  LDF="$LDF -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
  LDF="$LDF -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
  echo ">>> building Kubernetes $KV from the Go module proxy (first time: several minutes)" >&2
  t0=$(date +%s)
  (cd "$ROOT/hack/tools/k8s" && GOFLAGS=-mod=mod go build -ldflags "$LDF" -o "$CACHE.tmp/" \
     k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubelet \
     k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-controller-manager \
     k8s.io/kubernetes/cmd/kube-proxy)
  echo ">>> building etcd $EV" >&2
  (cd "$ROOT/hack/tools/etcd" && GOFLAGS=-mod=mod go build -ldflags "-s -w" -o "$CACHE.tmp/etcd" go.etcd.io/etcd/server/v3)
  echo ">>> building crictl $CRICTLV" >&2
  GOBIN="$CACHE.tmp" GOFLAGS= go install "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTLV"
  rm -rf "$CACHE"; mv "$CACHE.tmp" "$CACHE"
  echo ">>> Kubernetes binaries built in $(( $(date +%s) - t0 ))s, cached in $CACHE" >&2
fi
mkdir -p "$OUT"
for b in "${BINS[@]}"; do
  if ! cmp -s "$CACHE/$b" "$OUT/$b"; then cp -f "$CACHE/$b" "$OUT/$b.tmp" && mv -f "$OUT/$b.tmp" "$OUT/$b"; fi
done
echo "$KV" > "$OUT/VERSION"
