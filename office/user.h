/*
 * user.h - the console's accounts (docs/console.md): who may sign in, with
 * which role and over which agencies, and their passwords.  A password is
 * set by the person through a one-time link (15 minutes, used once), never
 * chosen by whoever makes the account, and is stored only as libsodium's
 * Argon2id string (crypto_pwhash_str).  Sessions are session.h's; which
 * agencies a user may see, scope.h's.
 *
 * Every function that writes runs inside the caller's write transaction
 * (BEGIN IMMEDIATE ... COMMIT, asserted) and never commits: the caller
 * puts the change and its audit entry (audit.h) in the same transaction,
 * so both land or neither does.  Hashing a password is slow on purpose
 * (user_hash_password): do it before the transaction, never while holding
 * the write lock.
 */
#ifndef SIPAS_USER_H
#define SIPAS_USER_H

#include <stddef.h>
#include <sqlite3.h>
#include <sodium.h>

#include "../lib/err.h"

enum user_role { USER_OFFICE, USER_AGENCY, USER_VIEWER, USER_N_ROLES };

#define USER_LOGIN_MAX 64                 /* bytes; [a-z0-9._-], starting with a letter */
#define USER_NAME_MAX 200                 /* bytes of UTF-8 */
#define USER_PASSWORD_MIN 10              /* characters (UTF-8 code points) */
#define USER_PASSWORD_MAX 256             /* bytes, so hashing stays bounded */
#define USER_HASH_MAX crypto_pwhash_STRBYTES
#define USER_LINK_SECONDS (15 * 60)
#define USER_TOKEN_HEX 64                 /* a link token: 32 random bytes in hex */

/* An account as stored.  Owns agency_ids (user_release). */
struct user {
	long long id;
	char login[USER_LOGIN_MAX + 1];
	char name[USER_NAME_MAX + 1];
	int role;                      /* enum user_role */
	int disabled;                  /* 1: cannot sign in; its sessions ended */
	int has_password;              /* 0 until the person used their link */
	long long created_at, password_set_at;  /* Unix seconds; 0: never */
	long long *agency_ids;         /* the agencies it was given, by id, ascending */
	char **agency_codes;           /* and their codes, in the same order */
	size_t n_agencies;
};

/* "office", "agency", "viewer"; NULL for a value out of range. */
const char *user_role_name(int role);

/* The role named s, or -1. */
int user_role_parse(const char *s);

/* 0 when login is a valid login (see USER_LOGIN_MAX), else -1 with e
 * saying why (field "login"). */
int user_check_login(const char *login, struct err *e);

/* 0 when name is a person's name as lists, pages and the audit log show
 * it (1 to USER_NAME_MAX bytes of UTF-8 on one line, no control
 * character), else ERR_INVALID with e saying why (field "name"). */
int user_check_name(const char *name, struct err *e);

/* 0 when password is acceptable (USER_PASSWORD_MIN..MAX, valid UTF-8),
 * else -1 with e saying why (field "password").  The password is never
 * copied into e. */
int user_check_password_rules(const char *password, struct err *e);

/* Add an account and a one-time password link for it: token gets
 * USER_TOKEN_HEX hex digits (and a NUL) that only the link holds (the
 * table keeps its SHA-256).  agency_codes: exactly one for USER_AGENCY,
 * any number for USER_VIEWER, none for USER_OFFICE.  ERR_CONFLICT when
 * the login exists; ERR_INVALID naming the field for a bad login, name,
 * role or agency. */
int user_add(sqlite3 *db, const char *login, const char *name, int role, const char *const *agency_codes,
	     size_t n_agencies, long long now, char token[USER_TOKEN_HEX + 1], struct err *e);

/* Fill *out with the account of login (or of id, for user_find_id);
 * ERR_NOT_FOUND when there is none.  *out owns what it points to
 * (user_release), also on failure (then empty). */
int user_find(sqlite3 *db, const char *login, struct user *out, struct err *e);
int user_find_id(sqlite3 *db, long long id, struct user *out, struct err *e);

/* Every account, by login: *out an array of *n users the caller owns
 * (user_list_free). */
int user_list(sqlite3 *db, struct user **out, size_t *n, struct err *e);
void user_list_free(struct user *users, size_t n);

/* Free what u owns and empty it.  NULL-safe. */
void user_release(struct user *u);

/* The stored hash of login's password into hash (USER_HASH_MAX bytes), for
 * user_verify_password: "" when the account has no password, is disabled
 * or does not exist -- the caller then still spends the time of one
 * verification (user_verify_password with ""), so that the answer's
 * timing does not tell whether a login exists.  *id gets the account's id
 * (0 when none). */
int user_password_hash(sqlite3 *db, const char *login, long long *id, char hash[USER_HASH_MAX], struct err *e);

/* 1 if password matches hash, 0 if not (also for an empty hash, after
 * spending the same time), -1 with e filled when libsodium fails.  Slow
 * (Argon2id, interactive limits): never call it holding a lock. */
int user_verify_password(const char *hash, const char *password, struct err *e);

/* Hash password for storage into out (USER_HASH_MAX bytes).  Slow, as
 * above.  ERR_INTERNAL when libsodium fails (out of memory). */
int user_hash_password(const char *password, char out[USER_HASH_MAX], struct err *e);

/* Use the one-time link token: if it is known, unused and not expired,
 * store hash (user_hash_password's) as its account's password, mark the
 * token used, end every session of the account, and fill *user_id.
 * ERR_NOT_FOUND for a token that is unknown, used or expired (one message
 * for all three). */
int user_set_password_by_link(sqlite3 *db, const char *token, const char *hash, long long now,
			      long long *user_id, struct err *e);

/* Store hash as user_id's password (a change by the person, signed in) and
 * end every session of the account but the one whose id hash is
 * keep_session (NULL: all). */
int user_change_password(sqlite3 *db, long long user_id, const char *hash,
			 const unsigned char *keep_session, long long now, struct err *e);

/* A new one-time link for login (a forgotten password): the password is
 * cleared, the account's sessions and earlier links end, token as in
 * user_add.  ERR_NOT_FOUND when there is no such login, ERR_CONFLICT when
 * it is disabled (its link could not be used). */
int user_reset(sqlite3 *db, const char *login, long long now, char token[USER_TOKEN_HEX + 1], struct err *e);

/* Disable login: it can no longer sign in, and its sessions end now.
 * ERR_NOT_FOUND when there is no such login. */
int user_disable(sqlite3 *db, const char *login, long long now, struct err *e);

#endif
