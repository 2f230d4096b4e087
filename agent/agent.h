/*
 * The agent: one event loop around its modules (OVSDB, the flow
 * controller, the CNI server, unixctl).  Inputs change its state; the
 * features turn state into desired flows; the flow controller makes br-int
 * match them.
 */
#ifndef TENDRIL_AGENT_AGENT_H
#define TENDRIL_AGENT_AGENT_H 1

#include <stdbool.h>

#include "openvswitch/compiler.h"

struct agent;
struct agent_config;
struct ds;

char *agent_create(const struct agent_config *, struct agent **)
    OVS_WARN_UNUSED_RESULT;
void agent_destroy(struct agent *);
void agent_run(struct agent *);
void agent_wait(struct agent *);

void agent_format_status(const struct agent *, struct ds *);
void agent_format_pods(const struct agent *, struct ds *);
void agent_format_ipam(const struct agent *, struct ds *);
void agent_format_nodes(const struct agent *, struct ds *);
void agent_format_services(const struct agent *, struct ds *);
void agent_format_policies(const struct agent *, struct ds *);
void agent_format_feature(const struct agent *, const char *name,
                          struct ds *);
/* Asks the switch for the counters of feature 'name''s flows; 'done' then
 * gets them as its format_stats() puts them, or an error.  Returns false if
 * it cannot ask now (no connection, another request under way, no such
 * statistics). */
typedef void agent_stats_done_func(const char *text, const char *error,
                                   void *aux);
bool agent_feature_stats(struct agent *, const char *name,
                         agent_stats_done_func *, void *aux);
/* policy/explain: the NetworkPolicy verdict on each (SRC, DST,
 * PROTO/PORT) triple in 'argv', on the sides local to this node, traced
 * through the installed flows (agent/explain.c). */
char *agent_policy_explain(const struct agent *, int argc,
                           const char *argv[], struct ds *)
    OVS_WARN_UNUSED_RESULT;
void agent_format_memory(const struct agent *, struct ds *);
void agent_format_sync_stats(const struct agent *, struct ds *);
char *agent_format_k8s_status(const struct agent *, struct ds *)
    OVS_WARN_UNUSED_RESULT;
char *agent_format_k8s_get(const struct agent *, const char *kind,
                           const char *key, struct ds *)
    OVS_WARN_UNUSED_RESULT;
void agent_dump_flows(const struct agent *, const char *owner, struct ds *);

#endif /* agent/agent.h */
