/*
 * Services: the flows that load-balance a Service's virtual addresses over
 * its endpoints inside br-int.  Pure: only adds to and removes from a
 * flow_table.
 *
 * A new connection to VIP:PORT (ServiceLB) goes to the select group of
 * that Service port; the group's bucket for one endpoint loads the
 * endpoint's address into reg3 and its port into reg4[0..15] and resubmits
 * to EndpointDNAT, where the endpoint's flow commits the connection with
 * nat(dst=IP:PORT) and ct_mark's Service bit.  Later packets of the
 * connection, and the replies, are translated by the ct(nat) of
 * ConntrackZone, so they keep their endpoint while it exists.  A new
 * connection to a Service port without endpoints goes to the agent
 * (through a meter), which refuses it (flows/reject.h).
 *
 * With ClientIP session affinity the new connection first looks up the
 * client in SessionAffinity, where the group's bucket has made the switch
 * learn (client, VIP, protocol, port) -> endpoint (on a third pass through
 * ServiceLB, as a bucket cannot learn), with the affinity
 * timeout as idle timeout; a hit whose endpoint is still one of this
 * Service port's goes straight to EndpointDNAT, anything else to the group,
 * which learns again.
 *
 * The EndpointDNAT flow of an endpoint (protocol, IP, port) is shared by
 * every Service port that reaches it, so it has an owner of its own
 * ("endpoint/tcp/10.244.1.5:8080"); the caller counts its users.
 */
#ifndef TENDRIL_FLOWS_SERVICE_H
#define TENDRIL_FLOWS_SERVICE_H 1

#include <stddef.h>
#include <stdint.h>

#include "lib/cidr.h"
#include "openvswitch/compiler.h"
#include "packets.h"

struct flow_table;

struct service_endpoint {
    struct ipaddr ip;
    uint16_t port;
};

struct service_port {
    uint8_t ip_proto;            /* IPPROTO_TCP, IPPROTO_UDP. */
    uint16_t port;               /* The Service's port. */
    uint32_t group_id;
    const struct service_endpoint *endpoints;
    size_t n_endpoints;
    uint32_t affinity_timeout;   /* ClientIP affinity: seconds; 0 = none. */
    uint32_t frag_group_id;      /* Nonzero: the group that picks the
                                  * endpoint of a new connection whose first
                                  * datagram is fragmented, by its addresses
                                  * only, at the clusterIPs (see
                                  * docs/pipeline.md, "Fragments"); for the
                                  * only UDP port of a Service. */
    bool drop_without_endpoints; /* No endpoints: drop new connections
                                  * instead of refusing them (a Local
                                  * traffic policy with endpoints on other
                                  * nodes only, as kube-proxy does). */

    /* The external frontends: externalIPs and load-balancer IPs at 'port',
     * the NodePort address at 'node_port' (0: none). */
    uint16_t node_port;
    uint32_t ext_group_id;       /* == group_id if the endpoints are the
                                  * same (Cluster traffic policy). */
    const struct service_endpoint *ext_endpoints;
    size_t n_ext_endpoints;
    bool ext_drop_without_endpoints;
    bool ext_snat;               /* Masquerade (Cluster traffic policy). */
};

struct service_net {
    const struct ipaddr *vips;   /* clusterIPs (IPv4). */
    size_t n_vips;
    const struct ipaddr *ext_ips;    /* externalIPs, load-balancer IPs. */
    size_t n_ext_ips;
    bool has_node_vip;
    struct ipaddr node_vip;      /* Where the node's kernel sends NodePort
                                  * connections (SERVICE_NODEPORT_VIP). */
    const struct service_port *ports;
    size_t n_ports;
    uint32_t reject_meter;       /* Meter for the packet-ins of ports
                                  * without endpoints. */
};

/* The meter that bounds the packet-ins of Services without endpoints, so
 * that a flood cannot starve the agent (packets per second). */
#define SERVICE_REJECT_METER 1
#define SERVICE_REJECT_RATE 200

/* The address the node's kernel translates connections to a NodePort to
 * (nftables, agent/nodeport.c) and routes through the gateway, where
 * ServiceLB matches it with the node port. */
#define SERVICE_NODEPORT_VIP "169.254.0.252"

/* The address Service connections from the node's side of the gateway
 * (NodePorts, external addresses, the node's own connections to a
 * clusterIP) are masqueraded to when their endpoint is outside the pod
 * network (a host-network pod, an EndpointSlice's other address), so that
 * they leave through the gateway again: the node routes it through the
 * gateway, and its kernel masquerades it once more to the node's own
 * address where such a connection leaves the node (nftables, agent/
 * nodeport.c).  Replies to it come back into the switch, whose UnSNAT
 * undoes the translation. */
#define SERVICE_HOST_SNAT_VIP "169.254.0.253"

/* OpenFlow timeouts have 16 bits: a longer ClientIP affinity timeout is
 * cut to this many seconds (about 18.2 hours; the API allows 86400). */
#define SERVICE_AFFINITY_MAX_TIMEOUT 65535

/* A dp_hash select group leaves no endpoint more than this many percent
 * above another, or the group selects by "hash" instead. */
#define SERVICE_DP_HASH_SKEW 5
size_t service_group_copies(size_t n_endpoints);

char *service_flows_add(struct flow_table *, const char *owner,
                        const struct service_net *) OVS_WARN_UNUSED_RESULT;
char *endpoint_owner(uint8_t ip_proto, const struct service_endpoint *);
char *endpoint_flows_add(struct flow_table *, const char *owner,
                         uint8_t ip_proto, const struct service_endpoint *)
    OVS_WARN_UNUSED_RESULT;
const char *ip_proto_name(uint8_t ip_proto);
char *service_address_arp_add(struct flow_table *, const char *owner,
                              const struct ipaddr *) OVS_WARN_UNUSED_RESULT;
char *service_reject_meter_add(struct flow_table *, const char *owner)
    OVS_WARN_UNUSED_RESULT;
char *service_cidr_flows_add(struct flow_table *, const char *owner,
                             const struct cidr *) OVS_WARN_UNUSED_RESULT;
struct node_net;
char *service_host_snat_flows_add(struct flow_table *, const char *owner,
                                  const struct node_net *)
    OVS_WARN_UNUSED_RESULT;

extern const struct eth_addr service_vmac;

#endif /* flows/service.h */
