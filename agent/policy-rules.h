/*
 * NetworkPolicy's rules as conjunctions: the local pods a policy applies
 * to, and for each rule the conjunctions of those targets, its peers and
 * its ports, with named ports resolved, ready for flows/policy.c.  Reads
 * the cache and the node's attached pods; makes no flows.
 */
#ifndef TENDRIL_AGENT_POLICY_RULES_H
#define TENDRIL_AGENT_POLICY_RULES_H 1

#include <stdbool.h>
#include <stddef.h>

#include "flows/policy.h"
#include "lib/cidr.h"

struct k8s_cache;
struct k8s_network_policy;
struct k8s_np_rule;
struct k8s_pod;
struct shash;

struct policy_inputs {
    const struct k8s_cache *cache;
    const struct shash *local;   /* "NS/NAME" -> IP (char *): this node's
                                  * attached pods. */
};

/* A local pod a policy applies to. */
struct policy_target {
    const struct k8s_pod *pod;
    struct ipaddr ip;
};

/* A conjunction being built, with the memory 'conj' points to. */
struct conj_build {
    struct policy_conj conj;     /* Its id is the caller's to set. */
    struct ipaddr *targets;
    size_t allocated_targets;
    struct cidr_list peers;
    struct ipaddr *pod_peers;    /* The pods among 'peers' (a pod's label
                                  * change updates them alone). */
    size_t n_pod_peers, allocated_pod_peers;
    size_t n_block_peers;        /* The first 'n_block_peers' of 'peers'
                                  * are ipBlocks, less their excepts. */
    size_t rule;                 /* The rule's index in its direction. */
    struct policy_port *ports;
    char *sig;                   /* Its ports, as text ("TCP/80,UDP"), or
                                  * "any". */
};

struct conj_builds {
    struct conj_build *b;
    size_t n, allocated;
};

bool rule_has_named_port(const struct k8s_np_rule *);
bool policy_pod_ip(const struct policy_inputs *, const struct k8s_pod *,
                   struct ipaddr *);
size_t policy_targets(const struct policy_inputs *,
                      const struct k8s_network_policy *,
                      struct policy_target **);
void policy_rule_build(const struct policy_inputs *, enum policy_dir,
                       const char *policy_ns, const struct k8s_np_rule *,
                       const struct policy_target *, size_t n_targets,
                       struct conj_builds *);
void conj_build_destroy(struct conj_build *);

#endif /* agent/policy-rules.h */
