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
#include <jansson.h>
#include <sqlite3.h>

#include "test.h"
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

const struct test_case console_tests[] = {
	{ "signs_in_and_out", signs_in_and_out },
	{ "the_cookie_is_http_only_and_strict", the_cookie_is_http_only_and_strict },
	{ "a_wrong_password_and_an_unknown_login_get_one_answer", a_wrong_password_and_an_unknown_login_get_one_answer },
	{ NULL, NULL }
};
