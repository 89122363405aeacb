/*
 * test_console_ops.c - the console's work routes against a real server on
 * a real database: devices (pair, re-pair, revoke), imports (a multipart
 * upload streamed to disk), the quarter (preview, publish, withdraw) and
 * the overview, each for the office and refused, with nothing of it shown,
 * outside an agency user's scope (docs/console.md).
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "test.h"

#define OFFICE_PASSWORD "correct horse battery"

/* Run sql on the database at path; 0 or -1. */
static int db_exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db) == SQLITE_OK && sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;

	sqlite3_close(db);
	return rc;
}

/* The fixture's registry with P-TRANLIEU under SO-XD, its responses
 * (2026Q3), and accounts: office1 (office), xd1 (agency SO-XD), yt1
 * (agency SO-YT), v1 (viewer of SO-XD). */
static int setup(struct test_server *s)
{
	if (test_init_fixture(1) != 0 ||
	    db_exec_sql("sipas.db", "UPDATE agencies SET parent_id = (SELECT id FROM agencies WHERE code = 'SO-XD') "
			"WHERE code = 'P-TRANLIEU'") != 0 ||
	    console_add_user("sipas.db", "office1", "office", NULL, OFFICE_PASSWORD) != 0 ||
	    console_add_user("sipas.db", "xd1", "agency", "SO-XD", OFFICE_PASSWORD) != 0 ||
	    console_add_user("sipas.db", "yt1", "agency", "SO-YT", OFFICE_PASSWORD) != 0 ||
	    console_add_user("sipas.db", "v1", "viewer", "SO-XD", OFFICE_PASSWORD) != 0)
		return -1;
	return test_server_start(s, "sipas.db", NULL);
}

/* setup, and office1 and xd1 signed in: 0, or -1. */
static int setup_office_and_xd(struct test_server *s, struct console_client *office, struct console_client *xd)
{
	if (setup(s) != 0)
		return -1;
	return console_sign_in(s, "office1", OFFICE_PASSWORD, office) == 0 &&
	       console_sign_in(s, "xd1", OFFICE_PASSWORD, xd) == 0 ? 0 : -1;
}

static json_t *body_json(const struct http_result *h)
{
	return json_loads(h->body ? h->body : "", 0, NULL);
}

/* POST /console/api/devices for a kiosk at agency; the new id, or -status. */
static long long add_kiosk(const struct test_server *s, const struct console_client *c, const char *agency,
			   const char *counter)
{
	struct http_result h;
	char body[256];
	long status;
	long long id = 0;

	snprintf(body, sizeof(body), "{\"agency\":\"%s\",\"counter\":\"%s\",\"sectors\":[\"xay-dung\"]}", agency,
		 counter);
	status = console_request(s, c, 1, "POST", "/console/api/devices", body, &h);
	if (status == 201) {
		json_t *doc = body_json(&h);

		id = json_integer_value(json_object_get(doc, "id"));
		json_decref(doc);
	}
	free(h.body);
	return status == 201 ? id : -status;
}

/* POST /console/api/devices/{id}/{action} as c. */
static long post_path(const struct test_server *s, const struct console_client *c, const char *action, long long id,
		      struct http_result *h)
{
	char path[128];

	snprintf(path, sizeof(path), "/console/api/devices/%lld/%s", id, action);
	return console_request(s, c, 1, "POST", path, NULL, h);
}

/* The office adds a kiosk: the reply carries a one-time pairing link that
 * pairs a tablet, its PIN and the link as a QR code; re-pairing gives a new
 * link, revoking ends the kiosk; each is in the audit log. */
