/*
 * The agent's own state, shared by the files of its core (agent.c, the CNI
 * handlers in cni-handlers.c, inspection in inspect.c).  Features never see
 * it: they get a 'struct feature_ctx'.
 */
#ifndef TENDRIL_AGENT_AGENT_INT_H
#define TENDRIL_AGENT_AGENT_INT_H 1

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "agent/config.h"
#include "agent/feature.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "lib/metrics.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"

struct attachment;
struct cni_request;
struct metrics_server;


/* The agent's life, one state after another; each transition is logged. */
#define AGENT_STATES                                                    \
    AGENT_STATE(WAIT_POD_CIDR, "waiting for the Node's spec.podCIDR")   \
    AGENT_STATE(WAIT_BRIDGE, "setting up br-int through OVSDB")         \
    AGENT_STATE(WAIT_FEATURES, "waiting for every feature's flows")     \
    AGENT_STATE(SYNCING, "first full sync: installing, then deleting "  \
                "the previous run's flows, groups and meters")          \
    AGENT_STATE(RUNNING, "synced")

enum agent_state {
#define AGENT_STATE(NAME, DESCRIPTION) AGENT_##NAME,
    AGENT_STATES
#undef AGENT_STATE
};

const char *agent_state_name(enum agent_state);
const char *agent_state_description(enum agent_state);

enum { AGENT_N_FEATURES = 5 };

struct agent {
    struct agent_config cfg;
    enum agent_state state;
    long long int started;

    /* Kubernetes, if configured. */
    struct k8s_cache *cache;
    struct k8s_client *k8s;
    char *ipam_error;            /* Why the IPAM could not be opened. */
    char *cidr_mismatch;         /* The Node's podCIDR last reported as
                                  * differing from the pool. */

    /* The IPAM and the bridge exist once the podCIDR is known: from
     * --pod-cidr at once, else from the Node's spec.podCIDR. */
    struct ipam *ipam;
    struct bridge_ctl *bridge;
    struct ofctrl *ofctrl;
    struct cni_server *cni;
    struct flow_table flows;

    struct node_net node;
    bool node_ready;             /* 'node' has the gateway's port. */
    bool gateway_configured;     /* tendril-gw0 has its address. */
    unsigned int bridge_seqno;   /* OVSDB version last looked at. */

    struct hmap attachments;     /* "struct attachment"s, by key. */
    struct ovs_list del_waiters; /* "struct waiter"s of DELs and GCs. */
    struct feature features[AGENT_N_FEATURES];
    uint64_t synced_seqno;       /* Desired version at the first sync. */
    uint64_t local_seqno;        /* Desired version once the features of
                                  * local state alone were synced. */
    bool restore_wait_cleared;

    /* From an API change to its flows in the switch (flows/sync-stats). */
    uint64_t api_changes_seen;   /* k8s_cache_n_changes() last seen. */
    long long int api_change_ms; /* When the oldest change not yet
                                  * installed was taken in, or 0. */
    uint64_t api_change_seqno;   /* Desired version that holds it. */
    long long int api_latency_ms;    /* The last such change's, or -1. */
    long long int api_latency_max_ms;
    struct histogram api_latency;    /* All of them (metrics). */

    struct metrics_server *metrics;  /* --metrics-address, or NULL. */
};

bool agent_is_ready(const struct agent *, const char **why);
void agent_feature_ctx(const struct agent *, struct feature_ctx *,
                       bool node_changed);
void agent_remove_attachment(struct agent *, struct attachment *,
                             bool release);

/* cni-handlers.c */
void agent_handle_cni_request(struct cni_request *, const json_t *,
                              void *agent);
void agent_run_waiters(struct agent *);
void agent_wait_waiters(const struct agent *);
const char *agent_attachment_state(const struct agent *,
                                   const struct attachment *);

#endif /* agent/agent-int.h */
