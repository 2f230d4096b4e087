# shellcheck shell=bash
# Real nodes for the test bed ('testbed up --kubelet'), sourced by testbed.
#
# Each node is its network namespace plus a mount and UTS namespace held by
# one process (the "holder"), in which the node's containerd and kubelet
# run.  In there the node has private /etc (an overlay on the host's),
# /var/lib, /var/log, /opt and /run (directories under the node's
# directory), and read-only files over the three host-wide sysctls the
# kubelet would otherwise set.  Its cgroups are /tb-NODE in every v1
# hierarchy (the kubelet's cgroup root).  Open vSwitch and the agent are
# not started by the test bed: 'testbed deploy' applies deploy/tendril.yaml
# and the DaemonSet runs them.

RN_CGROUP_FS=/sys/fs/cgroup
RN_PAUSE_IMAGE=k8s.gcr.io/pause:3.2
RN_TEST_IMAGE=testbed/busybox:1
# The cluster DNS Service (tests/testbed/cluster-dns.py on the control
# plane's host behind it).
RN_DNS_IP=10.96.0.10
# What the kubelet wants of the host-wide sysctls it checks.
RN_SYSCTLS=("vm/overcommit_memory 1" "kernel/panic 10" "kernel/panic_on_oops 1")

rn_root() { echo "$(node_dir "$1")/root"; }
rn_cgroup() { echo "/${TB_PREFIX}$1"; }

