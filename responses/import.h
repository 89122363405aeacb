/*
 * import.h - loading survey responses from CSV (docs/design.md): a file
 * either imports whole or changes nothing.  Rows are streamed, checked and
 * staged in TEMP tables (on disk: memory does not grow with the file), then
 * copied in one write transaction, the only time the import holds the
 * database's write lock.
 */
#ifndef SIPAS_IMPORT_H
#define SIPAS_IMPORT_H

#include <stdint.h>
#include <stdio.h>
#include <sqlite3.h>

#include "../lib/err.h"
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
	double lock_seconds;   /* holding the write lock: the copy and its commit */
};

/* Import the CSV on `fp` (named `name` in messages, `size` bytes or 0 when
 * unknown, for progress) as responses to `form`; call inside no transaction.
 * Dates must lie from 2000-01-01 to tomorrow.  A row with no answer at all
 * (response_is_empty) refuses the file, or with IMPORT_SKIP_EMPTY in
 * `flags` is skipped and counted.  On failure nothing is stored and `e`
 * holds "NAME:LINE: column X: why". */
int import_csv(sqlite3 *db, const struct registry *reg, const struct form *form, FILE *fp,
	       const char *name, uint64_t size, unsigned flags, struct import_stats *stats,
	       struct err *e);

#endif
