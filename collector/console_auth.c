/*
 * console_auth.c - who is using the console (docs/console.md, "Sessions"):
 * the session cookie checked before any body byte is read
 * (col_console_authenticate, from routes.c's precheck), the CSRF token of
 * every state-changing request, the limits on sign-in attempts and on
 * password hashing, the routes that sign in and out and set a password,
 * and the console's writes: each a writer job (writer.h) whose reply is
 * deferred to its commit, so that no worker thread waits for the write
 * lock.
 */
#include "console.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "handlers.h"
#include "request.h"

void col_console_open(struct col_app *app)
{
	col_ratelimit_init(&app->login_limit, COL_CONSOLE_LOGIN_PER_MINUTE, COL_CONSOLE_LOGIN_BURST);
	col_ratelimit_init(&app->login_address_limit, COL_CONSOLE_ADDRESS_PER_MINUTE, COL_CONSOLE_ADDRESS_BURST);
	atomic_init(&app->hashing, 0);
}

void col_console_close(struct col_app *app)
{
	col_ratelimit_release(&app->login_limit);
	col_ratelimit_release(&app->login_address_limit);
}

/* ---- writes: jobs of the writer ---- */

static int action_run(sqlite3 *db, void *arg, struct err *e)
{
	struct col_console_action *a = arg;

	return a->store(db, a, e);
}

void col_console_action_free(struct col_console_action *a)
{
	if (a->release)
		a->release(a);
	/* an action may hold a token or a password hash */
	secret_wipe(a, a->size);
	free(a);
}

static void action_start(struct col_deferred *d, void (*resume)(void *arg), void *arg)
{
	struct col_console_action *a = (struct col_console_action *)(void *)d;

	a->job.done = resume;
	a->job.arg = arg;
	col_writer_enqueue(a->app->writer, &a->job);
}

static void action_finish(struct col_deferred *d, struct col_reply *reply)
{
	struct col_console_action *a = (struct col_console_action *)(void *)d;

	assert(a->job.state == COL_JOB_DONE);
	if (reply)
		a->answer(a, reply);
	col_console_action_free(a);
}

void *col_console_action_new(struct col_app *app, size_t size, col_console_store store,
			     col_console_answer answer)
{
	struct col_console_action *a;

	assert(size >= sizeof(*a));
	a = calloc(1, size);
	if (!a)
		return NULL;
	a->deferred.start = action_start;
	a->deferred.finish = action_finish;
	a->app = app;
	a->size = size;
	a->store = store;
	a->answer = answer;
	a->job.run = action_run;
	a->job.run_arg = a;
	return a;
}

void col_console_defer(struct col_console_action *a, struct col_reply *reply)
{
	/* as for a rating: at shutdown nothing new is queued, and what is
	 * queued is waited for (col_server.unanswered) */
	if (atomic_load(&a->app->stopping)) {
		col_reply_error(a->app, reply, COL_E_UNAVAILABLE, NULL, NULL);
		col_console_action_free(a);
		return;
	}
	reply->deferred = &a->deferred;
}

int col_console_audited(sqlite3 *db, int (*change)(sqlite3 *db, void *arg, struct err *e), void *arg,
			struct audit_entry *entry, struct err *refused, struct err *e)
{
	int rc;

	err_clear(refused);
	if ((rc = db_exec(db, "SAVEPOINT console_change", e)) != 0)
		return rc;
	if (change(db, arg, refused) != 0) {
		/* a failing database fails the job; a refusal is recorded */
		if (refused->code == ERR_DB || refused->code == ERR_NOMEM || refused->code == ERR_INTERNAL) {
			*e = *refused;
			return e->code;
		}
		if ((rc = db_exec(db, "ROLLBACK TO console_change", e)) != 0)
			return rc;
	}
	if ((rc = db_exec(db, "RELEASE console_change", e)) != 0)
		return rc;
	entry->outcome = refused->code ? refused->text : "ok";
	return audit_append(db, entry, e);
}

/* A session seen now: written by a job nobody waits for (a failure costs
 * the session at most a minute of its idle time).  Freed when done. */
struct touch {
	struct col_write_job job;
	uint8_t id_hash[SECRET_HASH_BYTES];
};

static int store_touch(sqlite3 *db, void *arg, struct err *e)
{
	const struct touch *t = arg;

	return session_touch(db, t->id_hash, (long long)time(NULL), e);
}

static void touch_done(void *arg)
{
	free(arg);
}

