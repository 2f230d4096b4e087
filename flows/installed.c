#include "ovs-config.h"
#include "flows/installed.h"

#include <stdlib.h>
#include <string.h>

#include "byte-order.h"
#include "flows/cookie.h"
#include "flows/flow-table.h"
#include "flows/tables.h"
#include "hash.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(installed);

struct installed_flow {
    struct hmap_node node;
    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;
    struct ofpact *ofpacts;
    size_t ofpacts_len;
    uint64_t cookie;
};

/* A group or a meter. */
struct installed_obj {
    struct hmap_node node;
    uint32_t id;
    bool known;                  /* False: found in the switch, unknown. */
    uint64_t spec_hash;          /* spec_hash() of its description: a
                                  * hash, not a copy, since a Service's
                                  * group description runs to kilobytes. */
};

enum op_kind { OP_FLOW, OP_GROUP, OP_METER };

/* One message's change to the installed table. */
struct installed_op {
    struct ovs_list node;        /* In installed_txn's 'ops'. */
    ovs_be32 xid;                /* The message's. */
    uint32_t object_id;          /* Its owner's cookie id; 0 if unknown. */
    enum op_kind kind;
    bool del;
    bool failed;
    struct installed_flow *flow; /* OP_FLOW: the new state, or for a
                                  * delete the key. */
    uint32_t id;                 /* OP_GROUP, OP_METER. */
    uint64_t spec_hash;          /* OP_GROUP, OP_METER, not a delete. */
};

/* A 64-bit hash of group or meter 'd''s description. */
static uint64_t
spec_hash(const struct desired_obj *d)
{
    return (((uint64_t) hash_string(d->spec, d->copies) << 32)
            | hash_string(d->spec, d->copies + 1));
}

void
installed_init(struct installed *in)
{
    hmap_init(&in->flows);
    hmap_init(&in->groups);
    hmap_init(&in->meters);
}

static void
installed_flow_destroy(struct installed_flow *f)
{
    if (f) {
        minimatch_destroy(&f->match);
        free(f->ofpacts);
        free(f);
    }
}

void
installed_clear_flows(struct installed *in)
{
    struct installed_flow *f;
    HMAP_FOR_EACH_POP (f, node, &in->flows) {
        installed_flow_destroy(f);
    }
}

static void
objs_clear(struct hmap *objs)
{
    struct installed_obj *o;
    HMAP_FOR_EACH_POP (o, node, objs) {
        free(o);
    }
}

void
installed_clear(struct installed *in)
{
    installed_clear_flows(in);
    objs_clear(&in->groups);
    objs_clear(&in->meters);
}

void
installed_destroy(struct installed *in)
{
    installed_clear(in);
    hmap_destroy(&in->flows);
    hmap_destroy(&in->groups);
    hmap_destroy(&in->meters);
}

size_t
installed_count(const struct installed *in)
{
    return hmap_count(&in->flows);
}

size_t
installed_count_groups(const struct installed *in)
{
    return hmap_count(&in->groups);
}

void
installed_count_by_table(const struct installed *inst, size_t counts[256])
{
    memset(counts, 0, 256 * sizeof *counts);
    const struct installed_flow *f;
    HMAP_FOR_EACH (f, node, &inst->flows) {
        counts[f->table_id]++;
    }
}

size_t
installed_count_meters(const struct installed *in)
{
    return hmap_count(&in->meters);
}

static struct installed_flow *
installed_find(const struct installed *in, uint8_t table_id,
               uint16_t priority, const struct minimatch *match,
               uint32_t hash)
{
    struct installed_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, hash, &in->flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            return f;
        }
    }
    return NULL;
}

static struct installed_obj *
obj_find(const struct hmap *objs, uint32_t id)
{
    struct installed_obj *o;
    HMAP_FOR_EACH_WITH_HASH (o, node, hash_int(id, 0), objs) {
        if (o->id == id) {
            return o;
        }
    }
    return NULL;
}

/* Sets 'id' in 'objs' to the description with 'hash' ('known' false:
 * unknown). */
