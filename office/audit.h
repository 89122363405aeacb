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

/* What audit_verify found: the log intact, or the first entry at fault. */
enum audit_fault {
	AUDIT_INTACT,
	AUDIT_EDITED,     /* its hash does not follow from its fields and the entry before it */
	AUDIT_DELETED,    /* a missing id: in the middle (a gap), or at the end (sqlite_sequence) */
	AUDIT_MALFORMED   /* its hash is not a SHA-256, or a field has the wrong type */
};

struct audit_verdict {
	int fault;                       /* enum audit_fault */
	long long id;                    /* the first entry at fault (for AUDIT_DELETED, the first missing id) */
	long long entries;               /* rows read (all of them when intact) */
	char head[AUDIT_HASH_HEX + 1];   /* the last row's hash, as audit_head */
	long long known_id;              /* the entry whose hash is audit_verify's known head
					  * (0 for an empty log's zeros); -1: no entry has it */
};

/* "edited", "deleted", "malformed"; "intact" for AUDIT_INTACT. */
const char *audit_fault_name(int fault);

/* Walk the whole log in id order, one row at a time, on one snapshot (its
 * own read transaction: call it outside any transaction), recomputing
 * each hash, and fill *out with the first fault found, or AUDIT_INTACT.
 * A rewrite of the whole chain from some row on is not a fault here (see
 * docs/console.md): only a head kept elsewhere shows it, which known_head
 * (hex, as audit_head wrote it then; NULL: none) is: out->known_id names
 * the entry, up to the first fault, whose hash it is, or -1.  A broken log
 * is not an error: 0 with out->fault set; ERR_DB when reading fails. */
int audit_verify(sqlite3 *db, const char *known_head, struct audit_verdict *out, struct err *e);

/* One row as audit_list reads it; strings borrowed for the callback only. */
struct audit_row {
	long long id, at;
	const char *actor, *address, *action, *subject, *outcome;
	char hash[AUDIT_HASH_HEX + 1];
};

/* Which rows audit_list reads: every condition set must hold. */
struct audit_filter {
	long long since;          /* at >= since (Unix seconds); 0: from the first */
	const char *actor;        /* exactly this actor; NULL: any */
	const char *action;       /* exactly this action; NULL: any */
	long long before_id;      /* id < before_id, for paging back; 0: no bound */
	long long limit;          /* at most this many rows; 0: all */
	int newest_first;         /* id descending instead of ascending */
};

/* Call fn for every row f lets through (f NULL: every row), one at a time
 * from one statement; a non-zero return of fn stops the listing and is
 * returned.  ERR_DB when reading fails. */
int audit_list(sqlite3 *db, const struct audit_filter *f, int (*fn)(const struct audit_row *row, void *arg),
	       void *arg, struct err *e);

#endif
