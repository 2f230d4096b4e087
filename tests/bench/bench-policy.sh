#!/bin/bash
# NetworkPolicy at scale: on a private one-node test bed, LOCAL pods with
# real attachments on node1 and REMOTE pods that exist only as API objects
# (on other nodes, with addresses), then POLICIES policies (defaults 100,
# 900, 1000; env BENCH_POL_LOCAL, BENCH_POL_REMOTE, BENCH_POL_POLICIES).
# Policy i applies to the pods labelled app=a(i%10) and lets in, on one TCP
# port, the pods labelled app=a((i+1)%10), grp=g(i%100) or hot=yes.
#
# Prints: the time from the last policy created until every policy's
# conjunction is in the switch, the flows installed, the agent's RSS and
# CPU time for the load; then, for a pod that no rule names, the latency
# from `kubectl label` until the switch has its flow, and the flow mods
# sent, when the label makes it a peer of 10 rules (grp) and of every rule
# (hot).  With BENCH_POL_PERF=FILE, perf records the agent during each
# label change into FILE.10 and FILE.1000.  Needs root and the test bed's
# dependencies.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TENDRIL_BUILD_DIR:-${BUILD:-$TOP/_build/release}}
export TENDRIL_AGENT=${TENDRIL_AGENT:-$BUILD/agent/tendril-agent}
export TENDRIL_CNI=${TENDRIL_CNI:-$BUILD/cni/tendril}
LOCAL=${BENCH_POL_LOCAL:-100}
REMOTE=${BENCH_POL_REMOTE:-900}
POLICIES=${BENCH_POL_POLICIES:-1000}
NS=bp

export TESTBED_DIR=/run/tendril-bench-policy.$$
export TESTBED_PREFIX=tbq$$-
testbed=$TOP/tests/testbed/testbed
work=$(mktemp -d /tmp/bench-policy.XXXXXX)
cleanup() {
    "$testbed" down >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

tb() { "$testbed" "$@"; }
ctl() {
    ovs-appctl -t "$TESTBED_DIR/nodes/node1/run/tendril-agent.ctl" "$@"
}
ofctl() {
    tb exec node1 ovs-ofctl -O OpenFlow15 "$@"
}
now() {
    date +%s.%N
}
since() {
    awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'
}
rss() {
    ctl memory/show | awk '/^VmRSS:/ { printf "%.1f MB\n", $2 / 1024 }'
}
stat_of() {   # NAME: a counter of flows/sync-stats
    ctl flows/sync-stats | sed -n "s/^$1: //p"
}
flow_mods() {
    echo $(( $(stat_of "flows added") + $(stat_of "flows modified")
             + $(stat_of "flows deleted") ))
}

echo "bench-policy: $POLICIES policies over $LOCAL local and $REMOTE" \
     "remote pods"
tb up --nodes 1 >"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
tb kubectl create namespace $NS >/dev/null
pid=$(cut -d' ' -f1 "$TESTBED_DIR/procs/tendril-agent-node1")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)

t0=$(now)
for ((i = 0; i < LOCAL; i++)); do
    tb pod create "$NS/l$i" --node node1 --labels "app=a$((i % 10))" \
        >/dev/null
done
echo "$LOCAL local pods made (CNI ADD each) in $(since "$t0") s"

