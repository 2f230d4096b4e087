/*
 * Small helpers over jansson shared by the parsers in lib/.
 *
 * Never call jansson's json_object(), json_array(), json_string(),
 * json_integer(), json_real() or json_equal() by name: libopenvswitch,
 * linked statically, has functions of the same names that win.  Build
 * values with json_pack().
 */
#ifndef TENDRIL_JSON_UTIL_H
#define TENDRIL_JSON_UTIL_H 1

#include <jansson.h>

const char *json_type_name(const json_t *);

#endif /* lib/json-util.h */
