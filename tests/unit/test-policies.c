/* The policies feature (agent/policies.c) against a cache: after every
 * change, worked incrementally (a label change updates one pod's place
 * among a policy's peers by itself), its flow table must equal the one a
 * fresh feature renders from scratch out of the same objects. */
#include "ovs-config.h"

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "agent/attachments.h"
#include "agent/feature.h"
#include "agent/k8s-cache.h"
#include "flows/flow-table.h"
#include "lib/json-util.h"
#include "lib/k8s-object.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "util.h"
#include "tests/unit/test-util.h"

/* The objects of the model as the test keeps them: JSON text. */
struct model {
    struct shash objs;           /* "KIND/NS/NAME" -> JSON text. */
    unsigned int rv;
};

static enum k8s_kind
kind_of(const char *key)
{
    return (!strncmp(key, "pod/", 4) ? K8S_POD
            : !strncmp(key, "ns/", 3) ? K8S_NAMESPACE
            : K8S_NETWORK_POLICY);
}

static struct k8s_object *
parse(enum k8s_kind kind, const char *text, unsigned int rv)
{
    json_error_t jerr;
    json_t *json = json_loads(text, 0, &jerr);
    if (!json) {
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    }
    json_t *md = json_object_get(json, "metadata");
    char *rvs = xasprintf("%u", rv);
    json_object_set_new(md, "resourceVersion", tjson_string(rvs));
    free(rvs);
    struct k8s_object *obj;
    char *error = k8s_object_parse(kind, json, &obj);
    json_decref(json);
    if (error) {
        fail_msg("%s", error);
    }
    return obj;
}

/* Sets object 'key' to 'text' in the model and applies it to 'cache'. */
static void
put(struct model *m, struct k8s_cache *cache, const char *key,
    const char *text)
{
    free(shash_replace(&m->objs, key, xstrdup(text)));
    k8s_cache_apply(cache, K8S_EVENT_MODIFIED,
                    parse(kind_of(key), text, ++m->rv));
}

static char *
pod_json(const char *ns, const char *name, const char *ip,
         const char *labels)
{
    return xasprintf(
        "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\","
        "\"uid\":\"uid-%s-%s\",\"labels\":{%s}},"
        "\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"name\":\"c\","
        "\"ports\":[{\"name\":\"http\",\"containerPort\":8080}]}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"%s\"}}",
        name, ns, ns, name, labels, ip);
}

static void
put_pod(struct model *m, struct k8s_cache *cache, const char *ns,
        const char *name, const char *ip, const char *labels)
{
    char *key = xasprintf("pod/%s/%s", ns, name);
    char *text = pod_json(ns, name, ip, labels);
    put(m, cache, key, text);
    free(text);
    free(key);
}

static void
put_policy(struct model *m, struct k8s_cache *cache, const char *name,
           const char *spec)
{
    char *key = xasprintf("np/a/%s", name);
    char *text = xasprintf(
        "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"a\","
        "\"uid\":\"uid-np-%s\"},\"spec\":%s}", name, name, spec);
    put(m, cache, key, text);
    free(text);
    free(key);
}

/* The flow table a fresh feature renders out of the model's objects. */
static void
render_fresh(const struct model *m, struct hmap *attachments, struct ds *out)
{
    struct k8s_cache *cache = k8s_cache_create();
    struct feature_ctx ctx = { .cache = cache, .k8s_synced = true,
                               .attachments = attachments };
    void *f = policies_feature.create(&ctx);
    const struct shash_node **nodes = shash_sort(&m->objs);
    for (size_t i = 0; i < shash_count(&m->objs); i++) {
        k8s_cache_apply(cache, K8S_EVENT_ADDED,
                        parse(kind_of(nodes[i]->name), nodes[i]->data, 1));
    }
    free(nodes);
    struct flow_table ft;
    flow_table_init(&ft);
    policies_feature.run(f, &ctx, &ft);
    flow_table_dump(&ft, NULL, false, out);
    flow_table_destroy(&ft);
    policies_feature.destroy(f);
    k8s_cache_destroy(cache);
}

static void
check_same(const struct model *m, struct hmap *attachments,
           const struct flow_table *ft, const char *what)
{
    struct ds inc = DS_EMPTY_INITIALIZER, fresh = DS_EMPTY_INITIALIZER;
    flow_table_dump(ft, NULL, false, &inc);
    render_fresh(m, attachments, &fresh);
    if (strcmp(ds_cstr(&inc), ds_cstr(&fresh))) {
        fail_msg("%s: incremental flows differ from a fresh render\n"
                 "--- incremental\n%s--- fresh\n%s", what, ds_cstr(&inc),
                 ds_cstr(&fresh));
    }
    ds_destroy(&inc);
    ds_destroy(&fresh);
}

