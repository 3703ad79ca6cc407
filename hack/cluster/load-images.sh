#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Imports the image tarballs from bin/images into the containerd of every running local node
# (there is no registry: this is how `make deploy` gets fresh operator/agent images onto nodes).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# The images keep their :latest tag, so running pods would keep the old ones: the names of the
# images whose digest changed on any node are written to $CLUSTER_DIR/images-changed, and
# `make deploy` restarts the workloads that run them.
digests() { ctr -a "$1" -n k8s.io images ls 2>/dev/null | awk '$1 ~ /^plexus\.local\// {print $1, $3}' | sort; }
changed=$CLUSTER_DIR/images-changed
: > "$changed"
for d in "$CLUSTER_DIR"/node[0-9]*; do
  [ -S "$d/cri/containerd.sock" ] || continue
  before=$(digests "$d/cri/containerd.sock")
  for t in "$IMAGES_DIR"/*.tar; do
    ctr -a "$d/cri/containerd.sock" -n k8s.io images import "$t" >/dev/null
  done
  after=$(digests "$d/cri/containerd.sock")
  comm -13 <(echo "$before") <(echo "$after") | awk '{print $1}' >> "$changed"
  echo "images loaded into ${d##*/}: $(cd "$IMAGES_DIR" && ls *.tar | tr '\n' ' ')"
done
sort -u -o "$changed" "$changed"
