/*
 * System test of lib/netns and lib/link: needs root.  Every test works in two
 * anonymous network namespaces, a "host" and a "pod", made with
 * unshare(CLONE_NEWNET) and held only by file descriptors, so that closing
 * them removes everything the test made; the test's own thread always
 * returns to its original namespace and sends traffic only between the two.
 *
 * Exit code 77 (skipped) if not root or namespaces cannot be made.
 */
#include "ovs-config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <cmocka.h>

#include "tests/unit/test-util.h"

#include "lib/cidr.h"
#include "lib/link.h"
#include "lib/netns.h"

#define HOST_IF "tndtest0"
#define POD_IF "eth0"

struct fixture {
    int orig_fd;                /* The namespace the test runs in. */
    int host_fd, pod_fd;        /* The anonymous namespaces. */
    struct link_ns *orig, *host, *pod;
};

/* Makes a new anonymous network namespace, stores a descriptor for it in
 * '*fdp' and returns the calling thread to 'orig_fd'. */
static int
new_netns(int orig_fd, int *fdp)
{
    *fdp = -1;
    if (unshare(CLONE_NEWNET) < 0) {
        return errno;
    }
    int error = tnetns_open_current(fdp);
    if (setns(orig_fd, CLONE_NEWNET) < 0) {
        fprintf(stderr, "cannot return to the original namespace: %s\n",
                strerror(errno));
        abort();
    }
    return error;
}

