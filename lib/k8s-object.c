#include "ovs-config.h"
#include "lib/k8s-object.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json-util.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Kinds. */

static const char *const k8s_kind_names[K8S_N_KINDS] = {
    [K8S_NODE] = "Node",
    [K8S_NAMESPACE] = "Namespace",
    [K8S_POD] = "Pod",
    [K8S_SERVICE] = "Service",
    [K8S_ENDPOINT_SLICE] = "EndpointSlice",
    [K8S_NETWORK_POLICY] = "NetworkPolicy",
};

const char *
k8s_kind_to_string(enum k8s_kind kind)
{
    return (unsigned int) kind < K8S_N_KINDS ? k8s_kind_names[kind]
                                             : "<bad kind>";
}

bool
k8s_kind_from_string(const char *s, enum k8s_kind *kind)
{
    for (int i = 0; i < K8S_N_KINDS; i++) {
        if (!strcmp(s, k8s_kind_names[i])) {
            *kind = i;
            return true;
        }
    }
    return false;
}

bool
k8s_kind_is_namespaced(enum k8s_kind kind)
{
    return kind != K8S_NODE && kind != K8S_NAMESPACE;
}

const char *
k8s_protocol_to_string(enum k8s_protocol protocol)
{
    switch (protocol) {
    case K8S_PROTO_TCP:
        return "TCP";
    case K8S_PROTO_UDP:
        return "UDP";
    case K8S_PROTO_SCTP:
        return "SCTP";
    }
    return "<bad protocol>";
}

const char *
k8s_pod_phase_to_string(enum k8s_pod_phase phase)
{
    switch (phase) {
    case K8S_POD_PHASE_NONE:
        return "";
    case K8S_POD_PHASE_PENDING:
        return "Pending";
    case K8S_POD_PHASE_RUNNING:
        return "Running";
    case K8S_POD_PHASE_SUCCEEDED:
        return "Succeeded";
    case K8S_POD_PHASE_FAILED:
        return "Failed";
    case K8S_POD_PHASE_UNKNOWN:
        return "Unknown";
    }
    return "<bad phase>";
}

const char *
k8s_service_type_to_string(enum k8s_service_type type)
{
    switch (type) {
    case K8S_SERVICE_CLUSTER_IP:
        return "ClusterIP";
    case K8S_SERVICE_NODE_PORT:
        return "NodePort";
    case K8S_SERVICE_LOAD_BALANCER:
        return "LoadBalancer";
    case K8S_SERVICE_EXTERNAL_NAME:
        return "ExternalName";
    }
    return "<bad type>";
}

/* JSON access helpers.  Each takes the parent object, the parent's path
 * ("spec", "spec.ports[2]") for messages and the member's key, and returns
 * NULL or a malloc'd error naming the member.  Absent members and JSON null
 * are the same. */

/* Expands to the arguments for "%s%s%s" that print PATH.KEY, or just KEY
 * for a top-level member (PATH ""). */
#define KP_FIELD(PATH, KEY) (PATH), *(PATH) ? "." : "", (KEY)

static const json_t *
kp_get(const json_t *parent, const char *key)
{
    const json_t *j = parent ? json_object_get(parent, key) : NULL;
    return j && !json_is_null(j) ? j : NULL;
}

static char *
kp_type_error(const char *path, const char *key, const json_t *j,
              const char *expected)
{
    return xasprintf("%s%s%s is %s, expected %s", KP_FIELD(path, key),
                     json_type_name(j), expected);
}

static char *
kp_missing(const char *path, const char *key)
{
    return xasprintf("%s%s%s is missing", KP_FIELD(path, key));
}

static char *
kp_member(const json_t *parent, const char *path, const char *key,
          bool required, bool (*is_type)(const json_t *),
          const char *expected, const json_t **out)
{
    const json_t *j = kp_get(parent, key);
    *out = NULL;
    if (!j) {
        return required ? kp_missing(path, key) : NULL;
    } else if (!is_type(j)) {
        return kp_type_error(path, key, j, expected);
    }
    *out = j;
    return NULL;
}

static bool kp_is_object(const json_t *j) { return json_is_object(j); }
static bool kp_is_array(const json_t *j) { return json_is_array(j); }
static bool kp_is_string(const json_t *j) { return json_is_string(j); }
static bool kp_is_bool(const json_t *j) { return json_is_boolean(j); }
static bool kp_is_integer(const json_t *j) { return json_is_integer(j); }

static char *
kp_object(const json_t *parent, const char *path, const char *key,
          bool required, const json_t **out)
{
    return kp_member(parent, path, key, required, kp_is_object, "an object",
                     out);
}

static char *
kp_array(const json_t *parent, const char *path, const char *key,
         bool required, const json_t **out)
{
    return kp_member(parent, path, key, required, kp_is_array, "an array",
                     out);
}

/* Stores the string in '*out', or NULL if absent (not required). */
static char *
kp_string(const json_t *parent, const char *path, const char *key,
          bool required, const char **out)
{
    const json_t *j;
    char *error = kp_member(parent, path, key, required, kp_is_string,
                            "a string", &j);
    *out = j ? json_string_value(j) : NULL;
    return error;
}

/* Like kp_string(), but required and nonempty. */
static char *
kp_nonempty_string(const json_t *parent, const char *path, const char *key,
                   const char **out)
{
    char *error = kp_string(parent, path, key, true, out);
    if (!error && !**out) {
        *out = NULL;
        error = xasprintf("%s%s%s is empty", KP_FIELD(path, key));
    }
    return error;
}

static char *
kp_bool(const json_t *parent, const char *path, const char *key, bool def,
        bool *out)
{
    const json_t *j;
    char *error = kp_member(parent, path, key, false, kp_is_bool,
                            "a boolean", &j);
    *out = j ? json_is_true(j) : def;
    return error;
}

/* Stores the integer in '*out', or 'def' if absent (and not required). */
static char *
kp_int(const json_t *parent, const char *path, const char *key,
       bool required, long long int min, long long int max,
       long long int def, long long int *out)
{
    const json_t *j;
    char *error = kp_member(parent, path, key, required, kp_is_integer,
                            "an integer", &j);
    *out = def;
    if (!error && j) {
        json_int_t v = json_integer_value(j);
        if (v < min || v > max) {
            return xasprintf("%s%s%s %"JSON_INTEGER_FORMAT" is out of "
                             "range %lld to %lld", KP_FIELD(path, key), v,
                             min, max);
        }
        *out = v;
    }
    return error;
}

static char *
kp_port_number(const json_t *parent, const char *path, const char *key,
               bool required, uint16_t *port)
{
    long long int v;
    char *error = kp_int(parent, path, key, required, 1, 65535, 0, &v);
    *port = v;
    return error;
}

