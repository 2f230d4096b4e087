#include "ovs-config.h"
#include "lib/ipam.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ipam);

/* Names in the store directory besides the address files.  Temporary files
 * start with a dot, which no address does, and are removed on open. */
#define IPAM_LOCK_FILE "lock"
#define IPAM_LAST_FILE "last_reserved_ip"
#define IPAM_TMP_PREFIX ".tmp-"

/* An address of the pool's allocatable range that has a file in the store.
 * Either a lease, with its owner, or an address blocked by a file that
 * cannot be used (malformed, or created behind the store's back): a blocked
 * address is never handed out while the ipam is open. */
struct ipam_addr {
    struct hmap_node addr_node;  /* In struct ipam's 'by_addr'. */
    struct hmap_node owner_node; /* In struct ipam's 'by_owner', if leased. */
    uint64_t offset;             /* Position in the pool (cidr_nth()). */
    char *owner;                 /* Owned; NULL if blocked. */
};

/* An open store.  Owns everything it points to. */
struct ipam {
    char *dir;                  /* The store directory as given. */
    int dir_fd;                 /* The store directory, for the *at() calls. */
    int lock_fd;                /* DIR/lock, flock()ed. */
    struct cidr pool;
    uint64_t first;             /* Allocatable offsets, 'first'..'last'. */
    uint64_t last;
    uint64_t last_reserved;     /* Offset last allocated, 0 if none. */
    struct hmap by_addr;        /* All struct ipam_addr, by offset. */
    struct hmap by_owner;       /* Leases only, by owner. */
    unsigned int tmp_serial;    /* Makes temporary file names unique. */
};

static char *ipam_load_dir(struct ipam *);

/* Sets '*first' and '*last' to the first and last allocatable offsets in
 * 'pool': after the network address and the gateway, and before the IPv4
 * broadcast address.  Returns false if there are none.  Only the low 64 bits
 * of an address are allocated (see cidr_nth()). */
static bool
ipam_range(const struct cidr *pool, uint64_t *first, uint64_t *last)
{
    unsigned int host_bits = ipaddr_bits(pool->addr.family) - pool->plen;
    uint64_t top = (host_bits >= 64 ? UINT64_MAX
                    : (UINT64_C(1) << host_bits) - 1);
    if (pool->addr.family == AF_INET) {
        if (top < 1) {
            return false;
        }
        top--;
    }
    *first = 2;
    *last = top;
    return top >= 2;
}

static uint64_t
ipam_n_usable(const struct ipam *ipam)
{
    return ipam->last - ipam->first + 1;
}

/* The offset scanned after 'offset', wrapping around the allocatable
 * range.  Any offset outside the range (such as 0) is followed by the
 * first. */
static uint64_t
ipam_next_offset(const struct ipam *ipam, uint64_t offset)
{
    return (offset < ipam->first || offset >= ipam->last
            ? ipam->first : offset + 1);
}

static void
ipam_offset_to_ip(const struct ipam *ipam, uint64_t offset,
                  struct ipaddr *ip)
{
    bool ok = cidr_nth(&ipam->pool, offset, ip);
    ovs_assert(ok);
}

static const char *
ipam_offset_name(const struct ipam *ipam, uint64_t offset,
                 char name[IPADDR_STRLEN])
{
    struct ipaddr ip;

    ipam_offset_to_ip(ipam, offset, &ip);
    return ipaddr_format(&ip, name);
}

/* Sets '*offset' to the position of 'ip' if it is in the allocatable
 * range. */
static bool
ipam_ip_to_offset(const struct ipam *ipam, const struct ipaddr *ip,
                  uint64_t *offset)
{
    return (cidr_offset(&ipam->pool, ip, offset)
            && *offset >= ipam->first && *offset <= ipam->last);
}

static struct ipam_addr *
ipam_find_addr(const struct ipam *ipam, uint64_t offset)
{
    struct ipam_addr *a;

    HMAP_FOR_EACH_WITH_HASH (a, addr_node, hash_uint64(offset),
                             &ipam->by_addr) {
        if (a->offset == offset) {
            return a;
        }
    }
    return NULL;
}

/* Returns the lease of 'owner' with the lowest address, or NULL.  An owner
 * holds more than one address only if the files on disk say so. */
