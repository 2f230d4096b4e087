/*
 * What the flow controller believes the switch holds, and the diff that
 * turns it into the desired table.
 *
 * installed_diff() is pure: it appends the OpenFlow messages that make the
 * switch match 'desired' to a list, in an order that is safe to apply one
 * after another (groups are created before flows refer to them and deleted
 * after), and updates the installed table as if they were applied.  The
 * caller sends them, normally as one atomic bundle.
 */
#ifndef TENDRIL_FLOWS_INSTALLED_H
#define TENDRIL_FLOWS_INSTALLED_H 1

#include <stdint.h>

#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-protocol.h"

struct flow_table;

struct installed {
    struct hmap flows;           /* Contains "struct installed_flow"s. */
    struct hmap groups;          /* Contains "struct installed_group"s. */
};

struct diff_stats {
    uint64_t flows_added;
    uint64_t flows_modified;
    uint64_t flows_deleted;
    uint64_t groups_added;
    uint64_t groups_modified;
    uint64_t groups_deleted;
};

void installed_init(struct installed *);
void installed_destroy(struct installed *);
void installed_clear(struct installed *);
size_t installed_count(const struct installed *);

void installed_diff(struct installed *, const struct flow_table *desired,
                    uint16_t round, enum ofp_version, struct ovs_list *msgs,
                    struct diff_stats *);

struct ofpbuf *installed_encode_delete_all_flows(enum ofp_version);
struct ofpbuf *installed_encode_delete_all_groups(enum ofp_version);
struct ofpbuf *installed_encode_delete_round(enum ofp_version,
                                             uint16_t round);

#endif /* flows/installed.h */
