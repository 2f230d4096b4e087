#include "ovs-config.h"
#include "agent/agent.h"

#include <errno.h>
#include <stdio.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cni-server.h"
#include "agent/config.h"
#include "agent/k8s-cache.h"
#include "agent/k8s-client.h"
#include "agent/nodes.h"
#include "coverage.h"
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/ofctrl.h"
#include "flows/pipeline.h"
#include "hash.h"
#include "lib/cidr.h"
#include "lib/ipam.h"
#include "lib/k8s-object.h"
#include "lib/kubeconfig.h"
#include "lib/link.h"
#include "lib/netns.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb/bridge.h"
#include "packets.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent);

/* How long the first sync waits for the API server's Nodes. */
#define PEER_GRACE_MS 10000

COVERAGE_DEFINE(cni_add);
COVERAGE_DEFINE(cni_del);
COVERAGE_DEFINE(cni_check);
COVERAGE_DEFINE(cni_gc);

/* The CNI spec's error codes that the agent returns. */
enum {
    CNI_ERR_UNSUPPORTED_FIELD = 2,
    CNI_ERR_UNKNOWN_CONTAINER = 3,
    CNI_ERR_INVALID_ENV = 4,
    CNI_ERR_IO = 5,
    CNI_ERR_DECODE = 6,
    CNI_ERR_INVALID_CONFIG = 7,
    CNI_ERR_TRY_AGAIN = 11,
    CNI_ERR_NOT_AVAILABLE = 50,
};

/* One pod interface: the CNI attachment (container id, ifname). */
struct attachment {
    struct hmap_node node;       /* In agent's 'attachments', by key. */
    char *key;                   /* "CONTAINERID/IFNAME": the IPAM owner. */
    char *container_id;
    char *ifname;
    char *host_ifname;           /* The br-int port. */
    char *netns;
    char *pod_namespace;         /* NULL outside Kubernetes. */
    char *pod_name;
    char *pod_uid;
    char *owner;                 /* Owner of its flows. */
    struct eth_addr mac;
    struct ipaddr ip;

    ofp_port_t ofport;           /* 0 until OVS numbers the port. */
    uint64_t flows_seqno;        /* Desired version with its flows; 0 if
                                  * none yet. */
    struct ovs_list waiters;     /* Contains "struct waiter"s. */
};

/* A CNI request that is answered once an attachment's flows are installed
 * (ADD) or removed (DEL). */
struct waiter {
    struct ovs_list node;        /* In attachment's 'waiters' or agent's
                                  * 'del_waiters'. */
    struct cni_request *req;
    uint64_t seqno;              /* 0: until the flows exist. */
    long long int deadline;
    json_t *result;              /* For DEL: the reply. */
};

struct agent {
    struct agent_config cfg;
    struct k8s_cache *cache;     /* With a Kubernetes client, else NULL. */
    struct k8s_client *k8s;
    char *ipam_error;            /* Why the IPAM could not be opened. */
    char *cidr_mismatch;         /* The Node's podCIDR last reported as
                                  * differing from the pool. */

    /* The IPAM and the bridge exist once the podCIDR is known: from
     * --pod-cidr at once, else from the Node's spec.podCIDR. */
    struct bridge_ctl *bridge;
    struct ofctrl *ofctrl;
    struct flow_table flows;
    struct ipam *ipam;
    struct cni_server *cni;

    struct node_net node;
    bool static_flows;           /* Static flows are in 'flows'. */
    bool gateway_configured;     /* tendril-gw0 has its address. */
    struct node_routes *nodes;   /* Routes to peers; NULL without the API. */
    bool peers_routed;           /* Peers from a synced cache are in. */
    unsigned int bridge_seqno;   /* OVSDB version last looked at. */

    struct hmap attachments;
    bool restored;               /* Attachments rebuilt from OVSDB. */
    bool synced;
    uint64_t synced_seqno;       /* Desired version at sync. */
    bool restore_wait_cleared;
    struct ovs_list del_waiters;
    long long int started;
};

static void attachment_destroy(struct agent *, struct attachment *);
static bool load_saved_pool(const struct agent *, struct cidr *);
static char *open_node(struct agent *, const struct cidr *)
    OVS_WARN_UNUSED_RESULT;
static cni_handler_func handle_cni_request;

/* The gateway's MAC: 0a:58 and the gateway's IPv4 address, as
 * OVN-Kubernetes does, so that it is the same after every restart. */
static struct eth_addr
gateway_mac(const struct ipaddr *gw)
{
    struct eth_addr mac = ETH_ADDR_C(0a,58,00,00,00,00);
    memcpy(&mac.ea[2], gw->bytes, 4);
    return mac;
}

char *
agent_create(const struct agent_config *cfg, struct agent **agentp)
{
    struct agent *a = xzalloc(sizeof *a);
    *agentp = NULL;

    a->cfg = *cfg;
    a->cfg.node_name = xstrdup(cfg->node_name);
    a->cfg.kubeconfig = cfg->kubeconfig ? xstrdup(cfg->kubeconfig) : NULL;
    a->cfg.ovsdb = xstrdup(cfg->ovsdb);
    a->cfg.ovs_rundir = xstrdup(cfg->ovs_rundir);
    a->cfg.bridge = xstrdup(cfg->bridge);
    a->cfg.datapath_type = xstrdup(cfg->datapath_type);
    a->cfg.tunnel_type = xstrdup(cfg->tunnel_type);
    a->cfg.cni_socket = xstrdup(cfg->cni_socket);
    a->cfg.state_dir = xstrdup(cfg->state_dir);
    hmap_init(&a->attachments);
    ovs_list_init(&a->del_waiters);
    flow_table_init(&a->flows);
    a->started = time_msec();

    char *error;
    if (cfg->kubeconfig || cfg->in_cluster) {
        struct kubeconfig *kc;
        error = (cfg->kubeconfig
                 ? kubeconfig_load(cfg->kubeconfig, cfg->k8s_insecure, &kc)
                 : kubeconfig_in_cluster(NULL, &kc));
        if (error) {
            agent_destroy(a);
            return error;
        }
        a->cache = k8s_cache_create();
        a->k8s = k8s_client_create(kc, a->cache);
        a->nodes = node_routes_create(a->cache, cfg->node_name,
                                      cfg->encap_mode == ENCAP_MODE_ENCAP);
    }

    struct cidr saved;
    if (cfg->has_pod_cidr) {
        error = open_node(a, &cfg->pod_cidr);
        if (error) {
            agent_destroy(a);
            return error;
        }
    } else if (load_saved_pool(a, &saved)) {
        char text[CIDR_STRLEN];
        VLOG_INFO("podCIDR %s from the last run; the Node will be checked",
                  cidr_format(&saved, text));
        error = open_node(a, &saved);
        if (error) {
            VLOG_WARN("%s; waiting for the Node's podCIDR", error);
            free(error);
        }
    }

    error = cni_server_create(cfg->cni_socket, handle_cni_request, a,
                              &a->cni);
    if (error) {
        agent_destroy(a);
        return error;
    }
    *agentp = a;
    return NULL;
}

