#include "ovs-config.h"

#include "lib/link.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>

#include "netlink.h"
#include "openvswitch/ofpbuf.h"
#include "util.h"

#include "lib/netns.h"

/* A network namespace to configure. */
struct link_ns {
    int netns_fd;               /* The namespace.  Owned. */
    int sock;                   /* NETLINK_ROUTE socket bound to it.  Owned. */
    uint32_t seq;               /* Sequence number of the last request. */

    /* Receive buffer, grown as needed. */
    void *rxbuf;
    size_t rxbuf_size;

    /* The errno value and the kernel's extended acknowledgement text (or
     * NULL) of the last netlink request that failed. */
    int last_error;
    char *last_extack;
};

/* Opening and closing. */

static int
link_create_socket_cb(void *sockp_)
{
    int *sockp = sockp_;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
        return errno;
    }
    *sockp = fd;
    return 0;
}

/* Opens a handle on the network namespace 'netns_fd' (from tnetns_open()),
 * or on the calling thread's current namespace if 'netns_fd' is negative.
 * The handle keeps its own duplicate of 'netns_fd', so the caller may close
 * its descriptor at any time.  On success stores the handle in '*nsp', which
 * the caller must free with link_ns_close(), and returns 0; otherwise stores
 * NULL and returns an errno value. */
int
link_ns_open(int netns_fd, struct link_ns **nsp)
{
    int ns_fd = -1;
    int sock = -1;
    int error;

    *nsp = NULL;
    if (netns_fd < 0) {
        error = tnetns_open_current(&ns_fd);
        if (error) {
            return error;
        }
        error = link_create_socket_cb(&sock);
    } else {
        error = tnetns_check_fd(netns_fd);
        if (error) {
            return error;
        }
        ns_fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 0);
        if (ns_fd < 0) {
            return errno;
        }
        error = tnetns_run(ns_fd, link_create_socket_cb, &sock);
    }
    if (error) {
        close(ns_fd);
        return error;
    }

    /* Ask for the kernel's explanations of errors and for acknowledgements
     * that do not echo our requests.  Old kernels lack these: not fatal. */
    int one = 1;
    setsockopt(sock, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    setsockopt(sock, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);

    struct sockaddr_nl local = { .nl_family = AF_NETLINK };
    if (bind(sock, (struct sockaddr *) &local, sizeof local) < 0) {
        error = errno;
        close(sock);
        close(ns_fd);
        return error;
    }

    struct link_ns *ns = xzalloc(sizeof *ns);
    ns->netns_fd = ns_fd;
    ns->sock = sock;
    ns->rxbuf_size = 16384;
    ns->rxbuf = xmalloc(ns->rxbuf_size);
    *nsp = ns;
    return 0;
}

/* Frees 'ns' and closes its socket and namespace descriptor.  The namespace
 * itself lives on as long as anything else holds it.  'ns' may be NULL. */
void
link_ns_close(struct link_ns *ns)
{
    if (ns) {
        close(ns->sock);
        close(ns->netns_fd);
        free(ns->rxbuf);
        free(ns->last_extack);
        free(ns);
    }
}

/* Returns 'ns''s namespace descriptor, for tnetns_run().  It remains owned
 * by 'ns'. */
int
link_ns_fd(const struct link_ns *ns)
{
    return ns->netns_fd;
}

/* Returns a malloc'd description of 'error', an errno value that a function
 * called on 'ns' returned: strerror's text, followed by the kernel's own
 * explanation if the last failed netlink request on 'ns' failed with 'error'
 * and came with one. */
char *
link_ns_strerror(const struct link_ns *ns, int error)
{
    if (ns && ns->last_extack && ns->last_error == error) {
        return xasprintf("%s (%s)", ovs_strerror(error), ns->last_extack);
    }
    return xstrdup(ovs_strerror(error));
}

/* Returns true if 'name' is a name the kernel accepts for a network
 * interface: 1 to IFNAMSIZ - 1 bytes, not "." or "..", without '/', ':' or
 * white space. */
bool
link_name_is_valid(const char *name)
{
    if (!name || !name[0] || strlen(name) >= IFNAMSIZ
        || !strcmp(name, ".") || !strcmp(name, "..")) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == ':' || *p == ' '
            || (*p >= '\t' && *p <= '\r')) {
            return false;
        }
    }
    return true;
}

/* Netlink transactions. */

/* Called once for each reply message to a request, with the message in
 * 'msg'.  Returns 0 or an errno value, which ends the transaction with that
 * error (after the rest of the reply has been read). */
typedef int link_reply_func(const struct ofpbuf *msg, void *aux);

static void
link_ns_set_error(struct link_ns *ns, int error, const char *extack)
{
    ns->last_error = error;
    free(ns->last_extack);
    ns->last_extack = extack && extack[0] ? xstrdup(extack) : NULL;
}

/* Receives one datagram into ns->rxbuf, growing it as needed.  Returns its
 * length, or a negative errno value. */
