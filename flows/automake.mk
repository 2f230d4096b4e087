# flows/: the pipeline and the flow controller.  Flow generation is pure;
# only ofctrl.c talks to the switch.
noinst_LIBRARIES += flows/libtendril-flows.a
flows_libtendril_flows_a_SOURCES = \
	flows/cookie.h \
	flows/fields.h \
	flows/flow-dump.c \
	flows/flow-table.c flows/flow-table.h \
	flows/installed.c flows/installed.h \
	flows/node.c \
	flows/ofctrl.c flows/ofctrl.h \
	flows/pipeline.c flows/pipeline.h \
	flows/policy.c flows/policy.h \
	flows/reject.c flows/reject.h \
	flows/service.c flows/service.h \
	flows/tables.c flows/tables.h \
	flows/trace.c flows/trace.h