static char *
kp_path(const char *path, const char *key, size_t idx)
{
    return xasprintf("%s%s%s[%zu]", KP_FIELD(path, key), idx);
}

static char *
kp_ip(const char *s, const char *path, struct ipaddr *ip)
{
    char *error = ipaddr_parse(s, ip);
    if (error) {
        free(error);
        return xasprintf("%s \"%s\" is not an IP address", path, s);
    }
    return NULL;
}

/* Parses "ADDR/LEN" and clears host bits if 'loose', else rejects them. */
static char *
kp_cidr(const char *s, const char *path, bool loose, struct cidr *cidr)
{
    char *error;
    if (loose) {
        unsigned int plen;
        error = cidr_parse_host(s, &cidr->addr, &plen);
        if (!error) {
            cidr->plen = plen;
            for (size_t i = 0; i < sizeof cidr->addr.bytes; i++) {
                unsigned int first = i * 8;
                uint8_t keep = (plen >= first + 8 ? 0xff
                                : plen <= first ? 0
                                : (uint8_t) (0xff << (8 - (plen - first))));
                cidr->addr.bytes[i] &= keep;
            }
        }
    } else {
        error = cidr_parse(s, cidr);
    }
    if (error) {
        char *msg = xasprintf("%s: %s", path, error);
        free(error);
        return msg;
    }
    return NULL;
}

/* Parses member 'key' of 'parent', an array of strings that are IP
 * addresses, appending them to '*ips'. */
static char *
kp_ip_array(const json_t *parent, const char *path, const char *key,
            struct ipaddr **ips, size_t *n_ips)
{
    const json_t *array;
    char *error = kp_array(parent, path, key, false, &array);
    if (error || !array) {
        return error;
    }

    *ips = xcalloc(json_array_size(array) + 1, sizeof **ips);
    for (size_t i = 0; i < json_array_size(array); i++) {
        const json_t *j = json_array_get(array, i);
        char *epath = kp_path(path, key, i);
        if (!json_is_string(j)) {
            error = xasprintf("%s is %s, expected a string", epath,
                              json_type_name(j));
        } else {
            error = kp_ip(json_string_value(j), epath, &(*ips)[*n_ips]);
        }
        free(epath);
        if (error) {
            return error;
        }
        (*n_ips)++;
    }
    return NULL;
}

static char *
kp_string_map(const json_t *parent, const char *path, const char *key,
              struct smap *map)
{
    const json_t *obj;
    char *error = kp_object(parent, path, key, false, &obj);
    if (error || !obj) {
        return error;
    }

    const char *k;
    const json_t *v;
    json_object_foreach ((json_t *) obj, k, v) {
        if (!json_is_string(v)) {
            return xasprintf("%s%s%s[\"%s\"] is %s, expected a string",
                             KP_FIELD(path, key), k, json_type_name(v));
        }
        smap_add(map, k, json_string_value(v));
    }
    return NULL;
}

static char *
kp_protocol(const json_t *parent, const char *path,
            enum k8s_protocol *protocol)
{
    const char *s;
    char *error = kp_string(parent, path, "protocol", false, &s);
    *protocol = K8S_PROTO_TCP;
    if (error || !s) {
        return error;
    }
    for (int p = K8S_PROTO_TCP; p <= K8S_PROTO_SCTP; p++) {
        if (!strcmp(s, k8s_protocol_to_string(p))) {
            *protocol = p;
            return NULL;
        }
    }
    return xasprintf("%s.protocol \"%s\" is not TCP, UDP or SCTP", path, s);
}

/* An IANA service name, the syntax of named ports: 1 to 15 lowercase
 * letters, digits and '-', at least one letter, no '-' at either end and no
 * "--". */
static bool
kp_is_port_name(const char *s)
{
    size_t len = strlen(s);
    bool letter = false;

    if (!len || len > 15 || s[0] == '-' || s[len - 1] == '-'
        || strstr(s, "--")) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (islower((unsigned char) s[i])) {
            letter = true;
        } else if (!isdigit((unsigned char) s[i]) && s[i] != '-') {
            return false;
        }
    }
    return letter;
}

/* Parses an IntOrString port reference.  Absent, 0 and "" give
 * K8S_PORT_REF_NONE. */
static char *
kp_port_ref(const json_t *parent, const char *path, const char *key,
            struct k8s_port_ref *ref)
{
    const json_t *j = kp_get(parent, key);

    memset(ref, 0, sizeof *ref);
    if (!j) {
        return NULL;
    } else if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        if (v < 0 || v > 65535) {
            return xasprintf("%s%s%s %"JSON_INTEGER_FORMAT" is out of "
                             "range 1 to 65535", KP_FIELD(path, key), v);
        }
        if (v) {
            ref->type = K8S_PORT_REF_NUMBER;
            ref->number = v;
        }
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (*s) {
            if (!kp_is_port_name(s)) {
                return xasprintf("%s%s%s \"%s\" is not a port name (1 to "
                                 "15 lowercase letters, digits and '-')",
                                 KP_FIELD(path, key), s);
            }
            ref->type = K8S_PORT_REF_NAME;
            ref->name = xstrdup(s);
        }
    } else {
        return kp_type_error(path, key, j, "an integer or a string");
    }
    return NULL;
}

/* Matches string member 'key' against 'names' (terminated by NULL), storing
 * the index in '*value', or 'def' if absent or "". */
static char *
kp_enum(const json_t *parent, const char *path, const char *key,
        const char *const names[], int def, int *value)
{
    const char *s;
    char *error = kp_string(parent, path, key, false, &s);
    *value = def;
    if (error || !s || !*s) {
        return error;
    }
    for (int i = 0; names[i]; i++) {
        if (!strcmp(s, names[i])) {
            *value = i;
            return NULL;
        }
    }

    /* "X is not A, B or C", leaving out "" (which stands for absent). */
    struct ds msg = DS_EMPTY_INITIALIZER;
    int n = 0, k = 0;
    for (int i = 0; names[i]; i++) {
        n += *names[i] != '\0';
    }
    ds_put_format(&msg, "%s%s%s \"%s\" is not ", KP_FIELD(path, key), s);
    for (int i = 0; names[i]; i++) {
        if (*names[i]) {
            ds_put_format(&msg, "%s%s",
                          !k ? "" : k == n - 1 ? " or " : ", ", names[i]);
            k++;
        }
    }
    return ds_steal_cstr(&msg);
}

/* Destruction. */

static void
k8s_port_ref_destroy(struct k8s_port_ref *ref)
{
    free(ref->name);
}