static void
obj_set(struct hmap *objs, uint32_t id, bool known, uint64_t hash)
{
    struct installed_obj *o = obj_find(objs, id);
    if (!o) {
        o = xzalloc(sizeof *o);
        o->id = id;
        hmap_insert(objs, &o->node, hash_int(id, 0));
    }
    o->known = known;
    o->spec_hash = hash;
}

static void
obj_delete(struct hmap *objs, uint32_t id)
{
    struct installed_obj *o = obj_find(objs, id);
    if (o) {
        hmap_remove(objs, &o->node);
        free(o);
    }
}

void
installed_note_group(struct installed *in, uint32_t group_id)
{
    obj_set(&in->groups, group_id, false, 0);
}

void
installed_note_meter(struct installed *in, uint32_t meter_id)
{
    obj_set(&in->meters, meter_id, false, 0);
}

static struct ofpbuf *
encode_flow_mod(enum ofp_version version, int command, uint8_t table_id,
                uint16_t priority, const struct minimatch *match,
                const struct ofpact *ofpacts, size_t ofpacts_len,
                uint64_t cookie)
{
    struct ofputil_flow_mod fm = {
        .match = *match,
        .priority = priority,
        .table_id = table_id,
        .command = command,
        .new_cookie = (command == OFPFC_ADD
                       ? htonll(cookie) : OVS_BE64_MAX),
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
        .ofpacts = CONST_CAST(struct ofpact *, ofpacts),
        .ofpacts_len = ofpacts_len,
    };
    return ofputil_encode_flow_mod(
        &fm, ofputil_protocol_from_ofp_version(version));
}

/* How many buckets go in one group mod: an OpenFlow message holds 64 kB,
 * and a Service's bucket takes about 80 bytes. */
#define BUCKETS_PER_MSG 256

/* Moves up to 'n' buckets from the front of 'from' to 'to'. */
static void
move_buckets(struct ovs_list *to, struct ovs_list *from, size_t n)
{
    for (size_t i = 0; i < n && !ovs_list_is_empty(from); i++) {
        ovs_list_push_back(to, ovs_list_pop_front(from));
    }
}

/* Encodes group mod 'command' for 'group_id' with description 'spec' (NULL
 * for a delete).  A group with more buckets than one message holds gets
 * its first BUCKETS_PER_MSG in the returned message and the rest in
 * insert-bucket messages appended to 'more' (which must then be non-null),
 * to be sent right after it in the same bundle. */
static struct ofpbuf *
encode_group_mod(enum ofp_version version, int command, uint32_t group_id,
                 const char *spec, unsigned int copies, struct ovs_list *more)
{
    struct ofputil_group_mod gm;
    struct ofpbuf *msg;

    if (spec) {
        char *text = xasprintf("group_id=%"PRIu32",%s", group_id, spec);
        enum ofputil_protocol usable;
        char *error = parse_ofp_group_mod_str(&gm, command, text, NULL,
                                              tables_get_map(), &usable);
        /* flow_table_add_group() checked the text already. */
        ovs_assert(!error);
        free(text);
    } else {
        memset(&gm, 0, sizeof gm);
        gm.command = command;
        gm.group_id = group_id;
        gm.command_bucket_id = OFPG15_BUCKET_ALL;
        ovs_list_init(&gm.buckets);
    }
    if (spec && copies > 1) {
        /* Copy k of bucket i gets id k * N + i. */
        size_t n = ovs_list_size(&gm.buckets);
        struct ovs_list orig = OVS_LIST_INITIALIZER(&orig);
        ofputil_bucket_clone_list(&orig, &gm.buckets, NULL);
        for (unsigned int k = 1; k < copies; k++) {
            struct ovs_list copy = OVS_LIST_INITIALIZER(&copy);
            ofputil_bucket_clone_list(&copy, &orig, NULL);
            struct ofputil_bucket *b;
            size_t i = 0;
            LIST_FOR_EACH (b, list_node, &copy) {
                b->bucket_id = k * n + i++;
            }
            ovs_list_push_back_all(&gm.buckets, &copy);
        }
        ofputil_bucket_list_destroy(&orig);
    }
    struct ovs_list rest = OVS_LIST_INITIALIZER(&rest);
    if (ovs_list_size(&gm.buckets) > BUCKETS_PER_MSG) {
        ovs_assert(more);
        struct ovs_list first = OVS_LIST_INITIALIZER(&first);
        move_buckets(&first, &gm.buckets, BUCKETS_PER_MSG);
        ovs_list_push_back_all(&rest, &gm.buckets);
        ovs_list_push_back_all(&gm.buckets, &first);
    }
    msg = ofputil_encode_group_mod(version, &gm, NULL, -1);
    while (!ovs_list_is_empty(&rest)) {
        struct ofputil_group_mod ins = {
            .command = OFPGC15_INSERT_BUCKET,
            .type = gm.type,
            .group_id = group_id,
            .command_bucket_id = OFPG15_BUCKET_LAST,
        };
        ovs_list_init(&ins.buckets);
        move_buckets(&ins.buckets, &rest, BUCKETS_PER_MSG);
        struct ofpbuf *m = ofputil_encode_group_mod(version, &ins, NULL, -1);
        ovs_list_push_back(more, &m->list_node);
        ofputil_bucket_list_destroy(&ins.buckets);
    }
    ofputil_uninit_group_mod(&gm);
    return msg;
}

