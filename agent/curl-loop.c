#include "ovs-config.h"
#include "agent/curl-loop.h"

#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(curl_loop);

struct curl_loop_socket {
    curl_socket_t fd;
    int what;                   /* CURL_POLL_IN, _OUT, _INOUT. */
};

static int
socket_cb(CURL *e OVS_UNUSED, curl_socket_t fd, int what, void *loop_,
          void *socketp OVS_UNUSED)
{
    struct curl_loop *loop = loop_;
    for (size_t i = 0; i < loop->n_sockets; i++) {
        if (loop->sockets[i].fd == fd) {
            if (what == CURL_POLL_REMOVE) {
                loop->sockets[i] = loop->sockets[--loop->n_sockets];
            } else {
                loop->sockets[i].what = what;
            }
            return 0;
        }
    }
    if (what != CURL_POLL_REMOVE) {
        if (loop->n_sockets >= loop->allocated_sockets) {
            loop->sockets = x2nrealloc(loop->sockets,
                                       &loop->allocated_sockets,
                                       sizeof *loop->sockets);
        }
        loop->sockets[loop->n_sockets++] = (struct curl_loop_socket) {
            fd, what
        };
    }
    return 0;
}

static int
timer_cb(CURLM *multi OVS_UNUSED, long timeout_ms, void *loop_)
{
    struct curl_loop *loop = loop_;
    loop->timer = timeout_ms < 0 ? LLONG_MAX : time_msec() + timeout_ms;
    return 0;
}

void
curl_loop_init(struct curl_loop *loop)
{
    static bool inited;
    if (!inited) {
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) {
            VLOG_FATAL("curl_global_init: %s", curl_easy_strerror(rc));
        }
        inited = true;
    }

    loop->timer = LLONG_MAX;
    loop->sockets = NULL;
    loop->n_sockets = loop->allocated_sockets = 0;
    loop->multi = curl_multi_init();
    if (!loop->multi) {
        VLOG_FATAL("curl_multi_init failed");
    }
    curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
    curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
}

void
curl_loop_destroy(struct curl_loop *loop)
{
    curl_multi_cleanup(loop->multi);
    free(loop->sockets);
}

/* Lets libcurl work on every socket it has (it checks each itself) and on
 * its timeout, if due.  The socket API keeps CURLMOPT_SOCKETFUNCTION's list
 * current; curl_multi_perform() does not always call it, and then a
 * socket with data waiting could be missing from the poll set. */
void
curl_loop_run(struct curl_loop *loop, int *running)
{
    size_t n = loop->n_sockets;
    curl_socket_t *fds = xmalloc((n + 1) * sizeof *fds);
    for (size_t i = 0; i < n; i++) {
        fds[i] = loop->sockets[i].fd;
    }
    for (size_t i = 0; i < n; i++) {
        curl_multi_socket_action(loop->multi, fds[i], 0, running);
    }
    free(fds);
    if (time_msec() >= loop->timer) {
        curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0,
                                 running);
    }
}

void
curl_loop_wait(const struct curl_loop *loop)
{
    for (size_t i = 0; i < loop->n_sockets; i++) {
        const struct curl_loop_socket *s = &loop->sockets[i];
        short int events = ((s->what & CURL_POLL_IN ? POLLIN : 0)
                            | (s->what & CURL_POLL_OUT ? POLLOUT : 0));
        if (events) {
            poll_fd_wait(s->fd, events);
        }
    }
    if (loop->timer != LLONG_MAX) {
        poll_timer_wait_until(loop->timer);
    }
}
