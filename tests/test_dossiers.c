/*
 * test_dossiers.c - dossier totals and the counter method's dossier-based
 * rate: a hand-worked example, only the cells with totals counted and the
 * coverage stated, months summed into a quarter only when all three are
 * loaded, the rate in the table and CSV, a file that replaces only its own
 * (period, agency) rows, and all-or-nothing loads.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "../lib/strbuf.h"
#include "../scoring/score.h"

/* Kiosk ratings in 2026Q3: P-HONGBANG dat-dai 1, 1, 2, 3 (two unsatisfied);
 * P-LECHAN xay-dung 3, 3, 3. */
static const char ratings[] =
	"response_id,submitted_at,agency,sector,channel,overall,reason\n"
	"a1,2026-07-02,P-HONGBANG,dat-dai,kiosk,1,long-wait\n"
	"a2,2026-08-02,P-HONGBANG,dat-dai,kiosk,1,\n"
	"a3,2026-08-03,P-HONGBANG,dat-dai,kiosk,2,\n"
	"a4,2026-09-04,P-HONGBANG,dat-dai,kiosk,3,\n"
	"b1,2026-07-05,P-LECHAN,xay-dung,kiosk,3,\n"
	"b2,2026-07-06,P-LECHAN,xay-dung,kiosk,3,\n"
	"b3,2026-07-07,P-LECHAN,xay-dung,kiosk,3,\n";

/* The counter object of the group (agency, sector) (NULL = all). */
static json_t *counter_of(json_t *doc, const char *agency, const char *sector)
{
	json_t *groups = json_object_get(doc, "groups"), *g;
	size_t i;

	json_array_foreach(groups, i, g) {
		json_t *a = json_object_get(g, "agency"), *s = json_object_get(g, "sector");

		if ((agency ? json_is_string(a) && strcmp(json_string_value(a), agency) == 0 : json_is_null(a)) &&
		    (sector ? json_is_string(s) && strcmp(json_string_value(s), sector) == 0 : json_is_null(s)))
			return json_object_get(g, "counter");
	}
	return NULL;
}

static json_t *score_kiosk(void)
{
	const struct cmd_result *r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "kiosk-2018",
					       "--format", "json", NULL);

	return r->status == 0 ? json_loads(r->out, 0, NULL) : NULL;
}

static void the_dossier_rate_by_hand(void)
{
	const struct cmd_result *r;
	json_t *doc, *c;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(sipas_run(ratings, "import", "--form", "kiosk-2018", "-", NULL)->status, 0);
	/* before any totals: the share only, the rate blank */
	doc = score_kiosk();
	CHECK(doc);
	c = counter_of(doc, NULL, NULL);
	CHECK(json_is_null(json_object_get(c, "dossier_rate")));
	json_decref(doc);
	/* P-HONGBANG by month (30 + 40 + 30), P-LECHAN by quarter (2: fewer than its ratings) */
	r = sipas_run("period,agency,sector,dossiers\n"
		      "2026-07,P-HONGBANG,dat-dai,30\n2026-08,P-HONGBANG,dat-dai,40\n"
		      "2026-09,P-HONGBANG,dat-dai,30\n2026Q3,P-LECHAN,xay-dung,2\n",
		      "dossiers", "import", "-", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "4 rows loaded");
	doc = score_kiosk();
	CHECK(doc);
	c = counter_of(doc, "P-HONGBANG", NULL);
	CHECK_INT(json_integer_value(json_object_get(c, "dossiers")), 100);
	CHECK_NEAR(json_real_value(json_object_get(c, "share")), 0.5, 1e-12);
	CHECK_NEAR(json_real_value(json_object_get(c, "dossier_rate")), 98.0 / 100.0, 1e-12);
	CHECK(json_is_false(json_object_get(c, "more_ratings_than_dossiers")));
	c = counter_of(doc, "P-LECHAN", NULL);
	CHECK_INT(json_integer_value(json_object_get(c, "dossiers")), 2);
	CHECK(json_is_true(json_object_get(c, "more_ratings_than_dossiers")));
	c = counter_of(doc, NULL, "dat-dai");
	CHECK_NEAR(json_real_value(json_object_get(c, "dossier_rate")), 0.98, 1e-12);
	c = counter_of(doc, NULL, NULL);
	CHECK_INT(json_integer_value(json_object_get(c, "dossiers")), 102);
	CHECK_NEAR(json_real_value(json_object_get(c, "dossier_rate")), 100.0 / 102.0, 1e-12);
	CHECK_INT(json_integer_value(json_object_get(doc, "formula_version")), SCORE_FORMULA_VERSION);
	/* the reasons given with the lowest face, counted per group */
	c = counter_of(doc, "P-HONGBANG", NULL);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(c, "followups"), "reason"),
						     "long-wait")), 1);
	c = counter_of(doc, "P-LECHAN", NULL);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(json_object_get(c, "followups"), "reason"),
						     "long-wait")), 0);
	json_decref(doc);
	/* one warning for the cell, not one for each group holding it */
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "kiosk-2018", "--format", "csv", NULL);
	CHECK_CONTAINS(r->err, "warning: P-LECHAN, xay-dung, 2026Q3: 3 ratings but 2 dossiers");
	CHECK(!strstr(strstr(r->err, "warning:") + 1, "warning:"));
	/* a month's figures do not make a quarter's rate for another period kind */
	r = sipas_run(NULL, "score", "--period", "2026-07-01..2026-07-31", "--form", "kiosk-2018",
		      "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc && json_is_null(json_object_get(counter_of(doc, NULL, NULL), "dossiers")));
	json_decref(doc);
}

