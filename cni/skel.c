#include "ovs-config.h"
#include "cni/skel.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

static const char *const cni_command_names[] = {
    [CNI_CMD_ADD] = "ADD",
    [CNI_CMD_DEL] = "DEL",
    [CNI_CMD_CHECK] = "CHECK",
    [CNI_CMD_STATUS] = "STATUS",
    [CNI_CMD_GC] = "GC",
    [CNI_CMD_VERSION] = "VERSION",
};

const char *
cni_command_name(enum cni_command command)
{
    ovs_assert((size_t) command < ARRAY_SIZE(cni_command_names));
    return cni_command_names[command];
}

static bool
cni_command_from_string(const char *s, enum cni_command *command)
{
    for (size_t i = 0; i < ARRAY_SIZE(cni_command_names); i++) {
        if (!strcmp(s, cni_command_names[i])) {
            *command = i;
            return true;
        }
    }
    return false;
}

const char *
cni_getenv_process(const char *name, void *aux OVS_UNUSED)
{
    return getenv(name);
}

/* Names. */

static bool
is_alnum(char c)
{
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9'));
}

/* The spec's rule for container IDs and network names:
 * ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ */
static char *
check_name(const char *what, const char *s)
{
    if (!s[0]) {
        return xasprintf("%s is empty", what);
    }
    if (!is_alnum(s[0])) {
        return xasprintf("%s \"%s\" does not start with a letter or digit",
                         what, s);
    }
    for (const char *p = s; *p; p++) {
        if (!is_alnum(*p) && *p != '_' && *p != '.' && *p != '-') {
            return xasprintf("%s \"%s\" has characters other than letters, "
                             "digits, '_', '.' and '-'", what, s);
        }
    }
    return NULL;
}

char *
cni_check_container_id(const char *s)
{
    return check_name("container ID", s);
}

char *
cni_check_network_name(const char *s)
{
    return check_name("network name", s);
}

/* The spec's rule for CNI_IFNAME, which is Linux's: not empty, at most 15
 * bytes, not "." or "..", no '/', ':' or white space.  Control characters
 * are refused too. */
char *
cni_check_ifname(const char *s)
{
    if (!s[0]) {
        return xstrdup("interface name is empty");
    }
    if (strlen(s) > 15) {
        return xasprintf("interface name \"%s\" is longer than 15 bytes", s);
    }
    if (!strcmp(s, ".") || !strcmp(s, "..")) {
        return xasprintf("interface name \"%s\" is not allowed", s);
    }
    for (const char *p = s; *p; p++) {
        unsigned char c = *p;
        if (c == '/' || c == ':' || c == ' ' || c < 0x20 || c == 0x7f) {
            return xasprintf("interface name \"%s\" contains '/', ':', "
                             "white space or a control character", s);
        }
    }
    return NULL;
}

static char *
check_netns(const char *s)
{
    if (s[0] != '/') {
        return xasprintf("network namespace \"%s\" is not an absolute path",
                         s);
    }
    return NULL;
}

/* The environment. */

#define CMD_BIT(CMD) (1u << (CMD))
#define C_ADD CMD_BIT(CNI_CMD_ADD)
#define C_DEL CMD_BIT(CNI_CMD_DEL)
#define C_CHECK CMD_BIT(CNI_CMD_CHECK)
#define C_STATUS CMD_BIT(CNI_CMD_STATUS)
#define C_GC CMD_BIT(CNI_CMD_GC)
#define C_ATTACH (C_ADD | C_CHECK | C_DEL)

/* Which variable each command reads and which it requires.  CNI_COMMAND is
 * read before the table. */
static const struct cni_env_var {
    const char *name;
    size_t offset;              /* Of its 'char *' in struct cni_env. */
    unsigned int read;          /* Commands that read it. */
    unsigned int required;      /* Commands that fail without it. */
    char *(*check)(const char *);
} cni_env_vars[] = {
    { "CNI_CONTAINERID", offsetof(struct cni_env, container_id),
      C_ATTACH, C_ATTACH, cni_check_container_id },
    { "CNI_NETNS", offsetof(struct cni_env, netns),
      C_ATTACH, C_ADD | C_CHECK, check_netns },
    { "CNI_IFNAME", offsetof(struct cni_env, ifname),
      C_ATTACH, C_ATTACH, cni_check_ifname },
    { "CNI_ARGS", offsetof(struct cni_env, args),
      C_ATTACH, 0, NULL },
    { "CNI_PATH", offsetof(struct cni_env, path),
      C_ATTACH | C_GC | C_STATUS, C_ATTACH | C_GC, NULL },
};

