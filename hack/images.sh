#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Builds the images as docker-archive tarballs in bin/images/ with hack/mkimage (Go only; no Docker
# engine, no registry). The local cluster imports them into containerd (hack/cluster/up.sh).
#   plexus.local/pause:3.10      sandbox image of the local cluster
#   plexus.local/testpod:latest  busybox (sleep, ip, nc, ...) for tests and the demo
#   plexus.local/operator:latest the operator (non-root)
#   plexus.local/agent:latest    the node agent + plexus-cni + reference CNI plugins under /plugins
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
OUT=bin/images; mkdir -p "$OUT"
MK=bin/mkimage
TAG=${IMG_TAG:-latest}
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { echo "busybox-static is missing: apt-get install busybox-static (hack/install-deps.sh does it)" >&2; exit 1; }

$MK -o "$OUT/pause.tar" -ref plexus.local/pause:3.10 -entrypoint /pause -add bin/pause:/pause

# testpod: static busybox with its applets (sh, sleep, ip, nc, ping, wget, ...)
links=()
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || links+=(-symlink "busybox:/bin/$a"); done
$MK -o "$OUT/testpod.tar" -ref plexus.local/testpod:latest -add "$BUSYBOX:/bin/busybox" "${links[@]}" \
  -entrypoint /bin/sh -cmd "-c,trap 'exit 0' TERM; sleep 2147483647 & wait"

$MK -o "$OUT/operator.tar" -ref "plexus.local/operator:$TAG" -entrypoint /operator -user 65532 -add bin/operator:/operator
$MK -o "$OUT/agent.tar" -ref "plexus.local/agent:$TAG" -entrypoint /agent -user 0 -add bin/agent:/agent -add bin/cni:/plugins