static void devices_pair_repair_and_revoke(void)
{
	struct console_client office;
	struct test_server s;
	struct http_result h;
	char body[200];
	json_t *doc;
	const char *url, *pin;
	long long id;

	CHECK_INT(setup(&s), 0);
	CHECK_INT(console_sign_in(&s, "office1", OFFICE_PASSWORD, &office), 0);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/devices",
				  "{\"agency\":\"SO-XD\",\"counter\":\"Quầy 1\",\"sectors\":[\"xay-dung\",\"dat-dai\"]}",
				  &h), 201);
	doc = body_json(&h);
	free(h.body);
	CHECK(doc);
	id = json_integer_value(json_object_get(doc, "id"));
	url = json_string_value(json_object_get(doc, "pair_url"));
	pin = json_string_value(json_object_get(doc, "pin"));
	CHECK(id > 0);
	CHECK(url && strstr(url, "/pair/"));
	CHECK(pin && strlen(pin) == 6 && strspn(pin, "0123456789") == 6);
	CHECK_CONTAINS(json_string_value(json_object_get(doc, "qr_svg")), "<svg");
	CHECK(json_string_value(json_object_get(doc, "expires_at")));
	CHECK_STR(json_string_value(json_object_get(doc, "agency_name")), "Sở Xây dựng");
	CHECK_INT(json_array_size(json_object_get(doc, "sectors")), 2);
	/* the link pairs a tablet, once */
	snprintf(body, sizeof(body), "{\"code\":\"%s\"}", strstr(url, "/pair/") + 6);
	json_decref(doc);
	CHECK_INT(test_request(&s, "POST", "/api/pair", NULL, body, &h), 200);
	CHECK_CONTAINS(h.body, "\"token\"");
	free(h.body);
	CHECK_INT(test_request(&s, "POST", "/api/pair", NULL, body, &h), 401);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE paired_at IS NOT NULL"), 1);
	/* re-pair: a new link */
	CHECK_INT(post_path(&s, &office, "pair", id, &h), 200);
	CHECK_CONTAINS(h.body, "\"pair_url\"");
	CHECK_CONTAINS(h.body, "<svg");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM pairings WHERE used_at IS NULL"), 1);
	CHECK_INT(post_path(&s, &office, "revoke", id, &h), 200);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL"), 1);
	/* a revoked kiosk cannot be paired again */
	CHECK_INT(post_path(&s, &office, "pair", id, &h), 400);
	free(h.body);
	CHECK_INT(post_path(&s, &office, "pair", 999, &h), 404);
	free(h.body);
	/* the list holds the revoked kiosk, and admin tokens for the office */
	CHECK_INT(sipas_run(NULL, "device", "add", "--admin", "--counter", "monitoring", NULL)->status, 0);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/devices", NULL, &h), 200);
	doc = body_json(&h);
	CHECK_INT(json_array_size(json_object_get(doc, "devices")), 2);
	CHECK_CONTAINS(h.body, "\"role\":\"admin\"");
	CHECK_CONTAINS(h.body, "\"revoked_at\":\"20");
	json_decref(doc);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE actor = 'office1' AND address = "
			      "'127.0.0.1' AND action IN ('device.add', 'device.pair', 'device.revoke') AND "
			      "outcome = 'ok'"), 3);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'device.pair' AND outcome "
			      "<> 'ok'"), 2);
	CHECK_INT(test_server_stop(&s), 0);
}

/* An agency user sees and manages only its agency's kiosks and those of
 * the agencies under it; another's device id is 403 with nothing of it,
 * and a viewer sees no device. */
static void devices_are_scoped_to_the_agency(void)
{
	struct console_client office, xd, viewer;
	struct test_server s;
	struct http_result h;
	long long own, child, other;

	CHECK_INT(setup_office_and_xd(&s, &office, &xd), 0);
	CHECK_INT(console_sign_in(&s, "v1", OFFICE_PASSWORD, &viewer), 0);
	CHECK((own = add_kiosk(&s, &xd, "SO-XD", "Quầy XD")) > 0);
	CHECK((child = add_kiosk(&s, &xd, "P-TRANLIEU", "Quầy TL")) > 0);
	CHECK((other = add_kiosk(&s, &office, "SO-YT", "Quầy YT")) > 0);
	/* pairing at another agency: refused, nothing added */
	CHECK_INT(add_kiosk(&s, &xd, "SO-YT", "Quầy lạ"), -403);
	CHECK_INT(add_kiosk(&s, &xd, "NO-SUCH", "Quầy lạ"), -403);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 3);
	CHECK_INT(console_request(&s, &xd, 0, "GET", "/console/api/devices", NULL, &h), 200);
	CHECK_CONTAINS(h.body, "Quầy XD");
	CHECK_CONTAINS(h.body, "Quầy TL");
	CHECK(!strstr(h.body, "SO-YT") && !strstr(h.body, "Quầy YT"));
	free(h.body);
	/* another agency's device: 403, and the reply names nothing of it */
	CHECK_INT(post_path(&s, &xd, "pair", other, &h), 403);
	CHECK(!strstr(h.body, "SO-YT") && !strstr(h.body, "Quầy YT"));
	free(h.body);
	CHECK_INT(post_path(&s, &xd, "revoke", other, &h), 403);
	free(h.body);
	/* one that does not exist gets the same answer */
	CHECK_INT(post_path(&s, &xd, "revoke", 999, &h), 403);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM pairings"), 3);
	CHECK_INT(post_path(&s, &xd, "revoke", child, &h), 200);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL"), 1);
	/* without the CSRF token nothing changes */
	CHECK_INT(console_request(&s, &xd, 0, "POST", "/console/api/devices",
				  "{\"agency\":\"SO-XD\",\"counter\":\"Q\",\"sectors\":[\"xay-dung\"]}", &h), 403);
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "POST", "/console/api/devices/1/revoke", NULL, &h), 403);
	CHECK_CONTAINS(h.body, "x-csrf-token");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 3);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL"), 1);
	CHECK_INT(console_request(&s, &viewer, 0, "GET", "/console/api/devices", NULL, &h), 403);
	free(h.body);
	CHECK_INT(add_kiosk(&s, &viewer, "SO-XD", "Quầy V"), -403);
	/* refusals are on record too */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE actor = 'xd1' AND outcome <> 'ok'"), 5);
	CHECK_INT(test_server_stop(&s), 0);
}

/* An upload of `path` (NULL: no file field) as multipart/form-data fields
 * kind and form (NULL: left out); the status, -1 when no answer. */
