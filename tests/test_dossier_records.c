/*
 * test_dossier_records.c - the one-stop system's dossier records and the
 * per-dossier rate (docs/onestop.md): the rate worked by hand on a small
 * set (late, complaint, unhappy, several flags counted once, a rating
 * matched through received_by, another agency's rating not matched), the
 * city-wide rate over the covered cells only with their count, records
 * loaded twice and out of order keeping the newest, a file with a bad row
 * storing nothing and naming line and field, the rate in the report, and
 * POST /api/dossiers.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define HEADER "dossier,agency,received_by,sector,procedure,channel,received_at,due_at,finished_at," \
	"complaint,updated_at\n"

/* P-HONGBANG's dat-dai dossiers of 2026Q3, and what each is:
 * D1 rated unhappy at the kiosk; D2 late, complained about and rated
 * unhappy (counted once); D3 rated satisfied; D4 received by P-LECHAN,
 * rated unhappy there; D5 rated unhappy by P-NGOQUYEN, which neither
 * decided nor received it (not matched); D6 late (finished in August);
 * D7 survey overall 2 (unhappy), D8 survey overall 3 (not unhappy; both
 * September); D9 not finished; D10 finished in 2026Q2.  So in 2026Q3:
 * 8 finished, 2 late, 1 complaint, 4 unhappy, 3 with none (D3, D5, D8). */
static const char records[] = HEADER
	"D1,P-HONGBANG,,dat-dai,1.004227,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
	"2026-07-05T10:00:00+07:00,0,2026-07-05T10:00:00+07:00\n"
	"D2,P-HONGBANG,,dat-dai,1.004227,online,2026-07-01T08:00:00+07:00,2026-07-10,"
	"2026-07-12T10:00:00+07:00,1,2026-07-12T10:00:00+07:00\n"
	"D3,P-HONGBANG,P-HONGBANG,dat-dai,1.004227,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
	"2026-07-10T16:00:00+07:00,0,2026-07-10T16:00:00+07:00\n"
	"D4,P-HONGBANG,P-LECHAN,dat-dai,1.004227,direct,2026-07-01T08:00:00+07:00,2026-07-10T17:00:00+07:00,"
	"2026-07-09T10:00:00+07:00,0,2026-07-09T10:00:00+07:00\n"
	"D5,P-HONGBANG,,dat-dai,1.004227,postal,2026-07-01T08:00:00+07:00,,"
	"2026-07-20T10:00:00+07:00,0,2026-07-20T10:00:00+07:00\n"
	"D6,P-HONGBANG,,dat-dai,1.004227,direct,2026-07-20T08:00:00+07:00,2026-08-01,"
	"2026-08-03T10:00:00+07:00,0,2026-08-03T10:00:00+07:00\n"
	"D7,P-HONGBANG,,dat-dai,1.004227,direct,2026-09-01T08:00:00+07:00,2026-09-20,"
	"2026-09-02T10:00:00+07:00,0,2026-09-02T10:00:00+07:00\n"
	"D8,P-HONGBANG,,dat-dai,1.004227,direct,2026-09-01T08:00:00+07:00,2026-09-20,"
	"2026-09-03T10:00:00+07:00,0,2026-09-03T10:00:00+07:00\n"
	"D9,P-HONGBANG,,dat-dai,1.004227,direct,2026-09-01T08:00:00+07:00,2026-09-20,"
	",0,2026-09-03T10:00:00+07:00\n"
	"D10,P-HONGBANG,,dat-dai,1.004227,direct,2026-06-01T08:00:00+07:00,2026-06-20,"
	"2026-06-03T10:00:00+07:00,0,2026-06-03T10:00:00+07:00\n";

/* The kiosk ratings of those dossiers, and P-LECHAN's xay-dung ratings,
 * whose cell has no record. */
