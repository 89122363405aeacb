/*
 * console_auth.c - who is using the console (docs/console.md, "Sessions"):
 * the session cookie checked before any body byte is read
 * (col_console_authenticate, from routes.c's precheck), the CSRF token of
 * every state-changing request, and the routes that sign in and out.
 */
#include "console.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "handlers.h"
#include "request.h"

/* The cookie's name: under TLS the __Host- prefix binds it to this host,
 * path / and Secure (RFC 6265bis 4.1.3.2). */
static const char *cookie_name(const struct col_app *app)
{
	return app->tls ? "__Host-sipas_console" : "sipas_console";
}

static void set_session_cookie(const struct col_app *app, struct col_reply *reply, const char *token)
{
	snprintf(reply->set_cookie, sizeof(reply->set_cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s",
		 cookie_name(app), token, token[0] ? "" : "; Max-Age=0", app->tls ? "; Secure" : "");
}

void col_sender_release(struct col_sender *s)
{
	user_release(&s->console.user);
	scope_release(&s->console.scope);
}

/* A request that changes state must carry the session's CSRF token in
 * X-CSRF-Token: a cross-site form cannot set that header, nor know the
 * token. */
static int is_safe_method(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

int col_console_authenticate(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			     int office_only, struct col_sender *sender)
{
	struct col_console *c = &sender->console;
	const char *csrf;
	long long now = (long long)time(NULL);
	struct err e;
	sqlite3 *db;

	err_clear(&e);
	db = col_reader(app, &e);
	if (!db) {
		col_reply_err(app, reply, &e);
		return -1;
	}
	if (session_find(db, req->cookie(req->cls, cookie_name(app)), now, &c->session, &e) != 0 ||
	    user_find_id(db, c->session.user_id, &c->user, &e) != 0 ||
	    scope_of_user(db, &c->user, &c->scope, &e) != 0 ||
	    session_csrf(app->key, c->session.id_hash, c->csrf, &e) != 0) {
		if (e.code == ERR_NOT_FOUND)
			col_reply_error(app, reply, COL_E_UNAUTHORIZED, "sign in to the console", "session");
		else
			col_reply_err(app, reply, &e);
		return -1;
	}
	sender->kind = COL_SENDER_USER;
	if (!is_safe_method(req->method)) {
		csrf = req->header(req->cls, "X-CSRF-Token");
		if (!csrf || strlen(csrf) != SESSION_CSRF_HEX || !secret_equal(csrf, c->csrf, SESSION_CSRF_HEX)) {
			col_reply_error(app, reply, COL_E_FORBIDDEN, "the request lacks this session's CSRF token",
					"x-csrf-token");
			return -1;
		}
	}
	if (office_only && c->user.role != USER_OFFICE) {
		col_reply_error(app, reply, COL_E_FORBIDDEN, "only the standing office may do this", NULL);
		return -1;
	}
	if (session_needs_touch(&c->session, now) &&
	    col_console_transact(app, col_console_touch, &c->session, &e) != 0) {
		col_reply_err(app, reply, &e);
		return -1;
	}
	return 0;
}

int col_console_touch(sqlite3 *db, void *session, struct err *e)
{
	const struct session *s = session;

	return session_touch(db, s->id_hash, (long long)time(NULL), e);
}

int col_console_transact(struct col_app *app, int (*fn)(sqlite3 *db, void *arg, struct err *e), void *arg,
			 struct err *e)
{
	sqlite3 *db = col_reader(app, e);
	int rc;

	if (!db)
		return e->code;
	rc = db_exec(db, "BEGIN IMMEDIATE", e);
	if (rc)
		return rc;
	rc = fn(db, arg, e);
	if (rc == 0)
		rc = db_exec(db, "COMMIT", e);
	if (rc) {
		struct err ignored;

		db_exec(db, "ROLLBACK", &ignored);
	}
	return rc;
}

/* The console's view of the signed-in user: what the pages show and the
 * CSRF token they send back. */
static json_t *me_json(const struct user *u, const char *csrf)
{
	json_t *agencies = json_array();

	for (size_t i = 0; i < u->n_agencies; i++)
		json_array_append_new(agencies, json_string(u->agency_codes[i]));
	return json_pack("{s:s, s:s, s:s, s:o, s:s}", "login", u->login, "name", u->name, "role",
			 user_role_name(u->role), "agencies", agencies, "csrf", csrf);
}

void col_handle_console_me(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			   const char *tail)
{
	const struct col_console *c = &req->sender->console;

	(void)app;
	(void)tail;
	col_reply_json(reply, MHD_HTTP_OK, me_json(&c->user, c->csrf));
}

/* What a sign-in writes. */
struct sign_in {
	long long user_id;
	const char *login, *address;
	char token[SESSION_TOKEN_HEX + 1];
	struct session session;
};

static int store_sign_in(sqlite3 *db, void *arg, struct err *e)
{
	struct sign_in *s = arg;

	return session_create(db, s->user_id, s->address, (long long)time(NULL), s->token, &s->session, e);
}

void col_handle_console_login(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			      const char *tail)
{
	char hash[USER_HASH_MAX], csrf[SESSION_CSRF_HEX + 1];
	const char *login, *password;
	struct sign_in s = { 0 };
	struct user u = { 0 };
	json_t *doc = NULL;
	struct err e;
	sqlite3 *db;
	int ok;

	(void)tail;
	err_clear(&e);
	if (col_json_body(app, req, reply, &doc) != 0)
		return;
	login = json_string_value(json_object_get(doc, "login"));
	password = json_string_value(json_object_get(doc, "password"));
	if (!login || !password || strlen(password) > USER_PASSWORD_MAX) {
		col_reply_error(app, reply, COL_E_INVALID, "the body must be {\"login\": \"...\", \"password\": \"...\"}",
				!login ? "login" : "password");
		goto out;
	}
	db = col_reader(app, &e);
	if (!db || user_password_hash(db, login, &s.user_id, hash, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	ok = user_verify_password(hash, password, &e);
	if (ok < 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	if (!ok) {
		/* one answer whether the login exists or not */
		col_reply_error(app, reply, COL_E_UNAUTHORIZED, "wrong login or password", "password");
		goto out;
	}
	s.login = login;
	s.address = req->address;
	if (col_console_transact(app, store_sign_in, &s, &e) != 0 || user_find_id(db, s.user_id, &u, &e) != 0 ||
	    session_csrf(app->key, s.session.id_hash, csrf, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	set_session_cookie(app, reply, s.token);
	col_reply_json(reply, MHD_HTTP_OK, me_json(&u, csrf));
out:
	secret_wipe(hash, sizeof(hash));
	secret_wipe(s.token, sizeof(s.token));
	user_release(&u);
	json_decref(doc);
}

/* What a sign-out writes. */
struct sign_out {
	const struct col_console *console;
	const char *address;
};

static int store_sign_out(sqlite3 *db, void *arg, struct err *e)
{
	const struct sign_out *s = arg;

	return session_end(db, s->console->session.id_hash, (long long)time(NULL), e);
}

void col_handle_console_logout(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			       const char *tail)
{
	struct sign_out s = { &req->sender->console, req->address };
	struct err e;

	(void)tail;
	err_clear(&e);
	if (col_console_transact(app, store_sign_out, &s, &e) != 0) {
		col_reply_err(app, reply, &e);
		return;
	}
	set_session_cookie(app, reply, "");
	reply->status = MHD_HTTP_NO_CONTENT;
	reply->content_type = NULL;
}
