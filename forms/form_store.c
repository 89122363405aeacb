/*
 * form_store.c - forms in the `forms` table (see form_store.h).  Content is
 * compared in canonical form (compact JSON with sorted keys), so whitespace
 * and key order in the file do not matter.
 */
#include "form_store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/array.h"
#include "../db/db.h"

int form_store_put(sqlite3 *db, const struct form *f, int *added, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *canon = form_canonical_json(f);
	int rc;

	if (!canon)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = db_prepare(db, "SELECT json FROM forms WHERE code = ?1", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (strcmp((const char *)sqlite3_column_text(st, 0), canon) != 0)
			rc = err_set_field(e, ERR_CONFLICT, "id",
					   "form '%s' is already stored with different content "
					   "(a changed questionnaire needs a new id)", f->id);
		*added = 0;
		goto out;
	}
	sqlite3_finalize(st);
	rc = db_prepare(db, "INSERT INTO forms(code, json, loaded_at) VALUES (?1, ?2, ?3)", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, canon, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "storing a form");
	else
		*added = 1;
out:
	sqlite3_finalize(st);
	free(canon);
	return rc;
}

static int parse_row(sqlite3_stmt *st, struct form **out, struct err *e)
{
	const char *code = (const char *)sqlite3_column_text(st, 0);
	const char *json = (const char *)sqlite3_column_text(st, 1);

	return form_parse(json, (size_t)sqlite3_column_bytes(st, 1), code, out, e);
}

int form_store_get(sqlite3 *db, const char *code, struct form **out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT code, json FROM forms WHERE code = ?1", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = parse_row(st, out, e);
	else
		rc = err_set_field(e, ERR_NOT_FOUND, "form", "unknown form '%s'", code);
	sqlite3_finalize(st);
	return rc;
}

int form_store_get_all(sqlite3 *db, struct form ***out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct form **v = NULL;
	size_t count = 0, cap = 0;
	int rc = db_prepare(db, "SELECT code, json FROM forms ORDER BY id", &st, e);

	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		if (ARRAY_RESERVE(v, cap, count) < 0) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		rc = parse_row(st, &v[count], e);
		if (!rc)
			count++;
	}
	sqlite3_finalize(st);
	if (rc) {
		form_store_free_all(v, count);
		return rc;
	}
	*out = v;
	*n = count;
	return 0;
}

void form_store_free_all(struct form **forms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		form_free(forms[i]);
	free(forms);
}
