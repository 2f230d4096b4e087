#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/k8s-cache.h"
#include "lib/json-util.h"
#include "lib/k8s-object.h"
#include "lib/label-selector.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Building objects through the real parser. */

static struct k8s_object *
parse_or_fail(enum k8s_kind kind, json_t *json)
{
    struct k8s_object *obj;
    char *error = k8s_object_parse(kind, json, &obj);
    json_decref(json);
    if (error) {
        fail_msg("%s", error);
    }
    return obj;
}

/* Returns a JSON object of labels from "k=v,k2=v2" (NULL or "": none). */
static json_t *
labels_json(const char *labels)
{
    json_t *json = tjson_object();
    if (labels && *labels) {
        char *copy = xstrdup(labels), *save = NULL;
        for (char *kv = strtok_r(copy, ",", &save); kv;
             kv = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(kv, '=');
            *eq = '\0';
            json_object_set_new(json, kv, tjson_string(eq + 1));
        }
        free(copy);
    }
    return json;
}

static struct k8s_object *
make_pod(const char *ns, const char *name, const char *uid, const char *rv,
         const char *node, const char *labels)
{
    json_t *spec = json_pack("{s:[{s:s}]}", "containers", "name", "c");
    if (node) {
        json_object_set_new(spec, "nodeName", tjson_string(node));
    }
    return parse_or_fail(K8S_POD, json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:o}, s:o}",
        "metadata", "name", name, "namespace", ns, "uid", uid,
        "resourceVersion", rv, "labels", labels_json(labels),
        "spec", spec));
}

static struct k8s_object *
make_namespace(const char *name, const char *rv, const char *labels)
{
    char *uid = xasprintf("uid-ns-%s", name);
    struct k8s_object *obj = parse_or_fail(K8S_NAMESPACE, json_pack(
        "{s:{s:s, s:s, s:s, s:o}}",
        "metadata", "name", name, "uid", uid, "resourceVersion", rv,
        "labels", labels_json(labels)));
    free(uid);
    return obj;
}

static struct k8s_object *
make_slice(const char *ns, const char *name, const char *service)
{
    char *uid = xasprintf("uid-eps-%s-%s", ns, name);
    json_t *labels = tjson_object();
    if (service) {
        json_object_set_new(labels, "kubernetes.io/service-name",
                            tjson_string(service));
    }
    struct k8s_object *obj = parse_or_fail(K8S_ENDPOINT_SLICE, json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:o}, s:s, s:[]}",
        "metadata", "name", name, "namespace", ns, "uid", uid,
        "resourceVersion", "1", "labels", labels,
        "addressType", "IPv4", "endpoints"));
    free(uid);
    return obj;
}

static struct label_selector *
make_selector(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, 0, &jerr);
    if (!json) {
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    }
    struct label_selector *sel;
    char *error = label_selector_from_json(json, &sel);
    json_decref(json);
    if (error) {
        fail_msg("%s", error);
    }
    return sel;
}

/* A subscriber that logs "TAG+key@rv", "TAG~key@old>new", "TAG-key@rv",
 * and checks that the cache already shows the change. */
struct recorder {
    const char *tag;
    struct k8s_cache *cache;
    struct ds log;
};

static void
rec_added(const struct k8s_object *new, void *r_)
{
    struct recorder *r = r_;
    char *key = k8s_object_key(new);
    ds_put_format(&r->log, "%s+%s@%s ", r->tag, key, new->resource_version);
    free(key);
    assert_ptr_equal(k8s_cache_get(r->cache, new->kind, new->namespace,
                                   new->name), new);
    assert_ptr_equal(k8s_cache_get_by_uid(r->cache, new->uid), new);
}

static void
rec_updated(const struct k8s_object *old, const struct k8s_object *new,
            void *r_)
{
    struct recorder *r = r_;
    char *key = k8s_object_key(new);
    ds_put_format(&r->log, "%s~%s@%s>%s ", r->tag, key,
                  old->resource_version, new->resource_version);
    free(key);
    assert_string_equal(old->uid, new->uid);
    assert_ptr_equal(k8s_cache_get(r->cache, new->kind, new->namespace,
                                   new->name), new);
}

