#!/usr/bin/env bash
# Copyright 2026 The Plexus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# node-up.sh N: starts node N of the local cluster (idempotent): containerd, the CNI configuration,
# kubelet and kube-proxy. Node 1 shares the host network namespace. Node N>=2 gets its own network
# namespace plexus-nN with a veth to the host (172.30.N.0/24); its daemons are started with
# `nsenter --net` (not `ip netns exec`) so they share the host mount namespace, which kubelet and
# containerd need to see each other's mounts. Called by up.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:?usage: node-up.sh N}
NODE=$(node_name "$N"); D=$(node_dir "$N"); CIDR=$(pod_cidr "$N"); NODEIP=$(node_ip "$N")
mkdir -p "$D"/{cri,logs,kubelet,manifests,podlogs} "$D"/cni/{bin,net.d,ipam,cache}
NSENTER=()
if [ "$N" != 1 ]; then
  NS=$NODE_NS_PREFIX$N; HV=vplxn$N; HOSTSIDE=172.30.$N.1
  ip netns add "$NS" 2>/dev/null || true
  ip link show "$HV" >/dev/null 2>&1 || ip link add "$HV" type veth peer name eth0 netns "$NS"
  ip addr replace "$HOSTSIDE/24" dev "$HV"; ip link set "$HV" up
  ip -n "$NS" addr replace "$NODEIP/24" dev eth0; ip -n "$NS" link set eth0 up; ip -n "$NS" link set lo up
  ip -n "$NS" route replace default via "$HOSTSIDE"
  ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
  ip route replace "$CIDR" via "$NODEIP"
  NSENTER=(nsenter "--net=/var/run/netns/$NS")
  SERVER="https://$HOSTSIDE:$APISERVER_PORT"
  # kubelet puts its pods under this cgroup, which must exist in every v1 hierarchy.
  for c in /sys/fs/cgroup/*/; do case $c in */unified/) ;; *) mkdir -p "$c$NS" ;; esac; done
else
  SERVER="https://127.0.0.1:$APISERVER_PORT"
fi
# Test uplink for secondary networks (macvlan/bridge planes): a veth pair made here, never one of
# the machine's own interfaces. Same name on every node (inside the node's netns for N>=2).
"${NSENTER[@]}" bash -c "ip link show $UPLINK >/dev/null 2>&1 || { ip link add $UPLINK type veth peer name ${UPLINK}p && ip link set $UPLINK up && ip link set ${UPLINK}p up; }"

