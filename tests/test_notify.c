/*
 * test_notify.c - delivering notifications (docs/monitoring.md,
 * "Notifications"): `sipas notify` and the collector's delivery thread,
 * against a webhook receiver run inside the test (libmicrohttpd on
 * 127.0.0.1, checking each signature with the secret `notify add`
 * printed) and an SMTP server with STARTTLS (Debian's python3-aiosmtpd,
 * started and stopped here).  Every server a case starts is stopped when
 * it ends, also when a check fails: each case's body is a function of its
 * own, and its wrapper stops what it started.
 */
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../lib/secret.h"
#include "../monitor/notify.h"

#define MAX_GOT 64
#define WAIT_SECONDS 40

/* A webhook receiver: answers 500 to the first fail_first requests (all
 * of them with fail_always), 200 after, each after delay_ms; records every
 * request. */
struct receiver {
	struct MHD_Daemon *d;
	int port;
	char secret[128];
	int fail_first, fail_always, delay_ms;
	pthread_mutex_t lock;
	int n;
	struct {
		char delivery[64], event[32];
		int sig_ok, json;
		unsigned status;
	} got[MAX_GOT];
};

struct upload {
	char *data;
	size_t len;
};

/* 1 when header (sha256=HEX) is the HMAC-SHA256 of body under secret. */
static int signature_ok(const char *secret, const char *header, const char *body, size_t len)
{
	uint8_t mac[SECRET_HASH_BYTES];
	char hex[2 * SECRET_HASH_BYTES + 1];
	struct err e;

	if (!header || strncmp(header, "sha256=", 7) != 0)
		return 0;
	if (secret_hmac((const uint8_t *)secret, strlen(secret), body, len, mac, &e) != 0)
		return 0;
	secret_hex(mac, sizeof(mac), hex);
	return strcmp(header + 7, hex) == 0;
}

static enum MHD_Result receive(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *data, size_t *size, void **con_cls)
{
	struct receiver *r = cls;
	struct upload *u = *con_cls;
	struct MHD_Response *resp;
	const char *delivery, *event, *ctype;
	unsigned status;
	enum MHD_Result ret;

	(void)url;
	(void)version;
	(void)method;
	if (!u) {
		*con_cls = calloc(1, sizeof(*u));
		return *con_cls ? MHD_YES : MHD_NO;
	}
	if (*size) {
		char *p = realloc(u->data, u->len + *size + 1);

		if (!p)
			return MHD_NO;
		memcpy(p + u->len, data, *size);
		u->data = p;
		u->len += *size;
		u->data[u->len] = '\0';
		*size = 0;
		return MHD_YES;
	}
	if (r->delay_ms)
		nanosleep(&(struct timespec){ r->delay_ms / 1000, (r->delay_ms % 1000) * 1000000L }, NULL);
	delivery = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Sipas-Delivery");
	event = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Sipas-Event");
	ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	pthread_mutex_lock(&r->lock);
	status = r->fail_always || r->n < r->fail_first ? 500 : 200;
	if (r->n < MAX_GOT) {
		snprintf(r->got[r->n].delivery, sizeof(r->got[0].delivery), "%s", delivery ? delivery : "");
		snprintf(r->got[r->n].event, sizeof(r->got[0].event), "%s", event ? event : "");
		r->got[r->n].sig_ok = signature_ok(r->secret,
						   MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Sipas-Signature"),
						   u->data ? u->data : "", u->len);
		r->got[r->n].json = ctype && strcmp(ctype, "application/json") == 0;
		r->got[r->n].status = status;
	}
	r->n++;
	pthread_mutex_unlock(&r->lock);
	resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void receive_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)conn;
	(void)t;
	if (u) {
		free(u->data);
		free(u);
	}
	*con_cls = NULL;
}

static int receiver_start(struct receiver *r)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pthread_mutex_init(&r->lock, NULL);
	r->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
				receive, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_NOTIFY_COMPLETED, receive_done, NULL, MHD_OPTION_END);
	if (!r->d)
		return -1;
	info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
	r->port = info ? info->port : 0;
	return r->port ? 0 : -1;
}

