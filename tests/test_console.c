/*
 * test_console.c - the console's sessions against a real server: signing
 * in and out, the cookie's attributes, the CSRF token, one answer for a
 * wrong password and an unknown login; and the helpers the console's
 * other suites use (test.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <jansson.h>
#include <sqlite3.h>

#include "test.h"
#include "../collector/writer.h"
#include "../office/user.h"

int console_add_user(const char *db, const char *login, const char *role, const char *agencies,
		     const char *password)
{
	char token[USER_TOKEN_HEX + 1], hash[USER_HASH_MAX], *list = agencies ? strdup(agencies) : NULL;
	const char *codes[16];
	size_t n = 0;
	long long id;
	struct err e;
	sqlite3 *conn = NULL;
	int rc = -1;

	err_clear(&e);
	for (char *save = NULL, *code = list ? strtok_r(list, ",", &save) : NULL; code && n < 16;
	     code = strtok_r(NULL, ",", &save))
		codes[n++] = code;
	if (sqlite3_open(db, &conn) != SQLITE_OK || sqlite3_exec(conn, "BEGIN IMMEDIATE", 0, 0, 0) != SQLITE_OK)
		goto out;
	if (user_add(conn, login, login, user_role_parse(role), codes, n, (long long)time(NULL), token, &e) != 0 ||
	    user_hash_password(password, hash, &e) != 0 ||
	    user_set_password_by_link(conn, token, hash, (long long)time(NULL), &id, &e) != 0)
		goto out;
	rc = sqlite3_exec(conn, "COMMIT", 0, 0, 0) == SQLITE_OK ? 0 : -1;
out:
	if (rc)
		fprintf(stderr, "console_add_user %s: %s %s\n", login, e.text, conn ? sqlite3_errmsg(conn) : "");
	sqlite3_close(conn);
	free(list);
	return rc;
}

long console_request(const struct test_server *s, const struct console_client *c, int with_csrf,
		     const char *method, const char *path, const char *body, struct http_result *out)
{
	char url[512], cookie[200], csrf[120];
	const char *headers[4];
	size_t n = 0;

	snprintf(url, sizeof(url), "%s%s", s->base, path);
	if (body)
		headers[n++] = "Content-Type: application/json";
	if (c) {
		snprintf(cookie, sizeof(cookie), "Cookie: %s", c->cookie);
		headers[n++] = cookie;
		if (with_csrf) {
			snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", c->csrf);
			headers[n++] = csrf;
		}
	}
	headers[n] = NULL;
	if (test_http(method, url, body, headers, out) != 0)
		return -1;
	return out->status;
}

long console_sign_in(const struct test_server *s, const char *login, const char *password,
		     struct console_client *c)
{
	struct http_result h;
	char body[512];
	const char *set, *end;
	json_t *doc;
	long status;

	memset(c, 0, sizeof(*c));
	snprintf(body, sizeof(body), "{\"login\":\"%s\",\"password\":\"%s\"}", login, password);
	status = console_request(s, NULL, 0, "POST", "/console/api/login", body, &h);
	if (status == 200 && (set = strstr(h.headers, "Set-Cookie: ")) && (end = strchr(set, ';')) &&
	    (size_t)(end - set - 12) < sizeof(c->cookie)) {
		memcpy(c->cookie, set + 12, (size_t)(end - set - 12));
		doc = json_loads(h.body, 0, NULL);
		snprintf(c->csrf, sizeof(c->csrf), "%s", doc ? json_string_value(json_object_get(doc, "csrf")) : "");
		json_decref(doc);
		status = c->csrf[0] ? 0 : -1;
	}
	free(h.body);
	return status;
}

/* The fixture registry (SO-XD with communes under it) and the accounts of
 * these tests. */
static void init_with_accounts(void)
{
	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(console_add_user("sipas.db", "office1", "office", NULL, "correct horse battery"), 0);
}

static void signs_in_and_out(void)
{
	struct console_client c, forged;
	struct test_server s;
	struct http_result h;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_request(&s, NULL, 0, "GET", "/console/api/me", NULL, &h), 401);
	free(h.body);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	CHECK(strncmp(c.cookie, "sipas_console=", 14) == 0);
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/me", NULL, &h), 200);
	CHECK_CONTAINS(h.body, "\"login\":\"office1\"");
	CHECK_CONTAINS(h.body, "\"role\":\"office\"");
	free(h.body);
	/* without its CSRF token, or with another's, a sign-out changes nothing */
	CHECK_INT(console_request(&s, &c, 0, "POST", "/console/api/logout", NULL, &h), 403);
	CHECK_CONTAINS(h.body, "x-csrf-token");
	free(h.body);
	forged = c;
	memset(forged.csrf, 'a', 64);
	CHECK_INT(console_request(&s, &forged, 1, "POST", "/console/api/logout", NULL, &h), 403);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM sessions WHERE ended_at IS NULL"), 1);
	CHECK_INT(console_request(&s, &c, 1, "POST", "/console/api/logout", NULL, &h), 204);
	CHECK_CONTAINS(h.headers, "Max-Age=0");
	free(h.body);
	/* ended on the server: the old cookie no longer works */
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/me", NULL, &h), 401);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL"), 1);
	CHECK_INT(test_server_stop(&s), 0);
}

static void the_cookie_is_http_only_and_strict(void)
{
	struct test_server s;
	struct http_result h;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/login",
				  "{\"login\":\"office1\",\"password\":\"correct horse battery\"}", &h), 200);
	CHECK_CONTAINS(h.headers, "; Path=/; HttpOnly; SameSite=Strict");
	CHECK(!strstr(h.headers, "Secure"));   /* plain HTTP: the browser would drop a Secure cookie */
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

static void a_wrong_password_and_an_unknown_login_get_one_answer(void)
{
	struct console_client c;
	struct test_server s;
	struct http_result h1, h2;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/login",
				  "{\"login\":\"office1\",\"password\":\"wrong password!\"}", &h1), 401);
	CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/login",
				  "{\"login\":\"nobody\",\"password\":\"wrong password!\"}", &h2), 401);
	CHECK_STR(h1.body, h2.body);
	CHECK(!strstr(h1.headers, "Set-Cookie"));
	free(h1.body);
	free(h2.body);
	CHECK_INT(console_sign_in(&s, "office1", "wrong password!", &c), 401);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM sessions"), 0);
	CHECK_INT(test_server_stop(&s), 0);
}


/* ---- helpers of the cases below ---- */

/* The first row's first column of sql on the database at path, as text,
 * into out ("" when none). */
