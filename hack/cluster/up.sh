#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Starts a real local Kubernetes cluster on this machine (idempotent):
#   etcd + kube-apiserver + kube-controller-manager + kube-scheduler, and per node containerd
#   (Debian) + kubelet + kube-proxy. Node 1 runs in the host network namespace; node N>=2
#   (NODES=2 ...) runs in its own network namespace plexus-nN behind a veth.
# Cluster network: the reference bridge plugin with host-local IPAM (what Calico or Flannel would
# be in production). When bin/cni/plexus-cni exists (and PLEXUS_CNI != 0), every node's CNI conf
# dir also gets 00-plexus.conflist, so every pod goes through the Plexus meta-plugin, which wraps
# the bridge conflist. Once the node agent is deployed it takes that job over.
# Admin kubeconfig: .cluster/kubeconfig. Logs: .cluster/logs and .cluster/nodeN/logs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "the local cluster needs root"
"$ROOT/hack/install-deps.sh"
for b in etcd kube-apiserver kubelet kube-scheduler kube-controller-manager kube-proxy crictl; do
  [ -x "$BIN/$b" ] || die "$BIN/$b missing: run 'make k8s-bins'"
done
[ -f "$IMAGES_DIR/pause.tar" ] || die "$IMAGES_DIR/pause.tar missing: run 'make images'"
[ -x "$CNI_BUILD_DIR/bridge" ] || die "$CNI_BUILD_DIR/bridge missing: run 'make build'"
SOCK_PROBE="$CLUSTER_DIR/node9/cri/containerd.sock"
[ ${#SOCK_PROBE} -lt 100 ] || die "CLUSTER_DIR path is too long for unix sockets: $CLUSTER_DIR"

HOSTIP=$(host_ip); [ -n "$HOSTIP" ] || die "cannot find the host's IPv4 address (no default route)"
T0=$(date +%s.%N)
mkdir -p "$CLUSTER_DIR"/{pki,logs}
cd "$CLUSTER_DIR"

# --- host state we change: remember it so down.sh can restore it ---------------------------------
if [ ! -f sysctl.orig ]; then
  for k in net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops \
           kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
    v=$(sysctl -n "$k" 2>/dev/null) && echo "$k=$v"
  done > sysctl.orig
  for t in filter nat mangle; do iptables-save -t "$t" 2>/dev/null | sed -n "s/^:\([^ ]*\) .*/$t \1/p"; done > iptables-chains.orig
fi
sysctl -qw net.ipv4.ip_forward=1

# --- credentials -----------------------------------------------------------------------------------
tok() { head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
if [ ! -f pki/sa.key ]; then
  openssl genrsa -out pki/sa.key 2048 2>/dev/null
  openssl rsa -in pki/sa.key -pubout -out pki/sa.pub 2>/dev/null
fi
[ -f pki/tokens.csv ] || echo "$(tok),plexus-admin,1,\"system:masters\"" > pki/tokens.csv
grep -q ",plexus-cni," pki/tokens.csv || echo "$(tok),plexus-cni,plexus-cni,\"plexus:cni\"" >> pki/tokens.csv
for n in $(seq 1 "$NODES"); do
  nn=$(node_name "$n")
  grep -q "system:node:$nn," pki/tokens.csv || echo "$(tok),system:node:$nn,node-$nn,\"system:nodes\"" >> pki/tokens.csv
done
mkcfg() { # FILE USER TOKEN SERVER
  cat > "$1" <<EOT
apiVersion: v1
kind: Config
clusters:
- name: plexus
  cluster: {server: "$4", insecure-skip-tls-verify: true}
users:
- name: $2
  user: {token: "$3"}
contexts:
- name: plexus
  context: {cluster: plexus, user: $2}
current-context: plexus
EOT
  chmod 600 "$1"
}
token_of() { grep ",$1," pki/tokens.csv | cut -d, -f1; }
mkcfg kubeconfig plexus-admin "$(token_of plexus-admin)" "https://127.0.0.1:$APISERVER_PORT"

# --- control plane -----------------------------------------------------------------------------------
if ! running etcd.pid; then
  "$BIN/etcd" --name plexus --data-dir "$CLUSTER_DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster plexus=http://127.0.0.1:2380 --unsafe-no-fsync --log-level warn \
    > logs/etcd.log 2>&1 &
  echo $! > etcd.pid
fi
wait_for etcd 30 curl -sf http://127.0.0.1:2379/health
if ! running kube-apiserver.pid; then
  # The audit log records every request (user agent included); tests read it to prove that the
  # ADD path makes no API call when the node agent answers.
  cat > audit-policy.yaml <<'EOT'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
EOT
  "$BIN/kube-apiserver" --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --advertise-address="$HOSTIP" --secure-port=$APISERVER_PORT \
    --cert-dir="$CLUSTER_DIR/pki/apiserver" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$CLUSTER_DIR/pki/sa.pub" \
    --service-account-signing-key-file="$CLUSTER_DIR/pki/sa.key" \
    --token-auth-file="$CLUSTER_DIR/pki/tokens.csv" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --kubelet-preferred-address-types=InternalIP \
    --audit-policy-file="$CLUSTER_DIR/audit-policy.yaml" --audit-log-path="$CLUSTER_DIR/logs/audit.log" \
    --audit-log-maxsize=200 --audit-log-maxbackup=1 \
    > logs/kube-apiserver.log 2>&1 &
  echo $! > kube-apiserver.pid
fi
ready() { [ "$(curl -sk "https://127.0.0.1:$APISERVER_PORT/readyz" -H "Authorization: Bearer $(token_of plexus-admin)")" = ok ]; }
wait_for kube-apiserver 90 ready || { tail -20 logs/kube-apiserver.log; exit 1; }
log "control plane ready ($(kc get --raw /version | jq -r .gitVersion))"

# RBAC for plexus-cni's direct-API mode (the fallback when no node agent answers).
kc apply --server-side --force-conflicts -f - >/dev/null <<'EOT'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: plexus-cni-local}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get]}
- {apiGroups: [""], resources: [pods/status], verbs: [patch]}
- {apiGroups: [""], resources: [events], verbs: [create, patch]}
- {apiGroups: [events.k8s.io], resources: [events], verbs: [create, patch]}
- {apiGroups: [k8s.cni.cncf.io], resources: [network-attachment-definitions], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: plexus-cni-local}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: plexus-cni-local}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: plexus-cni}
EOT
# The NetworkAttachmentDefinition CRD (the multi-net spec's; Plexus does not own it).
kc apply --server-side --force-conflicts -f "$ROOT/config/nad/k8s.cni.cncf.io_network-attachment-definitions.yaml" >/dev/null

