/* What the API server serves: the resources the agent watches, where, and
 * the lines of a watch stream (see k8s-client.h). */
#include "ovs-config.h"
#include "agent/k8s-client.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/k8s-object.h"
#include "util.h"

static const struct k8s_resource_def resource_defs[K8S_N_KINDS] = {
    { K8S_NODE, "nodes", "/api/v1", NULL },
    { K8S_NAMESPACE, "namespaces", "/api/v1", NULL },
    { K8S_POD, "pods", "/api/v1", NULL },
    { K8S_SERVICE, "services", "/api/v1", NULL },
    { K8S_ENDPOINT_SLICE, "endpointslices", "/apis/discovery.k8s.io/v1",
      "/apis/discovery.k8s.io/v1beta1" },
    { K8S_NETWORK_POLICY, "networkpolicies", "/apis/networking.k8s.io/v1",
      NULL },
};

const char *
k8s_client_plural(enum k8s_kind kind)
{
    return kind < K8S_N_KINDS ? resource_defs[kind].plural : "?";
}

bool
k8s_client_kind_from_plural(const char *s, enum k8s_kind *kind)
{
    for (size_t i = 0; i < K8S_N_KINDS; i++) {
        if (!strcmp(s, resource_defs[i].plural)) {
            *kind = resource_defs[i].kind;
            return true;
        }
    }
    return false;
}

const struct k8s_resource_def *
k8s_resource_def(enum k8s_kind kind)
{
    ovs_assert(kind < K8S_N_KINDS && resource_defs[kind].kind == kind);
    return &resource_defs[kind];
}

void
k8s_watch_event_destroy(struct k8s_watch_event *ev)
{
    if (ev) {
        k8s_object_destroy(ev->obj);
        free(ev->resource_version);
        free(ev->message);
        memset(ev, 0, sizeof *ev);
    }
}

char *
k8s_watch_parse_line(enum k8s_kind kind, const char *line, size_t len,
                     struct k8s_watch_event *ev)
{
    memset(ev, 0, sizeof *ev);

    json_error_t jerr;
    json_t *root = json_loadb(line, len, 0, &jerr);
    if (!root) {
        return xasprintf("watch event is not JSON: %s", jerr.text);
    }

    char *error = NULL;
    const char *type;
    json_t *object;
    if (json_unpack_ex(root, &jerr, 0, "{s:s, s:o}", "type", &type,
                       "object", &object)) {
        error = xasprintf("watch event: %s", jerr.text);
        goto out;
    }
    if (!strcmp(type, "ADDED")) {
        ev->type = K8S_WATCH_ADDED;
    } else if (!strcmp(type, "MODIFIED")) {
        ev->type = K8S_WATCH_MODIFIED;
    } else if (!strcmp(type, "DELETED")) {
        ev->type = K8S_WATCH_DELETED;
    } else if (!strcmp(type, "BOOKMARK")) {
        ev->type = K8S_WATCH_BOOKMARK;
    } else if (!strcmp(type, "ERROR")) {
        ev->type = K8S_WATCH_ERROR;
    } else {
        error = xasprintf("watch event: unknown type \"%s\"", type);
        goto out;
    }
    if (!json_is_object(object)) {
        error = xasprintf("watch event %s: \"object\" is not an object",
                          type);
        goto out;
    }

    if (ev->type == K8S_WATCH_ERROR) {
        json_int_t code = 0;
        const char *message = "";
        json_unpack(object, "{s?I, s?s}", "code", &code,
                    "message", &message);
        ev->code = code;
        ev->message = xstrdup(message);
        goto out;
    }

    const char *rv = NULL;
    json_unpack(object, "{s:{s:s}}", "metadata", "resourceVersion", &rv);
    ev->resource_version = nullable_xstrdup(rv);
    if (ev->type == K8S_WATCH_BOOKMARK) {
        if (!rv) {
            error = xstrdup("watch event BOOKMARK: no "
                            "metadata.resourceVersion");
        }
        goto out;
    }
    error = k8s_object_parse(kind, object, &ev->obj);

out:
    json_decref(root);
    return error;
}

