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

struct installed_group {
    struct hmap_node node;
    uint32_t group_id;
    char *spec;
};

struct installed_meter {
    struct hmap_node node;
    uint32_t meter_id;
    char *spec;
};

void
installed_init(struct installed *in)
{
    hmap_init(&in->flows);
    hmap_init(&in->groups);
    hmap_init(&in->meters);
    in->meters_unknown = false;
}

static void
installed_flow_destroy(struct installed_flow *f)
{
    minimatch_destroy(&f->match);
    free(f->ofpacts);
    free(f);
}

void
installed_clear(struct installed *in)
{
    struct installed_flow *f;
    HMAP_FOR_EACH_POP (f, node, &in->flows) {
        installed_flow_destroy(f);
    }
    struct installed_group *g;
    HMAP_FOR_EACH_POP (g, node, &in->groups) {
        free(g->spec);
        free(g);
    }
    struct installed_meter *m;
    HMAP_FOR_EACH_POP (m, node, &in->meters) {
        free(m->spec);
        free(m);
    }
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

static struct ofpbuf *
encode_group_mod(enum ofp_version version, int command, uint32_t group_id,
                 const char *spec)
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
    msg = ofputil_encode_group_mod(version, &gm, NULL, -1);
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

struct ofpbuf *
installed_encode_delete_all_groups(enum ofp_version version)
{
    return encode_group_mod(version, OFPGC11_DELETE, OFPG_ALL, NULL);
}

/* Deletes every meter.  The switch also deletes the flows that use them. */
struct ofpbuf *
installed_encode_delete_all_meters(enum ofp_version version)
{
    return encode_meter_mod(version, OFPMC13_DELETE, OFPM13_ALL, NULL);
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

static void
push(struct ovs_list *msgs, struct ofpbuf *msg)
{
    ovs_list_push_back(msgs, &msg->list_node);
}

void
installed_diff(struct installed *in, const struct flow_table *desired,
               uint16_t round, enum ofp_version version,
               struct ovs_list *msgs, struct diff_stats *stats)
{
    struct ovs_list group_dels = OVS_LIST_INITIALIZER(&group_dels);
    struct ovs_list meter_dels = OVS_LIST_INITIALIZER(&meter_dels);

    /* Meters before everything else, since flows and group buckets may use
     * them ("meter:ID"); stale ones go last.  (Deleting a meter also makes
     * the switch delete the flows that use it.) */
    const struct desired_meter *dm;
    HMAP_FOR_EACH (dm, node, &desired->meters) {
        struct installed_meter *im = NULL, *m;
        HMAP_FOR_EACH_WITH_HASH (m, node, hash_int(dm->meter_id, 0),
                                 &in->meters) {
            if (m->meter_id == dm->meter_id) {
                im = m;
                break;
            }
        }
        if (!im) {
            push(msgs, encode_meter_mod(version, OFPMC13_ADD,
                                        dm->meter_id, dm->spec));
            if (in->meters_unknown) {
                push(msgs, encode_meter_mod(version, OFPMC13_MODIFY,
                                            dm->meter_id, dm->spec));
            }
            im = xzalloc(sizeof *im);
            im->meter_id = dm->meter_id;
            im->spec = xstrdup(dm->spec);
            hmap_insert(&in->meters, &im->node, hash_int(dm->meter_id, 0));
            stats->meters_added++;
        } else if (strcmp(im->spec, dm->spec)) {
            push(msgs, encode_meter_mod(version, OFPMC13_MODIFY,
                                        dm->meter_id, dm->spec));
            free(im->spec);
            im->spec = xstrdup(dm->spec);
            stats->meters_modified++;
        }
    }
    struct installed_meter *im;
    HMAP_FOR_EACH_SAFE (im, node, &in->meters) {
        if (!flow_table_find_meter(desired, im->meter_id)) {
            struct ofpbuf *msg = encode_meter_mod(version, OFPMC13_DELETE,
                                                  im->meter_id, NULL);
            ovs_list_push_back(&meter_dels, &msg->list_node);
            hmap_remove(&in->meters, &im->node);
            free(im->spec);
            free(im);
            stats->meters_deleted++;
        }
    }

    /* Groups next: new and changed ones must exist before flows use them,
     * and stale ones may be deleted only after the flows that use them. */
    const struct desired_group *dg;
    HMAP_FOR_EACH (dg, node, &desired->groups) {
        struct installed_group *ig = NULL, *g;
        HMAP_FOR_EACH_WITH_HASH (g, node, hash_int(dg->group_id, 0),
                                 &in->groups) {
            if (g->group_id == dg->group_id) {
                ig = g;
                break;
            }
        }
        if (!ig) {
            push(msgs, encode_group_mod(version, OFPGC11_ADD_OR_MOD,
                                        dg->group_id, dg->spec));
            ig = xzalloc(sizeof *ig);
            ig->group_id = dg->group_id;
            ig->spec = xstrdup(dg->spec);
            hmap_insert(&in->groups, &ig->node, hash_int(dg->group_id, 0));
            stats->groups_added++;
        } else if (strcmp(ig->spec, dg->spec)) {
            push(msgs, encode_group_mod(version, OFPGC11_ADD_OR_MOD,
                                        dg->group_id, dg->spec));
            free(ig->spec);
            ig->spec = xstrdup(dg->spec);
            stats->groups_modified++;
        }
    }
    struct installed_group *ig;
    HMAP_FOR_EACH_SAFE (ig, node, &in->groups) {
        bool wanted = false;
        HMAP_FOR_EACH_WITH_HASH (dg, node, hash_int(ig->group_id, 0),
                                 &desired->groups) {
            if (dg->group_id == ig->group_id) {
                wanted = true;
                break;
            }
        }
        if (!wanted) {
            struct ofpbuf *msg = encode_group_mod(version, OFPGC11_DELETE,
                                                  ig->group_id, NULL);
            ovs_list_push_back(&group_dels, &msg->list_node);
            hmap_remove(&in->groups, &ig->node);
            free(ig->spec);
            free(ig);
            stats->groups_deleted++;
        }
    }

    /* Stale flows go before new ones, so that a flow that moves between
     * owners never exists twice. */
    struct installed_flow *f;
    HMAP_FOR_EACH_SAFE (f, node, &in->flows) {
        if (!flow_table_find(desired, f->table_id, f->priority, &f->match)) {
            push(msgs, encode_flow_mod(version, OFPFC_DELETE_STRICT,
                                       f->table_id, f->priority, &f->match,
                                       NULL, 0, 0));
            hmap_remove(&in->flows, &f->node);
            installed_flow_destroy(f);
            stats->flows_deleted++;
        }
    }

    const struct desired_flow *d;
    HMAP_FOR_EACH (d, node, &desired->flows) {
        uint64_t cookie = cookie_with_round(d->cookie, round);
        f = installed_find(in, d->table_id, d->priority, &d->match,
                           d->node.hash);
        if (!f) {
            push(msgs, encode_flow_mod(version, OFPFC_ADD, d->table_id,
                                       d->priority, &d->match, d->ofpacts,
                                       d->ofpacts_len, cookie));
            f = xzalloc(sizeof *f);
            f->table_id = d->table_id;
            f->priority = d->priority;
            minimatch_clone(&f->match, &d->match);
            f->ofpacts = xmemdup(d->ofpacts, d->ofpacts_len);
            f->ofpacts_len = d->ofpacts_len;
            f->cookie = cookie;
            hmap_insert(&in->flows, &f->node, d->node.hash);
            stats->flows_added++;
        } else if (f->cookie != cookie) {
            /* An add replaces the flow whole, cookie included. */
            push(msgs, encode_flow_mod(version, OFPFC_ADD, d->table_id,
                                       d->priority, &d->match, d->ofpacts,
                                       d->ofpacts_len, cookie));
            free(f->ofpacts);
            f->ofpacts = xmemdup(d->ofpacts, d->ofpacts_len);
            f->ofpacts_len = d->ofpacts_len;
            f->cookie = cookie;
            stats->flows_modified++;
        } else if (!ofpacts_equal(f->ofpacts, f->ofpacts_len,
                                  d->ofpacts, d->ofpacts_len)) {
            /* A strict modify keeps the flow's counters. */
            push(msgs, encode_flow_mod(version, OFPFC_MODIFY_STRICT,
                                       d->table_id, d->priority, &d->match,
                                       d->ofpacts, d->ofpacts_len, cookie));
            free(f->ofpacts);
            f->ofpacts = xmemdup(d->ofpacts, d->ofpacts_len);
            f->ofpacts_len = d->ofpacts_len;
            stats->flows_modified++;
        }
    }

    ovs_list_push_back_all(msgs, &group_dels);
    ovs_list_push_back_all(msgs, &meter_dels);
}
