/*
 * tendril: the CNI plugin.  The container runtime runs it with the CNI_*
 * environment and the network configuration on stdin; it prints a result
 * or an error as JSON on stdout.
 *
 * ADD makes a veth pair, the pod's end born in the pod's namespace as
 * CNI_IFNAME and the host's end named from the attachment, asks the agent
 * for an address (the agent attaches the host end to br-int and answers
 * once the pod's flows are installed), then configures the pod's end.
 * Any failure undoes what was done.
 */
#include "ovs-config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni/client.h"
#include "cni/result.h"
#include "cni/skel.h"
#include "hash.h"
#include "lib/cidr.h"
#include "lib/link.h"
#include "lib/netns.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "util.h"

/* The host end's name: "tnd" and 12 hex digits of a hash of the
 * attachment, so that DEL finds it without any state. */
static void
host_ifname(const char *container_id, const char *ifname, char name[16])
{
    char *key = xasprintf("%s/%s", container_id, ifname);
    uint32_t a = hash_string(key, 0), b = hash_string(key, 1);
    snprintf(name, 16, "tnd%08"PRIx32"%04"PRIx32, a, b & 0xffff);
    free(key);
}

static struct cni_error *
link_error(struct link_ns *ns, int error, const char *what)
{
    char *msg = link_ns_strerror(ns, error);
    struct cni_error *e = cni_error_create(CNI_ERR_IO, what, msg);
    free(msg);
    return e;
}

/* Asks the agent, turning every kind of failure into a CNI error. */
static struct cni_error *
ask_agent(const struct cni_config *cfg, enum cni_command cmd,
          json_t *request, json_t **resultp)
{
    struct cni_client_reply reply;
    cni_client_transact(cfg->agent_socket, cfg->timeout_ms, request, &reply);
    json_decref(request);

    struct cni_error *error = NULL;
    if (reply.status == CNI_CLIENT_OK) {
        if (resultp) {
            *resultp = json_incref(reply.result);
        }
    } else {
        error = cni_client_reply_to_error(&reply, cmd, cfg->agent_socket);
    }
    cni_client_reply_uninit(&reply);
    return error;
}

/* Configures the pod's end of the veth: MTU, checksum offload, address,
 * default route, loopback. */
static struct cni_error *
configure_pod(struct link_ns *host, struct link_ns *pod, const char *host_if,
              const char *ifname, const struct cni_result *res,
              const struct cni_agent_link *agent_link)
{
    struct link_info info;
    int error;

    if (agent_link->mtu) {
        error = link_set_mtu(pod, ifname, agent_link->mtu);
        if (!error) {
            error = link_set_mtu(host, host_if, agent_link->mtu);
        }
        if (error) {
            return link_error(pod, error, "setting the MTU failed");
        }
    }
    if (agent_link->tx_checksum_off) {
        error = link_set_tx_csum(pod, ifname, false);
        if (error) {
            return link_error(pod, error, "turning tx checksum offload off "
                              "failed");
        }
    }
    error = link_get(pod, ifname, &info);
    if (error) {
        return link_error(pod, error, "the pod's interface vanished");
    }
    for (size_t i = 0; i < res->n_ips; i++) {
        error = link_addr_add(pod, info.ifindex, &res->ips[i].addr,
                              res->ips[i].plen);
        if (error) {
            return link_error(pod, error, "adding the pod's address failed");
        }
    }
    for (size_t i = 0; i < res->n_routes; i++) {
        struct link_route route = {
            .dst = res->routes[i].dst,
            .ifindex = info.ifindex,
        };
        if (res->routes[i].has_gw) {
            route.gw = res->routes[i].gw;
        }
        error = link_route_add(pod, &route);
        if (error && error != EEXIST) {
            return link_error(pod, error, "adding a route failed");
        }
    }
    error = link_loopback_up(pod);
    if (error) {
        return link_error(pod, error, "bringing loopback up failed");
    }
    return NULL;
}

