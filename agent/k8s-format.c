/* Kubernetes objects as k8s/get shows them. */
#include "ovs-config.h"
#include "agent/k8s-format.h"

#include <stdlib.h>
#include <string.h>

#include "agent/k8s-cache.h"
#include "agent/k8s-client.h"
#include "lib/k8s-object.h"
#include "lib/label-selector.h"
#include "openvswitch/dynamic-string.h"
#include "smap.h"
#include "util.h"

static void
put_ips(struct ds *s, const struct ipaddr *ips, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char buf[IPADDR_STRLEN];
        ds_put_format(s, "%s%s", i ? "," : "", ipaddr_format(&ips[i], buf));
    }
    if (!n) {
        ds_put_char(s, '-');
    }
}

static void
put_smap(struct ds *s, const struct smap *map)
{
    const struct smap_node **nodes = smap_sort(map);
    size_t n = smap_count(map);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s%s=%s", i ? "," : "", nodes[i]->key,
                      nodes[i]->value);
    }
    if (!n) {
        ds_put_char(s, '-');
    }
    free(nodes);
}

static void
put_port_ref(struct ds *s, const struct k8s_port_ref *ref)
{
    if (ref->type == K8S_PORT_REF_NUMBER) {
        ds_put_format(s, "%"PRIu16, ref->number);
    } else if (ref->type == K8S_PORT_REF_NAME) {
        ds_put_cstr(s, ref->name);
    } else {
        ds_put_cstr(s, "any");
    }
}

static void
put_selector(struct ds *s, const struct label_selector *sel)
{
    const char *text = sel ? label_selector_canonical(sel) : NULL;
    ds_put_format(s, "%s", !sel ? "-" : text && *text ? text : "(all)");
}

static void
put_np_rules(struct ds *s, const char *dir, const struct k8s_np_rule *rules,
             size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct k8s_np_rule *rule = &rules[i];
        ds_put_format(s, "%s[%"PRIuSIZE"]:\n", dir, i);
        if (!rule->n_peers) {
            ds_put_cstr(s, "  peers: all\n");
        }
        for (size_t j = 0; j < rule->n_peers; j++) {
            const struct k8s_np_peer *p = &rule->peers[j];
            if (p->ip_block) {
                char buf[CIDR_STRLEN];
                ds_put_format(s, "  peer: ipBlock %s",
                              cidr_format(&p->ip_block->cidr, buf));
                for (size_t k = 0; k < p->ip_block->n_except; k++) {
                    ds_put_format(s, " except %s",
                                  cidr_format(&p->ip_block->except[k], buf));
                }
                ds_put_char(s, '\n');
            } else {
                ds_put_cstr(s, "  peer: podSelector ");
                put_selector(s, p->pod_selector);
                ds_put_cstr(s, " namespaceSelector ");
                put_selector(s, p->namespace_selector);
                ds_put_char(s, '\n');
            }
        }
        if (!rule->n_ports) {
            ds_put_cstr(s, "  ports: all\n");
        }
        for (size_t j = 0; j < rule->n_ports; j++) {
            const struct k8s_np_port *p = &rule->ports[j];
            ds_put_cstr(s, "  port: ");
            put_port_ref(s, &p->port);
            if (p->end_port) {
                ds_put_format(s, "-%"PRIu16, p->end_port);
            }
            ds_put_format(s, "/%s\n", k8s_protocol_to_string(p->protocol));
        }
    }
}

