#include "ovs-config.h"
#include "agent/feature.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/k8s-cache.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "hash.h"
#include "lib/cidr.h"
#include "lib/k8s-object.h"
#include "lib/link.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "ovsdb/bridge.h"
#include "openvswitch/poll-loop.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(nodes);

struct peer {
    struct hmap_node node;       /* In node_routes's 'peers', by name. */
    char *name;
    struct peer_net net;
    char *owner;                 /* "node/NAME": owner of its flows. */
    bool flows;                  /* Its flows are in the desired table. */
    bool route;                  /* Its kernel route is in place. */
    char *error;                 /* Why not, if not. */
};

struct node_routes {
    struct k8s_cache *cache;
    char *self;
    bool encap;
    bool dirty;                  /* A Node changed since the last run. */
    struct hmap peers;
};

static void
mark_dirty(struct node_routes *nr)
{
    nr->dirty = true;
}

static void
node_added(const struct k8s_object *obj OVS_UNUSED, void *nr)
{
    mark_dirty(nr);
}

static void
node_updated(const struct k8s_object *old OVS_UNUSED,
             const struct k8s_object *new OVS_UNUSED, void *nr)
{
    mark_dirty(nr);
}

static const struct k8s_cache_handlers node_handlers = {
    .added = node_added,
    .updated = node_updated,
    .deleted = node_added,
};

static struct node_routes *
node_routes_create(struct k8s_cache *cache, const char *self, bool encap)
{
    struct node_routes *nr = xzalloc(sizeof *nr);
    nr->cache = cache;
    nr->self = xstrdup(self);
    nr->encap = encap;
    nr->dirty = true;
    hmap_init(&nr->peers);
    k8s_cache_subscribe(cache, K8S_NODE, &node_handlers, nr);
    return nr;
}

static void
peer_free(struct peer *p)
{
    free(p->name);
    free(p->owner);
    free(p->error);
    free(p);
}

static void
node_routes_destroy(struct node_routes *nr)
{
    if (nr) {
        k8s_cache_unsubscribe(nr->cache, K8S_NODE, &node_handlers, nr);
        struct peer *p;
        HMAP_FOR_EACH_POP (p, node, &nr->peers) {
            peer_free(p);
        }
        hmap_destroy(&nr->peers);
        free(nr->self);
        free(nr);
    }
}

static struct peer *
peer_find(const struct node_routes *nr, const char *name)
{
    struct peer *p;
    HMAP_FOR_EACH_WITH_HASH (p, node, hash_string(name, 0), &nr->peers) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

/* The kernel route for 'p' in this node's namespace. */
static void
peer_route(const struct node_routes *nr, const struct peer *p,
           int gw_ifindex, struct link_route *route)
{
    memset(route, 0, sizeof *route);
    route->dst = p->net.pod_cidr;
    if (nr->encap) {
        route->ifindex = gw_ifindex;
    } else {
        route->gw = p->net.ip;
    }
}

static void
peer_withdraw(struct node_routes *nr, struct peer *p, struct flow_table *ft,
              struct link_ns *ns, int gw_ifindex)
{
    if (p->flows) {
        peer_flows_remove(ft, p->owner);
        p->flows = false;
    }
    if (p->route && ns) {
        struct link_route route;
        peer_route(nr, p, gw_ifindex, &route);
        int error = link_route_del(ns, &route);
        if (error && error != ESRCH) {
            char buf[CIDR_STRLEN];
            VLOG_WARN("node %s: deleting the route to %s failed (%s)",
                      p->name, cidr_format(&p->net.pod_cidr, buf),
                      ovs_strerror(error));
        }
        p->route = false;
    }
}

/* Makes the kernel resolve the underlay neighbour through which 'p' is
 * reached, so that its link-layer address is known before the first packet
 * needs it: on the userspace datapath OVS learns it from the ARP reply that
 * crosses br-phy, and without it the first tunnel packet to a new peer is
 * dropped while OVS resolves the neighbour itself. */
static void
peer_resolve(const struct peer *p, struct link_ns *ns)
{
    int ifindex;
    struct ipaddr next_hop;
    int error = (!ns ? 0
                 : link_route_get(ns, &p->net.ip, &ifindex, &next_hop));
    if (ns && !error) {
        error = link_neigh_resolve(ns, ifindex, &next_hop);
    }
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 60);
        VLOG_WARN_RL(&rl, "node %s: resolving its neighbour failed (%s)",
                     p->name, ovs_strerror(error));
    }
}

