#include "ovs-config.h"
#include "lib/metrics.h"

#include <inttypes.h>
#include <math.h>

#include "openvswitch/dynamic-string.h"

const double histogram_bounds[HISTOGRAM_N_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 1, 2.5, 10,
};

void
metrics_put_family(struct ds *s, const char *name, enum metric_type type,
                   const char *help)
{
    static const char *const types[] = {
        [METRIC_COUNTER] = "counter",
        [METRIC_GAUGE] = "gauge",
        [METRIC_HISTOGRAM] = "histogram",
    };
    ds_put_format(s, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                  types[type]);
}

static void
put_value(struct ds *s, double v)
{
    if (isnan(v)) {
        ds_put_cstr(s, "NaN");
    } else if (isinf(v)) {
        ds_put_cstr(s, v > 0 ? "+Inf" : "-Inf");
    } else if (v == (double) (int64_t) v && fabs(v) < 1e15) {
        ds_put_format(s, "%"PRId64, (int64_t) v);
    } else {
        ds_put_format(s, "%.9g", v);
    }
}

void
metrics_put_sample(struct ds *s, const char *name, const char *labels,
                   double value)
{
    ds_put_cstr(s, name);
    if (labels && *labels) {
        ds_put_format(s, "{%s}", labels);
    }
    ds_put_char(s, ' ');
    put_value(s, value);
    ds_put_char(s, '\n');
}

void
metrics_put_scalar(struct ds *s, const char *name, enum metric_type type,
                   const char *help, double value)
{
    metrics_put_family(s, name, type, help);
    metrics_put_sample(s, name, NULL, value);
}

void
metrics_label_escape(struct ds *s, const char *value)
{
    for (const char *p = value; *p; p++) {
        switch (*p) {
        case '\\': ds_put_cstr(s, "\\\\"); break;
        case '"': ds_put_cstr(s, "\\\""); break;
        case '\n': ds_put_cstr(s, "\\n"); break;
        default: ds_put_char(s, *p); break;
        }
    }
}

void
histogram_observe(struct histogram *h, double seconds)
{
    size_t i;
    for (i = 0; i < HISTOGRAM_N_BUCKETS; i++) {
        if (seconds <= histogram_bounds[i]) {
            h->counts[i]++;
            break;
        }
    }
    if (i == HISTOGRAM_N_BUCKETS) {
        h->inf++;
    }
    h->count++;
    h->sum += seconds;
}

void
metrics_put_histogram(struct ds *s, const char *name, const char *labels,
                      const struct histogram *h)
{
    const char *sep = labels && *labels ? "," : "";
    uint64_t cum = 0;
    for (size_t i = 0; i < HISTOGRAM_N_BUCKETS; i++) {
        cum += h->counts[i];
        ds_put_format(s, "%s_bucket{%s%sle=\"%g\"} %"PRIu64"\n", name,
                      labels ? labels : "", sep, histogram_bounds[i], cum);
    }
    ds_put_format(s, "%s_bucket{%s%sle=\"+Inf\"} %"PRIu64"\n", name,
                  labels ? labels : "", sep, cum + h->inf);
    ds_put_format(s, "%s_sum", name);
    if (labels && *labels) {
        ds_put_format(s, "{%s}", labels);
    }
    ds_put_char(s, ' ');
    put_value(s, h->sum);
    ds_put_char(s, '\n');
    ds_put_format(s, "%s_count", name);
    if (labels && *labels) {
        ds_put_format(s, "{%s}", labels);
    }
    ds_put_format(s, " %"PRIu64"\n", h->count);
}
