#include "ovs-config.h"

#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "util.h"

#include "cni/client.h"

/* Each test gets a private directory for the agent's socket. */
struct fixture {
    char dir[64];
    char path[128];
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tendril-cni-client.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/cni.sock", f->dir);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int
bind_socket(const char *path, bool do_listen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *) &sun, sizeof sun), 0);
    if (do_listen) {
        assert_int_equal(listen(fd, 8), 0);
    }
    return fd;
}

/* What the fake agent does once it has read the request line. */
enum behaviour {
    ECHO,           /* {"result": {"echo": REQUEST}}\n */
    SEND,           /* Sends 'reply' as is. */
    SEND_SLOWLY,    /* Sends 'reply' a few bytes at a time. */
    SEND_HUGE,      /* Sends more than CNI_CLIENT_MAX_REPLY, no newline. */
    CLOSE,          /* Closes without a word. */
    HANG,           /* Never answers. */
};

/* Reads one line from 'fd' in the child; exits on failure. */
static char *
child_read_line(int fd)
{
    size_t n = 0, allocated = 256;
    char *line = xmalloc(allocated);
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r <= 0) {
            _exit(2);
        }
        if (c == '\n') {
            line[n] = '\0';
            return line;
        }
        if (n + 1 >= allocated) {
            line = x2nrealloc(line, &allocated, 1);
        }
        line[n++] = c;
    }
}

static void
child_write(int fd, const char *data, size_t size)
{
    while (size) {
        ssize_t n = write(fd, data, size);
        if (n <= 0) {
            _exit(3);
        }
        data += n;
        size -= n;
    }
}

static void
child_serve(int fd, enum behaviour behaviour, const char *reply)
{
    char *line = child_read_line(fd);
    switch (behaviour) {
    case ECHO: {
        json_error_t jerror;
        json_t *request = json_loads(line, 0, &jerror);
        if (!request) {
            _exit(4);
        }
        json_t *json = json_pack("{s:{s:o}}", "result", "echo", request);
        char *text = json_dumps(json, JSON_COMPACT);
        child_write(fd, text, strlen(text));
        child_write(fd, "\n", 1);
        break;
    }
    case SEND:
        child_write(fd, reply, strlen(reply));
        break;
    case SEND_SLOWLY:
        for (const char *p = reply; *p; p += MIN(3, strlen(p))) {
            child_write(fd, p, MIN(3, strlen(p)));
            struct timespec ts = { .tv_nsec = 2 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        break;
    case SEND_HUGE: {
        char block[65536];
        memset(block, ' ', sizeof block);
        block[0] = '{';
        for (size_t sent = 0; sent <= CNI_CLIENT_MAX_REPLY + 1;
             sent += sizeof block) {
            child_write(fd, block, sizeof block);
        }
        break;
    }
    case CLOSE:
        break;
    case HANG:
        for (;;) {
            pause();
        }
    }
    free(line);
}

/* Forks a fake agent that accepts one connection on 'listen_fd'. */
static pid_t
spawn_agent(int listen_fd, enum behaviour behaviour, const char *reply)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        /* Never outlive a test that failed before reaping us. */
        alarm(10);
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            _exit(1);
        }
        child_serve(fd, behaviour, reply);
        close(fd);
        _exit(0);
    }
    return pid;
}

