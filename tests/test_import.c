/*
 * test_import.c - `sipas import` end to end (docs/design.md): the fixture imports,
 * re-import is a no-op, CSV edge cases, and every bad value refuses the
 * whole file with FILE:LINE: column X, leaving the database unchanged; a
 * refused file lists its bad rows (the first hundred, then how many more),
 * and a file with rows in a published quarter says so as soon as it meets
 * one.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "test.h"
#include "../lib/csv.h"
#include "../lib/strbuf.h"

#define HEADER "response_id,submitted_at,agency,sector,channel,dossier_code,stratum,psu,weight," \
	       "gender,e1.1,e2.1,overall,comment\n"
#define GOOD1 "r1,2026-08-02,SO-XD,xay-dung,paper,,,,1.5,nam,4,5,4,\n"
#define GOOD2 "r2,2026-08-03T09:15:00+07:00,SO-YT,y-te,phone,HS-1,,SO-YT-01,2,nu,3,,5,\"Tốt, nhanh\"\n"

static long long responses(void)
{
	return test_db_int("sipas.db", "SELECT count(*) FROM responses");
}

static void fixture_imports_and_reimport_is_a_no_op(void)
{
	char csv[4096];
	const struct cmd_result *r;

	snprintf(csv, sizeof(csv), "%s/sipas-2017-a/responses.csv", test_fixtures());
	CHECK_INT(test_init_fixture(0), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", csv, NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "2963 rows: 2963 imported, 0 already stored");
	CHECK_INT(responses(), 2963);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(DISTINCT stratum_id) FROM responses"), 10);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE psu_id IS NULL"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE length(answers) != 23"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", csv, NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "2963 rows: 0 imported, 2963 already stored");
	CHECK_INT(responses(), 2963);
}

static void values_are_stored_as_given(void)
{
	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_write("in.csv", HEADER GOOD1 GOOD2), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL)->status, 0);
	CHECK_INT(responses(), 2);
	/* r1: answers e1.1=4 -> byte 4, e2.1=5 -> 5, overall=4, others 0; weight 1.5 */
	CHECK_INT(test_db_int("sipas.db", "SELECT unicode(substr(CAST(answers AS TEXT), 1, 1)) "
			      "FROM responses WHERE response_id = 'r1'"), 4);
	CHECK_INT(test_db_int("sipas.db", "SELECT hex(answers) = '0400000005000000000000000000000000000000000004' FROM responses WHERE response_id = 'r1'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT weight * 10 FROM responses WHERE response_id = 'r1'"), 15);
	CHECK_INT(test_db_int("sipas.db", "SELECT psu_id IS NULL FROM responses WHERE response_id = 'r1'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT s.code = 'SO-XD' FROM responses r JOIN strata s "
			      "ON s.id = r.stratum_id WHERE response_id = 'r1'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT channel FROM responses WHERE response_id = 'r2'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT comment = 'Tốt, nhanh' FROM responses WHERE response_id = 'r2'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT ts FROM responses WHERE response_id = 'r2'"), 1785723300);
}

static void csv_edge_cases_import(void)
{
	/* BOM, CRLF, quoted header names, columns in another order, an embedded
	 * newline in a comment (so the next record starts two lines later). */
	const char *csv = "\xEF\xBB\xBF\"overall\",response_id,agency,sector,submitted_at,comment\r\n"
			  "5,a1,SO-NV,dat-dai,2026-07-01,\"dòng 1\r\ndòng 2, có dấu phẩy \"\"và ngoặc\"\"\"\r\n"
			  "4,a2,SO-NV,dat-dai,2026-07-02,\r\n"
			  "9,a3,SO-NV,dat-dai,2026-07-02,\r\n";
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_write("edge.csv", csv), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "edge.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "edge.csv:5: column overall: 9 is off the scale 1..5");
	CHECK_INT(responses(), 0);
	/* without the bad last row it imports, comment intact */
	csv = "\xEF\xBB\xBF\"overall\",response_id,agency,sector,submitted_at,comment\r\n"
	      "5,a1,SO-NV,dat-dai,2026-07-01,\"dòng 1\r\ndòng 2, có dấu phẩy \"\"và ngoặc\"\"\"\r\n"
	      "4,a2,SO-NV,dat-dai,2026-07-02,\r\n";
	CHECK_INT(test_write("edge.csv", csv), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "edge.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(responses(), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT comment = 'dòng 1' || char(13, 10) || "
			      "'dòng 2, có dấu phẩy \"và ngoặc\"' FROM responses WHERE response_id = 'a1'"), 1);
}

