# Shell helpers for the system tests that use the test bed: counting
# checks, skipping when the machine lacks something.  Source it; each
# test ends with: echo "NAME: $passed passed, $failed failed".

passed=0
failed=0
ok() {
    passed=$((passed + 1))
    echo "ok - $*"
}
fail() {
    failed=$((failed + 1))
    echo "FAIL - $*"
}
# check WHAT CMD...: one check, passed when CMD succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}
# skip WHY: the test cannot run here (exit 77, as automake means it).
skip() {
    echo "SKIP: $*"
    exit 77
}

# need_root_and CMD...: skip unless root and every CMD is installed.
need_root_and() {
    local cmd
    [[ $(id -u) == 0 ]] || skip "needs root"
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null || skip "'$cmd' not installed" \
            "(tests/testbed/install-deps.sh)"
    done
}

# need_kube: finds the cached kube-apiserver build (or takes KUBE_BIN_DIR)
# and exports KUBE_BIN_DIR; skips when there is none.
need_kube() {
    local d
    if [[ -z ${KUBE_BIN_DIR-} ]]; then
        for d in "${TENDRIL_CACHE:-/var/cache/tendril}"/kubernetes-*/bin; do
            [[ -x $d/kube-apiserver ]] && KUBE_BIN_DIR=$d
        done
    fi
    [[ -n ${KUBE_BIN_DIR-} && -x $KUBE_BIN_DIR/kube-apiserver ]] \
        || skip "no Kubernetes build cached (tests/testbed/install-deps.sh)"
    export KUBE_BIN_DIR
}

# use_testbed NAME PREFIX: sets a test up on a test bed of its own: the
# build's agent and CNI binary ($build), a private state directory and
# namespace prefix, a work directory $work, and on exit the servers whose
# pids are in $servers killed, the test bed taken down and $work removed.
# Needs $top and $testbed.  Defines tb (the testbed command) and
# ctl NODE ARGS... (ovs-appctl -t tendril-agent on NODE).
use_testbed() {
    build=${TENDRIL_BUILD_DIR:-${BUILD:-$top/_build/release}}
    export TENDRIL_CNI=${TENDRIL_CNI:-$build/cni/tendril}
    export TENDRIL_AGENT=${TENDRIL_AGENT:-$build/agent/tendril-agent}
    export TESTBED_DIR=/run/tendril-testbed-$1.$$
    export TESTBED_PREFIX=$2$$-
    work=$(mktemp -d "/tmp/test-$1.XXXXXX")
    servers=()
    trap testbed_cleanup EXIT
    # A test stopped by a signal cleans up too.
    trap 'exit 143' TERM
    trap 'exit 130' INT
}
testbed_cleanup() {
    local pid
    for pid in "${servers[@]}"; do
        kill "$pid" 2>/dev/null
    done
    # A failed teardown says why, and is tried once more: a bed left
    # behind would hold its namespaces and daemons' files.
    if ! "$testbed" down >"$work/down.log" 2>&1; then
        sed 's/^/# testbed down: /' "$work/down.log"
        sleep 1
        "$testbed" down >/dev/null 2>&1 \
            || echo "# testbed down failed twice: $TESTBED_DIR is left"
    fi
    rm -rf "$work"
}
tb() { "$testbed" "$@"; }
ctl() {   # NODE ARGS...
    local n=$1; shift
    tb exec "$n" ovs-appctl -t tendril-agent "$@"
}
