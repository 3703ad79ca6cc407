#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# make bench: runs every benchmark program and prints its figures. Nothing is asserted: figures go
# to the issue notes and docs, never into timed test assertions.
#   BENCH=cni hack/bench.sh    only the benchmarks whose directory name matches "cni"
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$ROOT/bin/k8s}
rc=0
for dir in cni/bench test/bench/*/; do
  dir=${dir%/}
  [ -d "$dir" ] || continue
  ls "$dir"/*.go >/dev/null 2>&1 || continue
  [[ "$dir" == *"${BENCH:-}"* ]] || continue
  echo "=================== $dir ==================="
  if grep -q '^package main' "$dir"/*.go; then
    go run "./$dir" || rc=1
  else
    go test -run '^$' -bench . -benchmem "./$dir" || rc=1
  fi
done
exit $rc
