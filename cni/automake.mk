# cni/
# The CNI binary's pure parts: environment and configuration, results and
# errors per spec version, the client of tendril-agent.
noinst_LIBRARIES += cni/libtendril-cni.a
cni_libtendril_cni_a_SOURCES = \
	cni/client.c cni/client.h \
	cni/result.c cni/result.h \
	cni/skel.c cni/skel.h

bin_PROGRAMS += cni/tendril
cni_tendril_SOURCES = cni/main.c
cni_tendril_LDADD = cni/libtendril-cni.a lib/libtendril.a $(OVS_LIBS) \
	$(JANSSON_LIBS)
