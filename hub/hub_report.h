/*
 * hub_report.h - the national report from the hub (docs/hub.md, "The
 * national report"): the country's index with its interval, the provinces
 * ranked with theirs, and which differences between provinces are real
 * (scoring/score_rank.h), as a page and as open data.
 */
#ifndef SIPAS_HUB_REPORT_H
#define SIPAS_HUB_REPORT_H

#include <libpq-fe.h>

#include "../lib/err.h"
#include "../lib/period.h"
#include "../reports/rep_report.h"

/* The family-wise level of the pairwise tests. */
#define HUB_RANK_ALPHA 0.05

/* Score form `form_code` over `period` by province from the hub on conn
 * (hub_score_run) and render national.html, national.csv and
 * national.json into *out (empty at the call; released by the caller, also
 * on error).  Errors as hub_score_run's. */
int hub_report_render(PGconn *conn, const char *form_code, const struct period *period,
		      struct report_files *out, struct err *e);

#endif
