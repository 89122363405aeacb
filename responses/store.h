/*
 * store.h - writing responses to the database, idempotently (docs/design.md).
 * A response whose response_id is already stored for its form and agency is
 * a duplicate when its content is identical (compared by a SHA-256 digest of
 * a canonical encoding) and a conflict otherwise; a second response for one
 * form, agency and dossier code is a conflict.  Response ids and dossier
 * codes are each agency's own: two agencies may use the same ones.
 * Transactions belong to the caller.
 *
 * Two kinds of store: a live one (store_open, store_put) writes to the
 * responses table; a staging one (store_stage_open, store_stage,
 * store_stage_check, store_stage_conflicts, store_stage_copy) checks rows
 * into TEMP tables of the same connection first, taking no lock on the live
 * tables, and copies them over in parts, as rows of an import that readers
 * do not see until it is done (DB_VISIBLE).  Refused rows are told one by one
 * (store_refuse_fn), so that a caller can list them all.
 */
#ifndef SIPAS_STORE_H
#define SIPAS_STORE_H

#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../lib/period.h"
#include "response.h"

#define STORE_DIGEST_BYTES 16

struct store;

/* Prepare the statements for writing responses of form `form_code` on db
 * (borrowed; must outlive the store).  *out is owned (store_free). */
int store_open(sqlite3 *db, const char *form_code, struct store **out, struct err *e);

/* The digest of `r`'s content (checked with response_check), a SHA-256 of
 * a canonical encoding: equal exactly when two responses are the same
 * submission; also the basis of receipts.  Needs no store and allocates
 * nothing, so that the collector's request threads compute it before a
 * rating reaches the single writer.  ERR_INTERNAL if hashing fails. */
int store_digest(const struct response *r, uint8_t digest[STORE_DIGEST_BYTES], struct err *e);

/* Store `r` (already checked with response_check), whose digest is
 * store_digest's, with received_at set to r->received_at, or the time now
 * when that is 0; a kiosk's rating (r->device_id) with its device, and
 * with the officer on duty there when that kiosk's shift is of r's day
 * (devices.officer_id, officer_day), else none.  On success sets *duplicate (1 when the identical
 * response was already stored, nothing written).  ERR_CONFLICT naming
 * response_id or dossier_code when it contradicts a stored response, or
 * takes the id or dossier of a row of an import not done yet (uniqueness
 * holds for those too); ERR_DB on a database error. */
int store_put(struct store *s, const struct response *r, const uint8_t digest[STORE_DIGEST_BYTES],
	      int *duplicate, struct err *e);

/* A staging store for responses of form `form_code` on db (borrowed): it
 * creates the TEMP staging tables, empty, and drops them when freed.  *out
 * is owned (store_free). */
int store_stage_open(sqlite3 *db, const char *form_code, struct store **out, struct err *e);

/* Stage `r` (checked with response_check), found on `line` of its file. */
int store_stage(struct store *s, const struct response *r, long line, struct err *e);

/* Told of a staged row that is refused: the file line it was staged from
 * and why, ERR_CONFLICT with e->field naming response_id or dossier_code.
 * A non-zero return stops the listing and is returned. */
typedef int (*store_refuse_fn)(void *arg, long line, struct err *why);

/* After the last store_stage: what the file repeats.  Identical repeats of
 * a response are dropped and counted in *duplicates; a response id used
 * again with other content, or a dossier code used again by another
 * response, is refused: refuse() is called for each such repeat, in file
 * order, and the row is dropped (so a later check does not name it again). */
int store_stage_check(struct store *s, long *duplicates, store_refuse_fn refuse, void *arg,
		      struct err *e);

/* refuse() for each staged row, in file order, that contradicts a stored
 * response not of import `import_id` (0: of none yet): its id with other
 * content, its id in an import not done yet, or its dossier code taken by
 * another response.  So a file already refused for other rows lists these
 * too, and after the copy (store_stage_copy skips such rows) the rows
 * skipped are told apart from identical repeats.  Reads the live tables;
 * takes no write lock. */
int store_stage_conflicts(struct store *s, long long import_id, store_refuse_fn refuse, void *arg,
			  struct err *e);

/* Copy the next part of the staged rows, at most n of them in file order,
 * into responses as rows of import `import_id` (imports.id: invisible
 * until it is done, see DB_VISIBLE), stamped received_at, interning their
 * strata and PSUs; call inside the caller's write transaction, again until
 * *done.  *added counts the rows of this part stored: the others are
 * identical to stored ones or contradict them (store_stage_conflicts). */
int store_stage_copy(struct store *s, long long import_id, int64_t received_at, long n, long *added,
		     int *done, struct err *e);

/* The rows staged and not dropped by store_stage_check. */
long store_staged(const struct store *s);

/* Forget the cached stratum and PSU ids.  Call after rolling back any
 * store_put: the ids it interned may be gone. Can't fail. */
void store_reset_cache(struct store *s);

/* Finalize the statements; NULL-safe. */
void store_free(struct store *s);

#endif
