#!/bin/bash
# Services, ClusterIP, on a 3-node test bed: servers in pods on node1 and
# node2 that answer with their own name on TCP and UDP, client pods on
# node1 and on node3 (which has no endpoint), and Services with
# selectors whose EndpointSlices kube-controller-manager makes.  Checks that
# connections to the ClusterIP reach every endpoint, on TCP and UDP on the
# same port, that a removed endpoint is no longer chosen, and that a deleted
# Service leaves no flow, group or endpoint flow behind.
#
# Exit: 0 pass, 77 skip, 1 fail.  Last line: "services: N passed, M failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
testbed=$top/tests/testbed/testbed
. "$top/tests/system/tap.sh"

need_root_and etcd ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl openssl jq \
    curl ip nc
need_kube
use_testbed services tbv

# serve POD: answers every TCP connection on 8080 and every UDP datagram on
# 8081 with the pod's name (tests/system/name-server.py), until the test
# ends; the TCP clients' addresses go to $work/POD.peers.  "$testbed"
# execs down to the server, so $! is its pid.
serve() {
    local pod=$1
    "$testbed" exec "default/$pod" python3 "$top/tests/system/name-server.py" \
        "$pod" --tcp 8080 --udp 8081 --peers 2>>"$work/$pod.peers" &
    servers+=($!)
    sleep 0.3
}

# ask PROTO VIP PORT: one request from the client; prints who answered.
ask() {
    if [[ $1 == udp ]]; then
        echo hi | tb exec default/client timeout 3 nc -u -w 1 "$2" "$3" \
            2>/dev/null | head -n 1
    else
        tb exec default/client timeout 3 nc -w 2 "$2" "$3" </dev/null \
            2>/dev/null | head -n 1
    fi
}

# answers PROTO VIP PORT N [WANT]: who answered N requests, sorted, unique.
# With WANT ("web1 web2 "), it stops as soon as that is what answered: N
# is then a limit, so a fair choice between two endpoints fails to show
# both with odds 2^(1-N), not 2^(1-n) for the small n a test can afford
# when every request is made (1 in 32 for 6).
answers() {
    local i seen="" got
    for i in $(seq "$4"); do
        got=$(ask "$1" "$2" "$3")
        [[ -n $got ]] && seen+="$got"$'\n'
        [[ $1 == udp ]] && sleep 0.1
        [[ -n ${5-} && $(sort -u <<<"$seen" | grep . | tr '\n' ' ') == "$5" ]] \
            && break
    done
    printf '%s' "$seen" | sort -u | tr '\n' ' '
}

