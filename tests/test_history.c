/*
 * test_history.c - the registry's history (docs/onestop.md): agencies that
 * ended on 2025-06-30 and were merged into a successor.  Ratings and import
 * rows outside an agency's validity are refused naming its successor, an
 * ended agency's kiosk gets 403, `sipas init` lists what still belongs to
 * an ended agency, and the report's trend scores a successor's quarters
 * before the merger from its predecessors' respondents pooled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>

#include "test.h"
#include "../lib/strbuf.h"

#define SECTORS "code,name\ndat-dai,Đất đai\nxay-dung,Xây dựng\n"
#define TARGETS "scope,code,threshold,from_period\nall,,0.95,2025Q1\n"
#define BEFORE "code,name,level,parent\nTP,Thành phố,province,\nP-M,Phường M,commune,TP\n" \
	"X-A,Xã A,commune,TP\nX-B,Xã B,commune,TP\nX-C,Xã C,commune,TP\n"
/* three communes merged into ward P-M on 2025-07-01 */
#define AFTER "code,name,level,parent,valid_from,valid_to,successor\nTP,Thành phố,province,,,,\n" \
	"P-M,Phường M,commune,TP,2025-07-01,,\nX-A,Xã A,commune,TP,,2025-06-30,P-M\n" \
	"X-B,Xã B,commune,TP,,2025-06-30,P-M\nX-C,Xã C,commune,TP,,2025-06-30,P-M\n"

static int load_registry(const char *agencies)
{
	mkdir("reg", 0755);
	if (test_write("reg/agencies.csv", agencies) || test_write("reg/sectors.csv", SECTORS) ||
	    test_write("reg/targets.csv", TARGETS))
		return -1;
	return sipas_run(NULL, "init", "--registry", "reg", NULL)->status;
}

#define HEADER "response_id,submitted_at,agency,sector,channel,e1.1,overall\n"

