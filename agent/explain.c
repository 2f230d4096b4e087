/*
 * policy/explain: what NetworkPolicy does with a new connection, read off
 * the flows installed in the switch, with no packet sent.
 *
 * For each side of the connection whose pod is on this node, the agent
 * asks ovs-vswitchd (as ovs-appctl would, over its control socket) to
 * trace a synthesized first packet:
 *
 *   egress of SRC:   ofproto/trace from SRC's port through the whole
 *                    pipeline (so a Service address is judged on the
 *                    endpoint the switch picks), conntrack answering
 *                    "new";
 *   ingress of DST:  ofproto/trace-packet-out starting at IngressRule, as
 *                    a new connection to DST's port, from SRC's address.
 *
 * flows/trace.c parses the report into the flows matched, flows/policy.c
 * reads the verdict off them, and the policies feature names the rule
 * (by its conjunction id) or the policies that isolate the pod.  The
 * other node's side is that node's agent's to explain.
 */
#include "ovs-config.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agent-int.h"
#include "agent/attachments.h"
#include "agent/k8s-cache.h"
#include "daemon.h"
#include "flow.h"
#include "flows/fields.h"
#include "flows/policy.h"
#include "flows/tables.h"
#include "flows/trace.h"
#include "jsonrpc.h"
#include "lib/k8s-object.h"
#include "openvswitch/dynamic-string.h"
#include "unixctl.h"
#include "util.h"

/* One end of the connection. */
struct endpoint {
    char *name;                  /* "NS/POD", or the address. */
    char *pod;                   /* "NS/POD", or NULL: no pod known. */
    struct ipaddr ip;
    const struct attachment *att;   /* On this node, or NULL. */
};

static const struct attachment *
find_local(const struct agent *a, const char *ns, const char *name,
           const struct ipaddr *ip)
{
    const struct attachment *att;
    HMAP_FOR_EACH (att, node, &a->attachments) {
        if (ns ? (att->pod_namespace && att->pod_name
                  && !strcmp(att->pod_namespace, ns)
                  && !strcmp(att->pod_name, name))
               : ipaddr_equals(&att->ip, ip)) {
            return att;
        }
    }
    return NULL;
}

/* Resolves "NS/POD" or an IPv4 address. */
static char *
endpoint_resolve(const struct agent *a, const char *arg, struct endpoint *e)
{
    *e = (struct endpoint) { NULL, NULL, { 0 }, NULL };
    const char *slash = strchr(arg, '/');
    if (slash) {
        char *ns = xmemdup0(arg, slash - arg);
        const char *name = slash + 1;
        e->att = find_local(a, ns, name, NULL);
        if (e->att) {
            e->ip = e->att->ip;
        } else {
            const struct k8s_object *obj
                = a->cache ? k8s_cache_get(a->cache, K8S_POD, ns, name)
                           : NULL;
            const struct k8s_pod *pod = obj ? k8s_pod_cast(obj) : NULL;
            if (!pod || !pod->n_pod_ips || pod->host_network) {
                free(ns);
                return xasprintf("%s: %s", arg,
                                 !pod ? "no such pod"
                                 : pod->host_network
                                 ? "uses the node's network"
                                 : "has no address yet");
            }
            e->ip = pod->pod_ips[0];
        }
        free(ns);
        e->pod = xstrdup(arg);
    } else {
        char *error = ipaddr_parse(arg, &e->ip);
        if (error) {
            char *msg = xasprintf("%s: neither NAMESPACE/POD nor an "
                                  "address (%s)", arg, error);
            free(error);
            return msg;
        }
        e->att = find_local(a, NULL, NULL, &e->ip);
        if (e->att && e->att->pod_namespace && e->att->pod_name) {
            e->pod = xasprintf("%s/%s", e->att->pod_namespace,
                               e->att->pod_name);
        }
    }
    if (e->ip.family != AF_INET) {
        free(e->pod);
        e->pod = NULL;
        return xasprintf("%s: only IPv4 is supported", arg);
    }
    char buf[IPADDR_STRLEN];
    e->name = e->pod ? xasprintf("%s (%s)", e->pod, ipaddr_format(&e->ip, buf))
                     : xstrdup(ipaddr_format(&e->ip, buf));
    return NULL;
}

static void
endpoint_destroy(struct endpoint *e)
{
    free(e->name);
    free(e->pod);
}

