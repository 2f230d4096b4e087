#include "ovs-config.h"

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flows/cookie.h"
#include "flows/flow-table.h"
#include "flows/installed.h"
#include "flows/pipeline.h"
#include "flows/reject.h"
#include "flows/service.h"
#include "csum.h"
#include "packets.h"
#include "flows/tables.h"
#include "flow.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-group.h"
#include "openvswitch/ofp-meter.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofpbuf.h"
#include "util.h"
#include "tests/unit/golden.h"

/* Fails the test with the error if there is one. */
static void
ok(char *error)
{
    if (error) {
        fail_msg("%s", error);
    }
}

/* The capture sink: decodes the messages installed_diff() produced into
 * one line each, "ADD|MOD|DEL table=... cookie=... MATCH actions=..." or
 * "GROUP ADD_OR_MOD|DEL id" or "METER ADD|MOD|DEL id[ FLAGS BANDS]", and
 * frees them. */
static char *
capture(struct ovs_list *msgs)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct ofpbuf *msg;

    LIST_FOR_EACH_POP (msg, list_node, msgs) {
        const struct ofp_header *oh = msg->data;
        enum ofptype type;
        assert_int_equal(ofptype_decode(&type, oh), 0);
        if (type == OFPTYPE_FLOW_MOD) {
            struct ofputil_flow_mod fm;
            struct ofpbuf ofpacts;
            ofpbuf_init(&ofpacts, 64);
            assert_int_equal(ofputil_decode_flow_mod(
                                 &fm, oh, OFPUTIL_P_OF15_OXM, NULL, NULL,
                                 &ofpacts, OFPP_MAX, 255), 0);
            const char *cmd = (fm.command == OFPFC_ADD ? "ADD"
                               : fm.command == OFPFC_MODIFY_STRICT ? "MOD"
                               : fm.command == OFPFC_DELETE_STRICT ? "DEL"
                               : fm.command == OFPFC_DELETE ? "DELALL"
                               : "?");
            if (fm.command == OFPFC_DELETE) {
                ds_put_format(&s, "DELALL cookie=%#"PRIx64"/%#"PRIx64"\n",
                              ntohll(fm.cookie), ntohll(fm.cookie_mask));
            } else {
                ds_put_format(&s, "%s ", cmd);
                if (fm.command == OFPFC_ADD) {
                    ds_put_format(&s, "cookie=%#"PRIx64" ",
                                  ntohll(fm.new_cookie));
                }
                desired_flow_format(&s, fm.table_id, fm.priority, &fm.match,
                                    ofpacts.data, ofpacts.size);
                ds_put_char(&s, '\n');
            }
            minimatch_destroy(&fm.match);
            ofpbuf_uninit(&ofpacts);
        } else if (type == OFPTYPE_GROUP_MOD) {
            struct ofputil_group_mod gm;
            assert_int_equal(ofputil_decode_group_mod(oh, &gm), 0);
            ds_put_format(&s, "GROUP %s %"PRIu32"\n",
                          gm.command == OFPGC11_DELETE ? "DEL" : "ADD_OR_MOD",
                          gm.group_id);
            ofputil_uninit_group_mod(&gm);
        } else if (type == OFPTYPE_METER_MOD) {
            struct ofputil_meter_mod mm;
            struct ofpbuf bands;
            ofpbuf_init(&bands, 64);
            assert_int_equal(ofputil_decode_meter_mod(oh, &mm, &bands), 0);
            ds_put_format(&s, "METER %s %#"PRIx32,
                          (mm.command == OFPMC13_ADD ? "ADD"
                           : mm.command == OFPMC13_MODIFY ? "MOD"
                           : mm.command == OFPMC13_DELETE ? "DEL" : "?"),
                          mm.meter.meter_id);
            if (mm.command != OFPMC13_DELETE) {
                ds_put_format(&s, " flags=%#"PRIx16, mm.meter.flags);
                for (size_t i = 0; i < mm.meter.n_bands; i++) {
                    const struct ofputil_meter_band *b = &mm.meter.bands[i];
                    ds_put_format(&s, " band=%"PRIu16"/%"PRIu32"/%"PRIu32,
                                  b->type, b->rate, b->burst_size);
                }
            }
            ds_put_char(&s, '\n');
            ofpbuf_uninit(&bands);
        } else {
            ds_put_format(&s, "type %d\n", type);
        }
        ofpbuf_delete(msg);
    }
    return ds_steal_cstr(&s);
}

/* Diffs 'ft' against 'in' in 'mode', as if the switch applied every
 * message, and returns the messages as capture() prints them. */
static char *
diff_mode(struct installed *in, struct flow_table *ft, enum diff_mode mode,
          bool prune, uint16_t round, struct diff_stats *stats)
{
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    struct installed_txn txn;
    installed_txn_init(&txn);
    installed_diff(in, ft, mode, prune, round, OFP15_VERSION, &msgs, &txn,
                   stats);
    installed_commit(in, &txn);
    return capture(&msgs);
}

static char *
diff(struct installed *in, struct flow_table *ft, uint16_t round,
     struct diff_stats *stats)
{
    return diff_mode(in, ft, DIFF_DIRTY, false, round, stats);
}

static void
test_cookie(void **state)
{
    uint64_t c = cookie_make(7, COOKIE_POD, 0xdeadbeef);
    assert_true(c == UINT64_C(0x00070200deadbeef));
    assert_int_equal(cookie_round(c), 7);
    assert_int_equal(cookie_category(c), COOKIE_POD);
    assert_int_equal(cookie_object(c), 0xdeadbeef);
    assert_true(cookie_with_round(c, 9) == UINT64_C(0x00090200deadbeef));
    assert_int_equal(cookie_next_round(1), 2);
    assert_int_equal(cookie_next_round(UINT16_MAX), 1);
    assert_int_equal(cookie_next_round(0), 1);
}

static void
test_table_names(void **state)
{
    assert_string_equal(table_name(TABLE_CLASSIFIER), "Classifier");
    assert_string_equal(table_name(TABLE_OUTPUT), "Output");
    assert_int_equal(N_TABLES, 22);
    assert_int_equal(TABLE_L3_FORWARDING, 13);
}

