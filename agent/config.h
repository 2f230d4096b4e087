/*
 * The agent's configuration: a JSON file (--config) with command-line
 * options taking precedence.  Every field has a default; validation names
 * the field that is wrong.
 */
#ifndef TENDRIL_AGENT_CONFIG_H
#define TENDRIL_AGENT_CONFIG_H 1

#include <stdbool.h>

#include "lib/cidr.h"
#include "openvswitch/compiler.h"

enum encap_mode { ENCAP_MODE_ENCAP, ENCAP_MODE_NOENCAP };

struct agent_config {
    char *node_name;             /* --node-name, NODE_NAME. */
    char *kubeconfig;            /* --kubeconfig, or NULL. */
    bool in_cluster;             /* --in-cluster: a pod's ServiceAccount. */
    char *metrics_address;       /* --metrics-address: IPv4:PORT, or
                                  * NULL for no metrics endpoint. */
    char *api_server;            /* --api-server: with --in-cluster, the
                                  * API server's URL instead of
                                  * KUBERNETES_SERVICE_HOST/PORT (a
                                  * clusterIP, which only the agent itself
                                  * makes reachable). */
    bool k8s_insecure;           /* --k8s-insecure: allow a kubeconfig's
                                  * insecure-skip-tls-verify. */
    char *ovsdb;                 /* OVSDB remote. */
    char *ovs_rundir;            /* Where br-int.mgmt is. */
    char *bridge;
    char *datapath_type;         /* "system" or "netdev". */
    char *tunnel_type;           /* "geneve" or "vxlan". */
    enum encap_mode encap_mode;
    int mtu;                     /* Pod and gateway MTU; 0: derived. */
    char *cni_socket;
    char *state_dir;
    bool has_pod_cidr;
    struct cidr pod_cidr;        /* --pod-cidr: no API server needed;
                                  * overrides the Node's spec.podCIDR. */
    int cni_timeout_ms;          /* How long an ADD may wait for flows. */
    bool has_service_cidr;
    struct cidr service_cidr;    /* --service-cidr: the node reaches
                                  * clusterIPs in it through br-int. */
    char *nodeport_addresses;    /* --nodeport-addresses: CIDRs, comma-
                                  * separated; NULL: every node address. */
    bool proxy_none;             /* --proxy=none: Services are left to
                                  * kube-proxy (or another proxy). */
};

void agent_config_init(struct agent_config *);
void agent_config_destroy(struct agent_config *);
void agent_config_clone(struct agent_config *, const struct agent_config *);
char *agent_config_load_file(struct agent_config *, const char *path)
    OVS_WARN_UNUSED_RESULT;
char *agent_config_set(struct agent_config *, const char *field,
                       const char *value) OVS_WARN_UNUSED_RESULT;
char *agent_config_validate(struct agent_config *) OVS_WARN_UNUSED_RESULT;
int agent_config_tunnel_overhead(const struct agent_config *);

#endif /* agent/config.h */