/* Encodes a meter mod 'command' for 'meter_id' with configuration 'spec'
 * (NULL for a delete). */
static struct ofpbuf *
encode_meter_mod(enum ofp_version version, uint16_t command,
                 uint32_t meter_id, const char *spec)
{
    struct ofputil_meter_mod mm;

    if (spec) {
        char *text = xasprintf("meter=%"PRIu32",%s", meter_id, spec);
        enum ofputil_protocol usable;
        char *error = parse_ofp_meter_mod_str(&mm, text, command, &usable);
        /* flow_table_add_meter() checked the text already. */
        ovs_assert(!error);
        free(text);
    } else {
        memset(&mm, 0, sizeof mm);
        mm.command = command;
        mm.meter.meter_id = meter_id;
    }
    struct ofpbuf *msg = ofputil_encode_meter_mod(version, &mm);
    free(mm.meter.bands);
    return msg;
}

struct ofpbuf *
installed_encode_delete_all_flows(enum ofp_version version)
{
    struct minimatch any;
    minimatch_init_catchall(&any);
    struct ofputil_flow_mod fm = {
        .match = any,
        .table_id = OFPTT_ALL,
        .command = OFPFC_DELETE,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
    };
    struct ofpbuf *msg = ofputil_encode_flow_mod(
        &fm, ofputil_protocol_from_ofp_version(version));
    minimatch_destroy(&any);
    return msg;
}

/* Deletes every flow whose cookie carries 'round'. */
struct ofpbuf *
installed_encode_delete_round(enum ofp_version version, uint16_t round)
{
    struct minimatch any;
    minimatch_init_catchall(&any);
    struct ofputil_flow_mod fm = {
        .match = any,
        .cookie = htonll((uint64_t) round << COOKIE_ROUND_SHIFT),
        .cookie_mask = htonll(COOKIE_ROUND_MASK),
        .table_id = OFPTT_ALL,
        .command = OFPFC_DELETE,
        .buffer_id = UINT32_MAX,
        .out_port = OFPP_ANY,
        .out_group = OFPG_ANY,
    };
    struct ofpbuf *msg = ofputil_encode_flow_mod(
        &fm, ofputil_protocol_from_ofp_version(version));
    minimatch_destroy(&any);
    return msg;
}


/* Transactions. */

void
installed_txn_init(struct installed_txn *txn)
{
    ovs_list_init(&txn->ops);
    txn->n_ops = 0;
}

static void
op_destroy(struct installed_op *op)
{
    installed_flow_destroy(op->flow);
    free(op);
}

