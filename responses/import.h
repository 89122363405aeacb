/*
 * import.h - loading survey responses from CSV (docs/design.md): one file is one
 * transaction, so a file either imports whole or changes nothing.  Rows are
 * streamed; memory does not grow with the file.
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
};

/* Import the CSV on `fp` (named `name` in messages, `size` bytes or 0 when
 * unknown, for progress) as responses to `form`.  On failure nothing is
 * stored and `e` holds "NAME:LINE: column X: why". */
int import_csv(sqlite3 *db, const struct registry *reg, const struct form *form, FILE *fp,
	       const char *name, uint64_t size, struct import_stats *stats, struct err *e);

#endif
