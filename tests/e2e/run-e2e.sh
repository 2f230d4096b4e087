#!/bin/bash
# Runs the upstream Kubernetes e2e suites (v1.20.2, built from Debian's
# 'kubernetes' source package) for Services and NetworkPolicy against a
# real-node test bed (3 nodes, containerd and a kubelet each) with Tendril
# applied as its DaemonSet (deploy/tendril.yaml), and no kube-proxy.
#
# Usage: tests/e2e/run-e2e.sh [--subset full|ci] [--focus REGEX]
#   full (default): [sig-network] Services, Conntrack, NetworkPolicy
#       (network_policy.go), Networking Granular Checks, and every
#       [sig-network] [Conformance] test
#   ci: the Services [Conformance] tests and a handful of NetworkPolicy
#       tests (what CI runs)
#   --focus: a ginkgo focus of your own instead
# Skips what tests/e2e/skip-list names (each with its reason).  [Serial]
# tests run after the others, one at a time; the others run on
# $E2E_PARALLEL ginkgo nodes (default 3).
#
# Prints the ginkgo summary and "e2e: P passed, F failed, S skipped";
# keeps the JUnit reports in $E2E_REPORT_DIR (default
# $BUILD/e2e-report).  With E2E_DISRUPT=SECONDS the DaemonSet's pods are
# restarted (kubectl rollout restart) every SECONDS while the suites run;
# with E2E_DISRUPT_MODE=agent too, only the agent containers.
# Exit: 0 pass, 77 skip (not root, missing tools), 1 fail.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
testbed=$top/tests/testbed/testbed
subset=full
focus=
while [[ $# -gt 0 ]]; do
    case $1 in
        --subset) subset=$2; shift 2 ;;
        --focus) focus=$2; shift 2 ;;
        *) echo "usage: run-e2e.sh [--subset full|ci] [--focus REGEX]" >&2
           exit 2 ;;
    esac
done

. "$top/tests/system/tap.sh"

need_root_and etcd containerd runc mmdebstrap ovs-vswitchd jq curl ip
build=${TENDRIL_BUILD_DIR:-${BUILD:-$top/_build/release}}
# The Kubernetes binaries, built once and cached (about 15 minutes for
# e2e.test on 2 cores).
KUBE_BIN_DIR=$("$top/tests/testbed/build-kube.sh" kubelet kube-scheduler \
               pause e2e.test ginkgo agnhost | tail -n 1)/bin \
    || { echo "run-e2e: building the Kubernetes binaries failed"; exit 1; }
export KUBE_BIN_DIR
images=$("$top/tests/e2e/images.sh" "$KUBE_BIN_DIR") \
    || { echo "run-e2e: building the e2e images failed"; exit 1; }
export TESTBED_IMAGES=${images//$'\n'/ }
# The cluster DNS stand-in and the control plane's routes to pods.
export TESTBED_CLUSTER_DNS=1

case $subset in
    full)
        default_focus='\[sig-network\] (Services|Conntrack|NetworkPolicy |Networking Granular Checks)|\[sig-network\].*\[Conformance\]' ;;
    ci)
        default_focus='\[sig-network\] Services .*\[Conformance\]|\[sig-network\] NetworkPolicy .*(should support a .default-deny-ingress. policy|should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector|should allow ingress access on one named port|should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector|should enforce updated policy)' ;;
    *) echo "run-e2e: unknown subset '$subset'" >&2; exit 2 ;;
esac
focus=${focus:-$default_focus}
# The skip list: "REGEX -- REASON" lines.
skip=$(sed -e 's/#.*//' -e 's/ -- .*//' -e 's/[[:space:]]*$//' \
           "$top/tests/e2e/skip-list" | grep -v '^$' | paste -sd'|')

use_testbed e2e tre
report=${E2E_REPORT_DIR:-$build/e2e-report}
rm -rf "$report"
mkdir -p "$report"

t0=$(date +%s)
if ! tb up --kubelet --nodes 3 > "$report/testbed-up.log" 2>&1; then
    tail -n 30 "$report/testbed-up.log"
    echo "run-e2e: testbed up --kubelet failed"
    exit 1
fi
if ! tb deploy > "$report/testbed-deploy.log" 2>&1; then
    tail -n 30 "$report/testbed-deploy.log"
    echo "run-e2e: testbed deploy failed"
    exit 1
fi
echo "run-e2e: test bed with Tendril ready in $(( $(date +%s) - t0 )) s"

# The Networking suite asserts, before each test, that the runner gets 200
# from http://google.com ("not really a test of kubernetes", says the
# suite).  The test bed sends nothing outside: the runner's google.com is a
# local HTTP server in the control plane's namespace (a private /etc/hosts
# for ginkgo and e2e.test only).
mkdir -p "$work/www"
echo ok > "$work/www/index.html"
echo '127.0.0.1 localhost google.com' > "$work/hosts"
setsid ip netns exec "${TESTBED_PREFIX}cp" python3 -m http.server \
    --bind 127.0.0.1 --directory "$work/www" 80 \
    > "$report/fake-internet.log" 2>&1 &
