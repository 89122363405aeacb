/*
 * form_store.h - forms kept in the database by id (docs/design.md).  A form id
 * never changes meaning: storing different content under a stored id is
 * refused, so a changed questionnaire must take a new id.
 */
#ifndef SIPAS_FORM_STORE_H
#define SIPAS_FORM_STORE_H

#include <sqlite3.h>

#include "../lib/err.h"
#include "form.h"

/* Store `f` (inside the caller's transaction).  Sets *added to 1 when it was
 * new, 0 when the identical form was already stored.  ERR_CONFLICT when the id
 * is stored with other content. */
int form_store_put(sqlite3 *db, const struct form *f, int *added, struct err *e);

/* Load the form stored as `code`; *out is owned (form_free).  ERR_NOT_FOUND
 * naming the form when there is none. */
int form_store_get(sqlite3 *db, const char *code, struct form **out, struct err *e);

/* All stored forms, ordered by id: *out is an owned array of *n owned forms
 * (form_store_free_all). */
int form_store_get_all(sqlite3 *db, struct form ***out, size_t *n, struct err *e);

/* Free what form_store_get_all returned; NULL-safe. */
void form_store_free_all(struct form **forms, size_t n);

#endif
