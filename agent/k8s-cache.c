#include "ovs-config.h"
#include "agent/k8s-cache.h"
#include "agent/k8s-cache-int.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hmapx.h"
#include "openvswitch/hmap.h"
#include "util.h"


const char *
k8s_event_to_string(enum k8s_event event)
{
    switch (event) {
    case K8S_EVENT_ADDED:
        return "ADDED";
    case K8S_EVENT_MODIFIED:
        return "MODIFIED";
    case K8S_EVENT_DELETED:
        return "DELETED";
    }
    return "<bad event>";
}

bool
k8s_event_from_string(const char *s, enum k8s_event *event)
{
    for (int i = K8S_EVENT_ADDED; i <= K8S_EVENT_DELETED; i++) {
        if (!strcmp(s, k8s_event_to_string(i))) {
            *event = i;
            return true;
        }
    }
    return false;
}

const char *
k8s_cache_change_to_string(enum k8s_cache_change change)
{
    switch (change) {
    case K8S_CACHE_UNCHANGED:
        return "unchanged";
    case K8S_CACHE_ADDED:
        return "added";
    case K8S_CACHE_UPDATED:
        return "updated";
    case K8S_CACHE_REPLACED:
        return "replaced";
    case K8S_CACHE_DELETED:
        return "deleted";
    }
    return "<bad change>";
}

/* Buckets. */

struct k8s_bucket *
k8s_bucket_find(const struct hmap *buckets, const char *name)
{
    struct k8s_bucket *b;
    HMAP_FOR_EACH_WITH_HASH (b, node, hash_string(name, 0), buckets) {
        if (!strcmp(b->name, name)) {
            return b;
        }
    }
    return NULL;
}

size_t
k8s_bucket_size(const struct hmap *buckets, const char *name)
{
    const struct k8s_bucket *b = k8s_bucket_find(buckets, name);
    return b ? hmapx_count(&b->members) : 0;
}

/* Adds 'obj' to bucket 'name', taking ownership of 'name'. */
static void
k8s_bucket_add(struct hmap *buckets, char *name, const struct k8s_object *obj)
{
    struct k8s_bucket *b = k8s_bucket_find(buckets, name);
    if (!b) {
        b = xmalloc(sizeof *b);
        b->name = name;
        hmapx_init(&b->members);
        hmap_insert(buckets, &b->node, hash_string(name, 0));
    } else {
        free(name);
    }
    hmapx_add_assert(&b->members, CONST_CAST(struct k8s_object *, obj));
}

/* Removes 'obj' from bucket 'name', freeing 'name', and the bucket once
 * empty. */
static void
k8s_bucket_remove(struct hmap *buckets, char *name,
                  const struct k8s_object *obj)
{
    struct k8s_bucket *b = k8s_bucket_find(buckets, name);
    ovs_assert(b);
    hmapx_find_and_delete_assert(&b->members, obj);
    if (hmapx_is_empty(&b->members)) {
        hmap_remove(buckets, &b->node);
        hmapx_destroy(&b->members);
        free(b->name);
        free(b);
    }
    free(name);
}

static void
k8s_buckets_destroy(struct hmap *buckets)
{
    struct k8s_bucket *b;
    HMAP_FOR_EACH_POP (b, node, buckets) {
        hmapx_destroy(&b->members);
        free(b->name);
        free(b);
    }
    hmap_destroy(buckets);
}

/* Secondary indexes. */

static void
k8s_cache_index(struct k8s_cache *cache, const struct k8s_object *obj,
                bool add)
{
    void (*op)(struct hmap *, char *, const struct k8s_object *)
        = add ? k8s_bucket_add : k8s_bucket_remove;

    if (obj->kind == K8S_POD) {
        const struct k8s_pod *pod = k8s_pod_cast(obj);
        const struct smap_node *label;

        op(&cache->pods_by_ns, xstrdup(obj->namespace), obj);
        SMAP_FOR_EACH (label, &obj->labels) {
            op(&cache->pods_by_label, xasprintf("%s/%s=%s", obj->namespace,
                                                label->key, label->value),
               obj);
            op(&cache->pods_by_key, xasprintf("%s/%s", obj->namespace,
                                              label->key), obj);
        }
        if (pod->node_name) {
            op(&cache->pods_by_node, xstrdup(pod->node_name), obj);
        }
    } else if (obj->kind == K8S_ENDPOINT_SLICE) {
        const struct k8s_endpoint_slice *eps = k8s_endpoint_slice_cast(obj);
        if (eps->service_name) {
            op(&cache->slices_by_svc, xasprintf("%s/%s", obj->namespace,
                                                eps->service_name), obj);
        }
    }
}

