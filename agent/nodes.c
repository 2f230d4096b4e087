#include "ovs-config.h"
#include "agent/nodes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
#include "sset.h"
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

struct node_routes *
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

void
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

static void
peer_install(struct node_routes *nr, struct peer *p, struct flow_table *ft,
             const struct node_net *node, struct link_ns *ns, int gw_ifindex)
{
    free(p->error);
    p->error = NULL;
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

void
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

void
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
