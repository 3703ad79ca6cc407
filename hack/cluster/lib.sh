#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Shared settings for the local-cluster scripts (sourced, not executed).
# Everything the cluster writes lives under $CLUSTER_DIR (default <repo>/.cluster), except what
# Kubernetes/containerd hard-code on the host: /var/run/netns/cni-*, /run/containerd/{s,fifo},
# kubepods cgroups, iptables chains, sysctls and the links listed below. down.sh removes all of it.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Daemons started from here must not inherit stray descriptors: a caller's `flock LOCK make ...`
# would otherwise stay locked for as long as etcd or kubelet live.
for fd in $(ls /proc/$$/fd 2>/dev/null); do
  [ "$fd" -gt 2 ] 2>/dev/null && [ "$fd" != 255 ] && eval "exec $fd>&-" 2>/dev/null
done
CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/.cluster}
BIN=${K8S_BIN:-$ROOT/bin/k8s}
IMAGES_DIR=${IMAGES_DIR:-$ROOT/bin/images}
CNI_BUILD_DIR=${CNI_BUILD_DIR:-$ROOT/bin/cni}
KUBECONFIG_ADMIN=$CLUSTER_DIR/kubeconfig
NODES=${NODES:-1}
# Links the cluster makes on the host (never the machine's own interfaces):
BRIDGE=plxbr0            # cluster-network bridge of node 1 (reference bridge plugin)
UPLINK=plexus-up0        # veth whose end is the test uplink for secondary networks (peer plexus-up0p)
NODE_NS_PREFIX=plexus-n  # netns of node N>=2: plexus-nN, host veth vplxnN
APISERVER_PORT=6443

node_name() { echo "plexus-node$1"; }
node_dir() { echo "$CLUSTER_DIR/node$1"; }
pod_cidr() { echo "10.$((87 + $1)).0.0/16"; }      # node1 10.88/16, node2 10.89/16, ...
node_ip() { # node 1 shares the host netns; node N>=2 sits behind a veth 172.30.N.0/24
  if [ "$1" = 1 ]; then host_ip; else echo "172.30.$1.2"; fi
}
host_ip() { ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p'; }
log() { printf '\033[1m>>> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

# alive PID...: true if any PID is running (zombies count as dead: nobody reaps our starters).
alive() {
  local p; for p in "$@"; do
    [ -r "/proc/$p/stat" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && return 0
  done; return 1
}
# running PIDFILE: true if the process in PIDFILE is alive.
running() { [ -f "$1" ] && alive "$(cat "$1")"; }

# wait_for DESC TIMEOUT_S CMD...: polls CMD every 0.1 s.
wait_for() {
  local desc=$1 t=$2; shift 2
  local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || { echo "timed out after ${t}s waiting for $desc" >&2; return 1; }
    sleep 0.1
  done
}

kc() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