static void import_rows_outside_validity_are_refused_naming_the_successor(void)
{
	const struct cmd_result *r;

	CHECK_INT(load_registry(AFTER), 0);
	CHECK_INT(test_write("in.csv", HEADER "r1,2025-06-30,X-A,dat-dai,paper,4,4\n"
			     "r2,2025-07-01,X-A,dat-dai,paper,4,4\nr3,2025-06-30,P-M,dat-dai,paper,4,4\n"
			     "r4,2025-07-01,P-M,dat-dai,paper,4,4\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:3: column agency: X-A ended on 2025-06-30: its successor is P-M");
	CHECK_CONTAINS(r->err, "in.csv:4: column agency: P-M begins on 2025-07-01");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 0);
	/* the rows of each agency's own days are taken */
	CHECK_INT(test_write("in.csv", HEADER "r1,2025-06-30,X-A,dat-dai,paper,4,4\n"
			     "r4,2025-07-01,P-M,dat-dai,paper,4,4\n"), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 2);
	/* dossier totals of a quarter in which the agency did not exist */
	CHECK_INT(test_write("d.csv", "period,agency,sector,dossiers\n2025Q2,X-A,dat-dai,10\n2025Q3,X-A,dat-dai,10\n"
			     "2025-06,P-M,dat-dai,10\n2025Q3,P-M,dat-dai,10\n"), 0);
	r = sipas_run(NULL, "dossiers", "import", "d.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "d.csv:3: column agency: X-A ended on 2025-06-30: its successor is P-M");
	CHECK_CONTAINS(r->err, "d.csv:4: column agency: P-M begins on 2025-07-01");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossiers"), 0);
}

#define KIOSK_POST(id, agency) \
	"{\"response_id\":\"" id "\",\"form\":\"kiosk-2018\",\"agency\":\"" agency "\"," \
	"\"sector\":\"dat-dai\",\"channel\":\"kiosk\",\"submitted_at\":\"2026-08-03T09:15:00+07:00\"," \
	"\"answers\":{\"overall\":3}}"

/* A token from `sipas device add` for a kiosk of agency; 0 or -1. */
static int add_kiosk(const char *agency, char *token, size_t size)
{
	const struct cmd_result *r = sipas_run(NULL, "device", "add", "--agency", agency, "--counter", "Quầy 1",
					       "--sector", "dat-dai", NULL);

	if (r->status != 0)
		return -1;
	snprintf(token, size, "%.*s", (int)strcspn(r->out, "\n"), r->out);
	return 0;
}

static void a_kiosk_of_an_ended_agency_gets_403_naming_the_successor(void)
{
	const struct cmd_result *r;
	struct test_server s;
	struct http_result h;
	char xa[128], pm[128];

	/* kiosks paired before the merger was loaded */
	CHECK_INT(load_registry(BEFORE), 0);
	CHECK_INT(add_kiosk("X-A", xa, sizeof(xa)), 0);
	CHECK_INT(add_kiosk("P-M", pm, sizeof(pm)), 0);
	CHECK_INT(load_registry(AFTER), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--max-age", "36500", NULL), 0);
	CHECK_INT(test_request(&s, "POST", "/api/responses", xa, KIOSK_POST("k1", "X-A"), &h), 403);
	CHECK_CONTAINS(h.body, "X-A ended on 2025-06-30: its successor is P-M");
	free(h.body);
	CHECK_INT(test_request(&s, "POST", "/api/responses", pm, KIOSK_POST("k2", "P-M"), &h), 201);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 1);
	/* nor is a receipt link made for it */
	r = sipas_run(NULL, "link", "--form", "sipas-2017", "--agency", "X-A", "--sector", "dat-dai",
		      "--dossier", "HS-1", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "X-A ended on 2025-06-30: its successor is P-M");
	CHECK_INT(sipas_run(NULL, "link", "--form", "sipas-2017", "--agency", "P-M", "--sector", "dat-dai",
			    "--dossier", "HS-1", NULL)->status, 0);
}

#define RECORDS_HEADER "dossier,agency,received_by,sector,procedure,channel,received_at,due_at,finished_at," \
	"complaint,updated_at\n"

/* After the merger nothing new is made for an ended agency: no kiosk and
 * no system token (`sipas device add`), no receipt link by the API, and no
 * dossier record decided or taken in on a day it did not exist; each
 * refusal names the successor. */
static void nothing_new_is_made_for_an_ended_agency(void)
{
	const struct cmd_result *r;
	struct test_server s;
	struct http_result h;
	char token[128];

	CHECK_INT(load_registry(AFTER), 0);
	r = sipas_run(NULL, "device", "add", "--agency", "X-A", "--counter", "Quầy 1", "--sector", "dat-dai", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "X-A ended on 2025-06-30: its successor is P-M");
	r = sipas_run(NULL, "device", "add", "--system", "--name", "một cửa", "--agency", "P-M", "--agency", "X-B", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "X-B ended on 2025-06-30: its successor is P-M");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 0);
	r = sipas_run(NULL, "device", "add", "--system", "--name", "một cửa", "--all-agencies", NULL);
	CHECK_INT(r->status, 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_request(&s, "POST", "/api/links", token, "{\"links\":[{\"form\":\"sipas-2017\",\"agency\":"
			       "\"X-A\",\"sector\":\"dat-dai\",\"dossier\":\"HS-1\"},{\"form\":\"sipas-2017\","
			       "\"agency\":\"P-M\",\"sector\":\"dat-dai\",\"dossier\":\"HS-2\"}]}", &h), 200);
	CHECK_CONTAINS(h.body, "X-A ended on 2025-06-30: its successor is P-M");
	CHECK_CONTAINS(h.body, "\"field\":\"links[0].agency\"");
	CHECK_CONTAINS(h.body, "\"url\":");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	/* a dossier X-A took in before the merger and P-M decided after it is
	 * fine; X-A deciding after its end, or taking one in, is not */
	r = sipas_run(RECORDS_HEADER
		      "HS-1,P-M,X-A,dat-dai,1.0001,direct,2025-06-20T08:00:00+07:00,,2025-07-10T10:00:00+07:00,0,"
		      "2025-07-10T10:00:00+07:00\n"
		      "HS-2,X-A,,dat-dai,1.0001,direct,2025-06-20T08:00:00+07:00,,2025-07-10T10:00:00+07:00,0,"
		      "2025-07-10T10:00:00+07:00\n"
		      "HS-3,P-M,X-A,dat-dai,1.0001,direct,2025-07-02T08:00:00+07:00,,,0,2025-07-02T08:00:00+07:00\n",
		      "dossiers", "import", "--records", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, ":3: column agency: X-A ended on 2025-06-30: its successor is P-M");
	CHECK_CONTAINS(r->err, ":4: column received_by: X-A ended on 2025-06-30: its successor is P-M");
	CHECK(strstr(r->err, ":2:") == NULL);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossier_records"), 0);
}

