/*
 * NetworkPolicy: the flows that allow or drop a new connection of a local
 * pod.  Pure: only adds to and removes from a flow_table.
 *
 * Every rule of a policy becomes conjunctions (ovs-fields(7), "Conjunctive
 * Match Fields"): one clause for the local pods it applies to (the
 * "targets"), one for its peers, one for its ports if it names any.  So a
 * rule costs targets + peers + ports flows, not their product, and a flow
 * whose match is shared by several rules (a pod that is a peer of 100
 * rules) is one flow carrying all their conjunction() actions, which the
 * flow table merges across owners.  A connection the conjunction allows
 * skips the default table of its direction:
 *
 *   egress  (EgressRule, after EndpointDNAT, so a Service connection is
 *            judged on its endpoint):  nw_src = target, nw_dst = peer
 *   ingress (IngressRule, after L2ForwardingCalc):
 *            nw_dst = target, nw_src = peer
 *
 * A pod that some policy isolates in a direction gets a drop flow of its
 * own in that direction's default table (EgressDefaultRule,
 * IngressDefaultRule): what no rule allowed is dropped.  Every NetworkPolicy
 * rule allows, so overlapping conjunctions all have one priority and which
 * of them matches changes only which counter counts the packet, never the
 * verdict.
 *
 * Only packets of connections not yet established reach these tables (see
 * docs/pipeline.md); replies and related packets pass.
 */
#ifndef TENDRIL_FLOWS_POLICY_H
#define TENDRIL_FLOWS_POLICY_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/cidr.h"
#include "openvswitch/compiler.h"

struct flow_table;

enum policy_dir {
    POLICY_INGRESS,
    POLICY_EGRESS,
};

/* The priority of every rule's flows in EgressRule and IngressRule. */
#define POLICY_RULE_PRIORITY 200

struct policy_port {
    uint8_t ip_proto;            /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP. */
    uint16_t port;               /* 0: every port of the protocol. */
    uint16_t end_port;           /* 0, or >= 'port': the range
                                  * port..end_port. */
};

/* One conjunction: new connections in direction 'dir' between one of
 * 'targets' (local pods) and one of 'peers' to one of 'ports' are
 * allowed. */
struct policy_conj {
    uint32_t id;                 /* conj_id: nonzero, unique in the table. */
    enum policy_dir dir;
    const struct ipaddr *targets;
    size_t n_targets;
    bool any_peer;               /* Every address: 'peers' is ignored. */
    const struct cidr *peers;    /* Pods as /32s, ipBlocks less their
                                  * excepts (cidr_subtract()). */
    size_t n_peers;
    const struct policy_port *ports;   /* None: every port and protocol. */
    size_t n_ports;
};

/* Adds the flows of the conjunctions of one owner (a policy).  Those with
 * no target, or no peer and not 'any_peer', can match nothing and add
 * nothing.  On error nothing of 'owner' is left. */
char *policy_flows_add(struct flow_table *, const char *owner,
                       const struct policy_conj *, size_t n)
    OVS_WARN_UNUSED_RESULT;

/* Adds the drop flows of a local pod isolated for ingress, egress or
 * both. */
char *policy_isolation_add(struct flow_table *, const char *owner,
                           const struct ipaddr *, bool ingress, bool egress)
    OVS_WARN_UNUSED_RESULT;

/* Calls 'cb' for each value/mask pair that together cover the ports
 * lo..hi exactly (1 <= lo <= hi). */
void policy_port_masks(uint16_t lo, uint16_t hi,
                       void (*cb)(uint16_t value, uint16_t mask, void *aux),
                       void *aux);

/* What the policy stage of one direction did with a new connection's
 * first packet, read off an ofproto/trace of it (flows/trace.h). */
enum policy_verdict_kind {
    POLICY_VERDICT_UNREACHED,    /* The packet never reached the stage. */
    POLICY_VERDICT_NOT_ISOLATED, /* Allowed: no default deny matched. */
    POLICY_VERDICT_RULE,         /* Allowed by conjunction 'conj_id'. */
    POLICY_VERDICT_NODE,         /* Allowed: from the node itself. */
    POLICY_VERDICT_ESTABLISHED,  /* Allowed: not a new connection. */
    POLICY_VERDICT_DENIED,       /* The pod's default deny dropped it. */
};

struct policy_verdict {
    enum policy_verdict_kind kind;
    uint32_t conj_id;            /* POLICY_VERDICT_RULE. */
    int last_table;              /* POLICY_VERDICT_UNREACHED: the last table
                                  * the packet was looked up in, or -1. */
};

struct trace;
struct policy_verdict policy_trace_verdict(const struct trace *,
                                           enum policy_dir);
bool policy_verdict_allows(const struct policy_verdict *);

#endif /* flows/policy.h */
