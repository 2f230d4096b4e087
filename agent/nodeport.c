#include "ovs-config.h"
#include "agent/nodeport.h"

#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

#include "flows/service.h"
#include "ovsdb/bridge.h"
#include "openvswitch/dynamic-string.h"
#include "sset.h"
#include "util.h"

#define NODEPORT_TABLE "ip tendril"

/* Appends "{ a, b }" of the ports of 'proto' in 'ports'; returns how many. */
static size_t
put_ports(struct ds *s, const struct sset *ports, const char *proto)
{
    size_t n = 0, len = strlen(proto);
    const char **sorted = sset_sort(ports);
    for (size_t i = 0; sorted[i]; i++) {
        const char *p = sorted[i];
        if (!strncmp(p, proto, len) && p[len] == '/') {
            ds_put_format(s, "%s%s", n ? ", " : "{ ", p + len + 1);
            n++;
        }
    }
    free(sorted);
    if (n) {
        ds_put_cstr(s, " }");
    }
    return n;
}

static void
put_rules(struct ds *s, const char *chain, const char *hook,
          const char *priority, const struct sset *ports,
          const char *addresses)
{
    ds_put_format(s, "  chain %s {\n    type nat hook %s priority %s; "
                  "policy accept;\n", chain, hook, priority);
    static const char *protos[] = { "tcp", "udp" };
    for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
        struct ds set = DS_EMPTY_INITIALIZER;
        if (put_ports(&set, ports, protos[i])) {
            ds_put_cstr(s, "    fib daddr type local ip daddr != "
                        "127.0.0.0/8 ");
            if (addresses && *addresses) {
                ds_put_format(s, "ip daddr { %s } ", addresses);
            }
            ds_put_format(s, "%s dport %s dnat to %s\n", protos[i],
                          ds_cstr(&set), SERVICE_NODEPORT_VIP);
        }
        ds_destroy(&set);
    }
    ds_put_cstr(s, "  }\n");
}

char *
nodeport_ruleset(const struct sset *ports, const char *addresses)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    /* "add" then "delete" works whether or not the table exists; the whole
     * script is one nftables transaction. */
    ds_put_cstr(&s, "add table "NODEPORT_TABLE"\n"
                "delete table "NODEPORT_TABLE"\n"
                "table "NODEPORT_TABLE" {\n");
    put_rules(&s, "prerouting", "prerouting", "dstnat", ports, addresses);
    put_rules(&s, "output", "output", "-100", ports, addresses);
    /* Service connections to endpoints outside the pod network leave the
     * switch masqueraded to SERVICE_HOST_SNAT_VIP; one that leaves the
     * node is masqueraded again, to the node's address, so that the
     * endpoint's node can answer it. */
    ds_put_cstr(&s, "  chain postrouting {\n"
                "    type nat hook postrouting priority srcnat; "
                "policy accept;\n"
                "    ip saddr "SERVICE_HOST_SNAT_VIP" oifname != \""
                GW_PORT_NAME"\" masquerade\n"
                "  }\n}\n");
    return ds_steal_cstr(&s);
}

char *
nodeport_ruleset_delete(void)
{
    return xstrdup("add table "NODEPORT_TABLE"\n"
                   "delete table "NODEPORT_TABLE"\n");
}

char *
nodeport_run(const char *script)
{
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!nft) {
        return xstrdup("nftables: cannot create a context");
    }
    nft_ctx_buffer_output(nft);
    nft_ctx_buffer_error(nft);
    char *error = NULL;
    if (nft_run_cmd_from_buffer(nft, script)) {
        const char *msg = nft_ctx_get_error_buffer(nft);
        error = xasprintf("nftables: %s", msg && *msg ? msg : "failed");
        size_t len = strlen(error);
        while (len && error[len - 1] == '\n') {
            error[--len] = '\0';
        }
    }
    nft_ctx_free(nft);
    return error;
}
