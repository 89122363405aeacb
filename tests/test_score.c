/*
 * test_score.c - `sipas score` (docs/scoring.md): agreement with R's survey package
 * on the fixture, raking, a hand-worked example, and the rules beyond the
 * fixture: all satisfied, a group inside one PSU, a lonely stratum, empty
 * groups and periods, rows outside the period, raking errors, targets,
 * verdicts on a small Kish n, periods not started yet, the counter method
 * and the output formats.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"
#include "../lib/csv.h"
#include "../lib/period.h"

#define TOL 1e-6

/* Run `sipas score ARGS --format json` and parse it; NULL on failure. */
static json_t *score_json(const char *period, const char *a1, const char *a2, const char *a3,
			  const char *a4)
{
	const struct cmd_result *r = sipas_run(NULL, "score", "--period", period, "--format", "json",
					       a1, a2, a3, a4, NULL);

	if (r->status != 0) {
		fprintf(stderr, "    score failed (%d): %s\n", r->status, r->err);
		return NULL;
	}
	return json_loads(r->out, 0, NULL);
}

static int same_code(json_t *v, const char *code)
{
	return code && *code ? json_is_string(v) && strcmp(json_string_value(v), code) == 0
			     : json_is_null(v);
}

static json_t *find_group(json_t *doc, const char *agency, const char *sector)
{
	size_t i;
	json_t *g;

	json_array_foreach(json_object_get(doc, "groups"), i, g)
		if (same_code(json_object_get(g, "agency"), agency) &&
		    same_code(json_object_get(g, "sector"), sector))
			return g;
	return NULL;
}

/* The estimate object for id: "index", an element, a criterion, or "overall". */
static json_t *find_estimate(json_t *g, const char *id)
{
	json_t *x;

	if (strcmp(id, "index") == 0 || strcmp(id, "overall") == 0)
		return json_object_get(g, id);
	x = json_object_get(json_object_get(g, "elements"), id);
	return x ? x : json_object_get(json_object_get(g, "criteria"), id);
}

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* `sipas init` with the registry of a fixture folder ("sipas-2017-a" or
 * "-b") and the import of its responses; 0 or -1. */
static int init_fixture(const char *fixture)
{
	char reg[4200], csv[4200];

	snprintf(reg, sizeof(reg), "%s/%s/registry", test_fixtures(), fixture);
	snprintf(csv, sizeof(csv), "%s/%s/responses.csv", test_fixtures(), fixture);
	if (sipas_run(NULL, "init", "--registry", reg, NULL)->status)
		return -1;
	return sipas_run(NULL, "import", "--form", "sipas-2017", csv, NULL)->status ? -1 : 0;
}

/* What compare_reference checks of each row: the number of figures, in the
 * order est, se, lo, hi (and with all four, n, n_eff, df and ci too). */
enum ref_fields { REF_EST = 1, REF_EST_SE = 2, REF_ALL = 4 };

/* Compare every row of a reference CSV of `fixture` with the JSON.  An empty
 * figure in the reference (R's NA) must be null in the JSON. */
static int compare_reference(json_t *doc, const char *fixture, const char *ref_name, int fields,
			     long *rows)
{
	char path[4096];
	FILE *fp;
	struct csv_reader *r;
	struct err e;
	long col[11];
	static const char *const names[] = { "agency", "sector", "id", "est", "se", "lo", "hi", "n",
		"n_eff", "df", "ci", NULL };
	static const int required[] = { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0 };
	int bad = 0;

	snprintf(path, sizeof(path), "%s/%s/%s", test_fixtures(), fixture, ref_name);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	r = csv_reader_new(fp, path);
	if (csv_read_record(r, &e) != 1 || csv_map_header(r, names, required, col, &e) != 0)
		bad = 1;
	*rows = 0;
	while (!bad && csv_read_record(r, &e) == 1) {
		const char *agency = csv_field(r, (size_t)col[0]), *sector = csv_field(r, (size_t)col[1]);
		const char *id = csv_field(r, (size_t)col[2]);
		json_t *g = find_group(doc, agency, sector), *est = g ? find_estimate(g, id) : NULL;
		static const char *const checked[] = { "est", "se", "lo", "hi" };

		(*rows)++;
		if (!est) {
			test_fail(__FILE__, __LINE__, "%s: no estimate for %s/%s/%s", ref_name, agency, sector, id);
			bad = 1;
			break;
		}
		for (int i = 0; i < fields; i++) {
			const char *want_s = csv_field(r, (size_t)col[3 + i]);
			double want = atof(want_s), got = num(est, checked[i]);
			/* The df < 1 rule (docs/scoring.md): se null in such a group,
			 * also where R has a number for it (calibrate() with
			 * lonely.psu "adjust" gives a one-PSU stratum one). */
			int want_null = !*want_s || (i == 1 && num(g, "df") < 1);

			if (want_null ? !json_is_null(json_object_get(est, checked[i])) : !(fabs(want - got) <= TOL)) {
				test_fail(__FILE__, __LINE__, "%s %s/%s/%s %s: %.12g, R says %s", ref_name,
					  agency, sector, id, checked[i], got, *want_s ? want_s : "NA");
				bad = 1;
			}
		}
		if (fields == REF_ALL) {
			double n_eff = atof(csv_field(r, (size_t)col[8]));

			if (!(fabs(num(g, "n_eff") - n_eff) <= TOL) ||
			    (long)num(g, "n") != atol(csv_field(r, (size_t)col[7])) ||
			    (long)num(g, "df") != atol(csv_field(r, (size_t)col[9])) ||
			    strcmp(json_string_value(json_object_get(est, "ci")), csv_field(r, (size_t)col[10]))) {
				test_fail(__FILE__, __LINE__, "%s %s/%s/%s: n, n_eff, df or ci differ", ref_name,
					  agency, sector, id);
				bad = 1;
			}
		}
	}
	csv_reader_free(r);
	fclose(fp);
	return bad ? -1 : 0;
}