static void enqueue_touch(struct col_app *app, const struct session *s)
{
	struct touch *t = calloc(1, sizeof(*t));

	if (!t)
		return;   /* not recorded: the next request tries again */
	memcpy(t->id_hash, s->id_hash, sizeof(t->id_hash));
	t->job.run = store_touch;
	t->job.run_arg = t;
	t->job.done = touch_done;
	t->job.arg = t;
	col_writer_enqueue(app->writer, &t->job);
}

/* ---- sessions ---- */

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
	if (session_needs_touch(&c->session, now))
		enqueue_touch(app, &c->session);
	return 0;
}

/* ---- limits ---- */

/* Take one of the COL_CONSOLE_HASHES slots for a password hash or
 * verification: 0, or -1 with the reply set (503, Retry-After) when all
 * are in use.  Give it back with hash_end. */
static int hash_begin(struct col_app *app, struct col_reply *reply)
{
	if (atomic_fetch_add(&app->hashing, 1) < COL_CONSOLE_HASHES)
		return 0;
	atomic_fetch_sub(&app->hashing, 1);
	reply->retry_after = 1;
	col_reply_error(app, reply, COL_E_UNAVAILABLE, "the server is busy checking other passwords: retry in a "
			"moment", NULL);
	return -1;
}

static void hash_end(struct col_app *app)
{
	int was = atomic_fetch_sub(&app->hashing, 1);

	assert(was > 0);
	(void)was;
}

/* One message for every limited sign-in: it must not tell whether the
 * login exists (the wait is in Retry-After). */
static void reply_limited(struct col_app *app, struct col_reply *reply, int wait)
{
	reply->retry_after = wait;
	col_reply_error(app, reply, COL_E_RATE_LIMITED, "too many sign-in attempts: wait and retry", NULL);
}

/* Take one sign-in attempt of the request's address: 0, or -1 with the
 * reply set (429, Retry-After). */
static int address_limited(struct col_app *app, const struct col_request *req, struct col_reply *reply)
{
	int wait = col_ratelimit_take(&app->login_address_limit, req->client, req->now);

	if (!wait)
		return 0;
	reply_limited(app, reply, wait);
	return -1;
}

/* The login limiter's key of a login: keyed with the server key, so that
 * nobody can pick a login that shares another's bucket. */
static uint64_t login_key(const struct col_app *app, const char *login)
{
	uint8_t mac[SECRET_HASH_BYTES];
	uint64_t key = 0;
	struct err e;

	if (secret_hmac(app->key, SECRET_KEY_BYTES, login, strlen(login), mac, &e) == 0)
		memcpy(&key, mac, sizeof(key));
	return key;
}

/* Verify password against login's stored hash, within a hashing slot.
 * 1 right, 0 wrong (or no such login, or disabled: after the same work),
 * -1 with the reply set. */
static int check_password(struct col_app *app, struct col_reply *reply, const char *login, const char *password,
			  long long *user_id)
{
	char hash[USER_HASH_MAX];
	struct err e;
	sqlite3 *db;
	int ok;

	err_clear(&e);
	db = col_reader(app, &e);
	if (!db || user_password_hash(db, login, user_id, hash, &e) != 0) {
		col_reply_err(app, reply, &e);
		return -1;
	}
	if (hash_begin(app, reply) != 0) {
		ok = -1;
		goto out;
	}
	ok = user_verify_password(hash, password, &e);
	hash_end(app);
	if (ok < 0)
		col_reply_err(app, reply, &e);
out:
	secret_wipe(hash, sizeof(hash));
	return ok;
}

/* ---- routes ---- */

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

/* A sign-in attempt, right or wrong, as the writer records it. */
struct sign_in {
	struct col_console_action a;
	int ok;                        /* the password was right */
	long long user_id;
	char login[USER_LOGIN_MAX + 1];
	char address[64];
	char token[SESSION_TOKEN_HEX + 1];
	struct session session;
};

static int store_sign_in(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct sign_in *s = (struct sign_in *)(void *)a;
	long long now = (long long)time(NULL);
	/* a failed attempt is nobody's yet: the login it tried is its subject */
	struct audit_entry entry = { now, s->ok ? s->login : "-", s->address, "login",
				     s->login[0] ? s->login : "-", s->ok ? "ok" : "wrong login or password" };
	int rc = 0;

	if (s->ok)
		rc = session_create(db, s->user_id, s->address, now, s->token, &s->session, e);
	return rc ? rc : audit_append(db, &entry, e);
}

