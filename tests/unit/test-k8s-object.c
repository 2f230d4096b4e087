#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/json-util.h"
#include "lib/k8s-object.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

static json_t *
jinteger(json_int_t n)
{
    return json_pack("I", n);
}

static json_t *
jreal(double d)
{
    return json_pack("f", d);
}

/* Fixtures. */

static json_t *
load(const char *name)
{
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    char *path = xasprintf("%s/tests/fixtures/k8s/%s", srcdir, name);
    json_error_t jerr;
    json_t *json = json_load_file(path, 0, &jerr);
    if (!json) {
        fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
    }
    free(path);
    return json;
}

static struct k8s_object *
parse_json(enum k8s_kind kind, const json_t *json)
{
    struct k8s_object *obj;
    char *error = k8s_object_parse(kind, json, &obj);
    if (error) {
        fail_msg("%s", error);
    }
    assert_non_null(obj);
    assert_int_equal(obj->kind, kind);
    return obj;
}

static struct k8s_object *
parse_fixture(enum k8s_kind kind, const char *name)
{
    json_t *json = load(name);
    struct k8s_object *obj = parse_json(kind, json);
    json_decref(json);
    return obj;
}

static void
assert_ip(const struct ipaddr *ip, const char *expected)
{
    char buf[IPADDR_STRLEN];
    assert_string_equal(ipaddr_format(ip, buf), expected);
}

static void
assert_cidr(const struct cidr *cidr, const char *expected)
{
    char buf[CIDR_STRLEN];
    assert_string_equal(cidr_format(cidr, buf), expected);
}

/* Well-formed objects. */

static void
test_node(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_NODE, "node.json");
    const struct k8s_node *node = k8s_node_cast(obj);

    assert_string_equal(obj->name, "worker-1");
    assert_null(obj->namespace);
    assert_string_equal(obj->uid, "6f1d2b0e-3f7a-4c1e-9a55-2b7f0c9e8d11");
    assert_string_equal(obj->resource_version, "48213");
    assert_string_equal(smap_get(&obj->labels, "kubernetes.io/hostname"),
                        "worker-1");
    assert_string_equal(smap_get(&obj->labels,
                                 "node-role.kubernetes.io/worker"), "");
    assert_int_equal(node->n_pod_cidrs, 1);
    assert_cidr(&node->pod_cidrs[0], "10.244.1.0/24");
    assert_int_equal(node->n_internal_ips, 1);
    assert_ip(&node->internal_ips[0], "192.168.56.11");
    assert_true(node->ready);

    char *key = k8s_object_key(obj);
    assert_string_equal(key, "worker-1");
    free(key);
    k8s_object_destroy(obj);

    obj = parse_fixture(K8S_NODE, "node-dualstack.json");
    node = k8s_node_cast(obj);
    assert_int_equal(node->n_pod_cidrs, 2);
    assert_cidr(&node->pod_cidrs[0], "10.244.2.0/24");
    assert_cidr(&node->pod_cidrs[1], "fd00:10:244:2::/64");
    assert_int_equal(node->n_internal_ips, 2);
    assert_ip(&node->internal_ips[0], "192.168.56.12");
    assert_ip(&node->internal_ips[1], "fd00:56::12");
    assert_false(node->ready);
    k8s_object_destroy(obj);
}

static void
test_node_cidr_variants(void **state)
{
    /* podCIDR alone; then neither (not allocated yet). */
    json_t *json = load("node.json");
    json_object_del(json_object_get(json, "spec"), "podCIDRs");
    struct k8s_object *obj = parse_json(K8S_NODE, json);
    assert_int_equal(k8s_node_cast(obj)->n_pod_cidrs, 1);
    assert_cidr(&k8s_node_cast(obj)->pod_cidrs[0], "10.244.1.0/24");
    k8s_object_destroy(obj);

    json_object_del(json, "spec");
    json_object_del(json, "status");
    obj = parse_json(K8S_NODE, json);
    assert_int_equal(k8s_node_cast(obj)->n_pod_cidrs, 0);
    assert_int_equal(k8s_node_cast(obj)->n_internal_ips, 0);
    assert_false(k8s_node_cast(obj)->ready);
    k8s_object_destroy(obj);
    json_decref(json);
}

static void
test_namespace(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_NAMESPACE, "namespace.json");
    assert_non_null(k8s_namespace_cast(obj));
    assert_string_equal(obj->name, "shop");
    assert_null(obj->namespace);
    assert_int_equal(smap_count(&obj->labels), 3);
    assert_string_equal(smap_get(&obj->labels, "team"), "payments");
    k8s_object_destroy(obj);
}

static void
test_pod(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_POD, "pod.json");
    const struct k8s_pod *pod = k8s_pod_cast(obj);

    assert_string_equal(obj->namespace, "default");
    assert_string_equal(obj->name, "web-7d9c6b8f5-x2xkq");
    assert_string_equal(smap_get(&obj->labels, "app"), "web");
    assert_string_equal(pod->node_name, "worker-1");
    assert_false(pod->host_network);
    assert_int_equal(pod->phase, K8S_POD_PHASE_RUNNING);
    assert_string_equal(k8s_pod_phase_to_string(pod->phase), "Running");
    assert_int_equal(pod->n_pod_ips, 1);
    assert_ip(&pod->pod_ips[0], "10.244.1.17");

    assert_int_equal(pod->n_ports, 4);
    assert_string_equal(pod->ports[0].name, "http");
    assert_int_equal(pod->ports[0].port, 80);
    assert_int_equal(pod->ports[0].protocol, K8S_PROTO_TCP);
    assert_string_equal(pod->ports[1].name, "metrics");
    assert_int_equal(pod->ports[1].port, 9113);
    assert_int_equal(pod->ports[1].protocol, K8S_PROTO_TCP);
    assert_string_equal(pod->ports[2].name, "dns");
    assert_int_equal(pod->ports[2].protocol, K8S_PROTO_UDP);
    assert_string_equal(pod->ports[3].name, "");
    assert_int_equal(pod->ports[3].port, 8080);

    assert_int_equal(k8s_pod_find_port(pod, "http", K8S_PROTO_TCP), 80);
    assert_int_equal(k8s_pod_find_port(pod, "dns", K8S_PROTO_UDP), 53);
    assert_int_equal(k8s_pod_find_port(pod, "dns", K8S_PROTO_TCP), 0);
    assert_int_equal(k8s_pod_find_port(pod, "", K8S_PROTO_TCP), 0);
    assert_int_equal(k8s_pod_find_port(pod, "grpc", K8S_PROTO_TCP), 0);

    char *key = k8s_object_key(obj);
    assert_string_equal(key, "default/web-7d9c6b8f5-x2xkq");
    free(key);
    k8s_object_destroy(obj);
}

