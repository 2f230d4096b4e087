#include "ovs-config.h"
#include "cni/client.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

const char *
cni_client_status_to_string(enum cni_client_status status)
{
    switch (status) {
    case CNI_CLIENT_OK:
        return "ok";
    case CNI_CLIENT_AGENT_ERROR:
        return "agent error";
    case CNI_CLIENT_UNAVAILABLE:
        return "agent unavailable";
    case CNI_CLIENT_TIMEOUT:
        return "timeout";
    case CNI_CLIENT_IO_ERROR:
        return "I/O error";
    case CNI_CLIENT_BAD_REPLY:
        return "malformed reply";
    }
    return "<unknown>";
}

static long long int
monotonic_msec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long int) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until 'deadline', at least 0. */
static int
remaining_msec(long long int deadline)
{
    long long int left = deadline - monotonic_msec();
    return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : left;
}

static void
reply_fail(struct cni_client_reply *reply, enum cni_client_status status,
           const char *format, ...)
    OVS_PRINTF_FORMAT(3, 4);

static void
reply_fail(struct cni_client_reply *reply, enum cni_client_status status,
           const char *format, ...)
{
    va_list args;
    va_start(args, format);
    reply->status = status;
    reply->problem = xvasprintf(format, args);
    va_end(args);
}

/* Waits up to the deadline for 'events' on 'fd'.  Returns 1 when ready, 0 on
 * timeout, or -1 with errno set. */
static int
wait_fd(int fd, short events, long long int deadline)
{
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = events };
        int retval = poll(&pfd, 1, remaining_msec(deadline));
        if (retval < 0 && errno == EINTR) {
            continue;
        }
        return retval < 0 ? -1 : retval > 0;
    }
}

/* wait_fd() for a transfer: false, with 'reply' failed ("timed out
 * DOING" or the poll error), when 'fd' is not ready by the deadline. */
static bool
wait_or_fail(int fd, short events, long long int deadline,
             struct cni_client_reply *reply, const char *doing)
{
    int ready = wait_fd(fd, events, deadline);
    if (ready < 0) {
        reply_fail(reply, CNI_CLIENT_IO_ERROR, "poll: %s",
                   ovs_strerror(errno));
    } else if (!ready) {
        reply_fail(reply, CNI_CLIENT_TIMEOUT, "timed out %s", doing);
    }
    return ready > 0;
}

static bool
send_all(int fd, const char *data, size_t size, long long int deadline,
         struct cni_client_reply *reply)
{
    while (size > 0) {
        if (!wait_or_fail(fd, POLLOUT, deadline, reply,
                          "sending the request to tendril-agent")) {
            return false;
        }

        ssize_t n = send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                continue;
            }
            reply_fail(reply, CNI_CLIENT_IO_ERROR,
                       "error sending the request to tendril-agent: %s",
                       ovs_strerror(errno));
            return false;
        }
        data += n;
        size -= n;
    }
    return true;
}

/* Reads into 'line' up to the first newline (excluded) or the end of the
 * stream. */
static bool
recv_line(int fd, long long int deadline, struct ds *line,
          struct cni_client_reply *reply)
{
    for (;;) {
        if (!wait_or_fail(fd, POLLIN, deadline, reply,
                          "waiting for tendril-agent's reply")) {
            return false;
        }

        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
                continue;
            }
            reply_fail(reply, CNI_CLIENT_IO_ERROR,
                       "error receiving tendril-agent's reply: %s",
                       ovs_strerror(errno));
            return false;
        } else if (n == 0) {
            return true;
        }

        const char *newline = memchr(buf, '\n', n);
        size_t used = newline ? newline - buf : n;
        if (line->length + used > CNI_CLIENT_MAX_REPLY) {
            reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                       "tendril-agent's reply is larger than %d bytes",
                       CNI_CLIENT_MAX_REPLY);
            return false;
        }
        ds_put_buffer(line, buf, used);
        if (newline) {
            return true;
        }
    }
}

