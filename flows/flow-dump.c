/* The desired flow table as flows/dump and the golden tests show it. */
#include "ovs-config.h"
#include "flows/flow-table.h"

#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "util.h"

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

static bool
flow_matches(const struct desired_flow *f, const char *prefix)
{
    const struct flow_contrib *c;
    LIST_FOR_EACH (c, flow_node, &f->contribs) {
        if (!prefix || owner_matches(c->owner->name, prefix)) {
            return true;
        }
    }
    return false;
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

/* One desired flow as a dump line: the actions the switch gets, or, for an
 * owner set aside, the ones it asked for. */
static char *
flow_dump_text(const struct desired_flow *f, bool show_owner)
{
    const struct flow_contrib *first = CONTAINER_OF(
        ovs_list_front(&f->contribs), struct flow_contrib, flow_node);
    desired_flow_settle(f);
    struct ds line = DS_EMPTY_INITIALIZER;
    desired_flow_format(&line, f->table_id, f->priority, &f->match,
                        f->present ? f->ofpacts : first->ofpacts,
                        f->present ? f->ofpacts_len : first->ofpacts_len);
    if (show_owner) {
        const struct flow_contrib *c;
        ds_put_cstr(&line, " (");
        LIST_FOR_EACH (c, flow_node, &f->contribs) {
            ds_put_format(&line, "%s%s%s", c == first ? "" : ",",
                          c->owner->name, c->owner->error ? " set aside"
                                                          : "");
        }
        ds_put_char(&line, ')');
    }
    return ds_steal_cstr(&line);
}

struct id_line {
    uint32_t id;
    const char *spec;
    unsigned int copies;
    const struct flow_owner *owner;
};

static int
compare_id_lines(const void *a_, const void *b_)
{
    const struct id_line *a = a_, *b = b_;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Appends the groups or meters of 'set' whose owner is or lies under
 * 'prefix' to 's', sorted by id, each as "KEY=ID,SPEC", with " (each
 * bucket K times)" for a group whose buckets the switch gets K times. */
static void
dump_objs(const struct obj_set *set, const char *prefix, const char *key,
          bool show_owner, struct ds *s)
{
    struct id_line *lines = xmalloc((hmap_count(&set->map) + 1)
                                    * sizeof *lines);
    size_t n = 0;
    const struct desired_obj *o;
    HMAP_FOR_EACH (o, node, &set->map) {
        if (o->owner && (!prefix || owner_matches(o->owner->name, prefix))) {
            lines[n++] = (struct id_line) { o->id, o->spec, o->copies,
                                            o->owner };
        }
    }
    qsort(lines, n, sizeof *lines, compare_id_lines);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s=%"PRIu32",%s", key, lines[i].id, lines[i].spec);
        if (lines[i].copies > 1) {
            ds_put_format(s, " (each bucket %u times)", lines[i].copies);
        }
        if (show_owner) {
            ds_put_format(s, " (%s%s)", lines[i].owner->name,
                          lines[i].owner->error ? " set aside" : "");
        }
        ds_put_char(s, '\n');
    }
    free(lines);
}

/* Appends the flows whose owner is or lies under 'owner_prefix' (all if
 * NULL) to 's', one a line, sorted by table, then by decreasing priority,
 * then by text, followed by the groups, then the meters, each sorted by id.
 * With 'show_owner', each line ends with the owner's name (a conjunctive
 * flow's owners, comma-separated). */
void
flow_table_dump(const struct flow_table *ft, const char *owner_prefix,
                bool show_owner, struct ds *s)
{
    size_t n = 0;
    struct dump_line *lines = xmalloc((ft->n_flows + 1) * sizeof *lines);
    const struct desired_flow *f;

    HMAP_FOR_EACH (f, node, &ft->flows) {
        if (!flow_matches(f, owner_prefix)) {
            continue;
        }
        lines[n].table_id = f->table_id;
        lines[n].priority = f->priority;
        lines[n].text = flow_dump_text(f, show_owner);
        n++;
    }
    qsort(lines, n, sizeof *lines, compare_dump_lines);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s\n", lines[i].text);
        free(lines[i].text);
    }
    free(lines);

    dump_objs(&ft->groups, owner_prefix, "group_id", show_owner, s);
    dump_objs(&ft->meters, owner_prefix, "meter", show_owner, s);
}