static struct ipam_addr *
ipam_find_owner(const struct ipam *ipam, const char *owner)
{
    struct ipam_addr *best = NULL;
    struct ipam_addr *a;

    HMAP_FOR_EACH_WITH_HASH (a, owner_node, hash_string(owner, 0),
                             &ipam->by_owner) {
        if (!strcmp(a->owner, owner) && (!best || a->offset < best->offset)) {
            best = a;
        }
    }
    return best;
}

/* Records 'offset' as leased to 'owner' (copied) or, if 'owner' is NULL, as
 * blocked. */
static struct ipam_addr *
ipam_add(struct ipam *ipam, uint64_t offset, const char *owner)
{
    struct ipam_addr *a = xzalloc(sizeof *a);

    a->offset = offset;
    hmap_insert(&ipam->by_addr, &a->addr_node, hash_uint64(offset));
    if (owner) {
        a->owner = xstrdup(owner);
        hmap_insert(&ipam->by_owner, &a->owner_node, hash_string(owner, 0));
    }
    return a;
}

static void
ipam_remove(struct ipam *ipam, struct ipam_addr *a)
{
    hmap_remove(&ipam->by_addr, &a->addr_node);
    if (a->owner) {
        hmap_remove(&ipam->by_owner, &a->owner_node);
        free(a->owner);
    }
    free(a);
}

static bool
ipam_owner_valid(const char *owner)
{
    size_t len = strlen(owner);
    return len > 0 && len <= IPAM_OWNER_MAX && !memchr(owner, '\n', len);
}

/* Writes all of 'data' to 'fd'.  Returns 0 or an errno value. */
static int
ipam_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        data += n;
        len -= n;
    }
    return 0;
}

/* Reads up to 'size' bytes of 'fd' into 'buf' and stores the count in
 * '*n'.  Returns 0 or an errno value. */
static int
ipam_read_all(int fd, char *buf, size_t size, size_t *n)
{
    *n = 0;
    while (*n < size) {
        ssize_t r = read(fd, buf + *n, size - *n);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (!r) {
            break;
        }
        *n += r;
    }
    return 0;
}

/* Creates a temporary file in the store holding 'content', synced to disk.
 * On success stores its name in '*namep' (the caller frees it) and returns
 * 0; otherwise returns an errno value and leaves no file behind. */
