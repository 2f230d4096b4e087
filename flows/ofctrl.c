#include "ovs-config.h"
#include "flows/ofctrl.h"

#include <stdlib.h>

#include "coverage.h"
#include "flows/flow-table.h"
#include "flows/installed.h"
#include "flows/tables.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ofctrl);

COVERAGE_DEFINE(ofctrl_bundle);
COVERAGE_DEFINE(ofctrl_error);
COVERAGE_DEFINE(ofctrl_reconnect);

/* A barrier sent after a bundle; its reply says the bundle is in place. */
struct pending_barrier {
    struct ovs_list node;
    ovs_be32 xid;
    uint64_t seqno;              /* Desired table version it installs. */
    long long int sent;          /* When the bundle was sent, in ms. */
};

struct ofctrl {
    struct rconn *rconn;
    unsigned int conn_seqno;     /* Connection the installed table is for. */
    bool need_full;              /* Send everything on the next run. */
    long long int retry_at;      /* After an error: not before this. */
    int backoff;                 /* Current error backoff, in ms. */

    struct installed installed;
    uint16_t round;
    uint16_t prev_round;         /* 0: nothing to clean up. */
    bool synced;
    bool prev_round_deleted;

    uint64_t sent_seqno;         /* Desired version last sent. */
    uint64_t installed_seqno;    /* Desired version confirmed installed. */
    struct ovs_list barriers;    /* Contains "struct pending_barrier"s. */
    uint32_t next_bundle_id;

    /* Statistics for flows/sync-stats. */
    uint64_t n_connections;
    uint64_t n_bundles;
    uint64_t n_msgs;
    uint64_t n_errors;
    struct diff_stats totals;
    long long int last_sync_ms;
    long long int max_sync_ms;
    size_t last_bundle_msgs;
    char *last_error;
};

struct ofctrl *
ofctrl_create(const char *target, uint16_t round, uint16_t prev_round)
{
    struct ofctrl *oc = xzalloc(sizeof *oc);

    oc->rconn = rconn_create(5, 8, 0, 1u << OFP15_VERSION);
    rconn_connect(oc->rconn, target, target);
    oc->need_full = true;
    oc->round = round;
    oc->prev_round = prev_round;
    installed_init(&oc->installed);
    ovs_list_init(&oc->barriers);
    oc->next_bundle_id = 1;
    return oc;
}

static void
clear_barriers(struct ofctrl *oc)
{
    struct pending_barrier *b;
    LIST_FOR_EACH_POP (b, node, &oc->barriers) {
        free(b);
    }
}

void
ofctrl_destroy(struct ofctrl *oc)
{
    if (oc) {
        rconn_destroy(oc->rconn);
        installed_destroy(&oc->installed);
        clear_barriers(oc);
        free(oc->last_error);
        free(oc);
    }
}

void
ofctrl_set_synced(struct ofctrl *oc)
{
    oc->synced = true;
}

bool
ofctrl_is_connected(const struct ofctrl *oc)
{
    return rconn_is_connected(oc->rconn) && rconn_get_version(oc->rconn) > 0;
}

bool
ofctrl_prev_round_deleted(const struct ofctrl *oc)
{
    return !oc->prev_round || oc->prev_round_deleted;
}

uint64_t
ofctrl_installed_seqno(const struct ofctrl *oc)
{
    return oc->installed_seqno;
}

uint64_t
ofctrl_connection_count(const struct ofctrl *oc)
{
    return oc->n_connections;
}

static void
send_msg(struct ofctrl *oc, struct ofpbuf *msg)
{
    rconn_send(oc->rconn, msg, NULL);
    oc->n_msgs++;
}

/* Handles an error reply: logs the message that caused it, which the
 * switch echoes back, and schedules a full resynchronisation, since a
 * failed bundle changed nothing. */
