#!/bin/bash
# Services: Tendril's proxy against kube-proxy v1.20.2 in iptables mode
# (built from the same Debian source package as the API server; Tendril
# then runs with --proxy=none), in one run on a one-node test bed with
# three real server pods and a client pod.  Prints:
#   - the spread over the endpoints of a Service with 3, 64, 300 and 1,000
#     endpoints (Tendril; UDP datagrams from distinct ports, counted per
#     bucket by the switch), with the spread a perfectly random choice of
#     as many samples gives, which is what kube-proxy's iptables
#     `statistic --mode random` rules aim at;
#   - first-connection latency to a ClusterIP with 1 Service and with the
#     most Services (Tendril's 1-Service figure twice, before and after
#     kube-proxy's run, so that drift of the host shows), and the ratios;
#   - Tendril's first-connection latency with 1 and with the most Services
#     in alternation, in one switch, with and without megaflows (see
#     alternating() below): the figure that can resolve a 10% difference;
#   - programming latency (a Service created, its EndpointSlice already in
#     place, until a connection from the client pod succeeds: the API
#     request included), p50 and p99 over CHANGES changes, with 1,000 and
#     10,000 Services of 3 endpoints in place;
#   - cold sync at the most Services: time until flows and groups (rules)
#     are installed and until every Service answers a connection, and the
#     proxy's RSS and CPU.
# Environment: BENCH_SVC_COUNTS (default "1000 10000"), BENCH_SVC_CHANGES
# (100), BENCH_SVC_SPREAD ("3 64 300 1000"; empty for none),
# BENCH_SVC_ROUNDS (4 of each state in the alternation; 0 for none),
# BENCH_SVC_KUBE_PROXY (no: Tendril alone).  kube-proxy runs on iptables-legacy: with Debian's
# default iptables-nft its first restore of 10,000 Services had not ended
# after 100 s, and every later sync rewrites all rules.  Needs root and the
# test bed's dependencies; builds kube-proxy into the Kubernetes cache once.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TENDRIL_BUILD_DIR:-${BUILD:-$TOP/_build/release}}
export TENDRIL_AGENT=${TENDRIL_AGENT:-$BUILD/agent/tendril-agent}
export TENDRIL_CNI=${TENDRIL_CNI:-$BUILD/cni/tendril}
COUNTS=${BENCH_SVC_COUNTS:-1000 10000}
CHANGES=${BENCH_SVC_CHANGES:-100}
SPREAD=${BENCH_SVC_SPREAD-3 64 300 1000}
PEER=${BENCH_SVC_KUBE_PROXY:-yes}
BATCH=500

export TESTBED_DIR=/run/tendril-bench-svc.$$
export TESTBED_PREFIX=tbs$$-
testbed=$TOP/tests/testbed/testbed
client_py=$TOP/tests/bench/svc-client.py
work=$(mktemp -d /tmp/bench-services.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    "$testbed" down >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

tb() { "$testbed" "$@"; }
ctl() { ovs-appctl -t "$TESTBED_DIR/nodes/node1/run/tendril-agent.ctl" "$@"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
agent_pid() { cut -d' ' -f1 "$TESTBED_DIR/procs/tendril-agent-node1"; }
# p50 and p99 of the numbers in file $1.
percentiles() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        if (!NR) { print "no samples"; exit }
        i50 = int(NR * 0.50 + 0.5); i99 = int(NR * 0.99 + 0.5)
        if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
        printf "p50 %.2f ms, p99 %.2f ms (%d samples)", v[i50], v[i99], NR }'
}

command -v iptables-restore >/dev/null && command -v conntrack >/dev/null \
    || "$TOP/tests/testbed/install-deps.sh" --no-build >/dev/null
kube=$("$TOP/tests/testbed/build-kube.sh" kube-proxy | tail -n 1)
kube_proxy=$kube/bin/kube-proxy

