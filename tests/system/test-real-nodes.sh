#!/bin/bash
# System test of Tendril as users run it: three real nodes (containerd and a
# kubelet each, 'testbed up --kubelet'), deploy/tendril.yaml applied with
# kubectl, pods made by Deployments (the kubelet calls the CNI through
# containerd).  Checks the manifest against the API server, least-privilege
# RBAC, pod traffic on one node and across nodes, that deleting pods leaves
# no port, address, veth or flow, the metrics endpoint, traffic through an
# agent container restart and a rollout restart of the DaemonSet (nothing
# lost: the switch is handed over), a pod started while the agent is away,
# that deleting the DaemonSet stops the switches after the hand-over, and
# that 'down' leaves nothing.
#
# Prints figures as "# figure: ..." lines.
# Exit: 0 pass, 77 skip (not root, missing dependencies), 1 fail.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
testbed=$top/tests/testbed/testbed

. "$top/tests/system/tap.sh"

need_root_and etcd containerd runc mmdebstrap ovs-vswitchd jq curl ip ping
need_kube
for bin in kubelet kube-scheduler pause; do
    [[ -x $KUBE_BIN_DIR/$bin ]] \
        || skip "no $bin in $KUBE_BIN_DIR (tests/testbed/install-deps.sh)"
done
use_testbed realnodes trn
for bin in "$TENDRIL_CNI" "$TENDRIL_AGENT"; do
    [[ -x $bin ]] || { echo "test-real-nodes: $bin is not built"; exit 1; }
done

kc() { tb kubectl "$@"; }
figure() { echo "# figure: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
NS=trn
SA=system:serviceaccount:tendril-system:tendril-agent

# The agent's pod on node N, and commands in its containers.
agent_pod() {
    kc -n tendril-system get pods -l app.kubernetes.io/component=agent \
        --field-selector "spec.nodeName=$1" -o json 2>/dev/null \
        | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)
                 | .metadata.name][0] // empty'
}
in_agent() {   # NODE CMD...
    local n=$1 pod
    shift
    pod=$(kc -n tendril-system get pods -l app.kubernetes.io/component=agent \
          --field-selector "spec.nodeName=$n" -o name | head -n 1)
    kc -n tendril-system exec "${pod#pod/}" -c tendril-agent -- "$@"
}
ctl() { local n=$1; shift; in_agent "$n" ovs-appctl -t tendril-agent "$@"; }
# The pid of node N's ovs-vswitchd, from its pidfile on the node.
switch_pid() { tb exec "$1" cat /var/run/openvswitch/ovs-vswitchd.pid; }

# --- the bed ---------------------------------------------------------------
t0=$(now)
if ! tb up --kubelet --nodes 3 > "$work/up.log" 2>&1; then
    tail -n 30 "$work/up.log"
    echo "Bail out! testbed up --kubelet failed"
    exit 1
fi
figure "testbed up --kubelet (3 nodes): $(since "$t0") s"

# On a cluster without the namespace a server dry run of the namespaced
# objects fails (the namespace is not created by a dry run): the namespace
# first, then every object of the file is validated by the API server.
test_dry_run() {
    kc create namespace tendril-system >/dev/null || return 1
    kc apply --dry-run=server -f "$top/deploy/tendril.yaml" > "$work/dry" \
        2>&1 || { cat "$work/dry"; return 1; }
    grep -q 'daemonset.apps/tendril created (server dry run)' "$work/dry"
}
check "kubectl apply --dry-run=server -f deploy/tendril.yaml passes" \
    test_dry_run

t0=$(now)
if ! tb deploy > "$work/deploy.log" 2>&1; then
    tail -n 30 "$work/deploy.log"
    kc -n tendril-system get pods -o wide
    echo "Bail out! testbed deploy failed"
    exit 1
fi
figure "deploy/tendril.yaml applied to DaemonSet ready: $(since "$t0") s"

test_daemonset() {
    local ready
    ready=$(kc -n tendril-system get ds tendril \
            -o 'jsonpath={.status.numberReady}/{.status.desiredNumberScheduled}')
    [[ $ready == 3/3 ]] || { echo "# ready $ready"; return 1; }
    # One per node.
    [[ $(kc -n tendril-system get pods -o 'jsonpath={.items[*].spec.nodeName}' \
         | tr ' ' '\n' | sort -u | wc -l) == 3 ]]
}
check "the DaemonSet is ready on the three nodes" test_daemonset

