/* NetworkPolicy as a feature: the conjunctions of every policy that selects
 * a pod of this node, and the drops of the pods it isolates
 * (flows/policy.c makes the flows).
 *
 * Inputs: NetworkPolicies, Pods and Namespaces from the cache, and the
 * attachments, which are the truth about this node's pods: a pod has its
 * address from the agent before the API server hears of it, so its policy
 * flows go into the switch with its own flows, in the same bundle, before
 * its CNI ADD returns.
 *
 * A change marks dirty only the policies it can matter to: a policy
 * itself; a pod's labels, addresses or ports, to the policies that select
 * it (old or new) as target or peer; a namespace's labels, to the policies
 * with a namespaceSelector that matches them (old or new).  A run renders
 * the dirty policies again, whole; the flow table's diff sends only what
 * changed.  Conjunction ids are a hash of the policy, direction, rule and
 * port group, so they are the same after a restart. */
#include "ovs-config.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attachments.h"
#include "agent/config.h"
#include "agent/feature.h"
#include "agent/k8s-cache.h"
#include "flows/cookie.h"
#include "flows/flow-table.h"
#include "flows/policy.h"
#include "agent/policy-rules.h"
#include "flows/tables.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "hash.h"
#include "lib/k8s-object.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(policies);

/* What one policy has in the flow table. */
struct rendered_policy {
    struct hmap_node node;       /* In policies_feature's 'policies'. */
    char *key;                   /* "NAMESPACE/NAME". */
    char *owner;                 /* "policy/NAMESPACE/NAME". */
    uint32_t *ids;               /* The conjunction ids it holds. */
    size_t n_ids, allocated_ids;
    size_t n_targets;            /* Local pods it applies to. */
    size_t n_rules[2];           /* Rules rendered, ingress and egress. */
    struct rendered_conj *conjs; /* Its conjunctions, in rule order. */
    size_t n_conjs;
    bool named;                  /* Some rule has a named port. */
    char *error;                 /* Why it has no flows, or NULL. */
};

/* A conjunction as rendered: enough to change one pod's membership among
 * its peers without rendering the policy again, and to describe it. */
struct rendered_conj {
    uint32_t id;
    enum policy_dir dir;
    size_t rule;                 /* Index among its direction's rules. */
    unsigned int n_clauses;      /* 3 with ports, else 2. */
    size_t n_targets;
    bool any_peer;
    bool has_flows;              /* It has targets and some peer, so
                                  * policy_flows_add() made its flows. */
    struct cidr *blocks;         /* Its ipBlock prefixes. */
    size_t n_blocks;
    struct sset pod_peers;       /* Its peer pods' addresses, as text. */
    char *sig;                   /* Its ports, as text. */
};

/* A conjunction id in use. */
struct conj_id {
    struct hmap_node node;       /* In policies_feature's 'ids', by id. */
    uint32_t id;
    char *key;                   /* "NS/NAME/DIR/RULE/PORTS". */
};

/* A local pod's isolation as it is in the flow table. */
struct isolation {
    char *ip;
    bool ingress;
    bool egress;
};

struct policies_feature {
    struct k8s_cache *cache;     /* NULL without a Kubernetes client. */
    struct sset dirty;           /* Policies to render again. */
    bool isolation_dirty;        /* Isolation to work out again. */
    struct hmap policies;        /* Contains "struct rendered_policy"s. */
    struct hmap ids;             /* Contains "struct conj_id"s. */
    struct shash local;          /* "NS/NAME" -> IP (char *): this node's
                                  * attached pods, as of the last run. */
    struct shash isolated;       /* "NS/NAME" -> struct isolation. */
    struct sset peer_updates;    /* "POLICY|POD" (keys "NS/NAME"): a pod's
                                  * labels changed, and with them perhaps
                                  * its place among the policy's peers. */
};

/* The cached object of 'kind' whose key is "NAMESPACE/NAME", or NULL. */
static const struct k8s_object *
cache_get_key(const struct k8s_cache *cache, enum k8s_kind kind,
              const char *key)
{
    const char *slash = strchr(key, '/');
    if (!slash) {
        return NULL;
    }
    char *ns = xmemdup0(key, slash - key);
    const struct k8s_object *obj = k8s_cache_get(cache, kind, ns, slash + 1);
    free(ns);
    return obj;
}

static void
mark(struct policies_feature *f, const struct k8s_object *np)
{
    sset_add_and_free(&f->dirty, xasprintf("%s/%s", np->namespace,
                                           np->name));
}

/* Whether 'peer' of a policy in 'policy_ns' selects 'pod'. */
static bool
peer_selects(const struct k8s_cache *cache, const char *policy_ns,
             const struct k8s_np_peer *peer, const struct k8s_object *pod)
{
    if (peer->namespace_selector) {
        const struct k8s_object *ns = k8s_cache_get(cache, K8S_NAMESPACE,
                                                    NULL, pod->namespace);
        return (ns && label_selector_matches(peer->namespace_selector,
                                             &ns->labels)
                && (!peer->pod_selector
                    || label_selector_matches(peer->pod_selector,
                                              &pod->labels)));
    }
    return (peer->pod_selector && !strcmp(policy_ns, pod->namespace)
            && label_selector_matches(peer->pod_selector, &pod->labels));
}

static bool
rules_select(const struct k8s_cache *cache, const char *policy_ns,
             const struct k8s_np_rule *rules, size_t n,
             const struct k8s_object *pod)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < rules[i].n_peers; j++) {
            if (peer_selects(cache, policy_ns, &rules[i].peers[j], pod)) {
                return true;
            }
        }
    }
    return false;
}

