#!/bin/bash
# Builds the tendril image as a docker-archive tarball, without a registry
# or a container engine: a Debian bookworm root file system (mmdebstrap,
# from Debian's archive) with Open vSwitch, then a layer with the agent, the
# CNI binary, the installer and the OVS container's entrypoint.
#
# Usage: build.sh BUILD-DIR OUT.tar [NAME:TAG]
#   BUILD-DIR  a configured and built tree (agent/tendril-agent, cni/tendril)
#   NAME:TAG   default tendril/tendril:VERSION (VERSION from BUILD-DIR)
#
# The base layer depends only on the package list and is cached in
# ${TENDRIL_CACHE:-/var/cache/tendril}/images/ (about 80 s to build, once).
# The ovs-vswitchd in the image is the one build-aux/ovs-vswitchd-path.sh
# names: the release's own with the fixes of build-aux/ovs-patches/ when
# they are built, which the userspace datapath needs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${TENDRIL_CACHE:-/var/cache/tendril}/images
suite=bookworm
mirrors=("deb http://deb.debian.org/debian $suite main"
         "deb http://deb.debian.org/debian $suite-updates main"
         "deb http://deb.debian.org/debian-security $suite-security main")
# What the agent and the OVS container need at run time.
packages=openvswitch-switch,openvswitch-common,libjansson4,libcurl4,libnftables1,libmicrohttpd12,iproute2,procps,ca-certificates

die() {
    echo "build.sh: $*" >&2
    exit 1
}

[[ $# -ge 2 ]] || die "usage: build.sh BUILD-DIR OUT.tar [NAME:TAG]"
build=$(cd "$1" && pwd)
out=$2
agent=$build/agent/tendril-agent
cni=$build/cni/tendril
[[ -x $agent && -x $cni ]] || die "no built agent and CNI binary in $build"
version=$(sed -n "s/^PACKAGE_VERSION = //p" "$build/Makefile" 2>/dev/null) \
    || true
tag=${3:-tendril/tendril:${version:-dev}}
[[ $(id -u) == 0 ]] || die "must run as root (mmdebstrap, file owners)"
command -v mmdebstrap >/dev/null \
    || die "mmdebstrap not found (apt-get install mmdebstrap)"

# The base layer, cached by its inputs.
key=$(printf '%s\n' "$suite" "$packages" "${mirrors[@]}" | sha256sum \
      | cut -c1-16)
base=$cache/tendril-base-$suite-$key.tar
if [[ ! -f $base ]]; then
    mkdir -p "$cache"
    exec 9>"$cache/.tendril-base.lock"
    flock 9
    if [[ ! -f $base ]]; then
        echo "build.sh: building the base layer (mmdebstrap $suite)" >&2
        mmdebstrap --mode=root --format=tar --variant=minbase --include="$packages" \
            --dpkgopt='path-exclude=/usr/share/man/*' \
            --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-exclude=/usr/share/locale/*' \
            --dpkgopt='path-exclude=/usr/share/info/*' \
            --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
            "$suite" "$base.tmp" "${mirrors[@]}" >&2
        mv "$base.tmp" "$base"
    fi
    exec 9>&-
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/tendril-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
install -D -m 0755 "$agent" "$root/usr/bin/tendril-agent"
install -D -m 0755 "$cni" "$root/usr/lib/tendril/tendril"
install -D -m 0755 "$src/deploy/install-cni.sh" \
    "$root/usr/lib/tendril/install-cni.sh"
install -D -m 0755 "$here/tendril-ovs" "$root/usr/bin/tendril-ovs"
vswitchd=$("$src/build-aux/ovs-vswitchd-path.sh")
if [[ $vswitchd == /* && $vswitchd != /usr/sbin/ovs-vswitchd ]]; then
    install -D -m 0755 "$vswitchd" "$root/usr/sbin/ovs-vswitchd"
fi
# The reference plugins the conflist chains after tendril.
for p in portmap bandwidth; do
    [[ -x /usr/lib/cni/$p ]] \
        || die "/usr/lib/cni/$p missing (apt-get install containernetworking-plugins)"
    install -D -m 0755 "/usr/lib/cni/$p" "$root/usr/lib/tendril/$p"
done
tar -C "$root" --owner=0 --group=0 --numeric-owner --sort=name \
    -cf "$work/tendril.tar" .

"$here/docker-archive.sh" "$out" "$tag" \
    '{"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
              "OVS_RUNDIR=/var/run/openvswitch",
              "OVS_LOGDIR=/var/log/openvswitch"],
      "Cmd": ["/usr/bin/tendril-agent", "--help"]}' \
    "$base" "$work/tendril.tar"
echo "build.sh: $out: $tag" >&2