static void
test_add_replace_conflict(void **state)
{
    struct flow_table ft;
    flow_table_init(&ft);
    uint64_t seqno = ft.seqno;

    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=1 actions=goto_table:SpoofGuard"));
    assert_true(ft.seqno > seqno);
    assert_int_equal(flow_table_count(&ft), 1);

    /* Same owner, same key, same actions: no change. */
    seqno = ft.seqno;
    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=1 actions=goto_table:SpoofGuard"));
    assert_true(ft.seqno == seqno);

    /* Same owner, new actions: replaced. */
    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=1 actions=drop"));
    assert_true(ft.seqno > seqno);
    assert_int_equal(flow_table_count(&ft), 1);

    /* Another owner may not take it. */
    char *error = flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_CLASSIFIER,
                                 100, "in_port=1 actions=drop");
    assert_non_null(error);
    assert_non_null(strstr(error, "already owned by pod/a"));
    free(error);
    assert_int_equal(flow_table_count_owner(&ft, "pod/b"), 0);

    /* Bad text is refused with the flow in the message. */
    error = flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_CLASSIFIER, 100,
                           "in_port=1,ip,nw_dst=10.0.0.x actions=drop");
    assert_non_null(error);
    assert_non_null(strstr(error, "pod/b: bad flow"));
    free(error);
    error = flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_CLASSIFIER, 100,
                           "ip actions=goto_table:NoSuchTable");
    assert_non_null(error);
    free(error);

    ok(flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=2 actions=drop"));
    ok(flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_OUTPUT, 5,
                      "actions=drop"));
    assert_int_equal(flow_table_count(&ft), 3);
    flow_table_remove_owner(&ft, "pod/b");
    assert_int_equal(flow_table_count(&ft), 1);
    flow_table_remove_owner(&ft, "pod/nobody");
    flow_table_destroy(&ft);
}

static void
test_diff(void **state)
{
    struct flow_table ft;
    struct installed in;
    struct diff_stats stats = { 0 };
    flow_table_init(&ft);
    installed_init(&in);

    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=1 actions=goto_table:SpoofGuard"));
    ok(flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=2 actions=goto_table:SpoofGuard"));
    char *out = diff(&in, &ft, 3, &stats);
    uint32_t a = hash_string("pod/a", 0), b = hash_string("pod/b", 0);
    char *expected = xasprintf(
        "ADD cookie=%#"PRIx64" table=Classifier, priority=100,in_port=1 "
        "actions=goto_table:SpoofGuard\n",
        cookie_make(3, COOKIE_POD, a));
    assert_non_null(strstr(out, expected));
    free(expected);
    expected = xasprintf(
        "ADD cookie=%#"PRIx64" table=Classifier, priority=100,in_port=2 "
        "actions=goto_table:SpoofGuard\n",
        cookie_make(3, COOKIE_POD, b));
    assert_non_null(strstr(out, expected));
    free(expected);
    free(out);
    assert_int_equal(stats.flows_added, 2);

    /* Nothing changed: nothing sent. */
    out = diff(&in, &ft, 3, &stats);
    assert_string_equal(out, "");
    free(out);

    /* An action change is a strict modify; a withdrawn owner a strict
     * delete, sent before additions. */
    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=1 actions=drop"));
    flow_table_remove_owner(&ft, "pod/b");
    ok(flow_table_add(&ft, "pod/c", COOKIE_POD, TABLE_OUTPUT, 1,
                      "reg1=5 actions=output:5"));
    out = diff(&in, &ft, 3, &stats);
    expected = xasprintf(
        "DEL table=Classifier, priority=100,in_port=2 actions=drop\n"
        "MOD table=Classifier, priority=100,in_port=1 actions=drop\n");
    char *del = strstr(out, "DEL table=Classifier");
    char *mod = strstr(out, "MOD table=Classifier, priority=100,in_port=1 "
                       "actions=drop");
    char *add = strstr(out, "ADD cookie=");
    assert_non_null(del);
    assert_non_null(mod);
    assert_non_null(add);
    assert_true(del < add);
    free(expected);
    free(out);
    assert_int_equal(stats.flows_modified, 1);
    assert_int_equal(stats.flows_deleted, 1);
    assert_int_equal(stats.flows_added, 3);

    /* A full diff in a new round re-adds every flow with its new
     * cookie. */
    installed_clear_flows(&in);
    out = diff_mode(&in, &ft, DIFF_FULL, false, 4, &stats);
    size_t adds = 0;
    for (const char *p = out; (p = strstr(p, "ADD cookie=0x4")); p++) {
        adds++;
    }
    assert_int_equal(adds, 2);
    free(out);

    installed_destroy(&in);
    flow_table_destroy(&ft);
}

static void
test_diff_groups(void **state)
{
    struct flow_table ft;
    struct installed in;
    struct diff_stats stats = { 0 };
    flow_table_init(&ft);
    installed_init(&in);

    ok(flow_table_add_group(&ft, "service/default/web", COOKIE_SERVICE, 7,
                            "type=select,bucket=bucket_id:0,actions=drop"));
    ok(flow_table_add(&ft, "service/default/web", COOKIE_SERVICE,
                      TABLE_SERVICE_LB, 200,
                      "tcp,nw_dst=10.96.0.10,tp_dst=80 actions=group:7"));
    char *out = diff(&in, &ft, 1, &stats);
    /* The group exists before the flow that uses it. */
    char *group = strstr(out, "GROUP ADD_OR_MOD 7");
    char *flow = strstr(out, "ADD cookie=");
    assert_non_null(group);
    assert_non_null(flow);
    assert_true(group < flow);
    free(out);

    /* Changed buckets: the group is modified, the flow left alone. */
    ok(flow_table_add_group(&ft, "service/default/web", COOKIE_SERVICE, 7,
                            "type=select,bucket=bucket_id:0,actions=drop,"
                            "bucket=bucket_id:1,actions=drop"));
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "GROUP ADD_OR_MOD 7\n");
    free(out);
    assert_int_equal(stats.groups_modified, 1);

    /* Withdrawn: the flow goes before the group. */
    flow_table_remove_owner(&ft, "service/default/web");
    out = diff(&in, &ft, 1, &stats);
    flow = strstr(out, "DEL table=ServiceLB");
    group = strstr(out, "GROUP DEL 7");
    assert_non_null(flow);
    assert_non_null(group);
    assert_true(flow < group);
    free(out);

    char *error = flow_table_add_group(&ft, "x", COOKIE_OTHER, 8,
                                       "type=nonsense");
    assert_non_null(error);
    free(error);

    installed_destroy(&in);
    flow_table_destroy(&ft);
}

