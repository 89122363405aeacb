/*
 * console_users.c - the office's routes over accounts and the audit log
 * (docs/console.md, "Accounts" and "Audit log"): list, add, disable and
 * reset accounts, each change recorded in the audit log in the same
 * transaction (a refused one too, with why), and read the log.  The
 * routes are AUTH_CONSOLE_OFFICE: the precheck refuses anyone else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../lib/period.h"
#include "console.h"
#include "handlers.h"
#include "request.h"

#define MAX_USER_AGENCIES 64
#define AGENCY_CODE_BYTES 33            /* a code, at most 32 bytes, and its NUL */
#define AUDIT_LIMIT_DEFAULT 200
#define AUDIT_LIMIT_MAX 1000

static json_t *codes_json(char *const *codes, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(codes[i]));
	return a;
}

static json_t *user_json(const struct user *u)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:o}", "login", u->login, "name", u->name, "role",
			 user_role_name(u->role), "agencies", codes_json(u->agency_codes, u->n_agencies),
			 "disabled", u->disabled, "has_password", u->has_password, "created_at",
			 col_json_time(u->created_at));
}

void col_handle_console_users(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			      const char *tail)
{
	struct user *users = NULL;
	json_t *list;
	size_t n = 0;
	struct err e;
	sqlite3 *db;

	(void)req;
	(void)tail;
	err_clear(&e);
	db = col_reader(app, &e);
	if (!db || user_list(db, &users, &n, &e) != 0) {
		col_reply_err(app, reply, &e);
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, user_json(&users[i]));
	user_list_free(users, n);
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:o}", "users", list));
}

/* The address a one-time link carries: the one the office reached the
 * console at (its Host header), so that the link opens the same console;
 * a relative link when the Host is missing or not a plain host[:port]. */
static void link_base(const struct col_app *app, const struct col_request *req, char *out, size_t size)
{
	const char *host = req->header(req->cls, MHD_HTTP_HEADER_HOST);
	size_t n = host ? strlen(host) : 0;

	if (n == 0 || n > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != n)
		snprintf(out, size, "%s", "");
	else
		snprintf(out, size, "%s://%s", app->tls ? "https" : "http", host);
}

/* An account change by an office user: what it acts on, and what the
 * writer answers (a link for add and reset). */
struct user_change {
	struct col_console_action a;
	const char *action;                 /* the audit's action: "user.add", ... */
	int (*change)(sqlite3 *db, void *arg, struct err *e);
	char actor[USER_LOGIN_MAX + 1];
	long long actor_id;
	char address[64];
	char base[300];                     /* link_base */
	char login[USER_LOGIN_MAX + 1];     /* "" when the request names no valid login */
	char subject[USER_LOGIN_MAX + 16 + MAX_USER_AGENCIES * AGENCY_CODE_BYTES];  /* describe_subject */
	char name[USER_NAME_MAX + 1];
	int role;
	char *codes[MAX_USER_AGENCIES];     /* into agencies */
	size_t n_codes;
	char agencies[MAX_USER_AGENCIES * AGENCY_CODE_BYTES];
	long long now;
	char token[USER_TOKEN_HEX + 1];     /* add and reset: the new link's */
	struct err invalid;                 /* refused before the writer (change_refused) */
	struct err refused;                 /* the change's refusal, from the writer */
};

static int change_add(sqlite3 *db, void *arg, struct err *e)
{
	struct user_change *c = arg;

	return user_add(db, c->login, c->name, c->role, (const char *const *)c->codes, c->n_codes, c->now, c->token,
			e);
}

/* An account the path names that does not exist: the login is at fault. */
static int login_at_fault(int rc, struct err *e)
{
	if (rc == ERR_NOT_FOUND && !e->field[0])
		snprintf(e->field, sizeof(e->field), "login");
	return rc;
}

static int change_reset(sqlite3 *db, void *arg, struct err *e)
{
	struct user_change *c = arg;

	return login_at_fault(user_reset(db, c->login, c->now, c->token, e), e);
}

static int change_disable(sqlite3 *db, void *arg, struct err *e)
{
	struct user_change *c = arg;
	struct user u;
	int rc = login_at_fault(user_find(db, c->login, &u, e), e);

	/* the office would lock itself out */
	if (rc == 0 && u.id == c->actor_id)
		rc = err_set_field(e, ERR_CONFLICT, "login", "you cannot disable your own account");
	user_release(&u);
	return rc ? rc : user_disable(db, c->login, c->now, e);
}

/* What the audit log names, as `sipas user` does: the login ("-" when the
 * request named none), and for a new account its role and agencies. */
