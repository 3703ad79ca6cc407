#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# make demo / make demo-down.
#   hack/demo.sh up    build what is needed, start the local cluster, deploy Plexus with
#                      `make deploy`, apply two planes + a policy + a two-tier app, prove traffic
#                      crosses both secondary planes between the app's pods, print a summary
#   hack/demo.sh down  remove the cluster and everything it made on the host
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd); cd "$ROOT"
export CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/.cluster}
export KUBECONFIG=$CLUSTER_DIR/kubeconfig
NS=plexus-demo
STEPS=8; n=0
bold() { printf '\033[1m%s\033[0m\n' "$*"; }
step() { n=$((n + 1)); echo; bold "[$n/$STEPS] $*"; }
fail() { printf '\033[31mdemo failed: %s\033[0m\n' "$*" >&2; exit 1; }

# run_long DESC CMD...: runs CMD with its output in a log, printing a progress line every 20 s.
run_long() {
  local desc=$1; shift
  local logf; logf=$(mktemp /tmp/plexus-demo.XXXXXX.log)
  local t0; t0=$(date +%s)
  "$@" >"$logf" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && printf '    ... %s, %ds so far\n' "$desc" $(( $(date +%s) - t0 ))
  done
  if ! wait "$pid"; then tail -30 "$logf"; fail "$desc (log: $logf)"; fi
  printf '    done in %ds\n' $(( $(date +%s) - t0 )); rm -f "$logf"
}

down() { hack/cluster/down.sh; }

up() {
  [ "$(id -u)" = 0 ] || fail "the demo runs a real Kubernetes cluster on this machine: run it as root"
  step "Installing Debian packages (containerd, runc, busybox, jq, ...)"
  hack/install-deps.sh; echo "    ok"
  step "Building Kubernetes $(awk '$1=="require" && $2=="k8s.io/kubernetes" {print $3}' hack/tools/k8s/go.mod) and etcd from the Go module proxy (cached after the first time; the first build takes 5-12 minutes)"
  run_long "building Kubernetes" make -s k8s-bins
  step "Building Plexus and its images (no Docker engine needed)"
  run_long "building Plexus" make -s build images
  step "Starting the local cluster"
  hack/cluster/up.sh 2>&1 | sed 's/^/    /'
  step "Deploying Plexus (make deploy)"
  run_long "deploying" make -s deploy
  kubectl -n plexus-system rollout status deploy/plexus-controller-manager --timeout=180s | sed 's/^/    /'
  # The PlexusConfig makes the operator roll the node agent out; the agent installs plexus-cni
  # on every node. On this local cluster every host path lies under .cluster/ (each node's own
  # directories come from its plexus.dev/* annotations, set by cluster-up).
  kubectl apply --server-side -f - >/dev/null <<EOT
apiVersion: net.plexus.dev/v1alpha1
kind: PlexusConfig
metadata:
  name: cluster
spec:
  agent:
    imagePullPolicy: IfNotPresent
  namespaceIsolation:
    globalNamespaces: [default, plexus-global]
  hostPaths:
    hostRoot: $CLUSTER_DIR
    cniBinDir: $CLUSTER_DIR/node1/cni/bin
    cniConfDir: $CLUSTER_DIR/node1/cni/net.d
    stateDir: $CLUSTER_DIR/node1/agent/state
    runDir: $CLUSTER_DIR/node1/agent/run
    kubeletPodResourcesDir: $CLUSTER_DIR/node1/kubelet/pod-resources
  rollout:
    maxUnavailable: 1
EOT
  kubectl wait plexusconfig/cluster --for=condition=Ready --timeout=240s | sed 's/^/    /'
  kubectl get plexusconfig cluster | sed 's/^/    /'
  step "Applying the sample planes, the policy and a two-tier app (hack/demo/demo.yaml)"
  kubectl apply --server-side -f hack/demo/demo.yaml | sed 's/^/    /'
  kubectl -n "$NS" rollout status deploy/backend --timeout=180s | sed 's/^/    /'
  kubectl -n "$NS" rollout status deploy/frontend --timeout=180s | sed 's/^/    /'
  step "Checking traffic across the secondary planes (frontend -> backend, on net1 and net2)"
  check_traffic
  step "Summary"
  summary
  echo
  bold "The cluster keeps running: export KUBECONFIG=$KUBECONFIG   (make demo-down removes it)"
}

# ip_of POD IFNAME: the pod's address on IFNAME, from its network-status annotation.
ip_of() {
  kubectl -n "$NS" get pod "$1" -o json | jq -r --arg i "$2" \
    '.metadata.annotations["k8s.v1.cni.cncf.io/network-status"] // "[]" | fromjson | .[] | select(.interface == $i) | .ips[0] // empty'
}

check_traffic() {
  local fe be ip out ok=0 total=0
  fe=$(kubectl -n "$NS" get pods -l app=frontend -o jsonpath='{.items[0].metadata.name}')
  for be in $(kubectl -n "$NS" get pods -l app=backend -o jsonpath='{.items[*].metadata.name}'); do
    for ifname in net1 net2; do
      total=$((total + 1))
      ip=$(ip_of "$be" "$ifname")
      [ -n "$ip" ] || { echo "    $be has no $ifname address in its network-status"; continue; }
      # The backend answers on every interface; the frontend reaches the address directly on the
      # plane's subnet, so the connection can only cross the secondary plane.
      if out=$(kubectl -n "$NS" exec "$fe" -- nc -w 5 "$ip" 8080 </dev/null 2>&1) && [[ "$out" == "hello from $be"* ]]; then
        printf '    %-28s -> %-28s %-5s %-15s  ok: "%s"\n' "$fe" "$be" "$ifname" "$ip" "$out"; ok=$((ok + 1))
      else
        printf '    %-28s -> %-28s %-5s %-15s  FAILED: %s\n' "$fe" "$be" "$ifname" "$ip" "$out"
      fi
    done
  done
  [ "$ok" = "$total" ] && [ "$total" -gt 0 ] || fail "$ok of $total cross-pod checks passed"
  echo "    $ok of $total cross-pod checks on the secondary planes passed"
}

summary() {
  bold "  NetworkPlanes"
  kubectl get networkplanes | sed 's/^/    /'
  echo; bold "  NetworkAttachmentDefinitions rendered by Plexus"
  kubectl get network-attachment-definitions -A -l app.kubernetes.io/managed-by=plexus | sed 's/^/    /'
  echo; bold "  Pods and their interfaces"
  if [ -x bin/kubectl-plexus ]; then
    bin/kubectl-plexus pods -n "$NS" | sed 's/^/    /'
  else
    kubectl -n "$NS" get pods -o json | jq -r '.items[] | .metadata.name as $p |
      (.metadata.annotations["k8s.v1.cni.cncf.io/network-status"] // "[]" | fromjson | .[] |
       "\($p)\t\(.interface)\t\(.name)\t\((.ips // []) | join(","))")' | column -t | sed 's/^/    /'
  fi
  echo; bold "  AttachmentPolicies"
  kubectl get attachmentpolicies -n "$NS" | sed 's/^/    /'
}

case ${1:-up} in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
