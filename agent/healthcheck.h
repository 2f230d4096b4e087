/*
 * The health-check NodePorts of LoadBalancer Services with
 * externalTrafficPolicy Local, as kube-proxy serves them: an HTTP server
 * on every node address at spec.healthCheckNodePort that answers any GET
 * with 200 and the Service's local endpoint count while this node has one,
 * 503 otherwise, so that a load balancer sends traffic only to nodes with
 * endpoints.  libmicrohttpd, driven from the agent's poll loop (no
 * threads).
 */
#ifndef TENDRIL_AGENT_HEALTHCHECK_H
#define TENDRIL_AGENT_HEALTHCHECK_H 1

#include <stddef.h>
#include <stdint.h>

struct healthchecks;

struct healthchecks *healthchecks_create(void);
void healthchecks_destroy(struct healthchecks *);

/* Serves Service 'key' ("NAMESPACE/NAME") with 'local_endpoints' on 'port'
 * (starting a server the first time); 'port' 0 stops serving 'key'. */
void healthchecks_set(struct healthchecks *, const char *key, uint16_t port,
                      size_t local_endpoints);

void healthchecks_run(struct healthchecks *);
void healthchecks_wait(struct healthchecks *);

/* The answer for a Service with 'local_endpoints': the HTTP status and the
 * JSON body (malloc'd).  Pure. */
int healthcheck_answer(const char *key, size_t local_endpoints,
                       char **body);

#endif /* agent/healthcheck.h */