# --- CNI: binaries + cluster network conf (+ Plexus wrapping it) -----------------------------------
for f in "$CNI_BUILD_DIR"/*; do
  b=$(basename "$f")
  cmp -s "$f" "$D/cni/bin/$b" || { cp -f "$f" "$D/cni/bin/.$b.tmp" && mv -f "$D/cni/bin/.$b.tmp" "$D/cni/bin/$b"; }
done
write_conf() { # FILE: writes stdin atomically inside the conf dir (containerd 1.6 misses renames from elsewhere)
  local tmp; tmp=$(mktemp "$D/cni/net.d/.tmp.XXXXXX"); cat > "$tmp"; chmod 644 "$tmp"; mv -f "$tmp" "$1"
}
BRIDGE_NAME=$BRIDGE; [ "$N" = 1 ] || BRIDGE_NAME=plxbr$N
write_conf "$D/cni/net.d/10-plexus-bridge.conflist" <<EOT
{
  "cniVersion": "1.0.0",
  "name": "cluster-bridge",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE_NAME", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$D/cni/ipam"}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOT
if [ "${PLEXUS_CNI:-1}" != 0 ] && [ -x "$D/cni/bin/plexus-cni" ] && [ ! -f "$D/cni/net.d/.agent-managed" ]; then
  # Issue-3 wiring until the node agent takes over: plexus-cni wraps the bridge conflist and
  # resolves pods and NADs through the API (direct mode) with its own least-privilege identity.
  mkcfg_cni() {
    cat <<EOT
apiVersion: v1
kind: Config
clusters:
- name: plexus
  cluster: {server: "$SERVER", insecure-skip-tls-verify: true}
users:
- name: plexus-cni
  user: {token: "$(grep ',plexus-cni,' "$CLUSTER_DIR/pki/tokens.csv" | cut -d, -f1)"}
contexts:
- name: plexus
  context: {cluster: plexus, user: plexus-cni}
current-context: plexus
EOT
  }
  mkcfg_cni > "$D/cni/plexus-cni.kubeconfig"; chmod 600 "$D/cni/plexus-cni.kubeconfig"
  write_conf "$D/cni/net.d/00-plexus.conflist" <<EOT
{
  "cniVersion": "1.0.0",
  "name": "plexus",
  "plugins": [
    {"type": "plexus-cni",
     "clusterNetwork": "$D/cni/net.d/10-plexus-bridge.conflist",
     "cniDir": "$D/cni/cache",
     "binDir": "$D/cni/bin",
     "confDir": "$D/cni/net.d",
     "kubeconfig": "$D/cni/plexus-cni.kubeconfig",
     "podResourcesSocket": "$D/kubelet/pod-resources/kubelet.sock",
     "logFile": "$D/logs/plexus-cni.log",
     "logLevel": "info",
     "namespaceIsolation": true,
     "globalNamespaces": "default,plexus-global",
     "capabilities": {"portMappings": true, "bandwidth": true}}
  ]
}
EOT
fi

# --- containerd --------------------------------------------------------------------------------------
SOCK=$D/cri/containerd.sock
cat > "$D/containerd.toml" <<EOT
version = 2
root = "$D/cri/root"
state = "$D/cri/state"
[grpc]
  address = "$SOCK"
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "plexus.local/pause:3.10"
    disable_apparmor = true
    restrict_oom_score_adj = true   # no CAP_SYS_RESOURCE here: cannot lower oom_score_adj
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$D/cri/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$D/cni/bin"
      conf_dir = "$D/cni/net.d"
      max_conf_num = 1
  [plugins."io.containerd.internal.v1.opt"]
    path = "$D/cri/opt"
EOT
if ! running "$D/containerd.pid"; then
  "${NSENTER[@]}" containerd --config "$D/containerd.toml" > "$D/logs/containerd.log" 2>&1 &
  echo $! > "$D/containerd.pid"
fi
wait_for "containerd on $NODE" 30 ctr -a "$SOCK" version
for t in "$IMAGES_DIR"/*.tar; do
  ctr -a "$SOCK" -n k8s.io images import "$t" >/dev/null
done

# --- kubelet -------------------------------------------------------------------------------------------
cat > "$D/kubelet.kubeconfig" <<EOT
apiVersion: v1
kind: Config
clusters:
- name: plexus
  cluster: {server: "$SERVER", insecure-skip-tls-verify: true}
users:
- name: system:node:$NODE
  user: {token: "$(grep ",system:node:$NODE," "$CLUSTER_DIR/pki/tokens.csv" | cut -d, -f1)"}
contexts:
- name: plexus
  context: {cluster: plexus, user: system:node:$NODE}
current-context: plexus
EOT
chmod 600 "$D/kubelet.kubeconfig"
cat > "$D/kubelet-config.yaml" <<EOT
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
failCgroupV1: false          # the host is cgroup v1 (hybrid); 1.37 refuses v1 by default
failSwapOn: false
oomScoreAdj: 0               # no CAP_SYS_RESOURCE: cannot go below 0
staticPodPath: $D/manifests
podLogsDir: $D/podlogs
address: $NODEIP
port: 10250
healthzBindAddress: 127.0.0.1
healthzPort: $((10247 + N))
readOnlyPort: 0
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
serializeImagePulls: false
imageGCHighThresholdPercent: 100   # never GC the imported images: there is no registry to pull from
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
clusterDNS: []
registerNode: true
maxPods: 250
EOT
[ "$N" = 1 ] || echo "cgroupRoot: /$NODE_NS_PREFIX$N" >> "$D/kubelet-config.yaml"
if ! running "$D/kubelet.pid"; then
  "${NSENTER[@]}" "$BIN/kubelet" --config="$D/kubelet-config.yaml" --kubeconfig="$D/kubelet.kubeconfig" \
    --root-dir="$D/kubelet" --cert-dir="$D/kubelet/pki" --hostname-override="$NODE" --node-ip="$NODEIP" \
    --node-labels="plexus.dev/local-node=$N" --v="${KUBELET_V:-2}" > "$D/logs/kubelet.log" 2>&1 &
  echo $! > "$D/kubelet.pid"
fi

# --- kube-proxy (iptables) -------------------------------------------------------------------------------
sed "s#server: \"https://127.0.0.1:$APISERVER_PORT\"#server: \"$SERVER\"#" "$KUBECONFIG_ADMIN" > "$D/kube-proxy.kubeconfig"
chmod 600 "$D/kube-proxy.kubeconfig"
if ! running "$D/kube-proxy.pid"; then
  "${NSENTER[@]}" "$BIN/kube-proxy" --kubeconfig="$D/kube-proxy.kubeconfig" --hostname-override="$NODE" \
    --proxy-mode=iptables --cluster-cidr=10.64.0.0/10 --conntrack-max-per-core=0 \
    --metrics-bind-address=127.0.0.1:$((10248 + 100 + N)) --healthz-bind-address=127.0.0.1:$((10255 + 100 + N)) \
    > "$D/logs/kube-proxy.log" 2>&1 &
  echo $! > "$D/kube-proxy.pid"
fi
log "node $NODE started (pod CIDR $CIDR, node IP $NODEIP)"
