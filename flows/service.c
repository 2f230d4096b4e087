#include "ovs-config.h"
#include "flows/service.h"

#include <netinet/in.h>
#include <stdlib.h>

#include "flows/cookie.h"
#include "flows/fields.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "flows/tables.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

const char *
ip_proto_name(uint8_t ip_proto)
{
    return (ip_proto == IPPROTO_TCP ? "tcp"
            : ip_proto == IPPROTO_UDP ? "udp"
            : ip_proto == IPPROTO_SCTP ? "sctp" : "?");
}


/* The learn action of a bucket of a Service port with ClientIP affinity:
 * the client's next new connections to the same VIP, protocol and port
 * load the same endpoint, until the timeout passes without one. */
static void
put_learn(struct ds *s, const struct service_port *sp)
{
    const char *l4 = (sp->ip_proto == IPPROTO_TCP ? "NXM_OF_TCP_DST"
                      : sp->ip_proto == IPPROTO_UDP ? "NXM_OF_UDP_DST"
                      : "OXM_OF_SCTP_DST");
    uint32_t timeout = MIN(sp->affinity_timeout,
                           SERVICE_AFFINITY_MAX_TIMEOUT);
    ds_put_format(s, "learn(table=%d,idle_timeout=%"PRIu32",priority=200,"
                  "cookie=%#"PRIx64",eth_type=0x800,nw_proto=%d,"
                  "NXM_OF_IP_SRC[],NXM_OF_IP_DST[],%s[],"
                  "load:"F_EP_IP_NXM"->"F_EP_IP_NXM","
                  "load:"F_EP_PORT_NXM"->"F_EP_PORT_NXM","
                  "load:1->"F_AFFINITY_HIT_NXM"),",
                  TABLE_SESSION_AFFINITY, timeout,
                  cookie_make(0, COOKIE_AFFINITY, sp->group_id),
                  sp->ip_proto, l4);
}

/* How many buckets each of 'n' endpoints gets in a dp_hash select group, or
 * 0 if dp_hash cannot spread 'n' endpoints evenly.
 *
 * OVS gives a dp_hash group the smallest power of two of hash values that
 * covers its buckets (at least 16, at most 256; more buckets fall back to
 * its default method, whose hash leaves UDP ports out) and hands them to
 * the buckets in order, so the first buckets get one value more than the
 * rest.  With 3 buckets that is 6:5:5 of 16.  Copies of each endpoint's
 * bucket, interleaved, bring the uneven remainder down; the fewest copies
 * that leave no endpoint more than SERVICE_DP_HASH_SKEW above another are
 * used (3 endpoints: 11 copies each, 22:21:21 of 64). */
size_t
service_group_copies(size_t n)
{
    for (size_t k = 1; n && k <= 256 / n; k++) {
        size_t buckets = n * k, values = 16;
        while (values < buckets) {
            values *= 2;
        }
        size_t q = values / buckets, r = values % buckets;
        /* Endpoint 0 has the most values, endpoint n - 1 the fewest. */
        size_t most = k * q + MIN(k, DIV_ROUND_UP(r, n));
        size_t fewest = k * q + (r > n - 1
                                 ? MIN(k, DIV_ROUND_UP(r - (n - 1), n)) : 0);
        if (most * 100 <= fewest * (100 + SERVICE_DP_HASH_SKEW)) {
            return k;
        }
    }
    return 0;
}

/* Appends a bucket per endpoint of 'sp' that loads the endpoint and goes
 * on to EndpointDNAT, or with 'learn' back to ServiceLB, to learn it for
 * ClientIP affinity first. */
static void
put_buckets(struct ds *spec, const struct service_port *sp, bool learn)
{
    for (size_t i = 0; i < sp->n_endpoints; i++) {
        const struct service_endpoint *ep = &sp->endpoints[i];
        ds_put_format(spec, ",bucket=bucket_id:%"PRIuSIZE",actions="
                      "load:%#"PRIx32"->"F_EP_IP_NXM",load:%"PRIu16"->"
                      F_EP_PORT_NXM",", i, ipaddr_ipv4_host(&ep->ip),
                      ep->port);
        if (learn) {
            ds_put_format(spec, "load:1->"F_AFFINITY_PICKED_NXM
                          ",resubmit(,%d)", TABLE_SERVICE_LB);
        } else {
            ds_put_format(spec, "resubmit(,%d)", TABLE_ENDPOINT_DNAT);
        }
    }
}

