/*
 * test_system.c - system tokens, for a one-stop system (docs/onestop.md):
 * `sipas device add --system` for some agencies or all of them, listed and
 * revoked like other tokens; which agencies a token acts for
 * (device_covers, on a real database); the routes that take only system
 * tokens and the ones that refuse them, on a real server; and each token's
 * own rate limit.  Then POST /api/links: 500 receipt links in one call,
 * each opening the questionnaire, with the QR code `sipas link --svg`
 * draws; items for another agency or not valid refused one by one, and
 * bodies that are no list of links refused whole.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "../collector/device.h"
#include "../collector/link.h"
#include "../db/db.h"
#include "../lib/strbuf.h"
#include "../lib/url.h"

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

#define PUBLIC "https://sipas.example.gov.vn"

/* A server whose links carry PUBLIC, with --system-rate rate (NULL: the
 * default), and a system token for P-HONGBANG. */
static int start_with_a_system(struct test_server *s, char *token, const char *rate)
{
	if (sipas_run(NULL, "init", NULL)->status != 0 || add_system(token, "P-HONGBANG", NULL) != 0 ||
	    setenv("SIPAS_PUBLIC_URL", PUBLIC, 1) != 0)
		return -1;
	return test_server_start(s, "sipas.db", rate ? "--system-rate" : NULL, rate, NULL);
}

/* POST /api/links with body; *doc the answer's JSON when it is one. */
static long post_links(const struct test_server *s, const char *token, const char *body, json_t **doc)
{
	struct http_result h;
	long status = test_request(s, "POST", "/api/links", token, body, &h);

	*doc = status > 0 ? json_loads(h.body, 0, NULL) : NULL;
	if (status > 0)
		free(h.body);
	return status;
}

static size_t collect_body(char *p, size_t size, size_t n, void *arg)
{
	return strbuf_add(arg, p, size * n) == 0 ? size * n : 0;
}

/* GET every url of links, on PUBLIC's behalf from the test server, on one
 * connection: 0 when each is 200 with the questionnaire page, else -1
 * with why on stderr. */
static int open_each(const struct test_server *s, json_t *links)
{
	CURL *c = curl_easy_init();
	struct strbuf page;
	char url[1024];
	long status = 0;
	int rc = c ? 0 : -1;

	strbuf_init(&page, 0);
	for (size_t i = 0; !rc && i < json_array_size(links); i++) {
		const char *u = json_string_value(json_object_get(json_array_get(links, i), "url"));

		if (!u || strncmp(u, PUBLIC "/s/", strlen(PUBLIC "/s/")) != 0) {
			fprintf(stderr, "item %zu: url %s\n", i, u ? u : "(none)");
			rc = -1;
			break;
		}
		snprintf(url, sizeof(url), "%s%s", s->base, u + strlen(PUBLIC));
		strbuf_reset(&page);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &page);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
		if (curl_easy_perform(c) != CURLE_OK ||
		    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200 ||
		    !strbuf_str(&page) || !strstr(strbuf_str(&page), "Phiếu đánh giá SIPAS")) {
			fprintf(stderr, "item %zu: %s: status %ld\n", i, url, status);
			rc = -1;
		}
	}
	strbuf_release(&page);
	if (c)
		curl_easy_cleanup(c);
	return rc;
}

/* 1 if svg is the QR code `sipas link --svg` draws for url. */
static int is_qr_of(const char *svg, const char *url)
{
	struct strbuf want;
	struct err e;
	int same;

	strbuf_init(&want, 0);
	err_clear(&e);
	same = url_qr_svg(&want, url, LINK_QR_LABEL, &e) == 0 && svg && strcmp(strbuf_str(&want), svg) == 0;
	strbuf_release(&want);
	return same;
}