static const char kiosk_ratings[] =
	"response_id,submitted_at,agency,sector,channel,overall,dossier_code\n"
	"k1,2026-07-05,P-HONGBANG,dat-dai,kiosk,1,D1\n"
	"k2,2026-07-12,P-HONGBANG,dat-dai,kiosk,1,D2\n"
	"k3,2026-07-10,P-HONGBANG,dat-dai,kiosk,3,D3\n"
	"k4,2026-07-09,P-LECHAN,dat-dai,kiosk,1,D4\n"
	"k5,2026-07-20,P-NGOQUYEN,dat-dai,kiosk,1,D5\n"
	"k6,2026-07-06,P-LECHAN,xay-dung,kiosk,3,\n"
	"k7,2026-07-07,P-LECHAN,xay-dung,kiosk,1,\n";

static const char survey_ratings[] =
	"response_id,submitted_at,agency,sector,overall,dossier_code\n"
	"s7,2026-09-02,P-HONGBANG,dat-dai,2,D7\n"
	"s8,2026-09-03,P-HONGBANG,dat-dai,3,D8\n";

static int load_set(void)
{
	const struct cmd_result *r;

	if (sipas_run(NULL, "init", NULL)->status != 0 ||
	    sipas_run(kiosk_ratings, "import", "--form", "kiosk-2018", "-", NULL)->status != 0 ||
	    sipas_run(survey_ratings, "import", "--form", "sipas-2017", "-", NULL)->status != 0)
		return -1;
	r = sipas_run(records, "dossiers", "import", "--records", "-", NULL);
	if (r->status != 0)
		fprintf(stderr, "%s%s", r->out, r->err);
	return r->status;
}

/* The per-dossier JSON of a period. */
static json_t *per_dossier(const char *period)
{
	const struct cmd_result *r = sipas_run(NULL, "score", "--period", period, "--per-dossier", "--format",
					       "json", NULL);

	if (r->status != 0)
		fprintf(stderr, "%s", r->err);
	return r->status == 0 ? json_loads(r->out, 0, NULL) : NULL;
}

/* The group (agency, sector) of doc (NULL = all). */
static json_t *group_of(json_t *doc, const char *agency, const char *sector)
{
	json_t *g;
	size_t i;

	json_array_foreach(json_object_get(doc, "groups"), i, g) {
		json_t *a = json_object_get(g, "agency"), *s = json_object_get(g, "sector");

		if ((agency ? json_is_string(a) && strcmp(json_string_value(a), agency) == 0 : json_is_null(a)) &&
		    (sector ? json_is_string(s) && strcmp(json_string_value(s), sector) == 0 : json_is_null(s)))
			return g;
	}
	return NULL;
}

static long long num(json_t *counts, const char *key)
{
	return json_integer_value(json_object_get(counts, key));
}

static void the_rate_by_hand(void)
{
	json_t *doc, *p, *months;

	CHECK_INT(load_set(), 0);
	doc = per_dossier("2026Q3");
	CHECK(doc);
	p = json_object_get(group_of(doc, "P-HONGBANG", "dat-dai"), "period");
	CHECK(p);
	CHECK_INT(num(p, "finished"), 8);
	CHECK_INT(num(p, "late"), 2);
	CHECK_INT(num(p, "complaint"), 1);
	CHECK_INT(num(p, "unhappy"), 4);
	CHECK_INT(num(p, "none"), 3);
	CHECK_NEAR(json_real_value(json_object_get(p, "none_share")), 3.0 / 8.0, 1e-12);
	CHECK_NEAR(json_real_value(json_object_get(p, "late_share")), 2.0 / 8.0, 1e-12);
	/* by month: July D1-D5 (none: D3, D5), August D6, September D7, D8 */
	months = json_object_get(group_of(doc, "P-HONGBANG", "dat-dai"), "months");
	CHECK_INT(json_array_size(months), 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(months, 0), "month")), "2026-07");
	CHECK_INT(num(json_array_get(months, 0), "finished"), 5);
	CHECK_INT(num(json_array_get(months, 0), "none"), 2);
	CHECK_INT(num(json_array_get(months, 1), "finished"), 1);
	CHECK_INT(num(json_array_get(months, 1), "late"), 1);
	CHECK_INT(num(json_array_get(months, 2), "unhappy"), 1);
	CHECK_INT(num(json_array_get(months, 2), "none"), 1);
	json_decref(doc);
	/* D10 is the second quarter's */
	doc = per_dossier("2026Q2");
	CHECK(doc);
	CHECK_INT(num(json_object_get(group_of(doc, NULL, NULL), "period"), "finished"), 1);
	json_decref(doc);
}

