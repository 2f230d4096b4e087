#include "ovs-config.h"
#include "agent/k8s-client.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/curl-loop.h"
#include "agent/k8s-cache.h"
#include "lib/metrics.h"
#include "lib/kubeconfig.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "random.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(k8s_client);

#define LIST_LIMIT 500
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define CONNECT_TIMEOUT_MS 10000
#define LIST_TIMEOUT_S 120


enum resource_state {
    RES_LISTING,
    RES_WATCHING,
    RES_BACKOFF,
};

static const char *
resource_state_to_string(enum resource_state state)
{
    return (state == RES_LISTING ? "listing"
            : state == RES_WATCHING ? "watching"
            : "backoff");
}

struct resource {
    struct k8s_client *client;
    const struct k8s_resource_def *def;
    bool use_fallback;          /* Serve from def->fallback. */
    enum resource_state state;

    /* The transfer in progress (NULL in RES_BACKOFF). */
    CURL *easy;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    struct ds body;             /* List: the response; watch: the partial
                                 * line (or an error response). */
    long long int started;      /* When the transfer began. */
    bool gone;                  /* Watch: ERROR 410 seen. */
    char *abort_error;          /* Watch: another ERROR event. */

    /* Paging of the list in progress. */
    struct k8s_object **items;
    size_t n_items, allocated_items;
    char *continue_token;

    long long int retry_at;     /* RES_BACKOFF: when to try again. */
    int backoff_ms;             /* 0: the last attempt worked. */

    bool listed;                /* Listed completely at least once. */
    unsigned long long lists, relists, events, errors, skipped;
    char *last_error;
};

struct k8s_client {
    struct kubeconfig *kc;
    struct k8s_cache *cache;
    struct curl_loop loop;
    struct resource resources[K8S_N_KINDS];
};

static void start_list(struct resource *);

/* Resources. */

static void
set_error(struct resource *r, char *error)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    VLOG_WARN_RL(&rl, "%s: %s", r->def->plural, error);
    free(r->last_error);
    r->last_error = error;
    r->errors++;
}

static void
clear_items(struct resource *r)
{
    for (size_t i = 0; i < r->n_items; i++) {
        k8s_object_destroy(r->items[i]);
    }
    free(r->items);
    r->items = NULL;
    r->n_items = r->allocated_items = 0;
    free(r->continue_token);
    r->continue_token = NULL;
}

static void
end_transfer(struct resource *r)
{
    if (r->easy) {
        curl_multi_remove_handle(r->client->loop.multi, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
    }
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    ds_clear(&r->body);
    r->gone = false;
    free(r->abort_error);
    r->abort_error = NULL;
}

/* Retries after a growing, jittered delay; 'error' is taken. */
static void
backoff(struct resource *r, char *error)
{
    end_transfer(r);
    clear_items(r);
    set_error(r, error);
    r->backoff_ms = (r->backoff_ms
                     ? MIN(r->backoff_ms * 2, BACKOFF_MAX_MS)
                     : BACKOFF_MIN_MS);
    /* +-25%. */
    int jitter = r->backoff_ms / 2;
    int delay = r->backoff_ms - jitter / 2 + random_range(jitter + 1);
    r->retry_at = time_msec() + delay;
    r->state = RES_BACKOFF;
}

static const char *
resource_path(const struct resource *r)
{
    return r->use_fallback ? r->def->fallback : r->def->path;
}

static void
process_lines(struct resource *r);

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *r_)
{
    struct resource *r = r_;
    size_t n = size * nmemb;

    ds_put_buffer(&r->body, ptr, n);
    if (r->state == RES_WATCHING) {
        long code = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code == 200) {
            process_lines(r);
            if (r->gone || r->abort_error) {
                return 0;       /* Ends the transfer. */
            }
        }
    }
    return n;
}

