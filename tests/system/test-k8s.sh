#!/bin/bash
# System test of the agent's Kubernetes API client against the test bed's
# real kube-apiserver (v1.20): the agent gets no --pod-cidr and reads it
# from its Node; objects created, changed and deleted with kubectl reach
# its cache (k8s/get) within a second; a restarted API server loses no
# change; a watch from a resourceVersion the server no longer has (410)
# relists and the cache equals the server's list; an agent whose Node has
# no podCIDR yet is not ready (CNI STATUS 50, ADD 11) until it has one.
#
# Exit: 0 pass, 77 skip (not root, missing dependencies), 1 fail.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
testbed=$top/tests/testbed/testbed

. "$top/tests/system/tap.sh"

need_root_and etcd ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl openssl jq \
    curl ip
[[ -x /usr/lib/cni/portmap ]] \
    || skip "/usr/lib/cni/portmap missing (containernetworking-plugins)"
need_kube

build=${TENDRIL_BUILD_DIR:-${BUILD:-$top/_build/release}}
export TENDRIL_CNI=${TENDRIL_CNI:-$build/cni/tendril}
export TENDRIL_AGENT=${TENDRIL_AGENT:-$build/agent/tendril-agent}
for bin in "$TENDRIL_CNI" "$TENDRIL_AGENT"; do
    [[ -x $bin ]] || { echo "test-k8s: $bin is not built"; exit 1; }
done

# A private test bed: its own state directory and namespace prefix.
export TESTBED_DIR=/run/tendril-testbed-k8s.$$
export TESTBED_PREFIX=tbk$$-
work=$(mktemp -d /tmp/test-k8s.XXXXXX)
ghost_pid=
stopped_pid=

