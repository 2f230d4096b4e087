#include "ovs-config.h"
#include "flows/ofctrl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "coverage.h"
#include "flows/flow-table.h"
#include "flows/installed.h"
#include "flows/tables.h"
#include "lib/metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-packet.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-actions.h"
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
COVERAGE_DEFINE(ofctrl_set_aside);

/* Where the connection is. */
enum ofctrl_state {
    S_DISCONNECTED,
    S_DUMPING,                  /* Asked for the switch's groups, meters. */
    S_IDLE,                     /* Nothing in flight. */
    S_BUNDLE,                   /* A bundle waits for its barrier. */
};

struct delayed_flush {
    struct ovs_list node;        /* In ofctrl's 'delayed_flushes'. */
    struct ofpbuf *msg;
    long long int at;
};

/* The bundle in flight. */
struct bundle {
    struct installed_txn txn;    /* What it changes once applied. */
    ovs_be32 ctrl_xids[2];       /* Open and commit. */
    ovs_be32 barrier_xid;
    uint64_t seqno;              /* Desired table version it installs. */
    bool full;                   /* A full resynchronisation. */
    bool deletes_prev;           /* Deletes the previous round. */
    bool refused;                /* The switch did not commit it. */
    bool unexplained;            /* An error that names no owner. */
    size_t n_set_aside;          /* Owners its errors set aside. */
    long long int sent;          /* When, in ms. */
    long long int sent_us;       /* The same, in microseconds. */
};

struct ofctrl {
    struct rconn *rconn;
    unsigned int conn_seqno;     /* Connection the installed table is for. */
    enum ofctrl_state state;
    ovs_be32 dump_barrier_xid;
    bool need_full;              /* Send everything next. */
    long long int retry_at;      /* After an error: not before this. */
    int backoff;                 /* Current error backoff, in ms. */

    struct installed installed;
    struct bundle bundle;        /* Valid in S_BUNDLE. */
    uint16_t round;
    uint16_t prev_round;         /* 0: nothing to clean up. */
    bool synced;
    bool prev_round_deleted;

    uint64_t sent_seqno;         /* Desired version last sent. */
    uint64_t installed_seqno;    /* Desired version confirmed installed. */
    uint32_t next_bundle_id;

    ofctrl_packet_in_func *packet_in;
    void *packet_in_aux;

    /* A flow statistics request under way (ofctrl_request_flow_stats()):
     * 'stats_cb' nonnull, the flows of the replies so far. */
    ovs_be32 stats_xid;
    ofctrl_flow_stats_func *stats_cb;
    void *stats_aux;
    struct ofputil_flow_stats *stats;
    size_t n_stats, allocated_stats;

    /* Conntrack flushes: the xids of the last ones sent (their errors
     * change nothing), and those to send again (see send_flush()). */
    ovs_be32 flush_xids[64];
    size_t flush_xid_pos;
    struct ovs_list delayed_flushes;  /* Contains "struct delayed_flush"s. */

    /* Statistics for flows/sync-stats. */
    uint64_t n_packet_ins;
    uint64_t n_packet_outs;
    uint64_t n_ct_flushes;
    uint64_t n_connections;
    uint64_t n_bundles;
    uint64_t n_bundles_refused;
    uint64_t n_msgs;
    uint64_t n_errors;
    uint64_t n_set_aside;
    struct diff_stats totals;
    long long int last_sync_ms;
    long long int max_sync_ms;
    struct histogram sync_latency;   /* Bundle sent to its barrier. */
    size_t last_bundle_msgs;
    char *last_error;
};

static const char *
state_name(enum ofctrl_state state)
{
    switch (state) {
    case S_DISCONNECTED: return "disconnected";
    case S_DUMPING: return "reading the switch's groups and meters";
    case S_IDLE: return "idle";
    case S_BUNDLE: return "bundle in flight";
    }
    return "?";
}

struct ofctrl *
ofctrl_create(const char *target, uint16_t round, uint16_t prev_round)
{
    struct ofctrl *oc = xzalloc(sizeof *oc);

    oc->rconn = rconn_create(5, 8, 0, 1u << OFP15_VERSION);
    rconn_connect(oc->rconn, target, target);
    oc->state = S_DISCONNECTED;
    oc->need_full = true;
    oc->round = round;
    oc->prev_round = prev_round;
    installed_init(&oc->installed);
    installed_txn_init(&oc->bundle.txn);
    ovs_list_init(&oc->delayed_flushes);
    oc->next_bundle_id = 1;
    return oc;
}

