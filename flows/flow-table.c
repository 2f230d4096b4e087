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
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flow_table);

void
flow_table_init(struct flow_table *ft)
{
    hmap_init(&ft->flows);
    hmap_init(&ft->groups);
    hmap_init(&ft->meters);
    hmap_init(&ft->owners);
    ft->seqno = 1;
}

static void
desired_flow_destroy(struct desired_flow *f)
{
    minimatch_destroy(&f->match);
    free(f->ofpacts);
    free(f);
}

static void
desired_group_destroy(struct desired_group *g)
{
    free(g->spec);
    free(g);
}

static void
desired_meter_destroy(struct desired_meter *m)
{
    free(m->spec);
    free(m);
}

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
    }
    return o;
}

static void
owner_remove_if_empty(struct flow_table *ft, struct flow_owner *o)
{
    if (ovs_list_is_empty(&o->flows) && ovs_list_is_empty(&o->groups)
        && ovs_list_is_empty(&o->meters)) {
        hmap_remove(&ft->owners, &o->node);
        free(o->name);
        free(o);
    }
}

void
flow_table_remove_owner(struct flow_table *ft, const char *name)
{
    struct flow_owner *o = owner_find(ft, name);
    if (!o) {
        return;
    }

    struct desired_flow *f;
    LIST_FOR_EACH_POP (f, owner_node, &o->flows) {
        hmap_remove(&ft->flows, &f->node);
        desired_flow_destroy(f);
    }
    struct desired_group *g;
    LIST_FOR_EACH_POP (g, owner_node, &o->groups) {
        hmap_remove(&ft->groups, &g->node);
        desired_group_destroy(g);
    }
    struct desired_meter *m;
    LIST_FOR_EACH_POP (m, owner_node, &o->meters) {
        hmap_remove(&ft->meters, &m->node);
        desired_meter_destroy(m);
    }
    owner_remove_if_empty(ft, o);
    ft->seqno++;
}

void
flow_table_destroy(struct flow_table *ft)
{
    struct flow_owner *o;
    HMAP_FOR_EACH_SAFE (o, node, &ft->owners) {
        flow_table_remove_owner(ft, o->name);
    }
    hmap_destroy(&ft->flows);
    hmap_destroy(&ft->groups);
    hmap_destroy(&ft->meters);
    hmap_destroy(&ft->owners);
}

uint32_t
desired_flow_hash(uint8_t table_id, uint16_t priority,
                  const struct minimatch *match)
{
    return minimatch_hash(match, hash_2words(table_id, priority));
}

const struct desired_flow *
flow_table_find(const struct flow_table *ft, uint8_t table_id,
                uint16_t priority, const struct minimatch *match)
{
    const struct desired_flow *f;
    uint32_t hash = desired_flow_hash(table_id, priority, match);

    HMAP_FOR_EACH_WITH_HASH (f, node, hash, &ft->flows) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, match)) {
            return f;
        }
    }
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

    struct flow_owner *owner = owner_get(ft, owner_name, category);
    struct desired_flow *old = CONST_CAST(
        struct desired_flow *, flow_table_find(ft, table, priority,
                                               &fm.match));
    if (old && old->owner != owner) {
        char *msg = xasprintf("%s: flow \"%s\" is already owned by %s",
                              owner_name, ds_cstr(&s), old->owner->name);
        minimatch_destroy(&fm.match);
        free(fm.ofpacts);
        ds_destroy(&s);
        owner_remove_if_empty(ft, owner);
        return msg;
    }
    ds_destroy(&s);

    if (old) {
        if (!ofpacts_equal(old->ofpacts, old->ofpacts_len,
                           fm.ofpacts, fm.ofpacts_len)) {
            free(old->ofpacts);
            old->ofpacts = fm.ofpacts;
            old->ofpacts_len = fm.ofpacts_len;
            ft->seqno++;
        } else {
            free(fm.ofpacts);
        }
        minimatch_destroy(&fm.match);
        return NULL;
    }

    struct desired_flow *f = xzalloc(sizeof *f);
    f->owner = owner;
    f->table_id = table;
    f->priority = priority;
    minimatch_move(&f->match, &fm.match);
    f->ofpacts = fm.ofpacts;
    f->ofpacts_len = fm.ofpacts_len;
    f->cookie = cookie_make(0, owner->category, owner->object_id);
    hmap_insert(&ft->flows, &f->node,
                desired_flow_hash(table, priority, &f->match));
    ovs_list_push_back(&owner->flows, &f->owner_node);
    ft->seqno++;
    return NULL;
}

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

    struct flow_owner *owner = owner_get(ft, owner_name, category);
    struct desired_group *g;
    HMAP_FOR_EACH_WITH_HASH (g, node, hash_int(group_id, 0), &ft->groups) {
        if (g->group_id == group_id) {
            if (g->owner != owner) {
                char *msg = xasprintf("%s: group %"PRIu32" is already owned "
                                      "by %s", owner_name, group_id,
                                      g->owner->name);
                free(spec);
                owner_remove_if_empty(ft, owner);
                return msg;
            }
            if (strcmp(g->spec, spec)) {
                free(g->spec);
                g->spec = spec;
                ft->seqno++;
            } else {
                free(spec);
            }
            return NULL;
        }
    }

    g = xzalloc(sizeof *g);
    g->owner = owner;
    g->group_id = group_id;
    g->spec = spec;
    hmap_insert(&ft->groups, &g->node, hash_int(group_id, 0));
    ovs_list_push_back(&owner->groups, &g->owner_node);
    ft->seqno++;
    return NULL;
}