cleanup() {
    [[ -z $stopped_pid ]] || kill -CONT "$stopped_pid" 2>/dev/null
    [[ -z $ghost_pid ]] || kill "$ghost_pid" 2>/dev/null
    "$testbed" down >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

tb() {
    "$testbed" "$@"
}
kc() {
    "$testbed" kubectl "$@"
}
node1=$TESTBED_DIR/nodes/node1
ctl() {
    ovs-appctl -t "$node1/run/tendril-agent.ctl" "$@"
}

# within TENTHS CMD...: retries CMD every 0.1 s for up to TENTHS tenths.
within() {
    local tenths=$1 i
    shift
    for ((i = 0; i < tenths; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    "$@"
}

# get_has KIND KEY REGEX: the agent's k8s/get KIND KEY output matches.
get_has() {
    ctl k8s/get "$1" "$2" 2>/dev/null | grep -Eq "$3"
}
get_lacks() {
    ! ctl k8s/get "$1" "$2" >/dev/null 2>&1
}

echo "# test bed up (2 nodes) in $TESTBED_DIR"
if ! tb up --nodes 2 >"$work/up.log" 2>&1; then
    cat "$work/up.log"
    echo "FAIL - testbed up"
    echo "k8s: 0 passed, 1 failed"
    exit 1
fi

# --- the podCIDR from the Node ---------------------------------------------
test_pod_cidr() {
    local i nd pid args
    for i in 1 2; do
        nd=$TESTBED_DIR/nodes/node$i
        pid=$(cut -d' ' -f1 "$TESTBED_DIR/procs/tendril-agent-node$i") \
            || return 1
        args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
        [[ $args != *--pod-cidr* && $args == *--kubeconfig* ]] \
            || { echo "# node$i agent args: $args"; return 1; }
        ovs-appctl -t "$nd/run/tendril-agent.ctl" agent/status \
            > "$work/status$i" || return 1
        grep -q '^ready: yes' "$work/status$i" \
            && grep -q "^pod CIDR: 10.244.$i.0/24, gateway 10.244.$i.1 " \
                    "$work/status$i" \
            || { cat "$work/status$i"; return 1; }
    done
}
check "agents ready with the podCIDR of their Node (no --pod-cidr)" \
    test_pod_cidr

test_status() {
    ctl k8s/status > "$work/k8s-status" || return 1
    grep -q '^synced: yes' "$work/k8s-status" || return 1
    local kind
    for kind in nodes namespaces pods services endpointslices \
                networkpolicies; do
        grep -q "^$kind: watching, " "$work/k8s-status" \
            || { cat "$work/k8s-status"; return 1; }
    done
    # v1.20 serves EndpointSlices in v1beta1 only.
    grep -q '^endpointslices: watching, apis/discovery.k8s.io/v1beta1,' \
        "$work/k8s-status" || { cat "$work/k8s-status"; return 1; }
    get_has nodes node1 '^podCIDRs: 10.244.1.0/24$' \
        && get_has nodes node2 '^internalIPs: 172.30.0.12$'
}
check "k8s/status: every resource listed and watched (EndpointSlice v1beta1)" \
    test_status

# --- objects created, changed and deleted ----------------------------------
ns=${TESTBED_PREFIX}ns
test_namespace() {
    kc create namespace "$ns" >/dev/null || return 1
    within 10 get_has namespaces "$ns" "^name: $ns$" || return 1
    kc label namespace "$ns" team=blue >/dev/null || return 1
    within 10 get_has namespaces "$ns" '^labels: .*team=blue' || return 1
    ctl k8s/get namespaces | grep -q "^$ns labels=.*team=blue" || return 1
    kc create namespace "$ns-gone" >/dev/null || return 1
    within 10 get_has namespaces "$ns-gone" "^name: $ns-gone$" || return 1
    kc delete namespace "$ns-gone" --wait=true >/dev/null || return 1
    within 10 get_lacks namespaces "$ns-gone"
}
check "namespace: create, label, delete seen within 1 s" test_namespace

test_pod() {
    tb pod create "$ns/web" --node node1 --labels app=web \
        --port http:80/TCP >/dev/null 2>&1 || return 1
    within 10 get_has pods "$ns/web" '^nodeName: node1$' || return 1
    local ip
    ip=$(kc -n "$ns" get pod web -o 'jsonpath={.status.podIP}') || return 1
    [[ $ip == 10.244.1.* ]] || return 1
    within 10 get_has pods "$ns/web" "^podIPs: $ip$" || return 1
    get_has pods "$ns/web" '^port: http 80/TCP$' || return 1
    kc -n "$ns" label pod web tier=front >/dev/null || return 1
    within 10 get_has pods "$ns/web" '^labels: app=web,tier=front$'
}
check "pod: created by the test bed, labelled, seen within 1 s" test_pod

test_service() {
    kc -n "$ns" create service clusterip web --tcp=8080:80 >/dev/null \
        || return 1
    within 10 get_has services "$ns/web" '^port: 8080-80 8080/TCP -> 80$' \
        || return 1
    local cip
    cip=$(kc -n "$ns" get service web -o 'jsonpath={.spec.clusterIP}')
    get_has services "$ns/web" "^clusterIPs: $cip$" || return 1
    # The EndpointSlice controller makes its slice, with the pod.
    local deadline=$((SECONDS + 20))
    until ctl k8s/get endpointslices | grep -q "^$ns/web-.* service=web \
endpoints=1"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
    local slice
    slice=$(ctl k8s/get endpointslices | awk -v p="$ns/web-" \
            'index($1, p) == 1 { print $1 }')
    get_has endpointslices "$slice" "^endpoint: 10.244.1.[0-9]+ ready=true \
.* node=node1 pod=$ns/web$" || return 1
    kc -n "$ns" delete service web >/dev/null || return 1
    within 10 get_lacks services "$ns/web"
}
check "service and its EndpointSlice: create, delete seen within 1 s" \
    test_service

test_network_policy() {
    cat > "$work/np.json" <<EOF
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "allow-web", "namespace": "$ns"},
 "spec": {"podSelector": {"matchLabels": {"app": "web"}},
          "ingress": [{"from": [{"podSelector": {"matchLabels":
                                                 {"role": "client"}}}],
                       "ports": [{"port": 80, "protocol": "TCP"}]}]}}
EOF
    kc apply -f "$work/np.json" >/dev/null || return 1
    within 10 get_has networkpolicies "$ns/allow-web" '^  port: 80/TCP$' \
        || return 1
    get_has networkpolicies "$ns/allow-web" '^podSelector: app=web$' \
        || get_has networkpolicies "$ns/allow-web" '^podSelector: .*web' \
        || return 1
    get_has networkpolicies "$ns/allow-web" '^policyTypes: Ingress$' \
        || return 1
    sed -i 's/"port": 80/"port": 8443/' "$work/np.json"
    kc apply -f "$work/np.json" >/dev/null || return 1
    within 10 get_has networkpolicies "$ns/allow-web" '^  port: 8443/TCP$' \
        || return 1
    kc -n "$ns" delete networkpolicy allow-web >/dev/null || return 1
    within 10 get_lacks networkpolicies "$ns/allow-web"
}
check "networkpolicy: create, update, delete seen within 1 s" \
    test_network_policy

test_pod_delete() {
    tb pod delete "$ns/web" >/dev/null 2>&1 || return 1
    within 10 get_lacks pods "$ns/web"
}
check "pod: delete seen within 1 s" test_pod_delete

# --- the cache equals the server -------------------------------------------
# A pod object only (no CNI): scheduled on node2, which has no kubelet.
make_pod() {
    kc -n "$ns" apply -f - >/dev/null <<EOF
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "$1", "labels": {"batch": "$2"}},
 "spec": {"nodeName": "node2",
          "containers": [{"name": "c", "image": "none"}]}}