static void matches_r_survey_design(void)
{
	json_t *doc;
	long rows;

	CHECK_INT(test_init_fixture(1), 0);
	doc = score_json("2026Q3", NULL, NULL, NULL, NULL);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "weights")), "design");
	CHECK_INT(json_array_size(json_object_get(doc, "groups")), 1 + 10 + 6);
	CHECK_INT(compare_reference(doc, "sipas-2017-a", "ref_design.csv", REF_ALL, &rows), 0);
	CHECK_INT(rows, 493);
	/* a criterion's n counts those who answered it; the group's n all respondents */
	CHECK_INT((long)num(find_estimate(find_group(doc, "", ""), "e1.1"), "n"), 2712);
	json_decref(doc);
}

static void matches_r_survey_raked(void)
{
	char margins[4096];
	json_t *doc;
	long rows;

	CHECK_INT(test_init_fixture(1), 0);
	snprintf(margins, sizeof(margins), "%s/sipas-2017-a/margins.csv", test_fixtures());
	doc = score_json("2026Q3", "--by", "agency", "--rake", margins);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "weights")), "raked");
	CHECK_INT(compare_reference(doc, "sipas-2017-a", "ref_raked.csv", REF_EST, &rows), 0);
	CHECK_INT(rows, 253);
	json_decref(doc);
}

/* The second fixture: a lonely-PSU agency (X-ANLAO: df 0, se null, no
 * interval for its elements and index) and an agency where everyone is
 * satisfied (DK-CATHAI: its elements and index take Clopper-Pearson on the
 * group's Kish n, and the verdict is judged on that interval). */
static void matches_r_survey_design_edge_cases(void)
{
	json_t *doc, *g, *x;
	long rows;

	CHECK_INT(init_fixture("sipas-2017-b"), 0);
	doc = score_json("2026Q3", NULL, NULL, NULL, NULL);
	CHECK(doc);
	CHECK_INT(compare_reference(doc, "sipas-2017-b", "ref_design.csv", REF_ALL, &rows), 0);
	CHECK_INT(rows, 493);
	g = find_group(doc, "DK-CATHAI", "");
	x = json_object_get(g, "index");
	CHECK_NEAR(num(x, "est"), 1.0, 0);
	CHECK_NEAR(num(x, "lo"), pow(0.025, 1 / num(g, "n_eff")), 1e-12);
	CHECK_STR(json_string_value(json_object_get(g, "status")), "met");
	CHECK_STR(json_string_value(json_object_get(find_group(doc, "X-ANLAO", ""), "status")),
		  "insufficient_data");
	json_decref(doc);
}

/* Calibration-aware standard errors after raking, against R's
 * calibrate(design, ~agency + gender, population, calfun = "raking"), for
 * the whole quarter, every agency and every sector. */
static void matches_r_survey_calibrated(void)
{
	char margins[4096];
	json_t *doc;
	long rows;

	CHECK_INT(test_init_fixture(1), 0);
	snprintf(margins, sizeof(margins), "%s/sipas-2017-a/margins.csv", test_fixtures());
	doc = score_json("2026Q3", "--rake", margins, NULL, NULL);
	CHECK(doc);
	CHECK_INT(compare_reference(doc, "sipas-2017-a", "ref_calibrated.csv", REF_EST_SE, &rows), 0);
	CHECK_INT(rows, 493);
	json_decref(doc);
}

/* The same against sipas-2017-b's calibrated reference.  X-ANLAO is a
 * stratum of one PSU: its group has df 0, and by the df < 1 rule every se
 * there is null, where R's calibrate() gives a number; compare_reference
 * checks that rule on its rows instead of R's se, and its est against R's.
 * DK-CATHAI, everyone satisfied: est 1 and se 0 for its elements and index. */
static void matches_r_survey_calibrated_b(void)
{
	char margins[4096];
	json_t *doc, *g, *x;
	size_t i, lonely = 0;
	const char *id;
	long rows;

	CHECK_INT(init_fixture("sipas-2017-b"), 0);
	snprintf(margins, sizeof(margins), "%s/sipas-2017-b/margins.csv", test_fixtures());
	doc = score_json("2026Q3", "--rake", margins, NULL, NULL);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "weights")), "raked");
	CHECK_INT(compare_reference(doc, "sipas-2017-b", "ref_calibrated.csv", REF_EST_SE, &rows), 0);
	CHECK_INT(rows, 493);
	/* the rule replaced R's se in X-ANLAO's group only, on all its figures */
	json_array_foreach(json_object_get(doc, "groups"), i, g)
		if (num(g, "df") < 1)
			lonely++;
	CHECK_INT(lonely, 1);
	g = find_group(doc, "X-ANLAO", "");
	CHECK_NEAR(num(g, "df"), 0, 0);
	CHECK(json_is_null(json_object_get(json_object_get(g, "index"), "se")));
	CHECK(json_is_null(json_object_get(json_object_get(g, "overall"), "se")));
	json_object_foreach(json_object_get(g, "elements"), id, x)
		CHECK(json_is_null(json_object_get(x, "se")));
	json_object_foreach(json_object_get(g, "criteria"), id, x)
		CHECK(json_is_null(json_object_get(x, "se")));
	x = json_object_get(find_group(doc, "DK-CATHAI", ""), "index");
	CHECK_NEAR(num(x, "est"), 1.0, 0);
	CHECK_NEAR(num(x, "se"), 0.0, 0);
	json_decref(doc);
}

/* Write fixture a's responses to `out`, every other row of each PSU's in its
 * own PSU: named after the response (`blank` 0) or without a PSU (`blank`
 * 1).  The two are the same design, computed along the two paths of the
 * scoring (named PSUs totalled per PSU, responses without one from sparse
 * second moments); only the first is in the R references. */
static int write_own_psus(const char *out, int blank)
{
	char path[4096];
	FILE *fp;
	struct csv_reader *r;
	struct strbuf sb;
	struct err e;
	long line = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/sipas-2017-a/responses.csv", test_fixtures());
	if (!(fp = fopen(path, "r")))
		return -1;
	r = csv_reader_new(fp, path);
	strbuf_init(&sb, 0);
	while (csv_read_record(r, &e) == 1) {
		for (size_t i = 0; i < csv_nfields(r); i++) {
			const char *v = csv_field(r, i);

			/* column 6 is psu; fixture fields hold no comma or quote */
			if (i == 6 && line > 0 && line % 2)
				v = blank ? "" : csv_field(r, 0);
			strbuf_addf(&sb, "%s%s", i ? "," : "", v);
		}
		strbuf_addch(&sb, '\n');
		line++;
	}
	csv_reader_free(r);
	fclose(fp);
	rc = test_write(out, strbuf_str(&sb));
	strbuf_release(&sb);
	return rc;
}

