#include "ovs-config.h"
#include "tests/unit/dummy-switch.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

/* Runs the shell command 'format' with the switch's directories in the
 * environment (ovs-vsctl, ovs-ofctl and ovs-appctl then find the private
 * daemons), appending its output to 'out' if nonnull.  Returns its exit
 * status. */
int
dummy_switch_run(const struct dummy_switch *sw, struct ds *out,
                 const char *format, ...)
{
    struct ds cmd = DS_EMPTY_INITIALIZER;
    va_list args;
    ds_put_format(&cmd, "export OVS_RUNDIR=%s OVS_DBDIR=%s OVS_LOGDIR=%s "
                  "OVS_SYSCONFDIR=%s; ", sw->dir, sw->dir, sw->dir, sw->dir);
    va_start(args, format);
    ds_put_format_valist(&cmd, format, args);
    va_end(args);
    ds_put_cstr(&cmd, " 2>&1");

    FILE *p = popen(ds_cstr(&cmd), "r");
    int status = -1;
    if (p) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
            if (out) {
                ds_put_buffer(out, buf, n);
            }
        }
        status = pclose(p);
    }
    ds_destroy(&cmd);
    return status;
}

/* Counts the lines of `ovs-ofctl -O OpenFlow15 COMMAND TARGET` that contain
 * 'needle'. */
int
dummy_switch_count(const struct dummy_switch *sw, const char *command,
                   const char *needle)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    dummy_switch_run(sw, &out, "ovs-ofctl -O OpenFlow15 %s %s", command,
                     sw->target);
    int n = 0;
    for (const char *line = ds_cstr(&out); *line; ) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen(line);
        char *copy = xmemdup0(line, len);
        n += strstr(copy, needle) != NULL;
        free(copy);
        line += len + (end != NULL);
    }
    ds_destroy(&out);
    return n;
}

bool
dummy_switch_start(struct dummy_switch *sw, const char *bridge)
{
    char template[] = "/tmp/tendril-dummy.XXXXXX";
    if (!mkdtemp(template)) {
        return false;
    }
    sw->dir = xstrdup(template);
    sw->db = xasprintf("unix:%s/db.sock", sw->dir);
    sw->bridge = xstrdup(bridge);
    sw->target = xasprintf("unix:%s/%s.mgmt", sw->dir, bridge);

    struct ds out = DS_EMPTY_INITIALIZER;
    int status = dummy_switch_run(
        sw, &out,
        "set -e; cd %s; "
        "ovsdb-tool create conf.db /usr/share/openvswitch/vswitch.ovsschema; "
        "ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off "
        "--remote=punix:%s/db.sock conf.db; "
        "ovs-vsctl --no-wait init; "
        "ovs-vswitchd --enable-dummy --disable-system "
        "--disable-system-route --detach --no-chdir --pidfile --log-file "
        "-vconsole:off "
        "-vvconn:file:off; "
        "ovs-vsctl add-br %s -- set bridge %s datapath_type=dummy "
        "fail-mode=secure protocols=OpenFlow15",
        sw->dir, sw->dir, bridge, bridge);
    if (status) {
        fprintf(stderr, "dummy switch failed to start:\n%s\n",
                ds_cstr(&out));
    }
    ds_destroy(&out);
    return !status;
}

static void
kill_pidfile(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s.pid", dir, name);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) == 1 && pid > 1) {
            kill(pid, SIGTERM);
            for (int i = 0; i < 100 && !kill(pid, 0); i++) {
                usleep(20000);
            }
        }
        fclose(f);
    }
    free(path);
}

void
dummy_switch_stop(struct dummy_switch *sw)
{
    if (!sw->dir) {
        return;
    }
    kill_pidfile(sw->dir, "ovs-vswitchd");
    kill_pidfile(sw->dir, "ovsdb-server");
    if (!getenv("TENDRIL_KEEP_DUMMY")) {
        dummy_switch_run(sw, NULL, "rm -rf %s", sw->dir);
    }
    free(sw->dir);
    free(sw->db);
    free(sw->bridge);
    free(sw->target);
    memset(sw, 0, sizeof *sw);
}
