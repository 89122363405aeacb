/*
 * test_system.c - system tokens, for a one-stop system (docs/onestop.md):
 * `sipas device add --system` for some agencies or all of them, listed and
 * revoked like other tokens; which agencies a token acts for
 * (device_covers, on a real database); the routes that take only system
 * tokens and the ones that refuse them, on a real server; and each token's
 * own rate limit.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "../collector/device.h"
#include "../db/db.h"

/* The token a `device add` printed into token (128 bytes); 0 or -1. */
static int token_of(const struct cmd_result *r, char *token)
{
	if (r->status != 0 || strcspn(r->out, "\n") != DEVICE_TOKEN_LEN)
		return -1;
	snprintf(token, 128, "%.*s", DEVICE_TOKEN_LEN, r->out);
	return 0;
}

/* A system token for agencies a1 and a2 (either may be NULL), or for all
 * agencies when both are. */
static int add_system(char *token, const char *a1, const char *a2)
{
	const char *args[5] = { "--all-agencies" };
	int n = 0;

	if (a1 || a2) {
		args[n++] = "--agency";
		args[n++] = a1 ? a1 : a2;
	}
	if (a1 && a2) {
		args[n++] = "--agency";
		args[n++] = a2;
	}
	return token_of(sipas_run(NULL, "device", "add", "--system", "--name", "one-stop system", args[0], args[1],
				  args[2], args[3], NULL), token);
}

static int add_kiosk(char *token)
{
	return token_of(sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 1", "--sector",
				  "dat-dai", NULL), token);
}

static int add_admin(char *token)
{
	return token_of(sipas_run(NULL, "device", "add", "--admin", "--counter", "ops", NULL), token);
}

static void a_system_token_is_added_for_agencies_or_all_listed_and_revoked(void)
{
	const struct cmd_result *r;
	char token[128];

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "device", "add", "--system", "--name", "one-stop system", "--agency", "P-LECHAN",
		      "--agency", "P-HONGBANG", NULL);
	CHECK_INT(token_of(r, token), 0);
	CHECK_CONTAINS(r->err, "device 1 added (system for P-LECHAN,P-HONGBANG); the token above is shown only once");
	CHECK_INT(add_system(token, NULL, NULL), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE role = 'system' AND agency_id IS NULL "
			      "AND form IS NULL AND pin_hash IS NULL AND counter = 'one-stop system'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM device_agencies da JOIN agencies a ON "
			      "a.id = da.agency_id WHERE da.device_id = 1 AND a.code IN ('P-LECHAN','P-HONGBANG')"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT all_agencies * 10 + (SELECT count(*) FROM device_agencies "
			      "WHERE device_id = 2) FROM devices WHERE id = 2"), 10);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'device.add' AND outcome = 'ok' "
			      "AND subject IN ('device 1 (system for P-LECHAN,P-HONGBANG)', "
			      "'device 2 (system for all agencies)')"), 2);
	r = sipas_run(NULL, "device", "list", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, " system P-HONGBANG,P-LECHAN ");
	CHECK_CONTAINS(r->out, " system all ");
	CHECK_CONTAINS(r->out, "one-stop system\n");
	CHECK_INT(sipas_run(NULL, "device", "revoke", "2", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT revoked_at IS NOT NULL FROM devices WHERE id = 2"), 1);
	CHECK_CONTAINS(sipas_run(NULL, "device", "list", NULL)->out, " system all ");
	/* a system token pairs no tablet */
	CHECK(sipas_run(NULL, "device", "pair", "1", NULL)->status != 0);
}

static void a_system_token_needs_known_agencies_and_nothing_of_a_kiosk(void)
{
	static const char *const refused[][12] = {
		{ "--agency", "P-HONGBANG", NULL },                          /* no --name */
		{ "--name", "x", NULL },                                     /* no agency */
		{ "--name", "x", "--agency", "P-HONGBANG", "--all-agencies", NULL },
		{ "--name", "x", "--agency", "P-HONGBANG", "--sector", "dat-dai", NULL },
		{ "--name", "x", "--agency", "P-HONGBANG", "--pin", "123456", NULL },
		{ "--name", "x", "--agency", "P-HONGBANG", "--pair", NULL },
		{ "--name", "x", "--agency", "P-HONGBANG", "--counter", "Quầy 1", NULL },
		{ "--name", "x", "--agency", "P-HONGBANG", "--admin", NULL },
	};
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "device", "add", "--system", "--name", "x", "--agency", "P-HONGBANG", "--agency",
		      "P-NOPE", NULL);
	CHECK(r->status != 0);
	CHECK_CONTAINS(r->err, "--agency: unknown agency 'P-NOPE'");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *const *a = refused[i];

		r = sipas_run(NULL, "device", "add", "--system", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
			      NULL);
		if (r->status != 1) {
			test_fail(__FILE__, __LINE__, "case %zu: status %d, stderr %s", i, r->status, r->err);
			return;
		}
	}
	/* --name and --all-agencies belong to system tokens */
	CHECK_INT(sipas_run(NULL, "device", "add", "--admin", "--counter", "ops", "--all-agencies", NULL)->status, 1);
	CHECK_INT(sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--name", "x", "--sector", "dat-dai",
			    NULL)->status, 1);
	/* nothing half stored: the refused token left no row behind */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM device_agencies"), 0);
}