/* The select group of 'sp': a bucket per endpoint, which the switch gets
 * several times where service_group_copies() says so.
 *
 * Where dp_hash spreads the endpoints evenly, it is the selection method,
 * with OVS_HASH_ALG_L4 (parameter 0), a hash of the 5-tuple: the datapath
 * picks the bucket, and a new connection needs no upcall.  (OVS's default
 * for a group without a method is dp_hash with the symmetric L4 hash,
 * which leaves UDP ports out: every UDP flow between two addresses would
 * reach the same endpoint.)  Elsewhere (13 to 255 endpoints other than 16,
 * 32, 64 and 128, and above 256) the method is "hash" over the 5-tuple,
 * even at any count, computed by ovs-vswitchd: one upcall per new
 * connection, whose datapath flow matches its 5-tuple. */
static char *
add_group(struct flow_table *ft, const char *owner,
          const struct service_port *sp)
{
    struct ds spec = DS_EMPTY_INITIALIZER;
    size_t copies = service_group_copies(sp->n_endpoints);
    if (copies) {
        ds_put_cstr(&spec, "type=select,selection_method=dp_hash,"
                    "selection_method_param=0");
    } else {
        const char *l4 = ip_proto_name(sp->ip_proto);
        ds_put_format(&spec, "type=select,selection_method=hash,"
                      "fields(ip_src,ip_dst,%s_src,%s_dst)", l4, l4);
        copies = 1;
    }
    put_buckets(&spec, sp, sp->affinity_timeout != 0);
    char *error = flow_table_add_group_copies(ft, owner, COOKIE_SERVICE,
                                              sp->group_id, copies, "%s",
                                              ds_cstr(&spec));
    if (!error && sp->frag_group_id) {
        /* Every fragment of a datagram has the addresses; only the first
         * has the ports. */
        ds_clear(&spec);
        ds_put_cstr(&spec, "type=select,selection_method=hash,"
                    "fields(ip_src,ip_dst)");
        put_buckets(&spec, sp, false);
        error = flow_table_add_group_copies(ft, owner, COOKIE_SERVICE,
                                            sp->frag_group_id, 1, "%s",
                                            ds_cstr(&spec));
    }
    ds_destroy(&spec);
    return error;
}

/* The ServiceLB flows of port 'sp' with endpoints and ClientIP affinity on
 * 'vip' ("IP"), besides the first pass's, which looks the client up and
 * comes back: a hit on an endpoint of this port goes to EndpointDNAT, a
 * miss (or a learned endpoint this port no longer has) to the group, whose
 * bucket comes back a third time to learn the endpoint it picked. */
static char *
add_affinity_flows(struct flow_table *ft, const char *owner,
                   const struct service_port *sp, const char *vip)
{
    const char *proto = ip_proto_name(sp->ip_proto);
    struct ds learn = DS_EMPTY_INITIALIZER;
    put_learn(&learn, sp);
    char *error = flow_table_add(
        ft, owner, COOKIE_SERVICE, TABLE_SERVICE_LB, 215,
        "%s,nw_dst=%s,tp_dst=%"PRIu16","F_EP_PORT"=%#x/%#x "
        "actions=%sresubmit(,%d)", proto, vip, sp->port, AFFINITY_PICKED_BIT,
        AFFINITY_PICKED_BIT, ds_cstr(&learn), TABLE_ENDPOINT_DNAT);
    ds_destroy(&learn);
    error = error ? error : flow_table_add(
        ft, owner, COOKIE_SERVICE, TABLE_SERVICE_LB, 205,
        "%s,nw_dst=%s,tp_dst=%"PRIu16","F_EP_PORT"=%#x/%#x "
        "actions=group:%"PRIu32, proto, vip, sp->port, AFFINITY_LOOKUP_BIT,
        AFFINITY_LOOKUP_BIT, sp->group_id);
    for (size_t i = 0; !error && i < sp->n_endpoints; i++) {
        const struct service_endpoint *ep = &sp->endpoints[i];
        error = flow_table_add(
            ft, owner, COOKIE_SERVICE, TABLE_SERVICE_LB, 210,
            "%s,nw_dst=%s,tp_dst=%"PRIu16","F_EP_IP"=%#"PRIx32","
            F_EP_PORT"=%#"PRIx32"/%#x actions=resubmit(,%d)", proto, vip,
            sp->port, ipaddr_ipv4_host(&ep->ip),
            AFFINITY_LOOKUP_BIT | AFFINITY_HIT_BIT | ep->port,
            AFFINITY_LOOKUP_BIT | AFFINITY_HIT_BIT | 0xffff,
            TABLE_ENDPOINT_DNAT);
    }
    return error;
}