echo "bench-services: counts $COUNTS, $CHANGES changes, spread at $SPREAD"
tb up --nodes 1 >"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
api_url=$(jq -r '.clusters[0].cluster.server' "$TESTBED_DIR/admin.kubeconfig")
# post PATH FILE: a raw create as admin, from the control plane's host
# (curl alone: no kubectl or test-bed script to start in the timed part).
post() {
    ip netns exec "${TESTBED_PREFIX}cp" curl -sS -o /dev/null \
        -w '%{http_code}' -X POST --cacert "$TESTBED_DIR/pki/ca.crt" \
        --cert "$TESTBED_DIR/pki/admin.crt" \
        --key "$TESTBED_DIR/pki/admin.key" \
        -H 'Content-Type: application/json' --data-binary "@$2" \
        "$api_url$1" | grep -q '^20'
}

for i in 1 2 3; do
    tb pod create "default/srv$i" --node node1 --labels app=srv >/dev/null
    # "$testbed" itself, not tb(): $! is then the server's pid (exec all
    # the way down).
    "$testbed" exec "default/srv$i" python3 \
        "$TOP/tests/system/name-server.py" "srv$i" --tcp 8080 --udp 8081 &
    pids+=($!)
done
tb pod create default/client --node node1 >/dev/null
srv_ips=()
for i in 1 2 3; do
    srv_ips+=("$(tb kubectl get pod "srv$i" -o jsonpath='{.status.podIP}')")
done
in_client() { tb exec default/client python3 "$client_py" "$@"; }

# ---------------------------------------------------------------------------
# Spread.
# A Service without a selector whose N endpoints are made-up addresses in
# the node's pod range, 250 to an EndpointSlice, each slice with its own
# port, so that N can exceed one /24.
node_cidr=$(tb kubectl get node node1 -o jsonpath='{.spec.podCIDR}')
base=${node_cidr%.*}
spread_objects() {   # N
    awk -v n="$1" -v base="$base" 'BEGIN {
        printf "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":["
        printf "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
        printf "{\"name\":\"spread%d\",\"namespace\":\"default\"},", n
        printf "\"spec\":{\"ports\":[{\"name\":\"u\",\"port\":53,"
        printf "\"protocol\":\"UDP\"}]}}"
        for (k = 0; k * 250 < n; k++) {
            printf ",{\"apiVersion\":\"discovery.k8s.io/v1beta1\","
            printf "\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
            printf "\"spread%d-%d\",\"namespace\":\"default\",\"labels\":", n, k
            printf "{\"kubernetes.io/service-name\":\"spread%d\"}},", n
            printf "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"u\","
            printf "\"port\":%d,\"protocol\":\"UDP\"}],\"endpoints\":[", 9000 + k
            for (j = 0; j < 250 && k * 250 + j < n; j++)
                printf "%s{\"addresses\":[\"%s.%d\"]}", (j ? "," : ""),
                    base, 2 + j
            printf "]}"
        }
        print "]}"
    }'
}
echo
echo "== spread over endpoints (Tendril; UDP, one datagram per source port)"
for n in $SPREAD; do
    spread_objects "$n" >"$work/spread$n.json"
    tb kubectl create -f "$work/spread$n.json" >/dev/null
    until ctl services/list 2>/dev/null \
            | grep -q "^default/spread$n: .* $n endpoints"; do
        sleep 0.2
    done
    group=$(ctl services/list | sed -n "/^default\/spread$n:/,/^[^ ]/p" \
            | sed -n 's/.*udp\/53.*group \([0-9]*\).*/\1/p' | head -n 1)
    vip=$(tb kubectl get service "spread$n" -o jsonpath='{.spec.clusterIP}')
    samples=$((n * 50 < 10000 ? 10000 : n * 50))
    samples=$((samples > 55000 ? 55000 : samples))
    in_client spread "$vip" 53 "$samples"
    sleep 3    # The revalidators push datapath flow statistics.
    tb exec node1 ovs-ofctl -O OpenFlow15 dump-groups br-int \
        | grep "group_id=$group," >"$work/groups"
    tb exec node1 ovs-ofctl -O OpenFlow15 dump-group-stats br-int \
        | grep "group_id=$group," >"$work/stats"
    method=$(grep -o 'selection_method=[a-z_]*' "$work/groups" | head -n 1)
    python3 - "$work/groups" "$work/stats" "$n" "$samples" "${method#*=}" \
        <<'PYEOF'