/* The field `column` of the CSV row for (agency, sector) ("" = all) in
 * `csv` (fields without commas or quotes); a static copy, or NULL. */
static const char *csv_cell(const char *csv, const char *agency, const char *sector, const char *column)
{
	static char out[64];
	const char *line = csv, *eol = strchr(csv, '\n');
	int want = -1, i = 0;

	/* the header: which field is `column` */
	for (const char *f = csv; f && f < eol; f = strchr(f, ',') ? strchr(f, ',') + 1 : NULL, i++)
		if (strncmp(f, column, strlen(column)) == 0 && (f[strlen(column)] == ',' || f[strlen(column)] == '\n'))
			want = i;
	while (want >= 0 && eol && *(line = eol + 1)) {
		char prefix[80];
		const char *f = line;

		eol = strchr(line, '\n');
		snprintf(prefix, sizeof(prefix), "%s,%s,", agency, sector);
		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		for (i = 0; i < want && f; i++)
			f = strchr(f, ',') ? strchr(f, ',') + 1 : NULL;
		if (!f)
			return NULL;
		snprintf(out, sizeof(out), "%.*s", (int)strcspn(f, ",\n"), f);
		return out;
	}
	return NULL;
}

/* Kiosk ratings where only SO-XD / dat-dai in 2026Q3 has a dossier total:
 * SO-XD dat-dai 10 ratings (3 unsatisfied), SO-XD xay-dung 10 (6),
 * P-HONGBANG dat-dai 5 (5); and SO-XD dat-dai 4 (4) in 2026Q2. */
static int load_partial_totals(void)
{
	struct strbuf sb;
	int rc;

	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "response_id,submitted_at,agency,sector,channel,overall\n");
	for (int i = 0; i < 10; i++) {
		strbuf_addf(&sb, "d%d,2026-08-03,SO-XD,dat-dai,kiosk,%d\n", i, i < 3 ? 1 : 3);
		strbuf_addf(&sb, "x%d,2026-08-03,SO-XD,xay-dung,kiosk,%d\n", i, i < 6 ? 1 : 3);
	}
	for (int i = 0; i < 5; i++)
		strbuf_addf(&sb, "h%d,2026-08-04,P-HONGBANG,dat-dai,kiosk,1\n", i);
	for (int i = 0; i < 4; i++)
		strbuf_addf(&sb, "q%d,2026-05-10,SO-XD,dat-dai,kiosk,1\n", i);
	rc = sipas_run(NULL, "init", NULL)->status || sipas_run(strbuf_str(&sb), "import", "--form", "kiosk-2018",
								   "-", NULL)->status ||
	     sipas_run("period,agency,sector,dossiers\n2026Q3,SO-XD,dat-dai,1000\n", "dossiers", "import", "-",
		       NULL)->status;
	strbuf_release(&sb);
	return rc ? -1 : 0;
}

