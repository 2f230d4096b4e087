#include "ovs-config.h"

#include "lib/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>

#include "util.h"

/* The calling thread's own network namespace.  /proc/self would name the
 * thread group leader's, which differs while another thread is inside
 * tnetns_run(). */
#define TNETNS_CURRENT "/proc/thread-self/ns/net"

/* Checks that 'fd' refers to a network namespace.  Returns 0 if so, EINVAL
 * if it refers to something else (a regular file, a directory, another kind
 * of namespace, an unmounted /var/run/netns placeholder), or another errno
 * value if it cannot be inspected. */
int
tnetns_check_fd(int fd)
{
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0) {
        return errno;
    }
    if (sfs.f_type != NSFS_MAGIC) {
        return EINVAL;
    }

    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type < 0) {
        /* Kernels before 4.11 lack NS_GET_NSTYPE; for them the file system
         * check is all we can do, and setns() rejects other kinds later. */
        return errno == ENOTTY ? 0 : errno;
    }
    return type == CLONE_NEWNET ? 0 : EINVAL;
}

/* Opens the network namespace at 'path' (e.g. /var/run/netns/NAME or
 * /proc/PID/ns/net) and stores a close-on-exec file descriptor for it in
 * '*fdp', which the caller must close.  Returns 0 on success; ENOENT if
 * 'path' does not exist (so that an idempotent CNI DEL can tell a vanished
 * namespace apart); EINVAL if 'path' exists but is not a network namespace
 * (see tnetns_strerror()); another errno value otherwise.  On error '*fdp'
 * is -1. */
int
tnetns_open(const char *path, int *fdp)
{
    *fdp = -1;
    if (!path || !path[0]) {
        return EINVAL;
    }

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    int error = tnetns_check_fd(fd);
    if (error) {
        close(fd);
        return error;
    }
    *fdp = fd;
    return 0;
}

/* Opens the calling thread's current network namespace, like
 * tnetns_open(). */
int
tnetns_open_current(int *fdp)
{
    return tnetns_open(TNETNS_CURRENT, fdp);
}

/* Returns a string for an error from tnetns_open() or tnetns_check_fd(): for
 * EINVAL "not a network namespace", otherwise strerror's text. */
const char *
tnetns_strerror(int error)
{
    return error == EINVAL ? "not a network namespace" : ovs_strerror(error);
}

/* Stores in '*samep' whether 'fd1' and 'fd2' refer to the same namespace.
 * Returns 0 or an errno value from fstat(). */
int
tnetns_same(int fd1, int fd2, bool *samep)
{
    struct stat st1, st2;

    *samep = false;
    if (fstat(fd1, &st1) < 0 || fstat(fd2, &st2) < 0) {
        return errno;
    }
    *samep = st1.st_dev == st2.st_dev && st1.st_ino == st2.st_ino;
    return 0;
}

/* Moves the calling thread into the network namespace 'netns_fd', calls
 * cb(aux) there, and moves the thread back to the namespace it was in.
 * Sockets created by 'cb' stay bound to 'netns_fd''s namespace after it
 * returns; so does anything opened under /proc/sys/net.
 *
 * Returns cb's return value, or, without calling 'cb', a positive errno value
 * if the thread could not enter 'netns_fd' (EBADF, EINVAL if it is not a
 * network namespace, EPERM without CAP_SYS_ADMIN).
 *
 * If the thread cannot return to its original namespace, this function
 * aborts the process: going on in the wrong namespace would configure the
 * wrong interfaces. */
int
tnetns_run(int netns_fd, int (*cb)(void *aux), void *aux)
{
    int orig_fd;
    int error = tnetns_open_current(&orig_fd);
    if (error) {
        return error;
    }

    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        error = errno;
        close(orig_fd);
        return error;
    }

    int retval = cb(aux);

    if (setns(orig_fd, CLONE_NEWNET) < 0) {
        ovs_abort(errno, "cannot return to the original network namespace "
                  "after running in another one");
    }
    close(orig_fd);
    return retval;
}
