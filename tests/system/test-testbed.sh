#!/bin/bash
# System test of the test bed itself (tests/testbed/testbed): brings up a
# three-node test bed in its own state directory and namespace prefix, then
# checks the API server (TLS, RBAC of the agent's kubeconfig), each node's
# OVS and the underlay, the kubelet part for pods (with a stand-in CNI plugin
# that delegates to Debian's ptp + host-local when the real one is absent),
# a second 'up' over a running one, an interrupted 'up', and that 'down'
# leaves nothing behind.
#
# Exit: 0 pass, 77 skip (not root, missing dependencies), 1 fail.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
testbed=$top/tests/testbed/testbed
cni_exec=$top/tests/testbed/cni-exec

. "$top/tests/system/tap.sh"

need_root_and etcd ovsdb-server ovs-vswitchd ovs-vsctl openssl jq curl ip \
    ping iptables
for plugin in ptp host-local portmap; do
    [[ -x /usr/lib/cni/$plugin ]] \
        || skip "/usr/lib/cni/$plugin missing (containernetworking-plugins)"
done
need_kube

# A private test bed: its own state directory and namespace prefix.
export TESTBED_DIR=/run/tendril-testbed-test.$$
export TESTBED_PREFIX=tbt$$-
work=$(mktemp -d /tmp/test-testbed.XXXXXX)

links_before=$(ip -br link | awk '{print $1}' | sort)

cleanup() {
    "$testbed" down >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

tb() {
    "$testbed" "$@"
}

# The test bed runs the real agent and CNI plugin of the build tree.
build=${TENDRIL_BUILD_DIR:-${BUILD:-$top/_build/release}}
export TENDRIL_CNI=${TENDRIL_CNI:-$build/cni/tendril}
export TENDRIL_AGENT=${TENDRIL_AGENT:-$build/agent/tendril-agent}
for bin in "$TENDRIL_CNI" "$TENDRIL_AGENT"; do
    [[ -x $bin ]] || { echo "test-testbed: $bin is not built"; exit 1; }
done

# --- cni-exec against real plugins ----------------------------------------
test_cni_exec() {
    local host=${TESTBED_PREFIX}cnihost pod=${TESTBED_PREFIX}cnipod
    ip netns add "$host" && ip netns add "$pod" || return 1
    cat > "$work/c.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "t", "plugins": [
  {"type": "ptp", "ipMasq": false,
   "ipam": {"type": "host-local", "subnet": "10.99.0.0/24",
            "dataDir": "$work/ipam-c"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
    local rt='{"portMappings": [{"hostPort": 8080, "containerPort": 80,
              "protocol": "tcp"}], "bandwidth": {}}'
    local env=(env CNI_CONTAINERID=c1 "CNI_NETNS=/var/run/netns/$pod"
               CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni
               "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=x")
    local rc=0
    ip netns exec "$host" "${env[@]}" "$cni_exec" --runtime-config "$rt" \
        ADD "$work/c.conflist" > "$work/c.json" || rc=1
    [[ $(jq -r '.ips[0].address' "$work/c.json") == 10.99.0.2/24 ]] || rc=1
    ip -n "$pod" -br addr show eth0 | grep -q 10.99.0.2/24 || rc=1
    ip netns exec "$host" iptables-save | grep -q 'dport 8080' || rc=1
    # CHECK (on ptp alone: portmap 1.1.1's CHECK wants ip6tables chains).
    jq '.plugins |= .[:1]' "$work/c.conflist" > "$work/ptp.conflist"
    ip netns exec "$host" "${env[@]}" "$cni_exec" \
        --cached-result "$work/c.json" CHECK "$work/ptp.conflist" || rc=1
    ip netns exec "$host" "${env[@]}" "$cni_exec" --runtime-config "$rt" \
        --cached-result "$work/c.json" DEL "$work/c.conflist" || rc=1
    ! ip -n "$pod" link show eth0 >/dev/null 2>&1 || rc=1
    ! ip netns exec "$host" iptables-save | grep -q 'dport 8080' || rc=1
    # A missing plugin is a clear error.
    ! ip netns exec "$host" "${env[@]/CNI_PATH=*/CNI_PATH=$work/none}" \
        "$cni_exec" ADD "$work/c.conflist" 2>"$work/err" || rc=1
    grep -q "plugin 'ptp' not found" "$work/err" || rc=1
    ip netns delete "$pod"
    ip netns delete "$host"
    return $rc
}
check "cni-exec runs ptp+portmap ADD/CHECK/DEL in order" test_cni_exec

