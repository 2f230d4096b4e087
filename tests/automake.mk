# Unit tests (cmocka): `make check`.  Each test program links the
# convenience libraries of the folders it tests.
UNIT_LDADD = lib/libtendril.a $(OVS_LIBS) $(JANSSON_LIBS) $(CMOCKA_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += tests/unit/test-cidr
tests_unit_test_cidr_SOURCES = tests/unit/test-cidr.c
tests_unit_test_cidr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cidr_LDADD = $(UNIT_LDADD)

check_PROGRAMS += tests/unit/test-flows
tests_unit_test_flows_SOURCES = tests/unit/test-flows.c
tests_unit_test_flows_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_flows_LDADD = flows/libtendril-flows.a $(UNIT_LDADD)

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
	$(top_srcdir)/tests/system/run $(TESTSUITEFLAGS)
