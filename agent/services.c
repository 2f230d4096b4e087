/* Services as a feature: ClusterIP load balancing from the Services and
 * EndpointSlices in the cache (flows/service.c makes the flows).
 *
 * A change to a Service or to one of its EndpointSlices marks that Service
 * dirty; a run renders only the dirty ones.  Each Service port has a group
 * id derived from its name, stable across restarts; each endpoint's
 * EndpointDNAT flow is counted by the Service ports that use it. */
#include "ovs-config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/feature.h"
#include "agent/k8s-cache.h"
#include "agent/healthcheck.h"
#include "agent/nodeport.h"
#include "agent/service-refs.h"
#include "flow.h"
#include "flows/cookie.h"
#include "flows/flow-table.h"
#include "flows/reject.h"
#include "flows/fields.h"
#include "flows/service.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofpbuf.h"
#include "hash.h"
#include "lib/k8s-object.h"
#include "lib/link.h"
#include "ovsdb/bridge.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(services);

/* Services with this label belong to another proxy (as in kube-proxy). */
#define SERVICE_PROXY_NAME_LABEL "service.kubernetes.io/service-proxy-name"
/* Services with this label, whatever its value, are not proxied even with
 * a clusterIP (kube-proxy selects "!service.kubernetes.io/headless"). */
#define HEADLESS_LABEL "service.kubernetes.io/headless"

/* What one Service has in the flow table. */
struct rendered_service {
    struct hmap_node node;       /* In services_feature's 'services'. */
    char *key;                   /* "NAMESPACE/NAME". */
    char *owner;                 /* "service/NAMESPACE/NAME". */
    struct sset endpoints;       /* Endpoint owners it holds a use of. */
    struct sset group_keys;      /* Its group ids' keys. */
    struct sset udp_paths;       /* "VIP:PORT:EPIP:EPPORT" (hex IPs) of its
                                  * UDP ports, for conntrack flushes. */
    struct sset udp_ports;       /* "VIP:PORT" of its UDP ports with
                                  * endpoints. */
    size_t n_ports;              /* Service ports with flows. */
    size_t n_endpoints;          /* Endpoints over all of them. */
    char *skipped;               /* Why it has no flows, or NULL. */
    struct ds detail;            /* Its addresses, ports and endpoints, for
                                  * services/list. */
    struct sset node_ports;      /* "tcp/30080": its NodePorts. */
    struct sset ext_ips;         /* Its external addresses, routed through
                                  * the gateway. */
    uint16_t health_port;        /* Its health-check NodePort, or 0. */
    size_t n_local;              /* Its local endpoints (most of a port). */
};

struct services_feature {
    struct k8s_cache *cache;     /* NULL without a Kubernetes client. */
    struct sset dirty;           /* "NAMESPACE/NAME" to render again. */
    struct hmap services;        /* Contains "struct rendered_service"s. */
    struct service_refs refs;    /* Group ids, endpoint flow uses. */
    bool cidr_routed;            /* The Service range's flows and route. */
    bool meter_added;            /* The reject meter. */
    bool steady;                 /* The initial list is rendered: changes
                                  * from now on are real ones. */
    uint64_t n_rejected;         /* Connections refused. */
    const char *node_name;       /* This node (Local traffic policies). */
    bool proxy_none;             /* --proxy=none: no Service flows at all. */
    bool sctp;                   /* The datapath tracks SCTP connections
                                  * (the kernel's does, the userspace one
                                  * not). */
    struct sset warned;          /* What was logged once per Service. */
    const char *nodeport_addresses;  /* --nodeport-addresses, or NULL. */
    struct sset ext_routes;      /* External addresses routed through the
                                  * gateway. */
    bool node_ports_changed;     /* The nftables table is out of date. */
    char *nft_applied;           /* The script last applied, or NULL. */
    bool node_vip_routed;        /* SERVICE_NODEPORT_VIP's route, ARP. */
    struct ipaddr node_vip;      /* SERVICE_NODEPORT_VIP, parsed. */
    struct healthchecks *healthchecks;
};

#define SERVICE_NODEPORT_OWNER "service-nodeport"

/* Routes 'ip' on-link through the gateway, or removes that route. */
static void
route_through_gateway(const char *ip, bool add)
{
    struct link_ns *ns = NULL;
    struct link_info gw;
    struct link_route route = { .ifindex = 0 };
    char *prefix = xasprintf("%s/32", ip);
    char *parse_error = cidr_parse(prefix, &route.dst);
    free(prefix);
    int err = parse_error ? EINVAL : link_ns_open(-1, &ns);
    free(parse_error);
    if (!err) {
        err = link_get(ns, GW_PORT_NAME, &gw);
    }
    if (!err) {
        route.ifindex = gw.ifindex;
        err = add ? link_route_replace(ns, &route)
                  : link_route_del(ns, &route);
    }
    if (err && (add || err != ESRCH)) {
        char *msg = ns ? link_ns_strerror(ns, err)
                       : xstrdup(ovs_strerror(err));
        VLOG_WARN("external address %s: %s route through %s: %s", ip,
                  add ? "cannot add the" : "cannot remove the", GW_PORT_NAME,
                  msg);
        free(msg);
    } else if (!err) {
        VLOG_INFO("external address %s: route through %s %s", ip,
                  GW_PORT_NAME, add ? "added" : "removed");
    }
    link_ns_close(ns);
}

