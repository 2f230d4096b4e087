#include "ovs-config.h"
#include "flows/flow-table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-table.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flow_table);

static void
obj_set_init(struct obj_set *set)
{
    hmap_init(&set->map);
    ovs_list_init(&set->dirty);
}

void
flow_table_init(struct flow_table *ft)
{
    hmap_init(&ft->flows);
    obj_set_init(&ft->groups);
    obj_set_init(&ft->meters);
    hmap_init(&ft->owners);
    hmap_init(&ft->owners_by_id);
    ovs_list_init(&ft->dirty_flows);
    ovs_list_init(&ft->ct_flushes);
    ft->n_flows = 0;
    ft->n_set_aside = 0;
    ft->seqno = 1;
}

/* Owners. */

static struct flow_owner *
owner_find(const struct flow_table *ft, const char *name)
{
    struct flow_owner *o;

    HMAP_FOR_EACH_WITH_HASH (o, node, hash_string(name, 0), &ft->owners) {
        if (!strcmp(o->name, name)) {
            return o;
        }
    }
    return NULL;
}

const struct flow_owner *
flow_table_find_owner(const struct flow_table *ft, const char *name)
{
    return owner_find(ft, name);
}

static struct flow_owner *
owner_get(struct flow_table *ft, const char *name,
          enum cookie_category category)
{
    struct flow_owner *o = owner_find(ft, name);
    if (!o) {
        o = xzalloc(sizeof *o);
        o->name = xstrdup(name);
        o->category = category;
        o->object_id = hash_string(name, 0);
        ovs_list_init(&o->flows);
        ovs_list_init(&o->groups);
        ovs_list_init(&o->meters);
        hmap_insert(&ft->owners, &o->node, hash_string(name, 0));
        hmap_insert(&ft->owners_by_id, &o->id_node,
                    hash_int(o->object_id, 0));
    }
    return o;
}

static void
owner_remove_if_empty(struct flow_table *ft, struct flow_owner *o)
{
    if (ovs_list_is_empty(&o->flows) && ovs_list_is_empty(&o->groups)
        && ovs_list_is_empty(&o->meters)) {
        hmap_remove(&ft->owners, &o->node);
        hmap_remove(&ft->owners_by_id, &o->id_node);
        if (o->error) {
            ft->n_set_aside--;
            free(o->error);
        }
        free(o->name);
        free(o);
    }
}

/* Flows. */

static void
mark_flow_dirty(struct flow_table *ft, struct desired_flow *f)
{
    if (ovs_list_is_empty(&f->dirty_node)) {
        ovs_list_push_back(&ft->dirty_flows, &f->dirty_node);
    }
}

static bool
is_conjunction_only(const struct ofpact *ofpacts, size_t len)
{
    const struct ofpact *a;
    if (!len) {
        return false;
    }
    OFPACT_FOR_EACH (a, ofpacts, len) {
        if (a->type != OFPACT_CONJUNCTION) {
            return false;
        }
    }
    return true;
}

static int
compare_conjunctions(const void *a_, const void *b_)
{
    const struct ofpact_conjunction *a = *(const void **) a_;
    const struct ofpact_conjunction *b = *(const void **) b_;
    if (a->id != b->id) {
        return a->id < b->id ? -1 : 1;
    }
    if (a->clause != b->clause) {
        return a->clause < b->clause ? -1 : 1;
    }
    return a->n_clauses < b->n_clauses ? -1 : a->n_clauses > b->n_clauses;
}

/* Merges the conjunction() actions of the contributions of 'f' whose owners
 * are not set aside into 'f->ofpacts', sorted and without duplicates. */