/* Starts a GET of 'url' (taken) for 'r'; 'timeout_s' bounds it. */
static void
start_transfer(struct resource *r, char *url, long timeout_s)
{
    struct k8s_client *c = r->client;
    const struct kubeconfig *kc = c->kc;

    end_transfer(r);
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(url);
        backoff(r, xstrdup("curl_easy_init failed"));
        return;
    }

    const char *token;
    char *error = kubeconfig_token(c->kc, &token);
    if (error) {
        set_error(r, error);
    }
    r->headers = curl_slist_append(NULL, "Accept: application/json");
    if (token) {
        char *auth = xasprintf("Authorization: Bearer %s", token);
        r->headers = curl_slist_append(r->headers, auth);
        free(auth);
    }

    CURL *e = r->easy;
    r->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tendril-agent/" TENDRIL_VERSION);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 10L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    if (kc->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (kc->ca.data) {
        struct curl_blob blob = { kc->ca.data, kc->ca.data_len,
                                  CURL_BLOB_COPY };
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    } else if (kc->ca.file) {
        curl_easy_setopt(e, CURLOPT_CAINFO, kc->ca.file);
    }
    if (kc->client_cert.data) {
        struct curl_blob blob = { kc->client_cert.data,
                                  kc->client_cert.data_len, CURL_BLOB_COPY };
        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
    } else if (kc->client_cert.file) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, kc->client_cert.file);
    }
    if (kc->client_key.data) {
        struct curl_blob blob = { kc->client_key.data,
                                  kc->client_key.data_len, CURL_BLOB_COPY };
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
    } else if (kc->client_key.file) {
        curl_easy_setopt(e, CURLOPT_SSLKEY, kc->client_key.file);
    }
    free(url);

    r->started = time_msec();
    CURLMcode mc = curl_multi_add_handle(c->loop.multi, e);
    if (mc != CURLM_OK) {
        backoff(r, xasprintf("curl_multi_add_handle: %s",
                             curl_multi_strerror(mc)));
    }
}

static char *
escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *copy = xstrdup(e ? e : "");
    curl_free(e);
    return copy;
}

/* Lists the next page, or the first one if there is no continue token. */
static void
start_list(struct resource *r)
{
    struct ds url = DS_EMPTY_INITIALIZER;
    ds_put_format(&url, "%s%s/%s?limit=%d", r->client->kc->server,
                  resource_path(r), r->def->plural, LIST_LIMIT);
    if (r->continue_token) {
        char *token = escape(r->continue_token);
        ds_put_format(&url, "&continue=%s", token);
        free(token);
    } else {
        clear_items(r);
    }
    r->state = RES_LISTING;
    start_transfer(r, ds_steal_cstr(&url), LIST_TIMEOUT_S);
}

static void
start_watch(struct resource *r)
{
    const char *rv = k8s_cache_resource_version(r->client->cache,
                                                r->def->kind);
    if (!rv || !r->listed) {
        start_list(r);
        return;
    }
    int timeout = 300 + random_range(301);
    char *rv_e = escape(rv);
    char *url = xasprintf("%s%s/%s?watch=1&allowWatchBookmarks=true"
                          "&timeoutSeconds=%d&resourceVersion=%s",
                          r->client->kc->server, resource_path(r),
                          r->def->plural, timeout, rv_e);
    free(rv_e);
    r->state = RES_WATCHING;
    start_transfer(r, url, timeout + 60);
}

static void
handle_watch_line(struct resource *r, const char *line, size_t len)
{
    struct k8s_cache *cache = r->client->cache;
    enum k8s_kind kind = r->def->kind;
    struct k8s_watch_event ev;
    char *error = k8s_watch_parse_line(kind, line, len, &ev);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        VLOG_WARN_RL(&rl, "%s watch: %s (skipped)", r->def->plural, error);
        free(error);
        r->skipped++;
        if (ev.resource_version) {
            k8s_cache_set_resource_version(cache, kind, ev.resource_version);
        }
        k8s_watch_event_destroy(&ev);
        return;
    }

    switch (ev.type) {
    case K8S_WATCH_ADDED:
    case K8S_WATCH_MODIFIED:
    case K8S_WATCH_DELETED: {
        enum k8s_event event = (ev.type == K8S_WATCH_ADDED ? K8S_EVENT_ADDED
                                : ev.type == K8S_WATCH_MODIFIED
                                ? K8S_EVENT_MODIFIED : K8S_EVENT_DELETED);
        k8s_cache_apply(cache, event, ev.obj);
        ev.obj = NULL;
        r->events++;
        r->backoff_ms = 0;
        break;
    }
    case K8S_WATCH_BOOKMARK:
        k8s_cache_set_resource_version(cache, kind, ev.resource_version);
        break;
    case K8S_WATCH_ERROR:
        if (ev.code == 410) {
            r->gone = true;
        } else if (!r->abort_error) {
            r->abort_error = xasprintf("watch ERROR %d: %s", ev.code,
                                       ev.message);
        }
        break;
    }
    k8s_watch_event_destroy(&ev);
}

