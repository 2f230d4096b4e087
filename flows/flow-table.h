/*
 * The desired flow table: what the features want br-int to hold.
 *
 * Feature code adds flows in ovs-ofctl syntax, each with an owner (a string
 * "KIND/NAME": "static", "pod/default/web-1", "node/node-2"), and withdraws
 * all of an owner's flows, groups and meters in one call.  Nothing here
 * touches a socket: the flow controller (ofctrl) makes the switch match this
 * table.
 *
 * A flow is identified by (table, priority, match).  Within one owner,
 * adding a flow with the key of an existing one replaces its actions; a
 * flow whose key another owner holds is refused.  Groups and meters are
 * identified by their id, with the same rules.
 */
#ifndef TENDRIL_FLOWS_FLOW_TABLE_H
#define TENDRIL_FLOWS_FLOW_TABLE_H 1

#include <stddef.h>
#include <stdint.h>

#include "openvswitch/compiler.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "flows/cookie.h"
#include "flows/tables.h"

struct ds;
struct ofpact;

struct desired_flow {
    struct hmap_node node;       /* In flow_table's 'flows'. */
    struct ovs_list owner_node;  /* In flow_owner's 'flows'. */
    struct flow_owner *owner;
    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;
    struct ofpact *ofpacts;
    size_t ofpacts_len;
    uint64_t cookie;             /* Round 0: ofctrl stamps the round. */
};

struct desired_group {
    struct hmap_node node;       /* In flow_table's 'groups', by id. */
    struct ovs_list owner_node;  /* In flow_owner's 'groups'. */
    struct flow_owner *owner;
    uint32_t group_id;
    char *spec;                  /* "type=select,bucket=..." */
};

struct desired_meter {
    struct hmap_node node;       /* In flow_table's 'meters', by id. */
    struct ovs_list owner_node;  /* In flow_owner's 'meters'. */
    struct flow_owner *owner;
    uint32_t meter_id;
    char *spec;                  /* "pktps,band=type=drop,rate=1000" */
};

struct flow_owner {
    struct hmap_node node;       /* In flow_table's 'owners'. */
    char *name;
    enum cookie_category category;
    uint32_t object_id;          /* Hash of the name: the cookie's id. */
    struct ovs_list flows;       /* Contains "struct desired_flow"s. */
    struct ovs_list groups;      /* Contains "struct desired_group"s. */
    struct ovs_list meters;      /* Contains "struct desired_meter"s. */
};

struct flow_table {
    struct hmap flows;           /* By (table, priority, match). */
    struct hmap groups;
    struct hmap meters;
    struct hmap owners;
    uint64_t seqno;              /* Increases at every change. */
};

void flow_table_init(struct flow_table *);
void flow_table_destroy(struct flow_table *);

char *flow_table_add(struct flow_table *, const char *owner,
                     enum cookie_category, enum tnd_table, uint16_t priority,
                     const char *format, ...)
    OVS_PRINTF_FORMAT(6, 7) OVS_WARN_UNUSED_RESULT;
char *flow_table_add_group(struct flow_table *, const char *owner,
                           enum cookie_category, uint32_t group_id,
                           const char *format, ...)
    OVS_PRINTF_FORMAT(5, 6) OVS_WARN_UNUSED_RESULT;
char *flow_table_add_meter(struct flow_table *, const char *owner,
                           enum cookie_category, uint32_t meter_id,
                           const char *format, ...)
    OVS_PRINTF_FORMAT(5, 6) OVS_WARN_UNUSED_RESULT;
void flow_table_remove_owner(struct flow_table *, const char *owner);

size_t flow_table_count(const struct flow_table *);
size_t flow_table_count_owner(const struct flow_table *, const char *owner);
const struct desired_flow *flow_table_find(const struct flow_table *,
                                           uint8_t table_id,
                                           uint16_t priority,
                                           const struct minimatch *);
const struct desired_meter *flow_table_find_meter(const struct flow_table *,
                                                  uint32_t meter_id);
uint32_t desired_flow_hash(uint8_t table_id, uint16_t priority,
                           const struct minimatch *);
void flow_table_dump(const struct flow_table *, const char *owner_prefix,
                     bool show_owner, struct ds *);
void desired_flow_format(struct ds *, uint8_t table_id, uint16_t priority,
                 const struct minimatch *, const struct ofpact *,
                 size_t ofpacts_len);

#endif /* flows/flow-table.h */
