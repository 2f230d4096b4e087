/*
 * The agent's state cache: the Kubernetes objects it watches (Nodes,
 * Namespaces, Pods, Services, EndpointSlices, NetworkPolicies), kept by
 * kind + namespace/name and by UID, with indexes for the queries features
 * make.  Pure: no I/O.  The watcher parses what the API server sends with
 * k8s_object_parse() and feeds the results in here, either one watch event
 * at a time (k8s_cache_apply()) or as a complete list after a (re)list
 * (k8s_cache_relist()).  Features subscribe per kind and are told what was
 * added, updated and deleted.
 *
 * Ownership: the cache owns every object given to it (also those it drops
 * as duplicates) and frees it on update, delete or k8s_cache_destroy().
 * Pointers returned by queries stay valid until the object is replaced or
 * deleted, that is, until the next k8s_cache_apply() or k8s_cache_relist()
 * returns; don't keep them longer (keep names or UIDs).
 *
 * Handlers run after the cache reflects the change, so queries made from a
 * handler see the new state; 'old' objects given to handlers are freed when
 * the handlers return.  Handlers must not change the cache (asserted).
 */
#ifndef TENDRIL_K8S_CACHE_H
#define TENDRIL_K8S_CACHE_H 1

#include <stdbool.h>
#include <stddef.h>

#include "lib/k8s-object.h"
#include "lib/label-selector.h"

struct k8s_cache;

struct k8s_cache *k8s_cache_create(void);
void k8s_cache_destroy(struct k8s_cache *);

/* Watch event types. */
enum k8s_event {
    K8S_EVENT_ADDED,
    K8S_EVENT_MODIFIED,
    K8S_EVENT_DELETED,
};
const char *k8s_event_to_string(enum k8s_event);
bool k8s_event_from_string(const char *, enum k8s_event *);

/* What k8s_cache_apply() did. */
enum k8s_cache_change {
    K8S_CACHE_UNCHANGED,    /* Same resourceVersion as cached, or a delete
                             * of something not cached. */
    K8S_CACHE_ADDED,
    K8S_CACHE_UPDATED,
    K8S_CACHE_REPLACED,     /* Same namespace/name, new UID: the old object
                             * was deleted and the new one added. */
    K8S_CACHE_DELETED,
};
const char *k8s_cache_change_to_string(enum k8s_cache_change);

/* Change notifications.  Any member may be NULL. */
struct k8s_cache_handlers {
    void (*added)(const struct k8s_object *new, void *aux);
    void (*updated)(const struct k8s_object *old,
                    const struct k8s_object *new, void *aux);
    void (*deleted)(const struct k8s_object *old, void *aux);
};

/* Handlers for one kind run in the order they were subscribed.  'handlers'
 * must outlive the subscription. */
void k8s_cache_subscribe(struct k8s_cache *, enum k8s_kind,
                         const struct k8s_cache_handlers *, void *aux);
bool k8s_cache_unsubscribe(struct k8s_cache *, enum k8s_kind,
                           const struct k8s_cache_handlers *, void *aux);

/* Applies one watch event, taking ownership of 'obj':
 *   ADDED, MODIFIED: added if not cached; updated if cached with another
 *       resourceVersion; unchanged if the resourceVersion is the same
 *       (a repeated event); replaced (deleted + added) if the UID differs.
 *   DELETED: deletes the cached object (the handlers get the cached one)
 *       if its UID matches, else nothing.
 * Either way the kind's resourceVersion becomes obj's. */
enum k8s_cache_change k8s_cache_apply(struct k8s_cache *, enum k8s_event,
                                      struct k8s_object *obj);

/* Counts of what a relist changed. */
struct k8s_relist_stats {
    size_t added;
    size_t updated;
    size_t deleted;
    size_t unchanged;
    size_t duplicates;      /* Same key twice in the list: the last wins. */
};