static void
merge_conjunctions(struct desired_flow *f)
{
    size_t n = 0, allocated = 0;
    const struct ofpact_conjunction **conjs = NULL;
    const struct flow_contrib *c;

    LIST_FOR_EACH (c, flow_node, &f->contribs) {
        if (c->owner->error) {
            continue;
        }
        const struct ofpact *a;
        OFPACT_FOR_EACH (a, c->ofpacts, c->ofpacts_len) {
            if (n >= allocated) {
                conjs = x2nrealloc(conjs, &allocated, sizeof *conjs);
            }
            conjs[n++] = ofpact_get_CONJUNCTION(a);
        }
    }
    if (n) {
        qsort(conjs, n, sizeof *conjs, compare_conjunctions);
    }

    struct ofpbuf b;
    ofpbuf_init(&b, n * sizeof(struct ofpact_conjunction));
    for (size_t i = 0; i < n; i++) {
        if (i && !compare_conjunctions(&conjs[i - 1], &conjs[i])) {
            continue;
        }
        struct ofpact_conjunction *conj = ofpact_put_CONJUNCTION(&b);
        conj->id = conjs[i]->id;
        conj->clause = conjs[i]->clause;
        conj->n_clauses = conjs[i]->n_clauses;
    }
    free(conjs);
    free(CONST_CAST(struct ofpact *, f->ofpacts));
    f->ofpacts_len = b.size;
    f->ofpacts = ofpbuf_steal_data(&b);
    f->present = n > 0;
}

/* Recomputes what the switch should hold for 'f' and marks it dirty. */
static void
flow_refresh(struct flow_table *ft, struct desired_flow *f)
{
    if (f->conjunctive) {
        f->merge_pending = true;
        /* A cookie that does not change as owners come and go, so that the
         * shared flow is modified in place, keeping its counters. */
        const struct flow_contrib *c = (ovs_list_is_empty(&f->contribs)
                                        ? NULL
                                        : CONTAINER_OF(ovs_list_front(
                                                           &f->contribs),
                                                       struct flow_contrib,
                                                       flow_node));
        f->cookie = cookie_make(0, c ? c->owner->category : COOKIE_OTHER,
                                0);
    } else if (!ovs_list_is_empty(&f->contribs)) {
        const struct flow_contrib *c = CONTAINER_OF(
            ovs_list_front(&f->contribs), struct flow_contrib, flow_node);
        f->merge_pending = false;
        f->present = !c->owner->error;
        f->ofpacts = c->ofpacts;
        f->ofpacts_len = c->ofpacts_len;
        f->cookie = cookie_make(0, c->owner->category, c->owner->object_id);
    } else {
        f->merge_pending = false;
        f->present = false;
        f->ofpacts = NULL;
        f->ofpacts_len = 0;
    }
    mark_flow_dirty(ft, f);
}

/* Brings a conjunctive flow's merged actions up to date.  The merge is a
 * cache of the contributions, so a const flow may be settled. */
void
desired_flow_settle(const struct desired_flow *f_)
{
    struct desired_flow *f = CONST_CAST(struct desired_flow *, f_);
    if (f->merge_pending) {
        f->merge_pending = false;
        merge_conjunctions(f);
    }
}

uint32_t
desired_flow_hash(uint8_t table_id, uint16_t priority,
                  const struct minimatch *match)
{
    return minimatch_hash(match, hash_2words(table_id, priority));
}

/* Finds the flow with the given key, tombstones included. */
static struct desired_flow *
flow_lookup(const struct flow_table *ft, uint8_t table_id, uint16_t priority,
            const struct minimatch *match, uint32_t hash)
{
    struct desired_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, hash, &ft->flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            return f;
        }
    }
    return NULL;
}

const struct desired_flow *
flow_table_find(const struct flow_table *ft, uint8_t table_id,
                uint16_t priority, const struct minimatch *match)
{
    const struct desired_flow *f = flow_lookup(
        ft, table_id, priority, match,
        desired_flow_hash(table_id, priority, match));
    if (!f || ovs_list_is_empty(&f->contribs)) {
        return NULL;
    }
    desired_flow_settle(f);
    return f;
}

/* Finds or makes (as a tombstone) the flow with the given key; takes
 * 'match' in either case. */
static struct desired_flow *
flow_get(struct flow_table *ft, uint8_t table_id, uint16_t priority,
         struct minimatch *match)
{
    uint32_t hash = desired_flow_hash(table_id, priority, match);
    struct desired_flow *f = flow_lookup(ft, table_id, priority, match, hash);
    if (f) {
        minimatch_destroy(match);
        return f;
    }
    f = xzalloc(sizeof *f);
    f->table_id = table_id;
    f->priority = priority;
    minimatch_move(&f->match, match);
    ovs_list_init(&f->contribs);
    ovs_list_init(&f->dirty_node);
    hmap_insert(&ft->flows, &f->node, hash);
    return f;
}