static char **
env_field(struct cni_env *env, const struct cni_env_var *var)
{
    return (char **) ((char *) env + var->offset);
}

static struct cni_error *
invalid_args(const char *details_format, const char *arg)
{
    return cni_error_format(CNI_ERR_INVALID_ENV, "invalid CNI_ARGS",
                            details_format, arg);
}

/* Parses CNI_ARGS ("K=V;K=V") as the reference's types.LoadArgs does: every
 * pair must have exactly one '=', the last value of a key wins, and a key
 * other than those below is an error unless IgnoreUnknown is 1 or true
 * (in any case, wherever it appears). */
static struct cni_error *
parse_cni_args(const char *args, struct cni_env *env)
{
    static const struct {
        const char *key;
        size_t offset;
    } keys[] = {
        { "K8S_POD_NAMESPACE", offsetof(struct cni_env, pod_namespace) },
        { "K8S_POD_NAME", offsetof(struct cni_env, pod_name) },
        { "K8S_POD_UID", offsetof(struct cni_env, pod_uid) },
        { "K8S_POD_INFRA_CONTAINER_ID",
          offsetof(struct cni_env, infra_container_id) },
    };
    struct cni_error *error = NULL;
    struct ds unknown = DS_EMPTY_INITIALIZER;
    bool ignore_unknown = false;
    char *copy = xstrdup(args);

    for (char *pair = copy; ; ) {
        char *next = strchr(pair, ';');
        if (next) {
            *next++ = '\0';
        }

        char *eq = strchr(pair, '=');
        if (!eq || strchr(eq + 1, '=')) {
            error = invalid_args("\"%s\" is not KEY=VALUE", pair);
            goto out;
        }
        *eq = '\0';
        const char *key = pair;
        const char *value = eq + 1;

        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
            if (!strcmp(key, keys[i].key)) {
                char **field = (char **) ((char *) env + keys[i].offset);
                free(*field);
                *field = xstrdup(value);
                known = true;
                break;
            }
        }
        if (known) {
            /* Done. */
        } else if (!strcmp(key, "IgnoreUnknown")) {
            if (!strcasecmp(value, "1") || !strcasecmp(value, "true")) {
                ignore_unknown = true;
            } else if (!strcasecmp(value, "0")
                       || !strcasecmp(value, "false")) {
                ignore_unknown = false;
            } else {
                error = invalid_args("IgnoreUnknown=%s: the value must be "
                                     "1, true, 0 or false", value);
                goto out;
            }
        } else {
            ds_put_format(&unknown, "%s\"%s=%s\"",
                          unknown.length ? ", " : "", key, value);
        }

        if (!next) {
            break;
        }
        pair = next;
    }

    if (unknown.length && !ignore_unknown) {
        error = invalid_args("unknown args [%s] (IgnoreUnknown=1 lets them "
                             "through)", ds_cstr(&unknown));
    }

out:
    free(copy);
    ds_destroy(&unknown);
    return error;
}

/* Reads the CNI_* variables through 'getenv_' (called with 'aux') into
 * '*env', which the caller must pass to cni_env_uninit() whatever the
 * outcome.  Returns NULL or an error (code 4) naming the variables that are
 * missing or invalid. */
