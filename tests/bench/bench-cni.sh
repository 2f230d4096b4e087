#!/bin/bash
# CNI ADD latency (until the pod's flows are installed: the agent answers
# only then) and DEL latency over N pods (default 100), p50 and p99, side
# by side in the same run with the reference `bridge` + `host-local`
# plugins from Debian's containernetworking-plugins.  Each plugin runs in
# its own node namespace.  Needs root.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/_build/release}
N=${1:-100}
. "$TOP/tests/system/lib.sh"
[ -x /usr/lib/cni/bridge ] || { echo "bench-cni: needs containernetworking-plugins"; exit 1; }

P=bc$$
DIR=$(mktemp -d /tmp/tendril-bench-cni.XXXXXX)
cleanup() {
    agent_stop "$DIR/ovs"
    ovs_stop "$DIR/ovs"
    for ns in $(ip netns list | awk '{print $1}' | grep "^$P-"); do
        ip netns del "$ns"
    done
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

ip netns add "$P-tendril"
ip netns add "$P-ref"
ovs_start "$P-tendril" "$DIR/ovs"
agent_start "$P-tendril" "$DIR/ovs" bench 10.244.0.0/16
wait_for 20 agent_ready "$DIR/ovs" >/dev/null

cat >"$DIR/tendril.json" <<CONF
{"cniVersion": "1.0.0", "name": "tendril", "type": "tendril",
 "agentSocket": "$DIR/ovs/cni.sock"}
CONF
cat >"$DIR/ref.json" <<CONF
{"cniVersion": "1.0.0", "name": "ref", "type": "bridge", "bridge": "cni-br0",
 "isGateway": true, "ipam": {"type": "host-local", "subnet": "10.245.0.0/16",
 "dataDir": "$DIR/host-local"}}
CONF
cp "$BUILD/cni/tendril" "$DIR/tendril"

# run PLUGIN NODE CONF CMD I: one plugin call, its time in microseconds on
# stdout.
run() {
    local plugin=$1 node=$2 conf=$3 cmd=$4 i=$5 t0 t1
    t0=$(date +%s%N)
    ip netns exec "$node" env CNI_COMMAND=$cmd CNI_CONTAINERID="c$i" \
        CNI_NETNS="/var/run/netns/$P-pod$i-$plugin" CNI_IFNAME=eth0 \
        CNI_PATH="$DIR:/usr/lib/cni" "$plugin_bin" <"$conf" \
        >"$DIR/out" 2>&1 || { cat "$DIR/out" >&2; exit 1; }
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 ))
}

pct() {   # FILE PERCENTILE
    sort -n "$1" | awk -v p="$2" '{v[NR] = $1} END {
        i = int((NR * p + 99) / 100); if (i < 1) i = 1; printf "%.1f", v[i] / 1000 }'
}

for plugin in tendril ref; do
    node=$P-$plugin
    plugin_bin=$([ $plugin = tendril ] && echo "$DIR/tendril" || echo /usr/lib/cni/bridge)
    for i in $(seq "$N"); do ip netns add "$P-pod$i-$plugin"; done
    : >"$DIR/$plugin.add"; : >"$DIR/$plugin.del"
    for i in $(seq "$N"); do
        run $plugin "$node" "$DIR/$plugin.json" ADD "$i" >>"$DIR/$plugin.add"
    done
    for i in $(seq "$N"); do
        run $plugin "$node" "$DIR/$plugin.json" DEL "$i" >>"$DIR/$plugin.del"
    done
done

echo "CNI latency over $N pods, milliseconds (same run, same machine)"
printf '%-6s %-5s %10s %10s %10s %10s\n' op stat tendril bridge+hl ratio ""
for op in add del; do
    for p in 50 99; do
        t=$(pct "$DIR/tendril.$op" $p); r=$(pct "$DIR/ref.$op" $p)
        printf '%-6s p%-4s %10s %10s %10s\n' "$op" "$p" "$t" "$r" \
            "$(awk "BEGIN {printf \"%.2f\", $t / $r}")"
    done
done
