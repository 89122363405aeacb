/*
 * metrics.h - counters for GET /metrics in the Prometheus text format:
 * requests by route and status, latency histograms by route, responses
 * stored, ratings stored late (into a published period), rejections by reason
 * (every row of the errors.h table), and receipt links made for a one-stop
 * system.  Lock-free (C11 atomics), so counting
 * costs the request path almost nothing.
 */
#ifndef SIPAS_METRICS_H
#define SIPAS_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "errors.h"
#include "../lib/strbuf.h"

#define COL_METRICS_ROUTES 64
#define COL_METRICS_STATUSES (2 + COL_E_COUNT)  /* 200, 201, then errors.h */
#define COL_METRICS_BUCKETS 10

struct col_metrics {
	const char *routes[COL_METRICS_ROUTES];        /* route names, set at start */
	atomic_ulong requests[COL_METRICS_ROUTES][COL_METRICS_STATUSES];
	atomic_ulong latency[COL_METRICS_ROUTES][COL_METRICS_BUCKETS + 1];
	atomic_ulong latency_us_sum[COL_METRICS_ROUTES];
	atomic_ulong rejections[COL_E_COUNT];      /* by the errors.h table */
	atomic_ulong late;                         /* stored into a published period */
	atomic_ulong links_made, links_refused;    /* POST /api/links items */
};

/* Record one request on route index `route` (-1 = no route matched). */
void col_metrics_observe(struct col_metrics *m, int route, unsigned status, double seconds);

/* Count a refused request or batch item. */
void col_metrics_reject(struct col_metrics *m, enum col_error why);

/* Count a rating stored for a day of an already published period. */
void col_metrics_late(struct col_metrics *m);

/* Count the items of a POST /api/links: links made and items refused. */
void col_metrics_links(struct col_metrics *m, unsigned long made, unsigned long refused);

/* Append the Prometheus text; `stored` and `commits` come from the writer. */
void col_metrics_render(struct col_metrics *m, uint64_t stored, uint64_t commits, struct strbuf *out);

#endif