servers+=("$!")

ginkgo_pid=
run_ginkgo() {   # NAME NODES FOCUS SKIP
    local name=$1 nodes=$2 f=$3 s=$4 rc
    mkdir -p "$report/$name"
    # In the control plane's namespace, where the API server's address is;
    # in a session of its own, so that a stop reaches ginkgo's e2e.test
    # processes too (by the group of the pid recorded here); waited for
    # with 'wait', so that a signal to this script acts at once.
    setsid ip netns exec "${TESTBED_PREFIX}cp" \
        unshare --mount --propagation private \
        sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$work/hosts" \
        "$KUBE_BIN_DIR/ginkgo" -nodes="$nodes" -noColor \
        -focus="$f" -skip="$s" \
        "$KUBE_BIN_DIR/e2e.test" -- \
        --kubeconfig="$TESTBED_DIR/admin.kubeconfig" \
        --kubectl-path="$KUBE_BIN_DIR/kubectl" \
        --provider=skeleton --num-nodes=3 \
        --report-dir="$report/$name" --report-prefix="$name" \
        --disable-log-dump --non-blocking-taints=node-role.kubernetes.io/master \
        > "$report/$name.log" 2>&1 &
    ginkgo_pid=$!
    wait "$ginkgo_pid"
    rc=$?
    ginkgo_pid=
    return $rc
}
stop_ginkgo() {
    [[ -z $ginkgo_pid ]] && return 0
    kill -TERM -- "-$ginkgo_pid" 2>/dev/null
    sleep 2
    kill -KILL -- "-$ginkgo_pid" 2>/dev/null
    return 0
}
trap 'stop_ginkgo; testbed_cleanup' EXIT

# The disruption: every $E2E_DISRUPT seconds, a rollout restart of the
# DaemonSet (new pods: both containers, OVS too), or with
# E2E_DISRUPT_MODE=agent the agent container of every node in turn (it
# exits; the kubelet restarts it; OVS and its flows stay).
disrupt() {
    local pod
    while sleep "$E2E_DISRUPT"; do
        if [[ ${E2E_DISRUPT_MODE:-rollout} == agent ]]; then
            for pod in $(tb kubectl -n tendril-system get pods \
                         -l app.kubernetes.io/component=agent -o name); do
                echo "$(date +%T) agent restart: $pod"
                tb kubectl -n tendril-system exec "${pod#pod/}" \
                    -c tendril-agent -- ovs-appctl -t tendril-agent exit
                sleep 5
                tb kubectl -n tendril-system wait --for=condition=Ready \
                    "$pod" --timeout=2m
            done
        else
            echo "$(date +%T) rollout restart"
            tb kubectl -n tendril-system rollout restart daemonset/tendril
            tb kubectl -n tendril-system rollout status daemonset/tendril \
                --timeout=5m
            echo "$(date +%T) rollout done"
        fi
    done
}
disrupt_pid=
if [[ -n ${E2E_DISRUPT-} ]]; then
    disrupt > "$report/disruption.log" 2>&1 &
    disrupt_pid=$!
    servers+=("$disrupt_pid")
fi

t1=$(date +%s)
run_ginkgo parallel "${E2E_PARALLEL:-3}" "$focus" "$skip|\[Serial\]"
rc1=$?
run_ginkgo serial 1 "(?:$focus).*\[Serial\]|\[Serial\].*(?:$focus)" "$skip"
rc2=$?
echo "run-e2e: suites ran in $(( $(date +%s) - t1 )) s"
[[ -z $disrupt_pid ]] || kill "$disrupt_pid" 2>/dev/null

for name in parallel serial; do
    echo "--- $name"
    grep -E '^(Ran [0-9]+ of|SUCCESS!|FAIL!|Summarizing|\[Fail\]|Test Suite (Passed|Failed))' \
        "$report/$name.log"
done
# Passed and failed from ginkgo's summaries; skipped: the focused tests
# that did not run (the skip list's and the suite's own skips).
read -r passed failed < <(cat "$report/parallel.log" "$report/serial.log" \
    | sed -n 's/^\(SUCCESS\|FAIL\)! -- \([0-9]*\) Passed | \([0-9]*\) Failed.*/\2 \3/p' \
    | awk '{p += $1; f += $2} END {print p + 0, f + 0}')
focused=$("$KUBE_BIN_DIR/e2e.test" --ginkgo.dryRun --ginkgo.noColor \
          --ginkgo.focus="$focus" --provider=skeleton \
          --kubeconfig=/dev/null 2>/dev/null \
          | sed -n 's/^Ran \([0-9]*\) of.*/\1/p')
skipped=$(( ${focused:-0} - passed - failed ))
echo "e2e: $passed passed, $failed failed, $skipped skipped (of $focused" \
     "focused; reports in $report)"
[[ $rc1 == 0 && $rc2 == 0 && $failed == 0 ]]