static struct cni_error *
cmd_add(const struct cni_env *env, const struct cni_config *cfg,
        json_t **output)
{
    char host_if[16];
    host_ifname(env->container_id, env->ifname, host_if);

    int nsfd;
    int error = tnetns_open(env->netns, &nsfd);
    if (error) {
        return cni_error_format(CNI_ERR_UNKNOWN_CONTAINER,
                                "cannot open the pod's network namespace",
                                "%s: %s", env->netns, tnetns_strerror(error));
    }

    struct link_ns *host = NULL, *pod = NULL;
    struct cni_error *cerr = NULL;
    json_t *agent_result = NULL;
    bool veth_made = false, agent_added = false;
    struct cni_result res;
    cni_result_init(&res);

    error = link_ns_open(-1, &host);
    if (!error) {
        error = link_ns_open(nsfd, &pod);
    }
    close(nsfd);
    if (error) {
        cerr = cni_error_create(CNI_ERR_IO, "cannot talk to the kernel "
                                "(netlink)", ovs_strerror(error));
        goto out;
    }

    struct link_info info;
    if (!link_get(pod, env->ifname, &info)) {
        cerr = cni_error_format(CNI_ERR_INVALID_ENV, "the interface already "
                                "exists in the pod", "%s in %s", env->ifname,
                                env->netns);
        goto out;
    }

    struct link_veth_options opts = {
        .host_name = host_if,
        .peer_name = env->ifname,
        .host_isolate = true,
    };
    struct link_info host_info, pod_info;
    char *msg = link_veth_add(host, pod, &opts, &host_info, &pod_info);
    if (msg) {
        cerr = cni_error_create(CNI_ERR_IO, "creating the veth pair failed",
                                msg);
        free(msg);
        goto out;
    }
    veth_made = true;

    cerr = ask_agent(cfg, CNI_CMD_ADD,
                     cni_request_add(env, host_if, &pod_info.mac),
                     &agent_result);
    if (cerr) {
        goto out;
    }
    agent_added = true;

    size_t host_idx = cni_result_add_interface(&res, host_if, &host_info.mac,
                                               NULL, 0);
    size_t pod_idx = cni_result_add_interface(&res, env->ifname,
                                              &pod_info.mac, env->netns, 0);
    (void) host_idx;
    struct cni_agent_link agent_link;
    struct cni_result agent_res;
    cni_result_init(&agent_res);
    msg = cni_agent_result_parse(agent_result, pod_idx, &agent_res,
                                 &agent_link);
    if (msg) {
        cerr = cni_error_create(CNI_ERR_AGENT_PROTOCOL, "the agent's answer "
                                "is malformed", msg);
        free(msg);
        cni_result_uninit(&agent_res);
        goto out;
    }
    for (size_t i = 0; i < agent_res.n_ips; i++) {
        const struct cni_ip *ip = &agent_res.ips[i];
        cni_result_add_ip(&res, &ip->addr, ip->plen,
                          ip->has_gateway ? &ip->gateway : NULL, pod_idx);
    }
    for (size_t i = 0; i < agent_res.n_routes; i++) {
        const struct cni_route *r = &agent_res.routes[i];
        cni_result_add_route(&res, &r->dst, r->has_gw ? &r->gw : NULL);
    }
    res.interfaces[pod_idx].mtu = agent_link.mtu;
    res.interfaces[host_idx].mtu = agent_link.mtu;
    cni_result_uninit(&agent_res);

    cerr = configure_pod(host, pod, host_if, env->ifname, &res, &agent_link);
    if (!cerr) {
        *output = cni_result_to_json(&res, cfg->version);
    }

out:
    if (cerr) {
        /* Undo: the agent forgets the attachment and its address; deleting
         * one end of the veth deletes both. */
        if (agent_added) {
            struct cni_error *e = ask_agent(cfg, CNI_CMD_DEL,
                                            cni_request_del(env), NULL);
            cni_error_destroy(e);
        }
        if (veth_made) {
            ignore(link_delete(host, host_if));
        }
    }
    json_decref(agent_result);
    cni_result_uninit(&res);
    link_ns_close(pod);
    link_ns_close(host);
    return cerr;
}

/* DEL: nothing that is already gone is an error. */
static struct cni_error *
cmd_del(const struct cni_env *env, const struct cni_config *cfg,
        json_t **output)
{
    struct cni_error *cerr = ask_agent(cfg, CNI_CMD_DEL,
                                       cni_request_del(env), NULL);
    if (cerr) {
        return cerr;
    }

    char host_if[16];
    host_ifname(env->container_id, env->ifname, host_if);
    struct link_ns *host;
    if (!link_ns_open(-1, &host)) {
        int error = link_delete(host, host_if);
        if (error && error != ENODEV) {
            cerr = link_error(host, error, "deleting the host's end of the "
                              "veth failed");
        }
        link_ns_close(host);
    }

    /* The pod's end goes with the host's; if only it is left (made by
     * something else), remove it too. */
    int nsfd;
    if (!cerr && env->netns && *env->netns && !tnetns_open(env->netns, &nsfd)) {
        struct link_ns *pod;
        if (!link_ns_open(nsfd, &pod)) {
            struct link_info info;
            if (!link_get(pod, env->ifname, &info)
                && !strcmp(info.kind, "veth")) {
                ignore(link_delete(pod, env->ifname));
            }
            link_ns_close(pod);
        }
        close(nsfd);
    }
    if (!cerr) {
        *output = NULL;
    }
    return cerr;
}