void
ofctrl_destroy(struct ofctrl *oc)
{
    if (oc) {
        rconn_destroy(oc->rconn);
        installed_destroy(&oc->installed);
        installed_txn_destroy(&oc->bundle.txn);
        struct delayed_flush *df;
        LIST_FOR_EACH_POP (df, node, &oc->delayed_flushes) {
            ofpbuf_delete(df->msg);
            free(df);
        }
        free(oc->last_error);
        free(oc->stats);
        free(oc);
    }
}

static ovs_be32 send_msg(struct ofctrl *, struct ofpbuf *);
static void finish_flow_stats(struct ofctrl *, const char *error);

void
ofctrl_set_packet_in_handler(struct ofctrl *oc, ofctrl_packet_in_func *cb,
                             void *aux)
{
    oc->packet_in = cb;
    oc->packet_in_aux = aux;
}

/* Sends 'len' bytes of 'packet' out of 'out_port', as if from the
 * controller. */
void
ofctrl_packet_out(struct ofctrl *oc, const void *packet, size_t len,
                  ofp_port_t out_port)
{
    if (!ofctrl_is_connected(oc)) {
        return;
    }
    uint64_t stub[64 / 8];
    struct ofpbuf ofpacts;
    ofpbuf_use_stub(&ofpacts, stub, sizeof stub);
    ofpact_put_OUTPUT(&ofpacts)->port = out_port;

    struct ofputil_packet_out po = {
        .packet = packet,
        .packet_len = len,
        .buffer_id = UINT32_MAX,
        .ofpacts = ofpacts.data,
        .ofpacts_len = ofpacts.size,
    };
    match_init_catchall(&po.flow_metadata);
    match_set_in_port(&po.flow_metadata, OFPP_CONTROLLER);
    enum ofputil_protocol protocol = ofputil_protocol_from_ofp_version(
        rconn_get_version(oc->rconn));
    send_msg(oc, ofputil_encode_packet_out(&po, protocol));
    ofpbuf_uninit(&ofpacts);
    oc->n_packet_outs++;
}

static void
handle_packet_in(struct ofctrl *oc, const struct ofp_header *oh)
{
    struct ofputil_packet_in pin;
    enum ofperr error = ofputil_decode_packet_in(oh, true, NULL, NULL, &pin,
                                                 NULL, NULL, NULL);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
        VLOG_WARN_RL(&rl, "bad packet-in: %s", ofperr_get_name(error));
        return;
    }
    oc->n_packet_ins++;
    if (oc->packet_in) {
        oc->packet_in(&pin, oc->packet_in_aux);
    }
    /* 'pin' points into 'oh': nothing to free. */
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

static ovs_be32
send_msg(struct ofctrl *oc, struct ofpbuf *msg)
{
    ovs_be32 xid = ((const struct ofp_header *) msg->data)->xid;
    rconn_send(oc->rconn, msg, NULL);
    oc->n_msgs++;
    return xid;
}

static void
schedule_full_retry(struct ofctrl *oc)
{
    oc->need_full = true;
    oc->backoff = oc->backoff ? MIN(oc->backoff * 2, 30000) : 1000;
    oc->retry_at = time_msec() + oc->backoff;
}

/* A new connection: the switch's contents are unknown.  Asks which groups
 * and meters it holds, so that the full resynchronisation that follows
 * modifies the ones that exist and, once synced, deletes the ones nobody
 * wants (an earlier run's). */
