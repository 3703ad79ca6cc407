#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# make bundle: generates the OLM registry+v1 bundle under bundle/ from config/manifests (the CSV
# base, config/default and config/samples) with kustomize and hack/bundlegen (which stands in for
# `operator-sdk generate bundle`). Never edit bundle/ by hand; rerun this instead.
#   hack/bundle.sh [VERSION]     VERSION defaults to $VERSION or 0.1.0
# The output is deterministic; createdAt is kept while the version does not change.
# Under OLM, OLM generates the webhook serving certificate and mounts it where the operator reads
# it, so the bundle runs the operator with --self-managed-certs=false.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
VERSION=${1:-${VERSION:-0.1.0}}
KUSTOMIZE=${KUSTOMIZE:-$(ls "$ROOT"/bin/kustomize-v* 2>/dev/null | sort -V | tail -1)}
[ -x "$KUSTOMIZE" ] || { echo "bundle: kustomize not found; run 'make bundle' (it builds bin/kustomize-*)" >&2; exit 1; }

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -f config/default/kustomization.yaml ] && [ -f config/samples/kustomization.yaml ]; then
  "$KUSTOMIZE" build config/manifests > "$tmp/all.yaml"
else
  # Early in the project config/default or config/samples may not exist yet: build from what
  # does, so the bundle (and make verify) keeps working while the tree fills in.
  echo "bundle: config/default or config/samples has no kustomization yet; using the pieces that exist" >&2
  {
    cat config/manifests/bases/plexus.clusterserviceversion.yaml
    for d in default; do
      [ -f "config/$d/kustomization.yaml" ] || continue
      [ "$d" != default ] || { echo "---"; "$KUSTOMIZE" build "config/$d"; break; }
    done
    if [ ! -f config/default/kustomization.yaml ]; then
      for f in config/crd/bases/*.yaml config/nad/*.yaml config/rbac/role.yaml config/webhook/manifests.yaml; do
        [ -f "$f" ] && { echo "---"; cat "$f"; }
      done
    fi
    if [ -f config/samples/kustomization.yaml ]; then echo "---"; "$KUSTOMIZE" build config/samples
    else for f in config/samples/*.yaml; do [ -f "$f" ] && { echo "---"; cat "$f"; }; done; fi
  } > "$tmp/all.yaml"
fi
go run ./hack/bundlegen --input "$tmp/all.yaml" --out bundle --version "$VERSION" \
  --package plexus --channels alpha --default-channel alpha \
  --webhook-arg=--self-managed-certs=false
echo "bundle: wrote bundle/ for plexus v$VERSION ($(ls bundle/manifests | wc -l) manifests)"