# The node's address moves between eth0 and br-phy as the OVS container
# stops and starts; the two must have one MAC address, or the neighbours'
# ARP entries point at the one it has left (the API server unreachable for
# up to a minute, tunnels from other nodes longer).
mac_of() {   # NODE DEV
    tb exec "$1" ip -o link show dev "$2" \
        | awk '{ for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1) }'
}
test_uplink_mac() {
    local i a b rc=0
    for i in 1 2 3; do
        a=$(mac_of "node$i" eth0) b=$(mac_of "node$i" br-phy)
        [[ -n $a && $a == "$b" ]] \
            || { echo "# node$i: eth0 $a, br-phy $b"; rc=1; }
    done
    return $rc
}
check "br-phy has its uplink's MAC address on every node" test_uplink_mac

test_rbac() {
    local what verb
    for what in nodes namespaces pods services endpointslices.discovery.k8s.io \
                networkpolicies.networking.k8s.io; do
        for verb in list watch; do
            [[ $(kc auth can-i "$verb" "$what" --all-namespaces --as "$SA") \
               == yes ]] || { echo "# cannot $verb $what"; return 1; }
        done
    done
    for what in "get pods" "get nodes" "get services" "create pods" \
                "delete pods" "patch nodes" "update services" "list secrets" \
                "get secrets" "list configmaps" "get configmaps" \
                "create events" "list deployments.apps"; do
        # shellcheck disable=SC2086
        [[ $(kc auth can-i $what --all-namespaces --as "$SA" 2>/dev/null) \
           == no ]] || { echo "# the agent may $what"; return 1; }
    done
}
check "the agent's ServiceAccount may list and watch what it reads, no more" \
    test_rbac

# --- pods made by the kubelet ----------------------------------------------
kc create namespace "$NS" >/dev/null
deployment() {   # NAME REPLICAS
    cat <<EOF
{"apiVersion": "apps/v1", "kind": "Deployment",
 "metadata": {"name": "$1", "namespace": "$NS"},
 "spec": {"replicas": $2, "selector": {"matchLabels": {"app": "$1"}},
  "template": {"metadata": {"labels": {"app": "$1"}},
   "spec": {"terminationGracePeriodSeconds": 1,
    "topologySpreadConstraints": [{"maxSkew": 1,
      "topologyKey": "kubernetes.io/hostname",
      "whenUnsatisfiable": "DoNotSchedule",
      "labelSelector": {"matchLabels": {"app": "$1"}}}],
    "containers": [{"name": "c", "image": "testbed/busybox:1",
     "imagePullPolicy": "Never",
     "command": ["sh", "-c",
      "echo \$HOSTNAME > /www/index.html; exec httpd -f -p 80 -h /www"]}]}}}}
EOF
}
t0=$(now)
deployment web 6 | kc apply -f - >/dev/null
kc -n "$NS" rollout status deploy/web --timeout=120s >/dev/null 2>&1
figure "Deployment of 6 pods on 3 nodes, apply to available: $(since "$t0") s"

