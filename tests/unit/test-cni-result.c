#include "ovs-config.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "tests/unit/test-util.h"

#include "util.h"

#include "cni/result.h"

static struct eth_addr
must_mac(const char *s)
{
    struct eth_addr mac;
    char *error = cni_mac_parse(s, &mac);
    if (error) {
        fail_msg("%s", error);
    }
    return mac;
}

/* Fails unless 'got' (consumed) equals the JSON text 'expected'. */
static void
expect_json(json_t *got, const char *expected, const char *what)
{
    json_error_t jerror;
    json_t *want = json_loads(expected, 0, &jerror);
    if (!want) {
        fail_msg("%s: bad expected JSON: %s", what, jerror.text);
    }
    if (!tjson_equal(got, want)) {
        char *got_s = json_dumps(got, JSON_SORT_KEYS);
        char *want_s = json_dumps(want, JSON_SORT_KEYS);
        fail_msg("%s:\n got      %s\n expected %s", what, got_s, want_s);
    }
    json_decref(want);
    json_decref(got);
}

/* A dual-stack pod: a host-side veth, the pod's eth0, two addresses on
 * eth0, one address on no interface, three routes. */
static void
build_result(struct cni_result *r)
{
    cni_result_init(r);
    struct eth_addr host_mac = must_mac("ee:ee:ee:ee:ee:ee");
    struct eth_addr pod_mac = must_mac("0a:58:0a:f4:01:05");
    assert_int_equal(cni_result_add_interface(r, "tdl3f6940ab5ab4",
                                              &host_mac, NULL, 1450), 0);
    assert_int_equal(cni_result_add_interface(r, "eth0", &pod_mac,
                                              "/var/run/netns/cni-1234",
                                              1450), 1);

    struct ipaddr a4 = must_ip("10.244.1.5"), gw4 = must_ip("10.244.1.1");
    struct ipaddr a6 = must_ip("fd00:10:244:1::5");
    struct ipaddr gw6 = must_ip("fd00:10:244:1::1");
    struct ipaddr lone = must_ip("192.168.0.9");
    cni_result_add_ip(r, &a4, 24, &gw4, 1);
    cni_result_add_ip(r, &a6, 64, &gw6, 1);
    cni_result_add_ip(r, &lone, 32, NULL, -1);

    struct cidr all4 = must_cidr("0.0.0.0/0"), all6 = must_cidr("::/0");
    struct cidr svc = must_cidr("10.96.0.0/12");
    cni_result_add_route(r, &all4, &gw4);
    cni_result_add_route(r, &all6, &gw6);
    cni_result_add_route(r, &svc, NULL);
}

static const char expected_0x[] =
    "{\"cniVersion\": \"%s\","
    " \"interfaces\": ["
    "   {\"name\": \"tdl3f6940ab5ab4\", \"mac\": \"ee:ee:ee:ee:ee:ee\"},"
    "   {\"name\": \"eth0\", \"mac\": \"0a:58:0a:f4:01:05\","
    "    \"sandbox\": \"/var/run/netns/cni-1234\"}],"
    " \"ips\": ["
    "   {\"version\": \"4\", \"interface\": 1,"
    "    \"address\": \"10.244.1.5/24\", \"gateway\": \"10.244.1.1\"},"
    "   {\"version\": \"6\", \"interface\": 1,"
    "    \"address\": \"fd00:10:244:1::5/64\","
    "    \"gateway\": \"fd00:10:244:1::1\"},"
    "   {\"version\": \"4\", \"address\": \"192.168.0.9/32\"}],"
    " \"routes\": ["
    "   {\"dst\": \"0.0.0.0/0\", \"gw\": \"10.244.1.1\"},"
    "   {\"dst\": \"::/0\", \"gw\": \"fd00:10:244:1::1\"},"
    "   {\"dst\": \"10.96.0.0/12\"}],"
    " \"dns\": {}}";