static void
process_lines(struct resource *r)
{
    size_t start = 0;
    for (;;) {
        const char *nl = memchr(r->body.string + start, '\n',
                                r->body.length - start);
        if (!nl) {
            break;
        }
        size_t len = nl - (r->body.string + start);
        if (len && !r->gone && !r->abort_error) {
            handle_watch_line(r, r->body.string + start, len);
        }
        start += len + 1;
    }
    if (start) {
        memmove(r->body.string, r->body.string + start,
                r->body.length - start);
        r->body.length -= start;
        r->body.string[r->body.length] = '\0';
    }
}

/* The message of a Status response body, or the body itself. */
static char *
http_error(const struct resource *r, long code)
{
    json_t *status = json_loadb(r->body.string, r->body.length, 0, NULL);
    const char *message = NULL;
    if (status) {
        json_unpack(status, "{s:s}", "message", &message);
    }
    char *error = xasprintf("HTTP %ld: %.200s", code,
                            message ? message
                            : r->body.length ? ds_cstr_ro(&r->body) : "");
    json_decref(status);
    return error;
}

static void
list_done(struct resource *r, CURLcode result, long code)
{
    if (result != CURLE_OK) {
        backoff(r, xasprintf("list: %s", r->errbuf[0] ? r->errbuf
                             : curl_easy_strerror(result)));
        return;
    }
    if (code == 404 && r->def->fallback && !r->use_fallback) {
        VLOG_INFO("%s: %s is not served; using %s", r->def->plural,
                  r->def->path, r->def->fallback);
        r->use_fallback = true;
        clear_items(r);
        start_list(r);
        return;
    }
    if (code == 410 && r->continue_token) {
        /* The continue token expired: start over. */
        VLOG_INFO("%s: list continuation expired; listing again",
                  r->def->plural);
        clear_items(r);
        start_list(r);
        return;
    }
    if (code != 200) {
        backoff(r, http_error(r, code));
        return;
    }

    json_error_t jerr;
    json_t *list = json_loadb(r->body.string, r->body.length, 0, &jerr);
    const json_t *items;
    const char *rv = NULL, *cont = NULL;
    if (!list || json_unpack_ex(list, &jerr, 0, "{s:o, s:{s?s, s?s}}",
                                "items", &items, "metadata",
                                "resourceVersion", &rv, "continue", &cont)
        || !json_is_array(items)) {
        char *error = xasprintf("list: malformed response: %s",
                                jerr.text);
        json_decref(list);
        backoff(r, error);
        return;
    }

    size_t i;
    const json_t *item;
    json_array_foreach (items, i, item) {
        struct k8s_object *obj;
        char *error = k8s_object_parse(r->def->kind, item, &obj);
        if (error) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
            VLOG_WARN_RL(&rl, "%s list: %s (skipped)", r->def->plural,
                         error);
            free(error);
            r->skipped++;
            continue;
        }
        if (r->n_items >= r->allocated_items) {
            r->items = x2nrealloc(r->items, &r->allocated_items,
                                  sizeof *r->items);
        }
        r->items[r->n_items++] = obj;
    }

    free(r->continue_token);
    r->continue_token = cont && *cont ? xstrdup(cont) : NULL;
    if (r->continue_token) {
        json_decref(list);
        start_list(r);
        return;
    }

    struct k8s_relist_stats stats;
    k8s_cache_relist(r->client->cache, r->def->kind, r->items, r->n_items,
                     rv, &stats);
    free(r->items);
    r->items = NULL;
    r->n_items = r->allocated_items = 0;

    if (r->listed) {
        r->relists++;
    }
    r->lists++;
    VLOG_INFO("%s: %s (resourceVersion %s): %"PRIuSIZE" added, %"PRIuSIZE
              " updated, %"PRIuSIZE" deleted, %"PRIuSIZE" unchanged",
              r->def->plural, r->listed ? "relisted" : "listed",
              rv ? rv : "none", stats.added, stats.updated, stats.deleted,
              stats.unchanged);
    json_decref(list);
    r->listed = true;
    r->backoff_ms = 0;
    start_watch(r);
}