static void
start_connection(struct ofctrl *oc)
{
    enum ofp_version version = rconn_get_version(oc->rconn);

    COVERAGE_INC(ofctrl_reconnect);
    finish_flow_stats(oc, "the connection to the switch was lost");
    oc->n_connections++;
    installed_txn_destroy(&oc->bundle.txn);
    installed_clear(&oc->installed);
    oc->need_full = true;
    oc->retry_at = 0;
    /* A connection through the management socket gets packet-ins only
     * once it sets a miss_send_len.  With fragments "nx-match" the first
     * fragment of a datagram shows its ports ("normal" zeroes them in
     * every fragment): NetworkPolicy judges a fragmented datagram by its
     * first fragment (docs/pipeline.md, "Fragments"). */
    struct ofputil_switch_config config = {
        .frag = OFPUTIL_FRAG_NX_MATCH,
        .invalid_ttl_to_controller = -1,
        .miss_send_len = UINT16_MAX,
    };
    send_msg(oc, ofputil_encode_set_config(&config, version));
    /* Group stats, not descriptions: a group of many buckets (a large
     * Service) does not fit in one description reply, but its statistics,
     * 16 bytes a bucket, do. */
    send_msg(oc, ofputil_encode_group_stats_request(version, OFPG_ALL));
    send_msg(oc, ofputil_encode_meter_request(version, OFPUTIL_METER_CONFIG,
                                              OFPM13_ALL));
    oc->dump_barrier_xid = send_msg(oc,
                                    ofputil_encode_barrier_request(version));
    oc->state = S_DUMPING;
    VLOG_INFO("connected to the switch (connection %"PRIu64")",
              oc->n_connections);
}

static void
note_groups(struct ofctrl *oc, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    for (;;) {
        struct ofputil_group_stats gs;
        if (ofputil_decode_group_stats_reply(&b, &gs)) {
            break;
        }
        installed_note_group(&oc->installed, gs.group_id);
        free(gs.bucket_stats);
    }
}

bool
ofctrl_request_flow_stats(struct ofctrl *oc, uint8_t category,
                          ofctrl_flow_stats_func *cb, void *aux)
{
    if (oc->stats_cb || !ofctrl_is_connected(oc)) {
        return false;
    }
    struct ofputil_flow_stats_request fsr = {
        .aggregate = false,
        .table_id = OFPTT_ALL,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .cookie = htonll((uint64_t) category << COOKIE_CATEGORY_SHIFT),
        .cookie_mask = htonll(UINT64_C(0xff) << COOKIE_CATEGORY_SHIFT),
    };
    match_init_catchall(&fsr.match);
    enum ofputil_protocol protocol = ofputil_protocol_from_ofp_version(
        rconn_get_version(oc->rconn));
    oc->stats_xid = send_msg(oc, ofputil_encode_flow_stats_request(
                                     &fsr, protocol));
    oc->stats_cb = cb;
    oc->stats_aux = aux;
    oc->n_stats = 0;
    return true;
}

/* Ends the flow statistics request under way, if any. */
static void
finish_flow_stats(struct ofctrl *oc, const char *error)
{
    ofctrl_flow_stats_func *cb = oc->stats_cb;
    if (cb) {
        oc->stats_cb = NULL;
        cb(oc->stats, error ? 0 : oc->n_stats, error, oc->stats_aux);
    }
    oc->n_stats = 0;
}

static void
note_flow_stats(struct ofctrl *oc, const struct ofp_header *oh)
{
    if (!oc->stats_cb || oh->xid != oc->stats_xid) {
        return;
    }
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 0);
    for (;;) {
        struct ofputil_flow_stats fs;
        if (ofputil_decode_flow_stats_reply(&fs, &b, false, &ofpacts)) {
            break;
        }
        if (oc->n_stats >= oc->allocated_stats) {
            oc->stats = x2nrealloc(oc->stats, &oc->allocated_stats,
                                   sizeof *oc->stats);
        }
        fs.ofpacts = NULL;
        fs.ofpacts_len = 0;
        oc->stats[oc->n_stats++] = fs;
    }
    ofpbuf_uninit(&ofpacts);
    if (!ofpmp_more(oh)) {
        finish_flow_stats(oc, NULL);
    }
}

static void
note_meters(struct ofctrl *oc, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    struct ofpbuf bands;
    ofpbuf_init(&bands, 64);
    for (;;) {
        struct ofputil_meter_config mc;
        if (ofputil_decode_meter_config(&b, &mc, &bands)) {
            break;
        }
        installed_note_meter(&oc->installed, mc.meter_id);
    }
    ofpbuf_uninit(&bands);
}

/* Describes the message an error reply echoes: for a message added to a
 * bundle, the message inside it, without its header line. */