static const char expected_100[] =
    "{\"cniVersion\": \"1.0.0\","
    " \"interfaces\": ["
    "   {\"name\": \"tdl3f6940ab5ab4\", \"mac\": \"ee:ee:ee:ee:ee:ee\"},"
    "   {\"name\": \"eth0\", \"mac\": \"0a:58:0a:f4:01:05\","
    "    \"sandbox\": \"/var/run/netns/cni-1234\"}],"
    " \"ips\": ["
    "   {\"interface\": 1, \"address\": \"10.244.1.5/24\","
    "    \"gateway\": \"10.244.1.1\"},"
    "   {\"interface\": 1, \"address\": \"fd00:10:244:1::5/64\","
    "    \"gateway\": \"fd00:10:244:1::1\"},"
    "   {\"address\": \"192.168.0.9/32\"}],"
    " \"routes\": ["
    "   {\"dst\": \"0.0.0.0/0\", \"gw\": \"10.244.1.1\"},"
    "   {\"dst\": \"::/0\", \"gw\": \"fd00:10:244:1::1\"},"
    "   {\"dst\": \"10.96.0.0/12\"}],"
    " \"dns\": {}}";

static const char expected_110[] =
    "{\"cniVersion\": \"1.1.0\","
    " \"interfaces\": ["
    "   {\"name\": \"tdl3f6940ab5ab4\", \"mac\": \"ee:ee:ee:ee:ee:ee\","
    "    \"mtu\": 1450},"
    "   {\"name\": \"eth0\", \"mac\": \"0a:58:0a:f4:01:05\", \"mtu\": 1450,"
    "    \"sandbox\": \"/var/run/netns/cni-1234\"}],"
    " \"ips\": ["
    "   {\"interface\": 1, \"address\": \"10.244.1.5/24\","
    "    \"gateway\": \"10.244.1.1\"},"
    "   {\"interface\": 1, \"address\": \"fd00:10:244:1::5/64\","
    "    \"gateway\": \"fd00:10:244:1::1\"},"
    "   {\"address\": \"192.168.0.9/32\"}],"
    " \"routes\": ["
    "   {\"dst\": \"0.0.0.0/0\", \"gw\": \"10.244.1.1\"},"
    "   {\"dst\": \"::/0\", \"gw\": \"fd00:10:244:1::1\"},"
    "   {\"dst\": \"10.96.0.0/12\"}],"
    " \"dns\": {}}";

static void
test_encode_per_version(void **state OVS_UNUSED)
{
    struct cni_result r;
    build_result(&r);

    static const enum cni_version old[] = {
        CNI_VERSION_0_3_0, CNI_VERSION_0_3_1, CNI_VERSION_0_4_0,
    };
    for (size_t i = 0; i < ARRAY_SIZE(old); i++) {
        const char *v = cni_version_to_string(old[i]);
        char *expected = xasprintf(expected_0x, v);
        expect_json(cni_result_to_json(&r, old[i]), expected, v);
        free(expected);
    }
    expect_json(cni_result_to_json(&r, CNI_VERSION_1_0_0), expected_100,
                "1.0.0");
    expect_json(cni_result_to_json(&r, CNI_VERSION_1_1_0), expected_110,
                "1.1.0");
    cni_result_uninit(&r);

    /* Empty lists are left out; dns is always there. */
    cni_result_init(&r);
    expect_json(cni_result_to_json(&r, CNI_VERSION_1_1_0),
                "{\"cniVersion\": \"1.1.0\", \"dns\": {}}", "empty");
    expect_json(cni_result_to_json(&r, CNI_VERSION_0_3_1),
                "{\"cniVersion\": \"0.3.1\", \"dns\": {}}", "empty 0.3.1");

    /* An interface without MAC, sandbox or MTU; an empty sandbox is none. */
    cni_result_add_interface(&r, "eth0", NULL, "", 0);
    expect_json(cni_result_to_json(&r, CNI_VERSION_1_1_0),
                "{\"cniVersion\": \"1.1.0\", \"dns\": {},"
                " \"interfaces\": [{\"name\": \"eth0\"}]}", "bare interface");
    cni_result_uninit(&r);
    cni_result_uninit(&r);      /* Idempotent. */
}