static int
ipam_write_tmp(struct ipam *ipam, const char *content, char **namep)
{
    char *name = NULL;
    int fd = -1;

    *namep = NULL;
    for (int attempt = 0; fd < 0; attempt++) {
        free(name);
        name = xasprintf(IPAM_TMP_PREFIX "%ld-%u", (long) getpid(),
                         ipam->tmp_serial++);
        fd = openat(ipam->dir_fd, name,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
        if (fd < 0 && (errno != EEXIST || attempt >= 100)) {
            int error = errno;
            VLOG_WARN("%s/%s: create failed (%s)", ipam->dir, name,
                      ovs_strerror(error));
            free(name);
            return error;
        }
    }

    int error = ipam_write_all(fd, content, strlen(content));
    const char *op = "write";
    if (!error && fsync(fd)) {
        error = errno;
        op = "fsync";
    }
    if (close(fd) && !error) {
        error = errno;
        op = "close";
    }
    if (error) {
        VLOG_WARN("%s/%s: %s failed (%s)", ipam->dir, name, op,
                  ovs_strerror(error));
        unlinkat(ipam->dir_fd, name, 0);
        free(name);
        return error;
    }
    *namep = name;
    return 0;
}

/* Removes the temporary file 'name'.  A failure leaves a stale file that
 * the next ipam_open() removes, so it is only logged. */
static void
ipam_remove_tmp(struct ipam *ipam, const char *name)
{
    if (unlinkat(ipam->dir_fd, name, 0) && errno != ENOENT) {
        VLOG_WARN("%s/%s: unlink failed (%s)", ipam->dir, name,
                  ovs_strerror(errno));
    }
}

static int
ipam_sync_dir(const struct ipam *ipam)
{
    if (fsync(ipam->dir_fd)) {
        int error = errno;
        VLOG_WARN("%s: fsync failed (%s)", ipam->dir, ovs_strerror(error));
        return error;
    }
    return 0;
}

/* Replaces DIR/last_reserved_ip with the address at 'offset'.  The caller
 * syncs the directory.  A failure only costs the round-robin position after
 * a restart, so it is logged and not returned. */
static void
ipam_save_last(struct ipam *ipam, uint64_t offset)
{
    char name[IPADDR_STRLEN];
    char *content = xasprintf("%s\n", ipam_offset_name(ipam, offset, name));
    char *tmp;

    if (!ipam_write_tmp(ipam, content, &tmp)) {
        if (renameat(ipam->dir_fd, tmp, ipam->dir_fd, IPAM_LAST_FILE)) {
            VLOG_WARN("%s/%s: rename to %s failed (%s)", ipam->dir, tmp,
                      IPAM_LAST_FILE, ovs_strerror(errno));
            ipam_remove_tmp(ipam, tmp);
        }
        free(tmp);
    }
    free(content);
}

/* Creates 'path' (copied and modified) with mode 0700 if it does not
 * exist, with any missing parents, and syncs each new entry's parent so that
 * the store cannot vanish in a crash.  Returns 0 or an errno value. */
static int
ipam_mkdirs(char *path)
{
    for (char *p = path + 1; ; p++) {
        if (*p && *p != '/') {
            continue;
        }

        char c = *p;
        *p = '\0';
        if (!mkdir(path, 0700)) {
            char *slash = strrchr(path, '/');
            char *parent = (!slash ? xstrdup(".")
                            : slash == path ? xstrdup("/")
                            : xmemdup0(path, slash - path));
            int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            int error = fd < 0 || fsync(fd) ? errno : 0;
            if (fd >= 0) {
                close(fd);
            }
            free(parent);
            if (error) {
                return error;
            }
        } else if (errno != EEXIST) {
            return errno;
        }
        *p = c;
        if (!c) {
            return 0;
        }
    }
}

/* Takes the store's lock, so that two processes cannot use one store. */
static char *
ipam_lock(struct ipam *ipam)
{
    ipam->lock_fd = openat(ipam->dir_fd, IPAM_LOCK_FILE,
                           O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (ipam->lock_fd < 0) {
        return xasprintf("%s/%s: open failed (%s)", ipam->dir,
                         IPAM_LOCK_FILE, ovs_strerror(errno));
    }

    while (flock(ipam->lock_fd, LOCK_EX | LOCK_NB)) {
        if (errno == EINTR) {
            continue;
        } else if (errno == EWOULDBLOCK) {
            /* The holder wrote its process ID into the file. */
            char buf[32];
            size_t n = 0;
            if (ipam_read_all(ipam->lock_fd, buf, sizeof buf - 1, &n)) {
                n = 0;
            }
            buf[n] = '\0';
            long pid = strtol(buf, NULL, 10);
            char *holder = (pid > 0 ? xasprintf("process %ld", pid)
                            : xstrdup("another process"));
            char *error = xasprintf("%s/%s: the IPAM store is locked by %s "
                                    "(is another tendril-agent running?)",
                                    ipam->dir, IPAM_LOCK_FILE, holder);
            free(holder);
            return error;
        } else {
            return xasprintf("%s/%s: flock failed (%s)", ipam->dir,
                             IPAM_LOCK_FILE, ovs_strerror(errno));
        }
    }

    /* For the message above, in a second process.  Not essential. */
    char pid[32];
    snprintf(pid, sizeof pid, "%ld\n", (long) getpid());
    if (ftruncate(ipam->lock_fd, 0)
        || pwrite(ipam->lock_fd, pid, strlen(pid), 0) < 0) {
        VLOG_WARN("%s/%s: could not record the process ID (%s)", ipam->dir,
                  IPAM_LOCK_FILE, ovs_strerror(errno));
    }
    return NULL;
}

/* Opens the store in 'dir' for the addresses of 'pool', creating the
 * directory if it is missing, and loads the allocations already in it.
 * On success returns NULL and stores the new ipam in '*ipamp' (the caller
 * owns it: ipam_close()).  Otherwise returns an error message (the caller
 * frees it) and stores NULL.
 *
 * Fails if another process has the store open, or if 'pool' has no
 * allocatable address (IPv4 /31 and /32, IPv6 /127 and /128).  Files in
 * 'dir' that cannot be used are logged and left alone; if one is named by
 * an allocatable address, that address is not handed out.  Temporary files
 * left by a crash are removed. */
char *
ipam_open(const char *dir, const struct cidr *pool, struct ipam **ipamp)
{
    char buf[CIDR_STRLEN];
    uint64_t first, last;

    *ipamp = NULL;
    if ((pool->addr.family != AF_INET && pool->addr.family != AF_INET6)
        || pool->plen > ipaddr_bits(pool->addr.family)) {
        return xasprintf("IPAM pool has a bad address family or prefix "
                         "length");
    }
    if (!ipam_range(pool, &first, &last)) {
        return xasprintf("IPAM pool %s is too small: it needs room for the "
                         "network address, the gateway%s and at least one "
                         "pod address (a /%u pool at most)",
                         cidr_format(pool, buf),
                         pool->addr.family == AF_INET
                         ? ", the broadcast address" : "",
                         pool->addr.family == AF_INET ? 30 : 126);
    }
    if (!dir[0]) {
        return xstrdup("IPAM store directory name is empty");
    }

    struct ipam *ipam = xzalloc(sizeof *ipam);
    ipam->dir = xstrdup(dir);
    ipam->dir_fd = -1;
    ipam->lock_fd = -1;
    ipam->pool = *pool;
    ipam->first = first;
    ipam->last = last;
    hmap_init(&ipam->by_addr);
    hmap_init(&ipam->by_owner);

    char *path = xstrdup(dir);
    int error = ipam_mkdirs(path);
    free(path);
    if (error) {
        char *msg = xasprintf("%s: cannot create the IPAM store directory "
                              "(%s)", dir, ovs_strerror(error));
        ipam_close(ipam);
        return msg;
    }

    ipam->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ipam->dir_fd < 0) {
        char *msg = xasprintf("%s: cannot open the IPAM store directory "
                              "(%s)", dir, ovs_strerror(errno));
        ipam_close(ipam);
        return msg;
    }

    char *msg = ipam_lock(ipam);
    if (msg) {
        ipam_close(ipam);
        return msg;
    }

    msg = ipam_load_dir(ipam);
    if (msg) {
        ipam_close(ipam);
        return msg;
    }
    VLOG_INFO("%s: IPAM store for %s opened with %zu allocated addresses",
              dir, cidr_format(pool, buf), ipam_count(ipam));
    *ipamp = ipam;
    return NULL;
}

/* Reads the owner in DIR/'name' into '*ownerp' (the caller frees it).
 * Returns NULL or, if the file is not a valid address file, the reason
 * (the caller frees it). */
static char *
ipam_read_owner(const struct ipam *ipam, const char *name, char **ownerp)
{
    *ownerp = NULL;
    int fd = openat(ipam->dir_fd, name,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return (errno == ELOOP
                ? xstrdup("it is a symbolic link")
                : xasprintf("open failed (%s)", ovs_strerror(errno)));
    }

    struct stat st;
    if (fstat(fd, &st)) {
        int error = errno;
        close(fd);
        return xasprintf("stat failed (%s)", ovs_strerror(error));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return xstrdup("it is not a regular file");
    }

    char buf[IPAM_OWNER_MAX + 2];
    size_t n;
    int error = ipam_read_all(fd, buf, sizeof buf, &n);
    close(fd);
    if (error) {
        return xasprintf("read failed (%s)", ovs_strerror(error));
    } else if (!n) {
        return xstrdup("it is empty");
    } else if (n > IPAM_OWNER_MAX + 1) {
        return xasprintf("it is longer than an owner (%d bytes) and a "
                         "newline", IPAM_OWNER_MAX);
    } else if (buf[n - 1] != '\n') {
        return xstrdup("it does not end in a newline");
    } else if (n == 1) {
        return xstrdup("the owner is empty");
    } else if (memchr(buf, '\n', n - 1)) {
        return xstrdup("it has more than one line");
    } else if (memchr(buf, '\0', n)) {
        return xstrdup("it contains a NUL byte");
    }
    *ownerp = xmemdup0(buf, n - 1);
    return NULL;
}

/* Loads the address file DIR/'name', or logs why it is not used. */
static void
ipam_load_file(struct ipam *ipam, const char *name)
{
    char pool_s[CIDR_STRLEN];
    struct ipaddr ip;
    uint64_t offset;

    char *error = ipaddr_parse(name, &ip);
    if (error) {
        free(error);
        VLOG_WARN("%s/%s: ignored: the name is not an IP address",
                  ipam->dir, name);
        return;
    }
    if (!cidr_contains(&ipam->pool, &ip)) {
        VLOG_WARN("%s/%s: ignored: the address is not in the pool %s",
                  ipam->dir, name, cidr_format(&ipam->pool, pool_s));
        return;
    }
    if (!ipam_ip_to_offset(ipam, &ip, &offset)) {
        VLOG_WARN("%s/%s: ignored: the address is reserved (network, "
                  "gateway or broadcast) or outside the allocatable range "
                  "of %s", ipam->dir, name, cidr_format(&ipam->pool, pool_s));
        return;
    }

    char canonical[IPADDR_STRLEN];
    char *owner = NULL;
    char *why = (strcmp(name, ipaddr_format(&ip, canonical))
                 ? xasprintf("the name is not the canonical form %s",
                             canonical)
                 : ipam_read_owner(ipam, name, &owner));

    /* Two files can name one offset only if one name is not canonical,
     * and such a file only blocks its address. */
    struct ipam_addr *old = ipam_find_addr(ipam, offset);
    if (why) {
        VLOG_WARN("%s/%s: not used, and its address is not allocated while "
                  "the file exists: %s", ipam->dir, name, why);
        if (!old) {
            ipam_add(ipam, offset, NULL);
        }
    } else {
        if (old) {
            ovs_assert(!old->owner);
            ipam_remove(ipam, old);
        }
        struct ipam_addr *other = ipam_find_owner(ipam, owner);
        if (other) {
            char other_s[IPADDR_STRLEN];
            VLOG_WARN("%s/%s: owner \"%s\" also holds %s; both addresses "
                      "stay allocated until it is released", ipam->dir,
                      name, owner, ipam_offset_name(ipam, other->offset,
                                                    other_s));
        }
        ipam_add(ipam, offset, owner);
    }
    free(why);
    free(owner);
}

/* Loads DIR/last_reserved_ip, if there is one. */
static void
ipam_load_last(struct ipam *ipam)
{
    int fd = openat(ipam->dir_fd, IPAM_LAST_FILE,
                    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            VLOG_WARN("%s/%s: open failed (%s)", ipam->dir, IPAM_LAST_FILE,
                      ovs_strerror(errno));
        }
        return;
    }

    char buf[IPADDR_STRLEN + 1];
    size_t n;
    int error = ipam_read_all(fd, buf, sizeof buf - 1, &n);
    close(fd);
    if (error) {
        VLOG_WARN("%s/%s: read failed (%s)", ipam->dir, IPAM_LAST_FILE,
                  ovs_strerror(error));
        return;
    }
    buf[n] = '\0';
    if (n && buf[n - 1] == '\n') {
        buf[n - 1] = '\0';
    }

    struct ipaddr ip;
    uint64_t offset;
    char *msg = ipaddr_parse(buf, &ip);
    if (msg) {
        VLOG_WARN("%s/%s: ignored: %s", ipam->dir, IPAM_LAST_FILE, msg);
        free(msg);
    } else if (!ipam_ip_to_offset(ipam, &ip, &offset)) {
        VLOG_WARN("%s/%s: ignored: %s is not an allocatable address of the "
                  "pool", ipam->dir, IPAM_LAST_FILE, buf);
    } else {
        ipam->last_reserved = offset;
    }
}

