/*
 * test_report.c - `sipas report` (docs/report.md) on the fixture quarter: every
 * agency and sector named, the headline equal to `sipas score`'s index in the
 * Vietnamese format, verdict words, well-formed pages (xmllint), scores.csv
 * equal to `sipas score --format csv`, scores.xlsx holding the same numbers,
 * and the errors.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* init, import, and `report --period 2026Q3 --out out`; the page, or NULL. */
static char *fixture_report(void)
{
	const struct cmd_result *r;

	if (test_init_fixture(1))
		return NULL;
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "out", NULL);
	if (r->status != 0) {
		fprintf(stderr, "    report failed (%d): %s\n", r->status, r->err);
		return NULL;
	}
	return test_read("out/index.html");
}

/* p as the report writes it: one decimal, comma, U+00A0, %. */
static void vi_pct(double p, char *buf, size_t size)
{
	char *dot;

	snprintf(buf, size, "%.1f\xc2\xa0%%", p * 100.0);
	dot = strchr(buf, '.');
	if (dot)
		*dot = ',';
}

/* The second field of every data line of a registry CSV (no quoted commas in the fixture). */
static int names_in(const char *page, const char *file)
{
	char path[4096], *text, *line, *save = NULL;
	int missing = 0, first = 1;

	snprintf(path, sizeof(path), "%s/sipas-2017-a/registry/%s", test_fixtures(), file);
	text = test_read(path);
	if (!text)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), first = 0) {
		char *name = strchr(line, ','), *end;

		if (first || !name)
			continue;
		name++;
		end = strchr(name, ',');
		if (end)
			*end = '\0';
		if (!strstr(page, name)) {
			fprintf(stderr, "    %s: '%s' is not in the report\n", file, name);
			missing++;
		}
	}
	free(text);
	return missing;
}

static void test_names_every_agency_and_sector(void)
{
	char *page = fixture_report();

	CHECK(page);
	CHECK_INT(names_in(page, "agencies.csv"), 0);
	CHECK_INT(names_in(page, "sectors.csv"), 0);
	CHECK(!strstr(page, "<script"));
	CHECK(!strstr(page, "http://") && !strstr(page, "https://"));
	CHECK_CONTAINS(page, "@page { size: A4; margin: 15mm }");
	CHECK_CONTAINS(page, "<title id=\"co-quan-t\">");
	CHECK_CONTAINS(page, "<title id=\"linh-vuc-t\">");
	/* the trend: the quarter and the three before it */
	CHECK_CONTAINS(page, ">2025Q4</th>");
	CHECK_CONTAINS(page, ">2026Q3</th>");
	CHECK_CONTAINS(page, "Thay đổi so với quý trước");
	CHECK_CONTAINS(page, "thống kê</td>");
	/* dates dd/mm/yyyy */
	CHECK_CONTAINS(page, "01/07/2026");
	CHECK_CONTAINS(page, "30/09/2026");
	free(page);
}

static const char *verdict_vi(const char *status)
{
	if (!status)
		return "Không có chỉ tiêu";
	if (strcmp(status, "met") == 0)
		return "Đạt";
	if (strcmp(status, "not_met") == 0)
		return "Chưa đạt";
	if (strcmp(status, "inconclusive") == 0)
		return "Chưa đủ cơ sở kết luận";
	return "Chưa đủ dữ liệu";
}

static void test_headline_and_verdicts(void)
{
	char *page = fixture_report(), want[128];
	const struct cmd_result *r;
	json_t *doc, *g;
	size_t i;
	int checked = 0;

	CHECK(page);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc);
	g = json_array_get(json_object_get(doc, "groups"), 0);
	vi_pct(json_number_value(json_object_get(json_object_get(g, "index"), "est")), want, sizeof(want));
	{
		char strong[256];

		snprintf(strong, sizeof(strong), "<strong id=\"chi-so\">%s</strong>", want);
		CHECK_CONTAINS(page, strong);
	}
	/* every agency's and sector's row of the tables carries its verdict in words */
	json_array_foreach(json_object_get(doc, "groups"), i, g) {
		const char *code = json_string_value(json_object_get(g, "agency"));
		const char *status = json_string_value(json_object_get(g, "status"));
		char key[256], cell[256], *row, *end;

		if (i == 0)
			continue;
		if (!code)
			code = json_string_value(json_object_get(g, "sector"));
		snprintf(key, sizeof(key), " (%s)</td>", code);
		row = strstr(page, key);
		CHECK(row);
		end = strstr(row, "</tr>");
		CHECK(end);
		*end = '\0';
		snprintf(cell, sizeof(cell), "<td>%s</td>", verdict_vi(status));
		if (!strstr(row, cell))
			fprintf(stderr, "    %s: want %s in %s\n", code, cell, row);
		CHECK(strstr(row, cell));
		*end = '<';
		checked++;
	}
	CHECK_INT(checked, 16);  /* 10 agencies and 6 sectors */
	json_decref(doc);
	free(page);
}

