/*
 * console_live.c - the live views and the alerts, for the console's Live
 * and Alerts screens and for scripts with an admin token (docs/console.md,
 * docs/monitoring.md "Live views"): GET /api/live, its funnel plot
 * GET /api/live/funnel.svg, and GET /api/alerts.  A console user sees the
 * agencies of its scope, applied in the queries; an admin token sees
 * every agency.  Per-officer figures are the office's and the officer's
 * own agency's only: a viewer is refused them, an agency user sees the
 * officers of the agencies it was given (not of those under them).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../lib/csv.h"
#include "../lib/period.h"
#include "../monitor/alert.h"
#include "../monitor/live.h"
#include "console.h"
#include "handlers.h"
#include "request.h"

/* Alerts listed at most, newest first. */
#define LIVE_ALERTS_MAX 1000

/* The agencies the request's sender may see for grouping `by` (-1: any
 * but officer) into *use, *owned holding what must be released; -1 with
 * the reply set (403) when it may not. */
static int sender_scope(struct col_app *app, const struct col_request *req, struct col_reply *reply, int by,
			struct scope *owned, const struct scope **use)
{
	const struct col_sender *s = req->sender;
	struct err e;

	memset(owned, 0, sizeof(*owned));
	if (s->kind != COL_SENDER_USER) {   /* an admin token: every agency */
		owned->all = 1;
		*use = owned;
		return 0;
	}
	*use = &s->console.scope;
	if (by != LIVE_BY_OFFICER || s->console.user.role == USER_OFFICE)
		return 0;
	if (s->console.user.role != USER_AGENCY) {
		col_reply_error(app, reply, COL_E_FORBIDDEN,
				"per-officer figures are for the office and the officer's own agency", "by");
		return -1;
	}
	err_clear(&e);
	if (live_officer_scope(s->console.user.agency_ids, s->console.user.n_agencies, owned, &e) != 0) {
		col_reply_err(app, reply, &e);
		return -1;
	}
	*use = owned;
	return 0;
}

/* The window and grouping of the query (defaults today, agency); -1 with
 * the reply set (400 naming the parameter) when one is unknown. */
static int view_params(struct col_app *app, const struct col_request *req, struct col_reply *reply, int *window,
		       int *by)
{
	const char *w = req->query(req->cls, "window"), *b = req->query(req->cls, "by");

	*window = w ? live_parse_window(w) : LIVE_TODAY;
	*by = b ? live_parse_by(b) : LIVE_BY_AGENCY;
	if (*window < 0) {
		col_reply_error(app, reply, COL_E_INVALID, "window must be today, 7d, 30d or quarter", "window");
		return -1;
	}
	if (*by < 0) {
		col_reply_error(app, reply, COL_E_INVALID, "by must be agency, sector, counter or officer", "by");
		return -1;
	}
	return 0;
}

/* The view the request asks for, in the sender's scope; NULL with the
 * reply set when refused or failed.  *cat is held for the view (it borrows
 * the registry's codes): release it after the view. */
static struct live_view *read_view(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				   struct col_catalog **cat)
{
	struct live_view *v = NULL;
	const struct scope *scope;
	struct scope owned;
	struct err e;
	sqlite3 *db;
	int window, by;

	*cat = NULL;
	if (view_params(app, req, reply, &window, &by) != 0 || sender_scope(app, req, reply, by, &owned, &scope) != 0)
		return NULL;
	err_clear(&e);
	*cat = col_app_catalog(app);
	if (!(db = col_reader(app, &e)) ||
	    live_view_read(db, (*cat)->reg, (const struct form *const *)(*cat)->forms, (*cat)->n_forms, window, by,
			   period_today(), scope, &v, &e) != 0)
		col_reply_err(app, reply, &e);
	scope_release(&owned);
	return v;
}

/* GET /api/live?window=today|7d|30d|quarter&by=agency|sector|counter|officer */
void col_handle_live(struct col_app *app, const struct col_request *req, struct col_reply *reply, const char *tail)
{
	struct col_catalog *cat;
	struct live_view *v = read_view(app, req, reply, &cat);

	(void)tail;
	if (v)
		col_reply_json(reply, MHD_HTTP_OK, live_view_json(v));
	live_view_free(v);
	col_catalog_release(cat);
}