/* The calibration-aware variance of responses without a PSU agrees with
 * that of the same responses each in a PSU of its own. */
static void calibrated_own_psus(void)
{
	char reg[4096], margins[4096];
	json_t *doc[2];
	const char *dbs[2] = { "named.db", "own.db" };

	snprintf(reg, sizeof(reg), "%s/sipas-2017-a/registry", test_fixtures());
	snprintf(margins, sizeof(margins), "%s/sipas-2017-a/margins.csv", test_fixtures());
	for (int i = 0; i < 2; i++) {
		const struct cmd_result *r;

		CHECK_INT(write_own_psus("r.csv", i), 0);
		CHECK_INT(sipas_run(NULL, "init", "--db", dbs[i], "--registry", reg, NULL)->status, 0);
		CHECK_INT(sipas_run(NULL, "import", "--db", dbs[i], "--form", "sipas-2017", "r.csv", NULL)->status, 0);
		r = sipas_run(NULL, "score", "--db", dbs[i], "--period", "2026Q3", "--rake", margins,
			      "--format", "json", NULL);
		CHECK_INT(r->status, 0);
		doc[i] = json_loads(r->out, 0, NULL);
		CHECK(doc[i]);
	}
	{
		json_t *groups = json_object_get(doc[0], "groups"), *g;
		size_t i, n = 0;

		json_array_foreach(groups, i, g) {
			json_t *h = json_array_get(json_object_get(doc[1], "groups"), i);
			static const char *const ids[] = { "e1.1", "e3.4", "overall", "e2", "e5", "index" };

			for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
				json_t *x = find_estimate(g, ids[k]), *y = find_estimate(h, ids[k]);

				CHECK_NEAR(num(x, "est"), num(y, "est"), 1e-12);
				CHECK_NEAR(num(x, "se"), num(y, "se"), 1e-12);
				n++;
			}
		}
		CHECK_INT(n, 17 * 6);
	}
	json_decref(doc[0]);
	json_decref(doc[1]);
}

/* An element or index whose criteria are all at 1 (or all at 0) has no
 * linearised variance: it takes Clopper-Pearson on the group's Kish n, and
 * the verdict that interval.  32 respondents all satisfied: the lower bound
 * 0.025^(1/32) = 0.891 is below the 0.90 target, so the verdict cannot be
 * "met". */
static void all_at_one_or_zero(void)
{
	static const char *const items[] = { "e1.1", "e1.2", "e1.3", "e1.4", "e2.1", "e2.2", "e2.3",
		"e2.4", "e2.5", "e3.1", "e3.2", "e3.3", "e3.4", "e3.5", "e3.6", "e4.1", "e4.2", "e4.3",
		"e5.1", "e5.2", "e5.3", "e5.4", "overall" };
	static const struct {
		const char *agency;
		int psus;
		const char *e1, *rest;
	} groups[] = {
		{ "SO-NV", 4, "5", "4" },   /* every criterion at 1 */
		{ "SO-TP", 4, "2", "5" },   /* e1 at 0, the rest at 1 */
		{ "SO-XD", 1, "5", "5" },   /* at 1 but inside one PSU: df 0 */
	};
	struct strbuf sb;
	json_t *doc, *g, *x;
	int serial = 0;

	CHECK_INT(test_init_fixture(0), 0);
	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "response_id,submitted_at,agency,sector,stratum,psu");
	for (size_t k = 0; k < sizeof(items) / sizeof(items[0]); k++)
		strbuf_addf(&sb, ",%s", items[k]);
	strbuf_addch(&sb, '\n');
	for (size_t a = 0; a < sizeof(groups) / sizeof(groups[0]); a++) {
		for (int i = 0; i < 32; i++) {
			strbuf_addf(&sb, "z%d,2026-08-03,%s,dat-dai,%s,%s-%d", ++serial, groups[a].agency,
				    groups[a].agency, groups[a].agency, i % groups[a].psus);
			for (size_t k = 0; k < sizeof(items) / sizeof(items[0]); k++)
				strbuf_addf(&sb, ",%s", k < 4 ? groups[a].e1 : groups[a].rest);
			strbuf_addch(&sb, '\n');
		}
	}
	CHECK_INT(test_write("z.csv", strbuf_str(&sb)), 0);
	strbuf_release(&sb);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "z.csv", NULL)->status, 0);
	doc = score_json("2026Q3", "--by", "agency", NULL, NULL);
	CHECK(doc);

	g = find_group(doc, "SO-NV", "");
	CHECK_INT((long)num(g, "df"), 3);
	for (int i = 0; i < 2; i++) {
		x = i ? json_object_get(g, "index") : find_estimate(g, "e3");
		CHECK_NEAR(num(x, "est"), 1.0, 0);
		CHECK_NEAR(num(x, "se"), 0.0, 0);
		CHECK_STR(json_string_value(json_object_get(x, "ci")), "clopper-pearson");
		CHECK_NEAR(num(x, "lo"), pow(0.025, 1.0 / 32), 1e-12);
		CHECK_NEAR(num(x, "hi"), 1.0, 0);
	}
	CHECK_STR(json_string_value(json_object_get(g, "status")), "inconclusive");

	/* e1 at 0: [0, 1 − 0.025^(1/32)]; the index (e1 at 0, the rest at 1)
	 * is neither, and keeps its Wald interval */
	g = find_group(doc, "SO-TP", "");
	x = find_estimate(g, "e1");
	CHECK_NEAR(num(x, "est"), 0.0, 0);
	CHECK_STR(json_string_value(json_object_get(x, "ci")), "clopper-pearson");
	CHECK_NEAR(num(x, "lo"), 0.0, 0);
	CHECK_NEAR(num(x, "hi"), 1 - pow(0.025, 1.0 / 32), 1e-12);
	CHECK_STR(json_string_value(json_object_get(json_object_get(g, "index"), "ci")), "wald");

	/* df < 1 wins: no interval at all */
	x = json_object_get(find_group(doc, "SO-XD", ""), "index");
	CHECK_NEAR(num(x, "est"), 1.0, 0);
	CHECK_STR(json_string_value(json_object_get(x, "ci")), "none");
	CHECK(json_is_null(json_object_get(x, "se")) && json_is_null(json_object_get(x, "lo")));
	CHECK_STR(json_string_value(json_object_get(find_group(doc, "SO-XD", ""), "status")),
		  "insufficient_data");
	json_decref(doc);
}

