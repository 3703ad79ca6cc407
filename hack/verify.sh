#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# make verify: regenerates everything generated and fails on any drift (modified or new untracked
# files), on go.mod/go.sum tidy drift, gofmt, missing license headers, go vet, and imports that
# break the package boundaries (cni/ must not link controller-runtime, plexus-cni no net/http, TLS
# or YAML; api/ holds types only).
#   hack/verify.sh            all checks
#   hack/verify.sh generated  only the generated-code drift check
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
fail=0
step() { printf '\033[1m>>> verify: %s\033[0m\n' "$*"; }
bad() { printf '\033[31mFAIL: %s\033[0m\n' "$*"; fail=1; }

GENERATED_PATHS=(api config bundle docs/reference PROJECT)

check_generated() {
  step "generated code and manifests (make manifests generate bundle docs)"
  make -s manifests generate >/dev/null || { bad "code generation failed"; return; }
  [ ! -f hack/bundle.sh ] || make -s bundle >/dev/null || { bad "bundle generation failed"; return; }
  [ ! -f hack/gen-docs.sh ] || hack/gen-docs.sh >/dev/null || { bad "docs generation failed"; return; }
  local paths=(); for p in "${GENERATED_PATHS[@]}"; do [ -e "$p" ] && paths+=("$p"); done
  # Changed lines, ignoring the CSV's createdAt (rewritten on every `make bundle`). Done by hand:
  # git 2.39's --exit-code does not honour -I.
  local changed
  changed=$(git diff -U0 -- "${paths[@]}" | grep -E '^[-+]' | grep -vE '^(\+\+\+|---) ' | grep -v 'createdAt:' || true)
  if [ -n "$changed" ]; then
    git diff --stat -- "${paths[@]}"
    git diff -- "${paths[@]}" | head -60
    bad "generated files are stale: run 'make manifests generate bundle' and commit the result"
  fi
  local untracked; untracked=$(git ls-files --others --exclude-standard -- "${paths[@]}")
  if [ -n "$untracked" ]; then
    echo "$untracked"
    bad "generation produced files that are not committed: run 'make manifests generate bundle' and git add them"
  fi
}

if [ "${1:-all}" = generated ]; then check_generated; exit $fail; fi

check_generated

step "go.mod / go.sum tidy"
if ! go mod tidy >/dev/null 2>&1; then bad "go mod tidy failed"; fi
if ! git diff --exit-code --stat -- go.mod go.sum; then
  bad "go.mod/go.sum are not tidy: run 'go mod tidy' and commit the result"
fi

step "gofmt"
unformatted=$(gofmt -s -l $(git ls-files --cached --others --exclude-standard '*.go' | grep -v '^hack/tools/'))
[ -z "$unformatted" ] || { echo "$unformatted"; bad "files need gofmt: run 'make fmt'"; }

step "license headers"
missing=$(for f in $(git ls-files --cached --others --exclude-standard '*.go' '*.sh' | grep -v '^hack/tools/'); do
  [ -f "$f" ] && head -5 "$f" | grep -q 'Copyright 2026 The Plexus Authors' || echo "$f"; done)
[ -z "$missing" ] || { echo "$missing"; bad "files without the license header (hack/boilerplate.go.txt)"; }

step "package boundaries"
if [ -f cni/main.go ]; then
  crt=$(go list -deps ./cni/... 2>/dev/null | grep -E '^sigs.k8s.io/controller-runtime' | head -3)
  [ -z "$crt" ] || bad "cni/ links controller-runtime: $crt"
  # plexus-cni (not plexus-cni-direct) starts on every pod ADD: no HTTP, TLS or YAML in it.
  heavy=$(go list -deps ./cni 2>/dev/null | grep -E '^(net/http|crypto/tls|crypto/x509|sigs.k8s.io/yaml|go.yaml.in/yaml/.*|google.golang.org/grpc|k8s.io/client-go/.*)$' | head -3)
  [ -z "$heavy" ] || bad "plexus-cni (./cni) links $heavy: keep API-server code in plexus-cni-direct (./cni/direct)"
fi
apideps=$(go list -f '{{join .Imports "\n"}}' ./api/... 2>/dev/null | sort -u | grep -vE '^(k8s.io/apimachinery/|k8s.io/api/|sigs.k8s.io/controller-runtime/pkg/scheme$|github.com/plexus-net/plexus/api/|[a-z]+(/[a-z0-9]+)*$)' || true)
[ -z "$apideps" ] || bad "api/ imports more than apimachinery/api types: $apideps"

step "go vet"
go vet ./... || bad "go vet"

if [ $fail != 0 ]; then echo "verify: FAILED"; exit 1; fi
echo "verify: OK"