# within SECONDS CMD...: CMD succeeds within SECONDS.
within() {
    local limit=$1 i; shift
    for i in $(seq $((limit * 5))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    "$@"
}

endpoints_listed() {   # SERVICE N
    ctl node1 services/list | grep -q "^default/$1: .* $2 endpoints"
}

if ! tb up --nodes 3 >"$work/up.log" 2>&1; then
    cat "$work/up.log"
    check "testbed up" false
    echo "services: $passed passed, $failed failed"
    exit 1
fi
tb pod create default/web1 --node node1 --labels app=web \
    --port http:8080/TCP >/dev/null || fail "pod web1"
tb pod create default/web2 --node node2 --labels app=web \
    --port http:8080/TCP >/dev/null || fail "pod web2"
tb pod create default/client --node node1 >/dev/null || fail "pod client"
tb pod create default/client3 --node node3 >/dev/null || fail "pod client3"
serve web1
serve web2

tb kubectl create -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
  - {name: dns, port: 80, targetPort: 8081, protocol: UDP}
EOF
vip=$(tb kubectl get service web -o jsonpath='{.spec.clusterIP}')
# Within 1 s of the API server's answer the Service's flows are in the
# switch of the other node too: asked of the switch, not the agent, whose
# control socket would wake it up.
in_switch() {   # NODE VIP
    tb exec "$1" ovs-ofctl -O OpenFlow15 dump-flows br-int table=ServiceLB \
        | grep -q "nw_dst=$2,"
}
sleep 1
check "a new Service's flows are in node2's switch within 1 s" \
    in_switch node2 "$vip"
check "the agent renders the Service with its 4 endpoints" \
    within 10 endpoints_listed web 4
check "services/list on node2 too" sh -c \
    "'$testbed' exec node2 ovs-appctl -t tendril-agent services/list \
     | grep -q '^default/web: 2 ports with endpoints'"

out=$(answers tcp "$vip" 80 30 "web1 web2 ")
echo "# TCP answers: $out"
check "TCP to the ClusterIP reaches both endpoints (named targetPort)" \
    test "$out" = "web1 web2 "
out=$(answers udp "$vip" 80 30 "web1 web2 ")
echo "# UDP answers: $out"
check "UDP on the same port reaches both endpoints" \
    test "$out" = "web1 web2 "

# A datagram larger than the MTU leaves the client as IP fragments, and
# only the first one carries the UDP port: every one must reach the same
# endpoint.  big_udp N: who answered N 3,000-byte datagrams (one per line,
# "lost" for none).
big_udp() {
    tb exec default/client python3 "$top/tests/system/big-udp.py" "$vip" 80 "$1"
}
out=$(big_udp 10 | sort | uniq -c | tr -s ' \n' ' ')
echo "# 3,000-byte UDP datagrams:$out"
whole() { [[ $out == *web* && $out != *lost* ]]; }
check "UDP datagrams larger than the MTU reach the endpoints whole" whole

client_ip=$(tb kubectl get pod client -o jsonpath='{.status.podIP}')
check "the servers see the client pod's own address" \
    grep -q "$client_ip" "$work/web1.peers" "$work/web2.peers"
check "the node reaches the ClusterIP (--service-cidr)" within 5 sh -c \
    "[ -n \"\$('$testbed' exec node1 timeout 3 nc -w 2 $vip 80 </dev/null)\" ]"
check "another node reaches it too" within 5 sh -c \
    "[ -n \"\$('$testbed' exec node2 timeout 3 nc -w 2 $vip 80 </dev/null)\" ]"

# 1,000 connections spread evenly: each of the two endpoints gets 40 to 60%
# (the binomial spread of a fair choice is +-1.6%), none fails.
out=$(tb exec default/client python3 "$top/tests/bench/svc-client.py" count \
      "$vip" 80 1000 | tr '\n' ' ')
echo "# 1000 connections: $out"
check "1,000 connections spread evenly over both endpoints" awk -v o="$out" \
    'BEGIN { n = split(o, f, " "); ok = n == 4
             for (i = 1; i < n; i += 2) ok = ok && f[i] >= 400 && f[i] <= 600 \
                                              && f[i + 1] != "-"
             exit !ok }'

# Several ports with named and numeric targetPorts; ports added and
# removed; a deleted and recreated Service.
multiport() {
    tb kubectl create -f - >/dev/null <<'EOF2' || return 1
apiVersion: v1
kind: Service
metadata: {name: multi, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: a, port: 81, targetPort: http, protocol: TCP}
  - {name: b, port: 82, targetPort: 8080, protocol: TCP}
EOF2
    within 10 endpoints_listed multi 4 || return 1
    local mvip out
    mvip=$(tb kubectl get service multi -o jsonpath='{.spec.clusterIP}')
    out="$(answers tcp "$mvip" 81 30 "web1 web2 ")/$(answers tcp "$mvip" 82 30 "web1 web2 ")"
    echo "# ports 81/82: $out"
    [[ $out == "web1 web2 /web1 web2 " ]] || return 1
    # Port 83/UDP added, port 81 removed.
    tb kubectl patch service multi --type=json -p '[
      {"op": "remove", "path": "/spec/ports/0"},
      {"op": "add", "path": "/spec/ports/-", "value":
       {"name": "c", "port": 83, "targetPort": 8081, "protocol": "UDP"}}]' \
        >/dev/null || return 1
    within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
        services/list | grep -q 'udp/83 (c)'" || return 1
    out="$(answers udp "$mvip" 83 30 "web1 web2 ")/$(answers tcp "$mvip" 82 30 "web1 web2 ")"
    echo "# ports 83/udp and 82 after the change: $out"
    [[ $out == "web1 web2 /web1 web2 " ]] || return 1
    out=$(ask tcp "$mvip" 81)
    echo "# removed port 81: '$out'"
    [[ -z $out ]] || return 1
    # Deleted and created again: a new address answers, the old one not.
    tb kubectl delete service multi >/dev/null || return 1
    tb kubectl create -f - >/dev/null <<'EOF2' || return 1