static void
reap(pid_t pid, bool kill_it)
{
    if (kill_it) {
        kill(pid, SIGKILL);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!kill_it) {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

static json_t *
must_json(const char *s)
{
    json_error_t jerror;
    json_t *json = json_loads(s, 0, &jerror);
    if (!json) {
        fail_msg("bad test JSON %s: %s", s, jerror.text);
    }
    return json;
}

static void
expect_json(const json_t *got, const char *expected, const char *what)
{
    json_t *want = must_json(expected);
    if (!tjson_equal(got, want)) {
        char *got_s = json_dumps(got, JSON_SORT_KEYS);
        fail_msg("%s: got %s, expected %s", what, got_s, expected);
    }
    json_decref(want);
}

static void
expect_status(const struct cni_client_reply *reply,
              enum cni_client_status status, const char *fragment)
{
    if (reply->status != status) {
        fail_msg("status \"%s\" (%s), expected \"%s\"",
                 cni_client_status_to_string(reply->status),
                 reply->problem ? reply->problem : "",
                 cni_client_status_to_string(status));
    }
    if (fragment && !(reply->problem && strstr(reply->problem, fragment))) {
        fail_msg("problem \"%s\" lacks \"%s\"",
                 reply->problem ? reply->problem : "", fragment);
    }
}

static void
test_success(void **state)
{
    struct fixture *f = *state;
    int listener = bind_socket(f->path, true);
    pid_t pid = spawn_agent(listener, ECHO, NULL);

    json_t *request = cni_request_status();
    struct cni_client_reply reply;
    cni_client_transact(f->path, 5000, request, &reply);
    expect_status(&reply, CNI_CLIENT_OK, NULL);
    expect_json(reply.result, "{\"echo\": {\"command\": \"STATUS\"}}",
                "echo");
    assert_null(reply.error);
    assert_null(reply.problem);
    assert_null(cni_client_reply_to_error(&reply, CNI_CMD_STATUS, f->path));
    cni_client_reply_uninit(&reply);
    reap(pid, false);

    /* A reply in small pieces, with no newline before the end. */
    pid = spawn_agent(listener, SEND_SLOWLY,
                      "{\"result\": {\"ready\": true}}");
    cni_client_transact(f->path, 5000, request, &reply);
    expect_status(&reply, CNI_CLIENT_OK, NULL);
    assert_null(cni_agent_status_to_error(reply.result));
    cni_client_reply_uninit(&reply);
    reap(pid, false);

    /* Whatever follows the newline is not read. */
    pid = spawn_agent(listener, SEND, "{\"result\": {}}\ngarbage");
    cni_client_transact(f->path, 5000, request, &reply);
    expect_status(&reply, CNI_CLIENT_OK, NULL);
    expect_json(reply.result, "{}", "empty result");
    cni_client_reply_uninit(&reply);
    reap(pid, false);

    json_decref(request);
    close(listener);
}

static void
test_exchange_socketpair(void **state OVS_UNUSED)
{
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        alarm(10);
        close(fds[0]);
        child_serve(fds[1], ECHO, NULL);
        _exit(0);
    }
    close(fds[1]);

    struct cni_env env = {
        .command = CNI_CMD_DEL,
        .container_id = xstrdup("abc"),
        .ifname = xstrdup("eth0"),
    };
    json_t *request = cni_request_del(&env);
    struct cni_client_reply reply;
    cni_client_exchange(fds[0], 5000, request, &reply);
    expect_status(&reply, CNI_CLIENT_OK, NULL);
    expect_json(reply.result, "{\"echo\": {\"command\": \"DEL\", "
                "\"containerID\": \"abc\", \"ifname\": \"eth0\"}}", "echo");
    cni_client_reply_uninit(&reply);
    json_decref(request);
    cni_env_uninit(&env);
    close(fds[0]);
    reap(pid, false);
}

static void
test_agent_error(void **state)
{
    struct fixture *f = *state;
    int listener = bind_socket(f->path, true);
    pid_t pid = spawn_agent(listener, SEND,
                            "{\"error\": {\"code\": 51, \"msg\": \"degraded\","
                            " \"details\": \"OVS is down\"}}\n");
    json_t *request = cni_request_status();
    struct cni_client_reply reply;
    cni_client_transact(f->path, 5000, request, &reply);
    expect_status(&reply, CNI_CLIENT_AGENT_ERROR, NULL);
    assert_int_equal(reply.error->code, 51);
    assert_string_equal(reply.error->msg, "degraded");
    assert_string_equal(reply.error->details, "OVS is down");
    assert_null(reply.result);

    /* Passed on unchanged, whatever the command. */
    for (int cmd = CNI_CMD_ADD; cmd <= CNI_CMD_GC; cmd++) {
        struct cni_error *e = cni_client_reply_to_error(&reply, cmd, f->path);
        assert_int_equal(e->code, 51);
        assert_string_equal(e->msg, "degraded");
        assert_string_equal(e->details, "OVS is down");
        cni_error_destroy(e);
    }
    cni_client_reply_uninit(&reply);
    reap(pid, false);

    /* Without details. */
    pid = spawn_agent(listener, SEND,
                      "{\"error\": {\"code\": 7, \"msg\": \"no podCIDR\"}}\n");
    cni_client_transact(f->path, 5000, request, &reply);
    expect_status(&reply, CNI_CLIENT_AGENT_ERROR, NULL);
    assert_int_equal(reply.error->code, 7);
    assert_null(reply.error->details);
    cni_client_reply_uninit(&reply);
    reap(pid, false);

    json_decref(request);
    close(listener);
}

static void
test_unavailable(void **state)
{
    struct fixture *f = *state;
    json_t *request = cni_request_status();
    struct cni_client_reply reply;

    /* No socket at all. */
    cni_client_transact(f->path, 1000, request, &reply);
    expect_status(&reply, CNI_CLIENT_UNAVAILABLE, "No such file");
    assert_non_null(strstr(reply.problem, f->path));

    struct cni_error *e = cni_client_reply_to_error(&reply, CNI_CMD_STATUS,
                                                    f->path);
    assert_int_equal(e->code, CNI_ERR_NOT_AVAILABLE);
    assert_string_equal(e->msg, "plugin not available");
    assert_non_null(strstr(e->details, f->path));
    cni_error_destroy(e);

    e = cni_client_reply_to_error(&reply, CNI_CMD_ADD, f->path);
    assert_int_equal(e->code, CNI_ERR_AGENT_UNREACHABLE);
    assert_non_null(strstr(e->msg, "tendril-agent is not reachable"));
    assert_non_null(strstr(e->details, "is tendril-agent running"));
    assert_non_null(strstr(e->details, f->path));
    cni_error_destroy(e);
    cni_client_reply_uninit(&reply);

    /* A socket nobody listens on (an agent that died). */
    int fd = bind_socket(f->path, false);
    close(fd);
    cni_client_transact(f->path, 1000, request, &reply);
    expect_status(&reply, CNI_CLIENT_UNAVAILABLE, "Connection refused");
    cni_client_reply_uninit(&reply);

    /* A path too long for a unix socket. */
    char long_path[200];
    memset(long_path, 'x', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    cni_client_transact(long_path, 1000, request, &reply);
    expect_status(&reply, CNI_CLIENT_UNAVAILABLE, "too long");
    cni_client_reply_uninit(&reply);

    json_decref(request);
}

static long long int
now_msec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long int) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_timeout(void **state)
{
    struct fixture *f = *state;
    int listener = bind_socket(f->path, true);
    json_t *request = cni_request_status();
    struct cni_client_reply reply;

    /* The agent reads the request and never answers. */
    pid_t pid = spawn_agent(listener, HANG, NULL);
    long long int start = now_msec();
    cni_client_transact(f->path, 300, request, &reply);
    long long int elapsed = now_msec() - start;
    expect_status(&reply, CNI_CLIENT_TIMEOUT, "timed out");
    assert_true(elapsed >= 250 && elapsed < 3000);

    struct cni_error *e = cni_client_reply_to_error(&reply, CNI_CMD_ADD,
                                                    f->path);
    assert_int_equal(e->code, CNI_ERR_AGENT_TIMEOUT);
    cni_error_destroy(e);
    e = cni_client_reply_to_error(&reply, CNI_CMD_STATUS, f->path);
    assert_int_equal(e->code, CNI_ERR_NOT_AVAILABLE);
    cni_error_destroy(e);
    cni_client_reply_uninit(&reply);
    reap(pid, true);

    /* The agent's loop is stuck: the kernel accepts, nobody reads. */
    start = now_msec();
    cni_client_transact(f->path, 200, request, &reply);
    elapsed = now_msec() - start;
    expect_status(&reply, CNI_CLIENT_TIMEOUT, NULL);
    assert_true(elapsed >= 150 && elapsed < 3000);
    cni_client_reply_uninit(&reply);

    json_decref(request);
    close(listener);
}

static void
test_malformed(void **state)
{
    struct fixture *f = *state;
    static const struct {
        enum behaviour behaviour;
        const char *reply;
        const char *fragment;
    } cases[] = {
        { SEND, "not json\n", "not JSON" },
        { SEND, "{\"result\": {}\n", "not JSON" },
        { SEND, "[1]\n", "not a JSON object" },
        { SEND, "\n", "without replying" },
        { SEND, "{}\n", "neither" },
        { SEND, "{\"result\": 1}\n", "\"result\"" },
        { SEND, "{\"result\": {}, \"error\": {}}\n", "both" },
        { SEND, "{\"error\": 5}\n", "not an object" },
        { SEND, "{\"error\": {\"code\": \"7\", \"msg\": \"m\"}}\n", "code" },
        { SEND, "{\"error\": {\"code\": 0, \"msg\": \"m\"}}\n", "code" },
        { SEND, "{\"error\": {\"code\": 7}}\n", "msg" },
        { SEND, "{\"error\": {\"code\": 7, \"msg\": \"m\", \"details\": 1}}\n",
          "details" },
        { CLOSE, NULL, "without replying" },
        { SEND_HUGE, NULL, "larger than" },
    };

    int listener = bind_socket(f->path, true);
    json_t *request = cni_request_status();
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        pid_t pid = spawn_agent(listener, cases[i].behaviour, cases[i].reply);
        struct cni_client_reply reply;
        cni_client_transact(f->path, 5000, request, &reply);
        expect_status(&reply, CNI_CLIENT_BAD_REPLY, cases[i].fragment);

        struct cni_error *e = cni_client_reply_to_error(&reply, CNI_CMD_CHECK,
                                                        f->path);
        assert_int_equal(e->code, CNI_ERR_AGENT_PROTOCOL);
        cni_error_destroy(e);
        e = cni_client_reply_to_error(&reply, CNI_CMD_STATUS, f->path);
        assert_int_equal(e->code, CNI_ERR_NOT_AVAILABLE);
        cni_error_destroy(e);
        cni_client_reply_uninit(&reply);
        /* The huge sender may die of SIGPIPE or EPIPE once we close. */
        reap(pid, cases[i].behaviour == SEND_HUGE);
    }
    json_decref(request);
    close(listener);
}

