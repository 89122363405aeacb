/*
 * test_kiosk.c - the server side of the kiosk tablet, with a real server on
 * 127.0.0.1: one-time pairing links (once, expiry, revocation, never in the
 * log), GET /api/kiosk, the sectors a kiosk serves, when it last posted,
 * credentials refused from the headers before the body is read, and the
 * pages' caching and security headers.  The pages themselves are driven in
 * a real browser by tests/browser/.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* Add a kiosk with --pair; code gets the pairing code from the printed link. */
static int add_paired_kiosk(const struct test_server *s, char *code)
{
	const struct cmd_result *r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter",
					       "Quầy 1", "--sector", "dat-dai", "--sector", "xay-dung",
					       "--pair", "--base", s->base, "--svg", "pair.svg", NULL);
	char want[128];

	snprintf(want, sizeof(want), "%s/pair/", s->base);
	if (r->status != 0 || strncmp(r->out, want, strlen(want)) != 0)
		return -1;
	snprintf(code, 64, "%.*s", (int)strcspn(r->out + strlen(want), "\n"), r->out + strlen(want));
	return strlen(code) == 40 ? 0 : -1;
}

/* A new database, a server on it, and a kiosk with its pairing code. */
static int start_with_a_kiosk(struct test_server *s, char *code)
{
	if (sipas_run(NULL, "init", NULL)->status != 0 || test_server_start(s, "sipas.db", NULL) != 0)
		return -1;
	return add_paired_kiosk(s, code);
}

static int pair(const struct test_server *s, const char *code, char *token, struct http_result *h)
{
	char body[128];
	json_t *doc;
	long status;

	snprintf(body, sizeof(body), "{\"code\":\"%s\"}", code);
	status = test_request(s, "POST", "/api/pair", NULL, body, h);
	doc = status == 200 ? json_loads(h->body, 0, NULL) : NULL;
	if (doc)
		snprintf(token, 128, "%s", json_string_value(json_object_get(doc, "token")));
	json_decref(doc);
	return (int)status;
}

static void a_pairing_link_pairs_once(void)
{
	struct test_server s;
	struct http_result h;
	char code[64], token[128], path[128];
	const struct cmd_result *r;
	json_t *doc;

	CHECK_INT(start_with_a_kiosk(&s, code), 0);
	CHECK(test_file_contains("pair.svg", "<svg"));
	/* only the code's hash is stored */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM pairings WHERE length(code_hash) = 32"), 1);
	snprintf(path, sizeof(path), "/pair/%s", code);
	CHECK(test_request(&s, "GET", path, NULL, NULL, &h) > 0);
	free(h.body);
	CHECK_INT(pair(&s, code, token, &h), 200);
	free(h.body);
	CHECK_INT(strlen(token), 78);
	CHECK_INT(test_request(&s, "GET", "/api/kiosk", token, NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "agency"), "code")), "P-HONGBANG");
	CHECK_STR(json_string_value(json_object_get(doc, "counter")), "Quầy 1");
	CHECK_STR(json_string_value(json_object_get(doc, "form")), "kiosk-2018");
	CHECK_INT(json_array_size(json_object_get(doc, "sectors")), 2);
	json_decref(doc);
	/* a second use, and a made-up code */
	CHECK_INT(pair(&s, code, token, &h), 401);
	CHECK_CONTAINS(h.body, "pairing code already used");
	free(h.body);
	CHECK_INT(pair(&s, "0123456789abcdef0123456789abcdef01234567", token, &h), 401);
	CHECK_CONTAINS(h.body, "unknown pairing code");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	/* the code never reaches the access log; device list shows the pairing */
	CHECK(!test_file_contains("server.log", code));
	CHECK(test_file_contains("server.log", "GET /pair/- "));
	r = sipas_run(NULL, "device", "list", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "paired (UTC)");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE paired_at IS NOT NULL"), 1);
}

