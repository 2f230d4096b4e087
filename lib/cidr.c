#include "ovs-config.h"
#include "lib/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

unsigned int
ipaddr_bits(int family)
{
    return family == AF_INET ? 32 : 128;
}

static size_t
ipaddr_len(int family)
{
    return family == AF_INET ? 4 : 16;
}

/* Parses 's' as a dotted-quad IPv4 or textual IPv6 address.  Nothing else is
 * accepted: no prefix, no zone, no surrounding space. */
char *
ipaddr_parse(const char *s, struct ipaddr *ip)
{
    memset(ip, 0, sizeof *ip);
    if (strchr(s, ':')) {
        if (inet_pton(AF_INET6, s, ip->bytes) == 1) {
            ip->family = AF_INET6;
            return NULL;
        }
    } else if (inet_pton(AF_INET, s, ip->bytes) == 1) {
        ip->family = AF_INET;
        return NULL;
    }
    return xasprintf("\"%s\" is not an IPv4 or IPv6 address", s);
}

const char *
ipaddr_format(const struct ipaddr *ip, char buf[IPADDR_STRLEN])
{
    if (!inet_ntop(ip->family, ip->bytes, buf, IPADDR_STRLEN)) {
        snprintf(buf, IPADDR_STRLEN, "<bad address family %d>", ip->family);
    }
    return buf;
}

bool
ipaddr_equals(const struct ipaddr *a, const struct ipaddr *b)
{
    return a->family == b->family
           && !memcmp(a->bytes, b->bytes, ipaddr_len(a->family));
}

void
ipaddr_from_in4(struct ipaddr *ip, struct in_addr in4)
{
    memset(ip, 0, sizeof *ip);
    ip->family = AF_INET;
    memcpy(ip->bytes, &in4, 4);
}

struct in_addr
ipaddr_to_in4(const struct ipaddr *ip)
{
    struct in_addr in4;

    memcpy(&in4, ip->bytes, 4);
    return in4;
}

/* IPv4 address 'ip' as a number in host byte order. */
uint32_t
ipaddr_ipv4_host(const struct ipaddr *ip)
{
    return ntohl(ipaddr_to_in4(ip).s_addr);
}

/* Keeps the first 'plen' bits of 'ip' and zeroes the rest.  Returns true if
 * any host bit was set. */
static bool
ipaddr_mask(struct ipaddr *ip, unsigned int plen)
{
    bool had_host_bits = false;

    for (size_t i = 0; i < ipaddr_len(ip->family); i++) {
        unsigned int first = i * 8;
        uint8_t keep = (plen >= first + 8 ? 0xff
                        : plen <= first ? 0
                        : (uint8_t) (0xff << (8 - (plen - first))));
        if (ip->bytes[i] & ~keep) {
            had_host_bits = true;
        }
        ip->bytes[i] &= keep;
    }
    return had_host_bits;
}

/* Splits "ADDR/LEN" into its parts, checking LEN against the family. */
static char *
split_prefix(const char *s, struct ipaddr *ip, unsigned int *plen)
{
    const char *slash = strchr(s, '/');
    if (!slash) {
        return xasprintf("\"%s\" has no prefix length (ADDRESS/LENGTH)", s);
    }

    char *addr = xmemdup0(s, slash - s);
    char *error = ipaddr_parse(addr, ip);
    free(addr);
    if (error) {
        free(error);
        return xasprintf("\"%s\" does not start with an IPv4 or IPv6 address",
                         s);
    }

    const char *len = slash + 1;
    char *end;
    errno = 0;
    unsigned long n = strtoul(len, &end, 10);
    if (!*len || *end || errno || len[0] == '-' || len[0] == '+'
        || n > ipaddr_bits(ip->family)) {
        return xasprintf("\"%s\" has a bad prefix length (0 to %u)", s,
                         ipaddr_bits(ip->family));
    }
    *plen = n;
    return NULL;
}

/* Parses a prefix such as "10.244.1.0/24".  Host bits must be zero, as
 * Kubernetes requires of a podCIDR. */
char *
cidr_parse(const char *s, struct cidr *cidr)
{
    memset(cidr, 0, sizeof *cidr);
    char *error = split_prefix(s, &cidr->addr, &cidr->plen);
    if (!error && ipaddr_mask(&cidr->addr, cidr->plen)) {
        error = xasprintf("\"%s\" has host bits set", s);
    }
    if (error) {
        memset(cidr, 0, sizeof *cidr);
    }
    return error;
}

/* Parses an interface address such as "10.244.1.5/24": an address with the
 * length of the prefix it sits in. */
char *
cidr_parse_host(const char *s, struct ipaddr *ip, unsigned int *plen)
{
    return split_prefix(s, ip, plen);
}

