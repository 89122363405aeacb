/*
 * test_collector.c - the collector as kiosks and phones use it (docs/collector.md): a
 * real `sipas serve` on 127.0.0.1, real HTTP requests.  Every status of the
 * API, idempotent re-posts, tokens bound to agencies and revoked, forged and
 * expired phone links, batches, rate limits, metrics, published scores,
 * TLS, and a kill -9 under 16 concurrent clients after which every
 * acknowledged rating is still there.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "test.h"
#include "../db/db.h"
#include "../collector/link.h"
#include "../collector/ratelimit.h"
#include "../lib/intmap.h"
#include "../lib/secret.h"
#include "../lib/strbuf.h"

struct setup {
	struct test_server s;
	char kiosk[128], other[128], admin[128];
};

static int add_device(const char *agency_or_admin, char *token)
{
	const struct cmd_result *r = strcmp(agency_or_admin, "admin") == 0
		? sipas_run(NULL, "device", "add", "--admin", "--counter", "ops", NULL)
		: sipas_run(NULL, "device", "add", "--agency", agency_or_admin, "--counter", "Quầy 1",
			    "--sector", "dat-dai", "--sector", "xay-dung", NULL);

	if (r->status != 0 || strlen(r->out) < 10)
		return -1;
	snprintf(token, 128, "%.*s", (int)strcspn(r->out, "\n"), r->out);
	return 0;
}

static int start(struct setup *st, const char *extra1, const char *extra2)
{
	if (sipas_run(NULL, "init", NULL)->status != 0 || add_device("P-HONGBANG", st->kiosk) ||
	    add_device("P-LECHAN", st->other) || add_device("admin", st->admin))
		return -1;
	/* the ratings here are dated in 2026Q3, whose quarter the tests publish
	 * and score: a window of 100 years keeps them inside --max-age */
	return test_server_start(&st->s, "sipas.db", "--max-age", "36500", extra1, extra2, NULL);
}

static long post(const struct setup *st, const char *path, const char *token, const char *body,
		 struct http_result *h)
{
	return test_request(&st->s, "POST", path, token, body, h);
}

static long get(const struct setup *st, const char *path, const char *token, struct http_result *h)
{
	return test_request(&st->s, "GET", path, token, NULL, h);
}

#define KIOSK(id, agency, answer) \
	"{\"response_id\":\"" id "\",\"form\":\"kiosk-2018\",\"agency\":\"" agency "\"," \
	"\"sector\":\"dat-dai\",\"channel\":\"kiosk\",\"submitted_at\":\"2026-08-03T09:15:00+07:00\"," \
	"\"answers\":{\"overall\":" answer "}}"

static long long stored(void)
{
	return test_db_int("sipas.db", "SELECT count(*) FROM responses");
}

static void kiosk_posts_are_idempotent(void)
{
	struct setup st;
	struct http_result h;
	char receipt[64];
	json_t *doc;

	CHECK_INT(start(&st, NULL, NULL), 0);
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("k1", "P-HONGBANG", "3"), &h), 201);
	doc = json_loads(h.body, 0, NULL);
	CHECK(doc && json_is_false(json_object_get(doc, "duplicate")));
	snprintf(receipt, sizeof(receipt), "%s", json_string_value(json_object_get(doc, "receipt")));
	CHECK_INT(strlen(receipt), 32);
	json_decref(doc);
	free(h.body);
	/* the same rating again (a kiosk re-sending after a network drop) */
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("k1", "P-HONGBANG", "3"), &h), 200);
	CHECK_CONTAINS(h.body, receipt);
	CHECK_CONTAINS(h.body, "\"duplicate\":true");
	free(h.body);
	/* the same id with other content */
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("k1", "P-HONGBANG", "1"), &h), 409);
	CHECK_CONTAINS(h.body, "\"field\":\"response_id\"");
	free(h.body);
	/* one rating per dossier */
	CHECK_INT(post(&st, "/api/responses", st.kiosk, "{\"response_id\":\"k2\",\"form\":\"kiosk-2018\","
		       "\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"submitted_at\":\"2026-08-03\","
		       "\"dossier_code\":\"HS-9\",\"answers\":{\"overall\":2}}", &h), 201);
	free(h.body);
	CHECK_INT(post(&st, "/api/responses", st.kiosk, "{\"response_id\":\"k3\",\"form\":\"kiosk-2018\","
		       "\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"submitted_at\":\"2026-08-03\","
		       "\"dossier_code\":\"HS-9\",\"answers\":{\"overall\":3}}", &h), 409);
	CHECK_CONTAINS(h.body, "\"field\":\"dossier_code\"");
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(stored(), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT channel FROM responses WHERE response_id = 'k2'"), 1);
}

static const struct {
	const char *body, *field;
	long status;
} bad_posts[] = {
	{ "not json", "body", 400 },
	{ "[1,2]", NULL, 400 },
	/* day-first dates are for spreadsheets: the API takes ISO 8601 only */
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"03/08/2026\",\"answers\":{\"overall\":3}}", "submitted_at", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":4}}", "answers.overall", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":\"3\"}}", "answers.overall", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"e1.1\":3}}", "answers.e1.1", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"nope\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":3}}", "sector", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"nope\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":3}}", "form", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"NOPE\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":3}}", "agency", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"answers\":{\"overall\":3}}", "submitted_at", 400 },
	{ "{\"response_id\":7,\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":3}}", "response_id", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":3},\"weight\":5}", "weight", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":3,\"reason\":\"late-result\"}}", "reason", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"channel\":\"phone\",\"answers\":{\"overall\":3}}", "channel", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\",\"agency\":\"P-HONGBANG\"}",
	  "body", 400 },
	{ "{\"response_id\":\"b\",\"form\":\"kiosk-2018\",\"agency\":\"P-LECHAN\",\"sector\":\"dat-dai\","
	  "\"submitted_at\":\"2026-08-03\",\"answers\":{\"overall\":3}}", "agency", 403 },
};

