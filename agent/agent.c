/* The agent's core: its inputs, its features and its one state machine. */
#include "ovs-config.h"
#include "agent/agent.h"
#include "agent/agent-int.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attachments.h"
#include "agent/cni-server.h"
#include "agent/gateway.h"
#include "agent/k8s-cache.h"
#include "agent/k8s-client.h"
#include "agent/metrics.h"
#include "agent/pod-cidr.h"
#include "flow.h"
#include "flows/ofctrl.h"
#include "lib/cidr.h"
#include "lib/ipam.h"
#include "lib/k8s-object.h"
#include "lib/kubeconfig.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb/bridge.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent);

/* In the order they run: the others use the static pipeline's tables. */
static const struct feature_class *const feature_classes[AGENT_N_FEATURES] = {
    &pipeline_feature, &pods_feature, &nodes_feature, &services_feature,
    &policies_feature,
};

const char *
agent_state_name(enum agent_state state)
{
    switch (state) {
#define AGENT_STATE(NAME, DESCRIPTION) case AGENT_##NAME: return #NAME;
    AGENT_STATES
#undef AGENT_STATE
    }
    return "?";
}

const char *
agent_state_description(enum agent_state state)
{
    switch (state) {
#define AGENT_STATE(NAME, DESCRIPTION) \
        case AGENT_##NAME: return DESCRIPTION;
    AGENT_STATES
#undef AGENT_STATE
    }
    return "?";
}

static void
set_state(struct agent *a, enum agent_state state, const char *why)
{
    VLOG_INFO("%s -> %s after %lld ms: %s", agent_state_name(a->state),
              agent_state_name(state), time_msec() - a->started, why);
    a->state = state;
}

/* The inputs the features read. */
void
agent_feature_ctx(const struct agent *a, struct feature_ctx *ctx,
                  bool node_changed)
{
    *ctx = (struct feature_ctx) {
        .cfg = &a->cfg,
        .node = &a->node,
        .node_ready = a->node_ready,
        .node_changed = node_changed,
        .gateway_configured = a->gateway_configured,
        .cache = a->cache,
        .k8s_synced = a->k8s && k8s_client_is_synced(a->k8s),
        .attachments = CONST_CAST(struct hmap *, &a->attachments),
        .started = a->started,
    };
}

/* Opens the IPAM on 'pod_cidr' and starts managing the bridge. */
static char *
open_node(struct agent *a, const struct cidr *pod_cidr)
{
    const struct agent_config *cfg = &a->cfg;
    char *ipam_dir = xasprintf("%s/ipam", cfg->state_dir);
    char *error = ipam_open(ipam_dir, pod_cidr, &a->ipam);
    free(ipam_dir);
    if (error) {
        return error;
    }
    a->node.pod_cidr = *pod_cidr;
    ipam_gateway(a->ipam, &a->node.gw_ip);
    a->node.gw_mac = gateway_mac(&a->node.gw_ip);

    struct bridge_config bcfg = {
        .bridge = cfg->bridge,
        .datapath_type = cfg->datapath_type,
        .tunnel_type = (cfg->encap_mode == ENCAP_MODE_ENCAP
                        ? cfg->tunnel_type : NULL),
        .node_name = cfg->node_name,
        .gw_mac = a->node.gw_mac,
    };
    a->bridge = bridge_ctl_create(cfg->ovsdb, &bcfg);
    char s[CIDR_STRLEN];
    set_state(a, AGENT_WAIT_BRIDGE, cidr_format(pod_cidr, s));
    return NULL;
}

char *
agent_create(const struct agent_config *cfg, struct agent **agentp)
{
    struct agent *a = xzalloc(sizeof *a);
    *agentp = NULL;

    agent_config_clone(&a->cfg, cfg);
    hmap_init(&a->attachments);
    ovs_list_init(&a->del_waiters);
    flow_table_init(&a->flows);
    a->started = time_msec();
    a->api_latency_ms = -1;
    a->state = AGENT_WAIT_POD_CIDR;

    char *error;
    if (cfg->kubeconfig || cfg->in_cluster) {
        struct kubeconfig *kc;
        error = (cfg->kubeconfig
                 ? kubeconfig_load(cfg->kubeconfig, cfg->k8s_insecure, &kc)
                 : kubeconfig_in_cluster(NULL, cfg->api_server, &kc));
        if (error) {
            agent_destroy(a);
            return error;
        }
        a->cache = k8s_cache_create();
        a->k8s = k8s_client_create(kc, a->cache);
    }

    struct feature_ctx ctx;
    agent_feature_ctx(a, &ctx, false);
    for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
        a->features[i].class = feature_classes[i];
        a->features[i].data = feature_classes[i]->create(&ctx);
    }

    struct cidr saved;
    if (cfg->has_pod_cidr) {
        error = open_node(a, &cfg->pod_cidr);
        if (error) {
            agent_destroy(a);
            return error;
        }
    } else if (pod_cidr_load(cfg->state_dir, &saved)) {
        char text[CIDR_STRLEN];
        VLOG_INFO("podCIDR %s from the last run; the Node will be checked",
                  cidr_format(&saved, text));
        error = open_node(a, &saved);
        if (error) {
            VLOG_WARN("%s; waiting for the Node's podCIDR", error);
            free(error);
        }
    }

    error = cni_server_create(cfg->cni_socket, agent_handle_cni_request, a,
                              &a->cni);
    if (error) {
        agent_destroy(a);
        return error;
    }
    if (cfg->metrics_address) {
        error = metrics_server_create(cfg->metrics_address, a, &a->metrics);
        if (error) {
            agent_destroy(a);
            return error;
        }
    }
    *agentp = a;
    return NULL;
}