const char *
cidr_format(const struct cidr *cidr, char buf[CIDR_STRLEN])
{
    char addr[IPADDR_STRLEN];

    snprintf(buf, CIDR_STRLEN, "%s/%u", ipaddr_format(&cidr->addr, addr),
             cidr->plen);
    return buf;
}

bool
cidr_contains(const struct cidr *cidr, const struct ipaddr *ip)
{
    if (ip->family != cidr->addr.family) {
        return false;
    }
    struct ipaddr masked = *ip;
    ipaddr_mask(&masked, cidr->plen);
    return ipaddr_equals(&masked, &cidr->addr);
}

bool
cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
    return a->plen <= b->plen ? cidr_contains(a, &b->addr)
                              : cidr_contains(b, &a->addr);
}

bool
cidr_equals(const struct cidr *a, const struct cidr *b)
{
    return a->plen == b->plen && ipaddr_equals(&a->addr, &b->addr);
}

/* The number of addresses in 'cidr', or UINT64_MAX if there are more (an
 * IPv6 prefix shorter than /64). */
uint64_t
cidr_size(const struct cidr *cidr)
{
    unsigned int host_bits = ipaddr_bits(cidr->addr.family) - cidr->plen;
    return host_bits >= 64 ? UINT64_MAX : UINT64_C(1) << host_bits;
}

/* Sets '*ip' to the address 'n' places after the start of 'cidr' (n = 0 is
 * the network address).  Returns false if that is outside 'cidr'.  Only the
 * low 64 bits of an address are counted, which covers any prefix IPAM
 * allocates from. */
bool
cidr_nth(const struct cidr *cidr, uint64_t n, struct ipaddr *ip)
{
    unsigned int host_bits = ipaddr_bits(cidr->addr.family) - cidr->plen;
    if (host_bits < 64 && n >> host_bits) {
        return false;
    }

    *ip = cidr->addr;
    size_t len = ipaddr_len(ip->family);
    unsigned int carry = 0;
    for (size_t i = 0; i < len; i++) {
        size_t byte = len - 1 - i;
        unsigned int sum = ip->bytes[byte] + carry
                           + (i < 8 ? (unsigned int) ((n >> (8 * i)) & 0xff)
                                    : 0);
        ip->bytes[byte] = sum & 0xff;
        carry = sum >> 8;
    }
    return true;
}

/* Sets '*n' to the position of 'ip' in 'cidr', the inverse of cidr_nth().
 * Returns false if 'ip' is not in 'cidr' or its position needs more than 64
 * bits. */
bool
cidr_offset(const struct cidr *cidr, const struct ipaddr *ip, uint64_t *n)
{
    if (!cidr_contains(cidr, ip)) {
        return false;
    }

    size_t len = ipaddr_len(ip->family);
    unsigned int host_bits = ipaddr_bits(ip->family) - cidr->plen;
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        size_t byte = len - 1 - i;
        uint8_t diff = ip->bytes[byte] ^ cidr->addr.bytes[byte];
        if (i >= 8) {
            if (diff) {
                return false;
            }
        } else {
            value |= (uint64_t) diff << (8 * i);
        }
    }
    if (host_bits < 64) {
        value &= (UINT64_C(1) << host_bits) - 1;
    }
    *n = value;
    return true;
}

/* Appends 'c' minus every prefix of 'except' to 'out', in address order,
 * splitting 'c' in halves only where an exception lies inside it.  A
 * prefix of another family does not count. */
static void
cidr_subtract__(const struct cidr *c, const struct cidr *except, size_t n,
                struct cidr_list *out)
{
    bool overlap = false;
    for (size_t i = 0; i < n; i++) {
        if (except[i].addr.family != c->addr.family
            || !cidr_overlaps(c, &except[i])) {
            continue;
        }
        if (except[i].plen <= c->plen) {
            return;                 /* All of 'c' is excepted. */
        }
        overlap = true;
    }
    if (!overlap) {
        if (out->n >= out->allocated) {
            out->cidrs = x2nrealloc(out->cidrs, &out->allocated,
                                    sizeof *out->cidrs);
        }
        out->cidrs[out->n++] = *c;
        return;
    }
    /* Some exception lies strictly inside 'c', so 'c' is not a host
     * prefix: split it. */
    struct cidr half = { .addr = c->addr, .plen = c->plen + 1 };
    cidr_subtract__(&half, except, n, out);
    half.addr.bytes[c->plen / 8] |= 0x80 >> (c->plen % 8);
    cidr_subtract__(&half, except, n, out);
}

void
cidr_subtract(const struct cidr *c, const struct cidr *except, size_t n,
              struct cidr_list *out)
{
    cidr_subtract__(c, except, n, out);
}

void
cidr_list_destroy(struct cidr_list *l)
{
    free(l->cidrs);
    memset(l, 0, sizeof *l);
}