import random, re, sys
groups, stats, n, samples, method = sys.argv[1:6]
n, samples = int(n), int(samples)
ep = {}
for chunk in open(groups).read().split("bucket=bucket_id:")[1:]:
    values = re.findall(r"(?:load|set_field):([0-9a-fx]+)(?:/0x[0-9a-f]+)?->", chunk)
    ep[int(chunk.split(",")[0])] = tuple(values[:2])
count = {}
text = open(stats).read()
for b, pkts in re.findall(r"bucket(\d+):packet_count=(\d+)", text):
    key = ep[int(b)]
    count[key] = count.get(key, 0) + int(pkts)
total = sum(count.values())
shares = sorted(c / total * len(count) for c in count.values())
random.seed(n)
ideal = [0] * n
for _ in range(total):
    ideal[random.randrange(n)] += 1
ideal = sorted(c / total * n for c in ideal)
print("%4d endpoints (%s, %d buckets): %d of %d datagrams counted; "
      "largest share %.2fx, smallest %.2fx of an even share; a random "
      "choice of as many: %.2fx, %.2fx"
      % (n, method, len(ep), total, samples, shares[-1], shares[0],
         ideal[-1], ideal[0]))
if len(count) != n:
    print("     only %d endpoints were reached" % len(count))
PYEOF
    tb kubectl delete -f "$work/spread$n.json" >/dev/null
done

# ---------------------------------------------------------------------------
# Services in bulk, each with a slice of the three servers.
tb kubectl create namespace bulk >/dev/null
created=0
bulk_to() {   # TOTAL: creates Services s$created..s$((TOTAL-1)) in bulk.
    awk -v from="$created" -v to="$1" -v batch="$BATCH" -v dir="$work" \
        -v ips="${srv_ips[*]}" '
    BEGIN {
        split(ips, ip, " ")
        for (f = from; f < to; f += batch) {
            file = sprintf("%s/bulk-%06d.json", dir, f)
            printf "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" > file
            for (i = f; i < to && i < f + batch; i++) {
                printf "%s{\"apiVersion\":\"v1\",\"kind\":\"Service\"," \
                    "\"metadata\":{\"name\":\"s%d\",\"namespace\":\"bulk\"," \
                    "\"labels\":{\"tier\":\"t%d\"}},\"spec\":{\"ports\":" \
                    "[{\"name\":\"http\",\"port\":80,\"targetPort\":8080}]}}",
                    (i > f ? "," : ""), i, to > file
                printf ",{\"apiVersion\":\"discovery.k8s.io/v1beta1\"," \
                    "\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":" \
                    "\"s%d-x\",\"namespace\":\"bulk\",\"labels\":" \
                    "{\"kubernetes.io/service-name\":\"s%d\",\"tier\":\"t%d\"}}," \
                    "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\"," \
                    "\"port\":8080,\"protocol\":\"TCP\"}],\"endpoints\":[" \
                    "{\"addresses\":[\"%s\"]},{\"addresses\":[\"%s\"]}," \
                    "{\"addresses\":[\"%s\"]}]}", i, i, to, ip[1], ip[2],
                    ip[3] > file
            }
            print "]}" > file
            close(file)
        }
    }'
    ls "$work"/bulk-*.json | xargs -P 4 -I{} sh -c \
        "'$testbed' kubectl create -f {} >/dev/null && rm {}"
    created=$1
}
vips() {
    tb kubectl get services -n bulk \
        -o jsonpath='{range .items[*]}{.spec.clusterIP}{"\n"}{end}'
}
# The switch holds the groups of N bulk Services (and the spread ones are
# gone), besides the kubernetes Service's.
tendril_has() {   # N
    local g
    g=$(tb exec node1 ovs-ofctl -O OpenFlow15 dump-groups br-int \
        | grep -c 'group_id=')
    ((g >= $1 + 1))
}
# kube-proxy's rules hold N cluster IPs of bulk Services (the jump to the
# Service's chain; each also has a masquerade mark rule).
kube_proxy_has() {   # N
    local r
    r=$(tb exec node1 iptables-legacy-save -t nat \
        | grep '^-A KUBE-SERVICES .*"bulk/s[0-9]*:http cluster IP"' \
        | grep -c -- '-j KUBE-SVC-')
    ((r >= $1))
}

