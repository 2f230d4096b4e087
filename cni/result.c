#include "ovs-config.h"
#include "cni/result.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

static const char *const cni_version_names[CNI_N_VERSIONS] = {
    [CNI_VERSION_0_3_0] = "0.3.0",
    [CNI_VERSION_0_3_1] = "0.3.1",
    [CNI_VERSION_0_4_0] = "0.4.0",
    [CNI_VERSION_1_0_0] = "1.0.0",
    [CNI_VERSION_1_1_0] = "1.1.0",
};

/* Looks 's' up among the supported versions.  Like libcni, the match is
 * exact: "1.0" or "v1.0.0" are not supported versions. */
bool
cni_version_parse(const char *s, enum cni_version *version)
{
    for (int i = 0; i < CNI_N_VERSIONS; i++) {
        if (!strcmp(s, cni_version_names[i])) {
            *version = i;
            return true;
        }
    }
    return false;
}

const char *
cni_version_to_string(enum cni_version version)
{
    ovs_assert((unsigned int) version < CNI_N_VERSIONS);
    return cni_version_names[version];
}

const char *
cni_supported_versions(void)
{
    return "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0";
}

json_t *
cni_supported_versions_json(void)
{
    json_t *array = tjson_array();
    for (int i = 0; i < CNI_N_VERSIONS; i++) {
        json_array_append_new(array,
                              tjson_string(cni_version_names[i]));
    }
    return array;
}

/* Errors. */

struct cni_error *
cni_error_create(int code, const char *msg, const char *details)
{
    struct cni_error *error = xmalloc(sizeof *error);
    error->code = code;
    error->msg = xstrdup(msg);
    error->details = details && details[0] ? xstrdup(details) : NULL;
    return error;
}

struct cni_error *
cni_error_format(int code, const char *msg, const char *details_format, ...)
{
    va_list args;
    va_start(args, details_format);
    char *details = xvasprintf(details_format, args);
    va_end(args);

    struct cni_error *error = cni_error_create(code, msg, details);
    free(details);
    return error;
}

void
cni_error_destroy(struct cni_error *error)
{
    if (error) {
        free(error->msg);
        free(error->details);
        free(error);
    }
}

/* Returns the spec's error object, new reference.  "details" is left out
 * when there are none, as the reference library does. */
json_t *
cni_error_to_json(const struct cni_error *error, enum cni_version version)
{
    json_t *json = tjson_object();
    json_object_set_new(json, "cniVersion",
                        tjson_string(cni_version_to_string(version)));
    json_object_set_new(json, "code", tjson_integer(error->code));
    json_object_set_new(json, "msg", tjson_string(error->msg));
    if (error->details) {
        json_object_set_new(json, "details", tjson_string(error->details));
    }
    return json;
}

/* MAC addresses. */