/* Opens the IPAM on 'pod_cidr' and starts managing the bridge. */
static char *
open_node(struct agent *a, const struct cidr *pod_cidr)
{
    const struct agent_config *cfg = &a->cfg;
    char *ipam_dir = xasprintf("%s/ipam", cfg->state_dir);
    char *error = ipam_open(ipam_dir, pod_cidr, &a->ipam);
    free(ipam_dir);
    if (error) {
        return error;
    }
    a->node.pod_cidr = *pod_cidr;
    ipam_gateway(a->ipam, &a->node.gw_ip);
    a->node.gw_mac = gateway_mac(&a->node.gw_ip);

    struct bridge_config bcfg = {
        .bridge = cfg->bridge,
        .datapath_type = cfg->datapath_type,
        .tunnel_type = (cfg->encap_mode == ENCAP_MODE_ENCAP
                        ? cfg->tunnel_type : NULL),
        .node_name = cfg->node_name,
        .gw_mac = a->node.gw_mac,
    };
    a->bridge = bridge_ctl_create(cfg->ovsdb, &bcfg);
    return NULL;
}

/* The pool learned from the Node is saved in STATE_DIR/pod-cidr, so that
 * after a restart the agent brings its pods and flows back from local state
 * alone: its API server may be reachable only through the switch it has to
 * program first (a node whose ovs-vswitchd restarted with
 * flow-restore-wait=true).  The Node is still checked once it is seen. */
static char *
saved_pool_path(const struct agent *a)
{
    return xasprintf("%s/pod-cidr", a->cfg.state_dir);
}