void
installed_txn_destroy(struct installed_txn *txn)
{
    struct installed_op *op;
    LIST_FOR_EACH_POP (op, node, &txn->ops) {
        op_destroy(op);
    }
    txn->n_ops = 0;
}

static struct installed_op *
txn_find(const struct installed_txn *txn, ovs_be32 xid)
{
    struct installed_op *op;
    LIST_FOR_EACH (op, node, &txn->ops) {
        if (op->xid == xid) {
            return op;
        }
    }
    return NULL;
}

bool
installed_txn_has(const struct installed_txn *txn, ovs_be32 xid)
{
    return txn_find(txn, xid) != NULL;
}

/* Marks the operation of the message with 'xid' failed, so that
 * installed_commit() leaves its part of the installed table alone.  Returns
 * false if no message of 'txn' has that xid; otherwise stores the object id
 * of the message's owner (0 if unknown) in '*object_id'. */
bool
installed_txn_fail(struct installed_txn *txn, ovs_be32 xid,
                   uint32_t *object_id)
{
    struct installed_op *op = txn_find(txn, xid);
    if (op) {
        op->failed = true;
        *object_id = op->object_id;
    }
    return op != NULL;
}

/* Marks everything that 'txn' would change dirty in 'ft', so that the next
 * diff looks at it again: for a transaction the switch did not apply. */
void
installed_txn_mark(const struct installed_txn *txn, struct flow_table *ft)
{
    const struct installed_op *op;
    LIST_FOR_EACH (op, node, &txn->ops) {
        if (op->kind == OP_FLOW) {
            flow_table_mark_flow(ft, op->flow->table_id, op->flow->priority,
                                 &op->flow->match);
        } else if (op->kind == OP_GROUP) {
            flow_table_mark_group(ft, op->id);
        } else {
            flow_table_mark_meter(ft, op->id);
        }
    }
}

/* Applies the operations of 'txn' that did not fail to 'in' and empties
 * 'txn'. */
void
installed_commit(struct installed *in, struct installed_txn *txn)
{
    struct installed_op *op;
    LIST_FOR_EACH_POP (op, node, &txn->ops) {
        if (op->failed) {
            op_destroy(op);
            continue;
        }
        if (op->kind == OP_FLOW) {
            struct installed_flow *nf = op->flow;
            uint32_t hash = desired_flow_hash(nf->table_id, nf->priority,
                                              &nf->match);
            struct installed_flow *old = installed_find(
                in, nf->table_id, nf->priority, &nf->match, hash);
            if (old) {
                hmap_remove(&in->flows, &old->node);
                installed_flow_destroy(old);
            }
            if (!op->del) {
                hmap_insert(&in->flows, &nf->node, hash);
                op->flow = NULL;
            }
        } else {
            struct hmap *objs = (op->kind == OP_GROUP ? &in->groups
                                                      : &in->meters);
            if (op->del) {
                obj_delete(objs, op->id);
            } else {
                obj_set(objs, op->id, true, op->spec_hash);
            }
        }
        op_destroy(op);
    }
    txn->n_ops = 0;
}

/* The diff. */

/* Where the diff puts its messages, in the order they must be sent. */
struct diff_out {
    struct ovs_list meter_mods;
    struct ovs_list group_mods;
    struct ovs_list flow_dels;
    struct ovs_list flow_mods;
    struct ovs_list group_dels;
    struct ovs_list meter_dels;
    struct installed_txn *txn;
};

static struct installed_op *
record(struct diff_out *out, struct ovs_list *list, struct ofpbuf *msg,
       enum op_kind kind, bool del, uint32_t object_id)
{
    struct installed_op *op = xzalloc(sizeof *op);
    op->xid = ((const struct ofp_header *) msg->data)->xid;
    op->object_id = object_id;
    op->kind = kind;
    op->del = del;
    ovs_list_push_back(&out->txn->ops, &op->node);
    out->txn->n_ops++;
    ovs_list_push_back(list, &msg->list_node);
    return op;
}

