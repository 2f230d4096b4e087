/*
 * NodePorts on the node's own addresses.  A connection to one of them
 * enters the node's kernel, not br-int, so the kernel translates its
 * destination to SERVICE_NODEPORT_VIP (keeping the port), which it routes
 * through the gateway into br-int, where ServiceLB picks the endpoint.  The
 * translation is one nftables table, "ip tendril", replaced whole and
 * atomically through libnftables whenever the set of node ports changes;
 * it stays across agent restarts (the next agent replaces it).  The same
 * table masquerades SERVICE_HOST_SNAT_VIP to the node's address where it
 * leaves the node.
 */
#ifndef TENDRIL_AGENT_NODEPORT_H
#define TENDRIL_AGENT_NODEPORT_H 1

#include "openvswitch/compiler.h"

struct sset;

/* The nftables script that makes the table for 'ports' ("tcp/30080",
 * "udp/30053") on the local addresses inside 'addresses' (comma-separated
 * CIDRs, as --nodeport-addresses; NULL or "" for every local address but
 * loopback).  Pure; the caller frees it. */
char *nodeport_ruleset(const struct sset *ports, const char *addresses);

/* The script that removes the table, if it exists. */
char *nodeport_ruleset_delete(void);

/* Runs nftables 'script' in the current network namespace; returns NULL or
 * nftables' error message (malloc'd). */
char *nodeport_run(const char *script) OVS_WARN_UNUSED_RESULT;

#endif /* agent/nodeport.h */
