#include "ovs-config.h"
#include "agent/healthcheck.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "agent/http-server.h"
#include "hash.h"
#include "openvswitch/hmap.h"
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
    return http_server_reply(conn, status, "application/json", body);
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
    http_server_stop(hc->daemon);
    hc->daemon = NULL;
}

static void
server_start(struct healthcheck *hc)
{
    char *what = xasprintf("service %s: health check", hc->key);
    hc->daemon = http_server_start(what, NULL, hc->port, answer, hc);
    free(what);
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
        http_server_run(hc->daemon);
    }
}

void
healthchecks_wait(struct healthchecks *hcs)
{
    struct healthcheck *hc;
    HMAP_FOR_EACH (hc, node, &hcs->servers) {
        http_server_wait(hc->daemon);
    }
}
