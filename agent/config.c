#include "ovs-config.h"
#include "agent/config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "agent/metrics.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

#define DEFAULT_RUNDIR "/var/run/openvswitch"

void
agent_config_init(struct agent_config *c)
{
    memset(c, 0, sizeof *c);
    const char *node = getenv("NODE_NAME");
    c->node_name = node ? xstrdup(node) : NULL;
    c->ovsdb = xstrdup("unix:" DEFAULT_RUNDIR "/db.sock");
    c->bridge = xstrdup("br-int");
    c->datapath_type = xstrdup("system");
    c->tunnel_type = xstrdup("geneve");
    c->encap_mode = ENCAP_MODE_ENCAP;
    c->cni_socket = xstrdup("/var/run/tendril/cni.sock");
    c->state_dir = xstrdup("/var/lib/tendril");
    c->cni_timeout_ms = 10000;
}

void
agent_config_destroy(struct agent_config *c)
{
    free(c->node_name);
    free(c->kubeconfig);
    free(c->api_server);
    free(c->metrics_address);
    free(c->ovsdb);
    free(c->ovs_rundir);
    free(c->bridge);
    free(c->datapath_type);
    free(c->tunnel_type);
    free(c->nodeport_addresses);
    free(c->cni_socket);
    free(c->state_dir);
}

/* Initializes 'dst' as a deep copy of 'src'. */
void
agent_config_clone(struct agent_config *dst, const struct agent_config *src)
{
    *dst = *src;
    dst->node_name = nullable_xstrdup(src->node_name);
    dst->kubeconfig = nullable_xstrdup(src->kubeconfig);
    dst->api_server = nullable_xstrdup(src->api_server);
    dst->metrics_address = nullable_xstrdup(src->metrics_address);
    dst->ovsdb = nullable_xstrdup(src->ovsdb);
    dst->ovs_rundir = nullable_xstrdup(src->ovs_rundir);
    dst->bridge = nullable_xstrdup(src->bridge);
    dst->datapath_type = nullable_xstrdup(src->datapath_type);
    dst->tunnel_type = nullable_xstrdup(src->tunnel_type);
    dst->nodeport_addresses = nullable_xstrdup(src->nodeport_addresses);
    dst->cni_socket = nullable_xstrdup(src->cni_socket);
    dst->state_dir = nullable_xstrdup(src->state_dir);
}

static void
replace(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value);
}

/* Sets configuration 'field' (its name in the JSON file, which is also its
 * command-line option without the dashes) from the text 'value'. */