static long upload(const struct test_server *s, const struct console_client *c, int with_csrf, const char *kind,
		   const char *form, const char *path, struct http_result *out)
{
	CURL *curl = curl_easy_init();
	curl_mime *mime = curl_mime_init(curl);
	struct curl_slist *hl = NULL;
	char url[256], cookie[200], csrf[120];
	FILE *body = open_memstream(&out->body, &out->body_len);
	curl_mimepart *part;
	CURLcode rc;

	memset(out->headers, 0, sizeof(out->headers));
	out->status = 0;
	snprintf(url, sizeof(url), "%s/console/api/imports", s->base);
	snprintf(cookie, sizeof(cookie), "Cookie: %s", c->cookie);
	snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", c->csrf);
	hl = curl_slist_append(hl, cookie);
	if (with_csrf)
		hl = curl_slist_append(hl, csrf);
	hl = curl_slist_append(hl, "Expect:");
	if (kind) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "kind");
		curl_mime_data(part, kind, CURL_ZERO_TERMINATED);
	}
	if (form) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "form");
		curl_mime_data(part, form, CURL_ZERO_TERMINATED);
	}
	if (path) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "file");
		curl_mime_filedata(part, path);
		curl_mime_type(part, "text/csv");
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
	fclose(body);
	curl_mime_free(mime);
	curl_slist_free_all(hl);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? out->status : -1;
}

/* The first `rows` data rows of the fixture's responses, with its header. */
static int write_head(const char *path, int rows)
{
	char src[4200];
	FILE *in, *out;
	char line[4096];
	int n = 0;

	snprintf(src, sizeof(src), "%s/sipas-2017-a/responses.csv", test_fixtures());
	in = fopen(src, "r");
	out = fopen(path, "w");
	if (!in || !out)
		return -1;
	while (n <= rows && fgets(line, sizeof(line), in)) {
		fputs(line, out);
		n++;
	}
	fclose(in);
	return fclose(out);
}

static const char *const survey_header =
	"response_id,submitted_at,agency,sector,channel,stratum,psu,weight,e1.1,overall\n";

/* A survey CSV of good rows uploads whole; one with bad rows stores
 * nothing and lists every bad row with its line and column. */
static void imports_a_survey_whole_or_not_at_all(void)
{
	struct console_client office;
	struct test_server s;
	struct http_result h;
	long long before;
	json_t *doc, *errors;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(console_add_user("sipas.db", "office1", "office", NULL, OFFICE_PASSWORD), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", OFFICE_PASSWORD, &office), 0);
	CHECK_INT(write_head("good.csv", 40), 0);
	CHECK_INT(upload(&s, &office, 1, "survey", "sipas-2017", "good.csv", &h), 200);
	doc = body_json(&h);
	CHECK_INT(json_integer_value(json_object_get(doc, "rows")), 40);
	CHECK_INT(json_integer_value(json_object_get(doc, "imported")), 40);
	CHECK_INT(json_integer_value(json_object_get(doc, "already")), 0);
	json_decref(doc);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 40);
	/* the same file again changes nothing */
	CHECK_INT(upload(&s, &office, 1, "survey", NULL, "good.csv", &h), 200);
	CHECK_CONTAINS(h.body, "\"already\":40");
	free(h.body);
	before = test_db_int("sipas.db", "SELECT count(*) FROM responses");
	CHECK_INT(test_write("bad.csv", survey_header), 0);
	{
		FILE *fp = fopen("bad.csv", "a");

		CHECK(fp);
		fputs("N-1,2026-08-01,SO-XD,xay-dung,paper,SO-XD,,1,4,4\n", fp);
		fputs("N-2,2026-08-01,NO-SUCH,xay-dung,paper,SO-XD,,1,4,4\n", fp);
		fputs("N-3,2026-08-01,SO-XD,xay-dung,paper,SO-XD,,1,9,4\n", fp);
		fputs("N-4,2026-08-01,SO-XD,xay-dung,paper,SO-XD,,1,4,4\n", fp);
		fclose(fp);
	}
	CHECK_INT(upload(&s, &office, 1, "survey", "sipas-2017", "bad.csv", &h), 400);
	doc = body_json(&h);
	errors = json_object_get(doc, "errors");
	CHECK_STR(json_string_value(json_object_get(json_object_get(doc, "error"), "code")), "invalid");
	CHECK_INT(json_array_size(errors), 2);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(errors, 0), "line")), 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 0), "column")), "agency");
	CHECK_CONTAINS(json_string_value(json_object_get(json_array_get(errors, 0), "message")), "NO-SUCH");
	CHECK_INT(json_integer_value(json_object_get(json_array_get(errors, 1), "line")), 4);
	CHECK_STR(json_string_value(json_object_get(json_array_get(errors, 1), "column")), "e1.1");
	json_decref(doc);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), before);
	/* no file, an unknown kind, an unknown form: refused, naming the field */
	CHECK_INT(upload(&s, &office, 1, "survey", NULL, NULL, &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"file\"");
	free(h.body);
	CHECK_INT(upload(&s, &office, 1, "photos", NULL, "good.csv", &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"kind\"");
	free(h.body);
	CHECK_INT(upload(&s, &office, 1, "survey", "no-such-form", "good.csv", &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"form\"");
	free(h.body);
	/* each import on record, with its outcome */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'import' AND actor = 'office1' "
			      "AND outcome = 'ok'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'import' AND outcome <> 'ok'"),
		  4);
	CHECK_INT(test_server_stop(&s), 0);
}

