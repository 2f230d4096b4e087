/*
 * The podCIDR learned from the Node, kept in STATE_DIR/pod-cidr, so that
 * after a restart the agent brings its pods and flows back from local state
 * alone: its API server may be reachable only through the switch it has to
 * program first (a node whose ovs-vswitchd restarted with
 * flow-restore-wait=true).  The Node is still checked once it is seen.
 */
#ifndef TENDRIL_AGENT_POD_CIDR_H
#define TENDRIL_AGENT_POD_CIDR_H 1

#include <stdbool.h>

struct cidr;

void pod_cidr_save(const char *state_dir, const struct cidr *);
bool pod_cidr_load(const char *state_dir, struct cidr *);

#endif /* agent/pod-cidr.h */