# --- up ---------------------------------------------------------------------
start=$(date +%s.%N)
if ! tb up --nodes 3 > "$work/up.log" 2>&1; then
    cat "$work/up.log"
    fail "testbed up --nodes 3"
    echo "testbed: $passed passed, $failed failed"
    exit 1
fi
ok "testbed up --nodes 3 ($(awk -v a="$start" -v b="$(date +%s.%N)" \
    'BEGIN { printf "%.1f", b - a }') s)"
state=$TESTBED_DIR

# --- nodes ------------------------------------------------------------------
test_nodes() {
    local out rc=0 i
    out=$(tb kubectl get nodes -o wide --no-headers) || return 1
    echo "$out" | sed 's/^/#   /'
    [[ $(echo "$out" | awk '$2 == "Ready"' | wc -l) == 3 ]] || rc=1
    for i in 1 2 3; do
        out=$(tb kubectl get node "node$i" -o \
              'jsonpath={.spec.podCIDR} {.spec.podCIDRs[*]} {.status.addresses[?(@.type=="InternalIP")].address}') \
            || return 1
        [[ $out == "10.244.$i.0/24 10.244.$i.0/24 172.30.0.1$i" ]] \
            || { echo "# node$i: $out"; rc=1; }
    done
    return $rc
}
check "three Ready nodes with podCIDR 10.244.i.0/24 and InternalIP" \
    test_nodes

# --- API server: TLS and RBAC -------------------------------------------------
cpx() {
    ip netns exec "${TESTBED_PREFIX}cp" "$@"
}
test_tls() {
    # Verifies against the test bed's CA for the underlay address...
    cpx curl -sS --max-time 5 --cacert "$state/pki/ca.crt" \
        https://172.30.0.2:6443/version | jq -e '.gitVersion' >/dev/null \
        || return 1
    # ... and fails without it (the certificate is not from a public CA).
    ! cpx curl -sS --max-time 5 https://172.30.0.2:6443/version \
        >/dev/null 2>&1 || return 1
    # Plain HTTP is not served.
    ! cpx curl -sf --max-time 5 http://172.30.0.2:6443/version \
        >/dev/null 2>&1
}
check "kube-apiserver serves TLS on 172.30.0.2:6443 with the test bed CA" \
    test_tls

