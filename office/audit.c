/*
 * audit.c - the audit log and its hash chain (see audit.h).  A row's hash
 * is SHA-256 over the previous row's hash (32 zero bytes for the first)
 * and its own fields, each length-prefixed so that no two rows encode the
 * same bytes (audit_encode); the hashing itself is GnuTLS's (lib/secret.h).
 */
#include "audit.h"

#include <assert.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../db/db.h"
#include "../lib/secret.h"
#include "../lib/strbuf.h"

#define AUDIT_ADDRESS_LOCAL "local"

static const char *const fault_names[] = { "intact", "edited", "deleted", "malformed" };

const char *audit_fault_name(int fault)
{
	assert(fault >= AUDIT_INTACT && fault <= AUDIT_MALFORMED);
	return fault_names[fault];
}

static void put_u64(struct strbuf *sb, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	strbuf_add(sb, b, sizeof(b));
}

static void put_text(struct strbuf *sb, const char *s, size_t n)
{
	put_u64(sb, n);
	strbuf_add(sb, s, n);
}

/* The bytes a row's hash is taken over: the previous hash, then id and at
 * as 8-byte big-endian integers, then actor, address, action, subject and
 * outcome, each as its length (8 bytes, big-endian) and its bytes. */
static void audit_encode(struct strbuf *sb, const uint8_t prev[SECRET_HASH_BYTES], long long id,
			 long long at, const char *const text[5], const size_t len[5])
{
	strbuf_reset(sb);
	strbuf_add(sb, prev, SECRET_HASH_BYTES);
	put_u64(sb, (uint64_t)id);
	put_u64(sb, (uint64_t)at);
	for (int i = 0; i < 5; i++)
		put_text(sb, text[i], len[i]);
}

static int row_hash(struct strbuf *sb, const uint8_t prev[SECRET_HASH_BYTES], long long id, long long at,
		    const char *const text[5], const size_t len[5], uint8_t out[SECRET_HASH_BYTES], struct err *e)
{
	audit_encode(sb, prev, id, at, text, len);
	if (sb->failed)
		return err_set(e, ERR_NOMEM, "out of memory hashing an audit entry");
	return secret_hash(sb->buf, sb->len, out, e);
}

/* The columns every reader takes, in the order of audit_row's strings. */
#define AUDIT_COLUMNS "id, at, actor, address, action, subject, outcome, hash"

/* The five text columns (2..6) of a row of AUDIT_COLUMNS. */
static void row_texts(sqlite3_stmt *st, const char *text[5], size_t len[5])
{
	for (int i = 0; i < 5; i++) {
		text[i] = (const char *)sqlite3_column_text(st, 2 + i);
		len[i] = (size_t)sqlite3_column_bytes(st, 2 + i);
		if (!text[i])
			text[i] = "";
	}
}

/* A stored hash as exactly 32 bytes: 1 if it is a 32-byte blob, else 0
 * with out zero-padded from what there is. */
static int stored_hash(sqlite3_stmt *st, int col, uint8_t out[SECRET_HASH_BYTES])
{
	int blob = sqlite3_column_type(st, col) == SQLITE_BLOB;   /* before a conversion */
	const void *h = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	memset(out, 0, SECRET_HASH_BYTES);
	if (h)
		memcpy(out, h, n < SECRET_HASH_BYTES ? n : SECRET_HASH_BYTES);
	return blob && n == SECRET_HASH_BYTES;
}

/* The last row's id and hash (0 and zeros when the log is empty). */
static int last_row(sqlite3 *db, long long *id, uint8_t hash[SECRET_HASH_BYTES], struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &st, e);

	*id = 0;
	memset(hash, 0, SECRET_HASH_BYTES);
	if (rc)
		return rc;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*id = sqlite3_column_int64(st, 0);
		stored_hash(st, 1, hash);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_fail(db, e, "reading the audit log");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Run sql with ?1 = blob and ?2 = id. */
