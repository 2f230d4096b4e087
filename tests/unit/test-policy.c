/* NetworkPolicy's translation (flows/policy.c): port ranges as value/mask
 * pairs, conjunctions shared between owners, isolation, and a golden
 * dump. */
#include "ovs-config.h"

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flows/flow-table.h"
#include "flows/policy.h"
#include "flows/tables.h"
#include "flows/trace.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"
#include "tests/unit/golden.h"
#include "tests/unit/test-util.h"

static void
ok(char *error)
{
    if (error) {
        fail_msg("%s", error);
    }
}

struct port_cover {
    uint8_t hits[65536];
    size_t n_masks;
};

static void
cover(uint16_t value, uint16_t mask, void *pc_)
{
    struct port_cover *pc = pc_;
    pc->n_masks++;
    assert_int_equal(value & ~mask, 0);
    for (uint32_t p = 0; p < 65536; p++) {
        if ((p & mask) == value) {
            pc->hits[p]++;
        }
    }
}

/* Every range is covered exactly, each port once. */
static void
test_port_masks(void **state OVS_UNUSED)
{
    static const uint16_t ranges[][3] = {
        /* lo, hi, masks */
        { 80, 80, 1 },
        { 80, 81, 1 },
        { 1, 65535, 16 },
        { 1000, 2000, 0 },
        { 32768, 65535, 1 },
        { 65535, 65535, 1 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
        struct port_cover *pc = xzalloc(sizeof *pc);
        policy_port_masks(ranges[i][0], ranges[i][1], cover, pc);
        for (uint32_t p = 0; p < 65536; p++) {
            bool in = p >= ranges[i][0] && p <= ranges[i][1];
            assert_int_equal(pc->hits[p], in);
        }
        if (ranges[i][2]) {
            assert_int_equal(pc->n_masks, ranges[i][2]);
        }
        free(pc);
    }
}

static size_t
count_containing(const struct cidr_list *l, const char *ip)
{
    struct ipaddr a = must_ip(ip);
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        n += cidr_contains(&l->cidrs[i], &a);
    }
    return n;
}

/* An ipBlock less its excepts. */
static void
test_cidr_subtract(void **state OVS_UNUSED)
{
    struct cidr block = must_cidr("10.0.0.0/8");
    struct cidr except[] = { must_cidr("10.1.0.0/16"),
                             must_cidr("10.200.3.4/32") };
    struct cidr_list l = { NULL, 0, 0 };

    cidr_subtract(&block, except, 1, &l);
    assert_int_equal(l.n, 8);
    assert_int_equal(count_containing(&l, "10.0.255.255"), 1);
    assert_int_equal(count_containing(&l, "10.1.2.3"), 0);
    assert_int_equal(count_containing(&l, "10.2.0.0"), 1);
    assert_int_equal(count_containing(&l, "11.0.0.0"), 0);
    cidr_list_destroy(&l);

    cidr_subtract(&block, except, 2, &l);
    assert_int_equal(l.n, 8 - 1 + (32 - 9));  /* 10.128.0.0/9 split. */
    assert_int_equal(count_containing(&l, "10.200.3.4"), 0);
    assert_int_equal(count_containing(&l, "10.200.3.5"), 1);
    assert_int_equal(count_containing(&l, "10.1.0.1"), 0);
    cidr_list_destroy(&l);

    /* An except that covers the block leaves nothing; one outside it
     * changes nothing. */
    struct cidr all = must_cidr("0.0.0.0/0");
    cidr_subtract(&block, &all, 1, &l);
    assert_int_equal(l.n, 0);
    struct cidr other = must_cidr("192.168.0.0/16");
    cidr_subtract(&block, &other, 1, &l);
    assert_int_equal(l.n, 1);
    assert_true(cidr_equals(&l.cidrs[0], &block));
    cidr_list_destroy(&l);
}

/* Two policies: "web" lets pods 10.244.1.5 and .6 be reached on TCP 80 and
 * UDP 5000-5003 by 10.244.2.7 and the ipBlock 192.168.0.0/16 less
 * 192.168.1.0/24; "out" lets 10.244.1.5 reach anything.  Both isolate
 * 10.244.1.5. */
