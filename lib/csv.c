/*
 * csv.c - streaming RFC 4180 reader (see csv.h).  A byte-at-a-time state
 * machine over a 64 KiB read buffer; fields of the current record are stored
 * NUL-terminated, one after another, in one growable buffer.  The first
 * record is read with every candidate separator, and fixes the one it uses.
 */
#include "csv.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define CSV_READ_CHUNK 65536

/* How to get a file out of Excel that this reader takes. */
#define CSV_SAVE_AS "save it as \"CSV UTF-8 (Comma delimited)\""

/* The separators a header may use, in the order messages name them. */
static const char csv_separators[] = ",;\t";

struct csv_reader {
	FILE *fp;
	char *name;
	unsigned char in[CSV_READ_CHUNK];
	size_t in_pos, in_end;
	int at_eof;
	int started;        /* the start of the stream was checked (BOM, UTF-16) */
	int in_header;      /* reading the first record: the separator is not fixed yet */
	char sep;           /* the separator; 0 while the first record has shown none */
	uint64_t bytes;
	long line;          /* current physical line */
	long record_line;   /* line on which the current record starts */
	char *data;         /* fields, each NUL-terminated */
	size_t data_len, data_alloc;
	size_t nfields;
	size_t start[CSV_MAX_FIELDS];
	size_t len[CSV_MAX_FIELDS];
};

struct csv_reader *csv_reader_new(FILE *fp, const char *name)
{
	struct csv_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fp = fp;
	r->name = strdup(name ? name : "-");
	if (!r->name) {
		free(r);
		return NULL;
	}
	r->line = 1;
	r->in_header = 1;
	return r;
}

void csv_reader_free(struct csv_reader *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->data);
	free(r);
}

/* Next byte of the stream, or -1 at end of file (or on a read error, which
 * the caller reports through ferror). */
static int csv_getc(struct csv_reader *r)
{
	if (r->in_pos == r->in_end) {
		if (r->at_eof)
			return -1;
		r->in_end = fread(r->in, 1, sizeof(r->in), r->fp);
		r->in_pos = 0;
		if (r->in_end == 0) {
			r->at_eof = 1;
			return -1;
		}
	}
	r->bytes++;
	return r->in[r->in_pos++];
}

static int csv_peekc(struct csv_reader *r)
{
	int c = csv_getc(r);

	if (c >= 0) {
		r->in_pos--;
		r->bytes--;
	}
	return c;
}

static int csv_fail(struct csv_reader *r, struct err *e, int code, const char *why)
{
	return err_set(e, code, "%s:%ld: %s", r->name, r->line, why);
}

/* The start of the stream: skip a UTF-8 BOM; refuse UTF-16, which Excel
 * writes as "Unicode Text" (a BOM FF FE or FE FF, or text whose first two
 * bytes are a character and a NUL, as ASCII is in UTF-16). */
static int csv_start(struct csv_reader *r, struct err *e)
{
	const unsigned char *b = r->in;

	r->started = 1;
	if (csv_peekc(r) < 0)
		return 0;
	if (r->in_end >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF) ||
			       ((b[0] == 0) != (b[1] == 0))))
		return csv_fail(r, e, ERR_INVALID, "the file is UTF-16 (Excel's \"Unicode Text\"), not UTF-8; "
				CSV_SAVE_AS);
	if (r->in_end >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		r->in_pos = 3;
		r->bytes = 3;
	}
	return 0;
}

/* How a message names a separator. */
static const char *csv_separator_name(char c)
{
	return c == ',' ? "','" : c == ';' ? "';'" : "a tab";
}

/* 1 if c separates fields.  The first record takes any candidate and fixes
 * the first one it meets; another one in it is an error (rc < 0). */
