#include "ovs-config.h"
#include "ovsdb/bridge.h"

#include <stdlib.h>
#include <string.h>

#include "flows/cookie.h"
#include "flows/fields.h"
#include "flows/tables.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(bridge_ctl);

#define ROUND_KEY "tendril-round"
#define TYPE_KEY "tendril-type"

struct bridge_ctl {
    struct ovsdb_idl_loop loop;
    struct bridge_config cfg;    /* Strings owned. */
    char *dpid;

    uint16_t round;              /* 0 until the database was read. */
    uint16_t prev_round;

    /* Pod ports the agent wants: port name -> "struct smap *" of
     * external_ids. */
    struct shash pods;
    bool adopted;                /* Existing pod ports were taken in. */
    bool clear_restore_wait;
};

struct bridge_ctl *
bridge_ctl_create(const char *remote, const struct bridge_config *cfg)
{
    struct bridge_ctl *bc = xzalloc(sizeof *bc);
    struct ovsdb_idl *idl = ovsdb_idl_create(remote, &ovsrec_idl_class,
                                             true, true);

    /* Counters change every few seconds and are of no use here. */
    ovsdb_idl_omit(idl, &ovsrec_interface_col_statistics);
    ovsdb_idl_omit(idl, &ovsrec_port_col_statistics);
    ovsdb_idl_omit(idl, &ovsrec_bridge_col_status);
    bc->loop = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(idl);

    bc->cfg.bridge = xstrdup(cfg->bridge);
    bc->cfg.datapath_type = xstrdup(cfg->datapath_type);
    bc->cfg.tunnel_type = cfg->tunnel_type ? xstrdup(cfg->tunnel_type) : NULL;
    bc->cfg.node_name = xstrdup(cfg->node_name);
    bc->cfg.gw_mac = cfg->gw_mac;
    /* A datapath id that stays the same across restarts of this node. */
    bc->dpid = xasprintf("0000%012"PRIx64,
                         (uint64_t) hash_string(cfg->node_name, 0) << 16
                         | hash_string(cfg->node_name, 1) >> 16);
    shash_init(&bc->pods);
    return bc;
}

void
bridge_ctl_destroy(struct bridge_ctl *bc)
{
    if (bc) {
        ovsdb_idl_loop_destroy(&bc->loop);
        free(CONST_CAST(char *, bc->cfg.bridge));
        free(CONST_CAST(char *, bc->cfg.datapath_type));
        free(CONST_CAST(char *, bc->cfg.tunnel_type));
        free(CONST_CAST(char *, bc->cfg.node_name));
        free(bc->dpid);
        struct shash_node *node;
        SHASH_FOR_EACH (node, &bc->pods) {
            smap_destroy(node->data);
            free(node->data);
        }
        shash_destroy(&bc->pods);
        free(bc);
    }
}

static const struct ovsrec_bridge *
find_bridge(const struct bridge_ctl *bc)
{
    const struct ovsrec_bridge *br;
    OVSREC_BRIDGE_FOR_EACH (br, bc->loop.idl) {
        if (!strcmp(br->name, bc->cfg.bridge)) {
            return br;
        }
    }
    return NULL;
}

static const struct ovsrec_port *
find_port(const struct ovsrec_bridge *br, const char *name)
{
    for (size_t i = 0; br && i < br->n_ports; i++) {
        if (!strcmp(br->ports[i]->name, name)) {
            return br->ports[i];
        }
    }
    return NULL;
}

static const struct ovsrec_interface *
port_iface(const struct ovsrec_port *port)
{
    return port && port->n_interfaces == 1 ? port->interfaces[0] : NULL;
}

static const struct ovsrec_port *
add_port(struct ovsdb_idl_txn *txn, const struct ovsrec_bridge *br,
         const char *name, const char *type, const char *tendril_type)
{
    struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
    ovsrec_interface_set_name(iface, name);
    ovsrec_interface_set_type(iface, type);
    ovsrec_interface_update_external_ids_setkey(iface, TYPE_KEY,
                                                 tendril_type);

    struct ovsrec_port *port = ovsrec_port_insert(txn);
    ovsrec_port_set_name(port, name);
    ovsrec_port_set_interfaces(port, &iface, 1);
    ovsrec_port_update_external_ids_setkey(port, TYPE_KEY, tendril_type);
    ovsrec_bridge_update_ports_addvalue(br, port);
    return port;
}

