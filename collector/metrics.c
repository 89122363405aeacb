/*
 * metrics.c - Prometheus counters (see metrics.h).
 */
#include "metrics.h"


/* Request counters are kept per status: slot 0 is 200, slot 1 is 201, and
 * slot 2 + i the status of errors.h row i, so every status the collector
 * can answer has a counter without a second list to keep in step. */
#define FIRST_ERROR_SLOT 2

static unsigned slot_status(int slot)
{
	if (slot < FIRST_ERROR_SLOT)
		return slot == 0 ? 200 : 201;
	return col_error_info((enum col_error)(slot - FIRST_ERROR_SLOT))->status;
}

static const double bucket_le[COL_METRICS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0
};

/* The first slot of `status`, or -1 when the collector never answers it. */
static int status_index(unsigned status)
{
	for (int i = 0; i < COL_METRICS_STATUSES; i++)
		if (slot_status(i) == status)
			return i;
	return -1;
}

void col_metrics_observe(struct col_metrics *m, int route, unsigned status, double seconds)
{
	int s = status_index(status), b;

	if (route < 0 || route >= COL_METRICS_ROUTES || s < 0)
		return;
	atomic_fetch_add_explicit(&m->requests[route][s], 1, memory_order_relaxed);
	for (b = 0; b < COL_METRICS_BUCKETS && seconds > bucket_le[b]; b++)
		;
	atomic_fetch_add_explicit(&m->latency[route][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->latency_us_sum[route], (unsigned long)(seconds * 1e6),
				  memory_order_relaxed);
}

void col_metrics_reject(struct col_metrics *m, enum col_error why)
{
	atomic_fetch_add_explicit(&m->rejections[why], 1, memory_order_relaxed);
}

void col_metrics_late(struct col_metrics *m)
{
	atomic_fetch_add_explicit(&m->late, 1, memory_order_relaxed);
}

void col_metrics_links(struct col_metrics *m, unsigned long made, unsigned long refused)
{
	atomic_fetch_add_explicit(&m->links_made, made, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->links_refused, refused, memory_order_relaxed);
}

void col_metrics_render(struct col_metrics *m, uint64_t stored, uint64_t commits, struct strbuf *out)
{
	strbuf_addstr(out, "# HELP sipas_http_requests_total HTTP requests by route and status.\n"
		      "# TYPE sipas_http_requests_total counter\n");
	for (int r = 0; r < COL_METRICS_ROUTES && m->routes[r]; r++)
		for (int s = 0; s < COL_METRICS_STATUSES; s++) {
			unsigned long v = atomic_load(&m->requests[r][s]);

			if (v)
				strbuf_addf(out, "sipas_http_requests_total{route=\"%s\",status=\"%u\"} %lu\n",
					    m->routes[r], slot_status(s), v);
		}
	strbuf_addstr(out, "# HELP sipas_http_request_seconds Request latency by route.\n"
		      "# TYPE sipas_http_request_seconds histogram\n");
	for (int r = 0; r < COL_METRICS_ROUTES && m->routes[r]; r++) {
		unsigned long cum = 0;

		for (int b = 0; b <= COL_METRICS_BUCKETS; b++) {
			cum += atomic_load(&m->latency[r][b]);
			if (b < COL_METRICS_BUCKETS)
				strbuf_addf(out, "sipas_http_request_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
					    m->routes[r], bucket_le[b], cum);
			else
				strbuf_addf(out, "sipas_http_request_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n",
					    m->routes[r], cum);
		}
		strbuf_addf(out, "sipas_http_request_seconds_sum{route=\"%s\"} %.6f\n", m->routes[r],
			    (double)atomic_load(&m->latency_us_sum[r]) / 1e6);
		strbuf_addf(out, "sipas_http_request_seconds_count{route=\"%s\"} %lu\n", m->routes[r], cum);
	}
	strbuf_addf(out, "# HELP sipas_responses_stored_total Responses stored by the collector.\n"
		    "# TYPE sipas_responses_stored_total counter\nsipas_responses_stored_total %llu\n",
		    (unsigned long long)stored);
	strbuf_addf(out, "# HELP sipas_commits_total Transactions committed (group commits).\n"
		    "# TYPE sipas_commits_total counter\nsipas_commits_total %llu\n",
		    (unsigned long long)commits);
	strbuf_addf(out, "# HELP sipas_late_ratings_total Ratings stored for a day of an already published "
		    "period (stored and scored; the published figures do not change).\n"
		    "# TYPE sipas_late_ratings_total counter\nsipas_late_ratings_total %lu\n",
		    atomic_load(&m->late));
	strbuf_addf(out, "# HELP sipas_links_total Items of POST /api/links: receipt links made, items refused.\n"
		    "# TYPE sipas_links_total counter\nsipas_links_total{outcome=\"made\"} %lu\n"
		    "sipas_links_total{outcome=\"refused\"} %lu\n",
		    atomic_load(&m->links_made), atomic_load(&m->links_refused));
	strbuf_addstr(out, "# HELP sipas_rejections_total Refused submissions by reason.\n"
		      "# TYPE sipas_rejections_total counter\n");
	for (int i = 0; i < COL_E_COUNT; i++)
		strbuf_addf(out, "sipas_rejections_total{reason=\"%s\"} %lu\n",
			    col_error_info((enum col_error)i)->code, atomic_load(&m->rejections[i]));
}
