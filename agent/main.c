/* tendril-agent: parses options, becomes a daemon, runs the loop. */
#include "ovs-config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "command-line.h"
#include "daemon.h"
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(main);

OVS_NO_RETURN static void usage(void);
static void parse_options(int argc, char *argv[], struct agent_config *,
                          char **unixctl_path);

static void
unixctl_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *exiting_)
{
    bool *exiting = exiting_;
    *exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* Runs one of the agent's formatters as a unixctl command. */
static void
reply_with(struct unixctl_conn *conn, struct agent *agent,
           void (*format)(const struct agent *, struct ds *))
{
    struct ds s = DS_EMPTY_INITIALIZER;
    format(agent, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

#define UNIXCTL_FORMATTER(NAME, FUNCTION)                                   \
    static void                                                             \
    NAME(struct unixctl_conn *conn, int argc OVS_UNUSED,                    \
         const char *argv[] OVS_UNUSED, void *agent)                        \
    {                                                                       \
        reply_with(conn, agent, FUNCTION);                                  \
    }
UNIXCTL_FORMATTER(unixctl_status, agent_format_status)
UNIXCTL_FORMATTER(unixctl_pods, agent_format_pods)
UNIXCTL_FORMATTER(unixctl_ipam, agent_format_ipam)
UNIXCTL_FORMATTER(unixctl_nodes, agent_format_nodes)
UNIXCTL_FORMATTER(unixctl_services, agent_format_services)
UNIXCTL_FORMATTER(unixctl_policies, agent_format_policies)
UNIXCTL_FORMATTER(unixctl_memory, agent_format_memory)
UNIXCTL_FORMATTER(unixctl_sync_stats, agent_format_sync_stats)

static void
reply_stats(const char *text, const char *error, void *conn)
{
    if (error) {
        unixctl_command_reply_error(conn, error);
    } else {
        unixctl_command_reply(conn, text);
    }
}

/* policy/stats: answered once the switch has sent its counters. */
static void
unixctl_policy_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
                     const char *argv[] OVS_UNUSED, void *agent)
{
    if (!agent_feature_stats(agent, "policies", reply_stats, conn)) {
        unixctl_command_reply_error(conn, "cannot ask the switch now (not "
                                    "connected, or another request is "
                                    "under way); try again");
    }
}

/* Replies with 'error' (freed) if nonnull, else with 's'; destroys 's'. */
static void
reply_or_error(struct unixctl_conn *conn, char *error, struct ds *s)
{
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
    } else {
        unixctl_command_reply(conn, ds_cstr(s));
    }
    ds_destroy(s);
}

/* policy/explain SRC DST PROTO/PORT [SRC DST PROTO/PORT]... */
static void
unixctl_policy_explain(struct unixctl_conn *conn, int argc,
                       const char *argv[], void *agent)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = agent_policy_explain(agent, argc - 1, argv + 1, &s);
    reply_or_error(conn, error, &s);
}

/* flows/dump [--owner KIND/NAME] */
static void
unixctl_flows_dump(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *agent)
{
    const char *owner = NULL;
    if (argc == 3 && !strcmp(argv[1], "--owner")) {
        owner = argv[2];
    } else if (argc != 1) {
        unixctl_command_reply_error(conn, "usage: flows/dump "
                                    "[--owner KIND/NAME]");
        return;
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    agent_dump_flows(agent, owner, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

/* k8s/status */
static void
unixctl_k8s_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
                   const char *argv[] OVS_UNUSED, void *agent)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = agent_format_k8s_status(agent, &s);
    reply_or_error(conn, error, &s);
}

/* k8s/get KIND [[NAMESPACE/]NAME] */
static void
unixctl_k8s_get(struct unixctl_conn *conn, int argc, const char *argv[],
                void *agent)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error = agent_format_k8s_get(agent, argv[1],
                                       argc > 2 ? argv[2] : NULL, &s);
    reply_or_error(conn, error, &s);
}