/* Dossier totals load as `sipas dossiers import` loads them; an agency
 * user and a request without the CSRF token may not import. */
static void imports_dossiers_for_the_office_only(void)
{
	struct console_client office, xd;
	struct test_server s;
	struct http_result h;

	CHECK_INT(setup_office_and_xd(&s, &office, &xd), 0);
	CHECK_INT(test_write("d.csv", "period,agency,sector,dossiers\n2026Q3,SO-XD,xay-dung,120\n"
				      "2026Q3,SO-YT,y-te,80\n"), 0);
	CHECK_INT(upload(&s, &xd, 1, "dossiers", NULL, "d.csv", &h), 403);
	free(h.body);
	CHECK_INT(upload(&s, &office, 0, "dossiers", NULL, "d.csv", &h), 403);
	CHECK_CONTAINS(h.body, "x-csrf-token");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM dossiers"), 0);
	CHECK_INT(upload(&s, &office, 1, "dossiers", NULL, "d.csv", &h), 200);
	CHECK_CONTAINS(h.body, "\"rows\":2");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT sum(dossiers) FROM dossiers"), 200);
	CHECK_INT(test_write("d.csv", "period,agency,sector,dossiers\n2026Q3,SO-XD,xay-dung,12\n"
				      "2026Q9,SO-YT,y-te,80\n"), 0);
	CHECK_INT(upload(&s, &office, 1, "dossiers", NULL, "d.csv", &h), 400);
	CHECK_CONTAINS(h.body, "\"line\":3");
	CHECK_CONTAINS(h.body, "\"column\":\"period\"");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT sum(dossiers) FROM dossiers"), 200);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'dossiers.import'"), 2);
	CHECK_INT(test_server_stop(&s), 0);
}

/* Send head, then body in `pieces` parts `ms` apart, on a new connection,
 * and read the reply until the server closes it, its JSON body begins, or
 * 10 s pass; the bytes read into out (n bytes). */
static void slow_exchange(const struct test_server *s, const char *head, const char *body, int pieces, int ms,
			  char *out, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
	size_t len = strlen(body), got = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	out[0] = '\0';
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    send(fd, head, strlen(head), MSG_NOSIGNAL) != (ssize_t)strlen(head))
		goto out;
	for (int i = 0; i < pieces; i++) {
		size_t from = len * (size_t)i / (size_t)pieces, to = len * (size_t)(i + 1) / (size_t)pieces;

		nanosleep(&pause, NULL);
		if (send(fd, body + from, to - from, MSG_NOSIGNAL) != (ssize_t)(to - from))
			goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 10000) != 1)
			break;
		r = read(fd, out + got, n - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		out[got] = '\0';
		if (got == n - 1 || strstr(out, "\r\n\r\n{"))
			break;
	}
out:
	if (fd >= 0)
		close(fd);
}

/* Send `request` on a new connection and read the reply as slow_exchange
 * does. */
static void raw_exchange(const struct test_server *s, const char *request, char *out, size_t n)
{
	slow_exchange(s, request, "", 0, 0, out, n);
}

/* An upload may take longer than --request-deadline to arrive, once its
 * sender is known to be the office; any other body may not. */
