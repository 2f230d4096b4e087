/*
 * The protocol between the CNI binary (cni/) and tendril-agent (agent/):
 * one definition of every name and code both sides use.
 *
 * The binary connects to the agent's unix stream socket, sends one JSON
 * object followed by "\n", and reads one JSON object back, up to a newline
 * or the end of the stream.  The reply is either
 *     {"result": {...}}
 * or
 *     {"error": {"code": N, "msg": "...", "details": "..."}}
 * where the error uses CNI's codes (below).
 *
 * Requests:
 *     {"command": "ADD", "containerID", "ifname", "netns", "hostIfname",
 *      "mac", "podNamespace", "podName", "podUID"}
 *         -> {"ips": [{"address": "10.244.1.5/24", "gateway": "10.244.1.1"}],
 *             "routes": [{"dst": "0.0.0.0/0", "gw": "10.244.1.1"}],
 *             "mtu": 1450, "txChecksumOff": true, "mac": "..."}
 *     {"command": "DEL", "containerID", "ifname"} -> {}
 *     {"command": "CHECK", "containerID", "ifname"} -> as for ADD
 *     {"command": "STATUS"} -> {"ready": true}, or an error with code 50/51
 *     {"command": "GC", "validAttachments": [{"containerID", "ifname"}]}
 *         -> {}
 * The pod identity members of ADD are left out when CNI_ARGS has no
 * K8S_POD_* keys (a runtime outside Kubernetes).
 */
#ifndef TENDRIL_LIB_AGENT_PROTOCOL_H
#define TENDRIL_LIB_AGENT_PROTOCOL_H 1

/* Commands. */
#define AP_ADD "ADD"
#define AP_DEL "DEL"
#define AP_CHECK "CHECK"
#define AP_STATUS "STATUS"
#define AP_GC "GC"

/* Request members. */
#define AP_COMMAND "command"
#define AP_CONTAINER_ID "containerID"
#define AP_IFNAME "ifname"
#define AP_NETNS "netns"
#define AP_HOST_IFNAME "hostIfname"
#define AP_MAC "mac"
#define AP_POD_NAMESPACE "podNamespace"
#define AP_POD_NAME "podName"
#define AP_POD_UID "podUID"
#define AP_VALID_ATTACHMENTS "validAttachments"

/* Reply members. */
#define AP_RESULT "result"
#define AP_ERROR "error"
#define AP_CODE "code"
#define AP_MSG "msg"
#define AP_DETAILS "details"
#define AP_IPS "ips"
#define AP_ADDRESS "address"
#define AP_GATEWAY "gateway"
#define AP_ROUTES "routes"
#define AP_DST "dst"
#define AP_GW "gw"
#define AP_MTU "mtu"
#define AP_TX_CHECKSUM_OFF "txChecksumOff"
#define AP_READY "ready"

/* Error codes.  1 to 99 are the spec's well-known codes; 100 and up are
 * Tendril's own.  An error the agent reports carries its own code, which
 * the binary passes on unchanged. */
enum cni_error_code {
    CNI_ERR_INCOMPATIBLE_VERSION = 1,  /* Incompatible CNI version. */
    CNI_ERR_UNSUPPORTED_FIELD = 2,     /* Unsupported field in the config. */
    CNI_ERR_UNKNOWN_CONTAINER = 3,     /* Container unknown or gone. */
    CNI_ERR_INVALID_ENV = 4,           /* Invalid or missing CNI_* variable. */
    CNI_ERR_IO = 5,                    /* I/O failure (e.g. reading stdin). */
    CNI_ERR_DECODE = 6,                /* Content fails to decode. */
    CNI_ERR_INVALID_CONFIG = 7,        /* Network configuration invalid. */
    CNI_ERR_TRY_AGAIN_LATER = 11,      /* Transient condition. */
    CNI_ERR_NOT_AVAILABLE = 50,        /* STATUS: cannot service ADD. */
    CNI_ERR_LIMITED_CONNECTIVITY = 51, /* STATUS: and existing pods suffer. */

    /* The binary's own, about reaching the agent. */
    CNI_ERR_AGENT_UNREACHABLE = 100,   /* Nothing listens on agentSocket. */
    CNI_ERR_AGENT_TIMEOUT = 101,       /* The agent did not answer in time. */
    CNI_ERR_AGENT_PROTOCOL = 102,      /* The agent's reply is malformed. */
    CNI_ERR_AGENT_IO = 103,            /* The connection to the agent broke. */

    /* The agent's. */
    CNI_ERR_CHECK_FAILED = 110,        /* CHECK: the attachment is known but
                                        * not as it should be. */
    CNI_ERR_FLOWS_REFUSED = 111,       /* The switch refused the pod's
                                        * flows. */

    CNI_ERR_INTERNAL = 999,            /* As reference skel's ErrInternal. */
};

#endif /* lib/agent-protocol.h */
