#include "ovs-config.h"
#include "lib/kubeconfig.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static void
pem_destroy(struct kubeconfig_pem *pem)
{
    free(pem->file);
    free(pem->data);
}

void
kubeconfig_destroy(struct kubeconfig *kc)
{
    if (kc) {
        free(kc->server);
        pem_destroy(&kc->ca);
        pem_destroy(&kc->client_cert);
        pem_destroy(&kc->client_key);
        free(kc->token);
        free(kc->token_file);
        free(kc);
    }
}

static int
b64_value(int c)
{
    return (c >= 'A' && c <= 'Z' ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+' ? 62
            : c == '/' ? 63
            : -1);
}

bool
kubeconfig_base64_decode(const char *in, char **outp, size_t *lenp)
{
    size_t n = strlen(in);
    char *out = xmalloc(n / 4 * 3 + 4);
    size_t len = 0;
    unsigned int acc = 0;
    int bits = 0, pad = 0;

    for (const char *p = in; *p; p++) {
        if (isspace((unsigned char) *p)) {
            continue;
        }
        if (*p == '=') {
            pad++;
            continue;
        }
        int v = b64_value((unsigned char) *p);
        if (v < 0 || pad) {
            goto error;
        }
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (acc >> bits) & 0xff;
        }
    }
    /* Leftover bits must be padding zeros; at most two '='. */
    if (pad > 2 || bits >= 6 || (acc & ((1u << bits) - 1))) {
        goto error;
    }
    out[len] = '\0';
    *outp = out;
    *lenp = len;
    return true;

error:
    free(out);
    *outp = NULL;
    *lenp = 0;
    return false;
}

/* Returns 'file' made absolute relative to the directory of 'base'. */
static char *
resolve_path(const char *base, const char *file)
{
    if (file[0] == '/') {
        return xstrdup(file);
    }
    const char *slash = strrchr(base, '/');
    if (!slash) {
        return xstrdup(file);
    }
    return xasprintf("%.*s/%s", (int) (slash - base), base, file);
}

/* Finds the entry named 'name' in array 'list' (of {"name": ..., KEY:
 * {...}}) and returns its member 'key'. */
static char *
find_named(const char *path, const json_t *root, const char *list_key,
           const char *key, const char *name, const json_t **resultp)
{
    const json_t *list = json_object_get(root, list_key);
    *resultp = NULL;
    if (!list) {
        return xasprintf("%s: no \"%s\"", path, list_key);
    }
    if (!json_is_array(list)) {
        return xasprintf("%s: \"%s\" is not an array", path, list_key);
    }
    size_t i;
    const json_t *e;
    json_array_foreach (list, i, e) {
        const json_t *n = json_object_get(e, "name");
        if (json_is_string(n) && !strcmp(json_string_value(n), name)) {
            const json_t *v = json_object_get(e, key);
            if (!json_is_object(v)) {
                return xasprintf("%s: %s[%"PRIuSIZE"] (\"%s\"): \"%s\" is "
                                 "missing or not an object", path, list_key,
                                 i, name, key);
            }
            *resultp = v;
            return NULL;
        }
    }
    return xasprintf("%s: no entry named \"%s\" in \"%s\"", path, name,
                     list_key);
}

/* Gets optional string member 'key' of 'obj' into '*valuep' (NULL if
 * absent or empty). */
static char *
get_string(const char *path, const char *what, const json_t *obj,
           const char *key, const char **valuep)
{
    const json_t *v = json_object_get(obj, key);
    *valuep = NULL;
    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (!json_is_string(v)) {
        return xasprintf("%s: %s.%s is not a string", path, what, key);
    }
    if (json_string_value(v)[0]) {
        *valuep = json_string_value(v);
    }
    return NULL;
}

/* Fills 'pem' from members FILE_KEY (a path) and FILE_KEY"-data"
 * (base64). */
