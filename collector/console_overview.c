/*
 * console_overview.c - the console's Overview (docs/console.md): the
 * quarter so far for each agency in the user's scope, with the figures,
 * intervals and verdicts `sipas score --period P --by agency` gives, and
 * the scope's kiosks with their ratings today and their last post; and
 * the per-dossier rate from dossier records (scoring/score_records.h) of
 * each agency in scope that has records, with the city-wide figure for
 * the office.
 *
 * The quarter is scored whole (scoring/score.h) and only the groups of
 * agencies in scope are kept: an agency's interval is a domain estimate
 * of the whole design (its strata and degrees of freedom), so scoring the
 * scope's rows alone would give other figures than `sipas score` and the
 * published report.  The kiosks are read with the scope in the query.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../lib/period.h"
#include "../scoring/score.h"
#include "../scoring/score_records.h"
#include "console.h"
#include "handlers.h"
#include "request.h"

/* The survey the overview scores (the quarterly report's). */
#define OVERVIEW_FORM "sipas-2017"

/* The verdict as the console's API names it, by enum score_status; null
 * when no target applies.  "too_few" is score's insufficient data. */
static const char *const verdicts[] = {
	[SCORE_NO_TARGET] = NULL,
	[SCORE_MET] = "met",
	[SCORE_NOT_MET] = "not_met",
	[SCORE_INCONCLUSIVE] = "inconclusive",
	[SCORE_INSUFFICIENT_DATA] = "too_few",
};

static json_t *number_or_null(int known, double v)
{
	return known ? json_real(v) : json_null();
}

static json_t *group_json(const struct score_group *g)
{
	const struct score_estimate *x = &g->index;

	return json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:s?}", "agency", g->agency->code, "agency_name",
			 g->agency->name, "n", (json_int_t)g->n, "index", number_or_null(x->defined, x->est),
			 "low", number_or_null(x->defined && x->has_bounds, x->lo), "high",
			 number_or_null(x->defined && x->has_bounds, x->hi), "target",
			 number_or_null(g->has_target, g->target), "verdict", verdicts[g->status]);
}

/* The groups of the agencies in scope, in the score's order. */
static int scoped_groups(sqlite3 *db, const struct col_catalog *cat, const struct form *form,
			 const struct period *p, const struct scope *scope, json_t *out, struct err *e)
{
	struct score_options so = { SCORE_BY_AGENCY, NULL };
	struct score_result *res = NULL;
	int rc = score_run(db, cat->reg, form, p, &so, &res, e);

	/* groups[0] is every agency together: not an agency's figure */
	for (size_t i = 1; !rc && i < res->n_groups; i++) {
		const struct score_group *g = &res->groups[i];

		if (g->agency && !g->sector && scope_has(scope, g->agency->id))
			json_array_append_new(out, group_json(g));
	}
	score_result_free(res);
	return rc;
}

static json_t *dossiers_json(const struct score_records_group *g)
{
	const struct score_records_counts *c = &g->period;

	return json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "agency", g->agency ? json_string(g->agency->code) : json_null(),
			 "agency_name", g->agency ? json_string(g->agency->name) : json_null(),
			 "finished", (json_int_t)c->finished, "late", (json_int_t)c->late,
			 "complaint", (json_int_t)c->complaint, "unhappy", (json_int_t)c->unhappy,
			 "none", (json_int_t)c->none, "cells", (json_int_t)c->cells,
			 "active_cells", (json_int_t)c->active_cells);
}

/* The per-dossier rate of the agencies in scope with records; first, for
 * a user who sees every agency, the city-wide figure. */
