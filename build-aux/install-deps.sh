#!/bin/sh
# Installs the Debian packages that building Tendril and running its tests
# need.  Idempotent: does nothing when they are all installed already.
#
# Usage: build-aux/install-deps.sh [--test]
#   --test  also the packages the system tests and benchmarks use
set -eu

packages="build-essential autoconf automake pkg-config python3 git
          openvswitch-source openvswitch-switch
          libjansson-dev libcurl4-openssl-dev libcmocka-dev libnftables-dev
          libmicrohttpd-dev"
if [ "${1:-}" = --test ]; then
    packages="$packages iproute2 iputils-ping netcat-openbsd procps jq iperf3
              containernetworking-plugins nftables"
fi

missing=
for p in $packages; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-deps: run as root to install:$missing" >&2
    exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# openvswitch-switch's maintainer scripts try to start the system daemons;
# on a machine without an init system that is harmless, and Tendril's tests
# run their own daemons with private directories either way.
apt-get install -y -qq --no-install-recommends $missing >/dev/null
