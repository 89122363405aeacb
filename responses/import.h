/*
 * import.h - loading survey responses from CSV (docs/design.md): a file
 * either imports whole or changes nothing.  Rows are streamed, checked and
 * staged in TEMP tables (on disk: memory does not grow with the file), then
 * copied in short write transactions as rows of a pending import, which no
 * reader sees (DB_VISIBLE), and made visible at once by marking the import
 * done: the write lock is never held long, and a kiosk's post waits at
 * most one part of the copy.
 */
#ifndef SIPAS_IMPORT_H
#define SIPAS_IMPORT_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "../lib/csv.h"
#include "../lib/err.h"
#include "../lib/period.h"
#include "../forms/form.h"
#include "../forms/registry.h"

#define IMPORT_SKIP_EMPTY 1u    /* flag: skip empty questionnaires instead of refusing the file */
#define IMPORT_SKIPPED_LINES 10 /* skipped rows whose lines are kept for the message */

struct import_stats {
	long rows;        /* data rows read */
	long added;       /* rows stored */
	long duplicates;  /* rows identical to a stored response, skipped */
	long skipped;     /* empty questionnaires skipped (IMPORT_SKIP_EMPTY) */
	long skipped_lines[IMPORT_SKIPPED_LINES];  /* the lines of the first of them */
	double stage_seconds;  /* reading, checking and staging the rows */
	double lock_seconds;   /* holding the write lock, all parts of the copy together */
	double longest_hold;   /* the longest single hold of it */
};

/* What an import says as it goes, and the bad rows of a refused file.
 * Memory stays bounded however many rows are bad: only the messages of the
 * first CSV_LISTED_ROWS by line are kept. */
struct import_report {
	/* set by the caller (may be NULL): told, as soon as the first row of
	 * the file that falls in a period published for the form is read, once
	 * per period, of that row's line and the period */
	void (*published)(void *arg, const char *name, long line, const char *form,
			  const struct period *period);
	void *arg;
	/* set by import_csv */
	struct csv_bad_rows rows;
};

/* Import the CSV on `fp` (named `name` in messages, `size` bytes or 0 when
 * unknown, for progress) as responses to `form`; call inside no transaction.
 * Dates must lie from 2000-01-01 to tomorrow.  A row with no answer at all
 * (response_is_empty) refuses the file, or with IMPORT_SKIP_EMPTY in
 * `flags` is skipped and counted.  Every row is checked: a bad value, a
 * wrong number of fields, a repeat in the file or a contradiction of a
 * stored response is counted and listed in report->rows (csv.h); a file that stops being CSV
 * stops the check at that line, itself a bad row.  On failure nothing is
 * stored; `e` holds the one error ("NAME:LINE: column X: why", for a
 * header, say) or, when report->rows.bad, a summary of the bad rows. */
int import_csv(sqlite3 *db, const struct registry *reg, const struct form *form, FILE *fp,
	       const char *name, uint64_t size, unsigned flags, struct import_stats *stats,
	       struct import_report *report, struct err *e);

/* Remove the imports left pending by a process that is gone (killed while
 * it copied), with their rows, in short write transactions; an import whose
 * process runs is left alone.  Each removal is said on `say` (may be
 * NULL).  Call inside no transaction, at the start of init, serve and
 * import. */
int import_clean_pending(sqlite3 *db, FILE *say, struct err *e);

#endif
