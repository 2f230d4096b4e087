/* NetworkPolicy's flows: conjunctions per rule and drops per isolated
 * pod (flows/policy.h). */
#include "ovs-config.h"
#include "flows/policy.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "flows/cookie.h"
#include "flows/fields.h"
#include "flows/flow-table.h"
#include "flows/tables.h"
#include "flows/trace.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "util.h"

void
policy_port_masks(uint16_t lo, uint16_t hi,
                  void (*cb)(uint16_t value, uint16_t mask, void *aux),
                  void *aux)
{
    uint32_t value = lo;
    while (value <= hi) {
        /* The largest aligned block at 'value' that ends by 'hi'. */
        uint32_t size = value ? value & -value : 0x10000;
        while (value + size - 1 > hi) {
            size >>= 1;
        }
        cb(value, (uint16_t) ~(size - 1), aux);
        value += size;
    }
}

/* A clause flow being built: its match and the conjunction() actions that
 * every conjunction of the owner using it puts there. */
struct clause_flow {
    enum tnd_table table;
    char *match;
    struct ds actions;
};

struct clause_set {
    struct shash flows;          /* "TABLE|MATCH" -> struct clause_flow. */
};

static void
clause_add(struct clause_set *set, enum tnd_table table, const char *match,
           uint32_t id, unsigned int clause, unsigned int n_clauses)
{
    char *key = xasprintf("%d|%s", table, match);
    struct clause_flow *cf = shash_find_data(&set->flows, key);
    if (!cf) {
        cf = xzalloc(sizeof *cf);
        cf->table = table;
        cf->match = xstrdup(match);
        ds_init(&cf->actions);
        shash_add_nocopy(&set->flows, key, cf);
    } else {
        free(key);
        ds_put_char(&cf->actions, ',');
    }
    ds_put_format(&cf->actions, "conjunction(%"PRIu32",%u/%u)", id, clause,
                  n_clauses);
}

static const char *
proto_name(uint8_t ip_proto)
{
    return (ip_proto == IPPROTO_UDP ? "udp"
            : ip_proto == IPPROTO_SCTP ? "sctp"
            : "tcp");
}

struct port_clause {
    struct clause_set *set;
    enum tnd_table table;
    const char *proto;
    uint32_t id;
    unsigned int n_clauses;
};

static void
port_clause_add(uint16_t value, uint16_t mask, void *pc_)
{
    const struct port_clause *pc = pc_;
    char *match = (mask == UINT16_MAX
                   ? xasprintf("%s,tp_dst=%"PRIu16, pc->proto, value)
                   : xasprintf("%s,tp_dst=%#"PRIx16"/%#"PRIx16, pc->proto,
                               value, mask));
    clause_add(pc->set, pc->table, match, pc->id, pc->n_clauses,
               pc->n_clauses);
    free(match);
}

static void
conj_clauses(struct clause_set *set, const struct policy_conj *c)
{
    bool egress = c->dir == POLICY_EGRESS;
    enum tnd_table table = egress ? TABLE_EGRESS_RULE : TABLE_INGRESS_RULE;
    const char *target_field = egress ? "nw_src" : "nw_dst";
    const char *peer_field = egress ? "nw_dst" : "nw_src";
    unsigned int n_clauses = c->n_ports ? 3 : 2;

    for (size_t i = 0; i < c->n_targets; i++) {
        char ip[IPADDR_STRLEN];
        char *match = xasprintf("ip,%s=%s", target_field,
                                ipaddr_format(&c->targets[i], ip));
        clause_add(set, table, match, c->id, 1, n_clauses);
        free(match);
    }
    if (c->any_peer) {
        clause_add(set, table, "ip", c->id, 2, n_clauses);
    }
    for (size_t i = 0; !c->any_peer && i < c->n_peers; i++) {
        char cidr[CIDR_STRLEN];
        char *match = xasprintf("ip,%s=%s", peer_field,
                                cidr_format(&c->peers[i], cidr));
        clause_add(set, table, match, c->id, 2, n_clauses);
        free(match);
    }
    /* Protocols whose later fragments this rule has let through. */
    bool frags[3] = { false, false, false };
    for (size_t i = 0; i < c->n_ports; i++) {
        const struct policy_port *p = &c->ports[i];
        struct port_clause pc = {
            .set = set, .table = table, .proto = proto_name(p->ip_proto),
            .id = c->id, .n_clauses = n_clauses,
        };
        if (!p->port) {
            clause_add(set, table, pc.proto, c->id, 3, n_clauses);
        } else {
            policy_port_masks(p->port, MAX(p->port, p->end_port),
                              port_clause_add, &pc);
            /* A fragment after the first has no ports to match: it passes
             * with the protocol.  Its datagram goes on only as a whole:
             * ConntrackCommit's ct() holds it until the first fragment,
             * judged by its port, gets there too. */
            int k = (p->ip_proto == IPPROTO_UDP ? 0
                     : p->ip_proto == IPPROTO_SCTP ? 1 : 2);
            if (!frags[k]) {
                frags[k] = true;
                char *match = xasprintf("%s,nw_frag=later", pc.proto);
                clause_add(set, table, match, c->id, 3, n_clauses);
                free(match);
            }
        }
    }
}