static void
k8s_object_uninit(struct k8s_object *obj)
{
    free(obj->namespace);
    free(obj->name);
    free(obj->uid);
    free(obj->resource_version);
    smap_destroy(&obj->labels);
}

static void
k8s_node_destroy(struct k8s_node *node)
{
    free(node->pod_cidrs);
    free(node->internal_ips);
}

static void
k8s_pod_destroy(struct k8s_pod *pod)
{
    free(pod->node_name);
    free(pod->pod_ips);
    for (size_t i = 0; i < pod->n_ports; i++) {
        free(pod->ports[i].name);
    }
    free(pod->ports);
}

static void
k8s_service_destroy(struct k8s_service *svc)
{
    free(svc->cluster_ips);
    for (size_t i = 0; i < svc->n_ports; i++) {
        free(svc->ports[i].name);
        k8s_port_ref_destroy(&svc->ports[i].target_port);
    }
    free(svc->ports);
    smap_destroy(&svc->selector);
    free(svc->external_ips);
    free(svc->lb_ips);
}

static void
k8s_endpoint_slice_destroy(struct k8s_endpoint_slice *eps)
{
    free(eps->service_name);
    for (size_t i = 0; i < eps->n_ports; i++) {
        free(eps->ports[i].name);
    }
    free(eps->ports);
    for (size_t i = 0; i < eps->n_endpoints; i++) {
        struct k8s_endpoint *ep = &eps->endpoints[i];
        free(ep->addresses);
        free(ep->node_name);
        free(ep->pod_namespace);
        free(ep->pod_name);
    }
    free(eps->endpoints);
}

static void
k8s_np_rules_destroy(struct k8s_np_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct k8s_np_rule *rule = &rules[i];
        for (size_t j = 0; j < rule->n_peers; j++) {
            struct k8s_np_peer *peer = &rule->peers[j];
            label_selector_destroy(peer->pod_selector);
            label_selector_destroy(peer->namespace_selector);
            if (peer->ip_block) {
                free(peer->ip_block->except);
                free(peer->ip_block);
            }
        }
        free(rule->peers);
        for (size_t j = 0; j < rule->n_ports; j++) {
            k8s_port_ref_destroy(&rule->ports[j].port);
        }
        free(rule->ports);
    }
    free(rules);
}

static void
k8s_network_policy_destroy(struct k8s_network_policy *np)
{
    label_selector_destroy(np->pod_selector);
    k8s_np_rules_destroy(np->ingress, np->n_ingress);
    k8s_np_rules_destroy(np->egress, np->n_egress);
}

/* Frees 'obj' and everything it owns.  NULL is a no-op. */
void
k8s_object_destroy(struct k8s_object *obj)
{
    if (!obj) {
        return;
    }
    switch (obj->kind) {
    case K8S_NODE:
        k8s_node_destroy(CONTAINER_OF(obj, struct k8s_node, obj));
        break;
    case K8S_NAMESPACE:
        break;
    case K8S_POD:
        k8s_pod_destroy(CONTAINER_OF(obj, struct k8s_pod, obj));
        break;
    case K8S_SERVICE:
        k8s_service_destroy(CONTAINER_OF(obj, struct k8s_service, obj));
        break;
    case K8S_ENDPOINT_SLICE:
        k8s_endpoint_slice_destroy(CONTAINER_OF(obj, struct k8s_endpoint_slice,
                                                obj));
        break;
    case K8S_NETWORK_POLICY:
        k8s_network_policy_destroy(CONTAINER_OF(obj, struct k8s_network_policy,
                                                obj));
        break;
    }
    k8s_object_uninit(obj);
    free(obj);
}

/* Metadata. */

static char *
kp_meta(const json_t *json, struct k8s_object *obj)
{
    const json_t *meta;
    const char *s;
    char *error;

    error = kp_object(json, "", "metadata", true, &meta);
    if (error) {
        return error;
    }

    error = kp_nonempty_string(meta, "metadata", "name", &s);
    if (error) {
        return error;
    }
    obj->name = xstrdup(s);

    if (k8s_kind_is_namespaced(obj->kind)) {
        error = kp_nonempty_string(meta, "metadata", "namespace", &s);
        if (error) {
            return error;
        }
        obj->namespace = xstrdup(s);
    }

    error = kp_nonempty_string(meta, "metadata", "uid", &s);
    if (error) {
        return error;
    }
    obj->uid = xstrdup(s);

    error = kp_nonempty_string(meta, "metadata", "resourceVersion", &s);
    if (error) {
        return error;
    }
    obj->resource_version = xstrdup(s);

    error = kp_string_map(meta, "metadata", "labels", &obj->labels);
    if (error) {
        return error;
    }

    /* The cache's label index relies on valid keys and values. */
    const struct smap_node *label;
    SMAP_FOR_EACH (label, &obj->labels) {
        error = label_key_validate(label->key);
        if (!error) {
            error = label_value_validate(label->value);
        }
        if (error) {
            char *msg = xasprintf("metadata.labels: %s", error);
            free(error);
            return msg;
        }
    }
    return NULL;
}

/* Node. */