/* The ServiceLB flows of the frontends 'addrs' ('n' of them) at port
 * 'sp->port' over the endpoints of 'sp': with endpoints, to its group (with
 * 'snat', marked for masquerade first); without, to the agent through
 * meter 'reject_meter' to be refused, or dropped. */
static char *
add_frontends(struct flow_table *ft, const char *owner,
              const struct service_port *sp, const struct ipaddr *addrs,
              size_t n, bool snat, uint32_t reject_meter)
{
    bool affinity = sp->n_endpoints && sp->affinity_timeout;
    char actions[160];
    const char *mark = snat ? "load:1->"F_SNAT_NXM"," : "";
    if (!sp->n_endpoints && sp->drop_without_endpoints) {
        snprintf(actions, sizeof actions, "drop");
    } else if (!sp->n_endpoints) {
        snprintf(actions, sizeof actions, "meter:%"PRIu32",controller",
                 reject_meter);
    } else if (affinity) {
        snprintf(actions, sizeof actions, "%sload:1->"F_AFFINITY_LOOKUP_NXM
                 ",resubmit(,%d),resubmit(,%d)", mark, TABLE_SESSION_AFFINITY,
                 TABLE_SERVICE_LB);
    } else {
        snprintf(actions, sizeof actions, "%sgroup:%"PRIu32, mark,
                 sp->group_id);
    }
    char *error = NULL;
    for (size_t v = 0; !error && v < n; v++) {
        char vip[IPADDR_STRLEN];
        ipaddr_format(&addrs[v], vip);
        error = flow_table_add(
            ft, owner, COOKIE_SERVICE, TABLE_SERVICE_LB, 200,
            "ct_state=+new+trk,%s,nw_dst=%s,tp_dst=%"PRIu16" actions=%s",
            ip_proto_name(sp->ip_proto), vip, sp->port, actions);
        if (!error && sp->frag_group_id && sp->n_endpoints) {
            error = flow_table_add(
                ft, owner, COOKIE_SERVICE, TABLE_SERVICE_LB, 201,
                "ct_state=+new+trk,%s,nw_frag=yes,nw_dst=%s "
                "actions=group:%"PRIu32, ip_proto_name(sp->ip_proto), vip,
                sp->frag_group_id);
        }
        if (!error && affinity) {
            error = add_affinity_flows(ft, owner, sp, vip);
        }
    }
    return error;
}

/* Adds the flows of one Service: for each Service port, its group(s) and
 * ServiceLB flows for its clusterIPs, and for its external addresses
 * (externalIPs and load-balancer IPs at the port, the NodePort address at
 * the node port) over the external endpoints; a port without endpoints
 * refuses new connections (see add_frontends()).  On error no flow of
 * 'owner' is left. */