static void
test_pod_variants(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_POD, "pod-pending.json");
    const struct k8s_pod *pod = k8s_pod_cast(obj);
    assert_null(pod->node_name);
    assert_int_equal(pod->n_pod_ips, 0);
    assert_int_equal(pod->n_ports, 0);
    assert_int_equal(pod->phase, K8S_POD_PHASE_PENDING);
    k8s_object_destroy(obj);

    obj = parse_fixture(K8S_POD, "pod-hostnet-dualstack.json");
    pod = k8s_pod_cast(obj);
    assert_true(pod->host_network);
    assert_string_equal(pod->node_name, "worker-2");
    assert_int_equal(pod->n_pod_ips, 2);
    assert_ip(&pod->pod_ips[0], "192.168.56.12");
    assert_ip(&pod->pod_ips[1], "fd00:56::12");
    assert_int_equal(smap_count(&obj->labels), 0);
    k8s_object_destroy(obj);

    /* podIP without podIPs (older API servers); no status at all. */
    json_t *json = load("pod.json");
    json_t *status = json_object_get(json, "status");
    json_object_del(status, "podIPs");
    obj = parse_json(K8S_POD, json);
    assert_int_equal(k8s_pod_cast(obj)->n_pod_ips, 1);
    assert_ip(&k8s_pod_cast(obj)->pod_ips[0], "10.244.1.17");
    k8s_object_destroy(obj);

    json_object_set_new(status, "podIP", tjson_string(""));
    obj = parse_json(K8S_POD, json);
    assert_int_equal(k8s_pod_cast(obj)->n_pod_ips, 0);
    k8s_object_destroy(obj);

    json_object_del(json, "status");
    obj = parse_json(K8S_POD, json);
    assert_int_equal(k8s_pod_cast(obj)->phase, K8S_POD_PHASE_NONE);
    k8s_object_destroy(obj);
    json_decref(json);
}

static void
test_service_cluster_ip(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_SERVICE,
                                           "service-clusterip.json");
    const struct k8s_service *svc = k8s_service_cast(obj);

    assert_int_equal(svc->type, K8S_SERVICE_CLUSTER_IP);
    assert_false(svc->headless);
    assert_int_equal(svc->n_cluster_ips, 1);
    assert_ip(&svc->cluster_ips[0], "10.96.45.10");

    assert_int_equal(svc->n_ports, 3);
    assert_string_equal(svc->ports[0].name, "http");
    assert_int_equal(svc->ports[0].protocol, K8S_PROTO_TCP);
    assert_int_equal(svc->ports[0].port, 80);
    assert_int_equal(svc->ports[0].target_port.type, K8S_PORT_REF_NAME);
    assert_string_equal(svc->ports[0].target_port.name, "http");
    assert_int_equal(svc->ports[0].node_port, 0);
    assert_int_equal(svc->ports[1].target_port.type, K8S_PORT_REF_NUMBER);
    assert_int_equal(svc->ports[1].target_port.number, 9113);
    assert_null(svc->ports[1].target_port.name);
    /* No targetPort: defaults to port. */
    assert_int_equal(svc->ports[2].protocol, K8S_PROTO_UDP);
    assert_int_equal(svc->ports[2].target_port.type, K8S_PORT_REF_NUMBER);
    assert_int_equal(svc->ports[2].target_port.number, 53);

    assert_int_equal(smap_count(&svc->selector), 2);
    assert_string_equal(smap_get(&svc->selector, "tier"), "frontend");
    assert_false(svc->affinity_client_ip);
    assert_int_equal(svc->affinity_timeout, 0);
    assert_int_equal(svc->n_external_ips, 0);
    assert_int_equal(svc->n_lb_ips, 0);
    assert_int_equal(svc->external_traffic_policy,
                     K8S_TRAFFIC_POLICY_CLUSTER);
    assert_int_equal(svc->internal_traffic_policy,
                     K8S_TRAFFIC_POLICY_CLUSTER);
    k8s_object_destroy(obj);
}

static void
test_service_load_balancer(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_SERVICE,
                                           "service-loadbalancer.json");
    const struct k8s_service *svc = k8s_service_cast(obj);

    assert_int_equal(svc->type, K8S_SERVICE_LOAD_BALANCER);
    assert_string_equal(k8s_service_type_to_string(svc->type),
                        "LoadBalancer");
    assert_int_equal(svc->n_cluster_ips, 2);
    assert_ip(&svc->cluster_ips[0], "10.96.200.7");
    assert_ip(&svc->cluster_ips[1], "fd00:10:96::c8:7");
    assert_int_equal(svc->n_ports, 2);
    assert_int_equal(svc->ports[0].port, 443);
    assert_int_equal(svc->ports[0].target_port.number, 8443);
    assert_int_equal(svc->ports[0].node_port, 31443);
    assert_int_equal(svc->ports[1].protocol, K8S_PROTO_UDP);
    assert_string_equal(svc->ports[1].target_port.name, "quic");
    assert_int_equal(svc->ports[1].node_port, 31444);
    assert_true(svc->affinity_client_ip);
    assert_int_equal(svc->affinity_timeout, 600);
    assert_int_equal(svc->n_external_ips, 1);
    assert_ip(&svc->external_ips[0], "198.51.100.20");
    /* The hostname-only entry is skipped. */
    assert_int_equal(svc->n_lb_ips, 2);
    assert_ip(&svc->lb_ips[0], "203.0.113.50");
    assert_ip(&svc->lb_ips[1], "2001:db8::50");
    assert_int_equal(svc->external_traffic_policy, K8S_TRAFFIC_POLICY_LOCAL);
    assert_int_equal(svc->internal_traffic_policy, K8S_TRAFFIC_POLICY_LOCAL);
    k8s_object_destroy(obj);
}

