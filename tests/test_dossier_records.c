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
#include "../lib/strbuf.h"

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

/* A system token for agency (NULL: all) into token (128 bytes); 0 or -1. */
static int add_system(const char *agency, char *token)
{
	const struct cmd_result *r = agency
		? sipas_run(NULL, "device", "add", "--system", "--name", "one-stop", "--agency", agency, NULL)
		: sipas_run(NULL, "device", "add", "--system", "--name", "one-stop", "--all-agencies", NULL);
	size_t len = strcspn(r->out, "\n");

	if (r->status != 0 || len == 0 || len >= 128)
		return -1;
	snprintf(token, 128, "%.*s", (int)len, r->out);
	return 0;
}

/* {"dossiers":[...]} of one record of D1 (complaint, updated_at as given). */
static void one_record(char *buf, size_t size, const char *agency, int complaint, const char *updated_at)
{
	snprintf(buf, size, "{\"dossiers\":[{\"dossier\":\"D1\",\"agency\":\"%s\",\"sector\":\"dat-dai\","
		 "\"procedure\":\"1.004227\",\"channel\":\"online\",\"received_at\":\"2026-07-01T08:00:00+07:00\","
		 "\"due_at\":\"2026-07-10\",\"finished_at\":\"2026-07-05T10:00:00+07:00\",\"complaint\":%d,"
		 "\"updated_at\":\"%s\"}]}", agency, complaint, updated_at);
}

/* The status of the only result of a reply. */
static const char *status_of(json_t **doc, const struct http_result *h)
{
	*doc = json_loads(h->body, 0, NULL);
	return json_string_value(json_object_get(json_array_get(json_object_get(*doc, "results"), 0), "status"));
}

/* POST /api/dossiers: 500 records in one call, each result in order; the
 * same again unchanged; an older version ignored and a newer one kept; a
 * token for P-HONGBANG cannot send P-LECHAN's records; a bad record is
 * named and its neighbours stored; 501 records, a kiosk token, no token
 * are refused whole. */