test_anonymous() {
    local code
    code=$(cpx curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
           --cacert "$state/pki/ca.crt" https://172.30.0.2:6443/api/v1/pods)
    [[ $code == 403 ]]
}
check "anonymous requests are forbidden" test_anonymous

agent_kc() {
    ip netns exec "${TESTBED_PREFIX}node1" "$KUBE_BIN_DIR/kubectl" \
        --kubeconfig "$state/nodes/node1/kubeconfig" "$@"
}
test_rbac_allowed() {
    local what
    agent_kc get pods -A >/dev/null 2>&1 || return 1
    for what in nodes namespaces pods services endpointslices.discovery.k8s.io \
                networkpolicies.networking.k8s.io; do
        [[ $(agent_kc auth can-i watch "$what" --all-namespaces) == yes ]] \
            || { echo "# cannot watch $what"; return 1; }
    done
    agent_kc get endpointslices.v1beta1.discovery.k8s.io -A >/dev/null
}
check "agent kubeconfig (from node1) can list/watch what the agent reads" \
    test_rbac_allowed

test_rbac_denied() {
    local what
    agent_kc -n default run denied --image=x --restart=Never \
        >/dev/null 2>"$work/denied" && return 1
    grep -qi forbidden "$work/denied" || return 1
    for what in "create pods" "delete pods" "patch nodes" \
                "patch nodes --subresource=status" "update services" \
                "list secrets" "get secrets" "list configmaps" "get nodes" \
                "get pods" "get services"; do
        # shellcheck disable=SC2086
        [[ $(agent_kc auth can-i $what 2>/dev/null) == no ]] \
            || { echo "# agent may $what"; return 1; }
    done
}
check "agent kubeconfig cannot create pods or write anything" \
    test_rbac_denied

# --- OVS on every node, and the underlay ----------------------------------
test_ovs() {
    local i n nd out rc=0
    for i in 1 2 3; do
        n=node$i
        nd=$state/nodes/$n
        out=$(ip netns exec "${TESTBED_PREFIX}$n" ovs-vsctl \
              --db="unix:$nd/run/db.sock" show) || { rc=1; continue; }
        grep -q 'Bridge br-phy' <<<"$out" || rc=1
        grep -q 'Port eth0' <<<"$out" || rc=1
        [[ $(ovs-vsctl --db="unix:$nd/run/db.sock" get Bridge br-phy \
             datapath_type) == netdev ]] || rc=1
        ip -n "${TESTBED_PREFIX}$n" -br addr show br-phy \
            | grep -q "172.30.0.1$i/24" || rc=1
        [[ $(ip netns exec "${TESTBED_PREFIX}$n" \
             sysctl -n net.ipv4.conf.eth0.arp_ignore) == 8 ]] || rc=1
        # Each node has its own ovs-vswitchd.
        [[ -s $nd/run/ovs-vswitchd.pid ]] || rc=1
    done
    local p1 p2
    p1=$(cat "$state/nodes/node1/run/ovs-vswitchd.pid")
    p2=$(cat "$state/nodes/node2/run/ovs-vswitchd.pid")
    [[ $p1 != "$p2" ]] || rc=1
    return $rc
}
check "each node: private OVS, br-phy (netdev) with eth0 and the address" \
    test_ovs

test_underlay() {
    local i j rc=0 deadline=$((SECONDS + 30))
    # With an agent, a node forwards once the agent cleared
    # flow-restore-wait.
    for i in 1 2 3; do
        while ip netns exec "${TESTBED_PREFIX}node$i" ovs-vsctl \
                --db="unix:$state/nodes/node$i/run/db.sock" --if-exists \
                get Open_vSwitch . other_config:flow-restore-wait \
                | grep -q true; do
            ((SECONDS < deadline)) \
                || { echo "# node$i: flow-restore-wait never cleared"; \
                     return 1; }
            sleep 0.5
        done
    done
    for i in 1 2 3; do
        for j in 1 2 3; do
            [[ $i != "$j" ]] || continue
            tb exec "node$i" ping -c 1 -W 2 "172.30.0.1$j" >/dev/null \
                || { echo "# node$i -> node$j failed"; rc=1; }
        done
        tb exec "node$i" ping -c 1 -W 2 172.30.0.2 >/dev/null \
            || { echo "# node$i -> cp failed"; rc=1; }
    done
    return $rc
}
check "underlay: every node pings every other node and the control plane" \
    test_underlay

test_exec_env() {
    [[ $(tb exec node2 sh -c 'echo $OVS_RUNDIR') == \
       "$state/nodes/node2/run" ]] || return 1
    tb exec node2 ovs-vsctl br-exists br-phy || return 1
    tb exec underlay ip -br link show br0 >/dev/null || return 1
    ! tb exec nosuchhost true 2>/dev/null
}
check "exec runs on nodes (with their OVS environment) and the underlay" \
    test_exec_env

test_status() {
    tb status > "$work/status" 2>&1 || { cat "$work/status"; return 1; }
    grep -q 'kube-apiserver /readyz: ok' "$work/status" \
        && grep -q 'kube-controller-manager /healthz: ok' "$work/status"
}
check "status reports a healthy test bed" test_status

# --- pods ----------------------------------------------------------------------
test_pod_lifecycle() {
    local out ip rc=0
    tb kubectl create namespace tbtest >/dev/null || return 1
    tb kubectl apply -f - >/dev/null <<EOF || return 1
apiVersion: v1
kind: Service
metadata: {name: web, namespace: tbtest}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]
EOF
    out=$(tb pod create tbtest/web-1 --node node2 --labels app=web,tier=front \
          --port http:8080/TCP --port metrics:9090/TCP:30090) || return 1
    echo "# $out"
    ip=$(tb kubectl -n tbtest get pod web-1 -o 'jsonpath={.status.podIP}')
    [[ $ip == 10.244.2.* ]] || { echo "# podIP '$ip'"; return 1; }
    [[ $(tb kubectl -n tbtest get pod web-1 -o \
         'jsonpath={.spec.nodeName} {.status.phase} {.metadata.labels.tier} {.status.conditions[?(@.type=="Ready")].status}') \
       == "node2 Running front True" ]] || rc=1
    tb exec tbtest/web-1 ip -br addr show eth0 | grep -q "$ip/" || rc=1
    # The EndpointSlice controller follows the pod.
    local i eps=
    for ((i = 0; i < 50; i++)); do
        eps=$(tb kubectl -n tbtest get endpointslices.v1beta1.discovery.k8s.io \
              -l kubernetes.io/service-name=web \
              -o 'jsonpath={.items[*].endpoints[*].addresses[*]} {.items[*].ports[*].port}')
        [[ $eps == "$ip 8080" ]] && break
        sleep 0.2
    done
    [[ $eps == "$ip 8080" ]] || { echo "# endpointslice: '$eps'"; rc=1; }
    # A host port reaches portmap as runtimeConfig.portMappings.
    tb exec node2 iptables-save -t nat | grep -q 'dport 30090' \
        || { echo "# no portmap rule for host port 30090"; rc=1; }
    # The node reaches its pod through tendril-gw0.
    tb exec node2 ping -c 1 -W 2 "$ip" >/dev/null \
        || { echo "# node2 cannot ping its pod $ip"; rc=1; }
    (tb exec tbtest/web-1 sleep 300 || true) 2>/dev/null &
    tb pod delete tbtest/web-1 || rc=1
    wait
    ! tb kubectl -n tbtest get pod web-1 >/dev/null 2>&1 || rc=1
    ! tb exec node2 iptables-save -t nat | grep -q 'dport 30090' \
        || { echo "# portmap rule left after delete"; rc=1; }
    [[ ! -e /run/netns/${TESTBED_PREFIX}pod_tbtest_web-1 ]] || rc=1
    for ((i = 0; i < 50; i++)); do
        eps=$(tb kubectl -n tbtest get endpointslices.v1beta1.discovery.k8s.io \
              -l kubernetes.io/service-name=web \
              -o 'jsonpath={.items[*].endpoints[*].addresses[*]}')
        [[ -z $eps ]] && break
        sleep 0.2
    done
    [[ -z $eps ]] || { echo "# endpointslice after delete: '$eps'"; rc=1; }
    return $rc
}
check "pod create/delete: object, netns, CNI, status, EndpointSlice" \
    test_pod_lifecycle