/* Only the ratings of cells with a dossier total are subtracted, and each
 * group says how much of it the rate covers: (1000 - 3) / 1000 for the
 * city, SO-XD and dat-dai alike, covering 10 of their 25, 20 and 15
 * ratings; none for P-HONGBANG or xay-dung.  Over the year, SO-XD dat-dai's
 * unsatisfied ratings of 2026Q2 (no total) are not subtracted either. */
static void the_rate_counts_only_cells_with_totals(void)
{
	static const struct {
		const char *agency, *sector;
		long ratings;
	} covered[] = { { NULL, NULL, 25 }, { "SO-XD", NULL, 20 }, { NULL, "dat-dai", 15 } };
	json_t *doc, *c, *cov, *cell;

	CHECK_INT(load_partial_totals(), 0);
	doc = score_kiosk();
	CHECK(doc);
	for (size_t i = 0; i < 3; i++) {
		c = counter_of(doc, covered[i].agency, covered[i].sector);
		CHECK_NEAR(json_real_value(json_object_get(c, "dossier_rate")), 997.0 / 1000.0, 1e-12);
		CHECK_INT(json_integer_value(json_object_get(c, "dossiers")), 1000);
		cov = json_object_get(c, "dossier_coverage");
		CHECK_INT(json_integer_value(json_object_get(cov, "cells")), 1);
		CHECK_INT(json_integer_value(json_object_get(cov, "ratings")), 10);
		CHECK_NEAR(json_real_value(json_object_get(cov, "share_of_ratings")), 10.0 / covered[i].ratings, 1e-12);
		CHECK_INT(json_integer_value(json_object_get(c, "ratings")), covered[i].ratings);
	}
	c = counter_of(doc, "P-HONGBANG", NULL);
	CHECK(json_is_null(json_object_get(c, "dossier_rate")) && json_is_null(json_object_get(c, "dossiers")));
	CHECK(json_is_null(json_object_get(c, "dossier_coverage")));
	CHECK(json_is_null(json_object_get(counter_of(doc, NULL, "xay-dung"), "dossier_rate")));
	/* the cells the rates cover, listed once */
	CHECK_INT(json_array_size(json_object_get(doc, "dossier_cells")), 1);
	cell = json_array_get(json_object_get(doc, "dossier_cells"), 0);
	CHECK_STR(json_string_value(json_object_get(cell, "agency")), "SO-XD");
	CHECK_STR(json_string_value(json_object_get(cell, "sector")), "dat-dai");
	CHECK_STR(json_string_value(json_object_get(cell, "quarter")), "2026Q3");
	CHECK_INT(json_integer_value(json_object_get(cell, "dossiers")), 1000);
	CHECK_INT(json_integer_value(json_object_get(cell, "ratings")), 10);
	CHECK_INT(json_integer_value(json_object_get(cell, "unsatisfied")), 3);
	json_decref(doc);
	{
		const struct cmd_result *r = sipas_run(NULL, "score", "--period", "2026", "--form", "kiosk-2018",
						       "--format", "json", NULL);

		CHECK_INT(r->status, 0);
		doc = json_loads(r->out, 0, NULL);
		CHECK(doc);
		c = counter_of(doc, "SO-XD", NULL);
		CHECK_NEAR(json_real_value(json_object_get(c, "dossier_rate")), 997.0 / 1000.0, 1e-12);
		CHECK_INT(json_integer_value(json_object_get(json_object_get(c, "dossier_coverage"), "ratings")), 10);
		CHECK_INT(json_integer_value(json_object_get(c, "ratings")), 24);
		json_decref(doc);
	}
}

/* `sipas score` shows the dossier-based rate and its coverage in the table
 * and the CSV too, not only in JSON. */
