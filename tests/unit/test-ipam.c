#include "ovs-config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/test-util.h"

#include "util.h"
#include "lib/cidr.h"
#include "lib/ipam.h"

/* Each test gets a fresh temporary directory 'root'; the store is
 * 'root'/store, which does not exist until ipam_open() creates it. */
struct fixture {
    char root[64];
    char store[96];
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    snprintf(f->root, sizeof f->root, "/tmp/tendril-test-ipam-XXXXXX");
    if (!mkdtemp(f->root)) {
        free(f);
        return -1;
    }
    snprintf(f->store, sizeof f->store, "%s/store", f->root);
    *state = f;
    return 0;
}

static int
remove_one(const char *path, const struct stat *st, int flag,
           struct FTW *ftw)
{
    return remove(path);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    int error = nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return error;
}

static struct ipam *
must_open(const char *dir, const char *pool_s)
{
    struct cidr pool = must_cidr(pool_s);
    struct ipam *ipam;
    char *error = ipam_open(dir, &pool, &ipam);
    if (error) {
        fail_msg("ipam_open(%s, %s): %s", dir, pool_s, error);
    }
    assert_non_null(ipam);
    return ipam;
}

/* Allocates for 'owner' and checks that the address is 'expected'. */
static void
expect_alloc(struct ipam *ipam, const char *owner, const char *expected)
{
    struct ipaddr ip;
    int error = ipam_allocate(ipam, owner, &ip);
    if (error) {
        fail_msg("allocate for %s: %s", owner, ovs_strerror(error));
    }
    char buf[IPADDR_STRLEN];
    assert_string_equal(ipaddr_format(&ip, buf), expected);
    assert_string_equal(ipam_owner_of(ipam, &ip), owner);
}

static void
expect_exhausted(struct ipam *ipam, const char *owner)
{
    struct ipaddr ip;
    assert_int_equal(ipam_allocate(ipam, owner, &ip), ENOSPC);
    assert_false(ipam_lookup(ipam, owner, &ip));
}

static char *
path_in(const char *dir, const char *name)
{
    return xasprintf("%s/%s", dir, name);
}

static void
write_file(const char *dir, const char *name, const char *content)
{
    char *path = path_in(dir, name);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    assert_int_equal(fwrite(content, 1, strlen(content), file),
                     strlen(content));
    assert_int_equal(fclose(file), 0);
    free(path);
}

/* Returns the content of 'dir'/'name' (the caller frees it) or NULL if
 * there is no such file. */
static char *
read_file(const char *dir, const char *name)
{
    char *path = path_in(dir, name);
    FILE *file = fopen(path, "r");
    free(path);
    if (!file) {
        assert_int_equal(errno, ENOENT);
        return NULL;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, file);
    fclose(file);
    buf[n] = '\0';
    return xstrdup(buf);
}

static void
expect_file(const char *dir, const char *name, const char *content)
{
    char *actual = read_file(dir, name);
    if (!actual) {
        fail_msg("%s/%s does not exist", dir, name);
    }
    assert_string_equal(actual, content);
    free(actual);
}

static void
expect_no_file(const char *dir, const char *name)
{
    char *actual = read_file(dir, name);
    if (actual) {
        fail_msg("%s/%s exists with \"%s\"", dir, name, actual);
    }
}

/* Returns the names in 'dir', other than "." and "..", sorted and joined
 * by spaces (the caller frees it). */
static char *
list_dir(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);

    char *s = xstrdup("");
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        if (strcmp(name, ".") && strcmp(name, "..")) {
            char *t = xasprintf("%s%s%s", s, *s ? " " : "", name);
            free(s);
            s = t;
        }
        free(names[i]);
    }
    free(names);
    return s;
}

static void
expect_dir(const char *dir, const char *expected)
{
    char *actual = list_dir(dir);
    assert_string_equal(actual, expected);
    free(actual);
}

/* Returns the snapshot of 'ipam' as "ADDR=OWNER ..." (the caller frees
 * it), checking on the way that it is sorted by address. */