/* Whether 'pod' is a target or a peer of 'np'. */
static bool
policy_selects(const struct k8s_cache *cache,
               const struct k8s_network_policy *np,
               const struct k8s_object *pod)
{
    const char *ns = np->obj.namespace;
    return ((!strcmp(ns, pod->namespace)
             && label_selector_matches(np->pod_selector, &pod->labels))
            || rules_select(cache, ns, np->ingress, np->n_ingress, pod)
            || rules_select(cache, ns, np->egress, np->n_egress, pod));
}

/* Marks dirty the policies that select 'pod'. */
static void
mark_selecting(struct policies_feature *f, const struct k8s_object *pod)
{
    struct k8s_object_list list;
    k8s_cache_list(f->cache, K8S_NETWORK_POLICY, NULL, &list);
    for (size_t i = 0; i < list.n; i++) {
        if (policy_selects(f->cache, k8s_network_policy_cast(list.objs[i]),
                           pod)) {
            mark(f, list.objs[i]);
        }
    }
    k8s_object_list_destroy(&list);
}

/* A policy's own change may isolate pods or set them free. */
static void
policy_changed(const struct k8s_object *np, void *f_)
{
    struct policies_feature *f = f_;
    mark(f, np);
    f->isolation_dirty = true;
}

static void
policy_updated(const struct k8s_object *old OVS_UNUSED,
               const struct k8s_object *new, void *f)
{
    policy_changed(new, f);
}

static bool
same_ips(const struct k8s_pod *a, const struct k8s_pod *b)
{
    if (a->n_pod_ips != b->n_pod_ips) {
        return false;
    }
    for (size_t i = 0; i < a->n_pod_ips; i++) {
        if (!ipaddr_equals(&a->pod_ips[i], &b->pod_ips[i])) {
            return false;
        }
    }
    return true;
}

static bool
same_ports(const struct k8s_pod *a, const struct k8s_pod *b)
{
    if (a->n_ports != b->n_ports) {
        return false;
    }
    for (size_t i = 0; i < a->n_ports; i++) {
        if (a->ports[i].port != b->ports[i].port
            || a->ports[i].protocol != b->ports[i].protocol
            || strcmp(a->ports[i].name, b->ports[i].name)) {
            return false;
        }
    }
    return true;
}

static void
pod_changed(const struct k8s_object *pod, void *f_)
{
    struct policies_feature *f = f_;
    mark_selecting(f, pod);
    /* Only a pod of this node has isolation flows here; policy and
     * attachment changes mark isolation dirty themselves. */
    char *key = xasprintf("%s/%s", pod->namespace, pod->name);
    if (shash_find(&f->local, key)) {
        f->isolation_dirty = true;
    }
    free(key);
}

static struct rendered_policy *rendered_find(const struct policies_feature *,
                                             const char *key);

/* A pod's labels changed, and nothing else that policies read.  A policy
 * it is (or was) a local target of, or that has named ports, is rendered
 * again; for one where it is (or was) only a peer, its membership among
 * the peers of each rule is updated by itself (see peer_update()), so
 * that the work and the flow mods do not grow with the number of rules
 * that select it. */
static void
pod_labels_changed(struct policies_feature *f, const struct k8s_object *old,
                   const struct k8s_object *new)
{
    char *pod_key = xasprintf("%s/%s", new->namespace, new->name);
    bool local = shash_find(&f->local, pod_key) != NULL;
    if (local) {
        f->isolation_dirty = true;
    }
    struct k8s_object_list list;
    k8s_cache_list(f->cache, K8S_NETWORK_POLICY, NULL, &list);
    for (size_t i = 0; i < list.n; i++) {
        const struct k8s_network_policy *np
            = k8s_network_policy_cast(list.objs[i]);
        const char *ns = np->obj.namespace;
        bool target = (local && !strcmp(ns, new->namespace)
                       && (label_selector_matches(np->pod_selector,
                                                  &old->labels)
                           || label_selector_matches(np->pod_selector,
                                                     &new->labels)));
        bool peer = (rules_select(f->cache, ns, np->ingress, np->n_ingress,
                                  old)
                     || rules_select(f->cache, ns, np->egress, np->n_egress,
                                     old)
                     || rules_select(f->cache, ns, np->ingress,
                                     np->n_ingress, new)
                     || rules_select(f->cache, ns, np->egress, np->n_egress,
                                     new));
        if (!target && !peer) {
            continue;
        }
        char *np_key = xasprintf("%s/%s", ns, np->obj.name);
        const struct rendered_policy *r = rendered_find(f, np_key);
        if (target || !r || r->named || sset_contains(&f->dirty, np_key)) {
            sset_add_and_free(&f->dirty, np_key);
        } else {
            sset_add_and_free(&f->peer_updates,
                              xasprintf("%s|%s", np_key, pod_key));
            free(np_key);
        }
    }
    k8s_object_list_destroy(&list);
    free(pod_key);
}

static void
pod_updated(const struct k8s_object *old, const struct k8s_object *new,
            void *f_)
{
    const struct k8s_pod *a = k8s_pod_cast(old), *b = k8s_pod_cast(new);
    bool same_labels = smap_equal(&old->labels, &new->labels);
    bool same_rest = (same_ips(a, b) && same_ports(a, b)
                      && a->host_network == b->host_network);
    if (same_labels && same_rest) {
        return;             /* Status updates that change no policy. */
    }
    if (same_rest) {
        pod_labels_changed(f_, old, new);
        return;
    }
    pod_changed(old, f_);
    pod_changed(new, f_);
}

