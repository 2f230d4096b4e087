#include "ovs-config.h"
#include "lib/label-selector.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "lib/json-util.h"
#include "util.h"

const char *
label_selector_op_to_string(enum label_selector_op op)
{
    switch (op) {
    case LABEL_SELECTOR_IN:
        return "In";
    case LABEL_SELECTOR_NOT_IN:
        return "NotIn";
    case LABEL_SELECTOR_EXISTS:
        return "Exists";
    case LABEL_SELECTOR_DOES_NOT_EXIST:
        return "DoesNotExist";
    }
    return "<bad operator>";
}

static bool
label_selector_op_from_string(const char *s, enum label_selector_op *op)
{
    for (int i = LABEL_SELECTOR_IN; i <= LABEL_SELECTOR_DOES_NOT_EXIST; i++) {
        if (!strcmp(s, label_selector_op_to_string(i))) {
            *op = i;
            return true;
        }
    }
    return false;
}


/* Label names and values: at most 63 characters, alphanumeric at both ends,
 * '-', '_' and '.' in between (Kubernetes' IsQualifiedName name part). */
static bool
label_name_ok(const char *s, size_t len)
{
    if (!len || len > 63 || !isalnum((unsigned char) s[0])
        || !isalnum((unsigned char) s[len - 1])) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.') {
            return false;
        }
    }
    return true;
}

/* A DNS-1123 subdomain: at most 253 characters, lowercase alphanumeric
 * labels separated by dots, '-' inside labels. */
static bool
label_prefix_ok(const char *s, size_t len)
{
    if (!len || len > 253) {
        return false;
    }
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (i == start || s[start] == '-' || s[i - 1] == '-') {
                return false;
            }
            start = i + 1;
        } else if (!islower((unsigned char) s[i])
                   && !isdigit((unsigned char) s[i]) && s[i] != '-') {
            return false;
        }
    }
    return true;
}

/* Checks that 's' is a valid label key: an optional DNS subdomain prefix
 * and '/', then a name.  Returns NULL or a malloc'd error. */
char *
label_key_validate(const char *s)
{
    const char *slash = strchr(s, '/');
    const char *name = slash ? slash + 1 : s;

    if (slash && !label_prefix_ok(s, slash - s)) {
        return xasprintf("label key \"%s\" has a bad prefix (a lowercase DNS "
                         "subdomain of at most 253 characters)", s);
    }
    if (!label_name_ok(name, strlen(name))) {
        return xasprintf("label key \"%s\" is not valid (at most 63 "
                         "alphanumeric, '-', '_' or '.' characters, "
                         "alphanumeric at both ends)", s);
    }
    return NULL;
}

/* Checks that 's' is a valid label value (possibly empty).  Returns NULL or
 * a malloc'd error. */
char *
label_value_validate(const char *s)
{
    if (*s && !label_name_ok(s, strlen(s))) {
        return xasprintf("label value \"%s\" is not valid (empty, or at most "
                         "63 alphanumeric, '-', '_' or '.' characters, "
                         "alphanumeric at both ends)", s);
    }
    return NULL;
}

static struct label_selector_req *
ls_add_req(struct label_selector *sel, size_t *allocated, const char *key,
           enum label_selector_op op)
{
    if (sel->n_reqs >= *allocated) {
        sel->reqs = x2nrealloc(sel->reqs, allocated, sizeof *sel->reqs);
        /* An sset may point into itself: tell the moved ones. */
        for (size_t i = 0; i < sel->n_reqs; i++) {
            sset_moved(&sel->reqs[i].values);
        }
    }
    struct label_selector_req *req = &sel->reqs[sel->n_reqs++];
    req->key = xstrdup(key);
    req->op = op;
    sset_init(&req->values);
    return req;
}

/* Appends the text form of 'values' (sorted) to 's' as "(a,b,c)". */
static void
ls_put_values(struct ds *s, const struct sset *values)
{
    const char **sorted = sset_sort(values);

    ds_put_char(s, '(');
    for (size_t i = 0; i < sset_count(values); i++) {
        ds_put_format(s, "%s%s", i ? "," : "", sorted[i]);
    }
    ds_put_char(s, ')');
    free(sorted);
}

static char *
ls_req_to_string(const struct label_selector_req *req)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t n = sset_count(&req->values);

    switch (req->op) {
    case LABEL_SELECTOR_IN:
    case LABEL_SELECTOR_NOT_IN: {
        bool in = req->op == LABEL_SELECTOR_IN;
        if (n == 1) {
            ds_put_format(&s, "%s%s%s", req->key, in ? "=" : "!=",
                          SSET_FIRST(&req->values));
        } else {
            ds_put_format(&s, "%s %s ", req->key, in ? "in" : "notin");
            ls_put_values(&s, &req->values);
        }
        break;
    }
    case LABEL_SELECTOR_EXISTS:
        ds_put_cstr(&s, req->key);
        break;
    case LABEL_SELECTOR_DOES_NOT_EXIST:
        ds_put_format(&s, "!%s", req->key);
        break;
    }
    return ds_steal_cstr(&s);
}