static void a_system_token_makes_500_links_in_one_call_each_opening_the_questionnaire(void)
{
	struct test_server s;
	struct strbuf body;
	char token[128], want[160], *svg;
	const struct cmd_result *r;
	json_t *doc, *links;
	long long now = (long long)time(NULL);

	CHECK_INT(start_with_a_system(&s, token, NULL), 0);
	strbuf_init(&body, 0);
	strbuf_addstr(&body, "{\"links\":[");
	for (int i = 0; i < 500; i++)
		strbuf_addf(&body, "%s{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"%s\","
			    "\"dossier\":\"H12.34-251203-%04d\"%s}", i ? "," : "", i % 2 ? "dat-dai" : "xay-dung", i,
			    i == 7 ? ",\"expires_days\":7" : "");
	strbuf_addstr(&body, "]}");
	CHECK_INT(post_links(&s, token, strbuf_str(&body), &doc), 200);
	strbuf_release(&body);
	CHECK(doc);
	links = json_object_get(doc, "links");
	CHECK_INT(json_array_size(links), 500);
	for (int i = 0; i < 500; i++) {
		json_t *one = json_array_get(links, i);
		const char *url = json_string_value(json_object_get(one, "url"));
		const char *exp = url ? strstr(url, "&exp=") : NULL;
		long long days = i == 7 ? 7 : 30;

		snprintf(want, sizeof(want), PUBLIC "/s/sipas-2017?agency=P-HONGBANG&sector=%s&dossier=H12.34-251203-%04d&",
			 i % 2 ? "dat-dai" : "xay-dung", i);
		if (!url || strncmp(url, want, strlen(want)) != 0 || !exp ||
		    llabs(atoll(exp + 5) - (now + days * 86400)) > 60 ||
		    !json_is_string(json_object_get(one, "qr_svg"))) {
			test_fail(__FILE__, __LINE__, "item %d: %s", i, url ? url : "(no url)");
			json_decref(doc);
			return;
		}
	}
	CHECK_INT(open_each(&s, links), 0);
	/* the QR code is well formed, and the one `sipas link --svg` draws */
	CHECK(is_qr_of(json_string_value(json_object_get(json_array_get(links, 499), "qr_svg")),
		       json_string_value(json_object_get(json_array_get(links, 499), "url"))));
	CHECK_INT(test_write("one.svg", json_string_value(json_object_get(json_array_get(links, 0), "qr_svg"))), 0);
	CHECK_INT(system("xmllint --noout one.svg"), 0);
	r = sipas_run(NULL, "link", "--form", "sipas-2017", "--agency", "P-HONGBANG", "--sector", "xay-dung",
		      "--dossier", "H12.34-251203-0000", "--svg", "cli.svg", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, PUBLIC "/s/sipas-2017?agency=P-HONGBANG&sector=xay-dung&dossier=H12.34-251203-0000&exp=");
	svg = test_read("cli.svg");
	CHECK(svg);
	*strchr(r->out, '\n') = '\0';
	CHECK(is_qr_of(svg, r->out));
	free(svg);
	json_decref(doc);
	/* counted */
	{
		char admin[128];
		struct http_result h;

		CHECK_INT(add_admin(admin), 0);
		CHECK_INT(test_request(&s, "GET", "/metrics", admin, NULL, &h), 200);
		CHECK_CONTAINS(h.body, "sipas_links_total{outcome=\"made\"} 500\n");
		CHECK_CONTAINS(h.body, "sipas_links_total{outcome=\"refused\"} 0\n");
		free(h.body);
	}
	CHECK_INT(test_server_stop(&s), 0);
}

/* The error of item i in doc's links, checked: its code and field. */
static int item_refused(json_t *doc, size_t i, const char *code, const char *field)
{
	json_t *one = json_array_get(json_object_get(doc, "links"), i), *err = json_object_get(one, "error");
	const char *c = json_string_value(json_object_get(err, "code"));
	const char *f = json_string_value(json_object_get(err, "field"));

	if (!c || !f || strcmp(c, code) != 0 || strcmp(f, field) != 0 || json_object_get(one, "url")) {
		fprintf(stderr, "item %zu: %s\n", i, one ? json_dumps(one, 0) : "(none)");
		return 0;
	}
	return 1;
}

