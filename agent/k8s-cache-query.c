/* The state cache's queries: by key, by UID, and through its indexes. */
#include "ovs-config.h"
#include "agent/k8s-cache.h"
#include "agent/k8s-cache-int.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hmapx.h"
#include "openvswitch/hmap.h"
#include "util.h"

const struct k8s_object *
k8s_cache_get(const struct k8s_cache *cache, enum k8s_kind kind,
              const char *ns, const char *name)
{
    const struct k8s_cache_entry *e = k8s_cache_find(cache, kind, ns, name);
    return e ? e->obj : NULL;
}

const struct k8s_object *
k8s_cache_get_by_uid(const struct k8s_cache *cache, const char *uid)
{
    const struct k8s_cache_entry *e;
    HMAP_FOR_EACH_WITH_HASH (e, uid_node, hash_string(uid, 0),
                             &cache->by_uid) {
        if (!strcmp(e->obj->uid, uid)) {
            return e->obj;
        }
    }
    return NULL;
}

size_t
k8s_cache_count(const struct k8s_cache *cache, enum k8s_kind kind)
{
    return hmap_count(&cache->kinds[kind].objects);
}

static void
k8s_object_list_init(struct k8s_object_list *list)
{
    list->objs = NULL;
    list->n = list->allocated = 0;
}

static void
k8s_object_list_add(struct k8s_object_list *list,
                    const struct k8s_object *obj)
{
    if (list->n >= list->allocated) {
        list->objs = x2nrealloc(list->objs, &list->allocated,
                                sizeof *list->objs);
    }
    list->objs[list->n++] = obj;
}

static void
k8s_object_list_sort(struct k8s_object_list *list)
{
    if (list->n > 1) {
        qsort(list->objs, list->n, sizeof *list->objs, k8s_object_compare);
    }
}

void
k8s_object_list_destroy(struct k8s_object_list *list)
{
    if (list) {
        free(list->objs);
        k8s_object_list_init(list);
    }
}

/* Appends the members of bucket 'name' (taking ownership of 'name') that
 * 'sel' matches (every member if 'sel' is NULL) and, if 'ns' is nonnull,
 * that are in namespace 'ns'. */
static void
k8s_bucket_select(const struct hmap *buckets, char *name, const char *ns,
                  const struct label_selector *sel,
                  struct k8s_object_list *list)
{
    const struct k8s_bucket *b = k8s_bucket_find(buckets, name);
    free(name);
    if (b) {
        const struct hmapx_node *node;
        HMAPX_FOR_EACH (node, &b->members) {
            const struct k8s_object *obj = node->data;
            if ((!ns || !strcmp(obj->namespace, ns))
                && (!sel || label_selector_matches(sel, &obj->labels))) {
                k8s_object_list_add(list, obj);
            }
        }
    }
}

void
k8s_cache_list(const struct k8s_cache *cache, enum k8s_kind kind,
               const char *ns, struct k8s_object_list *list)
{
    k8s_object_list_init(list);
    if (kind == K8S_POD && ns) {
        k8s_bucket_select(&cache->pods_by_ns, xstrdup(ns), ns, NULL, list);
    } else {
        const struct k8s_cache_entry *e;
        HMAP_FOR_EACH (e, key_node, &cache->kinds[kind].objects) {
            if (!ns || (e->obj->namespace
                        && !strcmp(e->obj->namespace, ns))) {
                k8s_object_list_add(list, e->obj);
            }
        }
    }
    k8s_object_list_sort(list);
}

void
k8s_cache_pods_on_node(const struct k8s_cache *cache, const char *node,
                       struct k8s_object_list *list)
{
    k8s_object_list_init(list);
    k8s_bucket_select(&cache->pods_by_node, xstrdup(node), NULL, NULL,
                      list);
    k8s_object_list_sort(list);
}

/* Appends the pods in 'ns' that 'sel' (nullable) matches to 'list'.
 *
 * Each In requirement allows only the pods in its values' buckets, each
 * Exists requirement only those in its key's bucket; NotIn and
 * DoesNotExist allow any pod.  The candidates are those of the most
 * selective requirement (the whole namespace if none restricts), and each
 * is then checked against the whole selector. */
