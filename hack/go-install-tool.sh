#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# go-install-tool.sh TARGET PACKAGE VERSION
# Builds PACKAGE@VERSION from the Go module proxy into TARGET (a versioned name under bin/),
# reusing a copy cached by version under $PLEXUS_CACHE/tools when there is one.
set -euo pipefail
target=$1 pkg=$2 ver=$3
cache=${PLEXUS_CACHE:-$HOME/.cache/plexus}/tools
name=$(basename "$target")
if [ ! -x "$cache/$name" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  echo ">>> building $pkg@$ver" >&2
  GOBIN="$tmp" GOFLAGS=-buildvcs=false go install "$pkg@$ver"
  mkdir -p "$cache"
  built=$(ls "$tmp"); [ "$(echo "$built" | wc -l)" = 1 ] || { echo "unexpected install output: $built" >&2; exit 1; }
  mv "$tmp/$built" "$cache/$name.tmp" && mv "$cache/$name.tmp" "$cache/$name"
fi
mkdir -p "$(dirname "$target")"
cp -f "$cache/$name" "$target.tmp" && mv -f "$target.tmp" "$target"