/* Routes every external address of every Service through the gateway,
 * and removes the routes of those no Service has any more. */
static void
sync_ext_routes(struct services_feature *f)
{
    struct sset want = SSET_INITIALIZER(&want);
    const struct rendered_service *r;
    HMAP_FOR_EACH (r, node, &f->services) {
        const char *ip;
        SSET_FOR_EACH (ip, &r->ext_ips) {
            sset_add(&want, ip);
        }
    }
    const char *ip;
    SSET_FOR_EACH (ip, &want) {
        if (!sset_contains(&f->ext_routes, ip)) {
            route_through_gateway(ip, true);
        }
    }
    SSET_FOR_EACH (ip, &f->ext_routes) {
        if (!sset_contains(&want, ip)) {
            route_through_gateway(ip, false);
        }
    }
    sset_swap(&want, &f->ext_routes);
    sset_destroy(&want);
}

#define SERVICE_CIDR_OWNER "service-cidr"
#define SERVICE_REJECT_OWNER "service-reject"

static void
mark(struct services_feature *f, const char *ns, const char *name)
{
    if (ns && name) {
        sset_add_and_free(&f->dirty, xasprintf("%s/%s", ns, name));
    }
}

static void
service_changed(const struct k8s_object *obj, void *f)
{
    mark(f, obj->namespace, obj->name);
}

static void
service_updated(const struct k8s_object *old OVS_UNUSED,
                const struct k8s_object *new, void *f)
{
    service_changed(new, f);
}

static void
slice_changed(const struct k8s_object *obj, void *f)
{
    mark(f, obj->namespace, k8s_endpoint_slice_cast(obj)->service_name);
}

static void
slice_updated(const struct k8s_object *old, const struct k8s_object *new,
              void *f)
{
    slice_changed(old, f);
    slice_changed(new, f);
}

static const struct k8s_cache_handlers service_handlers = {
    .added = service_changed,
    .updated = service_updated,
    .deleted = service_changed,
};

static const struct k8s_cache_handlers slice_handlers = {
    .added = slice_changed,
    .updated = slice_updated,
    .deleted = slice_changed,
};

/* Rendering. */

static struct rendered_service *
rendered_find(const struct services_feature *f, const char *key)
{
    struct rendered_service *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_string(key, 0), &f->services) {
        if (!strcmp(r->key, key)) {
            return r;
        }
    }
    return NULL;
}

/* Withdraws everything Service 'r' has and forgets it. */
static void
withdraw(struct services_feature *f, struct flow_table *ft,
         struct rendered_service *r)
{
    const char *name;
    if (ft) {
        flow_table_remove_owner(ft, r->owner);
        SSET_FOR_EACH (name, &r->endpoints) {
            service_refs_unref_endpoint(&f->refs, ft, name);
        }
    }
    SSET_FOR_EACH (name, &r->group_keys) {
        service_refs_release_group(&f->refs, name);
    }
    hmap_remove(&f->services, &r->node);
    sset_destroy(&r->endpoints);
    sset_destroy(&r->group_keys);
    sset_destroy(&r->udp_paths);
    sset_destroy(&r->udp_ports);
    free(r->key);
    free(r->owner);
    free(r->skipped);
    ds_destroy(&r->detail);
    sset_destroy(&r->ext_ips);
    f->node_ports_changed |= !sset_is_empty(&r->node_ports);
    sset_destroy(&r->node_ports);
    free(r);
}

static uint8_t
ip_proto(enum k8s_protocol protocol)
{
    return (protocol == K8S_PROTO_TCP ? IPPROTO_TCP
            : protocol == K8S_PROTO_UDP ? IPPROTO_UDP
            : IPPROTO_SCTP);
}

/* The port that slice 's' gives the Service port 'sp', or 0. */
static uint16_t
slice_port(const struct k8s_endpoint_slice *s,
           const struct k8s_service_port *sp)
{
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct k8s_endpoint_port *p = &s->ports[i];
        if (p->protocol == sp->protocol && !strcmp(p->name, sp->name)) {
            return p->port;
        }
    }
    return 0;
}

/* Appends the endpoints of Service port 'sp' in 'slices' to 'eps': the
 * ready ones, or, as kube-proxy does when none is ready, the serving ones
 * that are terminating; with 'node', only those on that node. */