const struct desired_meter *
flow_table_find_meter(const struct flow_table *ft, uint32_t meter_id)
{
    const struct desired_meter *m;

    HMAP_FOR_EACH_WITH_HASH (m, node, hash_int(meter_id, 0), &ft->meters) {
        if (m->meter_id == meter_id) {
            return m;
        }
    }
    return NULL;
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

    /* Validate now, so that errors are reported to the feature that made
     * them rather than when the meter is sent.  The parser rejects ids 0
     * and above OFPM13_MAX; a "meter=" inside 'spec' would override ours,
     * hence the comparison. */
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

    struct flow_owner *owner = owner_get(ft, owner_name, category);
    struct desired_meter *m = CONST_CAST(struct desired_meter *,
                                         flow_table_find_meter(ft, meter_id));
    if (m) {
        if (m->owner != owner) {
            char *msg = xasprintf("%s: meter %"PRIu32" is already owned by "
                                  "%s", owner_name, meter_id,
                                  m->owner->name);
            free(spec);
            owner_remove_if_empty(ft, owner);
            return msg;
        }
        if (strcmp(m->spec, spec)) {
            free(m->spec);
            m->spec = spec;
            ft->seqno++;
        } else {
            free(spec);
        }
        return NULL;
    }

    m = xzalloc(sizeof *m);
    m->owner = owner;
    m->meter_id = meter_id;
    m->spec = spec;
    hmap_insert(&ft->meters, &m->node, hash_int(meter_id, 0));
    ovs_list_push_back(&owner->meters, &m->owner_node);
    ft->seqno++;
    return NULL;
}

size_t
flow_table_count(const struct flow_table *ft)
{
    return hmap_count(&ft->flows);
}

size_t
flow_table_count_owner(const struct flow_table *ft, const char *name)
{
    const struct flow_owner *o = owner_find(ft, name);
    return o ? ovs_list_size(&o->flows) : 0;
}

/* Formats a flow the way `ovs-ofctl dump-flows --names` would, without
 * statistics. */
void
desired_flow_format(struct ds *s, uint8_t table_id, uint16_t priority,
            const struct minimatch *match, const struct ofpact *ofpacts,
            size_t ofpacts_len)
{
    ds_put_format(s, "table=%s, ", table_name(table_id));
    size_t start = s->length;
    minimatch_format(match, NULL, NULL, s, priority);
    if (s->length == start) {
        ds_put_format(s, "priority=%"PRIu16, priority);
    }
    ds_put_cstr(s, " actions=");
    struct ofpact_format_params fp = {
        .table_map = tables_get_map(),
        .s = s,
    };
    ofpacts_format(ofpacts, ofpacts_len, &fp);
}