/* P-LECHAN and P-NGOQUYEN have ratings and no records: the city-wide
 * figure is P-HONGBANG's alone, and says 1 of 4 cells. */
static void the_city_wide_rate_counts_only_covered_cells(void)
{
	const struct cmd_result *r;
	json_t *doc, *all;

	CHECK_INT(load_set(), 0);
	doc = per_dossier("2026Q3");
	CHECK(doc);
	all = json_object_get(group_of(doc, NULL, NULL), "period");
	CHECK_INT(num(all, "finished"), 8);
	CHECK_INT(num(all, "none"), 3);
	CHECK_INT(num(all, "cells"), 1);
	CHECK_INT(num(all, "active_cells"), 4);
	CHECK_INT(num(json_object_get(group_of(doc, "P-LECHAN", NULL), "period"), "finished"), 0);
	CHECK_INT(num(json_object_get(group_of(doc, "P-LECHAN", NULL), "period"), "active_cells"), 2);
	CHECK(json_is_null(json_object_get(json_object_get(group_of(doc, "P-LECHAN", NULL), "period"),
					   "none_share")));
	json_decref(doc);
	/* the table and the CSV say the same */
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--per-dossier", "--format", "table", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "(all)            (all)            2026Q3");
	CHECK_CONTAINS(r->out, "37.5%  1 of 4");
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--per-dossier", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "agency,sector,period,finished,late,late_share,complaint,complaint_share,"
		       "unhappy,unhappy_share,none,none_share,cells,active_cells\n");
	CHECK_CONTAINS(r->out, "\n,,2026Q3,8,2,0.25,1,0.125,4,0.5,3,0.375,1,4\n");
	CHECK_CONTAINS(r->out, "\nP-HONGBANG,dat-dai,2026-08,1,1,1,0,0,0,0,0,0,1,1\n");
}

/* Loaded twice, then an older version and a newer one of D1: the newest
 * stays, whatever the order. */
static void records_loaded_twice_and_out_of_order_keep_the_newest(void)
{
	const struct cmd_result *r;

	CHECK_INT(load_set(), 0);
	r = sipas_run(records, "dossiers", "import", "--records", "-", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "10 records read: 0 stored, 0 updated, 10 unchanged, 0 older");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records"), 10);
	/* D1 complained about later (newer), then a stale copy without it */
	r = sipas_run(HEADER "D1,P-HONGBANG,,dat-dai,1.004227,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
		      "2026-07-05T10:00:00+07:00,1,2026-07-15T09:00:00+07:00\n",
		      "dossiers", "import", "--records", "-", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "1 records read: 0 stored, 1 updated");
	r = sipas_run(HEADER "D1,P-HONGBANG,,dat-dai,1.004227,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
		      "2026-07-05T10:00:00+07:00,0,2026-07-06T09:00:00+07:00\n",
		      "dossiers", "import", "--records", "-", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "1 older than the stored ones (ignored)");
	CHECK_INT(test_db_int("sipas.db", "SELECT complaint FROM dossier_records WHERE code = 'D1'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records"), 10);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'dossiers.import_records'"), 4);
}

/* One bad field in the middle, one row too short: nothing is stored, and
 * both rows are named by line and column. */
