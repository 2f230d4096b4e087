/*
 * The desired flow table: what the features want br-int to hold.
 *
 * Feature code adds flows, each with an owner (a string "KIND/NAME":
 * "static", "pod/default/web-1", "node/node-2"), and withdraws all of an
 * owner's flows, groups and meters in one call.  Flows come either in
 * ovs-ofctl syntax (flow_table_add()) or already built, as a match and
 * actions (flow_table_add_flow()), which skips the print-then-parse round
 * trip on hot paths.  Nothing here touches a socket: the flow controller
 * (ofctrl) makes the switch match this table.
 *
 * A flow is identified by its key (table, priority, match).  Within one
 * owner, adding a flow with the key of an existing one replaces its actions.
 * A key another owner holds is refused, with one exception: flows whose
 * actions are only conjunction() actions are "conjunctive", and several
 * owners may contribute to one key; the flow the switch gets carries the
 * merged, sorted, de-duplicated conjunction actions of all of them, and an
 * owner's departure changes the shared flow instead of deleting it.  Groups
 * and meters are identified by their id and have one owner each.
 *
 * Every change marks what it touched dirty, so that the diff against the
 * installed table costs O(change): a removed flow, group or meter stays as a
 * "tombstone" (no owner) on the dirty list until the diff has seen it.
 *
 * An owner can be set aside (flow_table_set_aside()) when the switch
 * refuses one of its flows, groups or meters: its contributions then count
 * as absent, so every other owner still installs, and its error is kept for
 * inspection and for the CNI request waiting on it.  Any later change to the
 * owner's flows clears that state and tries it again.
 */
#ifndef TENDRIL_FLOWS_FLOW_TABLE_H
#define TENDRIL_FLOWS_FLOW_TABLE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/compiler.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-ct.h"
#include "flows/cookie.h"
#include "flows/tables.h"

struct ds;
struct ofpact;

/* One owner's part of a flow.  A flow that is not conjunctive has exactly
 * one. */
struct flow_contrib {
    struct ovs_list flow_node;   /* In desired_flow's 'contribs'. */
    struct ovs_list owner_node;  /* In flow_owner's 'flows'. */
    struct desired_flow *flow;
    struct flow_owner *owner;
    struct ofpact *ofpacts;
    size_t ofpacts_len;
};

struct desired_flow {
    struct hmap_node node;       /* In flow_table's 'flows', by key. */
    struct ovs_list dirty_node;  /* In flow_table's 'dirty_flows', or
                                  * detached (ovs_list_is_empty()). */
    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;
    bool conjunctive;            /* Actions are conjunction()s, merged. */
    struct ovs_list contribs;    /* Contains "struct flow_contrib"s; empty
                                  * in a tombstone. */
    size_t n_contribs;

    /* What the switch should hold, from the contributions of owners that
     * are not set aside: 'present' false if there are none.  For a flow
     * that is not conjunctive 'ofpacts' is its one contribution's (not
     * owned); for a conjunctive one, the merged actions (owned). */
    bool present;
    const struct ofpact *ofpacts;
    size_t ofpacts_len;
    uint64_t cookie;             /* Round 0: ofctrl stamps the round. */

    /* A conjunctive flow's contributions changed since 'ofpacts' and
     * 'present' were merged: desired_flow_settle() merges them, once, when
     * they are read.  A flow shared by many owners (a pod that is a peer of
     * 1,000 rules) may change thousands of times in one run. */
    bool merge_pending;
};

void desired_flow_settle(const struct desired_flow *);

/* A group or a meter: an id, its description in ovs-ofctl syntax without
 * the id, and one owner. */
struct desired_obj {
    struct hmap_node node;       /* In its obj_set's 'map', by id. */
    struct ovs_list dirty_node;  /* In its obj_set's 'dirty'. */
    struct ovs_list owner_node;  /* In flow_owner's 'groups' or 'meters'. */
    struct flow_owner *owner;    /* NULL in a tombstone. */
    uint32_t id;
    char *spec;                  /* "type=select,bucket=..." or
                                  * "pktps,band=type=drop,rate=1000"; NULL
                                  * in a tombstone. */
    unsigned int copies;         /* A group: each bucket goes to the switch
                                  * this many times (flow_table_add_group_
                                  * copies()); 1 for a meter. */
};

struct obj_set {
    struct hmap map;             /* Contains "struct desired_obj"s. */
    struct ovs_list dirty;       /* Contains "struct desired_obj"s. */
};

struct flow_owner {
    struct hmap_node node;       /* In flow_table's 'owners', by name. */
    struct hmap_node id_node;    /* In flow_table's 'owners_by_id'. */
    char *name;
    enum cookie_category category;
    uint32_t object_id;          /* Hash of the name: the cookie's id. */
    struct ovs_list flows;       /* Contains "struct flow_contrib"s. */
    size_t n_flows;              /* Its contributions. */
    struct ovs_list groups;      /* Contains "struct desired_obj"s. */
    struct ovs_list meters;      /* Contains "struct desired_obj"s. */
    char *error;                 /* Non-null: set aside, and why. */
    uint64_t seqno;              /* Table version of its last change. */
};

