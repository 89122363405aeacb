/*
 * builtin.h - the forms and registry files that ship in forms/, as compiled
 * into the binary (forms/builtin_data.S), and loading them into a database.
 * The blobs are read-only and never freed.
 */
#ifndef SIPAS_BUILTIN_H
#define SIPAS_BUILTIN_H

#include <sqlite3.h>

#include "../lib/err.h"

struct builtin_file {
	const char *name;   /* path in the source tree, for messages */
	const char *data;   /* the file's bytes, NUL-terminated */
};

/* The shipped forms, ended by an entry whose name is NULL. */
extern const struct builtin_file builtin_forms[];

/* The shipped registry files: agencies.csv, sectors.csv, targets.csv. */
extern const struct builtin_file builtin_registry[3];

/* Store the shipped forms (inside the caller's transaction); *added counts
 * the forms that were new.  ERR_CONFLICT if a stored form differs. */
int builtin_load_forms(sqlite3 *db, int *added, struct err *e);

/* Load the shipped registry (inside the caller's transaction). */
int builtin_load_registry(sqlite3 *db, struct err *e);

#endif
