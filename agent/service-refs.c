/* What the Service ports share: group ids and EndpointDNAT flows. */
#include "ovs-config.h"
#include "agent/service-refs.h"

#include <stdlib.h>
#include <string.h>

#include "flows/flow-table.h"
#include "flows/service.h"
#include "hash.h"
#include "openvswitch/vlog.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(service_refs);

/* An endpoint's EndpointDNAT flow and how many Service ports use it. */
struct endpoint_use {
    struct hmap_node node;       /* In service_refs's 'endpoints'. */
    char *owner;
    unsigned int n;
};

/* A group id, by the Service port it belongs to. */
struct group_id {
    struct hmap_node id_node;    /* In 'group_ids', by id. */
    struct hmap_node key_node;   /* In 'group_keys', by key. */
    char *key;                   /* "NAMESPACE/NAME:PORTNAME/PROTO". */
    uint32_t id;
};

void
service_refs_init(struct service_refs *refs)
{
    hmap_init(&refs->endpoints);
    hmap_init(&refs->group_ids);
    hmap_init(&refs->group_keys);
}

/* Frees 'refs' without touching a flow table. */
void
service_refs_destroy(struct service_refs *refs)
{
    struct endpoint_use *u;
    HMAP_FOR_EACH_POP (u, node, &refs->endpoints) {
        free(u->owner);
        free(u);
    }
    struct group_id *g;
    HMAP_FOR_EACH_POP (g, id_node, &refs->group_ids) {
        free(g->key);
        free(g);
    }
    hmap_destroy(&refs->endpoints);
    hmap_destroy(&refs->group_ids);
    hmap_destroy(&refs->group_keys);
}

/* Group ids. */

static struct group_id *
group_id_by_key(const struct service_refs *f, const char *key)
{
    struct group_id *g;
    HMAP_FOR_EACH_WITH_HASH (g, key_node, hash_string(key, 0),
                             &f->group_keys) {
        if (!strcmp(g->key, key)) {
            return g;
        }
    }
    return NULL;
}

static bool
group_id_taken(const struct service_refs *f, uint32_t id)
{
    const struct group_id *g;
    HMAP_FOR_EACH_WITH_HASH (g, id_node, hash_int(id, 0), &f->group_ids) {
        if (g->id == id) {
            return true;
        }
    }
    return false;
}

/* The group id of Service port 'key': a hash of the key, so that it is the
 * same after a restart, moved on past ids that are taken. */
uint32_t
service_refs_group_id(struct service_refs *f, const char *key)
{
    struct group_id *g = group_id_by_key(f, key);
    if (!g) {
        uint32_t id = (hash_string(key, 0) & 0x7fffffff) | 1;
        while (group_id_taken(f, id)) {
            id = id == 0x7fffffff ? 1 : id + 1;
        }
        g = xmalloc(sizeof *g);
        g->key = xstrdup(key);
        g->id = id;
        hmap_insert(&f->group_ids, &g->id_node, hash_int(id, 0));
        hmap_insert(&f->group_keys, &g->key_node, hash_string(key, 0));
    }
    return g->id;
}

void
service_refs_release_group(struct service_refs *f, const char *key)
{
    struct group_id *g = group_id_by_key(f, key);
    if (g) {
        hmap_remove(&f->group_ids, &g->id_node);
        hmap_remove(&f->group_keys, &g->key_node);
        free(g->key);
        free(g);
    }
}

/* Endpoint uses. */

static struct endpoint_use *
endpoint_use_find(const struct service_refs *f, const char *owner)
{
    struct endpoint_use *u;
    HMAP_FOR_EACH_WITH_HASH (u, node, hash_string(owner, 0), &f->endpoints) {
        if (!strcmp(u->owner, owner)) {
            return u;
        }
    }
    return NULL;
}

/* Takes a use of the EndpointDNAT flow of 'ep', adding it for the first. */
bool
service_refs_ref_endpoint(struct service_refs *f, struct flow_table *ft,
             uint8_t ip_proto, const struct service_endpoint *ep,
             struct sset *uses)
{
    char *owner = endpoint_owner(ip_proto, ep);
    if (sset_contains(uses, owner)) {
        free(owner);
        return true;            /* This Service holds a use already. */
    }
    struct endpoint_use *u = endpoint_use_find(f, owner);
    if (!u) {
        char *error = endpoint_flows_add(ft, owner, ip_proto, ep);
        if (error) {
            VLOG_ERR("%s", error);
            free(error);
            free(owner);
            return false;
        }
        u = xzalloc(sizeof *u);
        u->owner = xstrdup(owner);
        hmap_insert(&f->endpoints, &u->node, hash_string(owner, 0));
    }
    u->n++;
    sset_add_and_free(uses, owner);
    return true;
}

void
service_refs_unref_endpoint(struct service_refs *f, struct flow_table *ft,
               const char *owner)
{
    struct endpoint_use *u = endpoint_use_find(f, owner);
    if (u && !--u->n) {
        flow_table_remove_owner(ft, owner);
        hmap_remove(&f->endpoints, &u->node);
        free(u->owner);
        free(u);
    }
}