static char *
get_pem(const char *path, const char *what, const json_t *obj,
        const char *file_key, struct kubeconfig_pem *pem)
{
    char *data_key = xasprintf("%s-data", file_key);
    const char *file, *data;
    char *error = get_string(path, what, obj, file_key, &file);
    if (!error) {
        error = get_string(path, what, obj, data_key, &data);
    }
    if (!error && data) {
        if (!kubeconfig_base64_decode(data, &pem->data, &pem->data_len)
            || !pem->data_len) {
            error = xasprintf("%s: %s.%s is not base64", path, what,
                              data_key);
        }
    } else if (!error && file) {
        pem->file = resolve_path(path, file);
    }
    free(data_key);
    return error;
}

char *
kubeconfig_parse(const char *text, size_t len, const char *path,
                 bool allow_insecure, struct kubeconfig **kcp)
{
    *kcp = NULL;

    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root) {
        size_t i = 0;
        while (i < len && isspace((unsigned char) text[i])) {
            i++;
        }
        if (i < len && text[i] != '{') {
            return xasprintf("%s: not JSON (a YAML kubeconfig?); only JSON "
                             "kubeconfigs are supported: convert it with "
                             "`kubectl config view --flatten -o json`",
                             path);
        }
        return xasprintf("%s:%d: %s", path, jerr.line, jerr.text);
    }

    struct kubeconfig *kc = xzalloc(sizeof *kc);
    const json_t *cluster, *user, *context;
    const char *ctx_name, *cluster_name, *user_name, *server, *s;
    char *error = NULL;

    if (!json_is_object(root)) {
        error = xasprintf("%s: not a JSON object", path);
        goto out;
    }
    if ((error = get_string(path, "kubeconfig", root, "current-context",
                            &ctx_name))) {
        goto out;
    }
    if (!ctx_name) {
        error = xasprintf("%s: no current-context", path);
        goto out;
    }
    if ((error = find_named(path, root, "contexts", "context", ctx_name,
                            &context))
        || (error = get_string(path, "context", context, "cluster",
                               &cluster_name))
        || (error = get_string(path, "context", context, "user",
                               &user_name))) {
        goto out;
    }
    if (!cluster_name) {
        error = xasprintf("%s: context \"%s\" names no cluster", path,
                          ctx_name);
        goto out;
    }
    if ((error = find_named(path, root, "clusters", "cluster", cluster_name,
                            &cluster))
        || (error = get_string(path, "cluster", cluster, "server",
                               &server))) {
        goto out;
    }
    if (!server) {
        error = xasprintf("%s: cluster \"%s\" has no server", path,
                          cluster_name);
        goto out;
    }
    if (strncmp(server, "https://", 8)) {
        error = xasprintf("%s: cluster.server \"%s\" is not an https:// "
                          "URL", path, server);
        goto out;
    }
    kc->server = xstrdup(server);
    size_t n = strlen(kc->server);
    while (n > 8 && kc->server[n - 1] == '/') {
        kc->server[--n] = '\0';
    }
    if ((error = get_pem(path, "cluster", cluster, "certificate-authority",
                         &kc->ca))) {
        goto out;
    }
    const json_t *insecure = json_object_get(cluster,
                                             "insecure-skip-tls-verify");
    if (insecure && !json_is_boolean(insecure)) {
        error = xasprintf("%s: cluster.insecure-skip-tls-verify is not a "
                          "boolean", path);
        goto out;
    }
    if (json_is_true(insecure)) {
        if (!allow_insecure) {
            error = xasprintf("%s: cluster \"%s\" sets "
                              "insecure-skip-tls-verify; refused (the agent "
                              "option --k8s-insecure allows it)", path,
                              cluster_name);
            goto out;
        }
        kc->insecure = true;
    }

    if (user_name) {
        if ((error = find_named(path, root, "users", "user", user_name,
                                &user))) {
            goto out;
        }
        if (json_object_get(user, "exec")
            || json_object_get(user, "auth-provider")) {
            error = xasprintf("%s: user \"%s\": exec and auth-provider "
                              "credentials are not supported", path,
                              user_name);
            goto out;
        }
        if ((error = get_string(path, "user", user, "token", &s))) {
            goto out;
        }
        kc->token = nullable_xstrdup(s);
        if ((error = get_string(path, "user", user, "tokenFile", &s))) {
            goto out;
        }
        if (s && !kc->token) {
            kc->token_file = resolve_path(path, s);
        }
        if ((error = get_pem(path, "user", user, "client-certificate",
                             &kc->client_cert))
            || (error = get_pem(path, "user", user, "client-key",
                                &kc->client_key))) {
            goto out;
        }
        bool has_cert = kc->client_cert.file || kc->client_cert.data;
        bool has_key = kc->client_key.file || kc->client_key.data;
        if (has_cert != has_key) {
            error = xasprintf("%s: user \"%s\" has a client %s without a "
                              "client %s", path, user_name,
                              has_cert ? "certificate" : "key",
                              has_cert ? "key" : "certificate");
            goto out;
        }
    }