/* True if 'owner' is 'prefix' or lies under it ("pod/default/web" covers
 * "pod/default/web/abc-eth0" but not "pod/default/webapp"). */
static bool
owner_matches(const char *owner, const char *prefix)
{
    size_t n = strlen(prefix);
    return !strncmp(owner, prefix, n)
           && (owner[n] == '\0' || owner[n] == '/' || !n
               || prefix[n - 1] == '/');
}

struct dump_line {
    uint8_t table_id;
    uint16_t priority;
    char *text;
};

static int
compare_dump_lines(const void *a_, const void *b_)
{
    const struct dump_line *a = a_, *b = b_;
    if (a->table_id != b->table_id) {
        return a->table_id < b->table_id ? -1 : 1;
    }
    if (a->priority != b->priority) {
        return a->priority > b->priority ? -1 : 1;
    }
    return strcmp(a->text, b->text);
}

struct id_line {
    uint32_t id;
    const char *spec;
    const struct flow_owner *owner;
};

static int
compare_id_lines(const void *a_, const void *b_)
{
    const struct id_line *a = a_, *b = b_;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Sorts the 'n' 'lines' by id and appends them to 's', each as
 * "KEY=ID,SPEC", then frees 'lines'. */
static void
dump_id_lines(struct id_line *lines, size_t n, const char *key,
              bool show_owner, struct ds *s)
{
    qsort(lines, n, sizeof *lines, compare_id_lines);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s=%"PRIu32",%s", key, lines[i].id, lines[i].spec);
        if (show_owner) {
            ds_put_format(s, " (%s)", lines[i].owner->name);
        }
        ds_put_char(s, '\n');
    }
    free(lines);
}

/* Appends the flows whose owner is or lies under 'owner_prefix' (all if
 * NULL) to 's', one a line, sorted by table, then by decreasing priority,
 * then by text, followed by the groups, then the meters, each sorted by id.
 * With 'show_owner', each line ends with the owner's name. */
void
flow_table_dump(const struct flow_table *ft, const char *owner_prefix,
                bool show_owner, struct ds *s)
{
    size_t n = 0;
    struct dump_line *lines = xmalloc(
        (hmap_count(&ft->flows) + 1) * sizeof *lines);
    const struct desired_flow *f;

    HMAP_FOR_EACH (f, node, &ft->flows) {
        if (owner_prefix && !owner_matches(f->owner->name, owner_prefix)) {
            continue;
        }
        struct ds line = DS_EMPTY_INITIALIZER;
        desired_flow_format(&line, f->table_id, f->priority, &f->match,
                            f->ofpacts, f->ofpacts_len);
        if (show_owner) {
            ds_put_format(&line, " (%s)", f->owner->name);
        }
        lines[n].table_id = f->table_id;
        lines[n].priority = f->priority;
        lines[n].text = ds_steal_cstr(&line);
        n++;
    }
    qsort(lines, n, sizeof *lines, compare_dump_lines);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s\n", lines[i].text);
        free(lines[i].text);
    }
    free(lines);

    const struct desired_group *g;
    struct id_line *ids = xmalloc((hmap_count(&ft->groups) + 1)
                                  * sizeof *ids);
    n = 0;
    HMAP_FOR_EACH (g, node, &ft->groups) {
        if (!owner_prefix || owner_matches(g->owner->name, owner_prefix)) {
            ids[n++] = (struct id_line) { g->group_id, g->spec, g->owner };
        }
    }
    dump_id_lines(ids, n, "group_id", show_owner, s);

    const struct desired_meter *m;
    ids = xmalloc((hmap_count(&ft->meters) + 1) * sizeof *ids);
    n = 0;
    HMAP_FOR_EACH (m, node, &ft->meters) {
        if (!owner_prefix || owner_matches(m->owner->name, owner_prefix)) {
            ids[n++] = (struct id_line) { m->meter_id, m->spec, m->owner };
        }
    }
    dump_id_lines(ids, n, "meter", show_owner, s);
}