test_pod_bad_input() {
    ! tb pod create tbtest/x 2>/dev/null || return 1
    ! tb pod create tbtest/x --node node9 2>/dev/null || return 1
    ! tb pod create Bad/x --node node1 2>/dev/null || return 1
    ! tb pod create tbtest/x --node node1 --port http:99999/TCP 2>/dev/null \
        || return 1
    ! tb pod delete tbtest/nosuchpod 2>/dev/null || return 1
    ! tb kubectl -n tbtest get pod x >/dev/null 2>&1
}
check "pod create/delete reject bad input" test_pod_bad_input

test_pod_missing_cni() {
    # Point node3's plugin at nothing, as before the CNI binary is built.
    local link=$state/nodes/node3/cni/bin/tendril target rc=0
    target=$(readlink "$link")
    ln -sfn "$work/does-not-exist" "$link"
    tb pod create tbtest/nocni --node node3 2>"$work/err" && rc=1
    grep -q 'CNI plugin .* does not exist' "$work/err" || rc=1
    ! tb kubectl -n tbtest get pod nocni >/dev/null 2>&1 || rc=1
    [[ ! -e /run/netns/${TESTBED_PREFIX}pod_tbtest_nocni ]] || rc=1
    [[ ! -e $state/pods/tbtest_nocni ]] || rc=1
    ln -sfn "$target" "$link"
    return $rc
}
check "pod create fails clearly without the CNI binary, leaving nothing" \
    test_pod_missing_cni