/*
 * A hand-worked example on the kiosk form (one question, satisfied = 2 or 3):
 *
 *   stratum A: PSU a1: w=1 rating 3, w=1 rating 1;  PSU a2: w=2 rating 2
 *   stratum B: PSU b1: w=1 rating 3;                PSU b2: w=3 rating 1
 *   stratum C: PSU c1: w=2 rating 1                 (a lonely PSU)
 *
 * Y = Σw·s = 1 + 2 + 1 = 4, X = Σw = 10, p = 0.4.
 * z_i = w_i (s_i − p) / X; PSU totals Z: a1 = 0.06 − 0.04 = 0.02, a2 = 0.12,
 * b1 = 0.06, b2 = −0.12, c1 = −0.08 (they sum to 0).
 * A: mean 0.07, deviations ±0.05, 2/1 · 0.005 = 0.01
 * B: mean −0.03, deviations ±0.09, 2/1 · 0.0162 = 0.0324
 * C: one PSU, centred on 0 with factor 1: 0.08² = 0.0064
 * var = 0.0488, se = 0.220907220343745; df = 5 PSUs − 3 strata = 2.
 * t(0.975, 2) = 0.95 / sqrt(2 · 0.975 · 0.025) = 4.30265272974946.
 * logit: ln(0.4/0.6) ± t·se/(0.4·0.6) = −0.405465108108164 ± 3.96036272763909
 *   lo = 0.0125447635293041, hi = 0.972210054920952.
 * n_eff = 10² / (1 + 1 + 4 + 1 + 9 + 4) = 5.
 */
static void hand_worked_example(void)
{
	json_t *doc, *all, *overall;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_write("k.csv", "response_id,submitted_at,agency,sector,stratum,psu,weight,overall\n"
			     "1,2026-08-01,SO-NV,dat-dai,A,a1,1,3\n"
			     "2,2026-08-01,SO-NV,dat-dai,A,a1,1,1\n"
			     "3,2026-08-01,SO-NV,dat-dai,A,a2,2,2\n"
			     "4,2026-08-01,SO-TP,y-te,B,b1,1,3\n"
			     "5,2026-08-01,SO-TP,y-te,B,b2,3,1\n"
			     "6,2026-08-01,SO-TP,y-te,C,c1,2,1\n"), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "kiosk-2018", "k.csv", NULL)->status, 0);
	doc = score_json("2026Q3", "--form", "kiosk-2018", NULL, NULL);
	CHECK(doc);
	all = find_group(doc, "", "");
	CHECK(all);
	overall = json_object_get(all, "overall");
	CHECK_NEAR(num(overall, "est"), 0.4, 1e-12);
	CHECK_NEAR(num(overall, "se"), 0.220907220343745, 1e-12);
	CHECK_NEAR(num(overall, "lo"), 0.0125447635293041, 1e-9);
	CHECK_NEAR(num(overall, "hi"), 0.972210054920952, 1e-9);
	CHECK_NEAR(num(all, "n_eff"), 5.0, 1e-12);
	CHECK_INT((long)num(all, "df"), 2);
	CHECK_STR(json_string_value(json_object_get(overall, "ci")), "logit");
	/* the counter method: unweighted share among ratings */
	CHECK_INT((long)num(json_object_get(all, "counter"), "ratings"), 6);
	CHECK_INT((long)num(json_object_get(all, "counter"), "satisfied"), 3);
	CHECK_NEAR(num(json_object_get(all, "counter"), "share"), 0.5, 1e-12);
	CHECK(!json_object_get(all, "index"));
	json_decref(doc);
}

/* Rows for one agency: `n` respondents in `psus` PSUs, overall and e1.1 given. */
static void add_rows(struct strbuf *sb, const char *agency, int n, int psus, const char *overall,
		     const char *e11, const char *date)
{
	static int serial;

	for (int i = 0; i < n; i++)
		strbuf_addf(sb, "x%d,%s,%s,dat-dai,%s,%s-%d,%s,%s\n", ++serial, date, agency, agency,
			    agency, i % psus, overall, e11);
}

