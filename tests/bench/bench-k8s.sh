#!/bin/bash
# The agent's Kubernetes client at scale: creates SERVICES Services (no
# selector), as many EndpointSlices (3 endpoints each) and PODS Pods
# (default 10000, 10000, 30000; env BENCH_K8S_SERVICES, BENCH_K8S_PODS) in
# a private one-node test bed's API server, then starts the agent and
# prints the time until every resource is listed (k8s/status "synced:
# yes"), the agent's RSS, and the time for one watch event to reach the
# cache; then the agent's CPU time per event under a steady stream of pod
# updates (BENCH_K8S_ROUNDS rounds of relabelling every pod of one
# namespace).  Needs root and the test bed's dependencies.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${TENDRIL_BUILD_DIR:-${BUILD:-$TOP/_build/release}}
export TENDRIL_AGENT=${TENDRIL_AGENT:-$BUILD/agent/tendril-agent}
export TENDRIL_CNI=${TENDRIL_CNI:-$BUILD/cni/tendril}
SERVICES=${BENCH_K8S_SERVICES:-10000}
PODS=${BENCH_K8S_PODS:-30000}
BATCH=500
NAMESPACES=10

export TESTBED_DIR=/run/tendril-bench-k8s.$$
export TESTBED_PREFIX=tbb$$-
testbed=$TOP/tests/testbed/testbed
work=$(mktemp -d /tmp/bench-k8s.XXXXXX)
cleanup() {
    "$testbed" down >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

ctl() {
    ovs-appctl -t "$TESTBED_DIR/nodes/node1/run/tendril-agent.ctl" "$@"
}
now() {
    date +%s.%N
}
since() {
    awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}
rss() {
    ctl memory/show | awk '/^VmRSS:/ { printf "%.1f MB\n", $2 / 1024 }'
}

echo "bench-k8s: $SERVICES Services, $SERVICES EndpointSlices, $PODS Pods"
"$testbed" up --nodes 1 > "$work/up.log" 2>&1 \
    || { cat "$work/up.log"; exit 1; }
echo "agent RSS, empty cluster: $(rss)"
"$testbed" agent stop node1

# gen KIND COUNT: List files of BATCH objects each in $work/KIND-*.json.
gen() {
    awk -v kind="$1" -v n="$2" -v batch="$BATCH" -v nns="$NAMESPACES" \
        -v dir="$work" -v pfx="${TESTBED_PREFIX}b" '
    function obj(i, ns, a, b) {
        ns = pfx (i % nns)
        a = int(i / 250) % 250; b = i % 250 + 1
        if (kind == "svc")
            return sprintf("{\"apiVersion\":\"v1\",\"kind\":\"Service\"," \
                "\"metadata\":{\"name\":\"s%d\",\"namespace\":\"%s\"," \
                "\"labels\":{\"app\":\"a%d\"}},\"spec\":{\"ports\":" \
                "[{\"name\":\"http\",\"port\":80,\"targetPort\":8080}]}}",
                i, ns, i % 100)
        if (kind == "eps")
            return sprintf("{\"apiVersion\":\"discovery.k8s.io/v1beta1\"," \
                "\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":" \
                "\"s%d-x\",\"namespace\":\"%s\",\"labels\":" \
                "{\"kubernetes.io/service-name\":\"s%d\"}}," \
                "\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"http\"," \
                "\"port\":8080,\"protocol\":\"TCP\"}],\"endpoints\":[" \
                "{\"addresses\":[\"10.%d.%d.1\"],\"topology\":" \
                "{\"kubernetes.io/hostname\":\"node1\"}}," \
                "{\"addresses\":[\"10.%d.%d.2\"]}," \
                "{\"addresses\":[\"10.%d.%d.3\"],\"conditions\":" \
                "{\"ready\":false}}]}",
                i, ns, i, 100 + a % 100, b, 100 + a % 100, b,
                100 + a % 100, b)
        return sprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"," \
            "\"metadata\":{\"name\":\"p%d\",\"namespace\":\"%s\"," \
            "\"labels\":{\"app\":\"a%d\",\"tier\":\"t%d\"}},\"spec\":" \
            "{\"nodeName\":\"node1\",\"containers\":[{\"name\":\"c\"," \
            "\"image\":\"none\",\"ports\":[{\"name\":\"http\"," \
            "\"containerPort\":8080}]}]}}", i, ns, i % 100, i % 7)
    }
    BEGIN {
        for (f = 0; f * batch < n; f++) {
            file = sprintf("%s/%s-%05d.json", dir, kind, f)
            printf "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" \
                > file
            for (i = f * batch; i < n && i < (f + 1) * batch; i++)
                printf "%s%s", (i > f * batch ? "," : ""), obj(i) > file
            print "]}" > file
            close(file)
        }
    }'
}

