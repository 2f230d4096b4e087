/* The flow controller against a real switch: ovs-vswitchd --enable-dummy
 * (see dummy-switch.h). */
#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flows/flow-table.h"
#include "flows/ofctrl.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "tests/unit/dummy-switch.h"
#include "timeval.h"
#include "util.h"

static struct dummy_switch sw;

static void
ok(char *error)
{
    if (error) {
        fail_msg("%s", error);
    }
}

static int
setup(void **state)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    return dummy_switch_start(&sw, "br0") ? 0 : -1;
}

static int
teardown(void **state)
{
    dummy_switch_stop(&sw);
    return 0;
}

/* Runs 'oc' until the switch has confirmed every change to 'ft' (true) or
 * 5 s have passed (false). */
static bool
sync(struct ofctrl *oc, struct flow_table *ft)
{
    long long int deadline = time_msec() + 5000;
    for (;;) {
        ofctrl_run(oc, ft);
        if (ofctrl_installed_seqno(oc) >= ft->seqno) {
            return true;
        }
        if (time_msec() > deadline) {
            return false;
        }
        ofctrl_wait(oc, ft);
        poll_timer_wait(50);
        poll_block();
    }
}

static uint64_t
stat(const struct ofctrl *oc, const char *name)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ofctrl_format_stats(oc, &s);
    const char *p = strstr(ds_cstr(&s), name);
    uint64_t value = p ? strtoull(p + strlen(name), NULL, 10) : UINT64_MAX;
    ds_destroy(&s);
    return value;
}

static void
clear_switch(void)
{
    assert_int_equal(dummy_switch_run(
                         &sw, NULL, "ovs-ofctl -O OpenFlow15 del-flows %s "
                         "&& ovs-ofctl -O OpenFlow15 del-groups %s "
                         "&& ovs-ofctl -O OpenFlow15 del-meters %s",
                         sw.target, sw.target, sw.target), 0);
}

/* A flow the switch refuses (a group that does not exist) sets its owner
 * aside with the switch's error; every other owner installs, and the
 * installed version moves on only once that is true. */
