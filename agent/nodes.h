/*
 * Routes to the other nodes' pods, from the Kubernetes Node objects.
 *
 * For each peer node with an IPv4 podCIDR and an InternalIP:
 *   - encap mode: flows that send its podCIDR through the tunnel to its
 *     InternalIP (flows/node.c), and a kernel route for its podCIDR on-link
 *     through tendril-gw0, so that the node itself reaches remote pods;
 *   - noEncap mode: a kernel route for its podCIDR via its InternalIP, for
 *     nodes on one L2 segment; pod traffic leaves through the gateway.
 * A peer that is deleted or changes address or podCIDR is updated; one
 * without a podCIDR is skipped with a log line.
 */
#ifndef TENDRIL_AGENT_NODES_H
#define TENDRIL_AGENT_NODES_H 1

#include <stdbool.h>

struct ds;
struct flow_table;
struct k8s_cache;
struct node_net;

struct node_routes *node_routes_create(struct k8s_cache *, const char *self,
                                       bool encap);
void node_routes_destroy(struct node_routes *);
void node_routes_run(struct node_routes *, struct flow_table *,
                     const struct node_net *, bool node_changed);
void node_routes_format(const struct node_routes *, struct ds *);

#endif /* agent/nodes.h */