int
main(int argc, char *argv[])
{
    struct agent_config cfg;
    char *unixctl_path = NULL;

    /* OVS's own "version" command and --version print this. */
    ovs_set_program_name(argv[0], TENDRIL_VERSION);
    service_start(&argc, &argv);
    fatal_ignore_sigpipe();
    agent_config_init(&cfg);
    parse_options(argc, argv, &cfg, &unixctl_path);

    char *error = agent_config_validate(&cfg);
    if (error) {
        ovs_fatal(0, "%s", error);
    }

    daemonize_start(false);
    struct unixctl_server *unixctl;
    int retval = unixctl_server_create(unixctl_path, &unixctl);
    if (retval) {
        exit(EXIT_FAILURE);
    }

    struct agent *agent;
    error = agent_create(&cfg, &agent);
    if (error) {
        VLOG_FATAL("%s", error);
    }
    daemonize_complete();
    VLOG_INFO("tendril-agent %s on node %s", TENDRIL_VERSION,
              cfg.node_name);

    bool exiting = false;
    unixctl_command_register("exit", "", 0, 0, unixctl_exit, &exiting);
    unixctl_command_register("agent/status", "", 0, 0, unixctl_status,
                             agent);
    unixctl_command_register("pods/list", "", 0, 0, unixctl_pods, agent);
    unixctl_command_register("ipam/list", "", 0, 0, unixctl_ipam, agent);
    unixctl_command_register("nodes/list", "", 0, 0, unixctl_nodes, agent);
    unixctl_command_register("services/list", "", 0, 0, unixctl_services,
                             agent);
    unixctl_command_register("policy/list", "", 0, 0, unixctl_policies,
                             agent);
    unixctl_command_register("policy/stats", "", 0, 0, unixctl_policy_stats,
                             agent);
    unixctl_command_register("policy/explain",
                             "SRC DST PROTO/PORT [SRC DST PROTO/PORT]...",
                             3, INT_MAX, unixctl_policy_explain, agent);
    unixctl_command_register("memory/show", "", 0, 0, unixctl_memory, agent);
    unixctl_command_register("flows/sync-stats", "", 0, 0,
                             unixctl_sync_stats, agent);
    unixctl_command_register("flows/dump", "[--owner KIND/NAME]", 0, 2,
                             unixctl_flows_dump, agent);
    unixctl_command_register("k8s/status", "", 0, 0, unixctl_k8s_status,
                             agent);
    unixctl_command_register("k8s/get", "KIND [[NAMESPACE/]NAME]", 1, 2,
                             unixctl_k8s_get, agent);

    while (!exiting) {
        agent_run(agent);
        unixctl_server_run(unixctl);

        agent_wait(agent);
        unixctl_server_wait(unixctl);
        poll_block();
    }

    agent_destroy(agent);
    unixctl_server_destroy(unixctl);
    agent_config_destroy(&cfg);
    free(unixctl_path);
    service_stop();
    return 0;
}