struct found {
	struct device_info d[4];
	size_t n;
};

static int collect(const struct device_info *d, void *arg)
{
	struct found *f = arg;

	if (f->n < 4)
		f->d[f->n++] = *d;
	return 0;
}

/* Which agencies each kind of device acts for: a system token its own
 * or all, a kiosk its agency, an admin token none. */
static void device_covers_a_tokens_own_agencies_only(void)
{
	struct found f = { .n = 0 };
	char token[128];
	sqlite3 *db = NULL;
	struct err e;
	long long hongbang, lechan, other;
	int yes;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(add_system(token, "P-HONGBANG", "P-LECHAN"), 0);
	CHECK_INT(add_system(token, NULL, NULL), 0);
	CHECK_INT(add_kiosk(token), 0);
	CHECK_INT(add_admin(token), 0);
	hongbang = test_db_int("sipas.db", "SELECT id FROM agencies WHERE code = 'P-HONGBANG'");
	lechan = test_db_int("sipas.db", "SELECT id FROM agencies WHERE code = 'P-LECHAN'");
	other = test_db_int("sipas.db", "SELECT min(id) FROM agencies WHERE code NOT IN ('P-HONGBANG','P-LECHAN')");
	CHECK(hongbang > 0 && lechan > 0 && other > 0);
	err_clear(&e);
	CHECK_INT(db_open("sipas.db", 0, &db, &e), 0);
	CHECK_INT(device_list(db, collect, &f, &e), 0);
	CHECK_INT(f.n, 4);
	CHECK_INT(f.d[0].role, DEVICE_SYSTEM);
	CHECK_INT(f.d[1].all_agencies, 1);
	{
		const struct { size_t dev; long long agency; int want; } cases[] = {
			{ 0, hongbang, 1 }, { 0, lechan, 1 }, { 0, other, 0 },
			{ 1, hongbang, 1 }, { 1, other, 1 },
			{ 2, hongbang, 1 }, { 2, lechan, 0 },
			{ 3, hongbang, 0 },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			yes = -1;
			CHECK_INT(device_covers(db, &f.d[cases[i].dev], cases[i].agency, &yes, &e), 0);
			if (yes != cases[i].want) {
				test_fail(__FILE__, __LINE__, "case %zu: covers %d, expected %d", i, yes, cases[i].want);
				break;
			}
		}
	}
	db_close(db);
}

