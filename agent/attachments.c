#include "ovs-config.h"
#include "agent/attachments.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cni-server.h"
#include "flow.h"
#include "hash.h"
#include "lib/agent-protocol.h"
#include "lib/ipam.h"
#include "lib/link.h"
#include "openvswitch/vlog.h"
#include "ovsdb/bridge.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(attachments);

char *
attachment_key(const char *container_id, const char *ifname)
{
    return xasprintf("%s/%s", container_id, ifname);
}

struct attachment *
attachment_find(const struct hmap *attachments, const char *key)
{
    struct attachment *att;
    HMAP_FOR_EACH_WITH_HASH (att, node, hash_string(key, 0), attachments) {
        if (!strcmp(att->key, key)) {
            return att;
        }
    }
    return NULL;
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

static char *
nullable_strdup(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

/* Adds a new attachment for (container id, ifname) to 'attachments'. */
struct attachment *
attachment_create(struct hmap *attachments, const char *container_id,
                  const char *ifname)
{
    static uint64_t next_serial = 1;
    struct attachment *att = xzalloc(sizeof *att);
    att->key = attachment_key(container_id, ifname);
    att->serial = next_serial++;
    att->container_id = xstrdup(container_id);
    att->ifname = xstrdup(ifname);
    ovs_list_init(&att->waiters);
    hmap_insert(attachments, &att->node, hash_string(att->key, 0));
    return att;
}

/* Frees 'att' after failing its waiters.  Its port, address and flows are
 * the caller's business. */
void
attachment_free(struct hmap *attachments, struct attachment *att)
{
    struct waiter *w;
    LIST_FOR_EACH_SAFE (w, node, &att->waiters) {
        waiter_fail(w, CNI_ERR_TRY_AGAIN_LATER, "the attachment was deleted "
                    "while its ADD was in progress", att->key);
    }
    hmap_remove(attachments, &att->node);
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

void
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

/* Takes every attachment's OpenFlow port number from OVSDB; fails the ADDs
 * of ports that OVS cannot attach.  Returns true if a number changed. */
bool
attachments_refresh_ports(struct hmap *attachments,
                          const struct bridge_ctl *bridge)
{
    bool changed = false;
    struct attachment *att;
    HMAP_FOR_EACH (att, node, attachments) {
        struct pod_port pp;
        if (!att->host_ifname
            || !bridge_ctl_get_pod_port(bridge, att->host_ifname, &pp)) {
            continue;
        }
        if (pp.ofport < 0) {
            struct waiter *w;
            LIST_FOR_EACH_SAFE (w, node, &att->waiters) {
                waiter_fail(w, CNI_ERR_IO, "Open vSwitch cannot attach the "
                            "pod's interface", pp.error ? pp.error : "");
            }
            continue;
        }
        ofp_port_t ofport = u16_to_ofp(pp.ofport);
        if (ofport != att->ofport) {
            att->ofport = ofport;
            changed = true;
        }
        if (!att->owner) {
            att->owner = attachment_owner(att);
        }
    }
    return changed;
}

struct restore_ctx {
    struct hmap *attachments;
    struct bridge_ctl *bridge;
    struct ipam *ipam;
};

/* Rebuilds an attachment from a pod port an earlier run recorded in
 * OVSDB.  A port whose device is gone (its pod's namespace was deleted
 * while the agent was down) is removed with its address. */
static void
restore_one(const struct pod_port *pp, void *ctx_)
{
    struct restore_ctx *ctx = ctx_;
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
        bridge_ctl_del_pod_port(ctx->bridge, pp->name);
        return;
    }

    char *key = attachment_key(cid, ifname);
    struct ipaddr owned;
    bool owns = ipam_lookup(ctx->ipam, key, &owned)
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
        bridge_ctl_del_pod_port(ctx->bridge, pp->name);
        if (owns) {
            ipam_release(ctx->ipam, key);
        }
        free(key);
        return;
    }
    free(key);

    struct attachment *att = attachment_create(ctx->attachments, cid, ifname);
    att->host_ifname = xstrdup(pp->name);
    att->netns = nullable_strdup(smap_get(ids, "netns"));
    att->pod_namespace = nullable_strdup(smap_get(ids, "pod-namespace"));
    att->pod_name = nullable_strdup(smap_get(ids, "pod-name"));
    att->pod_uid = nullable_strdup(smap_get(ids, "pod-uid"));
    att->mac = ea;
    att->ip = addr;
    VLOG_INFO("restored %s on port %s", att->key, pp->name);
}

/* Rebuilds the attachments from OVSDB, then releases the addresses that no
 * attachment holds: ADDs that an earlier run did not finish. */
void
attachments_restore(struct hmap *attachments, struct bridge_ctl *bridge,
                    struct ipam *ipam)
{
    struct restore_ctx ctx = { attachments, bridge, ipam };
    bridge_ctl_for_each_pod_port(bridge, restore_one, &ctx);

    struct ipam_entry *entries;
    size_t n = ipam_entries(ipam, &entries);
    for (size_t i = 0; i < n; i++) {
        if (!attachment_find(attachments, entries[i].owner)) {
            VLOG_INFO("releasing %s: no pod port holds it",
                      entries[i].owner);
            ipam_release(ipam, entries[i].owner);
        }
    }
    ipam_entries_free(entries, n);
}

/* Waiters. */

struct waiter *
waiter_add(struct ovs_list *list, struct cni_request *req, uint64_t seqno,
           long long int timeout_ms, json_t *result)
{
    struct waiter *w = xzalloc(sizeof *w);
    w->req = req;
    w->seqno = seqno;
    w->deadline = time_msec() + timeout_ms;
    w->result = result;
    ovs_list_push_back(list, &w->node);
    return w;
}

static void
waiter_free(struct waiter *w)
{
    ovs_list_remove(&w->node);
    json_decref(w->result);
    free(w->owner);
    free(w);
}

/* Answers 'w' with 'result' (taken), or with the result it holds if that
 * is NULL, and frees it. */
void
waiter_reply(struct waiter *w, json_t *result)
{
    if (!result) {
        result = w->result;
        w->result = NULL;
    }
    cni_request_reply(w->req, result);
    waiter_free(w);
}

void
waiter_fail(struct waiter *w, int code, const char *msg, const char *details)
{
    cni_request_error(w->req, code, msg, details);
    waiter_free(w);
}
