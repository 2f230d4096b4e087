/* NetworkPolicy's rules as conjunctions (agent/policy-rules.h). */
#include "ovs-config.h"
#include "agent/policy-rules.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "agent/k8s-cache.h"
#include "lib/k8s-object.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "util.h"

/* The pod's IPv4 address: its attachment's on this node (the API server
 * may not have it yet), else the first one the API server has; false if
 * there is none or the pod is on the host's network. */
bool
policy_pod_ip(const struct policy_inputs *in, const struct k8s_pod *pod,
       struct ipaddr *ip)
{
    if (pod->host_network) {
        return false;
    }
    char *key = xasprintf("%s/%s", pod->obj.namespace, pod->obj.name);
    const char *local = shash_find_data(in->local, key);
    free(key);
    if (local) {
        char *error = ipaddr_parse(local, ip);
        free(error);
        return !error;
    }
    for (size_t i = 0; i < pod->n_pod_ips; i++) {
        if (pod->pod_ips[i].family == AF_INET) {
            *ip = pod->pod_ips[i];
            return true;
        }
    }
    return false;
}

static uint8_t
ip_proto(enum k8s_protocol p)
{
    return (p == K8S_PROTO_UDP ? IPPROTO_UDP
            : p == K8S_PROTO_SCTP ? IPPROTO_SCTP
            : IPPROTO_TCP);
}

bool
rule_has_named_port(const struct k8s_np_rule *rule)
{
    for (size_t i = 0; i < rule->n_ports; i++) {
        if (rule->ports[i].port.type == K8S_PORT_REF_NAME) {
            return true;
        }
    }
    return false;
}

/* The ports of 'rule' on destination 'pod' (NULL: numeric ones only) into
 * 'b', and their text into 'b->sig'.  False if the rule names ports but
 * none of them resolves: the rule then allows nothing there. */
static bool
resolve_ports(const struct k8s_np_rule *rule, const struct k8s_pod *pod,
              struct conj_build *b)
{
    struct ds sig = DS_EMPTY_INITIALIZER;
    b->ports = xcalloc(rule->n_ports + 1, sizeof *b->ports);
    b->conj.n_ports = 0;
    for (size_t i = 0; i < rule->n_ports; i++) {
        const struct k8s_np_port *p = &rule->ports[i];
        struct policy_port pp = { .ip_proto = ip_proto(p->protocol) };
        if (p->port.type == K8S_PORT_REF_NUMBER) {
            pp.port = p->port.number;
            pp.end_port = p->end_port;
        } else if (p->port.type == K8S_PORT_REF_NAME) {
            pp.port = pod ? k8s_pod_find_port(pod, p->port.name,
                                               p->protocol) : 0;
            if (!pp.port) {
                continue;
            }
        }
        b->ports[b->conj.n_ports++] = pp;
        ds_put_format(&sig, "%s%s", sig.length ? "," : "",
                      k8s_protocol_to_string(p->protocol));
        if (pp.port) {
            ds_put_format(&sig, "/%"PRIu16, pp.port);
        }
        if (pp.end_port > pp.port) {
            ds_put_format(&sig, "-%"PRIu16, pp.end_port);
        }
    }
    b->conj.ports = b->ports;
    b->sig = ds_steal_cstr(&sig);
    if (!rule->n_ports) {
        free(b->sig);
        b->sig = xstrdup("any");
    }
    return !rule->n_ports || b->conj.n_ports;
}

void
conj_build_destroy(struct conj_build *b)
{
    free(b->targets);
    cidr_list_destroy(&b->peers);
    free(b->pod_peers);
    free(b->ports);
    free(b->sig);
}

/* A new conjunction of 'dir' in 'out' whose ports are those of 'rule' on
 * 'pod', or NULL if there are none there. */
static struct conj_build *
conj_new(struct conj_builds *out, enum policy_dir dir,
         const struct k8s_np_rule *rule, const struct k8s_pod *pod)
{
    if (out->n >= out->allocated) {
        out->b = x2nrealloc(out->b, &out->allocated, sizeof *out->b);
    }
    struct conj_build *b = &out->b[out->n];
    memset(b, 0, sizeof *b);
    b->conj.dir = dir;
    if (!resolve_ports(rule, pod, b)) {
        conj_build_destroy(b);
        return NULL;
    }
    out->n++;
    return b;
}

/* The conjunction of 'out' for the ports 'rule' has on 'pod', made if
 * there is none yet; NULL if the rule has no port on 'pod'. */
static struct conj_build *
conj_for_pod(struct conj_builds *out, size_t first, enum policy_dir dir,
             const struct k8s_np_rule *rule, const struct k8s_pod *pod)
{
    struct conj_build *b = conj_new(out, dir, rule, pod);
    if (!b) {
        return NULL;
    }
    for (size_t i = first; i < out->n - 1; i++) {
        if (!strcmp(out->b[i].sig, b->sig)) {
            conj_build_destroy(b);
            out->n--;
            return &out->b[i];
        }
    }
    return b;
}

static void
add_target(struct conj_build *b, const struct ipaddr *ip)
{
    if (b->conj.n_targets >= b->allocated_targets) {
        b->targets = x2nrealloc(b->targets, &b->allocated_targets,
                                sizeof *b->targets);
    }
    b->targets[b->conj.n_targets++] = *ip;
}

