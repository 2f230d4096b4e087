/*
 * The steps of an ofproto/trace report: which flow of which table the
 * switch matched, in order, so that a verdict can be read off the flows
 * that are installed rather than worked out again from the objects.
 * Pure: parses text, talks to nothing.
 */
#ifndef TENDRIL_FLOWS_TRACE_H
#define TENDRIL_FLOWS_TRACE_H 1

#include <stddef.h>
#include <stdint.h>

/* One table lookup: " 10. conj_id=7,ip, priority 200, cookie 0x..." */
struct trace_step {
    uint8_t table;
    int priority;                /* -1: no flow matched ("No match."). */
    uint64_t cookie;
    char *match;                 /* As ovs-ofctl prints it; "" if empty. */
};

struct trace {
    struct trace_step *steps;
    size_t n;
    char *final_flow;            /* "Final flow:" line's text, or NULL. */
    char *datapath_actions;      /* "Datapath actions:" text, or NULL. */
};

void trace_parse(const char *text, struct trace *);
void trace_destroy(struct trace *);

/* The first step in 'table' at or after step 'from', or NULL. */
const struct trace_step *trace_find(const struct trace *, uint8_t table,
                                    size_t from);

#endif /* flows/trace.h */
