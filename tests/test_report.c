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
#include <unistd.h>
#include <time.h>
#include <sys/inotify.h>
#include <sys/stat.h>

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

/* 1 if the file at path holds what `sipas score --period 2026Q3 --form
 * FORM --format F` prints: CSV byte for byte, JSON the same document. */
static int same_as_score(const char *path, const char *form, const char *format)
{
	const struct cmd_result *r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", form, "--format",
					       format, NULL);
	char *text = test_read(path);
	json_t *a, *b;
	int same;

	if (r->status != 0 || !text) {
		free(text);
		return 0;
	}
	if (strcmp(format, "json") != 0) {
		same = strcmp(text, r->out) == 0;
	} else {
		a = json_loads(text, 0, NULL);
		b = json_loads(r->out, 0, NULL);
		same = a && b && json_equal(a, b);
		json_decref(a);
		json_decref(b);
	}
	free(text);
	return same;
}

static void test_csv_and_json_as_score(void)
{
	char *page = fixture_report();

	CHECK(page);
	free(page);
	CHECK(same_as_score("out/scores.csv", "sipas-2017", "csv"));
	CHECK(same_as_score("out/scores.json", "sipas-2017", "json"));
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

/* Today in Vietnam time as YYYY-MM-DD, and its quarter as ordinal (year * 4 + q - 1). */
static int vn_today(char iso[11])
{
	time_t now = time(NULL) + 7 * 3600;
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(iso, 11, "%Y-%m-%d", &tm);
	return (tm.tm_year + 1900) * 4 + tm.tm_mon / 3;
}

static void quarter_label(int ordinal, char *buf, size_t size)
{
	snprintf(buf, size, "%dQ%d", ordinal / 4, ordinal % 4 + 1);
}

/* The first `rows` responses of the fixture, each dated `day` ("YYYY-MM-DD"),
 * as an import CSV; owned by the caller. */
static char *fixture_rows_on(const char *day, int rows)
{
	char path[4096], *text, *line, *save = NULL, *out;
	size_t used = 0, cap;
	int n = -1;

	snprintf(path, sizeof(path), "%s/sipas-2017-a/responses.csv", test_fixtures());
	text = test_read(path);
	if (!text)
		return NULL;
	cap = strlen(text) + (size_t)rows + 2;
	out = malloc(cap);
	for (line = strtok_r(text, "\n", &save); out && line && n < rows; line = strtok_r(NULL, "\n", &save), n++) {
		char *date = strchr(line, ',');

		if (n < 0 || !date) {   /* the header */
			used += (size_t)snprintf(out + used, cap - used, "%s\n", line);
			continue;
		}
		/* the first field is the quoted id (made new: "R…" becomes "TR…"),
		 * the second "YYYY-MM-DD" in quotes */
		used += (size_t)snprintf(out + used, cap - used, "\"T%.*s,\"%s\"%s\n", (int)(date - line - 1),
					 line + 1, day, date + 1 + 12);
	}
	free(text);
	return out;
}

/* Publishing is per ended quarter: a year, a date range and a quarter not
 * yet over are refused; --early publishes an unfinished quarter and the
 * published page says so, with the date. */
static void test_publish_needs_an_ended_quarter(void)
{
	char today[11], cur[16], next[16], dmy[16], *rows;
	const struct cmd_result *r;
	int ord = vn_today(today);

	quarter_label(ord, cur, sizeof(cur));
	quarter_label(ord + 1, next, sizeof(next));
	snprintf(dmy, sizeof(dmy), "%.2s/%.2s/%.4s", today + 8, today + 5, today);
	CHECK_INT(test_init_fixture(1), 0);
	rows = fixture_rows_on(today, 40);
	CHECK(rows);
	r = sipas_run(rows, "import", "--form", "sipas-2017", "-", NULL);
	free(rows);
	CHECK_INT(r->status, 0);
	r = sipas_run(NULL, "publish", "--period", "2026", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "a quarter");
	r = sipas_run(NULL, "publish", "--period", "2026-07-01..2026-09-30", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "a quarter");
	r = sipas_run(NULL, "publish", "--period", cur, NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "has not ended");
	CHECK_CONTAINS(r->err, "--early");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published"), 0);
	/* a report of the unfinished quarter says it is provisional */
	CHECK_INT(sipas_run(NULL, "report", "--period", cur, "--out", "now", NULL)->status, 0);
	CHECK(test_file_contains("now/index.html", "Báo cáo tạm"));
	CHECK(!test_file_contains("now/index.html", "Công bố sớm"));
	r = sipas_run(NULL, "publish", "--period", next, "--early", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "has not started yet");
	/* nor is a report written of a quarter that has not begun */
	r = sipas_run(NULL, "report", "--period", next, "--out", "next", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "has not started yet");
	CHECK(access("next", F_OK) != 0);
	/* an ended quarter publishes as before, not early */
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published WHERE period = '2026Q3' AND early = 0"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published_files WHERE period = '2026Q3' AND "
			      "name = 'index.html' AND instr(CAST(content AS TEXT), 'Công bố sớm') = 0"), 1);
	r = sipas_run(NULL, "publish", "--period", cur, "--early", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "early");
	{
		char sql[512];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM published WHERE period = '%s' AND early = 1", cur);
		CHECK_INT(test_db_int("sipas.db", sql), 1);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM published_files WHERE period = '%s' AND "
			 "name = 'index.html' AND instr(CAST(content AS TEXT), 'Công bố sớm') > 0 AND "
			 "instr(CAST(content AS TEXT), '%s') > 0", cur, dmy);
		CHECK_INT(test_db_int("sipas.db", sql), 1);
	}
}