static void db_text(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *conn = NULL;
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	if (sqlite3_open(path, &conn) == SQLITE_OK && sqlite3_prepare_v2(conn, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(conn);
}

/* Run sql (no rows) on the database at path; 0 or -1. */
static int db_run(const char *path, const char *sql)
{
	sqlite3 *conn = NULL;
	int rc = sqlite3_open(path, &conn) == SQLITE_OK && sqlite3_exec(conn, sql, 0, 0, 0) == SQLITE_OK ? 0 : -1;

	sqlite3_close(conn);
	return rc;
}

/* What a console action could change, in one line: equal before and after
 * means nothing was written. */
#define FINGERPRINT_SQL \
	"SELECT (SELECT count(*) || ',' || count(disabled_at) || ',' || coalesce(group_concat(password_hash), '') " \
	"FROM users) || '/' || (SELECT count(*) FROM user_agencies) || '/' || (SELECT count(*) || ',' || " \
	"count(used_at) FROM password_links) || '/' || (SELECT count(*) || ',' || count(ended_at) FROM sessions) " \
	"|| '/' || (SELECT count(*) FROM audit) || '/' || (SELECT count(*) || ',' || count(revoked_at) || ',' || " \
	"coalesce(sum(paired_at), 0) FROM devices) || '/' || (SELECT count(*) FROM pairings) || '/' || " \
	"(SELECT count(*) FROM publications) || '/' || (SELECT count(*) FROM responses) || '/' || " \
	"(SELECT count(*) FROM imports)"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The value of JSON string member name in body into out ("" when none). */
static void json_member(const char *body, const char *name, char *out, size_t size)
{
	json_t *doc = json_loads(body, 0, NULL);
	const char *v = json_string_value(json_object_get(doc, name));

	snprintf(out, size, "%s", v ? v : "");
	json_decref(doc);
}

/* The token at the end of a one-time link ("" when it is not one). */
static void link_token(const char *link, char out[USER_TOKEN_HEX + 1])
{
	const char *t = strstr(link, "/console/password/");

	snprintf(out, USER_TOKEN_HEX + 1, "%s", t && strlen(t + 18) == USER_TOKEN_HEX ? t + 18 : "");
}

/* ---- the writer does the console's writes ---- */

pid_t console_post_aside(const struct test_server *s, const struct console_client *c, const char *path,
			 const char *body, long status)
{
	struct http_result h;
	double t0, took;
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(console_request(s, c, 1, "POST", path, body, &h) == status ? 0 : 1);
	usleep(300 * 1000);
	t0 = now_seconds();
	h.status = console_request(s, NULL, 0, "GET", "/api", NULL, &h);
	took = now_seconds() - t0;
	free(h.body);
	/* the worker was free: the post has not been answered yet */
	if (h.status != 200 || took >= 1.5 || waitpid(pid, &st, WNOHANG) != 0) {
		test_fail(__FILE__, __LINE__, "POST %s held the worker: GET /api answered %ld after %.2f s", path,
			  h.status, took);
		waitpid(pid, &st, 0);
		return -1;
	}
	return pid;
}

int console_post_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		test_fail(__FILE__, __LINE__, "the post aside was not answered as expected");
		return -1;
	}
	return 0;
}

/* While another process holds the write lock, a request whose session is
 * due to be marked seen is answered at once (the mark is a writer job
 * nobody waits for), and with one worker thread a sign-out waiting for its
 * commit does not hold up other requests. */
