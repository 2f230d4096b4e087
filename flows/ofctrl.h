/*
 * The flow controller: one OpenFlow 1.5 connection to a bridge that it
 * keeps matching a desired flow table.
 *
 * Each change to the desired table is sent as the difference against what
 * is installed, in one ordered, atomic bundle followed by a barrier.  On
 * every (re)connection the switch's state is unknown (ovs-vswitchd forgets
 * its flows when it restarts), so the whole desired table is sent again:
 *
 *   - once the agent has said its inputs are complete (ofctrl_set_synced()),
 *     as delete-all plus the full set, in one bundle;
 *   - before that, as the full set alone, stamped with this run's round;
 *     flows left by the previous run (the previous round) stay until the
 *     agent is synced, then go by cookie mask in the bundle that follows,
 *     so traffic never sees a table without them.
 *
 * Meters are the exception to "one bundle": ovs-vswitchd refuses meter mods
 * inside bundles, so they go as plain messages, adds and modifies before the
 * bundle and deletes after it.  A full resync once synced deletes all meters
 * before the bundle, which makes the switch drop the flows that use them
 * until the bundle puts them back.  Before that, meters an earlier run left
 * stay; those that are still wanted are overwritten (add, then modify), the
 * others stay until the next synced full resync.
 */
#ifndef TENDRIL_FLOWS_OFCTRL_H
#define TENDRIL_FLOWS_OFCTRL_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct flow_table;

struct ofctrl *ofctrl_create(const char *target, uint16_t round,
                             uint16_t prev_round);
void ofctrl_destroy(struct ofctrl *);

void ofctrl_run(struct ofctrl *, const struct flow_table *);
void ofctrl_wait(struct ofctrl *, const struct flow_table *);

void ofctrl_set_synced(struct ofctrl *);
bool ofctrl_is_connected(const struct ofctrl *);
bool ofctrl_prev_round_deleted(const struct ofctrl *);
uint64_t ofctrl_installed_seqno(const struct ofctrl *);
uint64_t ofctrl_connection_count(const struct ofctrl *);
void ofctrl_format_stats(const struct ofctrl *, struct ds *);

#endif /* flows/ofctrl.h */
