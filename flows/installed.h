/*
 * What the flow controller believes the switch holds, and the diff that
 * turns it into the desired table.
 *
 * installed_diff() is pure: it appends the OpenFlow messages that make the
 * switch match 'desired' to a list, in an order that is safe to apply one
 * after another (groups are created before flows refer to them and deleted
 * after), and updates the installed table as if they were applied.  The
 * order is: meter adds and modifies, group adds and modifies, flow deletes,
 * flow adds and modifies, group deletes, meter deletes.  The caller sends
 * them, normally as one atomic bundle; ovs-vswitchd (3.1) refuses meter
 * mods inside a bundle (OFPBFC_MSG_UNSUP), so the leading meter mods go as
 * plain messages before it and the trailing ones after it.
 */
#ifndef TENDRIL_FLOWS_INSTALLED_H
#define TENDRIL_FLOWS_INSTALLED_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-protocol.h"

struct flow_table;

struct installed {
    struct hmap flows;           /* Contains "struct installed_flow"s. */
    struct hmap groups;          /* Contains "struct installed_group"s. */
    struct hmap meters;          /* Contains "struct installed_meter"s. */

    /* True if the switch may hold meters missing from 'meters' (left by an
     * earlier run or connection).  installed_diff() then sends each meter
     * new to 'meters' as an add followed by a modify: the add fails with
     * OFPMMFC_METER_EXISTS if the meter is there already, which the caller
     * must ignore, and the modify sets the configuration either way.
     * Initially false; installed_clear() leaves it alone. */
    bool meters_unknown;
};

struct diff_stats {
    uint64_t flows_added;
    uint64_t flows_modified;
    uint64_t flows_deleted;
    uint64_t groups_added;
    uint64_t groups_modified;
    uint64_t groups_deleted;
    uint64_t meters_added;
    uint64_t meters_modified;
    uint64_t meters_deleted;
};

void installed_init(struct installed *);
void installed_destroy(struct installed *);
void installed_clear(struct installed *);
size_t installed_count(const struct installed *);
size_t installed_count_meters(const struct installed *);

void installed_diff(struct installed *, const struct flow_table *desired,
                    uint16_t round, enum ofp_version, struct ovs_list *msgs,
                    struct diff_stats *);

struct ofpbuf *installed_encode_delete_all_flows(enum ofp_version);
struct ofpbuf *installed_encode_delete_all_groups(enum ofp_version);
struct ofpbuf *installed_encode_delete_all_meters(enum ofp_version);
struct ofpbuf *installed_encode_delete_round(enum ofp_version,
                                             uint16_t round);

#endif /* flows/installed.h */