OVS_NO_RETURN static void
usage(void)
{
    printf("%s: Tendril's node agent\n"
           "usage: %s [OPTIONS]\n"
           "\nConfiguration (a JSON file of the same names, overridden by "
           "options):\n"
           "  --config=FILE           read configuration from FILE\n"
           "  --node-name=NAME        this node (default: $NODE_NAME)\n"
           "  --kubeconfig=FILE       Kubernetes API credentials (JSON)\n"
           "  --in-cluster            use the pod's ServiceAccount instead\n"
           "  --api-server=URL        with --in-cluster: the API server "
           "(https://HOST:PORT)\n"
           "                          instead of KUBERNETES_SERVICE_HOST/"
           "PORT, a clusterIP\n"
           "                          that needs the agent's own flows\n"
           "  --k8s-insecure          allow insecure-skip-tls-verify\n"
           "  --ovsdb=REMOTE          OVSDB (default: "
           "unix:/var/run/openvswitch/db.sock)\n"
           "  --ovs-rundir=DIR        where BRIDGE.mgmt is (default: the "
           "OVSDB socket's directory)\n"
           "  --bridge=NAME           integration bridge (default: br-int)\n"
           "  --datapath-type=TYPE    system or netdev (default: system)\n"
           "  --tunnel-type=TYPE      geneve or vxlan (default: geneve)\n"
           "  --encap-mode=MODE       encap or noEncap (default: encap)\n"
           "  --mtu=N                 pod and gateway MTU (default: 1500 "
           "less tunnel overhead)\n"
           "  --cni-socket=PATH       (default: /var/run/tendril/cni.sock)\n"
           "  --state-dir=DIR         (default: /var/lib/tendril)\n"
           "  --pod-cidr=CIDR         this node's podCIDR (default: the "
           "Node's spec.podCIDR,\n"
           "                          read once: a change needs a restart)\n"
           "  --service-cidr=CIDR     the cluster's Service range: the node "
           "reaches\n"
           "                          clusterIPs in it through br-int\n"
           "  --cni-timeout-ms=N      how long an ADD waits for flows "
           "(default: 10000)\n"
           "  --proxy=MODE            tendril: load-balance Services in "
           "br-int (default);\n"
           "                          none: leave them to kube-proxy\n"
           "  --nodeport-addresses=CIDR[,CIDR]  node addresses that serve "
           "NodePorts\n"
           "                          (default: every address but "
           "loopback)\n"
           "  --metrics-address=[IP]:PORT  serve Prometheus metrics at "
           "/metrics\n"
           "                          (default: none)\n",
           program_name, program_name);
    daemon_usage();
    vlog_usage();
    printf("\nOther options:\n"
           "  --unixctl=SOCKET        override default control socket name\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n");
    exit(EXIT_SUCCESS);
}

static void
parse_options(int argc, char *argv[], struct agent_config *cfg,
              char **unixctl_path)
{
    enum {
        OPT_CONFIG = UCHAR_MAX + 1,
        OPT_FIELD,
        OPT_UNIXCTL,
        OPT_FLAG,
        VLOG_OPTION_ENUMS,
        DAEMON_OPTION_ENUMS,
    };
    static const char *fields[] = {
        "node-name", "kubeconfig", "api-server", "metrics-address", "ovsdb",
        "ovs-rundir", "bridge",
        "datapath-type", "tunnel-type", "encap-mode", "mtu", "cni-socket",
        "state-dir", "pod-cidr", "service-cidr", "cni-timeout-ms", "proxy",
        "nodeport-addresses",
    };
    struct option long_options[ARRAY_SIZE(fields) + 32];
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        long_options[n++] = (struct option) {
            fields[i], required_argument, NULL, OPT_FIELD
        };
    }
    static const struct option others[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        {"in-cluster", no_argument, NULL, OPT_FLAG},
        {"k8s-insecure", no_argument, NULL, OPT_FLAG},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        VLOG_LONG_OPTIONS,
        DAEMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
        ovs_assert(n < ARRAY_SIZE(long_options));
        long_options[n++] = others[i];
    }
    char *short_options = ovs_cmdl_long_options_to_short_options(
        long_options);

    /* The configuration file first, so that options override it wherever
     * it stands on the command line. */
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if (!strncmp(argv[i], "--config=", 9)) {
            path = argv[i] + 9;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            path = argv[i + 1];
        }
        if (path) {
            char *error = agent_config_load_file(cfg, path);
            if (error) {
                ovs_fatal(0, "%s", error);
            }
        }
    }

    int option_index;
    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options,
                            &option_index);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_FIELD: {
            char *error = agent_config_set(
                cfg, long_options[option_index].name, optarg);
            if (error) {
                ovs_fatal(0, "%s", error);
            }
            break;
        }
        case OPT_FLAG: {
            char *error = agent_config_set(
                cfg, long_options[option_index].name, "true");
            if (error) {
                ovs_fatal(0, "%s", error);
            }
            break;
        }
        case OPT_CONFIG:
            break;
        case OPT_UNIXCTL:
            *unixctl_path = xstrdup(optarg);
            break;
        case 'h':
            usage();
        case 'V':
            ovs_print_version(0, 0);
            exit(EXIT_SUCCESS);
        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);
    if (optind < argc) {
        ovs_fatal(0, "unexpected argument \"%s\"", argv[optind]);
    }
}
