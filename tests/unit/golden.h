/*
 * Golden files: flow dumps the unit tests compare with
 * tests/fixtures/flows/NAME.  TENDRIL_UPDATE_GOLDEN=1 rewrites them.
 * Include after <cmocka.h>.
 */
#ifndef TENDRIL_TEST_GOLDEN_H
#define TENDRIL_TEST_GOLDEN_H 1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Compares 'actual' with the golden file tests/fixtures/flows/NAME, or
 * writes it when TENDRIL_UPDATE_GOLDEN is set. */
static inline void
check_golden(const char *name, const char *actual)
{
    const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
    char *path = xasprintf("%s/tests/fixtures/flows/%s", srcdir, name);

    if (getenv("TENDRIL_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(actual, f);
        fclose(f);
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fail_msg("cannot open golden file %s", path);
    }
    struct ds expected = DS_EMPTY_INITIALIZER;
    int c;
    while ((c = getc(f)) != EOF) {
        ds_put_char(&expected, c);
    }
    fclose(f);
    if (strcmp(ds_cstr(&expected), actual)) {
        fail_msg("flows differ from %s:\n--- expected\n%s--- actual\n%s",
                 path, ds_cstr(&expected), actual);
    }
    ds_destroy(&expected);
    free(path);
}

#endif /* tests/unit/golden.h */