static int csv_is_sep(struct csv_reader *r, struct err *e, int c, int *rc)
{
	char a, b;

	if (!r->in_header)
		return c == r->sep;
	if (c <= 0 || !strchr(csv_separators, c))
		return 0;
	if (!r->sep || c == r->sep) {
		r->sep = (char)c;
		return 1;
	}
	a = strchr(csv_separators, c) < strchr(csv_separators, r->sep) ? (char)c : r->sep;
	b = a == r->sep ? (char)c : r->sep;
	*rc = err_set(e, ERR_INVALID, "%s:%ld: the header has both %s and %s between its fields, so its "
		      "separator is unclear (put a column name that holds one in quotes)", r->name,
		      r->record_line, csv_separator_name(a), csv_separator_name(b));
	return 0;
}

static int csv_put(struct csv_reader *r, struct err *e, int c)
{
	if (r->data_len + 1 >= r->data_alloc) {
		size_t alloc = r->data_alloc ? r->data_alloc * 2 : 4096;
		char *p;

		if (r->data_len + 1 >= CSV_MAX_RECORD)
			return csv_fail(r, e, ERR_TOO_LARGE, "record longer than 1 MiB");
		p = realloc(r->data, alloc);
		if (!p)
			return err_set(e, ERR_NOMEM, "out of memory reading %s", r->name);
		r->data = p;
		r->data_alloc = alloc;
	}
	r->data[r->data_len++] = (char)c;
	return 0;
}

static int csv_begin_field(struct csv_reader *r, struct err *e)
{
	if (r->nfields == CSV_MAX_FIELDS)
		return csv_fail(r, e, ERR_TOO_LARGE, "more than 1024 fields in a record");
	r->start[r->nfields] = r->data_len;
	return 0;
}

static int csv_end_field(struct csv_reader *r, struct err *e)
{
	size_t i = r->nfields;
	int rc = csv_put(r, e, '\0');

	if (rc)
		return rc;
	r->len[i] = r->data_len - 1 - r->start[i];
	if (!utf8_valid(r->data + r->start[i], r->len[i]))
		return err_set(e, ERR_INVALID, "%s:%ld: field %zu is not valid UTF-8: the file was probably "
			       "saved in a Windows code page (Excel's \"CSV (Comma delimited)\"); " CSV_SAVE_AS,
			       r->name, r->record_line, i + 1);
	r->nfields++;
	return 0;
}

/* After a line end or the closing of the last field: consume "\n" after "\r". */
static int csv_end_line(struct csv_reader *r, struct err *e, int c)
{
	if (c == '\r') {
		if (csv_getc(r) != '\n')
			return csv_fail(r, e, ERR_INVALID, "carriage return not followed by a line feed");
	}
	if (c >= 0)
		r->line++;
	return 0;
}

static int csv_read_quoted(struct csv_reader *r, struct err *e)
{
	long opened = r->line;
	int c, rc;

	for (;;) {
		c = csv_getc(r);
		if (c < 0)
			return err_set(e, ERR_INVALID, "%s:%ld: quoted field opened here is never closed",
				       r->name, opened);
		if (c == 0)
			return csv_fail(r, e, ERR_INVALID, "NUL byte in field");
		if (c == '"') {
			if (csv_peekc(r) != '"')
				return 0;
			csv_getc(r);
		} else if (c == '\n') {
			r->line++;
		}
		rc = csv_put(r, e, c);
		if (rc)
			return rc;
	}
}

