#include "ovs-config.h"
#include "agent/cni-server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/agent-protocol.h"
#include "lib/metrics.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cni_server);

#define READ_TIMEOUT_MS 5000
#define MAX_REQUEST 65536

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

struct cni_request {
    struct ovs_list node;        /* In cni_server's 'conns'. */
    struct cni_server *server;
    struct stream *stream;
    struct ds in;
    struct ds out;
    size_t out_ofs;
    enum { REQ_READING, REQ_HANDLING, REQ_WRITING } state;
    long long int deadline;
    int command;                 /* Index in 'commands', once read. */
    long long int handled_us;    /* When the request was read. */
};

/* The commands whose figures are kept; the last is everything else. */
static const char *const commands[] = {
    AP_ADD, AP_DEL, AP_CHECK, AP_STATUS, AP_GC, "other",
};
#define N_COMMANDS ARRAY_SIZE(commands)

/* Per command: the time from the request read to the reply, and the
 * errors by CNI code. */
struct cni_command_stats {
    struct histogram latency;
    uint64_t ok;
    struct {
        int code;
        uint64_t n;
    } errors[16];
    size_t n_codes;
};

struct cni_server {
    char *path;
    struct pstream *listener;
    struct ovs_list conns;
    cni_handler_func *handler;
    void *aux;
    struct cni_command_stats stats[N_COMMANDS];
};

char *
cni_server_create(const char *path, cni_handler_func *handler, void *aux,
                  struct cni_server **serverp)
{
    *serverp = NULL;

    /* A socket left by an earlier run is in the way; anything else at that
     * path is not ours to remove. */
    struct stat st;
    if (!lstat(path, &st)) {
        if (!S_ISSOCK(st.st_mode)) {
            return xasprintf("%s exists and is not a socket", path);
        }
        unlink(path);
    }

    char *name = xasprintf("punix:%s", path);
    struct pstream *listener;
    mode_t old_umask = umask(0077);
    int error = pstream_open(name, &listener, 0);
    umask(old_umask);
    free(name);
    if (error) {
        return xasprintf("%s: cannot listen (%s)", path,
                         ovs_strerror(error));
    }
    chmod(path, 0600);

    struct cni_server *s = xzalloc(sizeof *s);
    s->path = xstrdup(path);
    s->listener = listener;
    ovs_list_init(&s->conns);
    s->handler = handler;
    s->aux = aux;
    *serverp = s;
    return NULL;
}

static void
request_close(struct cni_request *req)
{
    ovs_list_remove(&req->node);
    stream_close(req->stream);
    ds_destroy(&req->in);
    ds_destroy(&req->out);
    free(req);
}

void
cni_server_destroy(struct cni_server *s)
{
    if (s) {
        struct cni_request *req;
        LIST_FOR_EACH_SAFE (req, node, &s->conns) {
            request_close(req);
        }
        pstream_close(s->listener);
        unlink(s->path);
        free(s->path);
        free(s);
    }
}

long long int
cni_request_deadline(const struct cni_request *req)
{
    return req->deadline;
}

/* 'req' is answered, with 'code' (0: success). */
static void
request_done(struct cni_request *req, int code)
{
    struct cni_command_stats *st = &req->server->stats[req->command];
    histogram_observe(&st->latency, (time_usec() - req->handled_us) / 1e6);
    if (!code) {
        st->ok++;
        return;
    }
    for (size_t i = 0; i < st->n_codes; i++) {
        if (st->errors[i].code == code) {
            st->errors[i].n++;
            return;
        }
    }
    if (st->n_codes < ARRAY_SIZE(st->errors)) {
        st->errors[st->n_codes].code = code;
        st->errors[st->n_codes++].n = 1;
    }
}

void
cni_request_reply(struct cni_request *req, json_t *result)
{
    request_done(req, 0);
    json_t *reply = json_pack("{s:o}", AP_RESULT, result);
    char *text = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    ds_put_format(&req->out, "%s\n", text);
    free(text);
    req->state = REQ_WRITING;
    poll_immediate_wake();
}

void
cni_request_error(struct cni_request *req, int code, const char *msg,
                  const char *details)
{
    request_done(req, code);
    json_t *error = json_pack("{s:i,s:s}", AP_CODE, code, AP_MSG, msg);
    if (details && *details) {
        json_object_set_new(error, AP_DETAILS, json_pack("s", details));
    }
    json_t *reply = json_pack("{s:o}", AP_ERROR, error);
    char *text = json_dumps(reply, JSON_COMPACT);
    json_decref(reply);
    ds_put_format(&req->out, "%s\n", text);
    free(text);
    req->state = REQ_WRITING;
    poll_immediate_wake();
}