static char *
entries_string(const struct ipam *ipam)
{
    struct ipam_entry *entries;
    size_t n = ipam_entries(ipam, &entries);
    assert_int_equal(n, ipam_count(ipam));

    char *s = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char buf[IPADDR_STRLEN];
        if (i > 0) {
            assert_true(memcmp(entries[i - 1].addr.bytes,
                               entries[i].addr.bytes, 16) < 0);
        }
        char *t = xasprintf("%s%s%s=%s", s, i ? " " : "",
                            ipaddr_format(&entries[i].addr, buf),
                            entries[i].owner);
        free(s);
        s = t;
    }
    ipam_entries_free(entries, n);
    return s;
}

static void
expect_entries(const struct ipam *ipam, const char *expected)
{
    char *actual = entries_string(ipam);
    assert_string_equal(actual, expected);
    free(actual);
}

/* Runs ipam_open() with stderr sent to a file, and returns what it logged
 * (the caller frees it).  The ipam is stored in '*ipamp'. */
static char *
open_capturing_log(const char *dir, const char *pool_s, struct ipam **ipamp)
{
    char log[] = "/tmp/tendril-test-ipam-log-XXXXXX";
    int log_fd = mkstemp(log);
    assert_true(log_fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(log_fd, STDERR_FILENO) >= 0);

    *ipamp = must_open(dir, pool_s);

    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    close(log_fd);

    char *text = read_file("/tmp", strrchr(log, '/') + 1);
    assert_non_null(text);
    unlink(log);
    return text;
}

static void
expect_in_log(const char *log, const char *fragment)
{
    if (!strstr(log, fragment)) {
        fail_msg("\"%s\" not in the log:\n%s", fragment, log);
    }
}

static void
test_exhaust_slash29(void **state)
{
    struct fixture *f = *state;
    struct ipam *ipam = must_open(f->store, "10.244.1.0/29");

    expect_alloc(ipam, "c1/eth0", "10.244.1.2");
    expect_alloc(ipam, "c2/eth0", "10.244.1.3");
    expect_alloc(ipam, "c3/eth0", "10.244.1.4");
    expect_alloc(ipam, "c4/eth0", "10.244.1.5");
    expect_alloc(ipam, "c5/eth0", "10.244.1.6");
    expect_exhausted(ipam, "c6/eth0");
    expect_exhausted(ipam, "c7/eth0");
    assert_int_equal(ipam_count(ipam), 5);

    /* An owner that holds an address still gets it back when full. */
    expect_alloc(ipam, "c3/eth0", "10.244.1.4");

    /* On disk: one file per address with the owner, no temporary files. */
    expect_file(f->store, "10.244.1.2", "c1/eth0\n");
    expect_file(f->store, "10.244.1.6", "c5/eth0\n");
    expect_file(f->store, "last_reserved_ip", "10.244.1.6\n");
    expect_dir(f->store, "10.244.1.2 10.244.1.3 10.244.1.4 10.244.1.5 "
               "10.244.1.6 last_reserved_ip lock");

    /* Freeing one makes room for exactly one. */
    assert_int_equal(ipam_release(ipam, "c2/eth0"), 0);
    expect_no_file(f->store, "10.244.1.3");
    expect_alloc(ipam, "c6/eth0", "10.244.1.3");
    expect_exhausted(ipam, "c7/eth0");
    ipam_close(ipam);
}