/* The target most of v's ratings are judged against; 0 when none has one. */
static double usual_target(const struct live_view *v)
{
	double best = 0;
	long long best_n = 0;

	for (size_t i = 0; i < v->n_groups; i++) {
		long long n = 0;

		if (!v->groups[i].has_target)
			continue;
		for (size_t k = 0; k < v->n_groups; k++)
			if (v->groups[k].has_target && fabs(v->groups[k].target - v->groups[i].target) < 1e-9)
				n += v->groups[k].n;
		if (n > best_n) {
			best_n = n;
			best = v->groups[i].target;
		}
	}
	return best;
}

/* GET /api/live/funnel.svg?window=&by=[&target=0.9]: the funnel plot of
 * the view's groups judged against target (default: the target most of
 * its ratings have). */
void col_handle_live_funnel(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			    const char *tail)
{
	const char *given = req->query(req->cls, "target"), *hint;
	struct col_catalog *cat = NULL;
	struct live_view *v = NULL;
	double target = 0;

	(void)tail;
	if (given && (csv_parse_decimal(given, 0, &target, &hint) != 0 || !(target > 0 && target <= 1))) {
		col_reply_error(app, reply, COL_E_INVALID, "target must be a share above 0 and at most 1, such as 0.95",
				"target");
		return;
	}
	v = read_view(app, req, reply, &cat);
	if (!v)
		goto out;
	if (!given)
		target = usual_target(v);
	/* funnel_svg writes an <svg> for inline HTML, without the namespace
	 * (a report's pages hold no URL at all); served alone, an outer <svg>
	 * gives it the SVG namespace, so that a browser opens it as a picture */
	strbuf_reset(&reply->body);
	strbuf_addstr(&reply->body, "<svg xmlns=\"http://www.w3.org/2000/svg\">\n");
	live_view_funnel(v, target, &reply->body);
	strbuf_addstr(&reply->body, "</svg>\n");
	if (reply->body.failed) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		goto out;
	}
	reply->status = MHD_HTTP_OK;
	reply->content_type = "image/svg+xml; charset=utf-8";
	reply->csp = COL_REPORT_CSP;   /* opened alone, its own inline style only */
out:
	live_view_free(v);
	col_catalog_release(cat);
}

/* The states GET /api/alerts takes, and the condition each adds. */
static const struct {
	const char *name;
	const char *where;
} alert_states[] = {
	{ "open", " AND al.closed_at IS NULL" },
	{ "closed", " AND al.closed_at IS NOT NULL" },
	{ "all", "" },
};

/* The alerts of scope in state (an alert_states row's condition), newest
 * first, into list, each as its notifications carry it (alert_json). */
static int read_alerts(sqlite3 *db, const struct scope *scope, const char *where, json_t *list, struct err *e)
{
	char sql[400];
	sqlite3_stmt *st = NULL;
	int rc, step;

	snprintf(sql, sizeof(sql),
		 "SELECT al.id FROM alerts al WHERE " SCOPE_SQL("al.agency_id") "%s "
		 "ORDER BY al.opened_at DESC, al.id DESC LIMIT %d", where, LIVE_ALERTS_MAX);
	rc = db_prepare(db, sql, &st, e);
	if (rc)
		return rc;
	scope_bind(st, scope);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *alert = NULL;

		rc = alert_json(db, sqlite3_column_int64(st, 0), &alert, e);
		if (!rc)
			json_array_append_new(list, alert);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading the alerts");
	sqlite3_finalize(st);
	return rc;
}

/* GET /api/alerts?state=open|closed|all (default open) */
void col_handle_alerts(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		       const char *tail)
{
	const char *state = req->query(req->cls, "state");
	const struct scope *scope;
	struct scope owned;
	json_t *list;
	struct err e;
	sqlite3 *db;
	size_t i;

	(void)tail;
	for (i = 0; state && i < sizeof(alert_states) / sizeof(alert_states[0]); i++)
		if (strcmp(state, alert_states[i].name) == 0)
			break;
	if (!state)
		i = 0;
	if (i == sizeof(alert_states) / sizeof(alert_states[0])) {
		col_reply_error(app, reply, COL_E_INVALID, "state must be open, closed or all", "state");
		return;
	}
	if (sender_scope(app, req, reply, -1, &owned, &scope) != 0)
		return;
	err_clear(&e);
	list = json_array();
	if (!(db = col_reader(app, &e)) || read_alerts(db, scope, alert_states[i].where, list, &e) != 0) {
		col_reply_err(app, reply, &e);
		json_decref(list);
	} else {
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:o}", "alerts", list));
	}
	scope_release(&owned);
}