static void bad_posts_name_the_field_and_store_nothing(void)
{
	struct setup st;
	struct http_result h;
	char *big;
	const char *plain[] = { "Content-Type: text/plain", NULL, NULL };
	char auth[200], url[256];

	CHECK_INT(start(&st, NULL, NULL), 0);
	for (size_t i = 0; i < sizeof(bad_posts) / sizeof(bad_posts[0]); i++) {
		long status = post(&st, "/api/responses", st.kiosk, bad_posts[i].body, &h);

		if (status != bad_posts[i].status) {
			test_fail(__FILE__, __LINE__, "case %zu: status %ld: %s", i, status, h.body);
			free(h.body);
			return;
		}
		CHECK_CONTAINS(h.body, "{\"error\":{\"code\":");
		if (bad_posts[i].field) {
			char want[96];

			snprintf(want, sizeof(want), "\"field\":\"%s\"", bad_posts[i].field);
			CHECK_CONTAINS(h.body, want);
		}
		free(h.body);
	}
	/* 64 KiB + 1 */
	big = malloc(65 * 1024 + 2);
	CHECK(big);
	memset(big, ' ', 65 * 1024 + 1);
	big[0] = '{';
	big[65 * 1024] = '}';
	big[65 * 1024 + 1] = '\0';
	CHECK_INT(post(&st, "/api/responses", st.kiosk, big, &h), 413);
	free(h.body);
	free(big);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", st.kiosk);
	plain[1] = auth;
	snprintf(url, sizeof(url), "%s/api/responses", st.s.base);
	CHECK_INT(test_http("POST", url, KIOSK("t", "P-HONGBANG", "3"), plain, &h), 0);
	CHECK_INT(h.status, 415);
	free(h.body);
	CHECK_INT(get(&st, "/api/responses", NULL, &h), 405);
	CHECK_CONTAINS(h.headers, "Allow: POST");
	free(h.body);
	CHECK_INT(get(&st, "/api/nothing", NULL, &h), 404);
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(stored(), 0);
}

static void tokens(void)
{
	struct setup st;
	struct http_result h;
	char forged[128];
	const struct cmd_result *r;

	CHECK_INT(start(&st, NULL, NULL), 0);
	CHECK_INT(post(&st, "/api/responses", NULL, KIOSK("t1", "P-HONGBANG", "3"), &h), 401);
	CHECK_CONTAINS(h.body, "\"field\":\"link\"");
	free(h.body);
	snprintf(forged, sizeof(forged), "%s", st.kiosk);
	forged[strlen(forged) - 1] = forged[strlen(forged) - 1] == '0' ? '1' : '0';
	CHECK_INT(post(&st, "/api/responses", forged, KIOSK("t1", "P-HONGBANG", "3"), &h), 401);
	CHECK_CONTAINS(h.body, "unknown or malformed token");
	free(h.body);
	CHECK_INT(post(&st, "/api/responses", "garbage", KIOSK("t1", "P-HONGBANG", "3"), &h), 401);
	free(h.body);
	/* a kiosk of ward A cannot post for ward B */
	CHECK_INT(post(&st, "/api/responses", st.other, KIOSK("t1", "P-HONGBANG", "3"), &h), 403);
	free(h.body);
	CHECK_INT(post(&st, "/api/responses", st.admin, KIOSK("t1", "P-HONGBANG", "3"), &h), 403);
	free(h.body);
	CHECK_INT(post(&st, "/api/responses", st.other, KIOSK("t2", "P-LECHAN", "3"), &h), 201);
	free(h.body);
	/* revoke the second kiosk (device 2): refused within a second (each
	 * worker re-reads a token's row at most a second after the last read) */
	r = sipas_run(NULL, "device", "revoke", "2", NULL);
	CHECK_INT(r->status, 0);
	usleep(1100 * 1000);
	CHECK_INT(post(&st, "/api/responses", st.other, KIOSK("t3", "P-LECHAN", "3"), &h), 401);
	CHECK_CONTAINS(h.body, "token revoked");
	free(h.body);
	r = sipas_run(NULL, "device", "list", NULL);
	CHECK_CONTAINS(r->out, "revoked");
	CHECK(!strstr(r->out, st.kiosk + 14));      /* secrets are never shown again */
	CHECK_INT(sipas_run(NULL, "device", "revoke", "99", NULL)->status, 1);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK(!test_file_contains("server.log", st.kiosk + 14));  /* nor logged */
	CHECK(test_file_contains("server.log", "POST /api/responses 401 "));
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE length(secret_hash) = 32"), 3);
	CHECK_INT(stored(), 1);
}

/* A phone post for dossier `dossier` at SO-XD, sent with the link of
 * `link_dossier` (expiry and signature) in the query, as the page does. */
static long phone_post(const struct setup *st, const char *id, const char *dossier,
		       const char *link_dossier, long long expires, const char *sig,
		       struct http_result *h)
{
	char path[512], body[1024];

	snprintf(path, sizeof(path), "/api/responses?form=sipas-2017&agency=SO-XD&sector=xay-dung"
		 "&dossier=%s&exp=%lld&sig=%s", link_dossier, expires, sig);
	snprintf(body, sizeof(body), "{\"response_id\":\"%s\",\"form\":\"sipas-2017\",\"agency\":\"SO-XD\","
		 "\"sector\":\"xay-dung\",\"submitted_at\":\"2026-08-03T10:00:00+07:00\",\"dossier_code\":\"%s\","
		 "\"answers\":{\"e1.1\":4,\"overall\":5,\"gender\":\"nu\"},\"comment\":\"Nhanh gọn\"}", id, dossier);
	return post(st, path, NULL, body, h);
}

static int sign(const char *dossier, long long expires, char *sig)
{
	uint8_t key[SECRET_KEY_BYTES];
	struct link_fields lf = { "sipas-2017", "SO-XD", "xay-dung", dossier, expires };
	struct err e;
	sqlite3 *db;
	int rc = db_open("sipas.db", 0, &db, &e);

	if (!rc)
		rc = db_server_key(db, key, &e);
	db_close(db);
	return rc ? rc : link_sign(key, &lf, sig, &e);
}