/* The first IPv4 prefix of this node's spec.podCIDRs in the cache, or
 * NULL. */
static const struct cidr *
node_pod_cidr(const struct agent *a)
{
    const struct k8s_object *obj = (a->cache
                                    ? k8s_cache_get(a->cache, K8S_NODE, NULL,
                                                    a->cfg.node_name)
                                    : NULL);
    if (obj) {
        const struct k8s_node *node = k8s_node_cast(obj);
        for (size_t i = 0; i < node->n_pod_cidrs; i++) {
            if (node->pod_cidrs[i].addr.family == AF_INET) {
                return &node->pod_cidrs[i];
            }
        }
    }
    return NULL;
}

/* Without --pod-cidr, opens the IPAM once the Node has a podCIDR; after
 * that, reports a podCIDR that differs from the pool (the pool stays: a
 * new one needs a restart). */
static void
run_node_cidr(struct agent *a)
{
    const struct cidr *cidr = node_pod_cidr(a);
    char s[CIDR_STRLEN], pool[CIDR_STRLEN];
    if (!a->ipam) {
        if (cidr && k8s_client_is_synced(a->k8s)) {
            char *error = open_node(a, cidr);
            free(a->ipam_error);
            a->ipam_error = error;
            if (error) {
                static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);
                VLOG_ERR_RL(&rl, "podCIDR %s: %s", cidr_format(cidr, s),
                            error);
            } else {
                VLOG_INFO("podCIDR %s from Node %s", cidr_format(cidr, s),
                          a->cfg.node_name);
                pod_cidr_save(a->cfg.state_dir, cidr);
            }
        }
        return;
    }
    if (!a->cfg.has_pod_cidr && cidr
        && !cidr_equals(cidr, ipam_pool(a->ipam))) {
        cidr_format(cidr, s);
        if (!a->cidr_mismatch || strcmp(a->cidr_mismatch, s)) {
            VLOG_ERR("Node %s: spec.podCIDR changed to %s; staying on %s "
                     "until the agent restarts", a->cfg.node_name, s,
                     cidr_format(ipam_pool(a->ipam), pool));
            free(a->cidr_mismatch);
            a->cidr_mismatch = xstrdup(s);
        }
    }
}

/* Removes 'att': its port, its address if 'release', and the attachment
 * (its flows go at the pods feature's next run). */
void
agent_remove_attachment(struct agent *a, struct attachment *att,
                        bool release)
{
    if (release) {
        int error = ipam_release(a->ipam, att->key);
        if (error) {
            VLOG_WARN("%s: releasing its address failed (%s)", att->key,
                      ovs_strerror(error));
        }
    }
    if (att->host_ifname && a->bridge) {
        bridge_ctl_del_pod_port(a->bridge, att->host_ifname);
    }
    attachment_free(&a->attachments, att);
}

void
agent_destroy(struct agent *a)
{
    if (!a) {
        return;
    }
    struct attachment *att;
    HMAP_FOR_EACH_SAFE (att, node, &a->attachments) {
        attachment_free(&a->attachments, att);
    }
    hmap_destroy(&a->attachments);
    metrics_server_destroy(a->metrics);
    cni_server_destroy(a->cni);
    for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
        if (a->features[i].class) {
            a->features[i].class->destroy(a->features[i].data);
        }
    }
    k8s_client_destroy(a->k8s);
    k8s_cache_destroy(a->cache);
    free(a->ipam_error);
    free(a->cidr_mismatch);
    ofctrl_destroy(a->ofctrl);
    bridge_ctl_destroy(a->bridge);
    ipam_close(a->ipam);
    flow_table_destroy(&a->flows);
    agent_config_destroy(&a->cfg);
    free(a);
}