char *
service_flows_add(struct flow_table *ft, const char *owner,
                  const struct service_net *svc)
{
    char *error = NULL;
    for (size_t p = 0; !error && p < svc->n_ports; p++) {
        const struct service_port *sp = &svc->ports[p];
        struct service_port ext = *sp;
        ext.group_id = sp->ext_group_id;
        ext.endpoints = sp->ext_endpoints;
        ext.n_endpoints = sp->n_ext_endpoints;
        ext.drop_without_endpoints = sp->ext_drop_without_endpoints;
        ext.frag_group_id = 0;
        bool has_ext = svc->n_ext_ips || (sp->node_port && svc->has_node_vip);

        if (sp->n_endpoints) {
            error = add_group(ft, owner, sp);
        }
        if (!error && has_ext && ext.n_endpoints
            && ext.group_id != sp->group_id) {
            error = add_group(ft, owner, &ext);
        }
        if (!error) {
            error = add_frontends(ft, owner, sp, svc->vips, svc->n_vips,
                                  false, svc->reject_meter);
        }
        if (!error && svc->n_ext_ips) {
            error = add_frontends(ft, owner, &ext, svc->ext_ips,
                                  svc->n_ext_ips, sp->ext_snat,
                                  svc->reject_meter);
        }
        if (!error && sp->node_port && svc->has_node_vip) {
            ext.port = sp->node_port;
            error = add_frontends(ft, owner, &ext, &svc->node_vip, 1,
                                  sp->ext_snat, svc->reject_meter);
        }
        for (size_t i = 0; !error && i < svc->n_ext_ips; i++) {
            error = service_address_arp_add(ft, owner, &svc->ext_ips[i]);
        }
    }
    if (error) {
        flow_table_remove_owner(ft, owner);
    }
    return error;
}

/* The owner of the EndpointDNAT flow of 'ep'. */
char *
endpoint_owner(uint8_t ip_proto, const struct service_endpoint *ep)
{
    char ip[IPADDR_STRLEN];
    return xasprintf("endpoint/%s/%s:%"PRIu16, ip_proto_name(ip_proto),
                     ipaddr_format(&ep->ip, ip), ep->port);
}

/* The EndpointDNAT flow of 'ep': commits the connection translated to the
 * endpoint, with the Service bit and the source class in ct_mark, and goes
 * on to the egress rules, which judge the endpoint. */
char *
endpoint_flows_add(struct flow_table *ft, const char *owner,
                   uint8_t ip_proto, const struct service_endpoint *ep)
{
    char ip[IPADDR_STRLEN];
    ipaddr_format(&ep->ip, ip);
    return flow_table_add(
        ft, owner, COOKIE_SERVICE, TABLE_ENDPOINT_DNAT, 200,
        "%s,"F_EP_IP"=%#"PRIx32","F_EP_PORT"=%"PRIu16"/0xffff actions="
        "ct(commit,table=EgressRule,zone=%d,nat(dst=%s:%"PRIu16"),"
        "exec(load:1->NXM_NX_CT_MARK[%d],"
        "move:"F_SRC_CLASS"->NXM_NX_CT_MARK[0..3],"
        "move:"F_SNAT_NXM"->NXM_NX_CT_MARK[%d]))",
        ip_proto_name(ip_proto), ipaddr_ipv4_host(&ep->ip), ep->port, CT_ZONE, ip,
        ep->port, CT_MARK_SERVICE_BIT, CT_MARK_SNAT_BIT);
}

/* The MAC the node's kernel gets for every address of the Service range;
 * L3Forwarding rewrites it whatever the endpoint. */
const struct eth_addr service_vmac = ETH_ADDR_C(aa,bb,cc,dd,ee,fe);

/* The node reaches clusterIPs through br-int: its kernel routes the Service
 * range on-link through the gateway, and the ARP responder answers its
 * requests for any address in the range. */
char *
service_cidr_flows_add(struct flow_table *ft, const char *owner,
                       const struct cidr *cidr)
{
    char s[CIDR_STRLEN];
    char *reply = arp_reply_actions(service_vmac);
    char *error = flow_table_add(ft, owner, COOKIE_SERVICE,
                                 TABLE_ARP_RESPONDER, 190,
                                 "arp,reg0=%d/%d,arp_op=1,"
                                 "arp_tpa=%s actions=%s", SRC_CLASS_GATEWAY,
                                 SRC_CLASS_MASK, cidr_format(cidr, s), reply);
    free(reply);
    return error;
}

/* The ARP responder's answer, to the node, for one external address of a
 * Service (or the NodePort address): the node's kernel routes it through
 * the gateway. */
char *
service_address_arp_add(struct flow_table *ft, const char *owner,
                        const struct ipaddr *ip)
{
    char s[IPADDR_STRLEN];
    char *reply = arp_reply_actions(service_vmac);
    char *error = flow_table_add(ft, owner, COOKIE_SERVICE,
                                 TABLE_ARP_RESPONDER, 190,
                                 "arp,reg0=%d/%d,arp_op=1,"
                                 "arp_tpa=%s actions=%s", SRC_CLASS_GATEWAY,
                                 SRC_CLASS_MASK, ipaddr_format(ip, s), reply);
    free(reply);
    return error;
}