static void
ensure_bridge_settings(struct bridge_ctl *bc, struct ovsdb_idl_txn *txn,
                       const struct ovsrec_bridge *br)
{
    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        ovsrec_bridge_set_fail_mode(br, "secure");
    }
    if (strcmp(br->datapath_type, bc->cfg.datapath_type)) {
        ovsrec_bridge_set_datapath_type(br, bc->cfg.datapath_type);
    }
    if (!smap_get_bool(&br->other_config, "disable-in-band", false)) {
        ovsrec_bridge_update_other_config_setkey(br, "disable-in-band",
                                                 "true");
    }
    const char *dpid = smap_get(&br->other_config, "datapath-id");
    if (!dpid || strcmp(dpid, bc->dpid)) {
        ovsrec_bridge_update_other_config_setkey(br, "datapath-id",
                                                 bc->dpid);
    }

    static const char *protocols[] = {
        "OpenFlow10", "OpenFlow13", "OpenFlow15"
    };
    bool protocols_ok = br->n_protocols == ARRAY_SIZE(protocols);
    for (size_t i = 0; protocols_ok && i < br->n_protocols; i++) {
        protocols_ok = !strcmp(br->protocols[i], protocols[i]);
    }
    if (!protocols_ok) {
        ovsrec_bridge_set_protocols(br, protocols, ARRAY_SIZE(protocols));
    }

    char round[8];
    snprintf(round, sizeof round, "%"PRIu16, bc->round);
    const char *old_round = smap_get(&br->external_ids, ROUND_KEY);
    if (!old_round || strcmp(old_round, round)) {
        ovsrec_bridge_update_external_ids_setkey(br, ROUND_KEY, round);
    }

    /* Table names, so that dump-flows shows them. */
    bool tables_ok = br->n_flow_tables == N_TABLES;
    for (size_t i = 0; tables_ok && i < br->n_flow_tables; i++) {
        const struct ovsrec_flow_table *t = br->value_flow_tables[i];
        int64_t id = br->key_flow_tables[i];
        tables_ok = (id >= 0 && id < N_TABLES && t->name
                     && !strcmp(t->name, table_name(id)));
    }
    if (!tables_ok) {
        int64_t keys[N_TABLES];
        struct ovsrec_flow_table *values[N_TABLES];
        for (int i = 0; i < N_TABLES; i++) {
            keys[i] = i;
            values[i] = ovsrec_flow_table_insert(txn);
            ovsrec_flow_table_set_name(values[i], table_name(i));
        }
        ovsrec_bridge_set_flow_tables(br, keys, values, N_TABLES);
    }
}

static void
ensure_gateway(struct bridge_ctl *bc, struct ovsdb_idl_txn *txn,
               const struct ovsrec_bridge *br)
{
    const struct ovsrec_port *port = find_port(br, GW_PORT_NAME);
    const struct ovsrec_interface *iface = port_iface(port);
    if (!port) {
        port = add_port(txn, br, GW_PORT_NAME, "internal", "gateway");
        iface = port->interfaces[0];
    } else if (!iface) {
        return;
    } else if (strcmp(iface->type, "internal")) {
        ovsrec_interface_set_type(iface, "internal");
    }

    char mac[ETH_ADDR_STRLEN + 1];
    snprintf(mac, sizeof mac, ETH_ADDR_FMT, ETH_ADDR_ARGS(bc->cfg.gw_mac));
    if (!iface->mac || strcmp(iface->mac, mac)) {
        ovsrec_interface_set_mac(iface, mac);
    }
}

static void
ensure_tunnel(struct bridge_ctl *bc, struct ovsdb_idl_txn *txn,
              const struct ovsrec_bridge *br)
{
    const struct ovsrec_port *port = find_port(br, TUN_PORT_NAME);
    if (!bc->cfg.tunnel_type) {
        if (port) {
            ovsrec_bridge_update_ports_delvalue(br, port);
        }
        return;
    }

    const struct ovsrec_interface *iface = port_iface(port);
    if (!port) {
        port = add_port(txn, br, TUN_PORT_NAME, bc->cfg.tunnel_type,
                        "tunnel");
        iface = port->interfaces[0];
    } else if (!iface) {
        return;
    }
    if (strcmp(iface->type, bc->cfg.tunnel_type)) {
        ovsrec_interface_set_type(iface, bc->cfg.tunnel_type);
    }
    if (strcmp(smap_get_def(&iface->options, "remote_ip", ""), "flow")
        || strcmp(smap_get_def(&iface->options, "key", ""), "flow")) {
        struct smap options = SMAP_INITIALIZER(&options);
        smap_add(&options, "remote_ip", "flow");
        smap_add(&options, "key", "flow");
        ovsrec_interface_set_options(iface, &options);
        smap_destroy(&options);
    }
}

