#include "ovs-config.h"

#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

#include "cni/skel.h"

/* A fake environment: "NAME=VALUE" strings, NULL-terminated. */
#define MAX_VARS 16
struct fake_env {
    const char *vars[MAX_VARS + 1];
};

static const char *
fake_getenv(const char *name, void *env_)
{
    const struct fake_env *env = env_;
    size_t len = strlen(name);
    for (size_t i = 0; env->vars[i]; i++) {
        if (!strncmp(env->vars[i], name, len) && env->vars[i][len] == '=') {
            return env->vars[i] + len + 1;
        }
    }
    return NULL;
}

/* Sets 'name' to 'value' in 'env' (NULL removes it). */
static void
fake_setenv(struct fake_env *env, const char *name, const char *value)
{
    size_t len = strlen(name);
    size_t n = 0;
    for (size_t i = 0; env->vars[i]; i++) {
        if (strncmp(env->vars[i], name, len) || env->vars[i][len] != '=') {
            env->vars[n++] = env->vars[i];
        }
    }
    if (value) {
        assert_true(n < MAX_VARS);
        static char storage[256][300];
        static size_t next;
        char *s = storage[next++ % ARRAY_SIZE(storage)];
        snprintf(s, sizeof storage[0], "%s=%s", name, value);
        env->vars[n++] = s;
    }
    env->vars[n] = NULL;
}

static struct fake_env
full_env(const char *command)
{
    struct fake_env env = { .vars = { NULL } };
    fake_setenv(&env, "CNI_COMMAND", command);
    fake_setenv(&env, "CNI_CONTAINERID", "3f6940ab5ab4");
    fake_setenv(&env, "CNI_NETNS", "/var/run/netns/cni-1234");
    fake_setenv(&env, "CNI_IFNAME", "eth0");
    fake_setenv(&env, "CNI_PATH", "/opt/cni/bin");
    return env;
}

/* Checks that 'error' has 'code' and, if 'fragment' is nonnull, that its
 * msg or details contain 'fragment'.  Frees 'error'. */
static void
expect_error(struct cni_error *error, int code, const char *fragment,
             const char *what)
{
    if (!error) {
        fail_msg("%s: succeeded, expected error code %d", what, code);
    }
    if (error->code != code) {
        fail_msg("%s: error code %d (\"%s\"; \"%s\"), expected %d", what,
                 error->code, error->msg,
                 error->details ? error->details : "", code);
    }
    if (fragment && !strstr(error->msg, fragment)
        && !(error->details && strstr(error->details, fragment))) {
        fail_msg("%s: error \"%s\"; \"%s\" lacks \"%s\"", what, error->msg,
                 error->details ? error->details : "", fragment);
    }
    cni_error_destroy(error);
}

static void
expect_ok(struct cni_error *error, const char *what)
{
    if (error) {
        fail_msg("%s: unexpected error %d \"%s\"; \"%s\"", what, error->code,
                 error->msg, error->details ? error->details : "");
    }
}

/* The environment. */

static const char *const commands[] = {
    "ADD", "CHECK", "DEL", "STATUS", "GC", "VERSION",
};

static const char *const attachment_vars[] = {
    "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH",
};

/* The spec's (and reference skel's) table, written out independently of
 * the code under test: is 'var' required by 'command'? */
