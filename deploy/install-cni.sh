#!/bin/sh
# Installs the tendril CNI binary and its network configuration list on a
# node: what the DaemonSet's init container runs, and what a node set up by
# hand runs once.
#
# Usage: install-cni.sh [--cni-version 1.0.0|1.1.0] [--agent-socket PATH]
#                       [--bin-dir DIR] [--conf-dir DIR] [--binary FILE]
#
# The list declares cniVersion 1.0.0 by default: runtimes that vendor libcni
# 1.1.x (containerd 1.6 and 1.7, podman 4) cannot parse 1.1.0 results.
# STATUS and GC need 1.1.0, which --cni-version 1.1.0 selects.
set -eu

version=1.0.0
socket=/var/run/tendril/cni.sock
bin_dir=/opt/cni/bin
conf_dir=/etc/cni/net.d
binary=$(dirname "$0")/../cni/tendril
while [ $# -gt 0 ]; do
    case $1 in
        --cni-version) version=$2; shift 2 ;;
        --agent-socket) socket=$2; shift 2 ;;
        --bin-dir) bin_dir=$2; shift 2 ;;
        --conf-dir) conf_dir=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        *) echo "install-cni.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
case $version in
    1.0.0|1.1.0) ;;
    *) echo "install-cni.sh: --cni-version must be 1.0.0 or 1.1.0" >&2
       exit 2 ;;
esac
case $socket in
    /*) ;;
    *) echo "install-cni.sh: --agent-socket must be an absolute path" >&2
       exit 2 ;;
esac
[ -x "$binary" ] || { echo "install-cni.sh: $binary is not executable" >&2
                      exit 1; }

mkdir -p "$bin_dir" "$conf_dir"
# Replace atomically: a runtime may be running the old binary or reading
# the old list at this moment.
cp "$binary" "$bin_dir/.tendril.new"
chmod 0755 "$bin_dir/.tendril.new"
mv "$bin_dir/.tendril.new" "$bin_dir/tendril"

cat >"$conf_dir/.10-tendril.conflist.new" <<CONF
{
  "cniVersion": "$version",
  "name": "tendril",
  "plugins": [
    {"type": "tendril", "agentSocket": "$socket"},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "bandwidth", "capabilities": {"bandwidth": true}}
  ]
}
CONF
mv "$conf_dir/.10-tendril.conflist.new" "$conf_dir/10-tendril.conflist"
echo "install-cni.sh: $bin_dir/tendril and $conf_dir/10-tendril.conflist" \
     "(cniVersion $version)"
