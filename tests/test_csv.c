/*
 * test_csv.c - the streaming RFC 4180 reader: quoting, embedded newlines
 * and their line numbers, CRLF, BOM, blank lines, and every error it reports.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "../lib/csv.h"

/* Read all of `text`; records joined as "a|b;c|d;" into out; returns the
 * status of the last read (0 = clean end) and leaves the error in e. */
static int read_all(const char *text, size_t len, char *out, size_t outlen, struct err *e)
{
	FILE *fp = fmemopen((void *)text, len, "r");
	struct csv_reader *r = csv_reader_new(fp, "t.csv");
	int rc;

	out[0] = '\0';
	err_clear(e);
	while ((rc = csv_read_record(r, e)) == 1) {
		for (size_t i = 0; i < csv_nfields(r); i++) {
			strncat(out, csv_field(r, i), outlen - strlen(out) - 1);
			strncat(out, i + 1 < csv_nfields(r) ? "|" : ";", outlen - strlen(out) - 1);
		}
	}
	csv_reader_free(r);
	fclose(fp);
	return rc;
}

static int read_str(const char *text, char *out, struct err *e)
{
	return read_all(text, strlen(text), out, 1024, e);
}

static void plain_records(void)
{
	char out[1024];
	struct err e;

	CHECK_INT(read_str("a,b,c\n1,2,3\n", out, &e), 0);
	CHECK_STR(out, "a|b|c;1|2|3;");
	CHECK_INT(read_str("a,b\n1,2", out, &e), 0);  /* no final newline */
	CHECK_STR(out, "a|b;1|2;");
	CHECK_INT(read_str(",\"\",\n", out, &e), 0);  /* a quoted empty field is a value */
	CHECK_STR(out, "||;");
}

static void quotes_commas_newlines(void)
{
	char out[1024];
	struct err e;

	CHECK_INT(read_str("\"a,b\",\"say \"\"hi\"\"\",\"line1\nline2\"\n", out, &e), 0);
	CHECK_STR(out, "a,b|say \"hi\"|line1\nline2;");
	CHECK_INT(read_str("\"\",x\n", out, &e), 0);
	CHECK_STR(out, "|x;");
}

static void crlf_and_bom(void)
{
	char out[1024];
	struct err e;

	CHECK_INT(read_str("\xEF\xBB\xBFid,v\r\n1,\"a\r\nb\"\r\n2,c\r\n", out, &e), 0);
	CHECK_STR(out, "id|v;1|a\r\nb;2|c;");
}

static void blank_lines_are_skipped(void)
{
	char out[1024];
	struct err e;

	CHECK_INT(read_str("a\n\n1\n\r\n2\n\n", out, &e), 0);
	CHECK_STR(out, "a;1;2;");
}

/* Rows of nothing but separators (as Excel writes below a table) are
 * skipped like blank lines, whatever the separator; line numbers go on. */
static void separator_only_rows_are_skipped(void)
{
	const char *text = "a,b,c\n,,\n1,2,3\r\n,,\r\n,,,,\n4,,\n,,";
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	struct csv_reader *r = csv_reader_new(fp, "t.csv");
	char out[1024];
	struct err e;

	CHECK_INT(csv_read_record(r, &e), 1);
	CHECK_INT(csv_read_record(r, &e), 1);
	CHECK_INT(csv_line(r), 3);
	CHECK_INT(csv_read_record(r, &e), 1);
	CHECK_INT(csv_line(r), 6);
	CHECK_STR(csv_field(r, 0), "4");
	CHECK_INT(csv_read_record(r, &e), 0);
	csv_reader_free(r);
	fclose(fp);
	CHECK_INT(read_str("a;b\n;\n1;2\n;;;\n", out, &e), 0);
	CHECK_STR(out, "a|b;1|2;");
	CHECK_INT(read_str("a\tb\n\t\n1\t2\n", out, &e), 0);
	CHECK_STR(out, "a|b;1|2;");
}

