#!/bin/bash
# Installs the Debian packages (with --test, also what the test bed needs),
# builds libopenvswitch into its cache (once),
# generates configure, and configures and builds Tendril in _build/NAME.
# Usage: build-aux/bootstrap.sh NAME [--test] [CONFIGURE-OPTIONS...]
# Prints the build directory on its last line.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
name=$1; shift
deps_flag=
if [ "${1:-}" = --test ]; then
    deps_flag=--test; shift
fi

build-aux/install-deps.sh $deps_flag >&2
if [ -n "$deps_flag" ]; then
    # etcd, the Kubernetes binaries (built once into /var/cache/tendril,
    # about 12 minutes the first time) and the rest of the test bed.
    mkdir -p _build
    tests/testbed/install-deps.sh >_build/testbed-deps.log 2>&1 || {
        tail -n 40 _build/testbed-deps.log >&2; exit 1; }
fi
ovs_prefix=$(build-aux/build-ovs.sh | tail -n 1)
if [ ! -x configure ] || [ configure.ac -nt configure ] \
   || [ m4/tendril.m4 -nt configure ]; then
    autoreconf -fi >&2
fi

dir=$TOP/_build/$name
mkdir -p "$dir"
if [ ! -f "$dir/Makefile" ]; then
    (cd "$dir" && ../../configure --with-ovs="$ovs_prefix" --enable-werror \
         "$@" >configure.out 2>&1) || { tail -n 30 "$dir/configure.out" >&2;
                                        exit 1; }
fi
make -C "$dir" -s -j"$(nproc)" >&2
echo "$dir"
