#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# `make deploy` re-imports the images under the same :latest tag, so running pods would keep the
# old ones. load-images.sh lists the images whose digest changed; this script restarts the
# workloads that run them: the operator Deployment and the agent DaemonSet.
#   restart-changed.sh record    before the apply: note which of them already run (a fresh
#                                deploy starts with the new images and needs no restart)
#   restart-changed.sh restart   after the apply: restart what was noted
set -euo pipefail
. "$(dirname "$0")/lib.sh"
changed=$CLUSTER_DIR/images-changed pending=$CLUSTER_DIR/restart-pending
k() { kubectl --kubeconfig "$CLUSTER_DIR/kubeconfig" -n plexus-system "$@"; }
case "${1:-}" in
record)
  : > "$pending"
  [ -s "$changed" ] || exit 0
  while read -r workload image; do
    if grep -qx "$image" "$changed" && k get "$workload" >/dev/null 2>&1; then
      echo "$workload" >> "$pending"
    fi
  done <<'EOT'
deployment/plexus-controller-manager plexus.local/operator:latest
daemonset/plexus-agent plexus.local/agent:latest
EOT
  ;;
restart)
  [ -s "$pending" ] || exit 0
  while read -r workload; do k rollout restart "$workload"; done < "$pending"
  rm -f "$pending"
  ;;
*) echo "usage: $0 record|restart" >&2; exit 2 ;;
esac