static void
handle_error(struct ofctrl *oc, const struct ofp_header *oh)
{
    struct ofpbuf payload;
    enum ofperr error = ofperr_decode_msg(oh, &payload);
    if (error == OFPERR_OFPMMFC_METER_EXISTS && oc->installed.meters_unknown) {
        /* An add of a meter that an earlier run left: the modify that
         * followed it set the configuration (see installed.h). */
        VLOG_DBG("ignoring %s", ofperr_get_name(error));
        ofpbuf_uninit(&payload);
        return;
    }
    char *offending = (payload.size
                       ? ofp_to_string(payload.data, payload.size, NULL,
                                       tables_get_map(), 1)
                       : xstrdup("(not included)"));
    ofpbuf_uninit(&payload);    /* ofperr_decode_msg() copied it. */

    COVERAGE_INC(ofctrl_error);
    oc->n_errors++;
    free(oc->last_error);
    oc->last_error = xasprintf("%s: %s", ofperr_get_name(error), offending);
    VLOG_WARN("OpenFlow error %s for: %s", ofperr_get_name(error),
              offending);
    free(offending);

    oc->need_full = true;
    oc->backoff = oc->backoff ? MIN(oc->backoff * 2, 30000) : 1000;
    oc->retry_at = time_msec() + oc->backoff;
}

static void
handle_barrier_reply(struct ofctrl *oc, ovs_be32 xid)
{
    struct pending_barrier *b;
    LIST_FOR_EACH_SAFE (b, node, &oc->barriers) {
        if (b->xid == xid) {
            if (b->seqno > oc->installed_seqno) {
                oc->installed_seqno = b->seqno;
            }
            oc->last_sync_ms = time_msec() - b->sent;
            oc->max_sync_ms = MAX(oc->max_sync_ms, oc->last_sync_ms);
            ovs_list_remove(&b->node);
            free(b);
            /* Everything up to this barrier worked. */
            if (!oc->need_full) {
                oc->backoff = 0;
            }
            return;
        }
    }
}

static void
receive(struct ofctrl *oc)
{
    for (int i = 0; i < 50; i++) {
        struct ofpbuf *msg = rconn_recv(oc->rconn);
        if (!msg) {
            break;
        }

        const struct ofp_header *oh = msg->data;
        enum ofptype type;
        if (!ofptype_decode(&type, oh)) {
            switch (type) {
            case OFPTYPE_ECHO_REQUEST:
                send_msg(oc, ofputil_encode_echo_reply(oh));
                break;
            case OFPTYPE_ERROR:
                handle_error(oc, oh);
                break;
            case OFPTYPE_BARRIER_REPLY:
                handle_barrier_reply(oc, oh->xid);
                break;
            default:
                /* Bundle replies, packet-ins (dec_ttl on TTL expiry), port
                 * status: nothing to do. */
                break;
            }
        }
        ofpbuf_delete(msg);
    }
}

static bool
is_meter_mod(const struct ofpbuf *msg)
{
    enum ofptype type;
    return !ofptype_decode(&type, msg->data) && type == OFPTYPE_METER_MOD;
}

/* Returns the first message in 'msgs' that is not a meter mod, or 'msgs'
 * itself if there is none. */
static struct ovs_list *
first_non_meter_mod(struct ovs_list *msgs)
{
    struct ofpbuf *msg;
    LIST_FOR_EACH (msg, list_node, msgs) {
        if (!is_meter_mod(msg)) {
            return &msg->list_node;
        }
    }
    return msgs;
}

/* Sends 'msgs' in their order, then a barrier whose reply confirms desired
 * version 'seqno'.  The messages go in one atomic, ordered bundle, except
 * meter mods: ovs-vswitchd (3.1, ofputil_decode_bundle_add()) refuses them
 * inside a bundle with OFPBFC_MSG_UNSUP.  So the meter mods that come before
 * the first other message are sent as plain messages before the bundle and
 * the others as plain messages after it; installed_diff() puts meter adds
 * and modifies first and meter deletes last, so the order is kept. */