static void session_writes_never_hold_a_worker(void)
{
	struct console_client c;
	struct test_server s;
	struct http_result h;
	sqlite3 *lock = NULL;
	pid_t pid;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", "--threads", "1", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	CHECK_INT(db_run("sipas.db", "UPDATE sessions SET seen_at = seen_at - 120"), 0);
	CHECK((lock = test_db_lock("sipas.db")) != NULL);
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/me", NULL, &h), 200);
	free(h.body);
	/* a sign-out waits in the writer for the lock (2 s, then 503 busy) */
	CHECK((pid = console_post_aside(&s, &c, "/console/api/logout", NULL, 503)) > 0);
	CHECK_INT(console_post_wait(pid), 0);
	sqlite3_exec(lock, "ROLLBACK", 0, 0, 0);
	sqlite3_close(lock);
	/* the lock gone, the same sign-out works */
	CHECK_INT(console_request(&s, &c, 1, "POST", "/console/api/logout", NULL, &h), 204);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* While another process holds the write lock, with one worker thread: a
 * kiosk added, and a refusal on its way to the audit log, wait in the
 * writer without holding up other requests; a refusal whose record fails
 * still stands. */
static void device_writes_never_hold_a_worker(void)
{
	static const struct {
		const char *login, *password;
		long status;
	} waits[] = {
		{ "office1", "correct horse battery", 503 },   /* the writer gives up: busy */
		{ "v1", "viewer one password", 403 },          /* a viewer has no devices */
	};
	struct console_client c;
	struct test_server s;
	sqlite3 *lock = NULL;
	pid_t pid;

	init_with_accounts();
	CHECK_INT(console_add_user("sipas.db", "v1", "viewer", "SO-XD", "viewer one password"), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--threads", "1", NULL), 0);
	CHECK_INT(sqlite3_open("sipas.db", &lock), SQLITE_OK);
	sqlite3_busy_timeout(lock, 5000);   /* the server's periodic jobs take the lock for moments */
	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
		CHECK_INT(console_sign_in(&s, waits[i].login, waits[i].password, &c), 0);
		CHECK_INT(sqlite3_exec(lock, "BEGIN IMMEDIATE", 0, 0, 0), SQLITE_OK);
		CHECK((pid = console_post_aside(&s, &c, "/console/api/devices", "{\"agency\":\"SO-XD\","
						"\"counter\":\"Quầy 1\",\"sectors\":[\"dat-dai\"]}", waits[i].status)) > 0);
		CHECK_INT(console_post_wait(pid), 0);
		CHECK_INT(sqlite3_exec(lock, "ROLLBACK", 0, 0, 0), SQLITE_OK);
	}
	sqlite3_close(lock);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 0);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A console action still waiting for its commit when the server is told
 * to stop is answered before the server exits (here 503 busy: another
 * process holds the write lock past the writer's wait). */
static void a_stop_waits_for_a_console_action(void)
{
	struct console_client c;
	struct test_server s;
	struct http_result h;
	sqlite3 *lock = NULL;
	pid_t pid;
	int status;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	CHECK((lock = test_db_lock("sipas.db")) != NULL);
	pid = fork();
	if (pid == 0)
		_exit(console_request(&s, &c, 1, "POST", "/console/api/logout", NULL, &h) == 503 ? 0 : 1);
	usleep(300 * 1000);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sqlite3_exec(lock, "ROLLBACK", 0, 0, 0);
	sqlite3_close(lock);
}

/* A console change the writer refuses undoes only its own writes, even
 * in the same transaction as a kiosk's rating: while another process
 * holds the write lock, a first rating holds the writer, and a second
 * rating and an account with an unknown agency (its user row written
 * before the agency is found missing) queue up into one group. */
static void a_refused_change_undoes_only_itself_in_a_group(void)
{
	static const char *const bodies[] = {
		"{\"response_id\":\"first\",\"form\":\"kiosk-2018\",\"agency\":\"SO-XD\",\"sector\":\"dat-dai\","
		"\"channel\":\"kiosk\",\"submitted_at\":\"2026-08-03T09:15:00+07:00\",\"answers\":{\"overall\":3}}",
		"{\"response_id\":\"second\",\"form\":\"kiosk-2018\",\"agency\":\"SO-XD\",\"sector\":\"dat-dai\","
		"\"channel\":\"kiosk\",\"submitted_at\":\"2026-08-03T09:16:00+07:00\",\"answers\":{\"overall\":2}}",
	};
	const struct cmd_result *r;
	struct console_client c;
	struct test_server s;
	struct http_result h;
	sqlite3 *lock = NULL;
	char token[128];
	pid_t kids[3];
	int status;

	init_with_accounts();
	r = sipas_run(NULL, "device", "add", "--agency", "SO-XD", "--counter", "Quầy 1", "--sector", "dat-dai", NULL);
	CHECK_INT(r->status, 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(test_server_start(&s, "sipas.db", "--max-age", "36500", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	CHECK((lock = test_db_lock("sipas.db")) != NULL);
	for (int k = 0; k < 3; k++) {
		if (k == 1)
			usleep(200 * 1000);   /* the first rating is in the writer, waiting */
		kids[k] = fork();
		if (kids[k] == 0) {
			long st = k < 2 ? test_request(&s, "POST", "/api/responses", token, bodies[k], &h)
					: console_request(&s, &c, 1, "POST", "/console/api/users",
							  "{\"login\":\"agency2\",\"name\":\"A\",\"role\":\"agency\","
							  "\"agencies\":[\"NOPE\"]}", &h);

			_exit(st == (k < 2 ? 201 : 400) ? 0 : 1);
		}
	}
	usleep(400 * 1000);
	sqlite3_exec(lock, "ROLLBACK", 0, 0, 0);
	sqlite3_close(lock);
	for (int k = 0; k < 3; k++) {
		CHECK_INT(waitpid(kids[k], &status, 0), kids[k]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM users WHERE login = 'agency2'"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'user.add' AND "
			      "subject = 'agency2 (agency NOPE)' AND outcome LIKE '%NOPE%'"), 1);
	CHECK_INT(test_server_stop(&s), 0);
}

/* Writer jobs of the second kind, run straight on the writer: each writes
 * a setting, and the one that then fails undoes its own write only. */
struct run_case {
	struct col_write_job job;
	const char *name;
	int fail;
	int done;
};

static int run_case_store(sqlite3 *db, void *arg, struct err *e)
{
	const struct run_case *c = arg;
	char sql[200];

	snprintf(sql, sizeof(sql), "INSERT INTO settings(name, value) VALUES ('%s', 'x')", c->name);
	if (sqlite3_exec(db, sql, 0, 0, 0) != SQLITE_OK)
		return err_set(e, ERR_DB, "%s", sqlite3_errmsg(db));
	return c->fail ? err_set(e, ERR_CONFLICT, "refused after writing") : 0;
}

static void run_case_done(void *arg)
{
	__atomic_store_n(&((struct run_case *)arg)->done, 1, __ATOMIC_SEQ_CST);
}

static void a_failed_run_undoes_only_its_own_writes(void)
{
	struct run_case jobs[3] = { { .name = "first" }, { .name = "refused", .fail = 1 }, { .name = "kept" } };
	struct col_writer *w = NULL;
	sqlite3 *lock = NULL;
	struct err e;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(col_writer_start("sipas.db", &w, &e), 0);
	CHECK((lock = test_db_lock("sipas.db")) != NULL);
	for (int k = 0; k < 3; k++) {
		jobs[k].job.run = run_case_store;
		jobs[k].job.run_arg = &jobs[k];
		jobs[k].job.done = run_case_done;
		jobs[k].job.arg = &jobs[k];
		col_writer_enqueue(w, &jobs[k].job);
		/* the first is in the writer, waiting for the lock: the other
		 * two queue up into the next group together */
		if (k == 0)
			usleep(200 * 1000);
	}
	usleep(200 * 1000);
	sqlite3_exec(lock, "ROLLBACK", 0, 0, 0);
	sqlite3_close(lock);
	col_writer_stop(w);
	for (int k = 0; k < 3; k++)
		CHECK_INT(jobs[k].done, 1);
	CHECK_INT(jobs[0].job.code, 0);
	CHECK_INT(jobs[1].job.code, ERR_CONFLICT);
	CHECK_STR(jobs[1].job.err.text, "refused after writing");
	CHECK_INT(jobs[2].job.code, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM settings WHERE name IN ('first', 'kept')"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM settings WHERE name = 'refused'"), 0);
}

/* ---- sessions ---- */

static void a_session_ends_idle_old_or_signed_out(void)
{
	struct console_client a, b, c;
	struct test_server s;
	struct http_result h;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &a), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &b), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	/* idle 31 minutes: a; begun 12 h and a minute ago, though seen now: b */
	CHECK_INT(db_run("sipas.db", "UPDATE sessions SET seen_at = seen_at - 31 * 60 WHERE rowid = 1"), 0);
	CHECK_INT(db_run("sipas.db", "UPDATE sessions SET created_at = created_at - 12 * 3600 - 60 WHERE rowid = 2"), 0);
	CHECK_INT(console_request(&s, &a, 0, "GET", "/console/api/me", NULL, &h), 401);
	free(h.body);
	CHECK_INT(console_request(&s, &b, 0, "GET", "/console/api/me", NULL, &h), 401);
	free(h.body);
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/me", NULL, &h), 200);
	free(h.body);
	/* idle 29 minutes is still a session, and using it renews it */
	CHECK_INT(db_run("sipas.db", "UPDATE sessions SET seen_at = seen_at - 29 * 60 WHERE rowid = 3"), 0);
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/me", NULL, &h), 200);
	free(h.body);
	for (int i = 0; i < 100 && test_db_int("sipas.db", "SELECT strftime('%s') - seen_at FROM sessions "
					       "WHERE rowid = 3") > 60; i++)
		usleep(20 * 1000);
	CHECK(test_db_int("sipas.db", "SELECT strftime('%s') - seen_at FROM sessions WHERE rowid = 3") <= 60);
	CHECK_INT(console_request(&s, &c, 1, "POST", "/console/api/logout", NULL, &h), 204);
	free(h.body);
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/me", NULL, &h), 401);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'logout' AND actor = 'office1' "
			      "AND outcome = 'ok'"), 1);
	CHECK_INT(test_server_stop(&s), 0);
}