/* Marks dirty the policies with a namespaceSelector that 'ns' matches. */
static void
namespace_changed(const struct k8s_object *ns, void *f_)
{
    struct policies_feature *f = f_;
    struct k8s_object_list list;
    k8s_cache_list(f->cache, K8S_NETWORK_POLICY, NULL, &list);
    for (size_t i = 0; i < list.n; i++) {
        const struct k8s_network_policy *np
            = k8s_network_policy_cast(list.objs[i]);
        const struct k8s_np_rule *rules[2] = { np->ingress, np->egress };
        size_t n_rules[2] = { np->n_ingress, np->n_egress };
        bool hit = false;
        for (size_t d = 0; d < 2 && !hit; d++) {
            for (size_t r = 0; r < n_rules[d] && !hit; r++) {
                for (size_t p = 0; p < rules[d][r].n_peers && !hit; p++) {
                    const struct label_selector *sel
                        = rules[d][r].peers[p].namespace_selector;
                    hit = sel && label_selector_matches(sel, &ns->labels);
                }
            }
        }
        if (hit) {
            mark(f, &np->obj);
        }
    }
    k8s_object_list_destroy(&list);
}

static void
namespace_updated(const struct k8s_object *old, const struct k8s_object *new,
                  void *f)
{
    if (!smap_equal(&old->labels, &new->labels)) {
        namespace_changed(old, f);
        namespace_changed(new, f);
    }
}

static const struct k8s_cache_handlers policy_handlers = {
    .added = policy_changed,
    .updated = policy_updated,
    .deleted = policy_changed,
};

static const struct k8s_cache_handlers pod_handlers = {
    .added = pod_changed,
    .updated = pod_updated,
    .deleted = pod_changed,
};

static const struct k8s_cache_handlers namespace_handlers = {
    .added = namespace_changed,
    .updated = namespace_updated,
    .deleted = namespace_changed,
};

/* Conjunction ids. */

static struct conj_id *
conj_id_find(const struct policies_feature *f, uint32_t id)
{
    struct conj_id *c;
    HMAP_FOR_EACH_WITH_HASH (c, node, hash_int(id, 0), &f->ids) {
        if (c->id == id) {
            return c;
        }
    }
    return NULL;
}

/* The id of 'key': a hash of it, moved on past ids in use. */
static uint32_t
conj_id_get(struct policies_feature *f, struct rendered_policy *r,
            const char *key)
{
    uint32_t id = hash_string(key, 0);
    for (;;) {
        const struct conj_id *c = id ? conj_id_find(f, id) : NULL;
        if (id && !c) {
            break;
        }
        if (c && !strcmp(c->key, key)) {
            return id;
        }
        id++;
    }
    struct conj_id *c = xmalloc(sizeof *c);
    c->id = id;
    c->key = xstrdup(key);
    hmap_insert(&f->ids, &c->node, hash_int(id, 0));
    if (r->n_ids >= r->allocated_ids) {
        r->ids = x2nrealloc(r->ids, &r->allocated_ids, sizeof *r->ids);
    }
    r->ids[r->n_ids++] = id;
    return id;
}

static void
conj_ids_release(struct policies_feature *f, struct rendered_policy *r)
{
    for (size_t i = 0; i < r->n_ids; i++) {
        struct conj_id *c = conj_id_find(f, r->ids[i]);
        if (c) {
            hmap_remove(&f->ids, &c->node);
            free(c->key);
            free(c);
        }
    }
    r->n_ids = 0;
}

/* Rendering. */

static const char *
policy_dir_name(enum policy_dir dir)
{
    return dir == POLICY_INGRESS ? "ingress" : "egress";
}

/* Builds the conjunctions of every rule of 'np' into 'out'. */
static void
build_policy(struct policies_feature *f, struct rendered_policy *r,
             const struct k8s_network_policy *np,
             const struct policy_target *t,
             size_t n_targets, struct conj_builds *out)
{
    const struct k8s_np_rule *rules[2] = { np->ingress, np->egress };
    size_t n_rules[2] = { np->n_ingress, np->n_egress };
    bool on[2] = { np->policy_ingress, np->policy_egress };

    for (int d = 0; d < 2; d++) {
        enum policy_dir dir = d ? POLICY_EGRESS : POLICY_INGRESS;
        r->n_rules[dir] = on[d] ? n_rules[d] : 0;
        for (size_t i = 0; on[d] && i < n_rules[d]; i++) {
            size_t first = out->n;
            struct policy_inputs in = { f->cache, &f->local };
            policy_rule_build(&in, dir, np->obj.namespace, &rules[d][i], t,
                              n_targets, out);
            r->named |= rule_has_named_port(&rules[d][i]);
            for (size_t j = first; j < out->n; j++) {
                struct conj_build *b = &out->b[j];
                char *key = xasprintf("%s/%s/%"PRIuSIZE"/%s", r->key,
                                      policy_dir_name(dir), i, b->sig);
                b->conj.id = conj_id_get(f, r, key);
                free(key);
                b->conj.targets = b->targets;
                b->conj.peers = b->peers.cidrs;
                b->conj.n_peers = b->peers.n;
                b->rule = i;
            }
        }
    }
}