static char *
kp_node(const json_t *json, struct k8s_node *node)
{
    const json_t *spec, *status, *array;
    const char *pod_cidr;
    char *error;

    error = kp_object(json, "", "spec", false, &spec);
    if (!error) {
        error = kp_string(spec, "spec", "podCIDR", false, &pod_cidr);
    }
    if (!error) {
        error = kp_array(spec, "spec", "podCIDRs", false, &array);
    }
    if (error) {
        return error;
    }

    if (array) {
        node->pod_cidrs = xcalloc(json_array_size(array) + 1,
                                  sizeof *node->pod_cidrs);
        for (size_t i = 0; i < json_array_size(array); i++) {
            const json_t *j = json_array_get(array, i);
            char *path = kp_path("spec", "podCIDRs", i);
            if (!json_is_string(j)) {
                error = xasprintf("%s is %s, expected a string", path,
                                  json_type_name(j));
            } else {
                error = kp_cidr(json_string_value(j), path, false,
                                &node->pod_cidrs[i]);
            }
            free(path);
            if (error) {
                return error;
            }
            node->n_pod_cidrs++;
        }
    }
    if (pod_cidr && *pod_cidr) {
        struct cidr cidr;
        error = kp_cidr(pod_cidr, "spec.podCIDR", false, &cidr);
        if (error) {
            return error;
        }
        if (!node->n_pod_cidrs) {
            free(node->pod_cidrs);
            node->pod_cidrs = xmemdup(&cidr, sizeof cidr);
            node->n_pod_cidrs = 1;
        } else if (!cidr_equals(&cidr, &node->pod_cidrs[0])) {
            return xasprintf("spec.podCIDR \"%s\" differs from "
                             "spec.podCIDRs[0]", pod_cidr);
        }
    }

    error = kp_object(json, "", "status", false, &status);
    if (!error) {
        error = kp_array(status, "status", "addresses", false, &array);
    }
    if (error) {
        return error;
    }
    for (size_t i = 0; array && i < json_array_size(array); i++) {
        const json_t *addr = json_array_get(array, i);
        char *path = kp_path("status", "addresses", i);
        const char *type, *address;

        if (!json_is_object(addr)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(addr));
        } else {
            error = kp_string(addr, path, "type", true, &type);
            if (!error) {
                error = kp_string(addr, path, "address", true, &address);
            }
            if (!error && !strcmp(type, "InternalIP")) {
                char *apath = xasprintf("%s.address", path);
                node->internal_ips = xrealloc(
                    node->internal_ips,
                    (node->n_internal_ips + 1) * sizeof *node->internal_ips);
                error = kp_ip(address, apath,
                              &node->internal_ips[node->n_internal_ips]);
                if (!error) {
                    node->n_internal_ips++;
                }
                free(apath);
            }
        }
        free(path);
        if (error) {
            return error;
        }
    }

    error = kp_array(status, "status", "conditions", false, &array);
    for (size_t i = 0; !error && array && i < json_array_size(array); i++) {
        const json_t *cond = json_array_get(array, i);
        char *path = kp_path("status", "conditions", i);
        const char *type, *cond_status;

        if (!json_is_object(cond)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(cond));
        } else {
            error = kp_string(cond, path, "type", true, &type);
            if (!error) {
                error = kp_string(cond, path, "status", true, &cond_status);
            }
            if (!error && !strcmp(type, "Ready")) {
                node->ready = !strcmp(cond_status, "True");
            }
        }
        free(path);
    }
    return error;
}

/* Pod. */

static char *
kp_container_ports(const json_t *container, const char *cpath,
                   struct k8s_pod *pod)
{
    const json_t *ports;
    char *error = kp_array(container, cpath, "ports", false, &ports);
    if (error || !ports) {
        return error;
    }

    pod->ports = xrealloc(pod->ports, (pod->n_ports + json_array_size(ports)
                                       + 1) * sizeof *pod->ports);
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *port = json_array_get(ports, i);
        char *path = kp_path(cpath, "ports", i);
        struct k8s_container_port *cp = &pod->ports[pod->n_ports];
        const char *name;

        memset(cp, 0, sizeof *cp);
        if (!json_is_object(port)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(port));
        } else {
            error = kp_string(port, path, "name", false, &name);
            if (!error) {
                cp->name = xstrdup(name ? name : "");
                pod->n_ports++;
                error = kp_port_number(port, path, "containerPort", true,
                                       &cp->port);
            }
            if (!error) {
                error = kp_protocol(port, path, &cp->protocol);
            }
        }
        free(path);
        if (error) {
            return error;
        }
    }
    return NULL;
}

static const char *const kp_pod_phases[] = {
    "", "Pending", "Running", "Succeeded", "Failed", "Unknown", NULL,
};

static char *
kp_pod(const json_t *json, struct k8s_pod *pod)
{
    const json_t *spec, *status, *containers, *ips;
    const char *s;
    char *error;
    int phase;

    error = kp_object(json, "", "spec", true, &spec);
    if (!error) {
        error = kp_string(spec, "spec", "nodeName", false, &s);
        if (s && *s) {
            pod->node_name = xstrdup(s);
        }
    }
    if (!error) {
        error = kp_bool(spec, "spec", "hostNetwork", false,
                        &pod->host_network);
    }
    if (!error) {
        error = kp_array(spec, "spec", "containers", false, &containers);
    }
    for (size_t i = 0; !error && containers
                       && i < json_array_size(containers); i++) {
        const json_t *c = json_array_get(containers, i);
        char *path = kp_path("spec", "containers", i);
        if (!json_is_object(c)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(c));
        } else {
            error = kp_container_ports(c, path, pod);
        }
        free(path);
    }
    if (error) {
        return error;
    }

    error = kp_object(json, "", "status", false, &status);
    if (!error) {
        error = kp_enum(status, "status", "phase", kp_pod_phases,
                        K8S_POD_PHASE_NONE, &phase);
        pod->phase = phase;
    }
    if (!error) {
        error = kp_array(status, "status", "podIPs", false, &ips);
    }
    for (size_t i = 0; !error && ips && i < json_array_size(ips); i++) {
        const json_t *entry = json_array_get(ips, i);
        char *path = kp_path("status", "podIPs", i);
        if (!json_is_object(entry)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(entry));
        } else {
            error = kp_string(entry, path, "ip", true, &s);
            if (!error) {
                char *ipath = xasprintf("%s.ip", path);
                pod->pod_ips = xrealloc(pod->pod_ips, (pod->n_pod_ips + 1)
                                        * sizeof *pod->pod_ips);
                error = kp_ip(s, ipath, &pod->pod_ips[pod->n_pod_ips]);
                if (!error) {
                    pod->n_pod_ips++;
                }
                free(ipath);
            }
        }
        free(path);
    }
    if (!error) {
        error = kp_string(status, "status", "podIP", false, &s);
    }
    if (!error && s && *s) {
        struct ipaddr ip;
        error = kp_ip(s, "status.podIP", &ip);
        if (!error && !pod->n_pod_ips) {
            pod->pod_ips = xmemdup(&ip, sizeof ip);
            pod->n_pod_ips = 1;
        } else if (!error && !ipaddr_equals(&ip, &pod->pod_ips[0])) {
            error = xasprintf("status.podIP \"%s\" differs from "
                              "status.podIPs[0]", s);
        }
    }
    return error;
}

/* Service. */

static const char *const kp_service_types[] = {
    "ClusterIP", "NodePort", "LoadBalancer", "ExternalName", NULL,
};
static const char *const kp_traffic_policies[] = { "Cluster", "Local", NULL };
static const char *const kp_affinities[] = { "None", "ClientIP", NULL };