/* Loads the store's files and removes stale temporary files.  Returns
 * NULL or an error message (the caller frees it): without a complete
 * listing, no address is known to be free. */
static char *
ipam_load_dir(struct ipam *ipam)
{
    int fd = openat(ipam->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        char *error = xasprintf("%s: cannot list the IPAM store (%s)",
                                ipam->dir, ovs_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return error;
    }

    bool removed = false;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno) {
                char *error = xasprintf("%s: cannot list the IPAM store "
                                        "(%s)", ipam->dir,
                                        ovs_strerror(errno));
                closedir(d);
                return error;
            }
            break;
        }

        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")
            || !strcmp(name, IPAM_LOCK_FILE)
            || !strcmp(name, IPAM_LAST_FILE)) {
            continue;
        } else if (!strncmp(name, IPAM_TMP_PREFIX,
                            strlen(IPAM_TMP_PREFIX))) {
            if (!unlinkat(ipam->dir_fd, name, 0)) {
                VLOG_INFO("%s/%s: removed a temporary file left by a crash",
                          ipam->dir, name);
                removed = true;
            } else {
                VLOG_WARN("%s/%s: cannot remove a stale temporary file (%s)",
                          ipam->dir, name, ovs_strerror(errno));
            }
        } else {
            ipam_load_file(ipam, name);
        }
    }
    closedir(d);

    if (removed) {
        ipam_sync_dir(ipam);
    }
    ipam_load_last(ipam);
    return NULL;
}