static void
rendered_conjs_clear(struct rendered_policy *r)
{
    for (size_t i = 0; i < r->n_conjs; i++) {
        struct rendered_conj *rc = &r->conjs[i];
        free(rc->blocks);
        sset_destroy(&rc->pod_peers);
        free(rc->sig);
    }
    free(r->conjs);
    r->conjs = NULL;
    r->n_conjs = 0;
}

static void
rendered_conjs_set(struct rendered_policy *r, const struct conj_builds *bs)
{
    rendered_conjs_clear(r);
    r->conjs = xcalloc(bs->n + 1, sizeof *r->conjs);
    r->n_conjs = bs->n;
    for (size_t i = 0; i < bs->n; i++) {
        const struct conj_build *b = &bs->b[i];
        struct rendered_conj *rc = &r->conjs[i];
        rc->id = b->conj.id;
        rc->dir = b->conj.dir;
        rc->rule = b->rule;
        rc->n_clauses = b->conj.n_ports ? 3 : 2;
        rc->n_targets = b->conj.n_targets;
        rc->any_peer = b->conj.any_peer;
        rc->has_flows = (b->conj.n_targets
                         && (b->conj.any_peer || b->conj.n_peers));
        rc->n_blocks = b->conj.any_peer ? 0 : b->n_block_peers;
        rc->blocks = (rc->n_blocks
                      ? xmemdup(b->peers.cidrs,
                                rc->n_blocks * sizeof *rc->blocks)
                      : NULL);
        sset_init(&rc->pod_peers);
        for (size_t j = 0; !b->conj.any_peer && j < b->n_pod_peers; j++) {
            char ip[IPADDR_STRLEN];
            sset_add(&rc->pod_peers, ipaddr_format(&b->pod_peers[j], ip));
        }
        rc->sig = xstrdup(b->sig);
    }
}

/* policy/list's lines for the rules of 'r'. */
static void
format_rules(const struct rendered_policy *r, struct ds *s)
{
    for (int d = 0; d < 2; d++) {
        enum policy_dir dir = d ? POLICY_EGRESS : POLICY_INGRESS;
        for (size_t i = 0; i < r->n_rules[dir]; i++) {
            ds_put_format(s, "  %s rule %"PRIuSIZE":", policy_dir_name(dir),
                          i);
            size_t n = 0;
            for (size_t j = 0; j < r->n_conjs; j++) {
                const struct rendered_conj *rc = &r->conjs[j];
                if (rc->dir != dir || rc->rule != i) {
                    continue;
                }
                n++;
                ds_put_format(s, " [conj %"PRIu32": %"PRIuSIZE" pods, ",
                              rc->id, rc->n_targets);
                if (rc->any_peer) {
                    ds_put_cstr(s, "any peer, ");
                } else {
                    ds_put_format(s, "%"PRIuSIZE" peer prefixes, ",
                                  rc->n_blocks + sset_count(&rc->pod_peers));
                }
                ds_put_format(s, "ports %s]", rc->sig);
            }
            if (!n) {
                ds_put_cstr(s, " no flows here");
            }
            ds_put_char(s, '\n');
        }
    }
}

static struct rendered_policy *
rendered_find(const struct policies_feature *f, const char *key)
{
    struct rendered_policy *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_string(key, 0), &f->policies) {
        if (!strcmp(r->key, key)) {
            return r;
        }
    }
    return NULL;
}

static void
rendered_remove(struct policies_feature *f, struct rendered_policy *r,
                struct flow_table *ft)
{
    if (ft) {
        flow_table_remove_owner(ft, r->owner);
    }
    conj_ids_release(f, r);
    hmap_remove(&f->policies, &r->node);
    free(r->key);
    free(r->owner);
    free(r->ids);
    rendered_conjs_clear(r);
    free(r->error);
    free(r);
}

/* Renders the policy 'key' again, or removes it if it is gone. */
static void
render(struct policies_feature *f, const char *key, struct flow_table *ft)
{
    struct rendered_policy *r = rendered_find(f, key);
    const struct k8s_object *obj = cache_get_key(f->cache,
                                                 K8S_NETWORK_POLICY, key);
    if (!obj) {
        if (r) {
            rendered_remove(f, r, ft);
        }
        return;
    }
    if (!r) {
        r = xzalloc(sizeof *r);
        r->key = xstrdup(key);
        r->owner = xasprintf("policy/%s", key);
        hmap_insert(&f->policies, &r->node, hash_string(key, 0));
    }
    conj_ids_release(f, r);
    r->named = false;
    free(r->error);
    r->error = NULL;

    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    struct policy_inputs in = { f->cache, &f->local };
    struct policy_target *targets;
    r->n_targets = policy_targets(&in, np, &targets);
    struct conj_builds builds = { NULL, 0, 0 };
    build_policy(f, r, np, targets, r->n_targets, &builds);

    struct policy_conj *conjs = xcalloc(builds.n + 1, sizeof *conjs);
    for (size_t i = 0; i < builds.n; i++) {
        conjs[i] = builds.b[i].conj;
    }
    flow_table_remove_owner(ft, r->owner);
    r->error = policy_flows_add(ft, r->owner, conjs, builds.n);
    if (r->error) {
        VLOG_ERR("NetworkPolicy %s: %s", key, r->error);
    }
    free(conjs);
    rendered_conjs_set(r, &builds);
    for (size_t i = 0; i < builds.n; i++) {
        conj_build_destroy(&builds.b[i]);
    }
    free(builds.b);
    free(targets);
}

/* Isolation. */

