/* Kubernetes objects as `ovs-appctl -t tendril-agent k8s/get` shows
 * them. */
#ifndef TENDRIL_AGENT_K8S_FORMAT_H
#define TENDRIL_AGENT_K8S_FORMAT_H 1

#include "openvswitch/compiler.h"

struct ds;
struct k8s_cache;

char *k8s_format_get(const struct k8s_cache *, const char *kind,
                     const char *key, struct ds *) OVS_WARN_UNUSED_RESULT;

#endif /* agent/k8s-format.h */