static void the_table_and_csv_show_the_dossier_rate(void)
{
	const struct cmd_result *r;
	const char *v;

	CHECK_INT(load_partial_totals(), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "kiosk-2018", "--format", "table", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "dossier rate [ratings covered]");
	CHECK_CONTAINS(r->out, " 99.7% [10/25]");
	CHECK_CONTAINS(r->out, " 99.7% [10/20]");
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "kiosk-2018", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, ",formula_version,ratings,satisfied,share,dossiers,dossier_rate,dossier_cells,"
		       "covered_ratings,covered_share\n");
	v = csv_cell(r->out, "", "", "dossier_rate");
	CHECK(v);
	CHECK_NEAR(atof(v), 0.997, 1e-12);
	CHECK_STR(csv_cell(r->out, "", "", "ratings"), "25");
	CHECK_STR(csv_cell(r->out, "", "", "dossiers"), "1000");
	CHECK_STR(csv_cell(r->out, "", "", "dossier_cells"), "1");
	CHECK_STR(csv_cell(r->out, "", "", "covered_ratings"), "10");
	CHECK_NEAR(atof(csv_cell(r->out, "", "", "covered_share")), 0.4, 1e-12);
	CHECK_STR(csv_cell(r->out, "P-HONGBANG", "", "dossier_rate"), "");
	CHECK_STR(csv_cell(r->out, "P-HONGBANG", "", "covered_ratings"), "");
	/* the survey form's CSV is unchanged: no counter columns */
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK(!strstr(r->out, "dossier_rate"));
}

/* Months make a quarter only when all three are loaded: with July and
 * August alone P-HONGBANG / dat-dai has no quarter total, is left out of
 * every rate and named with its missing month; a quarter row wins over
 * months given beside it. */
static void months_make_a_quarter_only_when_all_three_are_loaded(void)
{
	const struct cmd_result *r;
	json_t *doc, *gap, *c;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(sipas_run(ratings, "import", "--form", "kiosk-2018", "-", NULL)->status, 0);
	CHECK_INT(sipas_run("period,agency,sector,dossiers\n"
			    "2026-07,P-HONGBANG,dat-dai,30\n2026-08,P-HONGBANG,dat-dai,40\n"
			    "2026-07,P-LECHAN,xay-dung,10\n2026-08,P-LECHAN,xay-dung,10\n2026-09,P-LECHAN,xay-dung,10\n"
			    "2026Q3,SO-XD,dat-dai,50\n2026-07,SO-XD,dat-dai,20\n",
			    "dossiers", "import", "-", NULL)->status, 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "kiosk-2018", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->err, "P-HONGBANG, dat-dai, 2026Q3: no dossier total for 2026-09");
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc);
	c = counter_of(doc, "P-HONGBANG", NULL);
	CHECK(json_is_null(json_object_get(c, "dossiers")) && json_is_null(json_object_get(c, "dossier_rate")));
	c = counter_of(doc, "P-LECHAN", NULL);
	CHECK_INT(json_integer_value(json_object_get(c, "dossiers")), 30);
	CHECK_NEAR(json_real_value(json_object_get(c, "dossier_rate")), 1.0, 0);
	c = counter_of(doc, NULL, NULL);
	CHECK_INT(json_integer_value(json_object_get(c, "dossiers")), 80);
	CHECK_NEAR(json_real_value(json_object_get(c, "dossier_rate")), 1.0, 0);
	CHECK_INT(json_integer_value(json_object_get(json_object_get(c, "dossier_coverage"), "ratings")), 3);
	CHECK_INT(json_array_size(json_object_get(doc, "dossier_gaps")), 1);
	gap = json_array_get(json_object_get(doc, "dossier_gaps"), 0);
	CHECK_STR(json_string_value(json_object_get(gap, "agency")), "P-HONGBANG");
	CHECK_STR(json_string_value(json_object_get(gap, "quarter")), "2026Q3");
	CHECK_STR(json_string_value(json_array_get(json_object_get(gap, "months"), 1)), "2026-08");
	CHECK_INT(json_array_size(json_object_get(gap, "missing")), 1);
	CHECK_STR(json_string_value(json_array_get(json_object_get(gap, "missing"), 0)), "2026-09");
	json_decref(doc);
}