/* Significant digits of a number as written ("0.950" -> 2, "1.0" -> 1). */
static int sig_digits(const char *s, size_t len)
{
	char d[64];
	size_t n = 0, i = 0;

	for (; i < len && s[i] != 'e' && s[i] != 'E'; i++)
		if (s[i] >= '0' && s[i] <= '9' && n < sizeof(d))
			d[n++] = s[i];
	i = 0;
	while (i < n && d[i] == '0')
		i++;
	while (n > i && d[n - 1] == '0')
		n--;
	return n > i ? (int)(n - i) : 1;
}

/* The fewest significant digits that read back as v. */
static int fewest_digits(double v)
{
	for (int p = 1; p < 17; p++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return p;
	}
	return 17;
}

/* How many non-integer numbers of a CSV or JSON text are written with more
 * digits than they need; *seen gets how many there are. */
static int noisy_numbers(const char *text, int *seen)
{
	int bad = 0;

	*seen = 0;
	for (const char *p = text; *p; p++) {
		size_t len;
		int frac = 0;

		if (!((*p >= '0' && *p <= '9') || *p == '-') ||
		    (p > text && !strchr(",:[ \n;", p[-1])))
			continue;
		len = strspn(p, "0123456789.eE+-");
		if (!p[len] || !strchr(",}] \n\r;", p[len])) {
			p += len - 1;
			continue;
		}
		for (size_t i = 0; i < len; i++)
			frac |= p[i] == '.' || p[i] == 'e' || p[i] == 'E';
		if (frac) {
			double v = strtod(p, NULL);

			(*seen)++;
			if (sig_digits(p, len) != fewest_digits(v)) {
				if (bad < 3)
					fprintf(stderr, "    %.*s (%d digits, %d would do)\n", (int)len, p,
						sig_digits(p, len), fewest_digits(v));
				bad++;
			}
		}
		p += len - 1;
	}
	return bad;
}

/* CSV and JSON, from `score`, the report and the API, write each number as
 * the shortest decimal that reads back to the same double. */