struct cni_error *
cni_env_parse(cni_getenv_func *getenv_, void *aux, struct cni_env *env)
{
    memset(env, 0, sizeof *env);

    const char *command = getenv_("CNI_COMMAND", aux);
    if (!command || !command[0]) {
        return cni_error_create(CNI_ERR_INVALID_ENV,
                                "required env variables [CNI_COMMAND] "
                                "missing", NULL);
    }
    if (!cni_command_from_string(command, &env->command)) {
        return cni_error_format(CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND",
                                "CNI_COMMAND is \"%s\"; supported: ADD, "
                                "DEL, CHECK, STATUS, GC, VERSION", command);
    }
    unsigned int bit = CMD_BIT(env->command);

    struct ds missing = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < ARRAY_SIZE(cni_env_vars); i++) {
        const struct cni_env_var *var = &cni_env_vars[i];
        if (!(var->read & bit)) {
            continue;
        }
        const char *value = getenv_(var->name, aux);
        if (value && value[0]) {
            *env_field(env, var) = xstrdup(value);
        } else if (var->required & bit) {
            ds_put_format(&missing, "%s%s", missing.length ? "," : "",
                          var->name);
        }
    }
    if (missing.length) {
        char *msg = xasprintf("required env variables [%s] missing",
                              ds_cstr(&missing));
        struct cni_error *error = cni_error_create(CNI_ERR_INVALID_ENV, msg,
                                                   NULL);
        free(msg);
        ds_destroy(&missing);
        cni_env_uninit(env);
        return error;
    }
    ds_destroy(&missing);

    for (size_t i = 0; i < ARRAY_SIZE(cni_env_vars); i++) {
        const struct cni_env_var *var = &cni_env_vars[i];
        const char *value = *env_field(env, var);
        if (value && var->check) {
            char *problem = var->check(value);
            if (problem) {
                char *msg = xasprintf("invalid %s", var->name);
                struct cni_error *error = cni_error_create(
                    CNI_ERR_INVALID_ENV, msg, problem);
                free(msg);
                free(problem);
                cni_env_uninit(env);
                return error;
            }
        }
    }

    if (env->args) {
        struct cni_error *error = parse_cni_args(env->args, env);
        if (error) {
            cni_env_uninit(env);
            return error;
        }
    }
    return NULL;
}

void
cni_env_uninit(struct cni_env *env)
{
    if (env) {
        enum cni_command command = env->command;
        free(env->container_id);
        free(env->netns);
        free(env->ifname);
        free(env->path);
        free(env->args);
        free(env->pod_namespace);
        free(env->pod_name);
        free(env->pod_uid);
        free(env->infra_container_id);
        memset(env, 0, sizeof *env);
        env->command = command;
    }
}

/* The configuration. */

/* Gets the string member 'key' of 'object' into '*s', NULL if absent or
 * null.  Another type is a decoding error (code 6). */
static struct cni_error *
config_string(const json_t *object, const char *key, const char **s)
{
    const json_t *value = json_object_get(object, key);
    *s = NULL;
    if (!value || json_is_null(value)) {
        return NULL;
    } else if (!json_is_string(value)) {
        return cni_error_format(CNI_ERR_DECODE,
                                "error decoding network configuration",
                                "\"%s\" must be a string", key);
    }
    *s = json_string_value(value);
    return NULL;
}

static struct cni_error *
invalid_config(const char *details_format, ...)
    OVS_PRINTF_FORMAT(1, 2);

static struct cni_error *
invalid_config(const char *details_format, ...)
{
    va_list args;
    va_start(args, details_format);
    char *details = xvasprintf(details_format, args);
    va_end(args);

    struct cni_error *error = cni_error_create(CNI_ERR_INVALID_CONFIG,
                                               "invalid network "
                                               "configuration", details);
    free(details);
    return error;
}

static struct cni_error *
parse_agent_socket(const json_t *json, struct cni_config *config)
{
    const char *path;
    struct cni_error *error = config_string(json, "agentSocket", &path);
    if (error || !path) {
        return error;
    }
    if (path[0] != '/') {
        return invalid_config("agentSocket \"%s\" is not an absolute path",
                              path);
    }
    struct sockaddr_un sun;
    if (strlen(path) >= sizeof sun.sun_path) {
        return invalid_config("agentSocket \"%s\" is longer than %zu bytes",
                              path, sizeof sun.sun_path - 1);
    }
    free(config->agent_socket);
    config->agent_socket = xstrdup(path);
    return NULL;
}

static struct cni_error *
parse_timeout(const json_t *json, struct cni_config *config)
{
    const json_t *value = json_object_get(json, "timeoutSeconds");
    if (!value || json_is_null(value)) {
        return NULL;
    } else if (!json_is_number(value)) {
        return cni_error_create(CNI_ERR_DECODE,
                                "error decoding network configuration",
                                "\"timeoutSeconds\" must be a number");
    }
    double seconds = json_number_value(value);
    if (!(seconds > 0 && seconds <= CNI_MAX_TIMEOUT_S)) {
        return invalid_config("timeoutSeconds %g is not in (0, %d]",
                              seconds, CNI_MAX_TIMEOUT_S);
    }
    config->timeout_ms = MAX(1, (int) (seconds * 1000 + 0.5));
    return NULL;
}

/* Reads a list of attachments: null or an array of {containerID, ifname}. */
static struct cni_error *
parse_attachments(const json_t *list, const char *key,
                  struct cni_config *config)
{
    if (json_is_null(list)) {
        return NULL;
    } else if (!json_is_array(list)) {
        return cni_error_format(CNI_ERR_DECODE,
                                "error decoding network configuration",
                                "\"%s\" must be an array", key);
    }