static void
test_meters_table(void **state)
{
    struct flow_table ft;
    flow_table_init(&ft);
    uint64_t seqno = ft.seqno;

    ok(flow_table_add_meter(&ft, "policy/a", COOKIE_POLICY, 3,
                            "pktps,band=type=drop,rate=%d", 1000));
    assert_true(ft.seqno > seqno);
    const struct desired_obj *m = flow_table_find_meter(&ft, 3);
    assert_non_null(m);
    assert_string_equal(m->spec, "pktps,band=type=drop,rate=1000");
    assert_string_equal(m->owner->name, "policy/a");

    /* Same owner, same text: no change; new text: replaced. */
    seqno = ft.seqno;
    ok(flow_table_add_meter(&ft, "policy/a", COOKIE_POLICY, 3,
                            "pktps,band=type=drop,rate=1000"));
    assert_true(ft.seqno == seqno);
    ok(flow_table_add_meter(&ft, "policy/a", COOKIE_POLICY, 3,
                            "kbps,band=type=drop,rate=5000"));
    assert_true(ft.seqno > seqno);
    assert_string_equal(flow_table_find_meter(&ft, 3)->spec,
                        "kbps,band=type=drop,rate=5000");

    /* Another owner may not take it, and leaves nothing behind. */
    seqno = ft.seqno;
    char *error = flow_table_add_meter(&ft, "policy/b", COOKIE_POLICY, 3,
                                       "pktps,band=type=drop,rate=1");
    assert_non_null(error);
    assert_non_null(strstr(error, "policy/b: meter 3 is already owned by "
                           "policy/a"));
    free(error);
    assert_true(ft.seqno == seqno);
    assert_string_equal(flow_table_find_meter(&ft, 3)->owner->name,
                        "policy/a");

    /* Bad text is refused, naming the owner and the meter. */
    static const char *const bad[] = {
        "pktps",                              /* No band. */
        "band=type=drop,rate=10",             /* Neither kbps nor pktps. */
        "pktps,band=type=drop",               /* No rate. */
        "pktps,band=type=nonsense,rate=1",
        "pktps,band=type=drop,rate=1,burst_size=5",  /* No "burst". */
        "pktps,color=blue,band=type=drop,rate=1",
        "meter=9,pktps,band=type=drop,rate=1",       /* Id given twice. */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        error = flow_table_add_meter(&ft, "policy/b", COOKIE_POLICY, 4,
                                     "%s", bad[i]);
        if (!error) {
            fail_msg("meter \"%s\" was accepted", bad[i]);
        }
        assert_non_null(strstr(error, "policy/b: bad meter \"meter=4,"));
        free(error);
    }
    /* Ids 0 and above OFPM13_MAX are reserved. */
    error = flow_table_add_meter(&ft, "policy/b", COOKIE_POLICY, 0,
                                 "pktps,band=type=drop,rate=1");
    assert_non_null(error);
    free(error);
    error = flow_table_add_meter(&ft, "policy/b", COOKIE_POLICY, OFPM13_ALL,
                                 "pktps,band=type=drop,rate=1");
    assert_non_null(error);
    free(error);
    assert_null(flow_table_find_meter(&ft, 4));
    assert_int_equal(hmap_count(&ft.meters.map), 1);
    assert_int_equal(hmap_count(&ft.owners), 1);

    /* The dump lists groups, then meters, each sorted by id. */
    ok(flow_table_add_meter(&ft, "policy/b", COOKIE_POLICY, 2,
                            "pktps,burst,band=type=drop,rate=10,"
                            "burst_size=20"));
    ok(flow_table_add_group(&ft, "policy/b", COOKIE_POLICY, 9,
                            "type=all,bucket=actions=drop"));
    ok(flow_table_add_group(&ft, "policy/a", COOKIE_POLICY, 1,
                            "type=all,bucket=actions=drop"));
    ok(flow_table_add_group(&ft, "policy/a", COOKIE_POLICY, 5,
                            "type=all,bucket=actions=drop"));
    ok(flow_table_add(&ft, "policy/b", COOKIE_POLICY, TABLE_OUTPUT, 7,
                      "ip actions=meter:2,output:1"));
    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, NULL, true, &s);
    assert_string_equal(ds_cstr(&s),
        "table=Output, priority=7,ip actions=meter:2,output:1 (policy/b)\n"
        "group_id=1,type=all,bucket=actions=drop (policy/a)\n"
        "group_id=5,type=all,bucket=actions=drop (policy/a)\n"
        "group_id=9,type=all,bucket=actions=drop (policy/b)\n"
        "meter=2,pktps,burst,band=type=drop,rate=10,burst_size=20 "
        "(policy/b)\n"
        "meter=3,kbps,band=type=drop,rate=5000 (policy/a)\n");
    ds_clear(&s);
    flow_table_dump(&ft, "policy/b", false, &s);
    assert_string_equal(ds_cstr(&s),
        "table=Output, priority=7,ip actions=meter:2,output:1\n"
        "group_id=9,type=all,bucket=actions=drop\n"
        "meter=2,pktps,burst,band=type=drop,rate=10,burst_size=20\n");
    ds_destroy(&s);

    /* Withdrawing the owner withdraws its meters; the id is free again. */
    seqno = ft.seqno;
    flow_table_remove_owner(&ft, "policy/a");
    assert_true(ft.seqno > seqno);
    assert_null(flow_table_find_meter(&ft, 3));
    assert_non_null(flow_table_find_meter(&ft, 2));
    ok(flow_table_add_meter(&ft, "policy/b", COOKIE_POLICY, 3,
                            "pktps,band=type=drop,rate=1"));
    flow_table_remove_owner(&ft, "policy/b");
    flow_table_clear_dirty(&ft);    /* Frees the tombstones. */
    assert_int_equal(hmap_count(&ft.meters.map), 0);
    assert_int_equal(hmap_count(&ft.owners), 0);

    /* An owner with only a meter is a real owner, freed on destroy. */
    ok(flow_table_add_meter(&ft, "policy/c", COOKIE_POLICY, 1,
                            "pktps,band=type=drop,rate=1"));
    flow_table_destroy(&ft);
}