static void a_slow_upload_gets_the_longer_deadline(void)
{
	static const char upload_body[] =
		"--xyz\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ndossiers\r\n"
		"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.csv\"\r\n"
		"Content-Type: text/csv\r\n\r\nperiod,agency,sector,dossiers\n2026Q3,SO-XD,xay-dung,7\n\r\n--xyz--\r\n";
	static const char device_body[] = "{\"agency\":\"SO-XD\",\"counter\":\"Q\",\"sectors\":[\"xay-dung\"]}";
	struct console_client office;
	struct test_server s;
	char head[1024], reply[4096];

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(console_add_user("sipas.db", "office1", "office", NULL, OFFICE_PASSWORD), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--request-deadline", "1", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", OFFICE_PASSWORD, &office), 0);
	snprintf(head, sizeof(head), "POST /console/api/imports HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n"
		 "X-CSRF-Token: %s\r\nContent-Type: multipart/form-data; boundary=xyz\r\nContent-Length: %zu\r\n\r\n",
		 office.cookie, office.csrf, strlen(upload_body));
	slow_exchange(&s, head, upload_body, 4, 700, reply, sizeof(reply));
	CHECK_CONTAINS(reply, "HTTP/1.1 200");
	CHECK_INT(test_db_int("sipas.db", "SELECT sum(dossiers) FROM dossiers"), 7);
	snprintf(head, sizeof(head), "POST /console/api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n"
		 "X-CSRF-Token: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		 office.cookie, office.csrf, strlen(device_body));
	slow_exchange(&s, head, device_body, 4, 700, reply, sizeof(reply));
	CHECK(!strstr(reply, "HTTP/1.1 201"));
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices"), 0);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A declared body over 200 MiB is refused from its headers: 413 comes
 * back though not one byte of it was sent.  A body of another type, a
 * multipart body cut short and one with two files are refused too, with
 * nothing stored. */
static void an_upload_over_the_limit_is_refused_before_its_body(void)
{
	struct console_client office;
	struct test_server s;
	char request[1024], reply[4096];
	long long stored;

	CHECK_INT(setup(&s), 0);
	stored = test_db_int("sipas.db", "SELECT count(*) FROM responses");
	CHECK_INT(console_sign_in(&s, "office1", OFFICE_PASSWORD, &office), 0);
	snprintf(request, sizeof(request), "POST /console/api/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: multipart/form-data; boundary=xyz\r\n"
		 "Content-Length: %llu\r\n\r\n", office.cookie, office.csrf, (200ull << 20) + 1);
	raw_exchange(&s, request, reply, sizeof(reply));
	CHECK_CONTAINS(reply, "HTTP/1.1 413");
	CHECK_CONTAINS(reply, "too_large");
	/* exactly the limit is taken (and then cut short by the close) */
	snprintf(request, sizeof(request), "POST /console/api/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: application/json\r\n"
		 "Content-Length: 10\r\n\r\n{\"a\": 1}  ", office.cookie, office.csrf);
	raw_exchange(&s, request, reply, sizeof(reply));
	CHECK_CONTAINS(reply, "HTTP/1.1 415");
	/* a multipart body that never ends, and one with two files: 400, nothing stored */
	snprintf(request, sizeof(request), "POST /console/api/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: multipart/form-data; boundary=xyz\r\n"
		 "Content-Length: 66\r\n\r\n--xyz\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n"
		 "survey\r\n--xy", office.cookie, office.csrf);
	raw_exchange(&s, request, reply, sizeof(reply));
	CHECK_CONTAINS(reply, "HTTP/1.1 400");
	CHECK_CONTAINS(reply, "multipart");
	snprintf(request, sizeof(request), "POST /console/api/imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Cookie: %s\r\nX-CSRF-Token: %s\r\nContent-Type: multipart/form-data; boundary=xyz\r\n"
		 "Content-Length: 159\r\n\r\n"
		 "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na\r\n"
		 "--xyz\r\nContent-Disposition: form-data; name=\"more\"; filename=\"b.csv\"\r\n\r\nb\r\n--xyz--\r\n",
		 office.cookie, office.csrf);
	raw_exchange(&s, request, reply, sizeof(reply));
	CHECK_CONTAINS(reply, "HTTP/1.1 400");
	CHECK_CONTAINS(reply, "one file per upload");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), stored);
	CHECK_INT(test_server_stop(&s), 0);
}

/* Start counting the server's peak resident memory afresh (signing in
 * hashes a password with 64 MiB, which the peak would keep). */
static int reset_peak(int pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	return test_write(path, "5");
}

/* The server's peak resident memory in KiB (VmHWM), -1 when unknown. */
static long peak_kib(int pid)
{
	char path[64], *status, *at;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	status = test_read(path);
	if (status && (at = strstr(status, "VmHWM:")))
		kib = strtol(at + 6, NULL, 10);
	free(status);
	return kib;
}

/* A 30 MiB upload goes to disk as it comes: the server's peak memory
 * grows far less than the file, with --max-buffered of 1 MiB (the upload
 * does not count against it), and nothing is stored of a refused file. */
static void a_large_upload_is_streamed_to_disk(void)
{
	struct console_client office;
	struct test_server s;
	struct http_result h;
	long before, after;
	FILE *fp;

	CHECK_INT(test_init_fixture(0), 0);
	CHECK_INT(console_add_user("sipas.db", "office1", "office", NULL, OFFICE_PASSWORD), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--max-buffered", "1", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", OFFICE_PASSWORD, &office), 0);
	fp = fopen("big.csv", "w");
	CHECK(fp);
	fputs("response_id,submitted_at,agency,sector,colour\n", fp);
	for (long i = 0; i < (30l << 20) / 40; i++)
		fprintf(fp, "R-%08ld,2026-08-01,SO-XD,xay-dung,1234\n", i);
	CHECK_INT(fclose(fp), 0);
	CHECK_INT(reset_peak(s.pid), 0);
	before = peak_kib(s.pid);
	CHECK(before > 0);
	CHECK_INT(upload(&s, &office, 1, "survey", "sipas-2017", "big.csv", &h), 400);
	CHECK_CONTAINS(h.body, "\"column\":\"colour\"");
	free(h.body);
	after = peak_kib(s.pid);
	CHECK(after - before < 20 * 1024);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 0);
	/* nothing left behind in the database's directory */
	CHECK_INT(system("ls -A | grep -q upload"), 256);
	CHECK_INT(test_server_stop(&s), 0);
}