static void phone_links(void)
{
	struct setup st;
	struct http_result h;
	char sig[LINK_SIG_HEX + 1], page[1024], receipt[40], *q;
	const struct cmd_result *r;
	long long exp, expired;

	CHECK_INT(start(&st, NULL, NULL), 0);
	/* the link that `sipas link` prints is accepted */
	r = sipas_run(NULL, "link", "--form", "sipas-2017", "--agency", "SO-XD", "--sector", "xay-dung",
		      "--dossier", "HS-1", "--svg", "qr.svg", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "/s/sipas-2017?agency=SO-XD&sector=xay-dung&dossier=HS-1&exp=");
	CHECK(test_file_contains("qr.svg", "<svg"));
	q = strstr(r->out, "&exp=");
	CHECK(q && sscanf(q, "&exp=%lld&sig=%64s", &exp, sig) == 2);
	/* the page it opens is the questionnaire */
	snprintf(page, sizeof(page), "/s/sipas-2017%s", strchr(r->out, '?'));
	page[strcspn(page, "\n")] = '\0';
	CHECK_INT(get(&st, page, NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "text/html");
	CHECK_CONTAINS(h.headers, "Content-Security-Policy: default-src 'self'");
	free(h.body);
	CHECK_INT(phone_post(&st, "p1", "HS-1", "HS-1", exp, sig, &h), 201);
	CHECK(strstr(h.body, "\"receipt\":\""));
	snprintf(receipt, sizeof(receipt), "%.32s", strstr(h.body, "\"receipt\":\"") + 11);
	free(h.body);
	/* a second rating of the same dossier; the link's page now says so,
	 * with the receipt of the rating it has */
	CHECK_INT(phone_post(&st, "p2", "HS-1", "HS-1", exp, sig, &h), 409);
	CHECK_CONTAINS(h.body, "\"field\":\"dossier_code\"");
	free(h.body);
	CHECK_INT(get(&st, page, NULL, &h), 403);
	CHECK_CONTAINS(h.body, "đã được đánh giá");
	CHECK_CONTAINS(h.body, receipt);
	CHECK(!strstr(h.body, "Nhanh gọn"));   /* and nothing of the answers */
	free(h.body);
	/* the link of HS-1 used for another dossier, in the query or in the body */
	CHECK_INT(phone_post(&st, "p3", "HS-2", "HS-2", exp, sig, &h), 401);
	CHECK_CONTAINS(h.body, "link signature does not match");
	free(h.body);
	CHECK_INT(phone_post(&st, "p3", "HS-2", "HS-1", exp, sig, &h), 401);
	CHECK_CONTAINS(h.body, "the link is for dossier HS-1");
	free(h.body);
	/* a later expiry than signed; a forged signature's page says why */
	CHECK_INT(phone_post(&st, "p3", "HS-1", "HS-1", exp + 86400, sig, &h), 401);
	free(h.body);
	page[strlen(page) - 1] = page[strlen(page) - 1] == '0' ? '1' : '0';
	CHECK_INT(get(&st, page, NULL, &h), 403);
	CHECK_CONTAINS(h.body, "không hợp lệ");
	CHECK_CONTAINS(h.body, "not valid");
	free(h.body);
	/* properly signed, but expired yesterday */
	expired = (long long)time(NULL) - 86400;
	CHECK_INT(sign("HS-3", expired, sig), 0);
	CHECK_INT(phone_post(&st, "p4", "HS-3", "HS-3", expired, sig, &h), 401);
	CHECK_CONTAINS(h.body, "link expired");
	free(h.body);
	snprintf(page, sizeof(page), "/s/sipas-2017?agency=SO-XD&sector=xay-dung&dossier=HS-3&exp=%lld&sig=%s",
		 expired, sig);
	CHECK_INT(get(&st, page, NULL, &h), 403);
	CHECK_CONTAINS(h.body, "hết hạn");
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(stored(), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT channel FROM responses"), 2);
}

/* A link's expiry is read only as it was signed (digits, no sign, no
 * leading zero, no more than the largest expiry a link may carry):
 * another spelling of the same number, or one strtoll would clamp, is
 * refused before the signature is checked. */
static void a_link_expiry_is_taken_only_as_signed(void)
{
	/* each spelling is a prefix and a suffix around the signed number */
	static const char *const spellings[][2] = { { "+", "" }, { "0", "" }, { " ", "" }, { "", " " },
						    { "", ".0" } };
	struct setup st;
	struct http_result h;
	char sig[LINK_SIG_HEX + 1], path[512], exp_s[64];
	long long exp = (long long)time(NULL) + 86400;
	const char *body = "{\"response_id\":\"x1\",\"form\":\"sipas-2017\",\"agency\":\"SO-XD\",\"sector\":\"xay-dung\","
			   "\"submitted_at\":\"2026-08-03T10:00:00+07:00\",\"dossier_code\":\"HS-9\","
			   "\"answers\":{\"overall\":5}}";

	CHECK_INT(start(&st, NULL, NULL), 0);
	CHECK_INT(sign("HS-9", exp, sig), 0);
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
		char spelled[64];

		snprintf(spelled, sizeof(spelled), "%s%lld%s", spellings[i][0], exp, spellings[i][1]);
		/* as a query value: '+' and ' ' must be escaped to arrive as such */
		snprintf(exp_s, sizeof(exp_s), "%s", spelled);
		for (char *c = exp_s; *c; c++)
			if (*c == '+' || *c == ' ') {
				memmove(c + 3, c + 1, strlen(c + 1) + 1);
				c[1] = '2';
				c[2] = *c == '+' ? 'B' : '0';
				c[0] = '%';
			}
		snprintf(path, sizeof(path), "/api/responses?form=sipas-2017&agency=SO-XD&sector=xay-dung"
			 "&dossier=HS-9&exp=%s&sig=%s", exp_s, sig);
		if (post(&st, path, NULL, body, &h) != 401)
			test_fail(__FILE__, __LINE__, "exp=%s: %ld %s", exp_s, h.status, h.body);
		CHECK_INT(h.status, 401);
		CHECK_CONTAINS(h.body, "\"field\":\"exp\"");
		free(h.body);
	}
	/* past what strtoll holds: it would read LLONG_MAX, whose link is valid */
	CHECK_INT(sign("HS-9", 9223372036854775807LL, sig), 0);
	snprintf(path, sizeof(path), "/api/responses?form=sipas-2017&agency=SO-XD&sector=xay-dung"
		 "&dossier=HS-9&exp=99999999999999999999&sig=%s", sig);
	CHECK_INT(post(&st, path, NULL, body, &h), 401);
	CHECK_CONTAINS(h.body, "\"field\":\"exp\"");
	free(h.body);
	snprintf(path, sizeof(path), "/s/sipas-2017?agency=SO-XD&sector=xay-dung&dossier=HS-9"
		 "&exp=9223372036854775807&sig=%s", sig);
	CHECK_INT(get(&st, path, NULL, &h), 403);
	free(h.body);
	/* the canonical spelling is taken */
	CHECK_INT(sign("HS-9", exp, sig), 0);
	snprintf(path, sizeof(path), "/api/responses?form=sipas-2017&agency=SO-XD&sector=xay-dung"
		 "&dossier=HS-9&exp=%lld&sig=%s", exp, sig);
	CHECK_INT(post(&st, path, NULL, body, &h), 201);
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(stored(), 1);
}

/* Send `request` as it is on a new connection to s and read what comes
 * back until the server closes it or `ms` pass: the bytes read, in out (n
 * bytes, NUL-terminated); -1 when the server did not close within ms. */
static long raw_exchange(const struct test_server *s, const char *request, int ms, char *out, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	struct timespec t0, t;
	size_t got = 0;
	long result = -1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	out[0] = '\0';
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			break;
		r = read(fd, out + got, n - 1 - got);
		if (r <= 0) {
			result = (long)got;
			break;
		}
		got += (size_t)r;
		out[got] = '\0';
		if (got == n - 1)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
	return result;
}

/* A request target or header block over the collector's limits gets the
 * collector's own 414 or 431, with its headers and a JSON body, at once;
 * one with more query parameters than libmicrohttpd can list is closed at
 * once instead of held until the idle timeout. */
static void oversized_requests_are_answered_at_once(void)
{
	struct setup st;
	struct strbuf req;
	char *reply = malloc(65536);

	CHECK(reply);
	CHECK_INT(start(&st, NULL, NULL), 0);
	strbuf_init(&req, 0);
	/* 500 query parameters */
	strbuf_addstr(&req, "GET /api/scores?period=2026Q3");
	for (int i = 0; i < 500; i++)
		strbuf_addf(&req, "&a%d=%d", i, i);
	strbuf_addstr(&req, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	CHECK(raw_exchange(&st.s, strbuf_str(&req), 5000, reply, 65536) > 0);
	CHECK_CONTAINS(reply, "HTTP/1.1 414 ");
	CHECK_CONTAINS(reply, "X-Content-Type-Options: nosniff");
	CHECK_CONTAINS(reply, "Content-Security-Policy: default-src 'self'");
	CHECK_CONTAINS(reply, "{\"error\":{\"code\":\"uri_too_long\"");
	/* a request target of 12 KiB */
	strbuf_reset(&req);
	strbuf_addstr(&req, "GET /api/forms/");
	for (int i = 0; i < 12 * 1024; i++)
		strbuf_addch(&req, 'a');
	strbuf_addstr(&req, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	CHECK(raw_exchange(&st.s, strbuf_str(&req), 5000, reply, 65536) > 0);
	CHECK_CONTAINS(reply, "HTTP/1.1 414 ");
	CHECK_CONTAINS(reply, "\"code\":\"uri_too_long\"");
	/* 200 header fields */
	strbuf_reset(&req);
	strbuf_addstr(&req, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
	for (int i = 0; i < 200; i++)
		strbuf_addf(&req, "X-Field-%d: %d\r\n", i, i);
	strbuf_addstr(&req, "\r\n");
	CHECK(raw_exchange(&st.s, strbuf_str(&req), 5000, reply, 65536) > 0);
	CHECK_CONTAINS(reply, "HTTP/1.1 431 ");
	CHECK_CONTAINS(reply, "X-Content-Type-Options: nosniff");
	CHECK_CONTAINS(reply, "\"code\":\"headers_too_large\"");
	/* more parameters than libmicrohttpd can list in a connection's memory */
	strbuf_reset(&req);
	strbuf_addstr(&req, "GET /healthz?");
	for (int i = 0; i < 6000; i++)
		strbuf_addstr(&req, "a&");
	strbuf_addstr(&req, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(raw_exchange(&st.s, strbuf_str(&req), 5000, reply, 65536) >= 0);
	strbuf_release(&req);
	free(reply);
	/* and the server goes on */
	{
		struct http_result h;

		CHECK_INT(get(&st, "/healthz", NULL, &h), 200);
		free(h.body);
	}
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK(test_file_contains("server.log", "GET /api/scores 414 "));
	CHECK(test_file_contains("server.log", "more query parameters than"));
}

static void batches(void)
{
	struct setup st;
	struct http_result h;
	struct strbuf sb;
	json_t *doc, *results;

	CHECK_INT(start(&st, NULL, NULL), 0);
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("q1", "P-HONGBANG", "2"), &h), 201);
	free(h.body);
	CHECK_INT(post(&st, "/api/responses/batch", st.kiosk, "{\"responses\":["
		       KIOSK("q1", "P-HONGBANG", "2") "," KIOSK("q2", "P-HONGBANG", "1") ","
		       KIOSK("q3", "P-LECHAN", "1") "," KIOSK("q4", "P-HONGBANG", "9") ","
		       KIOSK("q1", "P-HONGBANG", "3") "]}", &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	results = json_object_get(doc, "results");
	CHECK_INT(json_array_size(results), 5);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(results, 0), "status")), 200);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(results, 1), "status")), 201);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(results, 2), "status")), 403);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(results, 3), "status")), 400);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(results, 4), "status")), 409);
	CHECK_STR(json_string_value(json_object_get(json_array_get(results, 1), "response_id")), "q2");
	json_decref(doc);
	CHECK_INT(post(&st, "/api/responses/batch", NULL, "{\"responses\":[]}", &h), 401);
	free(h.body);
	CHECK_INT(post(&st, "/api/responses/batch", st.kiosk, "{\"responses\":[]}", &h), 400);
	free(h.body);
	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "{\"responses\":[");
	for (int i = 0; i < 501; i++)
		strbuf_addf(&sb, "%s{\"response_id\":\"m%d\"}", i ? "," : "", i);
	strbuf_addstr(&sb, "]}");
	CHECK_INT(post(&st, "/api/responses/batch", st.kiosk, strbuf_str(&sb), &h), 400);
	CHECK_CONTAINS(h.body, "1 to 500");
	free(h.body);
	strbuf_release(&sb);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(stored(), 2);
}

