/*
 * Pod attachments: one per CNI (container id, ifname), the pod's port on
 * br-int and its address.  OVSDB's Interface.external_ids are their durable
 * record; attachments_restore() rebuilds them from it after a restart.
 *
 * An attachment also holds the CNI ADD requests waiting for its flows.
 * Its flows themselves belong to the pods feature (agent/pods.c), which
 * renders every attachment that has an OpenFlow port.
 */
#ifndef TENDRIL_AGENT_ATTACHMENTS_H
#define TENDRIL_AGENT_ATTACHMENTS_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/cidr.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/types.h"
#include "packets.h"

struct bridge_ctl;
struct cni_request;
struct ipam;
struct smap;

struct attachment {
    struct hmap_node node;       /* In 'attachments', by key. */
    char *key;                   /* "CONTAINERID/IFNAME": the IPAM owner. */
    uint64_t serial;             /* Unique to this attachment, so that a
                                  * new one under an old key is seen. */
    char *container_id;
    char *ifname;
    char *host_ifname;           /* The br-int port. */
    char *netns;
    char *pod_namespace;         /* NULL outside Kubernetes. */
    char *pod_name;
    char *pod_uid;
    char *owner;                 /* Owner of its flows. */
    struct eth_addr mac;
    struct ipaddr ip;
    ofp_port_t ofport;           /* 0 until OVS numbers the port. */
    struct ovs_list waiters;     /* Contains "struct waiter"s. */
};

/* A CNI request answered later: an ADD once its attachment's flows are
 * installed, a DEL or GC once the flows it removed are gone. */
struct waiter {
    struct ovs_list node;        /* In an attachment's or the agent's
                                  * list. */
    struct cni_request *req;
    uint64_t seqno;              /* Desired version to wait for; 0: not
                                  * known yet. */
    char *owner;                 /* DEL: the owner whose flows must go. */
    long long int deadline;
    json_t *result;              /* DEL, GC: the reply. */
};

char *attachment_key(const char *container_id, const char *ifname);
struct attachment *attachment_find(const struct hmap *, const char *key);
struct attachment *attachment_create(struct hmap *, const char *container_id,
                                     const char *ifname);
void attachment_free(struct hmap *, struct attachment *);
void attachment_port_ids(const struct attachment *, struct smap *);
bool attachments_refresh_ports(struct hmap *, const struct bridge_ctl *);
void attachments_restore(struct hmap *, struct bridge_ctl *, struct ipam *);

struct waiter *waiter_add(struct ovs_list *, struct cni_request *,
                          uint64_t seqno, long long int timeout_ms,
                          json_t *result);
void waiter_reply(struct waiter *, json_t *result);
void waiter_fail(struct waiter *, int code, const char *msg,
                 const char *details);

#endif /* agent/attachments.h */