static void test_numbers_are_shortest(void)
{
	struct test_server s;
	struct http_result h;
	const struct cmd_result *r;
	char *page = fixture_report(), *text;
	int seen;

	CHECK(page);
	free(page);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
	CHECK(!strstr(r->out, "0.90000000000000002"));
	CHECK_INT(noisy_numbers(r->out, &seen), 0);
	CHECK(seen > 1000);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "\"level\": 0.95");
	CHECK_INT(noisy_numbers(r->out, &seen), 0);
	CHECK(seen > 1000);
	text = test_read("out/scores.json");
	CHECK(text);
	seen = noisy_numbers(text, &seen) == 0 ? seen : -1;
	free(text);
	CHECK(seen > 1000);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	for (int by = 0; by < 2; by++) {
		long status = test_request(&s, "GET", by ? "/api/scores?period=2026Q3&by=sector" :
					   "/api/scores?period=2026Q3", NULL, NULL, &h);
		int bad = status == 200 ? noisy_numbers(h.body, &seen) : -1;

		free(h.body);
		if (status != 200 || bad != 0 || seen < 100)
			test_server_stop(&s);
		CHECK_INT(status, 200);
		CHECK_INT(bad, 0);
		CHECK(seen >= 100);
	}
	test_server_stop(&s);
}

/* Split a line at sep in place (no quoted fields in these files); the count. */
static int split(char *line, char sep, char **f, int max)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == sep) {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

/* scores-excel-vn.csv: a UTF-8 BOM, ';' between fields, decimal commas,
 * otherwise scores.csv field by field; `score --format csv --excel-vn`
 * prints the same bytes. */
static void test_excel_vn_csv(void)
{
	char *page = fixture_report(), *csv, *vn, *a, *b, *sa = NULL, *sb = NULL;
	const struct cmd_result *r;
	int lines = 0, commas = 0;

	CHECK(page);
	free(page);
	vn = test_read("out/scores-excel-vn.csv");
	CHECK(vn);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "csv", "--excel-vn", NULL);
	CHECK_INT(r->status, 0);
	if (strcmp(r->out, vn) != 0) {
		free(vn);
		CHECK(!"score --excel-vn differs from scores-excel-vn.csv");
	}
	CHECK(strncmp(vn, "\xef\xbb\xbf" "agency;sector;id;est;", 3 + 21) == 0);
	csv = test_read("out/scores.csv");
	CHECK(csv);
	a = strtok_r(csv, "\n", &sa);
	b = strtok_r(vn + 3, "\n", &sb);
	for (; a && b; a = strtok_r(NULL, "\n", &sa), b = strtok_r(NULL, "\n", &sb), lines++) {
		char *fa[64], *fb[64];
		int na = split(a, ',', fa, 64), nb = split(b, ';', fb, 64);

		CHECK_INT(nb, na);
		for (int i = 0; i < na; i++) {
			char want[256];
			int text = i < 3 || strcmp(fa[i], "") == 0 || strspn(fa[i], "0123456789.e-") != strlen(fa[i]);

			snprintf(want, sizeof(want), "%s", fa[i]);
			if (!text && strchr(want, '.')) {
				*strchr(want, '.') = ',';
				commas++;
			}
			if (strcmp(fb[i], want) != 0)
				fprintf(stderr, "    line %d field %d: %s, want %s\n", lines + 1, i + 1, fb[i], want);
			CHECK_STR(fb[i], want);
		}
	}
	CHECK(!a && !b);
	CHECK(lines > 100);
	CHECK(commas > 1000);
	free(csv);
	free(vn);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "json", "--excel-vn", NULL);
	CHECK_INT(r->status, 1);
}

/* The title names the quarter the Vietnamese way; the code stays in the data. */
static void test_title_in_vietnamese(void)
{
	char *page = fixture_report();

	CHECK(page);
	CHECK_CONTAINS(page, "<title>Báo cáo chỉ số SIPAS Quý III/2026</title>");
	CHECK_CONTAINS(page, "<h1>Báo cáo chỉ số SIPAS Quý III/2026</h1>");
	free(page);
	CHECK(test_file_contains("out/scores.csv", ",2026Q3,"));
}

/* Kiosk ratings of the fixture quarter, in the fixture's registry. */
static const char fixture_kiosk[] =
	"response_id,submitted_at,agency,sector,channel,overall,reason\n"
	"k1,2026-07-02,P-HUNGDAO,dat-dai,kiosk,1,long-wait\n"
	"k2,2026-08-02,P-HUNGDAO,dat-dai,kiosk,2,\n"
	"k3,2026-08-03,P-HUNGDAO,dat-dai,kiosk,3,\n"
	"k4,2026-09-04,SO-YT,y-te,kiosk,3,\n"
	"k5,2026-07-05,SO-YT,y-te,kiosk,3,\n";