/* One request a test makes of a route GET /api lists, and its answer. */
struct route_probe {
	const char *method, *route;  /* as GET /api lists it */
	const char *path, *body;     /* the request */
	long status;                 /* 0: the route is deliberately not tried */
	int own_session;             /* it ends the session: sign in again for it */
};

/* How a test walks the routes GET /api lists under prefix (with
 * writes_only, the ones that are not GET): each is tried with each of its
 * rows, as client (signed in as login/password), with the CSRF token or
 * not; the reply must have the row's status, hold must_hold if set, and
 * none of must_not_hold.  A route without a row fails the test, so that
 * a route added without a probe is seen. */
struct route_walk {
	const struct route_probe *rows;
	size_t n_rows;
	const char *prefix;
	int writes_only;
	const struct console_client *client;
	const char *login, *password;
	int with_csrf;
	const char *must_hold;
	const char *const *must_not_hold;   /* NULL-terminated, or NULL */
};

/* Try route's rows; how many there are, or -1 when one failed (test_fail
 * said why). */
static int probe_route(const struct test_server *s, const struct route_walk *w, const char *method,
		       const char *path)
{
	struct console_client own;
	struct http_result h;
	int n = 0;

	for (size_t k = 0; k < w->n_rows; k++) {
		const struct route_probe *p = &w->rows[k];
		const struct console_client *c = w->client;
		long status;

		if (strcmp(p->method, method) != 0 || strcmp(p->route, path) != 0)
			continue;
		n++;
		if (!p->status)
			continue;
		if (p->own_session) {
			if (console_sign_in(s, w->login, w->password, &own) != 0) {
				test_fail(__FILE__, __LINE__, "%s cannot sign in again", w->login);
				return -1;
			}
			c = &own;
		}
		status = console_request(s, c, w->with_csrf, p->method, p->path, p->body, &h);
		if (status == p->status && w->must_hold && !strstr(h.body, w->must_hold))
			status = -2;
		for (size_t b = 0; status == p->status && w->must_not_hold && w->must_not_hold[b]; b++)
			if (strstr(h.body, w->must_not_hold[b]))
				status = -2;
		if (status != p->status) {
			test_fail(__FILE__, __LINE__, "%s %s as %s%s: %ld (expected %ld): %s", p->method, p->path,
				  w->login, w->with_csrf ? "" : " without the CSRF token", h.status, p->status, h.body);
			free(h.body);
			return -1;
		}
		free(h.body);
	}
	return n;
}

/* Walk the routes as w says: 0, or -1 when the test failed. */
static int walk_routes(const struct test_server *s, const struct route_walk *w)
{
	struct http_result api;
	json_t *doc = NULL, *route;
	size_t i;
	int rc = -1, n;

	if (console_request(s, NULL, 0, "GET", "/api", NULL, &api) != 200 || !(doc = json_loads(api.body, 0, NULL))) {
		test_fail(__FILE__, __LINE__, "GET /api: %ld %s", api.status, api.body);
		goto out;
	}
	json_array_foreach(json_object_get(doc, "routes"), i, route) {
		const char *method = json_string_value(json_object_get(route, "method"));
		const char *path = json_string_value(json_object_get(route, "path"));

		if (strncmp(path, w->prefix, strlen(w->prefix)) != 0 || (w->writes_only && strcmp(method, "GET") == 0))
			continue;
		if ((n = probe_route(s, w, method, path)) < 0)
			goto out;
		if (n == 0) {
			test_fail(__FILE__, __LINE__, "%s %s has no probe in this test: add one", method, path);
			goto out;
		}
	}
	rc = 0;
out:
	free(api.body);
	json_decref(doc);
	return rc;
}

/* Each route that changes state, without the CSRF token: 403 naming
 * x-csrf-token. */
static const struct route_probe csrf_probes[] = {
	/* signing in is what a session comes from: it has no token yet */
	{ "POST", "/console/api/login", NULL, NULL, 0, 0 },
	{ "POST", "/console/api/logout", "/console/api/logout", NULL, 403, 0 },
	{ "POST", "/console/api/password", "/console/api/password",
	  "{\"current\":\"correct horse battery\",\"password\":\"another good password\"}", 403, 0 },
	{ "POST", "/console/api/users", "/console/api/users",
	  "{\"login\":\"new1\",\"name\":\"New\",\"role\":\"office\",\"agencies\":[]}", 403, 0 },
	{ "POST", "/console/api/users/", "/console/api/users/agency1/disable", NULL, 403, 0 },
	{ "POST", "/console/api/users/", "/console/api/users/agency1/reset", NULL, 403, 0 },
	{ "POST", "/console/api/devices", "/console/api/devices",
	  "{\"agency\":\"SO-XD\",\"counter\":\"Quầy 9\",\"sectors\":[\"dat-dai\"]}", 403, 0 },
	{ "POST", "/console/api/devices/", "/console/api/devices/1/pair", NULL, 403, 0 },
	{ "POST", "/console/api/devices/", "/console/api/devices/1/revoke", NULL, 403, 0 },
	{ "POST", "/console/api/imports", "/console/api/imports", "{}", 403, 0 },
	{ "POST", "/console/api/publish", "/console/api/publish", "{\"period\":\"2026Q3\",\"confirm_early\":true}", 403,
	  0 },
	{ "POST", "/console/api/withdraw", "/console/api/withdraw", "{\"period\":\"2026Q3\"}", 403, 0 },
	{ "POST", "/console/api/comments/", "/console/api/comments/1/handled", "{\"note\":\"seen\"}", 403, 0 },
};

/* Every route that changes state refuses a request without the session's
 * CSRF token, and nothing in the database changes. */
