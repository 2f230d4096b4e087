# Unit tests (cmocka): `make check`.  Each test program links the
# convenience libraries of the folders it tests.
UNIT_LDADD = lib/libtendril.a $(OVS_LIBS) $(JANSSON_LIBS) $(CMOCKA_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)

check_PROGRAMS += tests/unit/test-cidr
tests_unit_test_cidr_SOURCES = tests/unit/test-cidr.c
tests_unit_test_cidr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cidr_LDADD = $(UNIT_LDADD)

TESTS += $(check_PROGRAMS)

# System tests: network namespaces, real OVS, real kube-apiserver.  They
# need root.
.PHONY: check-system
check-system: all
	$(top_srcdir)/tests/system/run $(TESTSUITEFLAGS)
