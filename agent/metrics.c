#include "ovs-config.h"
#include "agent/metrics.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/agent-int.h"
#include "agent/cni-server.h"
#include "agent/http-server.h"
#include "agent/k8s-client.h"
#include "flows/ofctrl.h"
#include "lib/ipam.h"
#include "lib/metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovsdb/bridge.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(metrics);

struct metrics_server {
    const struct agent *agent;
    struct MHD_Daemon *daemon;
};

char *
metrics_parse_address(const char *s, char **addrp, uint16_t *portp)
{
    *addrp = NULL;
    *portp = 0;
    const char *colon = strrchr(s, ':');
    if (!colon) {
        return xasprintf("\"%s\" is not IPv4:PORT", s);
    }
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || !port || port > 65535) {
        return xasprintf("\"%s\": the port is not 1 to 65535", s);
    }
    if (colon != s) {
        char *addr = xmemdup0(s, colon - s);
        struct in_addr in;
        if (inet_pton(AF_INET, addr, &in) != 1) {
            char *error = xasprintf("\"%s\": \"%s\" is not an IPv4 address",
                                    s, addr);
            free(addr);
            return error;
        }
        *addrp = addr;
    }
    *portp = port;
    return NULL;
}

static enum MHD_Result
answer(void *ms_, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version OVS_UNUSED,
       const char *upload OVS_UNUSED, size_t *upload_size OVS_UNUSED,
       void **con_cls OVS_UNUSED)
{
    const struct metrics_server *ms = ms_;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        return http_server_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                 "text/plain", xstrdup("GET /metrics\n"));
    }
    if (strcmp(url, "/metrics")) {
        return http_server_reply(conn, MHD_HTTP_NOT_FOUND, "text/plain",
                                 xstrdup("GET /metrics\n"));
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    agent_format_metrics(ms->agent, &s);
    return http_server_reply(conn, MHD_HTTP_OK,
                             "text/plain; version=0.0.4; charset=utf-8",
                             ds_steal_cstr(&s));
}

char *
metrics_server_create(const char *address, const struct agent *agent,
                      struct metrics_server **msp)
{
    char *addr;
    uint16_t port;
    *msp = NULL;
    char *error = metrics_parse_address(address, &addr, &port);
    if (error) {
        char *e = xasprintf("metrics-address: %s", error);
        free(error);
        return e;
    }
    struct metrics_server *ms = xzalloc(sizeof *ms);
    ms->agent = agent;
    ms->daemon = http_server_start("metrics", addr, port, answer, ms);
    free(addr);
    if (!ms->daemon) {
        free(ms);
        return xasprintf("metrics-address: cannot listen on %s", address);
    }
    *msp = ms;
    return NULL;
}

void
metrics_server_destroy(struct metrics_server *ms)
{
    if (ms) {
        http_server_stop(ms->daemon);
        free(ms);
    }
}

void
metrics_server_run(struct metrics_server *ms)
{
    if (ms) {
        http_server_run(ms->daemon);
    }
}

void
metrics_server_wait(struct metrics_server *ms)
{
    if (ms) {
        http_server_wait(ms->daemon);
    }
}

static void
format_process(struct ds *s)
{
    struct rusage ru;
    if (!getrusage(RUSAGE_SELF, &ru)) {
        double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
                      + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
        metrics_put_scalar(s, "process_cpu_seconds_total", METRIC_COUNTER,
                           "User and system CPU time",
                           cpu);
    }
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size, resident;
    if (f && fscanf(f, "%lu %lu", &size, &resident) == 2) {
        long page = sysconf(_SC_PAGESIZE);
        metrics_put_scalar(s, "process_resident_memory_bytes", METRIC_GAUGE,
                           "Resident memory",
                           (double) resident * page);
    }
    if (f) {
        fclose(f);
    }
}

void
agent_format_metrics(const struct agent *a, struct ds *s)
{
    metrics_put_scalar(s, "tendril_agent_ready", METRIC_GAUGE,
                       "1 while the agent is ready for pods "
                       "(agent/status)",
                       agent_is_ready(a, NULL));
    metrics_put_family(s, "tendril_agent_state", METRIC_GAUGE,
                       "1 for the agent's state");
    for (int i = 0; i <= AGENT_RUNNING; i++) {
        char labels[64];
        snprintf(labels, sizeof labels, "state=\"%s\"",
                 agent_state_name(i));
        metrics_put_sample(s, "tendril_agent_state", labels, a->state == i);
    }
    metrics_put_scalar(s, "tendril_agent_ovsdb_connected", METRIC_GAUGE,
                       "1 while the OVSDB session is up",
                       a->bridge && bridge_ctl_is_connected(a->bridge));
    metrics_put_scalar(s, "tendril_agent_pods", METRIC_GAUGE,
                       "Pod attachments on this node",
                       hmap_count(&a->attachments));
    metrics_put_scalar(s, "tendril_agent_ipam_allocated", METRIC_GAUGE,
                       "Pod addresses allocated from the podCIDR",
                       a->ipam ? ipam_count(a->ipam) : 0);
    metrics_put_scalar(s, "tendril_agent_desired_flows", METRIC_GAUGE,
                       "Flows the features want in the switch",
                       flow_table_count(&a->flows));
    metrics_put_family(s, "tendril_agent_api_to_flows_seconds",
                       METRIC_HISTOGRAM,
                       "From a Kubernetes API change taken into the cache "
                       "to the switch holding the flows it changed");
    metrics_put_histogram(s, "tendril_agent_api_to_flows_seconds", NULL,
                          &a->api_latency);
    if (a->ofctrl) {
        ofctrl_format_metrics(a->ofctrl, s);
    }
    if (a->cni) {
        cni_server_format_metrics(a->cni, s);
    }
    if (a->k8s) {
        k8s_client_format_metrics(a->k8s, s);
    }
    format_process(s);
}