test_cni_failure_rollback() {
    # A failing plugin: pod create undoes everything.
    local link=$state/nodes/node1/cni/bin/tendril target rc=0
    target=$(readlink "$link")
    printf '#!/bin/sh\necho "{\\"code\\":11,\\"msg\\":\\"boom\\"}"\nexit 1\n' \
        > "$work/failing"
    chmod +x "$work/failing"
    ln -sfn "$work/failing" "$link"
    tb pod create tbtest/fails --node node1 2>"$work/err" && rc=1
    grep -q boom "$work/err" || rc=1
    ! tb kubectl -n tbtest get pod fails >/dev/null 2>&1 || rc=1
    [[ ! -e /run/netns/${TESTBED_PREFIX}pod_tbtest_fails ]] || rc=1
    ln -sfn "$target" "$link"
    return $rc
}
check "a failing CNI ADD leaves no pod object or namespace" \
    test_cni_failure_rollback

# --- processes, then a second up over a running one ------------------------
pids_of_bed() {
    local f
    for f in "$TESTBED_DIR"/procs/*; do
        [[ -e $f ]] && cut -d' ' -f1 "$f"
    done
}
first_pids=$(pids_of_bed)
[[ $(wc -w <<<"$first_pids") -ge 9 ]] \
    && ok "processes recorded: $(wc -w <<<"$first_pids")" \
    || fail "processes recorded: $first_pids"

test_second_up() {
    "$testbed" up --nodes 2 --encap vxlan \
        > "$work/up2.log" 2>&1 || { cat "$work/up2.log"; return 1; }
    local p
    for p in $first_pids; do
        if [[ -d /proc/$p ]] && ! grep -qx "$p" <(pids_of_bed); then
            echo "# old process $p survived"
            return 1
        fi
    done
    [[ $(tb kubectl get nodes --no-headers | wc -l) == 2 ]] || return 1
    [[ ! -e /run/netns/${TESTBED_PREFIX}node3 ]] || return 1
    # The agent runs in its node's namespace with the documented flags, its
    # pid recorded from its pidfile, and has cleared flow-restore-wait.
    local i nd pid args
    for i in 1 2; do
        nd=$TESTBED_DIR/nodes/node$i
        pid=$(cut -d' ' -f1 "$TESTBED_DIR/procs/tendril-agent-node$i") \
            || return 1
        [[ $pid == "$(cat "$nd/run/tendril-agent.pid")" ]] || return 1
        [[ $(readlink "/proc/$pid/ns/net") == \
           "$(ip netns exec "${TESTBED_PREFIX}node$i" \
              readlink /proc/self/ns/net)" ]] \
            || { echo "# agent not in node$i's namespace"; return 1; }
        args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
        # No --pod-cidr: the agent reads it from its Node object.
        [[ $args != *"--pod-cidr"* ]] \
            || { echo "# agent args have --pod-cidr: $args"; return 1; }
        ovs-appctl -t "$nd/run/tendril-agent.ctl" agent/status \
            | grep -q "^pod CIDR: 10.244.$i.0/24," \
            || { echo "# node$i: podCIDR not from its Node"; return 1; }
        for flag in "--node-name node$i " "--kubeconfig $nd/kubeconfig " \
                    "--tunnel-type vxlan " "--encap-mode encap " \
                    "--datapath-type netdev " \
                    "--pidfile=$nd/run/tendril-agent.pid "; do
            [[ $args == *"$flag"* ]] \
                || { echo "# agent args lack '$flag': $args"; return 1; }
        done
        ! ovs-vsctl --db="unix:$nd/run/db.sock" --if-exists get \
            Open_vSwitch . other_config:flow-restore-wait | grep -q true \
            || return 1
        ovs-appctl -t "$nd/run/tendril-agent.ctl" agent/status \
            | grep -q '^ready: yes' \
            || { echo "# agent on node$i not ready"; return 1; }
    done
    tb status >/dev/null || { tb status; return 1; }
    # agent stop/start go through the recorded pid too.
    pid=$(cut -d' ' -f1 "$TESTBED_DIR/procs/tendril-agent-node1")
    tb agent stop node1 || return 1
    [[ $(ps -o stat= -p "$pid") == Z* || -z $(ps -o stat= -p "$pid") ]] \
        || { echo "# agent $pid still runs"; return 1; }
    ! tb status >/dev/null 2>&1 || { echo "# status ignores the agent"; \
                                     return 1; }
    tb agent start node1 2>/dev/null || return 1
    tb status >/dev/null
}
check "a second up replaces a running test bed" test_second_up

test_interrupted_up() {
    # Kill 'up' in the middle (after the control plane started).
    setsid "$testbed" up --nodes 3 > "$work/up3.log" 2>&1 &
    local upid=$! i
    for ((i = 0; i < 100; i++)); do
        [[ -e /run/netns/${TESTBED_PREFIX}node1 ]] && break
        sleep 0.1
    done
    kill -KILL -- -"$upid" 2>/dev/null
    wait "$upid" 2>/dev/null
    [[ -d $TESTBED_DIR ]] || { echo "# up was not interrupted"; return 1; }
    pids_of_bed > "$work/pids3"
    return 0
}
check "interrupted up leaves state that down can find" test_interrupted_up

# --- down -------------------------------------------------------------------------
all_pids=$(cat "$work/pids3" 2>/dev/null; echo "$first_pids")
test_down() {
    tb down || return 1
    local rc=0 p
    if ip netns list | grep -q "^$TESTBED_PREFIX"; then
        echo "# namespaces left: $(ip netns list | grep "^$TESTBED_PREFIX")"
        rc=1
    fi
    for p in $all_pids; do
        if [[ -d /proc/$p ]] && grep -q "$TESTBED_DIR" "/proc/$p/cmdline" \
                2>/dev/null; then
            echo "# process $p still running: $(tr '\0' ' ' \
                 < "/proc/$p/cmdline")"
            rc=1
        fi
    done
    if ps -eo args | grep -v grep | grep -q -- "$TESTBED_DIR"; then
        echo "# processes mentioning $TESTBED_DIR remain"
        rc=1
    fi
    if grep -q -- "$TESTBED_PREFIX" /proc/self/mounts; then
        echo "# mounts left"
        rc=1
    fi
    local links_after
    links_after=$(ip -br link | awk '{print $1}' | sort)
    [[ $links_after == "$links_before" ]] \
        || { echo "# links differ: $links_after"; rc=1; }
    [[ ! -e $TESTBED_DIR ]] \
        || { echo "# state left in $TESTBED_DIR"; rc=1; }
    return $rc
}
check "down leaves no namespace, process, mount, link or state" test_down
check "down again is harmless" tb down

echo "testbed: $passed passed, $failed failed"
[[ $failed == 0 ]]