static char *
describe_offending(const struct ofpbuf *payload)
{
    if (!payload->size) {
        return xstrdup("(not included)");
    }
    const struct ofp_header *oh = payload->data;
    struct ofputil_bundle_add_msg bam;
    enum ofptype type;
    if (!ofptype_decode(&type, oh) && type == OFPTYPE_BUNDLE_ADD_MESSAGE
        && !ofputil_decode_bundle_add(oh, &bam, NULL)) {
        oh = bam.msg;
    }
    char *s = ofp_to_string(oh, ntohs(oh->length), NULL, tables_get_map(),
                            1);
    char *body = strstr(s, "): ");
    char *text = xstrdup(body ? body + 3 : s);
    free(s);
    text[strcspn(text, "\n")] = '\0';
    return text;
}

/* Handles an error reply.  The switch echoes the message it refused; its
 * xid says which message of the bundle in flight it was, and so whose. */
static void
handle_error(struct ofctrl *oc, struct flow_table *ft,
             const struct ofp_header *oh)
{
    struct ofpbuf payload;
    enum ofperr error = ofperr_decode_msg(oh, &payload);
    char *offending = describe_offending(&payload);
    ofpbuf_uninit(&payload);    /* ofperr_decode_msg() copied it. */

    COVERAGE_INC(ofctrl_error);
    oc->n_errors++;
    free(oc->last_error);
    oc->last_error = xasprintf("%s: %s", ofperr_get_name(error), offending);

    struct bundle *b = &oc->bundle;
    uint32_t object_id;
    for (size_t i = 0; i < ARRAY_SIZE(oc->flush_xids); i++) {
        if (oh->xid == oc->flush_xids[i]) {
            /* A conntrack flush: nothing in the flow table depends on it. */
            VLOG_WARN("conntrack flush failed: %s", ofperr_get_name(error));
            free(offending);
            return;
        }
    }
    if (oc->state == S_BUNDLE
        && (oh->xid == b->ctrl_xids[0] || oh->xid == b->ctrl_xids[1])) {
        /* The commit failed: OFPBFC_MSG_FAILED after the message's own
         * error.  Nothing in the bundle was applied. */
        b->refused = true;
        VLOG_DBG("bundle refused: %s", ofperr_get_name(error));
    } else if (oc->state == S_BUNDLE
               && installed_txn_fail(&b->txn, oh->xid, &object_id)) {
        struct ds names = DS_EMPTY_INITIALIZER;
        char *why = xasprintf("the switch refused \"%s\": %s", offending,
                              ofperr_get_name(error));
        if (object_id) {
            flow_table_set_aside(ft, object_id, why, &names);
        }
        if (names.length) {
            COVERAGE_INC(ofctrl_set_aside);
            b->n_set_aside++;
            oc->n_set_aside++;
            VLOG_WARN("setting aside %s: %s", ds_cstr(&names), why);
        } else {
            b->unexplained = true;
            VLOG_WARN("OpenFlow error %s for: %s", ofperr_get_name(error),
                      offending);
        }
        free(why);
        ds_destroy(&names);
    } else {
        /* An error for a dump request (a switch without meters) leaves
         * that table unknown, which only costs an add that fails later. */
        if (oc->state == S_BUNDLE) {
            b->unexplained = true;
        } else if (oc->state != S_DUMPING) {
            schedule_full_retry(oc);
        }
        VLOG_WARN("OpenFlow error %s for: %s", ofperr_get_name(error),
                  offending);
    }
    free(offending);
}

/* The barrier after a bundle: everything the switch did with it is known. */
static void
finish_bundle(struct ofctrl *oc, struct flow_table *ft)
{
    struct bundle *b = &oc->bundle;

    oc->state = S_IDLE;
    oc->last_sync_ms = time_msec() - b->sent;
    oc->max_sync_ms = MAX(oc->max_sync_ms, oc->last_sync_ms);
    histogram_observe(&oc->sync_latency, (time_usec() - b->sent_us) / 1e6);
    if (b->refused) {
        /* Nothing changed in the switch: what the bundle would have changed
         * is still to do. */
        oc->n_bundles_refused++;
        if (b->full) {
            oc->need_full = true;
        } else {
            installed_txn_mark(&b->txn, ft);
        }
        installed_txn_destroy(&b->txn);
        if (b->deletes_prev) {
            oc->prev_round_deleted = false;
        }
    } else {
        /* Messages refused when added to the bundle were left out of it;
         * the rest is in place. */
        installed_commit(&oc->installed, &b->txn);
        oc->installed_seqno = MAX(oc->installed_seqno, b->seqno);
    }

    if (b->unexplained) {
        /* Nobody to set aside: try everything again, later. */
        schedule_full_retry(oc);
    } else if (!b->n_set_aside) {
        oc->backoff = 0;
    }
}