/* A one-line summary of 'obj' after its key. */
static void
put_summary(struct ds *s, const struct k8s_object *obj)
{
    switch (obj->kind) {
    case K8S_NODE: {
        const struct k8s_node *n = k8s_node_cast(obj);
        char buf[CIDR_STRLEN];
        ds_put_format(s, " podCIDR=%s ips=",
                      n->n_pod_cidrs ? cidr_format(&n->pod_cidrs[0], buf)
                                     : "-");
        put_ips(s, n->internal_ips, n->n_internal_ips);
        ds_put_format(s, " ready=%s", n->ready ? "true" : "false");
        break;
    }
    case K8S_NAMESPACE:
        ds_put_cstr(s, " labels=");
        put_smap(s, &obj->labels);
        break;
    case K8S_POD: {
        const struct k8s_pod *p = k8s_pod_cast(obj);
        ds_put_format(s, " node=%s ips=", p->node_name ? p->node_name : "-");
        put_ips(s, p->pod_ips, p->n_pod_ips);
        ds_put_format(s, " phase=%s", k8s_pod_phase_to_string(p->phase));
        break;
    }
    case K8S_SERVICE: {
        const struct k8s_service *v = k8s_service_cast(obj);
        ds_put_format(s, " type=%s clusterIPs=",
                      k8s_service_type_to_string(v->type));
        put_ips(s, v->cluster_ips, v->n_cluster_ips);
        ds_put_format(s, " ports=%"PRIuSIZE, v->n_ports);
        break;
    }
    case K8S_ENDPOINT_SLICE: {
        const struct k8s_endpoint_slice *e = k8s_endpoint_slice_cast(obj);
        ds_put_format(s, " service=%s endpoints=%"PRIuSIZE,
                      e->service_name ? e->service_name : "-",
                      e->n_endpoints);
        break;
    }
    case K8S_NETWORK_POLICY: {
        const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
        ds_put_format(s, " ingress=%"PRIuSIZE" egress=%"PRIuSIZE,
                      np->n_ingress, np->n_egress);
        break;
    }
    }
}

static void
put_details(struct ds *s, const struct k8s_object *obj)
{
    ds_put_format(s, "kind: %s\n", k8s_kind_to_string(obj->kind));
    if (obj->namespace) {
        ds_put_format(s, "namespace: %s\n", obj->namespace);
    }
    ds_put_format(s, "name: %s\nuid: %s\nresourceVersion: %s\nlabels: ",
                  obj->name, obj->uid, obj->resource_version);
    put_smap(s, &obj->labels);
    ds_put_char(s, '\n');

    switch (obj->kind) {
    case K8S_NODE: {
        const struct k8s_node *n = k8s_node_cast(obj);
        ds_put_cstr(s, "podCIDRs: ");
        for (size_t i = 0; i < n->n_pod_cidrs; i++) {
            char buf[CIDR_STRLEN];
            ds_put_format(s, "%s%s", i ? "," : "",
                          cidr_format(&n->pod_cidrs[i], buf));
        }
        ds_put_format(s, "%s\ninternalIPs: ", n->n_pod_cidrs ? "" : "-");
        put_ips(s, n->internal_ips, n->n_internal_ips);
        ds_put_format(s, "\nready: %s\n", n->ready ? "true" : "false");
        break;
    }
    case K8S_NAMESPACE:
        break;
    case K8S_POD: {
        const struct k8s_pod *p = k8s_pod_cast(obj);
        ds_put_format(s, "nodeName: %s\nhostNetwork: %s\npodIPs: ",
                      p->node_name ? p->node_name : "-",
                      p->host_network ? "true" : "false");
        put_ips(s, p->pod_ips, p->n_pod_ips);
        ds_put_format(s, "\nphase: %s\n", k8s_pod_phase_to_string(p->phase));
        for (size_t i = 0; i < p->n_ports; i++) {
            ds_put_format(s, "port: %s %"PRIu16"/%s\n",
                          *p->ports[i].name ? p->ports[i].name : "-",
                          p->ports[i].port,
                          k8s_protocol_to_string(p->ports[i].protocol));
        }
        break;
    }
    case K8S_SERVICE: {
        const struct k8s_service *v = k8s_service_cast(obj);
        ds_put_format(s, "type: %s\nclusterIPs: ",
                      k8s_service_type_to_string(v->type));
        put_ips(s, v->cluster_ips, v->n_cluster_ips);
        ds_put_format(s, "\nheadless: %s\nselector: ",
                      v->headless ? "true" : "false");
        put_smap(s, &v->selector);
        ds_put_char(s, '\n');
        for (size_t i = 0; i < v->n_ports; i++) {
            const struct k8s_service_port *p = &v->ports[i];
            ds_put_format(s, "port: %s %"PRIu16"/%s -> ",
                          *p->name ? p->name : "-", p->port,
                          k8s_protocol_to_string(p->protocol));
            put_port_ref(s, &p->target_port);
            if (p->node_port) {
                ds_put_format(s, " nodePort %"PRIu16, p->node_port);
            }
            ds_put_char(s, '\n');
        }
        if (v->affinity_client_ip) {
            ds_put_format(s, "sessionAffinity: ClientIP %"PRIu32" s\n",
                          v->affinity_timeout);
        }
        ds_put_cstr(s, "externalIPs: ");
        put_ips(s, v->external_ips, v->n_external_ips);
        ds_put_cstr(s, "\nloadBalancerIPs: ");
        put_ips(s, v->lb_ips, v->n_lb_ips);
        ds_put_format(s, "\nexternalTrafficPolicy: %s\n"
                      "internalTrafficPolicy: %s\n",
                      v->external_traffic_policy == K8S_TRAFFIC_POLICY_LOCAL
                      ? "Local" : "Cluster",
                      v->internal_traffic_policy == K8S_TRAFFIC_POLICY_LOCAL
                      ? "Local" : "Cluster");
        break;
    }
    case K8S_ENDPOINT_SLICE: {
        const struct k8s_endpoint_slice *e = k8s_endpoint_slice_cast(obj);
        ds_put_format(s, "apiVersion: %s\nservice: %s\naddressType: %s\n",
                      e->version == K8S_EPS_V1 ? "v1"
                      : e->version == K8S_EPS_V1BETA1 ? "v1beta1" : "-",
                      e->service_name ? e->service_name : "-",
                      e->address_type == K8S_ADDRESS_IPV4 ? "IPv4"
                      : e->address_type == K8S_ADDRESS_IPV6 ? "IPv6"
                      : "FQDN");
        for (size_t i = 0; i < e->n_ports; i++) {
            ds_put_format(s, "port: %s %"PRIu16"/%s\n",
                          *e->ports[i].name ? e->ports[i].name : "-",
                          e->ports[i].port,
                          k8s_protocol_to_string(e->ports[i].protocol));
        }
        for (size_t i = 0; i < e->n_endpoints; i++) {
            const struct k8s_endpoint *ep = &e->endpoints[i];
            ds_put_cstr(s, "endpoint: ");
            put_ips(s, ep->addresses, ep->n_addresses);
            ds_put_format(s, " ready=%s serving=%s terminating=%s node=%s "
                          "pod=%s%s%s\n", ep->ready ? "true" : "false",
                          ep->serving ? "true" : "false",
                          ep->terminating ? "true" : "false",
                          ep->node_name ? ep->node_name : "-",
                          ep->pod_name ? ep->pod_namespace : "-",
                          ep->pod_name ? "/" : "",
                          ep->pod_name ? ep->pod_name : "");
        }
        break;
    }
    case K8S_NETWORK_POLICY: {
        const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
        ds_put_cstr(s, "podSelector: ");
        put_selector(s, np->pod_selector);
        ds_put_format(s, "\npolicyTypes:%s%s\n",
                      np->policy_ingress ? " Ingress" : "",
                      np->policy_egress ? " Egress" : "");
        put_np_rules(s, "ingress", np->ingress, np->n_ingress);
        put_np_rules(s, "egress", np->egress, np->n_egress);
        break;
    }
    }
}