if ! running kube-controller-manager.pid; then
  "$BIN/kube-controller-manager" --kubeconfig=kubeconfig \
    --authentication-kubeconfig=kubeconfig --authorization-kubeconfig=kubeconfig \
    --bind-address=127.0.0.1 --secure-port=10257 --leader-elect=false \
    --service-account-private-key-file="$CLUSTER_DIR/pki/sa.key" \
    --root-ca-file="$CLUSTER_DIR/pki/apiserver/apiserver.crt" \
    --service-cluster-ip-range=10.96.0.0/16 --use-service-account-credentials=false \
    --controllers='*' > logs/kube-controller-manager.log 2>&1 &
  echo $! > kube-controller-manager.pid
fi
if ! running kube-scheduler.pid; then
  "$BIN/kube-scheduler" --kubeconfig=kubeconfig \
    --authentication-kubeconfig=kubeconfig --authorization-kubeconfig=kubeconfig \
    --bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false \
    > logs/kube-scheduler.log 2>&1 &
  echo $! > kube-scheduler.pid
fi

# --- nodes -----------------------------------------------------------------------------------------
for n in $(seq 1 "$NODES"); do
  "$ROOT/hack/cluster/node-up.sh" "$n"
done

for n in $(seq 1 "$NODES"); do
  nn=$(node_name "$n")
  wait_for "node $nn Ready" 120 bash -c "kubectl --kubeconfig '$KUBECONFIG_ADMIN' get node $nn -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -q True" \
    || { tail -20 "$(node_dir "$n")/logs/kubelet.log"; exit 1; }
done
# Each local node keeps its CNI and agent directories under .cluster/nodeN (a real node would use
# /opt/cni/bin, /etc/cni/net.d, ...): tell the Plexus node agent where they are.
for n in $(seq 1 "$NODES"); do
  d=$(node_dir "$n")
  kc annotate node "$(node_name "$n")" --overwrite >/dev/null \
    plexus.dev/cni-bin-dir="$d/cni/bin" plexus.dev/cni-conf-dir="$d/cni/net.d" \
    plexus.dev/cni-cache-dir="$d/cni/cache" plexus.dev/cni-log-file="$d/logs/plexus-cni.log" \
    plexus.dev/agent-state-dir="$d/agent/state" plexus.dev/agent-run-dir="$d/agent/run" \
    plexus.dev/pod-resources-socket="$d/kubelet/pod-resources/kubelet.sock"
done
# ServiceAccounts and kube-root-ca.crt come from kube-controller-manager.
wait_for "default ServiceAccount" 60 kc get sa default -n default
wait_for "kube-root-ca.crt" 60 kc get cm kube-root-ca.crt -n default
log "cluster up with $NODES node(s) in $(printf '%.1f' "$(echo "$(date +%s.%N) - $T0" | bc)")s; export KUBECONFIG=$KUBECONFIG_ADMIN"
kc get nodes -o wide | sed 's/^/    /' >&2