pods_json() { kc -n "$NS" get pods -l app=web -o json; }
test_pods_spread() {
    local j i n ip
    j=$(pods_json)
    [[ $(jq '[.items[] | select(.status.phase == "Running")] | length' \
         <<<"$j") == 6 ]] || return 1
    for i in 1 2 3; do
        n=node$i
        [[ $(jq --arg n "$n" '[.items[] | select(.spec.nodeName == $n)]
             | length' <<<"$j") == 2 ]] || { echo "# not 2 pods on $n"; return 1; }
        for ip in $(jq -r --arg n "$n" '.items[] | select(.spec.nodeName == $n)
                    | .status.podIP' <<<"$j"); do
            [[ $ip == 10.244.$i.* ]] \
                || { echo "# $ip on $n is not in 10.244.$i.0/24"; return 1; }
        done
    done
}
check "6 pods, 2 per node, addresses from each node's podCIDR" \
    test_pods_spread
kc get pods -A -o wide | sed 's/^/# /'

# fetch POD IP: an HTTP GET from POD to IP, the answer's first line.
fetch() {
    kc -n "$NS" exec "$1" -- sh -c \
        "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $2 80 | tail -n 1"
}
test_traffic() {
    local j src dst ip want got rc=0
    j=$(pods_json)
    src=$(jq -r '.items[] | select(.spec.nodeName == "node1")
                 | .metadata.name' <<<"$j" | head -n 1)
    for dst in $(jq -r '.items[].metadata.name' <<<"$j"); do
        [[ $dst != "$src" ]] || continue
        ip=$(jq -r --arg p "$dst" '.items[] | select(.metadata.name == $p)
                                   | .status.podIP' <<<"$j")
        got=$(fetch "$src" "$ip")
        [[ $got == "$dst" ]] || { echo "# $src -> $dst ($ip): '$got'"; rc=1; }
    done
    return $rc
}
check "pods reach each other on one node and across nodes" test_traffic

# --- metrics ---------------------------------------------------------------
scrape() {   # NODE
    tb exec "$1" curl -sf --max-time 5 "http://$(tb_node_ip "$1"):9797/metrics"
}
tb_node_ip() { echo "172.30.0.$((10 + ${1#node}))"; }
metric() {   # FILE NAME{LABELS}: the value of one sample, or nothing
    awk -v m="$2" '$1 == m { print $2 }' "$1"
}
test_metrics() {
    scrape node1 > "$work/metrics" || return 1
    local adds flows
    adds=$(metric "$work/metrics" \
           'tendril_agent_cni_requests_total{command="ADD"}')
    flows=$(awk '$1 ~ /^tendril_agent_flows\{/ { s += $2 } END { print s + 0 }' \
            "$work/metrics")
    echo "# ADDs $adds, flows $flows"
    [[ ${adds:-0} -ge 2 && $flows -gt 0 ]] || return 1
    grep -q '^tendril_agent_cni_request_duration_seconds_count{command="ADD"} [1-9]' \
        "$work/metrics" || return 1
    grep -q '^tendril_agent_flow_sync_duration_seconds_count [1-9]' \
        "$work/metrics" || return 1
    [[ $(metric "$work/metrics" tendril_agent_openflow_connected) == 1 ]] \
        || return 1
    [[ $(metric "$work/metrics" tendril_agent_ovsdb_connected) == 1 ]] \
        || return 1
    [[ $(metric "$work/metrics" \
         'tendril_agent_k8s_watch_state{resource="pods",state="watching"}') \
       == 1 ]] || return 1
    grep -q '^tendril_agent_k8s_watch_events_total{resource="pods"} [1-9]' \
        "$work/metrics"
}
check "metrics: CNI ADDs, flows per table, sync latency, connections" \
    test_metrics
figure "metrics page $(wc -c < "$work/metrics") bytes;" \
    "$(grep -c '^tendril_agent_flows{' "$work/metrics") tables"

# --- restarts under traffic ------------------------------------------------
# A pod on node1 pings a pod on node2 100 times a second while WHAT
# happens; prints the packets lost.
ping_pair() {
    local j
    j=$(pods_json)
    PING_SRC=$(jq -r '.items[] | select(.spec.nodeName == "node1")
                      | .metadata.name' <<<"$j" | head -n 1)
    PING_DST=$(jq -r '.items[] | select(.spec.nodeName == "node2")
                      | .status.podIP' <<<"$j" | head -n 1)
}
# ping_start SECONDS OUT: pings for SECONDS in the background.  A fixed
# count, not an interrupted ping, so that every echo sent has had its time
# to be answered when the summary is taken.
ping_start() {
    kc -n "$NS" exec "$PING_SRC" -- ping -i 0.01 -c $(($1 * 100)) -W 1 -q \
        "$PING_DST" > "$2" 2>&1 &
    PING_PID=$!
    sleep 2
}
# ping_wait OUT: waits for the ping to end (in this shell, not in a
# command substitution, which cannot wait for it); sets r to "SENT LOST".
ping_wait() {
    wait "$PING_PID" 2>/dev/null
    r=$(awk '/packets transmitted/ { print $1, $1 - $4 }' "$1")
}

ping_pair
test_agent_restart() {
    local before after r
    before=$(agent_pod node1)
    ping_start 20 "$work/ping-agent"
    # The agent exits; the kubelet restarts its container, OVS stays.
    ctl node1 exit >/dev/null 2>&1
    local i
    for ((i = 0; i < 60; i++)); do
        [[ $(kc -n tendril-system get pod "$before" -o \
             'jsonpath={.status.containerStatuses[?(@.name=="tendril-agent")].restartCount}') \
           -ge 1 ]] && kc -n tendril-system wait --for=condition=Ready \
           "pod/$before" --timeout=1s >/dev/null 2>&1 && break
        sleep 1
    done
    sleep 2
    ping_wait "$work/ping-agent"
    figure "agent container restart on node1: sent ${r% *}, lost ${r#* }"
    [[ -n $r && ${r#* } == 0 && ${r% *} -gt 100 ]] \
        || { cat "$work/ping-agent"; return 1; }
    [[ $(kc -n tendril-system get pod "$before" -o \
         'jsonpath={.status.containerStatuses[?(@.name=="tendril-ovs")].restartCount}') \
       == 0 ]]
}
check "an agent container restart under 100 pings/s loses nothing" \
    test_agent_restart

# ping_follow OUT: pings 100 times a second in the background, one line
# per answer, until ping_unfollow.  For spans of unknown length.
ping_follow() {
    kc -n "$NS" exec "$PING_SRC" -- ping -i 0.01 -W 1 "$PING_DST" \
        > "$1" 2>&1 &
    PING_PID=$!
    sleep 2
}
# ping_unfollow OUT: stops it; sets r to "SENT LOST" counting the echoes up
# to the last one answered (those after it had no time to be), and gap to
# the longest run of lost ones.
ping_unfollow() {
    kill "$PING_PID" 2>/dev/null
    wait "$PING_PID" 2>/dev/null
    r=$(sed -n 's/.*seq=\([0-9]*\) .*/\1/p' "$1" | sort -n | uniq \
        | awk 'NR == 1 { first = $1 } { n++; if (NR > 1 && $1 - last - 1 > gap)
                                            gap = $1 - last - 1; last = $1 }
               END { if (n) print last - first + 1, last - first + 1 - n, gap + 0 }')
    gap=${r##* } r=${r% *}
}

test_rollout_restart() {
    local t0 r lost sent took gap i
    local before=()
    for i in 1 2 3; do
        before[i]=$(switch_pid "node$i")
    done
    ping_follow "$work/ping-rollout"
    t0=$(now)
    kc -n tendril-system rollout restart ds/tendril >/dev/null || return 1
    # The kubelet (v1.20) deletes a terminated pod only once its container
    # garbage collection, every minute, has removed the sandbox
    # (kubernetes#97288): each node takes up to 60 s more than its restart.
    kc -n tendril-system rollout status ds/tendril --timeout=300s \
        >/dev/null 2>&1 || { kc -n tendril-system get pods -o wide; return 1; }
    took=$(since "$t0")
    figure "rollout restart of the DaemonSet (3 nodes): $took s"
    sleep 2
    ping_unfollow "$work/ping-rollout"
    sent=${r% *} lost=${r#* }
    figure "rollout restart: sent $sent, lost $lost (longest gap $gap)"
    # The userspace datapath is ovs-vswitchd itself: it outlives its
    # container and the next one takes it over (deploy/image/tendril-ovs),
    # and the agent's restart keeps the flows.  Nothing may be lost.
    [[ -n $sent && $sent -gt $((${took%.*} * 90)) && $lost == 0 ]] \
        || { tail -n 5 "$work/ping-rollout"; return 1; }
    # Every node's switch was taken over, not restarted: the same process.
    for i in 1 2 3; do
        [[ -n ${before[i]} && $(switch_pid "node$i") == "${before[i]}" ]] \
            || { echo "# node$i: ovs-vswitchd ${before[i]} was replaced"
                 return 1; }
    done
    test_traffic
}
check "a rollout restart of the DaemonSet under 100 pings/s loses nothing" \
    test_rollout_restart

# --- a pod started while the agent is away ---------------------------------
test_agent_away() {
    # The DaemonSet leaves node3 (a node selector nothing matches there).
    kc -n tendril-system patch ds tendril --type=merge -p \
        '{"spec":{"template":{"spec":{"affinity":{"nodeAffinity":
          {"requiredDuringSchedulingIgnoredDuringExecution":
           {"nodeSelectorTerms":[{"matchExpressions":
            [{"key":"kubernetes.io/hostname","operator":"NotIn",
              "values":["node3"]}]}]}}}}}}}' >/dev/null || return 1
    local i
    for ((i = 0; i < 60; i++)); do
        [[ -z $(agent_pod node3) ]] && break
        sleep 1
    done
    [[ -z $(agent_pod node3) ]] || { echo "# agent still on node3"; return 1; }
    kc -n "$NS" run late --image=testbed/busybox:1 --image-pull-policy=Never \
        --overrides='{"spec":{"nodeName":"node3"}}' --restart=Never \
        -- sh -c 'echo late > /www/index.html; exec httpd -f -p 80 -h /www' \
        >/dev/null || return 1
    # The kubelet cannot make its sandbox: the CNI finds no agent.
    for ((i = 0; i < 30; i++)); do
        kc -n "$NS" get events --field-selector involvedObject.name=late \
            | grep -q FailedCreatePodSandBox && break
        sleep 1
    done
    ((i < 30)) || { echo "# no FailedCreatePodSandBox in 30 s"
                    kc -n "$NS" get events | sed 's/^/# /'; return 1; }
    [[ $(kc -n "$NS" get pod late -o 'jsonpath={.status.phase}') == Pending ]] \
        || { echo "# late is not Pending without an agent"; return 1; }
    kc -n tendril-system patch ds tendril --type=json -p \
        '[{"op":"remove","path":"/spec/template/spec/affinity"}]' \
        >/dev/null || return 1
    kc -n "$NS" wait --for=condition=Ready pod/late --timeout=120s \
        >/dev/null || return 1
    local src ip
    src=$(pods_json | jq -r '.items[] | select(.spec.nodeName == "node1")
                             | .metadata.name' | head -n 1)
    ip=$(kc -n "$NS" get pod late -o 'jsonpath={.status.podIP}')
    [[ $ip == 10.244.3.* ]] || { echo "# late has address '$ip'"; return 1; }
    # node3's ovs-vswitchd has just started: on the userspace datapath its
    # tunnel learns the way to node1 (route, ARP) from the first packets,
    # so the first connections may fail.  It must answer within 15 tries
    # (each up to 3 s, plus kubectl exec), and how long it took is a figure
    # (1.5 s and 24 s in two runs here: an open question, see the note of
    # 2026-12-04).
    local t0 t
    t0=$(now)
    for ((t = 0; t < 15; t++)); do
        [[ $(fetch "$src" "$ip" 2>/dev/null) == late ]] && break
        sleep 1
    done
    if ((t == 15)); then
        echo "# late ($ip) unreachable from $src for 15 tries after Ready"
        tb exec node3 ovs-appctl dpctl/dump-flows 2>&1 | grep -F "$ip" \
            | head -n 8 | sed 's/^/# node3 dp: /'
        return 1
    fi
    figure "late pod on node3 answers node1 $(since "$t0") s after Ready" \
        "($t failed tries)"
}
check "a pod started while the agent is away gets its network when it is back" \
    test_agent_away
# The DaemonSet back on node3 whatever the check found.
kc -n tendril-system patch ds tendril --type=json \
    -p '[{"op":"remove","path":"/spec/template/spec/affinity"}]' \
    >/dev/null 2>&1
kc -n tendril-system rollout status ds/tendril --timeout=120s >/dev/null 2>&1

# --- deletion leaves nothing -----------------------------------------------
test_delete_clean() {
    local i n t rc=0 ports veths addrs flows ips ip
    # Deleting a pod waits for the kubelet's container GC (kubernetes#97288,
    # up to a minute); the timeouts only keep a stuck pod from hanging the
    # test.
    ips=$(kc -n "$NS" get pods -o json \
          | jq -r '.items[] | "\(.spec.nodeName) \(.status.podIP)"')
    kc -n "$NS" delete deploy web --wait=true --timeout=150s >/dev/null \
        || return 1
    kc -n "$NS" delete pod late --wait=true --timeout=150s >/dev/null \
        || return 1
    kc -n "$NS" wait --for=delete pod --all --timeout=60s >/dev/null 2>&1
    for i in 1 2 3; do
        n=node$i
        for ((t = 0; t < 20; t++)); do
            ports=$(tb exec "$n" ovs-vsctl --timeout=5 list-ports br-int \
                    | grep -c '^tnd')
            [[ $ports == 0 ]] && break
            sleep 1
        done
        veths=$(tb exec "$n" ip -o link show | grep -c ' tnd')
        addrs=$(tb exec "$n" sh -c 'ls /var/lib/tendril/ipam' \
                | grep -c '^[0-9]')
        tb exec "$n" ovs-ofctl dump-flows br-int > "$work/flows-$n"
        flows=0
        for ip in $(awk -v n="$n" '$1 == n { print $2 }' <<<"$ips"); do
            grep -Eq "$ip([^0-9]|$)" "$work/flows-$n" && flows=$((flows + 1))
        done
        echo "# $n: ports $ports, veths $veths, address files $addrs," \
            "deleted pods' addresses in flows $flows"
        [[ $ports == 0 && $veths == 0 && $addrs == 0 && $flows == 0 ]] || rc=1
        [[ $(ctl "$n" pods/list | grep -c "$NS/") == 0 ]] || rc=1
    done
    return $rc
}
check "deleting the pods leaves no port, veth, address file or flow" test_delete_clean

# --- uninstall: the hand-over ends ------------------------------------------
# With the DaemonSet gone no container takes the switches over: each
# node's watchdog stops them after the hand-over time and gives eth0 its
# address back.
HANDOVER=${TESTBED_OVS_HANDOVER:-120}
switch_left() {   # NODE: prints the processes in its hand-over cgroup
    cat /sys/fs/cgroup/*/"$TESTBED_PREFIX$1"/tendril-ovs/cgroup.procs \
        2>/dev/null | sort -u
}
test_uninstall() {
    local t0 i n t left
    kc -n tendril-system delete ds tendril --wait=false >/dev/null || return 1
    t0=$(now)
    sleep 5
    for i in 1 2 3; do
        n=node$i
        tb exec "$n" kill -0 "$(switch_pid "$n")" \
            || { echo "# $n: the switch stopped with its container"; return 1; }
    done
    for ((t = 0; t < HANDOVER + 30; t++)); do
        left=0
        for i in 1 2 3; do
            [[ -z $(switch_left "node$i") ]] || left=$((left + 1))
        done
        ((left == 0)) && break
        sleep 1
    done
    figure "DaemonSet deleted: every switch stopped $(since "$t0") s later" \
        "(hand-over $HANDOVER s)"
    ((left == 0)) || { echo "# $left nodes still run a switch"; return 1; }
    for i in 1 2 3; do
        n=node$i
        tb exec "$n" ip -4 -o addr show dev eth0 | grep -q "inet " \
            || { echo "# $n: eth0 has no address"; return 1; }
        ! tb exec "$n" ip -4 -o addr show dev br-phy 2>/dev/null \
            | grep -q "inet " || { echo "# $n: br-phy kept it"; return 1; }
    done
    # And the underlay works on eth0: node1 reaches node2 and node3.
    for i in 2 3; do
        tb exec node1 ping -c 1 -W 2 "$(kc get node "node$i" -o \
            'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')" \
            >/dev/null || { echo "# node1 cannot reach node$i"; return 1; }
    done
}
check "deleting the DaemonSet stops every switch after the hand-over" \
    test_uninstall

# --- down -------------------------------------------------------------------
t0=$(now)
tb down >/dev/null 2>&1
figure "testbed down: $(since "$t0") s"
test_down_clean() {
    local rc=0
    ! ip netns list | grep -q "^$TESTBED_PREFIX" || { echo "# namespaces"; rc=1; }
    ! grep -q "$TESTBED_DIR" /proc/mounts || { echo "# mounts"; rc=1; }
    ! ls -d /sys/fs/cgroup/*/"$TESTBED_PREFIX"* >/dev/null 2>&1 \
        || { echo "# cgroups"; rc=1; }
    ! pgrep -f "$TESTBED_DIR" >/dev/null || { echo "# processes"; rc=1; }
    [[ ! -e $TESTBED_DIR ]] || { echo "# state directory"; rc=1; }
    return $rc
}
check "down leaves no namespace, mount, cgroup, process or directory" \
    test_down_clean

echo "test-real-nodes: $passed passed, $failed failed"
[[ $failed == 0 ]]