static char *
kp_service_ports(const json_t *spec, struct k8s_service *svc)
{
    const json_t *ports;
    char *error = kp_array(spec, "spec", "ports", false, &ports);
    if (error || !ports) {
        return error;
    }

    svc->ports = xcalloc(json_array_size(ports) + 1, sizeof *svc->ports);
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *port = json_array_get(ports, i);
        char *path = kp_path("spec", "ports", i);
        struct k8s_service_port *sp = &svc->ports[i];
        const char *name;
        long long int node_port;

        if (!json_is_object(port)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(port));
        } else {
            error = kp_string(port, path, "name", false, &name);
            if (!error) {
                sp->name = xstrdup(name ? name : "");
                svc->n_ports++;
                error = kp_protocol(port, path, &sp->protocol);
            }
            if (!error) {
                error = kp_port_number(port, path, "port", true, &sp->port);
            }
            if (!error) {
                error = kp_port_ref(port, path, "targetPort",
                                    &sp->target_port);
            }
            if (!error && sp->target_port.type == K8S_PORT_REF_NONE) {
                sp->target_port.type = K8S_PORT_REF_NUMBER;
                sp->target_port.number = sp->port;
            }
            if (!error) {
                error = kp_int(port, path, "nodePort", false, 0, 65535, 0,
                               &node_port);
                sp->node_port = node_port;
            }
        }
        free(path);
        if (error) {
            return error;
        }
    }
    return NULL;
}

static char *
kp_service_cluster_ips(const json_t *spec, struct k8s_service *svc)
{
    const json_t *array;
    const char *cluster_ip;
    char *error;

    error = kp_string(spec, "spec", "clusterIP", false, &cluster_ip);
    if (!error) {
        error = kp_array(spec, "spec", "clusterIPs", false, &array);
    }
    if (error) {
        return error;
    }

    if (array && json_array_size(array)) {
        const json_t *first = json_array_get(array, 0);
        if (json_is_string(first)
            && !strcmp(json_string_value(first), "None")) {
            if (json_array_size(array) > 1) {
                return xstrdup("spec.clusterIPs has \"None\" and more");
            }
            svc->headless = true;
        } else {
            error = kp_ip_array(spec, "spec", "clusterIPs", &svc->cluster_ips,
                                &svc->n_cluster_ips);
            if (error) {
                return error;
            }
        }
    }

    if (!cluster_ip || !*cluster_ip) {
        return NULL;
    } else if (!strcmp(cluster_ip, "None")) {
        if (svc->n_cluster_ips) {
            return xstrdup("spec.clusterIP \"None\" differs from "
                           "spec.clusterIPs[0]");
        }
        svc->headless = true;
        return NULL;
    }

    struct ipaddr ip;
    error = kp_ip(cluster_ip, "spec.clusterIP", &ip);
    if (error) {
        return error;
    } else if (svc->headless) {
        return xasprintf("spec.clusterIP \"%s\" differs from "
                         "spec.clusterIPs[0]", cluster_ip);
    } else if (!svc->n_cluster_ips) {
        svc->cluster_ips = xmemdup(&ip, sizeof ip);
        svc->n_cluster_ips = 1;
    } else if (!ipaddr_equals(&ip, &svc->cluster_ips[0])) {
        return xasprintf("spec.clusterIP \"%s\" differs from "
                         "spec.clusterIPs[0]", cluster_ip);
    }
    return NULL;
}

static char *
kp_service_lb(const json_t *json, struct k8s_service *svc)
{
    const json_t *status, *lb, *ingress;
    char *error;

    error = kp_object(json, "", "status", false, &status);
    if (!error) {
        error = kp_object(status, "status", "loadBalancer", false, &lb);
    }
    if (!error) {
        error = kp_array(lb, "status.loadBalancer", "ingress", false,
                         &ingress);
    }
    if (error || !ingress) {
        return error;
    }

    svc->lb_ips = xcalloc(json_array_size(ingress) + 1, sizeof *svc->lb_ips);
    for (size_t i = 0; i < json_array_size(ingress); i++) {
        const json_t *entry = json_array_get(ingress, i);
        char *path = kp_path("status.loadBalancer", "ingress", i);
        const char *ip;

        if (!json_is_object(entry)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(entry));
        } else {
            error = kp_string(entry, path, "ip", false, &ip);
            if (!error && ip && *ip) {
                char *ipath = xasprintf("%s.ip", path);
                error = kp_ip(ip, ipath, &svc->lb_ips[svc->n_lb_ips]);
                if (!error) {
                    svc->n_lb_ips++;
                }
                free(ipath);
            }
        }
        free(path);
        if (error) {
            return error;
        }
    }
    return NULL;
}

static char *
kp_service(const json_t *json, struct k8s_service *svc)
{
    const json_t *spec, *config, *client_ip;
    char *error;
    int value;

    error = kp_object(json, "", "spec", true, &spec);
    if (!error) {
        error = kp_enum(spec, "spec", "type", kp_service_types,
                        K8S_SERVICE_CLUSTER_IP, &value);
        svc->type = value;
    }
    if (!error && svc->type != K8S_SERVICE_EXTERNAL_NAME) {
        error = kp_service_cluster_ips(spec, svc);
    }
    if (!error) {
        error = kp_service_ports(spec, svc);
    }
    if (!error) {
        error = kp_string_map(spec, "spec", "selector", &svc->selector);
    }
    if (!error) {
        error = kp_enum(spec, "spec", "sessionAffinity", kp_affinities, 0,
                        &value);
        svc->affinity_client_ip = value == 1;
    }
    if (!error) {
        error = kp_object(spec, "spec", "sessionAffinityConfig", false,
                          &config);
    }
    if (!error) {
        error = kp_object(config, "spec.sessionAffinityConfig", "clientIP",
                          false, &client_ip);
    }
    if (!error && svc->affinity_client_ip) {
        long long int timeout;
        error = kp_int(client_ip, "spec.sessionAffinityConfig.clientIP",
                       "timeoutSeconds", false, 1, 86400, 10800, &timeout);
        svc->affinity_timeout = timeout;
    }
    if (!error) {
        error = kp_ip_array(spec, "spec", "externalIPs", &svc->external_ips,
                            &svc->n_external_ips);
    }
    if (!error) {
        error = kp_enum(spec, "spec", "externalTrafficPolicy",
                        kp_traffic_policies, K8S_TRAFFIC_POLICY_CLUSTER,
                        &value);
        svc->external_traffic_policy = value;
    }
    if (!error) {
        error = kp_enum(spec, "spec", "internalTrafficPolicy",
                        kp_traffic_policies, K8S_TRAFFIC_POLICY_CLUSTER,
                        &value);
        svc->internal_traffic_policy = value;
    }
    if (!error) {
        long long int port;
        error = kp_int(spec, "spec", "healthCheckNodePort", false, 0, 65535,
                       0, &port);
        svc->health_check_node_port = port;
    }
    if (!error) {
        error = kp_service_lb(json, svc);
    }
    return error;
}

/* EndpointSlice. */

static const char *const kp_address_types[] = {
    "IPv4", "IPv6", "FQDN", NULL,
};

