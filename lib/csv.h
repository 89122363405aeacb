/*
 * csv.h - a streaming RFC 4180 reader: quoted fields, doubled quotes,
 * embedded separators and newlines, CRLF or LF line ends, a leading UTF-8
 * BOM.  It reads one record at a time from a FILE, so memory is bounded by
 * the largest record, not the file.  It does not interpret the fields.
 *
 * Files as spreadsheets save them (docs/design.md, "CSV files"): the
 * separator is the one of ',' ';' and tab that stands between the fields
 * of the first record (the header); Excel with Vietnamese regional settings
 * writes ';' and decimal commas, so a file separated by ';' or tab has a
 * decimal comma (csv_decimal_comma, csv_parse_decimal).  Blank lines and
 * rows of nothing but separators are skipped.  Every field must be valid
 * UTF-8 without NUL; a UTF-16 file or invalid UTF-8 gets an error that says
 * how to save the file as UTF-8.
 */
#ifndef SIPAS_CSV_H
#define SIPAS_CSV_H

#include <stdio.h>
#include <stdint.h>

#include "err.h"
#include "strbuf.h"

#define CSV_MAX_RECORD (1u << 20) /* bytes in one record, quotes excluded */
#define CSV_MAX_FIELDS 1024

struct csv_reader;

/* A reader over `fp` (not closed by the reader); `name` is used in messages
 * ("FILE:LINE: ...") and copied.  Returns NULL on out of memory. */
struct csv_reader *csv_reader_new(FILE *fp, const char *name);

/* Read the next record.  Returns 1 when a record was read, 0 at end of file,
 * or a negative err_code with "NAME:LINE: why" in `e`.  The first record
 * read sets the separator: the one of ',' ';' and tab outside quotes in it
 * (',' when none is); a first record with two of them is ERR_INVALID. */
int csv_read_record(struct csv_reader *r, struct err *e);

/* Fields of the current record: NUL-terminated, owned by the reader, valid
 * until the next csv_read_record.  `i` must be < csv_nfields(). */
size_t csv_nfields(const struct csv_reader *r);
const char *csv_field(const struct csv_reader *r, size_t i);
size_t csv_field_len(const struct csv_reader *r, size_t i);

/* The line on which the current record starts (1-based). */
long csv_line(const struct csv_reader *r);

/* Bytes consumed from the stream so far (for progress). */
uint64_t csv_bytes(const struct csv_reader *r);

/* 1 when the file's numbers have a decimal comma: its separator (from the
 * first record) is ';' or tab; 0 when it is ','. */
int csv_decimal_comma(const struct csv_reader *r);

/* Parse `s` as a plain decimal number: digits with an optional fraction
 * after the decimal mark (',' when decimal_comma, else '.'), and an
 * optional exponent (e or E, a sign, digits); no sign, space, thousands
 * separator, hexadecimal, inf or nan.  Every number of every file sipas
 * reads goes through it.  Returns 0 with *out set, or -1 with *hint set
 * to "" or, when s has the other decimal mark, a clause beginning ": "
 * for the caller to append to its message (with a decimal comma a '.' is
 * refused: 70.765 could be 70765 with its thousands grouped). */
int csv_parse_decimal(const char *s, int decimal_comma, double *out, const char **hint);

/* The name given to csv_reader_new. */
const char *csv_name(const struct csv_reader *r);

/* Refuse the current record: fill e with ERR_INVALID, field `column` and
 * "NAME:LINE: column COLUMN: why" ("NAME:LINE: why" when column is NULL),
 * why formatted printf-style.  Returns ERR_INVALID. */
int csv_row_fail(const struct csv_reader *r, struct err *e, const char *column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Place an error already in e (from checking one field of the current
 * record, e->field naming it) the same way: "NAME:LINE: column X: why".
 * Returns e->code. */
int csv_row_locate(const struct csv_reader *r, struct err *e);

/* Free the reader (not its FILE).  NULL-safe. */
void csv_reader_free(struct csv_reader *r);

#define CSV_LISTED_ROWS 100   /* bad rows of a refused file whose messages are kept */

/* The bad rows of a file being checked: how many, and the messages
 * ("NAME:LINE: column X: why") of the first CSV_LISTED_ROWS by line, so
 * memory stays bounded however many rows are bad.  Zero it before use. */
struct csv_bad_rows {
	long bad;      /* bad rows found */
	int listed;    /* of them in row[], in line order: min(bad, CSV_LISTED_ROWS) */
	struct csv_bad_row {
		long line;
		char text[sizeof(((struct err *)0)->text)];
		char column[sizeof(((struct err *)0)->field)];  /* "" when the row is at fault whole */
		size_t why_at;   /* where in text the reason starts, after "NAME:LINE: column X: " */
	} row[CSV_LISTED_ROWS];
};

/* Count the bad row on `line` and keep why's text when it is among the
 * first CSV_LISTED_ROWS by line.  Lines may come in any order (several
 * checks each meet rows in line order).  Can't fail. */
void csv_bad_rows_note(struct csv_bad_rows *b, long line, const struct err *why);

/* Print the kept messages to fp, one a line, then how many more. */
void csv_bad_rows_print(const struct csv_bad_rows *b, FILE *fp);

/* Map the current record (a header) onto `names` (NULL-terminated): col[i]
 * gets the field index of names[i], or -1 when absent.  Unknown or repeated
 * columns, and absent ones flagged in `required` (a parallel array), are
 * ERR_INVALID naming the column: "NAME:LINE: column X: why". */
int csv_map_header(const struct csv_reader *r, const char *const *names, const int *required,
		   long *col, struct err *e);

/* Append `s` to sb as one CSV field, quoted when it holds a comma, quote,
 * CR or LF (RFC 4180).  Returns strbuf_add's result. */
int csv_quote(struct strbuf *sb, const char *s);

/* As csv_quote, for a file people open in a spreadsheet: a cell that would
 * run as a formula there (starting with = + - @, a tab or a carriage
 * return) is written with a leading ' so it stays text.  Every text cell of
 * every CSV a person may open goes through it (rep_score_csv: the open
 * data and `sipas score --format csv`); numbers the program formats itself
 * (%g, %ld) do not: a number such as -0.5 is no formula, and a ' would
 * turn it into text for every reader of the open data. */
int csv_quote_cell(struct strbuf *sb, const char *s);

#endif
