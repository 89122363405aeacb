/*
 * session.c - the console's server-side sessions (see session.h).
 */
#include "session.h"

#include <assert.h>
#include <string.h>

#include "../db/db.h"

int session_create(sqlite3 *db, long long user_id, const char *address, long long now,
		   char token[SESSION_TOKEN_HEX + 1], struct session *out, struct err *e)
{
	uint8_t raw[SESSION_TOKEN_HEX / 2];
	sqlite3_stmt *st = NULL;
	int rc;

	assert(!sqlite3_get_autocommit(db));
	memset(out, 0, sizeof(*out));
	rc = secret_random(raw, sizeof(raw), e);
	if (rc)
		goto out;
	secret_hex(raw, sizeof(raw), token);
	rc = secret_hash(token, SESSION_TOKEN_HEX, out->id_hash, e);
	if (rc == 0)
		rc = db_prepare(db, "INSERT INTO sessions(id_hash, user_id, address, created_at, seen_at) "
				"VALUES (?, ?, ?, ?, ?)", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_blob(st, 1, out->id_hash, sizeof(out->id_hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "storing a session");
		goto out;
	}
	out->user_id = user_id;
	out->created_at = out->seen_at = now;
out:
	sqlite3_finalize(st);
	secret_wipe(raw, sizeof(raw));
	if (rc)
		secret_wipe(token, SESSION_TOKEN_HEX + 1);
	return rc;
}

int session_find(sqlite3 *db, const char *token, long long now, struct session *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!token || strlen(token) != SESSION_TOKEN_HEX || strspn(token, "0123456789abcdef") != SESSION_TOKEN_HEX)
		return err_set(e, ERR_NOT_FOUND, "not signed in");
	if ((rc = secret_hash(token, SESSION_TOKEN_HEX, out->id_hash, e)) != 0)
		return rc;
	rc = db_prepare(db, "SELECT s.user_id, s.created_at, s.seen_at FROM sessions s JOIN users u ON u.id = s.user_id "
			"WHERE s.id_hash = ?1 AND s.ended_at IS NULL AND u.disabled_at IS NULL "
			"AND s.seen_at > ?2 - " DB_STRINGIFY(SESSION_IDLE_SECONDS)
			" AND s.created_at > ?2 - " DB_STRINGIFY(SESSION_MAX_SECONDS), &st, e);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, out->id_hash, sizeof(out->id_hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		out->user_id = sqlite3_column_int64(st, 0);
		out->created_at = sqlite3_column_int64(st, 1);
		out->seen_at = sqlite3_column_int64(st, 2);
		break;
	case SQLITE_DONE:
		rc = err_set(e, ERR_NOT_FOUND, "not signed in, or the session has ended");
		break;
	default:
		rc = db_fail(db, e, "reading a session");
	}
	sqlite3_finalize(st);
	return rc;
}

int session_needs_touch(const struct session *s, long long now)
{
	return now - s->seen_at >= SESSION_TOUCH_SECONDS;
}

/* Set one time column of an open session: "UPDATE sessions SET <col> = ?2 ...". */
static int update_open(sqlite3 *db, const char *sql, const uint8_t id_hash[SECRET_HASH_BYTES], long long now,
		       struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e);

	assert(!sqlite3_get_autocommit(db));
	if (rc == 0) {
		sqlite3_bind_blob(st, 1, id_hash, SECRET_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "updating a session");
	}
	sqlite3_finalize(st);
	return rc;
}

int session_touch(sqlite3 *db, const uint8_t id_hash[SECRET_HASH_BYTES], long long now, struct err *e)
{
	return update_open(db, "UPDATE sessions SET seen_at = max(seen_at, ?2) WHERE id_hash = ?1 AND ended_at IS NULL",
			   id_hash, now, e);
}

int session_end(sqlite3 *db, const uint8_t id_hash[SECRET_HASH_BYTES], long long now, struct err *e)
{
	return update_open(db, "UPDATE sessions SET ended_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
			   id_hash, now, e);
}

int session_csrf(const uint8_t key[SECRET_KEY_BYTES], const uint8_t id_hash[SECRET_HASH_BYTES],
		 char out[SESSION_CSRF_HEX + 1], struct err *e)
{
	uint8_t msg[5 + SECRET_HASH_BYTES] = "csrf:", mac[SECRET_HASH_BYTES];
	int rc;

	memcpy(msg + 5, id_hash, SECRET_HASH_BYTES);
	rc = secret_hmac(key, SECRET_KEY_BYTES, msg, sizeof(msg), mac, e);
	if (rc == 0)
		secret_hex(mac, sizeof(mac), out);
	return rc;
}
