/*
 * bench-ofctrl TARGET N [CHANGE_PERCENT]
 *
 * Installs N generated flows into the switch at TARGET (e.g.
 * unix:/run/x/br-bench.mgmt) through the flow controller, the way the agent
 * does, and prints how long that took until the switch confirmed it.  With
 * CHANGE_PERCENT, then changes the actions of that share of the flows and
 * prints how long the incremental sync took and how many flow mods it sent.
 * With --print, writes the same N flows in ovs-ofctl syntax to stdout
 * instead, for the side-by-side run of `ovs-ofctl --bundle add-flows`.
 */
#include "ovs-config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flows/flow-table.h"
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

static void
add_flows(struct flow_table *ft, int n, int from, int to, int version)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (int i = from; i < to && i < n; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "bench/%d", i / OWNER_SIZE);
        flow_text(&s, i, version);
        char *error = flow_table_add(ft, owner, COOKIE_OTHER,
                                     TABLE_L3_FORWARDING, 100, "%s",
                                     ds_cstr(&s));
        if (error) {
            ovs_fatal(0, "%s", error);
        }
    }
    ds_destroy(&s);
}

/* Runs the controller until the switch has confirmed the desired table. */
static void
sync(struct ofctrl *oc, const struct flow_table *ft)
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
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, getenv("BENCH_DEBUG") ? VLL_DBG : VLL_WARN);

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
        ovs_fatal(0, "usage: %s TARGET N [CHANGE_PERCENT] | --print N",
                  argv[0]);
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
    printf("controller: %d flows: %lld ms (parse %lld ms, install %lld ms)\n",
           n, done - start, parsed - start, done - parsed);

    if (change) {
        uint64_t mods_before = (stat_value(oc, "flows modified: ")
                                + stat_value(oc, "flows added: ")
                                + stat_value(oc, "flows deleted: "));
        int n_change = n * change / 100;
        start = time_msec();
        /* Change whole owners, as a changed pod or Service would. */
        for (int i = 0; i < n_change; i += OWNER_SIZE) {
            add_flows(&ft, n, i, MIN(i + OWNER_SIZE, n_change), 1);
        }
        sync(oc, &ft);
        done = time_msec();
        uint64_t mods = (stat_value(oc, "flows modified: ")
                         + stat_value(oc, "flows added: ")
                         + stat_value(oc, "flows deleted: ")) - mods_before;
        printf("controller: change %d%% of %d flows: %lld ms, %"PRIu64
               " flow mods sent\n", change, n, done - start, mods);
    }

    ofctrl_destroy(oc);
    flow_table_destroy(&ft);
    return 0;
}