static void
rec_deleted(const struct k8s_object *old, void *r_)
{
    struct recorder *r = r_;
    char *key = k8s_object_key(old);
    ds_put_format(&r->log, "%s-%s@%s ", r->tag, key, old->resource_version);
    free(key);
    assert_null(k8s_cache_get(r->cache, old->kind, old->namespace,
                              old->name));
    assert_null(k8s_cache_get_by_uid(r->cache, old->uid));
}

static const struct k8s_cache_handlers rec_handlers = {
    rec_added, rec_updated, rec_deleted,
};

/* Returns and clears the log. */
static char *
rec_take(struct recorder *r)
{
    ds_chomp(&r->log, ' ');
    char *s = ds_steal_cstr(&r->log);
    ds_init(&r->log);
    return s;
}

static void
assert_log(struct recorder *r, const char *expected)
{
    char *log = rec_take(r);
    if (strcmp(log, expected)) {
        fail_msg("notifications\n  %s\nexpected\n  %s", log, expected);
    }
    free(log);
}

/* Tests. */

static void
test_events(void **state)
{
    struct k8s_cache *cache = k8s_cache_create();
    struct recorder r = { "", cache, DS_EMPTY_INITIALIZER };
    k8s_cache_subscribe(cache, K8S_POD, &rec_handlers, &r);

    assert_null(k8s_cache_resource_version(cache, K8S_POD));
    assert_false(k8s_cache_is_synced(cache, K8S_POD));

    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_ADDED,
                                     make_pod("ns", "a", "u1", "10", "n1",
                                              "app=web")),
                     K8S_CACHE_ADDED);
    assert_log(&r, "+ns/a@10");
    assert_string_equal(k8s_cache_resource_version(cache, K8S_POD), "10");
    assert_int_equal(k8s_cache_count(cache, K8S_POD), 1);

    /* The same event again: nothing. */
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_ADDED,
                                     make_pod("ns", "a", "u1", "10", "n1",
                                              "app=web")),
                     K8S_CACHE_UNCHANGED);
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_MODIFIED,
                                     make_pod("ns", "a", "u1", "10", "n1",
                                              "app=web")),
                     K8S_CACHE_UNCHANGED);
    assert_log(&r, "");

    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_MODIFIED,
                                     make_pod("ns", "a", "u1", "11", "n2",
                                              "app=db")),
                     K8S_CACHE_UPDATED);
    assert_log(&r, "~ns/a@10>11");
    const struct k8s_pod *pod = k8s_pod_cast(k8s_cache_get(cache, K8S_POD,
                                                           "ns", "a"));
    assert_string_equal(pod->node_name, "n2");
    assert_string_equal(smap_get(&pod->obj.labels, "app"), "db");

    /* MODIFIED for something unknown (a missed ADDED) adds it. */
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_MODIFIED,
                                     make_pod("ns", "b", "u2", "12", NULL,
                                              NULL)),
                     K8S_CACHE_ADDED);
    assert_log(&r, "+ns/b@12");

    /* Same name, new UID: the pod was deleted and recreated. */
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_ADDED,
                                     make_pod("ns", "a", "u3", "13", "n1",
                                              NULL)),
                     K8S_CACHE_REPLACED);
    assert_log(&r, "-ns/a@11 +ns/a@13");
    assert_null(k8s_cache_get_by_uid(cache, "u1"));
    assert_ptr_equal(k8s_cache_get_by_uid(cache, "u3"),
                     k8s_cache_get(cache, K8S_POD, "ns", "a"));

    /* DELETED of an older incarnation or of something unknown: nothing,
     * but the resourceVersion moves on. */
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_DELETED,
                                     make_pod("ns", "a", "u1", "14", "n1",
                                              NULL)),
                     K8S_CACHE_UNCHANGED);
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_DELETED,
                                     make_pod("ns", "zz", "u9", "15", NULL,
                                              NULL)),
                     K8S_CACHE_UNCHANGED);
    assert_log(&r, "");
    assert_string_equal(k8s_cache_resource_version(cache, K8S_POD), "15");
    assert_int_equal(k8s_cache_count(cache, K8S_POD), 2);

    /* DELETED: handlers get the cached object (rv 13), not the event's. */
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_DELETED,
                                     make_pod("ns", "a", "u3", "16", "n1",
                                              NULL)),
                     K8S_CACHE_DELETED);
    assert_log(&r, "-ns/a@13");
    assert_null(k8s_cache_get(cache, K8S_POD, "ns", "a"));
    assert_int_equal(k8s_cache_count(cache, K8S_POD), 1);

    /* Same name in another namespace, and in another kind, is another
     * object; no pod handler runs for a Namespace. */
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_ADDED,
                                     make_pod("other", "b", "u4", "17", NULL,
                                              NULL)),
                     K8S_CACHE_ADDED);
    assert_int_equal(k8s_cache_apply(cache, K8S_EVENT_ADDED,
                                     make_namespace("b", "18", NULL)),
                     K8S_CACHE_ADDED);
    assert_log(&r, "+other/b@17");
    assert_int_equal(k8s_cache_count(cache, K8S_POD), 2);
    assert_int_equal(k8s_cache_count(cache, K8S_NAMESPACE), 1);
    assert_non_null(k8s_cache_get(cache, K8S_NAMESPACE, NULL, "b"));
    assert_non_null(k8s_cache_get(cache, K8S_NAMESPACE, "ignored", "b"));
    assert_null(k8s_cache_get(cache, K8S_POD, NULL, "b"));
    assert_string_equal(k8s_cache_resource_version(cache, K8S_POD), "17");
    assert_string_equal(k8s_cache_resource_version(cache, K8S_NAMESPACE),
                        "18");

    /* Bookmarks. */
    k8s_cache_set_resource_version(cache, K8S_POD, "99");
    assert_string_equal(k8s_cache_resource_version(cache, K8S_POD), "99");

    k8s_cache_destroy(cache);
    ds_destroy(&r.log);
}