static ssize_t
link_recv(struct link_ns *ns)
{
    for (;;) {
        ssize_t n = recv(ns->sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n > ns->rxbuf_size) {
            ns->rxbuf_size = n;
            ns->rxbuf = xrealloc(ns->rxbuf, ns->rxbuf_size);
        }

        n = recv(ns->sock, ns->rxbuf, ns->rxbuf_size, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        return n;
    }
}

/* Sends 'request' (which starts with a nlmsghdr put by nl_msg_put_nlmsghdr()
 * and may be modified) on 'ns''s socket and reads the reply, calling 'cb'
 * for each message of it that is not an acknowledgement.  A request with
 * NLM_F_DUMP reads until NLMSG_DONE; any other request asks for an
 * acknowledgement and reads until it.  Returns 0 or an errno value: the
 * kernel's, a socket error, or the first one that 'cb' returned. */
static int
link_transact(struct link_ns *ns, struct ofpbuf *request,
              link_reply_func *cb, void *aux)
{
    struct nlmsghdr *req = nl_msg_nlmsghdr(request);
    bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

    req->nlmsg_len = request->size;
    req->nlmsg_flags |= NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
    req->nlmsg_seq = ++ns->seq;
    req->nlmsg_pid = 0;
    link_ns_set_error(ns, 0, NULL);

    for (;;) {
        ssize_t n = send(ns->sock, request->data, request->size, 0);
        if (n >= 0) {
            break;
        } else if (errno != EINTR) {
            return errno;
        }
    }

    int cb_error = 0;
    for (;;) {
        ssize_t n = link_recv(ns);
        if (n < 0) {
            return -n;
        }

        int left = n;
        for (struct nlmsghdr *nlh = ns->rxbuf; NLMSG_OK(nlh, left);
             nlh = NLMSG_NEXT(nlh, left)) {
            if (nlh->nlmsg_seq != req->nlmsg_seq) {
                /* Left over from an earlier, abandoned request. */
                continue;
            }

            struct ofpbuf msg;
            ofpbuf_use_const(&msg, nlh, nlh->nlmsg_len);

            int error;
            const char *extack = NULL;
            if (nl_msg_nlmsgerr(&msg, &error, &extack)) {
                if (error) {
                    link_ns_set_error(ns, error, extack);
                    return error;
                }
                return cb_error;
            } else if (nlh->nlmsg_type == NLMSG_DONE) {
                /* A dump ends with NLMSG_DONE, whose payload may be a
                 * negative errno value. */
                const int *payload = ofpbuf_at(&msg, NLMSG_HDRLEN,
                                               sizeof *payload);
                if (payload && *payload < 0) {
                    link_ns_set_error(ns, -*payload, NULL);
                    return -*payload;
                }
                return cb_error;
            } else if (nlh->nlmsg_type == NLMSG_NOOP
                       || nlh->nlmsg_type == NLMSG_OVERRUN) {
                continue;
            } else if (!cb_error && cb) {
                cb_error = cb(&msg, aux);
            }
        }
        if (left != 0) {
            /* A truncated or malformed message. */
            return EPROTO;
        }
    }
}

/* Starts 'buf' as a request of the given 'type' and 'flags' for the link
 * named 'name' (if nonnull) or with index 'ifindex', with 'ifi_flags' and
 * 'ifi_change' in its ifinfomsg. */
static void
link_request_init(struct ofpbuf *buf, int type, int flags,
                  const char *name, int ifindex,
                  unsigned int ifi_flags, unsigned int ifi_change)
{
    ofpbuf_init(buf, 256);
    nl_msg_put_nlmsghdr(buf, sizeof(struct ifinfomsg), type, flags);

    struct ifinfomsg *ifi = ofpbuf_put_zeros(buf, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = ifi_flags;
    ifi->ifi_change = ifi_change;
    if (name) {
        nl_msg_put_string(buf, IFLA_IFNAME, name);
    }
}

/* Sends the link request in 'buf', frees 'buf', and returns the result. */
static int
link_request_finish(struct link_ns *ns, struct ofpbuf *buf,
                    link_reply_func *cb, void *aux)
{
    int error = link_transact(ns, buf, cb, aux);
    ofpbuf_uninit(buf);
    return error;
}

/* Links. */

static int
link_parse_info(const struct ofpbuf *msg, void *info_)
{
    static const struct nl_policy policy[] = {
        [IFLA_ADDRESS] = { .type = NL_A_UNSPEC, .optional = true },
        [IFLA_IFNAME] = { .type = NL_A_STRING, .optional = true },
        [IFLA_MTU] = { .type = NL_A_U32, .optional = true },
        [IFLA_LINK] = { .type = NL_A_U32, .optional = true },
        [IFLA_LINKINFO] = { .type = NL_A_NESTED, .optional = true },
    };
    static const struct nl_policy linkinfo_policy[] = {
        [IFLA_INFO_KIND] = { .type = NL_A_STRING, .optional = true },
    };
    struct link_info *info = info_;
    struct nlattr *attrs[ARRAY_SIZE(policy)];

    const struct nlmsghdr *nlh = msg->data;
    const struct ifinfomsg *ifi = ofpbuf_at(msg, NLMSG_HDRLEN, sizeof *ifi);
    if (nlh->nlmsg_type != RTM_NEWLINK || !ifi
        || !nl_policy_parse(msg, NLMSG_HDRLEN + sizeof *ifi,
                            policy, attrs, ARRAY_SIZE(policy))) {
        return EPROTO;
    }

    memset(info, 0, sizeof *info);
    info->ifindex = ifi->ifi_index;
    info->flags = ifi->ifi_flags;
    info->up = (ifi->ifi_flags & IFF_UP) != 0;
    if (attrs[IFLA_IFNAME]) {
        ovs_strlcpy(info->name, nl_attr_get_string(attrs[IFLA_IFNAME]),
                    sizeof info->name);
    }
    if (attrs[IFLA_ADDRESS]
        && nl_attr_get_size(attrs[IFLA_ADDRESS]) == sizeof info->mac) {
        memcpy(&info->mac, nl_attr_get(attrs[IFLA_ADDRESS]),
               sizeof info->mac);
    }
    if (attrs[IFLA_MTU]) {
        info->mtu = nl_attr_get_u32(attrs[IFLA_MTU]);
    }
    if (attrs[IFLA_LINK]) {
        info->peer_ifindex = nl_attr_get_u32(attrs[IFLA_LINK]);
    }
    if (attrs[IFLA_LINKINFO]) {
        struct nlattr *li[ARRAY_SIZE(linkinfo_policy)];
        if (nl_parse_nested(attrs[IFLA_LINKINFO], linkinfo_policy,
                            li, ARRAY_SIZE(linkinfo_policy))
            && li[IFLA_INFO_KIND]) {
            ovs_strlcpy(info->kind, nl_attr_get_string(li[IFLA_INFO_KIND]),
                        sizeof info->kind);
        }
    }
    return 0;
}

/* Looks up the link named 'name' in 'ns' and stores what the kernel says
 * about it in '*info'.  Returns 0, ENODEV if there is no such link, or
 * another errno value. */
int
link_get(struct link_ns *ns, const char *name, struct link_info *info)
{
    if (!link_name_is_valid(name)) {
        return EINVAL;
    }

    struct ofpbuf buf;
    link_request_init(&buf, RTM_GETLINK, 0, name, 0, 0, 0);
    nl_msg_put_u32(&buf, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    return link_request_finish(ns, &buf, link_parse_info, info);
}

/* Like link_get(), for the link with index 'ifindex'. */
int
link_get_by_index(struct link_ns *ns, int ifindex, struct link_info *info)
{
    if (ifindex <= 0) {
        return EINVAL;
    }

    struct ofpbuf buf;
    link_request_init(&buf, RTM_GETLINK, 0, NULL, ifindex, 0, 0);
    nl_msg_put_u32(&buf, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    return link_request_finish(ns, &buf, link_parse_info, info);
}

/* Sets the link named 'name' administratively up or down.  Returns 0,
 * ENODEV if there is no such link, or another errno value. */
int
link_set_up(struct link_ns *ns, const char *name, bool up)
{
    if (!link_name_is_valid(name)) {
        return EINVAL;
    }

    struct ofpbuf buf;
    link_request_init(&buf, RTM_NEWLINK, 0, name, 0, up ? IFF_UP : 0, IFF_UP);
    return link_request_finish(ns, &buf, NULL, NULL);
}

/* Sets the MTU of the link named 'name'.  Returns 0, ENODEV if there is no
 * such link, EINVAL if the link does not accept 'mtu', or another errno
 * value. */
int
link_set_mtu(struct link_ns *ns, const char *name, unsigned int mtu)
{
    if (!link_name_is_valid(name) || !mtu) {
        return EINVAL;
    }

    struct ofpbuf buf;
    link_request_init(&buf, RTM_NEWLINK, 0, name, 0, 0, 0);
    nl_msg_put_u32(&buf, IFLA_MTU, mtu);
    return link_request_finish(ns, &buf, NULL, NULL);
}

/* Sets the Ethernet address of the link named 'name' to 'mac'.  Returns 0,
 * ENODEV if there is no such link, or another errno value (EADDRNOTAVAIL for
 * a multicast address). */
int
link_set_mac(struct link_ns *ns, const char *name, const struct eth_addr *mac)
{
    if (!link_name_is_valid(name)) {
        return EINVAL;
    }

    struct ofpbuf buf;
    link_request_init(&buf, RTM_NEWLINK, 0, name, 0, 0, 0);
    nl_msg_put_unspec(&buf, IFLA_ADDRESS, mac, sizeof *mac);
    return link_request_finish(ns, &buf, NULL, NULL);
}

/* Deletes the link named 'name' (for a veth, both ends).  Returns 0, ENODEV
 * if there is no such link (which an idempotent delete treats as success),
 * or another errno value. */
int
link_delete(struct link_ns *ns, const char *name)
{
    if (!link_name_is_valid(name)) {
        return EINVAL;
    }

    struct ofpbuf buf;
    link_request_init(&buf, RTM_DELLINK, 0, name, 0, 0, 0);
    return link_request_finish(ns, &buf, NULL, NULL);
}

/* Sets the loopback interface "lo" of 'ns' up. */
int
link_loopback_up(struct link_ns *ns)
{
    return link_set_up(ns, "lo", true);
}

/* veth pairs. */

/* Creates a veth pair whose end 'host_name' is in 'host' and whose other end
 * is created directly in 'peer' under its final name 'peer_name', both with
 * MTU 'mtu' (0 for the kernel's default) and both down.  Returns 0, EEXIST if
 * 'host_name' exists in 'host' or 'peer_name' in 'peer' (look them up to
 * tell which), EINVAL for a bad name or MTU, or another errno value.  The
 * kernel creates both ends or neither. */
int
link_veth_create(struct link_ns *host, const char *host_name,
                 struct link_ns *peer, const char *peer_name,
                 unsigned int mtu)
{
    if (!link_name_is_valid(host_name) || !link_name_is_valid(peer_name)) {
        return EINVAL;
    }

    struct ofpbuf buf;
    link_request_init(&buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL,
                      host_name, 0, 0, 0);
    if (mtu) {
        nl_msg_put_u32(&buf, IFLA_MTU, mtu);
    }

    size_t linkinfo = nl_msg_start_nested(&buf, IFLA_LINKINFO);
    nl_msg_put_string(&buf, IFLA_INFO_KIND, "veth");
    size_t data = nl_msg_start_nested(&buf, IFLA_INFO_DATA);
    size_t peer_info = nl_msg_start_nested(&buf, VETH_INFO_PEER);
    struct ifinfomsg *ifi = ofpbuf_put_zeros(&buf, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    nl_msg_put_string(&buf, IFLA_IFNAME, peer_name);
    if (mtu) {
        nl_msg_put_u32(&buf, IFLA_MTU, mtu);
    }
    nl_msg_put_u32(&buf, IFLA_NET_NS_FD, peer->netns_fd);
    nl_msg_end_nested(&buf, peer_info);
    nl_msg_end_nested(&buf, data);
    nl_msg_end_nested(&buf, linkinfo);

    return link_request_finish(host, &buf, NULL, NULL);
}

/* Creates and configures a veth pair as 'opts' says: the host end in 'host'
 * and the peer created directly in 'peer' under its final name; with
 * opts->host_isolate, arp_ignore=8 and IPv6 off on the host end before it
 * goes up; with opts->peer_tx_csum_off, tx checksum offload off on the peer;
 * then both ends up.  Stores both ends' final state in '*host_info' and
 * '*peer_info' (each may be NULL).
 *
 * Returns NULL on success, or a malloc'd error message that the caller must
 * free.  On failure nothing is left behind: a pair created here is deleted
 * again (deleting the host end deletes the peer).  If the pair could not be
 * created because a name is taken, the message says which. */
char *
link_veth_add(struct link_ns *host, struct link_ns *peer,
              const struct link_veth_options *opts,
              struct link_info *host_info, struct link_info *peer_info)
{
    const char *hname = opts->host_name;
    const char *pname = opts->peer_name;
    struct link_info info;
    char *msg, *s;
    int error;

    if (!link_name_is_valid(hname)) {
        return xasprintf("invalid host interface name \"%s\"",
                         hname ? hname : "");
    }
    if (!link_name_is_valid(pname)) {
        return xasprintf("invalid interface name \"%s\"", pname ? pname : "");
    }

    error = link_veth_create(host, hname, peer, pname, opts->mtu);
    if (error == EEXIST) {
        if (!link_get(host, hname, &info)) {
            return xasprintf("host interface %s already exists", hname);
        } else if (!link_get(peer, pname, &info)) {
            return xasprintf("interface %s already exists in the target "
                             "network namespace", pname);
        }
    }
    if (error) {
        msg = link_ns_strerror(host, error);
        s = xasprintf("cannot create veth pair %s/%s: %s", hname, pname, msg);
        free(msg);
        return s;
    }

    const char *step;
    struct link_ns *where = host;
    if (opts->host_isolate) {
        step = "set arp_ignore on";
        error = link_sysctl_set(host, "ipv4", hname, "arp_ignore", "8");
        if (!error) {
            step = "disable IPv6 on";
            error = link_disable_ipv6(host, hname);
        }
        if (error) {
            goto rollback_host;
        }
    }
    step = "set up";
    error = link_set_up(host, hname, true);
    if (error) {
        goto rollback_host;
    }
    step = "read back";
    error = link_get(host, hname, host_info ? host_info : &info);
    if (error) {
        goto rollback_host;
    }

    where = peer;
    if (opts->peer_tx_csum_off) {
        step = "turn tx checksum offload off on";
        error = link_set_tx_csum(peer, pname, false);
        if (error) {
            goto rollback_peer;
        }
    }
    step = "set up";
    error = link_set_up(peer, pname, true);
    if (error) {
        goto rollback_peer;
    }
    step = "read back";
    error = link_get(peer, pname, peer_info ? peer_info : &info);
    if (error) {
        goto rollback_peer;
    }
    return NULL;

rollback_host:
    msg = link_ns_strerror(where, error);
    s = xasprintf("cannot %s host interface %s: %s", step, hname, msg);
    goto rollback;
rollback_peer:
    msg = link_ns_strerror(where, error);
    s = xasprintf("cannot %s interface %s: %s", step, pname, msg);
rollback:
    free(msg);
    error = link_delete(host, hname);
    if (error && error != ENODEV) {
        char *t = xasprintf("%s; deleting veth pair %s/%s again failed: %s",
                            s, hname, pname, ovs_strerror(error));
        free(s);
        s = t;
    }
    return s;
}

/* Addresses. */

static bool
link_family_is_valid(int family)
{
    return family == AF_INET || family == AF_INET6;
}

static size_t
link_addr_len(int family)
{
    return family == AF_INET ? 4 : 16;
}

/* Adds 'addr'/'plen' to the interface with index 'ifindex'.  For IPv4 with
 * a prefix shorter than /31 also sets the broadcast address.  IPv6
 * addresses skip duplicate address detection (IPAM hands them out), so they
 * are usable at once.  Returns 0, EEXIST if the interface already has the
 * address, ENODEV if there is no such interface, EINVAL for a bad family or
 * prefix length, or another errno value. */
int
link_addr_add(struct link_ns *ns, int ifindex, const struct ipaddr *addr,
              unsigned int plen)
{
    if (ifindex <= 0 || !link_family_is_valid(addr->family)
        || plen > ipaddr_bits(addr->family)) {
        return EINVAL;
    }

    struct ofpbuf buf;
    ofpbuf_init(&buf, 128);
    nl_msg_put_nlmsghdr(&buf, sizeof(struct ifaddrmsg), RTM_NEWADDR,
                        NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = ofpbuf_put_zeros(&buf, sizeof *ifa);
    ifa->ifa_family = addr->family;
    ifa->ifa_prefixlen = plen;
    ifa->ifa_flags = addr->family == AF_INET6 ? IFA_F_NODAD : 0;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = ifindex;

    size_t len = link_addr_len(addr->family);
    nl_msg_put_unspec(&buf, IFA_LOCAL, addr->bytes, len);
    nl_msg_put_unspec(&buf, IFA_ADDRESS, addr->bytes, len);
    if (addr->family == AF_INET && plen < 31) {
        uint8_t brd[4];
        for (int i = 0; i < 4; i++) {
            unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;
            uint8_t mask = bits >= 8 ? 0xff : (uint8_t) (0xff00 >> bits);
            brd[i] = addr->bytes[i] | (uint8_t) ~mask;
        }
        nl_msg_put_unspec(&buf, IFA_BROADCAST, brd, sizeof brd);
    }
    return link_request_finish(ns, &buf, NULL, NULL);
}

struct link_addr_dump {
    int ifindex;
    struct link_addr *addrs;
    size_t n, allocated;
};

static int
link_parse_addr(const struct ofpbuf *msg, void *dump_)
{
    static const struct nl_policy policy[] = {
        [IFA_ADDRESS] = { .type = NL_A_UNSPEC, .optional = true },
        [IFA_LOCAL] = { .type = NL_A_UNSPEC, .optional = true },
    };
    struct link_addr_dump *dump = dump_;
    struct nlattr *attrs[ARRAY_SIZE(policy)];

    const struct nlmsghdr *nlh = msg->data;
    const struct ifaddrmsg *ifa = ofpbuf_at(msg, NLMSG_HDRLEN, sizeof *ifa);
    if (nlh->nlmsg_type != RTM_NEWADDR || !ifa
        || !nl_policy_parse(msg, NLMSG_HDRLEN + sizeof *ifa,
                            policy, attrs, ARRAY_SIZE(policy))) {
        return EPROTO;
    }
    if (ifa->ifa_index != dump->ifindex
        || !link_family_is_valid(ifa->ifa_family)) {
        return 0;
    }

    /* IFA_LOCAL is the interface's own address; IFA_ADDRESS is the same or,
     * on a point-to-point link, the peer's.  IPv6 often has only the
     * latter. */
    const struct nlattr *a = attrs[IFA_LOCAL] ? attrs[IFA_LOCAL]
                                              : attrs[IFA_ADDRESS];
    size_t len = link_addr_len(ifa->ifa_family);
    if (!a || nl_attr_get_size(a) != len) {
        return EPROTO;
    }

    if (dump->n >= dump->allocated) {
        dump->addrs = x2nrealloc(dump->addrs, &dump->allocated,
                                 sizeof *dump->addrs);
    }
    struct link_addr *la = &dump->addrs[dump->n++];
    memset(la, 0, sizeof *la);
    la->addr.family = ifa->ifa_family;
    memcpy(la->addr.bytes, nl_attr_get(a), len);
    la->plen = ifa->ifa_prefixlen;
    la->scope = ifa->ifa_scope;
    return 0;
}

/* Lists the addresses of the interface with index 'ifindex' of the given
 * 'family' (AF_INET, AF_INET6, or AF_UNSPEC for both), including IPv6
 * link-local ones (see their 'scope').  Stores a malloc'd array in '*addrsp'
 * that the caller must free and its length in '*n_addrsp'.  An interface
 * that does not exist has no addresses. */
int
link_addr_list(struct link_ns *ns, int ifindex, int family,
               struct link_addr **addrsp, size_t *n_addrsp)
{
    *addrsp = NULL;
    *n_addrsp = 0;
    if (ifindex <= 0
        || (family != AF_UNSPEC && !link_family_is_valid(family))) {
        return EINVAL;
    }

    struct ofpbuf buf;
    ofpbuf_init(&buf, 64);
    nl_msg_put_nlmsghdr(&buf, sizeof(struct ifaddrmsg), RTM_GETADDR,
                        NLM_F_DUMP);
    struct ifaddrmsg *ifa = ofpbuf_put_zeros(&buf, sizeof *ifa);
    ifa->ifa_family = family;

    struct link_addr_dump dump = { .ifindex = ifindex };
    int error = link_request_finish(ns, &buf, link_parse_addr, &dump);
    if (error) {
        free(dump.addrs);
        return error;
    }
    *addrsp = dump.addrs;
    *n_addrsp = dump.n;
    return 0;
}

/* Routes. */

/* Sends one route request for the main routing table.  Without a gateway a
 * route is on-link (scope link for IPv4).  Returns 0, EEXIST if adding a
 * route the table has, ESRCH if deleting one it lacks, ENETUNREACH if the
 * gateway is not reachable through the interface and 'onlink' is false,
 * ENODEV if the interface does not exist, EINVAL for bad arguments, or
 * another errno value. */
static int
link_route_request(struct link_ns *ns, const struct link_route *route,
                   int type, int flags)
{
    int family = route->dst.addr.family;
    bool has_gw = route->gw.family != AF_UNSPEC;
    if (!link_family_is_valid(family)
        || route->dst.plen > ipaddr_bits(family)
        || (has_gw && route->gw.family != family)
        || route->ifindex < 0
        || (!route->ifindex && !has_gw && type == RTM_NEWROUTE)) {
        return EINVAL;
    }

    struct ofpbuf buf;
    ofpbuf_init(&buf, 128);
    nl_msg_put_nlmsghdr(&buf, sizeof(struct rtmsg), type, flags);
    struct rtmsg *rtm = ofpbuf_put_zeros(&buf, sizeof *rtm);
    rtm->rtm_family = family;
    rtm->rtm_dst_len = route->dst.plen;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_scope = (has_gw || family == AF_INET6 ? RT_SCOPE_UNIVERSE
                      : RT_SCOPE_LINK);
    rtm->rtm_type = RTN_UNICAST;
    rtm->rtm_flags = route->onlink ? RTNH_F_ONLINK : 0;

    size_t len = link_addr_len(family);
    if (route->dst.plen) {
        nl_msg_put_unspec(&buf, RTA_DST, route->dst.addr.bytes, len);
    }
    if (has_gw) {
        nl_msg_put_unspec(&buf, RTA_GATEWAY, route->gw.bytes, len);
    }
    if (route->ifindex) {
        nl_msg_put_u32(&buf, RTA_OIF, route->ifindex);
    }
    return link_request_finish(ns, &buf, NULL, NULL);
}

/* Adds 'route'; EEXIST if the table has it already.  A route with a
 * gateway may leave 'ifindex' 0 for the kernel to choose. */
int
link_route_add(struct link_ns *ns, const struct link_route *route)
{
    return link_route_request(ns, route, RTM_NEWROUTE,
                              NLM_F_CREATE | NLM_F_EXCL);
}

/* Adds 'route' or replaces the route to the same destination. */
int
link_route_replace(struct link_ns *ns, const struct link_route *route)
{
    return link_route_request(ns, route, RTM_NEWROUTE,
                              NLM_F_CREATE | NLM_F_REPLACE);
}

/* Deletes the route to route->dst (matching its gateway and interface
 * where given).  ESRCH if there is none. */
int
link_route_del(struct link_ns *ns, const struct link_route *route)
{
    return link_route_request(ns, route, RTM_DELROUTE, 0);
}

struct link_route_dump {
    int ifindex;
    struct link_route *routes;
    size_t n, allocated;
};

static int
link_parse_route(const struct ofpbuf *msg, void *dump_)
{
    static const struct nl_policy policy[] = {
        [RTA_DST] = { .type = NL_A_UNSPEC, .optional = true },
        [RTA_OIF] = { .type = NL_A_U32, .optional = true },
        [RTA_GATEWAY] = { .type = NL_A_UNSPEC, .optional = true },
        [RTA_TABLE] = { .type = NL_A_U32, .optional = true },
    };
    struct link_route_dump *dump = dump_;
    struct nlattr *attrs[ARRAY_SIZE(policy)];

    const struct nlmsghdr *nlh = msg->data;
    const struct rtmsg *rtm = ofpbuf_at(msg, NLMSG_HDRLEN, sizeof *rtm);
    if (nlh->nlmsg_type != RTM_NEWROUTE || !rtm
        || !nl_policy_parse(msg, NLMSG_HDRLEN + sizeof *rtm,
                            policy, attrs, ARRAY_SIZE(policy))) {
        return EPROTO;
    }

    uint32_t table = (attrs[RTA_TABLE] ? nl_attr_get_u32(attrs[RTA_TABLE])
                      : rtm->rtm_table);
    if (!link_family_is_valid(rtm->rtm_family)
        || table != RT_TABLE_MAIN
        || rtm->rtm_type != RTN_UNICAST
        || rtm->rtm_flags & RTM_F_CLONED
        || !attrs[RTA_OIF]
        || nl_attr_get_u32(attrs[RTA_OIF]) != dump->ifindex) {
        return 0;
    }

    int family = rtm->rtm_family;
    size_t len = link_addr_len(family);
    if (rtm->rtm_dst_len > ipaddr_bits(family)
        || (attrs[RTA_DST] && nl_attr_get_size(attrs[RTA_DST]) != len)
        || (attrs[RTA_GATEWAY]
            && nl_attr_get_size(attrs[RTA_GATEWAY]) != len)) {
        return EPROTO;
    }

    if (dump->n >= dump->allocated) {
        dump->routes = x2nrealloc(dump->routes, &dump->allocated,
                                  sizeof *dump->routes);
    }
    struct link_route *r = &dump->routes[dump->n++];
    memset(r, 0, sizeof *r);
    r->dst.addr.family = family;
    r->dst.plen = rtm->rtm_dst_len;
    if (attrs[RTA_DST]) {
        memcpy(r->dst.addr.bytes, nl_attr_get(attrs[RTA_DST]), len);
    }
    if (attrs[RTA_GATEWAY]) {
        r->gw.family = family;
        memcpy(r->gw.bytes, nl_attr_get(attrs[RTA_GATEWAY]), len);
    }
    r->ifindex = dump->ifindex;
    r->onlink = (rtm->rtm_flags & RTNH_F_ONLINK) != 0;
    r->protocol = rtm->rtm_protocol;
    return 0;
}

/* Lists the unicast routes of the main table of the given 'family'
 * (AF_INET, AF_INET6, or AF_UNSPEC for both) whose output interface is the
 * one with index 'ifindex', including the prefix routes the kernel made for
 * the interface's addresses (see their 'protocol').  Multipath routes are
 * not listed.  Stores a malloc'd array in '*routesp' that the caller must
 * free and its length in '*n_routesp'. */
int
link_route_list(struct link_ns *ns, int ifindex, int family,
                struct link_route **routesp, size_t *n_routesp)
{
    *routesp = NULL;
    *n_routesp = 0;
    if (ifindex <= 0
        || (family != AF_UNSPEC && !link_family_is_valid(family))) {
        return EINVAL;
    }

    struct ofpbuf buf;
    ofpbuf_init(&buf, 64);
    nl_msg_put_nlmsghdr(&buf, sizeof(struct rtmsg), RTM_GETROUTE, NLM_F_DUMP);
    struct rtmsg *rtm = ofpbuf_put_zeros(&buf, sizeof *rtm);
    rtm->rtm_family = family;

    struct link_route_dump dump = { .ifindex = ifindex };
    int error = link_request_finish(ns, &buf, link_parse_route, &dump);
    if (error) {
        free(dump.routes);
        return error;
    }
    *routesp = dump.routes;
    *n_routesp = dump.n;
    return 0;
}

struct link_route_get {
    int family;
    int ifindex;
    struct ipaddr gw;
};

static int
link_parse_route_get(const struct ofpbuf *msg, void *get_)
{
    static const struct nl_policy policy[] = {
        [RTA_OIF] = { .type = NL_A_U32, .optional = true },
        [RTA_GATEWAY] = { .type = NL_A_UNSPEC, .optional = true },
    };
    struct link_route_get *get = get_;
    struct nlattr *attrs[ARRAY_SIZE(policy)];
    const struct nlmsghdr *nlh = msg->data;
    const struct rtmsg *rtm = ofpbuf_at(msg, NLMSG_HDRLEN, sizeof *rtm);
    if (nlh->nlmsg_type != RTM_NEWROUTE || !rtm
        || !nl_policy_parse(msg, NLMSG_HDRLEN + sizeof *rtm,
                            policy, attrs, ARRAY_SIZE(policy))
        || !attrs[RTA_OIF]) {
        return EPROTO;
    }
    size_t len = link_addr_len(get->family);
    get->ifindex = nl_attr_get_u32(attrs[RTA_OIF]);
    if (attrs[RTA_GATEWAY] && nl_attr_get_size(attrs[RTA_GATEWAY]) == len) {
        get->gw.family = get->family;
        memcpy(get->gw.bytes, nl_attr_get(attrs[RTA_GATEWAY]), len);
    }
    return 0;
}

/* Asks the kernel how it would reach 'dst' (as `ip route get`): stores the
 * output interface in '*ifindex' and the next hop in '*next_hop', which is
 * 'dst' itself when it is on-link.  Returns 0 or an errno value
 * (ENETUNREACH when there is no route). */
int
link_route_get(struct link_ns *ns, const struct ipaddr *dst, int *ifindex,
               struct ipaddr *next_hop)
{
    if (!link_family_is_valid(dst->family)) {
        return EINVAL;
    }
    struct ofpbuf buf;
    ofpbuf_init(&buf, 64);
    nl_msg_put_nlmsghdr(&buf, sizeof(struct rtmsg), RTM_GETROUTE, 0);
    struct rtmsg *rtm = ofpbuf_put_zeros(&buf, sizeof *rtm);
    rtm->rtm_family = dst->family;
    rtm->rtm_dst_len = ipaddr_bits(dst->family);
    nl_msg_put_unspec(&buf, RTA_DST, dst->bytes, link_addr_len(dst->family));

    struct link_route_get get = { .family = dst->family };
    int error = link_request_finish(ns, &buf, link_parse_route_get, &get);
    if (!error) {
        *ifindex = get.ifindex;
        *next_hop = get.gw.family != AF_UNSPEC ? get.gw : *dst;
    }
    return error;
}

/* Makes the kernel resolve the link-layer address of neighbour 'ip' on the
 * interface 'ifindex' (ARP or neighbour discovery) unless it knows it
 * already, as `ip neigh replace IP dev DEV use` does (NTF_USE).  Returns 0
 * or an errno value; the answer comes later, if at all. */
int
link_neigh_resolve(struct link_ns *ns, int ifindex, const struct ipaddr *ip)
{
    if (!link_family_is_valid(ip->family) || ifindex <= 0) {
        return EINVAL;
    }
    struct ofpbuf buf;
    ofpbuf_init(&buf, 64);
    nl_msg_put_nlmsghdr(&buf, sizeof(struct ndmsg), RTM_NEWNEIGH,
                        NLM_F_CREATE | NLM_F_REPLACE);
    struct ndmsg *ndm = ofpbuf_put_zeros(&buf, sizeof *ndm);
    ndm->ndm_family = ip->family;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_state = NUD_NONE;
    ndm->ndm_flags = NTF_USE;
    nl_msg_put_unspec(&buf, NDA_DST, ip->bytes, link_addr_len(ip->family));
    return link_request_finish(ns, &buf, NULL, NULL);
}

/* ethtool. */

struct link_ethtool_aux {
    const char *name;
    struct ethtool_value ev;
};

static int
link_ethtool_cb(void *aux_)
{
    struct link_ethtool_aux *aux = aux_;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }

    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ovs_strlcpy(ifr.ifr_name, aux->name, sizeof ifr.ifr_name);
    ifr.ifr_data = (void *) &aux->ev;
    int error = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? errno : 0;
    close(fd);
    return error;
}

static int
link_ethtool(struct link_ns *ns, const char *name, uint32_t cmd,
             uint32_t *data)
{
    if (!link_name_is_valid(name)) {
        return EINVAL;
    }

    struct link_ethtool_aux aux = {
        .name = name,
        .ev = { .cmd = cmd, .data = *data },
    };
    int error = tnetns_run(ns->netns_fd, link_ethtool_cb, &aux);
    if (!error) {
        *data = aux.ev.data;
    }
    return error;
}

/* Turns transmit checksum offload of the link named 'name' on or off
 * (ETHTOOL_STXCSUM), like "ethtool -K NAME tx on|off".  OVS's userspace
 * datapath does not fill in checksums that a veth left to offload, so a
 * pod's end of a veth needs it off.  Returns 0, ENODEV if there is no such
 * link, EOPNOTSUPP if the driver cannot change it, or another errno
 * value. */
int
link_set_tx_csum(struct link_ns *ns, const char *name, bool enable)
{
    uint32_t data = enable;
    return link_ethtool(ns, name, ETHTOOL_STXCSUM, &data);
}

/* Stores in '*enabledp' whether transmit checksum offload of the link named
 * 'name' is on (ETHTOOL_GTXCSUM).  Returns 0, ENODEV if there is no such
 * link, or another errno value. */
int
link_get_tx_csum(struct link_ns *ns, const char *name, bool *enabledp)
{
    uint32_t data = 0;
    int error = link_ethtool(ns, name, ETHTOOL_GTXCSUM, &data);
    *enabledp = !error && data;
    return error;
}

/* sysctl. */

struct link_sysctl_aux {
    char *path;                 /* /proc/sys/net/PROTO/conf/IFNAME/KEY. */
    const char *write;          /* Value to write, or NULL to read. */
    char *buf;                  /* Where to read into. */
    size_t size;
    bool skip_if_no_ipv6;       /* Succeed if /proc/sys/net/ipv6 is absent. */
};

static int
link_sysctl_cb(void *aux_)
{
    struct link_sysctl_aux *aux = aux_;

    if (aux->skip_if_no_ipv6 && access("/proc/sys/net/ipv6", F_OK) < 0
        && errno == ENOENT) {
        return 0;
    }

    int fd = open(aux->path, (aux->write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }

    int error = 0;
    if (aux->write) {
        size_t len = strlen(aux->write);
        ssize_t n = write(fd, aux->write, len);
        if (n < 0) {
            error = errno;
        } else if (n != len) {
            error = EIO;
        }
    } else {
        ssize_t n = read(fd, aux->buf, aux->size - 1);
        if (n < 0) {
            error = errno;
        } else {
            while (n > 0 && (aux->buf[n - 1] == '\n'
                             || aux->buf[n - 1] == ' ')) {
                n--;
            }
            aux->buf[n] = '\0';
        }
    }
    close(fd);
    return error;
}

static bool
link_sysctl_component_is_valid(const char *s)
{
    return s && s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static int
link_sysctl(struct link_ns *ns, const char *proto, const char *ifname,
            const char *key, struct link_sysctl_aux *aux)
{
    if ((!proto || (strcmp(proto, "ipv4") && strcmp(proto, "ipv6")))
        || !link_name_is_valid(ifname)
        || !link_sysctl_component_is_valid(key)) {
        return EINVAL;
    }

    aux->path = xasprintf("/proc/sys/net/%s/conf/%s/%s", proto, ifname, key);
    int error = tnetns_run(ns->netns_fd, link_sysctl_cb, aux);
    free(aux->path);
    return error;
}

/* Writes 'value' to the sysctl net.PROTO.conf.IFNAME.KEY of 'ns', where
 * 'proto' is "ipv4" or "ipv6", for example ("ipv4", "tnd1234",
 * "arp_ignore", "8").  Returns 0, ENOENT if the interface or the key does not
 * exist, EINVAL for a bad argument or a value the kernel rejects, or another
 * errno value. */
int
link_sysctl_set(struct link_ns *ns, const char *proto, const char *ifname,
                const char *key, const char *value)
{
    if (!value) {
        return EINVAL;
    }
    struct link_sysctl_aux aux = { .write = value };
    return link_sysctl(ns, proto, ifname, key, &aux);
}

/* Reads the sysctl net.PROTO.conf.IFNAME.KEY of 'ns' into 'buf' (of 'size'
 * bytes) as a string without its trailing new-line.  Returns 0, ENOENT if
 * the interface or the key does not exist, or another errno value. */
int
link_sysctl_get(struct link_ns *ns, const char *proto, const char *ifname,
                const char *key, char *buf, size_t size)
{
    if (!buf || size < 2) {
        return EINVAL;
    }
    buf[0] = '\0';
    struct link_sysctl_aux aux = { .buf = buf, .size = size };
    return link_sysctl(ns, proto, ifname, key, &aux);
}

/* Turns IPv6 off on the interface 'ifname' of 'ns'
 * (net.ipv6.conf.IFNAME.disable_ipv6=1).  A kernel without IPv6 (no
 * /proc/sys/net/ipv6) is not an error.  Returns 0, ENOENT if there is no
 * such interface, or another errno value. */
int
link_disable_ipv6(struct link_ns *ns, const char *ifname)
{
    struct link_sysctl_aux aux = { .write = "1", .skip_if_no_ipv6 = true };
    return link_sysctl(ns, "ipv6", ifname, "disable_ipv6", &aux);
}