/* The label of the quarter of today (Vietnam time) into out[16]. */
static void this_quarter(char out[16])
{
	time_t t = time(NULL) + 7 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 16, "%04dQ%d", (tm.tm_year + 1900) % 10000, tm.tm_mon % 12 / 3 + 1);
}

/* A few survey rows dated today, so the running quarter has responses. */
static int import_today(void)
{
	time_t t = time(NULL) + 7 * 3600;
	char csv[1024], day[16];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(csv, sizeof(csv), "%sT-1,%s,SO-XD,xay-dung,paper,SO-XD,,1,4,4\nT-2,%s,SO-YT,y-te,paper,SO-YT,,1,5,5\n",
		 survey_header, day, day);
	if (test_write("today.csv", csv) != 0)
		return -1;
	return sipas_run(NULL, "import", "--form", "sipas-2017", "today.csv", NULL)->status;
}

/* The office previews, publishes and withdraws a quarter; one not yet
 * ended is published only with the typed words; the publication records
 * who and the audit log's head. */
static void the_quarter_is_previewed_published_and_withdrawn(void)
{
	struct console_client office;
	struct test_server s;
	struct http_result h;
	char path[128], body[256], now[16];
	json_t *doc;

	CHECK_INT(setup(&s), 0);
	CHECK_INT(import_today(), 0);
	this_quarter(now);
	CHECK_INT(console_sign_in(&s, "office1", OFFICE_PASSWORD, &office), 0);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/quarter?period=2026Q3", NULL, &h), 200);
	doc = body_json(&h);
	CHECK(json_is_true(json_object_get(doc, "ended")));
	CHECK(json_is_false(json_object_get(doc, "published")));
	CHECK_INT(json_array_size(json_object_get(doc, "publications")), 0);
	json_decref(doc);
	free(h.body);
	/* the preview is the report as it would be published */
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/preview/2026Q3/index.html", NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "text/html");
	CHECK_CONTAINS(h.body, "2026Q3");
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/preview/2026Q3/scores.csv", NULL, &h), 200);
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/preview/2026Q3/nothing.txt", NULL, &h), 404);
	free(h.body);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/publish", "{\"period\":\"2026Q3\"}", &h), 200);
	free(h.body);
	CHECK_INT(test_request(&s, "GET", "/results/2026Q3/index.html", NULL, NULL, &h), 200);
	free(h.body);
	/* a row imported into the published quarter is stored, and the reply says its figures stay */
	CHECK_INT(test_write("late.csv", survey_header), 0);
	CHECK_INT(system("echo 'L-1,2026-08-01,SO-XD,xay-dung,paper,SO-XD,,1,4,4' >> late.csv"), 0);
	CHECK_INT(upload(&s, &office, 1, "survey", NULL, "late.csv", &h), 200);
	CHECK_CONTAINS(h.body, "\"published\":[\"2026Q3\"]");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM publications WHERE period = '2026Q3' AND "
			      "action = 'publish' AND actor = 'office1' AND length(audit_head) = 64"), 1);
	/* a publication made before who was recorded */
	CHECK_INT(db_exec_sql("sipas.db", "UPDATE publications SET actor = NULL WHERE id = (SELECT min(id) FROM "
			      "publications)"), 0);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/quarter?period=2026Q3", NULL, &h), 200);
	doc = body_json(&h);
	CHECK(json_is_true(json_object_get(doc, "published")));
	CHECK(json_is_false(json_object_get(doc, "early")));
	CHECK(json_string_value(json_object_get(doc, "published_at")));
	CHECK(strlen(json_string_value(json_object_get(doc, "audit_head"))) == 64);
	CHECK(json_array_size(json_object_get(doc, "publications")) >= 1);
	CHECK(json_is_null(json_object_get(json_array_get(json_object_get(doc, "publications"), 0), "actor")));
	json_decref(doc);
	free(h.body);
	/* the running quarter: refused without the typed words, nothing published */
	snprintf(body, sizeof(body), "{\"period\":\"%s\"}", now);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/publish", body, &h), 409);
	CHECK_CONTAINS(h.body, "\"field\":\"confirm_early\"");
	free(h.body);
	snprintf(body, sizeof(body), "{\"period\":\"%s\",\"confirm_early\":\"CONG BO SOM\"}", now);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/publish", body, &h), 409);
	free(h.body);
	snprintf(path, sizeof(path), "SELECT count(*) FROM published WHERE period = '%s'", now);
	CHECK_INT(test_db_int("sipas.db", path), 0);
	snprintf(body, sizeof(body), "{\"period\":\"%s\",\"confirm_early\":\"CÔNG BỐ SỚM\"}", now);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/publish", body, &h), 200);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", path), 1);
	snprintf(path, sizeof(path), "/console/api/quarter?period=%s", now);
	CHECK_INT(console_request(&s, &office, 0, "GET", path, NULL, &h), 200);
	CHECK_CONTAINS(h.body, "\"early\":true");
	CHECK_CONTAINS(h.body, "\"ended\":false");
	free(h.body);
	/* withdraw */
	snprintf(body, sizeof(body), "{\"period\":\"%s\"}", now);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/withdraw", body, &h), 200);
	free(h.body);
	snprintf(path, sizeof(path), "SELECT count(*) FROM published WHERE period = '%s'", now);
	CHECK_INT(test_db_int("sipas.db", path), 0);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/withdraw", body, &h), 404);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE actor = 'office1' AND action = 'publish' "
			      "AND outcome = 'ok'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'publish' AND outcome <> 'ok'"),
		  2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'withdraw'"), 2);
	CHECK_INT(test_server_stop(&s), 0);
}

