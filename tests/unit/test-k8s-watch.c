#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/k8s-client.h"
#include "lib/k8s-object.h"
#include "util.h"

#define POD_META(RV)                                                    \
    "\"metadata\": {\"name\": \"a\", \"namespace\": \"default\", "      \
    "\"uid\": \"00000000-0000-4000-8000-00000000000a\", "               \
    "\"resourceVersion\": \"" RV "\"}"

static char *
decode(enum k8s_kind kind, const char *line, struct k8s_watch_event *ev)
{
    return k8s_watch_parse_line(kind, line, strlen(line), ev);
}

static void
test_object_events(void **state OVS_UNUSED)
{
    static const struct {
        const char *type;
        enum k8s_watch_type expected;
    } cases[] = {
        { "ADDED", K8S_WATCH_ADDED },
        { "MODIFIED", K8S_WATCH_MODIFIED },
        { "DELETED", K8S_WATCH_DELETED },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *line = xasprintf(
            "{\"type\": \"%s\", \"object\": {\"kind\": \"Pod\", "
            "\"apiVersion\": \"v1\", " POD_META("42") ", \"spec\": "
            "{\"nodeName\": \"n1\", \"containers\": [{\"name\": \"c\"}]}, "
            "\"status\": {\"podIP\": \"10.244.1.2\"}}}", cases[i].type);
        struct k8s_watch_event ev;
        char *error = decode(K8S_POD, line, &ev);
        if (error) {
            fail_msg("%s", error);
        }
        assert_int_equal(ev.type, cases[i].expected);
        assert_non_null(ev.obj);
        assert_int_equal(ev.obj->kind, K8S_POD);
        assert_string_equal(ev.obj->name, "a");
        assert_string_equal(ev.resource_version, "42");
        assert_string_equal(k8s_pod_cast(ev.obj)->node_name, "n1");
        k8s_watch_event_destroy(&ev);
        free(line);
    }
}

static void
test_bookmark(void **state OVS_UNUSED)
{
    struct k8s_watch_event ev;
    char *error = decode(K8S_SERVICE, "{\"type\":\"BOOKMARK\",\"object\":"
                         "{\"kind\":\"Service\",\"metadata\":"
                         "{\"resourceVersion\":\"12345\"}}}", &ev);
    assert_null(error);
    assert_int_equal(ev.type, K8S_WATCH_BOOKMARK);
    assert_null(ev.obj);
    assert_string_equal(ev.resource_version, "12345");
    k8s_watch_event_destroy(&ev);

    error = decode(K8S_SERVICE, "{\"type\":\"BOOKMARK\",\"object\":{}}",
                   &ev);
    assert_non_null(strstr(error, "no metadata.resourceVersion"));
    free(error);
    k8s_watch_event_destroy(&ev);
}

static void
test_error_event(void **state OVS_UNUSED)
{
    struct k8s_watch_event ev;
    char *error = decode(K8S_POD, "{\"type\":\"ERROR\",\"object\":"
                         "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                         "\"status\":\"Failure\",\"message\":\"too old "
                         "resource version: 5 (90)\",\"reason\":\"Expired\","
                         "\"code\":410}}", &ev);
    assert_null(error);
    assert_int_equal(ev.type, K8S_WATCH_ERROR);
    assert_int_equal(ev.code, 410);
    assert_string_equal(ev.message, "too old resource version: 5 (90)");
    assert_null(ev.obj);
    k8s_watch_event_destroy(&ev);
}

static void
test_malformed_object(void **state OVS_UNUSED)
{
    /* The event is sound, its object is not: the type and the
     * resourceVersion survive so that the client can skip it. */
    struct k8s_watch_event ev;
    char *error = decode(K8S_POD, "{\"type\": \"MODIFIED\", \"object\": {"
                         POD_META("77") ", \"spec\": {\"containers\": []},"
                         " \"status\": {\"podIP\": \"x\"}}}", &ev);
    assert_non_null(error);
    assert_non_null(strstr(error, "Pod default/a"));
    assert_non_null(strstr(error, "podIP"));
    assert_int_equal(ev.type, K8S_WATCH_MODIFIED);
    assert_null(ev.obj);
    assert_string_equal(ev.resource_version, "77");
    free(error);
    k8s_watch_event_destroy(&ev);

    /* A kind other than the watched one. */
    error = decode(K8S_SERVICE, "{\"type\": \"ADDED\", \"object\": "
                   "{\"kind\": \"Pod\", " POD_META("1") "}}", &ev);
    assert_non_null(error);
    assert_null(ev.obj);
    free(error);
    k8s_watch_event_destroy(&ev);
}

static void
test_malformed_events(void **state OVS_UNUSED)
{
    static const struct {
        const char *line;
        const char *error;
    } cases[] = {
        { "{\"type\": \"ADDED\", \"object\": {", "not JSON" },
        { "{\"object\": {}}", "watch event:" },
        { "{\"type\": \"ADDED\"}", "watch event:" },
        { "{\"type\": 3, \"object\": {}}", "watch event:" },
        { "{\"type\": \"RENAMED\", \"object\": {}}",
          "unknown type \"RENAMED\"" },
        { "{\"type\": \"ADDED\", \"object\": []}", "not an object" },
        { "[]", "watch event:" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct k8s_watch_event ev;
        char *error = decode(K8S_POD, cases[i].line, &ev);
        if (!error || !strstr(error, cases[i].error)) {
            fail_msg("%s: got \"%s\", expected \"%s\"", cases[i].line,
                     error ? error : "no error", cases[i].error);
        }
        assert_null(ev.obj);
        free(error);
        k8s_watch_event_destroy(&ev);
    }
}

static void
test_plural(void **state OVS_UNUSED)
{
    enum k8s_kind kind;
    assert_true(k8s_client_kind_from_plural("endpointslices", &kind));
    assert_int_equal(kind, K8S_ENDPOINT_SLICE);
    assert_true(k8s_client_kind_from_plural("networkpolicies", &kind));
    assert_int_equal(kind, K8S_NETWORK_POLICY);
    assert_false(k8s_client_kind_from_plural("Pod", &kind));
    for (int k = 0; k < K8S_N_KINDS; k++) {
        assert_true(k8s_client_kind_from_plural(k8s_client_plural(k),
                                                &kind));
        assert_int_equal(kind, k);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_events),
        cmocka_unit_test(test_bookmark),
        cmocka_unit_test(test_error_event),
        cmocka_unit_test(test_malformed_object),
        cmocka_unit_test(test_malformed_events),
        cmocka_unit_test(test_plural),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