static void records_are_posted_by_a_system_token_for_its_agencies(void)
{
	struct test_server s;
	struct http_result h;
	struct strbuf body = STRBUF_INIT, over = STRBUF_INIT;
	char sys[128], kiosk[128], one[1024];
	const struct cmd_result *r;
	json_t *doc, *results;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(add_system("P-HONGBANG", sys), 0);
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 1", "--sector", "dat-dai",
		      NULL);
	CHECK_INT(r->status, 0);
	snprintf(kiosk, sizeof(kiosk), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	strbuf_addstr(&body, "{\"dossiers\":[");
	for (int i = 0; i < 500; i++)
		strbuf_addf(&body, "%s{\"dossier\":\"B%d\",\"agency\":\"P-HONGBANG\",\"received_by\":\"P-LECHAN\","
			    "\"sector\":\"dat-dai\",\"procedure\":\"1.004227\",\"channel\":\"direct\","
			    "\"received_at\":\"2026-07-01T08:00:00+07:00\",\"due_at\":null,"
			    "\"finished_at\":\"2026-07-0%dT10:00:00+07:00\",\"complaint\":%s,"
			    "\"updated_at\":\"2026-07-09T10:00:00+07:00\"}", i ? "," : "", i, 2 + i % 7,
			    i % 2 ? "true" : "0");
	strbuf_addstr(&body, "]}");
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", sys, body.buf, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	results = json_object_get(doc, "results");
	CHECK_INT(json_array_size(results), 500);
	CHECK_STR(json_string_value(json_object_get(json_array_get(results, 499), "dossier")), "B499");
	CHECK_STR(json_string_value(json_object_get(json_array_get(results, 499), "status")), "stored");
	json_decref(doc);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records WHERE complaint = 1 AND "
			      "received_by = (SELECT id FROM agencies WHERE code = 'P-LECHAN')"), 250);
	/* the same again: unchanged */
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", sys, body.buf, &h), 200);
	CHECK_CONTAINS(h.body, "{\"dossier\":\"B7\",\"status\":\"unchanged\"}");
	free(h.body);
	/* newer, then older: the newer stays */
	one_record(one, sizeof(one), "P-HONGBANG", 1, "2026-07-20T09:00:00+07:00");
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", sys, one, &h), 200);
	CHECK_STR(status_of(&doc, &h), "stored");
	json_decref(doc);
	free(h.body);
	one_record(one, sizeof(one), "P-HONGBANG", 0, "2026-07-06T09:00:00+07:00");
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", sys, one, &h), 200);
	CHECK_STR(status_of(&doc, &h), "older");
	json_decref(doc);
	free(h.body);
	one_record(one, sizeof(one), "P-HONGBANG", 0, "2026-07-21T09:00:00+07:00");
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", sys, one, &h), 200);
	CHECK_STR(status_of(&doc, &h), "updated");
	json_decref(doc);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT complaint * 10 + (updated_at = strftime('%s', '2026-07-21T02:00:00')) "
			      "FROM dossier_records WHERE code = 'D1'"), 1);
	/* another agency's record, and a bad one: named, the good neighbour stored */
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", sys,
			       "{\"dossiers\":[{\"dossier\":\"L1\",\"agency\":\"P-LECHAN\",\"sector\":\"dat-dai\","
			       "\"procedure\":\"x\",\"channel\":\"direct\",\"received_at\":\"2026-07-01T08:00:00+07:00\","
			       "\"complaint\":0,\"updated_at\":\"2026-07-01T08:00:00+07:00\"},"
			       "{\"dossier\":\"H2\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"procedure\":\"x\","
			       "\"channel\":\"fax\",\"received_at\":\"2026-07-01T08:00:00+07:00\",\"complaint\":0,"
			       "\"updated_at\":\"2026-07-01T08:00:00+07:00\"},"
			       "{\"dossier\":\"H3\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"procedure\":\"x\","
			       "\"channel\":\"postal\",\"received_at\":\"2026-07-01T08:00:00+07:00\",\"complaint\":0,"
			       "\"updated_at\":\"2026-07-01T08:00:00+07:00\"},"
			       "{\"dossier\":\"H4\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"procedure\":\"x\","
			       "\"channel\":\"postal\",\"received_at\":\"2026-07-01T08:00:00+07:00\",\"complaint\":2,"
			       "\"updated_at\":\"2026-07-01T08:00:00+07:00\"},"
			       "{\"dossier\":\"H5\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"procedure\":\"x\","
			       "\"channel\":\"postal\",\"received_at\":\"2026-07-01T08:00:00+07:00\",\"complaint\":0,"
			       "\"updated_at\":\"2026-07-01T08:00:00+07:00\",\"status\":\"done\"}]}", &h), 200);
	CHECK_CONTAINS(h.body, "{\"dossier\":\"L1\",\"status\":\"error\",\"error\":{\"code\":\"forbidden\","
		       "\"message\":\"this token does not act for agency P-LECHAN\",\"field\":\"agency\"}}");
	CHECK_CONTAINS(h.body, "{\"dossier\":\"H2\",\"status\":\"error\",\"error\":{\"code\":\"invalid\","
		       "\"message\":\"'fax' is not direct, online or postal\",\"field\":\"channel\"}}");
	CHECK_CONTAINS(h.body, "{\"dossier\":\"H3\",\"status\":\"stored\"}");
	CHECK_CONTAINS(h.body, "\"message\":\"'2' is not 0 or 1\",\"field\":\"complaint\"");
	CHECK_CONTAINS(h.body, "\"message\":\"unknown field\",\"field\":\"status\"");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records WHERE code IN ('L1', 'H2', 'H4', 'H5')"), 0);
	/* refused whole */
	strbuf_addf(&over, "%.*s,{\"dossier\":\"B500\"}]}", (int)body.len - 2, body.buf);
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", sys, over.buf, &h), 400);
	CHECK_CONTAINS(h.body, "1 to 500 records");
	free(h.body);
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", kiosk, one, &h), 403);
	free(h.body);
	CHECK_INT(test_request(&s, "POST", "/api/dossiers", NULL, one, &h), 401);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records"), 502);
	CHECK_INT(test_server_stop(&s), 0);
	strbuf_release(&body);
	strbuf_release(&over);
}

