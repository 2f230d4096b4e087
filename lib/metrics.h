/*
 * Prometheus text exposition (format 0.0.4), written by the modules that
 * own the figures: each has a *_format_metrics() that appends its families
 * with these helpers.  Pure: no I/O, no clock.
 *
 * Names follow Prometheus conventions: tendril_agent_ prefix, base units
 * (seconds), _total for counters.  A family is announced once with
 * metrics_put_family(), then given its samples.
 */
#ifndef TENDRIL_LIB_METRICS_H
#define TENDRIL_LIB_METRICS_H 1

#include <stddef.h>
#include <stdint.h>

struct ds;

enum metric_type {
    METRIC_COUNTER,
    METRIC_GAUGE,
    METRIC_HISTOGRAM,
};

/* "# HELP NAME HELP" and "# TYPE NAME TYPE". */
void metrics_put_family(struct ds *, const char *name, enum metric_type,
                        const char *help);

/* One sample: NAME{LABELS} VALUE, where 'labels' is NULL or already
 * formatted ("table=\"classifier\""; see metrics_label_escape()). */
void metrics_put_sample(struct ds *, const char *name, const char *labels,
                        double value);

/* A family with one unlabelled sample: metrics_put_family() then
 * metrics_put_sample(). */
void metrics_put_scalar(struct ds *, const char *name, enum metric_type,
                        const char *help, double value);

/* Appends 'value' escaped for a label value (backslash, quote, newline). */
void metrics_label_escape(struct ds *, const char *value);

/* A latency histogram with fixed buckets, in seconds. */
#define HISTOGRAM_N_BUCKETS 14
struct histogram {
    uint64_t counts[HISTOGRAM_N_BUCKETS];   /* Not cumulative. */
    uint64_t inf;                           /* Above the last bound. */
    uint64_t count;
    double sum;
};

/* The upper bounds: 100 us to 10 s, about three per decade. */
extern const double histogram_bounds[HISTOGRAM_N_BUCKETS];

void histogram_observe(struct histogram *, double seconds);

/* The _bucket (cumulative, with le="+Inf"), _sum and _count samples of
 * 'h' under 'name', with 'labels' (NULL or formatted) before "le". */
void metrics_put_histogram(struct ds *, const char *name, const char *labels,
                           const struct histogram *h);

#endif /* lib/metrics.h */
