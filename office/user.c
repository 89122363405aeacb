/*
 * user.c - the console's accounts and their passwords (see user.h).
 */
#include "user.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/secret.h"
#include "../lib/utf8.h"

/* One table for the roles: their names here, the CHECK of the users table
 * (db/db.c) and docs/console.md say the same three. */
static const char *const role_names[USER_N_ROLES] = { "office", "agency", "viewer" };

const char *user_role_name(int role)
{
	return role >= 0 && role < USER_N_ROLES ? role_names[role] : NULL;
}

int user_role_parse(const char *s)
{
	for (int i = 0; i < USER_N_ROLES; i++)
		if (s && strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

int user_check_login(const char *login, struct err *e)
{
	size_t n = login ? strlen(login) : 0;

	if (n == 0 || n > USER_LOGIN_MAX || login[0] < 'a' || login[0] > 'z' ||
	    strspn(login, "abcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		return err_set_field(e, ERR_INVALID, "login",
				     "a login is 1 to %d characters of a-z, 0-9, '.', '_' and '-', "
				     "starting with a letter", USER_LOGIN_MAX);
	return 0;
}

int user_check_password_rules(const char *password, struct err *e)
{
	size_t bytes = password ? strlen(password) : 0, chars = 0;

	if (bytes > USER_PASSWORD_MAX)
		return err_set_field(e, ERR_INVALID, "password", "a password is at most %d bytes",
				     USER_PASSWORD_MAX);
	if (bytes && !utf8_valid(password, bytes))
		return err_set_field(e, ERR_INVALID, "password", "a password must be valid UTF-8");
	for (size_t i = 0; i < bytes; i++)
		chars += ((unsigned char)password[i] & 0xC0) != 0x80;
	if (chars < USER_PASSWORD_MIN)
		return err_set_field(e, ERR_INVALID, "password", "a password needs at least %d characters",
				     USER_PASSWORD_MIN);
	return 0;
}

/* 1 if s holds a control character: C0, DEL, or C1 (U+0080..U+009F, which
 * some terminals obey as escapes too). */
static int has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 1;
	return 0;
}

int user_check_name(const char *name, struct err *e)
{
	size_t n = name ? strlen(name) : 0;

	/* a name is shown in lists, pages and the audit log: no control
	 * character that could rewrite a terminal or a line */
	if (n == 0 || n > USER_NAME_MAX || !utf8_valid(name, n) || has_control(name))
		return err_set_field(e, ERR_INVALID, "name", "a name is 1 to %d bytes of UTF-8 on one line, "
				     "without control characters", USER_NAME_MAX);
	return 0;
}

/* Make a one-time token: its hex into token, its SHA-256 into hash. */
static int new_link_token(char token[USER_TOKEN_HEX + 1], uint8_t hash[SECRET_HASH_BYTES], struct err *e)
{
	uint8_t raw[USER_TOKEN_HEX / 2];
	int rc = secret_random(raw, sizeof(raw), e);

	if (rc == 0) {
		secret_hex(raw, sizeof(raw), token);
		rc = secret_hash(token, USER_TOKEN_HEX, hash, e);
	}
	secret_wipe(raw, sizeof(raw));
	return rc;
}

/* Run one statement of the form "... WHERE user_id = ?1 ..." with ?2 = now. */
static int exec_for_user(sqlite3 *db, const char *sql, long long user_id, long long now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e);

	if (rc == 0) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_int64(st, 2, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "updating an account");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Store a new link for user_id, ending its earlier ones. */
static int add_link(sqlite3 *db, long long user_id, long long now, char token[USER_TOKEN_HEX + 1], struct err *e)
{
	uint8_t hash[SECRET_HASH_BYTES];
	sqlite3_stmt *st = NULL;
	int rc = exec_for_user(db, "UPDATE password_links SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL",
			       user_id, now, e);

	if (rc == 0)
		rc = new_link_token(token, hash, e);
	if (rc == 0)
		rc = db_prepare(db, "INSERT INTO password_links(token_hash, user_id, expires_at) VALUES (?, ?, ?)",
				&st, e);
	if (rc == 0) {
		sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, user_id);
		sqlite3_bind_int64(st, 3, now + USER_LINK_SECONDS);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "storing a password link");
	}
	sqlite3_finalize(st);
	return rc;
}