static void
compare_results(const struct cni_result *a, const struct cni_result *b,
                bool same_mtu)
{
    assert_int_equal(a->n_interfaces, b->n_interfaces);
    for (size_t i = 0; i < a->n_interfaces; i++) {
        const struct cni_interface *x = &a->interfaces[i];
        const struct cni_interface *y = &b->interfaces[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->has_mac, y->has_mac);
        assert_memory_equal(&x->mac, &y->mac, sizeof x->mac);
        assert_true((!x->sandbox && !y->sandbox)
                    || (x->sandbox && y->sandbox
                        && !strcmp(x->sandbox, y->sandbox)));
        if (same_mtu) {
            assert_int_equal(x->mtu, y->mtu);
        } else {
            assert_int_equal(y->mtu, 0);
        }
    }
    assert_int_equal(a->n_ips, b->n_ips);
    for (size_t i = 0; i < a->n_ips; i++) {
        const struct cni_ip *x = &a->ips[i], *y = &b->ips[i];
        assert_true(ipaddr_equals(&x->addr, &y->addr));
        assert_int_equal(x->plen, y->plen);
        assert_int_equal(x->has_gateway, y->has_gateway);
        if (x->has_gateway) {
            assert_true(ipaddr_equals(&x->gateway, &y->gateway));
        }
        assert_int_equal(x->interface, y->interface);
    }
    assert_int_equal(a->n_routes, b->n_routes);
    for (size_t i = 0; i < a->n_routes; i++) {
        const struct cni_route *x = &a->routes[i], *y = &b->routes[i];
        assert_true(cidr_equals(&x->dst, &y->dst));
        assert_int_equal(x->has_gw, y->has_gw);
        if (x->has_gw) {
            assert_true(ipaddr_equals(&x->gw, &y->gw));
        }
    }
}

static void
test_decode_round_trip(void **state OVS_UNUSED)
{
    struct cni_result r;
    build_result(&r);

    for (int v = 0; v < CNI_N_VERSIONS; v++) {
        json_t *json = cni_result_to_json(&r, v);

        struct cni_result back;
        char *error = cni_result_from_json(json, &back);
        if (error) {
            fail_msg("%s: %s", cni_version_to_string(v), error);
        }
        compare_results(&r, &back, v >= CNI_VERSION_1_1_0);

        /* And encodes to the same JSON again. */
        json_t *again = cni_result_to_json(&back, v);
        assert_true(tjson_equal(json, again));
        json_decref(again);
        json_decref(json);
        cni_result_uninit(&back);
    }
    cni_result_uninit(&r);
}

static void
test_decode_lenient(void **state OVS_UNUSED)
{
    /* What other producers write: upper-case MACs with '-', null lists,
     * 1.1.0's extra members, DNS, an mtu in an older version. */
    static const char text[] =
        "{\"cniVersion\": \"1.1.0\","
        " \"interfaces\": [{\"name\": \"eth0\","
        "   \"mac\": \"0A-58-0A-F4-01-05\", \"mtu\": 9000,"
        "   \"socketPath\": \"/x\", \"pciID\": \"0000:00:01.0\","
        "   \"sandbox\": \"\"}],"
        " \"ips\": [{\"address\": \"10.0.0.2/8\", \"gateway\": \"\"}],"
        " \"routes\": null,"
        " \"dns\": {\"nameservers\": [\"10.96.0.10\"]},"
        " \"future\": 1}";
    json_error_t jerror;
    json_t *json = json_loads(text, 0, &jerror);
    assert_non_null(json);

    struct cni_result r;
    char *error = cni_result_from_json(json, &r);
    if (error) {
        fail_msg("%s", error);
    }
    json_decref(json);
    assert_int_equal(r.n_interfaces, 1);
    assert_null(r.interfaces[0].sandbox);
    assert_int_equal(r.interfaces[0].mtu, 9000);
    assert_int_equal(r.n_ips, 1);
    assert_false(r.ips[0].has_gateway);
    assert_int_equal(r.ips[0].interface, -1);
    assert_int_equal(r.n_routes, 0);
    expect_json(cni_result_to_json(&r, CNI_VERSION_0_4_0),
                "{\"cniVersion\": \"0.4.0\", \"dns\": {},"
                " \"interfaces\": [{\"name\": \"eth0\","
                "                   \"mac\": \"0a:58:0a:f4:01:05\"}],"
                " \"ips\": [{\"version\": \"4\","
                "            \"address\": \"10.0.0.2/8\"}]}",
                "lenient");
    cni_result_uninit(&r);
}

