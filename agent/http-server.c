#include "ovs-config.h"
#include "agent/http-server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(http_server);

struct MHD_Daemon *
http_server_start(const char *what, const char *addr, uint16_t port,
                  MHD_AccessHandlerCallback handler, void *aux)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_ANY);
    if (addr && inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        VLOG_WARN("%s: \"%s\" is not an IPv4 address", what, addr);
        return NULL;
    }
    errno = 0;
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_NO_FLAG, port, NULL, NULL, handler, aux,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sin,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 64,
        MHD_OPTION_END);
    if (d) {
        VLOG_INFO("%s: serving HTTP on %s:%"PRIu16, what,
                  addr ? addr : "*", port);
    } else {
        VLOG_WARN("%s: cannot serve HTTP on %s:%"PRIu16" (%s)", what,
                  addr ? addr : "*", port,
                  errno ? ovs_strerror(errno) : "unknown error");
    }
    return d;
}

void
http_server_stop(struct MHD_Daemon *d)
{
    if (d) {
        MHD_stop_daemon(d);
    }
}

void
http_server_run(struct MHD_Daemon *d)
{
    if (d) {
        MHD_run(d);
    }
}

void
http_server_wait(struct MHD_Daemon *d)
{
    if (!d) {
        return;
    }
    fd_set rs, ws, es;
    MHD_socket max = 0;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_ZERO(&es);
    if (MHD_get_fdset(d, &rs, &ws, &es, &max) != MHD_YES) {
        poll_immediate_wake();
        return;
    }
    for (int fd = 0; fd <= max; fd++) {
        if (FD_ISSET(fd, &rs)) {
            poll_fd_wait(fd, POLLIN);
        }
        if (FD_ISSET(fd, &ws)) {
            poll_fd_wait(fd, POLLOUT);
        }
    }
    MHD_UNSIGNED_LONG_LONG timeout;
    if (MHD_get_timeout(d, &timeout) == MHD_YES) {
        poll_timer_wait(MIN(timeout, 10000));
    }
}

enum MHD_Result
http_server_reply(struct MHD_Connection *conn, unsigned int status,
                  const char *content_type, char *body)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}