static void only_system_tokens_pass_system_routes_and_they_pass_no_other(void)
{
	struct test_server s;
	struct http_result h;
	char sys[128], all[128], kiosk[128], admin[128];
	json_t *doc;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(add_system(sys, "P-LECHAN", "P-HONGBANG"), 0);
	CHECK_INT(add_system(all, NULL, NULL), 0);
	CHECK_INT(add_kiosk(kiosk), 0);
	CHECK_INT(add_admin(admin), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_request(&s, "GET", "/api/system", sys, NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "name")), "one-stop system");
	CHECK(json_is_false(json_object_get(doc, "all_agencies")));
	CHECK_INT(json_array_size(json_object_get(doc, "agencies")), 2);
	json_decref(doc);
	CHECK_INT(test_request(&s, "GET", "/api/system", all, NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK(doc);
	CHECK(json_is_true(json_object_get(doc, "all_agencies")));
	CHECK_INT(json_array_size(json_object_get(doc, "agencies")),
		  test_db_int("sipas.db", "SELECT count(*) FROM agencies"));
	json_decref(doc);
	/* another role on a system route */
	CHECK_INT(test_request(&s, "GET", "/api/system", kiosk, NULL, &h), 403);
	CHECK_CONTAINS(h.body, "a system token is required");
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/api/system", admin, NULL, &h), 403);
	CHECK_CONTAINS(h.body, "a system token is required");
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/api/system", NULL, NULL, &h), 401);
	free(h.body);
	/* a system token on the kiosks' and the admin's routes */
	CHECK_INT(test_request(&s, "GET", "/api/kiosk", sys, NULL, &h), 403);
	CHECK_CONTAINS(h.body, "a kiosk token is required");
	free(h.body);
	CHECK_INT(test_request(&s, "POST", "/api/responses", sys, "{}", &h), 403);
	CHECK_CONTAINS(h.body, "a kiosk token is required");
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/metrics", sys, NULL, &h), 403);
	CHECK_CONTAINS(h.body, "an admin token is required");
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/api/live", sys, NULL, &h), 403);
	free(h.body);
	/* revoked: 401 once the server's one-second token cache has passed */
	CHECK_INT(sipas_run(NULL, "device", "revoke", "1", NULL)->status, 0);
	sleep(2);
	CHECK_INT(test_request(&s, "GET", "/api/system", sys, NULL, &h), 401);
	CHECK_CONTAINS(h.body, "token revoked");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* --system-rate 2: one request in a burst, then one every 30 s, per token;
 * another token keeps its own allowance; refusals counted in /metrics. */
static void each_system_token_has_its_own_rate_limit(void)
{
	struct test_server s;
	struct http_result h;
	char a[128], b[128], admin[128];

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(add_system(a, "P-LECHAN", NULL), 0);
	CHECK_INT(add_system(b, "P-HONGBANG", NULL), 0);
	CHECK_INT(add_admin(admin), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--system-rate", "2", NULL), 0);
	CHECK_INT(test_request(&s, "GET", "/api/system", a, NULL, &h), 200);
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/api/system", a, NULL, &h), 429);
	CHECK_CONTAINS(h.headers, "Retry-After:");
	CHECK_CONTAINS(h.body, "rate_limited");
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/api/system", b, NULL, &h), 200);
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/metrics", admin, NULL, &h), 200);
	CHECK_CONTAINS(h.body, "sipas_rejections_total{reason=\"rate_limited\"} 1\n");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

const struct test_case system_tests[] = {
	{ "a_system_token_is_added_for_agencies_or_all_listed_and_revoked",
	  a_system_token_is_added_for_agencies_or_all_listed_and_revoked },
	{ "a_system_token_needs_known_agencies_and_nothing_of_a_kiosk",
	  a_system_token_needs_known_agencies_and_nothing_of_a_kiosk },
	{ "device_covers_a_tokens_own_agencies_only", device_covers_a_tokens_own_agencies_only },
	{ "only_system_tokens_pass_system_routes_and_they_pass_no_other",
	  only_system_tokens_pass_system_routes_and_they_pass_no_other },
	{ "each_system_token_has_its_own_rate_limit", each_system_token_has_its_own_rate_limit },
	{ NULL, NULL }
};
