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