static void expired_codes_and_revoked_devices_are_refused(void)
{
	struct test_server s;
	struct http_result h;
	char code[64], token[128];

	CHECK_INT(start_with_a_kiosk(&s, code), 0);
	CHECK_INT(sipas_run(NULL, "device", "revoke", "1", NULL)->status, 0);
	CHECK_INT(pair(&s, code, token, &h), 401);
	CHECK_CONTAINS(h.body, "device revoked");
	free(h.body);
	CHECK_INT(add_paired_kiosk(&s, code), 0);
	CHECK_INT(pair(&s, code, token, &h), 200);
	free(h.body);
	CHECK_INT(sipas_run(NULL, "device", "revoke", "2", NULL)->status, 0);
	sleep(2);   /* past the servers' one-second token cache */
	CHECK_INT(test_request(&s, "GET", "/api/kiosk", token, NULL, &h), 401);
	CHECK_CONTAINS(h.body, "token revoked");
	free(h.body);
	CHECK_INT(add_paired_kiosk(&s, code), 0);
	{
		sqlite3 *db;

		CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, "UPDATE pairings SET expires_at = 0 WHERE device_id = 3", NULL, NULL,
				       NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	CHECK_INT(pair(&s, code, token, &h), 401);
	CHECK_CONTAINS(h.body, "pairing code expired");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	/* bad options */
	CHECK_INT(sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "x", NULL)->status, 1);
	CHECK_CONTAINS(sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "x",
				 "--sector", "nope", NULL)->err, "unknown sector 'nope'");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 3);
}

/* A post of one rating of form `form` for P-HONGBANG's sector, taken now
 * (the server refuses dates outside its --max-age window), in buf (512
 * bytes). */
static const char *post_of(char *buf, const char *id, const char *form, const char *sector)
{
	time_t now = time(NULL);
	struct tm tm;
	char when[32];

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, 512, "{\"response_id\":\"%s\",\"form\":\"%s\",\"agency\":\"P-HONGBANG\","
		 "\"sector\":\"%s\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":3}}", id, form, sector, when);
	return buf;
}

/* A batch of one kiosk rating (post_of), in buf (600 bytes). */
static const char *rating(char *buf, const char *id, const char *sector)
{
	char post[512];

	snprintf(buf, 600, "{\"responses\":[%s]}", post_of(post, id, "kiosk-2018", sector));
	return buf;
}

static void a_kiosk_posts_only_for_its_sectors_and_records_when(void)
{
	struct test_server s;
	struct http_result h;
	char code[64], token[128], body[600];

	CHECK_INT(start_with_a_kiosk(&s, code), 0);
	CHECK_INT(pair(&s, code, token, &h), 200);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE last_post_at IS NULL"), 1);
	CHECK_INT(test_request(&s, "POST", "/api/responses/batch", token, rating(body, "k1", "xay-dung"), &h), 200);
	CHECK_CONTAINS(h.body, "\"status\":201");
	free(h.body);
	CHECK_INT(test_request(&s, "POST", "/api/responses/batch", token, rating(body, "k2", "y-te"), &h), 200);
	CHECK_CONTAINS(h.body, "\"status\":403");
	CHECK_CONTAINS(h.body, "this kiosk does not serve sector y-te");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE last_post_at > 0"), 1);
}

/* `device add` printing a token (no --pair) with extra options; 0 or -1. */
static int add_kiosk_token(char *token, const char *opt, const char *value)
{
	const struct cmd_result *r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 2",
					       "--sector", "dat-dai", opt, value, NULL);

	if (r->status != 0)
		return -1;
	snprintf(token, 128, "%.*s", (int)strcspn(r->out, "\n"), r->out);
	return strlen(token) == 78 ? 0 : -1;
}

/* A kiosk token posts its device's form only (device add --form, by
 * default kiosk-2018), never the survey: that counts in the SIPAS index
 * and comes from signed links and imports. */