/* The sheet of the workbook named `name` (xl/worksheets/sheetN.xml), read. */
static char *xlsx_sheet(const char *book_path, const char *name)
{
	char cmd[4096], *book, *at;
	int n = 1;

	snprintf(cmd, sizeof(cmd), "unzip -p %s xl/workbook.xml > workbook.xml", book_path);
	if (system(cmd) != 0 || !(book = test_read("workbook.xml")))
		return NULL;
	snprintf(cmd, sizeof(cmd), "name=\"%s\"", name);
	at = strstr(book, cmd);
	for (char *p = strstr(book, "<sheet "); at && p && p < at; p = strstr(p + 1, "<sheet "))
		n++;
	free(book);
	if (!at)
		return NULL;
	snprintf(cmd, sizeof(cmd), "unzip -p %s xl/worksheets/sheet%d.xml > sheet.xml", book_path, n - 1);
	return system(cmd) == 0 ? test_read("sheet.xml") : NULL;
}

/* The counter's figures and the agency × sector pairs are in the open data
 * and the workbook. */
static void test_counter_and_pairs_in_open_data(void)
{
	const struct cmd_result *r;
	char *page, *sheet;
	json_t *doc, *g;
	size_t i;
	int pairs = 0;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(sipas_run(fixture_kiosk, "import", "--form", "kiosk-2018", "-", NULL)->status, 0);
	CHECK_INT(sipas_run("period,agency,sector,dossiers\n2026Q3,P-HUNGDAO,dat-dai,40\n",
			    "dossiers", "import", "-", NULL)->status, 0);
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "out", NULL);
	CHECK_INT(r->status, 0);
	page = test_read("out/index.html");
	CHECK(page);
	free(page);
	CHECK(same_as_score("out/counter.csv", "kiosk-2018", "csv"));
	CHECK(same_as_score("out/counter.json", "kiosk-2018", "json"));
	/* the counter sheet: every share and dossier rate of the open data */
	sheet = xlsx_sheet("out/scores.xlsx", "Một cửa");
	CHECK(sheet);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "kiosk-2018", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc);
	json_array_foreach(json_object_get(doc, "groups"), i, g) {
		json_t *c = json_object_get(g, "counter");
		json_t *share = json_object_get(c, "share"), *rate = json_object_get(c, "dossier_rate");

		if (json_is_number(share))
			pairs += sheet_has(sheet, json_number_value(share)) ? 1 : -100;
		if (json_is_number(rate))
			pairs += sheet_has(sheet, json_number_value(rate)) ? 1 : -100;
	}
	json_decref(doc);
	free(sheet);
	CHECK(pairs >= 6);   /* the city, two agencies, two sectors; a dossier rate */
	pairs = 0;
	sheet = xlsx_sheet("out/scores.xlsx", "Cơ quan × lĩnh vực");
	CHECK(sheet);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "agency,sector", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	doc = json_loads(r->out, 0, NULL);
	CHECK(doc);
	json_array_foreach(json_object_get(doc, "groups"), i, g) {
		json_t *est = json_object_get(json_object_get(g, "index"), "est");

		if (i == 0 || !json_is_number(est))
			continue;
		if (!sheet_has(sheet, json_number_value(est)))
			fprintf(stderr, "    pair %zu: %.17g not in the sheet\n", i, json_number_value(est));
		pairs += sheet_has(sheet, json_number_value(est));
		CHECK(sheet_has(sheet, json_number_value(est)));
	}
	json_decref(doc);
	free(sheet);
	CHECK(pairs > 10);
}

/* The trend compares like with like: a quarter published with raked weights
 * shows in the report's design-weighted trend with its design figure, and a
 * note gives the published one. */