static void
send_msgs(struct ofctrl *oc, struct ovs_list *msgs, uint64_t seqno)
{
    enum ofp_version version = rconn_get_version(oc->rconn);
    struct ofputil_bundle_ctrl_msg ctrl = {
        .bundle_id = oc->next_bundle_id,
        .type = OFPBCT_OPEN_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    struct ovs_list after = OVS_LIST_INITIALIZER(&after);
    size_t n = 0;
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, msgs) {
        if (is_meter_mod(msg)) {
            if (n) {
                ovs_list_push_back(&after, &msg->list_node);
            } else {
                send_msg(oc, msg);
            }
            continue;
        }
        if (!n++) {
            oc->next_bundle_id++;
            send_msg(oc, ofputil_encode_bundle_ctrl_request(version, &ctrl));
        }
        struct ofputil_bundle_add_msg bam = {
            .bundle_id = ctrl.bundle_id,
            .flags = ctrl.flags,
            .msg = msg->data,
        };
        send_msg(oc, ofputil_encode_bundle_add(version, &bam));
        ofpbuf_delete(msg);
    }
    if (n) {
        ctrl.type = OFPBCT_COMMIT_REQUEST;
        send_msg(oc, ofputil_encode_bundle_ctrl_request(version, &ctrl));
        COVERAGE_INC(ofctrl_bundle);
        oc->n_bundles++;
        oc->last_bundle_msgs = n;
    }
    LIST_FOR_EACH_POP (msg, list_node, &after) {
        send_msg(oc, msg);
    }

    struct ofpbuf *barrier = ofputil_encode_barrier_request(version);
    struct pending_barrier *b = xmalloc(sizeof *b);
    b->xid = ((struct ofp_header *) barrier->data)->xid;
    b->seqno = seqno;
    b->sent = time_msec();
    ovs_list_push_back(&oc->barriers, &b->node);
    send_msg(oc, barrier);
}

void
ofctrl_run(struct ofctrl *oc, const struct flow_table *desired)
{
    rconn_run(oc->rconn);
    if (!ofctrl_is_connected(oc)) {
        return;
    }

    unsigned int conn_seqno = rconn_get_connection_seqno(oc->rconn);
    if (conn_seqno != oc->conn_seqno) {
        /* The switch may have restarted: what it holds is unknown. */
        COVERAGE_INC(ofctrl_reconnect);
        oc->conn_seqno = conn_seqno;
        oc->n_connections++;
        oc->need_full = true;
        oc->retry_at = 0;
        clear_barriers(oc);
        VLOG_INFO("connected to the switch (connection %"PRIu64")",
                  oc->n_connections);
    }

    receive(oc);

    bool delete_prev = (oc->synced && oc->prev_round
                        && !oc->prev_round_deleted);
    if (oc->need_full && time_msec() < oc->retry_at) {
        return;
    }
    if (!oc->need_full && !delete_prev
        && desired->seqno == oc->sent_seqno) {
        return;
    }

    enum ofp_version version = rconn_get_version(oc->rconn);
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    struct ovs_list head = OVS_LIST_INITIALIZER(&head);
    struct ofpbuf *delete_meters = NULL;
    if (oc->need_full) {
        installed_clear(&oc->installed);
        if (oc->synced) {
            /* The meter delete goes before the bundle (see send_msgs()),
             * which briefly drops the flows that use meters: the switch
             * deletes them with their meter.  The bundle puts them back. */
            delete_meters = installed_encode_delete_all_meters(version);
            struct ofpbuf *m = installed_encode_delete_all_flows(version);
            ovs_list_push_back(&head, &m->list_node);
            m = installed_encode_delete_all_groups(version);
            ovs_list_push_back(&head, &m->list_node);
            oc->installed.meters_unknown = false;
            delete_prev = oc->prev_round != 0;
        } else {
            /* Keep the previous run's flows; replace this run's own, which
             * an earlier connection may have left. */
            struct ofpbuf *m = installed_encode_delete_round(version,
                                                             oc->round);
            ovs_list_push_back(&head, &m->list_node);
            /* Meters stay too: the previous run's flows may use them. */
            oc->installed.meters_unknown = true;
        }
        oc->need_full = false;
    }

    installed_diff(&oc->installed, desired, oc->round, version, &msgs,
                   &oc->totals);
    /* The deletes of a full resync go after the meter adds, which cannot be
     * in the bundle, and first in it; the delete of all meters before the
     * adds. */
    struct ovs_list *pos = first_non_meter_mod(&msgs);
    if (!ovs_list_is_empty(&head)) {
        ovs_list_splice(pos, ovs_list_front(&head), &head);
    }
    if (delete_meters) {
        ovs_list_push_front(&msgs, &delete_meters->list_node);
    }
    if (delete_prev) {
        struct ofpbuf *m = installed_encode_delete_round(version,
                                                         oc->prev_round);
        ovs_list_push_back(&msgs, &m->list_node);
        oc->prev_round_deleted = true;
        VLOG_INFO("deleting the flows of round %"PRIu16, oc->prev_round);
    }
    send_msgs(oc, &msgs, desired->seqno);
    oc->sent_seqno = desired->seqno;
}