static void
desired_flow_free(struct desired_flow *f)
{
    if (f->conjunctive) {
        free(CONST_CAST(struct ofpact *, f->ofpacts));
    }
    minimatch_destroy(&f->match);
    free(f);
}

/* The contribution of 'o' to 'f', found by walking the shorter of the
 * flow's contributions and the owner's. */
static struct flow_contrib *
flow_find_contrib(const struct desired_flow *f, const struct flow_owner *o)
{
    struct flow_contrib *c;
    if (o->n_flows < f->n_contribs) {
        LIST_FOR_EACH (c, owner_node, &o->flows) {
            if (c->flow == f) {
                return c;
            }
        }
    } else {
        LIST_FOR_EACH (c, flow_node, &f->contribs) {
            if (c->owner == o) {
                return c;
            }
        }
    }
    return NULL;
}

static void owner_clear_error(struct flow_table *, struct flow_owner *);

/* Notes a change to 'o': it gets a new version, and is tried again if it
 * was set aside. */
static void
owner_touch(struct flow_table *ft, struct flow_owner *o)
{
    o->seqno = ++ft->seqno;
    if (o->error) {
        owner_clear_error(ft, o);
    }
}

static void
contrib_remove(struct flow_table *ft, struct flow_contrib *c)
{
    struct desired_flow *f = c->flow;
    ovs_list_remove(&c->flow_node);
    ovs_list_remove(&c->owner_node);
    f->n_contribs--;
    c->owner->n_flows--;
    free(c->ofpacts);
    free(c);
    if (ovs_list_is_empty(&f->contribs)) {
        ft->n_flows--;
        if (f->conjunctive) {
            free(CONST_CAST(struct ofpact *, f->ofpacts));
            f->conjunctive = false;
        }
    }
    flow_refresh(ft, f);
}

/* Adds a flow with the given key and actions, taking 'match' and
 * 'ofpacts' (malloc'd) in every case. */
static char *
add_flow__(struct flow_table *ft, const char *owner_name,
           enum cookie_category category, uint8_t table_id,
           uint16_t priority, struct minimatch *match, struct ofpact *ofpacts,
           size_t ofpacts_len)
{
    bool conj = is_conjunction_only(ofpacts, ofpacts_len);
    struct desired_flow *f = flow_get(ft, table_id, priority, match);
    struct flow_owner *owner = owner_get(ft, owner_name, category);
    struct flow_contrib *c = flow_find_contrib(f, owner);
    bool alone = (ovs_list_is_empty(&f->contribs)
                  || (c && ovs_list_is_short(&f->contribs)));

    if (!alone && !(conj && f->conjunctive)) {
        const struct flow_contrib *other = CONTAINER_OF(
            ovs_list_front(&f->contribs), struct flow_contrib, flow_node);
        if (other == c) {
            other = CONTAINER_OF(ovs_list_back(&f->contribs),
                                 struct flow_contrib, flow_node);
        }
        struct ds text = DS_EMPTY_INITIALIZER;
        desired_flow_format(&text, table_id, priority, &f->match, ofpacts,
                            ofpacts_len);
        char *msg = xasprintf("%s: flow \"%s\" is already owned by %s",
                              owner_name, ds_cstr(&text), other->owner->name);
        ds_destroy(&text);
        free(ofpacts);
        owner_remove_if_empty(ft, owner);
        if (ovs_list_is_empty(&f->contribs)) {
            mark_flow_dirty(ft, f);     /* A tombstone; the diff frees it. */
        }
        return msg;
    }
    if (c && ofpacts_equal(c->ofpacts, c->ofpacts_len, ofpacts,
                           ofpacts_len)) {
        free(ofpacts);
        return NULL;
    }

    if (!c) {
        c = xzalloc(sizeof *c);
        c->flow = f;
        c->owner = owner;
        if (ovs_list_is_empty(&f->contribs)) {
            ft->n_flows++;
        }
        ovs_list_push_back(&f->contribs, &c->flow_node);
        ovs_list_push_back(&owner->flows, &c->owner_node);
        f->n_contribs++;
        owner->n_flows++;
    } else {
        free(c->ofpacts);
    }
    c->ofpacts = ofpacts;
    c->ofpacts_len = ofpacts_len;
    if (alone && f->conjunctive != conj) {
        if (f->conjunctive) {
            free(CONST_CAST(struct ofpact *, f->ofpacts));
        }
        f->ofpacts = NULL;
        f->conjunctive = conj;
    }
    owner_touch(ft, owner);
    flow_refresh(ft, f);
    return NULL;
}