/* A batch of n kiosk ratings with ids PREFIX0 .. PREFIX(n-1); free() it. */
static char *batch_of(const char *prefix, int n)
{
	struct strbuf sb;
	char id[32];

	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "{\"responses\":[");
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		strbuf_addf(&sb, i ? "," KIOSK("%s", "P-HONGBANG", "3") : KIOSK("%s", "P-HONGBANG", "3"), id);
	}
	strbuf_addstr(&sb, "]}");
	return strbuf_detach(&sb, NULL);
}

/* How many of a batch reply's results have `status`; with first set, the
 * index of the first such result goes there (-1 when none). */
static int results_with(const char *reply, long status, int *first)
{
	json_t *doc = json_loads(reply, 0, NULL), *r;
	size_t i;
	int n = 0;

	if (first)
		*first = -1;
	json_array_foreach(json_object_get(doc, "results"), i, r) {
		if (json_integer_value(json_object_get(r, "status")) != status)
			continue;
		if (first && *first < 0)
			*first = (int)i;
		n++;
	}
	json_decref(doc);
	return n;
}

/* Every item of a batch is a rating against the device's limit, whose
 * burst is a full batch (500): items beyond the allowance get 429 each,
 * and a batch is refused whole only when no item could be taken. */
static void rate_limits(void)
{
	struct setup st;
	struct http_result h;
	char *body;
	int first;

	CHECK_INT(start(&st, "--device-rate", "1"), 0);   /* 1 a minute, bursts of 500 */
	body = batch_of("a", 400);
	CHECK_INT(post(&st, "/api/responses/batch", st.kiosk, body, &h), 200);
	free(body);
	CHECK_INT(results_with(h.body, 201, NULL), 400);
	free(h.body);
	/* 100 left: the first 100 items are taken, the other 100 refused */
	body = batch_of("b", 200);
	CHECK_INT(post(&st, "/api/responses/batch", st.kiosk, body, &h), 200);
	free(body);
	CHECK_INT(results_with(h.body, 201, NULL), 100);
	CHECK_INT(results_with(h.body, 429, &first), 100);
	CHECK_INT(first, 100);
	CHECK_CONTAINS(h.body, "\"code\":\"rate_limited\"");
	CHECK_CONTAINS(h.headers, "Retry-After: ");
	free(h.body);
	/* nothing left: a single post, and a batch, are refused before their body */
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("c1", "P-HONGBANG", "3"), &h), 429);
	CHECK_CONTAINS(h.headers, "Retry-After: ");
	free(h.body);
	body = batch_of("d", 2);
	CHECK_INT(post(&st, "/api/responses/batch", st.kiosk, body, &h), 429);
	free(body);
	free(h.body);
	/* another device has its own bucket */
	CHECK_INT(post(&st, "/api/responses", st.other, KIOSK("o1", "P-LECHAN", "3"), &h), 201);
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(stored(), 501);
}