static void
save_pool(const struct agent *a, const struct cidr *pool)
{
    char *path = saved_pool_path(a);
    char *tmp = xasprintf("%s.tmp", path);
    char text[CIDR_STRLEN];
    FILE *f = fopen(tmp, "w");
    bool ok = (f && fprintf(f, "%s\n", cidr_format(pool, text)) > 0
               && !fflush(f) && !fsync(fileno(f)));
    if (f && fclose(f)) {
        ok = false;
    }
    if (!ok || rename(tmp, path)) {
        VLOG_WARN("%s: cannot save the podCIDR (%s)", path,
                  ovs_strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(path);
}

static bool
load_saved_pool(const struct agent *a, struct cidr *pool)
{
    char *path = saved_pool_path(a);
    char line[CIDR_STRLEN + 2] = "";
    FILE *f = fopen(path, "r");
    bool ok = false;
    if (f) {
        if (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            char *error = cidr_parse(line, pool);
            if (error) {
                VLOG_WARN("%s: %s; waiting for the Node's podCIDR", path,
                          error);
                free(error);
            } else {
                ok = true;
            }
        }
        fclose(f);
    }
    free(path);
    return ok;
}

/* The first IPv4 prefix of this node's spec.podCIDRs in the cache, or
 * NULL. */
static const struct cidr *
node_pod_cidr(const struct agent *a)
{
    const struct k8s_object *obj = (a->cache
                                    ? k8s_cache_get(a->cache, K8S_NODE, NULL,
                                                    a->cfg.node_name)
                                    : NULL);
    if (obj) {
        const struct k8s_node *node = k8s_node_cast(obj);
        for (size_t i = 0; i < node->n_pod_cidrs; i++) {
            if (node->pod_cidrs[i].addr.family == AF_INET) {
                return &node->pod_cidrs[i];
            }
        }
    }
    return NULL;
}

/* Without --pod-cidr, opens the IPAM once the Node has a podCIDR; after
 * that, reports a podCIDR that differs from the pool (the pool stays: a
 * new one needs a restart). */
static void
run_node_cidr(struct agent *a)
{
    const struct cidr *cidr = node_pod_cidr(a);
    if (!a->ipam) {
        if (cidr && k8s_client_is_synced(a->k8s)) {
            char s[CIDR_STRLEN];
            char *error = open_node(a, cidr);
            free(a->ipam_error);
            a->ipam_error = error;
            if (error) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_ERR_RL(&rl, "podCIDR %s: %s", cidr_format(cidr, s),
                            error);
            } else {
                VLOG_INFO("podCIDR %s from Node %s", cidr_format(cidr, s),
                          a->cfg.node_name);
                save_pool(a, cidr);
            }
        }
        return;
    }
    if (!a->cfg.has_pod_cidr && cidr
        && !cidr_equals(cidr, ipam_pool(a->ipam))) {
        char s[CIDR_STRLEN], pool[CIDR_STRLEN];
        cidr_format(cidr, s);
        if (!a->cidr_mismatch || strcmp(a->cidr_mismatch, s)) {
            VLOG_ERR("Node %s: spec.podCIDR changed to %s; staying on %s "
                     "until the agent restarts", a->cfg.node_name, s,
                     cidr_format(ipam_pool(a->ipam), pool));
            free(a->cidr_mismatch);
            a->cidr_mismatch = xstrdup(s);
        }
    }
}

void
agent_destroy(struct agent *a)
{
    if (!a) {
        return;
    }
    struct attachment *att;
    HMAP_FOR_EACH_SAFE (att, node, &a->attachments) {
        attachment_destroy(a, att);
    }
    hmap_destroy(&a->attachments);
    cni_server_destroy(a->cni);
    k8s_client_destroy(a->k8s);
    node_routes_destroy(a->nodes);
    k8s_cache_destroy(a->cache);
    free(a->ipam_error);
    free(a->cidr_mismatch);
    ofctrl_destroy(a->ofctrl);
    bridge_ctl_destroy(a->bridge);
    ipam_close(a->ipam);
    flow_table_destroy(&a->flows);
    agent_config_destroy(&a->cfg);
    free(a);
}

/* Attachments. */

static char *
attachment_key(const char *container_id, const char *ifname)
{
    return xasprintf("%s/%s", container_id, ifname);
}

static struct attachment *
attachment_find(const struct agent *a, const char *key)
{
    struct attachment *att;
    HMAP_FOR_EACH_WITH_HASH (att, node, hash_string(key, 0),
                             &a->attachments) {
        if (!strcmp(att->key, key)) {
            return att;
        }
    }
    return NULL;
}

static char *
nullable_strdup(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

/* The owner of an attachment's flows: "pod/NAMESPACE/NAME/ID-IFNAME" in
 * Kubernetes, "pod/ID-IFNAME" outside it, with the container id cut to 12
 * characters as container tools print it. */
static char *
attachment_owner(const struct attachment *att)
{
    if (att->pod_namespace && att->pod_name) {
        return xasprintf("pod/%s/%s/%.12s-%s", att->pod_namespace,
                         att->pod_name, att->container_id, att->ifname);
    }
    return xasprintf("pod/%.12s-%s", att->container_id, att->ifname);
}

static struct attachment *
attachment_create(struct agent *a, const char *container_id,
                  const char *ifname)
{
    struct attachment *att = xzalloc(sizeof *att);
    att->key = attachment_key(container_id, ifname);
    att->container_id = xstrdup(container_id);
    att->ifname = xstrdup(ifname);
    ovs_list_init(&att->waiters);
    hmap_insert(&a->attachments, &att->node, hash_string(att->key, 0));
    return att;
}

static void
waiter_fail(struct waiter *w, int code, const char *msg, const char *details)
{
    ovs_list_remove(&w->node);
    cni_request_error(w->req, code, msg, details);
    json_decref(w->result);
    free(w);
}

/* Forgets 'att': withdraws its flows and its port.  Its address is the
 * caller's business. */
static void
attachment_destroy(struct agent *a, struct attachment *att)
{
    struct waiter *w;
    LIST_FOR_EACH_SAFE (w, node, &att->waiters) {
        waiter_fail(w, CNI_ERR_TRY_AGAIN, "the attachment was deleted while "
                    "its ADD was in progress", att->key);
    }
    if (att->owner) {
        pod_flows_remove(&a->flows, att->owner);
    }
    if (att->host_ifname) {
        bridge_ctl_del_pod_port(a->bridge, att->host_ifname);
    }
    hmap_remove(&a->attachments, &att->node);
    free(att->key);
    free(att->container_id);
    free(att->ifname);
    free(att->host_ifname);
    free(att->netns);
    free(att->pod_namespace);
    free(att->pod_name);
    free(att->pod_uid);
    free(att->owner);
    free(att);
}

/* Removes 'att' and releases its address. */
static void
attachment_remove(struct agent *a, struct attachment *att)
{
    int error = ipam_release(a->ipam, att->key);
    if (error) {
        VLOG_WARN("%s: releasing its address failed (%s)", att->key,
                  ovs_strerror(error));
    }
    attachment_destroy(a, att);
}

static void
attachment_port_ids(const struct attachment *att, struct smap *ids)
{
    char ip[IPADDR_STRLEN];
    smap_init(ids);
    smap_add(ids, "container-id", att->container_id);
    smap_add(ids, "ifname", att->ifname);
    smap_add(ids, "ip", ipaddr_format(&att->ip, ip));
    smap_add_format(ids, "attached-mac", ETH_ADDR_FMT,
                    ETH_ADDR_ARGS(att->mac));
    if (att->netns) {
        smap_add(ids, "netns", att->netns);
    }
    if (att->pod_namespace) {
        smap_add(ids, "pod-namespace", att->pod_namespace);
    }
    if (att->pod_name) {
        smap_add(ids, "pod-name", att->pod_name);
    }
    if (att->pod_uid) {
        smap_add(ids, "pod-uid", att->pod_uid);
    }
}

/* The result an ADD or CHECK returns for 'att'. */
static json_t *
attachment_result(const struct agent *a, const struct attachment *att)
{
    char ip[IPADDR_STRLEN], gw[IPADDR_STRLEN];
    char *address = xasprintf("%s/%u", ipaddr_format(&att->ip, ip),
                              a->node.pod_cidr.plen);
    ipaddr_format(&a->node.gw_ip, gw);
    char mac[ETH_ADDR_STRLEN + 1];
    snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(att->mac));
    /* Only jansson's json_pack() here: libopenvswitch has functions of its
     * own named json_string(), json_object() and so on. */
    json_t *result = json_pack(
        "{s:[{s:s,s:s}],s:[{s:s,s:s}],s:i,s:b,s:s}",
        "ips", "address", address, "gateway", gw,
        "routes", "dst", "0.0.0.0/0", "gw", gw,
        "mtu", a->cfg.mtu,
        "txChecksumOff", !strcmp(a->cfg.datapath_type, "netdev"),
        "mac", mac);
    free(address);
    return result;
}

/* Adds the flows of 'att' once OVS has numbered its port. */
static void
attachment_update(struct agent *a, struct attachment *att)
{
    struct pod_port pp;
    if (!att->host_ifname
        || !bridge_ctl_get_pod_port(a->bridge, att->host_ifname, &pp)) {
        return;
    }

    if (pp.ofport < 0) {
        struct waiter *w;
        LIST_FOR_EACH_SAFE (w, node, &att->waiters) {
            waiter_fail(w, CNI_ERR_IO, "Open vSwitch cannot attach the "
                        "pod's interface", pp.error ? pp.error : "");
        }
        return;
    }
    if (!pp.ofport || !a->static_flows) {
        return;
    }

    ofp_port_t ofport = u16_to_ofp(pp.ofport);
    if (ofport != att->ofport || !att->flows_seqno) {
        struct pod_net pod = {
            .ofport = ofport,
            .mac = att->mac,
            .ip = att->ip,
        };
        if (!att->owner) {
            att->owner = attachment_owner(att);
        }
        pod_flows_remove(&a->flows, att->owner);
        char *error = pod_flows_add(&a->flows, att->owner, &a->node, &pod);
        if (error) {
            VLOG_ERR("%s: %s", att->key, error);
            struct waiter *w;
            LIST_FOR_EACH_SAFE (w, node, &att->waiters) {
                waiter_fail(w, CNI_ERR_IO, "the agent could not make the "
                            "pod's flows", error);
            }
            free(error);
            return;
        }
        att->ofport = ofport;
        att->flows_seqno = a->flows.seqno;
        struct waiter *w;
        LIST_FOR_EACH (w, node, &att->waiters) {
            w->seqno = att->flows_seqno;
        }
    }
}

/* The node forwards between its pods, the gateway and the underlay. */
static void
enable_ip_forward(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "r+");
    if (f) {
        int c = getc(f);
        if (c != '1') {
            rewind(f);
            fputs("1\n", f);
            VLOG_INFO("enabled IPv4 forwarding");
        }
        fclose(f);
    }
}