apiVersion: v1
kind: Service
metadata: {name: multi, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: b, port: 82, targetPort: 8080, protocol: TCP}]
EOF2
    local nvip
    nvip=$(tb kubectl get service multi -o jsonpath='{.spec.clusterIP}')
    within 10 sh -c "[ -n \"\$('$testbed' exec default/client timeout 3 \
        nc -w 2 $nvip 82 </dev/null)\" ]" || return 1
    if [[ $nvip != "$mvip" ]]; then
        out=$(ask tcp "$mvip" 82)
        echo "# the old address after the re-creation: '$out'"
        [[ -z $out ]] || return 1
    fi
    tb kubectl delete service multi >/dev/null
}
check "multiport with named and numeric targetPorts, ports added and \
removed, the Service deleted and created again" multiport

# ClientIP session affinity (learn flows): one client keeps its endpoint;
# switched off it spreads again; a short timeout expires; a learned endpoint
# that goes away is replaced.
affinity() {   # SERVICE JSON-AFFINITY-PATCH
    tb kubectl patch service "$1" -p "$2" >/dev/null
}
learned() {    # NODE: the number of learned affinity flows
    tb exec "$1" ovs-ofctl -O OpenFlow15 dump-flows br-int \
        table=SessionAffinity | grep -c "cookie=0x7"
}
affinity web '{"spec":{"sessionAffinity":"ClientIP"}}'
check "services/list shows the affinity" within 10 sh -c \
    "'$testbed' exec node1 ovs-appctl -t tendril-agent services/list \
     | grep -q 'affinity ClientIP 10800 s'"
out=$(answers tcp "$vip" 80 10)
echo "# TCP answers with affinity: $out"
check "with ClientIP affinity one endpoint answers every TCP connection" \
    test "$(wc -w <<<"$out")" = 1
out=$(answers udp "$vip" 80 10)
echo "# UDP answers with affinity: $out"
check "and every UDP request" test "$(wc -w <<<"$out")" = 1
check "the switch learned the client's endpoint" \
    test "$(learned node1)" -ge 2
affinity web '{"spec":{"sessionAffinity":"None"}}'
within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -q 'affinity None'" >/dev/null
out=$(answers tcp "$vip" 80 30 "web1 web2 ")
echo "# TCP answers with affinity off: $out"
check "switched off, both endpoints answer again" test "$out" = "web1 web2 "
affinity web '{"spec":{"sessionAffinity":"ClientIP",
  "sessionAffinityConfig":{"clientIP":{"timeoutSeconds":2}}}}'
within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -q 'affinity ClientIP 2 s'" >/dev/null
tb exec node1 ovs-ofctl -O OpenFlow15 del-flows br-int \
    "table=SessionAffinity,cookie=0x70000000000/0xff0000000000"
out=$(answers tcp "$vip" 80 5)
check "a 2 s timeout: sticky at first" test "$(wc -w <<<"$out")" = 1
sleep 4
check "and forgotten after 2 s without a new connection" \
    test "$(learned node1)" = 0
affinity web '{"spec":{"sessionAffinity":"None"}}'

sticky_replaced() {
    tb pod create default/s1 --node node2 --labels app=sticky >/dev/null \
        || return 1
    serve s1
    tb kubectl create -f - >/dev/null <<'EOF2' || return 1
apiVersion: v1
kind: Service
metadata: {name: sticky, namespace: default}
spec:
  selector: {app: sticky}
  sessionAffinity: ClientIP
  ports: [{name: t, port: 80, targetPort: 8080, protocol: TCP}]
EOF2
    within 10 endpoints_listed sticky 1 || return 1
    local svip out
    svip=$(tb kubectl get service sticky -o jsonpath='{.spec.clusterIP}')
    within 5 sh -c "[ -n \"\$('$testbed' exec default/client timeout 3 \
        nc -w 2 $svip 80 </dev/null)\" ]" || return 1
    tb pod create default/s2 --node node1 --labels app=sticky >/dev/null \
        || return 1
    serve s2
    within 10 endpoints_listed sticky 2 || return 1
    out=$(answers tcp "$svip" 80 10)
    echo "# with a second endpoint: $out"
    [[ $out == "s1 " ]] || return 1
    tb pod delete default/s1 >/dev/null || return 1
    within 10 endpoints_listed sticky 1 || return 1
    out=$(answers tcp "$svip" 80 5)
    echo "# after the learned endpoint went: $out"
    [[ $out == "s2 " ]]
}
check "an affinity client keeps its endpoint when another is added, and \
moves when it goes" sticky_replaced