static void
peer_install(struct node_routes *nr, struct peer *p, struct flow_table *ft,
             const struct node_net *node, struct link_ns *ns, int gw_ifindex)
{
    free(p->error);
    p->error = NULL;
    if (!p->flows || !p->route) {
        peer_resolve(p, ns);
    }
    if (nr->encap && !p->flows) {
        char *error = peer_flows_add(ft, p->owner, node, &p->net);
        if (error) {
            VLOG_ERR("node %s: %s", p->name, error);
            p->error = error;
            return;
        }
        p->flows = true;
    }
    if (!p->route && ns) {
        struct link_route route;
        peer_route(nr, p, gw_ifindex, &route);
        int error = link_route_replace(ns, &route);
        if (error) {
            char *msg = link_ns_strerror(ns, error);
            p->error = xasprintf("route: %s", msg);
            VLOG_WARN("node %s: %s", p->name, p->error);
            free(msg);
        } else {
            p->route = true;
        }
    }
}

/* What 'obj' says about a peer: false, with a reason, if it cannot be
 * routed to. */
static bool
peer_from_node(const struct k8s_node *n, struct peer_net *net,
               const char **why)
{
    memset(net, 0, sizeof *net);
    bool have_cidr = false, have_ip = false;
    for (size_t i = 0; !have_cidr && i < n->n_pod_cidrs; i++) {
        if (n->pod_cidrs[i].addr.family == AF_INET) {
            net->pod_cidr = n->pod_cidrs[i];
            have_cidr = true;
        }
    }
    for (size_t i = 0; !have_ip && i < n->n_internal_ips; i++) {
        if (n->internal_ips[i].family == AF_INET) {
            net->ip = n->internal_ips[i];
            have_ip = true;
        }
    }
    *why = (!have_cidr ? "no IPv4 podCIDR"
            : !have_ip ? "no IPv4 InternalIP" : NULL);
    return !*why;
}

static void
node_routes_run(struct node_routes *nr, struct flow_table *ft,
                const struct node_net *node, bool node_changed)
{
    if (!nr->dirty && !node_changed) {
        return;
    }
    nr->dirty = false;

    struct link_ns *ns = NULL;
    struct link_info gw;
    int gw_ifindex = 0;
    if (!link_ns_open(-1, &ns)) {
        if (!link_get(ns, GW_PORT_NAME, &gw)) {
            gw_ifindex = gw.ifindex;
        }
    }

    /* After a change of the node itself (a new gateway port number or
     * device), everything is made again. */
    struct peer *p;
    if (node_changed) {
        HMAP_FOR_EACH (p, node, &nr->peers) {
            peer_withdraw(nr, p, ft, ns, gw_ifindex);
        }
    }

    struct k8s_object_list nodes = { 0 };
    k8s_cache_list(nr->cache, K8S_NODE, NULL, &nodes);
    struct sset seen = SSET_INITIALIZER(&seen);
    for (size_t i = 0; i < nodes.n; i++) {
        const struct k8s_node *n = k8s_node_cast(nodes.objs[i]);
        const char *name = n->obj.name;
        if (!strcmp(name, nr->self)) {
            continue;
        }

        struct peer_net net;
        const char *why;
        bool ok = peer_from_node(n, &net, &why);
        p = peer_find(nr, name);
        if (p && (!ok || !ipaddr_equals(&p->net.ip, &net.ip)
                  || !cidr_equals(&p->net.pod_cidr, &net.pod_cidr))) {
            VLOG_INFO("node %s changed", name);
            peer_withdraw(nr, p, ft, ns, gw_ifindex);
            hmap_remove(&nr->peers, &p->node);
            peer_free(p);
            p = NULL;
        }
        if (!ok) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 60);
            VLOG_INFO_RL(&rl, "node %s: skipped (%s)", name, why);
            continue;
        }
        sset_add(&seen, name);
        if (!p) {
            p = xzalloc(sizeof *p);
            p->name = xstrdup(name);
            p->owner = xasprintf("node/%s", name);
            p->net = net;
            hmap_insert(&nr->peers, &p->node, hash_string(name, 0));
            char cidr[CIDR_STRLEN], ip[IPADDR_STRLEN];
            VLOG_INFO("node %s: podCIDR %s via %s", name,
                      cidr_format(&net.pod_cidr, cidr),
                      ipaddr_format(&net.ip, ip));
        }
        peer_install(nr, p, ft, node, ns, gw_ifindex);
    }
    k8s_object_list_destroy(&nodes);

    HMAP_FOR_EACH_SAFE (p, node, &nr->peers) {
        if (!sset_contains(&seen, p->name)) {
            VLOG_INFO("node %s is gone", p->name);
            peer_withdraw(nr, p, ft, ns, gw_ifindex);
            hmap_remove(&nr->peers, &p->node);
            peer_free(p);
        }
    }
    sset_destroy(&seen);

    /* A peer whose route failed is tried again at the next change. */
    link_ns_close(ns);
}

