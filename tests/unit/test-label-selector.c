#include "ovs-config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/label-selector.h"
#include "smap.h"
#include "util.h"

/* Parses 'text' (JSON) as a selector, failing the test on error. */
static struct label_selector *
sel(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, 0, &jerr);
    if (!json) {
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    }

    struct label_selector *s;
    char *error = label_selector_from_json(json, &s);
    json_decref(json);
    if (error) {
        fail_msg("%s: %s", text, error);
    }
    return s;
}

/* Expects 'text' to be rejected with an error that contains 'fragment'. */
static void
expect_error(const char *text, const char *fragment)
{
    json_error_t jerr;
    json_t *json = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!json) {
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    }

    struct label_selector *s = (void *) 1;
    char *error = label_selector_from_json(json, &s);
    json_decref(json);
    if (!error) {
        fail_msg("%s parsed but should not", text);
    }
    assert_null(s);
    if (!strstr(error, fragment)) {
        fail_msg("error for %s is \"%s\", expected \"%s\" in it", text,
                 error, fragment);
    }
    free(error);
}

/* Builds labels from "k=v" strings, terminated by NULL. */
static void
labels(struct smap *map, ...)
{
    va_list args;
    const char *kv;

    smap_init(map);
    va_start(args, map);
    while ((kv = va_arg(args, const char *)) != NULL) {
        const char *eq = strchr(kv, '=');
        char *key = xmemdup0(kv, eq - kv);
        smap_add(map, key, eq + 1);
        free(key);
    }
    va_end(args);
}

/* Returns whether selector 'text' matches the labels given as "k=v"
 * strings. */
static bool
matches(const char *text, ...)
{
    struct label_selector *s = sel(text);
    struct smap map = SMAP_INITIALIZER(&map);
    va_list args;
    const char *kv;

    va_start(args, text);
    while ((kv = va_arg(args, const char *)) != NULL) {
        const char *eq = strchr(kv, '=');
        char *key = xmemdup0(kv, eq - kv);
        smap_add(&map, key, eq + 1);
        free(key);
    }
    va_end(args);

    bool result = label_selector_matches(s, &map);
    smap_destroy(&map);
    label_selector_destroy(s);
    return result;
}

static void
test_match_labels(void **state)
{
    const char *s = "{\"matchLabels\": {\"app\": \"web\", \"tier\": \"fe\"}}";
    assert_true(matches(s, "app=web", "tier=fe", NULL));
    assert_true(matches(s, "app=web", "tier=fe", "extra=1", NULL));
    assert_false(matches(s, "app=web", NULL));
    assert_false(matches(s, "app=web", "tier=be", NULL));
    assert_false(matches(s, NULL));

    /* An empty value must be present and empty. */
    s = "{\"matchLabels\": {\"canary\": \"\"}}";
    assert_true(matches(s, "canary=", NULL));
    assert_false(matches(s, "canary=yes", NULL));
    assert_false(matches(s, NULL));
}

static void
test_operator_in(void **state)
{
    const char *s = "{\"matchExpressions\": [{\"key\": \"env\", "
                    "\"operator\": \"In\", \"values\": [\"prod\", \"qa\"]}]}";
    assert_true(matches(s, "env=prod", NULL));
    assert_true(matches(s, "env=qa", "x=y", NULL));
    assert_false(matches(s, "env=dev", NULL));
    assert_false(matches(s, "other=prod", NULL));
    assert_false(matches(s, NULL));
}

static void
test_operator_not_in(void **state)
{
    const char *s = "{\"matchExpressions\": [{\"key\": \"env\", "
                    "\"operator\": \"NotIn\", \"values\": [\"dev\"]}]}";
    assert_true(matches(s, "env=prod", NULL));
    assert_false(matches(s, "env=dev", NULL));
    /* As in Kubernetes: a missing label is "not in" any set. */
    assert_true(matches(s, NULL));
    assert_true(matches(s, "app=web", NULL));
}