static void
test_reserved_never_allocated(void **state)
{
    struct fixture *f = *state;
    struct ipam *ipam = must_open(f->store, "10.244.1.0/24");
    struct ipaddr gw;
    char buf[IPADDR_STRLEN];

    ipam_gateway(ipam, &gw);
    assert_string_equal(ipaddr_format(&gw, buf), "10.244.1.1");
    assert_true(cidr_equals(ipam_pool(ipam), &(struct cidr) {
                                .addr = must_ip("10.244.1.0"), .plen = 24 }));
    assert_string_equal(ipam_dir(ipam), f->store);

    for (int i = 0; i < 253; i++) {
        char owner[32];
        struct ipaddr ip;
        snprintf(owner, sizeof owner, "c%d/eth0", i);
        assert_int_equal(ipam_allocate(ipam, owner, &ip), 0);
        assert_int_equal(ip.bytes[3], i + 2);
    }
    expect_exhausted(ipam, "one-more/eth0");
    assert_null(ipam_owner_of(ipam, &gw));
    ipam_close(ipam);

    /* A /30 has a single pod address. */
    char *dir30 = path_in(f->root, "p30");
    ipam = must_open(dir30, "192.168.0.4/30");
    expect_alloc(ipam, "a/eth0", "192.168.0.6");
    expect_exhausted(ipam, "b/eth0");
    ipam_close(ipam);
    free(dir30);

    /* IPv6 has no broadcast address: a /126 has two. */
    char *dir126 = path_in(f->root, "p126");
    ipam = must_open(dir126, "fd00::/126");
    expect_alloc(ipam, "a/eth0", "fd00::2");
    expect_alloc(ipam, "b/eth0", "fd00::3");
    expect_exhausted(ipam, "c/eth0");
    ipam_close(ipam);
    free(dir126);
}

static void
test_round_robin(void **state)
{
    struct fixture *f = *state;
    struct ipam *ipam = must_open(f->store, "10.244.1.0/29");

    expect_alloc(ipam, "a/eth0", "10.244.1.2");
    expect_alloc(ipam, "b/eth0", "10.244.1.3");
    assert_int_equal(ipam_release(ipam, "a/eth0"), 0);
    /* .2 was just released: it is not handed out again at once. */
    expect_alloc(ipam, "c/eth0", "10.244.1.4");
    expect_alloc(ipam, "d/eth0", "10.244.1.5");
    expect_alloc(ipam, "e/eth0", "10.244.1.6");
    /* Wraps around to the start. */
    expect_alloc(ipam, "f/eth0", "10.244.1.2");
    assert_int_equal(ipam_release(ipam, "d/eth0"), 0);
    assert_int_equal(ipam_release(ipam, "b/eth0"), 0);
    /* The next free one after .2 is .3, although .5 was freed first. */
    expect_alloc(ipam, "g/eth0", "10.244.1.3");
    expect_alloc(ipam, "h/eth0", "10.244.1.5");
    expect_file(f->store, "last_reserved_ip", "10.244.1.5\n");
    expect_entries(ipam, "10.244.1.2=f/eth0 10.244.1.3=g/eth0 "
                   "10.244.1.4=c/eth0 10.244.1.5=h/eth0 10.244.1.6=e/eth0");
    ipam_close(ipam);
}

static void
test_idempotent_allocate(void **state)
{
    struct fixture *f = *state;
    struct ipam *ipam = must_open(f->store, "10.244.1.0/24");
    struct ipaddr ip;
    char buf[IPADDR_STRLEN];

    expect_alloc(ipam, "abc/eth0", "10.244.1.2");
    expect_alloc(ipam, "abc/eth0", "10.244.1.2");
    /* The same container with another interface is another owner. */
    expect_alloc(ipam, "abc/net1", "10.244.1.3");
    expect_alloc(ipam, "abc/eth0", "10.244.1.2");
    assert_int_equal(ipam_count(ipam), 2);

    assert_true(ipam_lookup(ipam, "abc/net1", &ip));
    assert_string_equal(ipaddr_format(&ip, buf), "10.244.1.3");
    assert_false(ipam_lookup(ipam, "abc/net2", &ip));
    ipam_close(ipam);

    /* Still the same after a restart. */
    ipam = must_open(f->store, "10.244.1.0/24");
    expect_alloc(ipam, "abc/eth0", "10.244.1.2");
    expect_alloc(ipam, "abc/net1", "10.244.1.3");
    assert_int_equal(ipam_count(ipam), 2);
    ipam_close(ipam);
}