/* The node's gateway: tendril-gw0 gets the gateway address, the MTU, and
 * no IPv6, so that the node routes its podCIDR into br-int.  Done again
 * whenever OVSDB changes, since a restarted ovs-vswitchd makes the device
 * anew. */
static void
configure_gateway(struct agent *a)
{
    struct link_ns *ns;
    if (link_ns_open(-1, &ns)) {
        return;
    }

    struct link_info info;
    a->gateway_configured = false;
    if (!link_get(ns, GW_PORT_NAME, &info)) {
        struct link_addr *addrs;
        size_t n_addrs;
        bool have = false;
        if (!link_addr_list(ns, info.ifindex, AF_INET, &addrs, &n_addrs)) {
            for (size_t i = 0; i < n_addrs; i++) {
                have |= ipaddr_equals(&addrs[i].addr, &a->node.gw_ip);
            }
            free(addrs);
        }
        int error = 0;
        if (info.mtu != a->cfg.mtu) {
            error = link_set_mtu(ns, GW_PORT_NAME, a->cfg.mtu);
        }
        if (!error) {
            ignore(link_disable_ipv6(ns, GW_PORT_NAME));
        }
        if (!error && !have) {
            error = link_addr_add(ns, info.ifindex, &a->node.gw_ip,
                                  a->node.pod_cidr.plen);
        }
        if (!error && !info.up) {
            error = link_set_up(ns, GW_PORT_NAME, true);
        }
        if (error) {
            char *msg = link_ns_strerror(ns, error);
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "%s: configuring the gateway failed (%s)",
                         GW_PORT_NAME, msg);
            free(msg);
        } else {
            if (!have) {
                char gw[IPADDR_STRLEN];
                VLOG_INFO("%s: %s/%u, MTU %d", GW_PORT_NAME,
                          ipaddr_format(&a->node.gw_ip, gw),
                          a->node.pod_cidr.plen, a->cfg.mtu);
            }
            a->gateway_configured = true;
            enable_ip_forward();
        }
    }
    link_ns_close(ns);
}

/* Rebuilds the attachments from the pod ports an earlier run recorded in
 * OVSDB.  A port whose device is gone (its pod's namespace was deleted
 * while the agent was down) is removed with its address. */
static void
restore_attachment(const struct pod_port *pp, void *a_)
{
    struct agent *a = a_;
    const struct smap *ids = pp->external_ids;
    const char *cid = smap_get(ids, "container-id");
    const char *ifname = smap_get(ids, "ifname");
    const char *mac = smap_get(ids, "attached-mac");
    const char *ip = smap_get(ids, "ip");
    struct eth_addr ea;
    struct ipaddr addr;
    char *error = NULL;

    if (!cid || !ifname || !mac || !ip || !eth_addr_from_string(mac, &ea)
        || (error = ipaddr_parse(ip, &addr))) {
        VLOG_WARN("port %s: incomplete or malformed external_ids, removing "
                  "it", pp->name);
        free(error);
        bridge_ctl_del_pod_port(a->bridge, pp->name);
        return;
    }

    char *key = attachment_key(cid, ifname);
    struct ipaddr owned;
    bool owns = ipam_lookup(a->ipam, key, &owned)
                && ipaddr_equals(&owned, &addr);
    /* On the userspace datapath a port keeps its number after its device
     * is gone: ask the kernel. */
    bool gone = pp->ofport < 0;
    struct link_ns *ns;
    if (!gone && !link_ns_open(-1, &ns)) {
        struct link_info info;
        gone = link_get(ns, pp->name, &info) == ENODEV;
        link_ns_close(ns);
    }
    if (gone || !owns) {
        VLOG_INFO("port %s (%s): %s, removing it", pp->name, key,
                  !owns ? "its address is not allocated to it"
                        : "its device is gone");
        bridge_ctl_del_pod_port(a->bridge, pp->name);
        if (owns) {
            ipam_release(a->ipam, key);
        }
        free(key);
        return;
    }
    free(key);

    struct attachment *att = attachment_create(a, cid, ifname);
    att->host_ifname = xstrdup(pp->name);
    att->netns = nullable_strdup(smap_get(ids, "netns"));
    att->pod_namespace = nullable_strdup(smap_get(ids, "pod-namespace"));
    att->pod_name = nullable_strdup(smap_get(ids, "pod-name"));
    att->pod_uid = nullable_strdup(smap_get(ids, "pod-uid"));
    att->mac = ea;
    att->ip = addr;
    VLOG_INFO("restored %s on port %s", att->key, pp->name);
}

/* Releases addresses that no attachment holds: an ADD that the agent did
 * not finish before it stopped. */
static void
release_orphan_addresses(struct agent *a)
{
    struct ipam_entry *entries;
    size_t n = ipam_entries(a->ipam, &entries);
    for (size_t i = 0; i < n; i++) {
        if (!attachment_find(a, entries[i].owner)) {
            VLOG_INFO("releasing %s: no pod port holds it",
                      entries[i].owner);
            ipam_release(a->ipam, entries[i].owner);
        }
    }
    ipam_entries_free(entries, n);
}

