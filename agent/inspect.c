/* What `ovs-appctl -t tendril-agent ...` shows of the agent. */
#include "ovs-config.h"
#include "agent/agent.h"
#include "agent/agent-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attachments.h"
#include "agent/k8s-cache.h"
#include "agent/k8s-client.h"
#include "agent/k8s-format.h"
#include "flow.h"
#include "flows/ofctrl.h"
#include "openvswitch/ofp-flow.h"
#include "lib/cidr.h"
#include "lib/ipam.h"
#include "openvswitch/dynamic-string.h"
#include "ovsdb/bridge.h"
#include "timeval.h"
#include "util.h"

void
agent_format_status(const struct agent *a, struct ds *s)
{
    const char *why;
    bool ready = agent_is_ready(a, &why);
    char cidr[CIDR_STRLEN], gw[IPADDR_STRLEN];

    ds_put_format(s, "node: %s\n", a->cfg.node_name);
    ds_put_format(s, "ready: %s%s%s\n", ready ? "yes" : "no",
                  ready ? "" : " - ", ready ? "" : why);
    if (a->k8s) {
        ds_put_format(s, "kubernetes: %s\n",
                      k8s_client_is_synced(a->k8s) ? "synced" : "syncing");
    }
    if (!a->ipam) {
        ds_put_format(s, "pod CIDR: none yet (%s)\n",
                      a->ipam_error ? a->ipam_error
                      : "waiting for the Node's spec.podCIDR");
        ds_put_format(s, "uptime: %lld s\n",
                      (time_msec() - a->started) / 1000);
        return;
    }
    ds_put_format(s, "ovsdb: %s (%s)\n", a->cfg.ovsdb,
                  bridge_ctl_is_connected(a->bridge)
                  ? "connected" : "not connected");
    ds_put_format(s, "openflow: %s\n",
                  a->ofctrl && ofctrl_is_connected(a->ofctrl)
                  ? "connected" : "not connected");
    ds_put_format(s, "bridge: %s (datapath %s, %s%s)\n", a->cfg.bridge,
                  a->cfg.datapath_type,
                  a->cfg.encap_mode == ENCAP_MODE_ENCAP ? "encap " : "noEncap",
                  a->cfg.encap_mode == ENCAP_MODE_ENCAP
                  ? a->cfg.tunnel_type : "");
    ds_put_format(s, "pod CIDR: %s, gateway %s "ETH_ADDR_FMT", MTU %d\n",
                  cidr_format(&a->node.pod_cidr, cidr),
                  ipaddr_format(&a->node.gw_ip, gw),
                  ETH_ADDR_ARGS(a->node.gw_mac), a->cfg.mtu);
    ds_put_format(s, "state: %s (%s)\n", agent_state_name(a->state),
                  agent_state_description(a->state));
    ds_put_cstr(s, "features:");
    struct feature_ctx ctx;
    agent_feature_ctx(a, &ctx, false);
    for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
        const struct feature *f = &a->features[i];
        ds_put_format(s, " %s (%s)", f->class->name,
                      f->class->is_synced(f->data, &ctx) ? "synced"
                                                         : "syncing");
    }
    ds_put_char(s, '\n');
    ds_put_format(s, "pods: %"PRIuSIZE"\n", hmap_count(&a->attachments));
    ds_put_format(s, "flows: %"PRIuSIZE"\n", flow_table_count(&a->flows));
    ds_put_format(s, "uptime: %lld s\n", (time_msec() - a->started) / 1000);
}

struct pod_line {
    const char *sort_key;
    char *text;
};

static int
compare_pod_lines(const void *a_, const void *b_)
{
    const struct pod_line *a = a_, *b = b_;
    return strcmp(a->sort_key, b->sort_key);
}

void
agent_format_pods(const struct agent *a, struct ds *s)
{
    size_t n = 0;
    struct pod_line *lines = xmalloc((hmap_count(&a->attachments) + 1)
                                     * sizeof *lines);
    const struct attachment *att;
    HMAP_FOR_EACH (att, node, &a->attachments) {
        char ip[IPADDR_STRLEN];
        const char *state = agent_attachment_state(a, att);
        lines[n].sort_key = att->key;
        lines[n].text = xasprintf(
            "%-30s %-15s "ETH_ADDR_FMT" %-16s ofport=%-4"PRIu16" %s/%s "
            "%s\n",
            att->pod_name ? att->pod_name : "-", ipaddr_format(&att->ip, ip),
            ETH_ADDR_ARGS(att->mac), att->host_ifname,
            ofp_to_u16(att->ofport), att->pod_namespace ? att->pod_namespace
                                                         : "-",
            att->key, state);
        n++;
    }
    qsort(lines, n, sizeof *lines, compare_pod_lines);
    for (size_t i = 0; i < n; i++) {
        ds_put_cstr(s, lines[i].text);
        free(lines[i].text);
    }
    free(lines);
}