# NodePort, externalIP and load-balancer IP.  The control plane host is on
# the underlay but is not a node: it plays the outside client.
node_ip() { tb kubectl get node "$1" \
    -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}'; }
n1=$(node_ip node1)
n2=$(node_ip node2)
n3=$(node_ip node3)
# from HOST ADDR PORT N [WANT]: who answered N connections from HOST (a
# node, the underlay host "cp" or NS/POD), sorted, unique; "-" for a failed
# one.  WANT as for answers.
from() {
    local i seen="" got
    for i in $(seq "$4"); do
        got=$(tb exec "$1" timeout 3 nc -w 2 "$2" "$3" </dev/null 2>/dev/null \
              | head -n 1 | grep .) || got=-
        seen+="$got"$'\n'
        [[ -n ${5-} && $(sort -u <<<"$seen" | grep . | tr '\n' ' ') == "$5" ]] \
            && break
        sleep 0.3
    done
    printf '%s' "$seen" | sort -u | tr '\n' ' '
}
tb kubectl create -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: np, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: web}
  externalIPs: [192.0.2.10]
  ports: [{name: t, port: 80, targetPort: 8080, nodePort: 30080, protocol: TCP}]
EOF
tb kubectl get svc np -o json \
    | jq '.status={"loadBalancer":{"ingress":[{"ip":"198.51.100.7"}]}}' \
    >"$work/np-status.json"
tb kubectl replace --raw /api/v1/namespaces/default/services/np/status \
    -f "$work/np-status.json" >/dev/null
check "the NodePort Service is rendered with its external addresses" \
    within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -q 'external addresses: 198.51.100.7 192.0.2.10'"
check "its node port is in the node's nftables table" sh -c \
    "'$testbed' exec node1 nft list table ip tendril | grep -q 'dport 30080'"
for h in cp node2 default/client node1; do
    out=$(from "$h" "$n1" 30080 30 "web1 web2 ")
    echo "# NodePort on node1 from $h: $out"
    check "NodePort on node1 from $h reaches both endpoints" \
        test "$out" = "web1 web2 "
done
# node3 runs no endpoint: its NodePort and its pods reach the other two.
out=$(from cp "$n3" 30080 30 "web1 web2 ")
echo "# NodePort on node3 from the underlay host: $out"
check "NodePort on node3, which has no endpoint, reaches both endpoints" \
    test "$out" = "web1 web2 "
out=$(from default/client3 "$vip" 80 30 "web1 web2 ")
echo "# clusterIP from a pod on node3: $out"
check "a pod on node3 reaches both endpoints through the clusterIP" \
    test "$out" = "web1 web2 "
tb exec cp ip route add 192.0.2.10 via "$n1"
tb exec cp ip route add 198.51.100.7 via "$n2"
out=$(from cp 192.0.2.10 80 30 "web1 web2 ")
echo "# externalIP from the underlay host: $out"
check "an externalIP routed to node1 answers from the underlay host" \
    test "$out" = "web1 web2 "
out=$(from cp 198.51.100.7 80 30 "web1 web2 ")
echo "# load-balancer IP from the underlay host: $out"
check "a load-balancer IP routed to node2 answers too" \
    test "$out" = "web1 web2 "
out=$(from default/web1 "$vip" 80 30 "web1 web2 ")
echo "# web1 through its own Service: $out"
check "hairpin: a pod reaches itself through its own Service" \
    test "$out" = "web1 web2 "

# ClientIP affinity through the NodePort: the underlay host keeps one
# endpoint; switched off, it reaches both again.
affinity np '{"spec":{"sessionAffinity":"ClientIP"}}'
within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -A1 '^default/np:' | grep -q 'affinity ClientIP'" \
    >/dev/null
out=$(from cp "$n1" 30080 8)
echo "# NodePort with affinity from the underlay host: $out"
check "ClientIP affinity through a NodePort keeps one endpoint" \
    test "$(wc -w <<<"$out")" = 1 -a "$out" != "- "