# The cgroup v1 hierarchies (and the unified one) mounted on this machine.
rn_hierarchies() {
    local d
    for d in "$RN_CGROUP_FS"/*/; do
        d=${d%/}
        [[ -f $d/cgroup.procs ]] && echo "$d"
    done
    return 0
}

rn_holder_pid() {
    proc_alive "holder-$1"
}

# rn_enter NODE CMD...: runs CMD in the node's network, mount and UTS
# namespaces.
rn_enter() {
    local n=$1 pid
    shift
    pid=$(rn_holder_pid "$n") || die "$n: its namespaces' holder is gone"
    nsenter --target "$pid" --mount --uts --net -- "$@"
}

# The images every node gets: pause (the sandbox) and a small test image
# (Debian's static busybox), both cached; the tendril image is built from
# the tree the test bed runs.
rn_build_images() {
    local cache=${TENDRIL_CACHE:-/var/cache/tendril}/images work
    mkdir -p "$cache"
    if [[ ! -f $cache/pause-3.2.tar ]]; then
        work=$(mktemp -d "${TMPDIR:-/var/tmp}/tb-image.XXXXXX")
        install -D -m 0755 "$KUBE_BIN_DIR/pause" "$work/root/pause"
        tar -C "$work/root" --owner=0 --group=0 --numeric-owner \
            -cf "$work/layer.tar" .
        "$TB_SRCDIR/deploy/image/docker-archive.sh" "$cache/pause-3.2.tar" \
            "$RN_PAUSE_IMAGE" '{"Entrypoint": ["/pause"]}' "$work/layer.tar"
        rm -rf "$work"
    fi
    if [[ ! -f $cache/busybox-1.tar ]]; then
        work=$(mktemp -d "${TMPDIR:-/var/tmp}/tb-image.XXXXXX")
        install -D -m 0755 /bin/busybox "$work/root/bin/busybox"
        local a
        for a in $(/bin/busybox --list); do
            [[ $a == busybox ]] || ln -s busybox "$work/root/bin/$a"
        done
        mkdir -p "$work/root/tmp" "$work/root/etc" "$work/root/www"
        chmod 1777 "$work/root/tmp"
        echo 'root:x:0:0:root:/:/bin/sh' > "$work/root/etc/passwd"
        echo 'root:x:0:' > "$work/root/etc/group"
        tar -C "$work/root" --owner=0 --group=0 --numeric-owner \
            -cf "$work/layer.tar" .
        "$TB_SRCDIR/deploy/image/docker-archive.sh" "$cache/busybox-1.tar" \
            "$RN_TEST_IMAGE" \
            '{"Env": ["PATH=/bin"], "Cmd": ["sh"]}' "$work/layer.tar"
        rm -rf "$work"
    fi
    RN_IMAGES=("$cache/pause-3.2.tar" "$cache/busybox-1.tar")
    # More images (docker-archive tarballs) the caller wants on every node,
    # such as the e2e suites' (tests/e2e/images.sh).
    local extra
    for extra in ${TESTBED_IMAGES-}; do
        [[ -f $extra ]] || die "TESTBED_IMAGES: no file $extra"
        RN_IMAGES+=("$extra")
    done
    local img=${TESTBED_IMAGE:-$TB_BUILD_DIR/tendril-image.tar}
    # Built again when any of its inputs is newer.
    if [[ -z ${TESTBED_IMAGE-} ]] \
        && { [[ ! -f $img ]] \
             || [[ -n $(find "$TB_AGENT" "$TB_CNI" "$TB_OVS_VSWITCHD" \
                        "$TB_SRCDIR/deploy/image" \
                        "$TB_SRCDIR/deploy/install-cni.sh" \
                        -newer "$img" 2>/dev/null) ]]; }; then
        log "building the tendril image ($img)"
        "$TB_SRCDIR/deploy/image/build.sh" "$TB_BUILD_DIR" "$img" \
            >/dev/null 2>"$TB_DIR/image-build.log" \
            || die "building the tendril image failed (see" \
                   "$TB_DIR/image-build.log)"
    fi
    [[ -f $img ]] || die "no tendril image $img"
    RN_IMAGES+=("$img")
}

rn_node_pki() {
    local n=$1 ip=$2 pki=$TB_DIR/pki
    pki_cert "$n-client" "/O=system:nodes/CN=system:node:$n" clientAuth
    pki_cert "$n-serving" "/CN=$n" serverAuth "IP:$ip,DNS:$n"
}

# The node's files as the node sees them: /var/lib/kubelet/...
rn_write_node_files() {
    local i=$1 n ip root kl
    n=$(node_name "$i")
    ip=$(node_ip "$i")
    root=$(rn_root "$n")
    kl=$root/var/lib/kubelet
    mkdir -p "$kl/pki" "$root/var/lib/testbed" "$root/opt/cni/bin"
    cp "$TB_DIR/pki/ca.crt" "$kl/pki/ca.crt"
    cp "$TB_DIR/pki/$n-client.crt" "$kl/pki/client.crt"
    cp "$TB_DIR/pki/$n-client.key" "$kl/pki/client.key"
    cp "$TB_DIR/pki/$n-serving.crt" "$kl/pki/kubelet.crt"
    cp "$TB_DIR/pki/$n-serving.key" "$kl/pki/kubelet.key"
    jq -n --arg server "$TB_API_URL" '{
        apiVersion: "v1", kind: "Config",
        clusters: [{name: "tb", cluster: {server: $server,
            "certificate-authority": "/var/lib/kubelet/pki/ca.crt"}}],
        users: [{name: "node", user: {
            "client-certificate": "/var/lib/kubelet/pki/client.crt",
            "client-key": "/var/lib/kubelet/pki/client.key"}}],
        contexts: [{name: "tb", context: {cluster: "tb", user: "node"}}],
        "current-context": "tb"}' > "$kl/kubeconfig"
    # Eviction thresholds low enough for a shared test machine; status every
    # 2 s so that a node is Ready soon after its network is.
    jq -n --arg ip "$ip" --arg cg "$(rn_cgroup "$n")" --arg dns "${TESTBED_CLUSTER_DNS:+$RN_DNS_IP}" '{
        kind: "KubeletConfiguration",
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        address: $ip, port: 10250, readOnlyPort: 0, healthzPort: 0,
        authentication: {anonymous: {enabled: false},
                         webhook: {enabled: false},
                         x509: {clientCAFile: "/var/lib/kubelet/pki/ca.crt"}},
        authorization: {mode: "AlwaysAllow"},
        tlsCertFile: "/var/lib/kubelet/pki/kubelet.crt",
        tlsPrivateKeyFile: "/var/lib/kubelet/pki/kubelet.key",
        cgroupDriver: "cgroupfs", cgroupRoot: $cg, cgroupsPerQOS: true,
        enforceNodeAllocatable: ["pods"], failSwapOn: false,
        nodeStatusUpdateFrequency: "2s", nodeStatusReportFrequency: "1m",
        syncFrequency: "10s",
        evictionHard: {"memory.available": "50Mi", "nodefs.available": "1%",
                       "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
        imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
        serializeImagePulls: false, clusterDomain: "cluster.local",
        clusterDNS: (if $dns == "" then [] else [$dns] end), resolvConf: "/etc/resolv.conf"}' > "$kl/config.json"
    cat > "$root/var/lib/testbed/containerd.toml" <<EOF
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$RN_PAUSE_IMAGE"
  # runc cannot set the pause container's oom_score_adj of -998 without
  # CAP_SYS_RESOURCE, which a VM may not give.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/opt/cni/bin"
    conf_dir = "/etc/cni/net.d"
EOF
    # containerd's CRI plugin sets up each pod's loopback with the
    # reference plugin; the node has it as a kubeadm node would.
    install -m 0755 /usr/lib/cni/loopback "$root/opt/cni/bin/loopback"
}

# The holder: enters the node's network namespace, makes its own mount and
# UTS namespaces, mounts the node's private directories and sleeps.
rn_start_holder() {
    local n=$1 ns root ready
    ns=$(ns_node "$n")
    root=$(rn_root "$n")
    ready=$(node_dir "$n")/holder.ready
    mkdir -p "$root"/{etc.up,etc.work,var/lib,var/log,opt,run,sysctl}
    local s
    for s in "${RN_SYSCTLS[@]}"; do
        mkdir -p "$root/sysctl/${s%%/*}"
        echo "${s#* }" > "$root/sysctl/${s%% *}"
    done
    rm -f "$ready"
    # shellcheck disable=SC2016
    setsid nsenter --net="/run/netns/$ns" unshare --mount --uts \
        --propagation slave sh -ec '
        root=$1 n=$2
        exec 3>"$3"
        mount -t overlay overlay \
            -o "lowerdir=/etc,upperdir=$root/etc.up,workdir=$root/etc.work" /etc
        # The host'"'"'s Open vSwitch database is not this node'"'"'s.
        rm -f /etc/openvswitch/conf.db /etc/openvswitch/.conf.db.~lock~
        mkdir -p /etc/cni/net.d
        for d in var/lib var/log opt; do
            mount --bind "$root/$d" "/$d"
        done
        shift 3
        for s in "$@"; do
            mount --bind "$root/sysctl/$s" "/proc/sys/$s"
            mount -o remount,bind,ro "/proc/sys/$s"
        done
        mount --bind "$root/run" /run
        hostname "$n"
        echo ok >&3
        exec 3>&-
        exec sleep infinity' holder "$root" "$n" "$ready" \
        $(for s in "${RN_SYSCTLS[@]}"; do echo "${s%% *}"; done) \
        </dev/null >>"$(node_dir "$n")/log/holder.log" 2>&1 &
    record_proc "holder-$n" $!
    wait_for 50 test -s "$ready" \
        || die "$n: the node's namespaces failed (see" \
               "$(node_dir "$n")/log/holder.log)"
}

rn_make_cgroups() {
    local n=$1 cg h
    cg=$(rn_cgroup "$n")
    while read -r h; do
        mkdir -p "$h$cg"
        if [[ ${h##*/} == cpuset ]]; then
            cat "$h/cpuset.cpus" > "$h$cg/cpuset.cpus"
            cat "$h/cpuset.mems" > "$h$cg/cpuset.mems"
        fi
    done < <(rn_hierarchies)
}