static void every_state_changing_route_needs_the_csrf_token(void)
{
	char before[512], after[512];
	struct console_client c;
	struct test_server s;
	struct http_result h;

	init_with_accounts();
	CHECK_INT(console_add_user("sipas.db", "agency1", "agency", "SO-XD", "agency one password"), 0);
	CHECK_INT(sipas_run(NULL, "device", "add", "--agency", "SO-XD", "--counter", "Quầy 1", "--sector", "dat-dai",
			    NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 0);
	db_text("sipas.db", FINGERPRINT_SQL, before, sizeof(before));
	if (walk_routes(&s, &(struct route_walk){ csrf_probes, sizeof(csrf_probes) / sizeof(csrf_probes[0]),
						  "/console/", 1, &c, "office1", "correct horse battery", 0,
						  "x-csrf-token", NULL }) != 0)
		return;
	db_text("sipas.db", FINGERPRINT_SQL, after, sizeof(after));
	CHECK_STR(after, before);
	/* and the session still works: nothing was ended */
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/me", NULL, &h), 200);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* Changing one's own password (signed in, with the current one) ends the
 * person's other sessions and keeps this one. */
static void a_password_change_ends_the_other_sessions(void)
{
	struct console_client a, b;
	struct test_server s;
	struct http_result h;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &a), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &b), 0);
	CHECK_INT(console_request(&s, &a, 1, "POST", "/console/api/password",
				  "{\"current\":\"not the password\",\"password\":\"a brand new secret\"}", &h), 403);
	CHECK_CONTAINS(h.body, "\"field\":\"current\"");
	free(h.body);
	CHECK_INT(console_request(&s, &a, 1, "POST", "/console/api/password",
				  "{\"current\":\"correct horse battery\",\"password\":\"short\"}", &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"password\"");
	free(h.body);
	CHECK_INT(console_request(&s, &a, 1, "POST", "/console/api/password",
				  "{\"current\":\"correct horse battery\",\"password\":\"a brand new secret\"}", &h), 200);
	CHECK_CONTAINS(h.body, "\"login\":\"office1\"");
	free(h.body);
	CHECK_INT(console_request(&s, &a, 0, "GET", "/console/api/me", NULL, &h), 200);
	free(h.body);
	CHECK_INT(console_request(&s, &b, 0, "GET", "/console/api/me", NULL, &h), 401);
	free(h.body);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &b), 401);
	CHECK_INT(console_sign_in(&s, "office1", "a brand new secret", &b), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'user.password' AND "
			      "actor = 'office1' AND subject = 'office1'"), 1);
	CHECK_INT(test_server_stop(&s), 0);
}

/* An account the office disables is signed out at once and cannot sign
 * in again; a refused change is recorded with why. */
static void a_disabled_account_is_signed_out(void)
{
	struct console_client office, agency;
	struct test_server s;
	struct http_result h;

	init_with_accounts();
	CHECK_INT(console_add_user("sipas.db", "agency1", "agency", "SO-XD", "agency one password"), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &office), 0);
	CHECK_INT(console_sign_in(&s, "agency1", "agency one password", &agency), 0);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users/agency1/disable", NULL, &h), 200);
	free(h.body);
	CHECK_INT(console_request(&s, &agency, 0, "GET", "/console/api/me", NULL, &h), 401);
	free(h.body);
	CHECK_INT(console_sign_in(&s, "agency1", "agency one password", &agency), 401);
	/* the office cannot lock itself out; an unknown login is not found */
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users/office1/disable", NULL, &h), 409);
	free(h.body);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users/nobody/disable", NULL, &h), 404);
	CHECK_CONTAINS(h.body, "\"field\":\"login\"");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'user.disable' AND "
			      "actor = 'office1' AND address = '127.0.0.1' AND subject = 'agency1' AND outcome = 'ok'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'user.disable' AND "
			      "subject = 'office1' AND outcome LIKE '%own account%'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'user.disable' AND "
			      "subject = 'nobody' AND outcome <> 'ok'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM users WHERE disabled_at IS NOT NULL"), 1);
	CHECK_INT(test_server_stop(&s), 0);
}

/* ---- sign-in limits ---- */

/* Five wrong passwords for a login, and it is refused (429, Retry-After)
 * before any hashing: even with the right password, and with the same
 * body for a login that does not exist.  Another login is not held up,
 * and its successes count nothing (the address's limit, 20, is the only
 * other one here). */
static void sign_in_is_limited_per_login_before_hashing(void)
{
	static const char *const logins[] = { "office1", "nobody" };
	char limited[2][512];
	struct console_client c;
	struct test_server s;
	struct http_result h;
	double t, hashed = 1e9, refused = 1e9;

	init_with_accounts();
	CHECK_INT(console_add_user("sipas.db", "office2", "office", NULL, "office two password"), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--address-rate", "0", NULL), 0);
	for (int k = 0; k < 2; k++) {
		char body[200];

		snprintf(body, sizeof(body), "{\"login\":\"%s\",\"password\":\"wrong password\"}", logins[k]);
		for (int i = 0; i < 5; i++) {
			t = now_seconds();
			CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/login", body, &h), 401);
			t = now_seconds() - t;
			hashed = t < hashed ? t : hashed;
			free(h.body);
		}
		t = now_seconds();
		CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/login", body, &h), 429);
		t = now_seconds() - t;
		refused = t < refused ? t : refused;
		CHECK_CONTAINS(h.headers, "Retry-After: ");
		snprintf(limited[k], sizeof(limited[k]), "%s", h.body);
		free(h.body);
	}
	CHECK_STR(limited[1], limited[0]);
	/* the limited reply costs no hash: far under the time of one */
	CHECK(refused * 4 < hashed);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 429);
	/* a success costs nothing: six in a row are not limited */
	for (int i = 0; i < 6; i++)
		CHECK_INT(console_sign_in(&s, "office2", "office two password", &c), 0);
	CHECK_INT(test_server_stop(&s), 0);
}

/* One address makes at most 20 attempts (sign-ins and password links
 * together), whatever logins it tries (the collector's general limit on
 * addresses is lifted here, to see this one). */
static void sign_in_is_limited_per_address(void)
{
	struct console_client c;
	struct test_server s;
	struct http_result h;
	char body[200];
	int i;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", "--address-rate", "0", NULL), 0);
	for (i = 0; i < 19; i++) {
		snprintf(body, sizeof(body), "{\"login\":\"guess%d\",\"password\":\"wrong password\"}", i);
		CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/login", body, &h), 401);
		free(h.body);
	}
	CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/password",
				  "{\"token\":\"0000000000000000000000000000000000000000000000000000000000000000\","
				  "\"password\":\"a good new password\"}", &h), 404);
	free(h.body);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &c), 429);
	CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/login",
				  "{\"login\":\"guess99\",\"password\":\"wrong password\"}", &h), 429);
	CHECK_CONTAINS(h.headers, "Retry-After: ");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A kiosk's ratings while many sign-ins arrive at once from many clients:
 * at most two passwords are checked at a time (the rest are answered 503
 * with Retry-After at once, never queued on a worker thread), and every
 * rating is stored. */