/* End every open session of user_id but keep (a session id hash; NULL: none kept). */
static int end_sessions(sqlite3 *db, long long user_id, const unsigned char *keep, long long now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "UPDATE sessions SET ended_at = ?2 WHERE user_id = ?1 AND ended_at IS NULL "
			    "AND (?3 IS NULL OR id_hash <> ?3)", &st, e);

	if (rc == 0) {
		sqlite3_bind_int64(st, 1, user_id);
		sqlite3_bind_int64(st, 2, now);
		if (keep)
			sqlite3_bind_blob(st, 3, keep, SECRET_HASH_BYTES, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "ending sessions");
	}
	sqlite3_finalize(st);
	return rc;
}

static int add_agency(sqlite3 *db, long long user_id, const char *code, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "INSERT OR IGNORE INTO user_agencies(user_id, agency_id) "
			    "SELECT ?, id FROM agencies WHERE code = ? RETURNING agency_id", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		break;
	case SQLITE_DONE:   /* no such agency (a repeated one is a row of its first) */
		rc = err_set_field(e, ERR_INVALID, "agency", "agency '%s' is not in the registry, "
				   "or is given twice", code);
		break;
	default:
		rc = db_fail(db, e, "storing an account's agency");
	}
	sqlite3_finalize(st);
	return rc;
}

int user_add(sqlite3 *db, const char *login, const char *name, int role, const char *const *agency_codes,
	     size_t n_agencies, long long now, char token[USER_TOKEN_HEX + 1], struct err *e)
{
	sqlite3_stmt *st = NULL;
	long long id = 0;
	int rc;

	assert(!sqlite3_get_autocommit(db));
	if ((rc = user_check_login(login, e)) != 0 || (rc = user_check_name(name, e)) != 0)
		return rc;
	if (!user_role_name(role))
		return err_set_field(e, ERR_INVALID, "role", "a role is office, agency or viewer");
	if (role == USER_AGENCY && n_agencies != 1)
		return err_set_field(e, ERR_INVALID, "agency", "an agency account needs exactly one agency");
	if (role == USER_OFFICE && n_agencies != 0)
		return err_set_field(e, ERR_INVALID, "agency", "an office account sees every agency: give none");
	rc = db_prepare(db, "INSERT INTO users(login, name, role, created_at) VALUES (?, ?, ?, ?) "
			"ON CONFLICT(login) DO NOTHING", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role_names[role], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, e, "storing an account");
		goto out;
	}
	if (sqlite3_changes(db) == 0) {
		rc = err_set_field(e, ERR_CONFLICT, "login", "login '%s' already exists", login);
		goto out;
	}
	id = sqlite3_last_insert_rowid(db);
	for (size_t i = 0; i < n_agencies && rc == 0; i++)
		rc = add_agency(db, id, agency_codes[i], e);
	if (rc == 0)
		rc = add_link(db, id, now, token, e);
out:
	sqlite3_finalize(st);
	return rc;
}

#define USER_COLUMNS "id, login, name, role, password_hash IS NOT NULL, created_at, " \
	"coalesce(password_set_at, 0), disabled_at IS NOT NULL"

/* Fill u from a row of USER_COLUMNS, then its agencies. */
static int read_user(sqlite3 *db, sqlite3_stmt *row, struct user *u, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc, step;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(row, 0);
	snprintf(u->login, sizeof(u->login), "%s", (const char *)sqlite3_column_text(row, 1));
	snprintf(u->name, sizeof(u->name), "%s", (const char *)sqlite3_column_text(row, 2));
	u->role = user_role_parse((const char *)sqlite3_column_text(row, 3));
	u->has_password = sqlite3_column_int(row, 4);
	u->created_at = sqlite3_column_int64(row, 5);
	u->password_set_at = sqlite3_column_int64(row, 6);
	u->disabled = sqlite3_column_int(row, 7);
	assert(u->role >= 0);   /* the table's CHECK */
	rc = db_prepare(db, "SELECT a.id, a.code FROM user_agencies u JOIN agencies a ON a.id = u.agency_id "
			"WHERE u.user_id = ? ORDER BY a.id", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, u->id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (u->n_agencies == cap) {
			size_t ncap = cap ? 2 * cap : 4;
			long long *ids = realloc(u->agency_ids, ncap * sizeof(*ids));
			char **codes = ids ? realloc(u->agency_codes, ncap * sizeof(*codes)) : NULL;

			if (ids)
				u->agency_ids = ids;
			if (!codes) {
				rc = err_set(e, ERR_NOMEM, "out of memory reading an account");
				goto out;
			}
			u->agency_codes = codes;
			cap = ncap;
		}
		u->agency_ids[u->n_agencies] = sqlite3_column_int64(st, 0);
		u->agency_codes[u->n_agencies] = strdup((const char *)sqlite3_column_text(st, 1));
		if (!u->agency_codes[u->n_agencies]) {
			rc = err_set(e, ERR_NOMEM, "out of memory reading an account");
			goto out;
		}
		u->n_agencies++;
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, e, "reading an account's agencies");
out:
	sqlite3_finalize(st);
	return rc;
}

