/*
 * IPv4 and IPv6 addresses and prefixes: parsing, formatting and the
 * arithmetic that IPAM and the flow tables need.
 *
 * Parsers return NULL on success or a malloc'd message that the caller
 * frees, in the style of OVS's parsers.
 */
#ifndef TENDRIL_CIDR_H
#define TENDRIL_CIDR_H 1

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 address.  IPv4 addresses occupy the first 4 bytes of
 * 'bytes' in network order; the remaining bytes are zero. */
struct ipaddr {
    int family;                 /* AF_INET or AF_INET6. */
    uint8_t bytes[16];
};

/* A prefix: 'addr' with its host bits zero, and the prefix length. */
struct cidr {
    struct ipaddr addr;
    unsigned int plen;          /* 0..32 for IPv4, 0..128 for IPv6. */
};

/* Large enough for any address or prefix in text, with its NUL. */
#define IPADDR_STRLEN 46
#define CIDR_STRLEN (IPADDR_STRLEN + 4)

char *ipaddr_parse(const char *, struct ipaddr *)
    __attribute__((warn_unused_result));
const char *ipaddr_format(const struct ipaddr *, char buf[IPADDR_STRLEN]);
bool ipaddr_equals(const struct ipaddr *, const struct ipaddr *);
unsigned int ipaddr_bits(int family);
void ipaddr_from_in4(struct ipaddr *, struct in_addr);
struct in_addr ipaddr_to_in4(const struct ipaddr *);
uint32_t ipaddr_ipv4_host(const struct ipaddr *);

char *cidr_parse(const char *, struct cidr *)
    __attribute__((warn_unused_result));
char *cidr_parse_host(const char *, struct ipaddr *, unsigned int *plen)
    __attribute__((warn_unused_result));
const char *cidr_format(const struct cidr *, char buf[CIDR_STRLEN]);
bool cidr_contains(const struct cidr *, const struct ipaddr *);
bool cidr_overlaps(const struct cidr *, const struct cidr *);
uint64_t cidr_size(const struct cidr *);
bool cidr_nth(const struct cidr *, uint64_t n, struct ipaddr *);
bool cidr_offset(const struct cidr *, const struct ipaddr *, uint64_t *n);
bool cidr_equals(const struct cidr *, const struct cidr *);

/* A growable array of prefixes. */
struct cidr_list {
    struct cidr *cidrs;
    size_t n;
    size_t allocated;
};
void cidr_list_destroy(struct cidr_list *);

/* Appends to 'out' prefixes that together hold exactly the addresses of
 * 'c' that none of the 'n' prefixes of 'except' holds (an ipBlock's cidr
 * minus its excepts): 10.0.0.0/8 minus 10.1.0.0/16 is eight prefixes,
 * 10.0.0.0/16, 10.128.0.0/9 and so on. */
void cidr_subtract(const struct cidr *c, const struct cidr *except, size_t n,
                   struct cidr_list *out);

#endif /* lib/cidr.h */
