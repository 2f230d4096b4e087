/*
 * The agent's Prometheus metrics: GET /metrics on --metrics-address
 * (IPv4:PORT), served from the poll loop with libmicrohttpd.  The figures
 * belong to the modules that keep them (ofctrl, the CNI server, the
 * Kubernetes client); agent_format_metrics() asks each, so a scrape costs
 * one pass over them and nothing is kept twice.
 */
#ifndef TENDRIL_AGENT_METRICS_H
#define TENDRIL_AGENT_METRICS_H 1

#include <stdint.h>

#include "openvswitch/compiler.h"

struct agent;
struct ds;

/* Parses "IPv4:PORT" (":PORT" is every address): NULL if it is one, else
 * why not (malloc'd).  'addr' gets NULL or the address (malloc'd). */
char *metrics_parse_address(const char *, char **addr, uint16_t *port);

struct metrics_server;
/* Serves 'agent''s metrics on 'address' ("IPv4:PORT" or ":PORT"), or
 * returns why it cannot (malloc'd). */
char *metrics_server_create(const char *address, const struct agent *,
                            struct metrics_server **)
    OVS_WARN_UNUSED_RESULT;
void metrics_server_destroy(struct metrics_server *);
void metrics_server_run(struct metrics_server *);
void metrics_server_wait(struct metrics_server *);

/* Every family, in the text exposition format. */
void agent_format_metrics(const struct agent *, struct ds *);

#endif /* agent/metrics.h */