# quiet: waits (up to 120 s) until the host is at least 80% idle over a
# second, so that the API server's and etcd's work after a bulk change does
# not land in a latency figure; prints how long it waited.
quiet() {
    local t0 i
    t0=$(now)
    for i in $(seq 120); do
        awk '
            FNR == 1 && FILENAME != prev { n++; prev = FILENAME }
            /^cpu / { t = 0; for (f = 2; f <= NF; f++) t += $f
                      tot[n] = t; idle[n] = $5 + $6 }
            END { exit !((idle[2] - idle[1]) >= 0.8 * (tot[2] - tot[1])) }' \
            /proc/stat <(sleep 1; cat /proc/stat) && break
    done
    echo "    (host quiet after $(since "$t0") s)"
}

# p50 FILE: the median of the numbers in FILE.
p50() {
    sort -n "$1" | awk '{ v[NR] = $1 } END {
        i = int(NR * 0.5 + 0.5); if (i < 1) i = 1; print v[i] }'
}

# first-connection latency: LABEL KEY.  1,000 new connections from the
# client pod, one after another, to s0; the first 100 warm up, the other
# 900 give the figures.  KEY's p50 goes to $work/p50.KEY for the ratios.
first_latency() {
    local vip
    vip=$(tb kubectl get service -n bulk s0 -o jsonpath='{.spec.clusterIP}')
    quiet
    in_client first "$vip" 80 1000 >"$work/first"
    grep -q failed "$work/first" && \
        echo "    ($(grep -c failed "$work/first") connections failed)"
    grep -v failed "$work/first" | tail -n 900 >"$work/first.ms"
    echo "  first-connection latency, $1: $(percentiles "$work/first.ms")"
    p50 "$work/first.ms" >"$work/p50.$2"
}
# alternating: first-connection latency with 1 and with $max Services in
# turn, in the same switch, ROUNDS times each in the order 1 N N 1 1 N N 1
# (so that a steady drift of the host weighs on both alike).  Runs on other
# days of this host differed by a third between two identical 1-Service
# figures, so one figure per count cannot show a 10% bound; this can.  The
# agent is stopped (its flows stay, as on any restart) and the switch is
# switched between its own two states: all flows and groups, as the agent
# installed them for $max Services, and the same less the flows of every
# bulk Service but s0 (found by their cluster IP) and the groups only those
# used.  Each state is measured twice: with megaflows (the datapath's cache,
# as in use) and with megaflows disabled, so that the first packet of every
# connection goes through the OpenFlow tables.
alternating() {
    local rounds=${BENCH_SVC_ROUNDS:-4} s0vip per_flows per_groups i mode st
    local order="" state=max out dropped gone
    [[ $rounds == 0 ]] && return 0
    s0vip=$(tb kubectl get service -n bulk s0 -o jsonpath='{.spec.clusterIP}')
    # One bulk Service's share, as the agent counts it.
    ctl flows/dump --owner service/bulk/s1 >"$work/s1.dump"
    per_flows=$(grep -c '^table=' "$work/s1.dump")
    per_groups=$(grep -c '^group_id=' "$work/s1.dump")
    vips >"$work/vips"
    tb agent stop node1 >/dev/null
    tb exec node1 ovs-ofctl -O OpenFlow15 dump-flows --no-names --no-stats \
        br-int | sed -e '/^OFPST_FLOW/d' -e '/^NXST_FLOW/d' \
        -e 's/\(idle\|hard\)_age=[^,]*,//g' >"$work/flows.max"
    tb exec node1 ovs-ofctl -O OpenFlow15 dump-groups br-int \
        | sed -e '/^OFPST_GROUP_DESC/d' -e '/^NXST_GROUP_DESC/d' \
        >"$work/groups.max"
    out=$(python3 - "$work" "$s0vip" <<'PYEOF'
import re, sys
work, s0vip = sys.argv[1:3]
vips = set(open(work + "/vips").read().split()) - {s0vip}
keep, drop = [], []
for line in open(work + "/flows.max").read().splitlines():
    m = re.search(r"nw_dst=([0-9.]+)(?=[, ]|$)", line)
    (drop if m and m.group(1) in vips else keep).append(line)
used = set(re.findall(r"group:(\d+)", "\n".join(keep)))
gone = set(re.findall(r"group:(\d+)", "\n".join(drop))) - used
open(work + "/flows.one", "w").write("\n".join(keep) + "\n")
with open(work + "/groups.gone", "w") as f:
    for g in sorted(gone, key=int):
        f.write("group_id=%s\n" % g)
with open(work + "/groups.back", "w") as f:
    for line in open(work + "/groups.max"):
        m = re.search(r"group_id=(\d+),", line)
        if m and m.group(1) in gone:
            f.write(line)
print(len(drop), len(gone))
PYEOF
    )
    read -r dropped gone <<<"$out"
    echo "  alternating 1 and $max Services in one switch (agent stopped):" \
         "the 1-Service state lacks $dropped flows and $gone groups; the" \
         "agent's own count for $((max - 1)) Services:" \
         "$((per_flows * (max - 1))) flows, $((per_groups * (max - 1))) groups"
    to_state() {   # one | max
        [[ $state == "$1" ]] && return 0
        if [[ $1 == one ]]; then
            tb exec node1 ovs-ofctl -O OpenFlow15 --bundle replace-flows \
                br-int "$work/flows.one"
            tb exec node1 ovs-ofctl -O OpenFlow15 del-groups br-int - \
                <"$work/groups.gone"
        else
            tb exec node1 ovs-ofctl -O OpenFlow15 add-groups br-int \
                "$work/groups.back"
            tb exec node1 ovs-ofctl -O OpenFlow15 --bundle replace-flows \
                br-int "$work/flows.max"
        fi
        state=$1
    }
    for ((i = 0; i < rounds; i++)); do
        if ((i % 2)); then order+=" max one"; else order+=" one max"; fi
    done
    for mode in megaflows exact; do
        [[ $mode == exact ]] && \
            tb exec node1 ovs-appctl upcall/disable-megaflows >/dev/null
        : >"$work/alt.one"; : >"$work/alt.max"
        : >"$work/rounds.one"; : >"$work/rounds.max"
        for st in $order; do
            to_state "$st"
            tb exec node1 ovs-appctl revalidator/wait >/dev/null
            tb exec node1 ovs-appctl dpctl/del-flows >/dev/null
            quiet >/dev/null
            in_client first "$s0vip" 80 1000 | grep -v failed \
                | tail -n 900 >"$work/first.ms"
            cat "$work/first.ms" >>"$work/alt.$st"
            p50 "$work/first.ms" >>"$work/rounds.$st"
        done
        [[ $mode == exact ]] && \
            tb exec node1 ovs-appctl upcall/enable-megaflows >/dev/null
        echo "  $mode: 1 Service: $(percentiles "$work/alt.one"), round" \
             "p50s $(sort -n "$work/rounds.one" | tr '\n' ' ')"
        echo "  $mode: $max Services: $(percentiles "$work/alt.max"), round" \
             "p50s $(sort -n "$work/rounds.max" | tr '\n' ' ')"
        p50 "$work/alt.one" >"$work/p50.alt-one-$mode"
        p50 "$work/alt.max" >"$work/p50.alt-max-$mode"
        echo "  $mode: p50 at $max over p50 at 1:" \
             "$(ratio "alt-max-$mode" "alt-one-$mode")"
    done
    to_state max
    tb agent start node1 >/dev/null
}
# ratio A B: p50 of A over p50 of B.
ratio() {
    awk -v a="$(cat "$work/p50.$1")" -v b="$(cat "$work/p50.$2")" \
        'BEGIN { printf "%.2f", a / b }'
}