/* Whether some policy in the pod's namespace isolates it, per direction. */
static void
pod_isolation(const struct policies_feature *f, const struct k8s_object *pod,
              bool *ingress, bool *egress)
{
    *ingress = *egress = false;
    struct k8s_object_list list;
    k8s_cache_list(f->cache, K8S_NETWORK_POLICY, pod->namespace, &list);
    for (size_t i = 0; i < list.n; i++) {
        const struct k8s_network_policy *np
            = k8s_network_policy_cast(list.objs[i]);
        if (label_selector_matches(np->pod_selector, &pod->labels)) {
            *ingress |= np->policy_ingress;
            *egress |= np->policy_egress;
        }
    }
    k8s_object_list_destroy(&list);
}

static void
isolation_set(struct policies_feature *f, const char *key, const char *ip,
              bool ingress, bool egress, struct flow_table *ft)
{
    struct isolation *iso = shash_find_data(&f->isolated, key);
    if (iso && iso->ingress == ingress && iso->egress == egress
        && ip && !strcmp(iso->ip, ip)) {
        return;
    }
    char *owner = xasprintf("isolation/%s", key);
    flow_table_remove_owner(ft, owner);
    if (iso) {
        free(iso->ip);
        free(iso);
        shash_find_and_delete(&f->isolated, key);
    }
    if (ip && (ingress || egress)) {
        struct ipaddr addr;
        char *error = ipaddr_parse(ip, &addr);
        if (!error) {
            error = policy_isolation_add(ft, owner, &addr, ingress, egress);
        }
        if (error) {
            VLOG_ERR("pod %s: %s", key, error);
            free(error);
        } else {
            iso = xmalloc(sizeof *iso);
            iso->ip = xstrdup(ip);
            iso->ingress = ingress;
            iso->egress = egress;
            shash_add(&f->isolated, key, iso);
        }
    }
    free(owner);
}

/* Works out the isolation of every local pod again. */
static void
sync_isolation(struct policies_feature *f, struct flow_table *ft)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &f->local) {
        const struct k8s_object *pod = cache_get_key(f->cache, K8S_POD,
                                                     node->name);
        bool ingress = false, egress = false;
        if (pod && !k8s_pod_cast(pod)->host_network) {
            pod_isolation(f, pod, &ingress, &egress);
        }
        isolation_set(f, node->name, node->data, ingress, egress, ft);
    }
    SHASH_FOR_EACH_SAFE (node, &f->isolated) {
        if (!shash_find(&f->local, node->name)) {
            isolation_set(f, node->name, NULL, false, false, ft);
        }
    }
}

/* This node's attached pods: a pod that came, went or changed address
 * matters to the policies that select it. */
static void
sync_local(struct policies_feature *f, const struct hmap *attachments)
{
    struct shash now = SHASH_INITIALIZER(&now);
    const struct attachment *att;
    HMAP_FOR_EACH (att, node, attachments) {
        if (att->pod_namespace && att->pod_name
            && att->ip.family == AF_INET) {
            char ip[IPADDR_STRLEN];
            char *key = xasprintf("%s/%s", att->pod_namespace,
                                  att->pod_name);
            free(shash_replace_nocopy(&now, key,
                                      xstrdup(ipaddr_format(&att->ip, ip))));
        }
    }

    struct sset changed = SSET_INITIALIZER(&changed);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &now) {
        const char *old = shash_find_data(&f->local, node->name);
        if (!old || strcmp(old, node->data)) {
            sset_add(&changed, node->name);
        }
    }
    SHASH_FOR_EACH (node, &f->local) {
        if (!shash_find(&now, node->name)) {
            sset_add(&changed, node->name);
        }
    }
    shash_swap(&f->local, &now);
    shash_destroy_free_data(&now);

    const char *key;
    SSET_FOR_EACH (key, &changed) {
        const struct k8s_object *pod = cache_get_key(f->cache, K8S_POD, key);
        if (pod) {
            mark_selecting(f, pod);
        }
        f->isolation_dirty = true;
    }
    sset_destroy(&changed);
}

/* The feature. */

static void *
policies_create(const struct feature_ctx *ctx)
{
    struct policies_feature *f = xzalloc(sizeof *f);
    f->cache = ctx->cache;
    sset_init(&f->dirty);
    sset_init(&f->peer_updates);
    hmap_init(&f->policies);
    hmap_init(&f->ids);
    shash_init(&f->local);
    shash_init(&f->isolated);
    if (f->cache) {
        k8s_cache_subscribe(f->cache, K8S_NETWORK_POLICY, &policy_handlers,
                            f);
        k8s_cache_subscribe(f->cache, K8S_POD, &pod_handlers, f);
        k8s_cache_subscribe(f->cache, K8S_NAMESPACE, &namespace_handlers,
                            f);
    }
    return f;
}

static void
policies_destroy(void *f_)
{
    struct policies_feature *f = f_;
    if (f->cache) {
        k8s_cache_unsubscribe(f->cache, K8S_NETWORK_POLICY, &policy_handlers,
                              f);
        k8s_cache_unsubscribe(f->cache, K8S_POD, &pod_handlers, f);
        k8s_cache_unsubscribe(f->cache, K8S_NAMESPACE, &namespace_handlers,
                              f);
    }
    struct rendered_policy *r;
    HMAP_FOR_EACH_SAFE (r, node, &f->policies) {
        rendered_remove(f, r, NULL);
    }
    hmap_destroy(&f->policies);
    hmap_destroy(&f->ids);
    sset_destroy(&f->dirty);
    sset_destroy(&f->peer_updates);
    shash_destroy_free_data(&f->local);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &f->isolated) {
        struct isolation *iso = node->data;
        free(iso->ip);
        free(iso);
    }
    shash_destroy(&f->isolated);
    free(f);
}

