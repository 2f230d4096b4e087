/*
 * Network namespaces: opening them by path, checking that a path really is
 * one, and running code inside one.
 *
 * A network namespace is held by a file descriptor (of /proc/PID/ns/net or
 * of a bind mount such as /var/run/netns/NAME).  setns() moves only the
 * calling thread, so tnetns_run() is safe in a multithreaded process as long
 * as the callback does not hand work to other threads.
 *
 * Functions return 0 or a positive errno value.  The prefix is "tnetns_" so
 * that the names do not clash with libopenvswitch's netns_*.
 */
#ifndef TENDRIL_NETNS_H
#define TENDRIL_NETNS_H 1

#include <stdbool.h>
#include "openvswitch/compiler.h"

int tnetns_open(const char *path, int *fdp) OVS_WARN_UNUSED_RESULT;
int tnetns_open_current(int *fdp) OVS_WARN_UNUSED_RESULT;
int tnetns_check_fd(int fd) OVS_WARN_UNUSED_RESULT;
const char *tnetns_strerror(int error);

int tnetns_same(int fd1, int fd2, bool *samep) OVS_WARN_UNUSED_RESULT;

int tnetns_run(int netns_fd, int (*cb)(void *aux), void *aux);

#endif /* lib/netns.h */
