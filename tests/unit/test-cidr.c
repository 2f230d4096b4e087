#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/test-util.h"

#include "lib/cidr.h"

static void
expect_cidr_error(const char *s, const char *fragment)
{
    struct cidr cidr;
    char *error = cidr_parse(s, &cidr);
    if (!error) {
        fail_msg("\"%s\" parsed but should not", s);
    }
    if (!strstr(error, fragment)) {
        fail_msg("error for \"%s\" is \"%s\", expected \"%s\" in it", s,
                 error, fragment);
    }
    free(error);
}

static void
test_parse_format_roundtrip(void **state)
{
    static const char *good[] = {
        "10.244.1.0/24", "0.0.0.0/0", "192.168.7.9/32", "fd00:10:244::/64",
        "::/0", "2001:db8::1/128", "10.0.0.0/8",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        struct cidr cidr = must_cidr(good[i]);
        char buf[CIDR_STRLEN];
        assert_string_equal(cidr_format(&cidr, buf), good[i]);
    }
}

static void
test_parse_errors(void **state)
{
    expect_cidr_error("10.244.1.0", "no prefix length");
    expect_cidr_error("10.244.1.0/33", "bad prefix length");
    expect_cidr_error("fd00::/129", "bad prefix length");
    expect_cidr_error("10.244.1.0/-1", "bad prefix length");
    expect_cidr_error("10.244.1.0/+8", "bad prefix length");
    expect_cidr_error("10.244.1.0/", "bad prefix length");
    expect_cidr_error("10.244.1.0/2x", "bad prefix length");
    expect_cidr_error("10.244.1.1/24", "host bits set");
    expect_cidr_error("0.0.0.1/0", "host bits set");
    expect_cidr_error("10.244.1/24", "does not start with");
    expect_cidr_error("10.244.1.256/24", "does not start with");
    expect_cidr_error("/24", "does not start with");
    expect_cidr_error("", "no prefix length");
    expect_cidr_error(" 10.0.0.0/8", "does not start with");
    expect_cidr_error("fe80::1%eth0/64", "does not start with");

    struct ipaddr ip;
    char *error = ipaddr_parse("1.2.3.4.5", &ip);
    assert_non_null(error);
    free(error);
    error = ipaddr_parse("1.2.3.4/32", &ip);
    assert_non_null(error);
    free(error);
}

static void
test_parse_host(void **state)
{
    struct ipaddr ip;
    unsigned int plen;
    char *error = cidr_parse_host("10.244.1.5/24", &ip, &plen);
    assert_null(error);
    assert_int_equal(plen, 24);
    char buf[IPADDR_STRLEN];
    assert_string_equal(ipaddr_format(&ip, buf), "10.244.1.5");

    error = cidr_parse_host("10.244.1.5", &ip, &plen);
    assert_non_null(error);
    free(error);
}

static void
test_contains(void **state)
{
    struct cidr net = must_cidr("10.244.1.0/24");
    struct ipaddr in = must_ip("10.244.1.255");
    struct ipaddr out = must_ip("10.244.2.0");
    struct ipaddr v6 = must_ip("::ffff:10.244.1.1");
    assert_true(cidr_contains(&net, &in));
    assert_false(cidr_contains(&net, &out));
    assert_false(cidr_contains(&net, &v6));

    struct cidr all = must_cidr("0.0.0.0/0");
    assert_true(cidr_contains(&all, &out));
    struct cidr host = must_cidr("10.244.2.0/32");
    assert_true(cidr_contains(&host, &out));
    assert_false(cidr_contains(&host, &in));

    struct cidr net6 = must_cidr("fd00:10:244:1::/64");
    struct ipaddr in6 = must_ip("fd00:10:244:1:ffff::1");
    assert_true(cidr_contains(&net6, &in6));
}

static void
test_overlaps(void **state)
{
    struct cidr a = must_cidr("10.244.0.0/16");
    struct cidr b = must_cidr("10.244.3.0/24");
    struct cidr c = must_cidr("10.245.0.0/16");
    struct cidr d = must_cidr("0.0.0.0/0");
    struct cidr e = must_cidr("fd00::/8");
    assert_true(cidr_overlaps(&a, &b));
    assert_true(cidr_overlaps(&b, &a));
    assert_false(cidr_overlaps(&a, &c));
    assert_true(cidr_overlaps(&d, &c));
    assert_true(cidr_overlaps(&a, &a));
    assert_false(cidr_overlaps(&a, &e));
    assert_false(cidr_overlaps(&d, &e));

    struct cidr adjacent1 = must_cidr("10.0.0.0/25");
    struct cidr adjacent2 = must_cidr("10.0.0.128/25");
    assert_false(cidr_overlaps(&adjacent1, &adjacent2));
}

static void
test_size_nth_offset(void **state)
{
    struct cidr net = must_cidr("10.244.1.0/24");
    assert_int_equal(cidr_size(&net), 256);

    struct ipaddr ip;
    char buf[IPADDR_STRLEN];
    assert_true(cidr_nth(&net, 1, &ip));
    assert_string_equal(ipaddr_format(&ip, buf), "10.244.1.1");
    assert_true(cidr_nth(&net, 255, &ip));
    assert_string_equal(ipaddr_format(&ip, buf), "10.244.1.255");
    assert_false(cidr_nth(&net, 256, &ip));

    uint64_t n;
    assert_true(cidr_offset(&net, &ip, &n));
    assert_int_equal(n, 255);
    struct ipaddr outside = must_ip("10.244.2.1");
    assert_false(cidr_offset(&net, &outside, &n));

    struct cidr host = must_cidr("10.1.2.3/32");
    assert_int_equal(cidr_size(&host), 1);
    assert_true(cidr_nth(&host, 0, &ip));
    assert_string_equal(ipaddr_format(&ip, buf), "10.1.2.3");
    assert_false(cidr_nth(&host, 1, &ip));

    struct cidr all = must_cidr("0.0.0.0/0");
    assert_int_equal(cidr_size(&all), UINT64_C(1) << 32);
    assert_true(cidr_nth(&all, UINT32_MAX, &ip));
    assert_string_equal(ipaddr_format(&ip, buf), "255.255.255.255");
    assert_false(cidr_nth(&all, UINT64_C(1) << 32, &ip));

    /* Carries cross byte boundaries. */
    struct cidr wide = must_cidr("10.0.0.0/8");
    assert_true(cidr_nth(&wide, 0x10203, &ip));
    assert_string_equal(ipaddr_format(&ip, buf), "10.1.2.3");
    assert_true(cidr_offset(&wide, &ip, &n));
    assert_int_equal(n, 0x10203);

    struct cidr v6 = must_cidr("fd00:10:244:1::/64");
    assert_int_equal(cidr_size(&v6), UINT64_MAX);
    assert_true(cidr_nth(&v6, UINT64_MAX, &ip));
    assert_string_equal(ipaddr_format(&ip, buf),
                        "fd00:10:244:1:ffff:ffff:ffff:ffff");
    assert_true(cidr_offset(&v6, &ip, &n));
    assert_true(n == UINT64_MAX);

    struct cidr v6all = must_cidr("::/0");
    assert_int_equal(cidr_size(&v6all), UINT64_MAX);
    struct ipaddr high = must_ip("1::1");
    assert_false(cidr_offset(&v6all, &high, &n));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format_roundtrip),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_host),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_size_nth_offset),
    };
    return cmocka_run_group_tests_name("cidr", tests, NULL, NULL);
}