static void answer_sign_in(struct col_console_action *a, struct col_reply *reply)
{
	struct sign_in *s = (struct sign_in *)(void *)a;
	char csrf[SESSION_CSRF_HEX + 1];
	struct user u = { 0 };
	struct err e;
	sqlite3 *db;

	err_clear(&e);
	if (a->job.code) {
		col_reply_err(a->app, reply, &a->job.err);
		return;
	}
	if (!s->ok) {
		/* one answer whether the login exists or not */
		col_reply_error(a->app, reply, COL_E_UNAUTHORIZED, "wrong login or password", "password");
		return;
	}
	db = col_reader(a->app, &e);
	if (!db || user_find_id(db, s->user_id, &u, &e) != 0 ||
	    session_csrf(a->app->key, s->session.id_hash, csrf, &e) != 0) {
		col_reply_err(a->app, reply, &e);
	} else {
		set_session_cookie(a->app, reply, s->token);
		col_reply_json(reply, MHD_HTTP_OK, me_json(&u, csrf));
	}
	user_release(&u);
}

void col_handle_console_login(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			      const char *tail)
{
	const char *login, *password;
	struct sign_in *s;
	json_t *doc = NULL;
	struct err e;
	uint64_t key;
	int ok;

	(void)tail;
	if (col_json_body(app, req, reply, &doc) != 0)
		return;
	login = json_string_value(json_object_get(doc, "login"));
	password = json_string_value(json_object_get(doc, "password"));
	if (!login || !password || strlen(password) > USER_PASSWORD_MAX) {
		col_reply_error(app, reply, COL_E_INVALID, "the body must be {\"login\": \"...\", \"password\": \"...\"}",
				!login ? "login" : "password");
		goto out;
	}
	/* both limits before any hashing: a limited attempt costs nothing */
	if (address_limited(app, req, reply) != 0)
		goto out;
	key = login_key(app, login);
	if ((ok = col_ratelimit_take(&app->login_limit, key, req->now)) != 0) {
		reply_limited(app, reply, ok);
		goto out;
	}
	s = col_console_action_new(app, sizeof(*s), store_sign_in, answer_sign_in);
	if (!s) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		goto out;
	}
	ok = check_password(app, reply, login, password, &s->user_id);
	if (ok != 0)
		/* a success, or no verification made (busy): it counts no failure */
		col_ratelimit_refund(&app->login_limit, key);
	if (ok < 0) {
		col_console_action_free(&s->a);
		goto out;
	}
	s->ok = ok;
	err_clear(&e);
	/* an unknown login is recorded as typed only when it could be one */
	if (user_check_login(login, &e) == 0)
		snprintf(s->login, sizeof(s->login), "%s", login);
	snprintf(s->address, sizeof(s->address), "%s", req->address);
	col_console_defer(&s->a, reply);
out:
	json_decref(doc);
}

/* A sign-out. */
struct sign_out {
	struct col_console_action a;
	uint8_t id_hash[SECRET_HASH_BYTES];
	char login[USER_LOGIN_MAX + 1];
	char address[64];
};

static int store_sign_out(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct sign_out *s = (struct sign_out *)(void *)a;
	long long now = (long long)time(NULL);
	struct audit_entry entry = { now, s->login, s->address, "logout", s->login, "ok" };
	int rc = session_end(db, s->id_hash, now, e);

	return rc ? rc : audit_append(db, &entry, e);
}

static void answer_sign_out(struct col_console_action *a, struct col_reply *reply)
{
	if (a->job.code) {
		col_reply_err(a->app, reply, &a->job.err);
		return;
	}
	set_session_cookie(a->app, reply, "");
	reply->status = MHD_HTTP_NO_CONTENT;
	reply->content_type = NULL;
}

void col_handle_console_logout(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			       const char *tail)
{
	const struct col_console *c = &req->sender->console;
	struct sign_out *s = col_console_action_new(app, sizeof(*s), store_sign_out, answer_sign_out);

	(void)tail;
	if (!s) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		return;
	}
	memcpy(s->id_hash, c->session.id_hash, sizeof(s->id_hash));
	snprintf(s->login, sizeof(s->login), "%s", c->user.login);
	snprintf(s->address, sizeof(s->address), "%s", req->address);
	col_console_defer(&s->a, reply);
}

/* A password set: through a one-time link (token), or by the signed-in
 * person (user_id, keeping the session keep). */
struct password_set {
	struct col_console_action a;
	char token[USER_TOKEN_HEX + 1];    /* "": a change while signed in */
	char hash[USER_HASH_MAX];
	long long user_id;                 /* a change: the person; a link: filled */
	uint8_t keep[SECRET_HASH_BYTES];
	char login[USER_LOGIN_MAX + 1];    /* filled for the reply and the audit */
	char address[64];
	struct err refused;
};