static char *
kp_endpoint(const json_t *j, const char *path,
            const struct k8s_endpoint_slice *eps, struct k8s_endpoint *ep)
{
    const json_t *addresses, *conditions, *ref;
    const char *s;
    char *error;

    if (!json_is_object(j)) {
        return xasprintf("%s is %s, expected an object", path,
                         json_type_name(j));
    }

    error = kp_array(j, path, "addresses", true, &addresses);
    if (error) {
        return error;
    } else if (!json_array_size(addresses)) {
        return xasprintf("%s.addresses is empty", path);
    }
    ep->addresses = xcalloc(json_array_size(addresses),
                            sizeof *ep->addresses);
    for (size_t i = 0; i < json_array_size(addresses); i++) {
        const json_t *a = json_array_get(addresses, i);
        char *apath = kp_path(path, "addresses", i);
        if (!json_is_string(a)) {
            error = xasprintf("%s is %s, expected a string", apath,
                              json_type_name(a));
        } else if (eps->address_type != K8S_ADDRESS_FQDN) {
            struct ipaddr *ip = &ep->addresses[ep->n_addresses];
            int family = (eps->address_type == K8S_ADDRESS_IPV4
                          ? AF_INET : AF_INET6);
            error = kp_ip(json_string_value(a), apath, ip);
            if (!error && ip->family != family) {
                error = xasprintf("%s \"%s\" is not an %s address (the "
                                  "slice's addressType)", apath,
                                  json_string_value(a),
                                  family == AF_INET ? "IPv4" : "IPv6");
            }
            if (!error) {
                ep->n_addresses++;
            }
        }
        free(apath);
        if (error) {
            return error;
        }
    }

    char *cpath = xasprintf("%s.conditions", path);
    error = kp_object(j, path, "conditions", false, &conditions);
    if (!error) {
        error = kp_bool(conditions, cpath, "ready", true, &ep->ready);
    }
    if (!error) {
        error = kp_bool(conditions, cpath, "serving", ep->ready,
                        &ep->serving);
    }
    if (!error) {
        error = kp_bool(conditions, cpath, "terminating", false,
                        &ep->terminating);
    }
    free(cpath);
    if (error) {
        return error;
    }

    error = kp_string(j, path, "nodeName", false, &s);
    if (!error && (!s || !*s)) {
        static const char *const topologies[] = {
            "topology", "deprecatedTopology",
        };
        for (size_t i = 0; !error && i < ARRAY_SIZE(topologies); i++) {
            const json_t *topo;
            error = kp_object(j, path, topologies[i], false, &topo);
            if (!error && topo) {
                char *tpath = xasprintf("%s.%s", path, topologies[i]);
                error = kp_string(topo, tpath, "kubernetes.io/hostname",
                                  false, &s);
                free(tpath);
                if (s && *s) {
                    break;
                }
            }
        }
    }
    if (error) {
        return error;
    } else if (s && *s) {
        ep->node_name = xstrdup(s);
    }

    error = kp_object(j, path, "targetRef", false, &ref);
    if (!error && ref) {
        char *rpath = xasprintf("%s.targetRef", path);
        const char *kind, *ns, *name;

        error = kp_string(ref, rpath, "kind", false, &kind);
        if (!error) {
            error = kp_string(ref, rpath, "namespace", false, &ns);
        }
        if (!error) {
            error = kp_string(ref, rpath, "name", false, &name);
        }
        if (!error && kind && !strcmp(kind, "Pod")) {
            if (!name || !*name) {
                error = xasprintf("%s.name is missing", rpath);
            } else {
                ep->pod_namespace = xstrdup(ns && *ns ? ns
                                            : eps->obj.namespace);
                ep->pod_name = xstrdup(name);
            }
        }
        free(rpath);
    }
    return error;
}