static bool
required(const char *command, const char *var)
{
    static const struct {
        const char *command;
        const char *vars;
    } table[] = {
        { "ADD", "CNI_CONTAINERID CNI_NETNS CNI_IFNAME CNI_PATH" },
        { "CHECK", "CNI_CONTAINERID CNI_NETNS CNI_IFNAME CNI_PATH" },
        { "DEL", "CNI_CONTAINERID CNI_IFNAME CNI_PATH" },
        { "STATUS", "" },
        { "GC", "CNI_PATH" },
        { "VERSION", "" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
        if (!strcmp(table[i].command, command)) {
            char *copy = xstrdup(table[i].vars);
            bool found = false;
            char *save = NULL;
            for (char *t = strtok_r(copy, " ", &save); t;
                 t = strtok_r(NULL, " ", &save)) {
                found = found || !strcmp(t, var);
            }
            free(copy);
            return found;
        }
    }
    fail_msg("no command %s", command);
    return false;
}

static void
test_env_full(void **state OVS_UNUSED)
{
    for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
        struct fake_env fenv = full_env(commands[c]);
        fake_setenv(&fenv, "CNI_ARGS", "K8S_POD_NAMESPACE=default;"
                    "K8S_POD_NAME=web-0;K8S_POD_UID=1234-abcd;"
                    "K8S_POD_INFRA_CONTAINER_ID=3f6940ab5ab4");
        struct cni_env env;
        expect_ok(cni_env_parse(fake_getenv, &fenv, &env), commands[c]);
        assert_string_equal(cni_command_name(env.command), commands[c]);

        bool attach = (!strcmp(commands[c], "ADD")
                       || !strcmp(commands[c], "CHECK")
                       || !strcmp(commands[c], "DEL"));
        if (attach) {
            assert_string_equal(env.container_id, "3f6940ab5ab4");
            assert_string_equal(env.netns, "/var/run/netns/cni-1234");
            assert_string_equal(env.ifname, "eth0");
            assert_string_equal(env.pod_namespace, "default");
            assert_string_equal(env.pod_name, "web-0");
            assert_string_equal(env.pod_uid, "1234-abcd");
            assert_string_equal(env.infra_container_id, "3f6940ab5ab4");
        } else {
            /* Per-attachment variables are not read for these commands. */
            assert_null(env.container_id);
            assert_null(env.netns);
            assert_null(env.ifname);
            assert_null(env.args);
            assert_null(env.pod_name);
        }
        if (!strcmp(commands[c], "VERSION")) {
            assert_null(env.path);
        } else {
            assert_string_equal(env.path, "/opt/cni/bin");
        }
        cni_env_uninit(&env);
    }
}

/* Every variable, missing or empty, for every command. */
static void
test_env_missing(void **state OVS_UNUSED)
{
    for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
        for (size_t v = 0; v < ARRAY_SIZE(attachment_vars); v++) {
            for (int empty = 0; empty < 2; empty++) {
                const char *var = attachment_vars[v];
                struct fake_env fenv = full_env(commands[c]);
                fake_setenv(&fenv, var, empty ? "" : NULL);

                char what[128];
                snprintf(what, sizeof what, "%s without %s%s", commands[c],
                         var, empty ? " (empty)" : "");
                struct cni_env env;
                struct cni_error *error = cni_env_parse(fake_getenv, &fenv,
                                                        &env);
                if (required(commands[c], var)) {
                    char fragment[64];
                    snprintf(fragment, sizeof fragment, "[%s]", var);
                    expect_error(error, 4, fragment, what);
                } else {
                    expect_ok(error, what);
                }
                cni_env_uninit(&env);
            }
        }
    }

    /* All of them missing at once are named together. */
    struct fake_env fenv = { .vars = { "CNI_COMMAND=ADD", NULL } };
    struct cni_env env;
    expect_error(cni_env_parse(fake_getenv, &fenv, &env), 4,
                 "[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH]",
                 "ADD with nothing");
    cni_env_uninit(&env);

    /* DEL without a namespace leaves netns NULL. */
    fenv = full_env("DEL");
    fake_setenv(&fenv, "CNI_NETNS", NULL);
    expect_ok(cni_env_parse(fake_getenv, &fenv, &env), "DEL without netns");
    assert_null(env.netns);
    assert_string_equal(env.container_id, "3f6940ab5ab4");
    cni_env_uninit(&env);

    /* STATUS without CNI_PATH. */
    fenv = (struct fake_env) { .vars = { "CNI_COMMAND=STATUS", NULL } };
    expect_ok(cni_env_parse(fake_getenv, &fenv, &env), "bare STATUS");
    assert_int_equal(env.command, CNI_CMD_STATUS);
    assert_null(env.path);
    cni_env_uninit(&env);
}

