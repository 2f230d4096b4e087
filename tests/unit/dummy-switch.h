/*
 * A real Open vSwitch for unit tests, without root or namespaces: a private
 * ovsdb-server and `ovs-vswitchd --enable-dummy` in a temporary run
 * directory, with one bridge on the dummy datapath.  This is OVS's own test
 * seam.  The daemons are stopped by the pids they wrote.
 */
#ifndef TENDRIL_TESTS_DUMMY_SWITCH_H
#define TENDRIL_TESTS_DUMMY_SWITCH_H 1

#include <stdbool.h>

struct ds;

struct dummy_switch {
    char *dir;                   /* Run, database and log directory. */
    char *db;                    /* "unix:DIR/db.sock". */
    char *bridge;
    char *target;                /* "unix:DIR/BRIDGE.mgmt". */
};

bool dummy_switch_start(struct dummy_switch *, const char *bridge);
void dummy_switch_stop(struct dummy_switch *);
int dummy_switch_run(const struct dummy_switch *, struct ds *out,
                     const char *format, ...)
    __attribute__((format(printf, 3, 4)));
int dummy_switch_count(const struct dummy_switch *, const char *command,
                       const char *needle);

#endif /* tests/unit/dummy-switch.h */
