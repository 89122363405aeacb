/*
 * session.h - the console's server-side sessions (docs/console.md,
 * "Sessions").  The browser holds only a random token in a cookie; the
 * table keeps its SHA-256, who it is, when it began and was last seen,
 * and when it ended.  A session is valid until it ends (sign-out, a
 * password change, the account disabled or reset), SESSION_IDLE_SECONDS
 * after it was last seen, or SESSION_MAX_SECONDS after it began, whichever
 * comes first.  The CSRF token of a session is derived from it with the
 * server key (session_csrf), so it needs no storage and dies with it.
 *
 * Writers run inside the caller's write transaction (as user.h's).
 */
#ifndef SIPAS_SESSION_H
#define SIPAS_SESSION_H

#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../lib/secret.h"

#define SESSION_IDLE_SECONDS (30 * 60)
#define SESSION_MAX_SECONDS (12 * 60 * 60)
/* seen_at is written at most this often: a busy official costs one
 * write a minute, not one a request */
#define SESSION_TOUCH_SECONDS 60
#define SESSION_TOKEN_HEX 64                  /* the cookie's value */
#define SESSION_CSRF_HEX 64

struct session {
	uint8_t id_hash[SECRET_HASH_BYTES];   /* SHA-256 of the token */
	long long user_id;
	long long created_at, seen_at;        /* Unix seconds */
};

/* Begin a session for user_id from address: token gets the cookie's value
 * (SESSION_TOKEN_HEX hex digits and a NUL), *out the session. */
int session_create(sqlite3 *db, long long user_id, const char *address, long long now,
		   char token[SESSION_TOKEN_HEX + 1], struct session *out, struct err *e);

/* The valid session of a cookie's token at `now` into *out; ERR_NOT_FOUND
 * when the token is malformed, unknown, ended, idle too long, too old, or
 * its account is disabled (one answer for all).  Reads only. */
int session_find(sqlite3 *db, const char *token, long long now, struct session *out, struct err *e);

/* 1 when s's seen_at is old enough to be written again (SESSION_TOUCH_SECONDS). */
int session_needs_touch(const struct session *s, long long now);

/* Record that the session was seen at now (unless it has ended). */
int session_touch(sqlite3 *db, const uint8_t id_hash[SECRET_HASH_BYTES], long long now, struct err *e);

/* End the session now (sign-out).  Ending one already ended is not an error. */
int session_end(sqlite3 *db, const uint8_t id_hash[SECRET_HASH_BYTES], long long now, struct err *e);

/* The session's CSRF token: HMAC-SHA256 of its id hash under the server
 * key, in hex, into out.  Fails only when GnuTLS does. */
int session_csrf(const uint8_t key[SECRET_KEY_BYTES], const uint8_t id_hash[SECRET_HASH_BYTES],
		 char out[SESSION_CSRF_HEX + 1], struct err *e);

#endif
