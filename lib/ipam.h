/*
 * The agent's address allocator: hands out the addresses of one pool (the
 * node's podCIDR) to CNI attachments and keeps the assignments on disk.
 *
 * The store is a directory with one file per allocated address, named by
 * the address in canonical text ("DIR/10.244.1.5", "DIR/fd00:10:244::5")
 * and holding the owner followed by a newline.  An owner is the CNI
 * attachment identity "CONTAINERID/IFNAME", an opaque string to this module.
 * Each address file is written to a temporary file first, synced, and then
 * link()ed to its final name, so that it appears complete or not at all and
 * link()'s EEXIST makes a second claim on one address impossible.  Besides
 * the address files the directory holds "lock" (flock()ed while the store
 * is open, so two agents cannot share it) and "last_reserved_ip" (the
 * round-robin position, as in the reference host-local plugin).
 *
 * Never allocated: the network address, the gateway (the first usable
 * address, taken by the node's gateway port) and, for IPv4, the broadcast
 * address.
 *
 * Functions that change the store return 0 or a positive errno value.  Not
 * thread-safe: the agent calls it from its one event loop.
 */
#ifndef TENDRIL_IPAM_H
#define TENDRIL_IPAM_H 1

#include <stdbool.h>
#include <stddef.h>

#include "openvswitch/compiler.h"
#include "lib/cidr.h"

struct ipam;

/* The longest owner accepted, in bytes, without the newline. */
#define IPAM_OWNER_MAX 1024

char *ipam_open(const char *dir, const struct cidr *pool, struct ipam **)
    OVS_WARN_UNUSED_RESULT;
void ipam_close(struct ipam *);

const char *ipam_dir(const struct ipam *);
const struct cidr *ipam_pool(const struct ipam *);
void ipam_gateway(const struct ipam *, struct ipaddr *);

int ipam_allocate(struct ipam *, const char *owner, struct ipaddr *);
int ipam_release(struct ipam *, const char *owner);

bool ipam_lookup(const struct ipam *, const char *owner, struct ipaddr *);
const char *ipam_owner_of(const struct ipam *, const struct ipaddr *);
size_t ipam_count(const struct ipam *);

/* One allocated address and its owner, as returned by ipam_entries(). */
struct ipam_entry {
    struct ipaddr addr;
    char *owner;                /* Owned by the array's holder. */
};

size_t ipam_entries(const struct ipam *, struct ipam_entry **);
void ipam_entries_free(struct ipam_entry *, size_t n);

#endif /* lib/ipam.h */
