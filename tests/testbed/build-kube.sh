#!/bin/bash
# Builds kube-apiserver, kube-controller-manager and kubectl from Debian's
# 'kubernetes' source package (upstream v1.20.2 with vendored dependencies)
# with Debian's Go, and caches them in
#   ${TENDRIL_CACHE:-/var/cache/tendril}/kubernetes-<debian source version>/bin
# The cache directory appears atomically (built elsewhere, renamed when
# complete) and is reused when present.  Prints the cache directory on the
# last line of stdout.
#
# Needs: deb-src enabled, dpkg-dev, golang-go, make, rsync and
# golang-github-modern-go-reflect2-dev (install-deps.sh installs them).
# The vendored modern-go/reflect2 1.0.1 crashes on Go >= 1.18, so it is
# replaced by Debian's 1.0.2 before building.
#
# Usage: build-kube.sh [BINARY...]: more binaries (kube-proxy for the
# Services benchmark; kubelet, kube-scheduler and pause for the real-node
# test bed; e2e.test, ginkgo and agnhost for the upstream e2e suites);
# those a complete cache lacks are built and added to it, each file renamed
# into place.  A name is a command of cmd/, 'pause' (the sandbox
# container's program, build/pause/linux/pause.c, linked statically),
# 'e2e.test' (test/e2e compiled as a test binary), 'ginkgo' (the vendored
# test runner) or 'agnhost' (the e2e suites' test server,
# test/images/agnhost).  Go binaries are built with the 'dockerless' tag: the
# kubelet then talks CRI only and cAdvisor does not probe a Docker socket.
#
# Environment: KUBE_BUILD_NICE (default 10), KUBE_SOURCE_VERSION (skip the
# apt lookup), TENDRIL_CACHE.
set -euo pipefail

cache_root=${TENDRIL_CACHE:-/var/cache/tendril}
nice_level=${KUBE_BUILD_NICE:-10}
reflect2_src=/usr/share/gocode/src/github.com/modern-go/reflect2
base="kube-apiserver kube-controller-manager kubectl"
binaries="$base $*"

die() {
    echo "build-kube.sh: $*" >&2
    exit 1
}

# The Debian source version, from the name of the .dsc that 'apt-get source'
# would fetch (no download).
source_version() {
    if [[ -n ${KUBE_SOURCE_VERSION-} ]]; then
        echo "$KUBE_SOURCE_VERSION"
        return
    fi
    local dsc
    dsc=$(cd /tmp && apt-get source --print-uris kubernetes 2>/dev/null \
          | awk '{print $2}' | grep '^kubernetes_.*\.dsc$' | head -n1) \
        || true
    [[ -n $dsc ]] || die "cannot find Debian source package 'kubernetes' \
(is deb-src enabled and 'apt-get update' done? run install-deps.sh)"
    dsc=${dsc#kubernetes_}
    echo "${dsc%.dsc}"
}

cache_complete() {
    local dir=$1 b
    [[ -f $dir/SOURCE_VERSION ]] || return 1
    for b in $binaries; do
        [[ -x $dir/bin/$b ]] || return 1
    done
}

# The binaries of $binaries that cache directory $1 lacks.
missing() {
    local b
    for b in $binaries; do
        [[ -x $1/bin/$b ]] || echo "$b"
    done
}

version=$(source_version)
final=$cache_root/kubernetes-$version
if cache_complete "$final"; then
    echo "build-kube.sh: reusing $final" >&2
    echo "$final"
    exit 0
fi

for cmd in go make dpkg-source apt-get rsync flock; do
    command -v "$cmd" >/dev/null || die "'$cmd' not found; run install-deps.sh"
done
[[ -f $reflect2_src/reflect2.go ]] \
    || die "$reflect2_src missing; install golang-github-modern-go-reflect2-dev"

mkdir -p "$cache_root"
# One build at a time per version; a second caller waits, then reuses.
exec 9>"$cache_root/.kubernetes-$version.lock"
flock 9
if cache_complete "$final"; then
    echo "build-kube.sh: reusing $final (built meanwhile)" >&2
    echo "$final"
    exit 0
fi

# A complete cache of the base binaries gets only what it lacks.
adding=
if (binaries=$base; cache_complete "$final"); then
    adding=1
    binaries=$(missing "$final" | tr '\n' ' ')
fi

work=$(mktemp -d /var/tmp/tendril-kube-build.XXXXXX)
stage=$(mktemp -d "$cache_root/.kubernetes-$version.tmp.XXXXXX")
cleanup() {
    rm -rf "$work" "$stage"
}
trap cleanup EXIT

echo "build-kube.sh: fetching source kubernetes $version into $work" >&2
(cd "$work" && apt-get source "kubernetes=$version" >&2)
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' \
      | head -n1)
[[ -n $src && -f $src/Makefile ]] || die "unpacked source not found in $work"

echo "build-kube.sh: replacing vendored modern-go/reflect2 with" \
     "Debian's copy" >&2
rm -rf "$src/vendor/github.com/modern-go/reflect2"
rsync -a "$reflect2_src/" "$src/vendor/github.com/modern-go/reflect2/"

start=$(date +%s)
echo "build-kube.sh: building $binaries (nice $nice_level)" >&2
go_targets=
for b in $binaries; do
    case $b in
        pause)
            # Not in _output/bin: the Go build makes that a symlink.
            gcc -Os -static -o "$work/pause" \
                -DVERSION="$version" "$src/build/pause/linux/pause.c" >&2
            ;;
        e2e.test) go_targets="$go_targets test/e2e/e2e.test" ;;
        ginkgo) go_targets="$go_targets vendor/github.com/onsi/ginkgo/ginkgo" ;;
        agnhost) go_targets="$go_targets test/images/agnhost" ;;
        *) go_targets="$go_targets cmd/$b" ;;
    esac
done
if [[ -n $go_targets ]]; then
    (
        cd "$src"
        export HOME=$work/home CGO_ENABLED=0 GOFLAGS=-tags=dockerless
        mkdir -p "$HOME"
        # GOPATH mode: hack/lib/init.sh sets GO111MODULE=off and a private
        # GOPATH under _output.
        nice -n "$nice_level" make WHAT="${go_targets# }" >&2
    )
fi
end=$(date +%s)

mkdir -p "$stage/bin"
for b in $binaries; do
    if [[ $b == pause ]]; then
        install -m 0755 "$work/pause" "$stage/bin/pause"
    else
        install -m 0755 "$src/_output/bin/$b" "$stage/bin/$b"
    fi
done
if [[ -n $adding ]]; then
    for b in $binaries; do
        mv -T "$stage/bin/$b" "$final/bin/$b"
    done
    echo "build-kube.sh: added $binaries in $((end - start)) s: $final" >&2
    echo "$final"
    exit 0
fi
"$stage/bin/kubectl" version --client >/dev/null \
    || die "built kubectl does not run"
echo "$version" > "$stage/SOURCE_VERSION"
echo "$((end - start))" > "$stage/BUILD_SECONDS"
chmod 0755 "$stage"
if ! mv -T "$stage" "$final" 2>/dev/null; then
    # Someone else completed it (e.g. without the lock); keep theirs.
    cache_complete "$final" || die "cannot rename $stage to $final"
fi
echo "build-kube.sh: built in $((end - start)) s: $final" >&2
echo "$final"
