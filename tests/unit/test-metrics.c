#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/metrics.h"
#include "lib/metrics.h"
#include "openvswitch/dynamic-string.h"

static void
test_family_and_samples(void **state OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    metrics_put_family(&s, "tendril_agent_x_total", METRIC_COUNTER,
                       "Things");
    metrics_put_sample(&s, "tendril_agent_x_total", NULL, 3);
    metrics_put_sample(&s, "tendril_agent_x_total", "a=\"b\"", 0.5);
    metrics_put_sample(&s, "tendril_agent_x_total", "", 1e20);
    assert_string_equal(ds_cstr(&s),
                        "# HELP tendril_agent_x_total Things\n"
                        "# TYPE tendril_agent_x_total counter\n"
                        "tendril_agent_x_total 3\n"
                        "tendril_agent_x_total{a=\"b\"} 0.5\n"
                        "tendril_agent_x_total 1e+20\n");
    ds_destroy(&s);
}

static void
test_label_escape(void **state OVS_UNUSED)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    metrics_label_escape(&s, "a\"b\\c\nd");
    assert_string_equal(ds_cstr(&s), "a\\\"b\\\\c\\nd");
    ds_destroy(&s);
}

static void
test_histogram(void **state OVS_UNUSED)
{
    struct histogram h;
    memset(&h, 0, sizeof h);
    histogram_observe(&h, 0.00005);   /* First bucket. */
    histogram_observe(&h, 0.0001);    /* On the bound: first bucket. */
    histogram_observe(&h, 0.003);     /* le=0.005. */
    histogram_observe(&h, 60);        /* Above every bound. */
    assert_int_equal(h.count, 4);
    assert_int_equal(h.inf, 1);

    struct ds s = DS_EMPTY_INITIALIZER;
    metrics_put_histogram(&s, "h_seconds", "command=\"ADD\"", &h);
    const char *text = ds_cstr(&s);
    assert_non_null(strstr(text, "h_seconds_bucket{command=\"ADD\","
                            "le=\"0.0001\"} 2\n"));
    assert_non_null(strstr(text, "h_seconds_bucket{command=\"ADD\","
                            "le=\"0.0025\"} 2\n"));
    assert_non_null(strstr(text, "h_seconds_bucket{command=\"ADD\","
                            "le=\"0.005\"} 3\n"));
    assert_non_null(strstr(text, "h_seconds_bucket{command=\"ADD\","
                            "le=\"10\"} 3\n"));
    assert_non_null(strstr(text, "h_seconds_bucket{command=\"ADD\","
                            "le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(text, "h_seconds_count{command=\"ADD\"} 4\n"));
    assert_non_null(strstr(text, "h_seconds_sum{command=\"ADD\"} 60.00315"));
    ds_destroy(&s);

    /* Without labels: no empty braces before "le", none after _sum. */
    ds_init(&s);
    metrics_put_histogram(&s, "h_seconds", NULL, &h);
    assert_non_null(strstr(ds_cstr(&s), "h_seconds_bucket{le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(ds_cstr(&s), "h_seconds_count 4\n"));
    ds_destroy(&s);
}

static void
test_parse_address(void **state OVS_UNUSED)
{
    char *addr;
    uint16_t port;
    char *error = metrics_parse_address("127.0.0.1:9797", &addr, &port);
    assert_null(error);
    assert_string_equal(addr, "127.0.0.1");
    assert_int_equal(port, 9797);
    free(addr);

    error = metrics_parse_address(":9797", &addr, &port);
    assert_null(error);
    assert_null(addr);
    assert_int_equal(port, 9797);

    static const char *bad[] = {
        "9797", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "127.0.0.1:80x", "localhost:9797", "::1:9797",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        error = metrics_parse_address(bad[i], &addr, &port);
        if (!error) {
            fail_msg("\"%s\" parsed", bad[i]);
        }
        assert_non_null(strstr(error, bad[i]));
        assert_null(addr);
        free(error);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_label_escape),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_parse_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
