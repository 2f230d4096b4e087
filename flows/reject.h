/*
 * Refusing a connection the way a host without a listener does: the reply
 * to a TCP segment is a RST, to a UDP datagram an ICMP port unreachable.
 * Pure: from the bytes of the packet (an Ethernet frame with IPv4) to the
 * bytes of the reply, which goes back out of the port the packet came in.
 * Services without endpoints use it (packet-in to the agent, packet-out of
 * the reply), as kube-proxy's REJECT rules do.
 */
#ifndef TENDRIL_FLOWS_REJECT_H
#define TENDRIL_FLOWS_REJECT_H 1

#include <stdbool.h>
#include <stddef.h>

struct ofpbuf;

bool reject_reply(const void *packet, size_t len, struct ofpbuf *reply);

#endif /* flows/reject.h */