static void
test_watch_fixture(void **state)
{
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    char *path = xasprintf("%s/tests/fixtures/k8s/watch-events.json", srcdir);
    json_error_t jerr;
    json_t *events = json_load_file(path, 0, &jerr);
    if (!events) {
        fail_msg("%s: %s", path, jerr.text);
    }
    free(path);

    struct k8s_cache *cache = k8s_cache_create();
    struct recorder pods = { "pod", cache, DS_EMPTY_INITIALIZER };
    struct recorder svcs = { "svc", cache, DS_EMPTY_INITIALIZER };
    k8s_cache_subscribe(cache, K8S_POD, &rec_handlers, &pods);
    k8s_cache_subscribe(cache, K8S_SERVICE, &rec_handlers, &svcs);

    size_t i;
    json_t *event;
    json_array_foreach (events, i, event) {
        enum k8s_event type;
        struct k8s_object *obj;
        assert_true(k8s_event_from_string(
                        json_string_value(json_object_get(event, "type")),
                        &type));
        char *error = k8s_object_parse_any(json_object_get(event, "object"),
                                           &obj);
        if (error) {
            fail_msg("%s", error);
        }
        (void) k8s_cache_apply(cache, type, obj);
    }
    json_decref(events);

    assert_log(&pods, "pod+default/a@70002 pod~default/a@70002>70003 "
               "pod-default/a@70003");
    assert_log(&svcs, "svc+default/web@70004");
    assert_string_equal(k8s_cache_resource_version(cache, K8S_POD), "70005");
    assert_int_equal(k8s_cache_count(cache, K8S_POD), 0);
    assert_int_equal(k8s_cache_count(cache, K8S_SERVICE), 1);

    k8s_cache_destroy(cache);
    ds_destroy(&pods.log);
    ds_destroy(&svcs.log);
}

