/* The pure parts of NodePorts and health checks: the nftables script and
 * the health check's answer. */
#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/healthcheck.h"
#include "agent/nodeport.h"
#include "sset.h"

static void
test_ruleset(void **state)
{
    struct sset ports = SSET_INITIALIZER(&ports);
    sset_add(&ports, "tcp/30080");
    sset_add(&ports, "udp/30053");
    sset_add(&ports, "tcp/31000");
    char *s = nodeport_ruleset(&ports, NULL);
    assert_string_equal(s,
        "add table ip tendril\n"
        "delete table ip tendril\n"
        "table ip tendril {\n"
        "  chain prerouting {\n"
        "    type nat hook prerouting priority dstnat; policy accept;\n"
        "    fib daddr type local ip daddr != 127.0.0.0/8 tcp dport "
        "{ 30080, 31000 } dnat to 169.254.0.252\n"
        "    fib daddr type local ip daddr != 127.0.0.0/8 udp dport "
        "{ 30053 } dnat to 169.254.0.252\n"
        "  }\n"
        "  chain output {\n"
        "    type nat hook output priority -100; policy accept;\n"
        "    fib daddr type local ip daddr != 127.0.0.0/8 tcp dport "
        "{ 30080, 31000 } dnat to 169.254.0.252\n"
        "    fib daddr type local ip daddr != 127.0.0.0/8 udp dport "
        "{ 30053 } dnat to 169.254.0.252\n"
        "  }\n"
        "  chain postrouting {\n"
        "    type nat hook postrouting priority srcnat; policy accept;\n"
        "    ip saddr 169.254.0.253 oifname != \"tendril-gw0\" masquerade\n"
        "  }\n"
        "}\n");
    free(s);

    /* --nodeport-addresses narrows the addresses; no ports, no rules. */
    sset_clear(&ports);
    sset_add(&ports, "udp/30053");
    s = nodeport_ruleset(&ports, "172.30.0.0/24");
    assert_non_null(strstr(s, "ip daddr { 172.30.0.0/24 } udp dport "
                           "{ 30053 }"));
    assert_null(strstr(s, "tcp"));
    free(s);
    sset_clear(&ports);
    s = nodeport_ruleset(&ports, NULL);
    assert_null(strstr(s, "dnat"));
    assert_non_null(strstr(s, "masquerade"));
    free(s);
    sset_destroy(&ports);
}

static void
test_health_answer(void **state)
{
    char *body;
    assert_int_equal(healthcheck_answer("default/web", 2, &body), 200);
    assert_string_equal(body, "{\"service\":{\"namespace\":\"default\","
                        "\"name\":\"web\"},\"localEndpoints\":2}\n");
    free(body);
    assert_int_equal(healthcheck_answer("ns/x", 0, &body), 503);
    assert_non_null(strstr(body, "\"localEndpoints\":0}"));
    free(body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ruleset),
        cmocka_unit_test(test_health_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