static struct installed_flow *
flow_state(const struct desired_flow *d, bool with_actions, uint64_t cookie)
{
    struct installed_flow *f = xzalloc(sizeof *f);
    f->table_id = d->table_id;
    f->priority = d->priority;
    minimatch_clone(&f->match, &d->match);
    if (with_actions) {
        f->ofpacts = xmemdup(d->ofpacts, d->ofpacts_len);
        f->ofpacts_len = d->ofpacts_len;
    }
    f->cookie = cookie;
    return f;
}

/* Compares desired flow 'd' (perhaps a tombstone) with what is installed
 * under its key. */
static void
diff_flow(const struct installed *in, const struct desired_flow *d,
          uint16_t round, enum ofp_version version, struct diff_out *out,
          struct diff_stats *stats)
{
    desired_flow_settle(d);
    const struct installed_flow *f = installed_find(
        in, d->table_id, d->priority, &d->match, d->node.hash);
    uint64_t cookie = cookie_with_round(d->cookie, round);
    int command;

    if (!d->present) {
        if (f) {
            struct ofpbuf *msg = encode_flow_mod(
                version, OFPFC_DELETE_STRICT, d->table_id, d->priority,
                &d->match, NULL, 0, 0);
            record(out, &out->flow_dels, msg, OP_FLOW, true,
                   cookie_object(f->cookie))->flow = flow_state(d, false, 0);
            stats->flows_deleted++;
        }
        return;
    } else if (!f) {
        command = OFPFC_ADD;
        stats->flows_added++;
    } else if (f->cookie != cookie) {
        command = OFPFC_ADD;    /* An add replaces it whole, cookie too. */
        stats->flows_modified++;
    } else if (!ofpacts_equal(f->ofpacts, f->ofpacts_len,
                              d->ofpacts, d->ofpacts_len)) {
        command = OFPFC_MODIFY_STRICT;  /* Keeps the flow's counters. */
        stats->flows_modified++;
    } else {
        return;
    }
    struct ofpbuf *msg = encode_flow_mod(version, command, d->table_id,
                                         d->priority, &d->match, d->ofpacts,
                                         d->ofpacts_len, cookie);
    record(out, &out->flow_mods, msg, OP_FLOW, false,
           cookie_object(cookie))->flow = flow_state(d, true, cookie);
}

static uint32_t
obj_owner_id(const struct desired_obj *d)
{
    return d && d->owner ? d->owner->object_id : 0;
}

/* Encodes a group or meter mod for 'id'. */
static struct ofpbuf *
encode_obj_mod(enum op_kind kind, enum ofp_version version, bool del,
               bool exists, uint32_t id, const struct desired_obj *d,
               struct ovs_list *more)
{
    if (kind == OP_GROUP) {
        return encode_group_mod(version,
                                del ? OFPGC11_DELETE : OFPGC11_ADD_OR_MOD,
                                id, del ? NULL : d->spec,
                                del ? 1 : d->copies, more);
    }
    return encode_meter_mod(version, (del ? OFPMC13_DELETE
                                      : exists ? OFPMC13_MODIFY
                                      : OFPMC13_ADD),
                            id, del ? NULL : d->spec);
}

/* Compares group or meter 'id' as desired ('d', perhaps NULL or a
 * tombstone) with what is installed.  A group is added or modified with
 * one command; a meter the switch holds is modified, any other added. */
static void
diff_obj(const struct installed *in, enum op_kind kind, uint32_t id,
         const struct desired_obj *d, enum ofp_version version,
         struct diff_out *out, struct diff_stats *stats)
{
    bool group = kind == OP_GROUP;
    const struct installed_obj *o = obj_find(group ? &in->groups
                                                   : &in->meters, id);
    if (!desired_obj_present(d)) {
        if (o) {
            record(out, group ? &out->group_dels : &out->meter_dels,
                   encode_obj_mod(kind, version, true, true, id, NULL,
                                  NULL),
                   kind, true, obj_owner_id(d))->id = id;
            (*(group ? &stats->groups_deleted : &stats->meters_deleted))++;
        }
        return;
    }
    uint64_t hash = spec_hash(d);
    if (!o || !o->known || o->spec_hash != hash) {
        struct ovs_list *list = group ? &out->group_mods : &out->meter_mods;
        struct ovs_list more = OVS_LIST_INITIALIZER(&more);
        struct installed_op *op = record(
            out, list, encode_obj_mod(kind, version, false, o != NULL, id,
                                      d, &more),
            kind, false, d->owner->object_id);
        ovs_list_push_back_all(list, &more);
        op->id = id;
        op->spec_hash = hash;
        if (o) {
            (*(group ? &stats->groups_modified
                     : &stats->meters_modified))++;
        } else {
            (*(group ? &stats->groups_added : &stats->meters_added))++;
        }
    }
}