# programming latency: LABEL (CHANGES new Services with their slices, at
# addresses no Service holds).
change=0
programming_latency() {
    local i vip t0 line
    vips >"$work/used"
    : >"$work/prog.ms"
    for ((i = 0; i < CHANGES; i++)); do
        change=$((change + 1))
        while :; do
            vip=10.96.$((200 + change / 250 % 50)).$((change % 250 + 2))
            grep -qx "$vip" "$work/used" || break
            change=$((change + 1))
        done
        echo "$vip" >>"$work/used"
        cat >"$work/c-svc.json" <<EOF
{"apiVersion":"v1","kind":"Service","metadata":{"name":"c$change",
 "namespace":"bulk","labels":{"bench":"change"}},"spec":{"clusterIP":"$vip",
 "ports":[{"name":"http","port":80,"targetPort":8080}]}}
EOF
        cat >"$work/c-eps.json" <<EOF
{"apiVersion":"discovery.k8s.io/v1beta1","kind":"EndpointSlice",
 "metadata":{"name":"c$change-x","namespace":"bulk","labels":
 {"kubernetes.io/service-name":"c$change","bench":"change"}},
 "addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"}],
 "endpoints":[{"addresses":["${srv_ips[0]}"]},{"addresses":["${srv_ips[1]}"]},
 {"addresses":["${srv_ips[2]}"]}]}