static void describe_subject(struct user_change *c)
{
	size_t n = (size_t)snprintf(c->subject, sizeof(c->subject), "%s", c->login[0] ? c->login : "-");

	if (c->change != change_add)
		return;
	n += (size_t)snprintf(c->subject + n, sizeof(c->subject) - n, " (%s", user_role_name(c->role));
	for (size_t i = 0; i < c->n_codes; i++)
		n += (size_t)snprintf(c->subject + n, sizeof(c->subject) - n, "%s%s", i ? "," : " ", c->codes[i]);
	snprintf(c->subject + n, sizeof(c->subject) - n, ")");
}

static int store_user_change(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct user_change *c = (struct user_change *)(void *)a;
	struct audit_entry entry = { 0 };

	c->now = (long long)time(NULL);
	entry.at = c->now;
	entry.actor = c->actor;
	entry.address = c->address;
	entry.action = c->action;
	describe_subject(c);
	entry.subject = c->subject;
	return col_console_audited(db, c->change, c, &entry, &c->refused, e);
}

static void answer_user_change(struct col_console_action *a, struct col_reply *reply)
{
	struct user_change *c = (struct user_change *)(void *)a;
	char link[sizeof(c->base) + 32 + USER_TOKEN_HEX];

	if (a->job.code) {
		col_reply_err(a->app, reply, &a->job.err);
	} else if (c->refused.code) {
		col_console_reply_refused(a->app, reply, &c->refused);
	} else if (c->change == change_disable) {
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:b}", "login", c->login, "disabled", 1));
	} else {
		snprintf(link, sizeof(link), "%s/console/password/%s", c->base, c->token);
		col_reply_json(reply, c->change == change_add ? MHD_HTTP_CREATED : MHD_HTTP_OK,
			       json_pack("{s:s, s:s, s:o}", "login", c->login, "link", link, "expires_at",
					 col_json_time(c->now + USER_LINK_SECONDS)));
		secret_wipe(link, sizeof(link));
	}
}

static struct user_change *user_change_new(struct col_app *app, const struct col_request *req,
					   const char *action, int (*change)(sqlite3 *, void *, struct err *))
{
	const struct col_console *who = &req->sender->console;
	struct user_change *c = col_console_action_new(app, sizeof(*c), store_user_change, answer_user_change);

	if (!c)
		return NULL;
	c->action = action;
	c->change = change;
	snprintf(c->actor, sizeof(c->actor), "%s", who->user.login);
	c->actor_id = who->user.id;
	snprintf(c->address, sizeof(c->address), "%s", req->address);
	link_base(app, req, c->base, sizeof(c->base));
	return c;
}

/* The subject of a change as the body or path names it: a login, or ""
 * when it cannot be one (the change then refuses it, and the audit
 * records "-"). */
static void set_subject(struct user_change *c, const char *login)
{
	struct err e;

	if (login && user_check_login(login, &e) == 0)
		snprintf(c->login, sizeof(c->login), "%s", login);
}

/* Read POST /console/api/users's {"login","name","role","agencies"} into
 * c; on failure fill e naming the field. */
static int read_new_user(json_t *doc, struct user_change *c, struct err *e)
{
	const char *login = json_string_value(json_object_get(doc, "login"));
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *role = json_string_value(json_object_get(doc, "role"));
	json_t *agencies = json_object_get(doc, "agencies"), *code;
	size_t i, used = 0;

	if (user_check_login(login, e) != 0)
		return e->code;
	set_subject(c, login);
	if (!name)
		return err_set_field(e, ERR_INVALID, "name", "the account needs a name");
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (strlen(name) >= sizeof(c->name))
		return err_set_field(e, ERR_INVALID, "name", "a name is at most %d bytes", USER_NAME_MAX);
	c->role = user_role_parse(role);
	if (c->role < 0)
		return err_set_field(e, ERR_INVALID, "role", "a role is office, agency or viewer");
	if (agencies && !json_is_array(agencies))
		return err_set_field(e, ERR_INVALID, "agencies", "agencies is an array of agency codes");
	if (json_array_size(agencies) > MAX_USER_AGENCIES)
		return err_set_field(e, ERR_INVALID, "agencies", "at most %d agencies", MAX_USER_AGENCIES);
	json_array_foreach(agencies, i, code) {
		const char *s = json_string_value(code);
		size_t n = s ? strlen(s) + 1 : 0;

		if (!s || n > AGENCY_CODE_BYTES)
			return err_set_field(e, ERR_INVALID, "agencies", "agencies[%zu] is not an agency code", i);
		c->codes[c->n_codes++] = memcpy(c->agencies + used, s, n);
		used += n;
	}
	return 0;
}

/* A change refused before it reached the writer (a body that cannot be
 * read, a path that names no login): run in the writer all the same, so
 * that it is recorded like any other refusal. */
static int change_refused(sqlite3 *db, void *arg, struct err *e)
{
	const struct user_change *c = arg;

	(void)db;
	*e = c->invalid;
	return e->code;
}