static int exec_hash(sqlite3 *db, const char *sql, const uint8_t hash[SECRET_HASH_BYTES], long long id,
		     struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e);

	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, hash, SECRET_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "writing the audit log");
	sqlite3_finalize(st);
	return rc;
}

int audit_append(sqlite3 *db, const struct audit_entry *entry, struct err *e)
{
	const char *address = entry->address ? entry->address : AUDIT_ADDRESS_LOCAL;
	const char *text[5] = { entry->actor, address, entry->action, entry->subject, entry->outcome };
	uint8_t prev[SECRET_HASH_BYTES], hash[SECRET_HASH_BYTES];
	struct strbuf sb = STRBUF_INIT;
	sqlite3_stmt *st = NULL;
	long long prev_id, id;
	size_t len[5];
	int rc;

	/* inside the caller's write transaction: nothing can append between
	 * reading the last row and chaining on it */
	assert(!sqlite3_get_autocommit(db));
	for (int i = 0; i < 5; i++) {
		assert(text[i]);
		len[i] = strlen(text[i]);
	}
	rc = last_row(db, &prev_id, prev, e);
	if (rc)
		return rc;
	/* the id is AUTOINCREMENT's (never reused, so a deleted row leaves a
	 * gap): insert to learn it, then store the hash that covers it */
	rc = db_prepare(db, "INSERT INTO audit(at, actor, address, action, subject, outcome, hash) "
			"VALUES (?, ?, ?, ?, ?, ?, zeroblob(32))", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, entry->at);
	for (int i = 0; i < 5; i++)
		sqlite3_bind_text(st, 2 + i, text[i], (int)len[i], SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "writing the audit log");
		goto out;
	}
	id = sqlite3_last_insert_rowid(db);
	assert(id > prev_id);
	rc = row_hash(&sb, prev, id, entry->at, text, len, hash, e);
	if (!rc)
		rc = exec_hash(db, "UPDATE audit SET hash = ?1 WHERE id = ?2", hash, id, e);
out:
	sqlite3_finalize(st);
	strbuf_release(&sb);
	return rc;
}

void audit_cli_actor(char out[AUDIT_ACTOR_MAX + 1])
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	uid_t uid = getuid();

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) == 0 && found && found->pw_name[0])
		snprintf(out, AUDIT_ACTOR_MAX + 1, "cli:%s", found->pw_name);
	else
		snprintf(out, AUDIT_ACTOR_MAX + 1, "cli:%lu", (unsigned long)uid);
}

int audit_head(sqlite3 *db, char out[AUDIT_HASH_HEX + 1], struct err *e)
{
	uint8_t hash[SECRET_HASH_BYTES];
	long long id;
	int rc = last_row(db, &id, hash, e);

	secret_hex(hash, sizeof(hash), out);
	return rc;
}

/* AUTOINCREMENT's highest id ever given (0: none yet), which a deleted
 * last row leaves above the last id. */
static int highest_id(sqlite3 *db, long long *seq, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT seq FROM sqlite_sequence WHERE name = 'audit'", &st, e), step;

	*seq = 0;
	if (rc)
		return rc;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*seq = sqlite3_column_int64(st, 0);
	else if (step != SQLITE_DONE)
		rc = db_fail(db, e, "reading the audit log's sequence");
	sqlite3_finalize(st);
	return rc;
}

/* Walk the rows of st (AUDIT_COLUMNS, id ascending) until the first fault,
 * noting the entry whose hash is known (NULL: none). */
