/* The static flows: what makes a node with no pods correct.  Every table
 * ends in a default flow, so a packet that no feature claims is dropped or
 * passed on explicitly, never left to the switch's own default. */
#include "ovs-config.h"
#include "flows/pipeline.h"

#include <stdlib.h>

#include "flows/fields.h"
#include "flows/flow-table.h"
#include "flows/tables.h"
#include "flow.h"
#include "util.h"

/* Adds one flow or returns from the calling function with the error. */
#define ADD(FT, TABLE, PRIORITY, ...)                                       \
    do {                                                                    \
        char *error_ = flow_table_add(FT, STATIC_OWNER, COOKIE_STATIC,      \
                                      TABLE, PRIORITY, __VA_ARGS__);        \
        if (error_) {                                                       \
            return error_;                                                  \
        }                                                                   \
    } while (0)

/* The tables that pass everything on to the next stage until a feature
 * (Services, NetworkPolicy) adds flows to them. */
static const struct {
    enum tnd_table table;
    enum tnd_table next;
} pass_through[] = {
    { TABLE_SERVICE_LB, TABLE_ENDPOINT_DNAT },
    { TABLE_ENDPOINT_DNAT, TABLE_EGRESS_RULE },
    { TABLE_EGRESS_RULE, TABLE_EGRESS_DEFAULT_RULE },
    { TABLE_EGRESS_DEFAULT_RULE, TABLE_EGRESS_METRIC },
    { TABLE_EGRESS_METRIC, TABLE_L3_FORWARDING },
    { TABLE_INGRESS_RULE, TABLE_INGRESS_DEFAULT_RULE },
    { TABLE_INGRESS_DEFAULT_RULE, TABLE_INGRESS_METRIC },
    { TABLE_INGRESS_METRIC, TABLE_CT_COMMIT },
};

/* The actions that turn an ARP request into the reply "IP is at MAC" and
 * send it back where it came from.  The requested address (arp_tpa) becomes
 * the reply's sender address through the scratch register, so one flow
 * answers for any address. */
char *
arp_reply_actions(const struct eth_addr mac)
{
    return xasprintf("move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                     "set_field:"ETH_ADDR_FMT"->eth_src,"
                     "set_field:2->arp_op,"
                     "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
                     "set_field:"ETH_ADDR_FMT"->arp_sha,"
                     "move:NXM_OF_ARP_TPA[]->"F_SCRATCH_NXM","
                     "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
                     "move:"F_SCRATCH_NXM"->NXM_OF_ARP_SPA[],"
                     "IN_PORT",
                     ETH_ADDR_ARGS(mac), ETH_ADDR_ARGS(mac));
}

