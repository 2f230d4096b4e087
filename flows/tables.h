/*
 * The pipeline's tables, in order.  The table id of each is its position
 * here; its name is what OVSDB's Flow_Table rows carry, so that
 * `ovs-ofctl dump-flows br-int` prints names, and what flow text written by
 * the features uses ("goto_table:L3Forwarding").
 *
 * See docs/pipeline.md for what each table does.
 */
#ifndef TENDRIL_FLOWS_TABLES_H
#define TENDRIL_FLOWS_TABLES_H 1

#include <stdint.h>

#include "openvswitch/compiler.h"

/* TABLE(ENUM, "Name") in pipeline order. */
#define TENDRIL_TABLES                                  \
    TABLE(CLASSIFIER,           "Classifier")           \
    TABLE(SPOOF_GUARD,          "SpoofGuard")           \
    TABLE(ARP_SPOOF_GUARD,      "ARPSpoofGuard")        \
    TABLE(ARP_RESPONDER,        "ARPResponder")         \
    TABLE(UN_SNAT,              "UnSNAT")               \
    TABLE(CT_ZONE,              "ConntrackZone")        \
    TABLE(CT_STATE,             "ConntrackState")       \
    TABLE(SESSION_AFFINITY,     "SessionAffinity")      \
    TABLE(SERVICE_LB,           "ServiceLB")            \
    TABLE(ENDPOINT_DNAT,        "EndpointDNAT")         \
    TABLE(EGRESS_RULE,          "EgressRule")           \
    TABLE(EGRESS_DEFAULT_RULE,  "EgressDefaultRule")    \
    TABLE(EGRESS_METRIC,        "EgressMetric")         \
    TABLE(L3_FORWARDING,        "L3Forwarding")         \
    TABLE(L3_DEC_TTL,           "L3DecTTL")             \
    TABLE(SNAT,                 "SNAT")                 \
    TABLE(L2_FORWARDING_CALC,   "L2ForwardingCalc")     \
    TABLE(INGRESS_RULE,         "IngressRule")          \
    TABLE(INGRESS_DEFAULT_RULE, "IngressDefaultRule")   \
    TABLE(INGRESS_METRIC,       "IngressMetric")        \
    TABLE(CT_COMMIT,            "ConntrackCommit")      \
    TABLE(OUTPUT,               "Output")

enum tnd_table {
#define TABLE(ENUM, NAME) TABLE_##ENUM,
    TENDRIL_TABLES
#undef TABLE
    N_TABLES
};

/* The stages must stay in this order: each may only jump forward. */
BUILD_ASSERT_DECL(TABLE_CLASSIFIER == 0);
BUILD_ASSERT_DECL(TABLE_SPOOF_GUARD < TABLE_ARP_SPOOF_GUARD);
BUILD_ASSERT_DECL(TABLE_ARP_SPOOF_GUARD < TABLE_ARP_RESPONDER);
BUILD_ASSERT_DECL(TABLE_ARP_RESPONDER < TABLE_UN_SNAT);
BUILD_ASSERT_DECL(TABLE_UN_SNAT < TABLE_CT_ZONE);
BUILD_ASSERT_DECL(TABLE_CT_ZONE < TABLE_CT_STATE);
BUILD_ASSERT_DECL(TABLE_CT_STATE < TABLE_SESSION_AFFINITY);
BUILD_ASSERT_DECL(TABLE_SESSION_AFFINITY < TABLE_SERVICE_LB);
BUILD_ASSERT_DECL(TABLE_SERVICE_LB < TABLE_ENDPOINT_DNAT);
BUILD_ASSERT_DECL(TABLE_ENDPOINT_DNAT < TABLE_EGRESS_RULE);
BUILD_ASSERT_DECL(TABLE_EGRESS_RULE < TABLE_EGRESS_DEFAULT_RULE);
BUILD_ASSERT_DECL(TABLE_EGRESS_DEFAULT_RULE < TABLE_EGRESS_METRIC);
BUILD_ASSERT_DECL(TABLE_EGRESS_METRIC < TABLE_L3_FORWARDING);
BUILD_ASSERT_DECL(TABLE_L3_FORWARDING < TABLE_L3_DEC_TTL);
BUILD_ASSERT_DECL(TABLE_L3_DEC_TTL < TABLE_SNAT);
BUILD_ASSERT_DECL(TABLE_SNAT < TABLE_L2_FORWARDING_CALC);
BUILD_ASSERT_DECL(TABLE_L2_FORWARDING_CALC < TABLE_INGRESS_RULE);
BUILD_ASSERT_DECL(TABLE_INGRESS_RULE < TABLE_INGRESS_DEFAULT_RULE);
BUILD_ASSERT_DECL(TABLE_INGRESS_DEFAULT_RULE < TABLE_INGRESS_METRIC);
BUILD_ASSERT_DECL(TABLE_INGRESS_METRIC < TABLE_CT_COMMIT);
BUILD_ASSERT_DECL(TABLE_CT_COMMIT < TABLE_OUTPUT);
BUILD_ASSERT_DECL(N_TABLES <= 254);

const char *table_name(enum tnd_table);
struct ofputil_table_map *tables_get_map(void);

#endif /* flows/tables.h */