static void a_kiosk_posts_only_its_own_form(void)
{
	struct test_server s;
	struct http_result h;
	char token[128], other[128], body[1024], batch[1100], *text, path[4096];
	const struct cmd_result *r;
	json_t *doc;

	/* the shipped forms and a second kiosk form */
	CHECK_INT(system("mkdir -p forms"), 0);
	snprintf(path, sizeof(path), "%s/../../forms/sipas-2017.json", test_fixtures());
	text = test_read(path);
	CHECK(text);
	CHECK_INT(test_write("forms/sipas-2017.json", text), 0);
	free(text);
	snprintf(path, sizeof(path), "%s/../../forms/kiosk-2018.json", test_fixtures());
	text = test_read(path);
	CHECK(text);
	CHECK_INT(test_write("forms/kiosk-2018.json", text), 0);
	memcpy(strstr(text, "\"kiosk-2018\""), "\"kiosk-2026\"", 12);
	CHECK_INT(test_write("forms/kiosk-2026.json", text), 0);
	free(text);
	CHECK_INT(sipas_run(NULL, "init", "--forms", "forms", NULL)->status, 0);
	CHECK_INT(add_kiosk_token(token, NULL, NULL), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	/* the survey, from a kiosk token: alone, and in a batch */
	CHECK_INT(test_request(&s, "POST", "/api/responses", token, post_of(body, "s1", "sipas-2017", "dat-dai"), &h), 403);
	CHECK_CONTAINS(h.body, "\"code\":\"forbidden\"");
	CHECK_CONTAINS(h.body, "\"field\":\"form\"");
	CHECK_CONTAINS(h.body, "kiosk-2018");
	free(h.body);
	snprintf(batch, sizeof(batch), "{\"responses\":[%s]}", post_of(body, "s2", "sipas-2017", "dat-dai"));
	CHECK_INT(test_request(&s, "POST", "/api/responses/batch", token, batch, &h), 200);
	CHECK_CONTAINS(h.body, "\"status\":403");
	CHECK_CONTAINS(h.body, "this kiosk posts form kiosk-2018, not sipas-2017");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE form = 'kiosk-2018'"), 1);
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "x", "--sector", "dat-dai",
		      "--form", "nope", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "unknown form 'nope'");
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "x", "--sector", "dat-dai",
		      "--form", "sipas-2017", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "sipas-2017");
	r = sipas_run(NULL, "device", "add", "--admin", "--counter", "x", "--form", "kiosk-2018", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--form");
	CHECK_INT(add_kiosk_token(other, "--form", "kiosk-2026"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 2);
	/* a kiosk of another form is told its form, and posts that one only */
	CHECK_INT(test_request(&s, "GET", "/api/kiosk", other, NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK(doc);
	CHECK_STR(json_string_value(json_object_get(doc, "form")), "kiosk-2026");
	json_decref(doc);
	CHECK_INT(test_request(&s, "POST", "/api/responses", other, post_of(body, "k1", "kiosk-2018", "dat-dai"), &h), 403);
	CHECK_CONTAINS(h.body, "kiosk-2026");
	free(h.body);
	CHECK_INT(test_request(&s, "POST", "/api/responses", other, post_of(body, "k2", "kiosk-2026", "dat-dai"), &h), 201);
	free(h.body);
	CHECK_INT(test_request(&s, "POST", "/api/responses", token, post_of(body, "k3", "kiosk-2018", "dat-dai"), &h), 201);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses r JOIN forms f ON f.id = r.form_id "
			      "WHERE f.code = 'sipas-2017'"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 2);
}

/* Send only the headers of a large upload and wait up to `ms` for an
 * answer: the status line's code, or 0 when none came. */
static int answer_to_headers_only(const struct test_server *s, const char *head, int ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	struct pollfd p;
	char buf[512];
	int fd = socket(AF_INET, SOCK_STREAM, 0), code = 0;
	ssize_t n;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, head, strlen(head)) != (ssize_t)strlen(head)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, ms) == 1 && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		sscanf(buf, "HTTP/1.1 %d", &code);
	}
	close(fd);
	return code;
}

/* The resident memory of process pid in KiB; -1 when unknown. */
static long rss_kib(int pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		sscanf(line, "VmRSS: %ld kB", &kib);
	fclose(fp);
	return kib;
}

#define FLOOD_CLIENTS 32
#define FLOOD_ROUNDS 3