char *
pipeline_add_static(struct flow_table *ft, const struct node_net *node)
{
    char gw_ip[IPADDR_STRLEN];
    ipaddr_format(&node->gw_ip, gw_ip);
    struct eth_addr gw_mac = node->gw_mac;

    /* Classifier: mark where packets come from.  Pods are classified by
     * their own flows (pod_flows_add()); anything else is dropped. */
    ADD(ft, TABLE_CLASSIFIER, 200, "ip,in_port=%"PRIu32" actions="
        "load:%d->"F_SRC_CLASS",goto_table:UnSNAT",
        ofp_to_u16(node->gw_ofport), SRC_CLASS_GATEWAY);
    ADD(ft, TABLE_CLASSIFIER, 200, "arp,in_port=%"PRIu32" actions="
        "load:%d->"F_SRC_CLASS",goto_table:ARPResponder",
        ofp_to_u16(node->gw_ofport), SRC_CLASS_GATEWAY);
    if (node->tun_ofport) {
        ADD(ft, TABLE_CLASSIFIER, 200, "ip,in_port=%"PRIu32" actions="
            "load:%d->"F_SRC_CLASS",goto_table:UnSNAT",
            ofp_to_u16(node->tun_ofport), SRC_CLASS_TUNNEL);
    }
    ADD(ft, TABLE_CLASSIFIER, 0, "actions=drop");

    /* SpoofGuard: ARP goes to its own guard; pods' IP flows are added per
     * pod; anything else a pod sends is dropped. */
    ADD(ft, TABLE_SPOOF_GUARD, 210, "arp actions=goto_table:ARPSpoofGuard");
    ADD(ft, TABLE_SPOOF_GUARD, 0, "actions=drop");
    ADD(ft, TABLE_ARP_SPOOF_GUARD, 0, "actions=drop");

    /* ARPResponder: a pod asking for any address gets the gateway's MAC, so
     * that all of a pod's traffic is routed (and TTL-decremented) by
     * L3Forwarding.  Requests from the gateway for a pod are answered by
     * that pod's flow. */
    char *reply = arp_reply_actions(gw_mac);
    char *error = flow_table_add(ft, STATIC_OWNER, COOKIE_STATIC,
                                 TABLE_ARP_RESPONDER, 200,
                                 "arp,arp_op=1,reg0=%d/%d actions=%s",
                                 SRC_CLASS_POD, SRC_CLASS_MASK, reply);
    free(reply);
    if (error) {
        return error;
    }
    ADD(ft, TABLE_ARP_RESPONDER, 0, "actions=drop");

    /* UnSNAT: packets to the gateway's address may be replies of
     * connections masqueraded to it (SNAT), whose translation is undone
     * first, in the SNAT zone. */
    ADD(ft, TABLE_UN_SNAT, 200, "ip,nw_dst=%s actions=ct(table=ConntrackZone,"
        "zone=%d,nat)", gw_ip, CT_SNAT_ZONE);
    ADD(ft, TABLE_UN_SNAT, 0, "actions=goto_table:ConntrackZone");

    /* Conntrack: every IP packet is tracked in one zone, with NAT undone
     * for established connections; established and related ones skip the
     * Service and egress policy stages. */
    ADD(ft, TABLE_CT_ZONE, 200, "ip actions=ct(table=ConntrackState,zone=%d,"
        "nat)", CT_ZONE);
    ADD(ft, TABLE_CT_ZONE, 0, "actions=drop");
    /* Invalid packets from pods are dropped.  From the gateway or the
     * tunnel they are not: when a pod talks to another node's own address,
     * the request reaches that node's kernel over the underlay and only the
     * reply crosses its switch, which then has no state for it. */
    ADD(ft, TABLE_CT_STATE, 210, "ct_state=+inv+trk,ip,reg0=%d/%d "
        "actions=drop", SRC_CLASS_POD, SRC_CLASS_MASK);
    /* Established and related packets skip the Service and policy
     * stages: their connection was admitted when it began.  A connection
     * that is committed but has seen no reply yet (a retransmitted SYN, a
     * second datagram; a Service connection is committed by EndpointDNAT
     * before the policy stages) is judged by policy again, so that a
     * connection a policy dropped never slips through. */
    ADD(ft, TABLE_CT_STATE, 200, "ct_state=+est+trk,ip "
        "actions=goto_table:EgressMetric");
    ADD(ft, TABLE_CT_STATE, 199, "ct_state=+rel+trk,ip "
        "actions=goto_table:L3Forwarding");
    ADD(ft, TABLE_CT_STATE, 190, "ct_state=-new+trk,ip "
        "actions=goto_table:EgressRule");
    ADD(ft, TABLE_CT_STATE, 0, "actions=goto_table:ServiceLB");
    /* SessionAffinity holds the flows the switch learns for Services with
     * ClientIP affinity.  ServiceLB only looks things up in it, by
     * resubmit: no packet walks through it, and a miss does nothing. */
    ADD(ft, TABLE_SESSION_AFFINITY, 0, "actions=drop");

    for (size_t i = 0; i < ARRAY_SIZE(pass_through); i++) {
        ADD(ft, pass_through[i].table, 0, "actions=goto_table:%s",
            table_name(pass_through[i].next));
    }
    /* Established and related packets were admitted by policy when their
     * connection began.  The node itself (kubelet probes, and connections
     * the node masqueraded: NodePorts and external addresses with the
     * Cluster policy, hairpin) always reaches its pods. */
    ADD(ft, TABLE_INGRESS_RULE, 210, "ct_state=+est+trk,ip "
        "actions=goto_table:IngressMetric");
    ADD(ft, TABLE_INGRESS_RULE, 209, "ct_state=+rel+trk,ip "
        "actions=goto_table:ConntrackCommit");
    ADD(ft, TABLE_INGRESS_RULE, 205, "ip,nw_src=%s "
        "actions=goto_table:IngressMetric", gw_ip);

    /* L3Forwarding: the node's own gateway address goes to the gateway
     * unchanged; everything else from a pod leaves through the gateway to
     * the node's routing table.  Local pods get their own flows. */
    ADD(ft, TABLE_L3_FORWARDING, 210, "ip,nw_dst=%s actions="
        "set_field:"ETH_ADDR_FMT"->eth_dst,goto_table:L2ForwardingCalc",
        gw_ip, ETH_ADDR_ARGS(gw_mac));
    ADD(ft, TABLE_L3_FORWARDING, 10, "ip,reg0=%d/%d actions="
        "set_field:"ETH_ADDR_FMT"->eth_dst,goto_table:L2ForwardingCalc",
        SRC_CLASS_POD, SRC_CLASS_MASK, ETH_ADDR_ARGS(gw_mac));
    /* Replies of connections that came in through the gateway go back
     * through it, whatever their destination: the node's kernel may have
     * translated them (a NodePort; a ClusterIP by kube-proxy, with
     * --proxy=none, where a local pod's connection reaches a local
     * endpoint from the gateway) and must undo that. */
    ADD(ft, TABLE_L3_FORWARDING, 220, "ct_state=+rpl+trk,ct_mark=%#x/%#x,ip "
        "actions=set_field:"ETH_ADDR_FMT"->eth_dst,"
        "goto_table:L2ForwardingCalc", SRC_CLASS_GATEWAY,
        CT_MARK_SRC_CLASS_MASK, ETH_ADDR_ARGS(gw_mac));
    ADD(ft, TABLE_L3_FORWARDING, 0, "actions=drop");

    ADD(ft, TABLE_L3_DEC_TTL, 200, "ip actions=dec_ttl,goto_table:SNAT");
    ADD(ft, TABLE_L3_DEC_TTL, 0, "actions=goto_table:SNAT");

    /* SNAT: Service connections marked for it are masqueraded to the
     * gateway's address, so that replies from an endpoint on another node
     * come back here; the Service bit keeps ConntrackCommit off them. */
    ADD(ft, TABLE_SNAT, 200, "ct_state=+new+trk,ct_mark=%#x/%#x,ip actions="
        "ct(commit,table=L2ForwardingCalc,zone=%d,nat(src=%s),"
        "exec(load:1->NXM_NX_CT_MARK[%d]))", CT_MARK_SNAT, CT_MARK_SNAT,
        CT_SNAT_ZONE, gw_ip, CT_MARK_SERVICE_BIT);
    ADD(ft, TABLE_SNAT, 190, "ct_state=-new-rpl+trk,ct_mark=%#x/%#x,ip "
        "actions=ct(table=L2ForwardingCalc,zone=%d,nat)", CT_MARK_SNAT,
        CT_MARK_SNAT, CT_SNAT_ZONE);
    ADD(ft, TABLE_SNAT, 0, "actions=goto_table:L2ForwardingCalc");

    /* L2ForwardingCalc: the gateway's MAC means the gateway port. */
    ADD(ft, TABLE_L2_FORWARDING_CALC, 200, "dl_dst="ETH_ADDR_FMT" actions="
        "load:%"PRIu32"->"F_OUT_PORT",load:1->"F_OUT_PORT_SET","
        "goto_table:IngressRule", ETH_ADDR_ARGS(gw_mac),
        ofp_to_u16(node->gw_ofport));
    if (node->tun_ofport) {
        ADD(ft, TABLE_L2_FORWARDING_CALC, 200, "dl_dst="ETH_ADDR_FMT
            " actions=load:%"PRIu32"->"F_OUT_PORT",load:1->"F_OUT_PORT_SET","
            "goto_table:IngressRule", ETH_ADDR_ARGS(tunnel_vmac),
            ofp_to_u16(node->tun_ofport));
    }
    ADD(ft, TABLE_L2_FORWARDING_CALC, 0, "actions=goto_table:IngressRule");

    /* ConntrackCommit: remember new connections, with where they came
     * from. */
    /* Connections to Services were committed by EndpointDNAT; committed
     * again, in the same zone as the packet's last conntrack action (the
     * switch then updates that connection), they get the rules that
     * allowed them in ct_label.  After a masquerade the packet's last
     * zone is the SNAT zone: those keep no rules. */
    ADD(ft, TABLE_CT_COMMIT, 211, "ct_state=+new+trk,ct_zone=%d,"
        "ct_mark=%#x/%#x,ip actions=ct(commit,zone=%d,exec("
        "move:"F_EGRESS_CONJ_NXM"->"F_CT_LABEL_EGRESS_NXM","
        "move:"F_INGRESS_CONJ_NXM"->"F_CT_LABEL_INGRESS_NXM")),"
        "goto_table:Output", CT_ZONE, CT_MARK_SERVICE, CT_MARK_SERVICE,
        CT_ZONE);
    ADD(ft, TABLE_CT_COMMIT, 210, "ct_state=+new+trk,ct_mark=%#x/%#x,ip "
        "actions=goto_table:Output", CT_MARK_SERVICE, CT_MARK_SERVICE);
    ADD(ft, TABLE_CT_COMMIT, 200, "ct_state=+new+trk,ip actions="
        "ct(commit,zone=%d,exec(move:"F_SRC_CLASS"->NXM_NX_CT_MARK[0..3],"
        "move:"F_EGRESS_CONJ_NXM"->"F_CT_LABEL_EGRESS_NXM","
        "move:"F_INGRESS_CONJ_NXM"->"F_CT_LABEL_INGRESS_NXM")),"
        "goto_table:Output", CT_ZONE);
    ADD(ft, TABLE_CT_COMMIT, 0, "actions=goto_table:Output");

    ADD(ft, TABLE_OUTPUT, 200, "reg0=%#x/%#x actions=output:"F_OUT_PORT_NXM,
        OUT_PORT_SET_BIT, OUT_PORT_SET_BIT);
    /* Back to the gateway it came from (a Service connection of the
     * node's to an endpoint outside the pod network, and its replies):
     * OpenFlow outputs to the input port only when told so. */
    ADD(ft, TABLE_OUTPUT, 210, "in_port=%"PRIu32",reg0=%#x/%#x,"F_OUT_PORT
        "=%"PRIu32" actions=IN_PORT", ofp_to_u16(node->gw_ofport),
        OUT_PORT_SET_BIT, OUT_PORT_SET_BIT, ofp_to_u16(node->gw_ofport));
    ADD(ft, TABLE_OUTPUT, 0, "actions=drop");
    return NULL;
}