static void
test_service_variants(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_SERVICE,
                                           "service-headless.json");
    const struct k8s_service *svc = k8s_service_cast(obj);
    assert_true(svc->headless);
    assert_int_equal(svc->n_cluster_ips, 0);
    assert_string_equal(svc->ports[0].name, "pg");
    k8s_object_destroy(obj);

    /* Headless given only as clusterIP. */
    json_t *json = load("service-headless.json");
    json_object_del(json_object_get(json, "spec"), "clusterIPs");
    obj = parse_json(K8S_SERVICE, json);
    assert_true(k8s_service_cast(obj)->headless);
    k8s_object_destroy(obj);
    json_decref(json);

    obj = parse_fixture(K8S_SERVICE, "service-nodeport-affinity-default.json");
    svc = k8s_service_cast(obj);
    assert_int_equal(svc->type, K8S_SERVICE_NODE_PORT);
    assert_int_equal(svc->n_cluster_ips, 1);
    assert_ip(&svc->cluster_ips[0], "10.96.7.7");
    assert_string_equal(svc->ports[0].name, "");
    assert_int_equal(svc->ports[0].protocol, K8S_PROTO_TCP);
    assert_int_equal(svc->ports[0].target_port.number, 8080);
    assert_int_equal(svc->ports[0].node_port, 30080);
    assert_true(svc->affinity_client_ip);
    assert_int_equal(svc->affinity_timeout, 10800);
    k8s_object_destroy(obj);

    obj = parse_fixture(K8S_SERVICE, "service-externalname.json");
    svc = k8s_service_cast(obj);
    assert_int_equal(svc->type, K8S_SERVICE_EXTERNAL_NAME);
    assert_int_equal(svc->n_cluster_ips, 0);
    assert_false(svc->headless);
    assert_int_equal(svc->n_ports, 0);
    assert_true(smap_is_empty(&svc->selector));
    k8s_object_destroy(obj);
}

static void
test_endpoint_slice_v1(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_ENDPOINT_SLICE,
                                           "endpointslice-v1.json");
    const struct k8s_endpoint_slice *eps = k8s_endpoint_slice_cast(obj);

    assert_int_equal(eps->version, K8S_EPS_V1);
    assert_string_equal(eps->service_name, "web");
    assert_int_equal(eps->address_type, K8S_ADDRESS_IPV4);
    assert_int_equal(eps->n_ports, 3);
    assert_string_equal(eps->ports[0].name, "http");
    assert_int_equal(eps->ports[0].port, 80);
    assert_int_equal(eps->ports[2].protocol, K8S_PROTO_UDP);
    assert_int_equal(eps->ports[2].port, 53);

    assert_int_equal(eps->n_endpoints, 4);
    const struct k8s_endpoint *ep = &eps->endpoints[0];
    assert_int_equal(ep->n_addresses, 1);
    assert_ip(&ep->addresses[0], "10.244.1.17");
    assert_true(ep->ready);
    assert_true(ep->serving);
    assert_false(ep->terminating);
    assert_string_equal(ep->node_name, "worker-1");
    assert_string_equal(ep->pod_namespace, "default");
    assert_string_equal(ep->pod_name, "web-7d9c6b8f5-x2xkq");

    ep = &eps->endpoints[1];
    assert_false(ep->ready);
    assert_true(ep->serving);
    assert_true(ep->terminating);
    assert_string_equal(ep->node_name, "worker-2");

    /* Empty conditions: ready and serving by default.  The targetRef has
     * no namespace: the slice's.  deprecatedTopology gives the node. */
    ep = &eps->endpoints[2];
    assert_true(ep->ready);
    assert_true(ep->serving);
    assert_false(ep->terminating);
    assert_string_equal(ep->node_name, "worker-2");
    assert_string_equal(ep->pod_namespace, "default");
    assert_string_equal(ep->pod_name, "web-7d9c6b8f5-zz1ab");

    /* serving follows ready when absent; no targetRef, no node. */
    ep = &eps->endpoints[3];
    assert_false(ep->ready);
    assert_false(ep->serving);
    assert_null(ep->node_name);
    assert_null(ep->pod_name);
    assert_null(ep->pod_namespace);
    k8s_object_destroy(obj);
}

static void
test_endpoint_slice_v1beta1(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_ENDPOINT_SLICE,
                                           "endpointslice-v1beta1.json");
    const struct k8s_endpoint_slice *eps = k8s_endpoint_slice_cast(obj);

    assert_int_equal(eps->version, K8S_EPS_V1BETA1);
    assert_string_equal(eps->service_name, "db");
    assert_int_equal(eps->address_type, K8S_ADDRESS_IPV6);
    assert_int_equal(eps->n_ports, 1);
    assert_string_equal(eps->ports[0].name, "");
    assert_int_equal(eps->ports[0].port, 5432);
    assert_int_equal(eps->n_endpoints, 1);
    assert_ip(&eps->endpoints[0].addresses[0], "fd00:10:244:2::5");
    assert_true(eps->endpoints[0].ready);
    assert_string_equal(eps->endpoints[0].node_name, "worker-2");
    assert_string_equal(eps->endpoints[0].pod_namespace, "shop");
    assert_string_equal(eps->endpoints[0].pod_name, "db-0");
    k8s_object_destroy(obj);

    obj = parse_fixture(K8S_ENDPOINT_SLICE, "endpointslice-empty.json");
    eps = k8s_endpoint_slice_cast(obj);
    assert_int_equal(eps->version, K8S_EPS_UNKNOWN);
    assert_null(eps->service_name);
    assert_int_equal(eps->address_type, K8S_ADDRESS_FQDN);
    assert_int_equal(eps->n_endpoints, 0);
    assert_int_equal(eps->n_ports, 1);
    assert_string_equal(eps->ports[0].name, "");
    assert_int_equal(eps->ports[0].port, 0);
    k8s_object_destroy(obj);
}