static void a_file_with_bad_rows_stores_nothing_and_names_them(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(HEADER
		      "D1,P-HONGBANG,,dat-dai,x,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
		      "2026-07-05T10:00:00+07:00,0,2026-07-05T10:00:00+07:00\n"
		      "D2,P-HONGBANG,,dat-dai,x,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
		      "2026-06-05T10:00:00+07:00,0,2026-07-05T10:00:00+07:00\n"
		      "D3,P-HONGBANG,,dat-dai,x,fax,2026-07-01T08:00:00+07:00,,,0,2026-07-05T10:00:00+07:00\n"
		      "D4,P-HONGBANG,,dat-dai,x,direct,2026-07-01T08:00:00+07:00,,,2,2026-07-05T10:00:00+07:00\n"
		      "D5,P-NOWHERE,,dat-dai,x,direct,2026-07-01T08:00:00+07:00,,,0,2026-07-05T10:00:00+07:00\n"
		      "D6,P-HONGBANG,,dat-dai,x,direct,2026-07-01,,,0,2026-07-05T10:00:00+07:00\n"
		      "D7,P-HONGBANG\n",
		      "dossiers", "import", "--records", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "<stdin>:3: column finished_at: before received_at");
	CHECK_CONTAINS(r->err, "<stdin>:4: column channel: 'fax' is not direct, online or postal");
	CHECK_CONTAINS(r->err, "<stdin>:5: column complaint: '2' is not 0 or 1");
	CHECK_CONTAINS(r->err, "<stdin>:6: column agency: unknown agency 'P-NOWHERE'");
	CHECK_CONTAINS(r->err, "<stdin>:7: column received_at: '2026-07-01' is a date");
	CHECK_CONTAINS(r->err, "<stdin>:8: 2 fields, the header has 11");
	CHECK_CONTAINS(r->err, "6 bad rows of 7; nothing stored");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records"), 0);
}

/* The report's counter section shows the quarter's per-dossier rate and
 * what it covers (one cell of the many the survey rated); the open data
 * carries it. */
static void the_report_shows_the_rate_and_its_coverage(void)
{
	const struct cmd_result *r;
	char *csv;

	CHECK_INT(test_init_fixture(1), 0);
	r = sipas_run(HEADER
		      "A1,SO-TP,,dat-dai,x,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
		      "2026-07-05T10:00:00+07:00,0,2026-07-05T10:00:00+07:00\n"
		      "A2,SO-TP,,dat-dai,x,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
		      "2026-07-15T10:00:00+07:00,0,2026-07-15T10:00:00+07:00\n",
		      "dossiers", "import", "--records", "-", NULL);
	CHECK_INT(r->status, 0);
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "rep", NULL);
	CHECK_INT(r->status, 0);
	CHECK(test_file_contains("rep/index.html", "Tỉ lệ hài lòng theo từng hồ sơ"));
	CHECK(test_file_contains("rep/index.html", "<tr><th scope=\"row\">Sở Tư pháp</th><td class=\"num\">2</td>"
				 "<td class=\"num\">50,0\xc2\xa0%</td>"));
	csv = test_read("rep/per-dossier.csv");
	CHECK(csv);
	if (csv)
		CHECK_CONTAINS(csv, "SO-TP,dat-dai,2026Q3,2,1,0.5,0,0,0,0,1,0.5,1,1\n");
	free(csv);
}

const struct test_case dossier_records_tests[] = {
	{ "the_rate_by_hand", the_rate_by_hand },
	{ "the_city_wide_rate_counts_only_covered_cells", the_city_wide_rate_counts_only_covered_cells },
	{ "records_loaded_twice_and_out_of_order_keep_the_newest",
	  records_loaded_twice_and_out_of_order_keep_the_newest },
	{ "a_file_with_bad_rows_stores_nothing_and_names_them", a_file_with_bad_rows_stores_nothing_and_names_them },
	{ "the_report_shows_the_rate_and_its_coverage", the_report_shows_the_rate_and_its_coverage },
	{ NULL, NULL }
};