static void
test_diff_meters(void **state)
{
    struct flow_table ft;
    struct installed in;
    struct diff_stats stats = { 0 };
    flow_table_init(&ft);
    installed_init(&in);

    ok(flow_table_add(&ft, "policy/np", COOKIE_POLICY, TABLE_OUTPUT, 7,
                      "ip actions=meter:5,output:1"));
    ok(flow_table_add_group(&ft, "policy/np", COOKIE_POLICY, 8,
                            "type=all,bucket=actions=drop"));
    ok(flow_table_add_meter(&ft, "policy/np", COOKIE_POLICY, 5,
                            "pktps,band=type=drop,rate=1000"));
    char *out = diff(&in, &ft, 1, &stats);
    /* The meter exists before the group and the flow that uses it. */
    char *meter = strstr(out, "METER ADD 0x5 flags=0x2 band=1/1000/0\n");
    char *group = strstr(out, "GROUP ADD_OR_MOD 8");
    char *flow = strstr(out, "ADD cookie=");
    assert_non_null(meter);
    assert_non_null(group);
    assert_non_null(flow);
    assert_true(meter == out);
    assert_true(meter < group && group < flow);
    free(out);
    assert_int_equal(stats.meters_added, 1);
    assert_int_equal(installed_count_meters(&in), 1);

    /* Nothing changed: nothing sent. */
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "");
    free(out);

    /* A changed rate is a modify, and the flow is left alone. */
    ok(flow_table_add_meter(&ft, "policy/np", COOKIE_POLICY, 5,
                            "pktps,band=type=drop,rate=2000"));
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "METER MOD 0x5 flags=0x2 band=1/2000/0\n");
    free(out);
    assert_int_equal(stats.meters_modified, 1);

    /* Withdrawn: the flow, then the group, then the meter. */
    flow_table_remove_owner(&ft, "policy/np");
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out,
                        "DEL table=Output, priority=7,ip actions=drop\n"
                        "GROUP DEL 8\n"
                        "METER DEL 0x5\n");
    free(out);
    assert_int_equal(stats.meters_deleted, 1);
    assert_int_equal(installed_count_meters(&in), 0);

    /* A meter the switch was found to hold (at connection) is modified,
     * not added; known meters are not resent. */
    installed_note_meter(&in, 6);
    ok(flow_table_add_meter(&ft, "policy/np", COOKIE_POLICY, 6,
                            "kbps,band=type=drop,rate=10"));
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "METER MOD 0x6 flags=0x1 band=1/10/0\n");
    free(out);
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "");
    free(out);

    /* installed_clear() forgets the meters: a full diff adds all again. */
    installed_clear(&in);
    out = diff_mode(&in, &ft, DIFF_FULL, false, 1, &stats);
    assert_string_equal(out, "METER ADD 0x6 flags=0x1 band=1/10/0\n");
    free(out);

    installed_destroy(&in);
    flow_table_destroy(&ft);
}

static void
test_delete_round_encoding(void **state)
{
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    struct ofpbuf *m = installed_encode_delete_round(OFP15_VERSION, 5);
    ovs_list_push_back(&msgs, &m->list_node);
    char *out = capture(&msgs);
    assert_string_equal(out,
                        "DELALL cookie=0x5000000000000/0xffff000000000000\n");
    free(out);
}

/* Several owners contribute conjunction() actions to one match: the flow
 * carries them merged and sorted, and an owner's departure modifies it. */
static void
test_conjunction(void **state)
{
    struct flow_table ft;
    struct installed in;
    struct diff_stats stats = { 0 };
    flow_table_init(&ft);
    installed_init(&in);

    ok(flow_table_add(&ft, "policy/b", COOKIE_POLICY, TABLE_INGRESS_RULE,
                      200, "ip,nw_src=10.0.0.1 actions=conjunction(9,1/2)"));
    ok(flow_table_add(&ft, "policy/a", COOKIE_POLICY, TABLE_INGRESS_RULE,
                      200, "ip,nw_src=10.0.0.1 actions=conjunction(3,2/3),"
                      "conjunction(9,1/2)"));
    assert_int_equal(flow_table_count(&ft), 1);
    assert_int_equal(flow_table_count_owner(&ft, "policy/a"), 1);
    assert_int_equal(flow_table_count_owner(&ft, "policy/b"), 1);
    char *out = diff(&in, &ft, 1, &stats);
    assert_non_null(strstr(out, "ADD cookie="));
    assert_non_null(strstr(out, "nw_src=10.0.0.1 actions=conjunction(3,2/3),"
                           "conjunction(9,1/2)\n"));
    free(out);

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, "policy/b", true, &s);
    assert_non_null(strstr(ds_cstr(&s), "(policy/b,policy/a)"));
    ds_destroy(&s);

    /* A flow that is not conjunctive cannot share the key. */
    char *error = flow_table_add(&ft, "pod/x", COOKIE_POD,
                                 TABLE_INGRESS_RULE, 200,
                                 "ip,nw_src=10.0.0.1 actions=drop");
    assert_non_null(error);
    assert_non_null(strstr(error, "already owned by policy/"));
    free(error);

    /* One owner leaves: the shared flow is modified in place. */
    flow_table_remove_owner(&ft, "policy/a");
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "MOD table=IngressRule, priority=200,ip,"
                        "nw_src=10.0.0.1 actions=conjunction(9,1/2)\n");
    free(out);

    /* An owner changing its part is a modify too. */
    ok(flow_table_add(&ft, "policy/b", COOKIE_POLICY, TABLE_INGRESS_RULE,
                      200, "ip,nw_src=10.0.0.1 actions=conjunction(9,1/2),"
                      "conjunction(4,1/2)"));
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "MOD table=IngressRule, priority=200,ip,"
                        "nw_src=10.0.0.1 actions=conjunction(4,1/2),"
                        "conjunction(9,1/2)\n");
    free(out);

    /* The last one leaves: the flow goes. */
    flow_table_remove_owner(&ft, "policy/b");
    out = diff(&in, &ft, 1, &stats);
    assert_non_null(strstr(out, "DEL table=IngressRule"));
    free(out);
    assert_int_equal(flow_table_count(&ft), 0);
    assert_int_equal(installed_count(&in), 0);

    installed_destroy(&in);
    flow_table_destroy(&ft);
}

