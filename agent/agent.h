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
void agent_format_memory(const struct agent *, struct ds *);
void agent_format_sync_stats(const struct agent *, struct ds *);
char *agent_format_k8s_status(const struct agent *, struct ds *)
    OVS_WARN_UNUSED_RESULT;
char *agent_format_k8s_get(const struct agent *, const char *kind,
                           const char *key, struct ds *)
    OVS_WARN_UNUSED_RESULT;
void agent_dump_flows(const struct agent *, const char *owner, struct ds *);

#endif /* agent/agent.h */