static void standard_input_imports(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	r = sipas_run(HEADER GOOD1, "import", "--form", "sipas-2017", "-", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(responses(), 1);
}

/* Each bad file: rows after a valid header and first row, and the message. */
static const struct {
	const char *csv;
	const char *message;
} bad_files[] = {
	{ HEADER GOOD1 "r3,2026-08-02,SO-XX,xay-dung,paper,,,,1,nam,4,5,4,\n",
	  "in.csv:3: column agency: unknown agency 'SO-XX'" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,nope,paper,,,,1,nam,4,5,4,\n",
	  "in.csv:3: column sector: unknown sector 'nope'" },
	{ HEADER GOOD1 "r3,2026-08-02,,xay-dung,paper,,,,1,nam,4,5,4,\n", "in.csv:3: column agency: required" },
	{ HEADER GOOD1 ",2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4,5,4,\n", "in.csv:3: column response_id: required" },
	{ HEADER GOOD1 "r3,2026-02-30,SO-XD,xay-dung,paper,,,,1,nam,4,5,4,\n",
	  "in.csv:3: column submitted_at: '2026-02-30' is not a date" },
	{ HEADER GOOD1 "r3,,SO-XD,xay-dung,paper,,,,1,nam,4,5,4,\n", "in.csv:3: column submitted_at: required" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,6,5,4,\n",
	  "in.csv:3: column e1.1: 6 is off the scale 1..5" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,0,5,4,\n",
	  "in.csv:3: column e1.1: 0 is off the scale 1..5" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4.0,5,4,\n",
	  "in.csv:3: column e1.1: '4.0' is not a whole number on the scale" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,-1,5,4,\n",
	  "in.csv:3: column e1.1: '-1' is not a whole number on the scale" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam, 4,5,4,\n",
	  "in.csv:3: column e1.1: ' 4' is not a whole number on the scale" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,0,nam,4,5,4,\n",
	  "in.csv:3: column weight: '0' is not a plain decimal from 1e-06 to 1e+09" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,-2,nam,4,5,4,\n",
	  "in.csv:3: column weight: '-2' is not a plain decimal from 1e-06 to 1e+09" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,nan,nam,4,5,4,\n",
	  "in.csv:3: column weight: 'nan' is not a plain decimal from 1e-06 to 1e+09" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,inf,nam,4,5,4,\n",
	  "in.csv:3: column weight: 'inf' is not a plain decimal from 1e-06 to 1e+09" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1kg,nam,4,5,4,\n",
	  "in.csv:3: column weight: '1kg' is not a plain decimal from 1e-06 to 1e+09" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,fax,,,,1,nam,4,5,4,\n",
	  "in.csv:3: column channel: 'fax' is not kiosk, phone, paper, interview or online" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,male,4,5,4,\n",
	  "in.csv:3: column gender: 'male' is not one of the form's values" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,,,,\n",
	  "in.csv:3: column overall: no question is answered" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4,5\n", "in.csv:3: 12 fields, the header has 14" },
	{ HEADER GOOD1 "r1,2026-08-02,SO-XD,xay-dung,paper,,,,1.5,nam,4,5,5,\n",
	  "in.csv:3: column response_id: response 'r1' is already stored with different content" },
	{ HEADER GOOD2 "r9,2026-08-02,SO-YT,y-te,phone,HS-1,,,1,nam,4,5,5,\n",
	  "in.csv:3: column dossier_code: dossier 'HS-1' already has a response to form sipas-2017" },
	{ HEADER GOOD1 "r12345678901234567890123456789012345678901234567890123456789012345,2026-08-02,SO-XD,"
	  "xay-dung,paper,,,,1,nam,4,5,4,\n", "in.csv:3: column response_id: longer than 64 characters" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4,5,4,\"bad \x01 byte\"\n",
	  "in.csv:3: column comment: holds a control character" },
	{ HEADER GOOD1 "r3,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4,5,4,\"never closed\n",
	  "in.csv:3: quoted field opened here is never closed" },
	{ "response_id,submitted_at,agency,sector,e9.9\n", "in.csv:1: column e9.9: unknown column" },
	{ "response_id,submitted_at,agency,sector,overall,overall\n", "in.csv:1: column overall: appears twice" },
	{ "response_id,agency,sector,overall\n", "in.csv:1: column submitted_at: missing from the header" },
	{ "", "in.csv: empty file (a header row is required)" },
};

static void bad_values_refuse_the_whole_file(void)
{
	CHECK_INT(test_init_fixture(0), 0);
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct cmd_result *r;

		CHECK_INT(test_write("in.csv", bad_files[i].csv), 0);
		r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
		if (r->status != 1) {
			test_fail(__FILE__, __LINE__, "case %zu: exit %d, stderr %s", i, r->status, r->err);
			return;
		}
		if (bad_files[i].message)
			CHECK_CONTAINS(r->err, bad_files[i].message);
		CHECK_INT(responses(), 0);
		CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM strata"), 0);
	}
}

static void failed_import_leaves_database_unchanged(void)
{
	char csv[4096], before[64], after[64];
	const struct cmd_result *r;

	snprintf(csv, sizeof(csv), "%s/sipas-2017-a/responses.csv", test_fixtures());
	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_write("in.csv", HEADER GOOD1 GOOD2), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL)->status, 0);
	snprintf(before, sizeof(before), "%lld/%lld/%lld", responses(),
		 test_db_int("sipas.db", "SELECT count(*) FROM psus"),
		 test_db_int("sipas.db", "SELECT sum(ts) FROM responses"));
	/* the fixture file with one bad row at its end: 2963 good rows first */
	{
		char *text = test_read(csv);
		size_t n = strlen(text);
		char *bad = malloc(n + 200);

		CHECK(text && bad);
		memcpy(bad, text, n);
		strcpy(bad + n, "\"X1\",\"2026-08-02\",\"SO-XD\",\"dat-dai\",\"paper\",\"SO-XD\",\"SO-XD-01\",1,"
			"\"nam\",\"18-34\",4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,7\n");
		CHECK_INT(test_write("big.csv", bad), 0);
		free(text);
		free(bad);
	}
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "big.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "big.csv:2965: column overall: 7 is off the scale 1..5");
	snprintf(after, sizeof(after), "%lld/%lld/%lld", responses(),
		 test_db_int("sipas.db", "SELECT count(*) FROM psus"),
		 test_db_int("sipas.db", "SELECT sum(ts) FROM responses"));
	CHECK_STR(after, before);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
}