/* Diffs the groups or meters: only the dirty ones, or all that are desired
 * ('all'), and with 'prune' also those installed that nobody wants. */
static void
diff_objs(const struct installed *in, enum op_kind kind,
          const struct obj_set *desired, bool all, bool prune,
          enum ofp_version version, struct diff_out *out,
          struct diff_stats *stats)
{
    const struct hmap *installed_objs = (kind == OP_GROUP ? &in->groups
                                                          : &in->meters);
    const struct desired_obj *d;
    if (!all && !prune) {
        LIST_FOR_EACH (d, dirty_node, &desired->dirty) {
            diff_obj(in, kind, d->id, d, version, out, stats);
        }
        return;
    }
    HMAP_FOR_EACH (d, node, &desired->map) {
        if (desired_obj_present(d)) {
            diff_obj(in, kind, d->id, d, version, out, stats);
        } else if (!prune && !ovs_list_is_empty(&d->dirty_node)) {
            diff_obj(in, kind, d->id, d, version, out, stats);
        }
    }
    if (prune) {
        const struct installed_obj *o;
        HMAP_FOR_EACH (o, node, installed_objs) {
            const struct desired_obj *want = NULL, *x;
            HMAP_FOR_EACH_WITH_HASH (x, node, hash_int(o->id, 0),
                                     &desired->map) {
                if (x->id == o->id) {
                    want = x;
                }
            }
            if (!desired_obj_present(want)) {
                diff_obj(in, kind, o->id, want, version, out, stats);
            }
        }
    }
}

void
installed_diff(struct installed *in, struct flow_table *desired,
               enum diff_mode mode, bool prune, uint16_t round,
               enum ofp_version version, struct ovs_list *msgs,
               struct installed_txn *txn, struct diff_stats *stats)
{
    struct diff_out out = { .txn = txn };
    ovs_list_init(&out.meter_mods);
    ovs_list_init(&out.group_mods);
    ovs_list_init(&out.flow_dels);
    ovs_list_init(&out.flow_mods);
    ovs_list_init(&out.group_dels);
    ovs_list_init(&out.meter_dels);

    /* Groups and meters: all in a full diff (those the switch holds were
     * noted at connection).  Without 'prune' the unwanted ones stay: an
     * earlier run's flows may still use them. */
    bool all = mode == DIFF_FULL;
    diff_objs(in, OP_METER, &desired->meters, all, prune, version, &out,
              stats);
    diff_objs(in, OP_GROUP, &desired->groups, all, prune, version, &out,
              stats);

    const struct desired_flow *d;
    if (mode == DIFF_FULL) {
        HMAP_FOR_EACH (d, node, &desired->flows) {
            desired_flow_settle(d);
            if (d->present) {
                diff_flow(in, d, round, version, &out, stats);
            }
        }
    } else {
        LIST_FOR_EACH (d, dirty_node, &desired->dirty_flows) {
            diff_flow(in, d, round, version, &out, stats);
        }
    }
    flow_table_clear_dirty(desired);

    ovs_list_push_back_all(msgs, &out.meter_mods);
    ovs_list_push_back_all(msgs, &out.group_mods);
    ovs_list_push_back_all(msgs, &out.flow_dels);
    ovs_list_push_back_all(msgs, &out.flow_mods);
    ovs_list_push_back_all(msgs, &out.group_dels);
    ovs_list_push_back_all(msgs, &out.meter_dels);
}
