#!/bin/bash
# Flow installation: Tendril's flow controller against
# `ovs-ofctl --bundle add-flows`, the same flows into the same kind of
# switch (a private ovs-vswitchd, userspace datapath, in a namespace), for
# 1k, 10k, 100k and 1M flows (BENCH_FLOWS_MAX=100000 stops at 100k), the
# controller's flows built as matches and actions and, for comparison,
# printed and parsed; then one changed flow among 100k (CPU time and flow
# mods sent) and an incremental change of 1% of 100k flows.  Prints the
# figures and the ratios.  Needs root.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/_build/release}
. "$TOP/tests/system/lib.sh"
BENCH=$BUILD/tests/bench/bench-ofctrl
[ -x "$BENCH" ] || make -C "$BUILD" -s tests/bench/bench-ofctrl

NS=bench-flows-$$
DIR=$(mktemp -d /tmp/tendril-bench-flows.XXXXXX)
cleanup() {
    ovs_stop "$DIR"
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

ip netns add "$NS"
ovs_start "$NS" "$DIR"
vsctl "$DIR" -- set Open_vSwitch . other_config:flow-restore-wait=false \
    -- add-br br-bench -- set Bridge br-bench datapath_type=netdev \
       fail_mode=secure protocols=OpenFlow10,OpenFlow13,OpenFlow15
for i in $(seq 0 20); do
    vsctl "$DIR" -- --id=@t create Flow_Table \
        name="$(sed -n "s/^ *TABLE([A-Z_0-9]*, *\"\([A-Za-z0-9]*\)\").*/\1/p" \
                "$TOP/flows/tables.h" | sed -n "$((i + 1))p")" \
        -- set Bridge br-bench flow_tables:$i=@t >/dev/null
done

ms() { echo $(( ($2 - $1) / 1000000 )); }
clear_flows() { ofctl "$DIR" del-flows br-bench; }

max=${BENCH_FLOWS_MAX:-1000000}
printf '%-8s %12s %12s %8s %14s\n' flows tendril-ms ovs-ofctl-ms ratio \
    text-parse-ms
for n in 1000 10000 100000 1000000; do
    [ "$n" -le "$max" ] || continue
    clear_flows
    "$BENCH" --print $n >"$DIR/flows.txt"
    t0=$(date +%s%N)
    OVS_RUNDIR=$DIR ovs-ofctl -O OpenFlow15 --bundle add-flows br-bench \
        "$DIR/flows.txt"
    t1=$(date +%s%N)
    [ "$(ofctl "$DIR" dump-flows br-bench | grep -c priority=100)" = $n ]
    ofctl_ms=$(ms $t0 $t1)

    clear_flows
    text=$("$BENCH" --text "unix:$DIR/br-bench.mgmt" $n | head -n 1)
    text_ms=$(echo "$text" | sed -n 's/.*flows: \([0-9]*\) ms.*/\1/p')

    clear_flows
    out=$("$BENCH" "unix:$DIR/br-bench.mgmt" $n | head -n 1)
    [ "$(ofctl "$DIR" dump-flows br-bench | grep -c priority=100)" = $n ]
    ours_ms=$(echo "$out" | sed -n 's/.*flows: \([0-9]*\) ms.*/\1/p')
    printf '%-8s %12s %12s %8s %14s   (%s)\n' $n "$ours_ms" "$ofctl_ms" \
        "$(awk "BEGIN {printf \"%.2f\", $ours_ms / ($ofctl_ms ? $ofctl_ms : 1)}")" \
        "$text_ms" "$(echo "$out" | sed 's/.*(\(.*\))/\1/')"
done

clear_flows
echo "incremental:"
"$BENCH" "unix:$DIR/br-bench.mgmt" 100000 1
