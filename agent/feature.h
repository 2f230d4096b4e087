/*
 * A feature turns the agent's inputs into desired flows: the static
 * pipeline, pods, peer nodes, and later Services and NetworkPolicy.
 *
 * Each feature is one module with this contract.  It reads only the
 * explicit inputs of 'struct feature_ctx' (never the agent itself), keeps
 * what it needs to work incrementally, and changes only its own owners'
 * flows in the flow table it is given; the translation of objects into
 * flows lives in flows/ and is pure.  The agent runs every feature in each
 * loop iteration, in the order of its list, and its first full sync (the
 * one that deletes the previous run's flows, groups and meters) waits until
 * every feature reports is_synced().
 */
#ifndef TENDRIL_AGENT_FEATURE_H
#define TENDRIL_AGENT_FEATURE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config;
struct ds;
struct flow_table;
struct hmap;
struct k8s_cache;
struct node_net;
struct ofpbuf;
struct ofputil_flow_stats;
struct ofputil_packet_in;
struct policy_verdict;
enum policy_dir;

/* The inputs a feature may read. */
struct feature_ctx {
    const struct agent_config *cfg;
    const struct node_net *node;   /* The node's ports and addresses. */
    bool node_ready;               /* 'node' has the gateway's port. */
    bool node_changed;             /* 'node' changed since the last run. */
    bool gateway_configured;       /* tendril-gw0 is up with its address. */
    struct k8s_cache *cache;       /* NULL without a Kubernetes client. */
    bool k8s_synced;               /* The cache holds a full list. */
    struct hmap *attachments;      /* "struct attachment"s, by key; the
                                    * pods feature fails their waiters when
                                    * it cannot make their flows. */
    long long int started;         /* When the agent started, in ms. */
};

struct feature_class {
    const char *name;              /* "pipeline", "pods", "nodes"... */
    bool needs_api;                /* Synced only with the API server's
                                    * objects (see agent.c's
                                    * run_restore_wait()). */
    void *(*create)(const struct feature_ctx *);
    void (*destroy)(void *);
    void (*run)(void *, const struct feature_ctx *, struct flow_table *);
    void (*wait)(void *, const struct feature_ctx *);   /* May be NULL. */
    bool (*is_synced)(const void *, const struct feature_ctx *);
    void (*format)(const void *, struct ds *);          /* May be NULL. */

    /* May be NULL.  Formats the switch's counters of the flows of this
     * feature's cookie category ('stats_category'), for its statistics
     * command. */
    uint8_t stats_category;
    void (*format_stats)(const void *, const struct ofputil_flow_stats *,
                         size_t n, struct ds *);

    /* May be NULL.  Names what decided a policy verdict read off a trace
     * (a rule allowed, or a default deny dropped) for 'pod' ("NS/NAME", or
     * NULL for an address that is no pod), for policy/explain. */
    void (*describe_verdict)(const void *, const struct policy_verdict *,
                             enum policy_dir, const char *pod,
                             struct ds *);
    /* May be NULL.  A packet the switch sent the agent from a flow: if it
     * is this feature's to answer, puts the packet to send back in 'reply'
     * and its output port in '*out_port' and returns true. */
    bool (*packet_in)(void *, const struct ofputil_packet_in *,
                      struct ofpbuf *reply, uint32_t *out_port);
};

struct feature {
    const struct feature_class *class;
    void *data;
};

extern const struct feature_class pipeline_feature;
extern const struct feature_class pods_feature;
extern const struct feature_class nodes_feature;
extern const struct feature_class services_feature;
extern const struct feature_class policies_feature;

#endif /* agent/feature.h */