static bool
agent_is_ready(const struct agent *a, const char **why)
{
    const char *reason = (a->k8s && !k8s_client_is_synced(a->k8s)
                          ? "the Kubernetes API objects are not synced yet"
                          : !a->ipam && a->ipam_error
                          ? "the IPAM cannot be opened on the Node's podCIDR"
                          : !a->ipam
                          ? "waiting for the Node's spec.podCIDR"
                          : !bridge_ctl_is_connected(a->bridge)
                          ? "OVSDB is not connected"
                          : !bridge_ctl_is_ready(a->bridge)
                          ? "br-int is not set up yet"
                          : !a->ofctrl || !ofctrl_is_connected(a->ofctrl)
                          ? "the OpenFlow connection to br-int is down"
                          : !a->synced ? "the first flow sync is not done"
                          : !a->gateway_configured
                          ? "the gateway interface is not configured"
                          : NULL);
    if (why) {
        *why = reason;
    }
    return !reason;
}

static const char *
get_string(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
add_waiter(struct ovs_list *list, struct cni_request *req, uint64_t seqno,
           long long int timeout_ms, json_t *result)
{
    struct waiter *w = xzalloc(sizeof *w);
    w->req = req;
    w->seqno = seqno;
    w->deadline = time_msec() + timeout_ms;
    w->result = result;
    ovs_list_push_back(list, &w->node);
}

static void
handle_add(struct agent *a, struct cni_request *req, const json_t *r)
{
    const char *cid = get_string(r, "containerID");
    const char *ifname = get_string(r, "ifname");
    const char *host_ifname = get_string(r, "hostIfname");
    const char *mac_s = get_string(r, "mac");
    struct eth_addr mac;

    if (!cid || !ifname || !host_ifname || !mac_s) {
        cni_request_error(req, CNI_ERR_DECODE, "ADD request lacks "
                          "containerID, ifname, hostIfname or mac", NULL);
        return;
    }
    if (!eth_addr_from_string(mac_s, &mac)) {
        cni_request_error(req, CNI_ERR_DECODE, "ADD request has a bad mac",
                          mac_s);
        return;
    }
    const char *why;
    if (!agent_is_ready(a, &why)) {
        cni_request_error(req, CNI_ERR_TRY_AGAIN, "the Tendril agent is not "
                          "ready", why);
        return;
    }

    char *key = attachment_key(cid, ifname);
    struct attachment *att = attachment_find(a, key);
    if (att) {
        /* A retry after a failed attempt: start again, keeping the
         * address. */
        VLOG_INFO("%s: ADD again, replacing the earlier attachment", key);
        attachment_destroy(a, att);
    }

    struct ipaddr ip;
    int error = ipam_allocate(a->ipam, key, &ip);
    if (error) {
        char pool[CIDR_STRLEN];
        cidr_format(&a->node.pod_cidr, pool);
        if (error == ENOSPC) {
            char *msg = xasprintf("no free address in %s", pool);
            cni_request_error(req, CNI_ERR_TRY_AGAIN, msg, key);
            free(msg);
        } else {
            cni_request_error(req, CNI_ERR_IO, "allocating an address "
                              "failed", ovs_strerror(error));
        }
        free(key);
        return;
    }
    free(key);

    COVERAGE_INC(cni_add);
    att = attachment_create(a, cid, ifname);
    att->host_ifname = xstrdup(host_ifname);
    att->netns = nullable_strdup(get_string(r, "netns"));
    att->pod_namespace = nullable_strdup(get_string(r, "podNamespace"));
    att->pod_name = nullable_strdup(get_string(r, "podName"));
    att->pod_uid = nullable_strdup(get_string(r, "podUID"));
    att->mac = mac;
    att->ip = ip;

    char ip_s[IPADDR_STRLEN];
    VLOG_INFO("ADD %s%s%s%s: %s on port %s", att->key,
              att->pod_name ? " (pod " : "",
              att->pod_name ? att->pod_namespace : "",
              att->pod_name ? ")" : "", ipaddr_format(&ip, ip_s),
              host_ifname);

    struct smap ids;
    attachment_port_ids(att, &ids);
    bridge_ctl_add_pod_port(a->bridge, host_ifname, &ids);
    smap_destroy(&ids);
    add_waiter(&att->waiters, req, 0, a->cfg.cni_timeout_ms, NULL);
}

static void
handle_del(struct agent *a, struct cni_request *req, const json_t *r)
{
    const char *cid = get_string(r, "containerID");
    const char *ifname = get_string(r, "ifname");
    if (!cid || !ifname) {
        cni_request_error(req, CNI_ERR_DECODE, "DEL request lacks "
                          "containerID or ifname", NULL);
        return;
    }

    COVERAGE_INC(cni_del);
    char *key = attachment_key(cid, ifname);
    struct attachment *att = attachment_find(a, key);
    if (att) {
        VLOG_INFO("DEL %s", key);
        attachment_remove(a, att);
    } else if (a->ipam) {
        /* Already gone; the address may still be held by an ADD that
         * failed before the attachment was made. */
        ipam_release(a->ipam, key);
    }
    free(key);

    /* Answer once the switch has dropped the flows, or at the deadline:
     * the desired state is already right. */
    add_waiter(&a->del_waiters, req, a->flows.seqno, a->cfg.cni_timeout_ms,
               json_pack("{}"));
}

static void
handle_check(struct agent *a, struct cni_request *req, const json_t *r)
{
    const char *cid = get_string(r, "containerID");
    const char *ifname = get_string(r, "ifname");
    if (!cid || !ifname) {
        cni_request_error(req, CNI_ERR_DECODE, "CHECK request lacks "
                          "containerID or ifname", NULL);
        return;
    }

    COVERAGE_INC(cni_check);
    char *key = attachment_key(cid, ifname);
    struct attachment *att = attachment_find(a, key);
    struct pod_port pp;
    const char *problem =
        (!att ? "the agent has no such attachment"
         : !bridge_ctl_get_pod_port(a->bridge, att->host_ifname, &pp)
         ? "its port is not on br-int"
         : pp.ofport <= 0 ? "its port has no OpenFlow port number"
         : !att->flows_seqno || !att->owner
           || !flow_table_count_owner(&a->flows, att->owner)
         ? "it has no flows"
         : !a->ofctrl || ofctrl_installed_seqno(a->ofctrl) < att->flows_seqno
         ? "its flows are not installed" : NULL);
    if (problem) {
        cni_request_error(req, att ? 100 : CNI_ERR_UNKNOWN_CONTAINER,
                          problem, key);
    } else {
        cni_request_reply(req, attachment_result(a, att));
    }
    free(key);
}

static void
handle_status(struct agent *a, struct cni_request *req)
{
    const char *why;
    if (agent_is_ready(a, &why)) {
        cni_request_reply(req, json_pack("{s:b}", "ready", true));
    } else {
        cni_request_error(req, CNI_ERR_NOT_AVAILABLE,
                          "the Tendril agent is not ready", why);
    }
}

static void
handle_gc(struct agent *a, struct cni_request *req, const json_t *r)
{
    const json_t *valid = json_object_get(r, "validAttachments");
    if (!json_is_array(valid)) {
        cni_request_error(req, CNI_ERR_DECODE, "GC request lacks "
                          "validAttachments", NULL);
        return;
    }

    struct sset keep = SSET_INITIALIZER(&keep);
    size_t i;
    const json_t *v;
    json_array_foreach (valid, i, v) {
        const char *cid = get_string(v, "containerID");
        const char *ifname = get_string(v, "ifname");
        if (!cid || !ifname) {
            sset_destroy(&keep);
            cni_request_error(req, CNI_ERR_DECODE, "GC: an entry of "
                              "validAttachments lacks containerID or ifname",
                              NULL);
            return;
        }
        sset_add_and_free(&keep, attachment_key(cid, ifname));
    }

    COVERAGE_INC(cni_gc);
    struct attachment *att;
    HMAP_FOR_EACH_SAFE (att, node, &a->attachments) {
        if (!sset_contains(&keep, att->key)
            && ovs_list_is_empty(&att->waiters)) {
            VLOG_INFO("GC %s", att->key);
            attachment_remove(a, att);
        }
    }
    struct ipam_entry *entries = NULL;
    size_t n = a->ipam ? ipam_entries(a->ipam, &entries) : 0;
    for (i = 0; i < n; i++) {
        if (!sset_contains(&keep, entries[i].owner)
            && !attachment_find(a, entries[i].owner)) {
            VLOG_INFO("GC releases %s", entries[i].owner);
            ipam_release(a->ipam, entries[i].owner);
        }
    }
    ipam_entries_free(entries, n);
    sset_destroy(&keep);
    add_waiter(&a->del_waiters, req, a->flows.seqno, a->cfg.cni_timeout_ms,
               json_pack("{}"));
}

static void
handle_cni_request(struct cni_request *req, const json_t *r, void *a_)
{
    struct agent *a = a_;
    const char *command = get_string(r, "command");

    if (!command) {
        cni_request_error(req, CNI_ERR_DECODE, "request lacks a command",
                          NULL);
    } else if (!strcmp(command, "ADD")) {
        handle_add(a, req, r);
    } else if (!strcmp(command, "DEL")) {
        handle_del(a, req, r);
    } else if (!strcmp(command, "CHECK")) {
        handle_check(a, req, r);
    } else if (!strcmp(command, "STATUS")) {
        handle_status(a, req);
    } else if (!strcmp(command, "GC")) {
        handle_gc(a, req, r);
    } else {
        cni_request_error(req, CNI_ERR_INVALID_ENV, "unknown command",
                          command);
    }
}

/* Answers the requests whose flows are now installed, and fails those
 * whose time is up. */
static void
run_waiters(struct agent *a)
{
    uint64_t installed = a->ofctrl ? ofctrl_installed_seqno(a->ofctrl) : 0;
    long long int now = time_msec();

    struct attachment *att;
    HMAP_FOR_EACH (att, node, &a->attachments) {
        struct waiter *w;
        LIST_FOR_EACH_SAFE (w, node, &att->waiters) {
            if (w->seqno && installed >= w->seqno) {
                ovs_list_remove(&w->node);
                cni_request_reply(w->req, attachment_result(a, att));
                free(w);
            } else if (now >= w->deadline) {
                waiter_fail(w, CNI_ERR_TRY_AGAIN, "timed out waiting for "
                            "the pod's flows to be installed", att->key);
            }
        }
    }

    struct waiter *w;
    LIST_FOR_EACH_SAFE (w, node, &a->del_waiters) {
        if (installed >= w->seqno || now >= w->deadline) {
            if (installed < w->seqno) {
                VLOG_WARN("flows not yet removed from the switch after "
                          "%d ms; answering anyway", a->cfg.cni_timeout_ms);
            }
            ovs_list_remove(&w->node);
            cni_request_reply(w->req, w->result);
            free(w);
        }
    }
}

static void
update_node(struct agent *a)
{
    ofp_port_t gw = bridge_ctl_gw_ofport(a->bridge);
    ofp_port_t tun = bridge_ctl_tun_ofport(a->bridge);
    if (!ofp_to_u16(gw)) {
        return;
    }
    if (!a->static_flows || gw != a->node.gw_ofport
        || tun != a->node.tun_ofport) {
        a->node.gw_ofport = gw;
        a->node.tun_ofport = tun;
        flow_table_remove_owner(&a->flows, STATIC_OWNER);
        char *error = pipeline_add_static(&a->flows, &a->node);
        if (error) {
            /* A bug: the static flows are made from the agent's own
             * values. */
            VLOG_FATAL("static flows: %s", error);
        }
        a->static_flows = true;

        /* Pods' flows name the gateway too. */
        struct attachment *att;
        HMAP_FOR_EACH (att, node, &a->attachments) {
            att->flows_seqno = 0;
        }
    }
}

void
agent_run(struct agent *a)
{
    if (a->k8s) {
        k8s_client_run(a->k8s);
        run_node_cidr(a);
    }
    if (!a->bridge) {
        /* Not ready: CNI requests get errors (DEL and GC succeed, there
         * being nothing to remove). */
        cni_server_run(a->cni);
        run_waiters(a);
        return;
    }
    bridge_ctl_run(a->bridge);

    if (!a->ofctrl && bridge_ctl_is_ready(a->bridge)) {
        char *target = xasprintf("unix:%s/%s.mgmt", a->cfg.ovs_rundir,
                                 a->cfg.bridge);
        a->ofctrl = ofctrl_create(target, bridge_ctl_round(a->bridge),
                                  bridge_ctl_prev_round(a->bridge));
        free(target);
    }

    unsigned int seqno = bridge_ctl_seqno(a->bridge);
    bool node_changed = false;
    if (seqno != a->bridge_seqno && bridge_ctl_is_ready(a->bridge)) {
        a->bridge_seqno = seqno;
        ofp_port_t gw = a->node.gw_ofport, tun = a->node.tun_ofport;
        update_node(a);
        bool had_gateway = a->gateway_configured;
        configure_gateway(a);
        node_changed = (gw != a->node.gw_ofport || tun != a->node.tun_ofport
                        || had_gateway != a->gateway_configured);
        if (!a->restored && bridge_ctl_pods_adopted(a->bridge)) {
            bridge_ctl_for_each_pod_port(a->bridge, restore_attachment, a);
            release_orphan_addresses(a);
            a->restored = true;
        }
        struct attachment *att;
        HMAP_FOR_EACH (att, node, &a->attachments) {
            attachment_update(a, att);
        }
    }

    if (a->nodes && a->static_flows && a->gateway_configured) {
        node_routes_run(a->nodes, &a->flows, &a->node, node_changed);
        if (k8s_client_is_synced(a->k8s)) {
            a->peers_routed = true;
        }
    }

    /* The first full sync waits for the peers' routes, since it deletes
     * the previous run's flows, but not for long: the API server may be
     * reachable only once the flows are in (see save_pool()). */
    bool peers_known = (!a->nodes || a->peers_routed
                        || time_msec() - a->started > PEER_GRACE_MS);
    if (!a->synced && a->restored && a->static_flows && a->ofctrl
        && peers_known) {
        /* Every input the agent has is in the desired table: flows of the
         * previous run may go. */
        bool complete = true;
        struct attachment *att;
        HMAP_FOR_EACH (att, node, &a->attachments) {
            complete &= att->flows_seqno != 0;
        }
        if (complete) {
            a->synced = true;
            a->synced_seqno = a->flows.seqno;
            ofctrl_set_synced(a->ofctrl);
            VLOG_INFO("synced: %"PRIuSIZE" pods, %"PRIuSIZE" flows "
                      "after %lld ms", hmap_count(&a->attachments),
                      flow_table_count(&a->flows),
                      time_msec() - a->started);
        }
    }

    if (a->ofctrl) {
        ofctrl_run(a->ofctrl, &a->flows);
        if (a->synced && !a->restore_wait_cleared
            && ofctrl_installed_seqno(a->ofctrl) >= a->synced_seqno
            && ofctrl_prev_round_deleted(a->ofctrl)) {
            bridge_ctl_clear_flow_restore_wait(a->bridge);
            a->restore_wait_cleared = true;
        }
    }

    cni_server_run(a->cni);
    run_waiters(a);
}

void
agent_wait(struct agent *a)
{
    if (a->k8s) {
        k8s_client_wait(a->k8s);
    }
    if (!a->bridge) {
        cni_server_wait(a->cni);
        struct waiter *w;
        LIST_FOR_EACH (w, node, &a->del_waiters) {
            poll_timer_wait_until(w->deadline);
        }
        return;
    }
    bridge_ctl_wait(a->bridge);
    if (a->ofctrl) {
        ofctrl_wait(a->ofctrl, &a->flows);
    }
    cni_server_wait(a->cni);

    struct attachment *att;
    HMAP_FOR_EACH (att, node, &a->attachments) {
        struct waiter *w;
        LIST_FOR_EACH (w, node, &att->waiters) {
            poll_timer_wait_until(w->deadline);
        }
    }
    struct waiter *w;
    LIST_FOR_EACH (w, node, &a->del_waiters) {
        poll_timer_wait_until(w->deadline);
    }
}

/* Inspection. */

void
agent_format_status(const struct agent *a, struct ds *s)
{
    const char *why;
    bool ready = agent_is_ready(a, &why);
    char cidr[CIDR_STRLEN], gw[IPADDR_STRLEN];

    ds_put_format(s, "node: %s\n", a->cfg.node_name);
    ds_put_format(s, "ready: %s%s%s\n", ready ? "yes" : "no",
                  ready ? "" : " - ", ready ? "" : why);
    if (a->k8s) {
        ds_put_format(s, "kubernetes: %s\n",
                      k8s_client_is_synced(a->k8s) ? "synced" : "syncing");
    }
    if (!a->ipam) {
        ds_put_format(s, "pod CIDR: none yet (%s)\n",
                      a->ipam_error ? a->ipam_error
                      : "waiting for the Node's spec.podCIDR");
        ds_put_format(s, "uptime: %lld s\n",
                      (time_msec() - a->started) / 1000);
        return;
    }
    ds_put_format(s, "ovsdb: %s (%s)\n", a->cfg.ovsdb,
                  bridge_ctl_is_connected(a->bridge)
                  ? "connected" : "not connected");
    ds_put_format(s, "openflow: %s\n",
                  a->ofctrl && ofctrl_is_connected(a->ofctrl)
                  ? "connected" : "not connected");
    ds_put_format(s, "bridge: %s (datapath %s, %s%s)\n", a->cfg.bridge,
                  a->cfg.datapath_type,
                  a->cfg.encap_mode == ENCAP_MODE_ENCAP ? "encap " : "noEncap",
                  a->cfg.encap_mode == ENCAP_MODE_ENCAP
                  ? a->cfg.tunnel_type : "");
    ds_put_format(s, "pod CIDR: %s, gateway %s "ETH_ADDR_FMT", MTU %d\n",
                  cidr_format(&a->node.pod_cidr, cidr),
                  ipaddr_format(&a->node.gw_ip, gw),
                  ETH_ADDR_ARGS(a->node.gw_mac), a->cfg.mtu);
    ds_put_format(s, "synced: %s\n", a->synced ? "yes" : "no");
    ds_put_format(s, "pods: %"PRIuSIZE"\n", hmap_count(&a->attachments));
    ds_put_format(s, "flows: %"PRIuSIZE"\n", flow_table_count(&a->flows));
    ds_put_format(s, "uptime: %lld s\n", (time_msec() - a->started) / 1000);
}

struct pod_line {
    const char *sort_key;
    char *text;
};

static int
compare_pod_lines(const void *a_, const void *b_)
{
    const struct pod_line *a = a_, *b = b_;
    return strcmp(a->sort_key, b->sort_key);
}

void
agent_format_pods(const struct agent *a, struct ds *s)
{
    size_t n = 0;
    struct pod_line *lines = xmalloc((hmap_count(&a->attachments) + 1)
                                     * sizeof *lines);
    const struct attachment *att;
    HMAP_FOR_EACH (att, node, &a->attachments) {
        char ip[IPADDR_STRLEN];
        uint64_t installed = a->ofctrl ? ofctrl_installed_seqno(a->ofctrl)
                                       : 0;
        const char *state = (!att->flows_seqno ? "waiting for port"
                             : installed < att->flows_seqno ? "installing"
                             : "ready");
        lines[n].sort_key = att->key;
        lines[n].text = xasprintf(
            "%-30s %-15s "ETH_ADDR_FMT" %-16s ofport=%-4"PRIu16" %s/%s "
            "%s\n",
            att->pod_name ? att->pod_name : "-", ipaddr_format(&att->ip, ip),
            ETH_ADDR_ARGS(att->mac), att->host_ifname,
            ofp_to_u16(att->ofport), att->pod_namespace ? att->pod_namespace
                                                         : "-",
            att->key, state);
        n++;
    }
    qsort(lines, n, sizeof *lines, compare_pod_lines);
    for (size_t i = 0; i < n; i++) {
        ds_put_cstr(s, lines[i].text);
        free(lines[i].text);
    }
    free(lines);
}

void
agent_format_nodes(const struct agent *a, struct ds *s)
{
    if (!a->nodes) {
        ds_put_cstr(s, "no Kubernetes client: no peer nodes\n");
        return;
    }
    node_routes_format(a->nodes, s);
}

void
agent_format_ipam(const struct agent *a, struct ds *s)
{
    char pool[CIDR_STRLEN], gw[IPADDR_STRLEN];
    struct ipam_entry *entries;
    if (!a->ipam) {
        ds_put_cstr(s, "no pool yet: waiting for the Node's "
                    "spec.podCIDR\n");
        return;
    }
    size_t n = ipam_entries(a->ipam, &entries);

    ds_put_format(s, "pool %s, gateway %s, %"PRIuSIZE" allocated\n",
                  cidr_format(ipam_pool(a->ipam), pool),
                  ipaddr_format(&a->node.gw_ip, gw), n);
    for (size_t i = 0; i < n; i++) {
        char ip[IPADDR_STRLEN];
        ds_put_format(s, "%-16s %s\n", ipaddr_format(&entries[i].addr, ip),
                      entries[i].owner);
    }
    ipam_entries_free(entries, n);
}

void
agent_format_memory(const struct agent *a, struct ds *s)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "VmRSS:", 6) || !strncmp(line, "VmHWM:", 6)) {
                ds_put_cstr(s, line);
            }
        }
        fclose(f);
    }
    ds_put_format(s, "desired flows: %"PRIuSIZE"\n",
                  flow_table_count(&a->flows));
    ds_put_format(s, "pods: %"PRIuSIZE"\n", hmap_count(&a->attachments));
    ds_put_format(s, "addresses: %"PRIuSIZE"\n",
                  a->ipam ? ipam_count(a->ipam) : 0);
    if (a->cache) {
        for (int k = 0; k < K8S_N_KINDS; k++) {
            ds_put_format(s, "k8s %s: %"PRIuSIZE"\n", k8s_client_plural(k),
                          k8s_cache_count(a->cache, k));
        }
    }
}