static void test_trend_one_weighting(void)
{
	char margins[4096], want[64], raked[64], *page, *row, *end;
	double e2, s2, r2;
	const struct cmd_result *r;

	CHECK_INT(test_init_fixture(1), 0);
	snprintf(margins, sizeof(margins), "%s/sipas-2017-a/margins.csv", test_fixtures());
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q2", "--rake", margins, NULL)->status, 0);
	r = sipas_run(NULL, "score", "--period", "2026Q2", "--rake", margins, "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	{
		json_t *doc = json_loads(r->out, 0, NULL);

		r2 = json_number_value(json_object_get(json_object_get(json_array_get(json_object_get(doc, "groups"), 0),
									"index"), "est"));
		json_decref(doc);
	}
	CHECK_INT(index_est_se("2026Q2", &e2, &s2), 0);
	vi_pct(e2, want, sizeof(want));
	vi_pct(r2, raked, sizeof(raked));
	CHECK(strcmp(want, raked) != 0);
	CHECK_INT(sipas_run(NULL, "report", "--period", "2026Q3", "--out", "out", NULL)->status, 0);
	page = test_read("out/index.html");
	CHECK(page);
	row = strstr(page, "<tr><th>Chỉ số SIPAS</th>");
	CHECK(row);
	end = strstr(row, "</tr>");
	CHECK(end);
	*end = '\0';
	/* columns 2025Q4, 2026Q1 (no responses), 2026Q2, 2026Q3 */
	if (!strstr(row, want))
		fprintf(stderr, "    want the design index %s of 2026Q2 in %s\n", want, row);
	CHECK_CONTAINS(row, want);
	CHECK(!strstr(row, raked));
	*end = '<';
	row = strstr(page, "<section id=\"xu-huong\">");
	CHECK(row);
	CHECK_CONTAINS(row, "trọng số thiết kế (design) cho cả bốn quý");
	CHECK_CONTAINS(row, "hiệu chỉnh (raked)");
	CHECK_CONTAINS(row, raked);
	free(page);
}

/* `sipas report` and `sipas publish` render the report in memory: nothing
 * is created under $TMPDIR (an empty directory here, watched while they
 * run), and publishing makes no directory of its own under /tmp, which a
 * kill -9 would leave behind. */
static void test_renders_in_memory(void)
{
	char tmpdir[4200], cwd[4096];
	int fd, wd_tmpdir, wd_tmp;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp-empty", cwd);
	CHECK_INT(mkdir(tmpdir, 0700), 0);
	setenv("TMPDIR", tmpdir, 1);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	CHECK(fd >= 0);
	wd_tmpdir = inotify_add_watch(fd, tmpdir, IN_CREATE | IN_MOVED_TO);
	wd_tmp = inotify_add_watch(fd, "/tmp", IN_CREATE | IN_MOVED_TO);
	CHECK(wd_tmpdir >= 0 && wd_tmp >= 0);
	CHECK_INT(sipas_run(NULL, "report", "--period", "2026Q3", "--out", "out", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	{
		/* one read of the queue: events of both watches come together */
		char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
		ssize_t len;
		int in_tmpdir = 0, in_tmp = 0;

		while ((len = read(fd, buf, sizeof(buf))) > 0)
			for (char *p = buf; p < buf + len;
			     p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
				const struct inotify_event *ev = (const struct inotify_event *)p;

				if (ev->wd == wd_tmpdir && ev->len) {
					fprintf(stderr, "    created %s/%s\n", tmpdir, ev->name);
					in_tmpdir = 1;
				}
				if (ev->wd == wd_tmp && ev->len && strncmp(ev->name, "sipas-report", 12) == 0) {
					fprintf(stderr, "    created /tmp/%s\n", ev->name);
					in_tmp = 1;
				}
			}
		CHECK_INT(in_tmpdir, 0);
		CHECK_INT(in_tmp, 0);
	}
	close(fd);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published_files WHERE period = '2026Q3' "
			      "AND name = 'scores.xlsx' AND length(content) > 1000"), 1);
	CHECK(access("out/scores.xlsx", R_OK) == 0);
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
	{ "publish_needs_an_ended_quarter", test_publish_needs_an_ended_quarter },
	{ "numbers_are_shortest", test_numbers_are_shortest },
	{ "excel_vn_csv", test_excel_vn_csv },
	{ "title_in_vietnamese", test_title_in_vietnamese },
	{ "counter_and_pairs_in_open_data", test_counter_and_pairs_in_open_data },
	{ "trend_one_weighting", test_trend_one_weighting },
	{ "renders_in_memory", test_renders_in_memory },
	{ NULL, NULL }
};
