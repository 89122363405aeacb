/*
 * live.h - the live views (docs/monitoring.md, "Live views"): the
 * collector's ratings of today, the last 7 or 30 days or the quarter so
 * far, grouped by agency, sector, counter or officer on duty, each group
 * with its ratings, share satisfied and Wilson 95 % interval, the target
 * that applies, the dossier-based rate where dossier totals exist, and the
 * reasons chosen with the unhappy face; and the funnel plot of the groups.
 * One indexed scan of the window's rows per view, the scope in the query.
 */
#ifndef SIPAS_LIVE_H
#define SIPAS_LIVE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <sqlite3.h>

#include "../forms/form.h"
#include "../forms/registry.h"
#include "../lib/err.h"
#include "../lib/strbuf.h"
#include "../office/scope.h"

enum live_window { LIVE_TODAY, LIVE_7D, LIVE_30D, LIVE_QUARTER };
enum live_by { LIVE_BY_AGENCY, LIVE_BY_SECTOR, LIVE_BY_COUNTER, LIVE_BY_OFFICER };

/* "today", "7d", "30d", "quarter" into enum live_window; -1 when none. */
int live_parse_window(const char *s);

/* "agency", "sector", "counter", "officer" into enum live_by; -1 when none. */
int live_parse_by(const char *s);

/* The window's name as live_parse_window reads it. */
const char *live_window_name(int window);
const char *live_by_name(int by);

/* The Vietnam days of window as of day `today`, inclusive. */
void live_window_days(int window, int32_t today, int32_t *first, int32_t *last);

/* One group of a view.  Codes are borrowed from the registry the view
 * was read with; the other names are owned by the view. */
struct live_group {
	const char *agency;       /* code; NULL for a group of every agency (by sector) */
	const char *sector;       /* code; NULL for a group of every sector (by agency) */
	char *device;             /* the counter's kiosk, by its public id; NULL unless by counter */
	char *counter;            /* its name; NULL unless by counter */
	char *officer;            /* the officer's staff code; NULL unless by officer */
	char *officer_name;
	long long n, satisfied;
	double lo, hi;            /* Wilson 95 % interval of satisfied / n */
	int has_target;
	double target;
	int has_dossier_rate;     /* window quarter, with dossier totals covering the group */
	double dossier_rate;
	long long *reasons;       /* [view->n_reasons] counts, in the view's reason order */
};

/* A view: its groups in agency, sector, counter, officer order (codes). */
struct live_view {
	int window, by;
	int32_t first_day, last_day;
	size_t n_groups;
	struct live_group *groups;
	size_t n_reasons;
	const char **reasons;     /* the follow-up values' codes, borrowed from the forms */
};

/* Read the view of `window` as of day `today` grouped `by`, over the
 * ratings the collector stored (imports are not live) to every form in
 * forms[0..n_forms) on its overall question, restricted to the agencies of
 * scope inside the query.  reg gives codes and targets (the rule scoring's
 * verdicts use, at today's quarter).  Rows of forms not in forms are left
 * out.  Counters and officers are split by sector, since a target is a
 * sector's.  On success *out is owned by the caller (live_view_free) and
 * borrows from reg and forms, which must outlive it. */
int live_view_read(sqlite3 *db, const struct registry *reg, const struct form *const *forms, size_t n_forms,
		   int window, int by, int32_t today, const struct scope *scope, struct live_view **out,
		   struct err *e);

/* The view as {"window","by","from","to","groups":[{"agency","sector",
 * "device","counter","officer","officer_name","n","satisfied","share","lo",
 * "hi","target","dossier_rate","reasons":{code: count}}]}; NULL when out of
 * memory.  New reference. */
json_t *live_view_json(const struct live_view *v);

/* Append the funnel plot of v's groups whose target is `target` (share
 * satisfied against ratings; stats.h's funnel_svg) to out. */
void live_view_funnel(const struct live_view *v, double target, struct strbuf *out);

/* Free a view; NULL-safe. */
void live_view_free(struct live_view *v);

/* The scope by which a user of agency_ids (its own agencies, not those
 * under them) sees officers: per-officer figures are the officer's own
 * agency's.  *out owns its arrays (scope_release); 0, or ERR_NOMEM. */
int live_officer_scope(const long long *agency_ids, size_t n, struct scope *out, struct err *e);

#endif