void
ofctrl_wait(struct ofctrl *oc, const struct flow_table *desired)
{
    rconn_run_wait(oc->rconn);
    rconn_recv_wait(oc->rconn);
    if (ofctrl_is_connected(oc)) {
        if (oc->need_full && oc->retry_at) {
            poll_timer_wait_until(oc->retry_at);
        } else if (oc->need_full || desired->seqno != oc->sent_seqno
                   || (oc->synced && oc->prev_round
                       && !oc->prev_round_deleted)) {
            poll_immediate_wake();
        }
    }
}

void
ofctrl_format_stats(const struct ofctrl *oc, struct ds *s)
{
    ds_put_format(s, "connected: %s\n",
                  ofctrl_is_connected(oc) ? "yes" : "no");
    ds_put_format(s, "connections: %"PRIu64"\n", oc->n_connections);
    ds_put_format(s, "round: %"PRIu16"\n", oc->round);
    if (oc->prev_round) {
        ds_put_format(s, "previous round: %"PRIu16" (%s)\n", oc->prev_round,
                      oc->prev_round_deleted ? "deleted" : "kept until sync");
    }
    ds_put_format(s, "synced: %s\n", oc->synced ? "yes" : "no");
    ds_put_format(s, "installed flows: %"PRIuSIZE"\n",
                  installed_count(&oc->installed));
    ds_put_format(s, "installed meters: %"PRIuSIZE"\n",
                  installed_count_meters(&oc->installed));
    ds_put_format(s, "bundles sent: %"PRIu64"\n", oc->n_bundles);
    ds_put_format(s, "messages sent: %"PRIu64"\n", oc->n_msgs);
    ds_put_format(s, "flows added: %"PRIu64"\n", oc->totals.flows_added);
    ds_put_format(s, "flows modified: %"PRIu64"\n",
                  oc->totals.flows_modified);
    ds_put_format(s, "flows deleted: %"PRIu64"\n", oc->totals.flows_deleted);
    ds_put_format(s, "groups added: %"PRIu64"\n", oc->totals.groups_added);
    ds_put_format(s, "groups modified: %"PRIu64"\n",
                  oc->totals.groups_modified);
    ds_put_format(s, "groups deleted: %"PRIu64"\n",
                  oc->totals.groups_deleted);
    ds_put_format(s, "meters added: %"PRIu64"\n", oc->totals.meters_added);
    ds_put_format(s, "meters modified: %"PRIu64"\n",
                  oc->totals.meters_modified);
    ds_put_format(s, "meters deleted: %"PRIu64"\n",
                  oc->totals.meters_deleted);
    ds_put_format(s, "last bundle messages: %"PRIuSIZE"\n",
                  oc->last_bundle_msgs);
    ds_put_format(s, "last sync duration: %lld ms\n", oc->last_sync_ms);
    ds_put_format(s, "max sync duration: %lld ms\n", oc->max_sync_ms);
    ds_put_format(s, "installed version: %"PRIu64"\n", oc->installed_seqno);
    ds_put_format(s, "errors: %"PRIu64"\n", oc->n_errors);
    if (oc->last_error) {
        ds_put_format(s, "last error: %s\n", oc->last_error);
    }
}
