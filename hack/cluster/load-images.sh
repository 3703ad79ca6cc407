#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Imports the image tarballs from bin/images into the containerd of every running local node
# (there is no registry: this is how `make deploy` gets fresh operator/agent images onto nodes).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
for d in "$CLUSTER_DIR"/node[0-9]*; do
  [ -S "$d/cri/containerd.sock" ] || continue
  for t in "$IMAGES_DIR"/*.tar; do
    ctr -a "$d/cri/containerd.sock" -n k8s.io images import "$t" >/dev/null
  done
  echo "images loaded into ${d##*/}: $(cd "$IMAGES_DIR" && ls *.tar | tr '\n' ' ')"
done
