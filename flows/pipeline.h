/*
 * The features that turn the node's and its pods' state into desired
 * flows.  Pure: they only add to and remove from a flow_table.
 */
#ifndef TENDRIL_FLOWS_PIPELINE_H
#define TENDRIL_FLOWS_PIPELINE_H 1

#include <stdbool.h>

#include "lib/cidr.h"
#include "openvswitch/types.h"
#include "packets.h"

struct flow_table;

/* What the static flows need to know about the node. */
struct node_net {
    ofp_port_t gw_ofport;        /* tendril-gw0. */
    struct eth_addr gw_mac;
    struct ipaddr gw_ip;         /* First address of the podCIDR. */
    struct cidr pod_cidr;
    ofp_port_t tun_ofport;       /* tendril-tun0, or 0 in noEncap mode. */
};

/* One pod interface attached to br-int. */
struct pod_net {
    ofp_port_t ofport;
    struct eth_addr mac;         /* The pod side's MAC. */
    struct ipaddr ip;
};

/* A peer node: its underlay address and podCIDR. */
struct peer_net {
    struct ipaddr ip;
    struct cidr pod_cidr;
};

extern const struct eth_addr tunnel_vmac;

#define STATIC_OWNER "static"

char *pipeline_add_static(struct flow_table *, const struct node_net *)
    OVS_WARN_UNUSED_RESULT;
char *pod_flows_add(struct flow_table *, const char *owner,
                    const struct node_net *, const struct pod_net *)
    OVS_WARN_UNUSED_RESULT;
void pod_flows_remove(struct flow_table *, const char *owner);
char *peer_flows_add(struct flow_table *, const char *owner,
                     const struct node_net *, const struct peer_net *)
    OVS_WARN_UNUSED_RESULT;
void peer_flows_remove(struct flow_table *, const char *owner);

char *arp_reply_actions(const struct eth_addr);

#endif /* flows/pipeline.h */