static int walk(sqlite3 *db, sqlite3_stmt *st, const uint8_t *known, struct audit_verdict *out,
		long long *last_id, struct err *e)
{
	uint8_t prev[SECRET_HASH_BYTES] = { 0 }, stored[SECRET_HASH_BYTES], want[SECRET_HASH_BYTES];
	struct strbuf sb = STRBUF_INIT;
	int rc = 0, step;

	*last_id = 0;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		const char *text[5];
		size_t len[5];

		out->entries++;
		if (id != *last_id + 1) {
			out->fault = AUDIT_DELETED;
			out->id = *last_id + 1;
			goto out;
		}
		*last_id = id;
		if (!stored_hash(st, 7, stored) || sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
			out->fault = AUDIT_MALFORMED;
			out->id = id;
			goto out;
		}
		row_texts(st, text, len);
		rc = row_hash(&sb, prev, id, sqlite3_column_int64(st, 1), text, len, want, e);
		if (rc)
			goto out;
		if (memcmp(want, stored, sizeof(want)) != 0) {
			out->fault = AUDIT_EDITED;
			out->id = id;
			goto out;
		}
		memcpy(prev, stored, sizeof(prev));
		if (known && out->known_id < 0 && memcmp(known, stored, sizeof(stored)) == 0)
			out->known_id = id;
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, e, "reading the audit log");
out:
	strbuf_release(&sb);
	return rc;
}

int audit_verify(sqlite3 *db, const char *known_head, struct audit_verdict *out, struct err *e)
{
	static const uint8_t zeros[SECRET_HASH_BYTES];
	uint8_t known[SECRET_HASH_BYTES];
	sqlite3_stmt *st = NULL;
	long long seq = 0, last_id = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	assert(sqlite3_get_autocommit(db));
	if (known_head && (strlen(known_head) != AUDIT_HASH_HEX || secret_unhex(known_head, known, sizeof(known))))
		return err_set_field(e, ERR_INVALID, "head", "a head is %d hex digits", AUDIT_HASH_HEX);
	/* the head of an empty log is every log's start */
	out->known_id = known_head && memcmp(known, zeros, sizeof(known)) != 0 ? -1 : 0;
	/* one snapshot: an entry appended meanwhile would otherwise raise the
	 * sequence above the rows read and look like a deleted last row */
	rc = db_exec(db, "BEGIN", e);
	if (rc)
		return rc;
	rc = highest_id(db, &seq, e);
	if (!rc)
		rc = db_prepare(db, "SELECT " AUDIT_COLUMNS " FROM audit ORDER BY id", &st, e);
	if (!rc)
		rc = walk(db, st, known_head ? known : NULL, out, &last_id, e);
	if (!rc && out->fault == AUDIT_INTACT && seq > last_id) {
		out->fault = AUDIT_DELETED;
		out->id = last_id + 1;
	}
	if (!rc)
		rc = audit_head(db, out->head, e);
	sqlite3_finalize(st);
	db_exec(db, "COMMIT", NULL);
	return rc;
}

#define AUDIT_LIST_SQL "SELECT " AUDIT_COLUMNS " FROM audit WHERE at >= ?1 " \
	"AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3) AND (?4 = 0 OR id < ?4) "

int audit_list(sqlite3 *db, const struct audit_filter *f, int (*fn)(const struct audit_row *row, void *arg),
	       void *arg, struct err *e)
{
	static const struct audit_filter every = { 0, NULL, NULL, 0, 0, 0 };
	sqlite3_stmt *st = NULL;
	int rc, step;

	if (!f)
		f = &every;
	rc = db_prepare(db, f->newest_first ? AUDIT_LIST_SQL "ORDER BY id DESC LIMIT ?5"
			: AUDIT_LIST_SQL "ORDER BY id LIMIT ?5", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, f->since);
	if (f->actor)
		sqlite3_bind_text(st, 2, f->actor, -1, SQLITE_STATIC);
	if (f->action)
		sqlite3_bind_text(st, 3, f->action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, f->before_id);
	sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : -1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_row row;
		uint8_t hash[SECRET_HASH_BYTES];
		const char *text[5];
		size_t len[5];

		row.id = sqlite3_column_int64(st, 0);
		row.at = sqlite3_column_int64(st, 1);
		row_texts(st, text, len);
		row.actor = text[0];
		row.address = text[1];
		row.action = text[2];
		row.subject = text[3];
		row.outcome = text[4];
		stored_hash(st, 7, hash);
		secret_hex(hash, sizeof(hash), row.hash);
		if ((rc = fn(&row, arg)) != 0)
			break;
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading the audit log");
	sqlite3_finalize(st);
	return rc;
}