static void
parse_agent_error(const json_t *json, struct cni_client_reply *reply)
{
    const json_t *code = json_object_get(json, AP_CODE);
    const json_t *msg = json_object_get(json, AP_MSG);
    const json_t *details = json_object_get(json, AP_DETAILS);

    if (!json_is_object(json)) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "\"error\" in tendril-agent's reply is not an object");
    } else if (!json_is_integer(code) || json_integer_value(code) < 1
               || json_integer_value(code) > INT_MAX) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "tendril-agent's error has no valid \"code\"");
    } else if (!json_is_string(msg)) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "tendril-agent's error has no \"msg\" string");
    } else if (details && !json_is_null(details)
               && !json_is_string(details)) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "tendril-agent's error has a \"details\" that is not a "
                   "string");
    } else {
        reply->status = CNI_CLIENT_AGENT_ERROR;
        reply->error = cni_error_create(json_integer_value(code),
                                        json_string_value(msg),
                                        json_string_value(details));
    }
}

static void
parse_reply(const struct ds *line, struct cni_client_reply *reply)
{
    if (!line->length) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "tendril-agent closed the connection without replying");
        return;
    }

    json_error_t jerror;
    json_t *json = json_loadb(line->string, line->length, 0, &jerror);
    if (!json) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "tendril-agent's reply is not JSON: %s", jerror.text);
        return;
    }

    json_t *result = json_object_get(json, AP_RESULT);
    json_t *error = json_object_get(json, AP_ERROR);
    if (!json_is_object(json)) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "tendril-agent's reply is not a JSON object");
    } else if (result && error) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "tendril-agent's reply has both \"result\" and "
                   "\"error\"");
    } else if (error) {
        parse_agent_error(error, reply);
    } else if (!result) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "tendril-agent's reply has neither \"result\" nor "
                   "\"error\"");
    } else if (!json_is_object(result)) {
        reply_fail(reply, CNI_CLIENT_BAD_REPLY,
                   "\"result\" in tendril-agent's reply is not an object");
    } else {
        reply->status = CNI_CLIENT_OK;
        reply->result = json_incref(result);
    }
    json_decref(json);
}

static void
exchange(int fd, long long int deadline, const json_t *request,
         struct cni_client_reply *reply)
{
    char *text = json_dumps(request, JSON_COMPACT);
    if (!text) {
        reply_fail(reply, CNI_CLIENT_IO_ERROR, "cannot encode the request");
        return;
    }
    struct ds out = DS_EMPTY_INITIALIZER;
    ds_put_format(&out, "%s\n", text);
    free(text);

    bool sent = send_all(fd, out.string, out.length, deadline, reply);
    ds_destroy(&out);
    if (!sent) {
        return;
    }

    struct ds line = DS_EMPTY_INITIALIZER;
    if (recv_line(fd, deadline, &line, reply)) {
        parse_reply(&line, reply);
    }
    ds_destroy(&line);
}

void
cni_client_exchange(int fd, int timeout_ms, const json_t *request,
                    struct cni_client_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    exchange(fd, monotonic_msec() + timeout_ms, request, reply);
}

/* Connects 'fd' to 'path' before the deadline. */
static bool
connect_unix(int fd, const char *path, long long int deadline,
             struct cni_client_reply *reply)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun.sun_path) {
        reply_fail(reply, CNI_CLIENT_UNAVAILABLE,
                   "socket path %s is too long", path);
        return false;
    }
    strcpy(sun.sun_path, path);

    for (;;) {
        if (!connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
            return true;
        }
        if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN) {
            /* The agent's listen backlog is full: a unix socket does not
             * complete the connection later, so try again shortly. */
            int left = remaining_msec(deadline);
            if (!left) {
                break;
            }
            struct timespec ts = { .tv_nsec = MIN(left, 10) * 1000000L };
            nanosleep(&ts, NULL);
            continue;
        } else if (errno == EINPROGRESS) {
            int ready = wait_fd(fd, POLLOUT, deadline);
            if (!ready) {
                break;
            }
            int error = 0;
            socklen_t len = sizeof error;
            if (ready < 0
                || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) {
                error = errno;
            }
            if (!error) {
                return true;
            }
            errno = error;
        }
        reply_fail(reply, CNI_CLIENT_UNAVAILABLE,
                   "cannot connect to tendril-agent at %s: %s", path,
                   ovs_strerror(errno));
        return false;
    }
    reply_fail(reply, CNI_CLIENT_TIMEOUT,
               "timed out connecting to tendril-agent at %s", path);
    return false;
}