static void
test_relist(void **state)
{
    struct k8s_cache *cache = k8s_cache_create();
    struct recorder r = { "", cache, DS_EMPTY_INITIALIZER };
    k8s_cache_subscribe(cache, K8S_POD, &rec_handlers, &r);

    /* First list: everything is new. */
    struct k8s_object *first[] = {
        make_pod("ns", "c", "uc", "1", "n1", "app=x"),
        make_pod("ns", "a", "ua", "1", "n1", "app=x"),
        make_pod("ns", "b", "ub", "1", "n1", "app=x"),
        make_pod("ns", "d", "ud1", "1", "n1", "app=x"),
        make_pod("kube-system", "z", "uz", "1", "n2", NULL),
    };
    struct k8s_relist_stats stats;
    k8s_cache_relist(cache, K8S_POD, first, ARRAY_SIZE(first), "100",
                     &stats);
    assert_log(&r, "+ns/c@1 +ns/a@1 +ns/b@1 +ns/d@1 +kube-system/z@1");
    assert_int_equal(stats.added, 5);
    assert_int_equal(stats.updated + stats.deleted + stats.unchanged
                     + stats.duplicates, 0);
    assert_true(k8s_cache_is_synced(cache, K8S_POD));
    assert_false(k8s_cache_is_synced(cache, K8S_SERVICE));
    assert_string_equal(k8s_cache_resource_version(cache, K8S_POD), "100");

    /* Second list, after a watch gap: a unchanged, b updated, c and z gone,
     * d recreated (new UID), e new, f listed twice (the last counts). */
    struct k8s_object *second[] = {
        make_pod("ns", "f", "uf1", "2", "n1", "app=old"),
        make_pod("ns", "e", "ue", "2", "n1", "app=x"),
        make_pod("ns", "b", "ub", "2", "n2", "app=y"),
        make_pod("ns", "d", "ud2", "2", "n1", "app=x"),
        make_pod("ns", "a", "ua", "1", "n1", "app=x"),
        make_pod("ns", "f", "uf2", "3", "n1", "app=new"),
    };
    k8s_cache_relist(cache, K8S_POD, second, ARRAY_SIZE(second), "200",
                     &stats);
    assert_log(&r, "-kube-system/z@1 -ns/c@1 -ns/d@1 "
               "+ns/e@2 ~ns/b@1>2 +ns/d@2 +ns/f@3");
    assert_int_equal(stats.added, 3);
    assert_int_equal(stats.updated, 1);
    assert_int_equal(stats.deleted, 3);
    assert_int_equal(stats.unchanged, 1);
    assert_int_equal(stats.duplicates, 1);
    assert_string_equal(k8s_cache_resource_version(cache, K8S_POD), "200");

    /* The cache now holds exactly the list. */
    struct k8s_object_list list;
    k8s_cache_list(cache, K8S_POD, NULL, &list);
    struct ds names = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < list.n; i++) {
        ds_put_format(&names, "%s/%s@%s ", list.objs[i]->name,
                      list.objs[i]->uid, list.objs[i]->resource_version);
    }
    assert_string_equal(ds_cstr(&names),
                        "a/ua@1 b/ub@2 d/ud2@2 e/ue@2 f/uf2@3 ");
    ds_destroy(&names);
    k8s_object_list_destroy(&list);
    assert_string_equal(
        smap_get(&k8s_cache_get(cache, K8S_POD, "ns", "f")->labels, "app"),
        "new");
    assert_null(k8s_cache_get_by_uid(cache, "uf1"));
    assert_null(k8s_cache_get_by_uid(cache, "ud1"));

    /* The same list again: nothing. */
    struct k8s_object *third[] = {
        make_pod("ns", "a", "ua", "1", "n1", "app=x"),
        make_pod("ns", "b", "ub", "2", "n2", "app=y"),
        make_pod("ns", "d", "ud2", "2", "n1", "app=x"),
        make_pod("ns", "e", "ue", "2", "n1", "app=x"),
        make_pod("ns", "f", "uf2", "3", "n1", "app=new"),
    };
    k8s_cache_relist(cache, K8S_POD, third, ARRAY_SIZE(third), "300", NULL);
    assert_log(&r, "");
    assert_int_equal(k8s_cache_count(cache, K8S_POD), 5);

    /* Other kinds are untouched by a pod relist; an empty list empties. */
    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           make_namespace("ns", "5", NULL));
    k8s_cache_relist(cache, K8S_POD, NULL, 0, NULL, &stats);
    assert_log(&r, "-ns/a@1 -ns/b@2 -ns/d@2 -ns/e@2 -ns/f@3");
    assert_int_equal(stats.deleted, 5);
    assert_int_equal(k8s_cache_count(cache, K8S_POD), 0);
    assert_int_equal(k8s_cache_count(cache, K8S_NAMESPACE), 1);
    assert_null(k8s_cache_resource_version(cache, K8S_POD));

    k8s_cache_destroy(cache);
    ds_destroy(&r.log);
}