/* "tcp/80": the protocol's name for flow syntax, and the port. */
static char *
parse_target(const char *arg, const char **proto, uint16_t *port)
{
    static const char *const protos[] = { "tcp", "udp", "sctp" };
    const char *slash = strchr(arg, '/');
    for (size_t i = 0; slash && i < ARRAY_SIZE(protos); i++) {
        if (strlen(protos[i]) == (size_t) (slash - arg)
            && !strncasecmp(arg, protos[i], slash - arg)) {
            char *end;
            unsigned long p = strtoul(slash + 1, &end, 10);
            if (*end || p < 1 || p > 65535) {
                break;
            }
            *proto = protos[i];
            *port = p;
            return NULL;
        }
    }
    return xasprintf("%s: not PROTOCOL/PORT (tcp, udp or sctp; port "
                     "1-65535)", arg);
}

/* Runs 'command' with 'argv' on ovs-vswitchd's control socket, which is
 * beside br-int's management socket. */
static char *
vswitchd_transact(const struct agent *a, const char *command, int argc,
                  char *argv[], char **result)
{
    *result = NULL;
    /* The pid as written, not read_pidfile(): in the DaemonSet the switch
     * runs in another container's PID namespace, where the pidfile's lock
     * holder has a pid this process cannot match.  Only the control
     * socket's name needs it. */
    char *pidfile = xasprintf("%s/ovs-vswitchd.pid", a->cfg.ovs_rundir);
    FILE *f = fopen(pidfile, "r");
    long int pid = -1;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1 || pid <= 0) {
            pid = -1;
        }
        fclose(f);
    }
    free(pidfile);
    if (pid < 0) {
        return xasprintf("ovs-vswitchd is not running (no pidfile in %s)",
                         a->cfg.ovs_rundir);
    }
    char *path = xasprintf("%s/ovs-vswitchd.%ld.ctl", a->cfg.ovs_rundir,
                           pid);
    if (access(path, F_OK)) {
        /* Started with --unixctl=RUNDIR/ovs-vswitchd.ctl. */
        free(path);
        path = xasprintf("%s/ovs-vswitchd.ctl", a->cfg.ovs_rundir);
    }
    struct jsonrpc *rpc;
    int error = unixctl_client_create(path, &rpc);
    if (error) {
        char *msg = xasprintf("%s: %s", path, ovs_strerror(error));
        free(path);
        return msg;
    }
    free(path);
    char *err = NULL;
    error = unixctl_client_transact(rpc, command, argc, argv, result, &err);
    jsonrpc_close(rpc);
    if (error) {
        free(*result);
        *result = NULL;
        free(err);
        return xasprintf("%s: %s", command, ovs_strerror(error));
    }
    if (err) {
        free(*result);
        *result = NULL;
        char *msg = xasprintf("%s: %s", command, err);
        free(err);
        return msg;
    }
    return NULL;
}

/* The verdict of 'dir' from a trace of 'command' 'flow' ['actions']. */
static char *
trace_verdict(const struct agent *a, const char *command, const char *flow,
              const char *actions, enum policy_dir dir,
              struct policy_verdict *v)
{
    char *argv[] = { a->cfg.bridge, CONST_CAST(char *, flow),
                     CONST_CAST(char *, actions) };
    char *text;
    char *error = vswitchd_transact(a, command, actions ? 3 : 2, argv,
                                    &text);
    if (error) {
        return error;
    }
    struct trace t;
    trace_parse(text, &t);
    *v = policy_trace_verdict(&t, dir);
    trace_destroy(&t);
    free(text);
    return NULL;
}

static void
describe(const struct agent *a, const struct policy_verdict *v,
         enum policy_dir dir, const struct endpoint *pod, struct ds *s)
{
    const char *verb = policy_verdict_allows(v) ? "allow" : "deny";
    switch (v->kind) {
    case POLICY_VERDICT_UNREACHED:
        ds_put_format(s, "deny: dropped in %s before the policy stage",
                      v->last_table >= 0 ? table_name(v->last_table)
                                         : "the switch");
        return;
    case POLICY_VERDICT_NOT_ISOLATED:
        ds_put_format(s, "allow: %s is not isolated for %s", pod->name,
                      dir == POLICY_EGRESS ? "egress" : "ingress");
        return;
    case POLICY_VERDICT_NODE:
        ds_put_cstr(s, "allow: from the node itself");
        return;
    case POLICY_VERDICT_ESTABLISHED:
        ds_put_cstr(s, "allow: not a new connection");
        return;
    case POLICY_VERDICT_RULE:
    case POLICY_VERDICT_DENIED:
        ds_put_format(s, "%s: ", verb);
        for (size_t i = 0; i < AGENT_N_FEATURES; i++) {
            const struct feature *f = &a->features[i];
            if (f->class->describe_verdict) {
                f->class->describe_verdict(f->data, v, dir, pod->pod, s);
                return;
            }
        }
        ds_put_format(s, "conjunction %"PRIu32, v->conj_id);
        return;
    }
}