/* The one user of a statement selecting USER_COLUMNS with ?1 bound by the caller. */
static int find_one(sqlite3 *db, sqlite3_stmt *st, const char *what, struct user *out, struct err *e)
{
	int step = sqlite3_step(st);

	if (step == SQLITE_ROW)
		return read_user(db, st, out, e);
	if (step == SQLITE_DONE)
		return err_set(e, ERR_NOT_FOUND, "no account %s", what);
	return db_fail(db, e, "reading an account");
}

int user_find(sqlite3 *db, const char *login, struct user *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char what[USER_LOGIN_MAX + 16];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = db_prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE login = ?", &st, e);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
		snprintf(what, sizeof(what), "'%.*s'", USER_LOGIN_MAX, login);
		rc = find_one(db, st, what, out, e);
	}
	sqlite3_finalize(st);
	return rc;
}

int user_find_id(sqlite3 *db, long long id, struct user *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char what[32];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = db_prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", &st, e);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, id);
		snprintf(what, sizeof(what), "#%lld", id);
		rc = find_one(db, st, what, out, e);
	}
	sqlite3_finalize(st);
	return rc;
}

int user_list(sqlite3 *db, struct user **out, size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct user *users = NULL;
	size_t cap = 0, count = 0;
	int rc, step;

	*out = NULL;
	*n = 0;
	rc = db_prepare(db, "SELECT " USER_COLUMNS " FROM users ORDER BY login", &st, e);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			struct user *grown = realloc(users, ncap * sizeof(*grown));

			if (!grown) {
				rc = err_set(e, ERR_NOMEM, "out of memory listing accounts");
				break;
			}
			users = grown;
			cap = ncap;
		}
		rc = read_user(db, st, &users[count], e);
		count++;   /* read_user leaves a failed user releasable */
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_fail(db, e, "listing accounts");
	sqlite3_finalize(st);
	if (rc) {
		user_list_free(users, count);
		return rc;
	}
	*out = users;
	*n = count;
	return 0;
}

void user_release(struct user *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n_agencies; i++)
		free(u->agency_codes[i]);
	free(u->agency_codes);
	free(u->agency_ids);
	memset(u, 0, sizeof(*u));
}

void user_list_free(struct user *users, size_t n)
{
	for (size_t i = 0; i < n; i++)
		user_release(&users[i]);
	free(users);
}

int user_password_hash(sqlite3 *db, const char *login, long long *id, char hash[USER_HASH_MAX], struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT id, password_hash FROM users WHERE login = ? "
			    "AND disabled_at IS NULL AND password_hash IS NOT NULL", &st, e);
	int step;

	*id = 0;
	hash[0] = '\0';
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 1) < USER_HASH_MAX) {
		*id = sqlite3_column_int64(st, 0);
		memcpy(hash, sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1) + 1);
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = db_fail(db, e, "reading an account");
	}
	sqlite3_finalize(st);
	return rc;
}

