/*
 * The state cache's own structures, shared by its storage and change code
 * (k8s-cache.c) and its queries (k8s-cache-query.c).  Nothing else may
 * include this.
 */
#ifndef TENDRIL_AGENT_K8S_CACHE_INT_H
#define TENDRIL_AGENT_K8S_CACHE_INT_H 1

#include "agent/k8s-cache.h"
#include "hmapx.h"
#include "openvswitch/hmap.h"

/* A cached object. */
struct k8s_cache_entry {
    struct hmap_node key_node;  /* In k8s_cache_kind's 'objects'. */
    struct hmap_node uid_node;  /* In k8s_cache's 'by_uid'. */
    struct k8s_object *obj;     /* Owned. */
};

struct k8s_cache_sub {
    const struct k8s_cache_handlers *handlers;
    void *aux;
};

struct k8s_cache_kind {
    struct hmap objects;        /* k8s_cache_entry by namespace/name. */
    char *resource_version;     /* NULL until known. */
    bool synced;                /* A relist has been applied. */
    struct k8s_cache_sub *subs;
    size_t n_subs, allocated_subs;
};

/* A named set of objects, the unit of every secondary index. */
struct k8s_bucket {
    struct hmap_node node;
    char *name;
    struct hmapx members;       /* const struct k8s_object *. */
};

struct k8s_cache {
    struct k8s_cache_kind kinds[K8S_N_KINDS];
    struct hmap by_uid;         /* k8s_cache_entry of every kind by UID. */

    /* Secondary indexes (k8s_bucket): */
    struct hmap pods_by_ns;     /* "ns": every pod in ns. */
    struct hmap pods_by_label;  /* "ns/key=value". */
    struct hmap pods_by_key;    /* "ns/key": pods that have label 'key'. */
    struct hmap pods_by_node;   /* "node": pods with that spec.nodeName. */
    struct hmap slices_by_svc;  /* "ns/service". */

    bool busy;                  /* Changing or notifying. */
    uint64_t n_changes;         /* Changes notified, ever. */
};

struct k8s_bucket *k8s_bucket_find(const struct hmap *buckets,
                                   const char *name);
size_t k8s_bucket_size(const struct hmap *buckets, const char *name);
struct k8s_cache_entry *k8s_cache_find(const struct k8s_cache *,
                                       enum k8s_kind, const char *ns,
                                       const char *name);

/* Orders "const struct k8s_object *"s by namespace, then name (qsort). */
int k8s_object_compare(const void *, const void *);

#endif /* agent/k8s-cache-int.h */