static void
test_network_policy(void **state)
{
    struct k8s_object *obj = parse_fixture(K8S_NETWORK_POLICY,
                                           "networkpolicy.json");
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);

    assert_string_equal(label_selector_canonical(np->pod_selector),
                        "app=web,tier in (edge,frontend)");
    assert_true(np->policy_ingress);
    assert_true(np->policy_egress);

    assert_int_equal(np->n_ingress, 2);
    const struct k8s_np_rule *rule = &np->ingress[0];
    assert_int_equal(rule->n_peers, 4);
    assert_string_equal(label_selector_canonical(rule->peers[0].pod_selector),
                        "role=client");
    assert_null(rule->peers[0].namespace_selector);
    assert_null(rule->peers[0].ip_block);
    assert_null(rule->peers[1].pod_selector);
    assert_string_equal(
        label_selector_canonical(rule->peers[1].namespace_selector),
        "team=payments");
    assert_string_equal(label_selector_canonical(rule->peers[2].pod_selector),
                        "role");
    assert_string_equal(
        label_selector_canonical(rule->peers[2].namespace_selector),
        "env!=dev");
    const struct k8s_ip_block *block = rule->peers[3].ip_block;
    assert_non_null(block);
    assert_null(rule->peers[3].pod_selector);
    assert_null(rule->peers[3].namespace_selector);
    assert_cidr(&block->cidr, "172.17.0.0/16");
    assert_int_equal(block->n_except, 2);
    assert_cidr(&block->except[0], "172.17.1.0/24");
    assert_cidr(&block->except[1], "172.17.2.0/24");

    assert_int_equal(rule->n_ports, 3);
    assert_int_equal(rule->ports[0].protocol, K8S_PROTO_TCP);
    assert_int_equal(rule->ports[0].port.type, K8S_PORT_REF_NUMBER);
    assert_int_equal(rule->ports[0].port.number, 80);
    assert_int_equal(rule->ports[0].end_port, 0);
    assert_int_equal(rule->ports[1].port.type, K8S_PORT_REF_NAME);
    assert_string_equal(rule->ports[1].port.name, "http");
    assert_int_equal(rule->ports[2].protocol, K8S_PROTO_TCP);
    assert_int_equal(rule->ports[2].port.number, 30000);
    assert_int_equal(rule->ports[2].end_port, 32767);

    /* No peers: everyone. */
    rule = &np->ingress[1];
    assert_int_equal(rule->n_peers, 0);
    assert_int_equal(rule->n_ports, 1);
    assert_int_equal(rule->ports[0].protocol, K8S_PROTO_UDP);

    assert_int_equal(np->n_egress, 2);
    rule = &np->egress[0];
    assert_int_equal(rule->n_peers, 2);
    /* Host bits are cleared, as the API server's parser does. */
    assert_cidr(&rule->peers[0].ip_block->cidr, "10.0.0.0/8");
    assert_int_equal(rule->peers[0].ip_block->n_except, 0);
    assert_true(label_selector_is_empty(rule->peers[1].namespace_selector));
    assert_null(rule->peers[1].pod_selector);
    assert_int_equal(rule->n_ports, 1);
    assert_int_equal(rule->ports[0].protocol, K8S_PROTO_SCTP);
    assert_int_equal(rule->ports[0].port.type, K8S_PORT_REF_NONE);
    /* An empty rule: everyone, every port. */
    assert_int_equal(np->egress[1].n_peers, 0);
    assert_int_equal(np->egress[1].n_ports, 0);
    k8s_object_destroy(obj);
}

static void
test_network_policy_types(void **state)
{
    /* No policyTypes, egress rules present: Ingress and Egress. */
    struct k8s_object *obj = parse_fixture(K8S_NETWORK_POLICY,
                                           "networkpolicy-default-types.json");
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    assert_true(label_selector_is_empty(np->pod_selector));
    assert_true(np->policy_ingress);
    assert_true(np->policy_egress);
    assert_int_equal(np->n_ingress, 0);
    assert_int_equal(np->n_egress, 1);
    assert_string_equal(
        label_selector_canonical(np->egress[0].peers[0].namespace_selector),
        "kubernetes.io/metadata.name=kube-system");
    assert_int_equal(np->egress[0].n_ports, 2);
    k8s_object_destroy(obj);

    /* No policyTypes, "egress": []: Ingress only. */
    obj = parse_fixture(K8S_NETWORK_POLICY, "networkpolicy-deny-all.json");
    np = k8s_network_policy_cast(obj);
    assert_true(np->policy_ingress);
    assert_false(np->policy_egress);
    k8s_object_destroy(obj);

    /* Explicit policyTypes win: Egress only, though ingress rules exist. */
    json_t *json = load("networkpolicy.json");
    json_t *spec = json_object_get(json, "spec");
    json_object_set_new(spec, "policyTypes", json_pack("[s]", "Egress"));
    obj = parse_json(K8S_NETWORK_POLICY, json);
    np = k8s_network_policy_cast(obj);
    assert_false(np->policy_ingress);
    assert_true(np->policy_egress);
    assert_int_equal(np->n_ingress, 2);
    k8s_object_destroy(obj);

    /* An empty policyTypes is defaulted like an absent one. */
    json_object_set_new(spec, "policyTypes", tjson_array());
    json_object_del(spec, "egress");
    obj = parse_json(K8S_NETWORK_POLICY, json);
    np = k8s_network_policy_cast(obj);
    assert_true(np->policy_ingress);
    assert_false(np->policy_egress);
    k8s_object_destroy(obj);
    json_decref(json);
}

static void
test_parse_any(void **state)
{
    json_t *events = load("watch-events.json");
    static const enum k8s_kind kinds[] = {
        K8S_POD, K8S_POD, K8S_SERVICE, K8S_POD,
    };
    assert_int_equal(json_array_size(events), ARRAY_SIZE(kinds));
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *object = json_object_get(json_array_get(events, i), "object");
        struct k8s_object *obj;
        char *error = k8s_object_parse_any(object, &obj);
        if (error) {
            fail_msg("event %zu: %s", i, error);
        }
        assert_int_equal(obj->kind, kinds[i]);
        k8s_object_destroy(obj);
    }
    json_decref(events);

    /* List items carry no kind: parse_any refuses, parse with a kind
     * works. */
    json_t *list = load("podlist.json");
    json_t *items = json_object_get(list, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        struct k8s_object *obj;
        char *error = k8s_object_parse_any(json_array_get(items, i), &obj);
        assert_non_null(error);
        assert_string_equal(error, "object has no \"kind\"");
        assert_null(obj);
        free(error);

        obj = parse_json(K8S_POD, json_array_get(items, i));
        k8s_object_destroy(obj);
    }
    json_decref(list);

    json_t *deployment = json_pack("{s:s, s:{s:s}}", "kind", "Deployment",
                                   "metadata", "name", "x");
    struct k8s_object *obj;
    char *error = k8s_object_parse_any(deployment, &obj);
    assert_string_equal(error,
                        "kind \"Deployment\" is not one the agent knows");
    free(error);
    json_decref(deployment);

    json_t *array = tjson_array();
    error = k8s_object_parse(K8S_POD, array, &obj);
    assert_string_equal(error, "Pod: object is an array, expected an object");
    assert_null(obj);
    free(error);
    json_decref(array);

    enum k8s_kind kind;
    assert_true(k8s_kind_from_string("EndpointSlice", &kind));
    assert_int_equal(kind, K8S_ENDPOINT_SLICE);
    assert_false(k8s_kind_from_string("endpointslice", &kind));
    for (int i = 0; i < K8S_N_KINDS; i++) {
        assert_true(k8s_kind_from_string(k8s_kind_to_string(i), &kind));
        assert_int_equal(kind, i);
    }
    k8s_object_destroy(NULL);
}

/* Malformed objects. */

/* Sets the member at 'path' of 'root' to 'value' (JSON text), or deletes it
 * if 'value' is NULL.  'path' is dot-separated keys, each optionally
 * followed by [N] array indexes: "spec.ports[1].port". */
