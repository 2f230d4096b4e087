# agent/: tendril-agent.  main.c is the only daemon-specific file; the rest
# is a library that the unit tests link too.
noinst_LIBRARIES += agent/libtendril-agent.a
agent_libtendril_agent_a_SOURCES = \
	agent/agent.c agent/agent.h agent/agent-int.h \
	agent/attachments.c agent/attachments.h \
	agent/cni-handlers.c \
	agent/cni-server.c agent/cni-server.h \
	agent/config.c agent/config.h \
	agent/explain.c \
	agent/feature.h \
	agent/gateway.c agent/gateway.h \
	agent/inspect.c \
	agent/k8s-format.c agent/k8s-format.h \
	agent/healthcheck.c agent/healthcheck.h \
	agent/http-server.c agent/http-server.h \
	agent/metrics.c agent/metrics.h \
	agent/nodeport.c agent/nodeport.h \
	agent/nodes.c \
	agent/pod-cidr.c agent/pod-cidr.h \
	agent/pods.c \
	agent/policies.c \
	agent/policy-rules.c agent/policy-rules.h \
	agent/service-refs.c agent/service-refs.h \
	agent/services.c
agent_libtendril_agent_a_SOURCES += agent/k8s-cache.c agent/k8s-cache.h \
	agent/k8s-cache-int.h agent/k8s-cache-query.c
agent_libtendril_agent_a_SOURCES += agent/k8s-client.c agent/k8s-client.h \
	agent/k8s-api.c agent/curl-loop.c agent/curl-loop.h

sbin_PROGRAMS += agent/tendril-agent
agent_tendril_agent_SOURCES = agent/main.c
agent_tendril_agent_LDADD = agent/libtendril-agent.a \
	flows/libtendril-flows.a ovsdb/libtendril-ovsdb.a lib/libtendril.a \
	$(OVS_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(NFTABLES_LIBS) $(MHD_LIBS)