static void
collect_endpoints(const struct k8s_object_list *slices,
                  const struct k8s_service_port *sp, bool terminating,
                  const char *node,
                  struct service_endpoint **eps, size_t *n, size_t *allocated)
{
    for (size_t i = 0; i < slices->n; i++) {
        const struct k8s_endpoint_slice *s
            = k8s_endpoint_slice_cast(slices->objs[i]);
        uint16_t port = slice_port(s, sp);
        if (s->address_type != K8S_ADDRESS_IPV4 || !port) {
            continue;
        }
        for (size_t j = 0; j < s->n_endpoints; j++) {
            const struct k8s_endpoint *e = &s->endpoints[j];
            bool use = ((terminating ? e->serving && e->terminating
                                     : e->ready)
                        && (!node || (e->node_name
                                      && !strcmp(e->node_name, node))));
            for (size_t k = 0; use && k < e->n_addresses; k++) {
                bool dup = false;
                for (size_t m = 0; m < *n; m++) {
                    dup |= ((*eps)[m].port == port
                            && ipaddr_equals(&(*eps)[m].ip,
                                             &e->addresses[k]));
                }
                if (dup) {
                    continue;
                }
                if (*n >= *allocated) {
                    *eps = x2nrealloc(*eps, allocated, sizeof **eps);
                }
                (*eps)[(*n)++] = (struct service_endpoint) {
                    .ip = e->addresses[k], .port = port,
                };
            }
        }
    }
}


/* Records the UDP paths of a Service port, VIP:PORT to each endpoint. */
static void
note_udp_paths(struct rendered_service *r, const struct ipaddr *vips,
               size_t n_vips, uint16_t port,
               const struct service_endpoint *eps, size_t n_eps)
{
    for (size_t v = 0; v < n_vips && n_eps; v++) {
        uint32_t vip = ipaddr_ipv4_host(&vips[v]);
        sset_add_and_free(&r->udp_ports, xasprintf("%08"PRIx32":%"PRIu16,
                                                   vip, port));
        for (size_t i = 0; i < n_eps; i++) {
            sset_add_and_free(&r->udp_paths, xasprintf(
                                  "%08"PRIx32":%"PRIu16":%08"PRIx32":%"PRIu16,
                                  vip, port, ipaddr_ipv4_host(&eps[i].ip),
                                  eps[i].port));
        }
    }
}

/* Asks for the UDP conntrack entries to VIP:PORT to be flushed: those to
 * endpoint EP:EP_PORT (a gone endpoint), or all of them if 'ep' is 0 (the
 * port's first endpoints: entries made while it had none would keep
 * bypassing the Service). */
static void
flush_udp(struct flow_table *ft, uint32_t vip, uint16_t port, uint32_t ep,
          uint16_t ep_port)
{
    struct ofp_ct_match m;
    memset(&m, 0, sizeof m);
    m.ip_proto = IPPROTO_UDP;
    m.l3_type = AF_INET;
    in6_addr_set_mapped_ipv4(&m.tuple_orig.dst, htonl(vip));
    m.tuple_orig.dst_port = htons(port);
    if (ep) {
        in6_addr_set_mapped_ipv4(&m.tuple_reply.src, htonl(ep));
        m.tuple_reply.src_port = htons(ep_port);
    }
    flow_table_add_ct_flush(ft, CT_ZONE, &m);
}

/* Flushes the UDP conntrack entries that the change from 'old' to 'new'
 * (either may be NULL) leaves pointing the wrong way, as kube-proxy does:
 * a client that keeps sending would otherwise keep reaching an endpoint
 * that is gone, or keep missing a Service that now has endpoints. */
static void
flush_udp_changes(struct flow_table *ft, const struct sset *old_paths,
                  const struct sset *old_ports,
                  const struct rendered_service *new, bool steady)
{
    const char *s;
    uint32_t vip, ep;
    unsigned int port, ep_port;
    if (old_paths) {
        SSET_FOR_EACH (s, old_paths) {
            if ((!new || !sset_contains(&new->udp_paths, s))
                && sscanf(s, "%"SCNx32":%u:%"SCNx32":%u", &vip, &port, &ep,
                          &ep_port) == 4) {
                flush_udp(ft, vip, port, ep, ep_port);
            }
        }
    }
    /* Not for the first rendering after a start: that is no change, and
     * the flush would move established UDP flows. */
    if (new && steady) {
        SSET_FOR_EACH (s, &new->udp_ports) {
            if ((!old_ports || !sset_contains(old_ports, s))
                && sscanf(s, "%"SCNx32":%u", &vip, &port) == 2) {
                flush_udp(ft, vip, port, 0, 0);
            }
        }
    }
}