static int scoped_dossiers(sqlite3 *db, const struct col_catalog *cat, const struct period *p,
			   const struct scope *scope, json_t *out, struct err *e)
{
	struct score_records *res = NULL;
	int rc = score_records_run(db, cat->reg, p, &res, e);

	for (size_t i = 0; !rc && i < res->n_groups; i++) {
		const struct score_records_group *g = &res->groups[i];

		if (g->sector || !g->period.cells)
			continue;
		if (g->agency ? scope_has(scope, g->agency->id) : scope->all)
			json_array_append_new(out, dossiers_json(g));
	}
	score_records_free(res);
	return rc;
}

/* The kiosks in scope that are not revoked: ratings stored today
 * (Vietnam time) and the last post. */
static int scoped_counters(sqlite3 *db, const struct scope *scope, json_t *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int step = SQLITE_DONE;
	int rc = db_prepare(db, "SELECT a.code, d.counter, d.id, CASE WHEN d.rated_day = ?1 THEN d.rated_today "
			    "ELSE 0 END, d.last_post_at FROM devices d JOIN agencies a ON a.id = d.agency_id WHERE "
			    "d.role = 'kiosk' AND d.revoked_at IS NULL AND " SCOPE_SQL("d.agency_id")
			    " ORDER BY a.code, d.counter, d.id", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, period_today());
	scope_bind(st, scope);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:I, s:o}", "agency", sqlite3_column_text(st, 0),
						     "counter", sqlite3_column_text(st, 1), "device_id",
						     (json_int_t)sqlite3_column_int64(st, 2), "today",
						     (json_int_t)sqlite3_column_int64(st, 3), "last_post_at",
						     col_json_time(sqlite3_column_int64(st, 4))));
	if (step != SQLITE_DONE)
		rc = db_fail(db, e, "reading the kiosks");
	sqlite3_finalize(st);
	return rc;
}

/* GET /console/api/overview?period=P (default: this quarter) */
void col_handle_console_overview(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail)
{
	const struct col_console *c = &req->sender->console;
	const char *label = req->query(req->cls, "period");
	struct col_catalog *cat = col_app_catalog(app);
	const struct form *form = col_catalog_form(cat, OVERVIEW_FORM);
	json_t *groups = json_array(), *counters = json_array(), *dossiers = json_array();
	int32_t today = period_today();
	char from[16], to[16];
	struct period p;
	struct err e;
	sqlite3 *db = NULL;
	int quarter, rc;

	(void)tail;
	err_clear(&e);
	if (!label)
		quarter = period_quarter_of_day(today);
	if (label && period_parse_quarter(label, &quarter, NULL) != 0) {
		col_reply_error(app, reply, COL_E_INVALID, "period must be a quarter such as 2026Q3", "period");
		goto out;
	}
	period_of_quarter(quarter, &p);
	rc = period_check_started(&p, today, &e);
	if (!rc && !form)
		rc = err_set(&e, ERR_NOT_FOUND, "form %s is not loaded", OVERVIEW_FORM);
	if (!rc && !(db = col_reader(app, &e)))
		rc = e.code;
	/* one snapshot for the figures and the counters */
	if (!rc && !(rc = db_exec(db, "BEGIN", &e))) {
		rc = scoped_groups(db, cat, form, &p, &c->scope, groups, &e);
		if (!rc)
			rc = scoped_counters(db, &c->scope, counters, &e);
		if (!rc)
			rc = scoped_dossiers(db, cat, &p, &c->scope, dossiers, &e);
		db_exec(db, "COMMIT", NULL);
	}
	if (rc) {
		col_reply_error(app, reply, col_error_from_err(rc), e.text, e.field[0] ? e.field : NULL);
		goto out;
	}
	period_format_day(p.first_day, from);
	period_format_day(p.last_day, to);
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:s, s:s, s:s, s:o, s:O, s:O, s:O}", "period", p.label,
						     "form", form->id, "from", from, "to", to, "as_of",
						     col_json_time((long long)time(NULL)), "groups", groups,
						     "counters", counters, "dossiers", dossiers));
out:
	json_decref(groups);
	json_decref(counters);
	json_decref(dossiers);
	col_catalog_release(cat);
}