/* Runs the formatter of the feature named 'name'. */
void
agent_format_feature(const struct agent *a, const char *name, struct ds *s)
{
    for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
        const struct feature *f = &a->features[i];
        if (!strcmp(f->class->name, name) && f->class->format) {
            f->class->format(f->data, s);
        }
    }
}

void
agent_format_nodes(const struct agent *a, struct ds *s)
{
    agent_format_feature(a, "nodes", s);
}

void
agent_format_services(const struct agent *a, struct ds *s)
{
    agent_format_feature(a, "services", s);
}

void
agent_format_ipam(const struct agent *a, struct ds *s)
{
    char pool[CIDR_STRLEN], gw[IPADDR_STRLEN];
    struct ipam_entry *entries;
    if (!a->ipam) {
        ds_put_cstr(s, "no pool yet: waiting for the Node's "
                    "spec.podCIDR\n");
        return;
    }
    size_t n = ipam_entries(a->ipam, &entries);

    ds_put_format(s, "pool %s, gateway %s, %"PRIuSIZE" allocated\n",
                  cidr_format(ipam_pool(a->ipam), pool),
                  ipaddr_format(&a->node.gw_ip, gw), n);
    for (size_t i = 0; i < n; i++) {
        char ip[IPADDR_STRLEN];
        ds_put_format(s, "%-16s %s\n", ipaddr_format(&entries[i].addr, ip),
                      entries[i].owner);
    }
    ipam_entries_free(entries, n);
}

void
agent_format_memory(const struct agent *a, struct ds *s)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "VmRSS:", 6) || !strncmp(line, "VmHWM:", 6)) {
                ds_put_cstr(s, line);
            }
        }
        fclose(f);
    }
    ds_put_format(s, "desired flows: %"PRIuSIZE"\n",
                  flow_table_count(&a->flows));
    ds_put_format(s, "pods: %"PRIuSIZE"\n", hmap_count(&a->attachments));
    ds_put_format(s, "addresses: %"PRIuSIZE"\n",
                  a->ipam ? ipam_count(a->ipam) : 0);
    if (a->cache) {
        for (int k = 0; k < K8S_N_KINDS; k++) {
            ds_put_format(s, "k8s %s: %"PRIuSIZE"\n", k8s_client_plural(k),
                          k8s_cache_count(a->cache, k));
        }
    }
}

void
agent_format_sync_stats(const struct agent *a, struct ds *s)
{
    ds_put_format(s, "desired flows: %"PRIuSIZE"\n",
                  flow_table_count(&a->flows));
    ds_put_format(s, "desired version: %"PRIu64"\n", a->flows.seqno);
    flow_table_format_set_aside(&a->flows, s);
    if (a->api_latency_ms >= 0) {
        ds_put_format(s, "API change to installed: last %lld ms, most "
                      "%lld ms\n", a->api_latency_ms, a->api_latency_max_ms);
    }
    if (a->ofctrl) {
        ofctrl_format_stats(a->ofctrl, s);
    } else {
        ds_put_cstr(s, "connected: no (br-int not ready)\n");
    }
}

void
agent_dump_flows(const struct agent *a, const char *owner, struct ds *s)
{
    flow_table_dump(&a->flows, owner, true, s);
}

char *
agent_format_k8s_status(const struct agent *a, struct ds *s)
{
    if (!a->k8s) {
        return xstrdup("no Kubernetes client (the agent runs with "
                       "--pod-cidr and neither --kubeconfig nor "
                       "--in-cluster)");
    }
    k8s_client_format_status(a->k8s, s);
    return NULL;
}


char *
agent_format_k8s_get(const struct agent *a, const char *kind,
                     const char *key, struct ds *s)
{
    return (a->cache ? k8s_format_get(a->cache, kind, key, s)
                     : agent_format_k8s_status(a, s));
}

void
agent_format_policies(const struct agent *a, struct ds *s)
{
    agent_format_feature(a, "policies", s);
}

struct stats_request {
    const struct feature *feature;
    agent_stats_done_func *done;
    void *aux;
};

static void
stats_received(const struct ofputil_flow_stats *fs, size_t n,
               const char *error, void *r_)
{
    struct stats_request *r = r_;
    if (error) {
        r->done(NULL, error, r->aux);
    } else {
        struct ds s = DS_EMPTY_INITIALIZER;
        r->feature->class->format_stats(r->feature->data, fs, n, &s);
        r->done(ds_cstr(&s), NULL, r->aux);
        ds_destroy(&s);
    }
    free(r);
}

bool
agent_feature_stats(struct agent *a, const char *name,
                    agent_stats_done_func *done, void *aux)
{
    for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
        const struct feature *f = &a->features[i];
        if (strcmp(f->class->name, name) || !f->class->format_stats
            || !a->ofctrl) {
            continue;
        }
        struct stats_request *r = xmalloc(sizeof *r);
        *r = (struct stats_request) { f, done, aux };
        if (ofctrl_request_flow_stats(a->ofctrl, f->class->stats_category,
                                      stats_received, r)) {
            return true;
        }
        free(r);
    }
    return false;
}
