/*
 * rep_export.c - numbers of the open data written shortest, in CSV and
 * JSON, and the Excel-VN copy of the scores CSV (see rep_export.h).
 */
#include "rep_export.h"

#include <stdlib.h>
#include <string.h>

#include "rep_score.h"
#include "../lib/csv.h"

void rep_num_shortest(double v, char buf[REP_NUM_MAX])
{
	/* 15 digits always read back for a decimal of up to 15 digits (DBL_DIG),
	 * 17 for every double (DBL_DECIMAL_DIG) */
	for (int p = 15; p <= 17; p++) {
		snprintf(buf, REP_NUM_MAX, "%.*g", p, v);
		if (p == 17 || strtod(buf, NULL) == v)
			return;
	}
}

/* jansson writes reals with 17 digits; its text is valid JSON, so a
 * number starts outside a string with '-' or a digit, and is a real when
 * it has a '.' or an exponent. */
static int shorten_reals(const char *text, struct strbuf *out)
{
	int in_string = 0;

	for (const char *p = text; *p; p++) {
		size_t len;
		char num[REP_NUM_MAX];

		if (in_string) {
			if (*p == '\\' && p[1])
				strbuf_addch(out, *p++);
			else if (*p == '"')
				in_string = 0;
			strbuf_addch(out, *p);
			continue;
		}
		if (*p == '"')
			in_string = 1;
		if (*p != '-' && (*p < '0' || *p > '9')) {
			strbuf_addch(out, *p);
			continue;
		}
		len = strspn(p, "-+0123456789.eE");
		if (memchr(p, '.', len) || memchr(p, 'e', len) || memchr(p, 'E', len)) {
			rep_num_shortest(strtod(p, NULL), num);
			strbuf_addstr(out, num);
			if (strspn(num, "-0123456789") == strlen(num))
				strbuf_addstr(out, ".0");
		} else {
			strbuf_add(out, p, len);
		}
		p += len - 1;
	}
	return out->failed ? -1 : 0;
}

void rep_csv_num(struct strbuf *sb, int known, double v)
{
	char num[REP_NUM_MAX];

	strbuf_addch(sb, ',');
	if (known) {
		rep_num_shortest(v, num);
		strbuf_addstr(sb, num);
	}
}

void rep_csv_estimate(struct strbuf *sb, const struct score_estimate *est)
{
	rep_csv_num(sb, est->defined, est->est);
	rep_csv_num(sb, est->defined && est->has_se, est->se);
	rep_csv_num(sb, est->defined && est->has_bounds, est->lo);
	rep_csv_num(sb, est->defined && est->has_bounds, est->hi);
}

json_t *rep_json_num(int known, double v)
{
	return known ? json_real(v) : json_null();
}

void rep_json_estimate(json_t *o, const struct score_estimate *est)
{
	json_object_set_new(o, "est", rep_json_num(est->defined, est->est));
	json_object_set_new(o, "se", rep_json_num(est->defined && est->has_se, est->se));
	json_object_set_new(o, "lo", rep_json_num(est->defined && est->has_bounds, est->lo));
	json_object_set_new(o, "hi", rep_json_num(est->defined && est->has_bounds, est->hi));
}

char *rep_json_dumps(const json_t *doc, size_t flags)
{
	char *text = json_dumps(doc, flags | JSON_REAL_PRECISION(17));
	struct strbuf out = STRBUF_INIT;
	char *shortened = NULL;

	if (text && shorten_reals(text, &out) == 0)
		shortened = strbuf_detach(&out, NULL);
	strbuf_release(&out);
	free(text);
	return shortened;
}

int rep_json_dumpf(const json_t *doc, size_t flags, FILE *fp)
{
	char *text = rep_json_dumps(doc, flags);
	int rc = !text || fputs(text, fp) == EOF || fputc('\n', fp) == EOF ? -1 : 0;

	free(text);
	return rc;
}

/* The columns of the scores CSV that hold text; every other one holds numbers. */
static const char *const text_columns[] = {
	"agency", "sector", "id", "ci", "status", "form", "period", "weights",
};

static int is_text_column(const char *name)
{
	for (size_t i = 0; i < sizeof(text_columns) / sizeof(text_columns[0]); i++)
		if (strcmp(name, text_columns[i]) == 0)
			return 1;
	return 0;
}

/* A text cell for a ';' file: quoted when it holds ';', '"' or a line
 * break.  It was neutralised for spreadsheets (csv_quote_cell) when the
 * scores CSV was written, and is kept as it is. */
static void add_cell(struct strbuf *out, const char *s)
{
	if (!strpbrk(s, ";\"\r\n")) {
		strbuf_addstr(out, s);
		return;
	}
	strbuf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '"')
			strbuf_addch(out, '"');
		strbuf_addch(out, *s);
	}
	strbuf_addch(out, '"');
}

int rep_csv_excel_vn(const char *csv, size_t len, struct strbuf *out, struct err *e)
{
	FILE *fp = fmemopen((void *)csv, len ? len : 1, "r");
	struct csv_reader *rd = fp ? csv_reader_new(fp, "scores.csv") : NULL;
	unsigned char text[CSV_MAX_FIELDS] = { 0 };
	int first = 1, got, rc = 0;

	if (!rd) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	strbuf_addstr(out, "\xef\xbb\xbf");
	while (len && (got = csv_read_record(rd, e)) == 1) {
		for (size_t i = 0; i < csv_nfields(rd); i++) {
			const char *f = csv_field(rd, i);

			if (first)
				text[i] = 1;   /* header names are text */
			if (i)
				strbuf_addch(out, ';');
			if (text[i]) {
				add_cell(out, f);
			} else {
				const char *dot = strchr(f, '.');

				strbuf_add(out, f, dot ? (size_t)(dot - f) : strlen(f));
				if (dot) {
					strbuf_addch(out, ',');
					strbuf_addstr(out, dot + 1);
				}
			}
			if (first)
				text[i] = (unsigned char)is_text_column(f);
		}
		strbuf_addch(out, '\n');
		first = 0;
	}
	if (len && got < 0) {
		err_prefix(e, "re-reading the scores CSV");
		rc = e->code = ERR_INTERNAL;
	}
	else if (out->failed)
		rc = err_set(e, ERR_NOMEM, "out of memory");
out:
	csv_reader_free(rd);
	if (fp)
		fclose(fp);
	return rc;
}

int rep_score_csv_excel_vn(const struct score_result *r, FILE *fp, struct err *e)
{
	struct strbuf out = STRBUF_INIT;
	char *csv = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&csv, &len);
	int rc = mem ? 0 : err_set(e, ERR_NOMEM, "out of memory");

	if (!rc && rep_score_csv(r, mem) != 0)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (mem && fclose(mem) != 0 && !rc)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (!rc)
		rc = rep_csv_excel_vn(csv, len, &out, e);
	if (!rc && fwrite(out.buf, 1, out.len, fp) != out.len)
		rc = err_set(e, ERR_IO, "write failed");
	strbuf_release(&out);
	free(csv);
	return rc;
}