static bool
is_pod_port(const struct ovsrec_port *port)
{
    const struct ovsrec_interface *iface = port_iface(port);
    return iface && !strcmp(smap_get_def(&iface->external_ids, TYPE_KEY, ""),
                            "pod");
}

/* Takes the pod ports an earlier run of the agent made into the wanted
 * set: OVSDB is their durable record.  The agent then decides which of
 * them still have a pod. */
static void
adopt_pod_ports(struct bridge_ctl *bc, const struct ovsrec_bridge *br)
{
    for (size_t i = 0; br && i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        if (is_pod_port(port) && !shash_find(&bc->pods, port->name)) {
            struct smap *ids = xmalloc(sizeof *ids);
            smap_clone(ids, &port_iface(port)->external_ids);
            shash_add(&bc->pods, port->name, ids);
        }
    }
    bc->adopted = true;
}

static void
ensure_pod_ports(struct bridge_ctl *bc, struct ovsdb_idl_txn *txn,
                 const struct ovsrec_bridge *br)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &bc->pods) {
        const struct smap *ids = node->data;
        const struct ovsrec_port *port = find_port(br, node->name);
        const struct ovsrec_interface *iface = port_iface(port);
        if (iface && strcmp(smap_get_def(&iface->external_ids,
                                         "attached-mac", ""),
                            smap_get_def(ids, "attached-mac", ""))) {
            /* A new device under the old name (a retried ADD): OVS must
             * open it afresh, so the port goes now and comes back once
             * the deletion is seen. */
            VLOG_INFO("re-creating pod port %s for a new device",
                      node->name);
            ovsrec_bridge_update_ports_delvalue(br, port);
            continue;
        }
        if (!port) {
            port = add_port(txn, br, node->name, "", "pod");
            iface = port_iface(port);
        }
        if (iface && !smap_equal(&iface->external_ids, ids)) {
            ovsrec_interface_set_external_ids(iface, ids);
        }
    }
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        if (is_pod_port(port) && !shash_find(&bc->pods, port->name)) {
            VLOG_INFO("removing pod port %s", port->name);
            ovsrec_bridge_update_ports_delvalue(br, port);
        }
    }
}

/* How long the userspace datapath's conntrack keeps a TCP connection both
 * sides have closed.  Its default (30 s, 45 s in TIME_WAIT) is shorter than
 * the 60 s the server that closed first keeps TIME_WAIT.  A client that
 * reuses its source port in between, through another Service to the same
 * endpoint, is then translated to the tuple the server still holds: its SYN
 * is answered with an ACK for the old connection, which the pipeline drops
 * as invalid, and the connection times out (measured: 7 of 12 such
 * connections 45 to 55 s after the first).  While the switch still has the
 * closed entry it gives the new connection another source port instead.
 * 120 s is what the kernel's conntrack keeps TIME_WAIT, so the kernel
 * datapath needs no policy. */
#define CT_TCP_CLOSED_S 120

static const char *ct_timeout_keys[] = { "tcp_time_wait", "tcp_close" };
static const int64_t ct_timeout_values[] = { CT_TCP_CLOSED_S,
                                             CT_TCP_CLOSED_S };
static const int64_t ct_zones[] = { CT_ZONE, CT_SNAT_ZONE };