static void
receive(struct ofctrl *oc, struct flow_table *ft)
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
                handle_error(oc, ft, oh);
                break;
            case OFPTYPE_PACKET_IN:
                handle_packet_in(oc, oh);
                break;
            case OFPTYPE_GROUP_STATS_REPLY:
                note_groups(oc, oh);
                break;
            case OFPTYPE_METER_CONFIG_STATS_REPLY:
                note_meters(oc, oh);
                break;
            case OFPTYPE_FLOW_STATS_REPLY:
                note_flow_stats(oc, oh);
                break;
            case OFPTYPE_BARRIER_REPLY:
                if (oc->state == S_DUMPING
                    && oh->xid == oc->dump_barrier_xid) {
                    oc->state = S_IDLE;
                } else if (oc->state == S_BUNDLE
                           && oh->xid == oc->bundle.barrier_xid) {
                    finish_bundle(oc, ft);
                }
                break;
            default:
                /* Bundle replies, port status: nothing to do. */
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

/* Sends 'msgs' in their order, then a barrier.  The messages go in one
 * atomic, ordered bundle, except meter mods: ovs-vswitchd (3.1,
 * ofputil_decode_bundle_add()) refuses them inside a bundle with
 * OFPBFC_MSG_UNSUP.  So the meter mods that come before the first other
 * message are sent as plain messages before the bundle and the others as
 * plain messages after it; installed_diff() puts meter adds and modifies
 * first and meter deletes last, so the order is kept. */
/* Sends conntrack flush 'msg' (taken).  The datapath may still hold flow
 * cache entries made from the flows the bundle just replaced, for as long
 * as its revalidators take, and a packet through one would commit a new
 * conntrack entry the old way; so with 'again' the same flush goes once
 * more FLUSH_AGAIN_MS later. */
#define FLUSH_AGAIN_MS 1000
static void
send_flush(struct ofctrl *oc, struct ofpbuf *msg, bool again)
{
    if (again) {
        struct delayed_flush *df = xmalloc(sizeof *df);
        df->msg = ofpbuf_clone(msg);
        df->at = time_msec() + FLUSH_AGAIN_MS;
        ovs_list_push_back(&oc->delayed_flushes, &df->node);
    }
    oc->flush_xids[oc->flush_xid_pos++ % ARRAY_SIZE(oc->flush_xids)]
        = send_msg(oc, msg);
}

static void
run_delayed_flushes(struct ofctrl *oc)
{
    struct delayed_flush *df;
    LIST_FOR_EACH_SAFE (df, node, &oc->delayed_flushes) {
        if (time_msec() < df->at) {
            break;
        }
        ovs_list_remove(&df->node);
        send_flush(oc, df->msg, false);
        free(df);
    }
}

static void
send_msgs(struct ofctrl *oc, struct ovs_list *msgs, struct ovs_list *flushes)
{
    enum ofp_version version = rconn_get_version(oc->rconn);
    struct ofputil_bundle_ctrl_msg ctrl = {
        .bundle_id = oc->next_bundle_id,
        .type = OFPBCT_OPEN_REQUEST,
        .flags = OFPBF_ATOMIC | OFPBF_ORDERED,
    };
    struct ovs_list after = OVS_LIST_INITIALIZER(&after);
    struct bundle *b = &oc->bundle;
    size_t n = 0;
    struct ofpbuf *msg;

    b->ctrl_xids[0] = b->ctrl_xids[1] = 0;
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
            b->ctrl_xids[0] = send_msg(
                oc, ofputil_encode_bundle_ctrl_request(version, &ctrl));
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
        b->ctrl_xids[1] = send_msg(
            oc, ofputil_encode_bundle_ctrl_request(version, &ctrl));
        COVERAGE_INC(ofctrl_bundle);
        oc->n_bundles++;
        oc->last_bundle_msgs = n;
    }
    LIST_FOR_EACH_POP (msg, list_node, &after) {
        send_msg(oc, msg);
    }
    /* Conntrack flushes last: after the flows that no longer lead to what
     * they remove. */
    LIST_FOR_EACH_POP (msg, list_node, flushes) {
        send_flush(oc, msg, true);
    }
    b->barrier_xid = send_msg(oc, ofputil_encode_barrier_request(version));
    oc->state = S_BUNDLE;
}