static void
test_release_unknown(void **state)
{
    struct fixture *f = *state;
    struct ipam *ipam = must_open(f->store, "10.244.1.0/29");

    assert_int_equal(ipam_release(ipam, "nobody/eth0"), 0);
    expect_alloc(ipam, "a/eth0", "10.244.1.2");
    expect_alloc(ipam, "b/eth0", "10.244.1.3");
    assert_int_equal(ipam_release(ipam, "a/eth0"), 0);
    assert_int_equal(ipam_release(ipam, "a/eth0"), 0);
    assert_int_equal(ipam_count(ipam), 1);

    /* A file removed behind the ipam's back: the release still works. */
    char *path = path_in(f->store, "10.244.1.3");
    assert_int_equal(unlink(path), 0);
    free(path);
    assert_int_equal(ipam_release(ipam, "b/eth0"), 0);
    assert_int_equal(ipam_count(ipam), 0);
    struct ipaddr ip = must_ip("10.244.1.3");
    assert_null(ipam_owner_of(ipam, &ip));
    ipam_close(ipam);
}

static void
test_bad_owner(void **state)
{
    struct fixture *f = *state;
    struct ipam *ipam = must_open(f->store, "10.244.1.0/29");
    struct ipaddr ip;

    assert_int_equal(ipam_allocate(ipam, "", &ip), EINVAL);
    assert_int_equal(ipam_allocate(ipam, "a/eth0\n", &ip), EINVAL);
    assert_int_equal(ipam_allocate(ipam, "a\nb", &ip), EINVAL);
    char *long_owner = xmalloc(IPAM_OWNER_MAX + 2);
    memset(long_owner, 'x', IPAM_OWNER_MAX + 1);
    long_owner[IPAM_OWNER_MAX + 1] = '\0';
    assert_int_equal(ipam_allocate(ipam, long_owner, &ip), EINVAL);
    assert_int_equal(ipam_release(ipam, ""), EINVAL);
    assert_int_equal(ipam_release(ipam, "a\nb"), EINVAL);
    assert_int_equal(ipam_count(ipam), 0);
    expect_dir(f->store, "lock");

    /* The longest owner allowed survives a restart. */
    long_owner[IPAM_OWNER_MAX] = '\0';
    expect_alloc(ipam, long_owner, "10.244.1.2");
    ipam_close(ipam);
    ipam = must_open(f->store, "10.244.1.0/29");
    assert_true(ipam_lookup(ipam, long_owner, &ip));
    ipam_close(ipam);
    free(long_owner);
}

static void
test_reopen_same_state(void **state)
{
    struct fixture *f = *state;
    struct ipam *ipam = must_open(f->store, "10.244.1.0/28");

    for (int i = 0; i < 10; i++) {
        char owner[32];
        struct ipaddr ip;
        snprintf(owner, sizeof owner, "pod%d/eth0", i);
        assert_int_equal(ipam_allocate(ipam, owner, &ip), 0);
    }
    assert_int_equal(ipam_release(ipam, "pod3/eth0"), 0);
    assert_int_equal(ipam_release(ipam, "pod7/eth0"), 0);
    char *before = entries_string(ipam);
    ipam_close(ipam);

    ipam = must_open(f->store, "10.244.1.0/28");
    char *after = entries_string(ipam);
    assert_string_equal(before, after);
    assert_int_equal(ipam_count(ipam), 8);

    /* The round-robin position survived: .11 was the last one handed out,
     * and the addresses freed before the restart come last. */
    expect_alloc(ipam, "new1/eth0", "10.244.1.12");
    expect_alloc(ipam, "new2/eth0", "10.244.1.13");
    expect_alloc(ipam, "new3/eth0", "10.244.1.14");
    expect_alloc(ipam, "new4/eth0", "10.244.1.5");
    expect_alloc(ipam, "new5/eth0", "10.244.1.9");
    expect_exhausted(ipam, "new6/eth0");
    free(before);
    free(after);
    before = entries_string(ipam);
    ipam_close(ipam);

    /* Nothing held is handed out again after another restart. */
    ipam = must_open(f->store, "10.244.1.0/28");
    after = entries_string(ipam);
    assert_string_equal(before, after);
    expect_exhausted(ipam, "new6/eth0");
    ipam_close(ipam);
    free(before);
    free(after);
}