affinity np '{"spec":{"sessionAffinity":"None"}}'
within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -A1 '^default/np:' | grep -q 'affinity None'" \
    >/dev/null
out=$(from cp "$n1" 30080 30 "web1 web2 ")
check "and without it both again" test "$out" = "web1 web2 "

# An endpoint outside the pod network (a host-network pod's address, here
# node1's own, served in node1's namespace): reached through the clusterIP
# and through both nodes' NodePort, from a pod, the nodes and the outside.
"$testbed" exec node1 python3 "$top/tests/system/name-server.py" host1 \
    --tcp 18080 2>/dev/null &
servers+=($!)
tb kubectl create -f - >/dev/null <<EOF2
apiVersion: v1
kind: Service
metadata: {name: hostep, namespace: default}
spec:
  type: NodePort
  ports: [{name: t, port: 80, targetPort: 18080, nodePort: 30880, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata:
  name: hostep-manual
  namespace: default
  labels: {kubernetes.io/service-name: hostep}
addressType: IPv4
ports: [{name: t, port: 18080, protocol: TCP}]
endpoints:
- addresses: ["$n1"]
  conditions: {ready: true}
  topology: {kubernetes.io/hostname: node1}
EOF2
within 10 endpoints_listed hostep 1 >/dev/null
hvip=$(tb kubectl get service hostep -o jsonpath='{.spec.clusterIP}')
out=""
for c in "default/client $hvip 80" "default/client $n1 30880" \
         "default/client $n2 30880" "node1 $hvip 80" "node2 $hvip 80" \
         "cp $n1 30880" "cp $n2 30880"; do
    set -- $c
    out+="$1>$2:$3=$(from "$1" "$2" "$3" 1)"
done
echo "# host-network endpoint: $out"
check "an endpoint outside the pod network answers through the clusterIP \
and both NodePorts, from a pod, the nodes and outside" \
    test "$(grep -o 'host1' <<<"$out" | wc -l)" = 7
tb kubectl patch service hostep \
    -p '{"spec":{"externalTrafficPolicy":"Local"}}' >/dev/null
within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -A4 '^default/hostep:' | grep -q '1 local'" \
    >/dev/null
out="$(from cp "$n1" 30880 2)/$(from cp "$n2" 30880 1)"
echo "# host-network endpoint, Local: $out"
check "with the Local policy only its own node's NodePort answers" \
    test "$out" = "host1 /- "
tb kubectl delete service hostep >/dev/null
tb kubectl delete endpointslice hostep-manual >/dev/null

# externalTrafficPolicy Local: only the node's own endpoints, the client's
# address kept, and the health check answering with the local count.
tb kubectl patch service np -p '{"spec":{"externalTrafficPolicy":"Local"}}' \
    >/dev/null
within 10 sh -c "'$testbed' exec node2 ovs-appctl -t tendril-agent \
    services/list | grep -q 'external: group .* 1 local'" >/dev/null
within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -q 'external: group .* 1 local'" >/dev/null
hcp=$(tb kubectl get service np -o jsonpath='{.spec.healthCheckNodePort}')
: >"$work/web1.peers"
out=$(from cp "$n1" 30080 6)
echo "# Local NodePort on node1 from the underlay host: $out"
check "externalTrafficPolicy Local: node1 sends to its own endpoint only" \
    test "$out" = "web1 "
check "and the endpoint sees the client's own address" \
    grep -q "172.30.0.2" "$work/web1.peers"
out=$(from cp "$n2" 30080 6)
echo "# Local NodePort on node2: $out"
check "node2 to its own" test "$out" = "web2 "
healthy() {   # NODE-IP COUNT STATUS
    tb exec cp curl -s -w " %{http_code}" "http://$1:$hcp/healthz" \
        | tr -d '\n' | grep -q "\"localEndpoints\":$2} $3"
}
check "the health check on node2 answers 200 with 1 local endpoint" \
    within 5 healthy "$n2" 1 200
check "node3, with no local endpoint: its health check answers 503" \
    within 5 healthy "$n3" 0 503
out=$(from cp "$n3" 30080 2)
echo "# Local NodePort on node3 (no endpoint): $out"
check "and it drops its NodePort connections" test "$out" = "- "

# A Service without a selector, with a hand-made EndpointSlice for web1;
# a connection through its ClusterIP survives a restart of the client
# node's agent: 60 lines, one every 0.1 s, all arrive.
steady_through_restart() {
    local port=9000 web1_ip svip
    web1_ip=$(tb kubectl get pod web1 -o jsonpath='{.status.podIP}')
    tb kubectl create -f - >/dev/null <<EOF2 || return 1
apiVersion: v1
kind: Service
metadata: {name: steady, namespace: default}
spec:
  ports: [{name: s, port: $port, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata:
  name: steady-manual
  namespace: default
  labels: {kubernetes.io/service-name: steady}
addressType: IPv4
ports: [{name: s, port: $port, protocol: TCP}]
endpoints: [{addresses: ["$web1_ip"], conditions: {ready: true}}]
EOF2
    within 10 endpoints_listed steady 1 || return 1
    svip=$(tb kubectl get service steady -o jsonpath='{.spec.clusterIP}')
    tb exec default/web1 timeout 30 nc -n -l -p $port >"$work/lines" &
    local listener=$!
    sleep 0.5
    (for i in $(seq 60); do echo "line $i"; sleep 0.1; done) \
        | tb exec default/client timeout 30 nc -N "$svip" $port &
    local sender=$!
    sleep 1
    tb agent restart node1 >/dev/null || return 1
    wait "$sender"; wait "$listener"
    [[ $(wc -l <"$work/lines") == 60 ]] \
        || { echo "# $(wc -l <"$work/lines") of 60 lines arrived"; return 1; }
}
check "a Service without a selector, with a hand-made EndpointSlice, keeps \
a connection through an agent restart" steady_through_restart

# No ready endpoint: as kube-proxy does, the serving ones that are
# terminating get the traffic; once one is ready again, only it.
terminating_fallback() {
    local web1_ip web2_ip tvip out
    web1_ip=$(tb kubectl get pod web1 -o jsonpath='{.status.podIP}')
    web2_ip=$(tb kubectl get pod web2 -o jsonpath='{.status.podIP}')
    tb kubectl create -f - >/dev/null <<EOF2 || return 1
apiVersion: v1
kind: Service
metadata: {name: term, namespace: default}
spec:
  ports: [{name: t, port: 80, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata:
  name: term-manual
  namespace: default
  labels: {kubernetes.io/service-name: term}
addressType: IPv4
ports: [{name: t, port: 8080, protocol: TCP}]
endpoints:
- addresses: ["$web1_ip"]
  conditions: {ready: false, serving: true, terminating: true}
- addresses: ["$web2_ip"]
  conditions: {ready: false, serving: false, terminating: true}
EOF2
    within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
        services/list | grep -A3 '^default/term:' \
        | grep -q serving-terminating" || return 1
    tvip=$(tb kubectl get service term -o jsonpath='{.spec.clusterIP}')
    out=$(answers tcp "$tvip" 80 8)
    echo "# only terminating endpoints: $out"
    [[ $out == "web1 " ]] || return 1
    tb kubectl patch endpointslice term-manual --type=json -p '[
      {"op": "replace", "path": "/endpoints/1/conditions",
       "value": {"ready": true, "serving": true, "terminating": false}}]' \
        >/dev/null || return 1
    within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
        services/list | grep -A3 '^default/term:' | grep -q ' ready'" \
        || return 1
    out=$(answers tcp "$tvip" 80 8)
    echo "# with a ready endpoint: $out"
    [[ $out == "web2 " ]] || return 1
    tb kubectl delete service term >/dev/null
    tb kubectl delete endpointslice term-manual >/dev/null
}
check "with no ready endpoint the serving terminating ones answer, until \
one is ready" terminating_fallback

# Another Service reaching the same endpoint shares its EndpointDNAT flow.
tb kubectl create -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: web1only, namespace: default}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 8000, targetPort: 8080, protocol: TCP}
EOF
vip2=$(tb kubectl get service web1only -o jsonpath='{.spec.clusterIP}')
check "a second Service over the same endpoints is rendered" \
    within 10 endpoints_listed web1only 2
check "the second Service answers" within 5 sh -c \
    "[ -n \"\$('$testbed' exec default/client timeout 3 nc -w 2 $vip2 8000 \
     </dev/null)\" ]"

# The label service.kubernetes.io/headless takes a Service with a clusterIP
# out of the proxy (as kube-proxy does); without it the Service is back.
tb kubectl label service web1only service.kubernetes.io/headless= >/dev/null
check "a Service labelled service.kubernetes.io/headless gets no flows" \
    within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -q '^default/web1only: no flows (labelled service.kubernetes.io/headless)'"
tb kubectl label service web1only service.kubernetes.io/headless- >/dev/null
check "and unlabelled it answers again" within 10 sh -c \
    "[ -n \"\$('$testbed' exec default/client timeout 3 nc -w 2 $vip2 8000 \
     </dev/null)\" ]"

# A Service without endpoints refuses connections at once, as kube-proxy's
# REJECT does: TCP gets a RST, UDP an ICMP port unreachable.
tb kubectl create -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: default}
spec:
  selector: {app: nobody}
  ports:
  - {name: t, port: 80, protocol: TCP}
  - {name: u, port: 80, protocol: UDP}
EOF
vip3=$(tb kubectl get service nobody -o jsonpath='{.spec.clusterIP}')
within 10 sh -c "'$testbed' exec node1 ovs-appctl -t tendril-agent \
    services/list | grep -q '^default/nobody: 0 ports'" >/dev/null
tcp_refused() {
    local start ms out
    start=$(date +%s%N)
    out=$(tb exec default/client timeout 3 nc -n -v -w 2 "$vip3" 80 \
          </dev/null \
          2>&1) && return 1
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "# TCP: $out (${ms} ms)"
    [[ $out == *refused* ]] && ((ms < 1000))
}
udp_refused() {
    local out
    out=$(tb exec default/client timeout 3 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.connect((sys.argv[1], 80))
s.send(b"hi")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timed out")' "$vip3")
    echo "# UDP: $out"
    [[ $out == refused ]]
}
check "TCP to a Service without endpoints is refused within 1 s" tcp_refused
check "UDP to it gets ICMP port unreachable" udp_refused
check "the refusals are counted" sh -c "'$testbed' exec node1 ovs-appctl \
    -t tendril-agent services/list | grep -q 'refused (no endpoints): [1-9]'"

# A client that keeps sending UDP from one port to a Service reaches the
# new server once the old one is gone: the agent flushes the conntrack
# entries to the endpoint that went away.
# udp_follows_endpoint NAME CLIENT [NODEPORT]: Service NAME (a NodePort one
# if NODEPORT is given, then reached at node1's address from CLIENT) with
# server NAME-1 on node2, replaced by NAME-2 on node1 while CLIENT sends a
# datagram every 0.2 s from port 45678.
udp_follows_endpoint() {
    local name=$1 from=$2 np=${3-} addr port spec
    tb pod create "default/$name-1" --node node2 --labels "app=$name" \
        >/dev/null || return 1
    spec="ports: [{name: u, port: 53, targetPort: 8081, protocol: UDP}]"
    if [[ -n $np ]]; then
        spec="type: NodePort
  ports: [{name: u, port: 53, targetPort: 8081, nodePort: $np, protocol: UDP}]"
    fi
    tb kubectl create -f - >/dev/null <<EOF || return 1
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: default}
spec:
  selector: {app: $name}
  $spec
EOF
    serve "$name-1"
    within 10 endpoints_listed "$name" 1 || return 1
    if [[ -n $np ]]; then
        addr=$n1 port=$np
    else
        addr=$(tb kubectl get service "$name" -o jsonpath='{.spec.clusterIP}')
        port=53
    fi
    tb exec "$from" timeout 30 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 45678))
s.settimeout(0.3)
end = time.time() + float(sys.argv[3])
while time.time() < end:
    try:
        s.sendto(b"hi", (sys.argv[1], int(sys.argv[2])))
        print(s.recv(100).decode().strip(), flush=True)
    except (socket.timeout, ConnectionRefusedError):
        print("-", flush=True)
    time.sleep(0.2)' "$addr" "$port" 14 >"$work/$name.out" &
    local client=$!
    sleep 3
    tb pod create "default/$name-2" --node node1 --labels "app=$name" \
        >/dev/null || return 1
    serve "$name-2"
    tb pod delete "default/$name-1" >/dev/null || return 1
    wait "$client"
    echo "# answers: $(uniq -c "$work/$name.out" | tr -s ' \n' ' ')"
    grep -q "$name-1" "$work/$name.out" \
        && tail -n 5 "$work/$name.out" | grep -q "$name-2"
}
check "UDP from one client port follows a replaced server pod" \
    udp_follows_endpoint udp default/client