/* A packet the switch sent: the first feature that answers it gets its
 * reply sent. */
static void
handle_packet_in(const struct ofputil_packet_in *pin, void *a_)
{
    struct agent *a = a_;
    uint64_t stub[512 / 8];
    struct ofpbuf reply;
    ofpbuf_use_stub(&reply, stub, sizeof stub);
    for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
        struct feature *f = &a->features[i];
        uint32_t out_port;
        if (f->class->packet_in
            && f->class->packet_in(f->data, pin, &reply, &out_port)) {
            ofctrl_packet_out(a->ofctrl, reply.data, reply.size,
                              u16_to_ofp(out_port));
            break;
        }
    }
    ofpbuf_uninit(&reply);
}

/* Takes what changed in OVSDB: the node's ports, the gateway (done again
 * whenever OVSDB changes, since a restarted ovs-vswitchd makes the device
 * anew), the pods' port numbers, and once the bridge is ready the
 * attachments of the previous run.  Returns true if the node changed. */
static bool
run_bridge(struct agent *a)
{
    bridge_ctl_run(a->bridge);
    if (!a->ofctrl && bridge_ctl_is_ready(a->bridge)) {
        char *target = xasprintf("unix:%s/%s.mgmt", a->cfg.ovs_rundir,
                                 a->cfg.bridge);
        a->ofctrl = ofctrl_create(target, bridge_ctl_round(a->bridge),
                                  bridge_ctl_prev_round(a->bridge));
        ofctrl_set_packet_in_handler(a->ofctrl, handle_packet_in, a);
        free(target);
    }

    unsigned int seqno = bridge_ctl_seqno(a->bridge);
    if (seqno == a->bridge_seqno || !bridge_ctl_is_ready(a->bridge)) {
        return false;
    }
    a->bridge_seqno = seqno;

    ofp_port_t gw = bridge_ctl_gw_ofport(a->bridge);
    ofp_port_t tun = bridge_ctl_tun_ofport(a->bridge);
    bool changed = (gw != a->node.gw_ofport || tun != a->node.tun_ofport);
    a->node.gw_ofport = gw;
    a->node.tun_ofport = tun;
    a->node_ready = ofp_to_u16(gw) != 0;

    bool had_gateway = a->gateway_configured;
    a->gateway_configured = a->node_ready && gateway_configure(&a->node,
                                                               a->cfg.mtu);
    changed |= had_gateway != a->gateway_configured;

    if (a->state == AGENT_WAIT_BRIDGE && bridge_ctl_pods_adopted(a->bridge)) {
        attachments_restore(&a->attachments, a->bridge, a->ipam);
        char *why = xasprintf("br-int is ready; %"PRIuSIZE" pods restored",
                              hmap_count(&a->attachments));
        set_state(a, AGENT_WAIT_FEATURES, why);
        free(why);
    }
    attachments_refresh_ports(&a->attachments, a->bridge);
    return changed;
}

/* True if every feature (with 'local_only', every feature that needs
 * nothing but local state) reports synced; otherwise names one that does
 * not. */
static bool
features_synced(const struct agent *a, const struct feature_ctx *ctx,
                bool local_only, const char **laggard)
{
    for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
        const struct feature *f = &a->features[i];
        if (local_only && f->class->needs_api) {
            continue;
        }
        if (!f->class->is_synced(f->data, ctx)) {
            *laggard = f->class->name;
            return false;
        }
    }
    return true;
}

/* Clears flow-restore-wait once the flows made from local state alone
 * (the pipeline, the pods) are in the switch: a restarted ovs-vswitchd
 * forwards nothing until then, and the API server itself may be reachable
 * only through it.  The previous run's flows are still deleted only at the
 * full sync, which waits for the features that need the API. */
static void
run_restore_wait(struct agent *a, const struct feature_ctx *ctx)
{
    const char *laggard;
    if (a->restore_wait_cleared || a->state < AGENT_WAIT_FEATURES
        || !a->ofctrl) {
        return;
    }
    if (!a->local_seqno) {
        if (features_synced(a, ctx, true, &laggard)) {
            a->local_seqno = a->flows.seqno;
        }
    } else if (ofctrl_installed_seqno(a->ofctrl) >= a->local_seqno) {
        bridge_ctl_clear_flow_restore_wait(a->bridge);
        a->restore_wait_cleared = true;
        VLOG_INFO("the flows from local state are installed after %lld ms; "
                  "flow-restore-wait cleared", time_msec() - a->started);
    }
}