/* An owner set aside counts as absent until it changes. */
static void
test_set_aside(void **state)
{
    struct flow_table ft;
    struct installed in;
    struct diff_stats stats = { 0 };
    flow_table_init(&ft);
    installed_init(&in);

    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=1 actions=goto_table:SpoofGuard"));
    ok(flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=2 actions=goto_table:SpoofGuard"));
    ok(flow_table_add_group(&ft, "pod/b", COOKIE_POD, 4,
                            "type=all,bucket=actions=drop"));
    free(diff(&in, &ft, 1, &stats));
    assert_int_equal(installed_count(&in), 2);

    uint64_t seqno = ft.seqno;
    struct ds names = DS_EMPTY_INITIALIZER;
    flow_table_set_aside(&ft, hash_string("pod/b", 0), "refused", &names);
    assert_string_equal(ds_cstr(&names), "pod/b");
    ds_destroy(&names);
    assert_true(ft.seqno > seqno);
    assert_string_equal(flow_table_owner_error(&ft, "pod/b"), "refused");
    assert_null(flow_table_owner_error(&ft, "pod/a"));
    char *out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "DEL table=Classifier, priority=100,in_port=2 "
                        "actions=drop\nGROUP DEL 4\n");
    free(out);

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_format_set_aside(&ft, &s);
    assert_string_equal(ds_cstr(&s),
                        "owners set aside: 1\n  pod/b: refused\n");
    ds_destroy(&s);

    /* A change to the owner tries it again, whole. */
    ok(flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=2 actions=drop"));
    assert_null(flow_table_owner_error(&ft, "pod/b"));
    out = diff(&in, &ft, 1, &stats);
    assert_non_null(strstr(out, "GROUP ADD_OR_MOD 4\n"));
    assert_non_null(strstr(out, "in_port=2 actions=drop\n"));
    free(out);
    assert_int_equal(ft.n_set_aside, 0);

    installed_destroy(&in);
    flow_table_destroy(&ft);
}

/* A message the switch refused leaves the installed table alone, and
 * marking the transaction brings it into the next diff again. */
static void
test_txn_failure(void **state)
{
    struct flow_table ft;
    struct installed in;
    struct diff_stats stats = { 0 };
    flow_table_init(&ft);
    installed_init(&in);

    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=1 actions=goto_table:SpoofGuard"));
    ok(flow_table_add(&ft, "pod/b", COOKIE_POD, TABLE_CLASSIFIER, 100,
                      "in_port=2 actions=goto_table:SpoofGuard"));
    struct ovs_list msgs = OVS_LIST_INITIALIZER(&msgs);
    struct installed_txn txn;
    installed_txn_init(&txn);
    installed_diff(&in, &ft, DIFF_DIRTY, false, 1, OFP15_VERSION, &msgs,
                   &txn, &stats);
    assert_int_equal(txn.n_ops, 2);

    /* The first message fails: the other one is applied. */
    struct ofpbuf *first = CONTAINER_OF(ovs_list_front(&msgs),
                                        struct ofpbuf, list_node);
    ovs_be32 xid = ((struct ofp_header *) first->data)->xid;
    uint32_t object_id = 0;
    assert_true(installed_txn_fail(&txn, xid, &object_id));
    assert_true(object_id == hash_string("pod/a", 0)
                || object_id == hash_string("pod/b", 0));
    assert_false(installed_txn_fail(&txn, htonl(12345678), &object_id));
    installed_txn_mark(&txn, &ft);
    installed_commit(&in, &txn);
    free(capture(&msgs));
    assert_int_equal(installed_count(&in), 1);

    /* Marked again: the next diff sends just the missing one. */
    char *out = diff(&in, &ft, 1, &stats);
    size_t n = 0;
    for (const char *p = out; (p = strchr(p, '\n')); p++) {
        n++;
    }
    assert_int_equal(n, 1);
    free(out);
    assert_int_equal(installed_count(&in), 2);

    /* A refused bundle: nothing applied, everything marked again. */
    flow_table_remove_owner(&ft, "pod/a");
    installed_txn_init(&txn);
    installed_diff(&in, &ft, DIFF_DIRTY, false, 1, OFP15_VERSION, &msgs,
                   &txn, &stats);
    free(capture(&msgs));
    installed_txn_mark(&txn, &ft);
    installed_txn_destroy(&txn);
    assert_int_equal(installed_count(&in), 2);
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "DEL table=Classifier, priority=100,in_port=1 "
                        "actions=drop\n");
    free(out);

    installed_destroy(&in);
    flow_table_destroy(&ft);
}

/* The diff looks only at what changed: one changed flow among many is one
 * message, and an unchanged table sends nothing. */
static void
test_diff_is_incremental(void **state)
{
    struct flow_table ft;
    struct installed in;
    struct diff_stats stats = { 0 };
    flow_table_init(&ft);
    installed_init(&in);

    for (int i = 0; i < 5000; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "pod/%d", i / 100);
        ok(flow_table_add(&ft, owner, COOKIE_POD, TABLE_L3_FORWARDING, 100,
                          "ip,nw_dst=10.1.%d.%d actions=goto_table:L3DecTTL",
                          i / 256, i % 256));
    }
    free(diff(&in, &ft, 1, &stats));
    assert_int_equal(installed_count(&in), 5000);
    assert_true(ovs_list_is_empty(&ft.dirty_flows));

    ok(flow_table_add(&ft, "pod/7", COOKIE_POD, TABLE_L3_FORWARDING, 100,
                      "ip,nw_dst=10.1.2.200 actions=drop"));
    assert_int_equal(ovs_list_size(&ft.dirty_flows), 1);
    char *out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "MOD table=L3Forwarding, priority=100,ip,"
                        "nw_dst=10.1.2.200 actions=drop\n");
    free(out);
    /* Removing and re-adding the same flow before a diff is no change. */
    flow_table_remove_owner(&ft, "pod/8");
    for (int i = 800; i < 900; i++) {
        ok(flow_table_add(&ft, "pod/8", COOKIE_POD, TABLE_L3_FORWARDING, 100,
                          "ip,nw_dst=10.1.%d.%d actions=goto_table:L3DecTTL",
                          i / 256, i % 256));
    }
    out = diff(&in, &ft, 1, &stats);
    assert_string_equal(out, "");
    free(out);
    /* The tombstones are gone with the diff. */
    assert_int_equal(hmap_count(&ft.flows), 5000);

    installed_destroy(&in);
    flow_table_destroy(&ft);
}

/* Flows built without text are the same as parsed ones. */
static void
test_add_built(void **state)
{
    struct flow_table ft;
    flow_table_init(&ft);

    struct match match;
    match_init_catchall(&match);
    match_set_dl_type(&match, htons(ETH_TYPE_IP));
    match_set_nw_dst(&match, htonl(0x0a000005));
    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 64);
    ofpact_put_GOTO_TABLE(&ofpacts)->table_id = TABLE_L3_DEC_TTL;
    ok(flow_table_add_flow(&ft, "pod/a", COOKIE_POD, TABLE_L3_FORWARDING,
                           100, &match, ofpacts.data, ofpacts.size));
    /* The same flow as text is no change. */
    uint64_t seqno = ft.seqno;
    ok(flow_table_add(&ft, "pod/a", COOKIE_POD, TABLE_L3_FORWARDING, 100,
                      "ip,nw_dst=10.0.0.5 actions=goto_table:L3DecTTL"));
    assert_true(ft.seqno == seqno);
    assert_int_equal(flow_table_count(&ft), 1);
    char *error = flow_table_add_flow(&ft, "pod/b", COOKIE_POD,
                                      TABLE_L3_FORWARDING, 100, &match,
                                      ofpacts.data, ofpacts.size);
    assert_non_null(error);
    assert_non_null(strstr(error, "pod/b: flow \"table=L3Forwarding, "
                           "priority=100,ip,nw_dst=10.0.0.5 actions="
                           "goto_table:L3DecTTL\" is already owned by "
                           "pod/a"));
    free(error);
    ofpbuf_uninit(&ofpacts);
    flow_table_destroy(&ft);
}

static struct node_net
test_node(void)
{
    struct node_net node = {
        .gw_ofport = u16_to_ofp(2),
        .gw_mac = ETH_ADDR_C(0a,58,0a,f4,01,01),
        .tun_ofport = u16_to_ofp(1),
    };
    ok(ipaddr_parse("10.244.1.1", &node.gw_ip));
    ok(cidr_parse("10.244.1.0/24", &node.pod_cidr));
    return node;
}