/* A full table takes the bucket of the least recently used key: a flood
 * of new keys (addresses) never resets the limits of keys in use. */
static void rate_limit_table_evicts_the_least_recently_used(void)
{
	struct col_ratelimit rl;
	const uint64_t full = COL_RATELIMIT_MAX_KEYS;

	col_ratelimit_init(&rl, 1, 1);   /* one a minute; the clock stays at 0 */
	CHECK_INT(col_ratelimit_take(&rl, 0, 0), 0);
	for (uint64_t k = 1; k < full; k++)
		CHECK_INT(col_ratelimit_take(&rl, k, 0), 0);
	CHECK(col_ratelimit_take(&rl, 0, 0) > 0);   /* spent, and now the most recent */
	/* the table is full: a new key evicts key 1, the least recently used */
	CHECK_INT(col_ratelimit_take(&rl, full, 0), 0);
	CHECK(col_ratelimit_take(&rl, 0, 0) > 0);
	CHECK(col_ratelimit_take(&rl, 2, 0) > 0);
	CHECK_INT(col_ratelimit_take(&rl, 1, 0), 0);   /* evicted: it starts afresh */
	/* three tables' worth of new keys; key 0, in use, keeps its state */
	for (uint64_t k = 1; k <= 3 * full; k++) {
		CHECK_INT(col_ratelimit_take(&rl, full + k, 0), 0);
		if (k % 1000 == 0)
			CHECK(col_ratelimit_take(&rl, 0, 0) > 0);
	}
	CHECK_INT(rl.n, full);
	CHECK_INT(rl.index.count, full);
	col_ratelimit_release(&rl);
}

/* intmap_del keeps every other key findable (backward-shift deletion
 * across wrapped probe runs). */
static void intmap_deletes_keep_the_rest(void)
{
	struct intmap m = INTMAP_INIT;

	for (uint64_t k = 0; k < 20000; k++)
		CHECK_INT(intmap_put(&m, k * 7919, (uint32_t)k), 0);
	for (uint64_t k = 0; k < 20000; k += 2)
		CHECK_INT(intmap_del(&m, k * 7919), 0);
	CHECK_INT(intmap_del(&m, 0), -1);
	CHECK_INT(m.count, 10000);
	for (uint64_t k = 0; k < 20000; k++)
		CHECK_INT(intmap_get(&m, k * 7919), k % 2 ? (long)k : -1);
	for (uint64_t k = 1; k < 20000; k += 2)
		CHECK_INT(intmap_del(&m, k * 7919), 0);
	CHECK_INT(m.count, 0);
	CHECK_INT(intmap_get(&m, 7919), -1);
	intmap_release(&m);
	/* a small table, where probe runs wrap round its end, against a plain
	 * array: random puts and deletes */
	{
		long want[40];
		unsigned seed = 12345;

		for (int k = 0; k < 40; k++)
			want[k] = -1;
		for (int op = 0; op < 200000; op++) {
			int k = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;

			if (op % 3) {
				CHECK_INT(intmap_put(&m, (uint64_t)k, (uint32_t)op), 0);
				want[k] = op;
			} else {
				CHECK_INT(intmap_del(&m, (uint64_t)k), want[k] < 0 ? -1 : 0);
				want[k] = -1;
			}
			for (int j = 0; j < 40; j++)
				CHECK_INT(intmap_get(&m, (uint64_t)j), want[j]);
		}
		intmap_release(&m);
	}
}

static void metrics_and_scores(void)
{
	struct setup st;
	struct http_result h;
	json_t *doc;

	CHECK_INT(start(&st, NULL, NULL), 0);
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("s1", "P-HONGBANG", "3"), &h), 201);
	free(h.body);
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("s2", "P-HONGBANG", "9"), &h), 400);
	free(h.body);
	CHECK_INT(get(&st, "/metrics", NULL, &h), 401);
	free(h.body);
	CHECK_INT(get(&st, "/metrics", st.kiosk, &h), 403);
	free(h.body);
	/* a request is counted when libmicrohttpd says it is done, a moment
	 * after its client has the reply (the resumed post's later than the
	 * others'): read until it is there, for at most 5 s */
	for (int i = 0; i < 100; i++) {
		CHECK_INT(get(&st, "/metrics", st.admin, &h), 200);
		if (strstr(h.body, "sipas_http_requests_total{route=\"/api/responses\",status=\"201\"} 1") || i == 99)
			break;
		free(h.body);
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	CHECK_CONTAINS(h.headers, "text/plain; version=0.0.4");
	CHECK_CONTAINS(h.body, "sipas_http_requests_total{route=\"/api/responses\",status=\"201\"} 1");
	CHECK_CONTAINS(h.body, "sipas_responses_stored_total 1");
	CHECK_CONTAINS(h.body, "sipas_rejections_total{reason=\"invalid\"} 1");
	/* every error the collector can answer has its counter, refused or not yet */
	CHECK_CONTAINS(h.body, "sipas_rejections_total{reason=\"unauthorized\"} 1");
	CHECK_CONTAINS(h.body, "sipas_rejections_total{reason=\"forbidden\"} 1");
	CHECK_CONTAINS(h.body, "sipas_rejections_total{reason=\"out_of_memory\"} 0");
	CHECK_CONTAINS(h.body, "sipas_rejections_total{reason=\"io\"} 0");
	CHECK_CONTAINS(h.body, "sipas_rejections_total{reason=\"database\"} 0");
	CHECK_CONTAINS(h.body, "sipas_rejections_total{reason=\"internal\"} 0");
	free(h.body);
	/* a request is timed when libmicrohttpd says it is complete, which may
	 * come after its client has its answer and asked again: wait for it */
	for (int tries = 0; tries < 50; tries++) {
		CHECK_INT(get(&st, "/metrics", st.admin, &h), 200);
		if (strstr(h.body, "sipas_http_request_seconds_count{route=\"/api/responses\"} 2"))
			break;
		free(h.body);
		h.body = NULL;
		usleep(100 * 1000);
	}
	CHECK_CONTAINS(h.body, "sipas_http_request_seconds_count{route=\"/api/responses\"} 2");
	free(h.body);
	/* scores: only for published periods */
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018&by=agency", NULL, &h), 404);
	CHECK_CONTAINS(h.body, "not published");
	free(h.body);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", "--form", "kiosk-2018", NULL)->status, 0);
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018&by=agency", NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "period")), "2026Q3");
	CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "groups"), 0), "n")), 1);
	json_decref(doc);
	CHECK_INT(get(&st, "/api/scores?period=2026Q9", NULL, &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"period\"");
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
}