static bool
has_dirty(const struct flow_table *ft)
{
    return (!ovs_list_is_empty(&ft->dirty_flows)
            || !ovs_list_is_empty(&ft->groups.dirty)
            || !ovs_list_is_empty(&ft->meters.dirty));
}

static bool
delete_prev_pending(const struct ofctrl *oc)
{
    return oc->synced && oc->prev_round && !oc->prev_round_deleted;
}

/* True if there is something to send now. */
static bool
want_send(const struct ofctrl *oc, const struct flow_table *ft)
{
    if (oc->state != S_IDLE) {
        return false;
    }
    if (oc->need_full) {
        return time_msec() >= oc->retry_at;
    }
    return (delete_prev_pending(oc) || has_dirty(ft)
            || ft->seqno != oc->sent_seqno);
}

/* Computes and sends the next bundle. */
static void
sync_flows(struct ofctrl *oc, struct flow_table *ft)
{
    enum ofp_version version = rconn_get_version(oc->rconn);
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    struct ovs_list head = OVS_LIST_INITIALIZER(&head);
    struct bundle *b = &oc->bundle;
    bool full = oc->need_full;
    bool delete_prev = delete_prev_pending(oc) || (full && oc->synced
                                                    && oc->prev_round);

    if (full) {
        /* Once synced, start from an empty table; before that, keep the
         * previous run's flows and replace this run's own, which an
         * earlier connection may have left. */
        installed_clear_flows(&oc->installed);
        struct ofpbuf *m = (oc->synced
                            ? installed_encode_delete_all_flows(version)
                            : installed_encode_delete_round(version,
                                                            oc->round));
        ovs_list_push_back(&head, &m->list_node);
        oc->need_full = false;
    }

    installed_txn_init(&b->txn);
    installed_diff(&oc->installed, ft, full ? DIFF_FULL : DIFF_DIRTY,
                   oc->synced && (full || delete_prev), oc->round, version,
                   &msgs, &b->txn, &oc->totals);
    /* The deletes of a full resync go first in the bundle, after the meter
     * mods, which cannot be in it. */
    if (!ovs_list_is_empty(&head)) {
        ovs_list_splice(first_non_meter_mod(&msgs), ovs_list_front(&head),
                        &head);
    }
    if (delete_prev) {
        struct ofpbuf *m = installed_encode_delete_round(version,
                                                         oc->prev_round);
        /* After the group deletes, before the meter deletes. */
        struct ovs_list *pos = &msgs;
        struct ofpbuf *last;
        LIST_FOR_EACH_REVERSE (last, list_node, &msgs) {
            if (!is_meter_mod(last)) {
                break;
            }
            pos = &last->list_node;
        }
        ovs_list_insert(pos, &m->list_node);
        oc->prev_round_deleted = true;
        VLOG_INFO("deleting the flows, groups and meters of round %"PRIu16,
                  oc->prev_round);
    }

    b->seqno = ft->seqno;
    b->full = full;
    b->deletes_prev = delete_prev;
    b->refused = b->unexplained = false;
    b->n_set_aside = 0;
    b->sent = time_msec();
    b->sent_us = time_usec();
    struct ovs_list flushes = OVS_LIST_INITIALIZER(&flushes);
    struct ct_flush_req *req;
    LIST_FOR_EACH_POP (req, node, &ft->ct_flushes) {
        struct ofpbuf *m = ofp_ct_match_encode(&req->match, &req->zone,
                                               version);
        ovs_list_push_back(&flushes, &m->list_node);
        oc->n_ct_flushes++;
        free(req);
    }
    send_msgs(oc, &msgs, &flushes);
    oc->sent_seqno = ft->seqno;
}

void
ofctrl_run(struct ofctrl *oc, struct flow_table *ft)
{
    rconn_run(oc->rconn);
    if (!ofctrl_is_connected(oc)) {
        oc->state = S_DISCONNECTED;
        finish_flow_stats(oc, "the connection to the switch was lost");
        return;
    }

    unsigned int conn_seqno = rconn_get_connection_seqno(oc->rconn);
    if (conn_seqno != oc->conn_seqno || oc->state == S_DISCONNECTED) {
        oc->conn_seqno = conn_seqno;
        start_connection(oc);
    }

    receive(oc, ft);
    run_delayed_flushes(oc);
    if (want_send(oc, ft)) {
        sync_flows(oc, ft);
    }
}

