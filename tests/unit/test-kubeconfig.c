#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/kubeconfig.h"
#include "util.h"

/* "-----BEGIN CERTIFICATE-----\nabc\n" and "key-bytes" in base64. */
#define CA_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmFiYwo="
#define CA_TEXT "-----BEGIN CERTIFICATE-----\nabc\n"
#define KEY_B64 "a2V5LWJ5dGVz"

/* A kubeconfig with two contexts; 'cluster' and 'user' are the JSON of
 * the current context's cluster and user. */
static char *
make_config(const char *cluster, const char *user)
{
    return xasprintf(
        "{\"apiVersion\": \"v1\", \"kind\": \"Config\",\n"
        " \"current-context\": \"main\",\n"
        " \"clusters\": [{\"name\": \"other\", \"cluster\": "
        "{\"server\": \"https://10.0.0.1\"}},\n"
        "              {\"name\": \"c\", \"cluster\": %s}],\n"
        " \"users\": [{\"name\": \"u\", \"user\": %s}],\n"
        " \"contexts\": [{\"name\": \"other\", \"context\": "
        "{\"cluster\": \"other\", \"user\": \"u\"}},\n"
        "              {\"name\": \"main\", \"context\": "
        "{\"cluster\": \"c\", \"user\": \"u\"}}]}\n",
        cluster, user);
}

static char *
parse(const char *cluster, const char *user, bool insecure,
      struct kubeconfig **kcp)
{
    char *text = make_config(cluster, user);
    char *error = kubeconfig_parse(text, strlen(text), "/etc/kc/config",
                                   insecure, kcp);
    free(text);
    return error;
}

static struct kubeconfig *
parse_ok(const char *cluster, const char *user)
{
    struct kubeconfig *kc;
    char *error = parse(cluster, user, false, &kc);
    if (error) {
        fail_msg("%s", error);
    }
    return kc;
}

/* Asserts that parsing fails with a message containing 'what'. */
static void
parse_fails(const char *cluster, const char *user, const char *what)
{
    struct kubeconfig *kc;
    char *error = parse(cluster, user, false, &kc);
    if (!error) {
        fail_msg("expected an error containing \"%s\"", what);
    }
    if (!strstr(error, what)) {
        fail_msg("error \"%s\" lacks \"%s\"", error, what);
    }
    assert_null(kc);
    free(error);
}

static void
test_token_and_ca_file(void **state OVS_UNUSED)
{
    struct kubeconfig *kc = parse_ok(
        "{\"server\": \"https://172.30.0.2:6443/\", "
        "\"certificate-authority\": \"pki/ca.crt\"}",
        "{\"token\": \"abc.def\"}");
    assert_string_equal(kc->server, "https://172.30.0.2:6443");
    assert_string_equal(kc->ca.file, "/etc/kc/pki/ca.crt");
    assert_null(kc->ca.data);
    assert_false(kc->insecure);
    const char *token;
    assert_null(kubeconfig_token(kc, &token));
    assert_string_equal(token, "abc.def");
    assert_null(kc->client_cert.file);
    assert_null(kc->client_cert.data);
    kubeconfig_destroy(kc);
}

static void
test_data_fields(void **state OVS_UNUSED)
{
    struct kubeconfig *kc = parse_ok(
        "{\"server\": \"https://k\", "
        "\"certificate-authority-data\": \"" CA_B64 "\"}",
        "{\"client-certificate-data\": \"" CA_B64 "\", "
        "\"client-key-data\": \"" KEY_B64 "\"}");
    assert_null(kc->ca.file);
    assert_int_equal(kc->ca.data_len, strlen(CA_TEXT));
    assert_memory_equal(kc->ca.data, CA_TEXT, strlen(CA_TEXT));
    assert_int_equal(kc->client_key.data_len, 9);
    assert_memory_equal(kc->client_key.data, "key-bytes", 9);
    assert_int_equal(kc->client_cert.data_len, strlen(CA_TEXT));
    const char *token;
    assert_null(kubeconfig_token(kc, &token));
    assert_null(token);
    kubeconfig_destroy(kc);

    kc = parse_ok("{\"server\": \"https://k\"}",
                  "{\"client-certificate\": \"/a/c.crt\", "
                  "\"client-key\": \"k.key\"}");
    assert_string_equal(kc->client_cert.file, "/a/c.crt");
    assert_string_equal(kc->client_key.file, "/etc/kc/k.key");
    kubeconfig_destroy(kc);
}