/* The separator is the one of , ; and tab found between the header's
 * fields; the others are then plain characters of a field. */
static void separator_from_the_header(void)
{
	static const struct {
		const char *text, *records;
		int decimal_comma;
	} cases[] = {
		{ "a;b;c\n1;2,5;x\n", "a|b|c;1|2,5|x;", 1 },
		{ "\xEF\xBB\xBF\"a\";\"b\"\r\n\"x;y\";1,5\r\n", "a|b;x;y|1,5;", 1 },
		{ "a\tb\n1,5\tx;y\n", "a|b;1,5|x;y;", 1 },
		{ "a,b\n1;2,x\ty\n", "a|b;1;2|x\ty;", 0 },
		{ "\"a;x\",b\n1,2\n", "a;x|b;1|2;", 0 },   /* a quoted ; is part of the name */
		{ "a\n1;2\n", "a;1;2;", 0 },               /* one column: a comma file */
	};
	char out[1024];
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *fp = fmemopen((void *)cases[i].text, strlen(cases[i].text), "r");
		struct csv_reader *r = csv_reader_new(fp, "t.csv");

		CHECK_INT(csv_read_record(r, &e), 1);
		CHECK_INT(csv_decimal_comma(r), cases[i].decimal_comma);
		csv_reader_free(r);
		fclose(fp);
		CHECK_INT(read_str(cases[i].text, out, &e), 0);
		CHECK_STR(out, cases[i].records);
	}
	CHECK(read_str("a;b,c\n", out, &e) < 0);
	CHECK_STR(e.text, "t.csv:1: the header has both ',' and ';' between its fields, so its separator "
		  "is unclear (put a column name that holds one in quotes)");
	CHECK(read_str("a,b\tc\n", out, &e) < 0);
	CHECK_CONTAINS(e.text, "both ',' and a tab");
}

/* Numbers: one parser for every file, with the file's decimal mark. */
static void decimal_numbers(void)
{
	static const struct {
		const char *s;
		int decimal_comma;
		double value;   /* NAN: refused */
		const char *hint;
	} cases[] = {
		{ "70.765", 0, 70.765, NULL }, { "70,765", 1, 70.765, NULL }, { "1,5e-3", 1, 0.0015, NULL },
		{ ",25", 1, 0.25, NULL }, { "7,", 1, 7, NULL }, { "1E3", 0, 1000, NULL }, { "0", 1, 0, NULL },
		{ "70.765", 1, NAN, "decimal mark is a comma" }, { "1.234,5", 1, NAN, "decimal mark is a comma" },
		{ "1,5", 0, NAN, "decimal mark is a point" }, { "1.5.2", 0, NAN, "" }, { ",", 1, NAN, "" },
		{ "", 0, NAN, "" }, { "-1", 0, NAN, "" }, { "+1", 1, NAN, "" }, { "0x10", 0, NAN, "" },
		{ "inf", 0, NAN, "" }, { "nan", 1, NAN, "" }, { " 1", 0, NAN, "" }, { "1 000", 1, NAN, "" },
		{ "1e", 0, NAN, "" }, { "1,5,", 1, NAN, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *hint = NULL;
		double v = -1;
		int rc = csv_parse_decimal(cases[i].s, cases[i].decimal_comma, &v, &hint);

		if (isnan(cases[i].value) ? rc == 0 || !hint || !strstr(hint, cases[i].hint)
					  : rc != 0 || v != cases[i].value) {
			test_fail(__FILE__, __LINE__, "'%s' (decimal comma %d): rc %d, value %g, hint %s",
				  cases[i].s, cases[i].decimal_comma, rc, v, hint ? hint : "(null)");
			return;
		}
	}
}

/* The end of the message on a file that is not UTF-8. */
#define CODE_PAGE ": the file was probably saved in a Windows code page (Excel's \"CSV (Comma " \
	"delimited)\"); save it as \"CSV UTF-8 (Comma delimited)\""

/* What Excel writes when not asked for UTF-8 is named, with the way out. */
static void encodings_excel_may_write(void)
{
	static const struct {
		const char *text;
		size_t len;
		const char *message;
	} cases[] = {
		{ "\xFF\xFE" "a\0,\0b\0\n\0", 10, "t.csv:1: the file is UTF-16" },
		{ "\xFE\xFF\0a\0,\0b\0\n", 10, "t.csv:1: the file is UTF-16" },
		{ "a\0,\0b\0\n\0", 8, "t.csv:1: the file is UTF-16" },
		{ "\0a\0,\0b\0\n", 8, "t.csv:1: the file is UTF-16" },
		/* "Tốt" in cp1258: o circumflex, then a combining acute */
		{ "a,b\n1,T\xF4\xECt\n", 11, "t.csv:2: field 2 is not valid UTF-8" CODE_PAGE },
	};
	char out[1024];
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(read_all(cases[i].text, cases[i].len, out, sizeof(out), &e) == ERR_INVALID);
		CHECK_CONTAINS(e.text, cases[i].message);
		CHECK_CONTAINS(e.text, "save it as \"CSV UTF-8 (Comma delimited)\"");
	}
}