static void
test_decode_errors(void **state OVS_UNUSED)
{
    static const struct {
        const char *json;
        const char *fragment;
    } cases[] = {
        { "[]", "not an object" },
        { "{\"ips\": {}}", "\"ips\" is not an array" },
        { "{\"interfaces\": 1}", "\"interfaces\" is not an array" },
        { "{\"routes\": \"x\"}", "\"routes\" is not an array" },
        { "{\"interfaces\": [1]}", "interfaces[0]: not an object" },
        { "{\"interfaces\": [{}]}", "\"name\" is missing" },
        { "{\"interfaces\": [{\"name\": \"\"}]}", "\"name\" is empty" },
        { "{\"interfaces\": [{\"name\": 1}]}", "\"name\" is not a string" },
        { "{\"interfaces\": [{\"name\": \"e\", \"mac\": \"0a:58\"}]}",
          "not a MAC address" },
        { "{\"interfaces\": [{\"name\": \"e\", \"mtu\": -1}]}",
          "out of range" },
        { "{\"interfaces\": [{\"name\": \"e\", \"mtu\": 1.5}]}",
          "not an integer" },
        { "{\"ips\": [{}]}", "ips[0]: \"address\" is missing" },
        { "{\"ips\": [{\"address\": \"10.0.0.1\"}]}", "no prefix length" },
        { "{\"ips\": [{\"address\": \"10.0.0.1/33\"}]}", "bad prefix" },
        { "{\"ips\": [{\"address\": \"10.0.0.1/8\", \"version\": \"6\"}]}",
          "\"version\" is \"6\"" },
        { "{\"ips\": [{\"address\": \"::1/64\", \"version\": \"4\"}]}",
          "is IPv6" },
        { "{\"ips\": [{\"address\": \"10.0.0.1/8\", \"gateway\": \"::1\"}]}",
          "different families" },
        { "{\"ips\": [{\"address\": \"10.0.0.1/8\", \"gateway\": \"x\"}]}",
          "not an IPv4 or IPv6 address" },
        { "{\"ips\": [{\"address\": \"10.0.0.1/8\", \"interface\": 0}]}",
          "not an index" },
        { "{\"interfaces\": [{\"name\": \"e\"}],"
          " \"ips\": [{\"address\": \"10.0.0.1/8\", \"interface\": 1}]}",
          "not an index" },
        { "{\"ips\": [{\"address\": \"10.0.0.1/8\", \"interface\": -1}]}",
          "out of range" },
        { "{\"ips\": [{\"address\": \"10.0.0.1/8\", \"interface\": \"0\"}]}",
          "not an integer" },
        { "{\"routes\": [{}]}", "routes[0]: \"dst\" is missing" },
        { "{\"routes\": [{\"dst\": \"10.0.0.1/8\"}]}", "host bits set" },
        { "{\"routes\": [{\"dst\": \"0.0.0.0/0\", \"gw\": \"::1\"}]}",
          "different families" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        json_error_t jerror;
        json_t *json = json_loads(cases[i].json, 0, &jerror);
        if (!json) {
            fail_msg("bad test JSON %s", cases[i].json);
        }
        struct cni_result r;
        char *error = cni_result_from_json(json, &r);
        json_decref(json);
        if (!error) {
            fail_msg("%s: decoded", cases[i].json);
        }
        if (!strstr(error, cases[i].fragment)) {
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].json, error,
                     cases[i].fragment);
        }
        free(error);
        assert_int_equal(r.n_interfaces + r.n_ips + r.n_routes, 0);
        cni_result_uninit(&r);
    }
}

