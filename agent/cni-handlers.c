/* The agent's answers to the CNI binary (see lib/agent-protocol.h). */
#include "ovs-config.h"
#include "agent/agent-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attachments.h"
#include "agent/cni-server.h"
#include "agent/k8s-cache.h"
#include "coverage.h"
#include "flows/ofctrl.h"
#include "lib/agent-protocol.h"
#include "lib/cidr.h"
#include "lib/ipam.h"
#include "lib/k8s-object.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb/bridge.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cni_handlers);

COVERAGE_DEFINE(cni_add);
COVERAGE_DEFINE(cni_del);
COVERAGE_DEFINE(cni_check);
COVERAGE_DEFINE(cni_gc);

static const char *
get_string(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *
nullable_strdup(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

static uint64_t
installed_seqno(const struct agent *a)
{
    return a->ofctrl ? ofctrl_installed_seqno(a->ofctrl) : 0;
}

/* Where the flows of 'att' are: "waiting for port", "installing",
 * "refused" or "ready". */
const char *
agent_attachment_state(const struct agent *a, const struct attachment *att)
{
    const char *owner = att->owner;
    return (!owner || !flow_table_count_owner(&a->flows, owner)
            ? "waiting for port"
            : flow_table_owner_error(&a->flows, owner) ? "refused"
            : installed_seqno(a) < flow_table_owner_seqno(&a->flows, owner)
            ? "installing" : "ready");
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
        AP_IPS, AP_ADDRESS, address, AP_GATEWAY, gw,
        AP_ROUTES, AP_DST, "0.0.0.0/0", AP_GW, gw,
        AP_MTU, a->cfg.mtu,
        AP_TX_CHECKSUM_OFF, !strcmp(a->cfg.datapath_type, "netdev"),
        AP_MAC, mac);
    free(address);
    return result;
}

/* Reads containerID and ifname of request 'r' into a new attachment key,
 * or answers with an error and returns NULL. */
static char *
request_key(struct cni_request *req, const json_t *r, const char *command)
{
    const char *cid = get_string(r, AP_CONTAINER_ID);
    const char *ifname = get_string(r, AP_IFNAME);
    if (!cid || !ifname) {
        char *msg = xasprintf("%s request lacks %s or %s", command,
                              AP_CONTAINER_ID, AP_IFNAME);
        cni_request_error(req, CNI_ERR_DECODE, msg, NULL);
        free(msg);
        return NULL;
    }
    return attachment_key(cid, ifname);
}

static void
handle_add(struct agent *a, struct cni_request *req, const json_t *r)
{
    const char *cid = get_string(r, AP_CONTAINER_ID);
    const char *ifname = get_string(r, AP_IFNAME);
    const char *host_ifname = get_string(r, AP_HOST_IFNAME);
    const char *mac_s = get_string(r, AP_MAC);
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
        cni_request_error(req, CNI_ERR_TRY_AGAIN_LATER, "the Tendril agent "
                          "is not ready", why);
        return;
    }

    char *key = attachment_key(cid, ifname);
    struct attachment *att = attachment_find(&a->attachments, key);
    if (att) {
        /* A retry after a failed attempt: start again, keeping the
         * address. */
        VLOG_INFO("%s: ADD again, replacing the earlier attachment", key);
        agent_remove_attachment(a, att, false);
    }

    struct ipaddr ip;
    int error = ipam_allocate(a->ipam, key, &ip);
    if (error) {
        char pool[CIDR_STRLEN];
        cidr_format(&a->node.pod_cidr, pool);
        if (error == ENOSPC) {
            char *msg = xasprintf("no free address in %s", pool);
            cni_request_error(req, CNI_ERR_TRY_AGAIN_LATER, msg, key);
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
    att = attachment_create(&a->attachments, cid, ifname);
    att->host_ifname = xstrdup(host_ifname);
    att->netns = nullable_strdup(get_string(r, AP_NETNS));
    att->pod_namespace = nullable_strdup(get_string(r, AP_POD_NAMESPACE));
    att->pod_name = nullable_strdup(get_string(r, AP_POD_NAME));
    att->pod_uid = nullable_strdup(get_string(r, AP_POD_UID));
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
    waiter_add(&att->waiters, req, 0, a->cfg.cni_timeout_ms, NULL);
}

/* Answers a DEL or GC that removed the attachments whose flow owners are
 * in 'owners': at once if there were none, else once the switch has
 * dropped their flows (or at the deadline: the desired state is right
 * already). */
static void
reply_after_removal(struct agent *a, struct cni_request *req,
                    struct sset *owners)
{
    if (sset_is_empty(owners) || !a->ofctrl) {
        cni_request_reply(req, json_pack("{}"));
        return;
    }
    struct waiter *w = waiter_add(&a->del_waiters, req, 0,
                                  a->cfg.cni_timeout_ms, json_pack("{}"));
    /* Several owners: wait for the last one to go; the pods feature
     * removes them all in the same run. */
    w->owner = xstrdup(SSET_FIRST(owners));
}

static void
handle_del(struct agent *a, struct cni_request *req, const json_t *r)
{
    char *key = request_key(req, r, AP_DEL);
    if (!key) {
        return;
    }

    COVERAGE_INC(cni_del);
    struct sset owners = SSET_INITIALIZER(&owners);
    struct attachment *att = attachment_find(&a->attachments, key);
    if (att) {
        VLOG_INFO("DEL %s", key);
        if (att->owner && flow_table_count_owner(&a->flows, att->owner)) {
            sset_add(&owners, att->owner);
        }
        agent_remove_attachment(a, att, true);
    } else if (a->ipam) {
        /* Already gone; the address may still be held by an ADD that
         * failed before the attachment was made. */
        ipam_release(a->ipam, key);
    }
    free(key);
    reply_after_removal(a, req, &owners);
    sset_destroy(&owners);
}

static void
handle_check(struct agent *a, struct cni_request *req, const json_t *r)
{
    char *key = request_key(req, r, AP_CHECK);
    if (!key) {
        return;
    }

    COVERAGE_INC(cni_check);
    struct attachment *att = attachment_find(&a->attachments, key);
    struct pod_port pp;
    const char *state = att ? agent_attachment_state(a, att) : NULL;
    const char *problem =
        (!att ? NULL
         : !a->bridge
           || !bridge_ctl_get_pod_port(a->bridge, att->host_ifname, &pp)
         ? "its port is not on br-int"
         : pp.ofport <= 0 ? "its port has no OpenFlow port number"
         : strcmp(state, "ready") ? state : NULL);
    if (!att) {
        cni_request_error(req, CNI_ERR_UNKNOWN_CONTAINER,
                          "the agent has no such attachment", key);
    } else if (problem) {
        char *msg = xasprintf("the attachment is not healthy: %s", problem);
        cni_request_error(req, CNI_ERR_CHECK_FAILED, msg, key);
        free(msg);
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
        cni_request_reply(req, json_pack("{s:b}", AP_READY, true));
    } else {
        cni_request_error(req, CNI_ERR_NOT_AVAILABLE,
                          "the Tendril agent is not ready", why);
    }
}

static void
handle_gc(struct agent *a, struct cni_request *req, const json_t *r)
{
    const json_t *valid = json_object_get(r, AP_VALID_ATTACHMENTS);
    if (!json_is_array(valid)) {
        cni_request_error(req, CNI_ERR_DECODE, "GC request lacks "
                          "validAttachments", NULL);
        return;
    }

    struct sset keep = SSET_INITIALIZER(&keep);
    size_t i;
    const json_t *v;
    json_array_foreach (valid, i, v) {
        const char *cid = get_string(v, AP_CONTAINER_ID);
        const char *ifname = get_string(v, AP_IFNAME);
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
    struct sset owners = SSET_INITIALIZER(&owners);
    struct attachment *att;
    HMAP_FOR_EACH_SAFE (att, node, &a->attachments) {
        if (!sset_contains(&keep, att->key)
            && ovs_list_is_empty(&att->waiters)) {
            VLOG_INFO("GC %s", att->key);
            if (att->owner && flow_table_count_owner(&a->flows, att->owner)) {
                sset_add(&owners, att->owner);
            }
            agent_remove_attachment(a, att, true);
        }
    }
    struct ipam_entry *entries = NULL;
    size_t n = a->ipam ? ipam_entries(a->ipam, &entries) : 0;
    for (i = 0; i < n; i++) {
        if (!sset_contains(&keep, entries[i].owner)
            && !attachment_find(&a->attachments, entries[i].owner)) {
            VLOG_INFO("GC releases %s", entries[i].owner);
            ipam_release(a->ipam, entries[i].owner);
        }
    }
    ipam_entries_free(entries, n);
    sset_destroy(&keep);
    reply_after_removal(a, req, &owners);
    sset_destroy(&owners);
}

void
agent_handle_cni_request(struct cni_request *req, const json_t *r, void *a_)
{
    struct agent *a = a_;
    const char *command = get_string(r, AP_COMMAND);

    if (!command) {
        cni_request_error(req, CNI_ERR_DECODE, "request lacks a command",
                          NULL);
    } else if (!strcmp(command, AP_ADD)) {
        handle_add(a, req, r);
    } else if (!strcmp(command, AP_DEL)) {
        handle_del(a, req, r);
    } else if (!strcmp(command, AP_CHECK)) {
        handle_check(a, req, r);
    } else if (!strcmp(command, AP_STATUS)) {
        handle_status(a, req);
    } else if (!strcmp(command, AP_GC)) {
        handle_gc(a, req, r);
    } else {
        cni_request_error(req, CNI_ERR_INVALID_ENV, "unknown command",
                          command);
    }
}

/* With Kubernetes, whether the Pod object of 'att' is in the cache (with
 * its UID, if the runtime gave one) and every feature that reads the API
 * has taken it in, so that the flows its labels call for (NetworkPolicy
 * isolation) are in the desired table.  The kubelet creates the Pod before
 * it calls CNI ADD; the agent's watch may simply not have seen it yet. */
static bool
pod_known(const struct agent *a, const struct attachment *att)
{
    if (!a->cache || !att->pod_namespace || !att->pod_name) {
        return true;
    }
    const struct k8s_object *pod = k8s_cache_get(a->cache, K8S_POD,
                                                 att->pod_namespace,
                                                 att->pod_name);
    if (!pod || (att->pod_uid && pod->uid && strcmp(pod->uid, att->pod_uid))) {
        return false;
    }
    struct feature_ctx ctx;
    agent_feature_ctx(a, &ctx, false);
    for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
        const struct feature *f = &a->features[i];
        if (f->class->needs_api && !f->class->is_synced(f->data, &ctx)) {
            return false;
        }
    }
    return true;
}

/* An ADD is answered once its attachment's flows are in the switch, with
 * those its Pod object calls for (see pod_known()), or fails with the
 * switch's error if it refused them. */
static void
run_add_waiters(struct agent *a, struct attachment *att, long long int now)
{
    uint64_t installed = installed_seqno(a);
    struct waiter *w;
    LIST_FOR_EACH_SAFE (w, node, &att->waiters) {
        const char *state = agent_attachment_state(a, att);
        if (!w->seqno && pod_known(a, att)) {
            w->seqno = a->flows.seqno;
        }
        if (!w->seqno) {
            state = "waiting for the Pod object";
        } else if (!strcmp(state, "ready") && installed < w->seqno) {
            state = "installing";
        }
        if (!strcmp(state, "ready")) {
            waiter_reply(w, attachment_result(a, att));
        } else if (!strcmp(state, "refused")) {
            waiter_fail(w, CNI_ERR_FLOWS_REFUSED, "the switch refused the "
                        "pod's flows",
                        flow_table_owner_error(&a->flows, att->owner));
        } else if (now >= w->deadline) {
            char *msg = xasprintf("timed out after %d ms waiting for the "
                                  "pod's flows to be installed (%s)",
                                  a->cfg.cni_timeout_ms, state);
            waiter_fail(w, CNI_ERR_TRY_AGAIN_LATER, msg, att->key);
            free(msg);
        }
    }
}

void
agent_run_waiters(struct agent *a)
{
    uint64_t installed = installed_seqno(a);
    long long int now = time_msec();

    struct attachment *att;
    HMAP_FOR_EACH (att, node, &a->attachments) {
        run_add_waiters(a, att, now);
    }

    struct waiter *w;
    LIST_FOR_EACH_SAFE (w, node, &a->del_waiters) {
        if (!w->seqno && w->owner
            && !flow_table_count_owner(&a->flows, w->owner)) {
            /* The flows are out of the desired table: wait for this
             * version. */
            w->seqno = a->flows.seqno;
        }
        if (w->seqno && installed >= w->seqno) {
            waiter_reply(w, NULL);
        } else if (now >= w->deadline) {
            VLOG_WARN("flows not yet removed from the switch after %d ms; "
                      "answering anyway", a->cfg.cni_timeout_ms);
            waiter_reply(w, NULL);
        }
    }
}

void
agent_wait_waiters(const struct agent *a)
{
    const struct attachment *att;
    HMAP_FOR_EACH (att, node, &a->attachments) {
        const struct waiter *w;
        LIST_FOR_EACH (w, node, &att->waiters) {
            poll_timer_wait_until(w->deadline);
        }
    }
    const struct waiter *w;
    LIST_FOR_EACH (w, node, &a->del_waiters) {
        poll_timer_wait_until(w->deadline);
    }
}