static void line_numbers_count_embedded_newlines(void)
{
	const char *text = "h1,h2\n\"multi\nline\nvalue\",x\n3,4\n";
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	struct csv_reader *r = csv_reader_new(fp, "t.csv");
	struct err e;

	CHECK_INT(csv_read_record(r, &e), 1);
	CHECK_INT(csv_line(r), 1);
	CHECK_INT(csv_read_record(r, &e), 1);
	CHECK_INT(csv_line(r), 2);
	CHECK_INT(csv_read_record(r, &e), 1);
	CHECK_INT(csv_line(r), 5);
	CHECK_STR(csv_field(r, 1), "4");
	CHECK_INT(csv_read_record(r, &e), 0);
	csv_reader_free(r);
	fclose(fp);
}

static void errors_name_file_and_line(void)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "a\n\"open\n\nnever closed\n", "t.csv:2: quoted field opened here is never closed" },
		{ "a,b\n\"x\"y,1\n", "t.csv:2: unexpected character after a closing quote" },
		{ "a,b\n1,x\"y\n", "t.csv:2: quote inside an unquoted field" },
		{ "a,b\n1,2\r3\n", "t.csv:2: carriage return not followed by a line feed" },
		{ "a,b\n1,\xff\n", "t.csv:2: field 2 is not valid UTF-8" CODE_PAGE },
		{ "a,b\n1,\xC0\xAF\n", "t.csv:2: field 2 is not valid UTF-8" CODE_PAGE },   /* overlong '/' */
		{ "a,b\n1,\xED\xA0\x80\n", "t.csv:2: field 2 is not valid UTF-8" CODE_PAGE }, /* surrogate */
	};
	char out[1024];
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(read_str(cases[i].text, out, &e) < 0);
		CHECK_STR(e.text, cases[i].message);
	}
}

/* A listed bad row keeps its column and where its reason starts, after
 * "NAME:LINE: column X: " (or "NAME:LINE: " for a row at fault whole),
 * also when the reason holds such words itself. */
static void bad_rows_keep_the_column_and_the_reason(void)
{
	struct csv_bad_rows *b = calloc(1, sizeof(*b));
	struct err e;

	CHECK(b);
	err_set_field(&e, ERR_INVALID, "e1.1", "t.csv:7: column e1.1: 9 is off the scale (see t.csv:7: column e1.1: )");
	csv_bad_rows_note(b, 7, &e);
	err_set(&e, ERR_INVALID, "t.csv:3: 4 fields, the header has 5");
	csv_bad_rows_note(b, 3, &e);
	CHECK_INT(b->listed, 2);
	CHECK_INT(b->row[0].line, 3);
	CHECK_STR(b->row[0].column, "");
	CHECK_STR(b->row[0].text + b->row[0].why_at, "4 fields, the header has 5");
	CHECK_STR(b->row[1].column, "e1.1");
	CHECK_STR(b->row[1].text + b->row[1].why_at, "9 is off the scale (see t.csv:7: column e1.1: )");
	free(b);
}