static void kiosk_followups(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_write("k.csv", "response_id,submitted_at,agency,sector,channel,overall,reason\n"
			     "k1,2026-08-03T09:15:00+07:00,P-TRANLIEU,dat-dai,kiosk,1,long-wait\n"
			     "k2,2026-08-03T09:16:00+07:00,P-TRANLIEU,dat-dai,kiosk,3,\n"), 0);
	r = sipas_run(NULL, "import", "--form", "kiosk-2018", "k.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT hex(choices) = '01' FROM responses WHERE response_id = 'k1'"), 1);
	CHECK_INT(test_write("k.csv", "response_id,submitted_at,agency,sector,channel,overall,reason\n"
			     "k3,2026-08-03T09:17:00+07:00,P-TRANLIEU,dat-dai,kiosk,3,late-result\n"), 0);
	r = sipas_run(NULL, "import", "--form", "kiosk-2018", "k.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "k.csv:2: column reason: only asked when overall is one of its trigger values");
	CHECK_INT(test_write("k.csv", "response_id,submitted_at,agency,sector,overall,e1.1\n"), 0);
	r = sipas_run(NULL, "import", "--form", "kiosk-2018", "k.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "k.csv:1: column e1.1: unknown column");
	CHECK_INT(test_write("k.csv", "response_id,submitted_at,agency,sector,overall,comment\n"
			     "k4,2026-08-03,P-TRANLIEU,dat-dai,2,hello\n"), 0);
	r = sipas_run(NULL, "import", "--form", "kiosk-2018", "k.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "k.csv:2: column comment: form kiosk-2018 takes no comment");
}

static void usage_errors(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	r = sipas_run(NULL, "import", "x.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--form ID is required");
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "missing.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "missing.csv: cannot open");
	CHECK_INT(test_write("in.csv", HEADER), 0);
	r = sipas_run(NULL, "import", "--form", "nope", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "unknown form 'nope'");
	r = sipas_run(NULL, "import", "--help", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "usage: sipas import --form ID");
	CHECK_CONTAINS(r->out, "--skip-empty");
}

/* Weights are plain decimals in a range whose sums stay finite. */
static void weights_are_plain_bounded_decimals(void)
{
	static const char *const bad[] = { "0x10", "1e155", "1e-200", "+1", "-1", "inf", "nan", "1.5.2", "1e",
					   ".", "0", "2e9" };
	static const char *const good[] = { "1.50", "2e3", "0.5", "7.", ".25", "1E-6", "1000000000" };
	const struct cmd_result *r;
	char csv[256];

	CHECK_INT(test_init_fixture(0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(csv, sizeof(csv), "response_id,submitted_at,agency,sector,weight,overall\n"
			 "w%zu,2026-08-01,SO-XD,dat-dai,%s,5\n", i, bad[i]);
		r = sipas_run(csv, "import", "--form", "sipas-2017", "-", NULL);
		if (r->status != 1 || !strstr(r->err, "column weight"))
			test_fail(__FILE__, __LINE__, "weight '%s' was not refused: %s", bad[i], r->err);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(csv, sizeof(csv), "response_id,submitted_at,agency,sector,weight,overall\n"
			 "g%zu,2026-08-01,SO-XD,dat-dai,%s,5\n", i, good[i]);
		r = sipas_run(csv, "import", "--form", "sipas-2017", "-", NULL);
		if (r->status != 0)
			test_fail(__FILE__, __LINE__, "weight '%s' was refused: %s", good[i], r->err);
	}
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 7);
}

/* Today in Vietnam time plus `days`, as YYYY-MM-DD. */
static const char *vn_date(int days, char *buf)
{
	time_t t = time(NULL) + 7 * 3600 + (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
	return buf;
}

/* Dates run from 2000-01-01 to tomorrow: a mistyped year is refused by cell. */
static void dates_from_2000_to_tomorrow(void)
{
	char csv[512], tomorrow[16], later[16];
	const struct cmd_result *r;
	static const struct {
		const char *date, *message;
	} bad[] = {
		{ "1999-12-31", "in.csv:3: column submitted_at: is before 2000-01-01" },
		{ "1970-01-01T00:00:00Z", "in.csv:3: column submitted_at: is before 2000-01-01" },
		{ "9999-12-31", "in.csv:3: column submitted_at: is after tomorrow" },
		{ "9999-12-31T23:59:59-14:00", "in.csv:3: column submitted_at: is after tomorrow" },
		{ NULL, "in.csv:3: column submitted_at: is after tomorrow" },   /* the day after tomorrow */
	};

	CHECK_INT(test_init_fixture(0), 0);
	vn_date(1, tomorrow);
	vn_date(2, later);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(csv, sizeof(csv), "response_id,submitted_at,agency,sector,overall\n"
			 "ok,2026-08-01,SO-XD,dat-dai,5\nd%zu,%s,SO-XD,dat-dai,5\n", i, bad[i].date ? bad[i].date : later);
		CHECK_INT(test_write("in.csv", csv), 0);
		r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
		CHECK_INT(r->status, 1);
		CHECK_CONTAINS(r->err, bad[i].message);
	}
	CHECK_INT(responses(), 0);
	snprintf(csv, sizeof(csv), "response_id,submitted_at,agency,sector,overall\n"
		 "first,2000-01-01,SO-XD,dat-dai,5\ntomorrow,%s,SO-XD,dat-dai,5\n", tomorrow);
	CHECK_INT(test_write("in.csv", csv), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(responses(), 2);
	/* stamped with the time of the import */
	CHECK(test_db_int("sipas.db", "SELECT min(received_at) FROM responses") > 1700000000);
}

/* Two agencies may use the same response ids and dossier codes; within
 * an agency a second use is a duplicate (same content) or a conflict,
 * found in the file or against what is stored, naming its line. */
static void ids_and_dossiers_are_per_agency(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_write("in.csv", "response_id,submitted_at,agency,sector,dossier_code,overall\n"
			     "r1,2026-08-01,SO-XD,dat-dai,HS-1,5\n"
			     "r1,2026-08-01,SO-NV,dat-dai,HS-1,4\n"
			     "r1,2026-08-01,SO-XD,dat-dai,HS-1,5\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "3 rows: 2 imported, 1 already stored");
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_CONTAINS(r->out, "3 rows: 0 imported, 3 already stored");
	/* in the file */
	CHECK_INT(test_write("in.csv", "response_id,submitted_at,agency,sector,dossier_code,overall\n"
			     "r2,2026-08-01,SO-NV,dat-dai,HS-2,5\n"
			     "r3,2026-08-01,SO-NV,dat-dai,HS-2,4\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:3: column dossier_code: dossier 'HS-2' already has a response to form sipas-2017");
	/* against the stored rows, found when the file is copied: the first
	 * contradicting line is named, and nothing of the file is stored */
	CHECK_INT(test_write("in.csv", "response_id,submitted_at,agency,sector,dossier_code,overall\n"
			     "r4,2026-08-01,SO-NV,dat-dai,HS-4,5\n"
			     "r1,2026-08-01,SO-NV,dat-dai,HS-1,5\n"
			     "r5,2026-08-01,SO-XD,dat-dai,HS-1,5\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:3: column response_id: response 'r1' is already stored with different content");
	CHECK_INT(test_write("in.csv", "response_id,submitted_at,agency,sector,dossier_code,overall\n"
			     "r4,2026-08-01,SO-NV,dat-dai,HS-4,5\n"
			     "r5,2026-08-01,SO-XD,dat-dai,HS-1,5\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:3: column dossier_code: dossier 'HS-1' already has a response to form sipas-2017");
	CHECK_INT(responses(), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM strata"), 2);
}

/* A questionnaire that came back blank (its ids, no answer) refuses the
 * file and says how to go on; --skip-empty skips such rows and names their
 * lines.  Rows of nothing but separators are skipped always, uncounted. */
static void empty_questionnaires(void)
{
	struct strbuf csv;
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	strbuf_init(&csv, 0);
	strbuf_addstr(&csv, HEADER GOOD1 ",,,,,,,,,,,,,\n");
	/* lines 4..15: twelve empty questionnaires, a separator-only row among them */
	for (int i = 0; i < 12; i++) {
		strbuf_addf(&csv, "e%d,2026-08-02,SO-XD,xay-dung,paper,,,,1.5,,,,,\n", i);
		if (i == 5)
			strbuf_addstr(&csv, ",,,,,,,,,,,,,\r\n");
	}
	strbuf_addstr(&csv, GOOD2 ",,,,,,,,,,,,,\n,,,,,,,,,,,,,\n");
	CHECK(!csv.failed);
	CHECK_INT(test_write("in.csv", strbuf_str(&csv)), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:4: no answer at all (an empty questionnaire); the file is refused "
		       "whole: sipas import --skip-empty imports it without such rows");
	CHECK_INT(responses(), 0);
	r = sipas_run(NULL, "import", "--skip-empty", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "in.csv: 14 rows: 2 imported, 0 already stored\n"
		       "in.csv: 12 empty rows skipped, lines 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, …\n");
	CHECK_INT(responses(), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE response_id LIKE 'e%'"), 0);
	/* a few: all named, no ellipsis */
	CHECK_INT(test_write("in.csv", HEADER "e1,2026-08-02,SO-XD,xay-dung,,,,,,,,,,\n" GOOD1
			     "e2,2026-08-02,SO-XD,xay-dung,,,,,,,,,,\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "--skip-empty", "in.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "in.csv: 3 rows: 0 imported, 1 already stored\n"
		       "in.csv: 2 empty rows skipped, lines 2, 4\n");
	/* a demographic or a comment is an answer: such a row is not skipped */
	CHECK_INT(test_write("in.csv", HEADER "e1,2026-08-02,SO-XD,xay-dung,,,,,,nam,,,,\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "--skip-empty", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:2: column overall: no question is answered");
	CHECK_INT(test_write("in.csv", HEADER "e1,2026-08-02,SO-XD,xay-dung,,,,,,,,,,\"chưa trả lời\"\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "--skip-empty", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:2: column overall: no question is answered");
	/* an empty row's ids are still checked */
	CHECK_INT(test_write("in.csv", HEADER "e1,2026-08-02,SO-XX,xay-dung,,,,,,,,,,\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "--skip-empty", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:2: column agency: unknown agency 'SO-XX'");
	CHECK_INT(responses(), 2);
	strbuf_release(&csv);
}

/* The fixture's responses as Excel saves them with Vietnamese regional
 * settings ("CSV UTF-8"): a BOM, CRLF, ';' between fields, a decimal comma
 * in the weights and dates day first; `separator` may be ';' or a tab. */
static char *excel_vietnam(const char *path, char separator)
{
	FILE *fp = fopen(path, "rb");
	struct csv_reader *r = fp ? csv_reader_new(fp, path) : NULL;
	long weight = -1, date = -1;
	struct strbuf out;
	struct err e;

	strbuf_init(&out, 0);
	strbuf_addstr(&out, "\xEF\xBB\xBF");
	while (r && csv_read_record(r, &e) == 1) {
		for (size_t i = 0; i < csv_nfields(r); i++) {
			const char *v = csv_field(r, i);
			char cell[64];

			if (csv_line(r) == 1) {
				weight = strcmp(v, "weight") == 0 ? (long)i : weight;
				date = strcmp(v, "submitted_at") == 0 ? (long)i : date;
			}
			if (i)
				strbuf_addch(&out, separator);
			if (csv_line(r) > 1 && (long)i == weight && strlen(v) < sizeof(cell)) {
				strcpy(cell, v);
				if (strchr(cell, '.'))
					*strchr(cell, '.') = ',';
				strbuf_addstr(&out, cell);
			} else if (csv_line(r) > 1 && (long)i == date && strlen(v) == 10) {
				strbuf_addf(&out, "%.2s/%.2s/%.4s", v + 8, v + 5, v);
			} else {
				strbuf_addf(&out, "\"%s\"", v);   /* the fixture's texts hold no quote */
			}
		}
		strbuf_addstr(&out, "\r\n");
	}
	csv_reader_free(r);
	if (fp)
		fclose(fp);
	if (out.failed || weight < 0 || date < 0) {
		strbuf_release(&out);
		return NULL;
	}
	return strbuf_detach(&out, NULL);
}

/* Import `path` into a new database and score the quarter; the CSV output
 * is the caller's (free()), NULL when either failed. */
static char *import_and_score(const char *path)
{
	const struct cmd_result *r;

	unlink("sipas.db");
	unlink("sipas.db-wal");
	unlink("sipas.db-shm");
	if (test_init_fixture(0) != 0)
		return NULL;
	r = sipas_run(NULL, "import", "--form", "sipas-2017", path, NULL);
	if (r->status != 0 || !strstr(r->out, "2963 rows: 2963 imported")) {
		fprintf(stderr, "    import of %s: %s%s", path, r->out, r->err);
		return NULL;
	}
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "agency", "--format", "csv", NULL);
	return r->status == 0 ? strdup(r->out) : NULL;
}

/* The same responses saved by Excel in Vietnam score exactly the same. */
static void excel_vietnam_files_import_the_same(void)
{
	char path[4096], *semi, *tab, *plain = NULL, *score_semi = NULL, *score_tab = NULL;

	snprintf(path, sizeof(path), "%s/sipas-2017-a/responses.csv", test_fixtures());
	semi = excel_vietnam(path, ';');
	tab = excel_vietnam(path, '\t');
	CHECK(semi && tab && strstr(semi, ";70,765;") && strstr(semi, ";\"nam\";") && strstr(semi, ";02/08/2026;"));
	CHECK_INT(test_write("semi.csv", semi), 0);
	CHECK_INT(test_write("tab.csv", tab), 0);
	plain = import_and_score(path);
	score_semi = import_and_score("semi.csv");
	score_tab = import_and_score("tab.csv");
	CHECK(plain && score_semi && score_tab && strlen(plain) > 1000);
	CHECK_STR(score_semi, plain);
	CHECK_STR(score_tab, plain);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE weight = 70.765"), 1);
	free(plain);
	free(score_semi);
	free(score_tab);
	free(semi);
	free(tab);
}

/* With a decimal comma a '.' in a number is refused by cell: 70.765
 * could be seventy thousand.  Dates are day first. */
static void excel_vietnam_values(void)
{
	static const struct {
		const char *row, *message;
	} bad[] = {
		{ "w1;02/08/2026;SO-XD;dat-dai;70.765;5\r\n",
		  "in.csv:2: column weight: '70.765' is not a plain decimal from 1e-06 to 1e+09: with ';' or a tab "
		  "between fields the decimal mark is a comma, and a '.' may group thousands (1.500 could mean "
		  "1500)" },
		{ "w1;31/02/2026;SO-XD;dat-dai;1;5\r\n", "in.csv:2: column submitted_at: '31/02/2026' is not a date" },
		{ "w1;2/8/2026;SO-XD;dat-dai;1;5\r\n", "in.csv:2: column submitted_at: '2/8/2026' is not a date" },
		{ "w1;02/08/26;SO-XD;dat-dai;1;5\r\n", "in.csv:2: column submitted_at: '02/08/26' is not a date" },
		{ "w1;02/08/2026 25:00;SO-XD;dat-dai;1;5\r\n", "in.csv:2: column submitted_at: '02/08/2026 25:00' is not a date" },
		{ "w1;02/08/1999;SO-XD;dat-dai;1;5\r\n", "in.csv:2: column submitted_at: is before 2000-01-01" },
	};
	const struct cmd_result *r;
	char csv[512];

	CHECK_INT(test_init_fixture(0), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(csv, sizeof(csv), "response_id;submitted_at;agency;sector;weight;overall\r\n%s", bad[i].row);
		CHECK_INT(test_write("in.csv", csv), 0);
		r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
		if (r->status != 1 || !strstr(r->err, bad[i].message)) {
			test_fail(__FILE__, __LINE__, "case %zu: exit %d, %s", i, r->status, r->err);
			return;
		}
	}
	CHECK_INT(test_write("in.csv", "response_id;submitted_at;agency;sector;weight;overall\r\n"
			     "d1;02/08/2026;SO-XD;dat-dai;1,5;5\r\n"
			     "d2;02/08/2026 9:15;SO-XD;dat-dai;;4\r\n"
			     "d3;02/08/2026 23:59:30;SO-XD;dat-dai;2e-1;4\r\n"
			     ";;;;;\r\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "3 rows: 3 imported");
	CHECK_INT(test_db_int("sipas.db", "SELECT weight * 10 FROM responses WHERE response_id = 'd1'"), 15);
	/* Vietnam time: 2026-08-02T00:00+07:00, then 09:15 and 23:59:30 of that day */
	CHECK_INT(test_db_int("sipas.db", "SELECT ts FROM responses WHERE response_id = 'd1'"), 1785603600);
	CHECK_INT(test_db_int("sipas.db", "SELECT ts FROM responses WHERE response_id = 'd2'"), 1785603600 + 33300);
	CHECK_INT(test_db_int("sipas.db", "SELECT ts FROM responses WHERE response_id = 'd3'"), 1785603600 + 86370);
	/* a comma file keeps its decimal point: 1,5 is two cells there */
	CHECK_INT(test_write("in.csv", "response_id,submitted_at,agency,sector,weight,overall\n"
			     "c1,02/08/2026,SO-XD,dat-dai,\"1,5\",5\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:2: column weight: '1,5' is not a plain decimal from 1e-06 to 1e+09: with ',' "
		       "between fields the decimal mark is a point");
	/* a header that mixes separators */
	CHECK_INT(test_write("in.csv", "response_id;submitted_at,agency,sector,overall\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "in.csv:1: the header has both ',' and ';' between its fields");
}

/* Write `n` bytes to path; 0 or -1. */
static int write_bytes(const char *path, const char *bytes, size_t n)
{
	FILE *fp = fopen(path, "wb");
	int ok = fp && fwrite(bytes, 1, n, fp) == n;

	return (fp && fclose(fp) == 0 && ok) ? 0 : -1;
}

/* Files Excel saved as "Unicode Text" (UTF-16) or in a Windows code page
 * are refused with the way to save them; a BOM and CRLF are fine. */
static void other_encodings_refused(void)
{
	const char *utf8 = "response_id,submitted_at,agency,sector,overall,comment\r\n"
			   "u1,2026-08-02,SO-XD,dat-dai,5,Tốt\r\n";
	char utf16[512];
	size_t n = 0;
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	/* UTF-16 LE with its BOM, as Excel's "Unicode Text" (ASCII here but the ố) */
	utf16[n++] = (char)0xFF;
	utf16[n++] = (char)0xFE;
	for (const char *p = utf8; *p; p++) {
		if ((unsigned char)*p >= 0x80) {   /* ố is U+1ED1 */
			utf16[n++] = (char)0xD1;
			utf16[n++] = (char)0x1E;
			p += 2;
			continue;
		}
		utf16[n++] = *p;
		utf16[n++] = 0;
	}
	CHECK_INT(write_bytes("u16.csv", utf16, n), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "u16.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "u16.csv:1: the file is UTF-16 (Excel's \"Unicode Text\"), not UTF-8; save it as "
		       "\"CSV UTF-8 (Comma delimited)\"");
	/* without its BOM */
	CHECK_INT(write_bytes("u16.csv", utf16 + 2, n - 2), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "u16.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "u16.csv:1: the file is UTF-16");
	/* cp1258: "Tốt" is T, o circumflex (F4), combining acute (EC), t */
	CHECK_INT(test_write("cp.csv", "response_id,submitted_at,agency,sector,overall,comment\r\n"
			     "u1,2026-08-02,SO-XD,dat-dai,5,T\xF4\xEC" "t\r\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "cp.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "cp.csv:2: field 6 is not valid UTF-8: the file was probably saved in a Windows "
		       "code page (Excel's \"CSV (Comma delimited)\"); save it as \"CSV UTF-8 (Comma delimited)\"");
	CHECK_INT(responses(), 0);
	/* UTF-8 with a BOM and CRLF line ends, as "CSV UTF-8" writes it */
	CHECK_INT(write_bytes("ok.csv", "\xEF\xBB\xBF", 3), 0);
	{
		FILE *fp = fopen("ok.csv", "ab");

		CHECK(fp && fputs(utf8, fp) >= 0 && fclose(fp) == 0);
	}
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "ok.csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT comment = 'Tốt' FROM responses WHERE response_id = 'u1'"), 1);
}

/* Start `sipas import --form sipas-2017 [flag] -` reading a pipe, its
 * stderr and stdout into import.err and import.out: *fp gets the pipe's
 * writing end (fclose it to end the input).  The child's pid, or -1. */
static pid_t import_from_pipe(const char *flag, FILE **fp)
{
	const char *bin = getenv("SIPAS_BIN");
	int in[2];
	pid_t pid;

	if (pipe(in) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[0]);
		close(in[1]);
		freopen("import.err", "w", stderr);
		freopen("import.out", "w", stdout);
		if (flag)
			execl(bin, bin, "import", "--form", "sipas-2017", flag, "-", (char *)NULL);
		else
			execl(bin, bin, "import", "--form", "sipas-2017", "-", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	*fp = pid > 0 ? fdopen(in[1], "w") : NULL;
	if (!*fp) {
		close(in[1]);
		return -1;
	}
	return pid;
}

/* Rows are checked and staged before the write lock is taken: while the
 * import still reads its input, another connection can begin a write. */
static void checking_holds_no_write_lock(void)
{
	int status;
	long long rows = 0;
	sqlite3 *db;
	FILE *fp;
	pid_t pid;
	int rc;

	CHECK_INT(test_init_fixture(0), 0);
	signal(SIGPIPE, SIG_IGN);   /* an import that ends early fails the checks below */
	pid = import_from_pipe("--verbose", &fp);
	CHECK(pid > 0);
	/* 2 MB: far more than a pipe and stdio buffer, so by the time the
	 * writes return the import is reading rows, not waiting to start */
	fputs("response_id,submitted_at,agency,sector,stratum,psu,overall,comment\n", fp);
	for (rows = 0; rows < 20000; rows++)
		fprintf(fp, "L%06lld,2026-08-02,SO-XD,dat-dai,S%lld,P%lld,%lld,%s\n", rows, rows % 7, rows % 50,
			rows % 5 + 1, "một dòng nhận xét dài vừa phải để tệp lớn hơn bộ đệm của ống");
	fflush(fp);
	CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);   /* no busy timeout: no waiting */
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	fclose(fp);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK_INT(rc, SQLITE_OK);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(test_file_contains("import.out", "20000 rows: 20000 imported"));
	CHECK(test_file_contains("import.err", "write lock held"));
	CHECK_INT(responses(), 20000);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM strata"), 7);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM psus"), 350);   /* 7 x 50: coprime */
}

/* Every bad row of a refused file is listed in line order, whatever found
 * it: a cell, the number of fields, an empty questionnaire, a repeat in the
 * file, a contradiction of a stored response (found before the copy, so a
 * file refused for it alone interns nothing); then one summary line. */
static void every_bad_row_is_listed(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_write("stored.csv", HEADER "s1,2026-08-02,SO-XD,xay-dung,paper,HS-9,,,1,nam,4,5,4,\n"), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "stored.csv", NULL)->status, 0);
	CHECK_INT(test_write("in.csv", HEADER GOOD1
			     "r3,2026-08-02,SO-XX,xay-dung,paper,,,,1,nam,4,5,4,\n"
			     GOOD2
			     "r5,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4,5,9,\n"
			     "r6,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4,5\n"
			     "e7,2026-08-02,SO-XD,xay-dung,paper,,,,1,,,,,\n"
			     "r1,2026-08-02,SO-XD,xay-dung,paper,,,,1.5,nam,4,5,5,\n"
			     "s1,2026-08-02,SO-XD,xay-dung,paper,HS-9,,,1,nam,4,5,5,\n"
			     "r10,2026-08-02,SO-XD,xay-dung,paper,HS-9,,,1,nam,4,5,4,\n"
			     "r11,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4,5,4,\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_STR(r->out, "");
	CHECK_STR(r->err,
		  "in.csv:3: column agency: unknown agency 'SO-XX'\n"
		  "in.csv:5: column overall: 9 is off the scale 1..5\n"
		  "in.csv:6: 12 fields, the header has 14\n"
		  "in.csv:7: no answer at all (an empty questionnaire); the file is refused whole: "
		  "sipas import --skip-empty imports it without such rows\n"
		  "in.csv:8: column response_id: response 'r1' is already stored with different content\n"
		  "in.csv:9: column response_id: response 's1' is already stored with different content\n"
		  "in.csv:10: column dossier_code: dossier 'HS-9' already has a response to form sipas-2017\n"
		  "sipas: in.csv: 7 bad rows of 10; nothing imported (a file imports whole or not at all)\n");
	CHECK_INT(responses(), 1);
	/* only contradictions of stored rows: found by the copy, which is rolled back */
	CHECK_INT(test_write("in.csv", HEADER GOOD1
			     "s1,2026-08-02,SO-XD,xay-dung,paper,,,,1,nam,4,5,4,\n"
			     GOOD2
			     "r10,2026-08-02,SO-XD,xay-dung,paper,HS-9,,,1,nam,4,5,4,\n"), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_STR(r->err,
		  "in.csv:3: column response_id: response 's1' is already stored with different content\n"
		  "in.csv:5: column dossier_code: dossier 'HS-9' already has a response to form sipas-2017\n"
		  "sipas: in.csv: 2 bad rows of 4; nothing imported (a file imports whole or not at all)\n");
	CHECK_INT(responses(), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM strata"), 1);
}

/* Lines of s that contain needle. */
static long count_lines_with(const char *s, const char *needle)
{
	long n = 0;

	for (const char *line = s; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *hit = strstr(line, needle), *end = strchr(line, '\n');

		n += hit && (!end || hit < end);
	}
	return n;
}

/* The first hundred bad rows by line are listed, then how many more:
 * a repeat found after every row was read still comes first. */
static void bad_rows_beyond_a_hundred_are_counted(void)
{
	const char *head = "in.csv:3: column response_id: response 'a' is already stored with different content\n"
			   "in.csv:4: column overall: 9 is off the scale 1..5\n"
			   "in.csv:6: column overall: 9 is off the scale 1..5\n";
	const struct cmd_result *r;
	struct strbuf csv;

	CHECK_INT(test_init_fixture(0), 0);
	strbuf_init(&csv, 0);
	strbuf_addstr(&csv, "response_id,submitted_at,agency,sector,overall\n"
		      "a,2026-08-02,SO-XD,dat-dai,5\n"
		      "a,2026-08-02,SO-XD,dat-dai,4\n");      /* line 3: a repeat with other content */
	for (int i = 4; i <= 400; i++)   /* every other line off the scale: 199 of them, from line 4 */
		strbuf_addf(&csv, "g%d,2026-08-02,SO-XD,dat-dai,%d\n", i, i % 2 ? 5 : 9);
	CHECK(!csv.failed);
	CHECK_INT(test_write("in.csv", strbuf_str(&csv)), 0);
	r = sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK(strncmp(r->err, head, strlen(head)) == 0);
	CHECK_INT(count_lines_with(r->err, "is off the scale"), 99);
	CHECK_CONTAINS(r->err, "in.csv:200: column overall: 9 is off the scale 1..5\n"
		       "... and 100 more bad rows\n"
		       "sipas: in.csv: 200 bad rows of 399; nothing imported (a file imports whole or not at all)\n");
	CHECK(!strstr(r->err, "in.csv:202:"));
	CHECK_INT(responses(), 0);
	strbuf_release(&csv);
}

/* Run bin/sipas import of `path` and return its peak resident set in KiB
 * (-1 when it did not exit 1, as a refused file does). */
static long import_peak_kib(const char *path)
{
	const char *bin = getenv("SIPAS_BIN");
	struct rusage ru;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		freopen("/dev/null", "w", stderr);
		freopen("/dev/null", "w", stdout);
		execl(bin, bin, "import", "--form", "sipas-2017", path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 1)
		return -1;
	return ru.ru_maxrss;
}

/* A file of n rows, all on 2026-08-02 (quarter 2026Q3): bad ones (an
 * answer out of the scale), or good ones with a stratum, PSU and comment. */
static int write_rows(const char *path, long n, int bad)
{
	FILE *fp = fopen(path, "w");

	if (!fp)
		return -1;
	fputs(bad ? "response_id,submitted_at,agency,sector,overall\n"
		  : "response_id,submitted_at,agency,sector,stratum,psu,overall,comment\n", fp);
	for (long i = 0; i < n; i++) {
		if (bad)
			fprintf(fp, "b%ld,2026-08-02,SO-XD,dat-dai,9\n", i);
		else
			fprintf(fp, "B%07ld,2026-08-02,SO-XD,dat-dai,S%ld,P%ld,%ld,nhận xét\n", i, i % 7, i % 50,
				i % 5 + 1);
	}
	return fclose(fp) == 0 ? 0 : -1;
}

/* However many rows are bad, an import keeps the messages of a hundred:
 * a hundred times more bad rows take no more memory. */
static void bad_rows_keep_memory_bounded(void)
{
	long small, large;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(write_rows("small.csv", 2000, 1), 0);
	CHECK_INT(write_rows("large.csv", 200000, 1), 0);
	small = import_peak_kib("small.csv");
	large = import_peak_kib("large.csv");
	CHECK(small > 0 && large > 0);
	if (large - small > 4096)
		test_fail(__FILE__, __LINE__, "200000 bad rows peaked at %ld KiB, 2000 at %ld KiB", large, small);
}

/* Rows in a quarter already published are said so as soon as the first is
 * read (before the rest of the file), once per quarter: they are stored,
 * the public figures stay, and the notice gives the commands that
 * republish. */
static void a_published_quarter_is_said_at_once(void)
{
	const char *notice = "sipas: <stdin>:2: sipas-2017 2026Q3 is published: this file's rows in it are "
			     "stored, but the public figures do not change until you publish it again: "
			     "sipas publish --withdraw --period 2026Q3 --form sipas-2017, then "
			     "sipas publish --period 2026Q3 --form sipas-2017\n";
	int status, seen = 0;
	FILE *fp;
	pid_t pid;
	char *err;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	signal(SIGPIPE, SIG_IGN);
	pid = import_from_pipe(NULL, &fp);
	CHECK(pid > 0);
	fputs("response_id,submitted_at,agency,sector,overall\n"
	      "late1,2026-09-30,SO-XD,dat-dai,5\n", fp);
	/* more than the reader's first 64 KiB chunk, in an unpublished quarter */
	for (int i = 0; i < 3000; i++)
		fprintf(fp, "q%04d,2026-05-01,SO-XD,dat-dai,4\n", i);
	fflush(fp);
	/* the rest of the file is not written yet: the notice must come now */
	for (int i = 0; i < 200 && !seen; i++) {
		seen = test_file_contains("import.err", "2026Q3 is published");
		if (!seen)
			usleep(50000);
	}
	fputs("late2,2026-07-01,SO-XD,dat-dai,4\n"
	      "early,2026-06-30,SO-XD,dat-dai,4\n", fp);
	fclose(fp);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(seen);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	err = test_read("import.err");
	CHECK(err);
	CHECK_STR(err, notice);   /* once, and not for 2026Q2, which is not published */
	free(err);
	CHECK(test_file_contains("import.out", "3003 rows: 3003 imported"));
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE response_id IN ('late1', 'late2', 'early')"), 3);
	/* a file with nothing in a published quarter says nothing */
	CHECK_INT(test_write("in.csv", "response_id,submitted_at,agency,sector,overall\nq2,2026-05-01,SO-XD,dat-dai,5\n"), 0);
	CHECK_STR(sipas_run(NULL, "import", "--form", "sipas-2017", "in.csv", NULL)->err, "");
}

/* A quarter published before it ended is published again with --early
 * while it runs, and the notice says so. */
static void a_quarter_published_early_is_republished_early(void)
{
	char today[16], quarter[32], csv[256], want[256];
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	vn_date(0, today);
	snprintf(quarter, sizeof(quarter), "%.4sQ%d", today, (atoi(today + 5) - 1) / 3 + 1);
	snprintf(csv, sizeof(csv), "response_id,submitted_at,agency,sector,overall\nt1,%s,SO-XD,dat-dai,5\n", today);
	CHECK_INT(sipas_run(csv, "import", "--form", "sipas-2017", "-", NULL)->status, 0);
	r = sipas_run(NULL, "publish", "--period", quarter, "--early", NULL);
	CHECK_INT(r->status, 0);
	snprintf(csv, sizeof(csv), "response_id,submitted_at,agency,sector,overall\nt2,%s,SO-XD,dat-dai,4\n", today);
	r = sipas_run(csv, "import", "--form", "sipas-2017", "-", NULL);
	CHECK_INT(r->status, 0);
	snprintf(want, sizeof(want), "then sipas publish --period %s --form sipas-2017 --early\n", quarter);
	CHECK_CONTAINS(r->err, want);
	/* and the command works: withdraw, then publish again with the new row */
	CHECK_INT(sipas_run(NULL, "publish", "--withdraw", "--period", quarter, "--form", "sipas-2017", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "publish", "--period", quarter, "--form", "sipas-2017", "--early", NULL)->status, 0);
}

/* Start `sipas import --form sipas-2017 --verbose FILE` in the background,
 * its output in import.out and import.err.  The child's pid, or -1. */
static pid_t import_in_background(const char *file)
{
	const char *bin = getenv("SIPAS_BIN");
	pid_t pid = fork();

	if (pid == 0) {
		freopen("import.err", "w", stderr);
		freopen("import.out", "w", stdout);
		execl(bin, bin, "import", "--form", "sipas-2017", "--verbose", file, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Rows an import has copied but not yet marked done: there, and invisible. */
static long long pending_rows(void)
{
	return test_db_int("sipas.db", "SELECT count(*) FROM responses r JOIN imports i ON i.id = r.import_id "
			   "WHERE i.state = 'pending'");
}

/* 1 when `sipas score` finds nothing of 2026Q3 to score. */
static int score_sees_nothing(void)
{
	const struct cmd_result *r = sipas_run(NULL, "score", "--form", "sipas-2017", "--period", "2026Q3", NULL);

	return strstr(r->err, "no responses to sipas-2017 in 2026Q3") != NULL;
}

/* A large import copies in short write transactions: all the while,
 * another connection's BEGIN IMMEDIATE gets the lock within a short wait,
 * and the rows copied so far stay invisible to scoring until the import
 * is done. */
static void a_large_import_never_holds_the_lock_long(void)
{
	long tries = 0, busy = 0, seen_score = 0;
	int status = 0;
	pid_t pid;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(write_rows("big.csv", 300000, 0), 0);
	pid = import_in_background("big.csv");
	CHECK(pid > 0);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		sqlite3 *db;

		CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 1000);
		tries++;
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			busy++;
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(db);
		if (!seen_score && pending_rows() > 0) {
			int nothing = score_sees_nothing();

			/* still pending after the score: so it was while it read */
			if (pending_rows() > 0) {
				seen_score = 1;
				CHECK(nothing);
			}
		}
		usleep(20 * 1000);
	}
	fprintf(stderr, "    %ld of %ld BEGIN IMMEDIATE waited more than 1 s during the import\n", busy, tries);
	CHECK(tries > 5);
	CHECK_INT(busy, 0);
	CHECK(seen_score);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(test_file_contains("import.out", "300000 rows: 300000 imported"));
	CHECK(test_file_contains("import.err", "longest single hold"));
	CHECK_INT(pending_rows(), 0);
	CHECK(!score_sees_nothing());
	/* and the same file again stores nothing new */
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "big.csv", NULL)->status, 0);
	CHECK_INT(responses(), 300000);
}

/* kill -9 an import once it has copied some rows but is not done. */
static int kill_import_midway(void)
{
	pid_t pid;
	int status;

	if (write_rows("big.csv", 150000, 0) != 0)
		return -1;
	pid = import_in_background("big.csv");
	if (pid <= 0)
		return -1;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (pending_rows() > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return pending_rows() > 0 ? 0 : -1;
		}
		usleep(2 * 1000);
	}
	return -1;   /* it finished before it could be killed */
}

/* An import killed mid-copy leaves its rows invisible, and the next init,
 * import or serve removes them. */
static void a_killed_import_is_removed_at_the_next_start(void)
{
	const struct cmd_result *r;
	struct test_server s;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(kill_import_midway(), 0);
	CHECK(score_sees_nothing());
	r = sipas_run(NULL, "init", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->err, "sipas: removed the ");
	CHECK_CONTAINS(r->err, "rows of an import that did not finish");
	CHECK_INT(responses(), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM imports"), 0);

	CHECK_INT(kill_import_midway(), 0);
	CHECK_INT(test_write("one.csv", HEADER GOOD1), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "one.csv", NULL)->status, 0);
	CHECK_INT(responses(), 1);

	CHECK_INT(kill_import_midway(), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(responses(), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM imports WHERE state = 'pending'"), 0);
}

const struct test_case import_tests[] = {
	{ "a_large_import_never_holds_the_lock_long", a_large_import_never_holds_the_lock_long },
	{ "a_killed_import_is_removed_at_the_next_start", a_killed_import_is_removed_at_the_next_start },
	{ "dates_from_2000_to_tomorrow", dates_from_2000_to_tomorrow },
	{ "ids_and_dossiers_are_per_agency", ids_and_dossiers_are_per_agency },
	{ "checking_holds_no_write_lock", checking_holds_no_write_lock },
	{ "weights_are_plain_bounded_decimals", weights_are_plain_bounded_decimals },
	{ "fixture_imports_and_reimport_is_a_no_op", fixture_imports_and_reimport_is_a_no_op },
	{ "values_are_stored_as_given", values_are_stored_as_given },
	{ "csv_edge_cases_import", csv_edge_cases_import },
	{ "standard_input_imports", standard_input_imports },
	{ "bad_values_refuse_the_whole_file", bad_values_refuse_the_whole_file },
	{ "failed_import_leaves_database_unchanged", failed_import_leaves_database_unchanged },
	{ "kiosk_followups", kiosk_followups },
	{ "usage_errors", usage_errors },
	{ "empty_questionnaires", empty_questionnaires },
	{ "excel_vietnam_files_import_the_same", excel_vietnam_files_import_the_same },
	{ "excel_vietnam_values", excel_vietnam_values },
	{ "other_encodings_refused", other_encodings_refused },
	{ "every_bad_row_is_listed", every_bad_row_is_listed },
	{ "bad_rows_beyond_a_hundred_are_counted", bad_rows_beyond_a_hundred_are_counted },
	{ "bad_rows_keep_memory_bounded", bad_rows_keep_memory_bounded },
	{ "a_published_quarter_is_said_at_once", a_published_quarter_is_said_at_once },
	{ "a_quarter_published_early_is_republished_early", a_quarter_published_early_is_republished_early },
	{ NULL, NULL }
};