/* A conntrack flush to send once the switch has the changes made before it
 * (for example, a Service's UDP entries to an endpoint that is gone). */
struct ct_flush_req {
    struct ovs_list node;        /* In flow_table's 'ct_flushes'. */
    uint16_t zone;
    struct ofp_ct_match match;
};

struct flow_table {
    struct hmap flows;           /* By (table, priority, match). */
    struct obj_set groups;
    struct obj_set meters;
    struct hmap owners;
    struct hmap owners_by_id;
    struct ovs_list dirty_flows;
    struct ovs_list ct_flushes;  /* Contains "struct ct_flush_req"s. */
    size_t n_flows;              /* Flows with a contribution. */
    size_t n_set_aside;          /* Owners set aside. */
    uint64_t seqno;              /* Increases at every change. */
};

void flow_table_init(struct flow_table *);
void flow_table_destroy(struct flow_table *);

char *flow_table_add(struct flow_table *, const char *owner,
                     enum cookie_category, enum tnd_table, uint16_t priority,
                     const char *format, ...)
    OVS_PRINTF_FORMAT(6, 7) OVS_WARN_UNUSED_RESULT;
char *flow_table_add_flow(struct flow_table *, const char *owner,
                          enum cookie_category, uint8_t table_id,
                          uint16_t priority, const struct match *,
                          const struct ofpact *, size_t ofpacts_len)
    OVS_WARN_UNUSED_RESULT;
char *flow_table_add_group(struct flow_table *, const char *owner,
                           enum cookie_category, uint32_t group_id,
                           const char *format, ...)
    OVS_PRINTF_FORMAT(5, 6) OVS_WARN_UNUSED_RESULT;
char *flow_table_add_group_copies(struct flow_table *, const char *owner,
                                  enum cookie_category, uint32_t group_id,
                                  unsigned int copies, const char *format,
                                  ...)
    OVS_PRINTF_FORMAT(6, 7) OVS_WARN_UNUSED_RESULT;
char *flow_table_add_meter(struct flow_table *, const char *owner,
                           enum cookie_category, uint32_t meter_id,
                           const char *format, ...)
    OVS_PRINTF_FORMAT(5, 6) OVS_WARN_UNUSED_RESULT;
void flow_table_remove_owner(struct flow_table *, const char *owner);
void flow_table_remove_flow(struct flow_table *, const char *owner,
                            uint8_t table_id, uint16_t priority,
                            const struct match *);
void flow_table_add_ct_flush(struct flow_table *, uint16_t zone,
                             const struct ofp_ct_match *);

/* Owners. */
const struct flow_owner *flow_table_find_owner(const struct flow_table *,
                                               const char *name);
void flow_table_set_aside(struct flow_table *, uint32_t object_id,
                          const char *error, struct ds *names);
const char *flow_table_owner_error(const struct flow_table *,
                                   const char *owner);
uint64_t flow_table_owner_seqno(const struct flow_table *,
                                const char *owner);
void flow_table_format_set_aside(const struct flow_table *, struct ds *);

/* For the diff. */
void flow_table_mark_flow(struct flow_table *, uint8_t table_id,
                          uint16_t priority, const struct minimatch *);
void flow_table_mark_group(struct flow_table *, uint32_t group_id);
void flow_table_mark_meter(struct flow_table *, uint32_t meter_id);
void flow_table_clear_dirty(struct flow_table *);

size_t flow_table_count(const struct flow_table *);
size_t flow_table_count_owner(const struct flow_table *, const char *owner);
const struct desired_flow *flow_table_find(const struct flow_table *,
                                           uint8_t table_id,
                                           uint16_t priority,
                                           const struct minimatch *);
const struct desired_obj *flow_table_find_group(const struct flow_table *,
                                                uint32_t group_id);
const struct desired_obj *flow_table_find_meter(const struct flow_table *,
                                                uint32_t meter_id);
uint32_t desired_flow_hash(uint8_t table_id, uint16_t priority,
                           const struct minimatch *);
void flow_table_dump(const struct flow_table *, const char *owner_prefix,
                     bool show_owner, struct ds *);
void desired_flow_format(struct ds *, uint8_t table_id, uint16_t priority,
                 const struct minimatch *, const struct ofpact *,
                 size_t ofpacts_len);

/* A group or meter counts if it has an owner that is not set aside. */
static inline bool
desired_obj_present(const struct desired_obj *o)
{
    return o && o->owner && !o->owner->error;
}

#endif /* flows/flow-table.h */