static void
mutate(json_t *root, const char *path, const char *value)
{
    char *copy = xstrdup(path);
    json_t *parent = NULL, *cur = root;
    const char *key = NULL;
    size_t idx = 0;
    char *save = NULL;

    for (char *seg = strtok_r(copy, ".", &save); seg;
         seg = strtok_r(NULL, ".", &save)) {
        char *bracket = strchr(seg, '[');
        if (bracket) {
            *bracket = '\0';
        }
        if (*seg) {
            if (!json_is_object(cur)) {
                fail_msg("%s: \"%s\" is not in an object", path, seg);
            }
            parent = cur;
            key = seg;
            cur = json_object_get(parent, key);
        }
        while (bracket) {
            char *end;
            if (!json_is_array(cur)) {
                fail_msg("%s: [%s is not in an array", path, bracket + 1);
            }
            parent = cur;
            key = NULL;
            idx = strtoul(bracket + 1, &end, 10);
            cur = json_array_get(parent, idx);
            bracket = strchr(end, '[');
        }
    }

    json_t *new = NULL;
    if (value) {
        json_error_t jerr;
        new = json_loads(value, JSON_DECODE_ANY, &jerr);
        if (!new) {
            fail_msg("bad test JSON %s: %s", value, jerr.text);
        }
    }
    if (key) {
        if (new) {
            json_object_set_new(parent, key, new);
        } else if (json_object_del(parent, key)) {
            fail_msg("%s: nothing to delete", path);
        }
    } else if (new) {
        if (json_array_set_new(parent, idx, new)) {
            fail_msg("%s: no such index", path);
        }
    } else if (json_array_remove(parent, idx)) {
        fail_msg("%s: nothing to delete", path);
    }
    free(copy);
}

struct bad_case {
    enum k8s_kind kind;
    const char *fixture;
    const char *path;           /* Member to change. */
    const char *value;          /* New JSON value, NULL to delete. */
    const char *error;          /* Expected error: the whole message if it
                                 * starts with the kind, else a part. */
};