static void receiver_stop(struct receiver *r)
{
	if (r->d)
		MHD_stop_daemon(r->d);
	r->d = NULL;
}

static int receiver_count(struct receiver *r)
{
	int n;

	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Poll the query sql on ./sipas.db until it yields want, for at most
 * WAIT_SECONDS; 1 when it did. */
static int wait_db(const char *sql, long long want)
{
	for (int i = 0; i < WAIT_SECONDS * 20; i++) {
		if (test_db_int("sipas.db", sql) == want)
			return 1;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	return 0;
}

/* The one text a query yields on ./sipas.db into out ("" when none). */
static void db_text(const char *sql, char *out, size_t size)
{
	char *text = test_db_text("sipas.db", sql);

	snprintf(out, size, "%s", text ? text : "");
	free(text);
}

/* `sipas notify add --all --webhook` to r; the printed secret into
 * r->secret.  0 or -1. */
static int add_webhook(struct receiver *r)
{
	char url[128];
	const struct cmd_result *res;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", r->port);
	res = sipas_run(NULL, "notify", "add", "--all", "--webhook", url, NULL);
	if (res->status != 0 || sscanf(res->out, "%127s", r->secret) != 1) {
		fprintf(stderr, "notify add: %d %s%s\n", res->status, res->out, res->err);
		return -1;
	}
	return 0;
}

/* ---- a signed webhook, reached by `notify test` ---- */

static void webhook_signed(struct receiver *r, struct test_server *s)
{
	const struct cmd_result *res;
	char delivery[64];

	CHECK(test_init_fixture(0) == 0);
	CHECK(add_webhook(r) == 0);
	CHECK_INT(strlen(r->secret), 64);
	CHECK_CONTAINS(sipas_run(NULL, "notify", "add", "--all", "--webhook", "http://127.0.0.1:9/x", NULL)->err,
		       "endpoint 2 added");
	/* the secret is derived, never stored */
	CHECK(!test_file_contains("sipas.db", r->secret));
	CHECK(test_server_start(s, "sipas.db", NULL) == 0);
	res = sipas_run(NULL, "notify", "test", "1", NULL);
	CHECK_INT(res->status, 0);
	CHECK_CONTAINS(res->out, "delivered");
	CHECK_INT(receiver_count(r), 1);
	CHECK(r->got[0].sig_ok);
	CHECK(r->got[0].json);
	CHECK_STR(r->got[0].event, "test");
	db_text("SELECT delivery FROM outbox WHERE endpoint_id = 1", delivery, sizeof(delivery));
	CHECK_INT(strlen(delivery), 32);
	CHECK_STR(r->got[0].delivery, delivery);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox WHERE endpoint_id = 1 AND delivered_at IS NOT NULL "
				       "AND attempts = 1"), 1);
	/* each change is in the audit log */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'notify.add' AND outcome = 'ok'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'notify.test' AND outcome = 'ok'"), 1);
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
}

static void test_webhook_signed(void)
{
	struct receiver r = { 0 };
	struct test_server s = { 0 };

	if (receiver_start(&r) != 0) {
		test_fail(__FILE__, __LINE__, "the receiver did not start");
		return;
	}
	webhook_signed(&r, &s);
	if (s.pid > 0)
		test_server_stop(&s);
	receiver_stop(&r);
}

/* ---- a 500, then a retry under the same delivery id ---- */