static void items_for_other_agencies_or_not_valid_are_refused_one_by_one(void)
{
	static const struct { const char *item, *code, *field; } cases[] = {
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"A-1\"}",
		  NULL, NULL },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-LECHAN\",\"sector\":\"dat-dai\",\"dossier\":\"A-2\"}",
		  "forbidden", "links[1].agency" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-NOPE\",\"sector\":\"dat-dai\",\"dossier\":\"A-3\"}",
		  "invalid", "links[2].agency" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"nope\",\"dossier\":\"A-4\"}",
		  "invalid", "links[3].sector" },
		{ "{\"form\":\"nope\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"A-5\"}",
		  "invalid", "links[4].form" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"\"}",
		  "invalid", "links[5].dossier" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"A\\nB\"}",
		  "invalid", "links[6].dossier" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"A-8\","
		  "\"expires_days\":0}", "invalid", "links[7].expires_days" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"A-9\","
		  "\"expires_days\":3651}", "invalid", "links[8].expires_days" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"A-10\","
		  "\"expires_days\":\"7\"}", "invalid", "links[9].expires_days" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"A-11\","
		  "\"expire_days\":7}", "invalid", "links[10].expire_days" },
		{ "{\"form\":\"sipas-2017\",\"sector\":\"dat-dai\",\"dossier\":\"A-12\"}", "invalid", "links[11].agency" },
		{ "\"P-HONGBANG\"", "invalid", "links[12]" },
		/* a code cut short in the message inside a character stays JSON */
		{ "{\"form\":\"sipas-2017\",\"agency\":\"ĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐĐ\","
		  "\"sector\":\"dat-dai\",\"dossier\":\"A-14\"}", "invalid", "links[13].agency" },
		{ "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"dossier\":\"A-15\","
		  "\"expires_days\":3650}", NULL, NULL },
	};
	enum { N = sizeof(cases) / sizeof(cases[0]) };
	struct test_server s;
	struct http_result h;
	struct strbuf body;
	char token[128], admin[128], metric[64];
	json_t *doc;

	CHECK_INT(start_with_a_system(&s, token, NULL), 0);
	CHECK_INT(add_admin(admin), 0);
	strbuf_init(&body, 0);
	strbuf_addstr(&body, "{\"links\":[");
	for (size_t i = 0; i < N; i++)
		strbuf_addf(&body, "%s%s", i ? "," : "", cases[i].item);
	strbuf_addstr(&body, "]}");
	CHECK_INT(post_links(&s, token, strbuf_str(&body), &doc), 200);
	strbuf_release(&body);
	CHECK(doc);
	CHECK_INT(json_array_size(json_object_get(doc, "links")), N);
	for (size_t i = 0; i < N; i++) {
		json_t *one = json_array_get(json_object_get(doc, "links"), i);

		if (cases[i].code ? !item_refused(doc, i, cases[i].code, cases[i].field)
				  : !json_is_string(json_object_get(one, "url"))) {
			test_fail(__FILE__, __LINE__, "item %zu", i);
			json_decref(doc);
			return;
		}
	}
	CHECK_CONTAINS(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(doc, "links"),
		       1), "error"), "message")), "this token does not act for agency P-LECHAN");
	json_decref(doc);
	CHECK_INT(test_request(&s, "GET", "/metrics", admin, NULL, &h), 200);
	CHECK_CONTAINS(h.body, "sipas_links_total{outcome=\"made\"} 2\n");
	snprintf(metric, sizeof(metric), "sipas_links_total{outcome=\"refused\"} %d\n", N - 2);
	CHECK_CONTAINS(h.body, metric);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

static void bodies_that_are_no_list_of_links_are_refused_whole(void)
{
	static const struct { const char *body; long status; const char *field; } cases[] = {
		{ "not json", 400, "body" },
		{ "[]", 400, "links" },
		{ "{}", 400, "links" },
		{ "{\"links\":[]}", 400, "links" },
		{ "{\"links\":{}}", 400, "links" },
		{ "{\"links\":[{}],\"more\":1}", 400, "more" },
	};
	struct test_server s;
	struct http_result h;
	struct strbuf body;
	char token[128], kiosk[128], field[64];
	const char *item = "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
			   "\"dossier\":\"A-1\"}";
	json_t *doc;

	CHECK_INT(start_with_a_system(&s, token, NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(test_request(&s, "POST", "/api/links", token, cases[i].body, &h), cases[i].status);
		snprintf(field, sizeof(field), "\"field\":\"%s\"", cases[i].field);
		CHECK_CONTAINS(h.body, field);
		free(h.body);
	}
	/* 501 items */
	strbuf_init(&body, 0);
	strbuf_addstr(&body, "{\"links\":[");
	for (int i = 0; i < 501; i++)
		strbuf_addf(&body, "%s%s", i ? "," : "", item);
	strbuf_addstr(&body, "]}");
	CHECK_INT(post_links(&s, token, strbuf_str(&body), &doc), 400);
	CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "error"), "field")), "links");
	json_decref(doc);
	/* over 1 MiB: 413 from its length, unread */
	strbuf_reset(&body);
	strbuf_addstr(&body, "{\"links\":[");
	strbuf_addf(&body, "{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
		    "\"dossier\":\"%01100000d\"}]}", 1);
	CHECK_INT(post_links(&s, token, strbuf_str(&body), &doc), 413);
	json_decref(doc);
	strbuf_release(&body);
	/* a kiosk's token makes no links */
	CHECK_INT(add_kiosk(kiosk), 0);
	CHECK_INT(test_request(&s, "POST", "/api/links", kiosk, "{\"links\":[]}", &h), 403);
	CHECK_CONTAINS(h.body, "a system token is required");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* Bodies of random bytes changed in a good one, each answered 200 (items
 * refused one by one) or 400, and the server still up. */
