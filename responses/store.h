/*
 * store.h - writing responses to the database, idempotently (docs/design.md).
 * A response whose response_id is already stored for its form is a duplicate
 * when its content is identical (compared by a SHA-256 digest of a canonical
 * encoding) and a conflict otherwise; a second response for one form and
 * dossier code is a conflict.  Transactions belong to the caller.
 */
#ifndef SIPAS_STORE_H
#define SIPAS_STORE_H

#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "response.h"

#define STORE_DIGEST_BYTES 16

struct store;

/* Prepare the statements for writing responses of form `form_code` on db
 * (borrowed; must outlive the store).  *out is owned (store_free). */
int store_open(sqlite3 *db, const char *form_code, struct store **out, struct err *e);

/* Store `r` (already checked with response_check).  On success sets
 * *duplicate (1 when the identical response was already stored, nothing
 * written) and digest (the content digest, also the basis of receipts).
 * ERR_CONFLICT naming response_id or dossier_code when it contradicts a
 * stored response; ERR_DB on a database error. */
int store_put(struct store *s, const struct response *r, int *duplicate,
	      uint8_t digest[STORE_DIGEST_BYTES], struct err *e);

/* Forget the cached stratum and PSU ids.  Call after rolling back any
 * store_put: the ids it interned may be gone. Can't fail. */
void store_reset_cache(struct store *s);

/* Finalize the statements; NULL-safe. */
void store_free(struct store *s);

#endif
