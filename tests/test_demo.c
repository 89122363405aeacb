/*
 * test_demo.c - `sipas demo`: a realistic year of data for the shipped
 * registry, only into an empty database, and its CSV mode.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "../lib/period.h"

static void demo_fills_four_quarters_for_every_agency(void)
{
	const struct cmd_result *r;
	long long n_agencies, below, above;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "demo", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "responses to 2 forms from 32 agencies");
	n_agencies = test_db_int("sipas.db", "SELECT count(*) FROM agencies");
	/* every agency, both forms, four distinct quarters (90-day blocks) */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM (SELECT agency_id, form_id FROM responses "
			      "GROUP BY 1, 2)"), 2 * n_agencies);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(DISTINCT (day + 0) / 1) > 300 FROM responses"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT min(n) >= 250 FROM (SELECT count(*) AS n FROM responses r "
			      "JOIN forms f ON f.id = r.form_id WHERE f.code = 'sipas-2017' GROUP BY agency_id)"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT max(day) - min(day) > 300 FROM responses"), 1);
	/* overall satisfaction differs: some agencies below 90 %, some above 95 % */
	below = test_db_int("sipas.db", "SELECT count(*) FROM (SELECT agency_id, "
			    "avg(unicode(substr(CAST(answers AS TEXT), 23, 1)) >= 4) AS p FROM responses r "
			    "JOIN forms f ON f.id = r.form_id WHERE f.code = 'sipas-2017' GROUP BY 1) WHERE p < 0.90");
	above = test_db_int("sipas.db", "SELECT count(*) FROM (SELECT agency_id, "
			    "avg(unicode(substr(CAST(answers AS TEXT), 23, 1)) >= 4) AS p FROM responses r "
			    "JOIN forms f ON f.id = r.form_id WHERE f.code = 'sipas-2017' GROUP BY 1) WHERE p >= 0.95");
	CHECK(below >= 2);
	CHECK(above >= 2);
	/* design fields: strata per agency, several PSUs per agency and quarter */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM psus") >= 25 * 4 * 6, 1);
	/* every comment and every kiosk reason is in the comments' search,
	 * and nothing else (docs/monitoring.md, "Comments") */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM comments_fts") > 0, 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM comments_fts"),
		  test_db_int("sipas.db", "SELECT count(*) FROM responses r WHERE r.comment <> '' OR EXISTS "
			      "(SELECT 1 FROM response_reasons WHERE response_id = r.id)"));
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM comments_fts WHERE comments_fts MATCH "
			      "'\"thai\" \"do\"'"),
		  test_db_int("sipas.db", "SELECT count(*) FROM responses r WHERE r.comment LIKE '%thái độ%' OR "
			      "EXISTS (SELECT 1 FROM response_reasons WHERE response_id = r.id AND value = 'staff-attitude')"));
	r = sipas_run(NULL, "demo", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "the demo fills only an empty one");
	r = sipas_run(NULL, "demo", "--if-empty", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "nothing added");
}

/* The demo's counter ratings come from one demo kiosk per agency and go
 * on into this quarter up to yesterday, so that `make run`'s console shows
 * counters in the live views: read back through GET /api/live. */
static void demo_kiosks_feed_the_live_views(void)
{
	const struct cmd_result *r;
	struct test_server s;
	struct http_result h;
	char admin[128];
	long long n_agencies;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "demo", NULL)->status, 0);
	n_agencies = test_db_int("sipas.db", "SELECT count(*) FROM agencies");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE role = 'kiosk' AND "
			      "counter = 'Quầy 1 (demo)'"), n_agencies);
	/* every counter rating from its agency's kiosk, no survey response from one */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses r JOIN forms f ON f.id = r.form_id "
			      "LEFT JOIN devices d ON d.id = r.device_id WHERE (f.code = 'kiosk-2018') <> "
			      "(d.agency_id IS r.agency_id AND r.device_id IS NOT NULL)"), 0);
	/* up to yesterday (Vietnam time), nothing today or later */
	CHECK_INT(test_db_int("sipas.db", "SELECT max(day) < (strftime('%s','now') + 25200) / 86400 FROM responses"), 1);
	r = sipas_run(NULL, "device", "add", "--admin", "--counter", "ops", NULL);
	CHECK_INT(r->status, 0);
	snprintf(admin, sizeof(admin), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_request(&s, "GET", "/api/live?window=30d&by=counter", admin, NULL, &h), 200);
	CHECK_CONTAINS(h.body, "\"counter\":\"Quầy 1 (demo)\"");
	CHECK_INT(strstr(h.body, "\"device\":null") == NULL, 1);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* Every third agency that existed throughout gets dossier records, whose
 * codes its phone survey responses carry: the per-dossier rate then
 * shows, over some cells and not all, and says so. */
static void demo_records_give_a_partial_per_dossier_rate(void)
{
	const struct cmd_result *r;
	struct period last;
	long long with_records;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "demo", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, " dossier records");
	with_records = test_db_int("sipas.db", "SELECT count(DISTINCT agency_id) FROM dossier_records");
	CHECK(with_records >= 5);
	CHECK(with_records < test_db_int("sipas.db", "SELECT count(*) FROM agencies") / 2);
	/* ratings and records meet on the dossier's code */
	CHECK(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records d JOIN responses r ON "
			  "r.dossier_code = d.code AND r.agency_id = d.agency_id") > 100);
	CHECK(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records WHERE finished_at > due_at") > 0);
	period_of_quarter(period_quarter_of_day(period_today()) - 1, &last);
	r = sipas_run(NULL, "score", "--period", last.label, "--per-dossier", "--format", "table", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "(all)            (all)            ");
	CHECK_CONTAINS(r->out, " of ");
}

static void demo_csv_imports(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "demo", "--csv", "d.csv", "--form", "kiosk-2018", "--period", "2026Q2",
		      "--rows", "500", NULL);
	CHECK_INT(r->status, 0);
	r = sipas_run(NULL, "import", "--form", "kiosk-2018", "d.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "500 rows: 500 imported");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE channel = 1"), 500);
	r = sipas_run(NULL, "demo", "--csv", "d.csv", "--form", "kiosk-2018", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--csv needs --form, --period and --rows");
}

const struct test_case demo_tests[] = {
	{ "demo_fills_four_quarters_for_every_agency", demo_fills_four_quarters_for_every_agency },
	{ "demo_kiosks_feed_the_live_views", demo_kiosks_feed_the_live_views },
	{ "demo_records_give_a_partial_per_dossier_rate", demo_records_give_a_partial_per_dossier_rate },
	{ "demo_csv_imports", demo_csv_imports },
	{ NULL, NULL }
};