static void
test_stale_temp_files(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdir(f->store, 0700), 0);

    /* A crash before link(): a half-written temporary file. */
    write_file(f->store, ".tmp-999-0", "half-writ");
    /* A crash after link() and before unlink(). */
    write_file(f->store, ".tmp-999-1", "c9/eth0\n");
    char *tmp = path_in(f->store, ".tmp-999-1");
    char *final = path_in(f->store, "10.244.1.4");
    assert_int_equal(link(tmp, final), 0);
    free(tmp);
    free(final);
    /* A crash while replacing last_reserved_ip. */
    write_file(f->store, ".tmp-999-2", "10.244.1.");

    struct ipam *ipam = must_open(f->store, "10.244.1.0/29");
    expect_dir(f->store, "10.244.1.4 lock");
    expect_entries(ipam, "10.244.1.4=c9/eth0");
    expect_alloc(ipam, "a/eth0", "10.244.1.2");
    expect_alloc(ipam, "b/eth0", "10.244.1.3");
    expect_alloc(ipam, "c/eth0", "10.244.1.5");
    ipam_close(ipam);
}

static void
test_foreign_files(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdir(f->store, 0700), 0);

    write_file(f->store, "garbage", "x/eth0\n");
    write_file(f->store, "10.9.9.9", "x/eth0\n");
    write_file(f->store, "fd00::5", "x/eth0\n");
    write_file(f->store, "10.244.1.0", "x/eth0\n");
    write_file(f->store, "10.244.1.1", "x/eth0\n");
    write_file(f->store, "10.244.1.7", "x/eth0\n");
    write_file(f->store, "10.244.1.3", "no-newline/eth0");
    write_file(f->store, "10.244.1.4", "");
    write_file(f->store, "10.244.1.5", "two/eth0\nlines/eth0\n");
    char *subdir = path_in(f->store, "10.244.1.6");
    assert_int_equal(mkdir(subdir, 0700), 0);
    free(subdir);
    write_file(f->store, "last_reserved_ip", "not an address\n");

    struct ipam *ipam;
    char *log = open_capturing_log(f->store, "10.244.1.0/29", &ipam);
    expect_in_log(log, "garbage: ignored: the name is not an IP address");
    expect_in_log(log, "10.9.9.9: ignored: the address is not in the pool");
    expect_in_log(log, "fd00::5: ignored: the address is not in the pool");
    expect_in_log(log, "10.244.1.0: ignored: the address is reserved");
    expect_in_log(log, "10.244.1.1: ignored: the address is reserved");
    expect_in_log(log, "10.244.1.7: ignored: the address is reserved");
    expect_in_log(log, "10.244.1.3: not used");
    expect_in_log(log, "it does not end in a newline");
    expect_in_log(log, "10.244.1.4: not used");
    expect_in_log(log, "it is empty");
    expect_in_log(log, "10.244.1.5: not used");
    expect_in_log(log, "it has more than one line");
    expect_in_log(log, "10.244.1.6: not used");
    expect_in_log(log, "it is not a regular file");
    expect_in_log(log, "last_reserved_ip: ignored");
    free(log);

    /* Only .2 is usable; the blocked addresses have no owner. */
    assert_int_equal(ipam_count(ipam), 0);
    expect_alloc(ipam, "a/eth0", "10.244.1.2");
    expect_exhausted(ipam, "b/eth0");
    for (int i = 0; i < 8; i++) {
        struct ipaddr ip = must_ip("10.244.1.0");
        ip.bytes[3] = i;
        if (i != 2) {
            assert_null(ipam_owner_of(ipam, &ip));
        }
    }
    ipam_close(ipam);

    /* The foreign files are left alone. */
    expect_file(f->store, "garbage", "x/eth0\n");
    expect_file(f->store, "10.244.1.3", "no-newline/eth0");
    expect_file(f->store, "10.244.1.5", "two/eth0\nlines/eth0\n");

    /* Once a bad file is fixed, its address is held by its owner. */
    write_file(f->store, "10.244.1.3", "fixed/eth0\n");
    ipam = must_open(f->store, "10.244.1.0/29");
    expect_entries(ipam, "10.244.1.2=a/eth0 10.244.1.3=fixed/eth0");
    ipam_close(ipam);
}