int csv_read_record(struct csv_reader *r, struct err *e)
{
	int c, rc = 0, quoted, any_quoted;

	if (!r->started && (rc = csv_start(r, e)) != 0)
		return rc;
	for (;;) {
		r->nfields = 0;
		r->data_len = 0;
		r->record_line = r->line;
		any_quoted = 0;
		c = csv_peekc(r);
		if (c < 0)
			return ferror(r->fp) ? csv_fail(r, e, ERR_IO, "read error") : 0;
		for (;;) {
			rc = csv_begin_field(r, e);
			if (rc)
				return rc;
			c = csv_getc(r);
			quoted = (c == '"');
			any_quoted |= quoted;
			if (quoted) {
				rc = csv_read_quoted(r, e);
				if (rc)
					return rc;
				c = csv_getc(r);
				if (c >= 0 && c != '\n' && c != '\r' && !csv_is_sep(r, e, c, &rc))
					return rc ? rc : csv_fail(r, e, ERR_INVALID,
								  "unexpected character after a closing quote");
			} else {
				while (c >= 0 && c != '\n' && c != '\r' && !csv_is_sep(r, e, c, &rc)) {
					if (rc)
						return rc;
					if (c == '"')
						return csv_fail(r, e, ERR_INVALID,
								"quote inside an unquoted field");
					if (c == 0)
						return csv_fail(r, e, ERR_INVALID, "NUL byte in field");
					rc = csv_put(r, e, c);
					if (rc)
						return rc;
					c = csv_getc(r);
				}
			}
			rc = csv_end_field(r, e);
			if (rc)
				return rc;
			if (c < 0 || c == '\n' || c == '\r')
				break;
		}
		rc = csv_end_line(r, e, c);
		if (rc)
			return rc;
		if (c < 0 && ferror(r->fp))
			return csv_fail(r, e, ERR_IO, "read error");
		/* a blank line, or nothing but separators (Excel writes such rows
		 * below a table): skip it, and let the next record set the separator */
		if (!any_quoted && r->data_len == r->nfields) {
			if (r->in_header)
				r->sep = 0;
			continue;
		}
		if (r->in_header) {
			r->in_header = 0;
			if (!r->sep)
				r->sep = ',';
		}
		return 1;
	}
}

size_t csv_nfields(const struct csv_reader *r)
{
	return r->nfields;
}

const char *csv_field(const struct csv_reader *r, size_t i)
{
	return r->data + r->start[i];
}

size_t csv_field_len(const struct csv_reader *r, size_t i)
{
	return r->len[i];
}

long csv_line(const struct csv_reader *r)
{
	return r->record_line;
}

uint64_t csv_bytes(const struct csv_reader *r)
{
	return r->bytes;
}

int csv_decimal_comma(const struct csv_reader *r)
{
	return r->sep == ';' || r->sep == '\t';
}

/* Length of the plain decimal at s with decimal mark `mark`, or 0 when s
 * does not start with one. */
static size_t csv_decimal_span(const char *s, char mark)
{
	size_t n = strspn(s, "0123456789");

	if (s[n] == mark)
		n += 1 + strspn(s + n + 1, "0123456789");
	if (n == 0 || (n == 1 && s[0] == mark))
		return 0;
	if (s[n] == 'e' || s[n] == 'E') {
		size_t digits;

		n += 1 + (s[n + 1] == '+' || s[n + 1] == '-');
		digits = strspn(s + n, "0123456789");
		if (digits == 0)
			return 0;
		n += digits;
	}
	return n;
}

int csv_parse_decimal(const char *s, int decimal_comma, double *out, const char **hint)
{
	char mark = decimal_comma ? ',' : '.', other = decimal_comma ? '.' : ',';
	size_t n = csv_decimal_span(s, mark);
	char small[64], *copy = small, *comma;

	*hint = "";
	if (n == 0 || s[n] != '\0') {
		if (strchr(s, other))
			*hint = decimal_comma ? ": with ';' or a tab between fields the decimal mark is a comma, "
						"and a '.' may group thousands (1.500 could mean 1500)"
					      : ": with ',' between fields the decimal mark is a point";
		return -1;
	}
	if (!decimal_comma) {
		*out = strtod(s, NULL);
		return 0;
	}
	/* strtod reads the C locale's '.', whatever the file wrote */
	if (n >= sizeof(small) && !(copy = malloc(n + 1)))
		return -1;
	memcpy(copy, s, n + 1);
	comma = strchr(copy, ',');
	if (comma)
		*comma = '.';
	*out = strtod(copy, NULL);
	if (copy != small)
		free(copy);
	return 0;
}

const char *csv_name(const struct csv_reader *r)
{
	return r->name;
}