static void
watch_done(struct resource *r, CURLcode result, long code)
{
    if (code == 200) {
        process_lines(r);
        /* The last line may lack its newline. */
        if (r->body.length && !r->gone && !r->abort_error
            && result == CURLE_OK) {
            handle_watch_line(r, r->body.string, r->body.length);
        }
    }
    if (r->gone || code == 410) {
        VLOG_INFO("%s: resourceVersion %s is too old; listing again",
                  r->def->plural,
                  k8s_cache_resource_version(r->client->cache, r->def->kind));
        end_transfer(r);
        start_list(r);
    } else if (r->abort_error) {
        char *error = r->abort_error;
        r->abort_error = NULL;
        backoff(r, error);
    } else if (result != CURLE_OK) {
        backoff(r, xasprintf("watch: %s", r->errbuf[0] ? r->errbuf
                             : curl_easy_strerror(result)));
    } else if (code != 200) {
        backoff(r, http_error(r, code));
    } else if (time_msec() - r->started < 1000) {
        /* A watch that ends at once, repeatedly, must not spin. */
        backoff(r, xstrdup("watch: the server ended the watch at once"));
    } else {
        /* The server's timeout: resume from the last resourceVersion. */
        r->backoff_ms = 0;
        start_watch(r);
    }
}

/* The client. */

struct k8s_client *
k8s_client_create(struct kubeconfig *kc, struct k8s_cache *cache)
{
    struct k8s_client *c = xzalloc(sizeof *c);
    c->kc = kc;
    c->cache = cache;
    curl_loop_init(&c->loop);

    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        struct resource *r = &c->resources[i];
        r->client = c;
        r->def = k8s_resource_def(i);
        ovs_assert(r->def->kind == i);
        ds_init(&r->body);
        start_list(r);
    }
    VLOG_INFO("Kubernetes API server %s", kc->server);
    return c;
}

void
k8s_client_destroy(struct k8s_client *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        struct resource *r = &c->resources[i];
        end_transfer(r);
        clear_items(r);
        ds_destroy(&r->body);
        free(r->last_error);
    }
    curl_loop_destroy(&c->loop);
    kubeconfig_destroy(c->kc);
    free(c);
}

void
k8s_client_run(struct k8s_client *c)
{
    int running;
    curl_loop_run(&c->loop, &running);

    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->loop.multi, &left))) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        struct resource *r = NULL;
        long code = 0;
        CURLcode result = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        if (!r || r->easy != msg->easy_handle) {
            continue;
        }
        if (r->state == RES_LISTING) {
            list_done(r, result, code);
        } else {
            watch_done(r, result, code);
        }
    }

    long long int now = time_msec();
    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        struct resource *r = &c->resources[i];
        if (r->state == RES_BACKOFF && now >= r->retry_at) {
            start_watch(r);
        }
    }
}

void
k8s_client_wait(struct k8s_client *c)
{
    curl_loop_wait(&c->loop);
    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        const struct resource *r = &c->resources[i];
        if (r->state == RES_BACKOFF) {
            poll_timer_wait_until(r->retry_at);
        }
    }
}

bool
k8s_client_is_synced(const struct k8s_client *c)
{
    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        if (!c->resources[i].listed) {
            return false;
        }
    }
    return true;
}

