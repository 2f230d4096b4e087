/*
 * The CNI server: the agent's end of the unix socket the CNI binary talks
 * to.  Each connection carries one request, a JSON object on one line, and
 * gets one reply, {"result": {...}} or {"error": {"code", "msg",
 * "details"}}.  A handler may answer at once or later (an ADD answers when
 * the pod's flows are installed); a connection that says nothing in time,
 * or a request not answered in time, is closed.
 */
#ifndef TENDRIL_AGENT_CNI_SERVER_H
#define TENDRIL_AGENT_CNI_SERVER_H 1

#include <jansson.h>

#include "openvswitch/compiler.h"

struct ds;

struct cni_server;
struct cni_request;

/* Called for each request.  The handler keeps 'req' and answers it with
 * cni_request_reply() or cni_request_error(), now or later. */
typedef void cni_handler_func(struct cni_request *req, const json_t *request,
                              void *aux);

char *cni_server_create(const char *path, cni_handler_func *, void *aux,
                        struct cni_server **) OVS_WARN_UNUSED_RESULT;
void cni_server_destroy(struct cni_server *);
void cni_server_run(struct cni_server *);
void cni_server_wait(struct cni_server *);

void cni_request_reply(struct cni_request *, json_t *result);
void cni_request_error(struct cni_request *, int code, const char *msg,
                       const char *details);
long long int cni_request_deadline(const struct cni_request *);

/* Prometheus families (lib/metrics.h): request latency and outcomes by
 * command. */
void cni_server_format_metrics(const struct cni_server *, struct ds *);

#endif /* agent/cni-server.h */
