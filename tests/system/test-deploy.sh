#!/bin/bash
# deploy/install-cni.sh: the conflist it writes declares the version asked
# for (1.0.0 by default), parses, and the tendril binary accepts it.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/_build/release}
DIR=$(mktemp -d /tmp/tendril-test-deploy.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
passed=0 failed=0
check() {
    local what=$1; shift
    if "$@" >"$DIR/out" 2>&1; then
        echo "  ok   $what"; passed=$((passed + 1))
    else
        echo "  FAIL $what"; sed 's/^/       /' "$DIR/out"; failed=$((failed + 1))
    fi
}
install() {
    "$TOP/deploy/install-cni.sh" --binary "$BUILD/cni/tendril" \
        --bin-dir "$DIR/bin" --conf-dir "$DIR/net.d" "$@"
}
# The first plugin's configuration, as libcni hands it to tendril.
plugin_conf() {
    jq '.plugins[0] + {name: .name, cniVersion: .cniVersion}' \
        "$DIR/net.d/10-tendril.conflist"
}
version_ok() {
    plugin_conf | CNI_COMMAND=VERSION "$DIR/bin/tendril" \
        | jq -e --arg v "$1" '.cniVersion == $v and
                              (.supportedVersions | index($v))'
}

check "installs with cniVersion 1.0.0 by default" install
check "the list declares 1.0.0" jq -e '.cniVersion == "1.0.0"' \
    "$DIR/net.d/10-tendril.conflist"
check "tendril accepts it" version_ok 1.0.0
check "portmap and bandwidth follow tendril" jq -e \
    '[.plugins[].type] == ["tendril", "portmap", "bandwidth"]' \
    "$DIR/net.d/10-tendril.conflist"
check "--cni-version 1.1.0" install --cni-version 1.1.0
check "tendril accepts 1.1.0" version_ok 1.1.0
fails() { ! "$@"; }
check "--agent-socket is installed" install --agent-socket /run/x/cni.sock
check "--agent-socket is written" jq -e \
    '.plugins[0].agentSocket == "/run/x/cni.sock"' \
    "$DIR/net.d/10-tendril.conflist"
check "an unsupported version is refused" fails install --cni-version 0.2.0
check "a relative socket path is refused" fails install --agent-socket cni.sock
printf '{"cniVersion": "1.0.0", "name": "tendril", "plugins": [
  {"type": "tendril", "agentSocket": "/run/y/cni.sock"}]}\n' > "$DIR/list"
check "--conflist installs the given list" install --conflist "$DIR/list"
check "--conflist: the list is the file" cmp "$DIR/list" \
    "$DIR/net.d/10-tendril.conflist"
sed 's/"tendril", "agent/"bridge", "agent/' "$DIR/list" > "$DIR/other"
check "--conflist: another network's list is refused" \
    fails install --conflist "$DIR/other"
check "--conflist: the refused list is not installed" cmp "$DIR/list" \
    "$DIR/net.d/10-tendril.conflist"
printf '#!/bin/sh\necho new\n' > "$DIR/portmap"
chmod +x "$DIR/portmap"
check "--plugin installs a missing plugin" install --plugin "$DIR/portmap"
check "--plugin: it is there" test -x "$DIR/bin/portmap"
printf '#!/bin/sh\necho node\n' > "$DIR/bin/portmap"
check "--plugin keeps the node's own copy" install --plugin "$DIR/portmap"
check "--plugin: the node's copy stays" grep -q node "$DIR/bin/portmap"
check "no temporary files left" sh -c "! ls -A $DIR/bin $DIR/net.d \
    | grep -q '^\\.'"
echo "test-deploy: $passed passed, $failed failed"
[ "$failed" = 0 ]