static void a_sign_in_flood_does_not_starve_the_kiosks(void)
{
	enum { CLIENTS = 12, ATTEMPTS = 3, RATINGS = 20 };
	const struct cmd_result *r;
	char token[128], path[32], body[600];
	struct test_server s;
	struct http_result h;
	pid_t kids[CLIENTS];
	long n[4] = { 0 };
	FILE *fp;

	init_with_accounts();
	r = sipas_run(NULL, "device", "add", "--agency", "SO-XD", "--counter", "Quầy 1", "--sector", "dat-dai", NULL);
	CHECK_INT(r->status, 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(test_server_start(&s, "sipas.db", "--max-age", "36500", "--address-rate", "0", NULL), 0);
	for (int k = 0; k < CLIENTS; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			/* each its own logins, so that only the hashing limit applies */
			snprintf(path, sizeof(path), "flood.%d", k);
			fp = fopen(path, "w");
			for (int i = 0; fp && i < ATTEMPTS; i++) {
				snprintf(body, sizeof(body), "{\"login\":\"flood%d_%d\",\"password\":\"wrong password\"}", k, i);
				fprintf(fp, "%ld\n", console_request(&s, NULL, 0, "POST", "/console/api/login", body, &h));
				free(h.body);
			}
			if (fp)
				fclose(fp);
			_exit(0);
		}
	}
	for (int i = 0; i < RATINGS; i++) {
		snprintf(body, sizeof(body), "{\"response_id\":\"flood-%d\",\"form\":\"kiosk-2018\",\"agency\":\"SO-XD\","
			 "\"sector\":\"dat-dai\",\"channel\":\"kiosk\",\"submitted_at\":\"2026-08-03T09:15:00+07:00\","
			 "\"answers\":{\"overall\":3}}", i);
		double t = now_seconds();

		/* stored, and within a bound under the flood's length (each
		 * sign-in hash ~0.2 s, 36 attempts: 7 s one after another; without
		 * the two hashing slots a rating waited 8 s); the bound leaves room
		 * for a machine of two cores also running another case */
		if (test_request(&s, "POST", "/api/responses", token, body, &h) != 201 || now_seconds() - t > 5.0) {
			test_fail(__FILE__, __LINE__, "rating %d during the flood: %ld in %.2f s %s", i, h.status,
				  now_seconds() - t, h.body);
			free(h.body);
			return;
		}
		free(h.body);
	}
	for (int k = 0; k < CLIENTS; k++)
		waitpid(kids[k], NULL, 0);
	for (int k = 0; k < CLIENTS; k++) {
		char line[32];

		snprintf(path, sizeof(path), "flood.%d", k);
		fp = fopen(path, "r");
		while (fp && fgets(line, sizeof(line), fp)) {
			long st = atol(line);

			n[st == 401 ? 0 : st == 429 ? 1 : st == 503 ? 2 : 3]++;
		}
		if (fp)
			fclose(fp);
	}
	/* every attempt answered: checked, limited (the address's 20), or busy */
	CHECK_INT(n[0] + n[1] + n[2], CLIENTS * ATTEMPTS);
	CHECK_INT(n[3], 0);
	CHECK(n[2] > 0);
	CHECK(n[0] + n[2] <= 20);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), RATINGS);
	CHECK_INT(test_server_stop(&s), 0);
}

/* ---- one-time links ---- */

/* A link the office makes sets the password once; used, or 15 minutes
 * old, it is refused (404, field token).  Nothing secret reaches the
 * access log. */
static void a_password_link_works_once_and_expires(void)
{
	char link[300], token[USER_TOKEN_HEX + 1], token2[USER_TOKEN_HEX + 1], want[100], body[300];
	struct console_client office, c;
	struct test_server s;
	struct http_result h;
	char *log;

	init_with_accounts();
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &office), 0);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users",
				  "{\"login\":\"viewer1\",\"name\":\"Người xem\",\"role\":\"viewer\",\"agencies\":[\"SO-XD\"]}",
				  &h), 201);
	json_member(h.body, "link", link, sizeof(link));
	CHECK_CONTAINS(h.body, "\"expires_at\":\"");
	free(h.body);
	snprintf(want, sizeof(want), "%s/console/password/", s.base);
	CHECK(strncmp(link, want, strlen(want)) == 0);
	link_token(link, token);
	CHECK(token[0]);
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"password\":\"viewer one secret\"}", token);
	CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/password", body, &h), 200);
	CHECK_CONTAINS(h.body, "{\"login\":\"viewer1\"}");
	free(h.body);
	CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/password", body, &h), 404);
	CHECK_CONTAINS(h.body, "\"field\":\"token\"");
	free(h.body);
	CHECK_INT(console_sign_in(&s, "viewer1", "viewer one secret", &c), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'user.password' AND "
			      "subject = 'viewer1' AND outcome = 'ok'"), 1);
	/* a reset: a new link, the password gone, its sessions ended */
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users/viewer1/reset", NULL, &h), 200);
	json_member(h.body, "link", link, sizeof(link));
	free(h.body);
	link_token(link, token2);
	CHECK(token2[0] && strcmp(token2, token) != 0);
	CHECK_INT(console_request(&s, &c, 0, "GET", "/console/api/me", NULL, &h), 401);
	free(h.body);
	CHECK_INT(console_sign_in(&s, "viewer1", "viewer one secret", &c), 401);
	/* 15 minutes later the new link is dead too */
	CHECK_INT(db_run("sipas.db", "UPDATE password_links SET expires_at = expires_at - 15 * 60 - 1"), 0);
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"password\":\"viewer one secret\"}", token2);
	CHECK_INT(console_request(&s, NULL, 0, "POST", "/console/api/password", body, &h), 404);
	CHECK_CONTAINS(h.body, "\"field\":\"token\"");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM users WHERE login = 'viewer1' AND "
			      "password_hash IS NULL"), 1);
	CHECK_INT(test_server_stop(&s), 0);
	/* the access log has the paths and statuses, never a secret */
	log = test_read("server.log");
	CHECK(log);
	CHECK(strstr(log, "POST /console/api/password 200"));
	CHECK(!strstr(log, token) && !strstr(log, token2) && !strstr(log, "viewer one secret") &&
	      !strstr(log, "correct horse battery") && !strstr(log, strchr(office.cookie, '=') + 1));
	free(log);
}

/* ---- the office's routes ---- */

