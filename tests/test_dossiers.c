/*
 * test_dossiers.c - dossier totals and the counter method's dossier-based
 * rate: a hand-worked example, months summed into a quarter, a file that
 * replaces only its own (period, agency) rows, and all-or-nothing loads.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
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
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "kiosk-2018", "--format", "csv", NULL);
	CHECK_CONTAINS(r->err, "warning: P-LECHAN, all sectors: 3 ratings but 2 dossiers");
	/* a month's figures do not make a quarter's rate for another period kind */
	r = sipas_run(NULL, "score", "--period", "2026-07-01..2026-07-31", "--form", "kiosk-2018",
		      "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc && json_is_null(json_object_get(counter_of(doc, NULL, NULL), "dossiers")));
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
			    "k2,2026-08-01,SO-XD,dat-dai,kiosk,2,\nk3,2026-08-02,SO-XD,dat-dai,kiosk,3,\n",
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
	/* 2 of 3 ratings satisfied; (10 dossiers - 1 unsatisfied) / 10 */
	CHECK_CONTAINS(html, "66,7\xc2\xa0%");
	CHECK_CONTAINS(html, "90,0\xc2\xa0%");
	CHECK_CONTAINS(html, "Phải chờ đợi lâu: 1");
	free(html);
	CHECK_INT(system("xmllint --noout out/index.html"), 0);
}

const struct test_case dossiers_tests[] = {
	{ "the_dossier_rate_by_hand", the_dossier_rate_by_hand },
	{ "a_file_replaces_only_its_own_period_and_agency", a_file_replaces_only_its_own_period_and_agency },
	{ "a_bad_row_refuses_the_file", a_bad_row_refuses_the_file },
	{ "excel_vietnam_totals", excel_vietnam_totals },
	{ "the_report_shows_the_counter_beside_the_survey", the_report_shows_the_counter_beside_the_survey },
	{ NULL, NULL }
};