static void
test_reply_to_error_io(void **state OVS_UNUSED)
{
    struct cni_client_reply reply = {
        .status = CNI_CLIENT_IO_ERROR,
        .problem = xstrdup("Connection reset by peer"),
    };
    struct cni_error *e = cni_client_reply_to_error(&reply, CNI_CMD_DEL,
                                                    "/x");
    assert_int_equal(e->code, CNI_ERR_AGENT_IO);
    assert_string_equal(e->details, "Connection reset by peer");
    cni_error_destroy(e);
    e = cni_client_reply_to_error(&reply, CNI_CMD_STATUS, "/x");
    assert_int_equal(e->code, CNI_ERR_NOT_AVAILABLE);
    cni_error_destroy(e);
    cni_client_reply_uninit(&reply);
}

static void
test_requests(void **state OVS_UNUSED)
{
    struct cni_env env = {
        .command = CNI_CMD_ADD,
        .container_id = xstrdup("3f6940ab5ab4"),
        .netns = xstrdup("/var/run/netns/cni-1234"),
        .ifname = xstrdup("eth0"),
        .pod_namespace = xstrdup("default"),
        .pod_name = xstrdup("web-0"),
        .pod_uid = xstrdup("1234-abcd"),
    };
    struct eth_addr mac;
    char *error = cni_mac_parse("0a:58:0a:f4:01:05", &mac);
    assert_null(error);

    json_t *json = cni_request_add(&env, "tdl3f6940ab5ab4", &mac);
    expect_json(json, "{\"command\": \"ADD\","
                " \"containerID\": \"3f6940ab5ab4\", \"ifname\": \"eth0\","
                " \"netns\": \"/var/run/netns/cni-1234\","
                " \"hostIfname\": \"tdl3f6940ab5ab4\","
                " \"mac\": \"0a:58:0a:f4:01:05\","
                " \"podNamespace\": \"default\","
                " \"podName\": \"web-0\", \"podUID\": \"1234-abcd\"}", "ADD");
    json_decref(json);

    /* Outside Kubernetes: no pod identity. */
    free(env.pod_namespace);
    free(env.pod_name);
    free(env.pod_uid);
    env.pod_namespace = env.pod_name = env.pod_uid = NULL;
    json = cni_request_add(&env, "tdl3f6940ab5ab4", &mac);
    expect_json(json, "{\"command\": \"ADD\","
                " \"containerID\": \"3f6940ab5ab4\", \"ifname\": \"eth0\","
                " \"netns\": \"/var/run/netns/cni-1234\","
                " \"hostIfname\": \"tdl3f6940ab5ab4\","
                " \"mac\": \"0a:58:0a:f4:01:05\"}", "ADD without pod");
    json_decref(json);

    json = cni_request_del(&env);
    expect_json(json, "{\"command\": \"DEL\", \"containerID\": "
                "\"3f6940ab5ab4\", \"ifname\": \"eth0\"}", "DEL");
    json_decref(json);
    json = cni_request_check(&env);
    expect_json(json, "{\"command\": \"CHECK\", \"containerID\": "
                "\"3f6940ab5ab4\", \"ifname\": \"eth0\"}", "CHECK");
    json_decref(json);
    json = cni_request_status();
    expect_json(json, "{\"command\": \"STATUS\"}", "STATUS");
    json_decref(json);
    cni_env_uninit(&env);

    static const char gc_config[] =
        "{\"cniVersion\": \"1.1.0\", \"name\": \"tendril\","
        " \"cni.dev/valid-attachments\": ["
        "   {\"containerID\": \"abc\", \"ifname\": \"eth0\"},"
        "   {\"containerID\": \"def\", \"ifname\": \"eth0\"}]}";
    struct cni_config config;
    struct cni_error *e = cni_config_parse(gc_config, strlen(gc_config),
                                           CNI_CMD_GC, &config);
    assert_null(e);
    json = cni_request_gc(&config);
    expect_json(json, "{\"command\": \"GC\", \"validAttachments\": ["
                " {\"containerID\": \"abc\", \"ifname\": \"eth0\"},"
                " {\"containerID\": \"def\", \"ifname\": \"eth0\"}]}", "GC");
    json_decref(json);
    cni_config_uninit(&config);

    static const char gc_empty[] =
        "{\"cniVersion\": \"1.1.0\", \"name\": \"tendril\","
        " \"cni.dev/valid-attachments\": null}";
    e = cni_config_parse(gc_empty, strlen(gc_empty), CNI_CMD_GC, &config);
    assert_null(e);
    json = cni_request_gc(&config);
    expect_json(json, "{\"command\": \"GC\", \"validAttachments\": []}",
                "GC, none");
    json_decref(json);
    cni_config_uninit(&config);
}