EOF
        post /apis/discovery.k8s.io/v1beta1/namespaces/bulk/endpointslices \
            "$work/c-eps.json"
        coproc POLL { in_client poll "$vip" 80; }
        read -r line <&"${POLL[0]}"
        t0=$(now)
        echo "$t0" >&"${POLL[1]}"
        post /api/v1/namespaces/bulk/services "$work/c-svc.json"
        read -r line <&"${POLL[0]}"
        echo "$line" >>"$work/prog.ms"
        wait "$POLL_PID" 2>/dev/null || true
    done
    echo "  programming latency, $1: $(percentiles "$work/prog.ms")"
    tb kubectl delete services,endpointslices -n bulk -l bench=change \
        >/dev/null
}

# cold_sync PROXY N: the proxy has just been started with N Services.
cold_sync() {
    local proxy=$1 n=$2 t0=$3 pid=$4 c0=$5 installed answered
    if [[ $proxy == tendril ]]; then
        until tendril_has "$n"; do sleep 0.1; done
    else
        until kube_proxy_has "$n"; do sleep 0.2; done
    fi
    installed=$(since "$t0")
    vips >"$work/vips"
    answered=$(in_client sweep "$work/vips" 80)
    answered=$(awk -v a="$installed" -v b="$answered" \
               'BEGIN { printf "%.2f", a + b }')
    echo "  cold sync, $n Services: installed in $installed s, every" \
         "Service answered after $answered s; RSS $(rss_mb "$pid") MB," \
         "CPU $(awk -v c=$(($(ticks "$pid") - c0)) -v hz="$hz" \
                'BEGIN { printf "%.2f", c / hz }') s"
}

max=0
for n in $COUNTS; do ((n > max)) && max=$n; done

echo
echo "== Tendril"
bulk_to 1
until tendril_has 1; do sleep 0.1; done
first_latency "1 Service" t1
for n in $COUNTS; do
    t0=$(now)
    bulk_to "$n"
    echo "  ($n Services created in $(since "$t0") s)"
    until tendril_has "$n"; do sleep 0.2; done
    programming_latency "$n Services"
