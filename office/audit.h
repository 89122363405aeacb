/*
 * audit.h - the audit log (docs/console.md, "Audit log"): every
 * administrative action, from the console or the command line, appended to
 * one table with when, who, from where, what and its outcome.  Each row
 * carries a SHA-256 chained over the previous row's, so audit_verify finds
 * an edited or deleted row, and the head (audit_head), recorded on every
 * publication, catches a rewrite of the whole chain against a copy kept
 * elsewhere.
 */
#ifndef SIPAS_AUDIT_H
#define SIPAS_AUDIT_H

#include <stddef.h>
#include <sqlite3.h>

#include "../lib/err.h"

#define AUDIT_HASH_HEX 64           /* a row's hash in hex, without the NUL */
#define AUDIT_ACTOR_MAX 96          /* bytes, e.g. "cli:root" or a login */

/* One action to record.  Strings are borrowed; NULL address means the
 * command line ("local"). */
struct audit_entry {
	long long at;                /* Unix seconds */
	const char *actor;           /* a console login, or audit_cli_actor's */
	const char *address;         /* the client address, NULL for the command line */
	const char *action;          /* from docs/console.md's list: "user.add", "publish", ... */
	const char *subject;         /* what it acted on: a login, a device id, a period, a file */
	const char *outcome;         /* "ok", or why it failed */
};

/* Append entry, chaining its hash on the last row's.  Runs inside the
 * caller's write transaction (asserted: the last row must not change
 * between reading it and appending), so the action and its record commit
 * together; an action that failed is recorded in a transaction of its
 * own, with its outcome.  ERR_DB on failure. */
int audit_append(sqlite3 *db, const struct audit_entry *entry, struct err *e);

/* "cli:" and the name of the OS user running the process (or its uid)
 * into out.  Can't fail. */
void audit_cli_actor(char out[AUDIT_ACTOR_MAX + 1]);

/* The last row's hash in hex into out (AUDIT_HASH_HEX digits and a NUL),
 * or 64 zeros when the log is empty.  ERR_DB on failure. */
int audit_head(sqlite3 *db, char out[AUDIT_HASH_HEX + 1], struct err *e);

#endif