static void
test_missing_and_wrong(void **state OVS_UNUSED)
{
    parse_fails("{\"certificate-authority\": \"ca\"}", "{}",
                "has no server");
    parse_fails("{\"server\": \"http://k\"}", "{}", "not an https:// URL");
    parse_fails("{\"server\": 5}", "{}", "cluster.server is not a string");
    parse_fails("{\"server\": \"https://k\", "
                "\"certificate-authority-data\": \"**\"}", "{}",
                "certificate-authority-data is not base64");
    parse_fails("{\"server\": \"https://k\"}", "{\"token\": 7}",
                "user.token is not a string");
    parse_fails("{\"server\": \"https://k\"}",
                "{\"client-certificate\": \"c\"}",
                "client certificate without a client key");
    parse_fails("{\"server\": \"https://k\"}",
                "{\"exec\": {\"command\": \"x\"}}", "not supported");
    parse_fails("{\"server\": \"https://k\", "
                "\"insecure-skip-tls-verify\": \"yes\"}", "{}",
                "insecure-skip-tls-verify is not a boolean");
    parse_fails("[]", "{}", "is missing or not an object");

    struct kubeconfig *kc;
    const char *no_ctx = "{\"clusters\": []}";
    char *error = kubeconfig_parse(no_ctx, strlen(no_ctx), "f", false, &kc);
    assert_non_null(strstr(error, "f: no current-context"));
    free(error);

    const char *bad_ctx = "{\"current-context\": \"x\", \"contexts\": []}";
    error = kubeconfig_parse(bad_ctx, strlen(bad_ctx), "f", false, &kc);
    assert_non_null(strstr(error, "no entry named \"x\" in \"contexts\""));
    free(error);

    const char *broken = "{\"current-context\": ";
    error = kubeconfig_parse(broken, strlen(broken), "f", false, &kc);
    assert_non_null(strstr(error, "f:1:"));
    assert_null(strstr(error, "YAML"));
    free(error);
}

static void
test_yaml_refused(void **state OVS_UNUSED)
{
    const char *yaml = "apiVersion: v1\nkind: Config\nclusters:\n- ...\n";
    struct kubeconfig *kc;
    char *error = kubeconfig_parse(yaml, strlen(yaml), "/root/.kube/config",
                                   false, &kc);
    assert_non_null(error);
    assert_non_null(strstr(error, "/root/.kube/config: not JSON"));
    assert_non_null(strstr(error,
                           "kubectl config view --flatten -o json"));
    assert_null(kc);
    free(error);
}