check "UDP to a NodePort from the control plane host follows a replaced server pod" \
    udp_follows_endpoint udpnp cp 30053

# A client that reuses a source port through another Service to the same
# endpoint 50 s later, while the server that closed the first connection
# still holds TIME_WAIT: the switch's conntrack must still have the first
# connection (the agent's timeout policy on the userspace datapath), so
# that it gives the second another source port.
port_reuse() {
    local a b out
    tb pod create default/tw --node node2 --labels app=tw >/dev/null \
        || return 1
    serve tw
    for s in tw-a tw-b; do
        tb kubectl create -f - >/dev/null <<EOF2 || return 1
apiVersion: v1
kind: Service
metadata: {name: $s, namespace: default}
spec:
  selector: {app: tw}
  ports: [{port: 80, targetPort: 8080, protocol: TCP}]
EOF2
        within 10 endpoints_listed "$s" 1 || return 1
    done
    a=$(tb kubectl get service tw-a -o jsonpath='{.spec.clusterIP}')
    b=$(tb kubectl get service tw-b -o jsonpath='{.spec.clusterIP}')
    out=$(tb exec default/client python3 "$top/tests/system/port-reuse.py" \
          "$a" "$b" 80 50 8)
    echo "# port, through tw-a, through tw-b 50 s later:" $out
    tb kubectl delete service tw-a tw-b >/dev/null
    tb pod delete default/tw >/dev/null
    [[ $(wc -l <<<"$out") == 8 && $out != *failed* ]]
}
check "a source port reused 50 s later through another Service to the same \
endpoint connects (the closed connection is still tracked)" port_reuse
check "the conntrack zones' timeout policy is in the database" sh -c \
    "'$testbed' exec node1 ovs-vsctl list-zone-tp netdev \
     | grep -c 'tcp_close=120 tcp_time_wait=120' | grep -qx 2"