    size_t n = json_array_size(list);
    config->valid_attachments = xcalloc(MAX(n, 1),
                                        sizeof *config->valid_attachments);
    for (size_t i = 0; i < n; i++) {
        const json_t *entry = json_array_get(list, i);
        if (!json_is_object(entry)) {
            return cni_error_format(CNI_ERR_DECODE,
                                    "error decoding network configuration",
                                    "%s[%zu] must be an object", key, i);
        }

        const char *id, *ifname;
        struct cni_error *error = config_string(entry, "containerID", &id);
        if (!error) {
            error = config_string(entry, "ifname", &ifname);
        }
        if (error) {
            char *details = xasprintf("%s[%zu]: %s", key, i, error->details);
            free(error->details);
            error->details = details;
            return error;
        }

        char *problem = (!id ? xstrdup("\"containerID\" is missing")
                         : !ifname ? xstrdup("\"ifname\" is missing")
                         : cni_check_container_id(id));
        if (!problem) {
            problem = cni_check_ifname(ifname);
        }
        if (problem) {
            error = invalid_config("%s[%zu]: %s", key, i, problem);
            free(problem);
            return error;
        }

        struct cni_attachment *a = &config->valid_attachments[i];
        a->container_id = xstrdup(id);
        a->ifname = xstrdup(ifname);
        config->n_valid_attachments = i + 1;
    }
    return NULL;
}

static struct cni_error *
parse_valid_attachments(const json_t *json, struct cni_config *config)
{
    static const char *const keys[] = {
        "cni.dev/valid-attachments",
        "cni.dev/attachments",
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const json_t *list = json_object_get(json, keys[i]);
        if (list) {
            return parse_attachments(list, keys[i], config);
        }
    }
    return invalid_config("GC needs \"cni.dev/valid-attachments\"");
}

/* The lowest version each command exists in. */
static enum cni_version
command_min_version(enum cni_command command)
{
    switch (command) {
    case CNI_CMD_CHECK:
        return CNI_VERSION_0_4_0;
    case CNI_CMD_STATUS:
    case CNI_CMD_GC:
        return CNI_VERSION_1_1_0;
    case CNI_CMD_ADD:
    case CNI_CMD_DEL:
    case CNI_CMD_VERSION:
    default:
        return CNI_VERSION_0_3_0;
    }
}

static struct cni_error *
config_parse__(const json_t *json, enum cni_command command,
               struct cni_config *config)
{
    if (!json_is_object(json)) {
        return cni_error_create(CNI_ERR_DECODE,
                                "error decoding network configuration",
                                "the configuration is not a JSON object");
    }

    const char *version_s, *name, *type;
    struct cni_error *error = config_string(json, "cniVersion", &version_s);
    if (!error) {
        error = config_string(json, "name", &name);
    }
    if (!error) {
        error = config_string(json, "type", &type);
    }
    if (error) {
        return error;
    }

    if (!name || !name[0]) {
        return cni_error_create(CNI_ERR_INVALID_CONFIG,
                                "missing network name", NULL);
    }
    char *problem = cni_check_network_name(name);
    if (problem) {
        error = cni_error_create(CNI_ERR_INVALID_CONFIG,
                                 "invalid network name", problem);
        free(problem);
        return error;
    }

    enum cni_version version;
    if (!version_s) {
        return cni_error_format(CNI_ERR_INCOMPATIBLE_VERSION,
                                "incompatible CNI versions",
                                "config has no cniVersion, plugin supports "
                                "[%s]", cni_supported_versions());
    } else if (!cni_version_parse(version_s, &version)) {
        return cni_error_format(CNI_ERR_INCOMPATIBLE_VERSION,
                                "incompatible CNI versions",
                                "config is \"%s\", plugin supports [%s]",
                                version_s, cni_supported_versions());
    }
    config->version = version;

    enum cni_version min = command_min_version(command);
    if (version < min) {
        char *msg = xasprintf("config version does not allow %s",
                              cni_command_name(command));
        error = cni_error_format(CNI_ERR_INCOMPATIBLE_VERSION, msg,
                                 "%s needs cniVersion %s or later, the "
                                 "config has %s", cni_command_name(command),
                                 cni_version_to_string(min), version_s);
        free(msg);
        return error;
    }

    config->name = xstrdup(name);
    config->type = type ? xstrdup(type) : NULL;