static void
test_operator_exists(void **state)
{
    const char *s = "{\"matchExpressions\": [{\"key\": \"role\", "
                    "\"operator\": \"Exists\"}]}";
    assert_true(matches(s, "role=", NULL));
    assert_true(matches(s, "role=client", NULL));
    assert_false(matches(s, "roles=client", NULL));
    assert_false(matches(s, NULL));

    /* "values": [] and null are the same as no values. */
    assert_true(matches("{\"matchExpressions\": [{\"key\": \"role\", "
                        "\"operator\": \"Exists\", \"values\": []}]}",
                        "role=x", NULL));
    assert_true(matches("{\"matchExpressions\": [{\"key\": \"role\", "
                        "\"operator\": \"Exists\", \"values\": null}]}",
                        "role=x", NULL));
}

static void
test_operator_does_not_exist(void **state)
{
    const char *s = "{\"matchExpressions\": [{\"key\": "
                    "\"example.com/legacy\", \"operator\": "
                    "\"DoesNotExist\"}]}";
    assert_true(matches(s, NULL));
    assert_true(matches(s, "legacy=1", NULL));
    assert_false(matches(s, "example.com/legacy=", NULL));
    assert_false(matches(s, "example.com/legacy=1", NULL));
}

static void
test_combined_is_and(void **state)
{
    const char *s =
        "{\"matchLabels\": {\"app\": \"web\"},"
        " \"matchExpressions\": ["
        "  {\"key\": \"tier\", \"operator\": \"In\","
        "   \"values\": [\"a\", \"b\"]},"
        "  {\"key\": \"env\", \"operator\": \"NotIn\", \"values\": [\"dev\"]},"
        "  {\"key\": \"team\", \"operator\": \"Exists\"},"
        "  {\"key\": \"deprecated\", \"operator\": \"DoesNotExist\"}]}";
    assert_true(matches(s, "app=web", "tier=a", "team=x", NULL));
    assert_true(matches(s, "app=web", "tier=b", "team=x", "env=prod", NULL));
    assert_false(matches(s, "app=db", "tier=a", "team=x", NULL));
    assert_false(matches(s, "app=web", "tier=c", "team=x", NULL));
    assert_false(matches(s, "app=web", "tier=a", "team=x", "env=dev", NULL));
    assert_false(matches(s, "app=web", "tier=a", NULL));
    assert_false(matches(s, "app=web", "tier=a", "team=x", "deprecated=1",
                         NULL));
}

static void
test_empty_selector(void **state)
{
    static const char *empties[] = {
        "{}",
        "{\"matchLabels\": {}}",
        "{\"matchExpressions\": []}",
        "{\"matchLabels\": null, \"matchExpressions\": null}",
        "{\"matchLabels\": {}, \"matchExpressions\": [], \"x\": 1}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(empties); i++) {
        struct label_selector *s = sel(empties[i]);
        struct smap some;
        labels(&some, "app=web", "k=", NULL);
        struct smap none = SMAP_INITIALIZER(&none);

        assert_true(label_selector_is_empty(s));
        assert_true(label_selector_matches(s, &some));
        assert_true(label_selector_matches(s, &none));
        assert_string_equal(label_selector_canonical(s), "");
        smap_destroy(&some);
        label_selector_destroy(s);
    }

    struct label_selector *s = sel("{\"matchLabels\": {\"a\": \"b\"}}");
    assert_false(label_selector_is_empty(s));
    label_selector_destroy(s);
}