static void
test_static_golden(void **state)
{
    struct flow_table ft;
    flow_table_init(&ft);
    struct node_net node = test_node();
    ok(pipeline_add_static(&ft, &node));

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, NULL, false, &s);
    check_golden("static.txt", ds_cstr(&s));
    ds_destroy(&s);

    /* Every table ends in a default flow. */
    for (int t = 0; t < N_TABLES; t++) {
        struct minimatch any;
        minimatch_init_catchall(&any);
        if (!flow_table_find(&ft, t, 0, &any)) {
            fail_msg("table %s has no default flow", table_name(t));
        }
        minimatch_destroy(&any);
    }
    flow_table_destroy(&ft);
}

static void
test_pod_golden(void **state)
{
    struct flow_table ft;
    flow_table_init(&ft);
    struct node_net node = test_node();
    ok(pipeline_add_static(&ft, &node));
    size_t n_static = flow_table_count(&ft);

    struct pod_net pod = {
        .ofport = u16_to_ofp(5),
        .mac = ETH_ADDR_C(aa,bb,cc,00,00,05),
    };
    ok(ipaddr_parse("10.244.1.5", &pod.ip));
    ok(pod_flows_add(&ft, "pod/default/web-1", &node, &pod));

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, "pod/", true, &s);
    check_golden("pod.txt", ds_cstr(&s));
    ds_destroy(&s);

    /* A second pod with the first one's port conflicts and leaves
     * nothing of its own behind. */
    struct pod_net clash = pod;
    ok(ipaddr_parse("10.244.1.6", &clash.ip));
    char *error = pod_flows_add(&ft, "pod/default/web-2", &node, &clash);
    assert_non_null(error);
    free(error);
    assert_int_equal(flow_table_count_owner(&ft, "pod/default/web-2"), 0);

    /* An owner filter matches whole path segments. */
    ds_init(&s);
    flow_table_dump(&ft, "pod/default/web", true, &s);
    assert_string_equal(ds_cstr(&s), "");
    flow_table_dump(&ft, "pod/default", true, &s);
    assert_non_null(strstr(ds_cstr(&s), "(pod/default/web-1)"));
    ds_destroy(&s);

    pod_flows_remove(&ft, "pod/default/web-1");
    assert_int_equal(flow_table_count(&ft), n_static);
    flow_table_destroy(&ft);
}

static void
test_peer_golden(void **state)
{
    struct flow_table ft;
    flow_table_init(&ft);
    struct node_net node = test_node();
    struct peer_net peer;
    ok(ipaddr_parse("172.30.0.12", &peer.ip));
    ok(cidr_parse("10.244.2.0/24", &peer.pod_cidr));
    ok(peer_flows_add(&ft, "node/node2", &node, &peer));

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, "node/", true, &s);
    check_golden("peer.txt", ds_cstr(&s));
    ds_destroy(&s);

    /* Without a tunnel port (noEncap) there is nothing to add. */
    node.tun_ofport = u16_to_ofp(0);
    char *error = peer_flows_add(&ft, "node/node3", &node, &peer);
    assert_non_null(error);
    free(error);

    peer_flows_remove(&ft, "node/node2");
    assert_int_equal(flow_table_count(&ft), 0);
    flow_table_destroy(&ft);
}

static void
test_service_golden(void **state)
{
    struct flow_table ft;
    flow_table_init(&ft);
    struct ipaddr vip;
    ok(ipaddr_parse("10.96.0.10", &vip));
    struct service_endpoint eps[2] = { { .port = 8080 }, { .port = 8080 } };
    ok(ipaddr_parse("10.244.1.5", &eps[0].ip));
    ok(ipaddr_parse("10.244.2.7", &eps[1].ip));
    struct service_port ports[] = {
        { .ip_proto = IPPROTO_TCP, .port = 80, .group_id = 17,
          .endpoints = eps, .n_endpoints = 2 },
        { .ip_proto = IPPROTO_UDP, .port = 53, .group_id = 18,
          .endpoints = eps, .n_endpoints = 1, .frag_group_id = 20 },
        { .ip_proto = IPPROTO_TCP, .port = 443, .group_id = 19 },
    };
    struct service_net svc = {
        .vips = &vip, .n_vips = 1, .ports = ports, .n_ports = 3,
        .reject_meter = SERVICE_REJECT_METER,
    };
    ok(service_reject_meter_add(&ft, "service-reject"));
    ok(service_flows_add(&ft, "service/default/web", &svc));
    for (size_t i = 0; i < 2; i++) {
        char *owner = endpoint_owner(IPPROTO_TCP, &eps[i]);
        ok(endpoint_flows_add(&ft, owner, IPPROTO_TCP, &eps[i]));
        free(owner);
    }
    char *owner = endpoint_owner(IPPROTO_UDP, &eps[0]);
    assert_string_equal(owner, "endpoint/udp/10.244.1.5:8080");
    ok(endpoint_flows_add(&ft, owner, IPPROTO_UDP, &eps[0]));
    free(owner);
    struct cidr range;
    ok(cidr_parse("10.96.0.0/16", &range));
    ok(service_cidr_flows_add(&ft, "service-cidr", &range));
    struct node_net node = test_node();
    ok(service_host_snat_flows_add(&ft, "service-nodeport", &node));

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, NULL, true, &s);
    check_golden("service.txt", ds_cstr(&s));
    ds_destroy(&s);

    /* A port without endpoints has no group; the whole Service goes with
     * its owner. */
    assert_null(flow_table_find_group(&ft, 19));
    assert_non_null(flow_table_find_group(&ft, 20));
    flow_table_remove_owner(&ft, "service/default/web");
    assert_null(flow_table_find_group(&ft, 17));
    assert_null(flow_table_find_group(&ft, 20));
    flow_table_remove_owner(&ft, "service-nodeport");
    assert_int_equal(flow_table_count(&ft), 4);
    flow_table_destroy(&ft);
}

/* ClientIP affinity: the first pass looks the client up, the second
 * goes to a learned endpoint that this port still has or to the group,
 * whose buckets learn; a timeout above OpenFlow's 16 bits is cut.  A Local
 * traffic policy with endpoints elsewhere only drops. */