int user_hash_password(const char *password, char out[USER_HASH_MAX], struct err *e)
{
	if (sodium_init() < 0 ||
	    crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return err_set(e, ERR_INTERNAL, "cannot hash a password (out of memory?)");
	return 0;
}

/* A hash of a password nobody knows, verified against when there is no
 * stored one, so that an unknown login costs the same time as a known
 * one.  Made once, with the interactive limits every stored hash has. */
static char decoy_hash[USER_HASH_MAX];
static pthread_once_t decoy_once = PTHREAD_ONCE_INIT;

static void make_decoy(void)
{
	uint8_t raw[32];
	char hex[65];

	if (sodium_init() < 0)
		return;
	randombytes_buf(raw, sizeof(raw));
	secret_hex(raw, sizeof(raw), hex);
	if (crypto_pwhash_str(decoy_hash, hex, 64, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		decoy_hash[0] = '\0';
}

int user_verify_password(const char *hash, const char *password, struct err *e)
{
	const char *against = hash;

	if (sodium_init() < 0)
		return err_set(e, ERR_INTERNAL, "libsodium cannot start");
	if (!hash[0]) {
		pthread_once(&decoy_once, make_decoy);
		if (!decoy_hash[0])
			return err_set(e, ERR_INTERNAL, "cannot hash a password (out of memory?)");
		against = decoy_hash;
	}
	/* a decoy verification never succeeds: nobody knows its password */
	if (crypto_pwhash_str_verify(against, password, strlen(password)) == 0)
		return against == hash;
	return 0;
}

int user_set_password_by_link(sqlite3 *db, const char *token, const char *hash, long long now,
			      long long *user_id, struct err *e)
{
	uint8_t token_hash[SECRET_HASH_BYTES];
	sqlite3_stmt *st = NULL;
	int rc;

	assert(!sqlite3_get_autocommit(db));
	*user_id = 0;
	if (!token || strlen(token) != USER_TOKEN_HEX || strspn(token, "0123456789abcdef") != USER_TOKEN_HEX)
		return err_set_field(e, ERR_NOT_FOUND, "token", "this link is not valid: it is unknown, "
				     "used or expired; ask the office for a new one");
	if ((rc = secret_hash(token, USER_TOKEN_HEX, token_hash, e)) != 0)
		return rc;
	rc = db_prepare(db, "UPDATE password_links SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL "
			"AND expires_at > ?2 AND user_id IN (SELECT id FROM users WHERE disabled_at IS NULL) "
			"RETURNING user_id", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, token_hash, sizeof(token_hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*user_id = sqlite3_column_int64(st, 0);
		break;
	case SQLITE_DONE:
		rc = err_set_field(e, ERR_NOT_FOUND, "token", "this link is not valid: it is unknown, "
				   "used or expired; ask the office for a new one");
		break;
	default:
		rc = db_fail(db, e, "using a password link");
	}
	sqlite3_finalize(st);
	if (rc == 0)
		rc = user_change_password(db, *user_id, hash, NULL, now, e);
	return rc;
}

int user_change_password(sqlite3 *db, long long user_id, const char *hash,
			 const unsigned char *keep_session, long long now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "UPDATE users SET password_hash = ?, password_set_at = ? WHERE id = ?", &st, e);

	assert(!sqlite3_get_autocommit(db));
	if (rc == 0) {
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		sqlite3_bind_int64(st, 3, user_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "storing a password");
	}
	sqlite3_finalize(st);
	return rc ? rc : end_sessions(db, user_id, keep_session, now, e);
}

/* The id of login's account, or ERR_NOT_FOUND; *disabled 1 when it is. */
static int id_of_login(sqlite3 *db, const char *login, long long *id, int *disabled, struct err *e)
{
	struct user u;
	int rc = user_find(db, login, &u, e);

	*id = u.id;
	*disabled = u.disabled;
	user_release(&u);
	return rc;
}

int user_reset(sqlite3 *db, const char *login, long long now, char token[USER_TOKEN_HEX + 1], struct err *e)
{
	long long id;
	int rc, disabled;

	assert(!sqlite3_get_autocommit(db));
	if ((rc = id_of_login(db, login, &id, &disabled, e)) != 0)
		return rc;
	/* its link could never be used (user_set_password_by_link) */
	if (disabled)
		return err_set_field(e, ERR_CONFLICT, "login", "account '%s' is disabled: it gets no password link",
				     login);
	rc = exec_for_user(db, "UPDATE users SET password_hash = NULL, password_set_at = NULL WHERE id = ?1 "
			   "AND ?2 IS NOT NULL", id, now, e);
	if (rc == 0)
		rc = end_sessions(db, id, NULL, now, e);
	return rc ? rc : add_link(db, id, now, token, e);
}

int user_disable(sqlite3 *db, const char *login, long long now, struct err *e)
{
	long long id;
	int rc, disabled;

	assert(!sqlite3_get_autocommit(db));
	if ((rc = id_of_login(db, login, &id, &disabled, e)) != 0)
		return rc;
	rc = exec_for_user(db, "UPDATE users SET disabled_at = coalesce(disabled_at, ?2) WHERE id = ?1", id, now, e);
	if (rc == 0)
		rc = exec_for_user(db, "UPDATE password_links SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL",
				   id, now, e);
	return rc ? rc : end_sessions(db, id, NULL, now, e);
}