static void
add_two_policies(struct flow_table *ft)
{
    struct ipaddr targets[] = { must_ip("10.244.1.5"),
                                must_ip("10.244.1.6") };
    struct cidr block = must_cidr("192.168.0.0/16");
    struct cidr except = must_cidr("192.168.1.0/24");
    struct cidr_list peers = { NULL, 0, 0 };
    struct cidr pod = { .addr = must_ip("10.244.2.7"), .plen = 32 };
    cidr_subtract(&pod, NULL, 0, &peers);
    cidr_subtract(&block, &except, 1, &peers);
    struct policy_port ports[] = {
        { .ip_proto = IPPROTO_TCP, .port = 80 },
        { .ip_proto = IPPROTO_UDP, .port = 5000, .end_port = 5003 },
    };
    struct policy_conj web = {
        .id = 11, .dir = POLICY_INGRESS,
        .targets = targets, .n_targets = 2,
        .peers = peers.cidrs, .n_peers = peers.n,
        .ports = ports, .n_ports = 2,
    };
    ok(policy_flows_add(ft, "policy/default/web", &web, 1));

    struct policy_conj out[] = {
        { .id = 21, .dir = POLICY_EGRESS, .targets = targets,
          .n_targets = 1, .any_peer = true },
        /* No peers: adds nothing. */
        { .id = 22, .dir = POLICY_EGRESS, .targets = targets,
          .n_targets = 1 },
        /* An ingress rule sharing the target clause of "web". */
        { .id = 23, .dir = POLICY_INGRESS, .targets = targets,
          .n_targets = 1, .any_peer = true },
    };
    ok(policy_flows_add(ft, "policy/default/out", out, ARRAY_SIZE(out)));
    ok(policy_isolation_add(ft, "isolation/default/a", &targets[0], true,
                            true));
    ok(policy_isolation_add(ft, "isolation/default/b", &targets[1], true,
                            false));
    cidr_list_destroy(&peers);
}

static void
test_policy_golden(void **state OVS_UNUSED)
{
    struct flow_table ft;
    flow_table_init(&ft);
    add_two_policies(&ft);
    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, NULL, false, &s);
    check_golden("policy.txt", ds_cstr(&s));
    ds_destroy(&s);
    flow_table_destroy(&ft);
}

/* The target clause of 10.244.1.5 is one flow for both policies; when one
 * goes, the flow stays with the other's conjunction alone. */
static void
test_policy_shared(void **state OVS_UNUSED)
{
    struct flow_table ft;
    flow_table_init(&ft);
    add_two_policies(&ft);

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_dump(&ft, NULL, false, &s);
    assert_non_null(strstr(ds_cstr(&s), "ip,nw_dst=10.244.1.5 actions="
                           "conjunction(11,1/3),conjunction(23,1/2)"));
    size_t before = flow_table_count(&ft);

    flow_table_remove_owner(&ft, "policy/default/out");
    ds_clear(&s);
    flow_table_dump(&ft, NULL, false, &s);
    assert_non_null(strstr(ds_cstr(&s), "ip,nw_dst=10.244.1.5 actions="
                           "conjunction(11,1/3)\n"));
    assert_null(strstr(ds_cstr(&s), "conj_id=21"));
    /* "out" alone had its two conj_id flows with their two Metric flows,
     * its egress target clause and its two any-peer clauses ("ip", one per
     * table). */
    assert_null(strstr(ds_cstr(&s), "ct_label=0x15/"));
    assert_int_equal(flow_table_count(&ft), before - 7);
    ds_destroy(&s);
    flow_table_destroy(&ft);
}

/* The verdicts of policy/explain, read off ofproto/trace reports in the
 * form OVS 3.1 writes them (ofproto/ofproto-dpif-trace.c): a table lookup
 * is " NN. MATCH, priority P, cookie C", nested lookups are indented, and
 * a conntrack recirculation starts a second section. */
static const char trace_head[] =
    "Flow: tcp,in_port=6,vlan_tci=0x0000,dl_src=2a:a8:26:84:08:12,"
    "dl_dst=0a:58:0a:f4:01:01,nw_src=10.244.1.2,nw_dst=10.244.3.3,"
    "nw_tos=0,nw_ecn=0,nw_ttl=64,nw_frag=no,tp_src=40000,tp_dst=80,"
    "tcp_flags=0\n\n"
    "bridge(\"br-int\")\n"
    "----------------\n"
    " 0. in_port=6, priority 190, cookie 0x200000000000002\n"
    "    load:0x3->NXM_NX_REG0[0..3]\n"
    "    goto_table:SpoofGuard\n"
    " 1. ip,in_port=6,dl_src=2a:a8:26:84:08:12,nw_src=10.244.1.2, "
    "priority 200, cookie 0x200000000000002\n"
    "    goto_table:UnSNAT\n"
    " 4. priority 0, cookie 0x100000000000001\n"
    "    goto_table:ConntrackZone\n"
    " 5. ip, priority 200, cookie 0x100000000000001\n"
    "    ct(table=ConntrackState,zone=65520,nat)\n"
    "    nat\n"
    "     -> A clone of the packet is forked to recirculate. The forked "
    "pipeline will be resumed at table 6.\n\n"
    "Final flow: unchanged\n"
    "Megaflow: recirc_id=0,eth,ip,in_port=6,nw_frag=no\n"
    "Datapath actions: ct(zone=65520,nat),recirc(0x1)\n\n"
    "==================================================================\n"
    "recirc(0x1) - resume conntrack with default ct_state=trk|new (use "
    "--ct-next to customize)\n"
    "==================================================================\n\n"
    "Flow: recirc_id=0x1,ct_state=new|trk,tcp,in_port=6\n\n"
    "bridge(\"br-int\")\n"
    "----------------\n"
    "    thaw\n"
    "        Resuming from table 6\n"
    " 6. priority 0, cookie 0x100000000000001\n"
    "    goto_table:ServiceLB\n"
    " 8. priority 0, cookie 0x100000000000001\n"
    "    goto_table:EndpointDNAT\n"
    " 9. priority 0, cookie 0x100000000000001\n"
    "    goto_table:EgressRule\n";