static void
test_insecure(void **state OVS_UNUSED)
{
    const char *cluster = "{\"server\": \"https://k\", "
                          "\"insecure-skip-tls-verify\": true}";
    parse_fails(cluster, "{}", "insecure-skip-tls-verify; refused");

    struct kubeconfig *kc;
    char *error = parse(cluster, "{}", true, &kc);
    assert_null(error);
    assert_true(kc->insecure);
    kubeconfig_destroy(kc);

    kc = parse_ok("{\"server\": \"https://k\", "
                  "\"insecure-skip-tls-verify\": false}", "{}");
    assert_false(kc->insecure);
    kubeconfig_destroy(kc);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_token_file_reread(void **state OVS_UNUSED)
{
    char dir[] = "/tmp/test-kubeconfig.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *config = xasprintf("%s/config", dir);
    char *token_path = xasprintf("%s/token", dir);
    write_file(token_path, "first\n");
    char *text = make_config("{\"server\": \"https://k\"}",
                             "{\"tokenFile\": \"token\"}");
    write_file(config, text);
    free(text);

    struct kubeconfig *kc;
    char *error = kubeconfig_load(config, false, &kc);
    if (error) {
        fail_msg("%s", error);
    }
    assert_string_equal(kc->token_file, token_path);
    const char *token;
    assert_null(kubeconfig_token(kc, &token));
    assert_string_equal(token, "first");

    /* A new token with a new mtime is read at the next request. */
    write_file(token_path, "second");
    struct timeval times[2] = { { 1000, 0 }, { 1000, 0 } };
    assert_int_equal(utimes(token_path, times), 0);
    assert_null(kubeconfig_token(kc, &token));
    assert_string_equal(token, "second");

    /* A vanished file is an error, and the last token stays. */
    unlink(token_path);
    error = kubeconfig_token(kc, &token);
    assert_non_null(error);
    free(error);
    assert_string_equal(token, "second");
    kubeconfig_destroy(kc);

    /* A missing kubeconfig names the file. */
    unlink(config);
    error = kubeconfig_load(config, false, &kc);
    assert_non_null(strstr(error, config));
    free(error);

    rmdir(dir);
    free(config);
    free(token_path);
}

static void
test_in_cluster(void **state OVS_UNUSED)
{
    char dir[] = "/tmp/test-kubeconfig.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *ca = xasprintf("%s/ca.crt", dir);
    char *token = xasprintf("%s/token", dir);

    struct kubeconfig *kc;
    unsetenv("KUBERNETES_SERVICE_HOST");
    char *error = kubeconfig_in_cluster(dir, NULL, &kc);
    assert_non_null(strstr(error, "KUBERNETES_SERVICE_HOST"));
    free(error);

    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    error = kubeconfig_in_cluster(dir, NULL, &kc);
    assert_non_null(strstr(error, "/token"));
    free(error);

    write_file(token, "sa-token\n");
    write_file(ca, CA_TEXT);
    error = kubeconfig_in_cluster(dir, NULL, &kc);
    if (error) {
        fail_msg("%s", error);
    }
    assert_string_equal(kc->server, "https://[fd00::1]:443");
    assert_string_equal(kc->ca.file, ca);
    const char *t;
    assert_null(kubeconfig_token(kc, &t));
    assert_string_equal(t, "sa-token");
    kubeconfig_destroy(kc);

    /* An explicit server wins over the environment, and needs none. */
    unsetenv("KUBERNETES_SERVICE_HOST");
    error = kubeconfig_in_cluster(dir, "https://172.30.0.2:6443", &kc);
    if (error) {
        fail_msg("%s", error);
    }
    assert_string_equal(kc->server, "https://172.30.0.2:6443");
    kubeconfig_destroy(kc);

    unlink(ca);
    unlink(token);
    rmdir(dir);
    free(ca);
    free(token);
}

static void
test_base64(void **state OVS_UNUSED)
{
    char *out;
    size_t len;
    assert_true(kubeconfig_base64_decode("aGk=", &out, &len));
    assert_int_equal(len, 2);
    assert_string_equal(out, "hi");
    free(out);
    assert_true(kubeconfig_base64_decode("aGVs\nbG8=", &out, &len));
    assert_string_equal(out, "hello");
    free(out);
    assert_false(kubeconfig_base64_decode("aG=k", &out, &len));
    assert_false(kubeconfig_base64_decode("a", &out, &len));
    assert_false(kubeconfig_base64_decode("a$==", &out, &len));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_and_ca_file),
        cmocka_unit_test(test_data_fields),
        cmocka_unit_test(test_missing_and_wrong),
        cmocka_unit_test(test_yaml_refused),
        cmocka_unit_test(test_insecure),
        cmocka_unit_test(test_token_file_reread),
        cmocka_unit_test(test_in_cluster),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
