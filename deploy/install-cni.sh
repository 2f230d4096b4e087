#!/bin/sh
# Installs the tendril CNI binary and its network configuration list on a
# node: what the DaemonSet's init container runs, and what a node set up by
# hand runs once.
#
# Usage: install-cni.sh [--cni-version 1.0.0|1.1.0] [--agent-socket PATH]
#                       [--bin-dir DIR] [--conf-dir DIR] [--binary FILE]
#                       [--conflist FILE] [--plugin FILE]...
#
# --conflist installs FILE (the DaemonSet's ConfigMap) as the list instead
# of writing one; it must be JSON whose first plugin is tendril.  --plugin
# installs a plugin the list chains (portmap, bandwidth) into the bin
# directory unless one of that name is already there: the node's own copy
# is not replaced.
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
conflist=
plugins=
while [ $# -gt 0 ]; do
    case $1 in
        --cni-version) version=$2; shift 2 ;;
        --agent-socket) socket=$2; shift 2 ;;
        --bin-dir) bin_dir=$2; shift 2 ;;
        --conf-dir) conf_dir=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        --conflist) conflist=$2; shift 2 ;;
        --plugin) plugins="$plugins $2"; shift 2 ;;
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
for p in $plugins; do
    [ -x "$p" ] || { echo "install-cni.sh: $p is not executable" >&2
                     exit 1; }
done
if [ -n "$conflist" ]; then
    # A cheap guard against installing some other network's list: the
    # first "type" in it must be tendril (the runtime parses the rest).
    first=$(sed -n 's/.*"type" *: *"\([^"]*\)".*/\1/p' "$conflist" \
            | head -n 1)
    [ "$first" = tendril ] || {
        echo "install-cni.sh: $conflist: the first plugin is not tendril" >&2
        exit 1; }
fi

mkdir -p "$bin_dir" "$conf_dir"
# Replace atomically: a runtime may be running the old binary or reading
# the old list at this moment.
cp "$binary" "$bin_dir/.tendril.new"
chmod 0755 "$bin_dir/.tendril.new"
mv "$bin_dir/.tendril.new" "$bin_dir/tendril"
for p in $plugins; do
    name=$(basename "$p")
    if [ ! -e "$bin_dir/$name" ]; then
        cp "$p" "$bin_dir/.$name.new"
        chmod 0755 "$bin_dir/.$name.new"
        mv "$bin_dir/.$name.new" "$bin_dir/$name"
    fi
done

if [ -n "$conflist" ]; then
    cp "$conflist" "$conf_dir/.10-tendril.conflist.new"
    mv "$conf_dir/.10-tendril.conflist.new" "$conf_dir/10-tendril.conflist"
    echo "install-cni.sh: $bin_dir/tendril and $conf_dir/10-tendril.conflist" \
         "(from $conflist)"
    exit 0
fi
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
