/* Peer nodes: the flows that send traffic for another node's podCIDR
 * through the tunnel, in encap mode.  (In noEncap mode a peer needs no
 * flows: pod traffic for it leaves through the gateway and the node's
 * routing table.) */
#include "ovs-config.h"
#include "flows/pipeline.h"

#include <stdlib.h>

#include "flow.h"
#include "flows/fields.h"
#include "flows/flow-table.h"
#include "flows/tables.h"
#include "util.h"

/* The MAC of everything behind the tunnel: packets from the node's kernel
 * for a remote pod carry it (the ARP responder gives it out), and
 * L2ForwardingCalc sends it to the tunnel port. */
const struct eth_addr tunnel_vmac = ETH_ADDR_C(aa,bb,cc,dd,ee,ff);

#define ADD(FT, OWNER, TABLE, PRIORITY, ...)                                \
    do {                                                                    \
        char *error_ = flow_table_add(FT, OWNER, COOKIE_NODE, TABLE,        \
                                      PRIORITY, __VA_ARGS__);               \
        if (error_) {                                                       \
            flow_table_remove_owner(FT, OWNER);                             \
            return error_;                                                  \
        }                                                                   \
    } while (0)

/* Adds the flows for peer node 'peer': its podCIDR is reached through the
 * tunnel to its underlay address, and the node's own kernel, which routes
 * the peer's podCIDR on-link through the gateway, gets the tunnel MAC when
 * it asks for any address there.  On error no flow of 'owner' is left. */
char *
peer_flows_add(struct flow_table *ft, const char *owner,
               const struct node_net *node, const struct peer_net *peer)
{
    if (!ofp_to_u16(node->tun_ofport)) {
        return xasprintf("%s: no tunnel port", owner);
    }
    if (peer->ip.family != AF_INET || peer->pod_cidr.addr.family != AF_INET) {
        return xasprintf("%s: only IPv4 peers are supported", owner);
    }

    char cidr[CIDR_STRLEN], ip[IPADDR_STRLEN];
    cidr_format(&peer->pod_cidr, cidr);
    ipaddr_format(&peer->ip, ip);

    ADD(ft, owner, TABLE_L3_FORWARDING, 200, "ip,nw_dst=%s actions="
        "set_field:"ETH_ADDR_FMT"->eth_src,set_field:"ETH_ADDR_FMT"->eth_dst,"
        "set_field:%s->tun_dst,goto_table:L3DecTTL", cidr,
        ETH_ADDR_ARGS(node->gw_mac), ETH_ADDR_ARGS(tunnel_vmac), ip);

    char *reply = arp_reply_actions(tunnel_vmac);
    char *error = flow_table_add(ft, owner, COOKIE_NODE, TABLE_ARP_RESPONDER,
                                 190, "arp,arp_op=1,arp_tpa=%s actions=%s",
                                 cidr, reply);
    free(reply);
    if (error) {
        flow_table_remove_owner(ft, owner);
        return error;
    }
    return NULL;
}

void
peer_flows_remove(struct flow_table *ft, const char *owner)
{
    flow_table_remove_owner(ft, owner);
}