/* The row of agency (NULL: the city-wide row) in an overview's dossiers. */
static json_t *dossier_row(json_t *doc, const char *agency)
{
	json_t *g;
	size_t i;

	json_array_foreach(json_object_get(doc, "dossiers"), i, g) {
		json_t *a = json_object_get(g, "agency");

		if (agency ? json_is_string(a) && strcmp(json_string_value(a), agency) == 0 : json_is_null(a))
			return g;
	}
	return NULL;
}

/* The console's overview: the office sees the city-wide rate with its
 * cells and every agency with records; an agency user only its own, and
 * an agency without records sees no row at all. */
static void the_console_overview_shows_the_rate_within_the_scope(void)
{
	struct console_client office, hb, lc;
	struct test_server s;
	struct http_result h;
	json_t *doc, *row;

	CHECK_INT(load_set(), 0);
	CHECK_INT(console_add_user("sipas.db", "office1", "office", NULL, "correct horse battery"), 0);
	CHECK_INT(console_add_user("sipas.db", "hb1", "agency", "P-HONGBANG", "correct horse battery"), 0);
	CHECK_INT(console_add_user("sipas.db", "lc1", "agency", "P-LECHAN", "correct horse battery"), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &office), 0);
	CHECK_INT(console_sign_in(&s, "hb1", "correct horse battery", &hb), 0);
	CHECK_INT(console_sign_in(&s, "lc1", "correct horse battery", &lc), 0);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/overview?period=2026Q3", NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	row = dossier_row(doc, NULL);
	CHECK(row);
	CHECK_INT(num(row, "finished"), 8);
	CHECK_INT(num(row, "none"), 3);
	CHECK_INT(num(row, "cells"), 1);
	CHECK_INT(num(row, "active_cells"), 4);
	row = dossier_row(doc, "P-HONGBANG");
	CHECK(row);
	CHECK_INT(num(row, "late"), 2);
	CHECK_INT(num(row, "unhappy"), 4);
	CHECK_INT(json_array_size(json_object_get(doc, "dossiers")), 2);
	json_decref(doc);
	CHECK_INT(console_request(&s, &hb, 0, "GET", "/console/api/overview?period=2026Q3", NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK_INT(json_array_size(json_object_get(doc, "dossiers")), 1);
	CHECK_INT(num(dossier_row(doc, "P-HONGBANG"), "complaint"), 1);
	json_decref(doc);
	CHECK_INT(console_request(&s, &lc, 0, "GET", "/console/api/overview?period=2026Q3", NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK(json_is_array(json_object_get(doc, "dossiers")));
	CHECK_INT(json_array_size(json_object_get(doc, "dossiers")), 0);
	json_decref(doc);
	CHECK_INT(test_server_stop(&s), 0);
}

const struct test_case dossier_records_tests[] = {
	{ "the_rate_by_hand", the_rate_by_hand },
	{ "the_city_wide_rate_counts_only_covered_cells", the_city_wide_rate_counts_only_covered_cells },
	{ "records_loaded_twice_and_out_of_order_keep_the_newest",
	  records_loaded_twice_and_out_of_order_keep_the_newest },
	{ "a_file_with_bad_rows_stores_nothing_and_names_them", a_file_with_bad_rows_stores_nothing_and_names_them },
	{ "the_report_shows_the_rate_and_its_coverage", the_report_shows_the_rate_and_its_coverage },
	{ "records_are_posted_by_a_system_token_for_its_agencies",
	  records_are_posted_by_a_system_token_for_its_agencies },
	{ "the_console_overview_shows_the_rate_within_the_scope",
	  the_console_overview_shows_the_rate_within_the_scope },
	{ NULL, NULL }
};