static void
add_peer(struct conj_build *b, const struct ipaddr *ip)
{
    struct cidr c = { .addr = *ip, .plen = 32 };
    cidr_subtract(&c, NULL, 0, &b->peers);
    if (b->n_pod_peers >= b->allocated_pod_peers) {
        b->pod_peers = x2nrealloc(b->pod_peers, &b->allocated_pod_peers,
                                  sizeof *b->pod_peers);
    }
    b->pod_peers[b->n_pod_peers++] = *ip;
}

/* The peers of 'rule': its ipBlocks, less their excepts, into 'blocks';
 * the pods its selectors select into 'pods' (every pod if 'all_pods'),
 * which must be empty. */
static void
rule_peers(const struct policy_inputs *in, const char *policy_ns,
           const struct k8s_np_rule *rule, bool all_pods,
           struct cidr_list *blocks, struct k8s_object_list *pods)
{
    if (all_pods) {
        k8s_cache_list(in->cache, K8S_POD, NULL, pods);
        return;
    }
    for (size_t i = 0; i < rule->n_peers; i++) {
        const struct k8s_np_peer *peer = &rule->peers[i];
        if (peer->ip_block) {
            cidr_subtract(&peer->ip_block->cidr, peer->ip_block->except,
                          peer->ip_block->n_except, blocks);
            continue;
        }
        struct k8s_object_list sel;
        k8s_cache_select_peer_pods(in->cache, policy_ns, peer, &sel);
        for (size_t j = 0; j < sel.n; j++) {
            if (pods->n >= pods->allocated) {
                pods->objs = x2nrealloc(pods->objs, &pods->allocated,
                                        sizeof *pods->objs);
            }
            pods->objs[pods->n++] = sel.objs[j];
        }
        k8s_object_list_destroy(&sel);
    }
}

/* Sets 'b''s peers: every address, or 'blocks' and the pods of 'pods'. */
static void
set_peers(const struct policy_inputs *in, struct conj_build *b, bool any,
          const struct cidr_list *blocks, const struct k8s_object_list *pods)
{
    b->conj.any_peer = any;
    if (any) {
        return;
    }
    for (size_t i = 0; i < blocks->n; i++) {
        cidr_subtract(&blocks->cidrs[i], NULL, 0, &b->peers);
    }
    b->n_block_peers = b->peers.n;
    for (size_t i = 0; pods && i < pods->n; i++) {
        struct ipaddr ip;
        if (policy_pod_ip(in, k8s_pod_cast(pods->objs[i]), &ip)) {
            add_peer(b, &ip);
        }
    }
}

/* The conjunctions of one rule.  Named ports resolve on the destination:
 * for ingress on each target, for egress on each peer pod (on every pod
 * for a rule without peers), so the targets or the peers are split by
 * what their names resolve to, one conjunction each; ipBlocks get the
 * numeric ports alone. */
void
policy_rule_build(const struct policy_inputs *in, enum policy_dir dir,
           const char *policy_ns, const struct k8s_np_rule *rule,
           const struct policy_target *targets, size_t n_targets,
           struct conj_builds *out)
{
    bool any = !rule->n_peers;
    bool named = rule_has_named_port(rule);
    struct cidr_list blocks = { NULL, 0, 0 };
    struct k8s_object_list pods = { NULL, 0, 0 };
    rule_peers(in, policy_ns, rule, named && any && dir == POLICY_EGRESS,
               &blocks, &pods);
    size_t first = out->n;

    if (!named || dir == POLICY_INGRESS) {
        for (size_t i = 0; i < n_targets; i++) {
            struct conj_build *b = conj_for_pod(out, first, dir, rule,
                                                targets[i].pod);
            if (b) {
                add_target(b, &targets[i].ip);
            }
        }
        for (size_t i = first; i < out->n; i++) {
            set_peers(in, &out->b[i], any, &blocks, &pods);
        }
    } else {
        /* Egress with named ports: addresses that are not pods get the
         * numeric ports, each peer pod what the names are on it. */
        struct conj_build *b = conj_new(out, dir, rule, NULL);
        if (b) {
            set_peers(in, b, any, &blocks, NULL);
        }
        for (size_t i = 0; i < pods.n; i++) {
            const struct k8s_pod *pod = k8s_pod_cast(pods.objs[i]);
            struct ipaddr ip;
            if (!policy_pod_ip(in, pod, &ip)) {
                continue;
            }
            b = conj_for_pod(out, first, dir, rule, pod);
            if (b) {
                add_peer(b, &ip);
            }
        }
        for (size_t i = first; i < out->n; i++) {
            for (size_t j = 0; j < n_targets; j++) {
                add_target(&out->b[i], &targets[j].ip);
            }
        }
    }
    cidr_list_destroy(&blocks);
    k8s_object_list_destroy(&pods);
}

/* The local pods 'np' applies to. */
size_t
policy_targets(const struct policy_inputs *in,
               const struct k8s_network_policy *np, struct policy_target **targets)
{
    struct k8s_object_list list;
    k8s_cache_select_pods(in->cache, np->obj.namespace, np->pod_selector,
                          &list);
    size_t n = 0;
    *targets = xcalloc(list.n + 1, sizeof **targets);
    for (size_t i = 0; i < list.n; i++) {
        char *key = xasprintf("%s/%s", list.objs[i]->namespace,
                              list.objs[i]->name);
        bool local = shash_find(in->local, key) != NULL;
        free(key);
        const struct k8s_pod *pod = k8s_pod_cast(list.objs[i]);
        if (local && policy_pod_ip(in, pod, &(*targets)[n].ip)) {
            (*targets)[n++].pod = pod;
        }
    }
    k8s_object_list_destroy(&list);
    return n;
}