/* Why the agent makes no flows for 'svc', or NULL. */
static const char *
skip_reason(const struct k8s_service *svc)
{
    return (svc->type == K8S_SERVICE_EXTERNAL_NAME ? "ExternalName"
            : svc->headless ? "headless"
            : smap_get(&svc->obj.labels, SERVICE_PROXY_NAME_LABEL)
            ? "labelled " SERVICE_PROXY_NAME_LABEL
            : smap_get(&svc->obj.labels, HEADLESS_LABEL)
            ? "labelled " HEADLESS_LABEL
            : NULL);
}

/* Logs 'msg' about Service 'key' once per Service and reason. */
static void
warn_once(struct services_feature *f, const char *key, const char *msg)
{
    char *k = xasprintf("%s %s", key, msg);
    if (sset_add(&f->warned, k)) {
        VLOG_WARN("service %s: %s", key, msg);
    }
    free(k);
}

/* Whether the endpoints of 'sp' are the ready ones, or the serving
 * terminating ones as a fallback, and whether only this node's: appends
 * them to 'eps'. */
static bool
port_endpoints(const struct k8s_object_list *slices,
               const struct k8s_service_port *sp, const char *node,
               struct service_endpoint **eps, size_t *n)
{
    size_t allocated = 0;
    collect_endpoints(slices, sp, false, node, eps, n, &allocated);
    if (*n) {
        return false;
    }
    collect_endpoints(slices, sp, true, node, eps, n, &allocated);
    return *n > 0;
}

static const char *
policy_name(enum k8s_traffic_policy p)
{
    return p == K8S_TRAFFIC_POLICY_LOCAL ? "Local" : "Cluster";
}

/* Makes the flows of Service 'svc' for 'r' (empty). */
static void
render(struct services_feature *f, struct flow_table *ft,
       struct rendered_service *r, const struct k8s_service *svc)
{
    struct ipaddr *vips = xmalloc((svc->n_cluster_ips + 1) * sizeof *vips);
    size_t n_vips = 0;
    for (size_t i = 0; i < svc->n_cluster_ips; i++) {
        if (svc->cluster_ips[i].family == AF_INET) {
            vips[n_vips++] = svc->cluster_ips[i];
        }
    }

    uint32_t affinity = svc->affinity_client_ip ? svc->affinity_timeout : 0;
    if (affinity > SERVICE_AFFINITY_MAX_TIMEOUT) {
        warn_once(f, r->key, "ClientIP affinity timeouts above 65535 s "
                  "(OpenFlow's limit) are cut to 65535 s");
    }
    bool internal_local
        = svc->internal_traffic_policy == K8S_TRAFFIC_POLICY_LOCAL;

    struct ds *d = &r->detail;
    ds_put_cstr(d, "  clusterIPs:");
    for (size_t i = 0; i < n_vips; i++) {
        char ip[IPADDR_STRLEN];
        ds_put_format(d, " %s", ipaddr_format(&vips[i], ip));
    }
    ds_put_format(d, "; type %s; affinity ", k8s_service_type_to_string(
                      svc->type));
    if (affinity) {
        ds_put_format(d, "ClientIP %"PRIu32" s", MIN(
                          affinity, SERVICE_AFFINITY_MAX_TIMEOUT));
    } else {
        ds_put_cstr(d, "None");
    }
    ds_put_format(d, "; traffic policy external %s internal %s\n",
                  policy_name(svc->external_traffic_policy),
                  policy_name(svc->internal_traffic_policy));

    /* External addresses: externalIPs and load-balancer IPs (IPv4), and
     * the node ports of NodePort and LoadBalancer Services. */
    size_t n_ext = svc->n_external_ips + svc->n_lb_ips, n_ext_ips = 0;
    struct ipaddr *ext_ips = xmalloc((n_ext + 1) * sizeof *ext_ips);
    for (size_t i = 0; i < n_ext; i++) {
        const struct ipaddr *ip = (i < svc->n_external_ips
                                   ? &svc->external_ips[i]
                                   : &svc->lb_ips[i - svc->n_external_ips]);
        char s_ip[IPADDR_STRLEN];
        ipaddr_format(ip, s_ip);
        if (ip->family == AF_INET && sset_add(&r->ext_ips, s_ip)) {
            ext_ips[n_ext_ips++] = *ip;
        }
    }
    if (n_ext_ips) {
        ds_put_cstr(d, "  external addresses:");
        const char *ip;
        SSET_FOR_EACH (ip, &r->ext_ips) {
            ds_put_format(d, " %s", ip);
        }
        ds_put_cstr(d, "\n");
    }
    bool node_ports = (svc->type == K8S_SERVICE_NODE_PORT
                       || svc->type == K8S_SERVICE_LOAD_BALANCER);
    bool external_local
        = svc->external_traffic_policy == K8S_TRAFFIC_POLICY_LOCAL;

