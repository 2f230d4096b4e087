#!/bin/sh
# Builds libopenvswitch (the static library and the headers a controller
# needs) from Debian's openvswitch-source package into a cache directory
# outside the checkout, keyed by the package version.  A cache that is
# complete is reused as it is.
#
# Usage: build-aux/build-ovs.sh [CACHE_ROOT]
# Prints the prefix of the cached build on its last line of output.
#
# The prefix holds:
#   include/openvswitch, include/openflow   public headers (make install)
#   include/ovs-private/                    OVS's lib/*.h, the generated IDL
#                                           headers, odp-netlink*.h and
#                                           OVS's config.h as ovs-config.h
#   lib/libopenvswitch.a                    the library
#   lib/pkgconfig/tendril-ovs.pc            flags for ./configure
#   share/openvswitch/vswitch.ovsschema     the schema of the same release
#   sbin/ovs-vswitchd                       the same release's switch with
#                                           build-aux/ovs-patches/ applied,
#                                           for the tests (see below)
#   STAMP                                   written last: the version and
#                                           the patches' checksum
#
# The patches fix bugs of the packaged release that the tests hit, each
# fixed upstream in a later release (the patch's header says which):
#   dpif-netdev-modify-by-ufid.patch   the userspace datapath modified
#       the wrong one of two overlapping megaflows (fixed upstream in
#       3.1.3 and 3.2.0), so a flow could keep an old policy verdict.
# Only the tests' ovs-vswitchd is patched; the library is the release's.
set -eu

cache_root=${1:-${TENDRIL_CACHE:-/var/cache/tendril}}
tarball=/usr/src/openvswitch/openvswitch.tar.gz

if ! version=$(dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null) \
   || [ ! -f "$tarball" ]; then
    echo "build-ovs: Debian package openvswitch-source is not installed" \
         "(apt-get install openvswitch-source)" >&2
    exit 1
fi

prefix=$cache_root/ovs-$version
patches=$(cd "$(dirname "$0")/ovs-patches" && pwd)
stamp="$version $(cat "$patches"/*.patch | md5sum | cut -c1-12)"
if [ -f "$prefix/STAMP" ] && [ "$(cat "$prefix/STAMP")" = "$stamp" ]; then
    echo "build-ovs: reusing $prefix" >&2
    echo "$prefix"
    exit 0
fi

for tool in cc make python3 pkg-config; do
    command -v $tool >/dev/null 2>&1 || {
        echo "build-ovs: $tool not found (apt-get install build-essential" \
             "python3 pkg-config)" >&2
        exit 1
    }
done

# Build in a scratch directory that is removed whatever happens, and
# install into a temporary prefix that is renamed into place only when
# complete, so an interrupted build never leaves a cache that looks usable.
work=$(mktemp -d "${TMPDIR:-/tmp}/tendril-ovs.XXXXXX")
stage=$prefix.partial.$$
trap 'rm -rf "$work" "$stage"' EXIT INT TERM
mkdir -p "$cache_root"

echo "build-ovs: building libopenvswitch $version in $work" >&2
tar -xzf "$tarball" -C "$work"
src=$work/openvswitch
cd "$src"

# Optional features off, so the library links the same things on every
# machine whatever -dev packages happen to be installed.
./configure --prefix="$stage" --disable-ssl --disable-libcapng \
    --disable-afxdp --enable-silent-rules \
    ac_cv_lib_unbound_ub_ctx_create=no ac_cv_lib_unwind_unw_backtrace=no \
    PYTHON3=/usr/bin/python3 CFLAGS="-O2 -g0" >"$work/configure.log" 2>&1 \
    || { tail -n 30 "$work/configure.log" >&2; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
# Generated sources are not made for an explicit target: make the library's
# and the switch's share of BUILT_SOURCES first.
printf 'print-built:\n\t@echo $(BUILT_SOURCES)\n' >"$work/built.mk"
built=$(make -s -f Makefile -f "$work/built.mk" print-built | tr ' ' '\n' \
        | grep -E '^(lib|include|ofproto|vswitchd)/')
make -j"$jobs" $built lib/dirs.c >"$work/make.log" 2>&1 \
    && make -j"$jobs" lib/libopenvswitch.la >>"$work/make.log" 2>&1 \
    || { tail -n 30 "$work/make.log" >&2; exit 1; }
# The library is built from the release as it is; the switch for the tests
# with the patches.
cp lib/.libs/libopenvswitch.a "$work/libopenvswitch.a"
for p in "$patches"/*.patch; do
    patch -s -p1 <"$p" >>"$work/make.log" 2>&1 \
        || { echo "build-ovs: $p does not apply" >&2; exit 1; }
done
make -j"$jobs" vswitchd/ovs-vswitchd >>"$work/make.log" 2>&1 \
    || { tail -n 30 "$work/make.log" >&2; exit 1; }

mkdir -p "$stage/lib/pkgconfig" "$stage/include/ovs-private" \
         "$stage/share/openvswitch"
make install-openvswitchincludeHEADERS install-openflowincludeHEADERS \
    >>"$work/make.log" 2>&1 || { tail -n 30 "$work/make.log" >&2; exit 1; }
cp "$work/libopenvswitch.a" "$stage/lib/"
mkdir -p "$stage/sbin"
cp vswitchd/ovs-vswitchd "$stage/sbin/"
# OVS's lib/ also holds stdio.h and string.h wrappers; they are copied too
# but stay harmless because the directory is only searched with -iquote.
cp lib/*.h "$stage/include/ovs-private/"
cp include/odp-netlink.h include/odp-netlink-macros.h \
   "$stage/include/ovs-private/"
cp config.h "$stage/include/ovs-private/ovs-config.h"
cp vswitchd/vswitch.ovsschema "$stage/share/openvswitch/"
cp LICENSE NOTICE "$stage/share/openvswitch/"

cat >"$stage/lib/pkgconfig/tendril-ovs.pc" <<EOF
prefix=$prefix
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: tendril-ovs
Description: libopenvswitch $version with the headers a controller needs
Version: $(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"/\1/p' config.h)
Cflags: -I\${includedir} -iquote\${includedir}/ovs-private
Libs: \${libdir}/libopenvswitch.a -lm -lpthread -lrt
EOF
echo "$stamp" >"$stage/STAMP.tmp"

rm -rf "$prefix"
mv "$stage" "$prefix"
# The prefix was written into the .pc file under its final name already.
mv "$prefix/STAMP.tmp" "$prefix/STAMP"
echo "build-ovs: cached in $prefix" >&2
echo "$prefix"
