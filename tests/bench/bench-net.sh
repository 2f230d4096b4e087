#!/bin/bash
# Pod-to-pod TCP throughput (iperf3, 5 s) and ping latency (50 pings, 20 ms
# apart): on one node and across nodes in geneve, vxlan and noEncap, on the
# test bed (userspace datapath); and, as baselines in the same run, two
# namespaces on one OVS bridge with a single NORMAL flow, and a bare veth
# pair.  Prints the figures and each one's ratio to the bare veth pair.
# Needs root and the test bed's dependencies.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/_build/release}
. "$TOP/tests/system/lib.sh"
export TENDRIL_BUILD_DIR=$BUILD
export TESTBED_DIR=/run/tendril-bench-net.$$ TESTBED_PREFIX=bn$$-
TB=$TOP/tests/testbed/testbed
P=bnb$$
DIR=$(mktemp -d /tmp/tendril-bench-net.XXXXXX)
SECONDS_PER_RUN=${BENCH_SECONDS:-5}

cleanup() {
    ovs_stop "$DIR/ovs" 2>/dev/null || true
    for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
        ip netns del "$ns"
    done
    "$TB" down >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

# measure NAME SERVER-CMD-PREFIX CLIENT-CMD-PREFIX SERVER-IP
measure() {
    local name=$1 server=$2 client=$3 ip=$4 gbps lat
    $server iperf3 -s -1 >/dev/null 2>&1 &
    local spid=$!
    sleep 0.5
    $client ping -c 2 -W 2 "$ip" >/dev/null 2>&1 || true   # warm up paths
    gbps=$($client iperf3 -c "$ip" -t "$SECONDS_PER_RUN" -J \
           | jq '.end.sum_received.bits_per_second / 1e9')
    wait "$spid" || true
    lat=$($client ping -c 50 -i 0.02 -W 1 "$ip" \
          | sed -n 's|.* = [0-9.]*/\([0-9.]*\)/.*|\1|p')
    printf '%s %.2f %s\n' "$name" "$gbps" "$lat" >>"$DIR/results"
}

# Bare veth pair.
ip netns add "$P-v1"; ip netns add "$P-v2"
ip link add "$P-a" netns "$P-v1" type veth peer name "$P-b" netns "$P-v2"
ip -n "$P-v1" addr add 10.250.0.1/24 dev "$P-a"
ip -n "$P-v2" addr add 10.250.0.2/24 dev "$P-b"
ip -n "$P-v1" link set "$P-a" up; ip -n "$P-v2" link set "$P-b" up
measure "veth-pair" "ip netns exec $P-v2" "ip netns exec $P-v1" 10.250.0.2

# One OVS bridge (userspace datapath), one NORMAL flow, two namespaces.
ip netns add "$P-sw"
ovs_start "$P-sw" "$DIR/ovs"
vsctl "$DIR/ovs" -- set Open_vSwitch . other_config:flow-restore-wait=false \
    -- add-br br0 -- set Bridge br0 datapath_type=netdev
for i in 1 2; do
    ip netns add "$P-n$i"
    ip link add "$P-h$i" netns "$P-sw" type veth peer name eth0 netns "$P-n$i"
    ip -n "$P-n$i" addr add 10.251.0.$i/24 dev eth0
    ip -n "$P-n$i" link set eth0 up
    ip netns exec "$P-n$i" ethtool -K eth0 tx off >/dev/null
    ip -n "$P-sw" link set "$P-h$i" up
    vsctl "$DIR/ovs" add-port br0 "$P-h$i"
done
ofctl "$DIR/ovs" del-flows br0
ofctl "$DIR/ovs" add-flow br0 actions=NORMAL
measure "ovs-normal" "ip netns exec $P-n2" "ip netns exec $P-n1" 10.251.0.2

# Tendril on the test bed.
for mode in geneve vxlan none; do
    "$TB" up --nodes 2 --encap $mode >/dev/null
    "$TB" pod create default/p1 --node node1 >/dev/null
    "$TB" pod create default/p2 --node node1 >/dev/null
    "$TB" pod create default/p3 --node node2 >/dev/null
    ip2=$("$TB" kubectl get pod p2 -o jsonpath='{.status.podIP}')
    ip3=$("$TB" kubectl get pod p3 -o jsonpath='{.status.podIP}')
    if [ $mode = geneve ]; then
        measure "tendril-same-node" "$TB exec default/p2" \
            "$TB exec default/p1" "$ip2"
    fi
    measure "tendril-cross-$mode" "$TB exec default/p3" \
        "$TB exec default/p1" "$ip3"
    "$TB" down >/dev/null
done

echo "TCP throughput (iperf3, ${SECONDS_PER_RUN} s) and ping latency (avg of 50)"
printf '%-22s %10s %8s %10s %8s\n' path Gbit/s ratio latency-ms ratio
read -r _ base_g base_l < <(grep '^veth-pair ' "$DIR/results")
while read -r name g l; do
    printf '%-22s %10s %8s %10s %8s\n' "$name" "$g" \
        "$(awk "BEGIN {printf \"%.2f\", $g / $base_g}")" "$l" \
        "$(awk "BEGIN {printf \"%.2f\", $l / $base_l}")"
done <"$DIR/results"
