/*
 * The Kubernetes API client: keeps the state cache (agent/k8s-cache.h)
 * equal to the API server's objects of every kind the agent uses, by the
 * list-then-watch protocol, inside the agent's event loop (libcurl's multi
 * interface driven by OVS's poll loop; no threads, nothing blocks).
 *
 * Per resource (core/v1 nodes, namespaces, pods, services;
 * discovery.k8s.io/v1 endpointslices, or v1beta1 when the server answers
 * 404 for v1; networking.k8s.io/v1 networkpolicies):
 *   - LIST in pages of 500 (limit/continue), then k8s_cache_relist() with
 *     the complete list;
 *   - WATCH from the list's resourceVersion with allowWatchBookmarks and a
 *     random server-side timeout of 300..600 s, parsing the stream line by
 *     line: ADDED/MODIFIED/DELETED go to k8s_cache_apply(), BOOKMARK sets
 *     the resourceVersion, ERROR 410 (or HTTP 410) relists;
 *   - a watch that the server ends is resumed from the last
 *     resourceVersion; connection and HTTP errors retry after an
 *     exponential backoff (0.5 s doubling to 30 s, with jitter).
 * Objects that do not parse are logged and skipped.  TLS verification is on
 * unless the kubeconfig's insecure-skip-tls-verify was allowed.
 */
#ifndef TENDRIL_K8S_CLIENT_H
#define TENDRIL_K8S_CLIENT_H 1

#include <stdbool.h>
#include <stddef.h>

#include "lib/k8s-object.h"
#include "openvswitch/compiler.h"

struct ds;
struct k8s_cache;
struct k8s_client;
struct kubeconfig;

/* Takes ownership of 'kc'; 'cache' must outlive the client. */
struct k8s_client *k8s_client_create(struct kubeconfig *kc,
                                     struct k8s_cache *cache);
void k8s_client_destroy(struct k8s_client *);
void k8s_client_run(struct k8s_client *);
void k8s_client_wait(struct k8s_client *);

/* True once every resource has been listed at least once. */
bool k8s_client_is_synced(const struct k8s_client *);

/* Per resource: state (listing, watching, backoff), resourceVersion,
 * objects, events, relists, last error. */
void k8s_client_format_status(const struct k8s_client *, struct ds *);
/* Prometheus families (lib/metrics.h): each resource's watch state,
 * objects, lists, events and errors. */
void k8s_client_format_metrics(const struct k8s_client *, struct ds *);

/* The resource name of 'kind' ("pods", "endpointslices"...), and back. */
const char *k8s_client_plural(enum k8s_kind);
bool k8s_client_kind_from_plural(const char *, enum k8s_kind *);

/* A resource the agent lists and watches. */
struct k8s_resource_def {
    enum k8s_kind kind;
    const char *plural;
    const char *path;           /* API group and version. */
    const char *fallback;       /* When 'path' answers 404, or NULL. */
};

const struct k8s_resource_def *k8s_resource_def(enum k8s_kind);

/* One line of a watch stream, decoded.  Exposed for the unit tests. */
enum k8s_watch_type {
    K8S_WATCH_ADDED,
    K8S_WATCH_MODIFIED,
    K8S_WATCH_DELETED,
    K8S_WATCH_BOOKMARK,
    K8S_WATCH_ERROR,
};

struct k8s_watch_event {
    enum k8s_watch_type type;
    struct k8s_object *obj;     /* ADDED, MODIFIED, DELETED: the parsed
                                 * object (owned by the event). */
    char *resource_version;     /* The object's metadata.resourceVersion
                                 * (BOOKMARK; also the others), or NULL. */
    int code;                   /* ERROR: the Status's code (410: the
                                 * resourceVersion is too old). */
    char *message;              /* ERROR: the Status's message. */
};

/* Decodes watch line 'line' ('len' bytes, one JSON event) for 'kind' into
 * '*ev'.  On error returns a message; then, if the event itself was sound
 * but its object did not parse, ev->type and ev->resource_version are
 * still set (ev->obj is NULL), so that the caller can skip the object and
 * keep the resourceVersion.  Free with k8s_watch_event_destroy() in either
 * case. */
char *k8s_watch_parse_line(enum k8s_kind kind, const char *line, size_t len,
                           struct k8s_watch_event *ev)
    OVS_WARN_UNUSED_RESULT;
void k8s_watch_event_destroy(struct k8s_watch_event *);

#endif /* agent/k8s-client.h */
