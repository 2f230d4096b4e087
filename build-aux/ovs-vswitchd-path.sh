#!/bin/sh
# Prints the ovs-vswitchd the tests and the test bed run: $TENDRIL_OVS_VSWITCHD
# if set, else the release's own switch with the fixes of build-aux/ovs-patches/
# from the cache build-aux/build-ovs.sh fills, else the packaged one.
if [ -n "${TENDRIL_OVS_VSWITCHD-}" ]; then
    echo "$TENDRIL_OVS_VSWITCHD"
    exit 0
fi
v=$(dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null) || v=
d=${TENDRIL_CACHE:-/var/cache/tendril}/ovs-$v/sbin/ovs-vswitchd
if [ -n "$v" ] && [ -x "$d" ]; then
    echo "$d"
else
    command -v ovs-vswitchd || echo ovs-vswitchd
fi