EOF
}
server_pods() {
    kc get pods -A -o json \
        | jq -r '.items[] | .metadata
                 | "\(.namespace)/\(.name) \(.resourceVersion)"' | sort
}
cache_pods() {
    local key
    ctl k8s/get pods | awk '{ print $1 }' | while read -r key; do
        echo "$key $(ctl k8s/get pods "$key" 2>/dev/null \
                     | awk '/^resourceVersion:/ { print $2 }')"
    done | sort
}
same_pods() {
    server_pods > "$work/server" && cache_pods > "$work/cache" \
        && cmp -s "$work/server" "$work/cache"
}
# wait_same SECONDS: until the cache equals the server's pods.
wait_same() {
    local deadline=$((SECONDS + $1))
    until same_pods; do
        if ((SECONDS >= deadline)); then
            echo "# server vs cache:"
            diff "$work/server" "$work/cache" | head -20
            return 1
        fi
        sleep 0.5
    done
}

test_apiserver_restart() {
    local i
    for i in 1 2 3; do make_pod "r$i" a || return 1; done
    wait_same 5 || return 1
    tb apiserver stop || return 1
    local deadline=$((SECONDS + 30))
    until ctl k8s/status | grep -q '^pods: backoff'; do
        ((SECONDS < deadline)) || { echo "# no backoff"; return 1; }
        sleep 0.2
    done
    tb apiserver start || return 1
    # Changes right after the restart, while the agent may still be
    # backing off: creations, an update, a deletion.
    for i in 4 5 6; do make_pod "r$i" b || return 1; done
    kc -n "$ns" label pod r1 changed=yes >/dev/null || return 1
    kc -n "$ns" delete pod r2 --grace-period=0 --force >/dev/null 2>&1 \
        || return 1
    wait_same 45 || return 1
    ! ctl k8s/status | grep -q '^pods: backoff' || return 1
    get_has pods "$ns/r1" '^labels: batch=a,changed=yes$'
}
check "kube-apiserver restarted: no change lost or duplicated" \
    test_apiserver_restart

relists() {
    ctl k8s/status | sed -n 's/^pods: .*, relists \([0-9]*\),.*/\1/p'
}
test_relist_410() {
    local before pid i
    before=$(relists)
    [[ -n $before ]] || return 1
    pid=$(cut -d' ' -f1 "$TESTBED_DIR/procs/tendril-agent-node1") \
        || return 1
    # Frozen, the agent keeps its old resourceVersions while the server
    # moves on (a write it does not watch), restarts (its watch cache
    # starts over at the current revision, so older versions are gone)
    # and changes pods.  Thawed, its watches resume from versions the
    # server no longer has: 410, relist.
    kill -STOP "$pid" && stopped_pid=$pid
    kc -n "$ns" create configmap moved-on >/dev/null || return 1
    tb apiserver restart || return 1
    for i in 1 2 3; do make_pod "g$i" c || return 1; done
    kc -n "$ns" delete pod r3 --grace-period=0 --force >/dev/null 2>&1 \
        || return 1
    kc -n "$ns" label pod r4 changed=again >/dev/null || return 1
    kill -CONT "$pid" && stopped_pid=
    wait_same 45 || return 1
    local after
    after=$(relists)
    ((after > before)) || { echo "# relists $before -> $after"; return 1; }
    grep -aq 'pods: resourceVersion .* is too old; listing again' \
        "$node1/log/tendril-agent.log" || return 1
    # No duplicates: one line per pod.
    [[ $(ctl k8s/get pods | awk '{ print $1 }' | sort | uniq -d) == "" ]]
}
check "watch from a compacted resourceVersion: 410, relist, cache == server" \
    test_relist_410