# Kills every process in the node's cgroups, then removes them, deepest
# first.
rn_remove_cgroups() {
    local n=$1 cg h i pids
    cg=$(rn_cgroup "$n")
    for ((i = 0; i < 50; i++)); do
        pids=$(while read -r h; do
                   [[ -d $h$cg ]] && find "$h$cg" -name cgroup.procs \
                       -exec cat {} + 2>/dev/null
               done < <(rn_hierarchies) | sort -u)
        [[ -n $pids ]] || break
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    while read -r h; do
        [[ -d $h$cg ]] || continue
        find "$h$cg" -depth -type d -exec rmdir {} + 2>/dev/null \
            || log "cannot remove cgroup $h$cg"
    done < <(rn_hierarchies)
}

rn_start_containerd() {
    local n=$1 nd
    nd=$(node_dir "$n")
    setsid nsenter --target "$(rn_holder_pid "$n")" --mount --uts --net -- \
        containerd --config /var/lib/testbed/containerd.toml \
        --log-level warn </dev/null >>"$nd/log/containerd.log" 2>&1 &
    record_proc "containerd-$n" $!
}

rn_containerd_ready() {
    rn_enter "$1" ctr --address /run/containerd/containerd.sock version
}

rn_import_images() {
    local n=$1 img
    for img in "${RN_IMAGES[@]}"; do
        # ctr reads the file in the host's mount namespace and streams it.
        ctr --address "$(rn_root "$n")/run/containerd/containerd.sock" \
            -n k8s.io images import "$img" >/dev/null \
            || die "$n: importing $img failed"
    done
}

