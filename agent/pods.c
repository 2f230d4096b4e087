/* The static pipeline and the pods as features: the node's own flows, and
 * each attachment's flows once OVS has numbered its port. */
#include "ovs-config.h"

#include <stdlib.h>
#include <string.h>

#include "agent/attachments.h"
#include "agent/feature.h"
#include "flow.h"
#include "flows/flow-table.h"
#include "flows/pipeline.h"
#include "hash.h"
#include "lib/agent-protocol.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(pods);

/* The static flows. */

struct pipeline_feature {
    bool rendered;
};

static void *
pipeline_create(const struct feature_ctx *ctx OVS_UNUSED)
{
    return xzalloc(sizeof(struct pipeline_feature));
}

static void
pipeline_run(void *f_, const struct feature_ctx *ctx, struct flow_table *ft)
{
    struct pipeline_feature *f = f_;
    if (!ctx->node_ready || (f->rendered && !ctx->node_changed)) {
        return;
    }
    flow_table_remove_owner(ft, STATIC_OWNER);
    char *error = pipeline_add_static(ft, ctx->node);
    if (error) {
        /* A bug: the static flows are made from the agent's own values. */
        VLOG_FATAL("static flows: %s", error);
    }
    f->rendered = true;
}

static bool
pipeline_is_synced(const void *f_, const struct feature_ctx *ctx OVS_UNUSED)
{
    const struct pipeline_feature *f = f_;
    return f->rendered;
}

const struct feature_class pipeline_feature = {
    .name = "pipeline",
    .create = pipeline_create,
    .destroy = free,
    .run = pipeline_run,
    .is_synced = pipeline_is_synced,
};

/* The pods. */

/* An attachment whose flows are in the table, as they were made. */
struct rendered_pod {
    struct hmap_node node;       /* In pods_feature's 'pods', by owner. */
    char *owner;
    char *key;                   /* The attachment's. */
    uint64_t serial;             /* The attachment's. */
    struct pod_net net;
    bool failed;                 /* pod_flows_add() refused them; tried
                                  * again when the attachment changes. */
};

struct pods_feature {
    struct hmap pods;
};

static void *
pods_create(const struct feature_ctx *ctx OVS_UNUSED)
{
    struct pods_feature *f = xzalloc(sizeof *f);
    hmap_init(&f->pods);
    return f;
}

static struct rendered_pod *
rendered_find(const struct pods_feature *f, const char *owner)
{
    struct rendered_pod *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_string(owner, 0), &f->pods) {
        if (!strcmp(r->owner, owner)) {
            return r;
        }
    }
    return NULL;
}

static void
rendered_remove(struct pods_feature *f, struct rendered_pod *r,
                struct flow_table *ft)
{
    if (ft && !r->failed) {
        pod_flows_remove(ft, r->owner);
    }
    hmap_remove(&f->pods, &r->node);
    free(r->owner);
    free(r->key);
    free(r);
}

static void
pods_destroy(void *f_)
{
    struct pods_feature *f = f_;
    struct rendered_pod *r;
    HMAP_FOR_EACH_SAFE (r, node, &f->pods) {
        rendered_remove(f, r, NULL);
    }
    hmap_destroy(&f->pods);
    free(f);
}

static bool
pod_net_equals(const struct pod_net *a, const struct pod_net *b)
{
    return (a->ofport == b->ofport && eth_addr_equals(a->mac, b->mac)
            && ipaddr_equals(&a->ip, &b->ip));
}

/* Makes the flows of 'att', which has a port. */
static void
render(struct pods_feature *f, struct attachment *att,
       const struct feature_ctx *ctx, struct flow_table *ft)
{
    struct pod_net net = {
        .ofport = att->ofport,
        .mac = att->mac,
        .ip = att->ip,
    };
    struct rendered_pod *r = rendered_find(f, att->owner);
    if (r && pod_net_equals(&r->net, &net) && r->serial == att->serial) {
        return;
    }
    if (r) {
        rendered_remove(f, r, ft);
    }
    char *error = pod_flows_add(ft, att->owner, ctx->node, &net);
    if (error) {
        VLOG_ERR("%s: %s", att->key, error);
        struct waiter *w;
        LIST_FOR_EACH_SAFE (w, node, &att->waiters) {
            waiter_fail(w, CNI_ERR_IO, "the agent could not make the pod's "
                        "flows", error);
        }
        free(error);
    }
    r = xzalloc(sizeof *r);
    r->failed = error != NULL;
    r->owner = xstrdup(att->owner);
    r->key = xstrdup(att->key);
    r->serial = att->serial;
    r->net = net;
    hmap_insert(&f->pods, &r->node, hash_string(r->owner, 0));
}

static void
pods_run(void *f_, const struct feature_ctx *ctx, struct flow_table *ft)
{
    struct pods_feature *f = f_;
    struct rendered_pod *r;

    /* Withdraw the flows of attachments that are gone, and all of them
     * when the node changed: pod flows name the gateway's port. */
    HMAP_FOR_EACH_SAFE (r, node, &f->pods) {
        const struct attachment *att = attachment_find(ctx->attachments,
                                                       r->key);
        if (!att || ctx->node_changed || att->serial != r->serial
            || !att->owner || strcmp(att->owner, r->owner)) {
            rendered_remove(f, r, ft);
        }
    }
    if (!ctx->node_ready) {
        return;
    }
    struct attachment *att;
    HMAP_FOR_EACH (att, node, ctx->attachments) {
        if (att->owner && ofp_to_u16(att->ofport)) {
            render(f, att, ctx, ft);
        }
    }
}

/* Synced when every attachment's flows are made (or found impossible). */
static bool
pods_is_synced(const void *f_, const struct feature_ctx *ctx)
{
    const struct pods_feature *f = f_;
    const struct attachment *att;
    HMAP_FOR_EACH (att, node, ctx->attachments) {
        if (!att->owner || !rendered_find(f, att->owner)) {
            return false;
        }
    }
    return true;
}

const struct feature_class pods_feature = {
    .name = "pods",
    .create = pods_create,
    .destroy = pods_destroy,
    .run = pods_run,
    .is_synced = pods_is_synced,
};