done
first_latency "$max Services" tmax
echo "  ovs-vswitchd RSS: $(rss_mb "$(cat "$TESTBED_DIR"/nodes/node1/run/ovs-vswitchd.pid)") MB"
tb agent stop node1 >/dev/null
tb exec node1 ovs-ofctl -O OpenFlow15 del-groups br-int
tb exec node1 ovs-ofctl -O OpenFlow15 del-flows br-int
t0=$(now)
tb agent start node1 >/dev/null
pid=$(agent_pid)
cold_sync tendril "$max" "$t0" "$pid" 0
echo "  ovs-vswitchd RSS: $(rss_mb "$(cat "$TESTBED_DIR"/nodes/node1/run/ovs-vswitchd.pid)") MB"
alternating
[[ $PEER == no ]] && exit 0

echo
echo "== kube-proxy $("$kube_proxy" --version 2>/dev/null | awk '{print $2}')" \
     "(iptables mode; Tendril with --proxy=none)"
export TESTBED_AGENT_ARGS=--proxy=none
tb agent restart node1 >/dev/null
until ! tendril_has 1; do sleep 0.2; done
t0=$(now)
# kube-proxy finds iptables-legacy as "iptables".
mkdir "$work/legacy"
for t in iptables iptables-save iptables-restore ip6tables ip6tables-save \
         ip6tables-restore; do
    ln -s "/usr/sbin/${t/tables/tables-legacy}" "$work/legacy/$t"
done
"$testbed" exec node1 env PATH="$work/legacy:$PATH" "$kube_proxy" --kubeconfig="$TESTBED_DIR/admin.kubeconfig" \
    --hostname-override=node1 --proxy-mode=iptables \
    --cluster-cidr=10.244.0.0/16 --conntrack-max-per-core=0 \
    --metrics-bind-address=127.0.0.1:10249 \
    --healthz-bind-address=127.0.0.1:10256 --v=1 \
    >"$work/kube-proxy.log" 2>&1 &
kp=$!
pids+=("$kp")
cold_sync kube-proxy "$max" "$t0" "$kp" 0
first_latency "$max Services" kmax
# Down through the counts: the newest tier of Services goes each time.
tiers=$(echo 1 $COUNTS | tr ' ' '\n' | sort -n)
for n in $(echo "$tiers" | sort -rn); do
    if ((n < created)); then
        # By name, four kubectl at a time (one by one, 18,000 deletions
        # took over a quarter of an hour).
        for ((i = n; i < created; i++)); do
            echo "service/s$i endpointslice/s$i-x"
        done | xargs -n 400 -P 4 sh -c "'$testbed' kubectl delete -n bulk \
            --ignore-not-found --wait=false \"\$@\" >/dev/null" sh
        created=$n
        until ! kube_proxy_has $((n + 1)); do sleep 0.5; done
    fi
    if ((n > 1)); then
        programming_latency "$n Services"
    fi
done
first_latency "1 Service" k1

# Tendril again at 1 Service: its first-connection figure before and after
# the most Services brackets the one at the most, so that a drift of the
# host over the run shows instead of passing for a cost of the Services.
echo
echo "== Tendril again (kube-proxy stopped, its rules removed)"
kill "$kp"
wait "$kp" 2>/dev/null || true
"$testbed" exec node1 env PATH="$work/legacy:$PATH" "$kube_proxy" --cleanup \
    >>"$work/kube-proxy.log" 2>&1 || true
unset TESTBED_AGENT_ARGS
tb agent restart node1 >/dev/null
until tendril_has 1; do sleep 0.2; done
first_latency "1 Service, again" t1b
echo
echo "== first connection, p50 at $max Services over p50 at 1 Service"
echo "  Tendril: $(ratio tmax t1) (against the first 1-Service run)," \
     "$(ratio tmax t1b) (against the second); the two 1-Service runs:" \
     "$(ratio t1b t1)"
echo "  kube-proxy: $(ratio kmax k1)"