static void
node_routes_format(const struct node_routes *nr, struct ds *s)
{
    struct peer *p;
    HMAP_FOR_EACH (p, node, &nr->peers) {
        char cidr[CIDR_STRLEN], ip[IPADDR_STRLEN];
        ds_put_format(s, "%-20s %-16s %-18s %s%s%s\n", p->name,
                      ipaddr_format(&p->net.ip, ip),
                      cidr_format(&p->net.pod_cidr, cidr),
                      nr->encap ? (p->flows ? "tunnel " : "no-tunnel ") : "",
                      p->route ? "route" : "no-route",
                      p->error ? " error" : "");
        if (p->error) {
            ds_put_format(s, "    %s\n", p->error);
        }
    }
}

/* The peer nodes as a feature. */

/* How long the first sync waits for the API server's Nodes: a restarted
 * agent should not drop its routes to peers before it has them again, but
 * its API server may be reachable only once its flows are in. */
#define PEER_GRACE_MS 10000

/* How often the peers' underlay neighbours are resolved again: OVS forgets
 * an idle tunnel neighbour after 15 minutes, the kernel much sooner. */
#define RESOLVE_INTERVAL_MS 60000

struct nodes_feature {
    struct node_routes *nr;      /* NULL without a Kubernetes client. */
    bool synced;                 /* Ran on a synced cache. */
    long long int next_resolve;
};

static void *
nodes_create(const struct feature_ctx *ctx)
{
    struct nodes_feature *f = xzalloc(sizeof *f);
    if (ctx->cache) {
        f->nr = node_routes_create(ctx->cache, ctx->cfg->node_name,
                                   ctx->cfg->encap_mode == ENCAP_MODE_ENCAP);
    }
    f->next_resolve = time_msec() + RESOLVE_INTERVAL_MS;
    return f;
}

static void
nodes_destroy(void *f_)
{
    struct nodes_feature *f = f_;
    node_routes_destroy(f->nr);
    free(f);
}

static void
resolve_all(const struct node_routes *nr)
{
    struct link_ns *ns;
    if (!link_ns_open(-1, &ns)) {
        const struct peer *p;
        HMAP_FOR_EACH (p, node, &nr->peers) {
            peer_resolve(p, ns);
        }
        link_ns_close(ns);
    }
}

static void
nodes_run(void *f_, const struct feature_ctx *ctx, struct flow_table *ft)
{
    struct nodes_feature *f = f_;
    if (!f->nr || !ctx->node_ready || !ctx->gateway_configured) {
        return;
    }
    node_routes_run(f->nr, ft, ctx->node, ctx->node_changed);
    f->synced |= ctx->k8s_synced;
    if (time_msec() >= f->next_resolve) {
        resolve_all(f->nr);
        f->next_resolve = time_msec() + RESOLVE_INTERVAL_MS;
    }
}

static void
nodes_wait(void *f_, const struct feature_ctx *ctx)
{
    struct nodes_feature *f = f_;
    /* As nodes_run(): nothing to wake up for before the node and its
     * gateway are there (the deadlines below would be in the past). */
    if (f->nr && ctx->node_ready && ctx->gateway_configured) {
        poll_timer_wait_until(f->next_resolve);
        long long int grace_end = ctx->started + PEER_GRACE_MS + 1;
        if (!f->synced && time_msec() < grace_end) {
            poll_timer_wait_until(grace_end);
        }
    }
}

static bool
nodes_is_synced(const void *f_, const struct feature_ctx *ctx)
{
    const struct nodes_feature *f = f_;
    if (!f->nr || f->synced) {
        return true;
    }
    return time_msec() - ctx->started > PEER_GRACE_MS;
}

static void
nodes_format(const void *f_, struct ds *s)
{
    const struct nodes_feature *f = f_;
    if (!f->nr) {
        ds_put_cstr(s, "no Kubernetes client: no peer nodes\n");
    } else {
        node_routes_format(f->nr, s);
    }
}

const struct feature_class nodes_feature = {
    .name = "nodes",
    .needs_api = true,
    .create = nodes_create,
    .destroy = nodes_destroy,
    .run = nodes_run,
    .wait = nodes_wait,
    .is_synced = nodes_is_synced,
    .format = nodes_format,
};