static const struct bad_case bad_cases[] = {
    /* Common metadata. */
    { K8S_POD, "pod.json", "status.podIP", "\"x\"",
      "Pod default/web-7d9c6b8f5-x2xkq: status.podIP \"x\" is not an IP "
      "address" },
    { K8S_POD, "pod.json", "metadata", NULL, "Pod: metadata is missing" },
    { K8S_POD, "pod.json", "metadata", "\"x\"",
      "Pod: metadata is a string, expected an object" },
    { K8S_POD, "pod.json", "metadata.name", NULL,
      "Pod: metadata.name is missing" },
    { K8S_POD, "pod.json", "metadata.name", "\"\"",
      "Pod: metadata.name is empty" },
    { K8S_POD, "pod.json", "metadata.namespace", NULL,
      "Pod web-7d9c6b8f5-x2xkq: metadata.namespace is missing" },
    { K8S_POD, "pod.json", "metadata.uid", "42",
      "Pod default/web-7d9c6b8f5-x2xkq: metadata.uid is a number, expected "
      "a string" },
    { K8S_POD, "pod.json", "metadata.resourceVersion", "\"\"",
      "metadata.resourceVersion is empty" },
    { K8S_POD, "pod.json", "metadata.resourceVersion", NULL,
      "metadata.resourceVersion is missing" },
    { K8S_POD, "pod.json", "metadata.labels", "[]",
      "metadata.labels is an array, expected an object" },
    { K8S_POD, "pod.json", "metadata.labels.app", "3",
      "metadata.labels[\"app\"] is a number, expected a string" },
    { K8S_POD, "pod.json", "metadata.labels.app", "\"web server\"",
      "metadata.labels: label value \"web server\" is not valid" },
    { K8S_POD, "pod.json", "kind", "\"Service\"",
      "kind is \"Service\", expected \"Pod\"" },
    { K8S_POD, "pod.json", "kind", "7", "kind is a number" },

    /* Pod. */
    { K8S_POD, "pod.json", "spec", NULL,
      "Pod default/web-7d9c6b8f5-x2xkq: spec is missing" },
    { K8S_POD, "pod.json", "spec.nodeName", "7",
      "spec.nodeName is a number, expected a string" },
    { K8S_POD, "pod.json", "spec.hostNetwork", "\"true\"",
      "spec.hostNetwork is a string, expected a boolean" },
    { K8S_POD, "pod.json", "spec.containers", "{}",
      "spec.containers is an object, expected an array" },
    { K8S_POD, "pod.json", "spec.containers[1]", "\"sidecar\"",
      "spec.containers[1] is a string, expected an object" },
    { K8S_POD, "pod.json", "spec.containers[0].ports[0].containerPort", "0",
      "spec.containers[0].ports[0].containerPort 0 is out of range 1 to "
      "65535" },
    { K8S_POD, "pod.json", "spec.containers[0].ports[1].containerPort",
      "65536", "spec.containers[0].ports[1].containerPort 65536 is out of "
      "range" },
    { K8S_POD, "pod.json", "spec.containers[0].ports[0].containerPort", NULL,
      "spec.containers[0].ports[0].containerPort is missing" },
    { K8S_POD, "pod.json", "spec.containers[0].ports[0].containerPort",
      "80.5", "containerPort is a number, expected an integer" },
    { K8S_POD, "pod.json", "spec.containers[1].ports[0].protocol",
      "\"ICMP\"", "spec.containers[1].ports[0].protocol \"ICMP\" is not "
      "TCP, UDP or SCTP" },
    { K8S_POD, "pod.json", "spec.containers[0].ports[1].name", "false",
      "spec.containers[0].ports[1].name is a boolean, expected a string" },
    { K8S_POD, "pod.json", "status.phase", "\"Exploded\"",
      "status.phase \"Exploded\" is not Pending, Running, Succeeded, Failed "
      "or Unknown" },
    { K8S_POD, "pod.json", "status", "[]",
      "status is an array, expected an object" },
    { K8S_POD, "pod.json", "status.podIPs", "[\"10.244.1.17\"]",
      "status.podIPs[0] is a string, expected an object" },
    { K8S_POD, "pod.json", "status.podIPs[0].ip", "\"10.244.1.300\"",
      "status.podIPs[0].ip \"10.244.1.300\" is not an IP address" },
    { K8S_POD, "pod.json", "status.podIPs[0].ip", NULL,
      "status.podIPs[0].ip is missing" },
    { K8S_POD, "pod.json", "status.podIP", "\"10.244.1.18\"",
      "status.podIP \"10.244.1.18\" differs from status.podIPs[0]" },
    { K8S_POD, "pod.json", "status.podIP", "\" 10.244.1.17\"",
      "is not an IP address" },

    /* Node. */
    { K8S_NODE, "node.json", "spec.podCIDR", "\"10.244.1.0/33\"",
      "Node worker-1: spec.podCIDR: \"10.244.1.0/33\" has a bad prefix "
      "length (0 to 32)" },
    { K8S_NODE, "node.json", "spec.podCIDRs[0]", "\"10.244.1.1/24\"",
      "spec.podCIDRs[0]: \"10.244.1.1/24\" has host bits set" },
    { K8S_NODE, "node.json", "spec.podCIDRs[0]", "24",
      "spec.podCIDRs[0] is a number, expected a string" },
    { K8S_NODE, "node.json", "spec.podCIDR", "\"10.244.9.0/24\"",
      "spec.podCIDR \"10.244.9.0/24\" differs from spec.podCIDRs[0]" },
    { K8S_NODE, "node.json", "spec.podCIDRs", "\"10.244.1.0/24\"",
      "spec.podCIDRs is a string, expected an array" },
    { K8S_NODE, "node.json", "status.addresses[0].address", "\"192.168.56\"",
      "status.addresses[0].address \"192.168.56\" is not an IP address" },
    { K8S_NODE, "node.json", "status.addresses[1].type", NULL,
      "status.addresses[1].type is missing" },
    { K8S_NODE, "node.json", "status.addresses[0]", "null",
      "status.addresses[0] is null, expected an object" },
    { K8S_NODE, "node.json", "status.conditions[1].status", "true",
      "status.conditions[1].status is a boolean, expected a string" },
    { K8S_NODE, "node.json", "status.conditions", "{}",
      "status.conditions is an object, expected an array" },

    /* Namespace. */
    { K8S_NAMESPACE, "namespace.json", "metadata.labels.team", "\"a b\"",
      "Namespace shop: metadata.labels: label value \"a b\" is not valid "
      "(empty, or at most 63 alphanumeric, '-', '_' or '.' characters, "
      "alphanumeric at both ends)" },
    { K8S_NAMESPACE, "namespace.json", "metadata.uid", NULL,
      "Namespace shop: metadata.uid is missing" },

    /* Service. */
    { K8S_SERVICE, "service-clusterip.json", "spec.clusterIP",
      "\"10.96.300.1\"", "Service default/web: spec.clusterIP "
      "\"10.96.300.1\" is not an IP address" },
    { K8S_SERVICE, "service-clusterip.json", "spec.clusterIPs[0]",
      "\"10.96.45.11\"",
      "spec.clusterIP \"10.96.45.10\" differs from spec.clusterIPs[0]" },
    { K8S_SERVICE, "service-clusterip.json", "spec.clusterIPs", "[\"None\"]",
      "spec.clusterIP \"10.96.45.10\" differs from spec.clusterIPs[0]" },
    { K8S_SERVICE, "service-headless.json", "spec.clusterIPs",
      "[\"None\", \"10.0.0.1\"]", "spec.clusterIPs has \"None\" and more" },
    { K8S_SERVICE, "service-clusterip.json", "spec.ports[0].port", NULL,
      "spec.ports[0].port is missing" },
    { K8S_SERVICE, "service-clusterip.json", "spec.ports[0].port", "\"80\"",
      "spec.ports[0].port is a string, expected an integer" },
    { K8S_SERVICE, "service-clusterip.json", "spec.ports[1].targetPort",
      "70000", "spec.ports[1].targetPort 70000 is out of range 1 to 65535" },
    { K8S_SERVICE, "service-clusterip.json", "spec.ports[0].targetPort",
      "\"HTTP\"", "spec.ports[0].targetPort \"HTTP\" is not a port name" },
    { K8S_SERVICE, "service-clusterip.json", "spec.ports[0].targetPort",
      "true", "spec.ports[0].targetPort is a boolean, expected an integer "
      "or a string" },
    { K8S_SERVICE, "service-clusterip.json", "spec.ports[2].nodePort", "-1",
      "spec.ports[2].nodePort -1 is out of range 0 to 65535" },
    { K8S_SERVICE, "service-clusterip.json", "spec.ports", "{}",
      "spec.ports is an object, expected an array" },
    { K8S_SERVICE, "service-clusterip.json", "spec.type", "\"Internal\"",
      "spec.type \"Internal\" is not ClusterIP, NodePort, LoadBalancer or "
      "ExternalName" },
    { K8S_SERVICE, "service-clusterip.json", "spec.selector", "[\"app\"]",
      "spec.selector is an array, expected an object" },
    { K8S_SERVICE, "service-clusterip.json", "spec.sessionAffinity",
      "\"Cookie\"", "spec.sessionAffinity \"Cookie\" is not None or "
      "ClientIP" },
    { K8S_SERVICE, "service-clusterip.json", "spec.externalIPs",
      "[\"1.2.3.4/32\"]",
      "spec.externalIPs[0] \"1.2.3.4/32\" is not an IP address" },
    { K8S_SERVICE, "service-clusterip.json", "spec.internalTrafficPolicy",
      "\"Global\"", "spec.internalTrafficPolicy \"Global\" is not Cluster "
      "or Local" },
    { K8S_SERVICE, "service-clusterip.json", "status.loadBalancer.ingress",
      "[{\"ip\": \"lb\"}]",
      "status.loadBalancer.ingress[0].ip \"lb\" is not an IP address" },
    { K8S_SERVICE, "service-loadbalancer.json",
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds", "0",
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds 0 is out of range "
      "1 to 86400" },
    { K8S_SERVICE, "service-loadbalancer.json",
      "spec.externalTrafficPolicy", "1",
      "spec.externalTrafficPolicy is a number, expected a string" },
    { K8S_SERVICE, "service-loadbalancer.json", "spec", NULL,
      "Service shop/shop-frontend: spec is missing" },

    /* EndpointSlice. */
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "addressType", NULL,
      "EndpointSlice default/web-7xq2d: addressType is missing" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "addressType", "\"IPX\"",
      "addressType \"IPX\" is not IPv4, IPv6 or FQDN" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "apiVersion",
      "\"discovery.k8s.io/v2\"", "apiVersion \"discovery.k8s.io/v2\" is not "
      "discovery.k8s.io/v1 or discovery.k8s.io/v1beta1" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json",
      "endpoints[0].addresses[0]", "\"fd00::1\"",
      "endpoints[0].addresses[0] \"fd00::1\" is not an IPv4 address" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1beta1.json",
      "endpoints[0].addresses[0]", "\"10.0.0.1\"",
      "endpoints[0].addresses[0] \"10.0.0.1\" is not an IPv6 address" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json",
      "endpoints[3].addresses[0]", "\"10.244.1.300\"",
      "endpoints[3].addresses[0] \"10.244.1.300\" is not an IP address" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "endpoints[0].addresses",
      "[]", "endpoints[0].addresses is empty" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "endpoints[0].addresses",
      NULL, "endpoints[0].addresses is missing" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json",
      "endpoints[1].conditions.ready", "\"yes\"",
      "endpoints[1].conditions.ready is a string, expected a boolean" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json",
      "endpoints[0].targetRef.name", NULL,
      "endpoints[0].targetRef.name is missing" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "endpoints[0].nodeName",
      "1", "endpoints[0].nodeName is a number, expected a string" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1beta1.json",
      "endpoints[0].topology", "[]",
      "endpoints[0].topology is an array, expected an object" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "ports[1].port", "0",
      "ports[1].port 0 is out of range 1 to 65535" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "ports[0].protocol",
      "\"tcp\"", "ports[0].protocol \"tcp\" is not TCP, UDP or SCTP" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "endpoints", "{}",
      "endpoints is an object, expected an array" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json", "endpoints[2]", "7",
      "endpoints[2] is a number, expected an object" },

    /* NetworkPolicy. */
    { K8S_NETWORK_POLICY, "networkpolicy.json", "spec.podSelector", NULL,
      "NetworkPolicy default/web-allow: spec.podSelector is missing" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.podSelector.matchExpressions[0].operator", "\"Equals\"",
      "NetworkPolicy default/web-allow: spec.podSelector.matchExpressions[0]"
      ".operator \"Equals\" is not In, NotIn, Exists or DoesNotExist" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.podSelector.matchExpressions[0].values", "[]",
      "spec.podSelector.matchExpressions[0]: operator In needs at least one "
      "value" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].from[0].podSelector.matchLabels.role", "1",
      "spec.ingress[0].from[0].podSelector.matchLabels.role is a number, "
      "expected a string" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].from[2].namespaceSelector.matchExpressions[0]"
      ".operator", "\"Exists\"",
      "spec.ingress[0].from[2].namespaceSelector.matchExpressions[0]: "
      "operator Exists takes no values" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].from[3].ipBlock.cidr", "\"172.17.0.0\"",
      "spec.ingress[0].from[3].ipBlock.cidr: \"172.17.0.0\" has no prefix "
      "length" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].from[3].ipBlock.cidr", NULL,
      "spec.ingress[0].from[3].ipBlock.cidr is missing" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].from[3].ipBlock.except[1]", "\"10.1.0.0/24\"",
      "spec.ingress[0].from[3].ipBlock.except[1] \"10.1.0.0/24\" is not "
      "inside spec.ingress[0].from[3].ipBlock.cidr" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].from[3].ipBlock.except[0]", "\"172.16.0.0/12\"",
      "except[0] \"172.16.0.0/12\" is not inside" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].from[3].ipBlock.except[0]", "\"fd00::/64\"",
      "except[0] \"fd00::/64\" is not inside" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].from[3].podSelector", "{}",
      "spec.ingress[0].from[3].ipBlock cannot be combined with podSelector "
      "or namespaceSelector" },
    { K8S_NETWORK_POLICY, "networkpolicy.json", "spec.ingress[0].from[0]",
      "{}", "spec.ingress[0].from[0] has none of podSelector, "
      "namespaceSelector and ipBlock" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].ports[0].port", "65536",
      "spec.ingress[0].ports[0].port 65536 is out of range 1 to 65535" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].ports[1].port", "\"HTTP_PORT\"",
      "spec.ingress[0].ports[1].port \"HTTP_PORT\" is not a port name" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].ports[2].endPort", "29999",
      "spec.ingress[0].ports[2].endPort 29999 is less than port 30000" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].ports[1].endPort", "9000",
      "spec.ingress[0].ports[1].endPort needs a numeric port" },
    { K8S_NETWORK_POLICY, "networkpolicy.json",
      "spec.ingress[0].ports[0].protocol", "\"ICMP\"",
      "spec.ingress[0].ports[0].protocol \"ICMP\" is not TCP, UDP or SCTP" },
    { K8S_NETWORK_POLICY, "networkpolicy.json", "spec.policyTypes[1]",
      "\"Both\"", "spec.policyTypes[1] \"Both\" is not Ingress or Egress" },
    { K8S_NETWORK_POLICY, "networkpolicy.json", "spec.policyTypes[0]", "1",
      "spec.policyTypes[0] is a number, expected a string" },
    { K8S_NETWORK_POLICY, "networkpolicy.json", "spec.policyTypes",
      "\"Ingress\"", "spec.policyTypes is a string, expected an array" },
    { K8S_NETWORK_POLICY, "networkpolicy.json", "spec.egress[0].to", "{}",
      "spec.egress[0].to is an object, expected an array" },
    { K8S_NETWORK_POLICY, "networkpolicy.json", "spec.ingress[1]", "[]",
      "spec.ingress[1] is an array, expected an object" },
    { K8S_NETWORK_POLICY, "networkpolicy.json", "spec.egress", "{}",
      "spec.egress is an object, expected an array" },
};