out:
    json_decref(root);
    if (error) {
        kubeconfig_destroy(kc);
        return error;
    }
    *kcp = kc;
    return NULL;
}

static char *
read_file(const char *path, char **textp, size_t *lenp)
{
    FILE *f = fopen(path, "r");
    *textp = NULL;
    *lenp = 0;
    if (!f) {
        return xasprintf("%s: %s", path, ovs_strerror(errno));
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        ds_put_buffer(&s, buf, n);
    }
    int error = ferror(f) ? errno : 0;
    fclose(f);
    if (error) {
        ds_destroy(&s);
        return xasprintf("%s: %s", path, ovs_strerror(error));
    }
    *lenp = s.length;
    *textp = ds_steal_cstr(&s);
    return NULL;
}

char *
kubeconfig_load(const char *path, bool allow_insecure,
                struct kubeconfig **kcp)
{
    char *text;
    size_t len;
    char *error = read_file(path, &text, &len);
    if (error) {
        *kcp = NULL;
        return error;
    }
    error = kubeconfig_parse(text, len, path, allow_insecure, kcp);
    free(text);
    return error;
}

char *
kubeconfig_in_cluster(const char *sa_dir, const char *server,
                      struct kubeconfig **kcp)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    *kcp = NULL;
    if (!server && (!host || !*host || !port || !*port)) {
        return xstrdup("in-cluster configuration: KUBERNETES_SERVICE_HOST "
                       "or KUBERNETES_SERVICE_PORT is not set (not in a "
                       "pod?)");
    }
    if (!sa_dir) {
        sa_dir = SA_DIR;
    }

    struct kubeconfig *kc = xzalloc(sizeof *kc);
    kc->server = (server ? xstrdup(server)
                  : xasprintf(strchr(host, ':') ? "https://[%s]:%s"
                              : "https://%s:%s", host, port));
    kc->ca.file = xasprintf("%s/ca.crt", sa_dir);
    kc->token_file = xasprintf("%s/token", sa_dir);
    const char *token;
    char *error = kubeconfig_token(kc, &token);
    if (!error && access(kc->ca.file, R_OK)) {
        error = xasprintf("%s: %s", kc->ca.file, ovs_strerror(errno));
    }
    if (error) {
        kubeconfig_destroy(kc);
        return error;
    }
    *kcp = kc;
    return NULL;
}

char *
kubeconfig_token(struct kubeconfig *kc, const char **tokenp)
{
    if (kc->token_file) {
        struct stat st;
        if (stat(kc->token_file, &st)) {
            *tokenp = kc->token;
            return xasprintf("%s: %s", kc->token_file, ovs_strerror(errno));
        }
        if (!kc->token
            || st.st_mtim.tv_sec != kc->token_mtime.tv_sec
            || st.st_mtim.tv_nsec != kc->token_mtime.tv_nsec) {
            char *text;
            size_t len;
            char *error = read_file(kc->token_file, &text, &len);
            if (error) {
                *tokenp = kc->token;
                return error;
            }
            while (len && isspace((unsigned char) text[len - 1])) {
                text[--len] = '\0';
            }
            if (!len || strlen(text) != len) {
                free(text);
                *tokenp = kc->token;
                return xasprintf("%s: empty or not a token", kc->token_file);
            }
            free(kc->token);
            kc->token = text;
            kc->token_mtime = st.st_mtim;
        }
    }
    *tokenp = kc->token;
    return NULL;
}