/* Whether some peer of 'rule' (of a policy in 'ns') selects 'pod'. */
static bool
rule_selects(const struct k8s_cache *cache, const char *ns,
             const struct k8s_np_rule *rule, const struct k8s_object *pod)
{
    return rules_select(cache, ns, rule, 1, pod);
}

/* Sets the flow of 'r' that matches the peer address 'ip' in 'dir' to the
 * conjunction() actions of the conjunctions that have it among their
 * peers, or removes it if there are none. */
static char *
peer_flow_set(const struct rendered_policy *r, enum policy_dir dir,
              const struct ipaddr *ip, const char *ip_text,
              struct flow_table *ft)
{
    bool egress = dir == POLICY_EGRESS;
    struct match m;
    match_init_catchall(&m);
    match_set_dl_type(&m, htons(ETH_TYPE_IP));
    ovs_be32 addr = ipaddr_to_in4(ip).s_addr;
    if (egress) {
        match_set_nw_dst(&m, addr);
    } else {
        match_set_nw_src(&m, addr);
    }
    enum tnd_table table = egress ? TABLE_EGRESS_RULE : TABLE_INGRESS_RULE;

    uint64_t stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
    for (size_t i = 0; i < r->n_conjs; i++) {
        const struct rendered_conj *rc = &r->conjs[i];
        if (rc->dir == dir && rc->has_flows
            && sset_contains(&rc->pod_peers, ip_text)) {
            struct ofpact_conjunction *oc = ofpact_put_CONJUNCTION(&ofpacts);
            oc->id = rc->id;
            oc->clause = 1;          /* Clause 2 of n, zero-based. */
            oc->n_clauses = rc->n_clauses;
        }
    }
    char *error = NULL;
    if (ofpacts.size) {
        error = flow_table_add_flow(ft, r->owner, COOKIE_POLICY, table,
                                    POLICY_RULE_PRIORITY, &m, ofpacts.data,
                                    ofpacts.size);
    } else {
        flow_table_remove_flow(ft, r->owner, table, POLICY_RULE_PRIORITY,
                               &m);
    }
    ofpbuf_uninit(&ofpacts);
    return error;
}

/* Brings the peers of every conjunction of policy 'np_key' up to date with
 * the labels of pod 'pod_key' alone.  Renders the policy again instead
 * when that would change more than the pod's own flow: a conjunction that
 * gains its first peer or loses its last, or an ipBlock prefix that is the
 * pod's address itself (the two would share one flow). */
static void
peer_update(struct policies_feature *f, const char *np_key,
            const char *pod_key, struct flow_table *ft)
{
    struct rendered_policy *r = rendered_find(f, np_key);
    const struct k8s_object *obj = cache_get_key(f->cache,
                                                 K8S_NETWORK_POLICY, np_key);
    const struct k8s_object *pod = cache_get_key(f->cache, K8S_POD, pod_key);
    if (!r || !obj || r->error) {
        render(f, np_key, ft);
        return;
    }
    struct policy_inputs in = { f->cache, &f->local };
    struct ipaddr ip;
    if (!pod || !policy_pod_ip(&in, k8s_pod_cast(pod), &ip)
        || ip.family != AF_INET) {
        /* Not a peer before or after: its address did not change. */
        return;
    }
    char ip_text[IPADDR_STRLEN];
    ipaddr_format(&ip, ip_text);
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    const struct cidr host = { .addr = ip, .plen = 32 };

    bool *now = xcalloc(r->n_conjs + 1, sizeof *now);
    bool changed[2] = { false, false };
    for (size_t i = 0; i < r->n_conjs; i++) {
        const struct rendered_conj *rc = &r->conjs[i];
        bool in_dir = rc->dir == POLICY_INGRESS;
        const struct k8s_np_rule *rules = in_dir ? np->ingress : np->egress;
        size_t n_rules = in_dir ? np->n_ingress : np->n_egress;
        if (rc->rule >= n_rules) {
            free(now);
            render(f, np_key, ft);
            return;
        }
        for (size_t j = 0; j < rc->n_blocks; j++) {
            if (cidr_equals(&rc->blocks[j], &host)) {
                free(now);
                render(f, np_key, ft);
                return;
            }
        }
        now[i] = (!rc->any_peer
                  && rule_selects(f->cache, obj->namespace,
                                  &rules[rc->rule], pod));
        bool was = sset_contains(&rc->pod_peers, ip_text);
        if (now[i] == was) {
            continue;
        }
        size_t n_after = sset_count(&rc->pod_peers) + (now[i] ? 1 : -1);
        bool has_flows = rc->n_targets && (rc->n_blocks || n_after);
        if (has_flows != rc->has_flows) {
            free(now);
            render(f, np_key, ft);
            return;
        }
        changed[rc->dir] = true;
    }
    for (size_t i = 0; i < r->n_conjs; i++) {
        struct rendered_conj *rc = &r->conjs[i];
        if (now[i]) {
            sset_add(&rc->pod_peers, ip_text);
        } else {
            sset_find_and_delete(&rc->pod_peers, ip_text);
        }
    }
    free(now);
    for (int d = 0; d < 2; d++) {
        if (changed[d]) {
            char *error = peer_flow_set(r, d, &ip, ip_text, ft);
            if (error) {
                VLOG_ERR("NetworkPolicy %s: %s", np_key, error);
                free(error);
                render(f, np_key, ft);
                return;
            }
        }
    }
}