/* Closes 'ipam' and releases its lock.  The allocations stay on disk. */
void
ipam_close(struct ipam *ipam)
{
    if (!ipam) {
        return;
    }

    struct ipam_addr *a;
    HMAP_FOR_EACH_POP (a, addr_node, &ipam->by_addr) {
        free(a->owner);
        free(a);
    }
    hmap_destroy(&ipam->by_addr);
    hmap_destroy(&ipam->by_owner);
    if (ipam->lock_fd >= 0) {
        close(ipam->lock_fd);
    }
    if (ipam->dir_fd >= 0) {
        close(ipam->dir_fd);
    }
    free(ipam->dir);
    free(ipam);
}

const char *
ipam_dir(const struct ipam *ipam)
{
    return ipam->dir;
}

const struct cidr *
ipam_pool(const struct ipam *ipam)
{
    return &ipam->pool;
}

/* The gateway address: the first usable address of the pool. */
void
ipam_gateway(const struct ipam *ipam, struct ipaddr *ip)
{
    ipam_offset_to_ip(ipam, 1, ip);
}

/* Allocates an address to 'owner' ("CONTAINERID/IFNAME") and stores it in
 * '*ip'.  If 'owner' already holds one, that is the address.  Otherwise the
 * next free address after the last one allocated is taken, wrapping around,
 * and recorded on disk before this returns.
 *
 * Returns 0 on success, EINVAL if 'owner' is empty, contains a newline or
 * is longer than IPAM_OWNER_MAX, ENOSPC if the pool is exhausted, or another
 * errno value for an I/O error.  '*ip' is set only on success. */
