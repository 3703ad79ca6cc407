#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Stops the local cluster and removes everything it made on the host: processes (by PID file, then
# any straggler running from the cluster dir), pods and their netns, mounts, kubepods cgroups,
# node netns and veths, the cluster bridge and test uplinks, iptables chains that were not there
# before cluster-up, and the sysctls kubelet/cluster-up changed. Safe to run twice.
# KEEP_STATE=1 keeps .cluster/ (logs, etcd data) for debugging; by default it is deleted.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[ -d "$CLUSTER_DIR" ] || { echo "no cluster at $CLUSTER_DIR"; exit 0; }

stop() { # PIDFILE...: SIGTERM all at once, wait up to 10 s, then SIGKILL
  local pids=() f
  for f in "$@"; do [ -f "$f" ] && pids+=($(cat "$f")); done
  [ ${#pids[@]} = 0 ] && return 0
  kill "${pids[@]}" 2>/dev/null
  for _ in $(seq 1 100); do alive "${pids[@]}" || break; sleep 0.1; done
  kill -9 "${pids[@]}" 2>/dev/null
  rm -f "$@"
}

nodes=()
for d in "$CLUSTER_DIR"/node[0-9]*; do [ -d "$d" ] && nodes+=("${d##*/node}"); done

# 1. Node daemons: kube-proxy and kubelet first, then the pods (so every CNI DEL runs while the
#    CNI binaries and their state are still there), then containerd.
for n in "${nodes[@]}"; do
  D=$(node_dir "$n")
  stop "$D/kube-proxy.pid" "$D/kubelet.pid"
  SOCK=$D/cri/containerd.sock
  if [ -S "$SOCK" ] && running "$D/containerd.pid"; then
    C=("$BIN/crictl" -r "unix://$SOCK" -i "unix://$SOCK" -t 20s)
    "${C[@]}" stop --timeout 0 $("${C[@]}" ps -q 2>/dev/null) >/dev/null 2>&1
    "${C[@]}" rm -fa >/dev/null 2>&1
    for p in $("${C[@]}" pods -q 2>/dev/null); do
      "${C[@]}" stopp "$p" >/dev/null 2>&1; "${C[@]}" rmp -f "$p" >/dev/null 2>&1
    done
  fi
  stop "$D/containerd.pid"
done
# 2. Control plane: the apiserver before etcd (it shuts down slowly once etcd is gone).
stop "$CLUSTER_DIR/kube-scheduler.pid" "$CLUSTER_DIR/kube-controller-manager.pid"
stop "$CLUSTER_DIR/kube-apiserver.pid"
stop "$CLUSTER_DIR/etcd.pid"
# 3. Stragglers: shims and anything else started from the cluster dir.
for _ in 1 2 3; do
  pids=$(pgrep -f -- "$CLUSTER_DIR/" | grep -vx "$$" || true)
  [ -z "$pids" ] && break
  kill -9 $pids 2>/dev/null; sleep 0.2
done

# 4. Mounts (kubelet volumes, containerd rootfs/shm), deepest first.
grep -F " $CLUSTER_DIR/" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
# 5. Pod netns. containerd 1.6 keeps them in /var/run/netns/cni-*.
for ns in $(ls /var/run/netns 2>/dev/null | grep '^cni-'); do ip netns del "$ns" 2>/dev/null; done
# 6. cgroups made by the kubelets (node 1: kubepods at the root of each hierarchy; node N: plexus-nN).
for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/*/"$NODE_NS_PREFIX"[0-9]*; do
  [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
done
# 7. Links and node netns.
for n in "${nodes[@]}"; do
  [ "$n" = 1 ] && continue
  ip route del "$(pod_cidr "$n")" 2>/dev/null; ip link del "vplxn$n" 2>/dev/null
  ip netns del "$NODE_NS_PREFIX$n" 2>/dev/null
done
ip link del "$BRIDGE" 2>/dev/null; ip link del "$UPLINK" 2>/dev/null
# Bridges that planes' bridge plugin made on the host (the bridge plugin never deletes them): the
# demo's and the samples' use the plx*/plexus-br* names, which nothing else on a host uses.
for l in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^(plx|plexus-br)'); do
  ip link del "$l" 2>/dev/null
done
# 8. iptables: kube-proxy's own cleanup, then any chain that was not there before cluster-up.
[ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1
if [ -f "$CLUSTER_DIR/iptables-chains.orig" ]; then
  for t in filter nat mangle; do
    for ch in $(iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\([^ ]*\) .*/\1/p'); do
      grep -qx "$t $ch" "$CLUSTER_DIR/iptables-chains.orig" && continue
      # Drop every rule that jumps to it, then flush and delete it.
      iptables-save -t "$t" | grep -E -- "-j $ch( |$)" | sed 's/^-A /-D /' | while read -r rule; do
        eval "iptables -w -t $t $rule" 2>/dev/null
      done
      iptables -w -t "$t" -F "$ch" 2>/dev/null
    done
    for ch in $(iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\([^ ]*\) .*/\1/p'); do
      grep -qx "$t $ch" "$CLUSTER_DIR/iptables-chains.orig" || iptables -w -t "$t" -X "$ch" 2>/dev/null
    done
  done
fi
# 9. Host sysctls back to what they were before cluster-up.
[ -f "$CLUSTER_DIR/sysctl.orig" ] && sysctl -q -p "$CLUSTER_DIR/sysctl.orig" >/dev/null

if [ "${KEEP_STATE:-0}" = 1 ]; then
  rm -f "$CLUSTER_DIR/sysctl.orig" "$CLUSTER_DIR/iptables-chains.orig"
  echo "cluster down (state kept in $CLUSTER_DIR)"
else
  rm -rf "$CLUSTER_DIR"
  echo "cluster down"
fi