/* FLOOD_CLIENTS at once send a batch of a whole MiB without a token:
 * returns how many were answered 401. */
static int flood_unauthenticated_batches(const struct test_server *s)
{
	static const char head[] = "POST /api/responses/batch HTTP/1.1\r\nHost: x\r\n"
				   "Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	static char body[64 * 1024];
	int fd[FLOOD_CLIENTS], refused = 0;

	memset(body, ' ', sizeof(body));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < FLOOD_CLIENTS; i++) {
		fd[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd[i] < 0)
			continue;
		/* a non-blocking connect to 127.0.0.1 completes at once or soon */
		if (connect(fd[i], (struct sockaddr *)&sa, sizeof(sa)) != 0) {
			struct pollfd p = { .fd = fd[i], .events = POLLOUT };

			poll(&p, 1, 1000);
		}
		/* (the server may close a socket it will not read: no SIGPIPE) */
		if (send(fd[i], head, sizeof(head) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(head) - 1))
			continue;
		/* as much of the MiB as the sockets take */
		for (size_t sent = 0; sent < 1024 * 1024;) {
			ssize_t n = send(fd[i], body, sizeof(body), MSG_NOSIGNAL);

			if (n <= 0)
				break;
			sent += (size_t)n;
		}
	}
	for (int i = 0; i < FLOOD_CLIENTS; i++) {
		struct pollfd p = { .fd = fd[i], .events = POLLIN };
		char buf[256];
		int code = 0;
		ssize_t n;

		if (fd[i] < 0)
			continue;
		if (poll(&p, 1, 3000) == 1 && (n = read(fd[i], buf, sizeof(buf) - 1)) > 0) {
			buf[n] = '\0';
			sscanf(buf, "HTTP/1.1 %d", &code);
		}
		refused += code == 401;
		close(fd[i]);
	}
	return refused;
}

