#!/bin/bash
# Across nodes, on a 3-node test bed in each of geneve, vxlan and noEncap:
# two pods per node; every pod reaches every other pod and every node; TCP
# between pods on different nodes carries 10 MB intact; a connection between
# pods on two nodes survives a restart of one of those nodes' agents;
# deleting a Node object removes its routes and flows everywhere.
#
# Exit: 0 pass, 77 skip, 1 fail.  Last line: "nodes: N passed, M failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
testbed=$top/tests/testbed/testbed
. "$top/tests/system/tap.sh"

need_root_and etcd ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl openssl jq \
    curl ip ping nc
need_kube
build=${TENDRIL_BUILD_DIR:-${BUILD:-$top/_build/release}}
export TENDRIL_CNI=${TENDRIL_CNI:-$build/cni/tendril}
export TENDRIL_AGENT=${TENDRIL_AGENT:-$build/agent/tendril-agent}

export TESTBED_DIR=/run/tendril-testbed-nodes.$$
export TESTBED_PREFIX=tbn$$-
work=$(mktemp -d /tmp/test-nodes.XXXXXX)
cleanup() {
    "$testbed" down >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

tb() { "$testbed" "$@"; }
pod_ip() { tb kubectl get pod "$1" -o jsonpath='{.status.podIP}'; }
ctl() {   # NODE ARGS...
    local n=$1; shift
    ovs-appctl -t "$TESTBED_DIR/nodes/$n/run/tendril-agent.ctl" "$@"
}

# reach FROM-HOST IP: one ping gets through within a few tries.
reach() {
    local i
    for i in 1 2 3 4 5; do
        tb exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
    done
    echo "# $1 cannot reach $2"
    return 1
}

all_reach() {
    local rc=0 from to ip
    for from in "${pods[@]}"; do
        for to in "${pods[@]}"; do
            [[ $from == "$to" ]] && continue
            reach "default/$from" "${ips[$to]}" || rc=1
        done
        for ip in 172.30.0.11 172.30.0.12 172.30.0.13; do
            reach "default/$from" "$ip" || rc=1
        done
    done
    return $rc
}

# Every ordered pair of pods, one ping each, on the first try: the first
# packet to a new peer is not lost (its neighbour is resolved before).
first_try() {
    local lost=0 from to
    for from in "${pods[@]}"; do
        for to in "${pods[@]}"; do
            [[ $from == "$to" ]] && continue
            if ! tb exec "default/$from" ping -c 1 -W 1 "${ips[$to]}" \
                    >/dev/null 2>&1; then
                echo "# $from -> $to: lost"
                lost=$((lost + 1))
            fi
        done
    done
    echo "# $lost of 30 first pings lost"
    [[ $lost == 0 ]]
}

nodes_reach_pods() {
    local rc=0 n p
    for n in node1 node2 node3; do
        for p in "${pods[@]}"; do
            reach "$n" "${ips[$p]}" || rc=1
        done
    done
    return $rc
}

tcp_10mb() {   # FROM TO
    local port=$((6000 + RANDOM % 1000))
    head -c 10000000 /dev/urandom >"$work/send"
    tb exec "default/$2" timeout 30 nc -l -p "$port" >"$work/recv" &
    local listener=$!
    sleep 0.5
    tb exec "default/$1" timeout 30 nc -N "${ips[$2]}" "$port" \
        <"$work/send" || return 1
    wait "$listener"
    cmp "$work/send" "$work/recv"
}

# A connection from a pod on node1 to a pod on node3 stays up while node1's
# agent restarts: 60 lines, one every 0.1 s, all arrive.
survives_agent_restart() {
    local port=$((7000 + RANDOM % 1000))
    tb exec default/c1 timeout 30 nc -l -p "$port" >"$work/lines" &
    local listener=$!
    sleep 0.5
    (for i in $(seq 60); do echo "line $i"; sleep 0.1; done) \
        | tb exec default/a1 timeout 30 nc -N "${ips[c1]}" "$port" &
    local sender=$!
    sleep 1
    tb agent restart node1 >/dev/null || return 1
    wait "$sender"; wait "$listener"
    [[ $(wc -l <"$work/lines") == 60 ]] \
        || { echo "# $(wc -l <"$work/lines") of 60 lines arrived"; return 1; }
}

node_deleted() {
    tb kubectl delete node node3 >/dev/null || return 1
    local i
    for i in $(seq 50); do
        if ! ctl node1 nodes/list | grep -q '^node3 ' \
           && ! tb exec node1 ip route | grep -q '^10.244.3.0/24' \
           && ! ctl node1 flows/dump --owner node/node3 | grep -q .; then
            return 0
        fi
        sleep 0.2
    done
    ctl node1 nodes/list
    return 1
}

for mode in geneve vxlan none; do
    echo "# encap $mode"
    if ! tb up --nodes 3 --encap "$mode" >"$work/up.log" 2>&1; then
        cat "$work/up.log"
        check "testbed up --encap $mode" false
        continue
    fi
    pods=(a1 a2 b1 b2 c1 c2)
    declare -A ips=()
    for p in "${pods[@]}"; do
        case $p in a*) n=node1 ;; b*) n=node2 ;; *) n=node3 ;; esac
        tb pod create "default/$p" --node $n >/dev/null \
            || check "$mode: pod $p on $n" false
        ips[$p]=$(pod_ip "$p")
    done
    check "$mode: node1 lists its two peers" sh -c "[ \$(ovs-appctl -t \
        $TESTBED_DIR/nodes/node1/run/tendril-agent.ctl nodes/list \
        | grep -c ' route') -eq 2 ]"
    check "$mode: ovs-appctl -t tendril-agent works on a node" \
        tb exec node2 ovs-appctl -t tendril-agent agent/status
    check "$mode: all 30 pod pairs ping on the first try" first_try
    check "$mode: every pod reaches every pod and every node" all_reach
    check "$mode: every node reaches every pod" nodes_reach_pods
    check "$mode: TCP carries 10 MB intact from node1 to node2" tcp_10mb a1 b1
    check "$mode: a cross-node connection survives an agent restart" \
        survives_agent_restart
    check "$mode: deleting a Node removes its routes and flows" node_deleted
done

echo "nodes: $passed passed, $failed failed"
[[ $failed == 0 ]]
