#include "ovs-config.h"
#include "agent/pod-cidr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/cidr.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(pod_cidr);

static char *
pod_cidr_path(const char *state_dir)
{
    return xasprintf("%s/pod-cidr", state_dir);
}

/* Saves 'pool' atomically (write, fsync, rename). */
void
pod_cidr_save(const char *state_dir, const struct cidr *pool)
{
    char *path = pod_cidr_path(state_dir);
    char *tmp = xasprintf("%s.tmp", path);
    char text[CIDR_STRLEN];
    FILE *f = fopen(tmp, "w");
    bool ok = (f && fprintf(f, "%s\n", cidr_format(pool, text)) > 0
               && !fflush(f) && !fsync(fileno(f)));
    if (f && fclose(f)) {
        ok = false;
    }
    if (!ok || rename(tmp, path)) {
        VLOG_WARN("%s: cannot save the podCIDR (%s)", path,
                  ovs_strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(path);
}

/* Reads the saved pool into '*pool'; false if there is none or it is
 * malformed (logged). */
bool
pod_cidr_load(const char *state_dir, struct cidr *pool)
{
    char *path = pod_cidr_path(state_dir);
    char line[CIDR_STRLEN + 2] = "";
    FILE *f = fopen(path, "r");
    bool ok = false;
    if (f) {
        if (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = '\0';
            char *error = cidr_parse(line, pool);
            if (error) {
                VLOG_WARN("%s: %s; waiting for the Node's podCIDR", path,
                          error);
                free(error);
            } else {
                ok = true;
            }
        }
        fclose(f);
    }
    free(path);
    return ok;
}