    struct k8s_object_list slices;
    k8s_cache_service_slices(f->cache, svc->obj.namespace, svc->obj.name,
                             &slices);
    struct service_port *ports = xcalloc(svc->n_ports + 1, sizeof *ports);
    struct service_endpoint **lists = xcalloc(2 * svc->n_ports + 1,
                                              sizeof *lists);
    size_t n_ports = 0, n_lists = 0, n_udp = 0;
    for (size_t i = 0; i < svc->n_ports; i++) {
        n_udp += ip_proto(svc->ports[i].protocol) == IPPROTO_UDP;
    }
    for (size_t i = 0; i < svc->n_ports; i++) {
        const struct k8s_service_port *sp = &svc->ports[i];
        uint8_t proto = ip_proto(sp->protocol);
        ds_put_format(d, "  %s/%"PRIu16, ip_proto_name(proto), sp->port);
        if (sp->name[0]) {
            ds_put_format(d, " (%s)", sp->name);
        }
        uint16_t node_port = node_ports ? sp->node_port : 0;
        if (node_port) {
            ds_put_format(d, " nodePort %"PRIu16, node_port);
        }
        if (sp->protocol == K8S_PROTO_SCTP && !f->sctp) {
            /* The userspace datapath has no SCTP conntrack. */
            warn_once(f, r->key, "SCTP ports are not load-balanced (the "
                      "userspace datapath has no SCTP conntrack)");
            ds_put_cstr(d, ": not load-balanced (SCTP)\n");
            continue;
        }
        /* Every endpoint, and this node's only. */
        struct service_endpoint *all = NULL, *local = NULL;
        size_t n_all = 0, n_local = 0;
        bool terminating = port_endpoints(&slices, sp, NULL, &all, &n_all);
        bool local_terminating = port_endpoints(&slices, sp, f->node_name,
                                                &local, &n_local);
        lists[n_lists++] = all;
        lists[n_lists++] = local;
        r->n_local = MAX(r->n_local, n_local);

        char *gkey = xasprintf("%s:%s/%s", r->key, sp->name,
                               ip_proto_name(proto));
        char *lkey = xasprintf("%s/local", gkey);
        bool ext = n_ext_ips || node_port;
        uint32_t gid_all = 0, gid_local = 0;
        if (!internal_local || (ext && !external_local)) {
            gid_all = service_refs_group_id(&f->refs, gkey);
            sset_add(&r->group_keys, gkey);
        }
        if (internal_local || (ext && external_local)) {
            gid_local = service_refs_group_id(&f->refs, lkey);
            sset_add(&r->group_keys, lkey);
        }
        /* The only UDP port of a Service also gets a group for the
         * fragments of a first datagram: only the first fragment names
         * the port (docs/pipeline.md, "Fragments"). */
        uint32_t gid_frag = 0;
        if (proto == IPPROTO_UDP && n_udp == 1) {
            char *fkey = xasprintf("%s/frag", internal_local ? lkey : gkey);
            gid_frag = service_refs_group_id(&f->refs, fkey);
            sset_add_and_free(&r->group_keys, fkey);
        }
        free(gkey);
        free(lkey);
        struct service_port *p = &ports[n_ports];
        *p = (struct service_port) {
            .ip_proto = proto,
            .port = sp->port,
            .group_id = internal_local ? gid_local : gid_all,
            .endpoints = internal_local ? local : all,
            .n_endpoints = internal_local ? n_local : n_all,
            .affinity_timeout = affinity,
            .frag_group_id = gid_frag,
            /* Endpoints elsewhere only: kube-proxy drops, not refuses. */
            .drop_without_endpoints = internal_local && n_all,
            .node_port = node_port,
            .ext_group_id = external_local ? gid_local : gid_all,
            .ext_endpoints = external_local ? local : all,
            .n_ext_endpoints = external_local ? n_local : n_all,
            .ext_drop_without_endpoints = external_local && n_all,
            .ext_snat = !external_local,
        };
        if (node_port) {
            sset_add_and_free(&r->node_ports, xasprintf(
                                  "%s/%"PRIu16, ip_proto_name(proto),
                                  node_port));
        }
        ds_put_format(d, " group %"PRIu32":", p->group_id);
        bool term = internal_local ? local_terminating : terminating;
        for (size_t j = 0; j < p->n_endpoints; j++) {
            char ip[IPADDR_STRLEN];
            ds_put_format(d, " %s:%"PRIu16" %s",
                          ipaddr_format(&p->endpoints[j].ip, ip),
                          p->endpoints[j].port,
                          term ? "serving-terminating" : "ready");
        }
        ds_put_cstr(d, (p->n_endpoints ? "\n"
                        : p->drop_without_endpoints
                        ? " none on this node (dropped)\n"
                        : " none (refused)\n"));
        if (ext && p->ext_group_id != p->group_id) {
            ds_put_format(d, "    external: group %"PRIu32", %"PRIuSIZE
                          " %s endpoints%s\n", p->ext_group_id,
                          p->n_ext_endpoints,
                          external_local ? "local" : "cluster",
                          (!p->n_ext_endpoints && p->ext_drop_without_endpoints
                           ? " (dropped)" : ""));
        }
        /* Both lists' endpoints get their EndpointDNAT flow. */
        for (size_t j = 0; j < n_all; j++) {
            service_refs_ref_endpoint(&f->refs, ft, proto, &all[j],
                                      &r->endpoints);
        }
        if (proto == IPPROTO_UDP) {
            note_udp_paths(r, vips, n_vips, sp->port, p->endpoints,
                           p->n_endpoints);
            /* The external frontends lead to the external endpoints: the
             * external addresses at the port, and the NodePort, which
             * nftables has sent to SERVICE_NODEPORT_VIP at the node
             * port before the switch sees it. */
            note_udp_paths(r, ext_ips, n_ext_ips, sp->port,
                           p->ext_endpoints, p->n_ext_endpoints);
            if (node_port) {
                note_udp_paths(r, &f->node_vip, 1, node_port,
                               p->ext_endpoints, p->n_ext_endpoints);
            }
        }
        r->n_endpoints += p->n_endpoints;
        r->n_ports += p->n_endpoints > 0;
        n_ports++;
    }
    f->node_ports_changed |= !sset_is_empty(&r->node_ports);
    if (svc->type == K8S_SERVICE_LOAD_BALANCER && external_local) {
        r->health_port = svc->health_check_node_port;
    }

