# Shell helpers for the system tests and the demo: a private Open vSwitch
# (ovsdb-server + ovs-vswitchd on the userspace datapath) inside a network
# namespace, with its own run, db and log directories, and the agent
# beside it.  Daemons are stopped by the pids they recorded, never by name.
#
# Source it, set TOP (the source tree) and BUILD (the build tree).

: "${OVS_SCHEMA:=/usr/share/openvswitch/vswitch.ovsschema}"

# ns_exec NS CMD...: run CMD inside network namespace NS.
ns_exec() {
    local ns=$1; shift
    ip netns exec "$ns" "$@"
}

# ovs_start NS DIR: starts ovsdb-server and ovs-vswitchd in NS, state in
# DIR.  vswitchd starts with flow-restore-wait=true, as a node's OVS
# should: the agent clears it after its first sync.
ovs_start() {
    local ns=$1 dir=$2
    mkdir -p "$dir"
    ovsdb-tool create "$dir/conf.db" "$OVS_SCHEMA"
    ns_exec "$ns" env OVS_RUNDIR="$dir" OVS_DBDIR="$dir" OVS_LOGDIR="$dir" \
        ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" \
        --pidfile="$dir/ovsdb-server.pid" --unixctl="$dir/ovsdb-server.ctl" \
        --log-file="$dir/ovsdb-server.log" --detach --no-chdir \
        >>"$dir/ovsdb-server.out" 2>&1
    ovs-vsctl --db="unix:$dir/db.sock" --no-wait -- init \
        -- set Open_vSwitch . other_config:flow-restore-wait=true
    ovs_start_vswitchd "$ns" "$dir"
}

ovs_start_vswitchd() {
    local ns=$1 dir=$2
    ns_exec "$ns" env OVS_RUNDIR="$dir" OVS_DBDIR="$dir" OVS_LOGDIR="$dir" \
        "$("$TOP/build-aux/ovs-vswitchd-path.sh")" "unix:$dir/db.sock" \
        --disable-system \
        --pidfile="$dir/ovs-vswitchd.pid" --unixctl="$dir/ovs-vswitchd.ctl" \
        --log-file="$dir/ovs-vswitchd.log" --detach --no-chdir \
        >>"$dir/ovs-vswitchd.out" 2>&1
}

# stop_pidfile FILE: stops the process whose pid FILE records and waits for
# it to go.
stop_pidfile() {
    local file=$1 pid i
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null) || return 0
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || { rm -f "$file"; return 0; }
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$file"
}

ovs_stop() {
    local dir=$1
    stop_pidfile "$dir/ovs-vswitchd.pid"
    stop_pidfile "$dir/ovsdb-server.pid"
}

# vsctl DIR ARGS...: ovs-vsctl against the private OVSDB.
vsctl() {
    local dir=$1; shift
    ovs-vsctl --db="unix:$dir/db.sock" --timeout=10 "$@"
}

# ofctl DIR ARGS...: ovs-ofctl against the private switch.
ofctl() {
    local dir=$1; shift
    OVS_RUNDIR="$dir" ovs-ofctl -O OpenFlow15 "$@"
}

# agent_start NS DIR NODE POD_CIDR [EXTRA ARGS]: starts tendril-agent in NS
# for the OVS in DIR.
agent_start() {
    local ns=$1 dir=$2 node=$3 cidr=$4; shift 4
    ns_exec "$ns" "$BUILD/agent/tendril-agent" --node-name="$node" \
        --ovsdb="unix:$dir/db.sock" --datapath-type=netdev \
        --pod-cidr="$cidr" --cni-socket="$dir/cni.sock" \
        --state-dir="$dir/state" --unixctl="$dir/tendril-agent.ctl" \
        --pidfile="$dir/tendril-agent.pid" --detach --no-chdir \
        --log-file="$dir/tendril-agent.log" "$@" \
        >>"$dir/tendril-agent.out" 2>&1
}

agent_stop() {
    stop_pidfile "$1/tendril-agent.pid"
}

# appctl DIR ARGS...: ovs-appctl -t tendril-agent for the agent in DIR.
appctl() {
    local dir=$1; shift
    ovs-appctl -t "$dir/tendril-agent.ctl" "$@"
}

# wait_for SECONDS CMD...: retries CMD until it succeeds or time runs out.
wait_for() {
    local limit=$1 i; shift
    for i in $(seq $((limit * 10))); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    "$@"
}

agent_ready() {
    appctl "$1" agent/status | grep -q '^ready: yes'
}