rn_start_kubelet() {
    local i=$1 n nd
    n=$(node_name "$i")
    nd=$(node_dir "$n")
    setsid nsenter --target "$(rn_holder_pid "$n")" --mount --uts --net -- \
        "$KUBE_BIN_DIR/kubelet" \
        --config=/var/lib/kubelet/config.json \
        --kubeconfig=/var/lib/kubelet/kubeconfig \
        --container-runtime=remote \
        --container-runtime-endpoint=unix:///run/containerd/containerd.sock \
        --pod-infra-container-image="$RN_PAUSE_IMAGE" \
        --hostname-override="$n" --node-ip="$(node_ip "$i")" \
        --volume-plugin-dir=/var/lib/kubelet/volume-plugins \
        --v=1 </dev/null >>"$nd/log/kubelet.log" 2>&1 &
    record_proc "kubelet-$n" $!
}

# The node's underlay: its address directly on eth0 (the tendril-ovs
# container moves it to br-phy).
rn_make_node() {
    local i=$1 n ns nd ip
    n=$(node_name "$i")
    ns=$(ns_node "$n")
    nd=$(node_dir "$n")
    ip=$(node_ip "$i")
    mkdir -p "$nd/log"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    join_underlay "$ns" "$n"
    nsx "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    ip -n "$ns" addr add "$ip/$TB_UNDERLAY_LEN" dev eth0
    ip -n "$ns" link set eth0 up
    no_tx_csum "$ns" eth0
    rn_node_pki "$n" "$ip"
    rn_write_node_files "$i"
    rn_make_cgroups "$n"
    rn_start_holder "$n"
    rn_start_containerd "$n"
}

start_scheduler() {
    local cpd=$TB_DIR/cp
    write_kubeconfig "$cpd/scheduler.kubeconfig" system:kube-scheduler \
        "$(jq -n --arg c "$TB_DIR/pki/scheduler.crt" \
           --arg k "$TB_DIR/pki/scheduler.key" \
           '{"client-certificate": $c, "client-key": $k}')"
    spawn kube-scheduler "$(ns_cp)" "$cpd/log/kube-scheduler.log" \
        "$KUBE_BIN_DIR/kube-scheduler" \
        --kubeconfig="$cpd/scheduler.kubeconfig" \
        --authentication-kubeconfig="$cpd/scheduler.kubeconfig" \
        --authorization-kubeconfig="$cpd/scheduler.kubeconfig" \
        --bind-address=127.0.0.1 --secure-port=10259 --port=0 \
        --leader-elect=false --profiling=false --v=1
}

# With TESTBED_CLUSTER_DNS=1 (the e2e run sets it): the cluster DNS and the
# control plane's routes to pods below.
# The cluster DNS: tests/testbed/cluster-dns.py on the control plane's
# host (CoreDNS is not in Debian), behind the Service kube-system/kube-dns
# at $RN_DNS_IP (selector-less, its Endpoints the control plane's address,
# mirrored to an EndpointSlice by kube-controller-manager), which the
# kubelets give pods as their name server.
start_cluster_dns() {
    local cpd=$TB_DIR/cp
    spawn cluster-dns "$(ns_cp)" "$cpd/log/cluster-dns.log" \
        python3 "$TB_HERE/cluster-dns.py" --listen "$TB_CP_IP" \
        --kubeconfig "$TB_DIR/admin.kubeconfig"
    kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels: {k8s-app: kube-dns, kubernetes.io/name: testbed-cluster-dns}
spec:
  clusterIP: $RN_DNS_IP
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: 53}
  - {name: dns-tcp, port: 53, protocol: TCP, targetPort: 53}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: kube-dns
  namespace: kube-system
subsets:
- addresses: [{ip: $TB_CP_IP}]
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
EOF
}

# The control plane's host routes each node's podCIDR to the node, as a
# control-plane host that runs the network plugin would reach pods: the
# API server proxies to pods and Services, and the cluster DNS answers pods
# without a masquerade.
rn_route_pod_cidrs() {
    local i
    for ((i = 1; i <= NODES; i++)); do
        ip -n "$(ns_cp)" route replace "$(node_cidr "$i")" via "$(node_ip "$i")"
    done
}