/* Formats the objects of kind 'kind_s' (a plural: "pods") in 'cache', one
 * a line with a summary, or with 'key' ("NAMESPACE/NAME" or "NAME") one
 * object in detail.  Returns NULL or an error message to free. */
char *
k8s_format_get(const struct k8s_cache *cache, const char *kind_s,
               const char *key, struct ds *s)
{
    enum k8s_kind kind;
    if (!k8s_client_kind_from_plural(kind_s, &kind)) {
        return xasprintf("unknown kind \"%s\" (nodes, namespaces, pods, "
                         "services, endpointslices, networkpolicies)",
                         kind_s);
    }
    if (!key) {
        struct k8s_object_list list;
        k8s_cache_list(cache, kind, NULL, &list);
        for (size_t i = 0; i < list.n; i++) {
            char *k = k8s_object_key(list.objs[i]);
            ds_put_cstr(s, k);
            free(k);
            put_summary(s, list.objs[i]);
            ds_put_char(s, '\n');
        }
        k8s_object_list_destroy(&list);
        return NULL;
    }

    const struct k8s_object *obj;
    if (k8s_kind_is_namespaced(kind)) {
        const char *slash = strchr(key, '/');
        if (!slash) {
            return xasprintf("%s are namespaced: give NAMESPACE/NAME",
                             kind_s);
        }
        char *ns = xmemdup0(key, slash - key);
        obj = k8s_cache_get(cache, kind, ns, slash + 1);
        free(ns);
    } else {
        obj = k8s_cache_get(cache, kind, NULL, key);
    }
    if (!obj) {
        return xasprintf("%s %s: not in the cache", kind_s, key);
    }
    put_details(s, obj);
    return NULL;
}