static void init_lists_what_an_ended_agency_still_has(void)
{
	const struct cmd_result *r;
	char token[128];

	CHECK_INT(load_registry(BEFORE), 0);
	CHECK_INT(add_kiosk("X-A", token, sizeof(token)), 0);
	CHECK_INT(sipas_run(NULL, "user", "add", "--login", "xb", "--name", "Cán bộ xã B", "--role", "agency",
			    "--agency", "X-B", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "notify", "add", "--agency", "X-C", "--email", "xc@example.vn", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "device", "add", "--agency", "P-M", "--counter", "Quầy 2", "--sector", "dat-dai",
			    NULL)->status, 0);
	r = sipas_run(NULL, "init", "--registry", "reg", NULL);
	CHECK_INT(r->status, 0);
	CHECK(strstr(r->out, "needs a move") == NULL);
	CHECK_INT(test_write("reg/agencies.csv", AFTER), 0);
	r = sipas_run(NULL, "init", "--registry", "reg", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "X-A ended on 2025-06-30 (successor P-M): kiosk 'Quầy 1' (device 1) needs a move");
	CHECK_CONTAINS(r->out, "X-B ended on 2025-06-30 (successor P-M): user 'xb' needs a move");
	CHECK_CONTAINS(r->out, "X-C ended on 2025-06-30 (successor P-M): notification xc@example.vn needs a move");
	CHECK(strstr(r->out, "Quầy 2") == NULL);
	/* nothing is moved silently */
	CHECK_INT(test_db_int("sipas.db", "SELECT (SELECT a.code FROM devices d JOIN agencies a ON a.id = d.agency_id "
			       "WHERE d.id = 1) = 'X-A'"), 1);
}

#define SURVEY_HEADER "response_id,submitted_at,agency,sector,channel,stratum,e1.1,e1.2,e1.3,e1.4,e2.1,e2.2," \
	"e2.3,e2.4,e2.5,e3.1,e3.2,e3.3,e3.4,e3.5,e3.6,e4.1,e4.2,e4.3,e5.1,e5.2,e5.3,e5.4,overall\n"

/* Survey rows: n of agency `code` on `day`, answers that differ by agency
 * and row; written as agency `as` (the same, or the successor a test
 * relabels them to) with stratum `code`. */
static void add_rows(struct strbuf *sb, const char *code, const char *as, int n, int shift, const char *day)
{
	for (int i = 0; i < n; i++) {
		strbuf_addf(sb, "%s-%d,%s,%s,%s,paper,%s", code, i, day, as, i % 3 ? "dat-dai" : "xay-dung", code);
		for (int q = 0; q < 23; q++)
			strbuf_addf(sb, ",%d", 1 + (i * 7 + q * 3 + shift) % 5 / (shift % 2 + 1) + (shift % 2) * 2);
		strbuf_addstr(sb, "\n");
	}
}

/* The survey rows of 2025Q2 (three communes) and 2025Q3 (their ward), the
 * communes' rows written as `as` (NULL: their own). */
static int write_survey(const char *path, const char *as, int with_q3)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	strbuf_addstr(&sb, SURVEY_HEADER);
	add_rows(&sb, "X-A", as ? as : "X-A", 40, 0, "2025-05-12");
	add_rows(&sb, "X-B", as ? as : "X-B", 25, 1, "2025-05-13");
	add_rows(&sb, "X-C", as ? as : "X-C", 15, 4, "2025-06-30");
	if (with_q3)
		add_rows(&sb, "P-M", "P-M", 30, 2, "2025-08-04");
	rc = sb.failed ? -1 : test_write(path, strbuf_str(&sb));
	strbuf_release(&sb);
	return rc;
}