static void
expect_parse_error(enum k8s_kind kind, const json_t *json, const char *what,
                   const char *expected)
{
    struct k8s_object *obj = (void *) 1;
    char *error = k8s_object_parse(kind, json, &obj);

    if (!error) {
        fail_msg("%s: parsed but should not", what);
    }
    assert_null(obj);
    if (!strncmp(expected, k8s_kind_to_string(kind),
                 strlen(k8s_kind_to_string(kind)))
        ? strcmp(error, expected) : !strstr(error, expected)) {
        fail_msg("%s: error is\n  %s\nexpected\n  %s", what, error, expected);
    }
    /* Every message names the kind first. */
    assert_int_equal(strncmp(error, k8s_kind_to_string(kind),
                             strlen(k8s_kind_to_string(kind))), 0);
    free(error);
}

static void
test_malformed_variants(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        json_t *json = load(c->fixture);
        char *what = xasprintf("%s with %s = %s", c->fixture, c->path,
                               c->value ? c->value : "(deleted)");

        mutate(json, c->path, c->value);
        expect_parse_error(c->kind, json, what, c->error);
        free(what);
        json_decref(json);
    }
}

static void
test_malformed_fixtures(void **state)
{
    static const struct {
        enum k8s_kind kind;
        const char *fixture;
        const char *error;
    } cases[] = {
        { K8S_POD, "malformed/pod-bad-podip.json",
          "Pod default/web: status.podIP \"x\" is not an IP address" },
        { K8S_POD, "malformed/pod-no-metadata.json",
          "Pod: metadata is missing" },
        { K8S_POD, "malformed/pod-port-string.json",
          "Pod default/api: spec.containers[0].ports[0].containerPort is a "
          "string, expected an integer" },
        { K8S_SERVICE, "malformed/service-bad-clusterip.json",
          "Service default/web: spec.clusterIP \"10.96.300.1\" is not an IP "
          "address" },
        { K8S_ENDPOINT_SLICE, "malformed/endpointslice-family-mismatch.json",
          "EndpointSlice default/web-abc: endpoints[0].addresses[0] "
          "\"fd00::1\" is not an IPv4 address (the slice's addressType)" },
        { K8S_NETWORK_POLICY, "malformed/networkpolicy-bad-operator.json",
          "NetworkPolicy default/np: spec.podSelector.matchExpressions[0]."
          "operator \"Equals\" is not In, NotIn, Exists or DoesNotExist" },
        { K8S_NODE, "malformed/node-bad-podcidr.json",
          "Node worker-9: spec.podCIDR: \"10.244.9.0/33\" has a bad prefix "
          "length (0 to 32)" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        json_t *json = load(cases[i].fixture);
        expect_parse_error(cases[i].kind, json, cases[i].fixture,
                           cases[i].error);
        json_decref(json);
    }
}

/* Robustness: every member of every fixture, deleted or replaced by a value
 * of each JSON type, must give an object or an error naming the kind, and
 * never a crash or a leak. */

static const struct {
    enum k8s_kind kind;
    const char *fixture;
} good_fixtures[] = {
    { K8S_NODE, "node.json" },
    { K8S_NODE, "node-dualstack.json" },
    { K8S_NAMESPACE, "namespace.json" },
    { K8S_POD, "pod.json" },
    { K8S_POD, "pod-pending.json" },
    { K8S_POD, "pod-hostnet-dualstack.json" },
    { K8S_SERVICE, "service-clusterip.json" },
    { K8S_SERVICE, "service-headless.json" },
    { K8S_SERVICE, "service-loadbalancer.json" },
    { K8S_SERVICE, "service-nodeport-affinity-default.json" },
    { K8S_SERVICE, "service-externalname.json" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1.json" },
    { K8S_ENDPOINT_SLICE, "endpointslice-v1beta1.json" },
    { K8S_ENDPOINT_SLICE, "endpointslice-empty.json" },
    { K8S_NETWORK_POLICY, "networkpolicy.json" },
    { K8S_NETWORK_POLICY, "networkpolicy-default-types.json" },
    { K8S_NETWORK_POLICY, "networkpolicy-deny-all.json" },
};

/* Calls 'cb' for every member and array element of 'root' (depth first),
 * with a handle that lets it swap in a replacement and restore. */
struct fuzz {
    enum k8s_kind kind;
    json_t *root;
    size_t n_parses, n_errors;
};

static void
fuzz_try(struct fuzz *f)
{
    struct k8s_object *obj;
    char *error = k8s_object_parse(f->kind, f->root, &obj);

    f->n_parses++;
    if (error) {
        const char *kind = k8s_kind_to_string(f->kind);
        assert_null(obj);
        if (strncmp(error, kind, strlen(kind)) || !strstr(error, ": ")) {
            fail_msg("error without kind: %s", error);
        }
        f->n_errors++;
        free(error);
    } else {
        assert_non_null(obj);
        k8s_object_destroy(obj);
    }
}

#define N_FUZZ_VALUES 9

static json_t *
fuzz_value(int i)
{
    switch (i) {
    case 0: return json_null();
    case 1: return jinteger(0);
    case 2: return jinteger(-1);
    case 3: return tjson_string("x");
    case 4: return tjson_string("");
    case 5: return tjson_array();
    case 6: return tjson_object();
    case 7: return json_true();
    case 8: return jreal(1.5);
    default: return NULL;
    }
}

static void
fuzz_walk(struct fuzz *f, json_t *node)
{
    if (json_is_object(node)) {
        /* Collect the keys first: the loop below changes the object. */
        size_t n = json_object_size(node);
        char **keys = xcalloc(n + 1, sizeof *keys);
        const char *key;
        json_t *value;
        size_t i = 0;
        json_object_foreach (node, key, value) {
            keys[i++] = xstrdup(key);
        }
        for (i = 0; i < n; i++) {
            json_t *orig = json_incref(json_object_get(node, keys[i]));
            json_object_del(node, keys[i]);
            fuzz_try(f);
            for (int k = 0; k < N_FUZZ_VALUES; k++) {
                json_object_set_new(node, keys[i], fuzz_value(k));
                fuzz_try(f);
            }
            json_object_set_new(node, keys[i], orig);
            fuzz_walk(f, orig);
            free(keys[i]);
        }
        free(keys);
    } else if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node); i++) {
            json_t *orig = json_incref(json_array_get(node, i));
            for (int k = 0; k < N_FUZZ_VALUES; k++) {
                json_array_set_new(node, i, fuzz_value(k));
                fuzz_try(f);
            }
            json_array_set_new(node, i, orig);
            fuzz_walk(f, orig);
        }
    }
}