void
ofctrl_wait(struct ofctrl *oc, const struct flow_table *ft)
{
    rconn_run_wait(oc->rconn);
    rconn_recv_wait(oc->rconn);
    if (!ovs_list_is_empty(&oc->delayed_flushes)) {
        const struct delayed_flush *df = CONTAINER_OF(
            ovs_list_front(&oc->delayed_flushes), struct delayed_flush, node);
        poll_timer_wait_until(df->at);
    }
    if (ofctrl_is_connected(oc) && oc->state == S_IDLE) {
        if (oc->need_full && oc->retry_at > time_msec()) {
            poll_timer_wait_until(oc->retry_at);
        } else if (want_send(oc, ft)) {
            poll_immediate_wake();
        }
    }
}

void
ofctrl_format_stats(const struct ofctrl *oc, struct ds *s)
{
    ds_put_format(s, "connected: %s\n",
                  ofctrl_is_connected(oc) ? "yes" : "no");
    ds_put_format(s, "state: %s\n", state_name(oc->state));
    ds_put_format(s, "connections: %"PRIu64"\n", oc->n_connections);
    ds_put_format(s, "round: %"PRIu16"\n", oc->round);
    if (oc->prev_round) {
        ds_put_format(s, "previous round: %"PRIu16" (%s)\n", oc->prev_round,
                      oc->prev_round_deleted ? "deleted" : "kept until sync");
    }
    ds_put_format(s, "synced: %s\n", oc->synced ? "yes" : "no");
    ds_put_format(s, "installed flows: %"PRIuSIZE"\n",
                  installed_count(&oc->installed));
    ds_put_format(s, "installed groups: %"PRIuSIZE"\n",
                  installed_count_groups(&oc->installed));
    ds_put_format(s, "installed meters: %"PRIuSIZE"\n",
                  installed_count_meters(&oc->installed));
    ds_put_format(s, "bundles sent: %"PRIu64"\n", oc->n_bundles);
    ds_put_format(s, "bundles refused: %"PRIu64"\n", oc->n_bundles_refused);
    ds_put_format(s, "messages sent: %"PRIu64"\n", oc->n_msgs);
    const struct diff_stats *t = &oc->totals;
    ds_put_format(s, "flows added: %"PRIu64"\n", t->flows_added);
    ds_put_format(s, "flows modified: %"PRIu64"\n", t->flows_modified);
    ds_put_format(s, "flows deleted: %"PRIu64"\n", t->flows_deleted);
    ds_put_format(s, "groups added: %"PRIu64"\n", t->groups_added);
    ds_put_format(s, "groups modified: %"PRIu64"\n", t->groups_modified);
    ds_put_format(s, "groups deleted: %"PRIu64"\n", t->groups_deleted);
    ds_put_format(s, "meters added: %"PRIu64"\n", t->meters_added);
    ds_put_format(s, "meters modified: %"PRIu64"\n", t->meters_modified);
    ds_put_format(s, "meters deleted: %"PRIu64"\n", t->meters_deleted);
    ds_put_format(s, "last bundle messages: %"PRIuSIZE"\n",
                  oc->last_bundle_msgs);
    ds_put_format(s, "last sync duration: %lld ms\n", oc->last_sync_ms);
    ds_put_format(s, "max sync duration: %lld ms\n", oc->max_sync_ms);
    ds_put_format(s, "installed version: %"PRIu64"\n", oc->installed_seqno);
    ds_put_format(s, "packet-ins: %"PRIu64"\n", oc->n_packet_ins);
    ds_put_format(s, "packet-outs: %"PRIu64"\n", oc->n_packet_outs);
    ds_put_format(s, "conntrack flushes: %"PRIu64"\n", oc->n_ct_flushes);
    ds_put_format(s, "errors: %"PRIu64"\n", oc->n_errors);
    ds_put_format(s, "owners set aside by errors: %"PRIu64"\n",
                  oc->n_set_aside);
    if (oc->last_error) {
        ds_put_format(s, "last error: %s\n", oc->last_error);
    }
}