void
cni_client_transact(const char *socket_path, int timeout_ms,
                    const json_t *request, struct cni_client_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    long long int deadline = monotonic_msec() + timeout_ms;

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        reply_fail(reply, CNI_CLIENT_IO_ERROR, "socket: %s",
                   ovs_strerror(errno));
        return;
    }
    if (connect_unix(fd, socket_path, deadline, reply)) {
        exchange(fd, deadline, request, reply);
    }
    close(fd);
}

void
cni_client_reply_uninit(struct cni_client_reply *reply)
{
    if (reply) {
        json_decref(reply->result);
        cni_error_destroy(reply->error);
        free(reply->problem);
        memset(reply, 0, sizeof *reply);
    }
}

struct cni_error *
cni_client_reply_to_error(const struct cni_client_reply *reply,
                          enum cni_command command, const char *socket_path)
{
    if (reply->status == CNI_CLIENT_OK) {
        return NULL;
    } else if (reply->status == CNI_CLIENT_AGENT_ERROR) {
        return cni_error_create(reply->error->code, reply->error->msg,
                                reply->error->details);
    } else if (command == CNI_CMD_STATUS) {
        return cni_error_create(CNI_ERR_NOT_AVAILABLE, "plugin not available",
                                reply->problem);
    }

    switch (reply->status) {
    case CNI_CLIENT_UNAVAILABLE:
        return cni_error_format(CNI_ERR_AGENT_UNREACHABLE,
                                "tendril-agent is not reachable",
                                "%s (is tendril-agent running on this node "
                                "and listening on %s?)", reply->problem,
                                socket_path);
    case CNI_CLIENT_TIMEOUT:
        return cni_error_create(CNI_ERR_AGENT_TIMEOUT,
                                "tendril-agent did not answer in time",
                                reply->problem);
    case CNI_CLIENT_IO_ERROR:
        return cni_error_create(CNI_ERR_AGENT_IO,
                                "lost the connection to tendril-agent",
                                reply->problem);
    case CNI_CLIENT_BAD_REPLY:
        return cni_error_create(CNI_ERR_AGENT_PROTOCOL,
                                "malformed reply from tendril-agent",
                                reply->problem);
    case CNI_CLIENT_OK:
    case CNI_CLIENT_AGENT_ERROR:
    default:
        OVS_NOT_REACHED();
    }
}

/* Requests. */

static void
set_string(json_t *object, const char *key, const char *value)
{
    if (value) {
        json_object_set_new(object, key, tjson_string(value));
    }
}

static json_t *
attachment_request(const char *command, const struct cni_env *env)
{
    json_t *json = tjson_object();
    set_string(json, AP_COMMAND, command);
    set_string(json, AP_CONTAINER_ID, env->container_id);
    set_string(json, AP_IFNAME, env->ifname);
    return json;
}

json_t *
cni_request_add(const struct cni_env *env, const char *host_ifname,
                const struct eth_addr *mac)
{
    char buf[CNI_MAC_STRLEN];
    json_t *json = attachment_request(AP_ADD, env);
    set_string(json, AP_NETNS, env->netns);
    set_string(json, AP_HOST_IFNAME, host_ifname);
    set_string(json, AP_MAC, mac ? cni_mac_format(mac, buf) : NULL);
    set_string(json, AP_POD_NAMESPACE, env->pod_namespace);
    set_string(json, AP_POD_NAME, env->pod_name);
    set_string(json, AP_POD_UID, env->pod_uid);
    return json;
}

json_t *
cni_request_del(const struct cni_env *env)
{
    return attachment_request(AP_DEL, env);
}

json_t *
cni_request_check(const struct cni_env *env)
{
    return attachment_request(AP_CHECK, env);
}

json_t *
cni_request_status(void)
{
    json_t *json = tjson_object();
    set_string(json, AP_COMMAND, AP_STATUS);
    return json;
}