static void special_groups(void)
{
	struct strbuf sb;
	json_t *doc, *g, *x;

	CHECK_INT(test_init_fixture(0), 0);
	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "response_id,submitted_at,agency,sector,stratum,psu,overall,e1.1\n");
	add_rows(&sb, "SO-NV", 40, 4, "5", "4", "2026-08-02");   /* all satisfied, 4 PSUs */
	add_rows(&sb, "SO-TP", 40, 1, "4", "2", "2026-08-02");   /* inside one PSU */
	add_rows(&sb, "SO-XD", 40, 4, "2", "", "2026-08-02");    /* nobody satisfied; e1.1 unanswered */
	add_rows(&sb, "SO-YT", 40, 4, "5", "5", "2026-06-30");   /* outside the period */
	CHECK_INT(test_write("s.csv", strbuf_str(&sb)), 0);
	strbuf_release(&sb);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "s.csv", NULL)->status, 0);
	doc = score_json("2026Q3", "--by", "agency", NULL, NULL);
	CHECK(doc);
	CHECK_INT((long)num(find_group(doc, "", ""), "n"), 120);   /* June rows ignored */

	/* all satisfied: p = 1, Clopper-Pearson on n_eff = 40, x = n: hi = 1,
	 * lo = Beta⁻¹(0.025; 40, 1) = 0.025^(1/40) */
	g = find_group(doc, "SO-NV", "");
	x = json_object_get(g, "overall");
	CHECK_NEAR(num(x, "est"), 1.0, 0);
	CHECK_STR(json_string_value(json_object_get(x, "ci")), "clopper-pearson");
	CHECK_NEAR(num(x, "hi"), 1.0, 0);
	CHECK_NEAR(num(x, "lo"), pow(0.025, 1.0 / 40), 1e-9);
	CHECK_NEAR(num(x, "se"), 0.0, 1e-15);
	CHECK_INT((long)num(g, "df"), 3);

	/* inside one PSU: df = 0, so no design variance: se null, CP for items,
	 * no interval for the index, verdict insufficient_data */
	g = find_group(doc, "SO-TP", "");
	CHECK_INT((long)num(g, "df"), 0);
	x = json_object_get(g, "overall");
	CHECK(json_is_null(json_object_get(x, "se")));
	CHECK_STR(json_string_value(json_object_get(x, "ci")), "clopper-pearson");
	CHECK_NEAR(num(x, "lo"), pow(0.025, 1.0 / 40), 1e-9);
	x = json_object_get(g, "index");
	CHECK(json_is_null(json_object_get(x, "se")) && json_is_null(json_object_get(x, "lo")) &&
	      json_is_null(json_object_get(x, "hi")));
	CHECK_STR(json_string_value(json_object_get(x, "ci")), "none");
	/* the index of SO-TP: e1 = e1.1 = 0 (rated 2), every other criterion
	 * unanswered, so elements e2..e5 and the index are undefined */
	CHECK(json_is_null(json_object_get(x, "est")));
	CHECK_STR(json_string_value(json_object_get(g, "status")), "insufficient_data");

	/* nobody satisfied: p = 0: lo = 0, hi = Beta⁻¹(0.975; 1, 40) = 1 − 0.025^(1/40) */
	g = find_group(doc, "SO-XD", "");
	x = json_object_get(g, "overall");
	CHECK_NEAR(num(x, "est"), 0.0, 0);
	CHECK_NEAR(num(x, "lo"), 0.0, 0);
	CHECK_NEAR(num(x, "hi"), 1 - pow(0.025, 1.0 / 40), 1e-9);
	x = find_estimate(g, "e1.1");
	CHECK(json_is_null(json_object_get(x, "est")));
	CHECK_INT((long)num(x, "n"), 0);

	/* an agency of the registry without responses: an empty group */
	g = find_group(doc, "X-ANLAO", "");
	CHECK(g);
	CHECK_INT((long)num(g, "n"), 0);
	CHECK(json_is_null(json_object_get(json_object_get(g, "overall"), "est")));
	CHECK_STR(json_string_value(json_object_get(g, "status")), "insufficient_data");
	/* SO-YT's rows are all in June */
	CHECK_INT((long)num(find_group(doc, "SO-YT", ""), "n"), 0);
	json_decref(doc);
}

static void empty_period(void)
{
	const struct cmd_result *r;
	json_t *doc;

	CHECK_INT(test_init_fixture(1), 0);
	r = sipas_run(NULL, "score", "--period", "2025Q1", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->err, "no responses to sipas-2017 in 2025Q1");
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc);
	CHECK_INT((long)num(find_group(doc, "", ""), "n"), 0);
	/* no target is in force before 2026Q1 in the fixture registry */
	CHECK(json_is_null(json_object_get(find_group(doc, "", ""), "status")));
	CHECK(json_is_null(json_object_get(find_group(doc, "", ""), "target")));
	json_decref(doc);
	/* a date range inside the quarter takes only its days */
	doc = score_json("2026-07-01..2026-07-31", NULL, NULL, NULL, NULL);
	CHECK(doc);
	CHECK_INT((long)num(find_group(doc, "", ""), "n"), 954);
	json_decref(doc);
}

static void raking_errors(void)
{
	static const struct {
		const char *margins, *message;
	} cases[] = {
		{ "variable,level,total\nagency,SO-XX,10\n", "m.csv:2: column level: unknown agency 'SO-XX'" },
		{ "variable,level,total\ncolour,red,10\n",
		  "m.csv:2: column variable: 'colour' is not agency, sector or a demographic of form sipas-2017" },
		{ "variable,level,total\ngender,other,10\n", "m.csv:2: column level: 'other' is not a value of gender" },
		{ "variable,level,total\ngender,nam,-1\n", "m.csv:2: column total: '-1' is not a number greater than 0" },
		{ "variable,level,total\ngender,nam,5\ngender,nam,6\n", "m.csv:3: column level: gender 'nam' is given twice" },
		{ "variable,level,total\ngender,nam,5\n", "m.csv: 1564 respondents have a gender without a population total (the first: 'nu')" },
		{ "variable,level,total\nsector,dat-dai,1\nsector,xay-dung,1\nsector,dau-tu,1\n"
		  "sector,tu-phap-ho-tich,1\nsector,y-te,1\nsector,giao-duc,1\nsector,khac,1\n",
		  "m.csv:8: column level: unknown sector 'khac'" },
		{ "variable,level,total\ngender,nam,100\ngender,nu,100\nage_group,18-34,10\n"
		  "age_group,35-59,10\nage_group,60+,10\n",
		  "m.csv: the totals of gender (200) and age_group (30) differ by 85 %" },
		{ "level,total\n", "m.csv:1: column variable: missing from the header" },
	};
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(1), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(test_write("m.csv", cases[i].margins), 0);
		r = sipas_run(NULL, "score", "--period", "2026Q3", "--rake", "m.csv", "--format", "json", NULL);
		if (r->status != 1) {
			test_fail(__FILE__, __LINE__, "case %zu: exit %d", i, r->status);
			return;
		}
		CHECK_CONTAINS(r->err, cases[i].message);
	}
	/* respondents at a level without a total */
	CHECK_INT(test_write("m.csv", "variable,level,total\nagency,SO-NV,10\nagency,SO-TP,10\n"), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "agency", "--rake", "m.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "m.csv: 2423 respondents have an agency without a population total "
		       "(the first: 'P-HUNGDAO')");
	/* two demographics whose totals agree: converges */
	CHECK_INT(test_write("m.csv", "variable,level,total\ngender,nam,100\ngender,nu,100\n"
			     "age_group,18-34,60\nage_group,35-59,70\nage_group,60+,70\n"), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--rake", "m.csv", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "\"weights\": \"raked\"");
	{
		char margins[4096], shipped[4096];

		/* add the shipped agencies (a plain init keeps the fixture's registry) */
		snprintf(shipped, sizeof(shipped), "%s/forms/registry", getenv("SIPAS_SOURCE"));
		CHECK_INT(sipas_run(NULL, "init", "--registry", shipped, NULL)->status, 0);
		/* an empty cell: a level with a total but nobody in the period */
		snprintf(margins, sizeof(margins), "variable,level,total\nagency,SO-NV,10\nagency,SO-TP,10\n"
			 "agency,SO-XD,10\nagency,SO-NNMT,10\nagency,SO-YT,10\nagency,SO-GDDT,10\n"
			 "agency,P-TRANLIEU,10\nagency,P-HUNGDAO,10\nagency,X-ANLAO,10\nagency,DK-CATHAI,10\n"
			 "agency,SO-TC,10\n");
		CHECK_INT(test_write("m.csv", margins), 0);
		r = sipas_run(NULL, "score", "--period", "2026Q3", "--rake", "m.csv", NULL);
		CHECK_INT(r->status, 1);
		CHECK_CONTAINS(r->err, "m.csv:12: agency 'SO-TC' has no respondents in the period: "
			       "an empty cell cannot be raked");
	}
}