/* Adds a flow to 'table' at 'priority' whose match and actions are the
 * printf-style 'format' in ovs-ofctl syntax, "MATCH actions=ACTIONS", where
 * tables may be named ("goto_table:Output").  Returns NULL or an error
 * message that the caller must free; on error nothing changes. */
char *
flow_table_add(struct flow_table *ft, const char *owner_name,
               enum cookie_category category, enum tnd_table table,
               uint16_t priority, const char *format, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    ds_put_format(&s, "table=%d,priority=%"PRIu16",", table, priority);
    va_start(args, format);
    ds_put_format_valist(&s, format, args);
    va_end(args);

    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(&fm, ds_cstr(&s), NULL,
                                         tables_get_map(), OFPFC_ADD,
                                         &usable);
    if (error) {
        char *msg = xasprintf("%s: bad flow \"%s\": %s", owner_name,
                              ds_cstr(&s), error);
        free(error);
        ds_destroy(&s);
        return msg;
    }
    ds_destroy(&s);
    return add_flow__(ft, owner_name, category, table, priority, &fm.match,
                      fm.ofpacts, fm.ofpacts_len);
}

/* Adds a flow built by the caller: 'match' and the 'ofpacts_len' bytes of
 * actions at 'ofpacts' are copied.  The same rules as flow_table_add(). */
char *
flow_table_add_flow(struct flow_table *ft, const char *owner_name,
                    enum cookie_category category, uint8_t table_id,
                    uint16_t priority, const struct match *match,
                    const struct ofpact *ofpacts, size_t ofpacts_len)
{
    /* As the ovs-ofctl parser does, so that a built flow and the same flow
     * as text have one key. */
    struct match m = *match;
    match_set_default_packet_type(&m);
    struct minimatch mm;
    minimatch_init(&mm, &m);
    return add_flow__(ft, owner_name, category, table_id, priority, &mm,
                      xmemdup(ofpacts, ofpacts_len), ofpacts_len);
}

/* Withdraws 'owner_name''s contribution to the flow with the given key,
 * if it has one; other owners' contributions to a conjunctive flow stay. */
void
flow_table_remove_flow(struct flow_table *ft, const char *owner_name,
                       uint8_t table_id, uint16_t priority,
                       const struct match *match)
{
    struct flow_owner *o = owner_find(ft, owner_name);
    if (!o) {
        return;
    }
    struct match m = *match;
    match_set_default_packet_type(&m);
    struct minimatch mm;
    minimatch_init(&mm, &m);
    struct desired_flow *f = flow_lookup(
        ft, table_id, priority, &mm,
        desired_flow_hash(table_id, priority, &mm));
    minimatch_destroy(&mm);
    struct flow_contrib *c = f ? flow_find_contrib(f, o) : NULL;
    if (c) {
        contrib_remove(ft, c);
        owner_touch(ft, o);
        owner_remove_if_empty(ft, o);
    }
}

/* Groups and meters. */

static void
mark_obj_dirty(struct obj_set *set, struct desired_obj *o)
{
    if (ovs_list_is_empty(&o->dirty_node)) {
        ovs_list_push_back(&set->dirty, &o->dirty_node);
    }
}

static struct desired_obj *
obj_lookup(const struct obj_set *set, uint32_t id)
{
    struct desired_obj *o;
    HMAP_FOR_EACH_WITH_HASH (o, node, hash_int(id, 0), &set->map) {
        if (o->id == id) {
            return o;
        }
    }
    return NULL;
}

static struct desired_obj *
obj_get(struct obj_set *set, uint32_t id)
{
    struct desired_obj *o = obj_lookup(set, id);
    if (!o) {
        o = xzalloc(sizeof *o);
        o->id = id;
        ovs_list_init(&o->dirty_node);
        ovs_list_init(&o->owner_node);
        hmap_insert(&set->map, &o->node, hash_int(id, 0));
    }
    return o;
}

