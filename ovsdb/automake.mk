# ovsdb/: the only code that calls ovsrec_*.
noinst_LIBRARIES += ovsdb/libtendril-ovsdb.a
ovsdb_libtendril_ovsdb_a_SOURCES = \
	ovsdb/bridge.c ovsdb/bridge.h