static struct policy_verdict
verdict_of(const char *tail, enum policy_dir dir)
{
    char *text = xasprintf("%s%s", trace_head, tail);
    struct trace t;
    trace_parse(text, &t);
    struct policy_verdict v = policy_trace_verdict(&t, dir);
    trace_destroy(&t);
    free(text);
    return v;
}

static void
test_trace_verdict(void **state OVS_UNUSED)
{
    struct trace t;
    trace_parse(trace_head, &t);
    assert_int_equal(t.n, 7);
    assert_int_equal(t.steps[0].table, 0);
    assert_int_equal(t.steps[0].priority, 190);
    assert_string_equal(t.steps[0].match, "in_port=6");
    assert_true(t.steps[0].cookie == 0x200000000000002ULL);
    assert_string_equal(t.steps[2].match, "");
    assert_int_equal(t.steps[2].priority, 0);
    assert_int_equal(t.steps[6].table, 9);
    assert_string_equal(t.datapath_actions, "ct(zone=65520,nat),recirc(0x1)");
    trace_destroy(&t);

    /* A rule's conjunction allows. */
    struct policy_verdict v = verdict_of(
        "10. conj_id=3735928559,ip, priority 200, cookie 0x900000000000007\n"
        "    goto_table:EgressMetric\n"
        "12. priority 0, cookie 0x100000000000001\n", POLICY_EGRESS);
    assert_int_equal(v.kind, POLICY_VERDICT_RULE);
    assert_true(v.conj_id == 3735928559U);
    assert_true(policy_verdict_allows(&v));

    /* No rule, the pod's drop flow. */
    v = verdict_of(
        "10. priority 0, cookie 0x100000000000001\n"
        "    goto_table:EgressDefaultRule\n"
        "11. ip,nw_src=10.244.1.2, priority 200, cookie 0xa00000000000009\n"
        "    drop\n", POLICY_EGRESS);
    assert_int_equal(v.kind, POLICY_VERDICT_DENIED);
    assert_false(policy_verdict_allows(&v));

    /* No rule, no drop: not isolated. */
    v = verdict_of(
        "10. priority 0, cookie 0x100000000000001\n"
        "    goto_table:EgressDefaultRule\n"
        "11. priority 0, cookie 0x100000000000001\n"
        "    goto_table:EgressMetric\n", POLICY_EGRESS);
    assert_int_equal(v.kind, POLICY_VERDICT_NOT_ISOLATED);
    assert_true(policy_verdict_allows(&v));

    /* The ingress tables were never reached in this trace. */
    v = verdict_of("", POLICY_INGRESS);
    assert_int_equal(v.kind, POLICY_VERDICT_UNREACHED);
    assert_int_equal(v.last_table, 9);

    /* Ingress from the node's own address; nested (indented) lookups. */
    v = verdict_of(
        "    resubmit(,17)\n"
        "    17. ip,nw_src=10.244.1.1, priority 205, cookie 0x1\n"
        "            goto_table:IngressMetric\n", POLICY_INGRESS);
    assert_int_equal(v.kind, POLICY_VERDICT_NODE);

    /* A packet that matches no flow at all. */
    trace_parse("17. No match.\n", &t);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.steps[0].priority, -1);
    trace_destroy(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_masks),
        cmocka_unit_test(test_cidr_subtract),
        cmocka_unit_test(test_policy_golden),
        cmocka_unit_test(test_policy_shared),
        cmocka_unit_test(test_trace_verdict),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