static void
test_rejected_owner(void **state)
{
    clear_switch();
    struct flow_table ft;
    flow_table_init(&ft);
    struct ofctrl *oc = ofctrl_create(sw.target, 1, 0);
    ofctrl_set_synced(oc);
    assert_true(sync(oc, &ft));

    ok(flow_table_add(&ft, "pod/good1", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=1 actions=drop"));
    ok(flow_table_add(&ft, "pod/bad", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=2 actions=goto_table:Output"));
    ok(flow_table_add(&ft, "pod/bad", COOKIE_POD, TABLE_OUTPUT, 100,
                      "in_port=2 actions=group:999"));
    ok(flow_table_add(&ft, "pod/good2", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=3 actions=drop"));
    uint64_t wanted = ft.seqno;
    assert_true(sync(oc, &ft));
    assert_true(ofctrl_installed_seqno(oc) >= wanted);

    const char *error = flow_table_owner_error(&ft, "pod/bad");
    assert_non_null(error);
    assert_non_null(strstr(error, "OFPBAC_BAD_OUT_GROUP"));
    assert_null(flow_table_owner_error(&ft, "pod/good1"));
    assert_int_equal(dummy_switch_count(&sw, "dump-flows", "in_port=1"), 1);
    assert_int_equal(dummy_switch_count(&sw, "dump-flows", "in_port=3"), 1);
    /* Nothing of the bad owner is in the switch, not even its good flow. */
    assert_int_equal(dummy_switch_count(&sw, "dump-flows", "in_port=2"), 0);
    assert_int_equal(stat(oc, "bundles refused: "), 1);
    assert_int_equal(stat(oc, "owners set aside by errors: "), 1);

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_format_set_aside(&ft, &s);
    assert_non_null(strstr(ds_cstr(&s), "pod/bad: the switch refused"));
    ds_destroy(&s);

    /* Once the owner changes (here it gets its group), it is tried again
     * and installs. */
    ok(flow_table_add_group(&ft, "pod/bad", COOKIE_POD, 999,
                            "type=all,bucket=actions=drop"));
    assert_null(flow_table_owner_error(&ft, "pod/bad"));
    assert_true(sync(oc, &ft));
    assert_null(flow_table_owner_error(&ft, "pod/bad"));
    assert_int_equal(dummy_switch_count(&sw, "dump-flows", "in_port=2"), 2);
    assert_int_equal(dummy_switch_count(&sw, "dump-groups", "group_id=999"),
                     1);

    ofctrl_destroy(oc);
    flow_table_destroy(&ft);
}

/* A restart deletes what the previous run left, groups and meters
 * included, but only once the new run is synced. */
static void
test_restart_removes_stale(void **state)
{
    clear_switch();
    struct flow_table ft;
    flow_table_init(&ft);
    struct ofctrl *oc = ofctrl_create(sw.target, 1, 0);
    ofctrl_set_synced(oc);
    ok(flow_table_add_meter(&ft, "policy/old", COOKIE_POLICY, 3,
                            "pktps,band=type=drop,rate=100"));
    ok(flow_table_add_group(&ft, "service/old", COOKIE_SERVICE, 5,
                            "type=select,bucket=actions=drop"));
    ok(flow_table_add(&ft, "service/old", COOKIE_SERVICE, TABLE_SERVICE_LB,
                      100, "ip,nw_dst=10.96.0.1 actions=group:5"));
    ok(flow_table_add(&ft, "policy/old", COOKIE_POLICY, TABLE_OUTPUT, 100,
                      "ip,nw_dst=10.0.0.9 actions=meter:3,output:1"));
    ok(flow_table_add_group(&ft, "service/kept", COOKIE_SERVICE, 6,
                            "type=select,bucket=actions=drop"));
    assert_true(sync(oc, &ft));
    assert_int_equal(dummy_switch_count(&sw, "dump-groups", "group_id="), 2);
    assert_int_equal(dummy_switch_count(&sw, "dump-meters", "meter=3"), 1);
    ofctrl_destroy(oc);
    flow_table_destroy(&ft);

    /* The next run wants only group 6, with other buckets. */
    flow_table_init(&ft);
    oc = ofctrl_create(sw.target, 2, 1);
    ok(flow_table_add_group(&ft, "service/kept", COOKIE_SERVICE, 6,
                            "type=select,bucket=actions=drop,"
                            "bucket=actions=drop"));
    assert_true(sync(oc, &ft));
    /* Not synced yet: the old run's flows, group and meter stay. */
    assert_int_equal(dummy_switch_count(&sw, "dump-groups", "group_id=5"), 1);
    assert_int_equal(dummy_switch_count(&sw, "dump-meters", "meter=3"), 1);
    assert_int_equal(dummy_switch_count(&sw, "dump-flows", "10.96.0.1"), 1);
    assert_int_equal(dummy_switch_count(&sw, "dump-groups",
                                        "group_id=6,type=select,"
                                        "bucket=bucket_id:0,actions=drop,"
                                        "bucket=bucket_id:1"), 1);

    ofctrl_set_synced(oc);
    for (int i = 0; i < 20 && !ofctrl_prev_round_deleted(oc); i++) {
        assert_true(sync(oc, &ft));
    }
    ft.seqno++;                 /* Wait for the bundle that deleted them. */
    assert_true(sync(oc, &ft));
    assert_true(ofctrl_prev_round_deleted(oc));
    assert_int_equal(dummy_switch_count(&sw, "dump-groups", "group_id=5"), 0);
    assert_int_equal(dummy_switch_count(&sw, "dump-groups", "group_id=6"), 1);
    assert_int_equal(dummy_switch_count(&sw, "dump-meters", "meter=3"), 0);
    assert_int_equal(dummy_switch_count(&sw, "dump-flows", "cookie="), 0);

    ofctrl_destroy(oc);
    flow_table_destroy(&ft);
}

/* One changed flow among many is one flow mod. */
static void
test_one_change(void **state)
{
    clear_switch();
    struct flow_table ft;
    flow_table_init(&ft);
    struct ofctrl *oc = ofctrl_create(sw.target, 1, 0);
    ofctrl_set_synced(oc);
    for (int i = 0; i < 2000; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "pod/%d", i / 100);
        ok(flow_table_add(&ft, owner, COOKIE_POD, TABLE_L3_FORWARDING, 100,
                          "ip,nw_dst=10.1.%d.%d actions=goto_table:L3DecTTL",
                          i / 256, i % 256));
    }
    assert_true(sync(oc, &ft));
    assert_int_equal(stat(oc, "installed flows: "), 2000);
    uint64_t msgs = stat(oc, "messages sent: ");
    uint64_t modified = stat(oc, "flows modified: ");

    ok(flow_table_add(&ft, "pod/3", COOKIE_POD, TABLE_L3_FORWARDING, 100,
                      "ip,nw_dst=10.1.1.50 actions=drop"));
    assert_true(sync(oc, &ft));
    assert_int_equal(stat(oc, "flows modified: ") - modified, 1);
    /* Bundle open, one add, commit, barrier. */
    assert_int_equal(stat(oc, "messages sent: ") - msgs, 4);
    assert_int_equal(dummy_switch_count(&sw, "dump-flows",
                                        "nw_dst=10.1.1.50 actions=drop"), 1);
    ofctrl_destroy(oc);
    flow_table_destroy(&ft);
}

/* A restarted switch (here: everything deleted by hand, then a new
 * connection) gets the whole table again. */
static void
test_reconnect_resends(void **state)
{
    clear_switch();
    struct flow_table ft;
    flow_table_init(&ft);
    struct ofctrl *oc = ofctrl_create(sw.target, 1, 0);
    ofctrl_set_synced(oc);
    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=7 actions=drop"));
    ok(flow_table_add_meter(&ft, "pod/a", COOKIE_POD, 4,
                            "pktps,band=type=drop,rate=10"));
    assert_true(sync(oc, &ft));
    ofctrl_destroy(oc);
    clear_switch();

    oc = ofctrl_create(sw.target, 1, 0);
    ofctrl_set_synced(oc);
    ft.seqno++;
    assert_true(sync(oc, &ft));
    assert_int_equal(dummy_switch_count(&sw, "dump-flows", "in_port=7"), 1);
    assert_int_equal(dummy_switch_count(&sw, "dump-meters", "meter=4"), 1);
    ofctrl_destroy(oc);
    flow_table_destroy(&ft);
}

/* A group of 1,500 buckets, more than one OpenFlow message holds, is sent
 * as a group mod and insert-bucket mods in one bundle: no bucket is lost,
 * and a smaller replacement replaces them all.  A group with copied
 * buckets reaches the switch with all its copies. */
static void
test_large_group(void **state)
{
    clear_switch();
    struct flow_table ft;
    flow_table_init(&ft);
    struct ofctrl *oc = ofctrl_create(sw.target, 1, 0);
    ofctrl_set_synced(oc);

    struct ds spec = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&spec, "type=select,selection_method=dp_hash");
    for (int i = 0; i < 1500; i++) {
        ds_put_format(&spec, ",bucket=bucket_id:%d,actions=load:%d->"
                      "NXM_NX_REG3[],load:8080->NXM_NX_REG4[0..15],"
                      "resubmit(,8)", i, i + 1);
    }
    ok(flow_table_add_group(&ft, "service/big", COOKIE_SERVICE, 77, "%s",
                            ds_cstr(&spec)));
    ok(flow_table_add(&ft, "service/big", COOKIE_SERVICE, TABLE_SERVICE_LB,
                      100, "ip,nw_dst=10.96.0.77 actions=group:77"));
    assert_true(sync(oc, &ft));
    assert_int_equal(stat(oc, "errors: "), 0);
    /* Counted in the group's statistics: its description does not fit in
     * one reply. */
    struct ds out = DS_EMPTY_INITIALIZER;
    dummy_switch_run(&sw, &out, "ovs-ofctl -O OpenFlow15 dump-group-stats "
                     "%s | grep -o 'bucket[0-9]*:' | wc -l", sw.target);
    assert_int_equal(atoi(ds_cstr(&out)), 1500);

    /* A new connection (an agent restart) still learns that the switch
     * holds it. */
    ofctrl_destroy(oc);
    oc = ofctrl_create(sw.target, 1, 0);
    ofctrl_set_synced(oc);
    assert_true(sync(oc, &ft));
    assert_int_equal(stat(oc, "errors: "), 0);
    assert_int_equal(stat(oc, "groups modified: "), 1);

    ok(flow_table_add_group(&ft, "service/big", COOKIE_SERVICE, 77,
                            "type=select,bucket=bucket_id:0,actions=drop"));
    assert_true(sync(oc, &ft));
    ds_clear(&out);
    dummy_switch_run(&sw, &out, "ovs-ofctl -O OpenFlow15 dump-groups %s "
                     "| grep -o 'bucket_id:' | wc -l", sw.target);
    assert_int_equal(atoi(ds_cstr(&out)), 1);

    /* Copied buckets: 3 kept, 33 in the switch, interleaved; the same
     * buckets with another copy count are a change. */
    static const char three[] =
        "type=select,selection_method=dp_hash,"
        "bucket=bucket_id:0,actions=load:1->NXM_NX_REG3[],resubmit(,8),"
        "bucket=bucket_id:1,actions=load:2->NXM_NX_REG3[],resubmit(,8),"
        "bucket=bucket_id:2,actions=load:3->NXM_NX_REG3[],resubmit(,8)";
    ok(flow_table_add_group_copies(&ft, "service/big", COOKIE_SERVICE, 77,
                                   11, "%s", three));
    assert_true(sync(oc, &ft));
    ds_clear(&out);
    dummy_switch_run(&sw, &out, "ovs-ofctl -O OpenFlow15 dump-groups %s "
                     "| grep -o 'bucket_id:[0-9]*,actions=[^,]*' | sort -u "
                     "| wc -l", sw.target);
    assert_int_equal(atoi(ds_cstr(&out)), 33);
    ds_clear(&out);
    dummy_switch_run(&sw, &out, "ovs-ofctl -O OpenFlow15 dump-groups %s "
                     "| grep -o 'bucket_id:32,actions=[^,]*'", sw.target);
    assert_non_null(strstr(ds_cstr(&out), "0x3->reg3"));
    ok(flow_table_add_group_copies(&ft, "service/big", COOKIE_SERVICE, 77,
                                   2, "%s", three));
    assert_true(sync(oc, &ft));
    ds_clear(&out);
    dummy_switch_run(&sw, &out, "ovs-ofctl -O OpenFlow15 dump-groups %s "
                     "| grep -o 'bucket_id:' | wc -l", sw.target);
    assert_int_equal(atoi(ds_cstr(&out)), 6);
    ds_destroy(&out);
    ds_destroy(&spec);
    ofctrl_destroy(oc);
    flow_table_destroy(&ft);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejected_owner),
        cmocka_unit_test(test_restart_removes_stale),
        cmocka_unit_test(test_one_change),
        cmocka_unit_test(test_reconnect_resends),
        cmocka_unit_test(test_large_group),
    };
    return cmocka_run_group_tests_name("ofctrl", tests, setup, teardown);
}
