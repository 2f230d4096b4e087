#!/bin/bash
# Builds the images the upstream e2e suites (v1.20.2) run, without a
# registry, tagged with the names test/utils/image/manifest.go gives them,
# as docker-archive tarballs cached in ${TENDRIL_CACHE:-/var/cache/tendril}/images:
#
#   k8s.gcr.io/e2e-test-images/agnhost:2.21
#       /agnhost built from the source tree (test/images/agnhost; the Debian
#       source carries agnhost 2.25, a superset of 2.21's commands) on a
#       Debian bookworm root with what the suites run in their pods: sh and
#       bash, coreutils (seq...), curl, nc (netcat-openbsd, as upstream's
#       Alpine image), iproute2 (ip, ss), iperf, dig, and wget.  wget is
#       GNU wget with 'tries = 1' in /etc/wgetrc, so that 'wget -T 1' gives
#       up after one timeout as BusyBox's does (Debian's BusyBox 1.35
#       crashes on -T); porter's TLS key pair is made here with openssl.
#   docker.io/library/busybox:1.29
#       Debian's static BusyBox.
#
# Usage: images.sh KUBE-BIN-DIR   (needs KUBE-BIN-DIR/agnhost: build-kube.sh agnhost)
# Prints the tarballs' paths, one per line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${TENDRIL_CACHE:-/var/cache/tendril}/images
suite=bookworm
mirrors=("deb http://deb.debian.org/debian $suite main"
         "deb http://deb.debian.org/debian-security $suite-security main")
packages=bash,coreutils,curl,netcat-openbsd,iproute2,iperf,bind9-dnsutils,wget,procps,ca-certificates
agnhost_tag=k8s.gcr.io/e2e-test-images/agnhost:2.21
busybox_tag=docker.io/library/busybox:1.29

die() {
    echo "images.sh: $*" >&2
    exit 1
}

[[ $# -eq 1 ]] || die "usage: images.sh KUBE-BIN-DIR"
agnhost=$1/agnhost
[[ $(id -u) == 0 ]] || die "must run as root (mmdebstrap, file owners)"
command -v mmdebstrap >/dev/null || die "mmdebstrap not found"
mkdir -p "$cache"
exec 9>"$cache/.e2e-images.lock"
flock 9

work=$(mktemp -d "${TMPDIR:-/var/tmp}/e2e-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The agnhost image: a cached Debian layer (by its inputs), then /agnhost.
key=$(printf '%s\n' "$suite" "$packages" "${mirrors[@]}" | sha256sum \
      | cut -c1-16)
base=$cache/e2e-base-$suite-$key.tar
if [[ ! -f $base ]]; then
    echo "images.sh: building the agnhost base layer (mmdebstrap $suite)" >&2
    mmdebstrap --mode=root --format=tar --variant=minbase \
        --include="$packages" \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
        --customize-hook='echo "tries = 1" >> "$1"/etc/wgetrc' \
        "$suite" "$base.tmp" "${mirrors[@]}" >&2
    mv "$base.tmp" "$base"
fi
[[ -x $agnhost ]] || die "no $agnhost (tests/testbed/build-kube.sh agnhost)"
sum=$(cat "$base" "$agnhost" | sha256sum | cut -c1-16)
out=$cache/e2e-agnhost-2.21-$sum.tar
if [[ ! -f $out ]]; then
    rm -f "$cache"/e2e-agnhost-2.21-*.tar   # of an older agnhost or base
    root=$work/agnhost
    install -D -m 0755 "$agnhost" "$root/agnhost"
    ln -s agnhost "$root/agnhost-2"
    mkdir -p "$root/uploads"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
        -keyout "$root/localhost.key" -out "$root/localhost.crt" 2>/dev/null
    chmod 0644 "$root/localhost.key"
    tar -C "$root" --owner=0 --group=0 --numeric-owner --sort=name \
        -cf "$work/agnhost.tar" .
    "$src/deploy/image/docker-archive.sh" "$out" "$agnhost_tag" \
        '{"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
          "Entrypoint": ["/agnhost"], "Cmd": ["pause"],
          "ExposedPorts": {"80/tcp": {}, "8080/tcp": {}, "8081/tcp": {},
                           "9376/tcp": {}}}' \
        "$base" "$work/agnhost.tar"
fi

bb=$cache/e2e-busybox-1.29.tar
if [[ ! -f $bb ]]; then
    root=$work/busybox
    install -D -m 0755 /bin/busybox "$root/bin/busybox"
    for a in $(/bin/busybox --list); do
        [[ $a == busybox ]] || ln -s busybox "$root/bin/$a"
    done
    mkdir -p "$root/tmp" "$root/etc"
    chmod 1777 "$root/tmp"
    echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
    echo 'root:x:0:' > "$root/etc/group"
    tar -C "$root" --owner=0 --group=0 --numeric-owner --sort=name \
        -cf "$work/busybox.tar" .
    "$src/deploy/image/docker-archive.sh" "$bb" "$busybox_tag" \
        '{"Env": ["PATH=/bin"], "Cmd": ["sh"]}' "$work/busybox.tar"
fi
echo "$out"
echo "$bb"