    struct service_net net = {
        .vips = vips, .n_vips = n_vips, .ports = ports, .n_ports = n_ports,
        .ext_ips = ext_ips, .n_ext_ips = n_ext_ips,
        .has_node_vip = f->node_vip_routed,
        .node_vip = f->node_vip,
        .reject_meter = SERVICE_REJECT_METER,
    };
    char *error = service_flows_add(ft, r->owner, &net);
    if (error) {
        VLOG_ERR("%s", error);
        r->skipped = error;
    }
    for (size_t i = 0; i < n_lists; i++) {
        free(lists[i]);
    }
    free(lists);
    free(ports);
    free(ext_ips);
    free(vips);
    k8s_object_list_destroy(&slices);
}

/* Renders Service 'key' ("NAMESPACE/NAME") again from the cache. */
static void
update_service(struct services_feature *f, struct flow_table *ft,
               const char *key)
{
    struct sset old_paths = SSET_INITIALIZER(&old_paths);
    struct sset old_ports = SSET_INITIALIZER(&old_ports);
    struct rendered_service *r = rendered_find(f, key);
    if (r) {
        sset_swap(&old_paths, &r->udp_paths);
        sset_swap(&old_ports, &r->udp_ports);
        withdraw(f, ft, r);
        r = NULL;
    }

    const char *slash = strchr(key, '/');
    char *ns = xmemdup0(key, slash - key);
    const struct k8s_object *obj = k8s_cache_get(f->cache, K8S_SERVICE, ns,
                                                 slash + 1);
    free(ns);
    if (obj) {
        r = xzalloc(sizeof *r);
        r->key = xstrdup(key);
        r->owner = xasprintf("service/%s", key);
        sset_init(&r->endpoints);
        sset_init(&r->group_keys);
        sset_init(&r->udp_paths);
        sset_init(&r->udp_ports);
        ds_init(&r->detail);
        sset_init(&r->node_ports);
        sset_init(&r->ext_ips);
        hmap_insert(&f->services, &r->node, hash_string(key, 0));

        const struct k8s_service *svc = k8s_service_cast(obj);
        const char *why = skip_reason(svc);
        if (why) {
            r->skipped = xstrdup(why);
        } else {
            render(f, ft, r, svc);
        }
    }
    /* Set after the new rendering, so that the server keeps its port. */
    healthchecks_set(f->healthchecks, key, r ? r->health_port : 0,
                     r ? r->n_local : 0);
    flush_udp_changes(ft, &old_paths, &old_ports, r, f->steady);
    sset_destroy(&old_paths);
    sset_destroy(&old_ports);
}

/* The feature. */

static void *
services_create(const struct feature_ctx *ctx)
{
    struct services_feature *f = xzalloc(sizeof *f);
    f->proxy_none = ctx->cfg->proxy_none;
    f->sctp = !ctx->cfg->datapath_type
              || strcmp(ctx->cfg->datapath_type, "netdev");
    f->cache = f->proxy_none ? NULL : ctx->cache;
    f->node_name = ctx->cfg->node_name;
    char *vip_error = ipaddr_parse(SERVICE_NODEPORT_VIP, &f->node_vip);
    ovs_assert(!vip_error);
    f->nodeport_addresses = ctx->cfg->nodeport_addresses;
    sset_init(&f->ext_routes);
    f->healthchecks = healthchecks_create();
    sset_init(&f->dirty);
    sset_init(&f->warned);
    hmap_init(&f->services);
    service_refs_init(&f->refs);
    if (f->cache) {
        k8s_cache_subscribe(f->cache, K8S_SERVICE, &service_handlers, f);
        k8s_cache_subscribe(f->cache, K8S_ENDPOINT_SLICE, &slice_handlers,
                            f);
    }
    return f;
}

