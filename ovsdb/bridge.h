/*
 * br-int in OVSDB: the only code that reads or writes the Open_vSwitch
 * database.
 *
 * bridge_ctl keeps br-int configured as the agent wants it (fail-mode
 * secure, in-band control off, the datapath type, a stable datapath id,
 * OpenFlow 1.5, the pipeline's table names), with its gateway port
 * tendril-gw0 and, in encap mode, its tunnel port tendril-tun0, and keeps
 * the set of pod ports the agent asks for.  It re-applies all of that
 * whenever the database changes, so a restarted ovsdb-server or a port
 * deleted by hand comes back.
 *
 * The agent's round (see flows/cookie.h) lives in br-int's
 * external_ids:tendril-round: bridge_ctl reads the previous run's value
 * when it first sees the database and records the next one.
 */
#ifndef TENDRIL_OVSDB_BRIDGE_H
#define TENDRIL_OVSDB_BRIDGE_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/types.h"
#include "packets.h"

struct smap;

struct bridge_config {
    const char *bridge;          /* "br-int". */
    const char *datapath_type;   /* "system" or "netdev". */
    const char *tunnel_type;     /* "geneve", "vxlan", or NULL: noEncap. */
    const char *node_name;       /* Seeds the datapath id. */
    struct eth_addr gw_mac;
};

/* A pod port as the database has it. */
struct pod_port {
    const char *name;
    int64_t ofport;              /* 0: not yet assigned; -1: error. */
    const char *error;           /* Interface error, or NULL. */
    const struct smap *external_ids;
};

#define GW_PORT_NAME "tendril-gw0"
#define TUN_PORT_NAME "tendril-tun0"

struct bridge_ctl *bridge_ctl_create(const char *remote,
                                     const struct bridge_config *);
void bridge_ctl_destroy(struct bridge_ctl *);
void bridge_ctl_run(struct bridge_ctl *);
void bridge_ctl_wait(struct bridge_ctl *);

bool bridge_ctl_is_connected(const struct bridge_ctl *);
bool bridge_ctl_is_ready(const struct bridge_ctl *);
unsigned int bridge_ctl_seqno(const struct bridge_ctl *);
uint16_t bridge_ctl_round(const struct bridge_ctl *);
uint16_t bridge_ctl_prev_round(const struct bridge_ctl *);
ofp_port_t bridge_ctl_gw_ofport(const struct bridge_ctl *);
ofp_port_t bridge_ctl_tun_ofport(const struct bridge_ctl *);

void bridge_ctl_add_pod_port(struct bridge_ctl *, const char *name,
                             const struct smap *external_ids);
void bridge_ctl_del_pod_port(struct bridge_ctl *, const char *name);
bool bridge_ctl_get_pod_port(const struct bridge_ctl *, const char *name,
                             struct pod_port *);
void bridge_ctl_for_each_pod_port(const struct bridge_ctl *,
                                  void (*)(const struct pod_port *, void *),
                                  void *aux);
bool bridge_ctl_pods_adopted(const struct bridge_ctl *);
void bridge_ctl_clear_flow_restore_wait(struct bridge_ctl *);

#endif /* ovsdb/bridge.h */