static void
test_service_affinity_golden(void **state)
{
    struct flow_table ft;
    flow_table_init(&ft);
    struct ipaddr vip;
    ok(ipaddr_parse("10.96.0.11", &vip));
    struct service_endpoint eps[2] = { { .port = 8080 }, { .port = 8081 } };
    ok(ipaddr_parse("10.244.1.5", &eps[0].ip));
    ok(ipaddr_parse("10.244.2.7", &eps[1].ip));
    struct service_port ports[] = {
        { .ip_proto = IPPROTO_TCP, .port = 80, .group_id = 21,
          .endpoints = eps, .n_endpoints = 2, .affinity_timeout = 10800 },
        { .ip_proto = IPPROTO_UDP, .port = 53, .group_id = 22,
          .endpoints = &eps[1], .n_endpoints = 1,
          .affinity_timeout = 86400 },
        { .ip_proto = IPPROTO_TCP, .port = 81, .group_id = 23,
          .affinity_timeout = 30, .drop_without_endpoints = true },
    };
    struct service_net svc = {
        .vips = &vip, .n_vips = 1, .ports = ports, .n_ports = 3,
        .reject_meter = SERVICE_REJECT_METER,
    };
    /* Externally: two addresses, a node port, the Local policy on port
     * 80 (its own group of local endpoints, no masquerade) and the
     * Cluster policy on port 53 (the same group, masqueraded). */
    struct ipaddr ext[2];
    ok(ipaddr_parse("192.0.2.10", &ext[0]));
    ok(ipaddr_parse("198.51.100.7", &ext[1]));
    svc.ext_ips = ext;
    svc.n_ext_ips = 2;
    svc.has_node_vip = true;
    ok(ipaddr_parse(SERVICE_NODEPORT_VIP, &svc.node_vip));
    ports[0].node_port = 30080;
    ports[0].ext_group_id = 24;
    ports[0].ext_endpoints = eps;
    ports[0].n_ext_endpoints = 1;
    ports[1].node_port = 30053;
    ports[1].ext_group_id = 22;
    ports[1].ext_endpoints = &eps[1];
    ports[1].n_ext_endpoints = 1;
    ports[1].ext_snat = true;
    ok(service_flows_add(&ft, "service/default/sticky", &svc));
    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, NULL, true, &s);
    check_golden("service-affinity.txt", ds_cstr(&s));
    ds_destroy(&s);
    flow_table_remove_owner(&ft, "service/default/sticky");
    assert_int_equal(flow_table_count(&ft), 0);
    flow_table_destroy(&ft);
}

/* The hash values OVS's dp_hash group of 'n' endpoints with 'copies'
 * buckets each (interleaved) gives endpoint 0 ('most') and the endpoint
 * with the fewest, by the method of ofproto-dpif's
 * group_setup_dp_hash_table(): Webster's method over equal weights, a
 * power of two of values from 16 to 256. */
static bool
dp_hash_values(size_t n, size_t copies, size_t *most, size_t *fewest)
{
    size_t buckets = n * copies, values = 16;
    while (values < buckets) {
        values *= 2;
    }
    if (values > 256) {
        return false;
    }
    size_t *hits = xcalloc(buckets, sizeof *hits);
    for (size_t v = 0; v < values; v++) {
        size_t winner = 0;
        for (size_t b = 1; b < buckets; b++) {
            /* value = 1 / (2 * hits + 1): fewer hits win, the first on a
             * tie, as OVS's strict comparison does. */
            if (hits[b] < hits[winner]) {
                winner = b;
            }
        }
        hits[winner]++;
    }
    *most = 0;
    *fewest = SIZE_MAX;
    for (size_t e = 0; e < n; e++) {
        size_t sum = 0;
        for (size_t c = 0; c < copies; c++) {
            sum += hits[c * n + e];
        }
        *most = MAX(*most, sum);
        *fewest = MIN(*fewest, sum);
    }
    free(hits);
    return true;
}

/* The selection method: dp_hash with enough copies of each bucket where
 * that leaves no endpoint more than 5% above another, "hash" elsewhere. */
static void
test_service_group_selection(void **state)
{
    size_t dp_hash = 0;
    for (size_t n = 1; n <= 300; n++) {
        size_t copies = service_group_copies(n), most, fewest;
        if (copies) {
            dp_hash++;
            assert_true(dp_hash_values(n, copies, &most, &fewest));
            assert_true(most * 100
                        <= fewest * (100 + SERVICE_DP_HASH_SKEW));
            /* The fewest copies that do it. */
            if (copies > 1) {
                assert_false(dp_hash_values(n, copies - 1, &most, &fewest)
                             && most * 100 <= fewest * 105);
            }
        } else {
            for (size_t k = 1; k <= 256 / n; k++) {
                assert_false(dp_hash_values(n, k, &most, &fewest)
                             && most * 100 <= fewest * 105);
            }
        }
    }
    /* 1 to 12, 16, 32, 64, 128 and 256 endpoints. */
    assert_int_equal(dp_hash, 17);
    assert_int_equal(service_group_copies(3), 11);
    assert_int_equal(service_group_copies(64), 1);
    assert_int_equal(service_group_copies(0), 0);
    assert_int_equal(service_group_copies(300), 0);

    /* In the flow table: 3 endpoints, 3 buckets sent 11 times each; 20,
     * 20 and "hash". */
    struct flow_table ft;
    flow_table_init(&ft);
    struct service_endpoint eps[20];
    for (size_t i = 0; i < 20; i++) {
        char ip[16];
        snprintf(ip, sizeof ip, "10.244.1.%"PRIuSIZE, i + 1);
        ok(ipaddr_parse(ip, &eps[i].ip));
        eps[i].port = 8080;
    }
    struct ipaddr vip;
    ok(ipaddr_parse("10.96.0.12", &vip));
    struct service_port ports[] = {
        { .ip_proto = IPPROTO_TCP, .port = 80, .group_id = 31,
          .endpoints = eps, .n_endpoints = 3 },
        { .ip_proto = IPPROTO_UDP, .port = 53, .group_id = 32,
          .endpoints = eps, .n_endpoints = 20 },
        /* SCTP (a kernel datapath), with affinity: its learn action and
         * hash fields name SCTP's. */
        { .ip_proto = IPPROTO_SCTP, .port = 3868, .group_id = 33,
          .endpoints = eps, .n_endpoints = 20, .affinity_timeout = 60 },
    };
    struct service_net svc = {
        .vips = &vip, .n_vips = 1, .ports = ports, .n_ports = 3,
        .reject_meter = SERVICE_REJECT_METER,
    };
    ok(service_flows_add(&ft, "service/default/many", &svc));
    const struct desired_obj *g = flow_table_find_group(&ft, 31);
    assert_non_null(g);
    assert_non_null(strstr(g->spec, "selection_method=dp_hash"));
    /* The 3 buckets are kept once; the switch gets each 11 times. */
    assert_non_null(strstr(g->spec, "bucket_id:2,"));
    assert_null(strstr(g->spec, "bucket_id:3,"));
    assert_int_equal(g->copies, 11);
    g = flow_table_find_group(&ft, 32);
    assert_non_null(g);
    assert_non_null(strstr(g->spec, "selection_method=hash,"
                           "fields(ip_src,ip_dst,udp_src,udp_dst)"));
    assert_non_null(strstr(g->spec, "bucket_id:19,"));
    assert_null(strstr(g->spec, "bucket_id:20,"));
    assert_int_equal(g->copies, 1);
    g = flow_table_find_group(&ft, 33);
    assert_non_null(g);
    assert_non_null(strstr(g->spec, "fields(ip_src,ip_dst,sctp_src,"
                           "sctp_dst)"));
    flow_table_remove_owner(&ft, "service/default/many");
    flow_table_destroy(&ft);
}