static void only_the_office_manages_accounts_and_reads_the_audit_log(void)
{
	static const struct { const char *method, *path, *body; } office_only[] = {
		{ "GET", "/console/api/users", NULL },
		{ "POST", "/console/api/users", "{\"login\":\"mine\",\"name\":\"Mine\",\"role\":\"office\"}" },
		{ "POST", "/console/api/users/office1/disable", NULL },
		{ "POST", "/console/api/users/office1/reset", NULL },
		{ "GET", "/console/api/audit", NULL },
	};
	struct console_client office, others[2];
	struct test_server s;
	struct http_result h;
	json_t *doc, *entries;
	char before[512], after[512];

	init_with_accounts();
	CHECK_INT(console_add_user("sipas.db", "agency1", "agency", "SO-XD", "agency one password"), 0);
	CHECK_INT(console_add_user("sipas.db", "viewer1", "viewer", "SO-XD", "viewer one password"), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", "correct horse battery", &office), 0);
	CHECK_INT(console_sign_in(&s, "agency1", "agency one password", &others[0]), 0);
	CHECK_INT(console_sign_in(&s, "viewer1", "viewer one password", &others[1]), 0);
	db_text("sipas.db", FINGERPRINT_SQL, before, sizeof(before));
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < sizeof(office_only) / sizeof(office_only[0]); i++) {
			CHECK_INT(console_request(&s, &others[k], 1, office_only[i].method, office_only[i].path,
						  office_only[i].body, &h), 403);
			CHECK_CONTAINS(h.body, "\"code\":\"forbidden\"");
			CHECK(!strstr(h.body, "office1"));
			free(h.body);
		}
	db_text("sipas.db", FINGERPRINT_SQL, after, sizeof(after));
	CHECK_STR(after, before);
	/* the office: list, add (and a refused add, recorded), read the log */
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/users", NULL, &h), 200);
	CHECK_CONTAINS(h.body, "{\"login\":\"agency1\",\"name\":\"agency1\",\"role\":\"agency\",\"agencies\":[\"SO-XD\"],"
		       "\"disabled\":false,\"has_password\":true,\"created_at\":\"");
	free(h.body);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users",
				  "{\"login\":\"office2\",\"name\":\"Văn phòng 2\",\"role\":\"office\",\"agencies\":[]}", &h), 201);
	CHECK_CONTAINS(h.body, "\"login\":\"office2\"");
	free(h.body);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users",
				  "{\"login\":\"office2\",\"name\":\"Again\",\"role\":\"office\"}", &h), 409);
	CHECK_CONTAINS(h.body, "\"field\":\"login\"");
	free(h.body);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users",
				  "{\"login\":\"agency2\",\"name\":\"A\",\"role\":\"agency\",\"agencies\":[\"NOPE\"]}", &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"agency\"");
	free(h.body);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/users",
				  "{\"login\":\"Bad Login\",\"name\":\"A\",\"role\":\"office\"}", &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"login\"");
	free(h.body);
	/* nothing of a refused add is kept but its record */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM users WHERE login IN ('agency2', 'office2')"), 1);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/audit?action=user.add&limit=2", NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	entries = json_object_get(doc, "entries");
	CHECK_INT(json_array_size(entries), 2);
	/* newest first: the bad login, then the unknown agency */
	CHECK_STR(json_string_value(json_object_get(json_array_get(entries, 0), "subject")), "-");
	CHECK_STR(json_string_value(json_object_get(json_array_get(entries, 1), "subject")), "agency2 (agency NOPE)");
	CHECK_STR(json_string_value(json_object_get(json_array_get(entries, 1), "actor")), "office1");
	CHECK_STR(json_string_value(json_object_get(json_array_get(entries, 1), "address")), "127.0.0.1");
	CHECK(strstr(json_string_value(json_object_get(json_array_get(entries, 1), "outcome")), "NOPE"));
	CHECK(json_integer_value(json_object_get(json_array_get(entries, 0), "id")) >
	      json_integer_value(json_object_get(json_array_get(entries, 1), "id")));
	CHECK_INT(strlen(json_string_value(json_object_get(doc, "head"))), 64);
	json_decref(doc);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/audit?actor=office1&action=user.add", NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK_INT(json_array_size(json_object_get(doc, "entries")), 4);
	json_decref(doc);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/audit?since=2999-01-01", NULL, &h), 200);
	CHECK_CONTAINS(h.body, "\"entries\":[]");
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/audit?since=yesterday", NULL, &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"since\"");
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/audit?limit=1001", NULL, &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"limit\"");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}


/* ---- role isolation ---- */

/* A registry of three agencies: PA-AAA with PA-CHILD under it, and
 * PB-BEE ("Sở Bê", no children), with one kiosk each for PB-BEE (device 1)
 * and PA-CHILD (device 2), and the accounts: office1, agency1 of PA-AAA,
 * bee1 of PB-BEE. */
static int init_two_agencies(void)
{
	char sectors[4200], targets[4200];
	char *sec, *tar;
	int rc;

	snprintf(sectors, sizeof(sectors), "%s/sipas-2017-a/registry/sectors.csv", test_fixtures());
	snprintf(targets, sizeof(targets), "%s/sipas-2017-a/registry/targets.csv", test_fixtures());
	sec = test_read(sectors);
	tar = test_read(targets);
	rc = !sec || !tar || mkdir("reg", 0755) != 0 ||
	     test_write("reg/agencies.csv", "code,name,level,parent\nPA-AAA,Sở A,department,\n"
			"PA-CHILD,Phường A1,commune,PA-AAA\nPB-BEE,Sở Bê,department,\n") != 0 ||
	     test_write("reg/sectors.csv", sec) != 0 || test_write("reg/targets.csv", tar) != 0 ||
	     sipas_run(NULL, "init", "--registry", "reg", NULL)->status != 0 ||
	     sipas_run(NULL, "device", "add", "--agency", "PB-BEE", "--counter", "Quầy B", "--sector", "dat-dai",
		       NULL)->status != 0 ||
	     sipas_run(NULL, "device", "add", "--agency", "PA-CHILD", "--counter", "Quầy A1", "--sector", "dat-dai",
		       NULL)->status != 0 ||
	     console_add_user("sipas.db", "office1", "office", NULL, "correct horse battery") != 0 ||
	     console_add_user("sipas.db", "agency1", "agency", "PA-AAA", "agency one password") != 0 ||
	     console_add_user("sipas.db", "bee1", "agency", "PB-BEE", "bee one password") != 0 ? -1 : 0;
	free(sec);
	free(tar);
	return rc;
}

