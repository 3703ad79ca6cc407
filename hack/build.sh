#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds the Plexus binaries (static, CGO off) into bin/, and the reference CNI plugins at the
# version pinned in go.mod (go.mod `tool` directives) plus plexus-cni into bin/cni/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo v0.1.0-dev)}
LDFLAGS="-s -w -X github.com/plexus-net/plexus/internal/version.Version=$VERSION"
export CGO_ENABLED=0
mkdir -p bin/cni
go build -ldflags "$LDFLAGS" -o bin/plexus-cni ./cni
go build -ldflags "$LDFLAGS" -o bin/plexus-cni-direct ./cni/direct
# The binaries named after their directories, in one go build.
go build -ldflags "$LDFLAGS" -o bin/ ./cmd/operator ./cmd/agent ./cmd/kubectl-plexus ./hack/pause ./hack/mkimage
# Reference plugins (delegates): one `go build` for all of them, from the version in go.mod.
go build -ldflags "-s -w" -o bin/cni/ \
  $(awk '/^tool \(/{f=1;next} f&&/^\)/{f=0} f{print $1}' go.mod)
for b in plexus-cni-direct plexus-cni; do
  cp -f "bin/$b" "bin/cni/$b.tmp" && mv -f "bin/cni/$b.tmp" "bin/cni/$b"
done
echo "built: plexus-cni plexus-cni-direct operator agent kubectl-plexus + $(ls bin/cni | wc -l) CNI plugins in bin/cni"