void col_handle_console_user_add(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail)
{
	struct user_change *c;
	json_t *doc = NULL;

	(void)tail;
	if (col_json_body(app, req, reply, &doc) != 0)
		return;
	c = user_change_new(app, req, "user.add", change_add);
	if (!c) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
	} else {
		if (read_new_user(doc, c, &c->invalid) != 0)
			c->change = change_refused;
		col_console_defer(&c->a, reply);
	}
	json_decref(doc);
}

/* What POST /console/api/users/{login}/ACTION may do. */
static const struct {
	const char *verb, *action;
	int (*change)(sqlite3 *db, void *arg, struct err *e);
} user_actions[] = {
	{ "disable", "user.disable", change_disable },
	{ "reset", "user.reset", change_reset },
};

void col_handle_console_user_action(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				    const char *tail)
{
	const char *slash = strrchr(tail, '/');
	char login[USER_LOGIN_MAX + 1];
	struct user_change *c;
	size_t n = slash ? (size_t)(slash - tail) : 0;

	for (size_t i = 0; slash && n <= USER_LOGIN_MAX && i < sizeof(user_actions) / sizeof(user_actions[0]); i++) {
		if (strcmp(slash + 1, user_actions[i].verb) != 0)
			continue;
		c = user_change_new(app, req, user_actions[i].action, user_actions[i].change);
		if (!c) {
			col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
			return;
		}
		snprintf(login, sizeof(login), "%.*s", (int)n, tail);
		set_subject(c, login);
		if (!c->login[0]) {
			err_set_field(&c->invalid, ERR_NOT_FOUND, "login", "no such account");
			c->change = change_refused;
		}
		col_console_defer(&c->a, reply);
		return;
	}
	col_reply_error(app, reply, COL_E_NOT_FOUND, "the path is /console/api/users/{login}/disable or /reset", NULL);
}

/* ---- the audit log ---- */

static int row_json(const struct audit_row *row, void *arg)
{
	json_t *entries = arg;

	return json_array_append_new(entries, json_pack("{s:I, s:o, s:s, s:s?, s:s, s:s, s:s}", "id",
							(json_int_t)row->id, "at", col_json_time(row->at),
							"actor", row->actor, "address", row->address, "action",
							row->action, "subject", row->subject, "outcome", row->outcome))
		       ? ERR_NOMEM : 0;
}

/* Read ?since=YYYY-MM-DD&actor=&action=&limit= into f; e names the field. */
static int read_audit_filter(const struct col_request *req, struct audit_filter *f, struct err *e)
{
	const char *since = req->query(req->cls, "since"), *limit = req->query(req->cls, "limit");
	int64_t ts;
	int32_t day;
	char *end;
	long n;

	memset(f, 0, sizeof(*f));
	f->newest_first = 1;
	f->limit = AUDIT_LIMIT_DEFAULT;
	if (since && *since) {
		if (period_parse_day(since, &day, &ts) != 0)
			return err_set_field(e, ERR_INVALID, "since", "since is a day, YYYY-MM-DD");
		f->since = ts;
	}
	if (limit && *limit) {
		n = strtol(limit, &end, 10);
		if (*end || n < 1 || n > AUDIT_LIMIT_MAX)
			return err_set_field(e, ERR_INVALID, "limit", "limit is 1 to %d", AUDIT_LIMIT_MAX);
		f->limit = n;
	}
	f->actor = req->query(req->cls, "actor");
	f->action = req->query(req->cls, "action");
	if (f->actor && !*f->actor)
		f->actor = NULL;
	if (f->action && !*f->action)
		f->action = NULL;
	return 0;
}

void col_handle_console_audit(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			      const char *tail)
{
	char head[AUDIT_HASH_HEX + 1];
	struct audit_filter f;
	json_t *entries = NULL;
	struct err e, ignored;
	sqlite3 *db;
	int rc;

	(void)tail;
	err_clear(&e);
	if (read_audit_filter(req, &f, &e) != 0) {
		col_reply_err(app, reply, &e);
		return;
	}
	db = col_reader(app, &e);
	if (!db) {
		col_reply_err(app, reply, &e);
		return;
	}
	entries = json_array();
	/* the head and the entries of one snapshot */
	rc = db_exec(db, "BEGIN", &e);
	if (rc == 0) {
		rc = audit_head(db, head, &e);
		if (rc == 0)
			rc = audit_list(db, &f, row_json, entries, &e);
		db_exec(db, "COMMIT", &ignored);
	}
	if (rc) {
		if (rc == ERR_NOMEM)
			err_set(&e, ERR_NOMEM, "out of memory listing the audit log");
		col_reply_err(app, reply, &e);
		json_decref(entries);
		return;
	}
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:o}", "head", head, "entries", entries));
}