/* Only the office may see or change the quarter; a request without the
 * CSRF token changes nothing. */
static void the_quarter_is_the_office_s(void)
{
	struct console_client office, xd;
	struct test_server s;
	struct http_result h;

	CHECK_INT(setup_office_and_xd(&s, &office, &xd), 0);
	CHECK_INT(console_request(&s, &xd, 0, "GET", "/console/api/quarter?period=2026Q3", NULL, &h), 403);
	free(h.body);
	CHECK_INT(console_request(&s, &xd, 0, "GET", "/console/preview/2026Q3/index.html", NULL, &h), 403);
	free(h.body);
	CHECK_INT(console_request(&s, &xd, 1, "POST", "/console/api/publish", "{\"period\":\"2026Q3\"}", &h), 403);
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "POST", "/console/api/publish", "{\"period\":\"2026Q3\"}", &h), 403);
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM published"), 0);
	CHECK_INT(console_request(&s, &office, 1, "POST", "/console/api/publish", "{\"period\":\"2026Q3\"}", &h), 200);
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "POST", "/console/api/withdraw", "{\"period\":\"2026Q3\"}", &h),
		  403);
	free(h.body);
	CHECK_INT(console_request(&s, &xd, 1, "POST", "/console/api/withdraw", "{\"period\":\"2026Q3\"}", &h), 403);
	free(h.body);
	CHECK(test_db_int("sipas.db", "SELECT count(*) FROM published") > 0);
	CHECK_INT(console_request(&s, NULL, 0, "GET", "/console/preview/2026Q3/index.html", NULL, &h), 401);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* The group of `agency` in an overview or a score document's groups. */
static json_t *group_of(json_t *groups, const char *agency)
{
	for (size_t i = 0; i < json_array_size(groups); i++) {
		json_t *g = json_array_get(groups, i), *a = json_object_get(g, "agency");

		if (json_is_string(a) && strcmp(json_string_value(a), agency) == 0)
			return g;
	}
	return NULL;
}

/* The overview's figures are `sipas score`'s, per agency in the user's
 * scope; its counters the scope's kiosks with today's ratings. */