static bool
ct_zone_ok(const struct ovsrec_datapath *dp, int64_t zone)
{
    for (size_t i = 0; i < dp->n_ct_zones; i++) {
        if (dp->key_ct_zones[i] != zone) {
            continue;
        }
        const struct ovsrec_ct_timeout_policy *tp
            = dp->value_ct_zones[i]->timeout_policy;
        if (!tp || tp->n_timeouts != ARRAY_SIZE(ct_timeout_keys)) {
            return false;
        }
        for (size_t k = 0; k < ARRAY_SIZE(ct_timeout_keys); k++) {
            bool found = false;
            for (size_t j = 0; j < tp->n_timeouts; j++) {
                found |= (!strcmp(tp->key_timeouts[j], ct_timeout_keys[k])
                          && tp->value_timeouts[j] == ct_timeout_values[k]);
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }
    return false;
}

/* On the userspace datapath, the conntrack zones of the pipeline get the
 * timeout policy above (the Datapath, CT_Zone and CT_Timeout_Policy
 * tables, as `ovs-vsctl add-zone-tp` makes them); other zones are left as
 * they are. */
static void
ensure_ct_timeouts(struct bridge_ctl *bc, struct ovsdb_idl_txn *txn,
                   const struct ovsrec_open_vswitch *ovs)
{
    if (strcmp(bc->cfg.datapath_type, "netdev")) {
        return;
    }
    const struct ovsrec_datapath *dp = NULL;
    for (size_t i = 0; i < ovs->n_datapaths; i++) {
        if (!strcmp(ovs->key_datapaths[i], bc->cfg.datapath_type)) {
            dp = ovs->value_datapaths[i];
        }
    }
    bool ok = dp != NULL;
    for (size_t i = 0; ok && i < ARRAY_SIZE(ct_zones); i++) {
        ok = ct_zone_ok(dp, ct_zones[i]);
    }
    if (ok) {
        return;
    }

    VLOG_INFO("conntrack zones %d and %d: closed TCP connections kept %d s",
              CT_ZONE, CT_SNAT_ZONE, CT_TCP_CLOSED_S);
    struct ovsrec_ct_timeout_policy *tp
        = ovsrec_ct_timeout_policy_insert(txn);
    ovsrec_ct_timeout_policy_set_timeouts(tp, ct_timeout_keys,
                                          ct_timeout_values,
                                          ARRAY_SIZE(ct_timeout_keys));
    if (!dp) {
        struct ovsrec_datapath *ndp = ovsrec_datapath_insert(txn);
        ovsrec_open_vswitch_update_datapaths_setkey(
            ovs, bc->cfg.datapath_type, ndp);
        dp = ndp;
    }
    size_t n = 0, max = dp->n_ct_zones + ARRAY_SIZE(ct_zones);
    int64_t *keys = xmalloc(max * sizeof *keys);
    struct ovsrec_ct_zone **values = xmalloc(max * sizeof *values);
    for (size_t i = 0; i < dp->n_ct_zones; i++) {
        if (dp->key_ct_zones[i] != CT_ZONE
            && dp->key_ct_zones[i] != CT_SNAT_ZONE) {
            keys[n] = dp->key_ct_zones[i];
            values[n++] = dp->value_ct_zones[i];
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(ct_zones); i++) {
        struct ovsrec_ct_zone *z = ovsrec_ct_zone_insert(txn);
        ovsrec_ct_zone_set_timeout_policy(z, tp);
        keys[n] = ct_zones[i];
        values[n++] = z;
    }
    ovsrec_datapath_set_ct_zones(dp, keys, values, n);
    free(keys);
    free(values);
}

void
bridge_ctl_run(struct bridge_ctl *bc)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_loop_run(&bc->loop);
    if (!txn || !ovsdb_idl_has_ever_connected(bc->loop.idl)) {
        return;
    }
    ovsdb_idl_txn_add_comment(txn, "tendril-agent");

    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(bc->loop.idl);
    if (!ovs) {
        ovs = ovsrec_open_vswitch_insert(txn);
    }

    const struct ovsrec_bridge *br = find_bridge(bc);
    if (!bc->round) {
        uint16_t prev = 0;
        if (br) {
            unsigned int value;
            const char *s = smap_get(&br->external_ids, ROUND_KEY);
            if (s && str_to_uint(s, 10, &value) && value <= UINT16_MAX) {
                prev = value;
            }
        }
        bc->prev_round = prev;
        bc->round = cookie_next_round(prev);
        VLOG_INFO("%s: round %"PRIu16" (previous %"PRIu16")",
                  bc->cfg.bridge, bc->round, prev);
    }
    if (!br) {
        VLOG_INFO("creating bridge %s", bc->cfg.bridge);
        struct ovsrec_bridge *nbr = ovsrec_bridge_insert(txn);
        ovsrec_bridge_set_name(nbr, bc->cfg.bridge);
        ovsrec_open_vswitch_update_bridges_addvalue(ovs, nbr);

        /* The bridge's own internal port, as ovs-vsctl add-br makes. */
        struct ovsrec_interface *iface = ovsrec_interface_insert(txn);
        ovsrec_interface_set_name(iface, bc->cfg.bridge);
        ovsrec_interface_set_type(iface, "internal");
        struct ovsrec_port *port = ovsrec_port_insert(txn);
        ovsrec_port_set_name(port, bc->cfg.bridge);
        ovsrec_port_set_interfaces(port, &iface, 1);
        ovsrec_bridge_set_ports(nbr, &port, 1);
        br = nbr;
    }
    if (!bc->adopted) {
        adopt_pod_ports(bc, br);
    }

    ensure_bridge_settings(bc, txn, br);
    ensure_gateway(bc, txn, br);
    ensure_tunnel(bc, txn, br);
    ensure_pod_ports(bc, txn, br);
    ensure_ct_timeouts(bc, txn, ovs);

    if (bc->clear_restore_wait
        && smap_get(&ovs->other_config, "flow-restore-wait")) {
        VLOG_INFO("clearing flow-restore-wait");
        ovsrec_open_vswitch_update_other_config_delkey(ovs,
                                                       "flow-restore-wait");
    }
}

void
bridge_ctl_wait(struct bridge_ctl *bc)
{
    ovsdb_idl_loop_commit_and_wait(&bc->loop);
}

bool
bridge_ctl_is_connected(const struct bridge_ctl *bc)
{
    return ovsdb_idl_is_connected(bc->loop.idl);
}

static int64_t
port_ofport(const struct bridge_ctl *bc, const char *name)
{
    const struct ovsrec_interface *iface
        = port_iface(find_port(find_bridge(bc), name));
    return iface && iface->n_ofport ? iface->ofport[0] : 0;
}

ofp_port_t
bridge_ctl_gw_ofport(const struct bridge_ctl *bc)
{
    int64_t ofport = port_ofport(bc, GW_PORT_NAME);
    return u16_to_ofp(ofport > 0 ? ofport : 0);
}

ofp_port_t
bridge_ctl_tun_ofport(const struct bridge_ctl *bc)
{
    int64_t ofport = port_ofport(bc, TUN_PORT_NAME);
    return u16_to_ofp(ofport > 0 ? ofport : 0);
}

/* The bridge is there with its gateway (and tunnel) port numbered, and the
 * round is known: the flow controller can start. */
bool
bridge_ctl_is_ready(const struct bridge_ctl *bc)
{
    return (bc->round && find_bridge(bc)
            && ofp_to_u16(bridge_ctl_gw_ofport(bc))
            && (!bc->cfg.tunnel_type
                || ofp_to_u16(bridge_ctl_tun_ofport(bc))));
}

unsigned int
bridge_ctl_seqno(const struct bridge_ctl *bc)
{
    return ovsdb_idl_get_seqno(bc->loop.idl);
}

uint16_t
bridge_ctl_round(const struct bridge_ctl *bc)
{
    return bc->round;
}

uint16_t
bridge_ctl_prev_round(const struct bridge_ctl *bc)
{
    return bc->prev_round;
}

bool
bridge_ctl_pods_adopted(const struct bridge_ctl *bc)
{
    return bc->adopted;
}

void
bridge_ctl_add_pod_port(struct bridge_ctl *bc, const char *name,
                        const struct smap *external_ids)
{
    struct smap *ids = xmalloc(sizeof *ids);
    smap_clone(ids, external_ids);
    smap_replace(ids, TYPE_KEY, "pod");
    struct smap *old = shash_replace(&bc->pods, name, ids);
    if (old) {
        smap_destroy(old);
        free(old);
    }
    poll_immediate_wake();
}

void
bridge_ctl_del_pod_port(struct bridge_ctl *bc, const char *name)
{
    struct smap *old = shash_find_and_delete(&bc->pods, name);
    if (old) {
        smap_destroy(old);
        free(old);
        poll_immediate_wake();
    }
}

static void
fill_pod_port(const struct ovsrec_port *port, struct pod_port *pp)
{
    const struct ovsrec_interface *iface = port_iface(port);
    pp->name = port->name;
    pp->ofport = iface && iface->n_ofport ? iface->ofport[0] : 0;
    pp->error = iface ? iface->error : NULL;
    pp->external_ids = iface ? &iface->external_ids : NULL;
}

bool
bridge_ctl_get_pod_port(const struct bridge_ctl *bc, const char *name,
                        struct pod_port *pp)
{
    const struct ovsrec_port *port = find_port(find_bridge(bc), name);
    if (!port || !is_pod_port(port)) {
        return false;
    }
    fill_pod_port(port, pp);
    return true;
}

void
bridge_ctl_for_each_pod_port(const struct bridge_ctl *bc,
                             void (*cb)(const struct pod_port *, void *),
                             void *aux)
{
    const struct ovsrec_bridge *br = find_bridge(bc);
    for (size_t i = 0; br && i < br->n_ports; i++) {
        if (is_pod_port(br->ports[i])) {
            struct pod_port pp;
            fill_pod_port(br->ports[i], &pp);
            cb(&pp, aux);
        }
    }
}

void
bridge_ctl_clear_flow_restore_wait(struct bridge_ctl *bc)
{
    bc->clear_restore_wait = true;
    poll_immediate_wake();
}