static void
test_label_changes(void **state OVS_UNUSED)
{
    struct model m = { SHASH_INITIALIZER(&m.objs), 0 };
    struct k8s_cache *cache = k8s_cache_create();
    struct hmap attachments = HMAP_INITIALIZER(&attachments);
    struct feature_ctx ctx = { .cache = cache, .k8s_synced = true,
                               .attachments = &attachments };
    void *f = policies_feature.create(&ctx);
    struct flow_table ft;
    flow_table_init(&ft);

    put(&m, cache, "ns/a",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"uid-ns-a\","
        "\"labels\":{\"ns\":\"a\"}}}");
    /* Two local pods, with attachments; three pods elsewhere. */
    const char *local[] = { "web1", "web2" };
    for (size_t i = 0; i < ARRAY_SIZE(local); i++) {
        char *ip = xasprintf("10.244.1.%zu", i + 2);
        put_pod(&m, cache, "a", local[i], ip, "\"app\":\"web\"");
        struct attachment *att = attachment_create(&attachments, local[i],
                                                   "eth0");
        att->pod_namespace = xstrdup("a");
        att->pod_name = xstrdup(local[i]);
        assert_null(ipaddr_parse(ip, &att->ip));
        free(ip);
    }
    put_pod(&m, cache, "a", "c1", "10.244.2.2", "\"role\":\"client\"");
    put_pod(&m, cache, "a", "c2", "10.244.2.3", "");
    put_pod(&m, cache, "a", "c3", "10.244.2.5", "");

    /* Ingress from clients on 80; a second with a namespace selector and
     * no ports; egress to clients and an ipBlock that holds c3's address
     * as a /32 once its except is taken away; a named port (renders
     * whole). */
    put_policy(&m, cache, "in80",
               "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
               "\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":"
               "{\"role\":\"client\"}}}],\"ports\":[{\"port\":80}]}]}");
    put_policy(&m, cache, "inns",
               "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
               "\"namespaceSelector\":{\"matchLabels\":{\"ns\":\"a\"}},"
               "\"podSelector\":{\"matchExpressions\":[{\"key\":\"role\","
               "\"operator\":\"In\",\"values\":[\"client\",\"admin\"]}]}}]}"
               "]}");
    put_policy(&m, cache, "out",
               "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
               "\"policyTypes\":[\"Egress\"],\"egress\":[{\"to\":["
               "{\"podSelector\":{\"matchLabels\":{\"role\":\"client\"}}},"
               "{\"ipBlock\":{\"cidr\":\"10.244.2.4/31\",\"except\":"
               "[\"10.244.2.4/32\"]}}]}]}");
    put_policy(&m, cache, "named",
               "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
               "\"podSelector\":{\"matchLabels\":{\"role\":\"admin\"}}}],"
               "\"ports\":[{\"port\":\"http\"}]}]}");
    policies_feature.run(f, &ctx, &ft);
    check_same(&m, &attachments, &ft, "start");
    size_t start = flow_table_count(&ft);
    assert_true(start > 10);

    struct {
        const char *name, *ip, *labels, *what;
    } steps[] = {
        { "c2", "10.244.2.3", "\"role\":\"client\"",
          "c2 becomes a client: a peer of in80, inns and out" },
        { "c1", "10.244.2.2", "\"role\":\"admin\"",
          "c1 becomes an admin: leaves in80 and out, stays in inns, "
          "joins named" },
        { "c2", "10.244.2.3", "", "c2 is nothing again: in80 and out have "
          "no pod peer left" },
        { "c3", "10.244.2.5", "\"role\":\"client\"",
          "c3, inside out's ipBlock as a /32, becomes a client" },
        { "c1", "10.244.2.2", "\"role\":\"client\",\"x\":\"y\"",
          "c1 a client again" },
        { "web1", "10.244.1.2", "\"app\":\"web\",\"role\":\"client\"",
          "a local pod becomes a client: target and peer" },
        { "web2", "10.244.1.3", "\"app\":\"db\"",
          "a local pod is no longer a target" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        put_pod(&m, cache, "a", steps[i].name, steps[i].ip, steps[i].labels);
        policies_feature.run(f, &ctx, &ft);
        check_same(&m, &attachments, &ft, steps[i].what);
    }

    /* A change of a peer's labels alone touches that peer's flows alone:
     * the one flow of each table that matches its address. */
    flow_table_clear_dirty(&ft);
    put_pod(&m, cache, "a", "c2", "10.244.2.3", "\"role\":\"client\"");
    policies_feature.run(f, &ctx, &ft);
    check_same(&m, &attachments, &ft, "c2 a client again");
    size_t n_dirty = ovs_list_size(&ft.dirty_flows);
    assert_int_equal(n_dirty, 2);   /* nw_src= in IngressRule, nw_dst= in
                                     * EgressRule. */

    flow_table_destroy(&ft);
    policies_feature.destroy(f);
    k8s_cache_destroy(cache);
    struct attachment *att;
    HMAP_FOR_EACH_SAFE (att, node, &attachments) {
        attachment_free(&attachments, att);
    }
    hmap_destroy(&attachments);
    shash_destroy_free_data(&m.objs);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_changes),
    };
    return cmocka_run_group_tests_name("policies", tests, NULL, NULL);
}
