/* Parsing ofproto/trace output (see trace.h). */
#include "ovs-config.h"

#include "flows/trace.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A table line is "NN. MATCH, priority P[, cookie C]", indented by how
 * deep the resubmit nesting is.  Actions and other text never start with
 * digits followed by ". ". */
static bool
parse_step(const char *line, struct trace_step *step)
{
    while (*line == ' ') {
        line++;
    }
    char *end;
    unsigned long table = strtoul(line, &end, 10);
    if (end == line || table > 254 || strncmp(end, ". ", 2)) {
        return false;
    }
    const char *rest = end + 2;
    *step = (struct trace_step) { .table = table, .priority = -1 };
    if (!strncmp(rest, "No match", 8)) {
        step->match = xstrdup("");
        return true;
    }
    const char *prio = strstr(rest, "priority ");
    if (!prio) {
        return false;
    }
    /* The match is everything before ", priority", or nothing. */
    size_t len = prio - rest;
    if (len >= 2 && !strncmp(prio - 2, ", ", 2)) {
        len -= 2;
    }
    while (len && rest[len - 1] == ' ') {
        len--;
    }
    step->priority = atoi(prio + strlen("priority "));
    const char *cookie = strstr(prio, "cookie ");
    if (cookie) {
        step->cookie = strtoull(cookie + strlen("cookie "), NULL, 16);
    }
    step->match = xmemdup0(rest, len);
    return true;
}

static char *
line_after(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && !strncmp(line, prefix, n)
           ? xmemdup0(line + n, len - n) : NULL;
}

void
trace_parse(const char *text, struct trace *t)
{
    size_t allocated = 0;
    *t = (struct trace) { NULL, 0, NULL, NULL };
    for (const char *p = text; *p; ) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t) (eol - p) : strlen(p);
        char *line = xmemdup0(p, len);
        struct trace_step step;
        char *s;
        if (parse_step(line, &step)) {
            if (t->n >= allocated) {
                t->steps = x2nrealloc(t->steps, &allocated, sizeof *t->steps);
            }
            t->steps[t->n++] = step;
        } else if ((s = line_after(line, len, "Final flow: "))) {
            free(t->final_flow);
            t->final_flow = s;
        } else if ((s = line_after(line, len, "Datapath actions: "))) {
            free(t->datapath_actions);
            t->datapath_actions = s;
        }
        free(line);
        p = eol ? eol + 1 : p + len;
    }
}

void
trace_destroy(struct trace *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->steps[i].match);
    }
    free(t->steps);
    free(t->final_flow);
    free(t->datapath_actions);
    *t = (struct trace) { NULL, 0, NULL, NULL };
}

const struct trace_step *
trace_find(const struct trace *t, uint8_t table, size_t from)
{
    for (size_t i = from; i < t->n; i++) {
        if (t->steps[i].table == table) {
            return &t->steps[i];
        }
    }
    return NULL;
}