int
ipam_allocate(struct ipam *ipam, const char *owner, struct ipaddr *ip)
{
    if (!ipam_owner_valid(owner)) {
        return EINVAL;
    }

    struct ipam_addr *held = ipam_find_owner(ipam, owner);
    if (held) {
        ipam_offset_to_ip(ipam, held->offset, ip);
        return 0;
    }

    uint64_t n_usable = ipam_n_usable(ipam);
    if (hmap_count(&ipam->by_addr) >= n_usable) {
        return ENOSPC;
    }

    /* One complete, synced file is linked to candidate names until a name
     * is free on disk. */
    char *content = xasprintf("%s\n", owner);
    char *tmp;
    int error = ipam_write_tmp(ipam, content, &tmp);
    free(content);
    if (error) {
        return error;
    }

    char name[IPADDR_STRLEN];
    uint64_t offset = ipam_next_offset(ipam, ipam->last_reserved);
    bool linked = false;
    for (uint64_t i = 0; i < n_usable;
         i++, offset = ipam_next_offset(ipam, offset)) {
        if (ipam_find_addr(ipam, offset)) {
            continue;
        }
        ipam_offset_name(ipam, offset, name);
        if (!linkat(ipam->dir_fd, tmp, ipam->dir_fd, name, 0)) {
            linked = true;
            break;
        } else if (errno == EEXIST) {
            VLOG_WARN("%s/%s: created by another process; its address is "
                      "not allocated while the ipam is open", ipam->dir,
                      name);
            ipam_add(ipam, offset, NULL);
        } else {
            error = errno;
            VLOG_WARN("%s/%s: link failed (%s)", ipam->dir, name,
                      ovs_strerror(error));
            break;
        }
    }
    ipam_remove_tmp(ipam, tmp);
    free(tmp);
    if (!linked) {
        return error ? error : ENOSPC;
    }

    ipam_save_last(ipam, offset);
    error = ipam_sync_dir(ipam);
    if (error) {
        /* The caller is told it failed, so don't keep the address. */
        if (unlinkat(ipam->dir_fd, name, 0)) {
            ipam_add(ipam, offset, NULL);
        }
        return error;
    }

    ipam->last_reserved = offset;
    ipam_add(ipam, offset, owner);
    ipam_offset_to_ip(ipam, offset, ip);
    return 0;
}