/* The group of agency `code` in a `sipas score` JSON document, as text. */
static char *group_of(const char *json, const char *code)
{
	json_t *doc = json_loads(json, 0, NULL), *g;
	char *text = NULL;
	size_t i;

	json_array_foreach(json_object_get(doc, "groups"), i, g)
		if (json_is_string(json_object_get(g, "agency")) &&
		    strcmp(json_string_value(json_object_get(g, "agency")), code) == 0 &&
		    json_is_null(json_object_get(g, "sector")))
			text = json_dumps(g, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(doc);
	return text;
}

static void a_trend_across_the_merger_pools_the_predecessors(void)
{
	const struct cmd_result *r;
	char *pooled, *by_hand, *index, want[64];
	json_t *g;
	double est;

	/* by hand: the communes' respondents relabelled as the ward's, each
	 * in its own stratum as before, in a registry without the merger */
	CHECK_INT(load_registry(BEFORE), 0);
	CHECK_INT(write_survey("hand.csv", "P-M", 0), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "hand.csv", NULL)->status, 0);
	r = sipas_run(NULL, "score", "--period", "2025Q2", "--by", "agency", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	by_hand = group_of(r->out, "P-M");
	CHECK(by_hand != NULL);
	CHECK(remove("sipas.db") == 0);
	/* the same respondents as they came, in the registry with the merger */
	CHECK_INT(load_registry(AFTER), 0);
	CHECK_INT(write_survey("in.csv", NULL, 1), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL)->status, 0);
	r = sipas_run(NULL, "score", "--period", "2025Q2", "--by", "agency", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK(group_of(r->out, "P-M") == NULL);   /* as they were: no ward yet */
	r = sipas_run(NULL, "score", "--period", "2025Q2", "--by", "agency", "--as-of", "2025-07-01",
		      "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	pooled = group_of(r->out, "P-M");
	CHECK(pooled != NULL);
	CHECK_STR(pooled, by_hand);
	CHECK(group_of(r->out, "X-A") == NULL);
	r = sipas_run(NULL, "score", "--period", "2025Q2", "--as-of", "2025-13-01", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--as-of '2025-13-01' is not a day (YYYY-MM-DD)");
	/* the report's trend of the ward shows that figure, marked as pooled */
	CHECK_INT(sipas_run(NULL, "report", "--period", "2025Q3", "--out", "rep", NULL)->status, 0);
	g = json_loads(by_hand, 0, NULL);
	est = json_real_value(json_object_get(json_object_get(g, "index"), "est"));
	json_decref(g);
	snprintf(want, sizeof(want), "%.1f", est * 100);
	*strchr(want, '.') = ',';
	index = test_read("rep/index.html");
	CHECK(index != NULL);
	CHECK_CONTAINS(index, "gộp từ X-A, X-B, X-C trước 01/07/2025");
	CHECK_CONTAINS(index, want);
	free(index);
	free(pooled);
	free(by_hand);
}

/* The shipped registry merges three communes into P-THUYNGUYEN and the
 * offices of the An Lão district into the city's departments on
 * 2025-07-01; the demo gives every agency ratings on its own days only,
 * reaching back across the merger, and revokes the ended agencies' kiosks. */
static void the_demo_fills_both_sides_of_the_shipped_merger(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT (SELECT group_concat(code, ' ') FROM (SELECT a.code FROM agencies a "
			       "JOIN agencies s ON s.id = a.successor_id WHERE s.code = 'P-THUYNGUYEN' ORDER BY 1)) = "
			       "'X-HOABINH X-THUYDUONG X-THUYSON'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM agencies WHERE level = 'district' AND "
			      "valid_to = (julianday('2025-06-30') - 2440587.5)"), 4);
	r = sipas_run(NULL, "demo", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses r JOIN agencies a ON a.id = r.agency_id "
			      "WHERE r.day < coalesce(a.valid_from, r.day) OR r.day > coalesce(a.valid_to, r.day)"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices d JOIN agencies a ON a.id = d.agency_id "
			      "WHERE a.valid_to IS NOT NULL AND d.revoked_at IS NULL"), 0);
	/* run within two years of the merger, the demo reaches back to it */
	if (strstr(r->out, ", 2025Q2 to ")) {
		CHECK_INT(test_db_int("sipas.db", "SELECT count(DISTINCT a.code) FROM responses r JOIN agencies a "
				      "ON a.id = r.agency_id WHERE a.valid_to IS NOT NULL"), 7);
		r = sipas_run(NULL, "score", "--period", "2025Q2", "--by", "agency", "--as-of", "2025-07-01",
			      "--format", "csv", NULL);
		CHECK_INT(r->status, 0);
		CHECK_CONTAINS(r->out, "P-THUYNGUYEN");
		CHECK(strstr(r->out, "X-THUYSON") == NULL);
	}
}

const struct test_case history_tests[] = {
	{ "import_rows_outside_validity_are_refused_naming_the_successor",
	  import_rows_outside_validity_are_refused_naming_the_successor },
	{ "a_kiosk_of_an_ended_agency_gets_403_naming_the_successor",
	  a_kiosk_of_an_ended_agency_gets_403_naming_the_successor },
	{ "init_lists_what_an_ended_agency_still_has", init_lists_what_an_ended_agency_still_has },
	{ "nothing_new_is_made_for_an_ended_agency", nothing_new_is_made_for_an_ended_agency },
	{ "a_trend_across_the_merger_pools_the_predecessors", a_trend_across_the_merger_pools_the_predecessors },
	{ "the_demo_fills_both_sides_of_the_shipped_merger", the_demo_fills_both_sides_of_the_shipped_merger },
	{ NULL, NULL }
};