static void
test_subscribers(void **state)
{
    struct k8s_cache *cache = k8s_cache_create();
    struct recorder r = { "", cache, DS_EMPTY_INITIALIZER };
    struct recorder a = { "A", cache, DS_EMPTY_INITIALIZER };
    struct recorder b = { "B", cache, DS_EMPTY_INITIALIZER };

    /* One shared log to see the interleaving: A then B for each change. */
    k8s_cache_subscribe(cache, K8S_SERVICE, &rec_handlers, &a);
    k8s_cache_subscribe(cache, K8S_SERVICE, &rec_handlers, &b);
    static const struct k8s_cache_handlers added_only = {
        .added = rec_added,
    };
    k8s_cache_subscribe(cache, K8S_SERVICE, &added_only, &r);

    json_t *svc = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s}}",
                            "metadata", "name", "web", "namespace", "ns",
                            "uid", "us", "resourceVersion", "1",
                            "spec", "clusterIP", "10.96.0.1");
    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           parse_or_fail(K8S_SERVICE, json_deep_copy(svc)));
    json_object_set_new(json_object_get(svc, "metadata"), "resourceVersion",
                        tjson_string("2"));
    (void) k8s_cache_apply(cache, K8S_EVENT_MODIFIED,
                           parse_or_fail(K8S_SERVICE, json_deep_copy(svc)));
    assert_log(&a, "A+ns/web@1 A~ns/web@1>2");
    assert_log(&b, "B+ns/web@1 B~ns/web@1>2");
    assert_log(&r, "+ns/web@1");

    assert_true(k8s_cache_unsubscribe(cache, K8S_SERVICE, &rec_handlers,
                                      &a));
    assert_false(k8s_cache_unsubscribe(cache, K8S_SERVICE, &rec_handlers,
                                       &a));
    assert_false(k8s_cache_unsubscribe(cache, K8S_POD, &rec_handlers, &b));
    (void) k8s_cache_apply(cache, K8S_EVENT_DELETED,
                           parse_or_fail(K8S_SERVICE, svc));
    assert_log(&a, "");
    assert_log(&b, "B-ns/web@2");
    assert_log(&r, "");

    k8s_cache_destroy(cache);
    ds_destroy(&r.log);
    ds_destroy(&a.log);
    ds_destroy(&b.log);
}

/* Selector index against brute force. */

static uint32_t rng_state;

