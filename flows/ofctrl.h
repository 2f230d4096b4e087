/*
 * The flow controller: one OpenFlow 1.5 connection to a bridge that it
 * keeps matching a desired flow table.
 *
 * At every (re)connection the switch's state is unknown (ovs-vswitchd
 * forgets its flows when it restarts), so the controller first asks the
 * switch which groups and meters it holds, then sends the whole desired
 * table:
 *
 *   - once the agent has said its inputs are complete (ofctrl_set_synced()),
 *     as delete-all-flows plus the full set, with groups and meters nobody
 *     wants deleted, in one bundle;
 *   - before that, as the full set alone, stamped with this run's round;
 *     flows, groups and meters left by the previous run stay until the
 *     agent is synced, then go (flows by cookie mask) in the bundle that
 *     follows, so traffic never sees a table without them.
 *
 * After that, each change is sent as the difference against what is
 * installed, in one ordered, atomic bundle followed by a barrier, one
 * bundle at a time.  The installed table and the installed version move on
 * only when the barrier confirms a bundle the switch applied.  When the
 * switch refuses a message, the owner of that message (found by the
 * message's xid, whose cookie names it) is set aside in the desired table
 * with the switch's error, and the rest is sent again at once; an error
 * that names no owner is retried as a full resynchronisation with
 * exponential backoff.
 *
 * Meters are the exception to "one bundle": ovs-vswitchd refuses meter mods
 * inside bundles, so they go as plain messages, adds and modifies before the
 * bundle and deletes after it.
 */
#ifndef TENDRIL_FLOWS_OFCTRL_H
#define TENDRIL_FLOWS_OFCTRL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "openvswitch/types.h"

struct ds;
struct flow_table;
struct ofputil_flow_stats;
struct ofputil_packet_in;

struct ofctrl *ofctrl_create(const char *target, uint16_t round,
                             uint16_t prev_round);
void ofctrl_destroy(struct ofctrl *);

void ofctrl_run(struct ofctrl *, struct flow_table *);
void ofctrl_wait(struct ofctrl *, const struct flow_table *);

/* Packets the switch sends the controller ("controller" actions).  The
 * handler runs inside ofctrl_run(). */
typedef void ofctrl_packet_in_func(const struct ofputil_packet_in *,
                                   void *aux);
void ofctrl_set_packet_in_handler(struct ofctrl *, ofctrl_packet_in_func *,
                                  void *aux);
void ofctrl_packet_out(struct ofctrl *, const void *packet, size_t len,
                       ofp_port_t out_port);

/* The switch's counters of every flow whose cookie has 'category' (any
 * round).  'cb' runs inside ofctrl_run() once the switch has answered, with
 * the flows (their 'ofpacts' are not kept), or with 'error' if the
 * connection went first.  One request at a time: returns false, and never
 * calls 'cb', while another is under way or without a connection. */
typedef void ofctrl_flow_stats_func(const struct ofputil_flow_stats *,
                                    size_t n, const char *error, void *aux);
bool ofctrl_request_flow_stats(struct ofctrl *, uint8_t category,
                               ofctrl_flow_stats_func *, void *aux);

void ofctrl_set_synced(struct ofctrl *);
bool ofctrl_is_connected(const struct ofctrl *);
bool ofctrl_prev_round_deleted(const struct ofctrl *);
uint64_t ofctrl_installed_seqno(const struct ofctrl *);
uint64_t ofctrl_connection_count(const struct ofctrl *);
void ofctrl_format_stats(const struct ofctrl *, struct ds *);
/* Prometheus families (lib/metrics.h): connection, flows per table,
 * groups, meters, changes, bundles and their latency. */
void ofctrl_format_metrics(const struct ofctrl *, struct ds *);

#endif /* flows/ofctrl.h */
