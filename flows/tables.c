#include "ovs-config.h"
#include "flows/tables.h"

#include "openvswitch/ofp-table.h"
#include "util.h"

static const char *const names[N_TABLES] = {
#define TABLE(ENUM, NAME) NAME,
    TENDRIL_TABLES
#undef TABLE
};

const char *
table_name(enum tnd_table table)
{
    ovs_assert(table < N_TABLES);
    return names[table];
}

/* Returns the map from table names to ids that the flow parser uses, so
 * that flows may say "table=L3Forwarding" and "goto_table:Output".  Built
 * once; never freed. */
struct ofputil_table_map *
tables_get_map(void)
{
    static struct ofputil_table_map map;
    static bool initialized;

    if (!initialized) {
        ofputil_table_map_init(&map);
        for (int i = 0; i < N_TABLES; i++) {
            ofputil_table_map_put(&map, i, names[i]);
        }
        initialized = true;
    }
    return &map;
}
