/*
 * Every register, ct_mark and ct_label bit the pipeline uses, defined once.
 * Flow text refers to these through the macros below so that a field's
 * position is written in one place only.
 *
 *   reg0[0..3]    SRC_CLASS: where the packet entered br-int
 *                 (SRC_CLASS_GATEWAY, SRC_CLASS_TUNNEL, SRC_CLASS_POD).
 *   reg0[16]      OUT_PORT_SET: L2ForwardingCalc found the output port.
 *   reg0[17]      SNAT: a Service connection to be masqueraded to the
 *                 gateway's address (it came through an external address,
 *                 NodePort, externalIP or load-balancer IP, with the Cluster
 *                 traffic policy); EndpointDNAT copies it to ct_mark[5].
 *   reg1          OUT_PORT: the OpenFlow port to output to, valid when
 *                 OUT_PORT_SET.
 *   reg2          scratch: the ARP responder swaps addresses through it.
 *   reg3          EP_IP: the Service endpoint's IPv4 address, set by the
 *                 Service group's bucket for EndpointDNAT.
 *   reg4[0..15]   EP_PORT: that endpoint's port.
 *   reg4[16]      AFFINITY_HIT: a SessionAffinity flow learned for this
 *                 client loaded reg3 and reg4[0..15].
 *   reg4[17]      AFFINITY_LOOKED_UP: ServiceLB has looked the client up
 *                 in SessionAffinity (its second pass).
 *   reg4[18]      AFFINITY_PICKED: the group's bucket picked the endpoint
 *                 (ServiceLB's third pass learns it: a bucket is an action
 *                 set, which cannot hold a learn action).
 *   ct_mark[0..3] the SRC_CLASS of the packet that created the connection.
 *   ct_mark[4]    CT_MARK_SERVICE: the connection was DNAT'd to an endpoint.
 *   ct_mark[5]    CT_MARK_SNAT: and is masqueraded (zone CT_SNAT_ZONE).
 *   reg5          EGRESS_CONJ: the conjunction id of the egress rule that
 *                 allowed a new connection (0: none, the pod is not
 *                 isolated for egress).
 *   reg6          INGRESS_CONJ: likewise for ingress.
 *   ct_label[0..31]   the EGRESS_CONJ of the connection's first packet,
 *   ct_label[32..63]  and its INGRESS_CONJ: EgressMetric and IngressMetric
 *                 count each established packet to the rule that allowed
 *                 its connection.
 *
 * Conntrack zone CT_ZONE holds every connection the pipeline tracks;
 * CT_SNAT_ZONE holds the source translations (masquerade, hairpin).
 */
#ifndef TENDRIL_FLOWS_FIELDS_H
#define TENDRIL_FLOWS_FIELDS_H 1

/* reg0[0..3]: source class. */
#define F_SRC_CLASS          "reg0[0..3]"
#define SRC_CLASS_MASK       0xf
#define SRC_CLASS_GATEWAY    1
#define SRC_CLASS_TUNNEL     2
#define SRC_CLASS_POD        3

/* reg0[16]: the output port is known. */
#define F_OUT_PORT_SET       "reg0[16]"
#define OUT_PORT_SET_BIT     0x10000

/* reg0[17]: masquerade this Service connection. */
#define F_SNAT_NXM           "NXM_NX_REG0[17]"

/* reg1: output port. */
#define F_OUT_PORT           "reg1"
#define F_OUT_PORT_NXM       "NXM_NX_REG1[]"

/* reg2: scratch. */
#define F_SCRATCH_NXM        "NXM_NX_REG2[]"

/* reg3, reg4[0..15]: the Service endpoint chosen for a new connection. */
#define F_EP_IP              "reg3"
#define F_EP_IP_NXM          "NXM_NX_REG3[]"
#define F_EP_PORT            "reg4"
#define F_EP_PORT_NXM        "NXM_NX_REG4[0..15]"

/* reg4[16], reg4[17]: session affinity. */
#define F_AFFINITY_HIT_NXM   "NXM_NX_REG4[16]"
#define F_AFFINITY_LOOKUP_NXM "NXM_NX_REG4[17]"
#define AFFINITY_HIT_BIT     0x10000
#define AFFINITY_LOOKUP_BIT  0x20000
#define F_AFFINITY_PICKED_NXM "NXM_NX_REG4[18]"
#define AFFINITY_PICKED_BIT  0x40000

/* reg5, reg6: the rules that allowed a new connection; ct_label keeps
 * them for the connection's life. */
#define F_EGRESS_CONJ        "reg5"
#define F_EGRESS_CONJ_NXM    "NXM_NX_REG5[]"
#define F_INGRESS_CONJ       "reg6"
#define F_INGRESS_CONJ_NXM   "NXM_NX_REG6[]"
#define F_CT_LABEL_EGRESS_NXM  "NXM_NX_CT_LABEL[0..31]"
#define F_CT_LABEL_INGRESS_NXM "NXM_NX_CT_LABEL[32..63]"

/* ct_mark. */
#define CT_MARK_SRC_CLASS_MASK 0xf
#define CT_MARK_SERVICE        0x10
#define CT_MARK_SERVICE_BIT    4
#define CT_MARK_SNAT           0x20
#define CT_MARK_SNAT_BIT       5

/* The conntrack zone of the pipeline. */
#define CT_ZONE              65520
#define CT_SNAT_ZONE         65521

#endif /* flows/fields.h */