static void
test_errors(void **state)
{
    expect_error("[]", "selector is an array, expected an object");
    expect_error("\"app=web\"", "selector is a string");
    expect_error("{\"matchLabels\": []}",
                 "matchLabels is an array, expected an object");
    expect_error("{\"matchLabels\": {\"app\": 1}}",
                 "matchLabels.app is a number, expected a string");
    expect_error("{\"matchLabels\": {\"app\": null}}",
                 "matchLabels.app is null, expected a string");
    expect_error("{\"matchLabels\": {\"-app\": \"web\"}}",
                 "label key \"-app\" is not valid");
    expect_error("{\"matchLabels\": {\"Example.com/app\": \"web\"}}",
                 "label key \"Example.com/app\" has a bad prefix");
    expect_error("{\"matchLabels\": {\"app\": \"web server\"}}",
                 "label value \"web server\" is not valid");
    expect_error("{\"matchExpressions\": {}}",
                 "matchExpressions is an object, expected an array");
    expect_error("{\"matchExpressions\": [\"app\"]}",
                 "matchExpressions[0] is a string, expected an object");
    expect_error("{\"matchExpressions\": [{\"operator\": \"Exists\"}]}",
                 "matchExpressions[0].key is missing");
    expect_error("{\"matchExpressions\": [{\"key\": 5, \"operator\": "
                 "\"Exists\"}]}",
                 "matchExpressions[0].key is a number, expected a string");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", \"operator\": "
                 "\"Exists\"}, {\"key\": \"b\"}]}",
                 "matchExpressions[1].operator is missing");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"Equals\", \"values\": [\"x\"]}]}",
                 "matchExpressions[0].operator \"Equals\" is not In, NotIn, "
                 "Exists or DoesNotExist");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"in\", \"values\": [\"x\"]}]}",
                 "operator \"in\" is not In");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": true}]}",
                 "matchExpressions[0].operator is a boolean");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"In\", \"values\": []}]}",
                 "matchExpressions[0]: operator In needs at least one value");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"In\"}]}",
                 "operator In needs at least one value");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"NotIn\", \"values\": null}]}",
                 "operator NotIn needs at least one value");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"Exists\", \"values\": [\"x\"]}]}",
                 "matchExpressions[0]: operator Exists takes no values");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"DoesNotExist\", \"values\": [\"x\"]}]}",
                 "operator DoesNotExist takes no values");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"In\", \"values\": \"x\"}]}",
                 "matchExpressions[0].values is a string, expected an array");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"In\", \"values\": [\"x\", 2]}]}",
                 "matchExpressions[0].values[1] is a number");
    expect_error("{\"matchExpressions\": [{\"key\": \"a\", "
                 "\"operator\": \"In\", \"values\": [\"x,y\"]}]}",
                 "matchExpressions[0].values[0]: label value \"x,y\"");
}