static void
services_destroy(void *f_)
{
    struct services_feature *f = f_;
    if (f->cache) {
        k8s_cache_unsubscribe(f->cache, K8S_SERVICE, &service_handlers, f);
        k8s_cache_unsubscribe(f->cache, K8S_ENDPOINT_SLICE, &slice_handlers,
                              f);
    }
    struct rendered_service *r;
    HMAP_FOR_EACH_SAFE (r, node, &f->services) {
        withdraw(f, NULL, r);
    }
    hmap_destroy(&f->services);
    service_refs_destroy(&f->refs);
    sset_destroy(&f->dirty);
    sset_destroy(&f->warned);
    sset_destroy(&f->ext_routes);
    healthchecks_destroy(f->healthchecks);
    free(f->nft_applied);
    free(f);
}

/* With --service-cidr, the node's kernel routes the Service range
 * on-link through the gateway, and the ARP responder answers for it: the
 * node (its host-network pods, the kubelet) reaches clusterIPs. */
static void
route_service_cidr(struct services_feature *f, const struct feature_ctx *ctx,
                   struct flow_table *ft)
{
    const struct agent_config *cfg = ctx->cfg;
    if (!cfg->has_service_cidr || !ctx->gateway_configured
        || (f->cidr_routed && !ctx->node_changed)) {
        return;
    }
    flow_table_remove_owner(ft, SERVICE_CIDR_OWNER);
    char *error = service_cidr_flows_add(ft, SERVICE_CIDR_OWNER,
                                         &cfg->service_cidr);
    struct link_ns *ns = NULL;
    struct link_info gw;
    int err = 0;
    if (!error) {
        err = link_ns_open(-1, &ns);
        if (!err) {
            err = link_get(ns, GW_PORT_NAME, &gw);
        }
        if (!err) {
            struct link_route route = {
                .dst = cfg->service_cidr,
                .ifindex = gw.ifindex,
            };
            err = link_route_replace(ns, &route);
        }
        if (err) {
            error = (ns ? link_ns_strerror(ns, err)
                        : xstrdup(ovs_strerror(err)));
        }
        link_ns_close(ns);
    }
    /* Tried again when the node changes (a new gateway device). */
    f->cidr_routed = true;
    char s[CIDR_STRLEN];
    cidr_format(&cfg->service_cidr, s);
    if (error) {
        VLOG_WARN("Service range %s: %s", s, error);
        free(error);
    } else {
        VLOG_INFO("Service range %s routed through %s", s, GW_PORT_NAME);
    }
}

/* NodePorts and endpoints outside the pod network: the routes and ARP
 * answers for SERVICE_NODEPORT_VIP and SERVICE_HOST_SNAT_VIP and the
 * latter's flows, once the gateway is up (a node change tries again), and
 * the nftables table (its masquerade of SERVICE_HOST_SNAT_VIP). */
static void
route_node_vip(struct services_feature *f, const struct feature_ctx *ctx,
               struct flow_table *ft)
{
    if (!ctx->gateway_configured || (f->node_vip_routed
                                     && !ctx->node_changed)) {
        return;
    }
    flow_table_remove_owner(ft, SERVICE_NODEPORT_OWNER);
    char *error = service_address_arp_add(ft, SERVICE_NODEPORT_OWNER,
                                          &f->node_vip);
    error = error ? error : service_host_snat_flows_add(
        ft, SERVICE_NODEPORT_OWNER, ctx->node);
    if (error) {
        VLOG_FATAL("%s", error);    /* A bug: constant flows. */
    }
    bool had = f->node_vip_routed;
    f->node_vip_routed = true;
    f->node_ports_changed = true;
    route_through_gateway(SERVICE_NODEPORT_VIP, true);
    route_through_gateway(SERVICE_HOST_SNAT_VIP, true);
    if (!had) {
        /* Every Service again, now with its node ports. */
        struct rendered_service *r;
        HMAP_FOR_EACH (r, node, &f->services) {
            sset_add(&f->dirty, r->key);
        }
    }
}

/* Brings the nftables table of NodePorts up to date with the node ports of
 * every Service. */