static int store_password(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct password_set *p = (struct password_set *)(void *)a;
	long long now = (long long)time(NULL);
	struct audit_entry entry = { now, p->login, p->address, "user.password", p->login, "ok" };
	struct user u;
	int rc;

	err_clear(&p->refused);
	if (p->token[0])
		rc = user_set_password_by_link(db, p->token, p->hash, now, &p->user_id, &p->refused);
	else
		rc = user_change_password(db, p->user_id, p->hash, p->keep, now, &p->refused);
	/* an unknown link is nobody's to record: it changed nothing */
	if (rc == ERR_NOT_FOUND)
		return 0;
	if (rc) {
		*e = p->refused;
		return rc;
	}
	if ((rc = user_find_id(db, p->user_id, &u, e)) == 0) {
		snprintf(p->login, sizeof(p->login), "%s", u.login);
		rc = audit_append(db, &entry, e);
	}
	user_release(&u);
	return rc;
}

static void answer_password(struct col_console_action *a, struct col_reply *reply)
{
	struct password_set *p = (struct password_set *)(void *)a;

	if (a->job.code)
		col_reply_err(a->app, reply, &a->job.err);
	else if (p->refused.code)
		col_console_reply_refused(a->app, reply, &p->refused);
	else
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s}", "login", p->login));
}

/* A change by the signed-in person: their session (and CSRF token), and
 * their current password, verified first.  0 with p->user_id and p->keep
 * set, or -1 with the reply set. */
static int check_own_change(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			    const char *current, struct password_set *p)
{
	struct col_sender sender;
	uint64_t key;
	int rc = -1, ok, wait;

	memset(&sender, 0, sizeof(sender));
	if (col_console_authenticate(app, req, reply, 0, &sender) != 0)
		goto out;
	key = login_key(app, sender.console.user.login);
	if ((wait = col_ratelimit_take(&app->login_limit, key, req->now)) != 0) {
		reply_limited(app, reply, wait);
		goto out;
	}
	ok = check_password(app, reply, sender.console.user.login, current, &p->user_id);
	if (ok != 0)
		col_ratelimit_refund(&app->login_limit, key);
	if (ok == 0)
		col_reply_error(app, reply, COL_E_FORBIDDEN, "the current password is wrong", "current");
	if (ok != 1)
		goto out;
	assert(p->user_id == sender.console.user.id);
	memcpy(p->keep, sender.console.session.id_hash, sizeof(p->keep));
	snprintf(p->login, sizeof(p->login), "%s", sender.console.user.login);
	rc = 0;
out:
	col_sender_release(&sender);
	return rc;
}

void col_handle_console_password(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail)
{
	const char *token, *current, *password;
	struct password_set *p = NULL;
	json_t *doc = NULL;
	struct err e;
	int rc;

	(void)tail;
	err_clear(&e);
	if (col_json_body(app, req, reply, &doc) != 0)
		return;
	token = json_string_value(json_object_get(doc, "token"));
	current = json_string_value(json_object_get(doc, "current"));
	password = json_string_value(json_object_get(doc, "password"));
	if (!password || !token == !current || (current && strlen(current) > USER_PASSWORD_MAX)) {
		col_reply_error(app, reply, COL_E_INVALID, "the body must be {\"token\": \"...\", \"password\": \"...\"} "
				"or, signed in, {\"current\": \"...\", \"password\": \"...\"}",
				!password ? "password" : "token");
		goto out;
	}
	if (user_check_password_rules(password, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	if (address_limited(app, req, reply) != 0)
		goto out;
	p = col_console_action_new(app, sizeof(*p), store_password, answer_password);
	if (!p) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		goto out;
	}
	if (token) {
		snprintf(p->token, sizeof(p->token), "%.*s", USER_TOKEN_HEX, token);
		if (strlen(token) != USER_TOKEN_HEX) {
			col_reply_error(app, reply, COL_E_NOT_FOUND, "this link is not valid: it is unknown, used or "
					"expired; ask the office for a new one", "token");
			goto out;
		}
	} else if (check_own_change(app, req, reply, current, p) != 0) {
		goto out;
	}
	snprintf(p->address, sizeof(p->address), "%s", req->address);
	if (hash_begin(app, reply) != 0)
		goto out;
	rc = user_hash_password(password, p->hash, &e);
	hash_end(app);
	if (rc) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	col_console_defer(&p->a, reply);
	p = NULL;
out:
	if (p)
		col_console_action_free(&p->a);
	json_decref(doc);
}