static void test_pages_are_well_formed(void)
{
	char *page = fixture_report();

	CHECK(page);
	free(page);
	CHECK_INT(system("xmllint --noout out/index.html out/methodology.html"), 0);
	CHECK(test_file_contains("out/methodology.html", "Clopper–Pearson"));
	CHECK(test_file_contains("out/methodology.html", "Kish"));
}

static void test_csv_and_json_as_score(void)
{
	char *page = fixture_report(), *csv = NULL, *json = NULL;
	const struct cmd_result *r;

	CHECK(page);
	free(page);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
	csv = test_read("out/scores.csv");
	CHECK(csv);
	if (strcmp(csv, r->out) != 0) {
		free(csv);
		CHECK(!"scores.csv differs from sipas score --format csv");
	}
	free(csv);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	json = test_read("out/scores.json");
	CHECK(json);
	{
		json_t *a = json_loads(json, 0, NULL), *b = json_loads(r->out, 0, NULL);
		int same = a && b && json_equal(a, b);

		json_decref(a);
		json_decref(b);
		free(json);
		CHECK(same);
	}
}

/* 1 if one of the <v> numbers of the sheet is v (to 1e-13 relative). */
static int sheet_has(const char *sheet, double v)
{
	for (const char *p = strstr(sheet, "<v>"); p; p = strstr(p + 3, "<v>")) {
		double x = strtod(p + 3, NULL);

		if (fabs(x - v) <= 1e-13 * fmax(1.0, fabs(v)))
			return 1;
	}
	return 0;
}

static void test_xlsx_whole_quarter(void)
{
	char *page = fixture_report(), *csv, *sheet, *line, *save = NULL;
	int rows = 0, missing = 0;

	CHECK(page);
	free(page);
	CHECK_INT(system("unzip -p out/scores.xlsx xl/worksheets/sheet1.xml > sheet1.xml"), 0);
	sheet = test_read("sheet1.xml");
	CHECK(sheet);
	CHECK_CONTAINS(sheet, "state=\"frozen\"");
	csv = test_read("out/scores.csv");
	CHECK(csv);
	/* whole-quarter rows start ",,"; est, se, lo, hi are fields 4..7 */
	for (line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f = line;

		if (strncmp(line, ",,", 2) != 0)
			continue;
		rows++;
		f = strchr(line + 2, ',');
		for (int k = 0; k < 4 && f; k++) {
			char *next = strchr(f + 1, ',');

			if (next != f + 1 && !sheet_has(sheet, strtod(f + 1, NULL))) {
				fprintf(stderr, "    not in sheet1: %s\n", line);
				missing++;
			}
			f = next;
		}
	}
	free(csv);
	free(sheet);
	CHECK_INT(rows, 22 + 1 + 5 + 1);
	CHECK_INT(missing, 0);
}

/* The name of agency `code` in the fixture's agencies.csv, into buf; 0 or -1. */
static int agency_name(const char *code, char *buf, size_t size)
{
	char path[4096], *text, *line, *save = NULL;
	size_t len = strlen(code);
	int rc = -1;

	snprintf(path, sizeof(path), "%s/sipas-2017-a/registry/agencies.csv", test_fixtures());
	text = test_read(path);
	if (!text)
		return -1;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, code, len) == 0 && line[len] == ',') {
			char *end = strchr(line + len + 1, ',');

			if (end)
				*end = '\0';
			snprintf(buf, size, "%s", line + len + 1);
			rc = 0;
			break;
		}
	}
	free(text);
	return rc;
}

/* Agency × sector: a pair's cell holds its index when n >= 30, else nothing. */
static void test_cross_table(void)
{
	/* the fixture's sectors in registry order (sorted by code), the table's columns */
	static const char *const sectors[] = { "dat-dai", "dau-tu", "giao-duc", "tu-phap-ho-tich",
		"xay-dung", "y-te" };
	char *page = fixture_report(), *table;
	const struct cmd_result *r;
	json_t *doc, *g;
	size_t i;
	int small = 0, large = 0;

	CHECK(page);
	table = strstr(page, "<section id=\"co-quan-linh-vuc\">");
	CHECK(table);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "agency,sector", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc);
	json_array_foreach(json_object_get(doc, "groups"), i, g) {
		const char *agency = json_string_value(json_object_get(g, "agency"));
		const char *sector = json_string_value(json_object_get(g, "sector"));
		json_int_t n = json_integer_value(json_object_get(g, "n"));
		char name[256], key[300], cell[512], want[64];
		const char *row, *c;
		int col = -1;

		if (!agency || !sector)
			continue;
		for (int j = 0; j < 6; j++)
			if (strcmp(sectors[j], sector) == 0)
				col = j;
		CHECK(col >= 0);
		CHECK_INT(agency_name(agency, name, sizeof(name)), 0);
		snprintf(key, sizeof(key), "<tr><th>%s</th>", name);
		row = strstr(table, key);
		CHECK(row);
		c = row;
		for (int j = 0; j <= col; j++) {
			c = strstr(c + 1, "<td class=\"num\">");
			CHECK(c);
		}
		c += strlen("<td class=\"num\">");
		snprintf(cell, sizeof(cell), "%.*s", (int)(strstr(c, "</td>") - c), c);
		if (n < 30) {
			CHECK_STR(cell, "");
			small++;
		} else {
			vi_pct(json_number_value(json_object_get(json_object_get(g, "index"), "est")), want,
			       sizeof(want));
			CHECK(strncmp(cell, want, strlen(want)) == 0);
			large++;
		}
	}
	json_decref(doc);
	free(page);
	CHECK(small > 0);
	CHECK(large > 0);
}