for ((i = 0; i < NAMESPACES; i++)); do
    "$testbed" kubectl create namespace "${TESTBED_PREFIX}b$i" >/dev/null
done
t0=$(now)
gen svc "$SERVICES"
gen eps "$SERVICES"
gen pod "$PODS"
# Four kubectl at a time; each creates its batch object by object.
ls "$work"/svc-*.json "$work"/eps-*.json "$work"/pod-*.json \
    | xargs -P 4 -I{} sh -c "'$testbed' kubectl create -f {} >/dev/null" \
    || { echo "bench-k8s: creating objects failed"; exit 1; }
echo "objects created in $(since "$t0") s"

t0=$(now)
"$testbed" agent start node1 >/dev/null 2>&1
until ctl k8s/status 2>/dev/null | grep -q '^synced: yes'; do
    sleep 0.05
done
echo "initial sync (agent start to every resource listed): $(since "$t0") s"
ctl k8s/status | grep -E '^(pods|services|endpointslices):' \
    | sed 's/, last error.*//'
echo "agent RSS after sync: $(rss)"
ctl memory/show | grep VmHWM

t0=$(now)
"$testbed" kubectl -n "${TESTBED_PREFIX}b0" label pod p0 bench=1 >/dev/null
until ctl k8s/get pods "${TESTBED_PREFIX}b0/p0" | grep -q 'bench=1'; do
    sleep 0.01
done
echo "one label change to the cache (kubectl included): $(since "$t0") s"

# A steady stream of pod updates: ROUNDS times, every pod of one namespace
# gets a new label value (one PATCH, so one watch event, per pod).  The
# agent's CPU time (utime + stime from /proc) per event is the cost.
ROUNDS=${BENCH_K8S_ROUNDS:-3}
ns=${TESTBED_PREFIX}b1
pid=$(cut -d' ' -f1 "$TESTBED_DIR/procs/tendril-agent-node1")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
pod_events() {
    ctl k8s/status | sed -n 's/^pods: .*events \([0-9]*\).*/\1/p'
}
n_pods=$("$testbed" kubectl -n "$ns" get pods --no-headers | wc -l)
last=$("$testbed" kubectl -n "$ns" get pods -o name | tail -n 1)
last=${last#pod/}
c0=$(cpu_ticks) e0=$(pod_events) t0=$(now)
for ((r = 1; r <= ROUNDS; r++)); do
    "$testbed" kubectl -n "$ns" label pods --all round=$r --overwrite \
        >/dev/null
done
until ctl k8s/get pods "$ns/$last" | grep -q "round=$ROUNDS"; do
    sleep 0.05
done
elapsed=$(since "$t0")
c1=$(cpu_ticks) e1=$(pod_events)
hz=$(getconf CLK_TCK)
events=$((e1 - e0))
echo "steady stream: $events pod update events ($ROUNDS rounds over" \
     "$n_pods pods) in $elapsed s"
awk -v c=$((c1 - c0)) -v hz="$hz" -v e="$events" -v t="$elapsed" 'BEGIN {
    printf "agent CPU: %.2f s in all, %.1f us per event, %.1f%% of one core\n",
        c / hz, e ? c / hz / e * 1e6 : 0, c / hz / t * 100 }'
echo "agent RSS after the stream: $(rss)"
