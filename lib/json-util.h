/*
 * Small helpers over jansson shared by lib/, cni/ and the tests.
 *
 * Never call jansson's json_object(), json_array(), json_string(),
 * json_integer(), json_real() or json_equal() by name: libopenvswitch,
 * linked statically, has functions of the same names that win.  Build
 * values with json_pack() or the tjson_*() helpers below.
 */
#ifndef TENDRIL_JSON_UTIL_H
#define TENDRIL_JSON_UTIL_H 1

#include <jansson.h>
#include <stdbool.h>

const char *json_type_name(const json_t *);

/* jansson's constructors, through json_pack().  Each returns a new
 * reference, or NULL as jansson's constructors do (a NULL or non-UTF-8
 * string, for example). */
static inline json_t *
tjson_object(void)
{
    return json_pack("{}");
}

static inline json_t *
tjson_array(void)
{
    return json_pack("[]");
}

static inline json_t *
tjson_string(const char *s)
{
    return s ? json_pack("s", s) : NULL;
}

static inline json_t *
tjson_integer(json_int_t n)
{
    return json_pack("I", n);
}

/* jansson's json_equal(), for the same reason: compares the canonical
 * encodings (sorted keys) of 'a' and 'b'. */
bool tjson_equal(const json_t *a, const json_t *b);

#endif /* lib/json-util.h */