/* Makes the cached objects of 'kind' equal to the 'n' objects in 'objs',
 * the complete list the API server returned, taking ownership of the
 * objects (not of the array); each must be of 'kind' (asserted).
 * Notifies each change exactly once: first deletions (cached objects not in
 * the list, or listed with another UID), in namespace/name order, then
 * additions and updates (resourceVersion changed) in list order.  Sets the
 * kind's resourceVersion to 'resource_version' (the list's
 * metadata.resourceVersion; may be NULL) and marks the kind synced.
 * 'stats' may be NULL. */
void k8s_cache_relist(struct k8s_cache *, enum k8s_kind,
                      struct k8s_object **objs, size_t n,
                      const char *resource_version,
                      struct k8s_relist_stats *stats);

/* The resourceVersion to resume watching 'kind' from: from the last relist,
 * event or bookmark; NULL if none yet.  Opaque: compare only for
 * equality. */
const char *k8s_cache_resource_version(const struct k8s_cache *,
                                       enum k8s_kind);
void k8s_cache_set_resource_version(struct k8s_cache *, enum k8s_kind,
                                    const char *);
bool k8s_cache_is_synced(const struct k8s_cache *, enum k8s_kind);
/* How many changes the cache has notified, ever: a caller that saw this
 * number grow knows objects changed. */
uint64_t k8s_cache_n_changes(const struct k8s_cache *);

/* Lookups.  'ns' is ignored for cluster-scoped kinds (Node, Namespace) and
 * required for the others. */
const struct k8s_object *k8s_cache_get(const struct k8s_cache *,
                                       enum k8s_kind, const char *ns,
                                       const char *name);
const struct k8s_object *k8s_cache_get_by_uid(const struct k8s_cache *,
                                              const char *uid);
size_t k8s_cache_count(const struct k8s_cache *, enum k8s_kind);

/* The results of queries: objects sorted by namespace, then name.  The
 * query functions initialize 'list' (its previous content is lost); free it
 * with k8s_object_list_destroy().  It does not own the objects. */
struct k8s_object_list {
    const struct k8s_object **objs;
    size_t n;
    size_t allocated;
};
void k8s_object_list_destroy(struct k8s_object_list *);

/* Every object of 'kind', in namespace 'ns' (NULL: in every namespace). */
void k8s_cache_list(const struct k8s_cache *, enum k8s_kind, const char *ns,
                    struct k8s_object_list *);

/* Pods whose spec.nodeName is 'node'. */
void k8s_cache_pods_on_node(const struct k8s_cache *, const char *node,
                            struct k8s_object_list *);

/* Pods in namespace 'ns' that 'pod_sel' matches; a NULL 'pod_sel' selects
 * every pod there.  Uses the label index: the cost follows the smallest set
 * of pods that an In or Exists requirement allows, not the namespace's
 * size. */
void k8s_cache_select_pods(const struct k8s_cache *, const char *ns,
                           const struct label_selector *pod_sel,
                           struct k8s_object_list *);

/* Namespaces (cached Namespace objects) whose labels 'ns_sel' matches. */
void k8s_cache_select_namespaces(const struct k8s_cache *,
                                 const struct label_selector *ns_sel,
                                 struct k8s_object_list *);

/* Pods that 'pod_sel' matches (NULL: every pod) in the namespaces that
 * 'ns_sel' matches.  Only namespaces with a cached Namespace object count,
 * since their labels are needed to match. */
void k8s_cache_select_pods_in_namespaces(const struct k8s_cache *,
                                         const struct label_selector *ns_sel,
                                         const struct label_selector *pod_sel,
                                         struct k8s_object_list *);

/* Pods a NetworkPolicy peer selects for a policy in namespace 'policy_ns'
 * (empty for an ipBlock peer), per the rules in k8s-object.h. */
void k8s_cache_select_peer_pods(const struct k8s_cache *,
                                const char *policy_ns,
                                const struct k8s_np_peer *,
                                struct k8s_object_list *);

/* EndpointSlices of Service 'ns'/'service' (label
 * kubernetes.io/service-name). */
void k8s_cache_service_slices(const struct k8s_cache *, const char *ns,
                              const char *service, struct k8s_object_list *);

#endif /* agent/k8s-cache.h */
