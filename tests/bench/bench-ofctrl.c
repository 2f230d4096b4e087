/*
 * bench-ofctrl [--text] TARGET N [CHANGE_PERCENT]
 *
 * Installs N generated flows into the switch at TARGET (e.g.
 * unix:/run/x/br-bench.mgmt) through the flow controller, the way the agent
 * does, and prints how long that took until the switch confirmed it.  The
 * flows are built as matches and actions (flow_table_add_flow()), or with
 * --text printed and parsed (flow_table_add()).  Then changes one flow and
 * prints the CPU time that cost this process until the switch confirmed it
 * and the flow mods sent; with CHANGE_PERCENT, also changes that share of
 * the flows and prints the same.  With --print, writes the same N flows in
 * ovs-ofctl syntax to stdout instead, for the side-by-side run of
 * `ovs-ofctl --bundle add-flows`.
 */
#include "ovs-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include "flows/flow-table.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "flows/ofctrl.h"
#include "flows/tables.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

#define OWNER_SIZE 100           /* Flows per owner, like a pod's share. */

static void
flow_text(struct ds *s, int i, int version)
{
    ds_clear(s);
    ds_put_format(s, "ip,nw_dst=10.%d.%d.%d actions=set_field:"
                  "0a:58:00:00:%02x:%02x->eth_dst,load:%d->reg1,"
                  "goto_table:L3DecTTL", (i >> 16) & 0xff, (i >> 8) & 0xff,
                  i & 0xff, version & 0xff, i & 0xff, 1 + (i + version) % 60);
}

static bool use_text;

/* Flow 'i' in 'version' as a match and actions, the same as flow_text(). */
static void
flow_built(struct match *match, struct ofpbuf *ofpacts, int i, int version)
{
    match_init_catchall(match);
    match_set_dl_type(match, htons(ETH_TYPE_IP));
    match_set_nw_dst(match, htonl((10u << 24) | (i & 0xffffff)));

    ofpbuf_clear(ofpacts);
    union mf_value v;
    memset(&v, 0, sizeof v);
    v.mac = (struct eth_addr) ETH_ADDR_C(0a,58,00,00,00,00);
    v.mac.ea[4] = version & 0xff;
    v.mac.ea[5] = i & 0xff;
    ofpact_put_set_field(ofpacts, mf_from_id(MFF_ETH_DST), &v, NULL);
    memset(&v, 0, sizeof v);
    v.be32 = htonl(1 + (i + version) % 60);
    ofpact_put_set_field(ofpacts, mf_from_id(MFF_REG1), &v, NULL);
    ofpact_put_GOTO_TABLE(ofpacts)->table_id = TABLE_L3_DEC_TTL;
}

static void
add_flows(struct flow_table *ft, int n, int from, int to, int version)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpbuf ofpacts;
    struct match match;
    ofpbuf_init(&ofpacts, 64);
    for (int i = from; i < to && i < n; i++) {
        char owner[32];
        char *error;
        snprintf(owner, sizeof owner, "bench/%d", i / OWNER_SIZE);
        if (use_text) {
            flow_text(&s, i, version);
            error = flow_table_add(ft, owner, COOKIE_OTHER,
                                   TABLE_L3_FORWARDING, 100, "%s",
                                   ds_cstr(&s));
        } else {
            flow_built(&match, &ofpacts, i, version);
            error = flow_table_add_flow(ft, owner, COOKIE_OTHER,
                                        TABLE_L3_FORWARDING, 100, &match,
                                        ofpacts.data, ofpacts.size);
        }
        if (error) {
            ovs_fatal(0, "%s", error);
        }
    }
    ofpbuf_uninit(&ofpacts);
    ds_destroy(&s);
}

