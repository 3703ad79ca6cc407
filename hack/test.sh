#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Test driver behind `make test|unit|e2e`.
#   hack/test.sh unit   unit tests, real-netns tests and envtest suites (no cluster)
#   hack/test.sh e2e    the e2e suite: it brings a real local cluster up, tests, tears it down
#                       (E2E_ARGS="-ginkgo.label-filter=sriov" runs a subset while iterating)
#   hack/test.sh all    both; ends with one "N passed, N failed, N skipped" line
# With CI=true a skipped test is a failure: CI runs as root with everything the tests need.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
MODE=${1:-all}
GOTESTSUM=${GOTESTSUM:-$(ls "$ROOT"/bin/gotestsum-* 2>/dev/null | head -1)}
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$ROOT/bin/k8s}
OUT=$ROOT/bin/test-results; mkdir -p "$OUT"
GO_TEST_FLAGS=${GO_TEST_FLAGS:--count=1}
rc=0

run_unit() {
  local pkgs; pkgs=$(go list ./... | grep -v -e '/test/e2e' -e '/test/bench')
  "$GOTESTSUM" --format "${GOTESTSUM_FORMAT:-pkgname-and-test-fails}" --jsonfile "$OUT/unit.json" -- \
    $GO_TEST_FLAGS -timeout 20m $pkgs || rc=1
}
run_e2e() {
  # Two nodes by default (the second in its own network namespace): rollouts and cross-node
  # behaviour need them.
  export NODES=${NODES:-2}
  # One local cluster per machine: wait for any other e2e run (flock -o: the cluster's daemons
  # must not inherit the lock).
  flock -o /tmp/plexus-cluster.lock "$GOTESTSUM" --format "${GOTESTSUM_FORMAT:-testname}" --jsonfile "$OUT/e2e.json" -- \
    -count=1 -timeout "${E2E_TIMEOUT:-40m}" ./test/e2e/... -args -ginkgo.v -ginkgo.no-color ${E2E_ARGS:-} || rc=1
}
summary() {
  local files=("$@") pass fail skip
  pass=$(cat "${files[@]}" 2>/dev/null | jq -s '[.[] | select(.Test != null and .Action == "pass")] | length')
  fail=$(cat "${files[@]}" 2>/dev/null | jq -s '[.[] | select(.Test != null and .Action == "fail")] | length')
  skip=$(cat "${files[@]}" 2>/dev/null | jq -s '[.[] | select(.Test != null and .Action == "skip")] | length')
  if [ "${CI:-}" = true ] && [ "$skip" != 0 ]; then
    echo "Skipped tests are failures in CI:"
    cat "${files[@]}" | jq -r 'select(.Test != null and .Action == "skip") | "  \(.Package) \(.Test)"'
    rc=1
  fi
  echo
  echo "$pass passed, $fail failed, $skip skipped"
}

case $MODE in
  unit) rm -f "$OUT/unit.json"; run_unit; summary "$OUT/unit.json" ;;
  e2e) rm -f "$OUT/e2e.json"; run_e2e; summary "$OUT/e2e.json" ;;
  all) rm -f "$OUT"/{unit,e2e}.json; run_unit; run_e2e; summary "$OUT/unit.json" "$OUT/e2e.json" ;;
  *) echo "usage: $0 unit|e2e|all" >&2; exit 2 ;;
esac
exit $rc