/* Primary storage. */

static uint32_t
k8s_cache_key_hash(const char *ns, const char *name)
{
    return hash_string(name, ns ? hash_string(ns, 1) : 0);
}

struct k8s_cache_entry *
k8s_cache_find(const struct k8s_cache *cache, enum k8s_kind kind,
               const char *ns, const char *name)
{
    struct k8s_cache_entry *e;

    if (!k8s_kind_is_namespaced(kind)) {
        ns = NULL;
    } else if (!ns) {
        return NULL;
    }
    HMAP_FOR_EACH_WITH_HASH (e, key_node, k8s_cache_key_hash(ns, name),
                             &cache->kinds[kind].objects) {
        if (!strcmp(e->obj->name, name)
            && (!ns || !strcmp(e->obj->namespace, ns))) {
            return e;
        }
    }
    return NULL;
}

static void
k8s_cache_insert(struct k8s_cache *cache, struct k8s_object *obj)
{
    struct k8s_cache_entry *e = xmalloc(sizeof *e);

    e->obj = obj;
    hmap_insert(&cache->kinds[obj->kind].objects, &e->key_node,
                k8s_cache_key_hash(obj->namespace, obj->name));
    hmap_insert(&cache->by_uid, &e->uid_node, hash_string(obj->uid, 0));
    k8s_cache_index(cache, obj, true);
}

/* Removes 'e' from the cache and frees it, returning its object, which the
 * caller must free. */
static struct k8s_object *
k8s_cache_remove(struct k8s_cache *cache, struct k8s_cache_entry *e)
{
    struct k8s_object *obj = e->obj;

    k8s_cache_index(cache, obj, false);
    hmap_remove(&cache->kinds[obj->kind].objects, &e->key_node);
    hmap_remove(&cache->by_uid, &e->uid_node);
    free(e);
    return obj;
}

/* Puts 'new' in place of e's object (same UID), returning the old one,
 * which the caller must free. */
static struct k8s_object *
k8s_cache_replace(struct k8s_cache *cache, struct k8s_cache_entry *e,
                  struct k8s_object *new)
{
    struct k8s_object *old = e->obj;

    ovs_assert(!strcmp(old->uid, new->uid));
    k8s_cache_index(cache, old, false);
    e->obj = new;
    k8s_cache_index(cache, new, true);
    return old;
}

/* Notifications. */

static void
k8s_cache_notify(const struct k8s_cache *cache, enum k8s_cache_change change,
                 const struct k8s_object *old, const struct k8s_object *new)
{
    const struct k8s_object *obj = new ? new : old;
    const struct k8s_cache_kind *k = &cache->kinds[obj->kind];
    CONST_CAST(struct k8s_cache *, cache)->n_changes++;

    for (size_t i = 0; i < k->n_subs; i++) {
        const struct k8s_cache_handlers *h = k->subs[i].handlers;
        void *aux = k->subs[i].aux;

        if (change == K8S_CACHE_ADDED && h->added) {
            h->added(new, aux);
        } else if (change == K8S_CACHE_UPDATED && h->updated) {
            h->updated(old, new, aux);
        } else if (change == K8S_CACHE_DELETED && h->deleted) {
            h->deleted(old, aux);
        }
    }
}

/* Lifecycle. */

struct k8s_cache *
k8s_cache_create(void)
{
    struct k8s_cache *cache = xzalloc(sizeof *cache);

    for (int i = 0; i < K8S_N_KINDS; i++) {
        hmap_init(&cache->kinds[i].objects);
    }
    hmap_init(&cache->by_uid);
    hmap_init(&cache->pods_by_ns);
    hmap_init(&cache->pods_by_label);
    hmap_init(&cache->pods_by_key);
    hmap_init(&cache->pods_by_node);
    hmap_init(&cache->slices_by_svc);
    return cache;
}

/* Frees 'cache' and every object in it, without notifying anyone.  NULL is
 * a no-op. */
void
k8s_cache_destroy(struct k8s_cache *cache)
{
    if (!cache) {
        return;
    }
    ovs_assert(!cache->busy);
    for (int i = 0; i < K8S_N_KINDS; i++) {
        struct k8s_cache_kind *k = &cache->kinds[i];
        struct k8s_cache_entry *e;

        HMAP_FOR_EACH_POP (e, key_node, &k->objects) {
            k8s_object_destroy(e->obj);
            free(e);
        }
        hmap_destroy(&k->objects);
        free(k->resource_version);
        free(k->subs);
    }
    hmap_destroy(&cache->by_uid);
    k8s_buckets_destroy(&cache->pods_by_ns);
    k8s_buckets_destroy(&cache->pods_by_label);
    k8s_buckets_destroy(&cache->pods_by_key);
    k8s_buckets_destroy(&cache->pods_by_node);
    k8s_buckets_destroy(&cache->slices_by_svc);
    free(cache);
}