/* This process's CPU time, user and system, in microseconds. */
static long long int
cpu_usec(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL
            + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static uint64_t stat_value(const struct ofctrl *, const char *name);

static uint64_t
flow_mods(const struct ofctrl *oc)
{
    return (stat_value(oc, "flows modified: ")
            + stat_value(oc, "flows added: ")
            + stat_value(oc, "flows deleted: "));
}

/* Runs the controller until the switch has confirmed the desired table. */
static void
sync(struct ofctrl *oc, struct flow_table *ft)
{
    long long int deadline = time_msec() + 300000;
    for (;;) {
        ofctrl_run(oc, ft);
        if (ofctrl_installed_seqno(oc) >= ft->seqno) {
            return;
        }
        if (time_msec() > deadline) {
            ovs_fatal(0, "the switch did not confirm within 300 s");
        }
        ofctrl_wait(oc, ft);
        poll_block();
    }
}

static uint64_t
stat_value(const struct ofctrl *oc, const char *name)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ofctrl_format_stats(oc, &s);
    const char *p = strstr(ds_cstr(&s), name);
    uint64_t value = p ? strtoull(p + strlen(name), NULL, 10) : 0;
    ds_destroy(&s);
    return value;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    if (argc > 1 && !strcmp(argv[1], "--text")) {
        use_text = true;
        argv++;
        argc--;
    }
    vlog_set_levels(NULL, VLF_ANY_DESTINATION,
                    getenv("BENCH_DEBUG") ? VLL_DBG : VLL_WARN);
    /* The long installs are expected: no poll-interval reports. */
    static const char *const quiet[] = { "timeval", "coverage", "poll_loop" };
    for (size_t i = 0; i < ARRAY_SIZE(quiet); i++) {
        vlog_set_levels(vlog_module_from_name(quiet[i]), VLF_ANY_DESTINATION,
                        VLL_ERR);
    }

    if (argc == 3 && !strcmp(argv[1], "--print")) {
        int n = atoi(argv[2]);
        struct ds s = DS_EMPTY_INITIALIZER;
        for (int i = 0; i < n; i++) {
            flow_text(&s, i, 0);
            printf("table=L3Forwarding,priority=100,%s\n", ds_cstr(&s));
        }
        ds_destroy(&s);
        return 0;
    }
    if (argc < 3) {
        ovs_fatal(0, "usage: %s [--text] TARGET N [CHANGE_PERCENT] | "
                  "--print N", argv[0]);
    }
    const char *target = argv[1];
    int n = atoi(argv[2]);
    int change = argc > 3 ? atoi(argv[3]) : 0;

    struct flow_table ft;
    flow_table_init(&ft);
    struct ofctrl *oc = ofctrl_create(target, 1, 0);
    ofctrl_set_synced(oc);

    /* Connect first, with nothing to install, so that the timing below is
     * the flows' alone. */
    sync(oc, &ft);

    long long int start = time_msec();
    add_flows(&ft, n, 0, n, 0);
    long long int parsed = time_msec();
    sync(oc, &ft);
    long long int done = time_msec();
    printf("controller: %d flows: %lld ms (%s %lld ms, install %lld ms)\n",
           n, done - start, use_text ? "parse" : "build", parsed - start,
           done - parsed);

    /* One changed flow: what it costs this process, from the change to
     * the switch's confirmation, and what it sends.  One idle iteration
     * first, so that the poll loop's own report of the long install
     * (timeval, coverage) is not counted. */
    poll_immediate_wake();
    poll_block();
    uint64_t mods_before = flow_mods(oc);
    long long int cpu_before = cpu_usec();
    start = time_msec();
    add_flows(&ft, n, n / 2, n / 2 + 1, 1);
    sync(oc, &ft);
    done = time_msec();
    printf("controller: one changed flow among %d: %lld us CPU, %lld ms, "
           "%"PRIu64" flow mods sent\n", n, cpu_usec() - cpu_before,
           done - start, flow_mods(oc) - mods_before);

    if (change) {
        mods_before = flow_mods(oc);
        int n_change = n * change / 100;
        start = time_msec();
        /* Change whole owners, as a changed pod or Service would. */
        for (int i = 0; i < n_change; i += OWNER_SIZE) {
            add_flows(&ft, n, i, MIN(i + OWNER_SIZE, n_change), 2);
        }
        sync(oc, &ft);
        done = time_msec();
        printf("controller: change %d%% of %d flows: %lld ms, %"PRIu64
               " flow mods sent\n", change, n, done - start,
               flow_mods(oc) - mods_before);
    }

    ofctrl_destroy(oc);
    flow_table_destroy(&ft);
    return 0;
}
