#include "ovs-config.h"
#include "lib/json-util.h"

#include <stdlib.h>
#include <string.h>

/* Names the JSON type of 'j' for error messages: "a string", "an array". */
const char *
json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "of unknown JSON type";
}

bool
tjson_equal(const json_t *a, const json_t *b)
{
    size_t flags = JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY;
    char *x = a ? json_dumps(a, flags) : NULL;
    char *y = b ? json_dumps(b, flags) : NULL;
    bool equal = x && y && !strcmp(x, y);
    free(x);
    free(y);
    return equal;
}