static void a_file_replaces_only_its_own_period_and_agency(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(sipas_run("period,agency,sector,dossiers\n2026Q3,P-HONGBANG,dat-dai,100\n"
			    "2026Q3,P-LECHAN,xay-dung,50\n2026Q3,P-LECHAN,dat-dai,10\n",
			    "dossiers", "import", "-", NULL)->status, 0);
	/* P-LECHAN's correction: its two rows become one, P-HONGBANG's stays */
	r = sipas_run("dossiers,sector,agency,period\n60,xay-dung,P-LECHAN,2026Q3\n",
		      "dossiers", "import", "-", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "1 rows loaded, 2 stored rows replaced");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossiers"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT dossiers FROM dossiers d JOIN agencies a ON a.id = d.agency_id "
			      "WHERE a.code = 'P-LECHAN'"), 60);
	CHECK_INT(test_db_int("sipas.db", "SELECT dossiers FROM dossiers d JOIN agencies a ON a.id = d.agency_id "
			      "WHERE a.code = 'P-HONGBANG'"), 100);
}

static void a_bad_row_refuses_the_file(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(sipas_run("period,agency,sector,dossiers\n2026Q3,P-HONGBANG,dat-dai,100\n",
			    "dossiers", "import", "-", NULL)->status, 0);
	r = sipas_run("period,agency,sector,dossiers\n2026Q3,P-HONGBANG,dat-dai,7\n2026Q3,P-LECHAN,nope,1\n",
		      "dossiers", "import", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "<stdin>:3: column sector: unknown sector 'nope'");
	CHECK_INT(test_db_int("sipas.db", "SELECT sum(dossiers) FROM dossiers"), 100);
	r = sipas_run("period,agency,sector,dossiers\n2026Q5,P-HONGBANG,dat-dai,7\n", "dossiers", "import", "-",
		      NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "column period");
	r = sipas_run("period,agency,sector,dossiers\n2026-07,P-HONGBANG,dat-dai,-1\n", "dossiers", "import",
		      "-", NULL);
	CHECK_CONTAINS(r->err, "column dossiers");
	r = sipas_run("period,agency,sector,dossiers\n2026-07,P-HONGBANG,dat-dai,1\n2026-07,P-HONGBANG,dat-dai,2\n",
		      "dossiers", "import", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "<stdin>:3: 2026-07, P-HONGBANG and dat-dai are given twice");
	r = sipas_run("period,agency,dossiers\n", "dossiers", "import", "-", NULL);
	CHECK_CONTAINS(r->err, "column sector: missing from the header");
	CHECK_INT(test_db_int("sipas.db", "SELECT sum(dossiers) FROM dossiers"), 100);
}

/* A refused file lists every bad row, the first hundred by line, then how
 * many more, and stores nothing: the office fixes the file in one go. */
static void every_bad_row_is_listed(void)
{
	const struct cmd_result *r;
	struct strbuf csv;
	const char *expect = "<stdin>:3: column sector: unknown sector 'nope'\n"
			     "<stdin>:4: column dossiers: '-1' is not a whole number from 0 to 100000000\n"
			     "<stdin>:5: column period: '2026Q5' is not a quarter (YYYYQn) or a month (YYYY-MM)\n"
			     "<stdin>:6: 2026Q3, P-HONGBANG and dat-dai are given twice\n"
			     "<stdin>:7: 3 fields, the header has 4\n"
			     "sipas: <stdin>: 5 bad rows of 6; nothing loaded (a file loads whole or not at all)\n";

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run("period,agency,sector,dossiers\n2026Q3,P-HONGBANG,dat-dai,7\n2026Q3,P-LECHAN,nope,1\n"
		      "2026Q3,P-LECHAN,dat-dai,-1\n2026Q5,P-LECHAN,dat-dai,1\n2026Q3,P-HONGBANG,dat-dai,8\n"
		      "2026Q3,P-LECHAN,dat-dai\n", "dossiers", "import", "-", NULL);
	CHECK_INT(r->status, 1);
	CHECK_STR(r->err, expect);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossiers"), 0);
	/* past a hundred, the rest are counted */
	strbuf_init(&csv, 0);
	strbuf_addstr(&csv, "period,agency,sector,dossiers\n");
	for (int i = 0; i < 250; i++)
		strbuf_addf(&csv, "2026Q3,P-X%d,dat-dai,1\n", i);
	r = sipas_run(strbuf_str(&csv), "dossiers", "import", "-", NULL);
	strbuf_release(&csv);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "<stdin>:101: column agency: unknown agency 'P-X99'\n... and 150 more bad rows\n");
	CHECK(!strstr(r->err, "<stdin>:102:"));
	CHECK_CONTAINS(r->err, "250 bad rows of 250; nothing loaded");
}