# --- no podCIDR yet: not ready ----------------------------------------------
# A second agent in node1's namespace for a Node that does not exist yet.
# Its OVSDB remote leads nowhere: it never touches node1's switch.
ghost=$work/ghost
ghost_ctl() {
    ovs-appctl -t "$ghost/ctl" "$@"
}
ghost_synced() {
    ghost_ctl k8s/status | grep -q '^synced: yes'
}
ghost_has_cidr() {
    ghost_ctl agent/status \
        | grep -q '^pod CIDR: 10.244.99.0/24, gateway 10.244.99.1 '
}
test_no_pod_cidr() {
    mkdir -p "$ghost/state"
    ip netns exec "${TESTBED_PREFIX}node1" "$TENDRIL_AGENT" \
        --node-name ghost --kubeconfig "$node1/kubeconfig" \
        --ovsdb "unix:$ghost/none.sock" --ovs-rundir "$ghost" \
        --cni-socket "$ghost/cni.sock" --state-dir "$ghost/state" \
        --unixctl "$ghost/ctl" --log-file="$ghost/log" -vconsole:off \
        </dev/null >"$ghost/stderr" 2>&1 &
    ghost_pid=$!
    within 100 ghost_synced || return 1
    ghost_ctl agent/status > "$work/ghost-status" || return 1
    grep -q "^ready: no - waiting for the Node's spec.podCIDR" \
        "$work/ghost-status" || { cat "$work/ghost-status"; return 1; }
    cat > "$work/conf.json" <<EOF
{"cniVersion": "1.1.0", "name": "tendril", "type": "tendril",
 "agentSocket": "$ghost/cni.sock"}
EOF
    local out
    out=$(env CNI_COMMAND=STATUS CNI_PATH=/usr/lib/cni "$TENDRIL_CNI" \
          < "$work/conf.json")
    echo "$out" | grep -q '"code": 50' || { echo "# $out"; return 1; }
    ip netns add "${TESTBED_PREFIX}ghostpod" || return 1
    out=$(env CNI_COMMAND=ADD CNI_CONTAINERID=ghost1 \
          "CNI_NETNS=/var/run/netns/${TESTBED_PREFIX}ghostpod" \
          CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$TENDRIL_CNI" \
          < "$work/conf.json")
    ip netns delete "${TESTBED_PREFIX}ghostpod"
    echo "$out" | grep -q '"code": 11' || { echo "# $out"; return 1; }
    echo "$out" | grep -q 'not ready' || { echo "# $out"; return 1; }
    # The Node appears with a podCIDR: the IPAM opens on it.
    kc apply -f - >/dev/null <<EOF || return 1
{"apiVersion": "v1", "kind": "Node",
 "metadata": {"name": "ghost"},
 "spec": {"podCIDR": "10.244.99.0/24", "podCIDRs": ["10.244.99.0/24"]}}
EOF
    within 20 ghost_has_cidr || return 1
    ghost_ctl ipam/list | grep -q '^pool 10.244.99.0/24,' || return 1
    # k8s/get of every kind, for the sanitizers' sake.
    local kind
    for kind in nodes namespaces pods services endpointslices \
                networkpolicies; do
        ghost_ctl k8s/get "$kind" >/dev/null || return 1
    done
    ghost_ctl k8s/get endpointslices default/kubernetes >/dev/null || true
    ghost_ctl exit
    wait "$ghost_pid"
    ghost_pid=
    kc delete node ghost >/dev/null
    # A sanitizer build reports errors and leaks on stderr at exit.
    ! grep -E 'Sanitizer|runtime error' "$ghost/stderr" \
        || { head -40 "$ghost/stderr"; return 1; }
}
check "no podCIDR yet: not ready (STATUS 50, ADD 11), then the Node's" \
    test_no_pod_cidr

# --- bad credentials: a clear error, a non-zero exit -----------------------
# bad_kubeconfig MESSAGE OPTION...: the agent refuses to start.
bad_kubeconfig() {
    local msg=$1 out
    shift
    out=$("$TENDRIL_AGENT" --node-name n "$@" --unixctl "$work/bad.ctl" \
          --cni-socket "$work/bad.sock" --state-dir "$work/bad" \
          2>&1) && return 1
    echo "$out" | grep -qF -- "$msg" || { echo "# $out"; return 1; }
}
test_bad_kubeconfig() {
    printf 'apiVersion: v1\nkind: Config\n' > "$work/yaml"
    bad_kubeconfig 'kubectl config view --flatten -o json' \
        --kubeconfig "$work/yaml" || return 1
    jq '.clusters[0].cluster += {"insecure-skip-tls-verify": true}' \
        "$node1/kubeconfig" > "$work/insecure" || return 1
    bad_kubeconfig 'insecure-skip-tls-verify; refused' \
        --kubeconfig "$work/insecure" || return 1
    bad_kubeconfig 'exclude each other' --kubeconfig "$work/yaml" \
        --in-cluster || return 1
    local out
    out=$(env -u KUBERNETES_SERVICE_HOST "$TENDRIL_AGENT" --node-name n \
          --in-cluster --unixctl "$work/bad.ctl" 2>&1) && return 1
    echo "$out" | grep -q 'KUBERNETES_SERVICE_HOST' \
        || { echo "# $out"; return 1; }
    bad_kubeconfig "$work/none: No such file" --kubeconfig "$work/none"
}
check "bad kubeconfigs: YAML, insecure, conflicting, missing" \
    test_bad_kubeconfig

# A node restarting while its API server is out of reach (on the userspace
# datapath the API traffic itself goes through OVS): the agent brings its
# pods and flows back from local state (OVSDB, the IPAM store, the podCIDR
# it saved) and clears flow-restore-wait without the API; it is ready again
# once the API server is back.
test_restart_without_api() {
    local ofctl=(env OVS_RUNDIR="$node1/run" ovs-ofctl -O OpenFlow15)
    local db=(ovs-vsctl --db="unix:$node1/run/db.sock")
    tb pod create "$ns/keep" --node node1 >/dev/null || return 1
    [[ -f $node1/state/pod-cidr ]] \
        || { echo "# no saved podCIDR in $node1/state"; return 1; }
    tb agent stop node1 || return 1
    tb apiserver stop || return 1
    # What an ovs-vswitchd restart leaves: no flows, flow-restore-wait set.
    "${db[@]}" set Open_vSwitch . other_config:flow-restore-wait=true \
        || return 1
    "${ofctl[@]}" del-flows br-int || return 1
    tb agent start node1 || return 1
    local deadline=$((SECONDS + 30)) rc=0
    until ! "${db[@]}" --if-exists get Open_vSwitch . \
            other_config:flow-restore-wait | grep -q true \
          && ctl pods/list 2>/dev/null | grep -q ' ready$'; do
        ((SECONDS < deadline)) || { echo "# not restored without the API";
                                    rc=1; break; }
        sleep 0.2
    done
    ((rc == 0)) && ! ctl agent/status | grep -q '^ready: yes' \
        || { echo "# ready without the API server"; rc=1; }
    [[ $("${ofctl[@]}" dump-flows br-int | grep -c 'nw_dst=10.244.1.') -ge 2 ]] \
        || { echo "# pod flows missing"; rc=1; }
    tb apiserver start || return 1
    within 300 sh -c "ovs-appctl -t $node1/run/tendril-agent.ctl \
        agent/status | grep -q '^ready: yes'" \
        || { echo "# not ready after the API server came back"; rc=1; }
    tb pod delete "$ns/keep" >/dev/null || rc=1
    return $rc
}
check "restart without the API server: pods and flows from local state" \
    test_restart_without_api

echo "k8s: $passed passed, $failed failed"
[[ $failed == 0 ]]