    error = parse_agent_socket(json, config);
    if (!error) {
        error = parse_timeout(json, config);
    }
    if (error) {
        return error;
    }

    if (command == CNI_CMD_CHECK) {
        const json_t *prev = json_object_get(json, "prevResult");
        if (!prev || json_is_null(prev)) {
            return invalid_config("CHECK needs \"prevResult\"");
        }
        problem = cni_result_from_json(prev, &config->prev_result);
        if (problem) {
            error = invalid_config("prevResult: %s", problem);
            free(problem);
            return error;
        }
        config->has_prev_result = true;
    } else if (command == CNI_CMD_GC) {
        return parse_valid_attachments(json, config);
    }
    return NULL;
}

/* Parses the network configuration 'text' (stdin) for 'command' into
 * '*config', which the caller must pass to cni_config_uninit() whatever the
 * outcome.  On error, config->version is still the version to answer in:
 * the configuration's if it is supported, otherwise the latest. */
struct cni_error *
cni_config_parse(const char *text, size_t length, enum cni_command command,
                 struct cni_config *config)
{
    memset(config, 0, sizeof *config);
    config->version = CNI_VERSION_LATEST;
    config->agent_socket = xstrdup(CNI_DEFAULT_AGENT_SOCKET);
    config->timeout_ms = CNI_DEFAULT_TIMEOUT_MS;
    cni_result_init(&config->prev_result);

    json_error_t jerror;
    json_t *json = json_loadb(text, length, 0, &jerror);
    if (!json) {
        return cni_error_format(CNI_ERR_DECODE,
                                "error decoding network configuration",
                                "line %d, column %d: %s", jerror.line,
                                jerror.column, jerror.text);
    }
    struct cni_error *error = config_parse__(json, command, config);
    json_decref(json);
    return error;
}

void
cni_config_uninit(struct cni_config *config)
{
    if (config) {
        free(config->name);
        free(config->type);
        free(config->agent_socket);
        cni_result_uninit(&config->prev_result);
        for (size_t i = 0; i < config->n_valid_attachments; i++) {
            free(config->valid_attachments[i].container_id);
            free(config->valid_attachments[i].ifname);
        }
        free(config->valid_attachments);
        memset(config, 0, sizeof *config);
    }
}

/* VERSION.  libcni sends {"cniVersion": "<the newest it knows>"}; the
 * answer is in that version when we support it, otherwise in the latest we
 * do (the answer's form is the same in every version since 0.3.0). */
struct cni_error *
cni_version_reply(const char *input, size_t length, json_t **reply)
{
    enum cni_version version = CNI_VERSION_LATEST;
    *reply = NULL;

    size_t i = 0;
    while (i < length && strchr(" \t\r\n", input[i])) {
        i++;
    }
    if (i < length) {
        json_error_t jerror;
        json_t *json = json_loadb(input, length, 0, &jerror);
        if (!json) {
            return cni_error_format(CNI_ERR_DECODE,
                                    "error decoding version request",
                                    "line %d, column %d: %s", jerror.line,
                                    jerror.column, jerror.text);
        }
        const char *asked = NULL;
        struct cni_error *error = NULL;
        if (!json_is_object(json)) {
            error = cni_error_create(CNI_ERR_DECODE,
                                     "error decoding version request",
                                     "the request is not a JSON object");
        } else {
            error = config_string(json, "cniVersion", &asked);
        }
        if (!error && asked) {
            enum cni_version v;
            if (cni_version_parse(asked, &v)) {
                version = v;
            }
        }
        json_decref(json);
        if (error) {
            return error;
        }
    }

    *reply = tjson_object();
    json_object_set_new(*reply, "cniVersion",
                        tjson_string(cni_version_to_string(version)));
    json_object_set_new(*reply, "supportedVersions",
                        cni_supported_versions_json());
    return NULL;
}

/* Stdin. */

struct cni_error *
cni_read_input(int fd, struct ds *out)
{
    for (;;) {
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return cni_error_format(CNI_ERR_IO, "error reading from stdin",
                                    "%s", ovs_strerror(errno));
        } else if (n == 0) {
            return NULL;
        }
        if (out->length + n > CNI_MAX_INPUT) {
            return cni_error_format(CNI_ERR_IO, "error reading from stdin",
                                    "input is larger than %d bytes",
                                    CNI_MAX_INPUT);
        }
        ds_put_buffer(out, buf, n);
    }
}