static void mutated_link_bodies_are_answered_and_never_crash_the_server(void)
{
	const char *good = "{\"links\":[{\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\",\"sector\":"
			   "\"dat-dai\",\"dossier\":\"Đ-1\",\"expires_days\":7},{\"form\":\"sipas-2017\","
			   "\"agency\":\"P-LECHAN\",\"sector\":\"xay-dung\",\"dossier\":\"A-2\"}]}";
	size_t n = strlen(good);
	struct test_server s;
	struct http_result h;
	char token[128], body[512];
	unsigned seed = 20;
	long status;

	CHECK_INT(start_with_a_system(&s, token, "0"), 0);
	for (int round = 0; round < 300; round++) {
		memcpy(body, good, n + 1);
		for (int k = 0; k < 1 + round % 4; k++)
			body[rand_r(&seed) % n] = (char)(1 + rand_r(&seed) % 255);
		status = test_request(&s, "POST", "/api/links", token, body, &h);
		if (status > 0)
			free(h.body);
		if (status != 200 && status != 400) {
			test_fail(__FILE__, __LINE__, "round %d: status %ld for %s", round, status, body);
			return;
		}
	}
	CHECK_INT(test_request(&s, "GET", "/healthz", NULL, NULL, &h), 200);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* The QR code's SVG path, read back square by square, draws exactly the
 * dark modules libqrencode gives for the link, inside its quiet zone of 4. */
static void a_links_qr_code_draws_exactly_the_modules_of_its_text(void)
{
	const char *url = PUBLIC "/s/sipas-2017?agency=P-HONGBANG&sector=dat-dai&dossier=H12.34-251203-0001&"
			  "exp=1767347200&sig=9c49480103c3452cad24daca08944cafb6b07dd6e68bb69668b52d5907c26918";
	QRcode *qr = QRcode_encodeString(url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	unsigned char *drawn;
	struct strbuf svg;
	const char *p;
	struct err e;
	int w, x, y, run, back, used, dark = 0, wrong = 0;

	CHECK(qr);
	w = qr->width;
	drawn = calloc((size_t)(w + 8) * (size_t)(w + 8), 1);
	strbuf_init(&svg, 0);
	err_clear(&e);
	if (!drawn || url_qr_svg(&svg, url, LINK_QR_LABEL, &e) != 0 || !(p = strstr(strbuf_str(&svg), "<path d=\""))) {
		test_fail(__FILE__, __LINE__, "no path drawn");
		goto out;
	}
	for (p += 9; sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &back, &used) == 4; p += used) {
		if (run != back || run < 1 || x < 4 || y < 4 || x + run > w + 4 || y >= w + 4) {
			test_fail(__FILE__, __LINE__, "a rectangle %d %d %d %d out of the code", x, y, run, back);
			goto out;
		}
		for (int k = 0; k < run; k++)
			drawn[(y - 4) * w + x - 4 + k]++;
	}
	if (*p != '"') {
		test_fail(__FILE__, __LINE__, "the path stops at %.20s", p);
		goto out;
	}
	for (int i = 0; i < w * w; i++) {
		dark += qr->data[i] & 1;
		wrong += drawn[i] != (qr->data[i] & 1);
	}
	if (wrong || dark < 100)
		test_fail(__FILE__, __LINE__, "%d of %d modules drawn wrong (%d dark)", wrong, w * w, dark);
out:
	free(drawn);
	strbuf_release(&svg);
	QRcode_free(qr);
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
	{ "a_system_token_makes_500_links_in_one_call_each_opening_the_questionnaire",
	  a_system_token_makes_500_links_in_one_call_each_opening_the_questionnaire },
	{ "items_for_other_agencies_or_not_valid_are_refused_one_by_one",
	  items_for_other_agencies_or_not_valid_are_refused_one_by_one },
	{ "bodies_that_are_no_list_of_links_are_refused_whole", bodies_that_are_no_list_of_links_are_refused_whole },
	{ "a_links_qr_code_draws_exactly_the_modules_of_its_text", a_links_qr_code_draws_exactly_the_modules_of_its_text },
	{ "mutated_link_bodies_are_answered_and_never_crash_the_server",
	  mutated_link_bodies_are_answered_and_never_crash_the_server },
	{ NULL, NULL }
};