/* Margins from different sources that disagree by rounding are rescaled to
 * the first variable's total, with a notice; beyond 0.1 % they are refused. */
static void margins_rescaled_or_refused(void)
{
	char path[4096], *margins, *shifted;
	const struct cmd_result *r;
	json_t *doc, *want;

	CHECK_INT(test_init_fixture(1), 0);
	snprintf(path, sizeof(path), "%s/sipas-2017-a/margins.csv", test_fixtures());
	margins = test_read(path);
	CHECK(margins && strstr(margins, "\"nam\",81917\n"));
	/* gender sums to 167278 instead of 167178: 0.06 % apart */
	shifted = strdup(margins);
	memcpy(strstr(shifted, "\"nam\",81917") + 6, "82017", 5);
	CHECK_INT(test_write("m.csv", shifted), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "agency", "--rake", "m.csv",
		      "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->err, "m.csv: gender rescaled from 167278 to 167178, the total of agency "
		       "(they differ by 0.06 %");
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc);
	/* the same as raking to the rescaled totals by hand */
	CHECK_INT(test_write("m.csv", "variable,level,total\n"
			     "agency,SO-NV,37480\nagency,SO-TP,10936\nagency,SO-XD,10485\n"
			     "agency,SO-NNMT,13751\nagency,SO-YT,16110\nagency,SO-GDDT,33901\n"
			     "agency,P-TRANLIEU,6861\nagency,P-HUNGDAO,6037\nagency,X-ANLAO,6520\n"
			     "agency,DK-CATHAI,25097\n"
			     "gender,nam,81967.969643348202\ngender,nu,85210.030356651798\n"), 0);
	want = score_json("2026Q3", "--by", "agency", "--rake", "m.csv");
	CHECK(want);
	CHECK_NEAR(num(json_object_get(find_group(doc, "", ""), "overall"), "est"),
		   num(json_object_get(find_group(want, "", ""), "overall"), "est"), 1e-9);
	CHECK_NEAR(num(json_object_get(find_group(doc, "SO-NV", ""), "index"), "se"),
		   num(json_object_get(find_group(want, "SO-NV", ""), "index"), "se"), 1e-9);
	json_decref(doc);
	json_decref(want);
	/* 167378: 0.12 % apart */
	memcpy(strstr(shifted, "\"nam\",82017") + 6, "82117", 5);
	CHECK_INT(test_write("m.csv", shifted), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--rake", "m.csv", "--format", "json", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "m.csv: the totals of agency (167178) and gender (167378) differ by 0.12 %");
	free(margins);
	free(shifted);
}

/* Margins as Excel saves them in Vietnam (';', decimal comma, rows of
 * separators below the table) rake as the comma file does. */
static void margins_in_excel_shape(void)
{
	static const char body[] =
		"agency,SO-NV,37480\nagency,SO-TP,10936\nagency,SO-XD,10485\nagency,SO-NNMT,13751\n"
		"agency,SO-YT,16110\nagency,SO-GDDT,33901\nagency,P-TRANLIEU,6861\nagency,P-HUNGDAO,6037\n"
		"agency,X-ANLAO,6520\nagency,DK-CATHAI,25097\ngender,nam,81967.969643348202\n"
		"gender,nu,85210.030356651798\n";
	char comma[2048], semi[2048], *plain;
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(1), 0);
	snprintf(comma, sizeof(comma), "variable,level,total\n%s", body);
	CHECK_INT(test_write("m.csv", comma), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "agency", "--rake", "m.csv", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
	plain = strdup(r->out);
	CHECK(plain);
	snprintf(semi, sizeof(semi), "\xEF\xBB\xBFvariable;level;total\r\n");
	for (const char *p = body; *p; p++) {
		char c = *p == ',' ? ';' : *p == '.' ? ',' : *p;

		if (c == '\n')
			strcat(semi, "\r");
		strncat(semi, &c, 1);
	}
	strcat(semi, ";;\r\n;;\r\n");
	CHECK_INT(test_write("m.csv", semi), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "agency", "--rake", "m.csv", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK_STR(r->out, plain);
	free(plain);
	/* a decimal point where the mark is a comma is refused by cell */
	CHECK_INT(test_write("m.csv", "variable;level;total\ngender;nam;81967.5\ngender;nu;85210\n"), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--rake", "m.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "m.csv:2: column total: '81967.5' is not a number greater than 0: with ';' or a tab "
		       "between fields the decimal mark is a comma");
}

/* Margins the data cannot reach, and margin variables nested in each other
 * (each agency in one sector), on a small survey of two agencies. */
static void raking_degenerate(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(test_write("d.csv", "response_id,submitted_at,agency,sector,psu,gender,overall\n"
			     "1,2026-08-01,SO-NV,dat-dai,a,nam,5\n2,2026-08-01,SO-NV,dat-dai,b,nam,2\n"
			     "3,2026-08-01,SO-TP,y-te,c,nam,5\n4,2026-08-01,SO-TP,y-te,d,nu,4\n"), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "sipas-2017", "d.csv", NULL)->status, 0);
	/* SO-NV has only men: 10 men in all cannot be reached */
	CHECK_INT(test_write("m.csv", "variable,level,total\nagency,SO-NV,100\nagency,SO-TP,100\n"
			     "gender,nam,10\ngender,nu,190\n"), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--rake", "m.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "m.csv: raking did not converge in 1000 sweeps");
	CHECK_INT(test_write("m.csv", "variable,level,total\nagency,SO-NV,100\nagency,SO-TP,100\n"
			     "sector,dat-dai,100\nsector,y-te,100\n"), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--rake", "m.csv", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "m.csv: sector 'y-te' is a combination of the levels of the variables "
		       "before it");
}