/* Moves the state machine on as far as its conditions hold. */
static void
advance(struct agent *a, const struct feature_ctx *ctx)
{
    const char *laggard;
    run_restore_wait(a, ctx);
    if (a->state == AGENT_WAIT_FEATURES && a->ofctrl
        && features_synced(a, ctx, false, &laggard)) {
        /* Every input the agent has is in the desired table: the previous
         * run's flows, groups and meters may go. */
        a->synced_seqno = a->flows.seqno;
        ofctrl_set_synced(a->ofctrl);
        char *why = xasprintf("%"PRIuSIZE" pods, %"PRIuSIZE" flows",
                              hmap_count(&a->attachments),
                              flow_table_count(&a->flows));
        set_state(a, AGENT_SYNCING, why);
        free(why);
    }
    if (a->state == AGENT_SYNCING
        && ofctrl_installed_seqno(a->ofctrl) >= a->synced_seqno
        && ofctrl_prev_round_deleted(a->ofctrl)) {
        set_state(a, AGENT_RUNNING, "the switch holds this run's flows "
                  "alone");
        /* The initial lists and the first full sync leave much freed heap
         * behind (response buffers, parsed JSON, the encoded bundle):
         * give it back to the system once. */
        malloc_trim(0);
    }
}

/* The time from an API change taken into the cache (and the features, in
 * the same iteration) to the switch holding the flows it changed. */
static void
measure_api_latency(struct agent *a)
{
    if (!a->cache || !a->ofctrl) {
        return;
    }
    uint64_t n = k8s_cache_n_changes(a->cache);
    if (n != a->api_changes_seen) {
        a->api_changes_seen = n;
        if (a->flows.seqno > ofctrl_installed_seqno(a->ofctrl)) {
            if (!a->api_change_ms) {
                a->api_change_ms = time_msec();
            }
            a->api_change_seqno = a->flows.seqno;
        }
    }
    if (a->api_change_ms
        && ofctrl_installed_seqno(a->ofctrl) >= a->api_change_seqno) {
        a->api_latency_ms = time_msec() - a->api_change_ms;
        a->api_latency_max_ms = MAX(a->api_latency_max_ms,
                                    a->api_latency_ms);
        histogram_observe(&a->api_latency, a->api_latency_ms / 1000.0);
        a->api_change_ms = 0;
    }
}

void
agent_run(struct agent *a)
{
    if (a->k8s) {
        k8s_client_run(a->k8s);
        run_node_cidr(a);
    }
    bool node_changed = a->bridge && run_bridge(a);

    /* CNI requests first, so that the features see their attachments in
     * the same iteration. */
    cni_server_run(a->cni);

    struct feature_ctx ctx;
    agent_feature_ctx(a, &ctx, node_changed);
    if (a->bridge) {
        for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
            struct feature *f = &a->features[i];
            f->class->run(f->data, &ctx, &a->flows);
        }
    }
    advance(a, &ctx);
    if (a->ofctrl) {
        ofctrl_run(a->ofctrl, &a->flows);
        advance(a, &ctx);
    }
    measure_api_latency(a);
    agent_run_waiters(a);
    metrics_server_run(a->metrics);
}

void
agent_wait(struct agent *a)
{
    if (a->k8s) {
        k8s_client_wait(a->k8s);
    }
    if (a->bridge) {
        bridge_ctl_wait(a->bridge);
        struct feature_ctx ctx;
        agent_feature_ctx(a, &ctx, false);
        for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
            struct feature *f = &a->features[i];
            if (f->class->wait) {
                f->class->wait(f->data, &ctx);
            }
        }
    }
    if (a->ofctrl) {
        ofctrl_wait(a->ofctrl, &a->flows);
    }
    cni_server_wait(a->cni);
    agent_wait_waiters(a);
    metrics_server_wait(a->metrics);
}

/* Ready for CNI ADDs: synced, and every connection up. */
bool
agent_is_ready(const struct agent *a, const char **why)
{
    const char *reason = (a->k8s && !k8s_client_is_synced(a->k8s)
                          ? "the Kubernetes API objects are not synced yet"
                          : !a->ipam && a->ipam_error
                          ? "the IPAM cannot be opened on the Node's podCIDR"
                          : !a->bridge ? agent_state_description(a->state)
                          : !bridge_ctl_is_connected(a->bridge)
                          ? "OVSDB is not connected"
                          : !a->ofctrl || !ofctrl_is_connected(a->ofctrl)
                          ? "the OpenFlow connection to br-int is down"
                          : a->state != AGENT_RUNNING
                          ? agent_state_description(a->state)
                          : !a->gateway_configured
                          ? "the gateway interface is not configured"
                          : NULL);
    if (why) {
        *why = reason;
    }
    return !reason;
}