static void credentials_are_refused_before_the_body(void)
{
	struct test_server s;
	struct http_result h;
	char code[64], token[128], head[512];
	long before, after;
	int refused = 0;

	CHECK_INT(start_with_a_kiosk(&s, code), 0);
	CHECK_INT(pair(&s, code, token, &h), 200);
	free(h.body);
	/* 900 KB announced, not one byte sent: the answer comes from the headers */
	CHECK_INT(answer_to_headers_only(&s, "POST /api/responses/batch HTTP/1.1\r\nHost: x\r\n"
					 "Authorization: Bearer nope\r\nContent-Type: application/json\r\n"
					 "Content-Length: 900000\r\n\r\n", 3000), 401);
	CHECK_INT(answer_to_headers_only(&s, "POST /api/responses?form=sipas-2017&agency=SO-XD&sector=dat-dai"
					 "&dossier=H&exp=99999999999&sig=00 HTTP/1.1\r\nHost: x\r\n"
					 "Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n", 3000), 401);
	CHECK_INT(answer_to_headers_only(&s, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 3000), 401);
	/* with a good token, the route's limit is enforced from the headers too */
	snprintf(head, sizeof(head), "POST /api/responses/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		 "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", token, 1024 * 1024 + 1);
	CHECK_INT(answer_to_headers_only(&s, head, 3000), 413);
	snprintf(head, sizeof(head), "POST /api/responses/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		 "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", token, 1024 * 1024);
	CHECK_INT(answer_to_headers_only(&s, head, 500), 0);   /* within it: the body is awaited */
	/* whole MiB batches without a token, many at once: none is read */
	before = rss_kib(s.pid);
	CHECK(before > 0);
	for (int round = 0; round < FLOOD_ROUNDS; round++)
		refused += flood_unauthenticated_batches(&s);
	after = rss_kib(s.pid);
	CHECK_INT(refused, FLOOD_CLIENTS * FLOOD_ROUNDS);
	if (after - before >= 8 * 1024)
		test_fail(__FILE__, __LINE__, "the server grew from %ld to %ld KiB", before, after);
	CHECK(after - before < 8 * 1024);
	CHECK_INT(test_server_stop(&s), 0);
}

static void pages_carry_their_headers_and_revalidate(void)
{
	struct test_server s;
	struct http_result h;
	char etag[64], inm[96];
	const char *at, *headers[2] = { inm, NULL };
	json_t *doc;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_request(&s, "GET", "/", NULL, NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "Content-Type: text/html; charset=utf-8");
	CHECK_CONTAINS(h.headers, "Content-Security-Policy: default-src 'self'");
	CHECK_CONTAINS(h.headers, "X-Content-Type-Options: nosniff");
	CHECK_CONTAINS(h.headers, "Cache-Control: no-cache");
	at = strstr(h.headers, "ETag: ");
	CHECK(at);
	snprintf(etag, sizeof(etag), "%.*s", (int)strcspn(at + 6, "\r\n"), at + 6);
	free(h.body);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	{
		char url[256];

		snprintf(url, sizeof(url), "%s/", s.base);
		CHECK_INT(test_http("GET", url, NULL, headers, &h), 0);
	}
	CHECK_INT(h.status, 304);
	CHECK_STR(h.body, "");
	free(h.body);
	/* gzipped for a browser that takes it, with its own ETag */
	{
		char url[256];
		const char *gz[2] = { "Accept-Encoding: br, gzip;q=0.8", NULL };

		snprintf(url, sizeof(url), "%s/static/kiosk.js", s.base);
		CHECK_INT(test_http("GET", url, NULL, gz, &h), 0);
	}
	CHECK_INT(h.status, 200);
	CHECK_CONTAINS(h.headers, "Content-Encoding: gzip");
	CHECK_CONTAINS(h.headers, "Vary: Accept-Encoding");
	CHECK_CONTAINS(h.headers, "-gz\"");
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/static/kiosk.js", NULL, NULL, &h), 200);
	CHECK(!strstr(h.headers, "Content-Encoding"));
	CHECK_CONTAINS(h.body, "kiosk");
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/favicon.ico", NULL, NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "image/svg+xml");
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/static/index.html", NULL, NULL, &h), 404);
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/static/../db/db.c", NULL, NULL, &h), 404);
	free(h.body);
	/* the API lists itself from the route table */
	CHECK_INT(test_request(&s, "GET", "/api", NULL, NULL, &h), 200);
	doc = json_loads(h.body, 0, NULL);
	free(h.body);
	CHECK(doc && json_array_size(json_object_get(doc, "routes")) >= 10);
	json_decref(doc);
	CHECK_INT(test_server_stop(&s), 0);
}

/* POST /api/kiosk/pin with the kiosk's token and {"pin": pin}; the status. */
static long try_pin(const struct test_server *s, const char *token, const char *pin, struct http_result *h)
{
	char body[64];
	long status;

	snprintf(body, sizeof(body), "{\"pin\":\"%s\"}", pin);
	status = test_request(s, "POST", "/api/kiosk/pin", token, body, h);
	free(h->body);
	h->body = NULL;
	return status;
}

/* The staff PIN: set by device add --pin or generated and printed once,
 * stored as a salted slow hash, checked by the kiosk's own token only,
 * and locked for 5 minutes after 5 wrong tries. */
static void a_kiosk_pin_opens_staff_mode_and_locks_after_five_wrong_tries(void)
{
	struct test_server s;
	struct http_result h;
	char code[64], token[128], other[128], pin2[8] = "";
	const struct cmd_result *r;
	const char *at;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 1", "--sector", "dat-dai",
		      "--pin", "123456", "--pair", "--base", s.base, NULL);
	CHECK_INT(r->status, 0);
	CHECK(!strstr(r->out, "123456"));   /* a PIN the office chose is not printed back */
	snprintf(code, sizeof(code), "%.40s", strstr(r->out, "/pair/") + 6);
	CHECK_INT(pair(&s, code, token, &h), 200);
	free(h.body);
	/* a generated PIN is printed once, to the terminal: stdout stays the link
	 * (or the token) alone, for scripts */
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 2", "--sector", "dat-dai",
		      "--pair", "--base", s.base, NULL);
	CHECK_INT(r->status, 0);
	CHECK(!strchr(strchr(r->out, '\n') + 1, '\n') && !strstr(r->out, "PIN"));
	at = strstr(r->err, "staff PIN: ");
	CHECK(at);
	snprintf(pin2, sizeof(pin2), "%.6s", at + strlen("staff PIN: "));
	CHECK_INT(strspn(pin2, "0123456789"), 6);
	snprintf(code, sizeof(code), "%.40s", strstr(r->out, "/pair/") + 6);
	CHECK_INT(pair(&s, code, other, &h), 200);
	free(h.body);
	/* stored hashed: a salted PBKDF2, never the digits */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE pin_hash LIKE 'pbkdf2-sha256$%' "
			      "AND instr(pin_hash, '123456') = 0"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(DISTINCT pin_hash) FROM devices"), 2);
	/* the right PIN, a malformed one, and another kiosk's PIN */
	CHECK_INT(try_pin(&s, token, "123456", &h), 200);
	CHECK_INT(test_request(&s, "POST", "/api/kiosk/pin", token, "{\"pin\":123456}", &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"pin\"");
	free(h.body);
	CHECK_INT(try_pin(&s, other, "123456", &h), 403);
	CHECK_INT(try_pin(&s, other, pin2, &h), 200);
	CHECK_INT(try_pin(&s, "", "123456", &h), 401);
	/* five wrong tries lock it, even for the right PIN; another kiosk is not locked */
	for (int i = 0; i < 4; i++)
		CHECK_INT(try_pin(&s, token, "000000", &h), 403);
	CHECK_INT(try_pin(&s, token, "000000", &h), 429);
	CHECK_CONTAINS(h.headers, "Retry-After: ");
	CHECK_INT(try_pin(&s, token, "123456", &h), 429);
	CHECK(test_db_int("sipas.db", "SELECT pin_locked_until - strftime('%s','now') FROM devices WHERE id = 1") > 280);
	CHECK_INT(try_pin(&s, other, pin2, &h), 200);
	{
		sqlite3 *db;

		/* five minutes later */
		CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, "UPDATE devices SET pin_locked_until = pin_locked_until - 301", NULL, NULL,
				       NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	CHECK_INT(try_pin(&s, token, "123456", &h), 200);
	CHECK_INT(test_db_int("sipas.db", "SELECT pin_failures FROM devices WHERE id = 1"), 0);
	/* a kiosk added before PINs has none to check */
	{
		sqlite3 *db;

		CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, "UPDATE devices SET pin_hash = NULL WHERE id = 2", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	CHECK_INT(try_pin(&s, other, pin2, &h), 409);
	CHECK_INT(test_server_stop(&s), 0);
	/* bad PINs are refused and nothing is added */
	CHECK_CONTAINS(sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "x", "--sector",
				 "dat-dai", "--pin", "12345", NULL)->err, "--pin must be 6 digits");
	CHECK_INT(sipas_run(NULL, "device", "add", "--admin", "--counter", "x", "--pin", "123456", NULL)->status, 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 2);
}

/* devices.pin_hash of device 1 into out (256 bytes); 0 or -1. */
static int read_pin_hash(char *out)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_open("sipas.db", &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT pin_hash FROM devices WHERE id = 1", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		snprintf(out, 256, "%s", (const char *)sqlite3_column_text(st, 0));
		rc = 0;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

/* `device pair ID` gives an existing kiosk (a replaced tablet) a new
 * pairing link: the old token works until the link is used; the PIN
 * stays, or a kiosk without one gets one.  `device list` shows each
 * kiosk's sectors, form and pairing. */
static void device_pair_replaces_a_tablet_and_list_shows_kiosks(void)
{
	struct test_server s;
	struct http_result h;
	char code[64], old[128], fresh[128], pin_hash[256], again[256];
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 1", "--sector", "dat-dai",
		      "--sector", "xay-dung", "--pin", "123456", NULL);
	CHECK_INT(r->status, 0);
	snprintf(old, sizeof(old), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(sipas_run(NULL, "device", "add", "--admin", "--counter", "ops", NULL)->status, 0);
	r = sipas_run(NULL, "device", "list", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "sectors");
	CHECK_CONTAINS(r->out, "dat-dai,xay-dung");
	CHECK_CONTAINS(r->out, "kiosk-2018");
	CHECK_CONTAINS(r->out, "not paired");
	CHECK_INT(read_pin_hash(pin_hash), 0);
	r = sipas_run(NULL, "device", "pair", "1", "--base", s.base, "--svg", "new.svg", NULL);
	CHECK_INT(r->status, 0);
	CHECK(!strstr(r->out, "staff PIN"));   /* the PIN stays */
	CHECK(test_file_contains("new.svg", "<svg"));
	CHECK_CONTAINS(r->err, "device 1");
	snprintf(code, sizeof(code), "%.40s", strstr(r->out, "/pair/") + 6);
	CHECK_CONTAINS(sipas_run(NULL, "device", "list", NULL)->out, "link open");
	/* the old tablet keeps working until the new one takes the link */
	CHECK_INT(test_request(&s, "GET", "/api/kiosk", old, NULL, &h), 200);
	free(h.body);
	CHECK_INT(pair(&s, code, fresh, &h), 200);
	free(h.body);
	sleep(2);   /* past the servers' one-second token cache */
	CHECK_INT(test_request(&s, "GET", "/api/kiosk", old, NULL, &h), 401);
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/api/kiosk", fresh, NULL, &h), 200);
	free(h.body);
	CHECK_INT(try_pin(&s, fresh, "123456", &h), 200);
	CHECK_INT(read_pin_hash(again), 0);
	CHECK_STR(again, pin_hash);
	r = sipas_run(NULL, "device", "list", NULL);
	CHECK_CONTAINS(r->out, "paired");
	/* a kiosk without a PIN gets one; --pin replaces it */
	{
		sqlite3 *db;

		CHECK_INT(sqlite3_open("sipas.db", &db), SQLITE_OK);
		CHECK_INT(sqlite3_exec(db, "UPDATE devices SET pin_hash = NULL WHERE id = 1", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	r = sipas_run(NULL, "device", "pair", "1", "--base", s.base, NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->err, "staff PIN: ");
	r = sipas_run(NULL, "device", "pair", "1", "--pin", "654321", "--base", s.base, NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(try_pin(&s, fresh, "654321", &h), 200);
	CHECK_INT(test_server_stop(&s), 0);
	/* an admin token, a device that does not exist, a revoked kiosk */
	CHECK_CONTAINS(sipas_run(NULL, "device", "pair", "2", NULL)->err, "no kiosk 2");
	CHECK_CONTAINS(sipas_run(NULL, "device", "pair", "9", NULL)->err, "no kiosk 9");
	CHECK_INT(sipas_run(NULL, "device", "revoke", "1", NULL)->status, 0);
	CHECK_CONTAINS(sipas_run(NULL, "device", "pair", "1", NULL)->err, "device 1 is revoked");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM pairings"), 3);
}

const struct test_case kiosk_tests[] = {
	{ "a_pairing_link_pairs_once", a_pairing_link_pairs_once },
	{ "expired_codes_and_revoked_devices_are_refused", expired_codes_and_revoked_devices_are_refused },
	{ "a_kiosk_posts_only_for_its_sectors_and_records_when",
	  a_kiosk_posts_only_for_its_sectors_and_records_when },
	{ "a_kiosk_posts_only_its_own_form", a_kiosk_posts_only_its_own_form },
	{ "credentials_are_refused_before_the_body", credentials_are_refused_before_the_body },
	{ "pages_carry_their_headers_and_revalidate", pages_carry_their_headers_and_revalidate },
	{ "a_kiosk_pin_opens_staff_mode_and_locks_after_five_wrong_tries",
	  a_kiosk_pin_opens_staff_mode_and_locks_after_five_wrong_tries },
	{ "device_pair_replaces_a_tablet_and_list_shows_kiosks", device_pair_replaces_a_tablet_and_list_shows_kiosks },
	{ NULL, NULL }
};