static void
k8s_cache_select_pods__(const struct k8s_cache *cache, const char *ns,
                        const struct label_selector *sel,
                        struct k8s_object_list *list)
{
    const struct label_selector_req *best = NULL;
    size_t best_cost = SIZE_MAX;

    for (size_t i = 0; sel && i < sel->n_reqs; i++) {
        const struct label_selector_req *req = &sel->reqs[i];
        size_t cost = 0;
        const char *value;

        if (req->op == LABEL_SELECTOR_IN) {
            SSET_FOR_EACH (value, &req->values) {
                char *name = xasprintf("%s/%s=%s", ns, req->key, value);
                cost += k8s_bucket_size(&cache->pods_by_label, name);
                free(name);
            }
        } else if (req->op == LABEL_SELECTOR_EXISTS) {
            char *name = xasprintf("%s/%s", ns, req->key);
            cost = k8s_bucket_size(&cache->pods_by_key, name);
            free(name);
        } else {
            continue;
        }
        if (cost < best_cost) {
            best = req;
            best_cost = cost;
            if (!cost) {
                return;
            }
        }
    }

    if (!best) {
        k8s_bucket_select(&cache->pods_by_ns, xstrdup(ns), ns, sel, list);
    } else if (best->op == LABEL_SELECTOR_EXISTS) {
        k8s_bucket_select(&cache->pods_by_key,
                          xasprintf("%s/%s", ns, best->key), ns, sel, list);
    } else {
        /* A pod has one value per key, so these buckets are disjoint. */
        const char *value;
        SSET_FOR_EACH (value, &best->values) {
            k8s_bucket_select(&cache->pods_by_label,
                              xasprintf("%s/%s=%s", ns, best->key, value),
                              ns, sel, list);
        }
    }
}

void
k8s_cache_select_pods(const struct k8s_cache *cache, const char *ns,
                      const struct label_selector *sel,
                      struct k8s_object_list *list)
{
    k8s_object_list_init(list);
    k8s_cache_select_pods__(cache, ns, sel, list);
    k8s_object_list_sort(list);
}

void
k8s_cache_select_namespaces(const struct k8s_cache *cache,
                            const struct label_selector *ns_sel,
                            struct k8s_object_list *list)
{
    const struct k8s_cache_entry *e;

    k8s_object_list_init(list);
    HMAP_FOR_EACH (e, key_node, &cache->kinds[K8S_NAMESPACE].objects) {
        if (label_selector_matches(ns_sel, &e->obj->labels)) {
            k8s_object_list_add(list, e->obj);
        }
    }
    k8s_object_list_sort(list);
}

void
k8s_cache_select_pods_in_namespaces(const struct k8s_cache *cache,
                                    const struct label_selector *ns_sel,
                                    const struct label_selector *pod_sel,
                                    struct k8s_object_list *list)
{
    struct k8s_object_list namespaces;

    k8s_cache_select_namespaces(cache, ns_sel, &namespaces);
    k8s_object_list_init(list);
    for (size_t i = 0; i < namespaces.n; i++) {
        k8s_cache_select_pods__(cache, namespaces.objs[i]->name, pod_sel,
                                list);
    }
    k8s_object_list_destroy(&namespaces);
    k8s_object_list_sort(list);
}

void
k8s_cache_select_peer_pods(const struct k8s_cache *cache,
                           const char *policy_ns,
                           const struct k8s_np_peer *peer,
                           struct k8s_object_list *list)
{
    if (peer->namespace_selector) {
        k8s_cache_select_pods_in_namespaces(cache, peer->namespace_selector,
                                            peer->pod_selector, list);
    } else if (peer->pod_selector) {
        k8s_cache_select_pods(cache, policy_ns, peer->pod_selector, list);
    } else {
        k8s_object_list_init(list);
    }
}

void
k8s_cache_service_slices(const struct k8s_cache *cache, const char *ns,
                         const char *service, struct k8s_object_list *list)
{
    k8s_object_list_init(list);
    k8s_bucket_select(&cache->slices_by_svc,
                      xasprintf("%s/%s", ns, service), ns, NULL, list);
    k8s_object_list_sort(list);
}
