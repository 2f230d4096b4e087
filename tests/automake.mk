# Unit tests (cmocka): `make check`.  Each test program links the
# convenience libraries of the folders it tests.
UNIT_LDADD = lib/libtendril.a $(OVS_LIBS) $(JANSSON_LIBS) $(CMOCKA_LIBS) \
	$(NFTABLES_LIBS) $(MHD_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += tests/unit/test-cidr
tests_unit_test_cidr_SOURCES = tests/unit/test-cidr.c
tests_unit_test_cidr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cidr_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-flows
tests_unit_test_flows_SOURCES = tests/unit/test-flows.c tests/unit/golden.h
tests_unit_test_flows_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_flows_LDADD = flows/libtendril-flows.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-policy
tests_unit_test_policy_SOURCES = tests/unit/test-policy.c \
	tests/unit/golden.h
tests_unit_test_policy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policy_LDADD = flows/libtendril-flows.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-policies
tests_unit_test_policies_SOURCES = tests/unit/test-policies.c
tests_unit_test_policies_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_policies_LDADD = agent/libtendril-agent.a \
	flows/libtendril-flows.a ovsdb/libtendril-ovsdb.a $(UNIT_LDADD) \
	$(CURL_LIBS)

check_PROGRAMS += tests/unit/test-ofctrl
tests_unit_test_ofctrl_SOURCES = tests/unit/test-ofctrl.c \
	tests/unit/dummy-switch.c tests/unit/dummy-switch.h
tests_unit_test_ofctrl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ofctrl_LDADD = flows/libtendril-flows.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-ipam
tests_unit_test_ipam_SOURCES = tests/unit/test-ipam.c
tests_unit_test_ipam_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ipam_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-cni-skel
tests_unit_test_cni_skel_SOURCES = tests/unit/test-cni-skel.c
tests_unit_test_cni_skel_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cni_skel_LDADD = cni/libtendril-cni.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-cni-result
tests_unit_test_cni_result_SOURCES = tests/unit/test-cni-result.c
tests_unit_test_cni_result_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cni_result_LDADD = cni/libtendril-cni.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-cni-client
tests_unit_test_cni_client_SOURCES = tests/unit/test-cni-client.c
tests_unit_test_cni_client_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cni_client_LDADD = cni/libtendril-cni.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-label-selector
tests_unit_test_label_selector_SOURCES = tests/unit/test-label-selector.c
tests_unit_test_label_selector_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_label_selector_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-k8s-object
tests_unit_test_k8s_object_SOURCES = tests/unit/test-k8s-object.c
tests_unit_test_k8s_object_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_k8s_object_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-k8s-cache
tests_unit_test_k8s_cache_SOURCES = tests/unit/test-k8s-cache.c
tests_unit_test_k8s_cache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_k8s_cache_LDADD = agent/libtendril-agent.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-nodeport
tests_unit_test_nodeport_SOURCES = tests/unit/test-nodeport.c
tests_unit_test_nodeport_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_nodeport_LDADD = agent/libtendril-agent.a \
	flows/libtendril-flows.a $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-kubeconfig
tests_unit_test_kubeconfig_SOURCES = tests/unit/test-kubeconfig.c
tests_unit_test_kubeconfig_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kubeconfig_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-metrics
tests_unit_test_metrics_SOURCES = tests/unit/test-metrics.c
tests_unit_test_metrics_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_metrics_LDADD = agent/libtendril-agent.a \
	flows/libtendril-flows.a ovsdb/libtendril-ovsdb.a $(UNIT_LDADD) \
	$(CURL_LIBS)

check_PROGRAMS += tests/unit/test-k8s-watch
tests_unit_test_k8s_watch_SOURCES = tests/unit/test-k8s-watch.c
tests_unit_test_k8s_watch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_k8s_watch_LDADD = agent/libtendril-agent.a $(UNIT_LDADD) \
	$(CURL_LIBS)

EXTRA_DIST += \
	tests/fixtures/k8s/endpointslice-empty.json \
	tests/fixtures/k8s/endpointslice-v1.json \
	tests/fixtures/k8s/endpointslice-v1beta1.json \
	tests/fixtures/k8s/namespace.json \
	tests/fixtures/k8s/networkpolicy-default-types.json \
	tests/fixtures/k8s/networkpolicy-deny-all.json \
	tests/fixtures/k8s/networkpolicy.json \
	tests/fixtures/k8s/node-dualstack.json \
	tests/fixtures/k8s/node.json \
	tests/fixtures/k8s/pod-hostnet-dualstack.json \
	tests/fixtures/k8s/pod-pending.json \
	tests/fixtures/k8s/pod.json \
	tests/fixtures/k8s/podlist.json \
	tests/fixtures/k8s/service-clusterip.json \
	tests/fixtures/k8s/service-externalname.json \
	tests/fixtures/k8s/service-headless.json \
	tests/fixtures/k8s/service-loadbalancer.json \
	tests/fixtures/k8s/service-nodeport-affinity-default.json \
	tests/fixtures/k8s/watch-events.json \
	tests/fixtures/k8s/malformed/endpointslice-family-mismatch.json \
	tests/fixtures/k8s/malformed/networkpolicy-bad-operator.json \
	tests/fixtures/k8s/malformed/node-bad-podcidr.json \
	tests/fixtures/k8s/malformed/pod-bad-podip.json \
	tests/fixtures/k8s/malformed/pod-no-metadata.json \
	tests/fixtures/k8s/malformed/pod-port-string.json \
	tests/fixtures/k8s/malformed/service-bad-clusterip.json

TESTS += $(check_PROGRAMS)

# System test programs need root and network namespaces: `make check`
# builds them (check-local), `make check-system` runs them.  They are not
# in check_PROGRAMS, which is the list of tests that `make check` runs.
SYSTEM_TESTS = tests/system/test-link
EXTRA_PROGRAMS = $(SYSTEM_TESTS)
CLEANFILES += $(SYSTEM_TESTS)
check-local: $(SYSTEM_TESTS)

tests_system_test_link_SOURCES = tests/system/test-link.c
tests_system_test_link_CFLAGS = $(UNIT_CFLAGS)
tests_system_test_link_LDADD = $(UNIT_LDADD)

# System tests: network namespaces, real OVS, real kube-apiserver.  They
# need root.
.PHONY: check-system
check-system: all $(SYSTEM_TESTS)
	BUILD=$(abs_top_builddir) $(top_srcdir)/tests/system/run $(TESTSUITEFLAGS)

# The upstream Kubernetes e2e suites for Services and NetworkPolicy on the
# real-node test bed (root; about 40 minutes): tests/e2e/README.md.
# CI runs a subset (tests/system/test-e2e.sh).
.PHONY: check-e2e
check-e2e: all
	BUILD=$(abs_top_builddir) $(top_srcdir)/tests/e2e/run-e2e.sh

# Benchmarks: `make bench` (root) prints figures; see tests/bench/.
EXTRA_PROGRAMS += tests/bench/bench-ofctrl
CLEANFILES += tests/bench/bench-ofctrl
tests_bench_bench_ofctrl_SOURCES = tests/bench/bench-ofctrl.c
tests_bench_bench_ofctrl_LDADD = flows/libtendril-flows.a lib/libtendril.a \
	$(OVS_LIBS)

.PHONY: bench
bench: all tests/bench/bench-ofctrl
	BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/run
