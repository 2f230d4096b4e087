/*
 * Helpers shared by the cmocka tests: parse a value the test itself wrote,
 * failing the test with the parser's message if it is wrong.  Include after
 * <cmocka.h>.
 */
#ifndef TENDRIL_TEST_UTIL_H
#define TENDRIL_TEST_UTIL_H 1

#include "lib/cidr.h"

static inline struct ipaddr
must_ip(const char *s)
{
    struct ipaddr ip;
    char *error = ipaddr_parse(s, &ip);
    if (error) {
        fail_msg("%s", error);
    }
    return ip;
}

static inline struct cidr
must_cidr(const char *s)
{
    struct cidr cidr;
    char *error = cidr_parse(s, &cidr);
    if (error) {
        fail_msg("%s", error);
    }
    return cidr;
}

#endif /* tests/unit/test-util.h */
