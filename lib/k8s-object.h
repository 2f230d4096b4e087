/*
 * The Kubernetes objects the agent uses, parsed from the JSON the API server
 * returns (an item of a list, or the "object" of a watch event) into C
 * structs that keep only the fields the agent needs.
 *
 * Every kind embeds 'struct k8s_object' (kind, namespace, name, uid,
 * resourceVersion, labels) as its first member 'obj', so the state cache can
 * hold any kind as a 'struct k8s_object *'; k8s_pod_cast() and friends get
 * the full struct back.  An object owns all the memory it points to and is
 * freed with k8s_object_destroy().  Parsed objects are never modified.
 *
 * Parsing follows the API's own conventions: absent optional fields and
 * JSON null get the API's defaults (documented per field below), while
 * missing required fields, wrong JSON types, out-of-range numbers, unknown
 * enum values and unparsable addresses give an error, for example:
 *     Pod default/web: status.podIP "x" is not an IP address
 * Unknown fields are ignored.
 *
 * Strings that the API may omit are "" rather than NULL when "" is also
 * what the API means by absent (port names); fields where absence means
 * something different (a Pod's nodeName) are NULL when absent.
 */
#ifndef TENDRIL_K8S_OBJECT_H
#define TENDRIL_K8S_OBJECT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smap.h"
#include "lib/cidr.h"
#include "lib/label-selector.h"

enum k8s_kind {
    K8S_NODE,
    K8S_NAMESPACE,
    K8S_POD,
    K8S_SERVICE,
    K8S_ENDPOINT_SLICE,
    K8S_NETWORK_POLICY,
};
#define K8S_N_KINDS (K8S_NETWORK_POLICY + 1)

const char *k8s_kind_to_string(enum k8s_kind);  /* "Pod", "EndpointSlice"... */
bool k8s_kind_from_string(const char *, enum k8s_kind *);
bool k8s_kind_is_namespaced(enum k8s_kind);

/* Common metadata, the first member of every kind. */
struct k8s_object {
    enum k8s_kind kind;
    char *namespace;            /* NULL for Node and Namespace. */
    char *name;
    char *uid;
    char *resource_version;     /* Opaque: compare only for equality. */
    struct smap labels;         /* metadata.labels. */
};

/* Transport protocols of Service, EndpointSlice, container and policy ports;
 * the API's default is TCP everywhere. */
enum k8s_protocol {
    K8S_PROTO_TCP,
    K8S_PROTO_UDP,
    K8S_PROTO_SCTP,
};
const char *k8s_protocol_to_string(enum k8s_protocol);

/* An IntOrString port: a number, a named port, or nothing. */
enum k8s_port_ref_type {
    K8S_PORT_REF_NONE,
    K8S_PORT_REF_NUMBER,
    K8S_PORT_REF_NAME,
};
struct k8s_port_ref {
    enum k8s_port_ref_type type;
    uint16_t number;            /* 1..65535 for K8S_PORT_REF_NUMBER. */
    char *name;                 /* Nonempty for K8S_PORT_REF_NAME, else
                                 * NULL. */
};

/* Node. */
struct k8s_node {
    struct k8s_object obj;

    /* spec.podCIDRs, or spec.podCIDR alone if podCIDRs is absent; empty
     * until the controller manager allocates.  When both are present,
     * podCIDRs[0] must equal podCIDR. */
    struct cidr *pod_cidrs;
    size_t n_pod_cidrs;

    /* status.addresses of type InternalIP, in order. */
    struct ipaddr *internal_ips;
    size_t n_internal_ips;

    bool ready;                 /* Condition Ready has status "True". */
};

/* Namespace: only labels (in 'obj'), which namespaceSelectors match. */
struct k8s_namespace {
    struct k8s_object obj;
};

enum k8s_pod_phase {
    K8S_POD_PHASE_NONE,         /* status.phase absent. */
    K8S_POD_PHASE_PENDING,
    K8S_POD_PHASE_RUNNING,
    K8S_POD_PHASE_SUCCEEDED,
    K8S_POD_PHASE_FAILED,
    K8S_POD_PHASE_UNKNOWN,
};
const char *k8s_pod_phase_to_string(enum k8s_pod_phase);