static char *
kp_endpoint_slice(const json_t *json, struct k8s_endpoint_slice *eps)
{
    const json_t *ports, *endpoints;
    const char *s;
    char *error;
    int value;

    error = kp_string(json, "", "apiVersion", false, &s);
    if (error) {
        return error;
    } else if (!s) {
        eps->version = K8S_EPS_UNKNOWN;
    } else if (!strcmp(s, "discovery.k8s.io/v1")) {
        eps->version = K8S_EPS_V1;
    } else if (!strcmp(s, "discovery.k8s.io/v1beta1")) {
        eps->version = K8S_EPS_V1BETA1;
    } else {
        return xasprintf("apiVersion \"%s\" is not discovery.k8s.io/v1 or "
                         "discovery.k8s.io/v1beta1", s);
    }

    s = smap_get(&eps->obj.labels, "kubernetes.io/service-name");
    if (s && *s) {
        eps->service_name = xstrdup(s);
    }

    if (!kp_get(json, "addressType")) {
        return xstrdup("addressType is missing");
    }
    error = kp_enum(json, "", "addressType", kp_address_types, 0,
                    &value);
    if (error) {
        return error;
    }
    eps->address_type = value;

    error = kp_array(json, "", "ports", false, &ports);
    if (!error && ports) {
        eps->ports = xcalloc(json_array_size(ports) + 1, sizeof *eps->ports);
    }
    for (size_t i = 0; !error && ports && i < json_array_size(ports); i++) {
        const json_t *port = json_array_get(ports, i);
        char *path = kp_path("", "ports", i);
        struct k8s_endpoint_port *ep = &eps->ports[i];
        const char *name;

        if (!json_is_object(port)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(port));
        } else {
            error = kp_string(port, path, "name", false, &name);
            if (!error) {
                ep->name = xstrdup(name ? name : "");
                eps->n_ports++;
                error = kp_protocol(port, path, &ep->protocol);
            }
            if (!error) {
                error = kp_port_number(port, path, "port", false, &ep->port);
            }
        }
        free(path);
    }
    if (!error) {
        error = kp_array(json, "", "endpoints", false, &endpoints);
    }
    if (error) {
        return error;
    }

    if (endpoints) {
        eps->endpoints = xcalloc(json_array_size(endpoints) + 1,
                                 sizeof *eps->endpoints);
    }
    for (size_t i = 0; endpoints && i < json_array_size(endpoints); i++) {
        char *path = xasprintf("endpoints[%zu]", i);
        eps->n_endpoints++;
        error = kp_endpoint(json_array_get(endpoints, i), path, eps,
                            &eps->endpoints[i]);
        free(path);
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* NetworkPolicy. */

static char *
kp_selector(const json_t *parent, const char *path, const char *key,
            bool required, struct label_selector **selp)
{
    const json_t *j;
    char *error = kp_object(parent, path, key, required, &j);

    *selp = NULL;
    if (!error && j) {
        error = label_selector_from_json(j, selp);
        if (error) {
            char *msg = xasprintf("%s.%s.%s", path, key, error);
            free(error);
            error = msg;
        }
    }
    return error;
}

static char *
kp_ip_block(const json_t *j, const char *path, struct k8s_ip_block **blockp)
{
    struct k8s_ip_block *block = xzalloc(sizeof *block);
    const json_t *except;
    const char *s;
    char *error;

    *blockp = block;
    error = kp_string(j, path, "cidr", true, &s);
    if (!error) {
        char *cpath = xasprintf("%s.cidr", path);
        error = kp_cidr(s, cpath, true, &block->cidr);
        free(cpath);
    }
    if (!error) {
        error = kp_array(j, path, "except", false, &except);
    }
    if (error || !except) {
        return error;
    }

    block->except = xcalloc(json_array_size(except) + 1,
                            sizeof *block->except);
    for (size_t i = 0; i < json_array_size(except); i++) {
        const json_t *e = json_array_get(except, i);
        char *epath = kp_path(path, "except", i);
        struct cidr *cidr = &block->except[i];

        if (!json_is_string(e)) {
            error = xasprintf("%s is %s, expected a string", epath,
                              json_type_name(e));
        } else {
            error = kp_cidr(json_string_value(e), epath, true, cidr);
        }
        if (!error && (cidr->addr.family != block->cidr.addr.family
                       || cidr->plen < block->cidr.plen
                       || !cidr_contains(&block->cidr, &cidr->addr))) {
            error = xasprintf("%s \"%s\" is not inside %s.cidr", epath,
                              json_string_value(e), path);
        }
        free(epath);
        if (error) {
            return error;
        }
        block->n_except++;
    }
    return NULL;
}

static char *
kp_np_peer(const json_t *j, const char *path, struct k8s_np_peer *peer)
{
    const json_t *block;
    char *error;

    if (!json_is_object(j)) {
        return xasprintf("%s is %s, expected an object", path,
                         json_type_name(j));
    }
    error = kp_selector(j, path, "podSelector", false, &peer->pod_selector);
    if (!error) {
        error = kp_selector(j, path, "namespaceSelector", false,
                            &peer->namespace_selector);
    }
    if (!error) {
        error = kp_object(j, path, "ipBlock", false, &block);
    }
    if (error) {
        return error;
    }

    bool selectors = peer->pod_selector || peer->namespace_selector;
    if (block) {
        char *bpath = xasprintf("%s.ipBlock", path);
        error = (selectors
                 ? xasprintf("%s cannot be combined with podSelector or "
                             "namespaceSelector", bpath)
                 : kp_ip_block(block, bpath, &peer->ip_block));
        free(bpath);
        return error;
    } else if (!selectors) {
        return xasprintf("%s has none of podSelector, namespaceSelector and "
                         "ipBlock", path);
    }
    return NULL;
}

static char *
kp_np_port(const json_t *j, const char *path, struct k8s_np_port *port)
{
    long long int end_port;
    char *error;

    if (!json_is_object(j)) {
        return xasprintf("%s is %s, expected an object", path,
                         json_type_name(j));
    }
    error = kp_protocol(j, path, &port->protocol);
    if (!error) {
        error = kp_port_ref(j, path, "port", &port->port);
    }
    if (!error) {
        error = kp_int(j, path, "endPort", false, 1, 65535, 0, &end_port);
    }
    if (error || !end_port) {
        return error;
    }

    if (port->port.type != K8S_PORT_REF_NUMBER) {
        return xasprintf("%s.endPort needs a numeric port", path);
    } else if (end_port < port->port.number) {
        return xasprintf("%s.endPort %lld is less than port %u", path,
                         end_port, port->port.number);
    }
    port->end_port = end_port;
    return NULL;
}

static char *
kp_np_rules(const json_t *spec, const char *dir, const char *peers_key,
            struct k8s_np_rule **rulesp, size_t *n_rulesp)
{
    const json_t *rules;
    char *error = kp_array(spec, "spec", dir, false, &rules);
    if (error || !rules) {
        return error;
    }

    *rulesp = xcalloc(json_array_size(rules) + 1, sizeof **rulesp);
    for (size_t i = 0; !error && i < json_array_size(rules); i++) {
        const json_t *j = json_array_get(rules, i);
        char *path = kp_path("spec", dir, i);
        struct k8s_np_rule *rule = &(*rulesp)[i];
        const json_t *peers, *ports;

        (*n_rulesp)++;
        if (!json_is_object(j)) {
            error = xasprintf("%s is %s, expected an object", path,
                              json_type_name(j));
        } else {
            error = kp_array(j, path, peers_key, false, &peers);
            if (!error) {
                error = kp_array(j, path, "ports", false, &ports);
            }
        }
        if (!error && peers) {
            rule->peers = xcalloc(json_array_size(peers) + 1,
                                  sizeof *rule->peers);
        }
        for (size_t k = 0; !error && peers && k < json_array_size(peers);
             k++) {
            char *ppath = kp_path(path, peers_key, k);
            rule->n_peers++;
            error = kp_np_peer(json_array_get(peers, k), ppath,
                               &rule->peers[k]);
            free(ppath);
        }
        if (!error && ports) {
            rule->ports = xcalloc(json_array_size(ports) + 1,
                                  sizeof *rule->ports);
        }
        for (size_t k = 0; !error && ports && k < json_array_size(ports);
             k++) {
            char *ppath = kp_path(path, "ports", k);
            rule->n_ports++;
            error = kp_np_port(json_array_get(ports, k), ppath,
                               &rule->ports[k]);
            free(ppath);
        }
        free(path);
    }
    return error;
}

static char *
kp_network_policy(const json_t *json, struct k8s_network_policy *np)
{
    const json_t *spec, *types;
    char *error;

    error = kp_object(json, "", "spec", true, &spec);
    if (!error) {
        error = kp_selector(spec, "spec", "podSelector", true,
                            &np->pod_selector);
    }
    if (!error) {
        error = kp_np_rules(spec, "ingress", "from", &np->ingress,
                            &np->n_ingress);
    }
    if (!error) {
        error = kp_np_rules(spec, "egress", "to", &np->egress,
                            &np->n_egress);
    }
    if (!error) {
        error = kp_array(spec, "spec", "policyTypes", false, &types);
    }
    if (error) {
        return error;
    }

    if (!types || !json_array_size(types)) {
        np->policy_ingress = true;
        np->policy_egress = np->n_egress > 0;
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(types); i++) {
        const json_t *t = json_array_get(types, i);
        const char *s = json_is_string(t) ? json_string_value(t) : NULL;
        if (s && !strcmp(s, "Ingress")) {
            np->policy_ingress = true;
        } else if (s && !strcmp(s, "Egress")) {
            np->policy_egress = true;
        } else if (s) {
            return xasprintf("spec.policyTypes[%zu] \"%s\" is not Ingress or "
                             "Egress", i, s);
        } else {
            return xasprintf("spec.policyTypes[%zu] is %s, expected a "
                             "string", i, json_type_name(t));
        }
    }
    return NULL;
}

/* Entry points. */

static struct k8s_object *
k8s_object_alloc(enum k8s_kind kind)
{
    static const size_t sizes[K8S_N_KINDS] = {
        [K8S_NODE] = sizeof(struct k8s_node),
        [K8S_NAMESPACE] = sizeof(struct k8s_namespace),
        [K8S_POD] = sizeof(struct k8s_pod),
        [K8S_SERVICE] = sizeof(struct k8s_service),
        [K8S_ENDPOINT_SLICE] = sizeof(struct k8s_endpoint_slice),
        [K8S_NETWORK_POLICY] = sizeof(struct k8s_network_policy),
    };
    struct k8s_object *obj = xzalloc(sizes[kind]);

    obj->kind = kind;
    smap_init(&obj->labels);
    if (kind == K8S_SERVICE) {
        smap_init(&CONTAINER_OF(obj, struct k8s_service, obj)->selector);
    }
    return obj;
}

/* Returns "Kind ns/name: 'error'" (freeing 'error'), with whatever of the
 * name 'json' has. */
static char *
k8s_object_error(enum k8s_kind kind, const json_t *json, char *error)
{
    const json_t *meta = json_is_object(json)
                         ? json_object_get(json, "metadata") : NULL;
    const json_t *ns = meta ? json_object_get(meta, "namespace") : NULL;
    const json_t *name = meta ? json_object_get(meta, "name") : NULL;
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, k8s_kind_to_string(kind));
    if (json_is_string(name) && *json_string_value(name)) {
        ds_put_char(&s, ' ');
        if (k8s_kind_is_namespaced(kind) && json_is_string(ns)) {
            ds_put_format(&s, "%s/", json_string_value(ns));
        }
        ds_put_cstr(&s, json_string_value(name));
    }
    ds_put_format(&s, ": %s", error);
    free(error);
    return ds_steal_cstr(&s);
}