/* Makes 'o' a tombstone. */
static void
obj_withdraw(struct obj_set *set, struct desired_obj *o)
{
    ovs_list_remove(&o->owner_node);
    ovs_list_init(&o->owner_node);
    o->owner = NULL;
    free(o->spec);
    o->spec = NULL;
    mark_obj_dirty(set, o);
}

/* Gives 'id' in 'set' the description 'spec' (taken) for the owner named
 * 'owner_name'.  'what' is "group" or "meter", for errors. */
static char *
obj_add(struct flow_table *ft, struct obj_set *set, const char *what,
        const char *owner_name, enum cookie_category category, uint32_t id,
        char *spec, unsigned int copies)
{
    struct desired_obj *o = obj_lookup(set, id);
    if (o && o->owner && strcmp(o->owner->name, owner_name)) {
        char *msg = xasprintf("%s: %s %"PRIu32" is already owned by %s",
                              owner_name, what, id, o->owner->name);
        free(spec);
        return msg;
    }
    if (o && o->owner && !strcmp(o->spec, spec) && o->copies == copies) {
        free(spec);
        return NULL;
    }

    struct flow_owner *owner = owner_get(ft, owner_name, category);
    o = obj_get(set, id);
    if (!o->owner) {
        o->owner = owner;
        ovs_list_push_back(set == &ft->groups ? &owner->groups
                                              : &owner->meters,
                           &o->owner_node);
    }
    free(o->spec);
    o->spec = spec;
    o->copies = copies;
    mark_obj_dirty(set, o);
    owner_touch(ft, owner);
    return NULL;
}

static char *add_group(struct flow_table *, const char *owner_name,
                       enum cookie_category, uint32_t group_id,
                       unsigned int copies, char *spec);

/* Adds group 'group_id' whose description is the printf-style 'format' in
 * ovs-ofctl add-group syntax without the group_id ("type=select,bucket=...").
 * Returns NULL or an error message that the caller must free. */
char *
flow_table_add_group(struct flow_table *ft, const char *owner_name,
                     enum cookie_category category, uint32_t group_id,
                     const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *spec = xvasprintf(format, args);
    va_end(args);
    return add_group(ft, owner_name, category, group_id, 1, spec);
}

/* Like flow_table_add_group(), but the switch gets every bucket 'copies'
 * times: the buckets as given, then again with ids from N up (N buckets),
 * and so on, interleaved.  Only the buckets given are kept here, so a
 * group whose buckets are copied for an even dp_hash spread costs its
 * text once. */
char *
flow_table_add_group_copies(struct flow_table *ft, const char *owner_name,
                            enum cookie_category category, uint32_t group_id,
                            unsigned int copies, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *spec = xvasprintf(format, args);
    va_end(args);
    return add_group(ft, owner_name, category, group_id, MAX(copies, 1),
                     spec);
}

static char *
add_group(struct flow_table *ft, const char *owner_name,
          enum cookie_category category, uint32_t group_id,
          unsigned int copies, char *spec)
{

    /* Validate now, so that errors are reported to the feature that made
     * them rather than when the group is sent. */
    char *text = xasprintf("group_id=%"PRIu32",%s", group_id, spec);
    struct ofputil_group_mod gm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_group_mod_str(&gm, OFPGC15_ADD, text, NULL,
                                          tables_get_map(), &usable);
    if (error) {
        char *msg = xasprintf("%s: bad group \"%s\": %s", owner_name, text,
                              error);
        free(error);
        free(text);
        free(spec);
        return msg;
    }
    ofputil_uninit_group_mod(&gm);
    free(text);
    return obj_add(ft, &ft->groups, "group", owner_name, category, group_id,
                   spec, copies);
}

/* Adds meter 'meter_id' whose configuration is the printf-style 'format' in
 * ovs-ofctl add-meter syntax without the meter id
 * ("pktps,band=type=drop,rate=1000").  Flows of any owner may then use it
 * with "actions=meter:ID,...".  Returns NULL or an error message that the
 * caller must free; on error nothing changes. */