/* A port of one of spec.containers[]. */
struct k8s_container_port {
    char *name;                 /* "" if unnamed. */
    uint16_t port;              /* containerPort, 1..65535. */
    enum k8s_protocol protocol;
};

struct k8s_pod {
    struct k8s_object obj;
    char *node_name;            /* spec.nodeName, NULL if unscheduled. */
    bool host_network;          /* spec.hostNetwork. */

    /* status.podIPs, or status.podIP alone if podIPs is absent; empty
     * until the pod has an address.  When both are present, podIPs[0] must
     * equal podIP. */
    struct ipaddr *pod_ips;
    size_t n_pod_ips;

    enum k8s_pod_phase phase;

    /* spec.containers[*].ports[*], container by container. */
    struct k8s_container_port *ports;
    size_t n_ports;
};

enum k8s_service_type {
    K8S_SERVICE_CLUSTER_IP,     /* Default. */
    K8S_SERVICE_NODE_PORT,
    K8S_SERVICE_LOAD_BALANCER,
    K8S_SERVICE_EXTERNAL_NAME,
};
const char *k8s_service_type_to_string(enum k8s_service_type);

enum k8s_traffic_policy {
    K8S_TRAFFIC_POLICY_CLUSTER, /* Default. */
    K8S_TRAFFIC_POLICY_LOCAL,
};

struct k8s_service_port {
    char *name;                 /* "" if unnamed (single-port Service). */
    enum k8s_protocol protocol;
    uint16_t port;              /* 1..65535. */
    struct k8s_port_ref target_port;  /* Defaults to 'port' as a number. */
    uint16_t node_port;         /* 0 if none. */
};

struct k8s_service {
    struct k8s_object obj;
    enum k8s_service_type type;

    /* spec.clusterIPs, or spec.clusterIP alone if clusterIPs is absent.
     * Empty for headless Services (clusterIP "None", then 'headless' is
     * true) and for ExternalName Services. */
    struct ipaddr *cluster_ips;
    size_t n_cluster_ips;
    bool headless;

    struct k8s_service_port *ports;
    size_t n_ports;

    /* spec.selector.  Empty means the Service has no selector: its
     * EndpointSlices are managed by someone else (not "select every
     * pod"). */
    struct smap selector;

    bool affinity_client_ip;    /* sessionAffinity is "ClientIP". */
    uint32_t affinity_timeout;  /* sessionAffinityConfig.clientIP.
                                 * timeoutSeconds, default 10800; 0 when
                                 * affinity is off. */

    struct ipaddr *external_ips;        /* spec.externalIPs. */
    size_t n_external_ips;
    struct ipaddr *lb_ips;      /* status.loadBalancer.ingress[*].ip (entries
                                 * with only a hostname are skipped). */
    size_t n_lb_ips;

    enum k8s_traffic_policy external_traffic_policy;
    enum k8s_traffic_policy internal_traffic_policy;
    uint16_t health_check_node_port;    /* spec.healthCheckNodePort, 0 if
                                         * none. */
};

enum k8s_address_type {
    K8S_ADDRESS_IPV4,
    K8S_ADDRESS_IPV6,
    K8S_ADDRESS_FQDN,
};

struct k8s_endpoint_port {
    char *name;                 /* "" if unnamed; matches the Service port's
                                 * name. */
    enum k8s_protocol protocol;
    uint16_t port;              /* 0 if absent ("all ports"). */
};

struct k8s_endpoint {
    /* Addresses: IPv4 or IPv6 as the slice's addressType says.  FQDN
     * slices' addresses are not kept (OVS cannot use names): 0 there. */
    struct ipaddr *addresses;
    size_t n_addresses;

    /* conditions, with the API's meaning of absent: ready defaults to true
     * (unknown means ready), serving to 'ready', terminating to false. */
    bool ready;
    bool serving;
    bool terminating;

    /* nodeName (v1), or topology["kubernetes.io/hostname"] (v1beta1), or
     * deprecatedTopology["kubernetes.io/hostname"] (v1); NULL if none. */
    char *node_name;

    /* targetRef when its kind is Pod (namespace defaults to the slice's),
     * else NULL. */
    char *pod_namespace;
    char *pod_name;
};

