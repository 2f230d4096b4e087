/*
 * CNI spec versions, results and errors, encoded in the version the runtime
 * asked for.
 *
 * A result is built in C (struct cni_result) and turned into JSON for one
 * spec version at the end; a "prevResult" of any supported version is
 * decoded into the same struct.  Errors carry the spec's codes.
 *
 * What changes between the versions we speak (CNI SPEC.md, spec-v0.3.0 to
 * spec-v1.1.0):
 *   - 0.3.0, 0.3.1, 0.4.0: every "ips" entry has "version": "4" or "6".
 *   - 1.0.0: "version" is gone from "ips".
 *   - 1.1.0: "interfaces" entries may carry "mtu".
 * The output otherwise follows the reference library (libcni's types040 and
 * types100): empty lists are left out, "dns" is always present (here always
 * empty), an "ips" entry names its interface by index.
 */
#ifndef TENDRIL_CNI_RESULT_H
#define TENDRIL_CNI_RESULT_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/agent-protocol.h"
#include "openvswitch/compiler.h"
#include "openvswitch/types.h"

#include "lib/cidr.h"
#include "lib/json-util.h"

/* The spec versions the binary accepts, oldest first. */
enum cni_version {
    CNI_VERSION_0_3_0,
    CNI_VERSION_0_3_1,
    CNI_VERSION_0_4_0,
    CNI_VERSION_1_0_0,
    CNI_VERSION_1_1_0,
    CNI_N_VERSIONS
};
#define CNI_VERSION_LATEST CNI_VERSION_1_1_0

bool cni_version_parse(const char *, enum cni_version *);
const char *cni_version_to_string(enum cni_version);
const char *cni_supported_versions(void);     /* "0.3.0, 0.3.1, ..." */
json_t *cni_supported_versions_json(void);    /* New reference. */

/* The error codes (enum cni_error_code) are in lib/agent-protocol.h. */

/* A CNI error.  'msg' is short; 'details' (may be NULL) says more.  Both are
 * owned by the error. */
struct cni_error {
    int code;
    char *msg;
    char *details;
};

struct cni_error *cni_error_create(int code, const char *msg,
                                   const char *details);
struct cni_error *cni_error_format(int code, const char *msg,
                                   const char *details_format, ...)
    OVS_PRINTF_FORMAT(3, 4);
void cni_error_destroy(struct cni_error *);
json_t *cni_error_to_json(const struct cni_error *, enum cni_version);

/* MAC addresses in results: "0a:58:0a:f4:01:05".  The parser also takes
 * upper case and '-' separators; the formatter writes lower case with ':'. */
#define CNI_MAC_STRLEN 18
char *cni_mac_parse(const char *, struct eth_addr *) OVS_WARN_UNUSED_RESULT;
const char *cni_mac_format(const struct eth_addr *, char buf[CNI_MAC_STRLEN]);

/* An interface the plugin created or knows about. */
struct cni_interface {
    char *name;                 /* Owned. */
    bool has_mac;
    struct eth_addr mac;
    char *sandbox;              /* Owned netns path; NULL for a host side. */
    unsigned int mtu;           /* 0 if unknown.  Emitted from 1.1.0 on. */
};

/* An address assigned to an interface: "10.244.1.5/24". */
struct cni_ip {
    struct ipaddr addr;
    unsigned int plen;
    bool has_gateway;
    struct ipaddr gateway;      /* Same family as 'addr'. */
    int interface;              /* Index in the result's interfaces, or -1. */
};

/* A route: "dst" is a prefix (host bits zero), "gw" optional. */
struct cni_route {
    struct cidr dst;
    bool has_gw;
    struct ipaddr gw;           /* Same family as 'dst'. */
};

/* A result.  The arrays are owned; cni_result_uninit() frees them. */
struct cni_result {
    struct cni_interface *interfaces;
    size_t n_interfaces;
    struct cni_ip *ips;
    size_t n_ips;
    struct cni_route *routes;
    size_t n_routes;
};

void cni_result_init(struct cni_result *);
void cni_result_uninit(struct cni_result *);
size_t cni_result_add_interface(struct cni_result *, const char *name,
                                const struct eth_addr *mac,
                                const char *sandbox, unsigned int mtu);
void cni_result_add_ip(struct cni_result *, const struct ipaddr *,
                       unsigned int plen, const struct ipaddr *gateway,
                       int interface);
void cni_result_add_route(struct cni_result *, const struct cidr *dst,
                          const struct ipaddr *gw);

json_t *cni_result_to_json(const struct cni_result *, enum cni_version);
char *cni_result_from_json(const json_t *, struct cni_result *)
    OVS_WARN_UNUSED_RESULT;

/* One "ips" or "routes" entry, as in a result or in the agent's replies.
 * The "ips" parser leaves 'interface' at -1 unless the entry names one. */
char *cni_ip_from_json(const json_t *, struct cni_ip *)
    OVS_WARN_UNUSED_RESULT;
char *cni_route_from_json(const json_t *, struct cni_route *)
    OVS_WARN_UNUSED_RESULT;

#endif /* cni/result.h */
