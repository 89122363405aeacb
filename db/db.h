/*
 * db.h - opening the SQLite database and keeping its schema current.
 * WAL mode, foreign keys on, synchronous=FULL (a commit is on disk when it
 * returns), schema versioned by PRAGMA user_version with forward-only
 * migrations.  Queries live with the modules that own the tables.
 */
#ifndef SIPAS_DB_H
#define SIPAS_DB_H

#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../lib/secret.h"

/* How long a connection waits for another's lock before SQLITE_BUSY. */
#define DB_BUSY_TIMEOUT_MS 10000

/* The schema version this build writes and expects. */
#define DB_SCHEMA_VERSION 12
#define DB_STRINGIFY_(x) #x
#define DB_STRINGIFY(x) DB_STRINGIFY_(x)
#define DB_SCHEMA_VERSION_TEXT DB_STRINGIFY(DB_SCHEMA_VERSION)  /* "10", for messages and tests */

/* The one rule of which stored responses exist for every reader (scoring,
 * reports, publishing, duplicate checks, the collector's pages): those
 * from the collector (no import) and those of an import marked done.  The
 * rows of an import still copying, or killed while it copied, are not
 * seen (docs/design.md).  Use as DB_VISIBLE("r") for a table alias r, or
 * DB_VISIBLE("responses"), in a WHERE clause. */
#define DB_VISIBLE(r) \
	"(" r ".import_id IS NULL OR " r ".import_id IN (SELECT id FROM imports WHERE state = 'done'))"

/* The next visibility sequence number (docs/hub.md), as an SQL expression
 * for the statement that makes a response visible: one more than any
 * given to a rating or an import.  Read inside the write transaction, so
 * numbers follow the commits.  "seq IS NOT NULL" lets max() read the last
 * entry of the partial index (responses_by_seq, imports_by_seq) instead
 * of scanning the table at every insert. */
#define DB_NEXT_SEQ \
	"(max((SELECT coalesce(max(seq), 0) FROM responses WHERE seq IS NOT NULL), " \
	"(SELECT coalesce(max(seq), 0) FROM imports WHERE seq IS NOT NULL)) + 1)"

/* ... and a dossier record's, numbered apart */
#define DB_NEXT_RECORD_SEQ "((SELECT coalesce(max(seq), 0) FROM dossier_records) + 1)"

enum db_open_flags {
	DB_CREATE = 1,   /* create the file and migrate it forward (sipas init) */
	DB_READONLY = 2  /* open without write access */
};

/* Open `path` and set the connection's pragmas.  Without DB_CREATE the file
 * must exist and be at DB_SCHEMA_VERSION.  On success *out is an owned
 * connection (close with db_close); on failure *out is untouched. */
int db_open(const char *path, int flags, sqlite3 **out, struct err *e);

/* Close a connection opened by db_open; NULL-safe. */
void db_close(sqlite3 *db);

/* Prepare `sql` on db into *stmt (finalize it); ERR_DB with sqlite's text. */
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt, struct err *e);

/* Run SQL that returns no rows (BEGIN, COMMIT, pragmas); ERR_DB on failure. */
int db_exec(sqlite3 *db, const char *sql, struct err *e);

/* Fill e with ERR_DB, the given context and sqlite's message; returns ERR_DB. */
int db_fail(sqlite3 *db, struct err *e, const char *context);

/* The value of setting `name` (table settings) into out (size bytes,
 * cut short if longer); "" when it is not set.  ERR_DB. */
int db_setting_get(sqlite3 *db, const char *name, char *out, size_t size, struct err *e);

/* Set setting `name` to value, or with value NULL forget it.  ERR_DB. */
int db_setting_set(sqlite3 *db, const char *name, const char *value, struct err *e);

/* Run `sql` with the n text parameters params[0..n-1] as ?1..?n (borrowed);
 * *yes is 1 when it yields a row, else 0. */
int db_query_exists(sqlite3 *db, const char *sql, const char *const *params, int n, int *yes,
		    struct err *e);

/* Run `sql` that yields one integer; *out set on success. */
int db_query_int(sqlite3 *db, const char *sql, long long *out, struct err *e);

/* The installation's HMAC key (signed phone links, receipts), created on
 * first use and kept in the database; call inside no transaction of the
 * caller's.  key gets SECRET_KEY_BYTES bytes. */
int db_server_key(sqlite3 *db, uint8_t key[SECRET_KEY_BYTES], struct err *e);

#endif