static void
test_env_command(void **state OVS_UNUSED)
{
    static const struct {
        const char *value;      /* NULL: unset. */
        const char *fragment;
    } bad[] = {
        { NULL, "[CNI_COMMAND]" },
        { "", "[CNI_COMMAND]" },
        { "add", "add" },
        { "GET", "GET" },
        { "ADD ", "ADD " },
        { "INIT", "INIT" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct fake_env fenv = full_env("ADD");
        fake_setenv(&fenv, "CNI_COMMAND", bad[i].value);
        struct cni_env env;
        expect_error(cni_env_parse(fake_getenv, &fenv, &env), 4,
                     bad[i].fragment, bad[i].value ? bad[i].value : "unset");
        cni_env_uninit(&env);
    }
}

/* Values checked for ADD, CHECK and DEL, not read for STATUS and GC. */
static void
test_env_malformed(void **state OVS_UNUSED)
{
    static const struct {
        const char *var;
        const char *value;
        bool valid;
    } cases[] = {
        { "CNI_CONTAINERID", "a", true },
        { "CNI_CONTAINERID", "A_b.c-9", true },
        { "CNI_CONTAINERID", "3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080"
          "398506924fc01d72755", true },
        { "CNI_CONTAINERID", "-abc", false },
        { "CNI_CONTAINERID", "_abc", false },
        { "CNI_CONTAINERID", ".abc", false },
        { "CNI_CONTAINERID", "ab c", false },
        { "CNI_CONTAINERID", "ab/c", false },
        { "CNI_CONTAINERID", "ab:c", false },
        { "CNI_CONTAINERID", "ab\tc", false },
        { "CNI_CONTAINERID", "ab\xc3\xa9", false },
        { "CNI_IFNAME", "eth0", true },
        { "CNI_IFNAME", "net1.100", true },
        { "CNI_IFNAME", "-", true },
        { "CNI_IFNAME", "123456789012345", true },
        { "CNI_IFNAME", "1234567890123456", false },
        { "CNI_IFNAME", ".", false },
        { "CNI_IFNAME", "..", false },
        { "CNI_IFNAME", "...", true },
        { "CNI_IFNAME", "a/b", false },
        { "CNI_IFNAME", "a:b", false },
        { "CNI_IFNAME", "a b", false },
        { "CNI_IFNAME", "a\tb", false },
        { "CNI_IFNAME", "a\nb", false },
        { "CNI_IFNAME", " eth0", false },
        { "CNI_NETNS", "/proc/1234/ns/net", true },
        { "CNI_NETNS", "var/run/netns/x", false },
        { "CNI_NETNS", "cni-1234", false },
        { "CNI_PATH", "/opt/cni/bin:/usr/libexec/cni", true },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        for (size_t c = 0; c < ARRAY_SIZE(commands); c++) {
            struct fake_env fenv = full_env(commands[c]);
            fake_setenv(&fenv, cases[i].var, cases[i].value);

            char what[160];
            snprintf(what, sizeof what, "%s with %s=\"%s\"", commands[c],
                     cases[i].var, cases[i].value);
            bool attach = (!strcmp(commands[c], "ADD")
                           || !strcmp(commands[c], "CHECK")
                           || !strcmp(commands[c], "DEL"));
            struct cni_env env;
            struct cni_error *error = cni_env_parse(fake_getenv, &fenv,
                                                    &env);
            if (cases[i].valid || !attach) {
                expect_ok(error, what);
            } else {
                /* The message names the variable (spec, code 4). */
                char *fragment = xasprintf("invalid %s", cases[i].var);
                expect_error(error, 4, fragment, what);
                free(fragment);
            }
            cni_env_uninit(&env);
        }
    }
}

static void
test_env_args(void **state OVS_UNUSED)
{
    static const struct {
        const char *args;
        int code;               /* 0: success. */
        const char *fragment;   /* In the error; or the pod name. */
    } cases[] = {
        /* Known keys, or none (a runtime outside Kubernetes). */
        { "K8S_POD_NAME=web-0", 0, "web-0" },
        { "K8S_POD_NAME=", 0, "" },
        { "K8S_POD_NAME=a;K8S_POD_NAME=b", 0, "b" },
        { "IgnoreUnknown=1", 0, NULL },
        /* Unknown keys. */
        { "FOO=bar", 4, "\"FOO=bar\"" },
        { "K8S_POD_NAME=x;FOO=bar;BAZ=1", 4, "\"FOO=bar\", \"BAZ=1\"" },
        { "k8s_pod_name=x", 4, "k8s_pod_name=x" },
        { "=x", 4, "\"=x\"" },
        { "IgnoreUnknown=0;FOO=bar", 4, "FOO=bar" },
        { "IgnoreUnknown=false;FOO=bar", 4, "FOO=bar" },
        { "IgnoreUnknown=1;FOO=bar", 0, NULL },
        { "FOO=bar;IgnoreUnknown=true", 0, NULL },
        { "IgnoreUnknown=TRUE;FOO=bar;K8S_POD_NAME=p", 0, "p" },
        { "IgnoreUnknown=True;FOO=bar", 0, NULL },
        /* Malformed. */
        { "IgnoreUnknown=yes;FOO=bar", 4, "IgnoreUnknown=yes" },
        { "K8S_POD_NAME", 4, "\"K8S_POD_NAME\" is not KEY=VALUE" },
        { "A=B=C", 4, "not KEY=VALUE" },
        { "K8S_POD_NAME=a;", 4, "not KEY=VALUE" },
        { ";K8S_POD_NAME=a", 4, "not KEY=VALUE" },
        { "K8S_POD_NAME=a;;K8S_POD_UID=b", 4, "not KEY=VALUE" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct fake_env fenv = full_env("ADD");
        fake_setenv(&fenv, "CNI_ARGS", cases[i].args);
        struct cni_env env;
        struct cni_error *error = cni_env_parse(fake_getenv, &fenv, &env);
        if (cases[i].code) {
            expect_error(error, cases[i].code, cases[i].fragment,
                         cases[i].args);
            cni_env_uninit(&env);
            continue;
        }
        expect_ok(error, cases[i].args);
        assert_string_equal(env.args, cases[i].args);
        if (cases[i].fragment) {
            assert_non_null(env.pod_name);
            assert_string_equal(env.pod_name, cases[i].fragment);
        } else {
            assert_null(env.pod_name);
        }
        assert_null(env.pod_namespace);
        assert_null(env.pod_uid);
        cni_env_uninit(&env);
    }

    /* The CNI_ARGS error names the variable. */
    struct fake_env fenv = full_env("DEL");
    fake_setenv(&fenv, "CNI_ARGS", "FOO=bar");
    struct cni_env env;
    expect_error(cni_env_parse(fake_getenv, &fenv, &env), 4, "CNI_ARGS",
                 "DEL with unknown args");
    cni_env_uninit(&env);
}

static void
test_env_names(void **state OVS_UNUSED)
{
    static const struct {
        char *(*check)(const char *);
        const char *s;
        const char *fragment;   /* NULL: valid. */
    } cases[] = {
        { cni_check_network_name, "tendril", NULL },
        { cni_check_network_name, "k8s-pod-network.v1_2", NULL },
        { cni_check_network_name, "", "is empty" },
        { cni_check_network_name, "my net", "other than" },
        { cni_check_network_name, "../x", "does not start" },
        { cni_check_network_name, "a/b", "other than" },
        { cni_check_container_id, "", "is empty" },
        { cni_check_ifname, "", "is empty" },
        { cni_check_ifname, "abcdefghijklmnop", "longer than 15" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *error = cases[i].check(cases[i].s);
        if (!cases[i].fragment) {
            if (error) {
                fail_msg("\"%s\": %s", cases[i].s, error);
            }
        } else {
            if (!error) {
                fail_msg("\"%s\" accepted", cases[i].s);
            }
            if (!strstr(error, cases[i].fragment)) {
                fail_msg("\"%s\": \"%s\" lacks \"%s\"", cases[i].s, error,
                         cases[i].fragment);
            }
            free(error);
        }
    }
}

/* The configuration. */

static const char *const prev_result_json =
    "{\"cniVersion\": \"1.0.0\","
    " \"interfaces\": [{\"name\": \"eth0\", \"mac\": \"0a:58:0a:f4:01:05\","
    "                   \"sandbox\": \"/var/run/netns/cni-1234\"}],"
    " \"ips\": [{\"address\": \"10.244.1.5/24\", \"gateway\": \"10.244.1.1\","
    "            \"interface\": 0}],"
    " \"routes\": [{\"dst\": \"0.0.0.0/0\", \"gw\": \"10.244.1.1\"}],"
    " \"dns\": {}}";

/* Parses the configuration with 'cniVersion' 'version' and 'extra' members
 * (text after a comma, or ""), for 'command'. */
static struct cni_error *
parse_config(enum cni_command command, const char *version,
             const char *extra, struct cni_config *config)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "{\"cniVersion\": \"%s\", \"name\": \"tendril\", "
                  "\"type\": \"tendril\"", version);
    if (extra[0]) {
        ds_put_format(&s, ", %s", extra);
    }
    ds_put_char(&s, '}');
    struct cni_error *error = cni_config_parse(s.string, s.length, command,
                                               config);
    ds_destroy(&s);
    return error;
}

static const char *
extra_for(enum cni_command command)
{
    return (command == CNI_CMD_CHECK ? "\"prevResult\": {}"
            : command == CNI_CMD_GC ? "\"cni.dev/valid-attachments\": []"
            : "");
}

static void
test_config_versions(void **state OVS_UNUSED)
{
    static const char *const accepted[] = {
        "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
    };
    static const char *const rejected[] = {
        "0.1.0", "0.2.0", "1.2.0", "2.0.0", "1.0", "v1.0.0", "1.0.0 ", "",
    };
    static const enum cni_command cmds[] = {
        CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_STATUS, CNI_CMD_GC,
    };

    for (size_t c = 0; c < ARRAY_SIZE(cmds); c++) {
        enum cni_command cmd = cmds[c];
        enum cni_version min = (cmd == CNI_CMD_CHECK ? CNI_VERSION_0_4_0
                                : cmd == CNI_CMD_STATUS || cmd == CNI_CMD_GC
                                ? CNI_VERSION_1_1_0 : CNI_VERSION_0_3_0);
        for (size_t i = 0; i < ARRAY_SIZE(accepted); i++) {
            char what[64];
            snprintf(what, sizeof what, "%s with %s", cni_command_name(cmd),
                     accepted[i]);
            struct cni_config config;
            struct cni_error *error = parse_config(cmd, accepted[i],
                                                   extra_for(cmd), &config);
            enum cni_version v;
            assert_true(cni_version_parse(accepted[i], &v));
            assert_string_equal(cni_version_to_string(v), accepted[i]);
            if (v >= min) {
                expect_ok(error, what);
            } else {
                /* The version gate (CHECK >= 0.4.0, STATUS/GC >= 1.1.0). */
                char *fragment = xasprintf("config version does not allow "
                                           "%s", cni_command_name(cmd));
                expect_error(error, 1, fragment, what);
                free(fragment);
            }
            /* Either way, the answer is in the config's version. */
            assert_int_equal(config.version, v);
            cni_config_uninit(&config);
        }
        for (size_t i = 0; i < ARRAY_SIZE(rejected); i++) {
            struct cni_config config;
            expect_error(parse_config(cmd, rejected[i], extra_for(cmd),
                                      &config),
                         1, "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
                         rejected[i]);
            assert_int_equal(config.version, CNI_VERSION_LATEST);
            cni_config_uninit(&config);
        }
    }

    /* No cniVersion at all (libcni would take it as 0.1.0). */
    static const char no_version[] = "{\"name\": \"tendril\"}";
    struct cni_config config;
    expect_error(cni_config_parse(no_version, strlen(no_version), CNI_CMD_ADD,
                                  &config),
                 1, "no cniVersion", "no version");
    cni_config_uninit(&config);
}

static void
test_config_errors(void **state OVS_UNUSED)
{
    static const struct {
        enum cni_command command;
        const char *json;
        int code;
        const char *fragment;
    } cases[] = {
        /* Malformed JSON. */
        { CNI_CMD_ADD, "", 6, "error decoding" },
        { CNI_CMD_ADD, "{", 6, "error decoding" },
        { CNI_CMD_ADD, "not json", 6, "line 1" },
        { CNI_CMD_ADD, "{\"cniVersion\": \"1.0.0\", \"name\": \"n\"} x", 6,
          NULL },
        { CNI_CMD_ADD, "{\"cniVersion\": \"1.0.0\", \"name\": \"n\",}", 6,
          NULL },
        { CNI_CMD_ADD, "[]", 6, "not a JSON object" },
        { CNI_CMD_ADD, "null", 6, NULL },
        { CNI_CMD_DEL, "{\"cniVersion\": 1, \"name\": \"n\"}", 6,
          "\"cniVersion\" must be a string" },
        { CNI_CMD_ADD, "{\"cniVersion\": \"1.0.0\", \"name\": 5}", 6,
          "\"name\" must be a string" },
        /* Name. */
        { CNI_CMD_ADD, "{\"cniVersion\": \"1.0.0\"}", 7,
          "missing network name" },
        { CNI_CMD_ADD, "{\"cniVersion\": \"1.0.0\", \"name\": \"\"}", 7,
          "missing network name" },
        { CNI_CMD_ADD, "{\"cniVersion\": \"1.0.0\", \"name\": \"my net\"}",
          7, "invalid network name" },
        { CNI_CMD_ADD, "{\"cniVersion\": \"1.0.0\", \"name\": \"-n\"}", 7,
          "-n" },
        /* The name is checked before the version, as in skel. */
        { CNI_CMD_ADD, "{\"cniVersion\": \"0.2.0\", \"name\": \"a b\"}", 7,
          NULL },
        /* Type. */
        { CNI_CMD_ADD, "{\"cniVersion\": \"1.0.0\", \"name\": \"n\", "
          "\"type\": 3}", 6, "\"type\"" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cni_config config;
        expect_error(cni_config_parse(cases[i].json, strlen(cases[i].json),
                                      cases[i].command, &config),
                     cases[i].code, cases[i].fragment, cases[i].json);
        cni_config_uninit(&config);
    }
}

static void
test_config_fields(void **state OVS_UNUSED)
{
    /* Defaults; runtimeConfig and unknown fields are ignored. */
    struct cni_config config;
    expect_ok(parse_config(CNI_CMD_ADD, "1.0.0",
                           "\"runtimeConfig\": {\"portMappings\": []}, "
                           "\"ipam\": {}, \"foo\": [1, 2], \"args\": {}",
                           &config), "defaults");
    assert_string_equal(config.name, "tendril");
    assert_string_equal(config.type, "tendril");
    assert_string_equal(config.agent_socket, CNI_DEFAULT_AGENT_SOCKET);
    assert_int_equal(config.timeout_ms, 30000);
    assert_false(config.has_prev_result);
    assert_int_equal(config.n_valid_attachments, 0);
    cni_config_uninit(&config);

    /* Without "type". */
    static const char no_type[] = "{\"cniVersion\": \"0.3.1\", "
                                  "\"name\": \"n\"}";
    expect_ok(cni_config_parse(no_type, strlen(no_type), CNI_CMD_ADD,
                               &config), "no type");
    assert_null(config.type);
    assert_int_equal(config.version, CNI_VERSION_0_3_1);
    cni_config_uninit(&config);

    expect_ok(parse_config(CNI_CMD_ADD, "1.1.0",
                           "\"agentSocket\": \"/run/tendril/other.sock\", "
                           "\"timeoutSeconds\": 5", &config), "set");
    assert_string_equal(config.agent_socket, "/run/tendril/other.sock");
    assert_int_equal(config.timeout_ms, 5000);
    cni_config_uninit(&config);

    expect_ok(parse_config(CNI_CMD_ADD, "1.1.0", "\"timeoutSeconds\": 0.25",
                           &config), "fraction");
    assert_int_equal(config.timeout_ms, 250);
    cni_config_uninit(&config);

    expect_ok(parse_config(CNI_CMD_ADD, "1.1.0", "\"timeoutSeconds\": 3600",
                           &config), "largest timeout");
    assert_int_equal(config.timeout_ms, 3600000);
    cni_config_uninit(&config);

    char long_path[200];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    char *long_socket = xasprintf("\"agentSocket\": \"%s\"", long_path);

    const struct {
        const char *extra;
        int code;
        const char *fragment;
    } bad[] = {
        { "\"agentSocket\": 5", 6, "\"agentSocket\" must be a string" },
        { "\"agentSocket\": \"cni.sock\"", 7, "not an absolute path" },
        { "\"agentSocket\": \"\"", 7, "not an absolute path" },
        { long_socket, 7, "longer than" },
        { "\"timeoutSeconds\": \"5\"", 6, "must be a number" },
        { "\"timeoutSeconds\": true", 6, "must be a number" },
        { "\"timeoutSeconds\": 0", 7, "timeoutSeconds 0" },
        { "\"timeoutSeconds\": -1", 7, "timeoutSeconds -1" },
        { "\"timeoutSeconds\": 3601", 7, "timeoutSeconds 3601" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        expect_error(parse_config(CNI_CMD_ADD, "1.0.0", bad[i].extra,
                                  &config),
                     bad[i].code, bad[i].fragment, bad[i].extra);
        cni_config_uninit(&config);
    }
    free(long_socket);
}

static void
test_config_prev_result(void **state OVS_UNUSED)
{
    struct cni_config config;
    char *extra = xasprintf("\"prevResult\": %s", prev_result_json);

    expect_ok(parse_config(CNI_CMD_CHECK, "1.0.0", extra, &config), "CHECK");
    assert_true(config.has_prev_result);
    assert_int_equal(config.prev_result.n_interfaces, 1);
    assert_string_equal(config.prev_result.interfaces[0].name, "eth0");
    assert_int_equal(config.prev_result.n_ips, 1);
    assert_int_equal(config.prev_result.ips[0].plen, 24);
    assert_int_equal(config.prev_result.ips[0].interface, 0);
    assert_int_equal(config.prev_result.n_routes, 1);
    cni_config_uninit(&config);

    /* Other commands ignore prevResult, even a bad one. */
    expect_ok(parse_config(CNI_CMD_ADD, "1.0.0", extra, &config), "ADD");
    assert_false(config.has_prev_result);
    cni_config_uninit(&config);
    expect_ok(parse_config(CNI_CMD_DEL, "1.0.0", "\"prevResult\": 7",
                           &config), "DEL");
    assert_false(config.has_prev_result);
    cni_config_uninit(&config);
    free(extra);

    static const struct {
        const char *extra;
        const char *fragment;
    } bad[] = {
        { "", "CHECK needs \"prevResult\"" },
        { "\"prevResult\": null", "CHECK needs \"prevResult\"" },
        { "\"prevResult\": 7", "prevResult: result is not an object" },
        { "\"prevResult\": {\"ips\": [{\"address\": \"10.0.0.1\"}]}",
          "prevResult: ips[0]" },
        { "\"prevResult\": {\"ips\": [{\"address\": \"10.0.0.1/8\","
          " \"interface\": 0}]}", "not an index" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        expect_error(parse_config(CNI_CMD_CHECK, "0.4.0", bad[i].extra,
                                  &config),
                     7, bad[i].fragment, bad[i].extra);
        cni_config_uninit(&config);
    }
}

static void
test_config_gc(void **state OVS_UNUSED)
{
    struct cni_config config;
    expect_ok(parse_config(CNI_CMD_GC, "1.1.0",
                           "\"cni.dev/valid-attachments\": ["
                           "{\"containerID\": \"abc\", \"ifname\": \"eth0\"},"
                           "{\"containerID\": \"def\", \"ifname\": \"net1\"}]",
                           &config), "GC");
    assert_int_equal(config.n_valid_attachments, 2);
    assert_string_equal(config.valid_attachments[0].container_id, "abc");
    assert_string_equal(config.valid_attachments[0].ifname, "eth0");
    assert_string_equal(config.valid_attachments[1].container_id, "def");
    assert_string_equal(config.valid_attachments[1].ifname, "net1");
    cni_config_uninit(&config);

    /* The spec's first name for the list. */
    expect_ok(parse_config(CNI_CMD_GC, "1.1.0",
                           "\"cni.dev/attachments\": ["
                           "{\"containerID\": \"abc\", \"ifname\": \"eth0\"}]",
                           &config), "GC, old key");
    assert_int_equal(config.n_valid_attachments, 1);
    cni_config_uninit(&config);

    /* null: no attachments left (Go marshals an empty slice so). */
    expect_ok(parse_config(CNI_CMD_GC, "1.1.0",
                           "\"cni.dev/valid-attachments\": null", &config),
              "GC, null");
    assert_int_equal(config.n_valid_attachments, 0);
    cni_config_uninit(&config);

    static const struct {
        const char *extra;
        int code;
        const char *fragment;
    } bad[] = {
        { "", 7, "GC needs \"cni.dev/valid-attachments\"" },
        { "\"cni.dev/valid-attachments\": {}", 6, "must be an array" },
        { "\"cni.dev/valid-attachments\": [1]", 6, "[0] must be an object" },
        { "\"cni.dev/valid-attachments\": [{\"containerID\": \"abc\", "
          "\"ifname\": \"eth0\"}, {\"containerID\": \"abc\"}]", 7,
          "[1]: \"ifname\" is missing" },
        { "\"cni.dev/valid-attachments\": [{\"ifname\": \"eth0\"}]", 7,
          "\"containerID\" is missing" },
        { "\"cni.dev/valid-attachments\": [{\"containerID\": \"-x\", "
          "\"ifname\": \"eth0\"}]", 7, "container ID \"-x\"" },
        { "\"cni.dev/valid-attachments\": [{\"containerID\": \"x\", "
          "\"ifname\": \"a/b\"}]", 7, "interface name" },
        { "\"cni.dev/valid-attachments\": [{\"containerID\": 1, "
          "\"ifname\": \"eth0\"}]", 6, "\"containerID\" must be a string" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        expect_error(parse_config(CNI_CMD_GC, "1.1.0", bad[i].extra,
                                  &config),
                     bad[i].code, bad[i].fragment, bad[i].extra);
        cni_config_uninit(&config);
    }

    /* Other commands don't need or read the list. */
    expect_ok(parse_config(CNI_CMD_STATUS, "1.1.0", "", &config), "STATUS");
    assert_int_equal(config.n_valid_attachments, 0);
    cni_config_uninit(&config);
}

/* VERSION. */

static void
expect_version_reply(const char *input, const char *expected)
{
    json_t *reply;
    expect_ok(cni_version_reply(input, strlen(input), &reply), input);

    json_error_t jerror;
    json_t *want = json_loads(expected, 0, &jerror);
    assert_non_null(want);
    if (!tjson_equal(reply, want)) {
        char *got = json_dumps(reply, JSON_SORT_KEYS);
        fail_msg("VERSION for \"%s\": got %s, expected %s", input, got,
                 expected);
    }
    json_decref(want);
    json_decref(reply);
}

static void
test_version(void **state OVS_UNUSED)
{
    static const char all[] = "[\"0.3.0\", \"0.3.1\", \"0.4.0\", \"1.0.0\", "
                              "\"1.1.0\"]";
    struct {
        const char *input;
        const char *version;
    } cases[] = {
        { "", "1.1.0" },
        { " \n\t", "1.1.0" },
        { "{}", "1.1.0" },
        { "{\"cniVersion\": \"0.4.0\"}", "0.4.0" },
        { "{\"cniVersion\": \"1.0.0\"}", "1.0.0" },
        { "{\"cniVersion\": \"1.1.0\"}", "1.1.0" },
        { "{\"cniVersion\": \"0.3.0\"}\n", "0.3.0" },
        { "{\"cniVersion\": \"9.9.9\"}", "1.1.0" },
        { "{\"cniVersion\": \"0.2.0\"}", "1.1.0" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *expected = xasprintf("{\"cniVersion\": \"%s\", "
                                   "\"supportedVersions\": %s}",
                                   cases[i].version, all);
        expect_version_reply(cases[i].input, expected);
        free(expected);
    }

    static const char *const bad[] = {
        "garbage", "[1]", "{\"cniVersion\": 4}", "{\"cniVersion\": \"1.0.0\"",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        json_t *reply;
        expect_error(cni_version_reply(bad[i], strlen(bad[i]), &reply), 6,
                     NULL, bad[i]);
        assert_null(reply);
    }

    /* The VERSION environment needs nothing but CNI_COMMAND. */
    struct fake_env fenv = { .vars = { "CNI_COMMAND=VERSION", NULL } };
    struct cni_env env;
    expect_ok(cni_env_parse(fake_getenv, &fenv, &env), "VERSION env");
    assert_int_equal(env.command, CNI_CMD_VERSION);
    cni_env_uninit(&env);
}

static void
test_read_input(void **state OVS_UNUSED)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);

    /* More than one read's worth. */
    size_t size = 200 * 1000;
    char *data = xmalloc(size);
    for (size_t i = 0; i < size; i++) {
        data[i] = 'a' + i % 26;
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        close(fds[0]);
        size_t done = 0;
        while (done < size) {
            ssize_t n = write(fds[1], data + done, size - done);
            if (n <= 0) {
                _exit(1);
            }
            done += n;
        }
        _exit(0);
    }
    close(fds[1]);

    struct ds in = DS_EMPTY_INITIALIZER;
    expect_ok(cni_read_input(fds[0], &in), "read");
    close(fds[0]);
    assert_int_equal(in.length, size);
    assert_memory_equal(in.string, data, size);
    ds_destroy(&in);
    free(data);

    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* An unreadable stdin is an I/O error (code 5). */
    ds_init(&in);
    expect_error(cni_read_input(-1, &in), 5, "reading from stdin", "EBADF");
    ds_destroy(&in);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_full),
        cmocka_unit_test(test_env_missing),
        cmocka_unit_test(test_env_command),
        cmocka_unit_test(test_env_malformed),
        cmocka_unit_test(test_env_args),
        cmocka_unit_test(test_env_names),
        cmocka_unit_test(test_config_versions),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_config_fields),
        cmocka_unit_test(test_config_prev_result),
        cmocka_unit_test(test_config_gc),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_read_input),
    };
    return cmocka_run_group_tests_name("cni-skel", tests, NULL, NULL);
}