char *
agent_config_set(struct agent_config *c, const char *field, const char *value)
{
    static const struct {
        const char *name;
        size_t offset;
    } strings[] = {
        { "node-name", offsetof(struct agent_config, node_name) },
        { "kubeconfig", offsetof(struct agent_config, kubeconfig) },
        { "api-server", offsetof(struct agent_config, api_server) },
        { "metrics-address",
          offsetof(struct agent_config, metrics_address) },
        { "ovsdb", offsetof(struct agent_config, ovsdb) },
        { "ovs-rundir", offsetof(struct agent_config, ovs_rundir) },
        { "bridge", offsetof(struct agent_config, bridge) },
        { "datapath-type", offsetof(struct agent_config, datapath_type) },
        { "tunnel-type", offsetof(struct agent_config, tunnel_type) },
        { "cni-socket", offsetof(struct agent_config, cni_socket) },
        { "state-dir", offsetof(struct agent_config, state_dir) },
    };

    for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
        if (!strcmp(field, strings[i].name)) {
            if (!*value) {
                return xasprintf("%s: must not be empty", field);
            }
            replace((char **) ((char *) c + strings[i].offset), value);
            return NULL;
        }
    }
    if (!strcmp(field, "encap-mode")) {
        if (!strcmp(value, "encap")) {
            c->encap_mode = ENCAP_MODE_ENCAP;
        } else if (!strcasecmp(value, "noEncap")) {
            c->encap_mode = ENCAP_MODE_NOENCAP;
        } else {
            return xasprintf("encap-mode: \"%s\" is not encap or noEncap",
                             value);
        }
        return NULL;
    }
    if (!strcmp(field, "nodeport-addresses")) {
        /* Each a CIDR, checked here, so that nftables never sees bad
         * text. */
        char *copy = xstrdup(value), *save = NULL;
        struct ds norm = DS_EMPTY_INITIALIZER;
        for (char *tok = strtok_r(copy, ", ", &save); tok;
             tok = strtok_r(NULL, ", ", &save)) {
            struct cidr cidr;
            char *error = cidr_parse(tok, &cidr);
            if (!error && cidr.addr.family != AF_INET) {
                error = xstrdup("only IPv4 is supported");
            }
            if (error) {
                char *msg = xasprintf("nodeport-addresses: \"%s\": %s", tok,
                                      error);
                free(error);
                free(copy);
                ds_destroy(&norm);
                return msg;
            }
            char s[CIDR_STRLEN];
            ds_put_format(&norm, "%s%s", norm.length ? ", " : "",
                          cidr_format(&cidr, s));
        }
        free(copy);
        free(c->nodeport_addresses);
        c->nodeport_addresses = norm.length ? ds_steal_cstr(&norm) : NULL;
        ds_destroy(&norm);
        return NULL;
    }
    if (!strcmp(field, "proxy")) {
        if (!strcmp(value, "tendril")) {
            c->proxy_none = false;
        } else if (!strcmp(value, "none")) {
            c->proxy_none = true;
        } else {
            return xasprintf("proxy: \"%s\" is not tendril or none", value);
        }
        return NULL;
    }
    if (!strcmp(field, "mtu") || !strcmp(field, "cni-timeout-ms")) {
        int n;
        if (!str_to_int(value, 10, &n) || n < 0) {
            return xasprintf("%s: \"%s\" is not a non-negative integer",
                             field, value);
        }
        *(!strcmp(field, "mtu") ? &c->mtu : &c->cni_timeout_ms) = n;
        return NULL;
    }
    if (!strcmp(field, "in-cluster") || !strcmp(field, "k8s-insecure")) {
        bool *b = !strcmp(field, "in-cluster") ? &c->in_cluster
                                               : &c->k8s_insecure;
        if (!strcmp(value, "true")) {
            *b = true;
        } else if (!strcmp(value, "false")) {
            *b = false;
        } else {
            return xasprintf("%s: \"%s\" is not true or false", field,
                             value);
        }
        return NULL;
    }
    if (!strcmp(field, "pod-cidr") || !strcmp(field, "service-cidr")) {
        bool pod = !strcmp(field, "pod-cidr");
        struct cidr *cidr = pod ? &c->pod_cidr : &c->service_cidr;
        char *error = cidr_parse(value, cidr);
        if (error) {
            char *msg = xasprintf("%s: %s", field, error);
            free(error);
            return msg;
        }
        if (!pod && cidr->addr.family != AF_INET) {
            return xasprintf("%s: only IPv4 is supported", field);
        }
        *(pod ? &c->has_pod_cidr : &c->has_service_cidr) = true;
        return NULL;
    }
    return xasprintf("unknown configuration field \"%s\"", field);
}

char *
agent_config_load_file(struct agent_config *c, const char *path)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        return xasprintf("%s:%d: %s", path, jerr.line, jerr.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return xasprintf("%s: the configuration must be a JSON object", path);
    }

    const char *key;
    json_t *value;
    char *error = NULL;
    json_object_foreach (root, key, value) {
        char *text;
        if (json_is_string(value)) {
            text = xstrdup(json_string_value(value));
        } else if (json_is_boolean(value)) {
            text = xstrdup(json_is_true(value) ? "true" : "false");
        } else if (json_is_integer(value)) {
            text = xasprintf("%"JSON_INTEGER_FORMAT,
                             json_integer_value(value));
        } else {
            error = xasprintf("%s: field \"%s\" must be a string, an "
                              "integer or a boolean", path, key);
            break;
        }
        char *e = agent_config_set(c, key, text);
        free(text);
        if (e) {
            error = xasprintf("%s: %s", path, e);
            free(e);
            break;
        }
    }
    json_decref(root);
    return error;
}