static uint32_t
rng(void)
{
    /* xorshift32: the same sequence on every machine. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static const char *const test_namespaces[] = { "default", "shop", "jobs",
                                               "kube-system" };
static const char *const test_keys[] = { "app", "tier", "env",
                                         "example.com/team" };
static const char *const test_values[] = { "a", "b", "c", "d" };
static const char *const test_nodes[] = { "n1", "n2", "n3" };

static char *
random_labels(void)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < ARRAY_SIZE(test_keys); i++) {
        if (rng() % 4) {
            ds_put_format(&s, "%s%s=%s", s.length ? "," : "", test_keys[i],
                          test_values[rng() % ARRAY_SIZE(test_values)]);
        }
    }
    return ds_steal_cstr(&s);
}

/* A pod "pod-ID" in a random namespace with random labels and node.  Its
 * UID depends on the namespace, and also on 'rv' if 'recreate'. */
static struct k8s_object *
random_pod(size_t id, const char *rv, bool recreate)
{
    const char *ns = test_namespaces[rng() % ARRAY_SIZE(test_namespaces)];
    char name[32], uid[64];
    snprintf(name, sizeof name, "pod-%zu", id);
    snprintf(uid, sizeof uid, "uid-%s-%zu%s%s", ns, id, recreate ? "-" : "",
             recreate ? rv : "");
    char *labels = random_labels();
    const char *node = rng() % 5 ? test_nodes[rng() % ARRAY_SIZE(test_nodes)]
                                 : NULL;
    struct k8s_object *obj = make_pod(ns, name, uid, rv, node, labels);
    free(labels);
    return obj;
}

static struct label_selector *
random_selector(void)
{
    static const char *const ops[] = { "In", "NotIn", "Exists",
                                       "DoesNotExist" };
    json_t *exprs = tjson_array();
    json_t *match = tjson_object();
    int n = rng() % 4;

    for (int i = 0; i < n; i++) {
        const char *key = test_keys[rng() % ARRAY_SIZE(test_keys)];
        if (!(rng() % 3)) {
            json_object_set_new(match, key, tjson_string(
                test_values[rng() % ARRAY_SIZE(test_values)]));
            continue;
        }
        const char *op = ops[rng() % ARRAY_SIZE(ops)];
        json_t *expr = json_pack("{s:s, s:s}", "key", key, "operator", op);
        if (op[0] == 'I' || op[0] == 'N') {
            json_t *values = tjson_array();
            int n_values = 1 + rng() % 3;
            for (int k = 0; k < n_values; k++) {
                json_array_append_new(values, tjson_string(
                    test_values[rng() % ARRAY_SIZE(test_values)]));
            }
            json_object_set_new(expr, "values", values);
        }
        json_array_append_new(exprs, expr);
    }

    json_t *json = json_pack("{s:o, s:o}", "matchLabels", match,
                             "matchExpressions", exprs);
    struct label_selector *sel;
    char *error = label_selector_from_json(json, &sel);
    json_decref(json);
    if (error) {
        fail_msg("%s", error);
    }
    return sel;
}

static void
assert_same_list(const struct k8s_object_list *got,
                 const struct k8s_object_list *want, const char *what)
{
    if (got->n != want->n) {
        fail_msg("%s: %zu objects, brute force says %zu", what, got->n,
                 want->n);
    }
    for (size_t i = 0; i < got->n; i++) {
        if (got->objs[i] != want->objs[i]) {
            fail_msg("%s: object %zu differs", what, i);
        }
    }
}

/* The pods (sorted) of namespace 'ns' (NULL: all, or with 'ns_sel' those
 * in a matching cached namespace) that 'sel' (NULL: all) matches, by
 * scanning every pod. */
static void
brute_force(const struct k8s_cache *cache, const char *ns,
            const struct label_selector *ns_sel,
            const struct label_selector *sel, struct k8s_object_list *out)
{
    struct k8s_object_list all;
    k8s_cache_list(cache, K8S_POD, NULL, &all);
    memset(out, 0, sizeof *out);
    out->objs = xcalloc(all.n + 1, sizeof *out->objs);
    for (size_t i = 0; i < all.n; i++) {
        const struct k8s_object *pod = all.objs[i];
        if (ns && strcmp(pod->namespace, ns)) {
            continue;
        }
        if (ns_sel) {
            const struct k8s_object *nso = k8s_cache_get(
                cache, K8S_NAMESPACE, NULL, pod->namespace);
            if (!nso || !label_selector_matches(ns_sel, &nso->labels)) {
                continue;
            }
        }
        if (!sel || label_selector_matches(sel, &pod->labels)) {
            out->objs[out->n++] = pod;
        }
    }
    k8s_object_list_destroy(&all);
}

static void
check_queries(const struct k8s_cache *cache, int round)
{
    size_t n_matched = 0;

    for (int i = 0; i < 60; i++) {
        struct label_selector *sel = i ? random_selector() : NULL;
        struct label_selector *ns_sel = random_selector();
        char *what = xasprintf("round %d, selector \"%s\"", round,
                               sel ? label_selector_canonical(sel)
                                   : "(none)");
        struct k8s_object_list got, want;

        for (size_t k = 0; k < ARRAY_SIZE(test_namespaces); k++) {
            k8s_cache_select_pods(cache, test_namespaces[k], sel, &got);
            brute_force(cache, test_namespaces[k], NULL, sel, &want);
            assert_same_list(&got, &want, what);
            n_matched += got.n;
            k8s_object_list_destroy(&got);
            k8s_object_list_destroy(&want);
        }

        k8s_cache_select_pods_in_namespaces(cache, ns_sel, sel, &got);
        brute_force(cache, NULL, ns_sel, sel, &want);
        assert_same_list(&got, &want, what);
        k8s_object_list_destroy(&got);
        k8s_object_list_destroy(&want);

        label_selector_destroy(sel);
        label_selector_destroy(ns_sel);
        free(what);
    }
    /* The selectors are not all trivially empty or full. */
    assert_true(n_matched > 0);

    for (size_t k = 0; k < ARRAY_SIZE(test_nodes); k++) {
        struct k8s_object_list got, all;
        k8s_cache_pods_on_node(cache, test_nodes[k], &got);
        k8s_cache_list(cache, K8S_POD, NULL, &all);
        size_t n = 0;
        for (size_t i = 0; i < all.n; i++) {
            const struct k8s_pod *pod = k8s_pod_cast(all.objs[i]);
            if (pod->node_name && !strcmp(pod->node_name, test_nodes[k])) {
                assert_true(n < got.n);
                assert_ptr_equal(got.objs[n], all.objs[i]);
                n++;
            }
        }
        assert_int_equal(n, got.n);
        k8s_object_list_destroy(&got);
        k8s_object_list_destroy(&all);
    }
}

static void
test_selector_index_randomized(void **state)
{
    struct k8s_cache *cache = k8s_cache_create();
    rng_state = 0x7e4d1c2b;

    /* Namespace objects for all but kube-system, with labels. */
    for (size_t i = 0; i + 1 < ARRAY_SIZE(test_namespaces); i++) {
        char *labels = random_labels();
        (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                               make_namespace(test_namespaces[i], "1",
                                              labels));
        free(labels);
    }

    enum { N_PODS = 400 };
    struct k8s_object **pods = xcalloc(N_PODS, sizeof *pods);
    for (size_t i = 0; i < N_PODS; i++) {
        pods[i] = random_pod(i, "1", false);
    }
    k8s_cache_relist(cache, K8S_POD, pods, N_PODS, "1", NULL);
    free(pods);
    assert_int_equal(k8s_cache_count(cache, K8S_POD), N_PODS);
    check_queries(cache, 0);

    /* Churn through events: relabel, move, delete, recreate. */
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < 300; i++) {
            size_t id = rng() % (N_PODS + 50);
            char rv[16];
            snprintf(rv, sizeof rv, "%d", 1 + round * 1000 + i);

            int what = rng() % 4;
            if (what == 0) {
                char name[32];
                snprintf(name, sizeof name, "pod-%zu", id);
                for (size_t k = 0; k < ARRAY_SIZE(test_namespaces); k++) {
                    const struct k8s_object *old = k8s_cache_get(
                        cache, K8S_POD, test_namespaces[k], name);
                    if (old) {
                        (void) k8s_cache_apply(
                            cache, K8S_EVENT_DELETED,
                            make_pod(old->namespace, old->name, old->uid, rv,
                                     NULL, NULL));
                    }
                }
            } else {
                (void) k8s_cache_apply(cache, what == 1 ? K8S_EVENT_ADDED
                                                        : K8S_EVENT_MODIFIED,
                                       random_pod(id, rv, what == 3));
            }
        }
        /* Relabel a namespace too. */
        char *labels = random_labels();
        char ns_rv[16];
        snprintf(ns_rv, sizeof ns_rv, "%d", 100 + round);
        (void) k8s_cache_apply(cache, K8S_EVENT_MODIFIED,
                               make_namespace(test_namespaces[round % 3],
                                              ns_rv, labels));
        free(labels);
        check_queries(cache, round);
    }
    k8s_cache_destroy(cache);
}

