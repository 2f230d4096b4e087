/*
 * The CNI binary's front end: the CNI_* environment, the network
 * configuration on stdin, version negotiation and the VERSION answer.
 *
 * Like the reference plugins' skel (containernetworking/cni pkg/skel), the
 * environment is read through a table that says, per command, which
 * variables are required; every check returns a struct cni_error with the
 * spec's code, which the caller prints with cni_error_to_json().
 *
 * Choices where the spec leaves room, and where they come from:
 *   - A variable set to "" counts as missing (reference skel).
 *   - STATUS needs no variable but CNI_COMMAND (spec 1.1.0: CNI_PATH is
 *     optional); GC needs CNI_PATH (spec 1.1.0).  For STATUS, GC and
 *     VERSION the per-attachment variables are not read at all.
 *   - Bad CNI_ARGS are code 4 (invalid environment variable).  The
 *     reference plugins parse CNI_ARGS with types.LoadArgs, whose plain
 *     error skel reports as 999 (internal); 4 is the spec's code for a bad
 *     environment variable, which CNI_ARGS is.
 *   - CHECK needs cniVersion >= 0.4.0; STATUS and GC need >= 1.1.0;
 *     otherwise code 1, as the reference skel does ("config version does
 *     not allow CHECK").  An unsupported or missing cniVersion is code 1.
 *   - Configuration errors: not JSON, not an object, or a known field of
 *     the wrong JSON type is code 6 (decoding failure, as a Go unmarshal
 *     error is in skel); a field of the right type with a bad value, a
 *     missing name, or a bad prevResult is code 7.
 *   - prevResult is decoded for CHECK only, where it is required; other
 *     commands ignore it (DEL must not fail on it).
 *   - GC reads "cni.dev/valid-attachments" (libcni also sends the spec's
 *     early name "cni.dev/attachments", accepted when the former is
 *     absent).  null is an empty list; a missing list is code 7, so that a
 *     broken runtime cannot make the agent collect every pod.
 */
#ifndef TENDRIL_CNI_SKEL_H
#define TENDRIL_CNI_SKEL_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "openvswitch/compiler.h"

#include "cni/result.h"

struct ds;

enum cni_command {
    CNI_CMD_ADD,
    CNI_CMD_DEL,
    CNI_CMD_CHECK,
    CNI_CMD_STATUS,
    CNI_CMD_GC,
    CNI_CMD_VERSION,
};

const char *cni_command_name(enum cni_command);

/* The CNI_* environment.  Every string is owned, and NULL when the
 * variable was absent or empty or is not read for this command. */
struct cni_env {
    enum cni_command command;
    char *container_id;         /* ADD, CHECK, DEL. */
    char *netns;                /* ADD, CHECK; DEL when given. */
    char *ifname;               /* ADD, CHECK, DEL. */
    char *path;                 /* ADD, CHECK, DEL, GC; STATUS if given. */
    char *args;                 /* Raw CNI_ARGS (ADD, CHECK, DEL). */

    /* From CNI_ARGS.  A runtime outside Kubernetes passes none. */
    char *pod_namespace;        /* K8S_POD_NAMESPACE. */
    char *pod_name;             /* K8S_POD_NAME. */
    char *pod_uid;              /* K8S_POD_UID. */
    char *infra_container_id;   /* K8S_POD_INFRA_CONTAINER_ID. */
};

/* Returns the value of environment variable 'name', or NULL.  'aux' is the
 * caller's.  cni_getenv_process() reads the process's environment. */
typedef const char *cni_getenv_func(const char *name, void *aux);
const char *cni_getenv_process(const char *name, void *aux);

struct cni_error *cni_env_parse(cni_getenv_func *, void *aux,
                                struct cni_env *)
    OVS_WARN_UNUSED_RESULT;
void cni_env_uninit(struct cni_env *);

/* The spec's rules for names, for use elsewhere too (NULL = valid). */
char *cni_check_container_id(const char *) OVS_WARN_UNUSED_RESULT;
char *cni_check_ifname(const char *) OVS_WARN_UNUSED_RESULT;
char *cni_check_network_name(const char *) OVS_WARN_UNUSED_RESULT;

/* An attachment the runtime still knows (GC). */
struct cni_attachment {
    char *container_id;         /* Owned. */
    char *ifname;               /* Owned. */
};

#define CNI_DEFAULT_AGENT_SOCKET "/var/run/tendril/cni.sock"
#define CNI_DEFAULT_TIMEOUT_MS 30000
#define CNI_MAX_TIMEOUT_S 3600

/* The network configuration from stdin. */
struct cni_config {
    enum cni_version version;   /* The version to answer in. */
    char *name;                 /* Network name. */
    char *type;                 /* Plugin type; NULL if absent. */
    char *agent_socket;         /* "agentSocket". */
    int timeout_ms;             /* "timeoutSeconds", in milliseconds. */

    /* CHECK only: "prevResult". */
    bool has_prev_result;
    struct cni_result prev_result;

    /* GC only: "cni.dev/valid-attachments". */
    struct cni_attachment *valid_attachments;
    size_t n_valid_attachments;
};

struct cni_error *cni_config_parse(const char *text, size_t length,
                                   enum cni_command, struct cni_config *)
    OVS_WARN_UNUSED_RESULT;
void cni_config_uninit(struct cni_config *);

/* VERSION: 'input' is what stdin held (may be empty).  On success, stores
 * the answer, new reference, in '*reply'. */
struct cni_error *cni_version_reply(const char *input, size_t length,
                                    json_t **reply)
    OVS_WARN_UNUSED_RESULT;

/* Reads all of 'fd' (stdin) into 'out'.  I/O errors are code 5. */
#define CNI_MAX_INPUT (4 * 1024 * 1024)
struct cni_error *cni_read_input(int fd, struct ds *out)
    OVS_WARN_UNUSED_RESULT;

#endif /* cni/skel.h */