static void tls(void)
{
	struct setup st;
	struct http_result h;

	CHECK_INT(test_make_cert(), 0);
	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&st.s, "sipas.db", "--tls-cert", "cert.pem", "--tls-key", "key.pem", NULL), 0);
	CHECK_STR(st.s.scheme, "https");
	CHECK_INT(get(&st, "/healthz", NULL, &h), 200);
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(sipas_run(NULL, "serve", "--tls-cert", "cert.pem", NULL)->status, 1);
}

/* The body of rating `id` of client `c`: a pure function of both, so a
 * re-post after the crash is byte-identical. */
static void crash_body(char *out, size_t n, int c, int i)
{
	snprintf(out, n, "{\"response_id\":\"c%d-%d\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\","
		 "\"sector\":\"dat-dai\",\"submitted_at\":\"2026-08-03T09:%02d:%02d+07:00\","
		 "\"answers\":{\"overall\":%d}}", c, i, i / 60 % 60, i % 60, 1 + (c + i) % 3);
}

static void kill_9_loses_no_acknowledged_rating(void)
{
	struct setup st;
	struct http_result h;
	pid_t kids[16];
	long acked = 0, dup = 0;
	int status;

	CHECK_INT(start(&st, "--device-rate", "0"), 0);
	for (int c = 0; c < 16; c++) {
		kids[c] = fork();
		if (kids[c] == 0) {
			char path[32], body[512];
			FILE *log;

			snprintf(path, sizeof(path), "acked.%d", c);
			log = fopen(path, "w");
			for (int i = 0; i < 2000; i++) {
				crash_body(body, sizeof(body), c, i);
				if (post(&st, "/api/responses", st.kiosk, body, &h) == 201) {
					fprintf(log, "%d\n", i);
					fflush(log);
				}
				free(h.body);
			}
			fclose(log);
			_exit(0);
		}
	}
	/* kill mid-stream: once 200 ratings are acknowledged (however slow the
	 * server runs, e.g. under valgrind), or after 60 s */
	for (int waited = 0; waited < 6000 && test_count_lines("acked", 16) < 200; waited++)
		usleep(10 * 1000);
	kill(st.s.pid, SIGKILL);
	waitpid(st.s.pid, &status, 0);
	for (int c = 0; c < 16; c++)
		waitpid(kids[c], NULL, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
	CHECK_INT(test_server_start(&st.s, "sipas.db", "--max-age", "36500", "--device-rate", "0", NULL), 0);
	for (int c = 0; c < 16; c++) {
		char path[32], body[512];
		FILE *log;
		int i;

		snprintf(path, sizeof(path), "acked.%d", c);
		log = fopen(path, "r");
		CHECK(log);
		while (fscanf(log, "%d", &i) == 1) {
			crash_body(body, sizeof(body), c, i);
			acked++;
			if (post(&st, "/api/responses", st.kiosk, body, &h) == 200 && strstr(h.body, "\"duplicate\":true"))
				dup++;
			free(h.body);
		}
		fclose(log);
	}
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK(acked >= 200);
	CHECK_INT(dup, acked);
	CHECK(stored() >= acked);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
}

/* Copy a shipped file from the source tree to `to`, replacing `from_text`
 * with `to_text` (NULL: unchanged) and appending `extra`; 0 or -1. */
static int copy_shipped(const char *path, const char *to, const char *from_text, const char *to_text,
			const char *extra)
{
	char src[4096];
	struct strbuf out;
	char *text, *at;
	int rc;

	snprintf(src, sizeof(src), "%s/%s", getenv("SIPAS_SOURCE"), path);
	text = test_read(src);
	if (!text)
		return -1;
	strbuf_init(&out, 0);
	at = from_text ? strstr(text, from_text) : NULL;
	if (at) {
		strbuf_add(&out, text, (size_t)(at - text));
		strbuf_addstr(&out, to_text);
		strbuf_addstr(&out, at + strlen(from_text));
	} else {
		strbuf_addstr(&out, text);
	}
	strbuf_addstr(&out, extra);
	rc = (from_text && !at) ? -1 : test_write(to, strbuf_str(&out));
	strbuf_release(&out);
	free(text);
	return rc;
}

#define NEW_AGENCY_POST(id) \
	"{\"response_id\":\"" id "\",\"form\":\"kiosk-2026\",\"agency\":\"P-MOI\"," \
	"\"sector\":\"dat-dai\",\"submitted_at\":\"2026-08-03T09:15:00+07:00\",\"answers\":{\"overall\":2}}"

static void sighup_reloads_forms_and_registry_without_dropping_requests(void)
{
	struct setup st;
	struct http_result h;
	char moi[128];
	const struct cmd_result *r;
	int hups = 0, status;
	pid_t client;

	CHECK_INT(start(&st, "--device-rate", "0"), 0);
	/* the standing office adds a form and an agency while the server runs */
	CHECK(mkdir("newforms", 0755) == 0 && mkdir("newreg", 0755) == 0);
	CHECK_INT(copy_shipped("forms/kiosk-2018.json", "newforms/kiosk-2026.json",
			       "\"id\": \"kiosk-2018\"", "\"id\": \"kiosk-2026\"", ""), 0);
	CHECK_INT(copy_shipped("forms/registry/agencies.csv", "newreg/agencies.csv", NULL, NULL,
			       "P-MOI,UBND phường Mới,commune,UBND-TP,,,\n"), 0);
	CHECK_INT(copy_shipped("forms/registry/sectors.csv", "newreg/sectors.csv", NULL, NULL, ""), 0);
	CHECK_INT(copy_shipped("forms/registry/targets.csv", "newreg/targets.csv", NULL, NULL, ""), 0);
	CHECK_INT(sipas_run(NULL, "init", "--forms", "newforms", "--registry", "newreg", NULL)->status, 0);
	/* the new agency's kiosk posts the new form */
	r = sipas_run(NULL, "device", "add", "--agency", "P-MOI", "--counter", "Quầy 1", "--sector", "dat-dai",
		      "--form", "kiosk-2026", NULL);
	CHECK_INT(r->status, 0);
	snprintf(moi, sizeof(moi), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	/* until SIGHUP the server serves what it loaded at start */
	CHECK_INT(get(&st, "/api/forms/kiosk-2026", NULL, &h), 404);
	free(h.body);
	CHECK_INT(post(&st, "/api/responses", moi, NEW_AGENCY_POST("m1"), &h), 400);
	free(h.body);
	/* a kiosk keeps posting while the office sends SIGHUP again and again */
	client = fork();
	if (client == 0) {
		int refused = 0;

		for (int i = 0; i < 150; i++) {
			char body[512], id[16];

			snprintf(id, sizeof(id), "h%d", i);
			snprintf(body, sizeof(body), KIOSK("%s", "P-HONGBANG", "3"), id);
			if (post(&st, "/api/responses", st.kiosk, body, &h) != 201)
				refused++;
			free(h.body);
		}
		_exit(refused ? 1 : 0);
	}
	while (waitpid(client, &status, WNOHANG) == 0 && hups < 200) {
		kill(st.s.pid, SIGHUP);
		hups++;
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	if (hups == 200)
		waitpid(client, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(hups >= 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE response_id LIKE 'h%'"), 150);
	/* after the reload the new form and agency are served */
	CHECK_INT(get(&st, "/api/forms/kiosk-2026", NULL, &h), 200);
	CHECK_CONTAINS(h.body, "\"id\":\"kiosk-2026\"");
	free(h.body);
	CHECK_INT(post(&st, "/api/responses", moi, NEW_AGENCY_POST("m1"), &h), 201);
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK(test_file_contains("server.log",
				 "sipas serve: SIGHUP: reloaded 3 forms, 33 agencies, 10 sectors, 6 targets\n"));
}

/* groups[0].n of a score JSON document, or -1. */
static long long whole_period_n(const char *text)
{
	json_t *doc = json_loads(text, 0, NULL);
	json_t *all = json_array_get(json_object_get(doc, "groups"), 0);
	long long n = all ? json_integer_value(json_object_get(all, "n")) : -1;

	json_decref(doc);
	return n;
}

/* A published period's scores gzipped to a client that takes gzip: the
 * same bytes as the plain reply, once inflated. */
static void published_scores_are_gzipped_for_who_takes_it(void)
{
	static const char *const gzip_headers[] = { "Accept-Encoding: gzip", NULL };
	struct setup st;
	struct http_result plain, gz;
	char url[512], *inflated = NULL;
	z_stream z;

	CHECK_INT(start(&st, NULL, NULL), 0);
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("g1", "P-HONGBANG", "3"), &plain), 201);
	free(plain.body);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018", NULL, &plain), 200);
	CHECK(!strstr(plain.headers, "Content-Encoding"));
	CHECK_CONTAINS(plain.headers, "Vary: Accept-Encoding");
	snprintf(url, sizeof(url), "%s/api/scores?period=2026Q3&form=kiosk-2018", st.s.base);
	CHECK_INT(test_http("GET", url, NULL, gzip_headers, &gz), 0);
	CHECK_INT(gz.status, 200);
	CHECK_CONTAINS(gz.headers, "Content-Encoding: gzip");
	CHECK(gz.body_len > 2 && (unsigned char)gz.body[0] == 0x1f && (unsigned char)gz.body[1] == 0x8b);
	inflated = calloc(1, plain.body_len + 1);
	CHECK(inflated != NULL);
	memset(&z, 0, sizeof(z));
	CHECK_INT(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz.body;
	z.avail_in = (uInt)gz.body_len;
	z.next_out = (Bytef *)inflated;
	z.avail_out = (uInt)plain.body_len;
	CHECK_INT(inflate(&z, Z_FINISH), Z_STREAM_END);
	CHECK(z.total_out == plain.body_len && memcmp(inflated, plain.body, plain.body_len) == 0);
	inflateEnd(&z);
	free(inflated);
	free(plain.body);
	free(gz.body);
	CHECK_INT(test_server_stop(&st.s), 0);
}

static void published_figures_do_not_move(void)
{
	struct setup st;
	struct http_result h;
	const struct cmd_result *r;

	CHECK_INT(start(&st, NULL, NULL), 0);
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("p1", "P-HONGBANG", "3"), &h), 201);
	free(h.body);
	r = sipas_run(NULL, "publish", "--period", "2026Q3", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "2026Q3: 1 form published");
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018", NULL, &h), 200);
	CHECK_INT(whole_period_n(h.body), 1);
	free(h.body);
	/* a late rating is stored and scored, but the public figure stays */
	CHECK_INT(post(&st, "/api/responses", st.kiosk, KIOSK("p2", "P-HONGBANG", "1"), &h), 201);
	free(h.body);
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018", NULL, &h), 200);
	CHECK_INT(whole_period_n(h.body), 1);
	free(h.body);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--form", "kiosk-2018", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(whole_period_n(r->out), 2);
	/* the groupings: by agency only, and agency x sector */
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018&by=agency", NULL, &h), 200);
	CHECK(!strstr(h.body, "\"sector\":\"dat-dai\""));
	CHECK_CONTAINS(h.body, "\"agency\":\"P-HONGBANG\"");
	free(h.body);
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018&by=agency,sector", NULL, &h), 200);
	CHECK_CONTAINS(h.body, "\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\"");
	free(h.body);
	/* publishing again needs a withdrawal first */
	r = sipas_run(NULL, "publish", "--period", "2026Q3", "--form", "kiosk-2018", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "already published");
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", "--form", "sipas-2017", NULL)->status, 1);
	r = sipas_run(NULL, "publish", "--withdraw", "--period", "2026Q3", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "2026Q3: 1 form withdrawn");
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018", NULL, &h), 404);
	free(h.body);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018", NULL, &h), 200);
	CHECK_INT(whole_period_n(h.body), 2);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published_scores"), 2);
	CHECK_INT(test_server_stop(&st.s), 0);
}

static void a_published_quarter_serves_its_report(void)
{
	struct setup st;
	struct http_result h;
	const struct cmd_result *r;
	char *score_csv;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(test_server_start(&st.s, "sipas.db", NULL), 0);
	CHECK_INT(get(&st, "/results", NULL, &h), 200);
	CHECK_CONTAINS(h.body, "Chưa có kỳ nào được công bố");
	free(h.body);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(get(&st, "/results", NULL, &h), 200);
	CHECK_CONTAINS(h.body, "<a href=\"/results/2026Q3/\">2026Q3</a>");
	free(h.body);
	CHECK_INT(get(&st, "/results/2026Q3", NULL, &h), 301);
	CHECK_CONTAINS(h.headers, "Location: /results/2026Q3/");
	free(h.body);
	CHECK_INT(get(&st, "/results/2026Q3/", NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'");
	CHECK_CONTAINS(h.body, "2026Q3");
	free(h.body);
	CHECK_INT(get(&st, "/results/2026Q3/methodology.html", NULL, &h), 200);
	free(h.body);
	CHECK_INT(get(&st, "/results/2026Q3/scores.xlsx", NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "spreadsheetml");
	free(h.body);
	/* the open data is what sipas score gave when the quarter was published */
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--format", "csv", NULL);
	CHECK_INT(r->status, 0);
	score_csv = strdup(r->out);
	CHECK_INT(get(&st, "/results/2026Q3/scores.csv", NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "text/csv");
	CHECK_STR(h.body, score_csv);
	free(h.body);
	free(score_csv);
	/* a quarter not published: a page, in Vietnamese and English, still a 404 */
	CHECK_INT(get(&st, "/results/2026Q2/", NULL, &h), 404);
	CHECK_CONTAINS(h.headers, "text/html");
	CHECK_CONTAINS(h.body, "<html lang=\"vi\"");
	CHECK_CONTAINS(h.body, "2026Q2 chưa được công bố");
	CHECK_CONTAINS(h.body, "2026Q2 has not been published");
	free(h.body);
	CHECK_INT(get(&st, "/results/2026Q2/scores.json", NULL, &h), 404);
	CHECK_CONTAINS(h.headers, "application/json");
	free(h.body);
	/* a late survey: the report says the public figures are no longer the database's */
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "now", NULL);
	CHECK_INT(r->status, 0);
	CHECK(!strstr(r->err, "was published"));
	CHECK_INT(sipas_run("response_id,submitted_at,agency,sector,overall\nLATE-1,2026-09-30,SO-XD,dat-dai,5\n",
			    "import", "--form", "sipas-2017", "-", NULL)->status, 0);
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "now", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->err, "2026Q3 of sipas-2017 was published and the database now gives other figures");
	CHECK_INT(get(&st, "/results/2026Q3/../../db", NULL, &h), 404);
	free(h.body);
	CHECK_INT(sipas_run(NULL, "publish", "--withdraw", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(get(&st, "/results/2026Q3/", NULL, &h), 404);
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published_files"), 0);
}

/* In a published quarter, a file it does not have is "no such file", and
 * /api/scores of a form that does not exist says so: neither is "not
 * published". */
static void unknown_files_and_forms_are_named_as_such(void)
{
	struct setup st;
	struct http_result h;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(test_server_start(&st.s, "sipas.db", NULL), 0);
	CHECK_INT(get(&st, "/results/2026Q3/INDEX.HTML", NULL, &h), 404);
	CHECK_CONTAINS(h.body, "no such file");
	free(h.body);
	CHECK_INT(get(&st, "/results/2026Q2/index.html", NULL, &h), 404);
	CHECK_CONTAINS(h.body, "not published");
	free(h.body);
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=../..", NULL, &h), 400);
	CHECK_CONTAINS(h.body, "unknown form");
	CHECK_CONTAINS(h.body, "\"field\":\"form\"");
	free(h.body);
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=kiosk-2018", NULL, &h), 404);
	CHECK_CONTAINS(h.body, "not published");
	free(h.body);
	CHECK_INT(get(&st, "/api/scores?period=2026Q3&form=sipas-2017", NULL, &h), 200);
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
}

/* The report's trend shows a published quarter with the figures it was
 * published with, not what late responses made of it since. */
static void the_trend_shows_published_quarters_as_published(void)
{
	char want[64], late[64];
	const struct cmd_result *r;
	long long n;
	char *html;

	CHECK_INT(test_init_fixture(1), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q2", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	n = whole_period_n(r->out);
	CHECK(n > 0);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q2", NULL)->status, 0);
	CHECK_INT(sipas_run("response_id,submitted_at,agency,sector,overall\nLATE-Q2,2026-06-30,SO-XD,dat-dai,5\n",
			    "import", "--form", "sipas-2017", "-", NULL)->status, 0);
	r = sipas_run(NULL, "report", "--period", "2026Q3", "--out", "out", NULL);
	CHECK_INT(r->status, 0);
	html = test_read("out/index.html");
	CHECK(html);
	/* the trend's n row: "<td class="num">N (n_eff)</td>" for 2026Q2 */
	snprintf(want, sizeof(want), ">%lld (", n);
	snprintf(late, sizeof(late), ">%lld (", n + 1);
	CHECK_CONTAINS(html, want);
	CHECK(!strstr(html, late));
	free(html);
}

const struct test_case collector_tests[] = {
	{ "sighup_reloads_forms_and_registry_without_dropping_requests",
	  sighup_reloads_forms_and_registry_without_dropping_requests },
	{ "kiosk_posts_are_idempotent", kiosk_posts_are_idempotent },
	{ "bad_posts_name_the_field_and_store_nothing", bad_posts_name_the_field_and_store_nothing },
	{ "tokens", tokens },
	{ "phone_links", phone_links },
	{ "published_figures_do_not_move", published_figures_do_not_move },
	{ "published_scores_are_gzipped_for_who_takes_it", published_scores_are_gzipped_for_who_takes_it },
	{ "a_published_quarter_serves_its_report", a_published_quarter_serves_its_report },
	{ "the_trend_shows_published_quarters_as_published", the_trend_shows_published_quarters_as_published },
	{ "unknown_files_and_forms_are_named_as_such", unknown_files_and_forms_are_named_as_such },
	{ "a_link_expiry_is_taken_only_as_signed", a_link_expiry_is_taken_only_as_signed },
	{ "oversized_requests_are_answered_at_once", oversized_requests_are_answered_at_once },
	{ "batches", batches },
	{ "rate_limits", rate_limits },
	{ "rate_limit_table_evicts_the_least_recently_used", rate_limit_table_evicts_the_least_recently_used },
	{ "intmap_deletes_keep_the_rest", intmap_deletes_keep_the_rest },
	{ "metrics_and_scores", metrics_and_scores },
	{ "tls", tls },
	{ "kill_9_loses_no_acknowledged_rating", kill_9_loses_no_acknowledged_rating },
	{ NULL, NULL }
};
