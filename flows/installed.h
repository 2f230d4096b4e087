/*
 * What the flow controller believes the switch holds, and the diff that
 * turns it into the desired table.
 *
 * installed_diff() is pure: it appends the OpenFlow messages that make the
 * switch match 'desired' to a list, in an order that is safe to apply one
 * after another (groups are created before flows refer to them and deleted
 * after), and records in a transaction what each message will change in
 * the installed table.  Nothing changes in the installed table until the
 * caller knows which messages the switch applied: installed_commit()
 * applies the transaction's operations except those marked failed, and a
 * failed bundle is simply dropped (installed_txn_destroy()).
 *
 * The order is: meter adds and modifies, group adds and modifies, flow
 * deletes, flow adds and modifies, group deletes, meter deletes.  The
 * caller sends them, normally as one atomic bundle; ovs-vswitchd (3.1)
 * refuses meter mods inside a bundle (OFPBFC_MSG_UNSUP), so the leading
 * meter mods go as plain messages before it and the trailing ones after it.
 *
 * In DIFF_DIRTY mode the diff looks only at what the desired table marked
 * dirty, so its cost is that of the change; DIFF_FULL looks at everything
 * and expects the installed flows to be empty (the caller sends a delete
 * first).  With 'prune', groups and meters the switch holds that nobody
 * wants, such as those an earlier run left, are deleted as well.
 */
#ifndef TENDRIL_FLOWS_INSTALLED_H
#define TENDRIL_FLOWS_INSTALLED_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/types.h"

struct flow_table;

struct installed {
    struct hmap flows;           /* Contains "struct installed_flow"s. */
    struct hmap groups;          /* Contains "struct installed_obj"s. */
    struct hmap meters;          /* Contains "struct installed_obj"s. */
};

/* What a list of messages will change in the installed table once the
 * switch has applied them. */
struct installed_txn {
    struct ovs_list ops;         /* Contains "struct installed_op"s. */
    size_t n_ops;
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

enum diff_mode {
    DIFF_DIRTY,                  /* Only what changed. */
    DIFF_FULL,                   /* Everything; installed flows empty. */
};

void installed_init(struct installed *);
void installed_destroy(struct installed *);
void installed_clear_flows(struct installed *);
void installed_clear(struct installed *);
size_t installed_count(const struct installed *);
size_t installed_count_groups(const struct installed *);
size_t installed_count_meters(const struct installed *);
/* counts[T]: the installed flows in table T. */
void installed_count_by_table(const struct installed *, size_t counts[256]);

/* Records that the switch holds group or meter 'id' with an unknown
 * configuration (from a dump at connection time). */
void installed_note_group(struct installed *, uint32_t group_id);
void installed_note_meter(struct installed *, uint32_t meter_id);

void installed_diff(struct installed *, struct flow_table *desired,
                    enum diff_mode, bool prune, uint16_t round,
                    enum ofp_version, struct ovs_list *msgs,
                    struct installed_txn *, struct diff_stats *);

void installed_txn_init(struct installed_txn *);
void installed_txn_destroy(struct installed_txn *);
bool installed_txn_fail(struct installed_txn *, ovs_be32 xid,
                        uint32_t *object_id);
bool installed_txn_has(const struct installed_txn *, ovs_be32 xid);
void installed_txn_mark(const struct installed_txn *, struct flow_table *);
void installed_commit(struct installed *, struct installed_txn *);

struct ofpbuf *installed_encode_delete_all_flows(enum ofp_version);
struct ofpbuf *installed_encode_delete_round(enum ofp_version,
                                             uint16_t round);

#endif /* flows/installed.h */
