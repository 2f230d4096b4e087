#include "ovs-config.h"
#include "flows/reject.h"

#include <netinet/in.h>
#include <string.h>

#include "csum.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "util.h"

/* The Ethernet and IPv4 headers of the reply to 'eth'/'ip': addresses
 * swapped, 'l4_len' bytes of protocol 'proto' to follow. */
static struct ip_header *
put_l2_l3(struct ofpbuf *reply, const struct eth_header *eth,
          const struct ip_header *ip, uint8_t proto, size_t l4_len)
{
    struct eth_header *e = ofpbuf_put_zeros(reply, sizeof *e);
    e->eth_dst = eth->eth_src;
    e->eth_src = eth->eth_dst;
    e->eth_type = htons(ETH_TYPE_IP);

    struct ip_header *r = ofpbuf_put_zeros(reply, sizeof *r);
    r->ip_ihl_ver = IP_IHL_VER(5, 4);
    r->ip_tot_len = htons(sizeof *r + l4_len);
    r->ip_frag_off = htons(IP_DONT_FRAGMENT);
    r->ip_ttl = 64;
    r->ip_proto = proto;
    r->ip_src = ip->ip_dst;
    r->ip_dst = ip->ip_src;
    r->ip_csum = csum(r, sizeof *r);
    return r;
}

/* A RST for TCP segment 'tcp' with 'payload' bytes of data, as RFC 793
 * says a closed port answers; false for a RST, which is never answered. */
static bool
reject_tcp(struct ofpbuf *reply, const struct eth_header *eth,
           const struct ip_header *ip, const struct tcp_header *tcp,
           size_t payload)
{
    uint16_t flags = TCP_FLAGS(tcp->tcp_ctl);
    if (flags & TCP_RST) {
        return false;
    }
    struct ip_header *r = put_l2_l3(reply, eth, ip, IPPROTO_TCP,
                                    sizeof *tcp);
    struct tcp_header *t = ofpbuf_put_zeros(reply, sizeof *t);
    t->tcp_src = tcp->tcp_dst;
    t->tcp_dst = tcp->tcp_src;
    if (flags & TCP_ACK) {
        t->tcp_seq = tcp->tcp_ack;
        t->tcp_ctl = TCP_CTL(TCP_RST, 5);
    } else {
        uint32_t ack = (ntohl(get_16aligned_be32(&tcp->tcp_seq)) + payload
                        + !!(flags & TCP_SYN) + !!(flags & TCP_FIN));
        put_16aligned_be32(&t->tcp_ack, htonl(ack));
        t->tcp_ctl = TCP_CTL(TCP_RST | TCP_ACK, 5);
    }
    uint32_t partial = packet_csum_pseudoheader(r);
    t->tcp_csum = csum_finish(csum_continue(partial, t, sizeof *t));
    return true;
}

/* An ICMP port unreachable carrying the IP header and the first 8 bytes of
 * the datagram, as RFC 792 has it. */
static void
reject_udp(struct ofpbuf *reply, const struct eth_header *eth,
           const struct ip_header *ip, size_t ip_len)
{
    size_t quoted = MIN(ip_len, IP_IHL(ip->ip_ihl_ver) * 4
                                + ICMP_ERROR_DATA_L4_LEN);
    put_l2_l3(reply, eth, ip, IPPROTO_ICMP,
              sizeof(struct icmp_header) + quoted);
    struct icmp_header *icmp = ofpbuf_put_zeros(reply, sizeof *icmp);
    icmp->icmp_type = ICMP4_DST_UNREACH;
    icmp->icmp_code = 3;        /* Port unreachable. */
    ofpbuf_put(reply, ip, quoted);
    icmp->icmp_csum = csum(icmp, sizeof *icmp + quoted);
}

/* Appends to 'reply' the frame that refuses the TCP, UDP or SCTP 'packet' ('len'
 * bytes from its Ethernet header on).  Returns false, appending nothing,
 * if 'packet' is neither, is malformed, or is a TCP RST (never answered). */
bool
reject_reply(const void *packet, size_t len, struct ofpbuf *reply)
{
    const struct eth_header *eth = packet;
    if (len < sizeof *eth + sizeof(struct ip_header)
        || eth->eth_type != htons(ETH_TYPE_IP)) {
        return false;
    }
    const struct ip_header *ip = (const void *) (eth + 1);
    size_t ihl = IP_IHL(ip->ip_ihl_ver) * 4;
    size_t ip_len = MIN(ntohs(ip->ip_tot_len), len - sizeof *eth);
    if (ihl < sizeof *ip || ip_len < ihl
        || ip->ip_frag_off & htons(IP_FRAG_OFF_MASK)) {
        return false;
    }
    const void *l4 = (const char *) ip + ihl;
    size_t l4_len = ip_len - ihl;
    if (ip->ip_proto == IPPROTO_TCP && l4_len >= sizeof(struct tcp_header)) {
        const struct tcp_header *tcp = l4;
        size_t hdr = TCP_OFFSET(tcp->tcp_ctl) * 4;
        if (hdr < sizeof *tcp || hdr > l4_len) {
            return false;
        }
        return reject_tcp(reply, eth, ip, tcp, l4_len - hdr);
    } else if ((ip->ip_proto == IPPROTO_UDP && l4_len >= UDP_HEADER_LEN)
               || (ip->ip_proto == IPPROTO_SCTP
                   && l4_len >= SCTP_HEADER_LEN)) {
        /* SCTP gets the ICMP port unreachable too, as from kube-proxy's
         * REJECT rule. */
        reject_udp(reply, eth, ip, ip_len);
        return true;
    }
    return false;
}