static void
test_label_syntax(void **state)
{
    static const char *good_keys[] = {
        "app", "a", "app.kubernetes.io/name", "kubernetes.io/metadata.name",
        "A_b-c.D9", "x/y", "example.com/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    static const char *bad_keys[] = {
        "", "-a", "a-", "a b", "a=b", "/a", "a/", "A.com/x", "a..b/x",
        "-a.com/x", "a/b/c", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaa",
    };
    static const char *good_values[] = { "", "web", "1.2.3", "A-b_c" };
    static const char *bad_values[] = { "-web", "web_", "a b", "x,y", "(a)" };

    for (size_t i = 0; i < ARRAY_SIZE(good_keys); i++) {
        char *error = label_key_validate(good_keys[i]);
        if (error) {
            fail_msg("key \"%s\": %s", good_keys[i], error);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++) {
        char *error = label_key_validate(bad_keys[i]);
        if (!error) {
            fail_msg("key \"%s\" accepted", bad_keys[i]);
        }
        free(error);
    }
    for (size_t i = 0; i < ARRAY_SIZE(good_values); i++) {
        char *error = label_value_validate(good_values[i]);
        if (error) {
            fail_msg("value \"%s\": %s", good_values[i], error);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(bad_values); i++) {
        char *error = label_value_validate(bad_values[i]);
        if (!error) {
            fail_msg("value \"%s\" accepted", bad_values[i]);
        }
        free(error);
    }
}

static void
expect_canonical(const char *text, const char *canonical)
{
    struct label_selector *s = sel(text);
    assert_string_equal(label_selector_canonical(s), canonical);
    label_selector_destroy(s);
}

static void
test_canonical(void **state)
{
    expect_canonical("{\"matchLabels\": {\"b\": \"2\", \"a\": \"1\"}}",
                     "a=1,b=2");
    expect_canonical("{\"matchExpressions\": ["
                     "{\"key\": \"z\", \"operator\": \"DoesNotExist\"},"
                     "{\"key\": \"tier\", \"operator\": \"NotIn\","
                     " \"values\": [\"b\", \"a\", \"b\"]},"
                     "{\"key\": \"env\", \"operator\": \"In\","
                     " \"values\": [\"qa\", \"prod\"]},"
                     "{\"key\": \"role\", \"operator\": \"Exists\"},"
                     "{\"key\": \"x\", \"operator\": \"NotIn\","
                     " \"values\": [\"1\"]}]}",
                     "!z,env in (prod,qa),role,tier notin (a,b),x!=1");

    /* Same requirements in another order or spelling: same key. */
    static const char *same[] = {
        "{\"matchLabels\": {\"app\": \"web\"}, \"matchExpressions\": ["
        " {\"key\": \"env\", \"operator\": \"In\","
        "  \"values\": [\"a\", \"b\"]}]}",
        "{\"matchExpressions\": ["
        " {\"key\": \"env\", \"operator\": \"In\","
        "  \"values\": [\"b\", \"a\"]},"
        " {\"key\": \"app\", \"operator\": \"In\", \"values\": [\"web\"]}]}",
        "{\"matchExpressions\": ["
        " {\"key\": \"app\", \"operator\": \"In\", \"values\": [\"web\"]},"
        " {\"key\": \"env\", \"operator\": \"In\","
        "  \"values\": [\"a\", \"b\"]}],"
        " \"matchLabels\": {\"app\": \"web\"}}",
    };
    struct label_selector *first = sel(same[0]);
    assert_string_equal(label_selector_canonical(first),
                        "app=web,env in (a,b)");
    for (size_t i = 1; i < ARRAY_SIZE(same); i++) {
        struct label_selector *s = sel(same[i]);
        assert_true(label_selector_equals(first, s));
        label_selector_destroy(s);
    }

    /* Different selectors: different keys. */
    static const char *different[] = {
        "{\"matchLabels\": {\"app\": \"web\"}}",
        "{\"matchExpressions\": ["
        " {\"key\": \"app\", \"operator\": \"NotIn\", \"values\": [\"web\"]},"
        " {\"key\": \"env\", \"operator\": \"In\","
        "  \"values\": [\"a\", \"b\"]}]}",
        "{\"matchLabels\": {\"app\": \"web\", \"env\": \"a\"}}",
        "{}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(different); i++) {
        struct label_selector *s = sel(different[i]);
        assert_false(label_selector_equals(first, s));
        label_selector_destroy(s);
    }
    label_selector_destroy(first);
}

static void
test_from_smap_and_clone(void **state)
{
    struct smap map;
    labels(&map, "tier=frontend", "app=web", NULL);

    struct label_selector *a = label_selector_from_smap(&map);
    struct label_selector *b = sel("{\"matchLabels\": {\"app\": \"web\", "
                                   "\"tier\": \"frontend\"}}");
    assert_true(label_selector_equals(a, b));
    assert_true(label_selector_matches(a, &map));

    struct label_selector *c = label_selector_clone(b);
    assert_string_equal(label_selector_canonical(c), "app=web,tier=frontend");
    assert_true(label_selector_matches(c, &map));
    smap_replace(&map, "tier", "backend");
    assert_false(label_selector_matches(c, &map));
    assert_false(label_selector_matches(a, &map));

    struct smap empty = SMAP_INITIALIZER(&empty);
    struct label_selector *d = label_selector_from_smap(&empty);
    assert_true(label_selector_is_empty(d));
    struct label_selector *e = label_selector_clone(d);
    assert_true(label_selector_is_empty(e));
    assert_true(label_selector_matches(e, &map));

    label_selector_destroy(a);
    label_selector_destroy(b);
    label_selector_destroy(c);
    label_selector_destroy(d);
    label_selector_destroy(e);
    label_selector_destroy(NULL);
    smap_destroy(&map);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_labels),
        cmocka_unit_test(test_operator_in),
        cmocka_unit_test(test_operator_not_in),
        cmocka_unit_test(test_operator_exists),
        cmocka_unit_test(test_operator_does_not_exist),
        cmocka_unit_test(test_combined_is_and),
        cmocka_unit_test(test_empty_selector),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_label_syntax),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_from_smap_and_clone),
    };
    return cmocka_run_group_tests_name("label-selector", tests, NULL, NULL);
}
