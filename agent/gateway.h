/*
 * The node's gateway, tendril-gw0: the port through which the node reaches
 * its pods and pods leave the podCIDR.
 */
#ifndef TENDRIL_AGENT_GATEWAY_H
#define TENDRIL_AGENT_GATEWAY_H 1

#include <stdbool.h>

#include "packets.h"

struct ipaddr;
struct node_net;

struct eth_addr gateway_mac(const struct ipaddr *gw);
bool gateway_configure(const struct node_net *, int mtu);

#endif /* agent/gateway.h */