/* Computes sel->canonical: the requirements in text form (the syntax of
 * kubectl's -l option), duplicates dropped, sorted, joined with ','. */
static void
ls_finish(struct label_selector *sel)
{
    struct sset reqs = SSET_INITIALIZER(&reqs);
    for (size_t i = 0; i < sel->n_reqs; i++) {
        sset_add_and_free(&reqs, ls_req_to_string(&sel->reqs[i]));
    }

    const char **sorted = sset_sort(&reqs);
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < sset_count(&reqs); i++) {
        ds_put_format(&s, "%s%s", i ? "," : "", sorted[i]);
    }
    free(sorted);
    sset_destroy(&reqs);

    free(sel->canonical);
    sel->canonical = ds_steal_cstr(&s);
}

static char *
ls_parse_match_labels(const json_t *ml, struct label_selector *sel,
                      size_t *allocated)
{
    if (!json_is_object(ml)) {
        return xasprintf("matchLabels is %s, expected an object",
                         json_type_name(ml));
    }

    const char *key;
    const json_t *value;
    json_object_foreach ((json_t *) ml, key, value) {
        if (!json_is_string(value)) {
            return xasprintf("matchLabels.%s is %s, expected a string", key,
                             json_type_name(value));
        }
        char *error = label_key_validate(key);
        if (!error) {
            error = label_value_validate(json_string_value(value));
        }
        if (error) {
            char *msg = xasprintf("matchLabels: %s", error);
            free(error);
            return msg;
        }
        struct label_selector_req *req
            = ls_add_req(sel, allocated, key, LABEL_SELECTOR_IN);
        sset_add(&req->values, json_string_value(value));
    }
    return NULL;
}

static char *
ls_parse_expression(const json_t *expr, size_t idx,
                    struct label_selector *sel, size_t *allocated)
{
    if (!json_is_object(expr)) {
        return xasprintf("matchExpressions[%zu] is %s, expected an object",
                         idx, json_type_name(expr));
    }

    const json_t *key = json_object_get(expr, "key");
    if (!key || json_is_null(key)) {
        return xasprintf("matchExpressions[%zu].key is missing", idx);
    } else if (!json_is_string(key)) {
        return xasprintf("matchExpressions[%zu].key is %s, expected a "
                         "string", idx, json_type_name(key));
    }
    char *error = label_key_validate(json_string_value(key));
    if (error) {
        char *msg = xasprintf("matchExpressions[%zu].key: %s", idx, error);
        free(error);
        return msg;
    }

    const json_t *op_json = json_object_get(expr, "operator");
    enum label_selector_op op;
    if (!op_json || json_is_null(op_json)) {
        return xasprintf("matchExpressions[%zu].operator is missing", idx);
    } else if (!json_is_string(op_json)) {
        return xasprintf("matchExpressions[%zu].operator is %s, expected a "
                         "string", idx, json_type_name(op_json));
    } else if (!label_selector_op_from_string(json_string_value(op_json),
                                              &op)) {
        return xasprintf("matchExpressions[%zu].operator \"%s\" is not In, "
                         "NotIn, Exists or DoesNotExist", idx,
                         json_string_value(op_json));
    }

    const json_t *values = json_object_get(expr, "values");
    size_t n_values = 0;
    if (values && !json_is_null(values)) {
        if (!json_is_array(values)) {
            return xasprintf("matchExpressions[%zu].values is %s, expected "
                             "an array", idx, json_type_name(values));
        }
        n_values = json_array_size(values);
        for (size_t i = 0; i < n_values; i++) {
            const json_t *v = json_array_get(values, i);
            if (!json_is_string(v)) {
                return xasprintf("matchExpressions[%zu].values[%zu] is %s, "
                                 "expected a string", idx, i,
                                 json_type_name(v));
            }
            error = label_value_validate(json_string_value(v));
            if (error) {
                char *msg = xasprintf("matchExpressions[%zu].values[%zu]: %s",
                                      idx, i, error);
                free(error);
                return msg;
            }
        }
    }

    bool want_values = (op == LABEL_SELECTOR_IN
                        || op == LABEL_SELECTOR_NOT_IN);
    if (want_values && !n_values) {
        return xasprintf("matchExpressions[%zu]: operator %s needs at least "
                         "one value", idx, label_selector_op_to_string(op));
    } else if (!want_values && n_values) {
        return xasprintf("matchExpressions[%zu]: operator %s takes no "
                         "values", idx, label_selector_op_to_string(op));
    }

    struct label_selector_req *req
        = ls_add_req(sel, allocated, json_string_value(key), op);
    for (size_t i = 0; i < n_values; i++) {
        sset_add(&req->values, json_string_value(json_array_get(values, i)));
    }
    return NULL;
}