void
k8s_cache_subscribe(struct k8s_cache *cache, enum k8s_kind kind,
                    const struct k8s_cache_handlers *handlers, void *aux)
{
    struct k8s_cache_kind *k = &cache->kinds[kind];

    ovs_assert(!cache->busy);
    if (k->n_subs >= k->allocated_subs) {
        k->subs = x2nrealloc(k->subs, &k->allocated_subs, sizeof *k->subs);
    }
    k->subs[k->n_subs++] = (struct k8s_cache_sub) { handlers, aux };
}

/* Removes the subscription of 'handlers' with 'aux' to 'kind'.  Returns
 * false if there was none. */
bool
k8s_cache_unsubscribe(struct k8s_cache *cache, enum k8s_kind kind,
                      const struct k8s_cache_handlers *handlers, void *aux)
{
    struct k8s_cache_kind *k = &cache->kinds[kind];

    ovs_assert(!cache->busy);
    for (size_t i = 0; i < k->n_subs; i++) {
        if (k->subs[i].handlers == handlers && k->subs[i].aux == aux) {
            memmove(&k->subs[i], &k->subs[i + 1],
                    (k->n_subs - i - 1) * sizeof *k->subs);
            k->n_subs--;
            return true;
        }
    }
    return false;
}

/* Resource versions. */

const char *
k8s_cache_resource_version(const struct k8s_cache *cache, enum k8s_kind kind)
{
    return cache->kinds[kind].resource_version;
}

void
k8s_cache_set_resource_version(struct k8s_cache *cache, enum k8s_kind kind,
                               const char *rv)
{
    struct k8s_cache_kind *k = &cache->kinds[kind];

    ovs_assert(!cache->busy);
    if (rv != k->resource_version) {
        free(k->resource_version);
        k->resource_version = nullable_xstrdup(rv);
    }
}

uint64_t
k8s_cache_n_changes(const struct k8s_cache *cache)
{
    return cache->n_changes;
}

bool
k8s_cache_is_synced(const struct k8s_cache *cache, enum k8s_kind kind)
{
    return cache->kinds[kind].synced;
}

/* Changes. */

/* Puts 'obj' (owned) in the cache in place of whatever has its key ('e',
 * possibly NULL), notifying, and returns what happened. */
static enum k8s_cache_change
k8s_cache_store(struct k8s_cache *cache, struct k8s_cache_entry *e,
                struct k8s_object *obj)
{
    if (!e) {
        k8s_cache_insert(cache, obj);
        k8s_cache_notify(cache, K8S_CACHE_ADDED, NULL, obj);
        return K8S_CACHE_ADDED;
    } else if (strcmp(e->obj->uid, obj->uid)) {
        struct k8s_object *old = k8s_cache_remove(cache, e);
        k8s_cache_notify(cache, K8S_CACHE_DELETED, old, NULL);
        k8s_object_destroy(old);
        k8s_cache_insert(cache, obj);
        k8s_cache_notify(cache, K8S_CACHE_ADDED, NULL, obj);
        return K8S_CACHE_REPLACED;
    } else if (!strcmp(e->obj->resource_version, obj->resource_version)) {
        k8s_object_destroy(obj);
        return K8S_CACHE_UNCHANGED;
    } else {
        struct k8s_object *old = k8s_cache_replace(cache, e, obj);
        k8s_cache_notify(cache, K8S_CACHE_UPDATED, old, obj);
        k8s_object_destroy(old);
        return K8S_CACHE_UPDATED;
    }
}

enum k8s_cache_change
k8s_cache_apply(struct k8s_cache *cache, enum k8s_event event,
                struct k8s_object *obj)
{
    ovs_assert((unsigned int) obj->kind < K8S_N_KINDS);
    k8s_cache_set_resource_version(cache, obj->kind, obj->resource_version);

    cache->busy = true;
    struct k8s_cache_entry *e = k8s_cache_find(cache, obj->kind,
                                               obj->namespace, obj->name);
    enum k8s_cache_change change;
    if (event != K8S_EVENT_DELETED) {
        change = k8s_cache_store(cache, e, obj);
    } else if (e && !strcmp(e->obj->uid, obj->uid)) {
        struct k8s_object *old = k8s_cache_remove(cache, e);
        k8s_cache_notify(cache, K8S_CACHE_DELETED, old, NULL);
        k8s_object_destroy(old);
        k8s_object_destroy(obj);
        change = K8S_CACHE_DELETED;
    } else {
        k8s_object_destroy(obj);
        change = K8S_CACHE_UNCHANGED;
    }
    cache->busy = false;
    return change;
}