static void
test_never_crashes(void **state)
{
    size_t n_parses = 0, n_errors = 0;

    for (size_t i = 0; i < ARRAY_SIZE(good_fixtures); i++) {
        struct fuzz f = {
            .kind = good_fixtures[i].kind,
            .root = load(good_fixtures[i].fixture),
        };
        fuzz_try(&f);
        assert_int_equal(f.n_errors, 0);
        fuzz_walk(&f, f.root);
        /* The walk restores everything. */
        size_t errors = f.n_errors;
        fuzz_try(&f);
        assert_int_equal(f.n_errors, errors);
        n_parses += f.n_parses;
        n_errors += f.n_errors;
        json_decref(f.root);
    }
    /* Sanity: the walk did something, and many changes were rejected. */
    assert_true(n_parses > 1000);
    assert_true(n_errors > n_parses / 4);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node),
        cmocka_unit_test(test_node_cidr_variants),
        cmocka_unit_test(test_namespace),
        cmocka_unit_test(test_pod),
        cmocka_unit_test(test_pod_variants),
        cmocka_unit_test(test_service_cluster_ip),
        cmocka_unit_test(test_service_load_balancer),
        cmocka_unit_test(test_service_variants),
        cmocka_unit_test(test_endpoint_slice_v1),
        cmocka_unit_test(test_endpoint_slice_v1beta1),
        cmocka_unit_test(test_network_policy),
        cmocka_unit_test(test_network_policy_types),
        cmocka_unit_test(test_parse_any),
        cmocka_unit_test(test_malformed_variants),
        cmocka_unit_test(test_malformed_fixtures),
        cmocka_unit_test(test_never_crashes),
    };
    return cmocka_run_group_tests_name("k8s-object", tests, NULL, NULL);
}