int csv_map_header(const struct csv_reader *r, const char *const *names, const int *required,
		   long *col, struct err *e)
{
	size_t n = 0;

	while (names[n])
		col[n++] = -1;
	for (size_t f = 0; f < r->nfields; f++) {
		const char *h = csv_field(r, f);
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(h, names[i]) == 0)
				break;
		if (i == n)
			return csv_row_fail(r, e, h, "unknown column");
		if (col[i] >= 0)
			return csv_row_fail(r, e, h, "appears twice");
		col[i] = (long)f;
	}
	for (size_t i = 0; i < n; i++)
		if (required && required[i] && col[i] < 0)
			return csv_row_fail(r, e, names[i], "missing from the header");
	return 0;
}

int csv_row_fail(const struct csv_reader *r, struct err *e, const char *column, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return ERR_INVALID;
	snprintf(e->field, sizeof(e->field), "%s", column ? column : "");
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	e->code = ERR_INVALID;
	return csv_row_locate(r, e);
}

int csv_row_locate(const struct csv_reader *r, struct err *e)
{
	if (e->field[0])
		return err_prefix(e, "%s:%ld: column %s", r->name, r->record_line, e->field);
	return err_prefix(e, "%s:%ld", r->name, r->record_line);
}

int csv_quote_cell(struct strbuf *sb, const char *s)
{
	if (*s && strchr("=+-@\t\r", *s)) {
		struct strbuf cell;
		int rc;

		strbuf_init(&cell, 0);
		strbuf_addch(&cell, '\'');
		strbuf_addstr(&cell, s);
		rc = cell.failed ? -1 : csv_quote(sb, strbuf_str(&cell));
		strbuf_release(&cell);
		return rc;
	}
	return csv_quote(sb, s);
}

int csv_quote(struct strbuf *sb, const char *s)
{
	if (!strpbrk(s, ",\"\r\n"))
		return strbuf_addstr(sb, s);
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, *s);
	}
	return strbuf_addch(sb, '"');
}

/* row[] is kept in line order: once it is full, a later line is only
 * counted, and an earlier one takes the last place. */
/* Where the reason starts in text, placed as csv_row_locate places it
 * ("NAME:LINE: column X: why"): after the first ":LINE: " and the column;
 * 0 when text is not placed so. */
static size_t reason_at(const char *text, long line, const char *column)
{
	char mark[32];
	int n = snprintf(mark, sizeof(mark), ":%ld: ", line);
	const char *p = strstr(text, mark);
	size_t len = strlen(column);

	if (!p)
		return 0;
	p += n;
	if (len && strncmp(p, "column ", 7) == 0 && strncmp(p + 7, column, len) == 0 &&
	    strncmp(p + 7 + len, ": ", 2) == 0)
		p += 7 + len + 2;
	return (size_t)(p - text);
}

void csv_bad_rows_note(struct csv_bad_rows *b, long line, const struct err *why)
{
	int at = b->listed;

	b->bad++;
	if (at == CSV_LISTED_ROWS) {
		if (b->row[at - 1].line < line)
			return;
		at--;
	} else {
		b->listed++;
	}
	for (; at > 0 && b->row[at - 1].line > line; at--)
		b->row[at] = b->row[at - 1];
	b->row[at].line = line;
	snprintf(b->row[at].text, sizeof(b->row[at].text), "%s", why->text);
	snprintf(b->row[at].column, sizeof(b->row[at].column), "%s", why->field);
	b->row[at].why_at = reason_at(b->row[at].text, line, b->row[at].column);
}

void csv_bad_rows_print(const struct csv_bad_rows *b, FILE *fp)
{
	assert(b->listed <= CSV_LISTED_ROWS && b->listed <= b->bad);
	for (int i = 0; i < b->listed; i++)
		fprintf(fp, "%s\n", b->row[i].text);
	if (b->bad > b->listed)
		fprintf(fp, "... and %ld more bad %s\n", b->bad - b->listed,
			b->bad - b->listed == 1 ? "row" : "rows");
}