static void
request_read(struct cni_request *req)
{
    char buf[4096];
    int n = stream_recv(req->stream, buf, sizeof buf);
    if (n == -EAGAIN) {
        return;
    }
    if (n > 0) {
        ds_put_buffer(&req->in, buf, n);
        if (req->in.length > MAX_REQUEST) {
            VLOG_WARN_RL(&rl, "CNI request larger than %d bytes", MAX_REQUEST);
            request_close(req);
            return;
        }
        if (!memchr(buf, '\n', n)) {
            return;
        }
    } else if (n < 0 || !req->in.length) {
        /* Error, or closed without a request. */
        request_close(req);
        return;
    }

    json_error_t jerr;
    json_t *request = json_loadb(req->in.string, req->in.length,
                                 JSON_DISABLE_EOF_CHECK, &jerr);
    req->state = REQ_HANDLING;
    req->handled_us = time_usec();
    const char *command = (request && json_is_object(request)
                           ? json_string_value(json_object_get(request,
                                                               AP_COMMAND))
                           : NULL);
    req->command = N_COMMANDS - 1;
    for (size_t i = 0; command && i < N_COMMANDS - 1; i++) {
        if (!strcmp(command, commands[i])) {
            req->command = i;
        }
    }
    if (!request || !json_is_object(request)) {
        cni_request_error(req, 6, "the agent cannot decode the request",
                          request ? "not a JSON object" : jerr.text);
    } else {
        req->server->handler(req, request, req->server->aux);
    }
    json_decref(request);
}

static void
request_write(struct cni_request *req)
{
    while (req->out_ofs < req->out.length) {
        int n = stream_send(req->stream, req->out.string + req->out_ofs,
                            req->out.length - req->out_ofs);
        if (n == -EAGAIN) {
            return;
        } else if (n < 0) {
            break;
        }
        req->out_ofs += n;
    }
    request_close(req);
}

void
cni_server_run(struct cni_server *s)
{
    for (int i = 0; i < 16; i++) {
        struct stream *stream;
        int error = pstream_accept(s->listener, &stream);
        if (error) {
            if (error != EAGAIN) {
                VLOG_WARN_RL(&rl, "%s: accept failed (%s)", s->path,
                             ovs_strerror(error));
            }
            break;
        }
        struct cni_request *req = xzalloc(sizeof *req);
        req->server = s;
        req->stream = stream;
        ds_init(&req->in);
        ds_init(&req->out);
        req->state = REQ_READING;
        req->deadline = time_msec() + READ_TIMEOUT_MS;
        ovs_list_push_back(&s->conns, &req->node);
    }

    long long int now = time_msec();
    struct cni_request *req;
    LIST_FOR_EACH_SAFE (req, node, &s->conns) {
        stream_run(req->stream);
        switch (req->state) {
        case REQ_READING:
            if (now >= req->deadline) {
                request_close(req);
            } else {
                request_read(req);
            }
            break;
        case REQ_HANDLING:
            /* The handler answers, or gives up at its own deadline. */
            break;
        case REQ_WRITING:
            request_write(req);
            break;
        }
    }
}

void
cni_server_wait(struct cni_server *s)
{
    pstream_wait(s->listener);

    struct cni_request *req;
    LIST_FOR_EACH (req, node, &s->conns) {
        stream_run_wait(req->stream);
        if (req->state == REQ_READING) {
            stream_recv_wait(req->stream);
            poll_timer_wait_until(req->deadline);
        } else if (req->state == REQ_WRITING) {
            stream_send_wait(req->stream);
        }
    }
}

void
cni_server_format_metrics(const struct cni_server *s, struct ds *out)
{
    static const char dur[] = "tendril_agent_cni_request_duration_seconds";
    static const char ok[] = "tendril_agent_cni_requests_total";
    static const char err[] = "tendril_agent_cni_errors_total";
    struct ds labels = DS_EMPTY_INITIALIZER;

    metrics_put_family(out, dur, METRIC_HISTOGRAM,
                       "CNI requests from the CNI binary, from the request "
                       "read to the answer, by command");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        ds_clear(&labels);
        ds_put_format(&labels, "command=\"%s\"", commands[i]);
        metrics_put_histogram(out, dur, ds_cstr(&labels),
                              &s->stats[i].latency);
    }
    metrics_put_family(out, ok, METRIC_COUNTER,
                       "CNI requests answered with success, by command");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        ds_clear(&labels);
        ds_put_format(&labels, "command=\"%s\"", commands[i]);
        metrics_put_sample(out, ok, ds_cstr(&labels), s->stats[i].ok);
    }
    metrics_put_family(out, err, METRIC_COUNTER,
                       "CNI requests answered with an error, by command and "
                       "CNI error code");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const struct cni_command_stats *st = &s->stats[i];
        for (size_t j = 0; j < st->n_codes; j++) {
            ds_clear(&labels);
            ds_put_format(&labels, "command=\"%s\",code=\"%d\"",
                          commands[i], st->errors[j].code);
            metrics_put_sample(out, err, ds_cstr(&labels), st->errors[j].n);
        }
    }
    ds_destroy(&labels);
}
