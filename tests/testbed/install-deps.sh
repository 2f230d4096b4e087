#!/bin/sh
# Installs the Debian packages the test bed needs, idempotently, then builds
# (or reuses the cached) kube-apiserver, kube-controller-manager, kubectl,
# and for real nodes the kubelet, kube-scheduler and pause, and for the
# upstream e2e suites e2e.test, ginkgo and agnhost, with
# build-kube.sh.  Needs root.  Usage: install-deps.sh [--no-build]
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" != 0 ]; then
    echo "install-deps.sh: must run as root" >&2
    exit 1
fi

# Run-time packages of the test bed, then what building Kubernetes from
# Debian's source package needs.
PACKAGES="etcd-server openssl jq curl ethtool iproute2 iputils-ping iptables conntrack
          procps util-linux
          openvswitch-switch openvswitch-common containernetworking-plugins
          containerd runc busybox-static mmdebstrap
          golang-go golang-github-modern-go-reflect2-dev dpkg-dev make rsync"

# Enables deb-src for the main Debian archive so that 'apt-get source
# kubernetes' works.  Handles both the deb822 file and a one-line-style
# sources.list.  Prints "changed" when it edited something.
enable_deb_src() {
    f=/etc/apt/sources.list.d/debian.sources
    if [ -f "$f" ]; then
        if grep -q '^Types:.*deb-src' "$f"; then
            return 0
        fi
        sed -i 's/^Types: deb$/Types: deb deb-src/' "$f"
        echo changed
        return 0
    fi
    f=/etc/apt/sources.list
    if [ -f "$f" ] && ! grep -q '^deb-src ' "$f"; then
        grep '^deb ' "$f" | sed 's/^deb /deb-src /' >> "$f"
        echo changed
    fi
}

missing=
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null \
            | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done

changed=$(enable_deb_src)
if [ -n "$missing" ] || [ -n "$changed" ] \
        || ! apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Version:'; then
    apt-get update
fi
if [ -n "$missing" ]; then
    echo "install-deps.sh: installing$missing"
    # The Debian postinst of etcd-server and openvswitch-switch may try to
    # start their system services; the test bed does not use them.
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        $missing
fi

# The packaged services (if a service manager started them) are not used:
# the test bed runs its own etcd and OVS inside its namespaces.
if [ "${1-}" = --no-build ]; then
    exit 0
fi
exec "$here/build-kube.sh" kubelet kube-scheduler pause e2e.test ginkgo agnhost