static void
policies_run(void *f_, const struct feature_ctx *ctx, struct flow_table *ft)
{
    struct policies_feature *f = f_;
    if (!f->cache) {
        return;
    }
    sync_local(f, ctx->attachments);
    const char *key;
    SSET_FOR_EACH (key, &f->dirty) {
        render(f, key, ft);
    }
    SSET_FOR_EACH (key, &f->peer_updates) {
        const char *bar = strchr(key, '|');
        char *np_key = xmemdup0(key, bar - key);
        if (!sset_contains(&f->dirty, np_key)) {
            peer_update(f, np_key, bar + 1, ft);
        }
        free(np_key);
    }
    sset_clear(&f->peer_updates);
    sset_clear(&f->dirty);
    if (f->isolation_dirty) {
        sync_isolation(f, ft);
        f->isolation_dirty = false;
    }
}

static bool
policies_is_synced(const void *f_, const struct feature_ctx *ctx)
{
    const struct policies_feature *f = f_;
    return !f->cache || (ctx->k8s_synced && sset_is_empty(&f->dirty)
                         && sset_is_empty(&f->peer_updates)
                         && !f->isolation_dirty);
}

static int
compare_rendered(const void *a_, const void *b_)
{
    const struct rendered_policy *const *a = a_, *const *b = b_;
    return strcmp((*a)->key, (*b)->key);
}

/* The rendered policies in '*listp' (to free), by name. */
static size_t
sorted_policies(const struct policies_feature *f,
                const struct rendered_policy ***listp)
{
    size_t n = hmap_count(&f->policies), i = 0;
    const struct rendered_policy **list = xmalloc((n + 1) * sizeof *list);
    const struct rendered_policy *r;
    HMAP_FOR_EACH (r, node, &f->policies) {
        list[i++] = r;
    }
    qsort(list, n, sizeof *list, compare_rendered);
    *listp = list;
    return n;
}

static void
policies_format(const void *f_, struct ds *s)
{
    const struct policies_feature *f = f_;
    const struct rendered_policy **list;
    size_t n = sorted_policies(f, &list), i;
    for (i = 0; i < n; i++) {
        const struct rendered_policy *r = list[i];
        ds_put_format(s, "%s: applies to %"PRIuSIZE" pods on this node",
                      r->key, r->n_targets);
        if (r->error) {
            ds_put_format(s, " (no flows: %s)", r->error);
        }
        ds_put_char(s, '\n');
        format_rules(r, s);
    }
    free(list);

    const struct shash_node **nodes = shash_sort(&f->isolated);
    for (i = 0; i < shash_count(&f->isolated); i++) {
        const struct isolation *iso = nodes[i]->data;
        ds_put_format(s, "isolated: %s %s%s%s\n", nodes[i]->name, iso->ip,
                      iso->ingress ? " ingress" : "",
                      iso->egress ? " egress" : "");
    }
    free(nodes);
}

/* Statistics. */

struct counters {
    uint64_t packets, bytes;
};

/* The policies in the namespace of 'pod' that isolate it in 'ingress' (or
 * egress) direction, as "NAME, NAME". */
static void
format_isolators(const struct policies_feature *f, const char *key,
                 bool ingress, struct ds *s)
{
    const struct k8s_object *pod = cache_get_key(f->cache, K8S_POD, key);
    if (!pod) {
        return;
    }
    struct k8s_object_list list;
    k8s_cache_list(f->cache, K8S_NETWORK_POLICY, pod->namespace, &list);
    size_t n = 0;
    for (size_t i = 0; i < list.n; i++) {
        const struct k8s_network_policy *np
            = k8s_network_policy_cast(list.objs[i]);
        if ((ingress ? np->policy_ingress : np->policy_egress)
            && label_selector_matches(np->pod_selector, &pod->labels)) {
            ds_put_format(s, "%s%s", n++ ? ", " : "", np->obj.name);
        }
    }
    k8s_object_list_destroy(&list);
}