/* An object of a new list, by key. */
struct k8s_relist_item {
    struct hmap_node node;
    struct k8s_object *obj;
    size_t idx;                 /* Position in the list. */
};

static struct k8s_relist_item *
k8s_relist_find(const struct hmap *items, const char *ns, const char *name)
{
    struct k8s_relist_item *item;
    HMAP_FOR_EACH_WITH_HASH (item, node, k8s_cache_key_hash(ns, name),
                             items) {
        if (!strcmp(item->obj->name, name)
            && (!ns || !strcmp(item->obj->namespace, ns))) {
            return item;
        }
    }
    return NULL;
}

int
k8s_object_compare(const void *a_, const void *b_)
{
    const struct k8s_object *const *a = a_;
    const struct k8s_object *const *b = b_;
    int cmp = strcmp((*a)->namespace ? (*a)->namespace : "",
                     (*b)->namespace ? (*b)->namespace : "");
    return cmp ? cmp : strcmp((*a)->name, (*b)->name);
}

void
k8s_cache_relist(struct k8s_cache *cache, enum k8s_kind kind,
                 struct k8s_object **objs, size_t n,
                 const char *resource_version,
                 struct k8s_relist_stats *statsp)
{
    struct k8s_cache_kind *k = &cache->kinds[kind];
    struct k8s_relist_stats stats = { 0 };

    ovs_assert(!cache->busy);
    cache->busy = true;

    /* Index the new list by key; of duplicates, the last wins. */
    struct hmap items = HMAP_INITIALIZER(&items);
    struct k8s_relist_item *item_array = xcalloc(n ? n : 1,
                                                 sizeof *item_array);
    for (size_t i = 0; i < n; i++) {
        struct k8s_object *obj = objs[i];
        ovs_assert(obj->kind == kind);

        struct k8s_relist_item *item = k8s_relist_find(&items, obj->namespace,
                                                       obj->name);
        if (item) {
            k8s_object_destroy(item->obj);
            item->obj = NULL;
            hmap_remove(&items, &item->node);
            stats.duplicates++;
        }
        item = &item_array[i];
        item->obj = obj;
        item->idx = i;
        hmap_insert(&items, &item->node,
                    k8s_cache_key_hash(obj->namespace, obj->name));
    }

    /* Delete what is gone or has another UID, in key order. */
    const struct k8s_object **gone = xmalloc((hmap_count(&k->objects) + 1)
                                             * sizeof *gone);
    size_t n_gone = 0;
    struct k8s_cache_entry *e;
    HMAP_FOR_EACH (e, key_node, &k->objects) {
        const struct k8s_relist_item *item
            = k8s_relist_find(&items, e->obj->namespace, e->obj->name);
        if (!item || strcmp(item->obj->uid, e->obj->uid)) {
            gone[n_gone++] = e->obj;
        }
    }
    qsort(gone, n_gone, sizeof *gone, k8s_object_compare);
    for (size_t i = 0; i < n_gone; i++) {
        e = k8s_cache_find(cache, kind, gone[i]->namespace, gone[i]->name);
        struct k8s_object *old = k8s_cache_remove(cache, e);
        k8s_cache_notify(cache, K8S_CACHE_DELETED, old, NULL);
        k8s_object_destroy(old);
        stats.deleted++;
    }
    free(gone);

    /* Add and update in list order. */
    for (size_t i = 0; i < n; i++) {
        struct k8s_object *obj = item_array[i].obj;
        if (!obj) {
            continue;
        }
        e = k8s_cache_find(cache, kind, obj->namespace, obj->name);
        switch (k8s_cache_store(cache, e, obj)) {
        case K8S_CACHE_ADDED:
            stats.added++;
            break;
        case K8S_CACHE_UPDATED:
            stats.updated++;
            break;
        case K8S_CACHE_UNCHANGED:
            stats.unchanged++;
            break;
        case K8S_CACHE_REPLACED:
        case K8S_CACHE_DELETED:
        default:
            OVS_NOT_REACHED();
        }
    }
    hmap_destroy(&items);
    free(item_array);

    cache->busy = false;
    k8s_cache_set_resource_version(cache, kind, resource_version);
    k->synced = true;
    if (statsp) {
        *statsp = stats;
    }
}