/* Parses 'json', an object of the given 'kind'.  See k8s-object.h. */
char *
k8s_object_parse(enum k8s_kind kind, const json_t *json,
                 struct k8s_object **objp)
{
    *objp = NULL;
    if ((unsigned int) kind >= K8S_N_KINDS) {
        return xasprintf("bad kind %d", (int) kind);
    } else if (!json_is_object(json)) {
        return xasprintf("%s: object is %s, expected an object",
                         k8s_kind_to_string(kind), json_type_name(json));
    }

    struct k8s_object *obj = k8s_object_alloc(kind);
    const char *kind_string;
    char *error = kp_meta(json, obj);
    if (!error) {
        error = kp_string(json, "", "kind", false, &kind_string);
        if (!error && kind_string
            && strcmp(kind_string, k8s_kind_to_string(kind))) {
            error = xasprintf("kind is \"%s\", expected \"%s\"", kind_string,
                              k8s_kind_to_string(kind));
        }
    }
    if (!error) {
        switch (kind) {
        case K8S_NODE:
            error = kp_node(json, CONTAINER_OF(obj, struct k8s_node, obj));
            break;
        case K8S_NAMESPACE:
            break;
        case K8S_POD:
            error = kp_pod(json, CONTAINER_OF(obj, struct k8s_pod, obj));
            break;
        case K8S_SERVICE:
            error = kp_service(json, CONTAINER_OF(obj, struct k8s_service,
                                                  obj));
            break;
        case K8S_ENDPOINT_SLICE:
            error = kp_endpoint_slice(
                json, CONTAINER_OF(obj, struct k8s_endpoint_slice, obj));
            break;
        case K8S_NETWORK_POLICY:
            error = kp_network_policy(
                json, CONTAINER_OF(obj, struct k8s_network_policy, obj));
            break;
        }
    }
    if (error) {
        k8s_object_destroy(obj);
        return k8s_object_error(kind, json, error);
    }
    *objp = obj;
    return NULL;
}

/* Parses 'json' as the kind its "kind" member names (watch events carry
 * it). */
char *
k8s_object_parse_any(const json_t *json, struct k8s_object **objp)
{
    const json_t *kind_json = json_is_object(json)
                              ? json_object_get(json, "kind") : NULL;
    enum k8s_kind kind;

    *objp = NULL;
    if (!json_is_string(kind_json)) {
        return xstrdup("object has no \"kind\"");
    } else if (!k8s_kind_from_string(json_string_value(kind_json), &kind)) {
        return xasprintf("kind \"%s\" is not one the agent knows",
                         json_string_value(kind_json));
    }
    return k8s_object_parse(kind, json, objp);
}

char *
k8s_object_key(const struct k8s_object *obj)
{
    return (obj->namespace
            ? xasprintf("%s/%s", obj->namespace, obj->name)
            : xstrdup(obj->name));
}

const struct k8s_node *
k8s_node_cast(const struct k8s_object *obj)
{
    ovs_assert(obj->kind == K8S_NODE);
    return CONTAINER_OF(obj, struct k8s_node, obj);
}

const struct k8s_namespace *
k8s_namespace_cast(const struct k8s_object *obj)
{
    ovs_assert(obj->kind == K8S_NAMESPACE);
    return CONTAINER_OF(obj, struct k8s_namespace, obj);
}

const struct k8s_pod *
k8s_pod_cast(const struct k8s_object *obj)
{
    ovs_assert(obj->kind == K8S_POD);
    return CONTAINER_OF(obj, struct k8s_pod, obj);
}

const struct k8s_service *
k8s_service_cast(const struct k8s_object *obj)
{
    ovs_assert(obj->kind == K8S_SERVICE);
    return CONTAINER_OF(obj, struct k8s_service, obj);
}

const struct k8s_endpoint_slice *
k8s_endpoint_slice_cast(const struct k8s_object *obj)
{
    ovs_assert(obj->kind == K8S_ENDPOINT_SLICE);
    return CONTAINER_OF(obj, struct k8s_endpoint_slice, obj);
}

const struct k8s_network_policy *
k8s_network_policy_cast(const struct k8s_object *obj)
{
    ovs_assert(obj->kind == K8S_NETWORK_POLICY);
    return CONTAINER_OF(obj, struct k8s_network_policy, obj);
}

uint16_t
k8s_pod_find_port(const struct k8s_pod *pod, const char *name,
                  enum k8s_protocol protocol)
{
    for (size_t i = 0; i < pod->n_ports; i++) {
        const struct k8s_container_port *cp = &pod->ports[i];
        if (cp->protocol == protocol && *cp->name && !strcmp(cp->name, name)) {
            return cp->port;
        }
    }
    return 0;
}