static void retry_same_id(struct receiver *r, struct test_server *s)
{
	CHECK(test_init_fixture(0) == 0);
	CHECK(add_webhook(r) == 0);
	CHECK(test_server_start(s, "sipas.db", NULL) == 0);
	CHECK_INT(sipas_run(NULL, "notify", "test", "1", "--wait", "0", NULL)->status, 0);
	CHECK(wait_db("SELECT attempts FROM outbox", 1));
	CHECK(wait_db("SELECT last_error LIKE '%500%' FROM outbox", 1));
	/* backing off: the next try is 30 s on; bring it forward rather than wait */
	CHECK_INT(test_db_int("sipas.db", "SELECT next_at - created_at BETWEEN 30 AND 40 FROM outbox"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT delivered_at IS NULL AND failed_at IS NULL FROM outbox"), 1);
	CHECK(test_db_exec("sipas.db", "UPDATE outbox SET next_at = 0") == 0);
	CHECK(wait_db("SELECT delivered_at IS NOT NULL FROM outbox", 1));
	CHECK_INT(test_db_int("sipas.db", "SELECT attempts FROM outbox"), 2);
	CHECK_INT(receiver_count(r), 2);
	CHECK_INT(r->got[0].status, 500);
	CHECK_INT(r->got[1].status, 200);
	CHECK_STR(r->got[1].delivery, r->got[0].delivery);
	CHECK(r->got[0].sig_ok && r->got[1].sig_ok);
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
}

static void test_retry_same_id(void)
{
	struct receiver r = { .fail_first = 1 };
	struct test_server s = { 0 };

	if (receiver_start(&r) != 0) {
		test_fail(__FILE__, __LINE__, "the receiver did not start");
		return;
	}
	retry_same_id(&r, &s);
	if (s.pid > 0)
		test_server_stop(&s);
	receiver_stop(&r);
}

/* ---- never a 2xx: failed after 24 hours, kept and shown ---- */

static void failed_after_a_day(struct receiver *r, struct test_server *s)
{
	const struct cmd_result *res;
	struct console_client c;
	struct http_result h;
	json_t *failed, *row;
	char delivery[64];
	int ok;

	CHECK(test_init_fixture(0) == 0);
	CHECK(add_webhook(r) == 0);
	CHECK(test_server_start(s, "sipas.db", NULL) == 0);
	res = sipas_run(NULL, "notify", "test", "1", "--wait", "2", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "500");
	CHECK(wait_db("SELECT attempts FROM outbox", 1));
	/* a day of retries, as if it had been: created a day ago, due now */
	CHECK(test_db_exec("sipas.db", "UPDATE outbox SET created_at = created_at - 86400, next_at = 0") == 0);
	CHECK(wait_db("SELECT failed_at IS NOT NULL FROM outbox", 1));
	CHECK_INT(test_db_int("sipas.db", "SELECT attempts FROM outbox"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT delivered_at IS NULL FROM outbox"), 1);
	/* failed is final: no more tries */
	CHECK(test_db_exec("sipas.db", "UPDATE outbox SET next_at = 0") == 0);
	nanosleep(&(struct timespec){ 2, 0 }, NULL);
	CHECK_INT(receiver_count(r), 2);
	db_text("SELECT delivery FROM outbox", delivery, sizeof(delivery));
	res = sipas_run(NULL, "notify", "list", NULL);
	CHECK_INT(res->status, 0);
	CHECK_CONTAINS(res->out, "failed");
	CHECK_CONTAINS(res->out, delivery);
	CHECK_CONTAINS(res->out, "HTTP 500");
	/* and in the console, for the office only */
	CHECK_INT(console_add_user("sipas.db", "office1", "office", NULL, "correct horse battery"), 0);
	CHECK_INT(console_add_user("sipas.db", "agency1", "agency", "SO-XD", "agency one password"), 0);
	CHECK_INT(console_sign_in(s, "office1", "correct horse battery", &c), 0);
	CHECK_INT(console_request(s, &c, 0, "GET", "/console/api/notify/failed", NULL, &h), 200);
	failed = json_loads(h.body, 0, NULL);
	free(h.body);
	row = json_array_get(json_object_get(failed, "failed"), 0);
	ok = row && json_array_size(json_object_get(failed, "failed")) == 1 &&
	     strcmp(json_string_value(json_object_get(row, "delivery")), delivery) == 0 &&
	     strcmp(json_string_value(json_object_get(row, "error")), "HTTP 500") == 0 &&
	     json_integer_value(json_object_get(row, "attempts")) == 2 &&
	     json_integer_value(json_object_get(row, "endpoint")) == 1 &&
	     strcmp(json_string_value(json_object_get(row, "kind")), "webhook") == 0 &&
	     json_is_string(json_object_get(row, "failed_at"));
	json_decref(failed);
	CHECK(ok);
	CHECK_INT(console_sign_in(s, "agency1", "agency one password", &c), 0);
	CHECK_INT(console_request(s, &c, 0, "GET", "/console/api/notify/failed", NULL, &h), 403);
	free(h.body);
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
}

static void test_failed_after_a_day(void)
{
	struct receiver r = { .fail_always = 1 };
	struct test_server s = { 0 };

	if (receiver_start(&r) != 0) {
		test_fail(__FILE__, __LINE__, "the receiver did not start");
		return;
	}
	failed_after_a_day(&r, &s);
	if (s.pid > 0)
		test_server_stop(&s);
	receiver_stop(&r);
}

/* ---- each delivered once across a graceful restart ---- */

#define RESTART_ROWS 6
#define STR_(x) #x
#define STR(x) STR_(x)

static void once_across_restart(struct receiver *r, struct test_server *s)
{
	CHECK(test_init_fixture(0) == 0);
	CHECK(add_webhook(r) == 0);
	CHECK(test_server_start(s, "sipas.db", NULL) == 0);
	/* queued at once, as the alert engine's transaction does */
	CHECK(test_db_exec("sipas.db", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " STR(RESTART_ROWS) ") "
			"INSERT INTO outbox(delivery, endpoint_id, event, body, created_at, next_at) "
			"SELECT lower(hex(randomblob(16))), 1, 'test', '{\"event\":\"test\",\"n\":' || i || '}', "
			"strftime('%s', 'now'), 0 FROM n") == 0);
	/* stop it while it delivers (each answer takes 500 ms) */
	for (int i = 0; i < WAIT_SECONDS * 100 && receiver_count(r) < 2; i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	CHECK(receiver_count(r) >= 2);
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
	CHECK(receiver_count(r) < RESTART_ROWS);
	CHECK(test_server_start(s, "sipas.db", NULL) == 0);
	CHECK(wait_db("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL", RESTART_ROWS));
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
	CHECK_INT(receiver_count(r), RESTART_ROWS);
	for (int i = 0; i < RESTART_ROWS; i++) {
		CHECK(r->got[i].sig_ok);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(r->got[i].delivery, r->got[j].delivery) != 0);
	}
	CHECK_INT(test_db_int("sipas.db", "SELECT count(DISTINCT delivery) FROM outbox WHERE attempts = 1"), RESTART_ROWS);
}

static void test_once_across_restart(void)
{
	struct receiver r = { .delay_ms = 500 };
	struct test_server s = { 0 };

	if (receiver_start(&r) != 0) {
		test_fail(__FILE__, __LINE__, "the receiver did not start");
		return;
	}
	once_across_restart(&r, &s);
	if (s.pid > 0)
		test_server_stop(&s);
	receiver_stop(&r);
}

/* ---- e-mail through SMTP with STARTTLS ---- */

/* python3 -m aiosmtpd on 127.0.0.1:port, with tls requiring STARTTLS
 * with cert.pem/key.pem (else offering no TLS at all), printing each
 * message to smtp.out; its pid (in its own process group, listed for the
 * runner), or -1. */
static pid_t smtp_start(int port, int tls)
{
	static char py[] = "/usr/bin/python3";
	char listen[32];
	char *argv[] = { py, (char *)"-u", (char *)"-m", (char *)"aiosmtpd", (char *)"-n", (char *)"-l", listen,
			 (char *)"--tlscert", (char *)"cert.pem", (char *)"--tlskey", (char *)"key.pem", NULL };
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if (!tls)
		argv[7] = NULL;
	pid = test_helper_start("smtp.out", argv);
	if (pid > 0 && !test_port_ready(port)) {
		test_helper_stop(pid);
		pid = -1;
	}
	return pid;
}

/* An alert as the alert engine queues it (docs/monitoring.md, "Alerts"). */
#define ALERT_BODY \
	"{\"event\":\"alert.opened\",\"alert\":{\"id\":7,\"kind\":\"low_satisfaction\",\"agency\":\"SO-XD\"," \
	"\"sector\":\"xay-dung\",\"device\":\"k3f9\",\"counter\":\"Counter 1\"," \
	"\"opened_at\":\"2026-12-02T09:10:00+07:00\",\"closed_at\":null," \
	"\"evidence\":{\"ratings\":40,\"satisfied\":31,\"share\":0.775,\"lo\":0.625,\"hi\":0.877,\"cusum\":4.12}}}"

static void smtp_mail(struct test_server *s, pid_t *smtp)
{
	char url[64];
	int port = test_free_port();
	char *mail;

	CHECK(test_init_fixture(0) == 0);
	CHECK_INT(test_make_cert(), 0);
	CHECK(port > 0);
	*smtp = smtp_start(port, 1);
	CHECK(*smtp > 0);
	CHECK_INT(sipas_run(NULL, "notify", "add", "--agency", "SO-XD", "--email", "truong.phong@so-xd.example.vn",
			    NULL)->status, 0);
	CHECK(test_db_exec("sipas.db", "INSERT INTO outbox(delivery, endpoint_id, event, body, created_at, next_at) VALUES "
			"('00112233445566778899aabbccddeeff', 1, 'alert.opened', '" ALERT_BODY "', "
			"strftime('%s', 'now'), 0)") == 0);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	CHECK(test_server_start(s, "sipas.db", "--smtp-url", url, "--smtp-from", "sipas@so-xd.example.vn",
				"--smtp-ca", "cert.pem", NULL) == 0);
	CHECK(wait_db("SELECT delivered_at IS NOT NULL FROM outbox", 1));
	CHECK_INT(sipas_run(NULL, "notify", "test", "1", NULL)->status, 0);
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
	test_helper_stop(*smtp);
	*smtp = 0;
	mail = test_read("smtp.out");
	CHECK(mail != NULL);
	if (!strstr(mail, "Subject: sipas: low_satisfaction opened at SO-XD (xay-dung), Counter 1") ||
	    !strstr(mail, "To: truong.phong@so-xd.example.vn") || !strstr(mail, "From: sipas@so-xd.example.vn") ||
	    !strstr(mail, "cusum: 4.12") || !strstr(mail, "Opened: 2026-12-02T09:10:00+07:00") || !strstr(mail, "ratings: 40") || !strstr(mail, "share: 0.775") ||
	    !strstr(mail, "X-Sipas-Delivery: 00112233445566778899aabbccddeeff") ||
	    !strstr(mail, "Subject: sipas: test notification")) {
		test_fail(__FILE__, __LINE__, "the mails received lack what was sent:\n%s", mail);
		free(mail);
		return;
	}
	free(mail);
}

static void test_smtp_mail(void)
{
	struct test_server s = { 0 };
	pid_t smtp = 0;

	smtp_mail(&s, &smtp);
	if (s.pid > 0)
		test_server_stop(&s);
	test_helper_stop(smtp);
}

/* STARTTLS is required: a server that offers none gets nothing, unless
 * it is on this machine and --smtp-plain says so. */
static void smtp_needs_starttls(struct test_server *s, pid_t *smtp)
{
	const struct cmd_result *res;
	char url[64];
	char *mail;
	int port = test_free_port();

	CHECK(test_init_fixture(0) == 0);
	res = sipas_run(NULL, "serve", "--smtp-url", "smtp://mail.example.vn:587", "--smtp-from", "a@b.vn",
			"--smtp-plain", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--smtp-plain");
	res = sipas_run(NULL, "serve", "--smtp-url", "smtp://127.0.0.1:25", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--smtp-from");
	res = sipas_run(NULL, "serve", "--smtp-url", "http://127.0.0.1:25", "--smtp-from", "a@b.vn", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--smtp-url");
	res = sipas_run(NULL, "serve", "--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "a@b.vn",
			"--smtp-user", "u", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--smtp-password-file");
	res = sipas_run(NULL, "serve", "--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "a@b.vn", "--smtp-user", "u",
			"--smtp-password-file", "no-such-file", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--smtp-password-file no-such-file");
	CHECK_INT(test_write("empty-password", "\n"), 0);
	res = sipas_run(NULL, "serve", "--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "a@b.vn", "--smtp-user", "u",
			"--smtp-password-file", "empty-password", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "the password is its first line");
	res = sipas_run(NULL, "serve", "--smtp-url", "smtp://127.0.0.1:25", "--smtp-from", "a@b.vn", "--smtp-ca",
			"no-such-ca.pem", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--smtp-ca no-such-ca.pem");
	res = sipas_run(NULL, "serve", "--smtp-from", "a@b.vn", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "go with --smtp-url");

	CHECK(port > 0);
	*smtp = smtp_start(port, 0);
	CHECK(*smtp > 0);
	CHECK_INT(sipas_run(NULL, "notify", "add", "--all", "--email", "a@so-xd.example.vn", NULL)->status, 0);
	/* without an SMTP server the collector says at start that nothing mails it */
	CHECK(test_server_start(s, "sipas.db", NULL) == 0);
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
	CHECK(test_file_contains("server.log", "1 e-mail endpoint but no --smtp-url"));
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	CHECK(test_server_start(s, "sipas.db", "--smtp-url", url, "--smtp-from", "sipas@so-xd.example.vn", NULL) == 0);
	res = sipas_run(NULL, "notify", "test", "1", "--wait", "20", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "STARTTLS");
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
	/* the operator says the relay is local: in clear it goes */
	CHECK(test_server_start(s, "sipas.db", "--smtp-url", url, "--smtp-from", "sipas@so-xd.example.vn",
				"--smtp-plain", NULL) == 0);
	CHECK(test_db_exec("sipas.db", "UPDATE outbox SET next_at = 0") == 0);
	CHECK(wait_db("SELECT delivered_at IS NOT NULL FROM outbox", 1));
	CHECK_INT(test_server_stop(s), 0);
	s->pid = 0;
	test_helper_stop(*smtp);
	*smtp = 0;
	mail = test_read("smtp.out");
	CHECK(mail != NULL);
	if (strstr(mail, "Subject: sipas: test notification for all agencies") == NULL) {
		test_fail(__FILE__, __LINE__, "no test mail received:\n%s", mail);
		free(mail);
		return;
	}
	free(mail);
}

static void test_smtp_needs_starttls(void)
{
	struct test_server s = { 0 };
	pid_t smtp = 0;

	smtp_needs_starttls(&s, &smtp);
	if (s.pid > 0)
		test_server_stop(&s);
	test_helper_stop(smtp);
}

/* ---- the command's errors ---- */

static void test_add_errors_name_the_option(void)
{
	static const struct {
		const char *opt, *value, *says;
	} bad[] = {
		{ "--webhook", "ftp://127.0.0.1/x", "--webhook" },
		{ "--webhook", "http://", "--webhook" },
		{ "--webhook", "https://user:pw@example.vn/x", "--webhook" },
		{ "--webhook", "http://example.vn/a b", "--webhook" },
		{ "--email", "nobody", "--email" },
		{ "--email", "a@b@example.vn", "--email" },
		{ "--email", "a@example.vn\r\nBcc: x@y.vn", "--email" },
		{ "--email", "a@", "--email" },
	};
	const struct cmd_result *res;

	CHECK(test_init_fixture(0) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		res = sipas_run(NULL, "notify", "add", "--all", bad[i].opt, bad[i].value, NULL);
		if (res->status != 1 || !strstr(res->err, bad[i].says)) {
			test_fail(__FILE__, __LINE__, "%s '%s': status %d, stderr '%s'", bad[i].opt, bad[i].value,
				  res->status, res->err);
			return;
		}
	}
	res = sipas_run(NULL, "notify", "add", "--agency", "NO-SUCH", "--email", "a@example.vn", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--agency");
	res = sipas_run(NULL, "notify", "add", "--email", "a@example.vn", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--agency");
	res = sipas_run(NULL, "notify", "add", "--all", "--email", "a@example.vn", "--webhook", "http://x.vn", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "--webhook");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM notify_endpoints"), 0);
	/* a refused add is recorded, with why */
	CHECK(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'notify.add' AND outcome != 'ok'") >= 1);

	/* remove: gone from the list, its pending deliveries kept as failed */
	CHECK_INT(sipas_run(NULL, "notify", "add", "--agency", "SO-XD", "--email", "a@example.vn", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "notify", "test", "1", "--wait", "0", NULL)->status, 0);
	CHECK_CONTAINS(sipas_run(NULL, "notify", "list", NULL)->out, "a@example.vn");
	CHECK_CONTAINS(sipas_run(NULL, "notify", "list", NULL)->out, "SO-XD");
	CHECK_INT(sipas_run(NULL, "notify", "remove", "1", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL "
				       "AND last_error LIKE '%removed%'"), 1);
	res = sipas_run(NULL, "notify", "remove", "1", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "no endpoint 1");
	res = sipas_run(NULL, "notify", "test", "9", NULL);
	CHECK_INT(res->status, 1);
	CHECK_CONTAINS(res->err, "no endpoint 9");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'notify.remove' AND outcome = 'ok'"), 1);
}

/* ---- which endpoints hear of an alert ---- */

static void test_alert_reaches_its_endpoints(void)
{
	sqlite3 *db = NULL;
	long long queued = -1, agency = 0;
	char ids[64];
	struct err e;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);   /* the shipped registry: SO-XD is under UBND-TP */
	CHECK_INT(sipas_run(NULL, "notify", "add", "--all", "--email", "all@example.vn", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "notify", "add", "--agency", "SO-XD", "--email", "xd@example.vn", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "notify", "add", "--agency", "SO-TP", "--email", "tp@example.vn", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "notify", "add", "--agency", "UBND-TP", "--email", "tp-ub@example.vn", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "notify", "add", "--agency", "SO-XD", "--email", "old@example.vn", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "notify", "remove", "5", NULL)->status, 0);
	agency = test_db_int("sipas.db", "SELECT id FROM agencies WHERE code = 'SO-XD'");
	CHECK(agency > 0);
	err_clear(&e);
	CHECK_INT(db_open("sipas.db", 0, &db, &e), 0);
	CHECK_INT(db_exec(db, "BEGIN IMMEDIATE", &e), 0);
	CHECK_INT(notify_queue_alert(db, agency, 0, "alert.opened", ALERT_BODY, 1764700000, &queued, &e), 0);
	CHECK_INT(db_exec(db, "COMMIT", &e), 0);
	db_close(db);
	CHECK_INT(queued, 3);
	db_text("SELECT group_concat(endpoint_id) FROM (SELECT endpoint_id FROM outbox ORDER BY endpoint_id)", ids,
		sizeof(ids));
	CHECK_STR(ids, "1,2,4");
	CHECK_INT(test_db_int("sipas.db", "SELECT count(DISTINCT delivery) FROM outbox WHERE event = 'alert.opened' "
				       "AND next_at = 1764700000 AND body LIKE '%low_satisfaction%'"), 3);
}

const struct test_case notify_tests[] = {
	{ "webhook_signed", test_webhook_signed },
	{ "retry_same_id", test_retry_same_id },
	{ "failed_after_a_day", test_failed_after_a_day },
	{ "once_across_restart", test_once_across_restart },
	{ "smtp_mail", test_smtp_mail },
	{ "smtp_needs_starttls", test_smtp_needs_starttls },
	{ "add_errors_name_the_option", test_add_errors_name_the_option },
	{ "alert_reaches_its_endpoints", test_alert_reaches_its_endpoints },
	{ NULL, NULL }
};