void
ofctrl_format_metrics(const struct ofctrl *oc, struct ds *s)
{
    metrics_put_scalar(s, "tendril_agent_openflow_connected", METRIC_GAUGE,
                       "1 while the OpenFlow connection to the bridge is up",
                       ofctrl_is_connected(oc));
    metrics_put_scalar(s, "tendril_agent_openflow_connections_total",
                       METRIC_COUNTER, "OpenFlow connections made",
                       oc->n_connections);
    metrics_put_scalar(s, "tendril_agent_flows_synced", METRIC_GAUGE,
                       "1 once the first full sync is confirmed",
                       oc->synced);

    size_t counts[256];
    installed_count_by_table(&oc->installed, counts);
    metrics_put_family(s, "tendril_agent_flows", METRIC_GAUGE,
                       "Flows installed in the switch, by table");
    struct ds labels = DS_EMPTY_INITIALIZER;
    for (size_t t = 0; t < 256; t++) {
        if (!counts[t] && t >= N_TABLES) {
            continue;
        }
        ds_clear(&labels);
        ds_put_cstr(&labels, "table=\"");
        metrics_label_escape(&labels, t < N_TABLES ? table_name(t) : "");
        if (t >= N_TABLES) {
            ds_put_format(&labels, "%"PRIuSIZE, t);
        }
        ds_put_char(&labels, '"');
        metrics_put_sample(s, "tendril_agent_flows", ds_cstr(&labels),
                           counts[t]);
    }
    ds_destroy(&labels);
    metrics_put_scalar(s, "tendril_agent_groups", METRIC_GAUGE,
                       "Groups installed in the switch",
                       installed_count_groups(&oc->installed));
    metrics_put_scalar(s, "tendril_agent_meters", METRIC_GAUGE,
                       "Meters installed in the switch",
                       installed_count_meters(&oc->installed));

    const struct diff_stats *t = &oc->totals;
    metrics_put_family(s, "tendril_agent_flow_changes_total", METRIC_COUNTER,
                       "Flows, groups and meters added, modified and "
                       "deleted in the switch");
    const struct {
        const char *labels;
        uint64_t n;
    } changes[] = {
        { "object=\"flow\",op=\"add\"", t->flows_added },
        { "object=\"flow\",op=\"modify\"", t->flows_modified },
        { "object=\"flow\",op=\"delete\"", t->flows_deleted },
        { "object=\"group\",op=\"add\"", t->groups_added },
        { "object=\"group\",op=\"modify\"", t->groups_modified },
        { "object=\"group\",op=\"delete\"", t->groups_deleted },
        { "object=\"meter\",op=\"add\"", t->meters_added },
        { "object=\"meter\",op=\"modify\"", t->meters_modified },
        { "object=\"meter\",op=\"delete\"", t->meters_deleted },
    };
    for (size_t i = 0; i < ARRAY_SIZE(changes); i++) {
        metrics_put_sample(s, "tendril_agent_flow_changes_total",
                           changes[i].labels, changes[i].n);
    }
    metrics_put_scalar(s, "tendril_agent_flow_bundles_total", METRIC_COUNTER,
                       "OpenFlow bundles sent",
                       oc->n_bundles);
    metrics_put_scalar(s, "tendril_agent_flow_bundles_refused_total",
                       METRIC_COUNTER,
                       "Bundles the switch did not commit",
                       oc->n_bundles_refused);
    metrics_put_scalar(s, "tendril_agent_openflow_errors_total",
                       METRIC_COUNTER, "OpenFlow errors from the switch",
                       oc->n_errors);
    metrics_put_family(s, "tendril_agent_flow_sync_duration_seconds",
                       METRIC_HISTOGRAM,
                       "From sending a bundle of changes to the switch's "
                       "barrier reply after it");
    metrics_put_histogram(s, "tendril_agent_flow_sync_duration_seconds",
                          NULL, &oc->sync_latency);
    metrics_put_scalar(s, "tendril_agent_packet_ins_total", METRIC_COUNTER,
                       "Packets the switch sent to the agent",
                       oc->n_packet_ins);
    metrics_put_scalar(s, "tendril_agent_conntrack_flushes_total",
                       METRIC_COUNTER, "Conntrack flushes sent",
                       oc->n_ct_flushes);
}