char *
policy_flows_add(struct flow_table *ft, const char *owner,
                 const struct policy_conj *conjs, size_t n)
{
    struct clause_set set = { SHASH_INITIALIZER(&set.flows) };
    char *error = NULL;

    for (size_t i = 0; i < n && !error; i++) {
        const struct policy_conj *c = &conjs[i];
        if (!c->n_targets || (!c->any_peer && !c->n_peers)) {
            continue;
        }
        conj_clauses(&set, c);
        bool egress = c->dir == POLICY_EGRESS;
        /* The conj_id flow counts the connections the rule allows and
         * names the rule in the register ConntrackCommit puts into
         * ct_label; the Metric flow counts their established packets. */
        error = flow_table_add(
            ft, owner, COOKIE_POLICY,
            egress ? TABLE_EGRESS_RULE : TABLE_INGRESS_RULE,
            POLICY_RULE_PRIORITY, "conj_id=%"PRIu32",ip "
            "actions=load:%"PRIu32"->%s,goto_table:%s", c->id, c->id,
            egress ? F_EGRESS_CONJ : F_INGRESS_CONJ,
            egress ? "EgressMetric" : "IngressMetric");
        if (!error) {
            uint64_t label = egress ? c->id : (uint64_t) c->id << 32;
            uint64_t mask = egress ? UINT32_MAX : (uint64_t) UINT32_MAX << 32;
            error = flow_table_add(
                ft, owner, COOKIE_POLICY,
                egress ? TABLE_EGRESS_METRIC : TABLE_INGRESS_METRIC,
                POLICY_RULE_PRIORITY, "ct_state=+est+trk,ct_label=%#"PRIx64
                "/%#"PRIx64",ip actions=goto_table:%s", label, mask,
                egress ? "L3Forwarding" : "ConntrackCommit");
        }
    }

    struct shash_node *node;
    SHASH_FOR_EACH (node, &set.flows) {
        struct clause_flow *cf = node->data;
        if (!error) {
            error = flow_table_add(ft, owner, COOKIE_POLICY, cf->table,
                                   POLICY_RULE_PRIORITY, "%s actions=%s",
                                   cf->match, ds_cstr(&cf->actions));
        }
        free(cf->match);
        ds_destroy(&cf->actions);
        free(cf);
    }
    shash_destroy(&set.flows);
    if (error) {
        flow_table_remove_owner(ft, owner);
    }
    return error;
}

char *
policy_isolation_add(struct flow_table *ft, const char *owner,
                     const struct ipaddr *ip, bool ingress, bool egress)
{
    char s[IPADDR_STRLEN];
    ipaddr_format(ip, s);
    char *error = NULL;
    if (egress) {
        error = flow_table_add(ft, owner, COOKIE_POLICY,
                               TABLE_EGRESS_DEFAULT_RULE,
                               POLICY_RULE_PRIORITY,
                               "ip,nw_src=%s actions=drop", s);
    }
    if (ingress && !error) {
        error = flow_table_add(ft, owner, COOKIE_POLICY,
                               TABLE_INGRESS_DEFAULT_RULE,
                               POLICY_RULE_PRIORITY,
                               "ip,nw_dst=%s actions=drop", s);
    }
    if (error) {
        flow_table_remove_owner(ft, owner);
    }
    return error;
}

/* Verdicts from traces. */

struct policy_verdict
policy_trace_verdict(const struct trace *t, enum policy_dir dir)
{
    bool egress = dir == POLICY_EGRESS;
    enum tnd_table rule_table = egress ? TABLE_EGRESS_RULE
                                       : TABLE_INGRESS_RULE;
    enum tnd_table default_table = egress ? TABLE_EGRESS_DEFAULT_RULE
                                          : TABLE_INGRESS_DEFAULT_RULE;
    struct policy_verdict v = { .kind = POLICY_VERDICT_UNREACHED,
                                .last_table = -1 };

    const struct trace_step *rule = trace_find(t, rule_table, 0);
    if (!rule) {
        v.last_table = t->n ? t->steps[t->n - 1].table : -1;
        return v;
    }
    if (!strncmp(rule->match, "conj_id=", 8)) {
        v.kind = POLICY_VERDICT_RULE;
        v.conj_id = strtoul(rule->match + 8, NULL, 10);
    } else if (strstr(rule->match, "ct_state=")) {
        v.kind = POLICY_VERDICT_ESTABLISHED;
    } else if (rule->priority > 0) {
        /* The one other kind of flow here: IngressRule's "from the
         * gateway's address". */
        v.kind = POLICY_VERDICT_NODE;
    } else {
        const struct trace_step *def
            = trace_find(t, default_table, rule - t->steps);
        if (!def) {
            v.last_table = rule_table;
        } else {
            v.kind = def->priority > 0 ? POLICY_VERDICT_DENIED
                                       : POLICY_VERDICT_NOT_ISOLATED;
        }
    }
    return v;
}

bool
policy_verdict_allows(const struct policy_verdict *v)
{
    return v->kind != POLICY_VERDICT_UNREACHED
           && v->kind != POLICY_VERDICT_DENIED;
}