static void nul_byte_refused(void)
{
	char out[1024];
	struct err e;

	CHECK(read_all("a\nx\0y\n", 6, out, sizeof(out), &e) < 0);
	CHECK_STR(e.text, "t.csv:2: NUL byte in field");
}

static void limits(void)
{
	char out[1024];
	struct err e;
	size_t n = CSV_MAX_RECORD + 10;
	char *big = malloc(n + 1), *wide = malloc(4 * CSV_MAX_FIELDS);

	CHECK(big && wide);
	memset(big, 'x', n);
	big[n] = '\0';
	CHECK(read_all(big, n, out, sizeof(out), &e) == ERR_TOO_LARGE);
	CHECK_CONTAINS(e.text, "record longer than 1 MiB");
	wide[0] = '\0';
	for (int i = 0; i <= CSV_MAX_FIELDS; i++)
		strcat(wide, "1,");
	CHECK(read_str(wide, out, &e) == ERR_TOO_LARGE);
	CHECK_CONTAINS(e.text, "more than 1024 fields");
	free(big);
	free(wide);
}

static void quote_round_trip(void)
{
	static const char *const values[] = { "plain", "a,b", "say \"x\"", "two\nlines", "", "cr\r\nlf" };
	struct strbuf sb;
	char out[1024], want[1024] = "";
	struct err e;

	strbuf_init(&sb, 0);
	for (size_t i = 0; i < 6; i++) {
		if (i)
			strbuf_addch(&sb, ',');
		csv_quote(&sb, values[i]);
		strcat(want, values[i]);
		strcat(want, i < 5 ? "|" : ";");
	}
	strbuf_addch(&sb, '\n');
	CHECK_INT(read_str(strbuf_str(&sb), out, &e), 0);
	CHECK_STR(out, want);
	strbuf_release(&sb);
}

/* Cells bound for a spreadsheet never run as formulas; others are kept. */
static void spreadsheet_cells_stay_text(void)
{
	static const char *const cells[][2] = {
		{ "=1+1", "'=1+1" }, { "+SUM(A1)", "'+SUM(A1)" }, { "-2", "'-2" }, { "@cmd", "'@cmd" },
		{ "=HYPERLINK(\"x\",\"y\")", "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"" },
		{ "\t=1", "'\t=1" }, { "\r=1", "\"'\r=1\"" }, { "a=1", "a=1" }, { " =1", " =1" },
		{ "SO-XD", "SO-XD" }, { "", "" },
	};
	struct strbuf sb;

	for (size_t i = 0; i < sizeof(cells) / sizeof(cells[0]); i++) {
		strbuf_init(&sb, 0);
		csv_quote_cell(&sb, cells[i][0]);
		CHECK_STR(strbuf_str(&sb), cells[i][1]);
		strbuf_release(&sb);
	}
}

const struct test_case csv_tests[] = {
	{ "spreadsheet_cells_stay_text", spreadsheet_cells_stay_text },
	{ "plain_records", plain_records },
	{ "quotes_commas_newlines", quotes_commas_newlines },
	{ "crlf_and_bom", crlf_and_bom },
	{ "blank_lines_are_skipped", blank_lines_are_skipped },
	{ "separator_only_rows_are_skipped", separator_only_rows_are_skipped },
	{ "separator_from_the_header", separator_from_the_header },
	{ "decimal_numbers", decimal_numbers },
	{ "encodings_excel_may_write", encodings_excel_may_write },
	{ "line_numbers_count_embedded_newlines", line_numbers_count_embedded_newlines },
	{ "errors_name_file_and_line", errors_name_file_and_line },
	{ "bad_rows_keep_the_column_and_the_reason", bad_rows_keep_the_column_and_the_reason },
	{ "nul_byte_refused", nul_byte_refused },
	{ "limits", limits },
	{ "quote_round_trip", quote_round_trip },
	{ NULL, NULL }
};