#undef ADD
#define ADD(FT, OWNER, TABLE, PRIORITY, ...)                                \
    do {                                                                    \
        char *error_ = flow_table_add(FT, OWNER, COOKIE_POD, TABLE,         \
                                      PRIORITY, __VA_ARGS__);               \
        if (error_) {                                                       \
            pod_flows_remove(FT, OWNER);                                    \
            return error_;                                                  \
        }                                                                   \
    } while (0)

/* Adds the flows of one pod interface: classification by port, the spoof
 * guard (the pod sends only with its own MAC and IP, ARP included), the
 * ARP answer for its address, the route to it and its port.  On error no
 * flow of 'owner' is left. */
char *
pod_flows_add(struct flow_table *ft, const char *owner,
              const struct node_net *node, const struct pod_net *pod)
{
    char ip[IPADDR_STRLEN];
    ipaddr_format(&pod->ip, ip);
    uint16_t port = ofp_to_u16(pod->ofport);

    ADD(ft, owner, TABLE_CLASSIFIER, 190, "in_port=%"PRIu16" actions="
        "load:%d->"F_SRC_CLASS",goto_table:SpoofGuard", port, SRC_CLASS_POD);
    ADD(ft, owner, TABLE_SPOOF_GUARD, 200, "ip,in_port=%"PRIu16","
        "dl_src="ETH_ADDR_FMT",nw_src=%s actions=goto_table:UnSNAT",
        port, ETH_ADDR_ARGS(pod->mac), ip);
    ADD(ft, owner, TABLE_ARP_SPOOF_GUARD, 200, "arp,in_port=%"PRIu16","
        "dl_src="ETH_ADDR_FMT",arp_spa=%s,arp_sha="ETH_ADDR_FMT
        " actions=goto_table:ARPResponder", port, ETH_ADDR_ARGS(pod->mac), ip,
        ETH_ADDR_ARGS(pod->mac));

    char *reply = arp_reply_actions(pod->mac);
    char *error = flow_table_add(ft, owner, COOKIE_POD, TABLE_ARP_RESPONDER,
                                 190, "arp,arp_op=1,arp_tpa=%s actions=%s",
                                 ip, reply);
    free(reply);
    if (error) {
        pod_flows_remove(ft, owner);
        return error;
    }

    ADD(ft, owner, TABLE_L3_FORWARDING, 200, "ip,nw_dst=%s actions="
        "set_field:"ETH_ADDR_FMT"->eth_src,set_field:"ETH_ADDR_FMT"->eth_dst,"
        "goto_table:L3DecTTL", ip, ETH_ADDR_ARGS(node->gw_mac),
        ETH_ADDR_ARGS(pod->mac));
    ADD(ft, owner, TABLE_L2_FORWARDING_CALC, 200, "dl_dst="ETH_ADDR_FMT
        " actions=load:%"PRIu16"->"F_OUT_PORT",load:1->"F_OUT_PORT_SET","
        "goto_table:IngressRule", ETH_ADDR_ARGS(pod->mac), port);

    /* Hairpin: the pod reached itself through a Service.  It would answer
     * itself inside its own kernel, so the connection is masqueraded to the
     * gateway's address; both ways the packet leaves by the port it came
     * in by. */
    char gw_ip[IPADDR_STRLEN];
    ipaddr_format(&node->gw_ip, gw_ip);
    ADD(ft, owner, TABLE_SNAT, 210, "ip,nw_src=%s,nw_dst=%s actions="
        "ct(commit,table=L2ForwardingCalc,zone=%d,nat(src=%s),"
        "exec(load:1->NXM_NX_CT_MARK[%d]))", ip, ip, CT_SNAT_ZONE, gw_ip,
        CT_MARK_SERVICE_BIT);
    ADD(ft, owner, TABLE_OUTPUT, 210, "in_port=%"PRIu16","F_OUT_PORT"=%"PRIu16
        " actions=IN_PORT", port, port);
    return NULL;
}

void
pod_flows_remove(struct flow_table *ft, const char *owner)
{
    flow_table_remove_owner(ft, owner);
}