/* Builds an Ethernet + IPv4 frame from 10.244.1.5 to 10.96.0.10 with
 * 'l4' ('len' bytes) of protocol 'proto'. */
static size_t
test_frame(uint8_t *buf, uint8_t proto, const void *l4, size_t len)
{
    struct eth_header *eth = (void *) buf;
    eth->eth_dst = (struct eth_addr) ETH_ADDR_C(0a,58,0a,f4,01,01);
    eth->eth_src = (struct eth_addr) ETH_ADDR_C(aa,bb,cc,00,00,05);
    eth->eth_type = htons(ETH_TYPE_IP);
    struct ip_header *ip = (void *) (eth + 1);
    memset(ip, 0, sizeof *ip);
    ip->ip_ihl_ver = IP_IHL_VER(5, 4);
    ip->ip_tot_len = htons(sizeof *ip + len);
    ip->ip_ttl = 64;
    ip->ip_proto = proto;
    put_16aligned_be32(&ip->ip_src, htonl(0x0af40105));
    put_16aligned_be32(&ip->ip_dst, htonl(0x0a60000a));
    memcpy(ip + 1, l4, len);
    return sizeof *eth + sizeof *ip + len;
}

static void
test_reject(void **state)
{
    uint8_t buf[256];
    struct ofpbuf reply;
    ofpbuf_init(&reply, 128);

    /* A SYN: RST+ACK from the Service's address and port, acking it. */
    struct tcp_header syn;
    memset(&syn, 0, sizeof syn);
    syn.tcp_src = htons(40000);
    syn.tcp_dst = htons(80);
    put_16aligned_be32(&syn.tcp_seq, htonl(1000));
    syn.tcp_ctl = TCP_CTL(TCP_SYN, 5);
    size_t n = test_frame(buf, IPPROTO_TCP, &syn, sizeof syn);
    assert_true(reject_reply(buf, n, &reply));
    const struct eth_header *eth = reply.data;
    assert_true(eth_addr_equals(eth->eth_dst,
                                (struct eth_addr) ETH_ADDR_C(aa,bb,cc,00,00,05)));
    const struct ip_header *ip = (const void *) (eth + 1);
    assert_int_equal(ntohl(get_16aligned_be32(&ip->ip_src)), 0x0a60000a);
    assert_int_equal(ntohl(get_16aligned_be32(&ip->ip_dst)), 0x0af40105);
    assert_int_equal(csum(ip, sizeof *ip), 0);
    const struct tcp_header *tcp = (const void *) (ip + 1);
    assert_int_equal(ntohs(tcp->tcp_src), 80);
    assert_int_equal(ntohs(tcp->tcp_dst), 40000);
    assert_int_equal(TCP_FLAGS(tcp->tcp_ctl), TCP_RST | TCP_ACK);
    assert_int_equal(ntohl(get_16aligned_be32(&tcp->tcp_ack)), 1001);
    uint32_t partial = packet_csum_pseudoheader(ip);
    assert_int_equal(csum_finish(csum_continue(partial, tcp, sizeof *tcp)),
                     0);
    assert_int_equal(reply.size, sizeof *eth + sizeof *ip + sizeof *tcp);

    /* A RST is never answered. */
    syn.tcp_ctl = TCP_CTL(TCP_RST, 5);
    ofpbuf_clear(&reply);
    n = test_frame(buf, IPPROTO_TCP, &syn, sizeof syn);
    assert_false(reject_reply(buf, n, &reply));
    assert_int_equal(reply.size, 0);

    /* A UDP datagram: ICMP port unreachable quoting its IP header and the
     * first 8 bytes. */
    uint8_t udp[8 + 20] = { 0x9c, 0x40, 0x00, 0x35, 0x00, 28, 0, 0 };
    n = test_frame(buf, IPPROTO_UDP, udp, sizeof udp);
    assert_true(reject_reply(buf, n, &reply));
    eth = reply.data;
    ip = (const void *) (eth + 1);
    assert_int_equal(ip->ip_proto, IPPROTO_ICMP);
    const struct icmp_header *icmp = (const void *) (ip + 1);
    assert_int_equal(icmp->icmp_type, ICMP4_DST_UNREACH);
    assert_int_equal(icmp->icmp_code, 3);
    assert_int_equal(ntohs(ip->ip_tot_len), 20 + 8 + 20 + 8);
    assert_int_equal(csum(icmp, 8 + 20 + 8), 0);
    assert_memory_equal(icmp + 1, buf + sizeof *eth, 28);

    /* An SCTP INIT gets the same. */
    ofpbuf_clear(&reply);
    uint8_t sctp[12 + 20] = { 0x9c, 0x40, 0x00, 0x50 };
    n = test_frame(buf, IPPROTO_SCTP, sctp, sizeof sctp);
    assert_true(reject_reply(buf, n, &reply));
    eth = reply.data;
    ip = (const void *) (eth + 1);
    assert_int_equal(ip->ip_proto, IPPROTO_ICMP);
    icmp = (const void *) (ip + 1);
    assert_int_equal(icmp->icmp_type, ICMP4_DST_UNREACH);
    assert_int_equal(icmp->icmp_code, 3);

    /* Neither TCP, UDP nor SCTP, or truncated: nothing. */
    ofpbuf_clear(&reply);
    assert_false(reject_reply(buf, 20, &reply));
    n = test_frame(buf, IPPROTO_ICMP, udp, 8);
    assert_false(reject_reply(buf, n, &reply));
    ofpbuf_uninit(&reply);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_table_names),
        cmocka_unit_test(test_add_replace_conflict),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_diff_groups),
        cmocka_unit_test(test_meters_table),
        cmocka_unit_test(test_diff_meters),
        cmocka_unit_test(test_delete_round_encoding),
        cmocka_unit_test(test_conjunction),
        cmocka_unit_test(test_set_aside),
        cmocka_unit_test(test_txn_failure),
        cmocka_unit_test(test_diff_is_incremental),
        cmocka_unit_test(test_add_built),
        cmocka_unit_test(test_static_golden),
        cmocka_unit_test(test_pod_golden),
        cmocka_unit_test(test_peer_golden),
        cmocka_unit_test(test_service_golden),
        cmocka_unit_test(test_service_affinity_golden),
        cmocka_unit_test(test_service_group_selection),
        cmocka_unit_test(test_reject),
    };
    return cmocka_run_group_tests_name("flows", tests, NULL, NULL);
}