static void
sync_node_ports(struct services_feature *f)
{
    if (!f->node_ports_changed || !f->node_vip_routed) {
        return;
    }
    f->node_ports_changed = false;
    struct sset ports = SSET_INITIALIZER(&ports);
    const struct rendered_service *r;
    HMAP_FOR_EACH (r, node, &f->services) {
        const char *p;
        SSET_FOR_EACH (p, &r->node_ports) {
            sset_add(&ports, p);
        }
    }
    char *script = nodeport_ruleset(&ports, f->nodeport_addresses);
    if (!f->nft_applied || strcmp(script, f->nft_applied)) {
        char *error = nodeport_run(script);
        if (error) {
            VLOG_WARN("NodePorts (%"PRIuSIZE"): %s", sset_count(&ports),
                      error);
            free(error);
            free(script);
            script = NULL;
        } else {
            VLOG_INFO("NodePorts: %"PRIuSIZE" node ports redirected",
                      sset_count(&ports));
        }
        free(f->nft_applied);
        f->nft_applied = script;
    } else {
        free(script);
    }
    sset_destroy(&ports);
}

static void
services_run(void *f_, const struct feature_ctx *ctx, struct flow_table *ft)
{
    struct services_feature *f = f_;
    if (!ctx->node_ready || f->proxy_none) {
        return;
    }
    healthchecks_run(f->healthchecks);
    route_service_cidr(f, ctx, ft);
    route_node_vip(f, ctx, ft);
    if (ctx->node_changed && !sset_is_empty(&f->ext_routes)) {
        /* A new gateway device has none of the routes. */
        sset_clear(&f->ext_routes);
        struct rendered_service *r;
        HMAP_FOR_EACH (r, node, &f->services) {
            sset_add(&f->dirty, r->key);
        }
    }
    if (!f->meter_added) {
        char *error = service_reject_meter_add(ft, SERVICE_REJECT_OWNER);
        if (error) {
            VLOG_FATAL("%s", error);    /* A bug: a constant meter. */
        }
        f->meter_added = true;
    }
    if (!f->cache || sset_is_empty(&f->dirty)) {
        return;
    }
    const char *key;
    SSET_FOR_EACH (key, &f->dirty) {
        update_service(f, ft, key);
    }
    sset_clear(&f->dirty);
    f->steady |= ctx->k8s_synced;
    sync_ext_routes(f);
    if (ctx->k8s_synced) {
        sync_node_ports(f);
    }
}

static void
services_wait(void *f_, const struct feature_ctx *ctx OVS_UNUSED)
{
    struct services_feature *f = f_;
    healthchecks_wait(f->healthchecks);
}

static bool
services_is_synced(const void *f_, const struct feature_ctx *ctx)
{
    const struct services_feature *f = f_;
    return !f->cache || (ctx->k8s_synced && sset_is_empty(&f->dirty));
}

static int
compare_services(const void *a_, const void *b_)
{
    const struct rendered_service *const *a = a_, *const *b = b_;
    return strcmp((*a)->key, (*b)->key);
}

static void
services_format(const void *f_, struct ds *s)
{
    const struct services_feature *f = f_;
    if (f->proxy_none) {
        ds_put_cstr(s, "Services are left to another proxy (--proxy=none)\n");
        return;
    }
    size_t n = hmap_count(&f->services), i = 0;
    const struct rendered_service **list = xmalloc((n + 1) * sizeof *list);
    const struct rendered_service *r;
    HMAP_FOR_EACH (r, node, &f->services) {
        list[i++] = r;
    }
    qsort(list, n, sizeof *list, compare_services);
    for (i = 0; i < n; i++) {
        r = list[i];
        ds_put_format(s, "%s: ", r->key);
        if (r->skipped) {
            ds_put_format(s, "no flows (%s)\n", r->skipped);
        } else {
            ds_put_format(s, "%"PRIuSIZE" ports with endpoints, "
                          "%"PRIuSIZE" endpoints\n", r->n_ports,
                          r->n_endpoints);
        }
        ds_put_cstr(s, ds_cstr_ro(&r->detail));
    }
    free(list);
    ds_put_format(s, "connections refused (no endpoints): %"PRIu64"\n",
                  f->n_rejected);
}

/* A new connection to a Service port without endpoints: refused at once,
 * as kube-proxy's REJECT rules do (TCP RST, ICMP port unreachable). */
static bool
services_packet_in(void *f_, const struct ofputil_packet_in *pin,
                   struct ofpbuf *reply, uint32_t *out_port)
{
    struct services_feature *f = f_;
    if (cookie_category(ntohll(pin->cookie)) != COOKIE_SERVICE
        || !reject_reply(pin->packet, pin->packet_len, reply)) {
        return false;
    }
    *out_port = ofp_to_u16(pin->flow_metadata.flow.in_port.ofp_port);
    f->n_rejected++;
    return true;
}

const struct feature_class services_feature = {
    .name = "services",
    .needs_api = true,
    .create = services_create,
    .destroy = services_destroy,
    .run = services_run,
    .wait = services_wait,
    .is_synced = services_is_synced,
    .format = services_format,
    .packet_in = services_packet_in,
};