static void
test_agent_result(void **state OVS_UNUSED)
{
    json_t *json = must_json(
        "{\"ips\": [{\"address\": \"10.244.1.5/24\","
        "            \"gateway\": \"10.244.1.1\"}],"
        " \"routes\": [{\"dst\": \"0.0.0.0/0\", \"gw\": \"10.244.1.1\"}],"
        " \"mtu\": 1450, \"txChecksumOff\": true}");

    struct cni_result result;
    cni_result_init(&result);
    cni_result_add_interface(&result, "tdl3f6940ab5ab4", NULL, NULL, 1450);
    cni_result_add_interface(&result, "eth0", NULL, "/var/run/netns/x", 1450);

    struct cni_agent_link link;
    char *error = cni_agent_result_parse(json, 1, &result, &link);
    if (error) {
        fail_msg("%s", error);
    }
    json_decref(json);
    assert_int_equal(link.mtu, 1450);
    assert_true(link.tx_checksum_off);

    json = cni_result_to_json(&result, CNI_VERSION_1_0_0);
    expect_json(json,
                "{\"cniVersion\": \"1.0.0\", \"dns\": {},"
                " \"interfaces\": [{\"name\": \"tdl3f6940ab5ab4\"},"
                "   {\"name\": \"eth0\", \"sandbox\": \"/var/run/netns/x\"}],"
                " \"ips\": [{\"interface\": 1, \"address\": \"10.244.1.5/24\","
                "            \"gateway\": \"10.244.1.1\"}],"
                " \"routes\": [{\"dst\": \"0.0.0.0/0\","
                "               \"gw\": \"10.244.1.1\"}]}", "ADD result");
    json_decref(json);
    cni_result_uninit(&result);

    /* Only ips are needed. */
    json = must_json("{\"ips\": [{\"address\": \"fd00::5/64\"}]}");
    cni_result_init(&result);
    error = cni_agent_result_parse(json, -1, &result, &link);
    assert_null(error);
    assert_int_equal(result.n_ips, 1);
    assert_int_equal(result.ips[0].interface, -1);
    assert_int_equal(result.n_routes, 0);
    assert_int_equal(link.mtu, 0);
    assert_false(link.tx_checksum_off);
    json_decref(json);
    cni_result_uninit(&result);

    static const struct {
        const char *json;
        const char *fragment;
    } bad[] = {
        { "[]", "not an object" },
        { "{}", "no \"ips\"" },
        { "{\"ips\": []}", "no \"ips\"" },
        { "{\"ips\": [{\"address\": \"10.0.0.5\"}]}", "ips[0]" },
        { "{\"ips\": [{\"address\": \"10.0.0.5/24\"}], \"routes\": {}}",
          "\"routes\" is not an array" },
        { "{\"ips\": [{\"address\": \"10.0.0.5/24\"}],"
          " \"routes\": [{\"dst\": \"10.0.0.5/24\"}]}", "routes[0]" },
        { "{\"ips\": [{\"address\": \"10.0.0.5/24\"}], \"mtu\": 67}", "mtu" },
        { "{\"ips\": [{\"address\": \"10.0.0.5/24\"}], \"mtu\": \"1450\"}",
          "mtu" },
        { "{\"ips\": [{\"address\": \"10.0.0.5/24\"}],"
          " \"txChecksumOff\": 1}", "txChecksumOff" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        json = must_json(bad[i].json);
        cni_result_init(&result);
        error = cni_agent_result_parse(json, 0, &result, &link);
        if (!error) {
            fail_msg("%s: parsed", bad[i].json);
        }
        if (!strstr(error, bad[i].fragment)) {
            fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].json, error,
                     bad[i].fragment);
        }
        free(error);
        /* Nothing half-added. */
        assert_int_equal(result.n_ips + result.n_routes, 0);
        json_decref(json);
        cni_result_uninit(&result);
    }
}

static void
test_status_result(void **state OVS_UNUSED)
{
    static const struct {
        const char *json;
        bool ready;
    } cases[] = {
        { "{\"ready\": true}", true },
        { "{\"ready\": false}", false },
        { "{}", false },
        { "{\"ready\": 1}", false },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        json_t *json = must_json(cases[i].json);
        struct cni_error *e = cni_agent_status_to_error(json);
        if (cases[i].ready) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->code, CNI_ERR_NOT_AVAILABLE);
            cni_error_destroy(e);
        }
        json_decref(json);
    }
}

int
main(void)
{
    /* A test that fails mid-exchange must not die of SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_success, setup, teardown),
        cmocka_unit_test(test_exchange_socketpair),
        cmocka_unit_test_setup_teardown(test_agent_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unavailable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test(test_reply_to_error_io),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_agent_result),
        cmocka_unit_test(test_status_result),
    };
    return cmocka_run_group_tests_name("cni-client", tests, NULL, NULL);
}
