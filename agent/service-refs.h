/*
 * What the Service ports share: group ids, derived from the port's name so
 * that they stay the same across restarts, and the EndpointDNAT flows of
 * endpoints, counted by the Service ports that use them.
 */
#ifndef TENDRIL_AGENT_SERVICE_REFS_H
#define TENDRIL_AGENT_SERVICE_REFS_H 1

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/hmap.h"

struct flow_table;
struct service_endpoint;
struct sset;

struct service_refs {
    struct hmap endpoints;       /* Contains "struct endpoint_use"s. */
    struct hmap group_ids;       /* Contains "struct group_id"s, by id. */
    struct hmap group_keys;      /* The same, by key. */
};

void service_refs_init(struct service_refs *);
void service_refs_destroy(struct service_refs *);

uint32_t service_refs_group_id(struct service_refs *, const char *key);
void service_refs_release_group(struct service_refs *, const char *key);

bool service_refs_ref_endpoint(struct service_refs *, struct flow_table *,
                               uint8_t ip_proto,
                               const struct service_endpoint *,
                               struct sset *uses);
void service_refs_unref_endpoint(struct service_refs *, struct flow_table *,
                                 const char *owner);

#endif /* agent/service-refs.h */