static void
policies_format_stats(const void *f_, const struct ofputil_flow_stats *fs,
                      size_t n, struct ds *s)
{
    const struct policies_feature *f = f_;
    struct hmap conjs = HMAP_INITIALIZER(&conjs);   /* conj id -> counters */
    struct shash drops = SHASH_INITIALIZER(&drops); /* "in|out IP" -> ... */
    struct counter_node {
        struct hmap_node node;
        uint32_t id;
        struct counters first;   /* Connections' first packets. */
        struct counters rest;    /* Their established packets. */
    };
    for (size_t i = 0; i < n; i++) {
        const struct match *m = &fs[i].match;
        uint64_t label_mask = m->wc.masks.ct_label.u64.lo;
        if (m->wc.masks.conj_id || label_mask) {
            /* A conj_id flow, or a Metric flow: the rule's id in ct_label's
             * low (egress) or high (ingress) 32 bits. */
            uint32_t id = (m->wc.masks.conj_id ? m->flow.conj_id
                           : label_mask == UINT32_MAX
                           ? (uint32_t) m->flow.ct_label.u64.lo
                           : (uint32_t) (m->flow.ct_label.u64.lo >> 32));
            struct counter_node *cn = NULL, *c;
            HMAP_FOR_EACH_WITH_HASH (c, node, hash_int(id, 0), &conjs) {
                cn = c->id == id ? c : cn;
            }
            if (!cn) {
                cn = xzalloc(sizeof *cn);
                cn->id = id;
                hmap_insert(&conjs, &cn->node, hash_int(id, 0));
            }
            struct counters *k = m->wc.masks.conj_id ? &cn->first : &cn->rest;
            k->packets += fs[i].packet_count;
            k->bytes += fs[i].byte_count;
        } else if (fs[i].table_id == TABLE_EGRESS_DEFAULT_RULE
                   || fs[i].table_id == TABLE_INGRESS_DEFAULT_RULE) {
            bool in = fs[i].table_id == TABLE_INGRESS_DEFAULT_RULE;
            ovs_be32 ip = in ? m->flow.nw_dst : m->flow.nw_src;
            struct counters *c = xmalloc(sizeof *c);
            *c = (struct counters) { fs[i].packet_count, fs[i].byte_count };
            free(shash_replace_nocopy(&drops, xasprintf(
                "%s "IP_FMT, in ? "ingress" : "egress", IP_ARGS(ip)), c));
        }
    }

    const struct rendered_policy **list;
    size_t n_policies = sorted_policies(f, &list);
    for (size_t i = 0; i < n_policies; i++) {
        const struct rendered_policy *r = list[i];
        ds_put_format(s, "%s: applies to %"PRIuSIZE" pods on this node\n",
                      r->key, r->n_targets);
        for (size_t j = 0; j < r->n_ids; j++) {
            const struct conj_id *id = conj_id_find(f, r->ids[j]);
            const struct counter_node *cn = NULL, *c;
            HMAP_FOR_EACH_WITH_HASH (c, node, hash_int(r->ids[j], 0),
                                     &conjs) {
                cn = c->id == r->ids[j] ? c : cn;
            }
            struct counters first = cn ? cn->first : (struct counters) { 0 };
            struct counters rest = cn ? cn->rest : (struct counters) { 0 };
            ds_put_format(s, "  %s (conj %"PRIu32"): %"PRIu64" connections "
                          "allowed, %"PRIu64" packets, %"PRIu64" bytes\n",
                          id ? id->key + strlen(r->key) + 1 : "?",
                          r->ids[j], first.packets,
                          first.packets + rest.packets,
                          first.bytes + rest.bytes);
        }
    }
    free(list);

    const struct shash_node **nodes = shash_sort(&f->isolated);
    for (size_t i = 0; i < shash_count(&f->isolated); i++) {
        const struct isolation *iso = nodes[i]->data;
        for (int d = 0; d < 2; d++) {
            bool in = !d;
            if (!(in ? iso->ingress : iso->egress)) {
                continue;
            }
            char *key = xasprintf("%s %s", in ? "ingress" : "egress",
                                  iso->ip);
            const struct counters *c = shash_find_data(&drops, key);
            free(key);
            ds_put_format(s, "isolated %s %s, %s: %"PRIu64" packets "
                          "dropped, %"PRIu64" bytes; isolated by ",
                          nodes[i]->name, iso->ip, in ? "ingress" : "egress",
                          c ? c->packets : 0, c ? c->bytes : 0);
            format_isolators(f, nodes[i]->name, in, s);
            ds_put_char(s, '\n');
        }
    }
    free(nodes);

    struct counter_node *cn;
    HMAP_FOR_EACH_POP (cn, node, &conjs) {
        free(cn);
    }
    hmap_destroy(&conjs);
    shash_destroy_free_data(&drops);
}

/* policy/explain's naming of a verdict. */
static void
policies_describe_verdict(const void *f_, const struct policy_verdict *v,
                          enum policy_dir dir, const char *pod, struct ds *s)
{
    const struct policies_feature *f = f_;
    if (v->kind == POLICY_VERDICT_RULE) {
        /* The key is "NS/NAME/DIR/RULE/PORTS". */
        const struct conj_id *c = conj_id_find(f, v->conj_id);
        if (!c) {
            ds_put_format(s, "conjunction %"PRIu32" (no policy of this "
                          "agent's has it)", v->conj_id);
            return;
        }
        char *key = xstrdup(c->key);
        char *save = NULL;
        const char *ns = strtok_r(key, "/", &save);
        const char *name = strtok_r(NULL, "/", &save);
        const char *d = strtok_r(NULL, "/", &save);
        const char *rule = strtok_r(NULL, "/", &save);
        if (ns && name && d && rule) {
            ds_put_format(s, "%s/%s %s rule %s", ns, name, d, rule);
        } else {
            ds_put_cstr(s, c->key);
        }
        ds_put_format(s, " (conjunction %"PRIu32")", v->conj_id);
        free(key);
    } else if (v->kind == POLICY_VERDICT_DENIED) {
        bool in = dir == POLICY_INGRESS;
        ds_put_format(s, "default deny of %s, isolated for %s by ",
                      pod ? pod : "the pod", in ? "ingress" : "egress");
        size_t len = s->length;
        if (pod) {
            format_isolators(f, pod, in, s);
        }
        if (s->length == len) {
            ds_put_cstr(s, "no policy the agent knows of (stale flows?)");
        }
    }
}

const struct feature_class policies_feature = {
    .name = "policies",
    .needs_api = true,
    .create = policies_create,
    .destroy = policies_destroy,
    .run = policies_run,
    .is_synced = policies_is_synced,
    .format = policies_format,
    .stats_category = COOKIE_POLICY,
    .format_stats = policies_format_stats,
    .describe_verdict = policies_describe_verdict,
};