static void targets_most_specific_wins(void)
{
	json_t *doc;

	mkdir("reg", 0755);
	CHECK_INT(test_write("reg/agencies.csv", "code,name,level,parent\nA,Agency A,department,\n"
			     "B,Agency B,department,\n"), 0);
	CHECK_INT(test_write("reg/sectors.csv", "code,name\ns1,S1\ns2,S2\n"), 0);
	CHECK_INT(test_write("reg/targets.csv", "scope,code,threshold,from_period\n"
			     "all,,0.5,2026Q1\nall,,0.95,2026Q4\nsector,s1,0.6,2026Q1\n"
			     "agency,A,0.7,2026Q1\nagency,A,0.99,2026Q4\n"), 0);
	CHECK_INT(sipas_run(NULL, "init", "--registry", "reg", NULL)->status, 0);
	CHECK_INT(test_write("r.csv", "response_id,submitted_at,agency,sector,overall\n"
			     "1,2026-08-01,A,s1,3\n2,2026-08-01,B,s2,3\n3,2026-08-01,B,s1,1\n"), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "kiosk-2018", "r.csv", NULL)->status, 0);
	doc = score_json("2026Q3", "--form", "kiosk-2018", "--by", "agency,sector");
	CHECK(doc);
	CHECK_NEAR(num(find_group(doc, "", ""), "target"), 0.5, 0);
	CHECK_NEAR(num(find_group(doc, "A", "s1"), "target"), 0.7, 0);   /* agency beats sector */
	CHECK_NEAR(num(find_group(doc, "B", "s1"), "target"), 0.6, 0);   /* sector beats all */
	CHECK_NEAR(num(find_group(doc, "B", "s2"), "target"), 0.5, 0);
	CHECK(!find_group(doc, "A", "s2"));                              /* pairs without data */
	CHECK_STR(json_string_value(json_object_get(find_group(doc, "", ""), "status")), "insufficient_data");
	json_decref(doc);
	doc = score_json("2026Q4", "--form", "kiosk-2018", "--by", "agency");
	CHECK(doc);
	CHECK_NEAR(num(find_group(doc, "A", ""), "target"), 0.99, 0);    /* newer target in force */
	json_decref(doc);
	doc = score_json("2026", "--form", "kiosk-2018", "--by", "sector");
	CHECK(doc);
	CHECK_NEAR(num(find_group(doc, "", ""), "target"), 0.95, 0);     /* the period's last quarter */
	json_decref(doc);
}

static void verdicts(void)
{
	struct strbuf sb;
	json_t *doc;

	CHECK_INT(test_init_fixture(0), 0);
	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "response_id,submitted_at,agency,stratum,sector,psu,overall\n");
	/* SO-NV: 200 respondents, 96 % satisfied, in 20 PSUs */
	for (int i = 0; i < 200; i++)
		strbuf_addf(&sb, "v%d,2026-08-02,SO-NV,SO-NV,dat-dai,p%d,%d\n", i, i % 20, i % 25 == 0 ? 2 : 3);
	CHECK_INT(test_write("v.csv", strbuf_str(&sb)), 0);
	strbuf_release(&sb);
	CHECK_INT(sipas_run(NULL, "import", "--form", "kiosk-2018", "v.csv", NULL)->status, 0);
	doc = score_json("2026Q3", "--form", "kiosk-2018", "--by", "agency");
	CHECK(doc);
	/* the fixture's target for 2026Q3 is 0.90; the lower bound is above it */
	CHECK(num(json_object_get(find_group(doc, "SO-NV", ""), "overall"), "lo") >= 0.90);
	CHECK_STR(json_string_value(json_object_get(find_group(doc, "SO-NV", ""), "status")), "met");
	json_decref(doc);
}

/* A verdict needs n >= 30 and a Kish effective n >= 30 (formula version 3):
 * 112 respondents whose weights leave a Kish n of 8.6 (634² / 46570) get
 * insufficient_data, though their interval lies wholly below the target;
 * the same ratings with equal weights keep their verdict. */
static void kish_n_below_30_is_insufficient_data(void)
{
	struct strbuf sb;
	json_t *doc, *g;

	CHECK_INT(test_init_fixture(0), 0);
	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "response_id,submitted_at,agency,sector,stratum,psu,weight,overall\n");
	/* a third satisfied, in 16 PSUs; SO-NV's first 6 respondents weigh 88 */
	for (int i = 0; i < 112; i++) {
		strbuf_addf(&sb, "w%d,2026-08-02,SO-NV,dat-dai,SO-NV,n%d,%d,%d\n", i, i % 16, i < 6 ? 88 : 1,
			    i % 3 ? 1 : 3);
		strbuf_addf(&sb, "e%d,2026-08-02,SO-TP,dat-dai,SO-TP,t%d,1,%d\n", i, i % 16, i % 3 ? 1 : 3);
	}
	CHECK_INT(test_write("w.csv", strbuf_str(&sb)), 0);
	strbuf_release(&sb);
	CHECK_INT(sipas_run(NULL, "import", "--form", "kiosk-2018", "w.csv", NULL)->status, 0);
	doc = score_json("2026Q3", "--form", "kiosk-2018", "--by", "agency");
	CHECK(doc);
	g = find_group(doc, "SO-NV", "");
	CHECK_INT((long)num(g, "n"), 112);
	CHECK(num(g, "n_eff") < 30);
	CHECK(num(json_object_get(g, "overall"), "hi") < num(g, "target"));
	CHECK_STR(json_string_value(json_object_get(g, "status")), "insufficient_data");
	g = find_group(doc, "SO-TP", "");
	CHECK_NEAR(num(g, "n_eff"), 112, 1e-9);
	CHECK_STR(json_string_value(json_object_get(g, "status")), "not_met");
	CHECK_INT(json_integer_value(json_object_get(doc, "formula_version")), 3);
	json_decref(doc);
}