int
agent_config_tunnel_overhead(const struct agent_config *c)
{
    /* Outer IPv4 (20) + UDP (8) + Geneve or VXLAN header (8) + inner
     * Ethernet (14). */
    return c->encap_mode == ENCAP_MODE_ENCAP ? 50 : 0;
}

char *
agent_config_validate(struct agent_config *c)
{
    if (!c->node_name || !*c->node_name) {
        return xstrdup("node-name: not set (use --node-name or NODE_NAME)");
    }
    if (strcmp(c->datapath_type, "system")
        && strcmp(c->datapath_type, "netdev")) {
        return xasprintf("datapath-type: \"%s\" is not system or netdev",
                         c->datapath_type);
    }
    if (strcmp(c->tunnel_type, "geneve") && strcmp(c->tunnel_type, "vxlan")) {
        return xasprintf("tunnel-type: \"%s\" is not geneve or vxlan",
                         c->tunnel_type);
    }
    if (strncmp(c->ovsdb, "unix:", 5) && strncmp(c->ovsdb, "tcp:", 4)) {
        return xasprintf("ovsdb: \"%s\" is not unix:PATH or tcp:IP:PORT",
                         c->ovsdb);
    }
    if (!c->mtu) {
        c->mtu = 1500 - agent_config_tunnel_overhead(c);
    } else if (c->mtu < 576 || c->mtu > 65000) {
        return xasprintf("mtu: %d is outside 576..65000", c->mtu);
    }
    if (c->cni_socket[0] != '/') {
        return xasprintf("cni-socket: \"%s\" is not an absolute path",
                         c->cni_socket);
    }
    if (c->state_dir[0] != '/') {
        return xasprintf("state-dir: \"%s\" is not an absolute path",
                         c->state_dir);
    }
    if (c->kubeconfig && c->in_cluster) {
        return xstrdup("kubeconfig: --kubeconfig and --in-cluster exclude "
                       "each other");
    }
    if (c->metrics_address) {
        char *addr;
        uint16_t port;
        char *error = metrics_parse_address(c->metrics_address, &addr,
                                            &port);
        free(addr);
        if (error) {
            char *e = xasprintf("metrics-address: %s", error);
            free(error);
            return e;
        }
    }
    if (c->api_server && !c->in_cluster) {
        return xstrdup("api-server: only applies with --in-cluster");
    }
    if (c->api_server && strncmp(c->api_server, "https://", 8)) {
        return xasprintf("api-server: \"%s\" is not an https:// URL",
                         c->api_server);
    }
    if (!c->has_pod_cidr && !c->kubeconfig && !c->in_cluster) {
        /* Without an API server there is no Node to read spec.podCIDR
         * from. */
        return xstrdup("pod-cidr: not set (use --pod-cidr CIDR, or "
                       "--kubeconfig or --in-cluster to read it from this "
                       "node's Node object)");
    }
    if (c->has_pod_cidr && cidr_size(&c->pod_cidr) < 4) {
        return xstrdup("pod-cidr: too small for a gateway and a pod");
    }
    if (!c->ovs_rundir) {
        /* By default br-int.mgmt is beside a unix: OVSDB socket. */
        if (!strncmp(c->ovsdb, "unix:", 5)) {
            const char *path = c->ovsdb + 5;
            const char *slash = strrchr(path, '/');
            c->ovs_rundir = (slash
                             ? xmemdup0(path, slash - path)
                             : xstrdup("."));
        } else {
            c->ovs_rundir = xstrdup(DEFAULT_RUNDIR);
        }
    }
    return NULL;
}
