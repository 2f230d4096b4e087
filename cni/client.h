/*
 * The CNI binary's client of tendril-agent.
 *
 * The protocol is described, and its names defined, in lib/agent-protocol.h.
 */
#ifndef TENDRIL_CNI_CLIENT_H
#define TENDRIL_CNI_CLIENT_H 1

#include <jansson.h>
#include <stdbool.h>

#include "openvswitch/compiler.h"
#include "openvswitch/types.h"

#include "cni/result.h"
#include "cni/skel.h"

/* The largest reply accepted from the agent. */
#define CNI_CLIENT_MAX_REPLY (1024 * 1024)

enum cni_client_status {
    CNI_CLIENT_OK,              /* The agent answered with a result. */
    CNI_CLIENT_AGENT_ERROR,     /* The agent answered with an error. */
    CNI_CLIENT_UNAVAILABLE,     /* No agent: socket missing, refused... */
    CNI_CLIENT_TIMEOUT,         /* No complete answer in time. */
    CNI_CLIENT_IO_ERROR,        /* The connection broke after connecting. */
    CNI_CLIENT_BAD_REPLY,       /* The answer is not what the protocol says. */
};

const char *cni_client_status_to_string(enum cni_client_status);

/* The outcome of one request.  Owns what it points to. */
struct cni_client_reply {
    enum cni_client_status status;
    json_t *result;             /* CNI_CLIENT_OK: the "result" object. */
    struct cni_error *error;    /* CNI_CLIENT_AGENT_ERROR: the agent's. */
    char *problem;              /* Other statuses: what went wrong. */
};

/* Connects to 'socket_path', sends 'request' and waits for the reply, all
 * within 'timeout_ms'.  Always fills in '*reply', which the caller frees
 * with cni_client_reply_uninit(). */
void cni_client_transact(const char *socket_path, int timeout_ms,
                         const json_t *request, struct cni_client_reply *);

/* The same exchange on an already connected stream socket 'fd', which is
 * left open. */
void cni_client_exchange(int fd, int timeout_ms, const json_t *request,
                         struct cni_client_reply *);

void cni_client_reply_uninit(struct cni_client_reply *);

/* Turns a failed exchange into the CNI error to print for 'command': NULL
 * for CNI_CLIENT_OK, a copy of the agent's error for
 * CNI_CLIENT_AGENT_ERROR.  For STATUS every other failure is code 50
 * ("plugin not available"); for the other commands it is one of
 * CNI_ERR_AGENT_* with a message that names the socket. */
struct cni_error *cni_client_reply_to_error(const struct cni_client_reply *,
                                            enum cni_command,
                                            const char *socket_path)
    OVS_WARN_UNUSED_RESULT;

/* Request builders; each returns a new reference. */
json_t *cni_request_add(const struct cni_env *, const char *host_ifname,
                        const struct eth_addr *mac);
json_t *cni_request_del(const struct cni_env *);
json_t *cni_request_check(const struct cni_env *);
json_t *cni_request_status(void);
json_t *cni_request_gc(const struct cni_config *);

/* What an ADD or CHECK result says about the pod's link besides
 * addresses and routes. */
struct cni_agent_link {
    unsigned int mtu;           /* 0 if the agent gave none. */
    bool tx_checksum_off;       /* Turn tx checksum offload off in the pod. */
};

/* Appends the "ips" (at least one) and "routes" of the agent's ADD or CHECK
 * 'result' to 'out', the ips on interface index 'interface' (-1 for none),
 * and fills in '*link'.  On error, 'out' is unchanged. */
char *cni_agent_result_parse(const json_t *result, int interface,
                             struct cni_result *out,
                             struct cni_agent_link *link)
    OVS_WARN_UNUSED_RESULT;

/* Checks the agent's STATUS 'result': NULL if {"ready": true}, otherwise a
 * code 50 error. */
struct cni_error *cni_agent_status_to_error(const json_t *result)
    OVS_WARN_UNUSED_RESULT;

#endif /* cni/client.h */