# The remote pods: created as API objects, then given addresses through
# the status subresource, all from one Python process in the control
# plane's namespace.
awk -v n="$REMOTE" -v ns=$NS 'BEGIN {
    printf "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
    for (i = 0; i <= n; i++) {
        app = (i == n) ? "none" : sprintf("a%d", i % 10)
        printf "%s{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":" \
            "{\"name\":\"r%d\",\"namespace\":\"%s\",\"labels\":" \
            "{\"app\":\"%s\"}},\"spec\":{\"nodeName\":\"remote%d\"," \
            "\"containers\":[{\"name\":\"c\",\"image\":\"none\"}]}}",
            (i ? "," : ""), i, ns, app, i % 9
    }
    print "]}"
}' >"$work/remote.json"
tb kubectl create -f "$work/remote.json" >/dev/null
tb exec cp python3 - "$TESTBED_DIR/pki" "$REMOTE" $NS <<'PY'
import http.client, json, ssl, sys
pki, n, ns = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/admin.crt", pki + "/admin.key")
c = http.client.HTTPSConnection("172.30.0.2", 6443, context=ctx)
for i in range(n + 1):
    ip = "10.200.%d.%d" % (i // 250, i % 250 + 1)
    body = json.dumps({"status": {"phase": "Running", "podIP": ip,
                                  "podIPs": [{"ip": ip}]}})
    c.request("PATCH", "/api/v1/namespaces/%s/pods/r%d/status" % (ns, i),
              body, {"Content-Type": "application/merge-patch+json"})
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("pod r%d: HTTP %d" % (i, r.status))
PY
hot_ip=10.200.$((REMOTE / 250)).$((REMOTE % 250 + 1))
echo "$REMOTE remote pods (and r$REMOTE, $hot_ip, that no rule names) made"

awk -v n="$POLICIES" -v ns=$NS 'BEGIN {
    for (f = 0; f * 500 < n; f++) {
        file = sprintf("'"$work"'/pol-%03d.json", f)
        printf "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" > file
        for (i = f * 500; i < n && i < (f + 1) * 500; i++)
            printf "%s{\"apiVersion\":\"networking.k8s.io/v1\"," \
                "\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":" \
                "\"p%d\",\"namespace\":\"%s\"},\"spec\":{\"podSelector\":" \
                "{\"matchLabels\":{\"app\":\"a%d\"}},\"ingress\":[{\"from\":" \
                "[{\"podSelector\":{\"matchLabels\":{\"app\":\"a%d\"}}}," \
                "{\"podSelector\":{\"matchLabels\":{\"grp\":\"g%d\"}}}," \
                "{\"podSelector\":{\"matchLabels\":{\"hot\":\"yes\"}}}]," \
                "\"ports\":[{\"port\":%d}]}]}}",
                (i > f * 500 ? "," : ""), i, ns, i % 10, (i + 1) % 10,
                i % 100, 1000 + i % 20 > file
        print "]}" > file
        close(file)
    }
}'
conj_ids() {
    ofctl dump-flows br-int table=IngressRule | grep -c conj_id= || true
}
c0=$(cpu_ticks) t0=$(now)
ls "$work"/pol-*.json | xargs -P 2 -I{} \
    "$testbed" kubectl create -f {} >/dev/null
t_last=$(now)
echo "$POLICIES policies created in $(since "$t0") s"
until [[ $(conj_ids) -ge $POLICIES ]]; do
    sleep 0.05
done
echo "last policy created to every conjunction in the switch:" \
     "$(since "$t_last") s"
c1=$(cpu_ticks)
echo "flows installed: $(stat_of "installed flows")" \
     "($(ofctl dump-flows --names br-int \
         | grep -c 'table=\(Ingress\|Egress\)') in" \
     "the policy tables)"
echo "agent RSS: $(rss)"
awk -v c=$((c1 - c0)) -v hz="$hz" 'BEGIN {
    printf "agent CPU for the policies: %.2f s\n", c / hz }'

# label K LABEL: r$REMOTE gets LABEL, which makes it a peer of K rules.
label() {
    local k=$1 lbl=$2 m0 t0 n
    m0=$(flow_mods) c0=$(cpu_ticks)
    local perf=
    if [[ -n ${BENCH_POL_PERF-} ]]; then
        # A profile of the agent during this change, for finding its cost.
        perf record -q -g -p "$pid" -o "$BENCH_POL_PERF.$k" &
        perf=$!
        sleep 0.5
    fi
    t0=$(now)
    tb kubectl -n $NS label pod "r$REMOTE" "$lbl" >/dev/null
    # kubectl itself takes about 0.25 s; the API server has the change by
    # the time it returns, so the time after that is an upper bound of the
    # rest (watch, agent, switch).
    local t1=$(now)
    until ofctl dump-flows br-int "table=IngressRule,ip,nw_src=$hot_ip" \
            | grep -q conjunction; do
        sleep 0.005
    done
    local lat=$(since "$t0") after=$(since "$t1")
    # The agent's own part: from taking the change in to the switch's
    # acknowledgement of its bundle.
    local agent_ms
    agent_ms=$(ctl flows/sync-stats \
        | sed -n 's/^API change to installed: last \([0-9]*\) ms.*/\1/p')
    sleep 1
    if [[ -n $perf ]]; then
        kill -INT "$perf"
        wait "$perf" || true
    fi
    n=$(ofctl dump-flows br-int "table=IngressRule,ip,nw_src=$hot_ip" \
        | grep -o 'conjunction(' | wc -l)
    echo "label making a pod a peer of $k rules: ${lat} s to the switch" \
         "(kubectl included; ${after} s after kubectl returned;" \
         "${agent_ms:-?} ms in the agent, API change to installed)," \
         "$(( $(flow_mods) - m0 )) flow mods," \
         "$n conjunctions on its flow, agent CPU" \
         "$(awk -v c=$(( $(cpu_ticks) - c0 )) -v hz="$hz" \
            'BEGIN { printf "%.3f", c / hz }') s"
    tb kubectl -n $NS label pod "r$REMOTE" "${lbl%%=*}-" >/dev/null
    until ! ofctl dump-flows br-int "table=IngressRule,ip,nw_src=$hot_ip" \
            | grep -q conjunction; do
        sleep 0.05
    done
}
label 10 grp=g5
label "$POLICIES" hot=yes