json_t *
cni_request_gc(const struct cni_config *config)
{
    json_t *list = tjson_array();
    for (size_t i = 0; i < config->n_valid_attachments; i++) {
        const struct cni_attachment *a = &config->valid_attachments[i];
        json_t *entry = tjson_object();
        set_string(entry, AP_CONTAINER_ID, a->container_id);
        set_string(entry, AP_IFNAME, a->ifname);
        json_array_append_new(list, entry);
    }

    json_t *json = tjson_object();
    set_string(json, AP_COMMAND, AP_GC);
    json_object_set_new(json, AP_VALID_ATTACHMENTS, list);
    return json;
}

/* Replies. */

char *
cni_agent_result_parse(const json_t *result, int interface,
                       struct cni_result *out, struct cni_agent_link *link)
{
    memset(link, 0, sizeof *link);
    if (!json_is_object(result)) {
        return xstrdup("the result is not an object");
    }

    const json_t *ips = json_object_get(result, AP_IPS);
    const json_t *routes = json_object_get(result, AP_ROUTES);
    const json_t *mtu = json_object_get(result, AP_MTU);
    const json_t *csum = json_object_get(result, AP_TX_CHECKSUM_OFF);
    if (!json_is_array(ips) || !json_array_size(ips)) {
        return xstrdup("the result has no \"ips\"");
    }
    if (routes && !json_is_null(routes) && !json_is_array(routes)) {
        return xstrdup("\"routes\" is not an array");
    }
    if (mtu && !json_is_null(mtu)
        && (!json_is_integer(mtu) || json_integer_value(mtu) < 68
            || json_integer_value(mtu) > 65535)) {
        return xstrdup("\"mtu\" is not an integer between 68 and 65535");
    }
    if (csum && !json_is_null(csum) && !json_is_boolean(csum)) {
        return xstrdup("\"txChecksumOff\" is not a boolean");
    }

    size_t n_ips = json_array_size(ips);
    size_t n_routes = json_is_array(routes) ? json_array_size(routes) : 0;
    struct cni_ip *ip_list = xcalloc(n_ips, sizeof *ip_list);
    struct cni_route *route_list = xcalloc(MAX(n_routes, 1),
                                           sizeof *route_list);
    char *error = NULL;
    for (size_t i = 0; i < n_ips && !error; i++) {
        char *problem = cni_ip_from_json(json_array_get(ips, i), &ip_list[i]);
        if (problem) {
            error = xasprintf("ips[%zu]: %s", i, problem);
            free(problem);
        }
    }
    for (size_t i = 0; i < n_routes && !error; i++) {
        char *problem = cni_route_from_json(json_array_get(routes, i),
                                            &route_list[i]);
        if (problem) {
            error = xasprintf("routes[%zu]: %s", i, problem);
            free(problem);
        }
    }

    if (!error) {
        for (size_t i = 0; i < n_ips; i++) {
            const struct cni_ip *ip = &ip_list[i];
            cni_result_add_ip(out, &ip->addr, ip->plen,
                              ip->has_gateway ? &ip->gateway : NULL,
                              interface);
        }
        for (size_t i = 0; i < n_routes; i++) {
            const struct cni_route *route = &route_list[i];
            cni_result_add_route(out, &route->dst,
                                 route->has_gw ? &route->gw : NULL);
        }
        link->mtu = json_is_integer(mtu) ? json_integer_value(mtu) : 0;
        link->tx_checksum_off = json_is_true(csum);
    }
    free(ip_list);
    free(route_list);
    return error;
}

struct cni_error *
cni_agent_status_to_error(const json_t *result)
{
    const json_t *ready = json_object_get(result, AP_READY);
    if (json_is_true(ready)) {
        return NULL;
    } else if (json_is_false(ready)) {
        return cni_error_create(CNI_ERR_NOT_AVAILABLE, "plugin not available",
                                "tendril-agent reports it is not ready");
    }
    return cni_error_create(CNI_ERR_NOT_AVAILABLE, "plugin not available",
                            "tendril-agent's STATUS result has no \"ready\" "
                            "boolean");
}