static void
test_duplicate_owner_on_disk(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdir(f->store, 0700), 0);
    write_file(f->store, "10.244.1.5", "dup/eth0\n");
    write_file(f->store, "10.244.1.3", "dup/eth0\n");

    struct ipam *ipam = must_open(f->store, "10.244.1.0/29");
    /* Both stay held; the owner gets the lower one. */
    expect_entries(ipam, "10.244.1.3=dup/eth0 10.244.1.5=dup/eth0");
    expect_alloc(ipam, "dup/eth0", "10.244.1.3");
    /* Releasing the owner frees both. */
    assert_int_equal(ipam_release(ipam, "dup/eth0"), 0);
    assert_int_equal(ipam_count(ipam), 0);
    expect_dir(f->store, "lock");
    ipam_close(ipam);
}

static void
test_second_open_locked(void **state)
{
    struct fixture *f = *state;
    struct cidr pool = must_cidr("10.244.1.0/24");
    struct ipam *first = must_open(f->store, "10.244.1.0/24");
    struct ipam *second = (struct ipam *) &pool;

    char *error = ipam_open(f->store, &pool, &second);
    assert_non_null(error);
    assert_null(second);
    if (!strstr(error, "locked by process")
        || !strstr(error, "store/lock")) {
        fail_msg("unexpected error: %s", error);
    }
    free(error);

    /* The first one is unaffected, and the lock goes with it. */
    expect_alloc(first, "a/eth0", "10.244.1.2");
    ipam_close(first);
    second = must_open(f->store, "10.244.1.0/24");
    expect_entries(second, "10.244.1.2=a/eth0");
    ipam_close(second);
    ipam_close(NULL);
}

static void
expect_open_error(const char *dir, const char *pool_s, const char *fragment)
{
    struct cidr pool = must_cidr(pool_s);
    struct ipam *ipam;
    char *error = ipam_open(dir, &pool, &ipam);
    if (!error) {
        fail_msg("ipam_open(%s, %s) succeeded", dir, pool_s);
    }
    assert_null(ipam);
    if (!strstr(error, fragment)) {
        fail_msg("error \"%s\" lacks \"%s\"", error, fragment);
    }
    free(error);
}

static void
test_tiny_pools_rejected(void **state)
{
    struct fixture *f = *state;

    expect_open_error(f->store, "10.244.1.5/32", "10.244.1.5/32 is too small");
    expect_open_error(f->store, "10.244.1.4/31", "10.244.1.4/31 is too small");
    expect_open_error(f->store, "fd00::1/128", "fd00::1/128 is too small");
    expect_open_error(f->store, "fd00::/127", "fd00::/127 is too small");
    /* Nothing was created for them. */
    expect_dir(f->root, "");
}