char *
flow_table_add_meter(struct flow_table *ft, const char *owner_name,
                     enum cookie_category category, uint32_t meter_id,
                     const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *spec = xvasprintf(format, args);
    va_end(args);

    /* Validate now.  The parser rejects ids 0 and above OFPM13_MAX; a
     * "meter=" inside 'spec' would override ours, hence the comparison. */
    char *text = xasprintf("meter=%"PRIu32",%s", meter_id, spec);
    struct ofputil_meter_mod mm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_meter_mod_str(&mm, text, OFPMC13_ADD, &usable);
    if (!error && mm.meter.meter_id != meter_id) {
        error = xasprintf("meter id %"PRIu32" given twice", meter_id);
    }
    free(mm.meter.bands);
    if (error) {
        char *msg = xasprintf("%s: bad meter \"%s\": %s", owner_name, text,
                              error);
        free(error);
        free(text);
        free(spec);
        return msg;
    }
    free(text);
    return obj_add(ft, &ft->meters, "meter", owner_name, category, meter_id,
                   spec, 1);
}

const struct desired_obj *
flow_table_find_group(const struct flow_table *ft, uint32_t group_id)
{
    const struct desired_obj *o = obj_lookup(&ft->groups, group_id);
    return o && o->owner ? o : NULL;
}

const struct desired_obj *
flow_table_find_meter(const struct flow_table *ft, uint32_t meter_id)
{
    const struct desired_obj *o = obj_lookup(&ft->meters, meter_id);
    return o && o->owner ? o : NULL;
}

/* Asks for the conntrack entries of 'zone' that 'match' matches to be
 * flushed once the switch holds the table as it is now. */
void
flow_table_add_ct_flush(struct flow_table *ft, uint16_t zone,
                        const struct ofp_ct_match *match)
{
    struct ct_flush_req *req = xmalloc(sizeof *req);
    req->zone = zone;
    req->match = *match;
    ovs_list_push_back(&ft->ct_flushes, &req->node);
    ft->seqno++;
}

/* Withdrawing and setting aside. */

void
flow_table_remove_owner(struct flow_table *ft, const char *name)
{
    struct flow_owner *o = owner_find(ft, name);
    if (!o) {
        return;
    }

    struct flow_contrib *c;
    LIST_FOR_EACH_SAFE (c, owner_node, &o->flows) {
        contrib_remove(ft, c);
    }
    struct desired_obj *obj;
    LIST_FOR_EACH_SAFE (obj, owner_node, &o->groups) {
        obj_withdraw(&ft->groups, obj);
    }
    LIST_FOR_EACH_SAFE (obj, owner_node, &o->meters) {
        obj_withdraw(&ft->meters, obj);
    }
    owner_remove_if_empty(ft, o);
    ft->seqno++;
}

/* Marks everything of 'o' dirty, for a change of its set-aside state. */
static void
owner_refresh(struct flow_table *ft, struct flow_owner *o)
{
    struct flow_contrib *c;
    LIST_FOR_EACH (c, owner_node, &o->flows) {
        flow_refresh(ft, c->flow);
    }
    struct desired_obj *obj;
    LIST_FOR_EACH (obj, owner_node, &o->groups) {
        mark_obj_dirty(&ft->groups, obj);
    }
    LIST_FOR_EACH (obj, owner_node, &o->meters) {
        mark_obj_dirty(&ft->meters, obj);
    }
}

static void
owner_clear_error(struct flow_table *ft, struct flow_owner *o)
{
    free(o->error);
    o->error = NULL;
    ft->n_set_aside--;
    owner_refresh(ft, o);
}

/* Sets aside every owner whose object id is 'object_id' (normally one),
 * because the switch refused one of its messages with 'error': their flows,
 * groups and meters count as absent until they change.  Appends their
 * names to 'names'. */
void
flow_table_set_aside(struct flow_table *ft, uint32_t object_id,
                     const char *error, struct ds *names)
{
    struct flow_owner *o;
    HMAP_FOR_EACH_WITH_HASH (o, id_node, hash_int(object_id, 0),
                             &ft->owners_by_id) {
        if (o->object_id != object_id || o->error) {
            continue;
        }
        o->error = xstrdup(error);
        ft->n_set_aside++;
        owner_refresh(ft, o);
        ft->seqno++;
        if (names) {
            ds_put_format(names, "%s%s", names->length ? ", " : "", o->name);
        }
    }
}