static void
assert_in_netns(int fd)
{
    int cur_fd;
    bool same;

    assert_int_equal(tnetns_open_current(&cur_fd), 0);
    assert_int_equal(tnetns_same(cur_fd, fd, &same), 0);
    close(cur_fd);
    assert_true(same);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->host_fd = f->pod_fd = -1;
    if (tnetns_open_current(&f->orig_fd)
        || new_netns(f->orig_fd, &f->host_fd)
        || new_netns(f->orig_fd, &f->pod_fd)
        || link_ns_open(-1, &f->orig)
        || link_ns_open(f->host_fd, &f->host)
        || link_ns_open(f->pod_fd, &f->pod)) {
        fprintf(stderr, "cannot set up namespaces: %s\n", strerror(errno));
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    link_ns_close(f->orig);
    link_ns_close(f->host);
    link_ns_close(f->pod);
    assert_in_netns(f->orig_fd);
    close(f->host_fd);
    close(f->pod_fd);
    close(f->orig_fd);
    free(f);
    return 0;
}

static void
create_veth(struct fixture *f, unsigned int mtu)
{
    int error = link_veth_create(f->host, HOST_IF, f->pod, POD_IF, mtu);
    if (error) {
        char *msg = link_ns_strerror(f->host, error);
        fail_msg("link_veth_create: %s", msg);
    }
}

/* Namespaces. */

static void
test_netns_open(void **state)
{
    struct fixture *f = *state;
    int fd;

    assert_int_equal(tnetns_open("/proc/self/ns/net", &fd), 0);
    assert_true(fd >= 0);
    close(fd);

    assert_int_equal(tnetns_open("/var/run/netns/tendril-no-such-ns", &fd),
                     ENOENT);
    assert_int_equal(fd, -1);
    assert_int_equal(tnetns_open("", &fd), EINVAL);

    /* Existing paths that are not network namespaces. */
    static const char *not_netns[] = {
        "/proc/self/ns/mnt", "/proc/self/ns/uts", "/proc/self/status", "/",
    };
    for (size_t i = 0; i < sizeof not_netns / sizeof *not_netns; i++) {
        int error = tnetns_open(not_netns[i], &fd);
        if (error != EINVAL) {
            fail_msg("tnetns_open(%s) returned %d (%s)", not_netns[i],
                     error, strerror(error));
        }
        assert_int_equal(fd, -1);
    }
    assert_string_equal(tnetns_strerror(EINVAL), "not a network namespace");
    assert_string_equal(tnetns_strerror(ENOENT), strerror(ENOENT));

    /* Handles on distinct namespaces are distinct. */
    bool same;
    assert_int_equal(tnetns_same(f->host_fd, f->pod_fd, &same), 0);
    assert_false(same);
    assert_int_equal(tnetns_same(f->pod_fd, link_ns_fd(f->pod), &same), 0);
    assert_true(same);
}

struct run_aux {
    int expect_fd;
    bool ran;
    bool was_there;
};

static int
run_cb(void *aux_)
{
    struct run_aux *aux = aux_;
    int cur_fd;

    aux->ran = true;
    if (!tnetns_open_current(&cur_fd)) {
        (void) !tnetns_same(cur_fd, aux->expect_fd, &aux->was_there);
        close(cur_fd);
    }
    return EIO;
}

static void
test_netns_run(void **state)
{
    struct fixture *f = *state;

    /* The callback runs in the namespace; its failure is passed on and
     * the thread still comes back. */
    struct run_aux aux = { .expect_fd = f->pod_fd };
    assert_int_equal(tnetns_run(f->pod_fd, run_cb, &aux), EIO);
    assert_true(aux.ran);
    assert_true(aux.was_there);
    assert_in_netns(f->orig_fd);

    /* Entering fails: the callback does not run. */
    int file_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    assert_true(file_fd >= 0);
    aux.ran = false;
    assert_int_equal(tnetns_run(file_fd, run_cb, &aux), EINVAL);
    assert_false(aux.ran);
    close(file_fd);
    assert_int_equal(tnetns_run(-1, run_cb, &aux), EBADF);
    assert_false(aux.ran);
    assert_in_netns(f->orig_fd);

    /* A link_ns refuses a descriptor that is not a network namespace. */
    struct link_ns *ns;
    file_fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
    assert_true(file_fd >= 0);
    assert_int_equal(link_ns_open(file_fd, &ns), EINVAL);
    assert_null(ns);
    close(file_fd);
}

/* Links. */

static void
test_veth_create(void **state)
{
    struct fixture *f = *state;
    struct link_info host, pod, info;

    create_veth(f, 1400);

    assert_int_equal(link_get(f->host, HOST_IF, &host), 0);
    assert_string_equal(host.name, HOST_IF);
    assert_string_equal(host.kind, "veth");
    assert_int_equal(host.mtu, 1400);
    assert_false(host.up);
    assert_true(host.ifindex > 0);

    /* The peer was born in the pod's namespace under its final name. */
    assert_int_equal(link_get(f->pod, POD_IF, &pod), 0);
    assert_string_equal(pod.name, POD_IF);
    assert_string_equal(pod.kind, "veth");
    assert_int_equal(pod.mtu, 1400);
    assert_int_equal(host.peer_ifindex, pod.ifindex);
    assert_int_equal(pod.peer_ifindex, host.ifindex);
    assert_memory_not_equal(&pod.mac, &host.mac, sizeof pod.mac);

    assert_int_equal(link_get_by_index(f->pod, pod.ifindex, &info), 0);
    assert_string_equal(info.name, POD_IF);

    /* Nothing leaked to the other namespaces. */
    assert_int_equal(link_get(f->host, POD_IF, &info), ENODEV);
    assert_int_equal(link_get(f->pod, HOST_IF, &info), ENODEV);
    assert_int_equal(link_get(f->orig, HOST_IF, &info), ENODEV);

    /* The same names again; the host name alone; the pod name alone. */
    assert_int_equal(link_veth_create(f->host, HOST_IF, f->pod, POD_IF, 0),
                     EEXIST);
    assert_int_equal(link_veth_create(f->host, HOST_IF, f->pod, "eth1", 0),
                     EEXIST);
    assert_int_equal(link_veth_create(f->host, "tndtest1", f->pod, POD_IF, 0),
                     EEXIST);
    assert_int_equal(link_get(f->host, "tndtest1", &info), ENODEV);
    assert_int_equal(link_get(f->pod, "eth1", &info), ENODEV);

    /* Names the kernel would refuse are refused before asking it. */
    assert_int_equal(link_veth_create(f->host, "tnd0123456789abcd", f->pod,
                                      "eth1", 0), EINVAL);
    assert_int_equal(link_veth_create(f->host, "a/b", f->pod, "eth1", 0),
                     EINVAL);
    assert_int_equal(link_veth_create(f->host, "tndtest1", f->pod, "", 0),
                     EINVAL);

    /* An MTU the kernel refuses. */
    assert_int_equal(link_veth_create(f->host, "tndtest1", f->pod, "eth1",
                                      20), EINVAL);
}

static void
test_absent_link(void **state)
{
    struct fixture *f = *state;
    struct link_info info;
    bool on;

    assert_int_equal(link_get(f->host, "tndabsent", &info), ENODEV);
    assert_int_equal(link_get_by_index(f->host, 4242, &info), ENODEV);
    assert_int_equal(link_delete(f->host, "tndabsent"), ENODEV);
    assert_int_equal(link_set_up(f->host, "tndabsent", true), ENODEV);
    assert_int_equal(link_set_mtu(f->host, "tndabsent", 1400), ENODEV);
    assert_int_equal(link_set_tx_csum(f->host, "tndabsent", false), ENODEV);
    assert_int_equal(link_get_tx_csum(f->host, "tndabsent", &on), ENODEV);
    assert_int_equal(link_sysctl_set(f->host, "ipv4", "tndabsent",
                                     "arp_ignore", "8"), ENOENT);
}

static void
test_mtu_up_mac(void **state)
{
    struct fixture *f = *state;
    struct link_info info;

    create_veth(f, 0);
    assert_int_equal(link_get(f->pod, POD_IF, &info), 0);
    assert_int_equal(info.mtu, 1500);

    assert_int_equal(link_set_mtu(f->pod, POD_IF, 1450), 0);
    assert_int_equal(link_get(f->pod, POD_IF, &info), 0);
    assert_int_equal(info.mtu, 1450);
    assert_int_equal(link_set_mtu(f->pod, POD_IF, 10), EINVAL);
    assert_int_equal(link_set_mtu(f->pod, POD_IF, 0), EINVAL);

    assert_int_equal(link_set_up(f->pod, POD_IF, true), 0);
    assert_int_equal(link_get(f->pod, POD_IF, &info), 0);
    assert_true(info.up);
    assert_true(info.flags & IFF_UP);
    assert_int_equal(link_set_up(f->pod, POD_IF, false), 0);
    assert_int_equal(link_get(f->pod, POD_IF, &info), 0);
    assert_false(info.up);

    struct eth_addr mac = { { { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } } };
    assert_int_equal(link_set_mac(f->pod, POD_IF, &mac), 0);
    assert_int_equal(link_get(f->pod, POD_IF, &info), 0);
    assert_memory_equal(&info.mac, &mac, sizeof mac);

    /* A fresh namespace's loopback is down until set up. */
    assert_int_equal(link_get(f->pod, "lo", &info), 0);
    assert_false(info.up);
    assert_int_equal(link_loopback_up(f->pod), 0);
    assert_int_equal(link_get(f->pod, "lo", &info), 0);
    assert_true(info.up);
}

static bool
has_addr(const struct link_addr *addrs, size_t n, const char *ip,
         unsigned int plen)
{
    struct ipaddr want = must_ip(ip);
    for (size_t i = 0; i < n; i++) {
        if (ipaddr_equals(&addrs[i].addr, &want) && addrs[i].plen == plen) {
            return true;
        }
    }
    return false;
}

static bool
has_route(const struct link_route *routes, size_t n, const char *dst,
          const char *gw, bool onlink)
{
    struct cidr want_dst = must_cidr(dst);
    struct ipaddr want_gw = { .family = AF_UNSPEC };
    if (gw) {
        want_gw = must_ip(gw);
    }
    for (size_t i = 0; i < n; i++) {
        const struct link_route *r = &routes[i];
        if (cidr_equals(&r->dst, &want_dst)
            && (gw ? ipaddr_equals(&r->gw, &want_gw)
                : r->gw.family == AF_UNSPEC)
            && r->onlink == onlink) {
            return true;
        }
    }
    return false;
}

static void
test_addr_route(void **state)
{
    struct fixture *f = *state;
    struct link_info pod;

    create_veth(f, 0);
    assert_int_equal(link_set_up(f->host, HOST_IF, true), 0);
    assert_int_equal(link_set_up(f->pod, POD_IF, true), 0);
    assert_int_equal(link_get(f->pod, POD_IF, &pod), 0);

    struct ipaddr ip4 = must_ip("10.99.0.2");
    struct ipaddr ip6 = must_ip("fd99::2");
    assert_int_equal(link_addr_add(f->pod, pod.ifindex, &ip4, 24), 0);
    assert_int_equal(link_addr_add(f->pod, pod.ifindex, &ip6, 64), 0);
    assert_int_equal(link_addr_add(f->pod, pod.ifindex, &ip4, 24), EEXIST);
    assert_int_equal(link_addr_add(f->pod, pod.ifindex, &ip4, 33), EINVAL);
    assert_int_equal(link_addr_add(f->pod, 4242, &ip4, 24), ENODEV);

    struct link_addr *addrs;
    size_t n_addrs;
    assert_int_equal(link_addr_list(f->pod, pod.ifindex, AF_UNSPEC,
                                    &addrs, &n_addrs), 0);
    assert_true(has_addr(addrs, n_addrs, "10.99.0.2", 24));
    assert_true(has_addr(addrs, n_addrs, "fd99::2", 64));
    free(addrs);

    assert_int_equal(link_addr_list(f->pod, pod.ifindex, AF_INET,
                                    &addrs, &n_addrs), 0);
    assert_int_equal(n_addrs, 1);
    assert_true(has_addr(addrs, n_addrs, "10.99.0.2", 24));
    free(addrs);

    /* The host end has none. */
    struct link_info host;
    assert_int_equal(link_get(f->host, HOST_IF, &host), 0);
    assert_int_equal(link_addr_list(f->host, host.ifindex, AF_INET,
                                    &addrs, &n_addrs), 0);
    assert_int_equal(n_addrs, 0);
    free(addrs);

    /* Routes: a default route through a gateway in the subnet, one through
     * an on-link gateway outside it, a direct one, and an IPv6 one. */
    struct link_route r = {
        .dst = must_cidr("0.0.0.0/0"),
        .gw = must_ip("10.99.0.1"),
        .ifindex = pod.ifindex,
    };
    assert_int_equal(link_route_add(f->pod, &r), 0);
    assert_int_equal(link_route_add(f->pod, &r), EEXIST);

    r.dst = must_cidr("192.168.50.0/24");
    r.gw = must_ip("169.254.1.1");
    assert_int_equal(link_route_add(f->pod, &r), ENETUNREACH);

    /* The kernel explains this one (extended acknowledgement). */
    char *msg = link_ns_strerror(f->pod, ENETUNREACH);
    if (!strstr(msg, strerror(ENETUNREACH)) || !strchr(msg, '(')) {
        fail_msg("no explanation from the kernel in \"%s\"", msg);
    }
    free(msg);
    msg = link_ns_strerror(f->pod, EEXIST);
    assert_string_equal(msg, strerror(EEXIST));
    free(msg);
    r.onlink = true;
    assert_int_equal(link_route_add(f->pod, &r), 0);

    r = (struct link_route) {
        .dst = must_cidr("172.30.0.0/16"),
        .ifindex = pod.ifindex,
    };
    assert_int_equal(link_route_add(f->pod, &r), 0);

    r = (struct link_route) {
        .dst = must_cidr("fd98::/64"),
        .gw = must_ip("fd99::1"),
        .ifindex = pod.ifindex,
    };
    assert_int_equal(link_route_add(f->pod, &r), 0);

    /* Bad arguments. */
    r.gw = must_ip("10.99.0.1");
    assert_int_equal(link_route_add(f->pod, &r), EINVAL);
    r.gw.family = AF_UNSPEC;
    r.ifindex = 0;
    assert_int_equal(link_route_add(f->pod, &r), EINVAL);

    struct link_route *routes;
    size_t n_routes;
    assert_int_equal(link_route_list(f->pod, pod.ifindex, AF_UNSPEC,
                                     &routes, &n_routes), 0);
    assert_true(has_route(routes, n_routes, "0.0.0.0/0", "10.99.0.1",
                          false));
    assert_true(has_route(routes, n_routes, "192.168.50.0/24", "169.254.1.1",
                          true));
    assert_true(has_route(routes, n_routes, "172.30.0.0/16", NULL, false));
    assert_true(has_route(routes, n_routes, "fd98::/64", "fd99::1", false));
    assert_true(has_route(routes, n_routes, "10.99.0.0/24", NULL, false));
    /* Ours are RTPROT_BOOT; the prefix routes of the addresses (and IPv6's
     * fe80::/64) are the kernel's. */
    struct cidr direct = must_cidr("172.30.0.0/16");
    for (size_t i = 0; i < n_routes; i++) {
        const struct link_route *rt = &routes[i];
        bool ours = (rt->gw.family != AF_UNSPEC
                     || cidr_equals(&rt->dst, &direct));
        assert_int_equal(rt->ifindex, pod.ifindex);
        assert_int_equal(rt->protocol, ours ? RTPROT_BOOT : RTPROT_KERNEL);
    }
    free(routes);

    assert_int_equal(link_route_list(f->pod, pod.ifindex, AF_INET,
                                     &routes, &n_routes), 0);
    assert_int_equal(n_routes, 4);
    free(routes);
    assert_int_equal(link_route_list(f->host, host.ifindex, AF_INET,
                                     &routes, &n_routes), 0);
    assert_int_equal(n_routes, 0);
    free(routes);
}

static void
test_tx_csum(void **state)
{
    struct fixture *f = *state;
    bool on;

    create_veth(f, 0);
    assert_int_equal(link_get_tx_csum(f->pod, POD_IF, &on), 0);
    assert_true(on);
    assert_int_equal(link_set_tx_csum(f->pod, POD_IF, false), 0);
    assert_int_equal(link_get_tx_csum(f->pod, POD_IF, &on), 0);
    assert_false(on);

    /* The host end is untouched, and is not visible from the pod. */
    assert_int_equal(link_get_tx_csum(f->host, HOST_IF, &on), 0);
    assert_true(on);
    assert_int_equal(link_get_tx_csum(f->pod, HOST_IF, &on), ENODEV);

    assert_int_equal(link_set_tx_csum(f->pod, POD_IF, true), 0);
    assert_int_equal(link_get_tx_csum(f->pod, POD_IF, &on), 0);
    assert_true(on);
}

static void
test_sysctl(void **state)
{
    struct fixture *f = *state;
    char buf[32];

    create_veth(f, 0);
    assert_int_equal(link_sysctl_get(f->host, "ipv4", HOST_IF, "arp_ignore",
                                     buf, sizeof buf), 0);
    assert_string_equal(buf, "0");
    assert_int_equal(link_sysctl_set(f->host, "ipv4", HOST_IF, "arp_ignore",
                                     "8"), 0);
    assert_int_equal(link_sysctl_get(f->host, "ipv4", HOST_IF, "arp_ignore",
                                     buf, sizeof buf), 0);
    assert_string_equal(buf, "8");

    assert_int_equal(link_disable_ipv6(f->host, HOST_IF), 0);
    assert_int_equal(link_sysctl_get(f->host, "ipv6", HOST_IF,
                                     "disable_ipv6", buf, sizeof buf), 0);
    assert_string_equal(buf, "1");

    /* The settings are per namespace: the pod's end keeps IPv6 and its
     * "all" settings are untouched. */
    assert_int_equal(link_sysctl_get(f->pod, "ipv6", POD_IF, "disable_ipv6",
                                     buf, sizeof buf), 0);
    assert_string_equal(buf, "0");
    assert_int_equal(link_sysctl_get(f->pod, "ipv4", HOST_IF, "arp_ignore",
                                     buf, sizeof buf), ENOENT);
    assert_int_equal(link_disable_ipv6(f->pod, HOST_IF), ENOENT);

    /* Bad arguments. */
    assert_int_equal(link_sysctl_set(f->host, "ipv5", HOST_IF, "arp_ignore",
                                     "8"), EINVAL);
    assert_int_equal(link_sysctl_set(f->host, "ipv4", HOST_IF, "../x",
                                     "8"), EINVAL);
    assert_int_equal(link_sysctl_set(f->host, "ipv4", "..", "arp_ignore",
                                     "8"), EINVAL);
    assert_int_equal(link_sysctl_set(f->host, "ipv4", HOST_IF, "arp_ignore",
                                     "banana"), EINVAL);
}

static void
test_delete(void **state)
{
    struct fixture *f = *state;
    struct link_info info;

    create_veth(f, 0);
    assert_int_equal(link_delete(f->host, HOST_IF), 0);
    assert_int_equal(link_get(f->host, HOST_IF, &info), ENODEV);
    assert_int_equal(link_get(f->pod, POD_IF, &info), ENODEV);
    assert_int_equal(link_delete(f->host, HOST_IF), ENODEV);
    assert_int_equal(link_delete(f->pod, POD_IF), ENODEV);

    /* Deleting from the pod's side removes the host end too. */
    create_veth(f, 0);
    assert_int_equal(link_delete(f->pod, POD_IF), 0);
    assert_int_equal(link_get(f->host, HOST_IF, &info), ENODEV);
}

static void
test_veth_add(void **state)
{
    struct fixture *f = *state;
    struct link_info host, pod, info;
    char buf[32];
    bool on;

    struct link_veth_options opts = {
        .host_name = HOST_IF,
        .peer_name = POD_IF,
        .mtu = 1450,
        .peer_tx_csum_off = true,
        .host_isolate = true,
    };
    char *error = link_veth_add(f->host, f->pod, &opts, &host, &pod);
    if (error) {
        fail_msg("link_veth_add: %s", error);
    }
    assert_true(host.up);
    assert_true(pod.up);
    assert_int_equal(host.mtu, 1450);
    assert_int_equal(pod.mtu, 1450);
    assert_int_equal(host.peer_ifindex, pod.ifindex);
    assert_int_equal(link_get_tx_csum(f->pod, POD_IF, &on), 0);
    assert_false(on);
    assert_int_equal(link_get_tx_csum(f->host, HOST_IF, &on), 0);
    assert_true(on);
    assert_int_equal(link_sysctl_get(f->host, "ipv4", HOST_IF, "arp_ignore",
                                     buf, sizeof buf), 0);
    assert_string_equal(buf, "8");
    assert_int_equal(link_sysctl_get(f->host, "ipv6", HOST_IF,
                                     "disable_ipv6", buf, sizeof buf), 0);
    assert_string_equal(buf, "1");

    /* Taken names are named in the error. */
    error = link_veth_add(f->host, f->pod, &opts, NULL, NULL);
    assert_non_null(error);
    assert_non_null(strstr(error, "host interface " HOST_IF
                           " already exists"));
    free(error);

    opts.host_name = "tndtest1";
    error = link_veth_add(f->host, f->pod, &opts, NULL, NULL);
    assert_non_null(error);
    assert_non_null(strstr(error, "interface " POD_IF " already exists"));
    free(error);
    assert_int_equal(link_get(f->host, "tndtest1", &info), ENODEV);

    /* Bad names are refused before anything is made. */
    opts.peer_name = "bad/name";
    error = link_veth_add(f->host, f->pod, &opts, NULL, NULL);
    assert_non_null(error);
    assert_non_null(strstr(error, "invalid interface name"));
    free(error);
    assert_int_equal(link_get(f->host, "tndtest1", &info), ENODEV);
}

/* A failure after link_veth_add() made the pair: a child process makes
 * /proc/sys read-only in a mount namespace of its own, so setting
 * arp_ignore on the host end fails.  Nothing may be left behind. */
static void
test_veth_add_rollback(void **state)
{
    struct fixture *f = *state;
    struct link_info info;

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        if (unshare(CLONE_NEWNS) < 0
            || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
            || mount("/proc/sys", "/proc/sys", NULL, MS_BIND, NULL) < 0
            || mount(NULL, "/proc/sys", NULL,
                     MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
            fprintf(stderr, "cannot make /proc/sys read-only: %s\n",
                    strerror(errno));
            _exit(2);
        }

        struct link_veth_options opts = {
            .host_name = HOST_IF,
            .peer_name = POD_IF,
            .host_isolate = true,
        };
        char *error = link_veth_add(f->host, f->pod, &opts, NULL, NULL);
        if (!error) {
            fprintf(stderr, "link_veth_add succeeded\n");
            _exit(1);
        }
        if (!strstr(error, "cannot set arp_ignore on host interface "
                    HOST_IF ": " )) {
            fprintf(stderr, "unexpected error: %s\n", error);
            _exit(1);
        }
        _exit(0);
    }

    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    assert_int_equal(link_get(f->host, HOST_IF, &info), ENODEV);
    assert_int_equal(link_get(f->pod, POD_IF, &info), ENODEV);
}

/* Traffic between the two namespaces. */

struct udp_aux {
    const char *ip;
    int sock;
};

static int
udp_socket_cb(void *aux_)
{
    struct udp_aux *aux = aux_;
    struct sockaddr_in sin = {
        .sin_family = AF_INET,
        .sin_port = htons(40000),
    };

    if (inet_pton(AF_INET, aux->ip, &sin.sin_addr) != 1) {
        return EINVAL;
    }
    aux->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (aux->sock < 0) {
        return errno;
    }
    if (bind(aux->sock, (struct sockaddr *) &sin, sizeof sin) < 0) {
        int error = errno;
        close(aux->sock);
        return error;
    }
    return 0;
}

/* Receives a datagram on 'sock' within a few seconds into 'buf' and
 * returns its length, storing the sender in '*from'. */
static ssize_t
udp_recv(int sock, char *buf, size_t size, struct sockaddr_in *from)
{
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    if (poll(&pfd, 1, 5000) != 1) {
        fail_msg("no datagram within 5 s");
    }
    socklen_t len = sizeof *from;
    return recvfrom(sock, buf, size, 0, (struct sockaddr *) from, &len);
}

static void
test_udp(void **state)
{
    struct fixture *f = *state;
    struct link_info host, pod;

    struct link_veth_options opts = {
        .host_name = HOST_IF,
        .peer_name = POD_IF,
        .peer_tx_csum_off = true,
        .host_isolate = true,
    };
    char *error = link_veth_add(f->host, f->pod, &opts, &host, &pod);
    if (error) {
        fail_msg("link_veth_add: %s", error);
    }
    struct ipaddr ip1 = must_ip("10.99.0.1"), ip2 = must_ip("10.99.0.2");
    assert_int_equal(link_addr_add(f->host, host.ifindex, &ip1, 30), 0);
    assert_int_equal(link_addr_add(f->pod, pod.ifindex, &ip2, 30), 0);

    /* Sockets made inside each namespace stay there. */
    struct udp_aux h = { .ip = "10.99.0.1" }, p = { .ip = "10.99.0.2" };
    assert_int_equal(tnetns_run(f->host_fd, udp_socket_cb, &h), 0);
    assert_int_equal(tnetns_run(f->pod_fd, udp_socket_cb, &p), 0);
    assert_in_netns(f->orig_fd);

    struct sockaddr_in to = {
        .sin_family = AF_INET,
        .sin_port = htons(40000),
        .sin_addr = ipaddr_to_in4(&ip2),
    };
    assert_int_equal(sendto(h.sock, "ping", 4, 0, (struct sockaddr *) &to,
                            sizeof to), 4);

    char buf[16];
    struct sockaddr_in from;
    assert_int_equal(udp_recv(p.sock, buf, sizeof buf, &from), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(from.sin_addr.s_addr, ipaddr_to_in4(&ip1).s_addr);

    assert_int_equal(sendto(p.sock, "pong", 4, 0, (struct sockaddr *) &from,
                            sizeof from), 4);
    assert_int_equal(udp_recv(h.sock, buf, sizeof buf, &from), 4);
    assert_memory_equal(buf, "pong", 4);
    assert_int_equal(from.sin_addr.s_addr, ipaddr_to_in4(&ip2).s_addr);

    close(h.sock);
    close(p.sock);
}

int
main(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test-link: skipped: needs root\n");
        return 77;
    }

    /* Check that this process may make network namespaces at all. */
    int orig_fd, fd;
    if (tnetns_open_current(&orig_fd)) {
        fprintf(stderr, "test-link: skipped: no /proc/thread-self/ns/net\n");
        return 77;
    }
    int error = new_netns(orig_fd, &fd);
    if (error) {
        fprintf(stderr, "test-link: skipped: cannot make a network "
                "namespace: %s\n", strerror(error));
        return 77;
    }
    close(fd);
    close(orig_fd);

#define TEST(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
    static const struct CMUnitTest tests[] = {
        TEST(test_netns_open),
        TEST(test_netns_run),
        TEST(test_veth_create),
        TEST(test_absent_link),
        TEST(test_mtu_up_mac),
        TEST(test_addr_route),
        TEST(test_tx_csum),
        TEST(test_sysctl),
        TEST(test_delete),
        TEST(test_veth_add),
        TEST(test_veth_add_rollback),
        TEST(test_udp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