static struct cni_error *
cmd_check(const struct cni_env *env, const struct cni_config *cfg)
{
    json_t *agent_result = NULL;
    struct cni_error *cerr = ask_agent(cfg, CNI_CMD_CHECK,
                                       cni_request_check(env), &agent_result);
    if (cerr) {
        return cerr;
    }

    struct cni_result want;
    struct cni_agent_link agent_link;
    cni_result_init(&want);
    char *msg = cni_agent_result_parse(agent_result, 0, &want, &agent_link);
    json_decref(agent_result);
    if (msg) {
        cerr = cni_error_create(CNI_ERR_AGENT_PROTOCOL, "the agent's answer "
                                "is malformed", msg);
        free(msg);
        cni_result_uninit(&want);
        return cerr;
    }

    int nsfd;
    int error = tnetns_open(env->netns, &nsfd);
    if (error) {
        cni_result_uninit(&want);
        return cni_error_format(CNI_ERR_UNKNOWN_CONTAINER,
                                "cannot open the pod's network namespace",
                                "%s: %s", env->netns, tnetns_strerror(error));
    }
    struct link_ns *pod;
    error = link_ns_open(nsfd, &pod);
    close(nsfd);
    if (error) {
        cni_result_uninit(&want);
        return cni_error_create(CNI_ERR_IO, "cannot talk to the kernel",
                                ovs_strerror(error));
    }

    struct link_info info;
    if (link_get(pod, env->ifname, &info)) {
        cerr = cni_error_format(CNI_ERR_INTERNAL, "the pod's interface is "
                                "missing", "%s", env->ifname);
    } else if (!info.up) {
        cerr = cni_error_format(CNI_ERR_INTERNAL, "the pod's interface is "
                                "down", "%s", env->ifname);
    } else if (agent_link.mtu && info.mtu != agent_link.mtu) {
        cerr = cni_error_format(CNI_ERR_INTERNAL, "the pod's interface has "
                                "the wrong MTU", "%u instead of %u", info.mtu,
                                agent_link.mtu);
    }

    struct link_addr *addrs = NULL;
    size_t n_addrs = 0;
    if (!cerr && !link_addr_list(pod, info.ifindex, AF_UNSPEC, &addrs,
                                 &n_addrs)) {
        for (size_t i = 0; !cerr && i < want.n_ips; i++) {
            bool found = false;
            for (size_t j = 0; j < n_addrs; j++) {
                found |= (ipaddr_equals(&addrs[j].addr, &want.ips[i].addr)
                          && addrs[j].plen == want.ips[i].plen);
            }
            if (!found) {
                char ip[IPADDR_STRLEN];
                cerr = cni_error_format(CNI_ERR_INTERNAL, "the pod's "
                                        "interface lacks its address",
                                        "%s/%u", ipaddr_format(
                                            &want.ips[i].addr, ip),
                                        want.ips[i].plen);
            }
        }
    }
    free(addrs);

    struct link_route *routes = NULL;
    size_t n_routes = 0;
    if (!cerr && !link_route_list(pod, info.ifindex, AF_UNSPEC, &routes,
                                  &n_routes)) {
        for (size_t i = 0; !cerr && i < want.n_routes; i++) {
            bool found = false;
            for (size_t j = 0; j < n_routes; j++) {
                found |= cidr_equals(&routes[j].dst, &want.routes[i].dst);
            }
            if (!found) {
                char dst[CIDR_STRLEN];
                cerr = cni_error_format(CNI_ERR_INTERNAL, "the pod lacks a "
                                        "route", "%s",
                                        cidr_format(&want.routes[i].dst,
                                                    dst));
            }
        }
    }
    free(routes);
    link_ns_close(pod);
    cni_result_uninit(&want);
    return cerr;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    /* Nothing but the result may reach stdout. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);

    struct cni_env env;
    struct cni_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.version = CNI_VERSION_LATEST;
    json_t *output = NULL;
    struct ds input = DS_EMPTY_INITIALIZER;
    bool have_cfg = false;

    struct cni_error *cerr = cni_env_parse(cni_getenv_process, NULL, &env);
    if (!cerr) {
        cerr = cni_read_input(STDIN_FILENO, &input);
    }
    if (!cerr && env.command == CNI_CMD_VERSION) {
        cerr = cni_version_reply(ds_cstr(&input), input.length, &output);
    } else if (!cerr) {
        cerr = cni_config_parse(ds_cstr(&input), input.length, env.command,
                                &cfg);
        have_cfg = !cerr;
    }

    if (!cerr && have_cfg) {
        switch (env.command) {
        case CNI_CMD_ADD:
            cerr = cmd_add(&env, &cfg, &output);
            break;
        case CNI_CMD_DEL:
            cerr = cmd_del(&env, &cfg, &output);
            break;
        case CNI_CMD_CHECK:
            cerr = cmd_check(&env, &cfg);
            break;
        case CNI_CMD_STATUS: {
            json_t *result = NULL;
            cerr = ask_agent(&cfg, CNI_CMD_STATUS, cni_request_status(),
                             &result);
            if (!cerr) {
                cerr = cni_agent_status_to_error(result);
            }
            json_decref(result);
            break;
        }
        case CNI_CMD_GC:
            cerr = ask_agent(&cfg, CNI_CMD_GC, cni_request_gc(&cfg), NULL);
            break;
        case CNI_CMD_VERSION:
            break;
        }
    }

    int status = 0;
    if (cerr) {
        output = cni_error_to_json(cerr, cfg.version);
        cni_error_destroy(cerr);
        status = 1;
    }
    if (output) {
        char *text = json_dumps(output, JSON_INDENT(2));
        puts(text);
        free(text);
        json_decref(output);
    }
    /* Whatever cni_config_parse() said, and also when it never ran ('cfg' is
     * zeroed). */
    cni_config_uninit(&cfg);
    cni_env_uninit(&env);
    ds_destroy(&input);
    return status;
}