/* Releases the address (or addresses) of 'owner' and removes their files.
 * Returns 0 on success, also if 'owner' holds nothing, EINVAL if 'owner' is
 * not a valid owner, or an errno value for an I/O error (then an address
 * whose file could not be removed stays allocated). */
int
ipam_release(struct ipam *ipam, const char *owner)
{
    if (!ipam_owner_valid(owner)) {
        return EINVAL;
    }

    bool removed = false;
    struct ipam_addr *a;
    while ((a = ipam_find_owner(ipam, owner)) != NULL) {
        char name[IPADDR_STRLEN];
        ipam_offset_name(ipam, a->offset, name);
        if (unlinkat(ipam->dir_fd, name, 0) && errno != ENOENT) {
            int error = errno;
            VLOG_WARN("%s/%s: unlink failed (%s)", ipam->dir, name,
                      ovs_strerror(error));
            if (removed) {
                ipam_sync_dir(ipam);
            }
            return error;
        }
        ipam_remove(ipam, a);
        removed = true;
    }
    return removed ? ipam_sync_dir(ipam) : 0;
}

/* Stores the address of 'owner' in '*ip' and returns true, or returns false
 * if 'owner' holds none. */
bool
ipam_lookup(const struct ipam *ipam, const char *owner, struct ipaddr *ip)
{
    struct ipam_addr *a = ipam_find_owner(ipam, owner);
    if (a) {
        ipam_offset_to_ip(ipam, a->offset, ip);
    }
    return a != NULL;
}

/* Returns the owner of 'ip', or NULL if no owner holds it: it is free,
 * reserved, outside the pool, or blocked by an unusable file.  The string
 * belongs to 'ipam' and lives until the address is released. */
const char *
ipam_owner_of(const struct ipam *ipam, const struct ipaddr *ip)
{
    uint64_t offset;
    if (!ipam_ip_to_offset(ipam, ip, &offset)) {
        return NULL;
    }
    struct ipam_addr *a = ipam_find_addr(ipam, offset);
    return a ? a->owner : NULL;
}

/* The number of allocated addresses. */
size_t
ipam_count(const struct ipam *ipam)
{
    return hmap_count(&ipam->by_owner);
}

static int
ipam_entry_compare(const void *a_, const void *b_)
{
    const struct ipam_addr *const *a = a_;
    const struct ipam_addr *const *b = b_;
    return ((*a)->offset > (*b)->offset) - ((*a)->offset < (*b)->offset);
}

/* Stores in '*entriesp' a snapshot of the allocations, sorted by address,
 * and returns their number.  The caller frees it with ipam_entries_free().
 * With no allocations, '*entriesp' is NULL. */
size_t
ipam_entries(const struct ipam *ipam, struct ipam_entry **entriesp)
{
    size_t n = hmap_count(&ipam->by_owner);
    *entriesp = NULL;
    if (!n) {
        return 0;
    }

    struct ipam_addr **leases = xmalloc(n * sizeof *leases);
    struct ipam_addr *a;
    size_t i = 0;
    HMAP_FOR_EACH (a, owner_node, &ipam->by_owner) {
        leases[i++] = a;
    }
    qsort(leases, n, sizeof *leases, ipam_entry_compare);

    struct ipam_entry *entries = xmalloc(n * sizeof *entries);
    for (i = 0; i < n; i++) {
        ipam_offset_to_ip(ipam, leases[i]->offset, &entries[i].addr);
        entries[i].owner = xstrdup(leases[i]->owner);
    }
    free(leases);
    *entriesp = entries;
    return n;
}

void
ipam_entries_free(struct ipam_entry *entries, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(entries[i].owner);
    }
    free(entries);
}