/* What an agency user of PA-AAA gets for each console API route when it
 * reaches for PB-BEE's things. */
static const struct route_probe bee_probes[] = {
	{ "POST", "/console/api/login", "/console/api/login",
	  "{\"login\":\"bee1\",\"password\":\"not bee's password\"}", 401, 0 },
	{ "POST", "/console/api/logout", "/console/api/logout", NULL, 204, 1 },
	{ "GET", "/console/api/me", "/console/api/me", NULL, 200, 0 },
	{ "POST", "/console/api/password", "/console/api/password",
	  "{\"token\":\"0000000000000000000000000000000000000000000000000000000000000000\","
	  "\"password\":\"bee's new password\"}", 404, 0 },
	{ "GET", "/console/api/users", "/console/api/users", NULL, 403, 0 },
	{ "POST", "/console/api/users", "/console/api/users",
	  "{\"login\":\"bee2\",\"name\":\"B\",\"role\":\"agency\",\"agencies\":[\"PB-BEE\"]}", 403, 0 },
	{ "POST", "/console/api/users/", "/console/api/users/bee1/reset", NULL, 403, 0 },
	{ "POST", "/console/api/users/", "/console/api/users/bee1/disable", NULL, 403, 0 },
	{ "GET", "/console/api/audit", "/console/api/audit", NULL, 403, 0 },
	{ "GET", "/console/api/notify/failed", "/console/api/notify/failed", NULL, 403, 0 },
	{ "GET", "/console/api/overview", "/console/api/overview", NULL, 200, 0 },
	{ "GET", "/console/api/devices", "/console/api/devices", NULL, 200, 0 },
	{ "POST", "/console/api/devices", "/console/api/devices",
	  "{\"agency\":\"PB-BEE\",\"counter\":\"Quầy 9\",\"sectors\":[\"dat-dai\"]}", 403, 0 },
	{ "POST", "/console/api/devices/", "/console/api/devices/1/pair", NULL, 403, 0 },
	{ "POST", "/console/api/devices/", "/console/api/devices/1/revoke", NULL, 403, 0 },
	{ "POST", "/console/api/imports", "/console/api/imports", "{}", 403, 0 },
	{ "GET", "/console/api/quarter", "/console/api/quarter", NULL, 403, 0 },
	{ "POST", "/console/api/publish", "/console/api/publish", "{\"period\":\"2026Q3\"}", 403, 0 },
	{ "POST", "/console/api/withdraw", "/console/api/withdraw", "{\"period\":\"2026Q3\"}", 403, 0 },
	{ "GET", "/console/api/comments", "/console/api/comments", NULL, 200, 0 },
	{ "GET", "/console/api/comments", "/console/api/comments?agency=PB-BEE", NULL, 403, 0 },
	{ "GET", "/console/api/comments.csv", "/console/api/comments.csv", NULL, 200, 0 },
	{ "GET", "/console/api/comments.csv", "/console/api/comments.csv?agency=PB-BEE", NULL, 403, 0 },
	{ "POST", "/console/api/comments/", "/console/api/comments/1/handled", "{\"note\":\"seen\"}", 403, 0 },
};

/* Every console API route, tried by an agency user of PA-AAA against
 * PB-BEE's things: refused, or answered with nothing of PB-BEE.  The
 * routes come from GET /api, so a route added without a probe here fails
 * this test. */
static void an_agency_user_reaches_nothing_of_another_agency(void)
{
	static const char *const bee[] = { "PB-BEE", "Sở Bê", "Quầy B", "bee1", NULL };
	char before[256], after[256];
	struct console_client a;
	struct test_server s;

	CHECK_INT(init_two_agencies(), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "agency1", "agency one password", &a), 0);
#define BEE_SQL "SELECT (SELECT group_concat(coalesce(revoked_at, '') || ',' || coalesce(paired_at, '') || ',' || " \
	"secret_hash) FROM devices WHERE agency_id = (SELECT id FROM agencies WHERE code = 'PB-BEE')) || '/' || " \
	"(SELECT count(*) FROM pairings) || '/' || (SELECT password_hash || ',' || coalesce(disabled_at, '') FROM " \
	"users WHERE login = 'bee1') || '/' || (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM devices)"
	db_text("sipas.db", BEE_SQL, before, sizeof(before));
	if (walk_routes(&s, &(struct route_walk){ bee_probes, sizeof(bee_probes) / sizeof(bee_probes[0]),
						  "/console/api/", 0, &a, "agency1", "agency one password", 1, NULL,
						  bee }) != 0)
		return;
	db_text("sipas.db", BEE_SQL, after, sizeof(after));
	CHECK_STR(after, before);
	CHECK_INT(test_server_stop(&s), 0);
}

const struct test_case console_tests[] = {
	{ "signs_in_and_out", signs_in_and_out },
	{ "the_cookie_is_http_only_and_strict", the_cookie_is_http_only_and_strict },
	{ "a_wrong_password_and_an_unknown_login_get_one_answer", a_wrong_password_and_an_unknown_login_get_one_answer },
	{ "session_writes_never_hold_a_worker", session_writes_never_hold_a_worker },
	{ "device_writes_never_hold_a_worker", device_writes_never_hold_a_worker },
	{ "a_stop_waits_for_a_console_action", a_stop_waits_for_a_console_action },
	{ "a_refused_change_undoes_only_itself_in_a_group", a_refused_change_undoes_only_itself_in_a_group },
	{ "a_failed_run_undoes_only_its_own_writes", a_failed_run_undoes_only_its_own_writes },
	{ "a_session_ends_idle_old_or_signed_out", a_session_ends_idle_old_or_signed_out },
	{ "every_state_changing_route_needs_the_csrf_token", every_state_changing_route_needs_the_csrf_token },
	{ "a_password_change_ends_the_other_sessions", a_password_change_ends_the_other_sessions },
	{ "a_disabled_account_is_signed_out", a_disabled_account_is_signed_out },
	{ "sign_in_is_limited_per_login_before_hashing", sign_in_is_limited_per_login_before_hashing },
	{ "sign_in_is_limited_per_address", sign_in_is_limited_per_address },
	{ "a_sign_in_flood_does_not_starve_the_kiosks", a_sign_in_flood_does_not_starve_the_kiosks },
	{ "a_password_link_works_once_and_expires", a_password_link_works_once_and_expires },
	{ "only_the_office_manages_accounts_and_reads_the_audit_log",
	  only_the_office_manages_accounts_and_reads_the_audit_log },
	{ "an_agency_user_reaches_nothing_of_another_agency", an_agency_user_reaches_nothing_of_another_agency },
	{ NULL, NULL }
};