static void the_overview_is_sipas_score_within_the_scope(void)
{
	struct console_client office, xd;
	struct test_server s;
	struct http_result h;
	const struct cmd_result *r;
	json_t *doc, *cli, *g, *c;
	char token[200], rating[512], day[40];
	time_t t = time(NULL);
	struct tm tm;

	CHECK_INT(setup(&s), 0);
	r = sipas_run(NULL, "score", "--period", "2026Q3", "--by", "agency", "--format", "json", NULL);
	CHECK_INT(r->status, 0);
	cli = json_loads(r->out, 0, NULL);
	CHECK(cli);
	CHECK_INT(console_sign_in(&s, "office1", OFFICE_PASSWORD, &office), 0);
	CHECK_INT(console_sign_in(&s, "xd1", OFFICE_PASSWORD, &xd), 0);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/overview?period=2026Q3", NULL, &h), 200);
	doc = body_json(&h);
	free(h.body);
	CHECK_STR(json_string_value(json_object_get(doc, "period")), "2026Q3");
	CHECK_INT(json_array_size(json_object_get(doc, "groups")), json_array_size(json_object_get(cli, "groups")) - 1);
	g = group_of(json_object_get(doc, "groups"), "SO-YT");
	c = group_of(json_object_get(cli, "groups"), "SO-YT");
	CHECK(g && c);
	CHECK_INT(json_integer_value(json_object_get(g, "n")), json_integer_value(json_object_get(c, "n")));
	CHECK_NEAR(json_number_value(json_object_get(g, "index")),
		   json_number_value(json_object_get(json_object_get(c, "index"), "est")), 1e-12);
	CHECK_NEAR(json_number_value(json_object_get(g, "low")),
		   json_number_value(json_object_get(json_object_get(c, "index"), "lo")), 1e-12);
	CHECK_NEAR(json_number_value(json_object_get(g, "high")),
		   json_number_value(json_object_get(json_object_get(c, "index"), "hi")), 1e-12);
	CHECK(json_string_value(json_object_get(g, "verdict")));
	json_decref(doc);
	/* the agency user: its agency and the one under it, the same figures */
	CHECK_INT(console_request(&s, &xd, 0, "GET", "/console/api/overview?period=2026Q3", NULL, &h), 200);
	doc = body_json(&h);
	free(h.body);
	CHECK(!group_of(json_object_get(doc, "groups"), "SO-YT"));
	g = group_of(json_object_get(doc, "groups"), "SO-XD");
	c = group_of(json_object_get(cli, "groups"), "SO-XD");
	CHECK(g && c);
	CHECK_NEAR(json_number_value(json_object_get(g, "index")),
		   json_number_value(json_object_get(json_object_get(c, "index"), "est")), 1e-12);
	for (size_t i = 0; i < json_array_size(json_object_get(doc, "groups")); i++) {
		const char *a = json_string_value(json_object_get(json_array_get(json_object_get(doc, "groups"), i),
								  "agency"));

		CHECK(a && (strcmp(a, "SO-XD") == 0 || strcmp(a, "P-TRANLIEU") == 0));
	}
	json_decref(doc);
	json_decref(cli);
	/* counters: a kiosk of each agency, one rating today at SO-YT's */
	CHECK(add_kiosk(&s, &office, "SO-XD", "Quầy XD") > 0);
	r = sipas_run(NULL, "device", "add", "--agency", "SO-YT", "--counter", "Quầy YT", "--sector", "y-te", NULL);
	CHECK_INT(r->status, 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	t += 7 * 3600;
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S+07:00", &tm);
	snprintf(rating, sizeof(rating), "{\"response_id\":\"K-1\",\"form\":\"kiosk-2018\",\"agency\":\"SO-YT\","
		 "\"sector\":\"y-te\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":3}}", day);
	CHECK_INT(test_request(&s, "POST", "/api/responses", token, rating, &h), 201);
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/overview", NULL, &h), 200);
	doc = body_json(&h);
	free(h.body);
	CHECK_INT(json_array_size(json_object_get(doc, "counters")), 2);
	g = group_of(json_object_get(doc, "counters"), "SO-YT");
	CHECK(g);
	CHECK_INT(json_integer_value(json_object_get(g, "today")), 1);
	CHECK(json_string_value(json_object_get(g, "last_post_at")));
	g = group_of(json_object_get(doc, "counters"), "SO-XD");
	CHECK(g);
	CHECK_INT(json_integer_value(json_object_get(g, "today")), 0);
	CHECK(json_is_null(json_object_get(g, "last_post_at")));
	json_decref(doc);
	CHECK_INT(console_request(&s, &xd, 0, "GET", "/console/api/overview", NULL, &h), 200);
	CHECK(!strstr(h.body, "SO-YT"));
	CHECK_CONTAINS(h.body, "Quầy XD");
	free(h.body);
	CHECK_INT(console_request(&s, &office, 0, "GET", "/console/api/overview?period=2026Q9", NULL, &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"period\"");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A publication takes the write lock on a thread of its own: while another
 * process holds the lock, the publication waits there, and the server's
 * only worker thread goes on answering. */
static void a_publication_holds_no_worker(void)
{
	struct console_client office;
	struct test_server s;
	sqlite3 *lock = NULL;
	pid_t pid;

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(console_add_user("sipas.db", "office1", "office", NULL, OFFICE_PASSWORD), 0);
	CHECK_INT(test_server_start(&s, "sipas.db", "--threads", "1", NULL), 0);
	CHECK_INT(console_sign_in(&s, "office1", OFFICE_PASSWORD, &office), 0);
	CHECK((lock = test_db_lock("sipas.db")) != NULL);
	CHECK((pid = console_post_aside(&s, &office, "/console/api/publish", "{\"period\":\"2026Q3\"}", 200)) > 0);
	/* the publication is still waiting for the lock, and gets it once free */
	sqlite3_exec(lock, "ROLLBACK", 0, 0, 0);
	sqlite3_close(lock);
	CHECK_INT(console_post_wait(pid), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) > 0 FROM publications WHERE actor = 'office1'"), 1);
	CHECK_INT(test_server_stop(&s), 0);
}

const struct test_case console_ops_tests[] = {
	{ "a_publication_holds_no_worker", a_publication_holds_no_worker },
	{ "devices_pair_repair_and_revoke", devices_pair_repair_and_revoke },
	{ "devices_are_scoped_to_the_agency", devices_are_scoped_to_the_agency },
	{ "imports_a_survey_whole_or_not_at_all", imports_a_survey_whole_or_not_at_all },
	{ "imports_dossiers_for_the_office_only", imports_dossiers_for_the_office_only },
	{ "an_upload_over_the_limit_is_refused_before_its_body", an_upload_over_the_limit_is_refused_before_its_body },
	{ "a_large_upload_is_streamed_to_disk", a_large_upload_is_streamed_to_disk },
	{ "a_slow_upload_gets_the_longer_deadline", a_slow_upload_gets_the_longer_deadline },
	{ "the_quarter_is_previewed_published_and_withdrawn", the_quarter_is_previewed_published_and_withdrawn },
	{ "the_quarter_is_the_office_s", the_quarter_is_the_office_s },
	{ "the_overview_is_sipas_score_within_the_scope", the_overview_is_sipas_score_within_the_scope },
	{ NULL, NULL }
};