static void
test_errors(void **state OVS_UNUSED)
{
    struct cni_error *e = cni_error_create(CNI_ERR_INVALID_CONFIG,
                                           "invalid network configuration",
                                           "agentSocket is relative");
    expect_json(cni_error_to_json(e, CNI_VERSION_1_1_0),
                "{\"cniVersion\": \"1.1.0\", \"code\": 7,"
                " \"msg\": \"invalid network configuration\","
                " \"details\": \"agentSocket is relative\"}", "with details");
    expect_json(cni_error_to_json(e, CNI_VERSION_0_3_1),
                "{\"cniVersion\": \"0.3.1\", \"code\": 7,"
                " \"msg\": \"invalid network configuration\","
                " \"details\": \"agentSocket is relative\"}", "0.3.1");
    cni_error_destroy(e);

    /* No details, NULL or empty: the member is left out. */
    e = cni_error_create(CNI_ERR_NOT_AVAILABLE, "plugin not available", NULL);
    expect_json(cni_error_to_json(e, CNI_VERSION_1_1_0),
                "{\"cniVersion\": \"1.1.0\", \"code\": 50,"
                " \"msg\": \"plugin not available\"}", "no details");
    cni_error_destroy(e);
    e = cni_error_create(CNI_ERR_LIMITED_CONNECTIVITY, "limited", "");
    assert_null(e->details);
    cni_error_destroy(e);
    cni_error_destroy(NULL);

    e = cni_error_format(CNI_ERR_AGENT_TIMEOUT, "timeout", "after %d ms",
                         250);
    expect_json(cni_error_to_json(e, CNI_VERSION_1_0_0),
                "{\"cniVersion\": \"1.0.0\", \"code\": 101,"
                " \"msg\": \"timeout\", \"details\": \"after 250 ms\"}",
                "formatted");
    cni_error_destroy(e);

    /* The spec's codes. */
    assert_int_equal(CNI_ERR_INCOMPATIBLE_VERSION, 1);
    assert_int_equal(CNI_ERR_UNSUPPORTED_FIELD, 2);
    assert_int_equal(CNI_ERR_UNKNOWN_CONTAINER, 3);
    assert_int_equal(CNI_ERR_INVALID_ENV, 4);
    assert_int_equal(CNI_ERR_IO, 5);
    assert_int_equal(CNI_ERR_DECODE, 6);
    assert_int_equal(CNI_ERR_INVALID_CONFIG, 7);
    assert_int_equal(CNI_ERR_TRY_AGAIN_LATER, 11);
    assert_int_equal(CNI_ERR_NOT_AVAILABLE, 50);
    assert_int_equal(CNI_ERR_LIMITED_CONNECTIVITY, 51);
    assert_true(CNI_ERR_AGENT_UNREACHABLE >= 100);
}

static void
test_versions(void **state OVS_UNUSED)
{
    expect_json(cni_supported_versions_json(),
                "[\"0.3.0\", \"0.3.1\", \"0.4.0\", \"1.0.0\", \"1.1.0\"]",
                "supported");
    assert_string_equal(cni_supported_versions(),
                        "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0");
    assert_string_equal(cni_version_to_string(CNI_VERSION_LATEST), "1.1.0");

    static const char *const bad[] = {
        "", "0.2.0", "1.2.0", "1.0", "1", "v1.1.0", " 1.1.0", "1.1.0\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        enum cni_version v;
        assert_false(cni_version_parse(bad[i], &v));
    }
    for (int i = 0; i < CNI_N_VERSIONS; i++) {
        enum cni_version v;
        assert_true(cni_version_parse(cni_version_to_string(i), &v));
        assert_int_equal(v, i);
    }
}

static void
test_mac(void **state OVS_UNUSED)
{
    static const struct {
        const char *in;
        const char *out;        /* NULL: rejected. */
    } cases[] = {
        { "0a:58:0a:f4:01:05", "0a:58:0a:f4:01:05" },
        { "0A:58:0A:F4:01:05", "0a:58:0a:f4:01:05" },
        { "0a-58-0a-f4-01-05", "0a:58:0a:f4:01:05" },
        { "ff:ff:ff:ff:ff:ff", "ff:ff:ff:ff:ff:ff" },
        { "0a:58:0a:f4:01", NULL },
        { "0a:58:0a:f4:01:05:06", NULL },
        { "0a:58-0a:f4:01:05", NULL },
        { "0a:58:0a:f4:01:0g", NULL },
        { " a:58:0a:f4:01:05", NULL },
        { "0a:58:0a:f4:01:5 ", NULL },
        { "0a.58.0a.f4.01.05", NULL },
        { "", NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct eth_addr mac;
        char *error = cni_mac_parse(cases[i].in, &mac);
        if (cases[i].out) {
            if (error) {
                fail_msg("%s", error);
            }
            char buf[CNI_MAC_STRLEN];
            assert_string_equal(cni_mac_format(&mac, buf), cases[i].out);
        } else {
            if (!error) {
                fail_msg("\"%s\" parsed", cases[i].in);
            }
            free(error);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_per_version),
        cmocka_unit_test(test_decode_round_trip),
        cmocka_unit_test(test_decode_lenient),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_mac),
    };
    return cmocka_run_group_tests_name("cni-result", tests, NULL, NULL);
}
