/*
 * libmicrohttpd driven from the agent's poll loop (no threads): the
 * health-check NodePorts and the metrics endpoint share this.
 */
#ifndef TENDRIL_AGENT_HTTP_SERVER_H
#define TENDRIL_AGENT_HTTP_SERVER_H 1

#include <microhttpd.h>
#include <stdint.h>

/* Starts a server on 'port' of every address, or if 'addr' is nonnull on
 * that IPv4 address (dotted quad) only, answering with 'handler'.  Returns
 * NULL (after logging why, naming 'what') if it cannot listen. */
struct MHD_Daemon *http_server_start(const char *what, const char *addr,
                                     uint16_t port,
                                     MHD_AccessHandlerCallback handler,
                                     void *aux);
void http_server_stop(struct MHD_Daemon *);

void http_server_run(struct MHD_Daemon *);
void http_server_wait(struct MHD_Daemon *);

/* Queues a response with 'body' (taken, malloc'd) of 'content_type'. */
enum MHD_Result http_server_reply(struct MHD_Connection *, unsigned int status,
                                  const char *content_type, char *body);

#endif /* agent/http-server.h */