void
agent_format_sync_stats(const struct agent *a, struct ds *s)
{
    ds_put_format(s, "desired flows: %"PRIuSIZE"\n",
                  flow_table_count(&a->flows));
    ds_put_format(s, "desired version: %"PRIu64"\n", a->flows.seqno);
    if (a->ofctrl) {
        ofctrl_format_stats(a->ofctrl, s);
    } else {
        ds_put_cstr(s, "connected: no (br-int not ready)\n");
    }
}

void
agent_dump_flows(const struct agent *a, const char *owner, struct ds *s)
{
    flow_table_dump(&a->flows, owner, true, s);
}

/* Kubernetes objects, for k8s/status and k8s/get. */

char *
agent_format_k8s_status(const struct agent *a, struct ds *s)
{
    if (!a->k8s) {
        return xstrdup("no Kubernetes client (the agent runs with "
                       "--pod-cidr and neither --kubeconfig nor "
                       "--in-cluster)");
    }
    k8s_client_format_status(a->k8s, s);
    return NULL;
}

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

char *
agent_format_k8s_get(const struct agent *a, const char *kind_s,
                     const char *key, struct ds *s)
{
    enum k8s_kind kind;
    if (!a->cache) {
        return agent_format_k8s_status(a, s);
    }
    if (!k8s_client_kind_from_plural(kind_s, &kind)) {
        return xasprintf("unknown kind \"%s\" (nodes, namespaces, pods, "
                         "services, endpointslices, networkpolicies)",
                         kind_s);
    }
    if (!key) {
        struct k8s_object_list list;
        k8s_cache_list(a->cache, kind, NULL, &list);
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
        obj = k8s_cache_get(a->cache, kind, ns, slash + 1);
        free(ns);
    } else {
        obj = k8s_cache_get(a->cache, kind, NULL, key);
    }
    if (!obj) {
        return xasprintf("%s %s: not in the cache", kind_s, key);
    }
    put_details(s, obj);
    return NULL;
}
