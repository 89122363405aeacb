/*
 * scope.h - which agencies a console user may see (docs/console.md,
 * "Roles"): an office user every agency; an agency user its own and every
 * agency under it (the registry's parent, at any depth); a viewer the
 * agencies it was given and those under them, and none when given none.
 * The rule is applied in the queries, not only in the pages: a reader
 * adds SCOPE_SQL(column) to its WHERE and binds the scope with scope_bind.
 */
#ifndef SIPAS_SCOPE_H
#define SIPAS_SCOPE_H

#include <stddef.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "user.h"

/* A user's agencies.  Owns its arrays (scope_release). */
struct scope {
	int all;                  /* 1: every agency (office); the arrays are empty */
	long long *agency_ids;    /* ascending */
	size_t n;
	char *json;               /* agency_ids as a JSON array, for scope_bind; NULL when all */
};

/* A WHERE condition on an agency id column that holds only for agencies
 * in the scope bound to the statement's :scope parameter (scope_bind). */
#define SCOPE_SQL(column) "(:scope IS NULL OR " column " IN (SELECT value FROM json_each(:scope)))"

/* Fill *out with u's scope, from the registry as stored now.  *out owns
 * what it points to (scope_release), also on failure (then empty and
 * seeing nothing). */
int scope_of_user(sqlite3 *db, const struct user *u, struct scope *out, struct err *e);

/* 1 if agency_id is in s. */
int scope_has(const struct scope *s, long long agency_id);

/* 1 if the agency of code is in s, 0 if not or there is no such agency
 * (a caller answers both the same way: 403, naming nothing), -1 with e
 * filled when the database fails. */
int scope_has_code(sqlite3 *db, const struct scope *s, const char *code, struct err *e);

/* Bind s to stmt's :scope parameter (NULL for all); a statement without
 * one is a bug (asserted).  SQLITE_OK or SQLite's error code. */
int scope_bind(sqlite3_stmt *stmt, const struct scope *s);

/* Free what s owns and empty it (then it sees nothing).  NULL-safe. */
void scope_release(struct scope *s);

#endif
