/*
 * Network interfaces through rtnetlink: veth pairs, link state, addresses
 * and routes, plus the ethtool and sysctl settings that a pod's interfaces
 * need.
 *
 * Everything happens through a 'struct link_ns', a handle on one network
 * namespace: an rtnetlink socket bound to it (a netlink socket belongs to the
 * namespace its creator was in when it was made) and a file descriptor of it
 * for the operations that must run inside it (ethtool ioctls, /proc/sys/net).
 * Open one handle per namespace you work in.  The calling thread never stays
 * in another namespace: the handle moves it there and back when needed.
 *
 * Functions return 0 or a positive errno value.  In particular:
 *
 *   - ENODEV: the named interface does not exist (ENOENT from the sysctl
 *     functions, whose files are per interface).  DEL paths treat these as
 *     success.
 *
 *   - EEXIST: an interface, address or route being created already exists.
 *
 *   - EINVAL: bad arguments (e.g. an interface name that the kernel would
 *     refuse, a prefix length out of range), checked before asking the
 *     kernel.
 *
 * When the kernel explains a failure (netlink extended acknowledgements),
 * link_ns_strerror() includes its explanation.
 *
 * A handle is for one thread at a time.
 *
 * Interfaces are named for link-level operations and referred to by ifindex
 * (from struct link_info) for addresses and routes, as in rtnetlink.
 */
#ifndef TENDRIL_LINK_H
#define TENDRIL_LINK_H 1

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include "openvswitch/compiler.h"
#include "openvswitch/types.h"
#include "lib/cidr.h"

/* A network namespace to configure.  Opaque. */
struct link_ns;

int link_ns_open(int netns_fd, struct link_ns **) OVS_WARN_UNUSED_RESULT;
void link_ns_close(struct link_ns *);
int link_ns_fd(const struct link_ns *);
char *link_ns_strerror(const struct link_ns *, int error)
    OVS_WARN_UNUSED_RESULT;

bool link_name_is_valid(const char *name);

/* What the kernel reports about a link. */
struct link_info {
    int ifindex;
    char name[IFNAMSIZ];
    struct eth_addr mac;        /* All-zero if not an Ethernet address. */
    unsigned int mtu;
    unsigned int flags;         /* IFF_* flags, e.g. IFF_UP, IFF_LOWER_UP. */
    bool up;                    /* Administratively up (IFF_UP). */
    char kind[16];              /* "veth", "openvswitch", ...; "" if none. */
    int peer_ifindex;           /* IFLA_LINK: for a veth, the ifindex of its
                                 * peer in the peer's namespace; 0 if none. */
};

int link_get(struct link_ns *, const char *name, struct link_info *)
    OVS_WARN_UNUSED_RESULT;
int link_get_by_index(struct link_ns *, int ifindex, struct link_info *)
    OVS_WARN_UNUSED_RESULT;
int link_set_up(struct link_ns *, const char *name, bool up)
    OVS_WARN_UNUSED_RESULT;
int link_set_mtu(struct link_ns *, const char *name, unsigned int mtu)
    OVS_WARN_UNUSED_RESULT;
int link_set_mac(struct link_ns *, const char *name, const struct eth_addr *)
    OVS_WARN_UNUSED_RESULT;
int link_delete(struct link_ns *, const char *name) OVS_WARN_UNUSED_RESULT;
int link_loopback_up(struct link_ns *) OVS_WARN_UNUSED_RESULT;

/* veth pairs. */
int link_veth_create(struct link_ns *host, const char *host_name,
                     struct link_ns *peer, const char *peer_name,
                     unsigned int mtu) OVS_WARN_UNUSED_RESULT;

struct link_veth_options {
    const char *host_name;      /* Host end, e.g. "tnd1a2b3c4d5e6f". */
    const char *peer_name;      /* Peer's final name, e.g. "eth0". */
    unsigned int mtu;           /* Both ends; 0 for the kernel's default. */
    bool peer_tx_csum_off;      /* Tx checksum offload off on the peer, as
                                 * OVS's userspace datapath needs. */
    bool host_isolate;          /* arp_ignore=8 and IPv6 off on the host end,
                                 * so that the host's kernel stays out of
                                 * the pod's ARP and IPv6. */
};
char *link_veth_add(struct link_ns *host, struct link_ns *peer,
                    const struct link_veth_options *,
                    struct link_info *host_info, struct link_info *peer_info)
    OVS_WARN_UNUSED_RESULT;

/* Addresses. */
struct link_addr {
    struct ipaddr addr;
    unsigned int plen;
    unsigned char scope;        /* RT_SCOPE_*, e.g. RT_SCOPE_LINK for an
                                 * IPv6 link-local address. */
};

int link_addr_add(struct link_ns *, int ifindex, const struct ipaddr *,
                  unsigned int plen) OVS_WARN_UNUSED_RESULT;
int link_addr_list(struct link_ns *, int ifindex, int family,
                   struct link_addr **addrsp, size_t *n_addrsp)
    OVS_WARN_UNUSED_RESULT;

/* Routes in the main table. */
struct link_route {
    struct cidr dst;            /* 0.0.0.0/0 or ::/0 for a default route. */
    struct ipaddr gw;           /* gw.family == AF_UNSPEC: no gateway. */
    int ifindex;                /* Output interface. */
    bool onlink;                /* Gateway reachable without a prefix route
                                 * (RTNH_F_ONLINK). */
    unsigned char protocol;     /* Listings only: RTPROT_KERNEL for prefix
                                 * routes the kernel made, RTPROT_BOOT for
                                 * routes from link_route_add(). */
};

int link_route_add(struct link_ns *, const struct link_route *)
    OVS_WARN_UNUSED_RESULT;
int link_route_replace(struct link_ns *, const struct link_route *)
    OVS_WARN_UNUSED_RESULT;
int link_route_del(struct link_ns *, const struct link_route *)
    OVS_WARN_UNUSED_RESULT;
int link_route_list(struct link_ns *, int ifindex, int family,
                    struct link_route **routesp, size_t *n_routesp)
    OVS_WARN_UNUSED_RESULT;
int link_route_get(struct link_ns *, const struct ipaddr *dst, int *ifindex,
                   struct ipaddr *next_hop) OVS_WARN_UNUSED_RESULT;

/* Neighbours. */
int link_neigh_resolve(struct link_ns *, int ifindex, const struct ipaddr *)
    OVS_WARN_UNUSED_RESULT;

/* ethtool. */
int link_set_tx_csum(struct link_ns *, const char *name, bool enable)
    OVS_WARN_UNUSED_RESULT;
int link_get_tx_csum(struct link_ns *, const char *name, bool *enabledp)
    OVS_WARN_UNUSED_RESULT;

/* Per-interface sysctls: /proc/sys/net/PROTO/conf/IFNAME/KEY. */
int link_sysctl_set(struct link_ns *, const char *proto, const char *ifname,
                    const char *key, const char *value)
    OVS_WARN_UNUSED_RESULT;
int link_sysctl_get(struct link_ns *, const char *proto, const char *ifname,
                    const char *key, char *buf, size_t size)
    OVS_WARN_UNUSED_RESULT;
int link_disable_ipv6(struct link_ns *, const char *ifname)
    OVS_WARN_UNUSED_RESULT;

#endif /* lib/link.h */
