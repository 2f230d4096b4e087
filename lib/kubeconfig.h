/*
 * Kubernetes API credentials: a kubeconfig file in JSON (kubectl reads and
 * writes JSON as well as YAML; YAML is refused with a hint to convert it
 * with `kubectl config view --flatten -o json`), or the in-cluster
 * configuration of a pod (KUBERNETES_SERVICE_HOST/PORT and the
 * ServiceAccount's token and CA under
 * /var/run/secrets/kubernetes.io/serviceaccount).
 *
 * From a kubeconfig, the current context's cluster gives the server and the
 * CA (certificate-authority, a path, or certificate-authority-data, base64
 * PEM), and its user gives the credentials: token, tokenFile,
 * client-certificate(-data) and client-key(-data).  Relative paths are
 * relative to the kubeconfig's directory, as kubectl has them.
 * insecure-skip-tls-verify is refused unless the caller allows it.  Other
 * fields (exec and auth-provider plugins, proxies) are not supported:
 * exec and auth-provider give an error, the rest is ignored.
 *
 * The "-data" fields are kept decoded in memory; the API client hands them
 * to libcurl as blobs, so they are never written to disk.
 */
#ifndef TENDRIL_KUBECONFIG_H
#define TENDRIL_KUBECONFIG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "openvswitch/compiler.h"

/* PEM data in memory or a file name; at most one of the two is set. */
struct kubeconfig_pem {
    char *file;
    char *data;
    size_t data_len;
};

struct kubeconfig {
    char *server;               /* "https://HOST:PORT", no trailing '/'. */
    struct kubeconfig_pem ca;   /* Neither: the system's CAs. */
    struct kubeconfig_pem client_cert;
    struct kubeconfig_pem client_key;
    bool insecure;              /* insecure-skip-tls-verify (allowed). */

    /* Bearer token: 'token' as given, or read from 'token_file' (then
     * re-read whenever the file's mtime changes). */
    char *token;
    char *token_file;
    struct timespec token_mtime;
};

/* Reads kubeconfig 'path'.  'allow_insecure' permits
 * insecure-skip-tls-verify: true.  On success stores a new kubeconfig in
 * '*kcp' (free with kubeconfig_destroy()) and returns NULL, else stores
 * NULL and returns an error message naming the file and the field. */
char *kubeconfig_load(const char *path, bool allow_insecure,
                      struct kubeconfig **kcp) OVS_WARN_UNUSED_RESULT;

/* As kubeconfig_load() for the 'len' bytes of 'text'; 'path' is used in
 * messages and to resolve relative paths. */
char *kubeconfig_parse(const char *text, size_t len, const char *path,
                       bool allow_insecure, struct kubeconfig **kcp)
    OVS_WARN_UNUSED_RESULT;

/* The in-cluster configuration: the server 'server' (a URL), or if it is
 * NULL from the environment variables KUBERNETES_SERVICE_HOST and
 * KUBERNETES_SERVICE_PORT; the token and CA from 'sa_dir' (NULL:
 * /var/run/secrets/kubernetes.io/serviceaccount). */
char *kubeconfig_in_cluster(const char *sa_dir, const char *server,
                            struct kubeconfig **kcp)
    OVS_WARN_UNUSED_RESULT;

void kubeconfig_destroy(struct kubeconfig *);

/* Sets '*tokenp' to the bearer token to send (NULL: none), first re-reading
 * the token file if its mtime changed.  Returns an error message if the
 * file cannot be read (the previous token, if any, stays in use). */
char *kubeconfig_token(struct kubeconfig *, const char **tokenp)
    OVS_WARN_UNUSED_RESULT;

/* Decodes base64 'in' (standard alphabet, '=' padding, whitespace
 * ignored) into a new buffer '*outp' of '*lenp' bytes (NUL-terminated for
 * convenience).  Returns false if 'in' is not base64. */
bool kubeconfig_base64_decode(const char *in, char **outp, size_t *lenp);

#endif /* lib/kubeconfig.h */
