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

struct import_stats {
	long rows;        /* data rows read */
	long added;       /* rows stored */
	long duplicates;  /* rows identical to a stored response, skipped */
	double stage_seconds;  /* reading, checking and staging the rows */
	double lock_seconds;   /* holding the write lock: the copy and its commit */
};

/* Import the CSV on `fp` (named `name` in messages, `size` bytes or 0 when
 * unknown, for progress) as responses to `form`; call inside no transaction.
 * Dates must lie from 2000-01-01 to tomorrow.  On failure nothing is stored
 * and `e` holds "NAME:LINE: column X: why". */
int import_csv(sqlite3 *db, const struct registry *reg, const struct form *form, FILE *fp,
	       const char *name, uint64_t size, struct import_stats *stats, struct err *e);

#endif