static void
test_store_directory(void **state)
{
    struct fixture *f = *state;
    char *nested = xasprintf("%s/a/b/ipam", f->root);
    struct ipam *ipam = must_open(nested, "10.244.1.0/29");
    struct stat st;

    assert_int_equal(stat(nested, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    ipam_close(ipam);
    free(nested);

    /* A store path that is a file. */
    write_file(f->root, "file", "");
    char *file = path_in(f->root, "file");
    expect_open_error(file, "10.244.1.0/29", "Not a directory");
    free(file);
    expect_open_error("", "10.244.1.0/29", "empty");
}

static void
test_ipv6_slash120(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdir(f->store, 0700), 0);
    /* A non-canonical name for ::7 only blocks its address. */
    write_file(f->store, "fd00:10:244:0::7", "x/eth0\n");

    struct ipam *ipam = must_open(f->store, "fd00:10:244::/120");
    struct ipaddr gw;
    char buf[IPADDR_STRLEN];
    ipam_gateway(ipam, &gw);
    assert_string_equal(ipaddr_format(&gw, buf), "fd00:10:244::1");

    expect_alloc(ipam, "a/eth0", "fd00:10:244::2");
    expect_file(f->store, "fd00:10:244::2", "a/eth0\n");
    for (int i = 3; i < 256; i++) {
        char owner[32];
        char expected[IPADDR_STRLEN];
        if (i == 7) {
            continue;
        }
        snprintf(owner, sizeof owner, "c%d/eth0", i);
        snprintf(expected, sizeof expected, "fd00:10:244::%x", i);
        expect_alloc(ipam, owner, expected);
    }
    /* ::ff is usable: IPv6 has no broadcast address. */
    expect_exhausted(ipam, "last/eth0");
    assert_int_equal(ipam_count(ipam), 253);

    /* An IPv4 address is never in an IPv6 pool. */
    struct ipaddr v4 = must_ip("10.244.1.2");
    assert_null(ipam_owner_of(ipam, &v4));

    assert_int_equal(ipam_release(ipam, "c100/eth0"), 0);
    ipam_close(ipam);

    ipam = must_open(f->store, "fd00:10:244::/120");
    assert_int_equal(ipam_count(ipam), 252);
    expect_alloc(ipam, "again/eth0", "fd00:10:244::64");
    expect_exhausted(ipam, "last/eth0");
    ipam_close(ipam);
}

static void
test_file_created_behind_back(void **state)
{
    struct fixture *f = *state;
    struct ipam *ipam = must_open(f->store, "10.244.1.0/29");

    /* Another process claims .2 with open(O_EXCL) ... */
    char *path = path_in(f->store, "10.244.1.2");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "other/eth0\n", 11), 11);
    close(fd);
    free(path);
    expect_alloc(ipam, "a/eth0", "10.244.1.3");

    /* ... and .4 with link(). */
    write_file(f->root, "claim", "sneaky/eth0\n");
    char *src = path_in(f->root, "claim");
    char *dst = path_in(f->store, "10.244.1.4");
    assert_int_equal(link(src, dst), 0);
    free(src);
    free(dst);
    expect_alloc(ipam, "b/eth0", "10.244.1.5");
    expect_alloc(ipam, "c/eth0", "10.244.1.6");
    expect_exhausted(ipam, "d/eth0");

    struct ipaddr ip = must_ip("10.244.1.2");
    assert_null(ipam_owner_of(ipam, &ip));
    expect_file(f->store, "10.244.1.2", "other/eth0\n");
    expect_file(f->store, "10.244.1.4", "sneaky/eth0\n");
    ipam_close(ipam);

    /* After a restart their owners hold them. */
    ipam = must_open(f->store, "10.244.1.0/29");
    expect_entries(ipam, "10.244.1.2=other/eth0 10.244.1.3=a/eth0 "
                   "10.244.1.4=sneaky/eth0 10.244.1.5=b/eth0 "
                   "10.244.1.6=c/eth0");
    ipam_close(ipam);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
        T(test_exhaust_slash29),
        T(test_reserved_never_allocated),
        T(test_round_robin),
        T(test_idempotent_allocate),
        T(test_release_unknown),
        T(test_bad_owner),
        T(test_reopen_same_state),
        T(test_stale_temp_files),
        T(test_foreign_files),
        T(test_duplicate_owner_on_disk),
        T(test_second_open_locked),
        T(test_tiny_pools_rejected),
        T(test_store_directory),
        T(test_ipv6_slash120),
        T(test_file_created_behind_back),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