static int index_est_se(const char *period, double *est, double *se)
{
	const struct cmd_result *r = sipas_run(NULL, "score", "--period", period, "--format", "json", NULL);
	json_t *doc, *ix;
	int rc = -1;

	if (r->status != 0)
		return -1;
	doc = json_loads(r->out, 0, NULL);
	ix = json_object_get(json_array_get(json_object_get(doc, "groups"), 0), "index");
	if (json_is_number(json_object_get(ix, "est")) && json_is_number(json_object_get(ix, "se"))) {
		*est = json_number_value(json_object_get(ix, "est"));
		*se = json_number_value(json_object_get(ix, "se"));
		rc = 0;
	}
	json_decref(doc);
	return rc;
}

/* The index's change from 2026Q2 (100 fixture rows) to 2026Q3, and whether it is real. */
static void test_trend_change(void)
{
	char *page = fixture_report(), want[64], *row, *end, *dot;
	double e2, s2, e3, s3, d;

	CHECK(page);
	CHECK_INT(index_est_se("2026Q2", &e2, &s2), 0);
	CHECK_INT(index_est_se("2026Q3", &e3, &s3), 0);
	d = (e3 - e2) * 100.0;
	snprintf(want, sizeof(want), "%s%.1f\xc2\xa0điểm %%", d >= 0.05 ? "+" : "", d);
	dot = strchr(want, '.');
	if (dot)
		*dot = ',';
	row = strstr(page, "<tr><th>Chỉ số SIPAS</th>");
	CHECK(row);
	end = strstr(row, "</tr>");
	CHECK(end);
	*end = '\0';
	CHECK_CONTAINS(row, want);
	CHECK_CONTAINS(row, fabs(e3 - e2) > 1.96 * sqrt(s2 * s2 + s3 * s3) ? "<td>Có ý nghĩa</td>" :
		       "<td>Không có ý nghĩa thống kê</td>");
	free(page);
}

static void test_xlsx_sheets(void)
{
	char *page = fixture_report(), *book;

	CHECK(page);
	free(page);
	CHECK_INT(system("unzip -p out/scores.xlsx xl/workbook.xml > workbook.xml"), 0);
	book = test_read("workbook.xml");
	CHECK(book);
	CHECK_CONTAINS(book, "name=\"Toàn quý\"");
	CHECK_CONTAINS(book, "name=\"Cơ quan\"");
	CHECK_CONTAINS(book, "name=\"Lĩnh vực\"");
	CHECK_CONTAINS(book, "name=\"Tiêu chí\"");
	free(book);
	CHECK_INT(system("unzip -p out/scores.xlsx xl/styles.xml > styles.xml"), 0);
	CHECK(test_file_contains("styles.xml", "formatCode=\"0.0%\""));
}

static void test_errors(void)
{
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(1), 0);
	r = sipas_run(NULL, "report", "--period", "2026Q5", "--out", "out", NULL);
	CHECK_INT(r->status, 1);
	CHECK(strncmp(r->err, "sipas report: ", 14) == 0);
	r = sipas_run(NULL, "report", "--period", "2026", "--out", "out", NULL);
	CHECK_INT(r->status, 1);
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--form", "nope", "--out", "out", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "sipas report: ");
	CHECK_CONTAINS(r->err, "nope");
	r = sipas_run(NULL, "report", "--period", "2024Q1", "--out", "out", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "no responses");
	r = sipas_run(NULL, "report", "--period", "2026Q3", NULL);
	CHECK_INT(r->status, 1);
	CHECK(!test_read("out/index.html"));
	CHECK_INT(test_write("plain", "a file\n"), 0);
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "plain/sub", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "sipas report: ");
	/* missing parents are created */
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "a/b/c", NULL);
	CHECK_INT(r->status, 0);
	CHECK(test_file_contains("a/b/c/index.html", "</html>"));
}

const struct test_case report_tests[] = {
	{ "names_every_agency_and_sector", test_names_every_agency_and_sector },
	{ "headline_and_verdicts", test_headline_and_verdicts },
	{ "pages_are_well_formed", test_pages_are_well_formed },
	{ "csv_and_json_as_score", test_csv_and_json_as_score },
	{ "xlsx_whole_quarter", test_xlsx_whole_quarter },
	{ "xlsx_sheets_and_formats", test_xlsx_sheets },
	{ "trend_change", test_trend_change },
	{ "cross_table_blank_under_30", test_cross_table },
	{ "errors_and_out_dir", test_errors },
	{ NULL, NULL }
};