static int
hex_digit(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

char *
cni_mac_parse(const char *s, struct eth_addr *mac)
{
    memset(mac, 0, sizeof *mac);
    if (strlen(s) != 17) {
        goto error;
    }
    for (int i = 0; i < 6; i++) {
        const char *p = &s[i * 3];
        int hi = hex_digit(p[0]);
        int lo = hex_digit(p[1]);
        if (hi < 0 || lo < 0
            || (i < 5 && p[2] != ':' && p[2] != '-')
            || (i > 0 && p[-1] != s[2])) {
            goto error;
        }
        mac->ea[i] = hi * 16 + lo;
    }
    return NULL;

error:
    memset(mac, 0, sizeof *mac);
    return xasprintf("\"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)", s);
}

const char *
cni_mac_format(const struct eth_addr *mac, char buf[CNI_MAC_STRLEN])
{
    snprintf(buf, CNI_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac->ea[0], mac->ea[1], mac->ea[2], mac->ea[3], mac->ea[4],
             mac->ea[5]);
    return buf;
}

/* Building results. */

void
cni_result_init(struct cni_result *result)
{
    memset(result, 0, sizeof *result);
}

void
cni_result_uninit(struct cni_result *result)
{
    if (result) {
        for (size_t i = 0; i < result->n_interfaces; i++) {
            free(result->interfaces[i].name);
            free(result->interfaces[i].sandbox);
        }
        free(result->interfaces);
        free(result->ips);
        free(result->routes);
        memset(result, 0, sizeof *result);
    }
}

/* Appends an interface and returns its index, which "ips" entries use.
 * 'mac' and 'sandbox' may be NULL; 'mtu' may be 0 (unknown). */
size_t
cni_result_add_interface(struct cni_result *result, const char *name,
                         const struct eth_addr *mac, const char *sandbox,
                         unsigned int mtu)
{
    result->interfaces = xrealloc(result->interfaces,
                                  (result->n_interfaces + 1)
                                  * sizeof *result->interfaces);
    struct cni_interface *iface = &result->interfaces[result->n_interfaces];
    memset(iface, 0, sizeof *iface);
    iface->name = xstrdup(name);
    if (mac) {
        iface->has_mac = true;
        iface->mac = *mac;
    }
    iface->sandbox = sandbox && sandbox[0] ? xstrdup(sandbox) : NULL;
    iface->mtu = mtu;
    return result->n_interfaces++;
}

/* Appends an address 'addr'/'plen' on interface index 'interface' (-1 for
 * none).  'gateway' may be NULL. */
void
cni_result_add_ip(struct cni_result *result, const struct ipaddr *addr,
                  unsigned int plen, const struct ipaddr *gateway,
                  int interface)
{
    result->ips = xrealloc(result->ips,
                           (result->n_ips + 1) * sizeof *result->ips);
    struct cni_ip *ip = &result->ips[result->n_ips++];
    memset(ip, 0, sizeof *ip);
    ip->addr = *addr;
    ip->plen = plen;
    if (gateway) {
        ip->has_gateway = true;
        ip->gateway = *gateway;
    }
    ip->interface = interface;
}

/* Appends a route to 'dst' through 'gw' (NULL for none). */
void
cni_result_add_route(struct cni_result *result, const struct cidr *dst,
                     const struct ipaddr *gw)
{
    result->routes = xrealloc(result->routes,
                              (result->n_routes + 1) * sizeof *result->routes);
    struct cni_route *route = &result->routes[result->n_routes++];
    memset(route, 0, sizeof *route);
    route->dst = *dst;
    if (gw) {
        route->has_gw = true;
        route->gw = *gw;
    }
}

/* Encoding. */

static json_t *
ipaddr_to_json(const struct ipaddr *ip)
{
    char buf[IPADDR_STRLEN];
    return tjson_string(ipaddr_format(ip, buf));
}

static json_t *
interface_to_json(const struct cni_interface *iface, enum cni_version version)
{
    json_t *json = tjson_object();
    json_object_set_new(json, "name", tjson_string(iface->name));
    if (iface->has_mac) {
        char buf[CNI_MAC_STRLEN];
        json_object_set_new(json, "mac", tjson_string(
                                cni_mac_format(&iface->mac, buf)));
    }
    if (iface->mtu && version >= CNI_VERSION_1_1_0) {
        json_object_set_new(json, "mtu", tjson_integer(iface->mtu));
    }
    if (iface->sandbox) {
        json_object_set_new(json, "sandbox",
                            tjson_string(iface->sandbox));
    }
    return json;
}

static json_t *
ip_to_json(const struct cni_ip *ip, enum cni_version version)
{
    json_t *json = tjson_object();
    if (version < CNI_VERSION_1_0_0) {
        json_object_set_new(json, "version",
                            tjson_string(ip->addr.family == AF_INET
                                        ? "4" : "6"));
    }
    if (ip->interface >= 0) {
        json_object_set_new(json, "interface",
                            tjson_integer(ip->interface));
    }

    char addr[IPADDR_STRLEN];
    char *address = xasprintf("%s/%u", ipaddr_format(&ip->addr, addr),
                              ip->plen);
    json_object_set_new(json, "address", tjson_string(address));
    free(address);

    if (ip->has_gateway) {
        json_object_set_new(json, "gateway", ipaddr_to_json(&ip->gateway));
    }
    return json;
}

static json_t *
route_to_json(const struct cni_route *route)
{
    char buf[CIDR_STRLEN];
    json_t *json = tjson_object();
    json_object_set_new(json, "dst",
                        tjson_string(cidr_format(&route->dst, buf)));
    if (route->has_gw) {
        json_object_set_new(json, "gw", ipaddr_to_json(&route->gw));
    }
    return json;
}

/* Returns 'result' as the spec's result object for 'version', new
 * reference. */
json_t *
cni_result_to_json(const struct cni_result *result, enum cni_version version)
{
    json_t *json = tjson_object();
    json_object_set_new(json, "cniVersion",
                        tjson_string(cni_version_to_string(version)));
    if (result->n_interfaces) {
        json_t *array = tjson_array();
        for (size_t i = 0; i < result->n_interfaces; i++) {
            json_array_append_new(array,
                                  interface_to_json(&result->interfaces[i],
                                                    version));
        }
        json_object_set_new(json, "interfaces", array);
    }
    if (result->n_ips) {
        json_t *array = tjson_array();
        for (size_t i = 0; i < result->n_ips; i++) {
            json_array_append_new(array, ip_to_json(&result->ips[i],
                                                    version));
        }
        json_object_set_new(json, "ips", array);
    }
    if (result->n_routes) {
        json_t *array = tjson_array();
        for (size_t i = 0; i < result->n_routes; i++) {
            json_array_append_new(array, route_to_json(&result->routes[i]));
        }
        json_object_set_new(json, "routes", array);
    }
    json_object_set_new(json, "dns", tjson_object());
    return json;
}

/* Decoding. */

/* Sets '*s' to the string member 'key' of 'object', or NULL if there is
 * none.  Returns an error if the member is there but not a string. */
static char *
get_string(const json_t *object, const char *key, const char **s)
{
    const json_t *value = json_object_get(object, key);
    *s = NULL;
    if (!value || json_is_null(value)) {
        return NULL;
    } else if (!json_is_string(value)) {
        return xasprintf("\"%s\" is not a string", key);
    }
    *s = json_string_value(value);
    return NULL;
}

static char *
get_required_string(const json_t *object, const char *key, const char **s)
{
    char *error = get_string(object, key, s);
    if (!error && !*s) {
        error = xasprintf("\"%s\" is missing", key);
    }
    return error;
}

/* Sets '*n' to the integer member 'key' of 'object', which must lie in
 * [min, max], or to -1 if there is none. */
static char *
get_integer(const json_t *object, const char *key, json_int_t min,
            json_int_t max, json_int_t *n)
{
    const json_t *value = json_object_get(object, key);
    *n = -1;
    if (!value || json_is_null(value)) {
        return NULL;
    } else if (!json_is_integer(value)) {
        return xasprintf("\"%s\" is not an integer", key);
    }
    json_int_t v = json_integer_value(value);
    if (v < min || v > max) {
        return xasprintf("\"%s\" is %"JSON_INTEGER_FORMAT", out of range "
                         "%"JSON_INTEGER_FORMAT" to %"JSON_INTEGER_FORMAT,
                         key, v, min, max);
    }
    *n = v;
    return NULL;
}

static char *
interface_from_json(const json_t *json, struct cni_result *result)
{
    if (!json_is_object(json)) {
        return xstrdup("not an object");
    }

    const char *name, *mac_s, *sandbox;
    json_int_t mtu;
    char *error = get_required_string(json, "name", &name);
    if (!error) {
        error = get_string(json, "mac", &mac_s);
    }
    if (!error) {
        error = get_string(json, "sandbox", &sandbox);
    }
    if (!error) {
        error = get_integer(json, "mtu", 0, 65535, &mtu);
    }
    if (error) {
        return error;
    }
    if (!name[0]) {
        return xstrdup("\"name\" is empty");
    }

    struct eth_addr mac;
    if (mac_s && mac_s[0]) {
        error = cni_mac_parse(mac_s, &mac);
        if (error) {
            return error;
        }
    }
    cni_result_add_interface(result, name, mac_s && mac_s[0] ? &mac : NULL,
                             sandbox, mtu > 0 ? mtu : 0);
    return NULL;
}

char *
cni_ip_from_json(const json_t *json, struct cni_ip *ip)
{
    memset(ip, 0, sizeof *ip);
    ip->interface = -1;
    if (!json_is_object(json)) {
        return xstrdup("not an object");
    }

    const char *address, *gateway, *version;
    json_int_t interface;
    char *error = get_required_string(json, "address", &address);
    if (!error) {
        error = get_string(json, "gateway", &gateway);
    }
    if (!error) {
        error = get_string(json, "version", &version);
    }
    if (!error) {
        error = get_integer(json, "interface", 0, INT32_MAX, &interface);
    }
    if (!error) {
        error = cidr_parse_host(address, &ip->addr, &ip->plen);
    }
    if (error) {
        return error;
    }

    if (version) {
        const char *expected = ip->addr.family == AF_INET ? "4" : "6";
        if (strcmp(version, expected)) {
            return xasprintf("\"version\" is \"%s\" but \"%s\" is IPv%s",
                             version, address, expected);
        }
    }
    if (gateway && gateway[0]) {
        error = ipaddr_parse(gateway, &ip->gateway);
        if (error) {
            return error;
        }
        if (ip->gateway.family != ip->addr.family) {
            return xasprintf("gateway %s and address %s are of different "
                             "families", gateway, address);
        }
        ip->has_gateway = true;
    }
    ip->interface = interface;
    return NULL;
}

char *
cni_route_from_json(const json_t *json, struct cni_route *route)
{
    memset(route, 0, sizeof *route);
    if (!json_is_object(json)) {
        return xstrdup("not an object");
    }

    const char *dst, *gw;
    char *error = get_required_string(json, "dst", &dst);
    if (!error) {
        error = get_string(json, "gw", &gw);
    }
    if (!error) {
        error = cidr_parse(dst, &route->dst);
    }
    if (error) {
        return error;
    }

    if (gw && gw[0]) {
        error = ipaddr_parse(gw, &route->gw);
        if (error) {
            return error;
        }
        if (route->gw.family != route->dst.addr.family) {
            return xasprintf("gw %s and dst %s are of different families",
                             gw, dst);
        }
        route->has_gw = true;
    }
    return NULL;
}

/* Returns the array member 'key' of 'object' in '*array', or NULL if there
 * is none (a JSON null counts as none, as in Go). */
static char *
get_array(const json_t *object, const char *key, const json_t **array)
{
    const json_t *value = json_object_get(object, key);
    *array = NULL;
    if (!value || json_is_null(value)) {
        return NULL;
    } else if (!json_is_array(value)) {
        return xasprintf("\"%s\" is not an array", key);
    }
    *array = value;
    return NULL;
}

/* Decodes a result of any supported version (its own "cniVersion", if any,
 * is not checked: libcni hands a plugin its prevResult already converted to
 * the configuration's version).  Fields this struct does not hold (dns,
 * 1.1.0's socketPath, pciID and route attributes) are ignored.  On error,
 * '*result' is empty. */
char *
cni_result_from_json(const json_t *json, struct cni_result *result)
{
    cni_result_init(result);
    if (!json_is_object(json)) {
        return xstrdup("result is not an object");
    }

    const json_t *interfaces, *ips, *routes;
    char *error = get_array(json, "interfaces", &interfaces);
    if (!error) {
        error = get_array(json, "ips", &ips);
    }
    if (!error) {
        error = get_array(json, "routes", &routes);
    }
    if (error) {
        return error;
    }

    size_t i;
    const json_t *value;
    if (interfaces) {
        json_array_foreach (interfaces, i, value) {
            error = interface_from_json(value, result);
            if (error) {
                char *s = xasprintf("interfaces[%zu]: %s", i, error);
                free(error);
                error = s;
                goto error;
            }
        }
    }
    if (ips) {
        json_array_foreach (ips, i, value) {
            struct cni_ip ip;
            error = cni_ip_from_json(value, &ip);
            if (!error && ip.interface >= 0
                && ip.interface >= result->n_interfaces) {
                error = xasprintf("\"interface\" %d is not an index in "
                                  "\"interfaces\"", ip.interface);
            }
            if (error) {
                char *s = xasprintf("ips[%zu]: %s", i, error);
                free(error);
                error = s;
                goto error;
            }
            cni_result_add_ip(result, &ip.addr, ip.plen,
                              ip.has_gateway ? &ip.gateway : NULL,
                              ip.interface);
        }
    }
    if (routes) {
        json_array_foreach (routes, i, value) {
            struct cni_route route;
            error = cni_route_from_json(value, &route);
            if (error) {
                char *s = xasprintf("routes[%zu]: %s", i, error);
                free(error);
                error = s;
                goto error;
            }
            cni_result_add_route(result, &route.dst,
                                 route.has_gw ? &route.gw : NULL);
        }
    }
    return NULL;

error:
    cni_result_uninit(result);
    return error;
}