/* The flows for Service connections from the gateway (class gateway: the
 * node's kernel sent them, for itself or for a NodePort or external
 * address) whose endpoint is outside the pod network, so that L3Forwarding
 * sends them back to the gateway: they are masqueraded to
 * SERVICE_HOST_SNAT_VIP, which the node routes back through the gateway
 * (the caller adds the route), and the ARP responder answers for it.
 * Without the masquerade their replies would stay in the node's kernel
 * (the client's address is its own, or its connection was translated
 * there) and never be translated back. */
char *
service_host_snat_flows_add(struct flow_table *ft, const char *owner,
                            const struct node_net *node)
{
    struct ipaddr vip;
    char *error = ipaddr_parse(SERVICE_HOST_SNAT_VIP, &vip);
    error = error ? error : service_address_arp_add(ft, owner, &vip);
    /* Replies: undo the masquerade, then (ConntrackZone) the DNAT. */
    error = error ? error : flow_table_add(
        ft, owner, COOKIE_SERVICE, TABLE_UN_SNAT, 200,
        "ip,nw_dst=%s actions=ct(table=ConntrackZone,zone=%d,nat)",
        SERVICE_HOST_SNAT_VIP, CT_SNAT_ZONE);
    /* A Service connection from the gateway that no pod or peer flow
     * took: back to the gateway, from the Service MAC. */
    error = error ? error : flow_table_add(
        ft, owner, COOKIE_SERVICE, TABLE_L3_FORWARDING, 10,
        "ct_state=-rpl+trk,ct_mark=%#x/%#x,ip,reg0=%d/%d actions="
        "set_field:"ETH_ADDR_FMT"->eth_src,set_field:"ETH_ADDR_FMT
        "->eth_dst,goto_table:L3DecTTL", CT_MARK_SERVICE, CT_MARK_SERVICE,
        SRC_CLASS_GATEWAY, SRC_CLASS_MASK, ETH_ADDR_ARGS(service_vmac),
        ETH_ADDR_ARGS(node->gw_mac));
    /* Its masquerade (ahead of the one to the gateway's address that a
     * Cluster-policy connection has marked), and later packets. */
    error = error ? error : flow_table_add(
        ft, owner, COOKIE_SERVICE, TABLE_SNAT, 205,
        "ct_state=+new+trk,ct_mark=%#x/%#x,ip,reg0=%d/%d,dl_dst="ETH_ADDR_FMT
        " actions=ct(commit,table=L2ForwardingCalc,zone=%d,nat(src=%s),"
        "exec(load:1->NXM_NX_CT_MARK[%d]))", CT_MARK_SERVICE,
        CT_MARK_SERVICE, SRC_CLASS_GATEWAY, SRC_CLASS_MASK,
        ETH_ADDR_ARGS(node->gw_mac), CT_SNAT_ZONE, SERVICE_HOST_SNAT_VIP,
        CT_MARK_SERVICE_BIT);
    error = error ? error : flow_table_add(
        ft, owner, COOKIE_SERVICE, TABLE_SNAT, 195,
        "ct_state=-new-rpl+trk,ct_mark=%#x/%#x,ip,reg0=%d/%d,dl_dst="
        ETH_ADDR_FMT" actions=ct(table=L2ForwardingCalc,zone=%d,nat)",
        CT_MARK_SERVICE, CT_MARK_SERVICE, SRC_CLASS_GATEWAY, SRC_CLASS_MASK,
        ETH_ADDR_ARGS(node->gw_mac), CT_SNAT_ZONE);
    if (error) {
        flow_table_remove_owner(ft, owner);
    }
    return error;
}

/* The meter of 'service_net.reject_meter'. */
char *
service_reject_meter_add(struct flow_table *ft, const char *owner)
{
    return flow_table_add_meter(ft, owner, COOKIE_SERVICE,
                                SERVICE_REJECT_METER,
                                "pktps,burst,band=type=drop,rate=%d,"
                                "burst_size=%d", SERVICE_REJECT_RATE,
                                SERVICE_REJECT_RATE);
}
