# lib/: no daemon state and no OVS I/O.  Linked by every program and test.
noinst_LIBRARIES += lib/libtendril.a
lib_libtendril_a_SOURCES = \
	lib/cidr.c lib/cidr.h
lib_libtendril_a_SOURCES += \
	lib/link.c lib/link.h \
	lib/netns.c lib/netns.h
lib_libtendril_a_SOURCES += lib/agent-protocol.h
lib_libtendril_a_SOURCES += lib/ipam.c lib/ipam.h
lib_libtendril_a_SOURCES += lib/json-util.c lib/json-util.h
lib_libtendril_a_SOURCES += \
	lib/k8s-object.c lib/k8s-object.h \
	lib/label-selector.c lib/label-selector.h
lib_libtendril_a_SOURCES += lib/kubeconfig.c lib/kubeconfig.h
lib_libtendril_a_SOURCES += lib/metrics.c lib/metrics.h
