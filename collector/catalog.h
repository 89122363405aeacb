/*
 * catalog.h - what the collector serves from what `sipas init` loaded: the
 * forms and the registry (agencies, sectors, targets).  A catalog is
 * immutable and reference-counted: a request holds the one that was
 * current when it started until its reply is made (a submission's checked
 * response points into it), so SIGHUP can swap in a fresh catalog while
 * requests are in flight without stopping or dropping any of them.
 */
#ifndef SIPAS_COL_CATALOG_H
#define SIPAS_COL_CATALOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <sqlite3.h>

#include "../forms/form.h"
#include "../forms/registry.h"
#include "../lib/err.h"

struct col_catalog {
	atomic_int refs;
	struct form **forms;      /* ordered by id */
	size_t n_forms;
	struct registry *reg;
};

/* Read forms and registry from db.  On success *out is a catalog holding
 * one reference (the caller's, dropped with col_catalog_release). */
int col_catalog_load(sqlite3 *db, struct col_catalog **out, struct err *e);

/* The stored form with this id, owned by the catalog; NULL when none. */
const struct form *col_catalog_form(const struct col_catalog *c, const char *id);

/* Take one more reference; returns c.  Can't fail. */
struct col_catalog *col_catalog_hold(struct col_catalog *c);

/* Drop a reference; the last one frees the catalog.  NULL-safe. */
void col_catalog_release(struct col_catalog *c);

#endif
