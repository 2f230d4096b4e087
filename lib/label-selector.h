/*
 * Kubernetes label selectors (metav1.LabelSelector): matchLabels and
 * matchExpressions with the operators In, NotIn, Exists and DoesNotExist.
 *
 * A selector is immutable once parsed.  Every requirement must hold for a
 * selector to match (logical AND); an empty selector ({}) matches every set
 * of labels.
 *
 * What an ABSENT selector means is not decided here: it depends on where
 * the selector sits.  In a NetworkPolicy peer an absent podSelector next to
 * a namespaceSelector means "every pod in the selected namespaces", an
 * absent namespaceSelector next to a podSelector means "the policy's own
 * namespace", and a Service without a selector selects nothing.  Callers
 * therefore represent an absent selector as a NULL pointer and decide for
 * themselves; the functions below never accept NULL.
 */
#ifndef TENDRIL_LABEL_SELECTOR_H
#define TENDRIL_LABEL_SELECTOR_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "smap.h"
#include "sset.h"

enum label_selector_op {
    LABEL_SELECTOR_IN,              /* Label present, value in 'values'. */
    LABEL_SELECTOR_NOT_IN,          /* Label absent or value not in it. */
    LABEL_SELECTOR_EXISTS,          /* Label present, any value. */
    LABEL_SELECTOR_DOES_NOT_EXIST,  /* Label absent. */
};

/* One requirement.  A matchLabels entry "k: v" becomes "k In (v)". */
struct label_selector_req {
    char *key;
    enum label_selector_op op;
    struct sset values;         /* Nonempty for In/NotIn, else empty. */
};

/* A parsed selector.  Owns everything it points to. */
struct label_selector {
    struct label_selector_req *reqs;  /* matchLabels first, then
                                       * matchExpressions, in input order. */
    size_t n_reqs;
    char *canonical;            /* See label_selector_canonical(). */
};

char *label_selector_from_json(const json_t *, struct label_selector **)
    __attribute__((warn_unused_result));
struct label_selector *label_selector_from_smap(const struct smap *);
struct label_selector *label_selector_clone(const struct label_selector *);
void label_selector_destroy(struct label_selector *);

bool label_selector_matches(const struct label_selector *,
                            const struct smap *labels);
bool label_selector_is_empty(const struct label_selector *);
const char *label_selector_canonical(const struct label_selector *);
bool label_selector_equals(const struct label_selector *,
                           const struct label_selector *);

const char *label_selector_op_to_string(enum label_selector_op);

char *label_key_validate(const char *)
    __attribute__((warn_unused_result));
char *label_value_validate(const char *)
    __attribute__((warn_unused_result));

#endif /* lib/label-selector.h */