/* A period that has not started yet is refused, naming it; the quarter in
 * progress (and a year or range that has begun) is scored. */
static void a_period_not_started_is_refused(void)
{
	int now = period_quarter_of_day(period_today());
	struct period next, current;
	char year[16], range[40], from[11], to[11];
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(0), 0);
	period_of_quarter(now + 1, &next);
	period_of_quarter(now, &current);
	snprintf(year, sizeof(year), "%d", (now + 4) / 4);
	period_format_day(period_today() + 1, from);
	period_format_day(period_today() + 30, to);
	snprintf(range, sizeof(range), "%s..%s", from, to);
	{
		const char *const refused[] = { next.label, year, range };

		for (size_t i = 0; i < 3; i++) {
			r = sipas_run(NULL, "score", "--period", refused[i], "--form", "kiosk-2018", NULL);
			CHECK_INT(r->status, 1);
			CHECK_CONTAINS(r->err, refused[i]);
			CHECK_CONTAINS(r->err, "has not started yet");
			CHECK_STR(r->out, "");
		}
	}
	r = sipas_run(NULL, "score", "--period", current.label, "--form", "kiosk-2018", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	snprintf(year, sizeof(year), "%d", now / 4);
	r = sipas_run(NULL, "score", "--period", year, "--form", "kiosk-2018", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
}

/* The report's methodology page states the verdict rule of formula
 * version 3, what the Kish n measures, and no longer calls Clopper-Pearson
 * on a weighted n "exact". */
static void the_methodology_states_the_verdict_rule(void)
{
	char *html;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(sipas_run(NULL, "report", "--period", "2026Q3", "--out", "out", NULL)->status, 0);
	html = test_read("out/methodology.html");
	CHECK(html);
	CHECK(!strstr(html, "chính xác theo phân phối"));
	CHECK_CONTAINS(html, "dưới 30 phiếu, hoặc cỡ mẫu hiệu dụng Kish dưới 30");
	CHECK_CONTAINS(html, "chỉ phản ánh sự chênh lệch trọng số");
	CHECK_CONTAINS(html, "mỗi tầng có người trả lời của nhóm chỉ có một PSU có người trả lời");
	free(html);
}

static void csv_and_table_formats(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(1), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "csv", "--by", "sector", NULL);
	CHECK_INT(r->status, 0);
	{
		const char *header = "agency,sector,id,est,se,lo,hi,n,n_eff,df,ci,n_answered,target,status,"
				     "form,period,weights,formula_version\n";

		CHECK(strncmp(r->out, header, strlen(header)) == 0);
	}
	CHECK_CONTAINS(r->out, "\n,,e1.1,0.86478455048785");
	CHECK_CONTAINS(r->out, ",2863,2478.49751522");
	CHECK_CONTAINS(r->out, ",61,logit,2712,0.9");
	CHECK_CONTAINS(r->out, ",not_met,sipas-2017,2026Q3,design,3\n");
	CHECK_CONTAINS(r->out, "\n,giao-duc,index,");
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "table", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "SIPAS index [95% CI]");
	CHECK_CONTAINS(r->out, " 87.0% [ 85.7– 88.3]");
	CHECK_CONTAINS(r->out, "not_met");
	r = sipas_run(NULL, "score", "--period", "2026Q9", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "'2026Q9' is not a period");
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "city", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--by 'city' is not agency, sector or agency,sector");
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "nope", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "unknown form 'nope'");
}

/* A weight that makes Σw² overflow or underflow (stored before imports
 * refused them) must not hang the interval computation. */
static void extreme_stored_weights_do_not_hang(void)
{
	static const char *const weights[] = { "1e155", "1e-200" };
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(1), 0);
	for (size_t i = 0; i < 2; i++) {
		char sql[200];
		sqlite3 *db;

		snprintf(sql, sizeof(sql), "UPDATE responses SET weight = %s WHERE id = "
			 "(SELECT min(id) FROM responses WHERE day >= 20636)", weights[i]);
		CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "json", NULL);
		CHECK_INT(r->status, 0);
		CHECK_CONTAINS(r->out, "\"period\": \"2026Q3\"");
	}
}

const struct test_case score_tests[] = {
	{ "extreme_stored_weights_do_not_hang", extreme_stored_weights_do_not_hang },
	{ "matches_r_survey_design", matches_r_survey_design },
	{ "matches_r_survey_raked", matches_r_survey_raked },
	{ "margins_in_excel_shape", margins_in_excel_shape },
	{ "matches_r_survey_design_edge_cases", matches_r_survey_design_edge_cases },
	{ "matches_r_survey_calibrated", matches_r_survey_calibrated },
	{ "matches_r_survey_calibrated_b", matches_r_survey_calibrated_b },
	{ "calibrated_own_psus", calibrated_own_psus },
	{ "all_at_one_or_zero", all_at_one_or_zero },
	{ "hand_worked_example", hand_worked_example },
	{ "special_groups", special_groups },
	{ "empty_period", empty_period },
	{ "raking_errors", raking_errors },
	{ "margins_rescaled_or_refused", margins_rescaled_or_refused },
	{ "raking_degenerate", raking_degenerate },
	{ "targets_most_specific_wins", targets_most_specific_wins },
	{ "verdicts", verdicts },
	{ "csv_and_table_formats", csv_and_table_formats },
	{ "kish_n_below_30_is_insufficient_data", kish_n_below_30_is_insufficient_data },
	{ "a_period_not_started_is_refused", a_period_not_started_is_refused },
	{ "the_methodology_states_the_verdict_rule", the_methodology_states_the_verdict_rule },
	{ NULL, NULL }
};