static void
test_peers_and_slices(void **state)
{
    struct k8s_cache *cache = k8s_cache_create();

    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           make_namespace("default", "1", "env=prod"));
    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           make_namespace("pay", "1",
                                          "team=payments,env=dev"));
    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           make_namespace("ops", "1", "env=qa"));
    static const char *const pods[][3] = {
        { "default", "client", "role=client" },
        { "default", "web", "app=web" },
        { "pay", "ledger", "role=db" },
        { "pay", "api", "app=api" },
        { "ops", "probe", "role=client" },
        { "nowhere", "ghost", "role=client" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(pods); i++) {
        char *uid = xasprintf("u-%zu", i);
        (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                               make_pod(pods[i][0], pods[i][1], uid, "1",
                                        "n1", pods[i][2]));
        free(uid);
    }

    /* The peers of networkpolicy.json's first ingress rule. */
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    char *path = xasprintf("%s/tests/fixtures/k8s/networkpolicy.json",
                           srcdir);
    json_t *json = json_load_file(path, 0, NULL);
    free(path);
    assert_non_null(json);
    struct k8s_object *obj = parse_or_fail(K8S_NETWORK_POLICY, json);
    const struct k8s_network_policy *np = k8s_network_policy_cast(obj);
    const struct k8s_np_rule *rule = &np->ingress[0];
    static const char *const expected[] = {
        "default/client",               /* podSelector role=client. */
        "pay/api pay/ledger",           /* namespaceSelector team=payments. */
        "default/client ops/probe",     /* env!=dev + role Exists. */
        "",                             /* ipBlock. */
    };
    assert_int_equal(rule->n_peers, ARRAY_SIZE(expected));
    for (size_t i = 0; i < rule->n_peers; i++) {
        struct k8s_object_list list;
        struct ds s = DS_EMPTY_INITIALIZER;
        k8s_cache_select_peer_pods(cache, obj->namespace, &rule->peers[i],
                                   &list);
        for (size_t k = 0; k < list.n; k++) {
            char *key = k8s_object_key(list.objs[k]);
            ds_put_format(&s, "%s%s", k ? " " : "", key);
            free(key);
        }
        assert_string_equal(ds_cstr(&s), expected[i]);
        ds_destroy(&s);
        k8s_object_list_destroy(&list);
    }
    /* An empty namespaceSelector: pods of every known namespace. */
    struct k8s_object_list list;
    k8s_cache_select_peer_pods(cache, "default", &np->egress[0].peers[1],
                               &list);
    assert_int_equal(list.n, 5);
    k8s_object_list_destroy(&list);
    k8s_object_destroy(obj);

    struct k8s_object_list nss;
    struct label_selector *sel = make_selector(
        "{\"matchExpressions\": [{\"key\": \"env\", \"operator\": \"In\","
        " \"values\": [\"prod\", \"qa\"]}]}");
    k8s_cache_select_namespaces(cache, sel, &nss);
    assert_int_equal(nss.n, 2);
    assert_string_equal(nss.objs[0]->name, "default");
    assert_string_equal(nss.objs[1]->name, "ops");
    k8s_object_list_destroy(&nss);
    label_selector_destroy(sel);

    /* Slices by service. */
    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           make_slice("default", "web-2", "web"));
    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           make_slice("default", "web-1", "web"));
    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           make_slice("pay", "web-1", "web"));
    (void) k8s_cache_apply(cache, K8S_EVENT_ADDED,
                           make_slice("default", "custom", NULL));
    k8s_cache_service_slices(cache, "default", "web", &list);
    assert_int_equal(list.n, 2);
    assert_string_equal(list.objs[0]->name, "web-1");
    assert_string_equal(list.objs[1]->name, "web-2");
    k8s_object_list_destroy(&list);
    k8s_cache_service_slices(cache, "default", "db", &list);
    assert_int_equal(list.n, 0);
    k8s_object_list_destroy(&list);
    (void) k8s_cache_apply(cache, K8S_EVENT_DELETED,
                           make_slice("default", "web-2", "web"));
    k8s_cache_service_slices(cache, "default", "web", &list);
    assert_int_equal(list.n, 1);
    k8s_object_list_destroy(&list);

    k8s_cache_list(cache, K8S_ENDPOINT_SLICE, "default", &list);
    assert_int_equal(list.n, 2);
    k8s_object_list_destroy(&list);
    k8s_cache_list(cache, K8S_POD, "pay", &list);
    assert_int_equal(list.n, 2);
    k8s_object_list_destroy(&list);

    k8s_cache_destroy(cache);
    k8s_cache_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_watch_fixture),
        cmocka_unit_test(test_relist),
        cmocka_unit_test(test_subscribers),
        cmocka_unit_test(test_selector_index_randomized),
        cmocka_unit_test(test_peers_and_slices),
    };
    return cmocka_run_group_tests_name("k8s-cache", tests, NULL, NULL);
}
