#include "ovs-config.h"
#include "agent/gateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flows/pipeline.h"
#include "lib/cidr.h"
#include "lib/link.h"
#include "openvswitch/vlog.h"
#include "ovsdb/bridge.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(gateway);

/* The gateway's MAC: 0a:58 and the gateway's IPv4 address, as
 * OVN-Kubernetes does, so that it is the same after every restart. */
struct eth_addr
gateway_mac(const struct ipaddr *gw)
{
    struct eth_addr mac = ETH_ADDR_C(0a,58,00,00,00,00);
    memcpy(&mac.ea[2], gw->bytes, 4);
    return mac;
}

/* The node forwards between its pods, the gateway and the underlay. */
static void
enable_ip_forward(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "r+");
    if (f) {
        int c = getc(f);
        if (c != '1') {
            rewind(f);
            fputs("1\n", f);
            VLOG_INFO("enabled IPv4 forwarding");
        }
        fclose(f);
    }
}

/* The node's gateway: tendril-gw0 gets the gateway address, the MTU, and
 * no IPv6, so that the node routes its podCIDR into br-int.  Done again
 * whenever OVSDB changes, since a restarted ovs-vswitchd makes the device
 * anew. */
bool
gateway_configure(const struct node_net *node, int mtu)
{
    struct link_ns *ns;
    if (link_ns_open(-1, &ns)) {
        return false;
    }

    struct link_info info;
    bool configured = false;
    if (!link_get(ns, GW_PORT_NAME, &info)) {
        struct link_addr *addrs;
        size_t n_addrs;
        bool have = false;
        if (!link_addr_list(ns, info.ifindex, AF_INET, &addrs, &n_addrs)) {
            for (size_t i = 0; i < n_addrs; i++) {
                have |= ipaddr_equals(&addrs[i].addr, &node->gw_ip);
            }
            free(addrs);
        }
        int error = 0;
        if (info.mtu != mtu) {
            error = link_set_mtu(ns, GW_PORT_NAME, mtu);
        }
        if (!error) {
            ignore(link_disable_ipv6(ns, GW_PORT_NAME));
        }
        if (!error && !have) {
            error = link_addr_add(ns, info.ifindex, &node->gw_ip,
                                  node->pod_cidr.plen);
        }
        if (!error && !info.up) {
            error = link_set_up(ns, GW_PORT_NAME, true);
        }
        if (error) {
            char *msg = link_ns_strerror(ns, error);
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
            VLOG_WARN_RL(&rl, "%s: configuring the gateway failed (%s)",
                         GW_PORT_NAME, msg);
            free(msg);
        } else {
            if (!have) {
                char gw[IPADDR_STRLEN];
                VLOG_INFO("%s: %s/%u, MTU %d", GW_PORT_NAME,
                          ipaddr_format(&node->gw_ip, gw),
                          node->pod_cidr.plen, mtu);
            }
            configured = true;
            enable_ip_forward();
        }
    }
    link_ns_close(ns);
    return configured;
}