void
k8s_client_format_status(const struct k8s_client *c, struct ds *s)
{
    ds_put_format(s, "server: %s\n", c->kc->server);
    ds_put_format(s, "synced: %s\n",
                  k8s_client_is_synced(c) ? "yes" : "no");
    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        const struct resource *r = &c->resources[i];
        const char *rv = k8s_cache_resource_version(c->cache, r->def->kind);
        ds_put_format(s, "%s: %s", r->def->plural,
                      resource_state_to_string(r->state));
        if (r->state == RES_BACKOFF) {
            ds_put_format(s, " (retry in %lld ms)",
                          MAX(0, r->retry_at - time_msec()));
        }
        ds_put_format(s, ", %s, resourceVersion %s, objects %"PRIuSIZE
                      ", lists %llu, relists %llu, events %llu, "
                      "skipped %llu, errors %llu, last error: %s\n",
                      resource_path(r) + 1, rv ? rv : "-",
                      k8s_cache_count(c->cache, r->def->kind), r->lists,
                      r->relists, r->events, r->skipped, r->errors,
                      r->last_error ? r->last_error : "-");
    }
}

void
k8s_client_format_metrics(const struct k8s_client *c, struct ds *s)
{
    static const enum resource_state states[] = {
        RES_LISTING, RES_WATCHING, RES_BACKOFF,
    };
    static const char state[] = "tendril_agent_k8s_watch_state";
    const struct {
        const char *name;
        const char *help;
        size_t offset;
    } counters[] = {
        { "tendril_agent_k8s_lists_total", "Complete lists of a resource",
          offsetof(struct resource, lists) },
        { "tendril_agent_k8s_relists_total",
          "Lists after the first (a watch that expired or failed)",
          offsetof(struct resource, relists) },
        { "tendril_agent_k8s_watch_events_total",
          "Watch events taken into the cache",
          offsetof(struct resource, events) },
        { "tendril_agent_k8s_skipped_total",
          "Objects or events skipped as malformed",
          offsetof(struct resource, skipped) },
        { "tendril_agent_k8s_errors_total",
          "Failed requests (then retried with backoff)",
          offsetof(struct resource, errors) },
    };
    struct ds labels = DS_EMPTY_INITIALIZER;

    metrics_put_scalar(s, "tendril_agent_k8s_synced", METRIC_GAUGE,
                       "1 once every resource is listed and watched",
                       k8s_client_is_synced(c));
    metrics_put_family(s, state, METRIC_GAUGE,
                       "1 for the state each resource's list and watch "
                       "is in");
    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        const struct resource *r = &c->resources[i];
        for (size_t j = 0; j < ARRAY_SIZE(states); j++) {
            ds_clear(&labels);
            ds_put_format(&labels, "resource=\"%s\",state=\"%s\"",
                          r->def->plural, resource_state_to_string(states[j]));
            metrics_put_sample(s, state, ds_cstr(&labels),
                               r->state == states[j]);
        }
    }
    metrics_put_family(s, "tendril_agent_k8s_objects", METRIC_GAUGE,
                       "Objects in the agent's cache");
    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        const struct resource *r = &c->resources[i];
        ds_clear(&labels);
        ds_put_format(&labels, "resource=\"%s\"", r->def->plural);
        metrics_put_sample(s, "tendril_agent_k8s_objects", ds_cstr(&labels),
                           k8s_cache_count(c->cache, r->def->kind));
    }
    for (size_t k = 0; k < ARRAY_SIZE(counters); k++) {
        metrics_put_family(s, counters[k].name, METRIC_COUNTER,
                           counters[k].help);
        for (size_t i = 0; i < K8S_N_KINDS; i++) {
            const struct resource *r = &c->resources[i];
            const unsigned long long *n = (const void *)
                ((const char *) r + counters[k].offset);
            ds_clear(&labels);
            ds_put_format(&labels, "resource=\"%s\"", r->def->plural);
            metrics_put_sample(s, counters[k].name, ds_cstr(&labels), *n);
        }
    }
    ds_destroy(&labels);
}