enum k8s_endpoint_slice_version {
    K8S_EPS_UNKNOWN,            /* No apiVersion (a list item). */
    K8S_EPS_V1,                 /* discovery.k8s.io/v1. */
    K8S_EPS_V1BETA1,            /* discovery.k8s.io/v1beta1. */
};

struct k8s_endpoint_slice {
    struct k8s_object obj;
    enum k8s_endpoint_slice_version version;
    char *service_name;         /* Label kubernetes.io/service-name, NULL if
                                 * absent (a slice not owned by a
                                 * Service). */
    enum k8s_address_type address_type;
    struct k8s_endpoint_port *ports;
    size_t n_ports;
    struct k8s_endpoint *endpoints;
    size_t n_endpoints;
};

/* NetworkPolicy networking.k8s.io/v1. */
struct k8s_ip_block {
    struct cidr cidr;           /* Host bits, if any, cleared (as the API's
                                 * net.ParseCIDR does). */
    struct cidr *except;        /* Each inside 'cidr'. */
    size_t n_except;
};

/* A peer: either selectors (at least one nonnull) or an ipBlock.
 *   pod_selector only:        pods in the policy's namespace.
 *   namespace_selector only:  every pod in the selected namespaces.
 *   both:                     selected pods in selected namespaces.
 *   ip_block:                 addresses, both selectors NULL. */
struct k8s_np_peer {
    struct label_selector *pod_selector;        /* NULL if absent. */
    struct label_selector *namespace_selector;  /* NULL if absent. */
    struct k8s_ip_block *ip_block;              /* NULL if absent. */
};

struct k8s_np_port {
    enum k8s_protocol protocol; /* Default TCP. */
    struct k8s_port_ref port;   /* K8S_PORT_REF_NONE: every port. */
    uint16_t end_port;          /* 0, or >= port.number (numeric port
                                 * only): the range port..end_port. */
};

/* A rule: no peers means every peer, no ports means every port. */
struct k8s_np_rule {
    struct k8s_np_peer *peers;
    size_t n_peers;
    struct k8s_np_port *ports;
    size_t n_ports;
};

struct k8s_network_policy {
    struct k8s_object obj;
    struct label_selector *pod_selector;  /* spec.podSelector, never NULL;
                                           * empty = every pod in the
                                           * namespace. */
    /* spec.policyTypes; if absent: Ingress always, Egress if there is at
     * least one egress rule (the API server's defaulting). */
    bool policy_ingress;
    bool policy_egress;
    struct k8s_np_rule *ingress;
    size_t n_ingress;
    struct k8s_np_rule *egress;
    size_t n_egress;
};

/* Parsing.  On success each stores a new object in '*objp' (the caller owns
 * it) and returns NULL; on failure stores NULL and returns a malloc'd error
 * "Kind namespace/name: field: problem".  'json' is not modified.  If the
 * object carries "kind" (watch events do, list items don't) it must match;
 * for EndpointSlice "apiVersion", if present, selects v1 or v1beta1. */
char *k8s_object_parse(enum k8s_kind, const json_t *, struct k8s_object **)
    __attribute__((warn_unused_result));
char *k8s_object_parse_any(const json_t *, struct k8s_object **)
    __attribute__((warn_unused_result));

void k8s_object_destroy(struct k8s_object *);

/* Returns "namespace/name", or "name" for cluster-scoped kinds; malloc'd. */
char *k8s_object_key(const struct k8s_object *);

/* Casts from the common header; each asserts the kind. */
const struct k8s_node *k8s_node_cast(const struct k8s_object *);
const struct k8s_namespace *k8s_namespace_cast(const struct k8s_object *);
const struct k8s_pod *k8s_pod_cast(const struct k8s_object *);
const struct k8s_service *k8s_service_cast(const struct k8s_object *);
const struct k8s_endpoint_slice *k8s_endpoint_slice_cast(
    const struct k8s_object *);
const struct k8s_network_policy *k8s_network_policy_cast(
    const struct k8s_object *);

/* Named-port resolution: the number of the container port of 'pod' named
 * 'name' with 'protocol', or 0 if none. */
uint16_t k8s_pod_find_port(const struct k8s_pod *, const char *name,
                           enum k8s_protocol);

#endif /* lib/k8s-object.h */
