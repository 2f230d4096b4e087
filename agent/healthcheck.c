#include "ovs-config.h"
#include "agent/healthcheck.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "hash.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(healthcheck);

struct healthcheck {
    struct hmap_node node;      /* In healthchecks' 'servers', by key. */
    char *key;                  /* "NAMESPACE/NAME". */
    uint16_t port;
    size_t local_endpoints;
    struct MHD_Daemon *daemon;  /* NULL if the port could not be opened. */
};

struct healthchecks {
    struct hmap servers;
};

int
healthcheck_answer(const char *key, size_t local_endpoints, char **body)
{
    const char *slash = strchr(key, '/');
    int ns_len = slash ? (int) (slash - key) : 0;
    const char *name = slash ? slash + 1 : key;
    *body = xasprintf("{\"service\":{\"namespace\":\"%.*s\",\"name\":\"%s\"},"
                      "\"localEndpoints\":%"PRIuSIZE"}\n", ns_len, key, name,
                      local_endpoints);
    return local_endpoints ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
}

static enum MHD_Result
answer(void *hc_, struct MHD_Connection *conn, const char *url OVS_UNUSED,
       const char *method OVS_UNUSED, const char *version OVS_UNUSED,
       const char *upload OVS_UNUSED, size_t *upload_size OVS_UNUSED,
       void **con_cls OVS_UNUSED)
{
    const struct healthcheck *hc = hc_;
    char *body;
    int status = healthcheck_answer(hc->key, hc->local_endpoints, &body);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

struct healthchecks *
healthchecks_create(void)
{
    struct healthchecks *hcs = xzalloc(sizeof *hcs);
    hmap_init(&hcs->servers);
    return hcs;
}

static void
server_stop(struct healthcheck *hc)
{
    if (hc->daemon) {
        MHD_stop_daemon(hc->daemon);
        hc->daemon = NULL;
    }
}

static void
server_start(struct healthcheck *hc)
{
    /* No thread: MHD_run() from the poll loop. */
    hc->daemon = MHD_start_daemon(MHD_NO_FLAG, hc->port, NULL, NULL,
                                  answer, hc,
                                  MHD_OPTION_CONNECTION_TIMEOUT,
                                  (unsigned int) 10,
                                  MHD_OPTION_CONNECTION_LIMIT,
                                  (unsigned int) 64,
                                  MHD_OPTION_END);
    if (hc->daemon) {
        VLOG_INFO("service %s: health check on port %"PRIu16, hc->key,
                  hc->port);
    } else {
        VLOG_WARN("service %s: cannot serve the health check on port "
                  "%"PRIu16, hc->key, hc->port);
    }
}

void
healthchecks_destroy(struct healthchecks *hcs)
{
    if (hcs) {
        struct healthcheck *hc;
        HMAP_FOR_EACH_POP (hc, node, &hcs->servers) {
            server_stop(hc);
            free(hc->key);
            free(hc);
        }
        hmap_destroy(&hcs->servers);
        free(hcs);
    }
}

static struct healthcheck *
find(const struct healthchecks *hcs, const char *key)
{
    struct healthcheck *hc;
    HMAP_FOR_EACH_WITH_HASH (hc, node, hash_string(key, 0), &hcs->servers) {
        if (!strcmp(hc->key, key)) {
            return hc;
        }
    }
    return NULL;
}

void
healthchecks_set(struct healthchecks *hcs, const char *key, uint16_t port,
                 size_t local_endpoints)
{
    struct healthcheck *hc = find(hcs, key);
    if (!port) {
        if (hc) {
            server_stop(hc);
            hmap_remove(&hcs->servers, &hc->node);
            free(hc->key);
            free(hc);
        }
        return;
    }
    if (!hc) {
        hc = xzalloc(sizeof *hc);
        hc->key = xstrdup(key);
        hmap_insert(&hcs->servers, &hc->node, hash_string(key, 0));
    }
    hc->local_endpoints = local_endpoints;
    if (hc->port != port || !hc->daemon) {
        server_stop(hc);
        hc->port = port;
        server_start(hc);
    }
}

void
healthchecks_run(struct healthchecks *hcs)
{
    struct healthcheck *hc;
    HMAP_FOR_EACH (hc, node, &hcs->servers) {
        if (hc->daemon) {
            MHD_run(hc->daemon);
        }
    }
}

void
healthchecks_wait(struct healthchecks *hcs)
{
    struct healthcheck *hc;
    HMAP_FOR_EACH (hc, node, &hcs->servers) {
        if (!hc->daemon) {
            continue;
        }
        fd_set rs, ws, es;
        MHD_socket max = 0;
        FD_ZERO(&rs);
        FD_ZERO(&ws);
        FD_ZERO(&es);
        if (MHD_get_fdset(hc->daemon, &rs, &ws, &es, &max) != MHD_YES) {
            poll_immediate_wake();
            continue;
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
        if (MHD_get_timeout(hc->daemon, &timeout) == MHD_YES) {
            poll_timer_wait(MIN(timeout, 10000));
        }
    }
}