/* Parses a metav1.LabelSelector from 'json'.  On success stores a new
 * selector in '*selp' (the caller destroys it) and returns NULL.  On
 * failure stores NULL and returns a malloc'd error whose text starts with
 * the offending field relative to the selector ("matchExpressions[0]..."),
 * so that callers can prefix it with the selector's own path.  Unknown
 * fields are ignored; JSON null counts as absent. */
char *
label_selector_from_json(const json_t *json, struct label_selector **selp)
{
    *selp = NULL;
    if (!json_is_object(json)) {
        return xasprintf("selector is %s, expected an object",
                         json_type_name(json));
    }

    struct label_selector *sel = xzalloc(sizeof *sel);
    size_t allocated = 0;
    char *error = NULL;

    const json_t *ml = json_object_get(json, "matchLabels");
    if (ml && !json_is_null(ml)) {
        error = ls_parse_match_labels(ml, sel, &allocated);
    }

    const json_t *exprs = json_object_get(json, "matchExpressions");
    if (!error && exprs && !json_is_null(exprs)) {
        if (!json_is_array(exprs)) {
            error = xasprintf("matchExpressions is %s, expected an array",
                              json_type_name(exprs));
        }
        for (size_t i = 0; !error && i < json_array_size(exprs); i++) {
            error = ls_parse_expression(json_array_get(exprs, i), i, sel,
                                        &allocated);
        }
    }

    if (error) {
        label_selector_destroy(sel);
        return error;
    }
    ls_finish(sel);
    *selp = sel;
    return NULL;
}

/* Returns a new selector equivalent to matchLabels 'map' (as in a Service's
 * spec.selector).  An empty map gives the empty selector, which matches
 * everything: callers that give an empty map another meaning (a Service
 * without a selector selects nothing) must check for it first. */
struct label_selector *
label_selector_from_smap(const struct smap *map)
{
    struct label_selector *sel = xzalloc(sizeof *sel);
    size_t allocated = 0;
    const struct smap_node **nodes = smap_sort(map);

    for (size_t i = 0; i < smap_count(map); i++) {
        struct label_selector_req *req
            = ls_add_req(sel, &allocated, nodes[i]->key, LABEL_SELECTOR_IN);
        sset_add(&req->values, nodes[i]->value);
    }
    free(nodes);
    ls_finish(sel);
    return sel;
}

struct label_selector *
label_selector_clone(const struct label_selector *src)
{
    struct label_selector *sel = xzalloc(sizeof *sel);

    sel->n_reqs = src->n_reqs;
    sel->reqs = xcalloc(src->n_reqs ? src->n_reqs : 1, sizeof *sel->reqs);
    for (size_t i = 0; i < src->n_reqs; i++) {
        sel->reqs[i].key = xstrdup(src->reqs[i].key);
        sel->reqs[i].op = src->reqs[i].op;
        sset_clone(&sel->reqs[i].values, &src->reqs[i].values);
    }
    sel->canonical = xstrdup(src->canonical);
    return sel;
}

void
label_selector_destroy(struct label_selector *sel)
{
    if (sel) {
        for (size_t i = 0; i < sel->n_reqs; i++) {
            free(sel->reqs[i].key);
            sset_destroy(&sel->reqs[i].values);
        }
        free(sel->reqs);
        free(sel->canonical);
        free(sel);
    }
}

/* Returns true if 'labels' satisfies every requirement of 'sel'. */
bool
label_selector_matches(const struct label_selector *sel,
                       const struct smap *labels)
{
    for (size_t i = 0; i < sel->n_reqs; i++) {
        const struct label_selector_req *req = &sel->reqs[i];
        const char *value = smap_get(labels, req->key);
        bool ok = false;

        switch (req->op) {
        case LABEL_SELECTOR_IN:
            ok = value && sset_contains(&req->values, value);
            break;
        case LABEL_SELECTOR_NOT_IN:
            ok = !value || !sset_contains(&req->values, value);
            break;
        case LABEL_SELECTOR_EXISTS:
            ok = value != NULL;
            break;
        case LABEL_SELECTOR_DOES_NOT_EXIST:
            ok = value == NULL;
            break;
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Returns true if 'sel' has no requirement, that is, matches everything. */
bool
label_selector_is_empty(const struct label_selector *sel)
{
    return !sel->n_reqs;
}

/* Returns the canonical text form of 'sel', owned by 'sel': requirements in
 * kubectl's syntax ("app=web", "tier in (a,b)", "env!=prod",
 * "env notin (a,b)", "key", "!key"), values sorted, duplicates dropped,
 * sorted and joined with ','.  The empty selector gives "".  Selectors that
 * differ only in order or in spelling a one-value In as matchLabels have the
 * same canonical form, so it serves as a hash key to share selectors. */
const char *
label_selector_canonical(const struct label_selector *sel)
{
    return sel->canonical;
}

bool
label_selector_equals(const struct label_selector *a,
                      const struct label_selector *b)
{
    return !strcmp(a->canonical, b->canonical);
}