tb pod delete default/web2 >/dev/null || fail "delete pod web2"
check "a deleted endpoint leaves the Service" \
    within 15 endpoints_listed web 2
out=$(answers tcp "$vip" 80 10)
echo "# TCP answers after web2 went: $out"
check "only web1 answers now" test "$out" = "web1 "
check "with web2 gone, node2's health check answers 503 with none" \
    within 5 healthy "$n2" 0 503
check "and node2 drops its NodePort connections (Local, none local)" \
    test "$(from cp "$n2" 30080 2)" = "- "
tb kubectl delete service np >/dev/null
check "a deleted NodePort leaves the nftables table" within 10 sh -c \
    "! '$testbed' exec node1 nft list table ip tendril | grep -q 30080"

tb kubectl delete service web >/dev/null
check "a deleted Service has no flows or groups left" within 10 sh -c \
    "! '$testbed' exec node1 ovs-appctl -t tendril-agent flows/dump \
       --owner service/default/web | grep -q ."
check "the endpoints the other Service uses keep their flows" sh -c \
    "'$testbed' exec node1 ovs-appctl -t tendril-agent flows/dump \
     --owner endpoint/tcp | grep -q 10.244.1"
web1_ip=$(tb kubectl get pod web1 -o jsonpath='{.status.podIP}')
check "the UDP endpoint flows are gone with the Service" sh -c \
    "! '$testbed' exec node1 ovs-appctl -t tendril-agent flows/dump \
       --owner endpoint/udp | grep -q '$web1_ip:8081'"
check "connections to the deleted Service's address no longer reach a pod" \
    test -z "$(ask tcp "$vip" 80)"
check "the switch holds the groups the agent wants, no more" sh -c \
    "[ \$('$testbed' exec node1 ovs-ofctl -O OpenFlow15 dump-groups br-int \
       | grep -c group_id=) -eq \$('$testbed' exec node1 ovs-appctl -t \
       tendril-agent flows/dump | grep -c '^group_id=') ]"

echo "services: $passed passed, $failed failed"
[[ $failed == 0 ]]