/* Totals as Excel saves them in Vietnam: ';' between fields, rows of
 * separators below the table; a '.' (a thousands group there) is refused. */
static void excel_vietnam_totals(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run("\xEF\xBB\xBFperiod;agency;sector;dossiers\r\n2026Q3;P-HONGBANG;dat-dai;1234\r\n"
		      "2026-07;P-LECHAN;xay-dung;50\r\n;;;\r\n;;;\r\n", "dossiers", "import", "-", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "2 rows loaded");
	CHECK_INT(test_db_int("sipas.db", "SELECT sum(dossiers) FROM dossiers"), 1284);
	r = sipas_run("period;agency;sector;dossiers\n2026Q3;P-HONGBANG;dat-dai;1.234\n", "dossiers", "import", "-",
		      NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "<stdin>:2: column dossiers: '1.234' is not a whole number from 0 to 100000000: "
		       "with ';' or a tab between fields the decimal mark is a comma");
	r = sipas_run("period;agency;sector;dossiers\n2026Q3;P-HONGBANG;dat-dai;12,5\n", "dossiers", "import", "-",
		      NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "<stdin>:2: column dossiers: '12,5' is not a whole number from 0 to 100000000");
	CHECK_INT(test_db_int("sipas.db", "SELECT sum(dossiers) FROM dossiers"), 1284);
}

/* The quarterly report's counter section: the kiosk ratings beside the
 * survey, both rates named, the reasons counted. */
static void the_report_shows_the_counter_beside_the_survey(void)
{
	char *html;
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(sipas_run("response_id,submitted_at,agency,sector,channel,overall,reason\n"
			    "k1,2026-08-01,SO-XD,dat-dai,kiosk,1,long-wait\n"
			    "k2,2026-08-01,SO-XD,dat-dai,kiosk,2,\nk3,2026-08-02,SO-XD,dat-dai,kiosk,3,\n"
			    "k4,2026-08-02,SO-XD,xay-dung,kiosk,1,\n",
			    "import", "--form", "kiosk-2018", "-", NULL)->status, 0);
	CHECK_INT(sipas_run("period,agency,sector,dossiers\n2026Q3,SO-XD,dat-dai,10\n",
			    "dossiers", "import", "-", NULL)->status, 0);
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "out", NULL);
	CHECK_INT(r->status, 0);
	html = test_read("out/index.html");
	CHECK(html);
	CHECK_CONTAINS(html, "Đánh giá tại Bộ phận Một cửa");
	CHECK_CONTAINS(html, "Tỉ lệ đánh giá hài lòng");
	CHECK_CONTAINS(html, "Tỉ lệ hài lòng theo hồ sơ");
	/* 2 of 4 ratings satisfied; (10 dossiers - 1 unsatisfied) / 10, the
	 * xay-dung rating (no dossier total) left out and the coverage stated */
	CHECK_CONTAINS(html, "50,0\xc2\xa0%");
	CHECK_CONTAINS(html, "90,0\xc2\xa0% (theo hồ sơ của 3/4 đánh giá)");
	CHECK_CONTAINS(html, "Phải chờ đợi lâu: 1");
	free(html);
	CHECK_INT(system("xmllint --noout out/index.html"), 0);
}

const struct test_case dossiers_tests[] = {
	{ "the_dossier_rate_by_hand", the_dossier_rate_by_hand },
	{ "the_rate_counts_only_cells_with_totals", the_rate_counts_only_cells_with_totals },
	{ "the_table_and_csv_show_the_dossier_rate", the_table_and_csv_show_the_dossier_rate },
	{ "months_make_a_quarter_only_when_all_three_are_loaded", months_make_a_quarter_only_when_all_three_are_loaded },
	{ "a_file_replaces_only_its_own_period_and_agency", a_file_replaces_only_its_own_period_and_agency },
	{ "a_bad_row_refuses_the_file", a_bad_row_refuses_the_file },
	{ "every_bad_row_is_listed", every_bad_row_is_listed },
	{ "excel_vietnam_totals", excel_vietnam_totals },
	{ "the_report_shows_the_counter_beside_the_survey", the_report_shows_the_counter_beside_the_survey },
	{ NULL, NULL }
};