const char *
flow_table_owner_error(const struct flow_table *ft, const char *name)
{
    const struct flow_owner *o = owner_find(ft, name);
    return o ? o->error : NULL;
}

uint64_t
flow_table_owner_seqno(const struct flow_table *ft, const char *name)
{
    const struct flow_owner *o = owner_find(ft, name);
    return o ? o->seqno : 0;
}

void
flow_table_format_set_aside(const struct flow_table *ft, struct ds *s)
{
    ds_put_format(s, "owners set aside: %"PRIuSIZE"\n", ft->n_set_aside);
    if (!ft->n_set_aside) {
        return;
    }
    const struct flow_owner *o;
    HMAP_FOR_EACH (o, node, &ft->owners) {
        if (o->error) {
            ds_put_format(s, "  %s: %s\n", o->name, o->error);
        }
    }
}

/* Dirty marks, for the diff. */

/* Marks the flow with the given key dirty, making a tombstone for it if
 * there is none: the diff then compares it with what is installed. */
void
flow_table_mark_flow(struct flow_table *ft, uint8_t table_id,
                     uint16_t priority, const struct minimatch *match)
{
    struct minimatch copy;
    minimatch_clone(&copy, match);
    mark_flow_dirty(ft, flow_get(ft, table_id, priority, &copy));
}

void
flow_table_mark_group(struct flow_table *ft, uint32_t group_id)
{
    mark_obj_dirty(&ft->groups, obj_get(&ft->groups, group_id));
}

void
flow_table_mark_meter(struct flow_table *ft, uint32_t meter_id)
{
    mark_obj_dirty(&ft->meters, obj_get(&ft->meters, meter_id));
}

static void
obj_set_clear_dirty(struct obj_set *set)
{
    struct desired_obj *o;
    LIST_FOR_EACH_POP (o, dirty_node, &set->dirty) {
        ovs_list_init(&o->dirty_node);
        if (!o->owner) {
            hmap_remove(&set->map, &o->node);
            free(o);
        }
    }
}

/* Forgets the dirty marks and frees the tombstones: the diff has seen
 * them. */
void
flow_table_clear_dirty(struct flow_table *ft)
{
    struct desired_flow *f;
    LIST_FOR_EACH_POP (f, dirty_node, &ft->dirty_flows) {
        ovs_list_init(&f->dirty_node);
        if (ovs_list_is_empty(&f->contribs)) {
            hmap_remove(&ft->flows, &f->node);
            desired_flow_free(f);
        }
    }
    obj_set_clear_dirty(&ft->groups);
    obj_set_clear_dirty(&ft->meters);
}

static void
obj_set_destroy(struct obj_set *set)
{
    struct desired_obj *o;
    HMAP_FOR_EACH_POP (o, node, &set->map) {
        free(o->spec);
        free(o);
    }
    hmap_destroy(&set->map);
}

void
flow_table_destroy(struct flow_table *ft)
{
    struct flow_owner *o;
    HMAP_FOR_EACH_SAFE (o, node, &ft->owners) {
        flow_table_remove_owner(ft, o->name);
    }
    flow_table_clear_dirty(ft);
    struct desired_flow *f;
    HMAP_FOR_EACH_POP (f, node, &ft->flows) {
        desired_flow_free(f);
    }
    hmap_destroy(&ft->flows);
    obj_set_destroy(&ft->groups);
    obj_set_destroy(&ft->meters);
    hmap_destroy(&ft->owners);
    hmap_destroy(&ft->owners_by_id);
    struct ct_flush_req *req;
    LIST_FOR_EACH_POP (req, node, &ft->ct_flushes) {
        free(req);
    }
}

size_t
flow_table_count(const struct flow_table *ft)
{
    return ft->n_flows;
}

size_t
flow_table_count_owner(const struct flow_table *ft, const char *name)
{
    const struct flow_owner *o = owner_find(ft, name);
    return o ? ovs_list_size(&o->flows) : 0;
}