# Once a kubelet has registered its Node, gives it its podCIDR (the test
# bed's node IPAM: node N gets 10.244.N.0/24, as in the stand-in mode).
rn_assign_pod_cidrs() {
    local deadline=$((SECONDS + 60)) i n cidr pending
    while :; do
        pending=()
        for ((i = 1; i <= NODES; i++)); do
            n=$(node_name "$i")
            cidr=$(kc get node "$n" -o 'jsonpath={.spec.podCIDR}' \
                   2>/dev/null) || { pending+=("$n"); continue; }
            [[ -n $cidr ]] && continue
            cidr=$(node_cidr "$i")
            kc patch node "$n" --type merge -p "$(jq -cn --arg c "$cidr" \
                '{spec: {podCIDR: $c, podCIDRs: [$c]}}')" >/dev/null \
                || pending+=("$n")
        done
        [[ ${#pending[@]} -gt 0 ]] || return 0
        ((SECONDS < deadline)) \
            || die "nodes did not register: ${pending[*]} (see" \
                   "$TB_DIR/nodes/NODE/log/kubelet.log)"
        sleep 0.2
    done
}

rn_up_nodes() {
    local i n pids=()
    for cmd in containerd ctr runc nsenter unshare python3; do
        command -v "$cmd" >/dev/null \
            || die "'$cmd' not found (run tests/testbed/install-deps.sh)"
    done
    for cmd in kubelet kube-scheduler pause; do
        [[ -x $KUBE_BIN_DIR/$cmd ]] \
            || die "$KUBE_BIN_DIR/$cmd missing (tests/testbed/build-kube.sh" \
                   "kubelet kube-scheduler pause)"
    done
    rn_build_images
    for ((i = 1; i <= NODES; i++)); do
        rn_make_node "$i"
    done
    for ((i = 1; i <= NODES; i++)); do
        n=$(node_name "$i")
        wait_for 100 rn_containerd_ready "$n" \
            || die "$n: containerd is not up (see $(node_dir "$n")/log)"
        rn_import_images "$n" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do
        wait "$i" || die "importing the images failed"
    done
}

rn_down_node() {
    local n=$1 name
    for name in kubelet containerd; do
        stop_procs 50 "$name-$n"
    done
    rn_remove_cgroups "$n"
    # The shims, and anything on the node's network.
    kill_ns_pids "$(ns_node "$n")"
    stop_procs 20 "holder-$n"
}

# deploy: deploy/tendril.yaml as the test bed needs it (userspace
# datapath with eth0 as the uplink, the API server's own address, the test
# bed's Service range and encapsulation), applied; waits until the
# DaemonSet is ready on every node.
rn_rendered_manifest() {
    local tunnel=$ENCAP mode=encap
    if [[ $ENCAP == none ]]; then
        tunnel=geneve
        mode=noEncap
    fi
    kc apply --dry-run=client -o json -f "$TB_SRCDIR/deploy/tendril.yaml" \
        | jq --arg api "$TB_API_URL" --arg svc "$TB_SERVICE_CIDR" \
             --arg tunnel "$tunnel" --arg mode "$mode" \
             --arg handover "${TESTBED_OVS_HANDOVER:-120}" '
            .items |= map(if .kind == "ConfigMap" then
                .data.datapathType = "netdev" | .data.uplink = "eth0"
                | .data.ovsHandoverSeconds = $handover
                | .data["tendril-agent.json"] |=
                    (fromjson + {"api-server": $api, "service-cidr": $svc,
                                 "tunnel-type": $tunnel,
                                 "encap-mode": $mode} | tojson)
              else . end)'
}

cmd_deploy() {
    need_root
    need_up
    [[ ${KUBELET_MODE-} == 1 ]] \
        || die "deploy needs real nodes ('testbed up --kubelet')"
    local t0=$SECONDS
    rn_rendered_manifest > "$TB_DIR/tendril.json"
    kc apply -f "$TB_DIR/tendril.json" >/dev/null
    kc -n tendril-system rollout status daemonset/tendril \
        --timeout="${TESTBED_DEPLOY_TIMEOUT:-180}s" >&2 \
        || die "the tendril DaemonSet is not ready"
    kc wait --for=condition=Ready node --all --timeout=60s >/dev/null \
        || die "not every node is Ready"
    log "deploy: the tendril DaemonSet is ready on $NODES nodes in" \
        "$((SECONDS - t0)) s"
}

# Stops every real node there is: those with a recorded holder, and any
# cgroup of the test bed's prefix left by a crashed run.
rn_down_all() {
    local f n h
    local -A nodes=()
    for f in "$TB_DIR"/procs/holder-*; do
        [[ -e $f ]] && nodes[${f##*/holder-}]=1
    done
    while read -r h; do
        for f in "$h/${TB_PREFIX}"*/; do
            [[ -d $f ]] || continue
            f=${f%/}
            nodes[${f##*/"$TB_PREFIX"}]=1
        done
    done < <(rn_hierarchies)
    for n in "${!nodes[@]}"; do
        rn_down_node "$n"
    done
}
