/*
 * scope.c - which agencies a console user may see (see scope.h).
 */
#include "scope.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/strbuf.h"

/* The agencies given to the user and, at any depth, those whose parent
 * is one of them. */
static const char given_and_below[] =
	"WITH RECURSIVE seen(id) AS ("
	"  SELECT agency_id FROM user_agencies WHERE user_id = ?"
	"  UNION SELECT a.id FROM agencies a JOIN seen ON a.parent_id = seen.id)"
	"SELECT id FROM seen ORDER BY id";

int scope_of_user(sqlite3 *db, const struct user *u, struct scope *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct strbuf json;
	size_t cap = 0;
	int rc, step;

	memset(out, 0, sizeof(*out));
	if (u->role == USER_OFFICE) {
		out->all = 1;
		return 0;
	}
	strbuf_init(&json, 0);   /* no limit: the registry bounds it */
	rc = db_prepare(db, given_and_below, &st, e);
	if (rc)
		goto out;
	sqlite3_bind_int64(st, 1, u->id);
	strbuf_addch(&json, '[');
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);

		if (out->n == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			long long *grown = realloc(out->agency_ids, ncap * sizeof(*grown));

			if (!grown) {
				rc = err_set(e, ERR_NOMEM, "out of memory reading an account's agencies");
				goto out;
			}
			out->agency_ids = grown;
			cap = ncap;
		}
		out->agency_ids[out->n++] = id;
		strbuf_addf(&json, "%s%lld", out->n > 1 ? "," : "", id);
	}
	if (step != SQLITE_DONE) {
		rc = db_fail(db, e, "reading an account's agencies");
		goto out;
	}
	strbuf_addch(&json, ']');
	out->json = strbuf_detach(&json, NULL);
	if (!out->json)
		rc = err_set(e, ERR_NOMEM, "out of memory reading an account's agencies");
out:
	sqlite3_finalize(st);
	strbuf_release(&json);
	if (rc)
		scope_release(out);
	return rc;
}

int scope_has(const struct scope *s, long long agency_id)
{
	size_t lo = 0, hi = s->n;

	if (s->all)
		return 1;
	while (lo < hi) {   /* agency_ids ascend (ORDER BY id) */
		size_t mid = lo + (hi - lo) / 2;

		if (s->agency_ids[mid] == agency_id)
			return 1;
		if (s->agency_ids[mid] < agency_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int scope_has_code(sqlite3 *db, const struct scope *s, const char *code, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT id FROM agencies WHERE code = ?", &st, e), yes = 0;

	if (rc)
		return -1;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		yes = scope_has(s, sqlite3_column_int64(st, 0));
		break;
	case SQLITE_DONE:
		break;
	default:
		db_fail(db, e, "reading an agency");
		yes = -1;
	}
	sqlite3_finalize(st);
	return yes;
}

int scope_bind(sqlite3_stmt *stmt, const struct scope *s)
{
	int i = sqlite3_bind_parameter_index(stmt, ":scope");

	assert(i > 0);   /* the statement uses SCOPE_SQL */
	if (s->all)
		return sqlite3_bind_null(stmt, i);
	/* a scope seeing nothing binds "[]", never NULL (which is all) */
	return sqlite3_bind_text(stmt, i, s->json ? s->json : "[]", -1, SQLITE_STATIC);
}

void scope_release(struct scope *s)
{
	if (!s)
		return;
	free(s->agency_ids);
	free(s->json);
	memset(s, 0, sizeof(*s));
}