/* Explains one connection into 's'. */
static char *
explain_one(const struct agent *a, const char *src_arg, const char *dst_arg,
            const char *target, struct ds *s)
{
    struct endpoint src, dst;
    const char *proto = NULL;
    uint16_t port = 0;
    char *error = parse_target(target, &proto, &port);
    if (error) {
        return error;
    }
    error = endpoint_resolve(a, src_arg, &src);
    if (error) {
        return error;
    }
    error = endpoint_resolve(a, dst_arg, &dst);
    if (error) {
        endpoint_destroy(&src);
        return error;
    }

    char src_ip[IPADDR_STRLEN], dst_ip[IPADDR_STRLEN];
    ipaddr_format(&src.ip, src_ip);
    ipaddr_format(&dst.ip, dst_ip);
    const struct node_net *node = &a->node;
    struct ds egress = DS_EMPTY_INITIALIZER;
    struct ds ingress = DS_EMPTY_INITIALIZER;
    struct policy_verdict v;

    if (!a->node_ready) {
        error = xstrdup("the agent has not set up br-int yet");
        goto out;
    }
    if (src.att && src.att->ofport) {
        char *flow = xasprintf(
            "in_port=%"PRIu32",%s,dl_src="ETH_ADDR_FMT",dl_dst="
            ETH_ADDR_FMT",nw_src=%s,nw_dst=%s,nw_ttl=64,%s_src=40000,"
            "%s_dst=%"PRIu16, ofp_to_u16(src.att->ofport), proto,
            ETH_ADDR_ARGS(src.att->mac), ETH_ADDR_ARGS(node->gw_mac),
            src_ip, dst_ip, proto, proto, port);
        error = trace_verdict(a, "ofproto/trace", flow, NULL, POLICY_EGRESS,
                              &v);
        free(flow);
        if (error) {
            goto out;
        }
        describe(a, &v, POLICY_EGRESS, &src, &egress);
    } else {
        ds_put_format(&egress, "elsewhere: %s is not on this node",
                      src.name);
    }

    if (dst.att && dst.att->ofport) {
        /* Where the packet would come in: the pod's port, the tunnel from
         * another pod's node, else the gateway. */
        ofp_port_t in_port = node->gw_ofport;
        int class = SRC_CLASS_GATEWAY;
        if (src.att && src.att->ofport) {
            in_port = src.att->ofport;
            class = SRC_CLASS_POD;
        } else if (src.pod && node->tun_ofport) {
            in_port = node->tun_ofport;
            class = SRC_CLASS_TUNNEL;
        }
        char *flow = xasprintf(
            "in_port=%"PRIu32",%s,dl_src="ETH_ADDR_FMT",dl_dst="ETH_ADDR_FMT
            ",nw_src=%s,nw_dst=%s,nw_ttl=63,%s_src=40000,%s_dst=%"PRIu16
            ",ct_state=new|trk,reg0=%#x,reg1=%"PRIu32,
            ofp_to_u16(in_port), proto, ETH_ADDR_ARGS(node->gw_mac),
            ETH_ADDR_ARGS(dst.att->mac), src_ip, dst_ip, proto, proto, port,
            OUT_PORT_SET_BIT | class, ofp_to_u16(dst.att->ofport));
        char *actions = xasprintf("resubmit(,%d)", TABLE_INGRESS_RULE);
        error = trace_verdict(a, "ofproto/trace-packet-out", flow, actions,
                              POLICY_INGRESS, &v);
        free(actions);
        free(flow);
        if (error) {
            goto out;
        }
        describe(a, &v, POLICY_INGRESS, &dst, &ingress);
    } else {
        ds_put_format(&ingress, "elsewhere: %s is not on this node",
                      dst.name);
    }

    ds_put_format(s, "%s -> %s %s/%"PRIu16"\n  egress: %s\n  ingress: %s\n",
                  src.name, dst.name, proto, port, ds_cstr(&egress),
                  ds_cstr(&ingress));
out:
    ds_destroy(&egress);
    ds_destroy(&ingress);
    endpoint_destroy(&src);
    endpoint_destroy(&dst);
    return error;
}

char *
agent_policy_explain(const struct agent *a, int argc, const char *argv[],
                     struct ds *s)
{
    if (argc < 3 || argc % 3) {
        return xstrdup("usage: policy/explain SRC DST PROTO/PORT "
                       "[SRC DST PROTO/PORT]...");
    }
    for (int i = 0; i < argc; i += 3) {
        char *error = explain_one(a, argv[i], argv[i + 1], argv[i + 2], s);
        if (error) {
            return error;
        }
    }
    return NULL;
}
