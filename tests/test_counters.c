/*
 * test_counters.c - ratings per counter and per officer on duty, with a real
 * server on 127.0.0.1 and the real database file: the device that posted
 * each kiosk rating (single posts and batches; none for a phone link), the
 * officer set by the kiosk's staff mode (POST /api/kiosk/shift) carried
 * until changed or until the day ends, codes refused with nothing changed,
 * the kiosk's heartbeat (POST /api/kiosk/heartbeat) and its count of a
 * growing queue, the limits of both routes, and `sipas staff`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"

/* A server on a new database, and a kiosk of P-HONGBANG (sectors dat-dai
 * and xay-dung) whose token is in token[128]. */
static int start_with_a_kiosk(struct test_server *s, char *token)
{
	const struct cmd_result *r;

	if (sipas_run(NULL, "init", NULL)->status != 0)
		return -1;
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 1", "--sector", "dat-dai",
		      "--sector", "xay-dung", NULL);
	if (r->status != 0 || strlen(r->out) < 20)
		return -1;
	snprintf(token, 128, "%.*s", (int)strcspn(r->out, "\n"), r->out);
	return test_server_start(s, "sipas.db", NULL);
}

/* Vietnam time `days_ago` days before now, as ISO 8601 into out[32]. */
static void vietnam_time(int days_ago, char *out)
{
	time_t t = time(NULL) + 7 * 3600 - (time_t)days_ago * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+07:00", &tm);
}

/* A kiosk rating's JSON: id, the overall face, days_ago as in vietnam_time. */
static void rating_json(char *out, size_t n, const char *id, int face, int days_ago)
{
	char when[32];

	vietnam_time(days_ago, when);
	snprintf(out, n, "{\"response_id\":\"%s\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\","
		 "\"sector\":\"dat-dai\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":%d}}", id, when, face);
}

/* POST one kiosk rating; returns the HTTP status. */
static long post_rating(const struct test_server *s, const char *token, const char *id, int days_ago)
{
	struct http_result h;
	char body[512];
	long status;

	rating_json(body, sizeof(body), id, 3, days_ago);
	status = test_request(s, "POST", "/api/responses", token, body, &h);
	free(h.body);
	return status;
}

/* POST body to path with token; returns the status, the reply in h (free h->body). */
static long kiosk_post(const struct test_server *s, const char *token, const char *path, const char *body,
		       struct http_result *h)
{
	return test_request(s, "POST", path, token, body, h);
}

/* Run an SQL statement on sipas.db from outside the server; 0 or -1. */
static int db_exec_sql(const char *sql)
{
	sqlite3 *db;
	int rc = sqlite3_open("sipas.db", &db) == SQLITE_OK &&
		 sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;

	sqlite3_close(db);
	return rc;
}

/* The code of the officer stored with rating `id` ("" for none) into out[16]. */
static void officer_of(const char *id, char *out)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;

	out[0] = '\0';
	if (sqlite3_open("sipas.db", &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT s.code FROM responses r LEFT JOIN staff s ON s.id = r.officer_id "
			       "WHERE r.response_id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(out, 16, "%s", sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
									   : "");
		else
			snprintf(out, 16, "?missing");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

#define CHECK_OFFICER(id, code) do { \
	char got_[16]; \
	officer_of(id, got_); \
	CHECK_STR(got_, code); \
} while (0)

/* Kiosk posts, single and batched, store the kiosk that sent them; a
 * phone's rating through its signed link stores none. */
static void kiosk_ratings_store_their_device_and_phone_ratings_none(void)
{
	struct test_server s;
	struct http_result h;
	char token[128], other[128], a[512], b[512], batch[1200], path[512], body[512], sig[80], when[32];
	const struct cmd_result *r;
	long long exp;
	const char *q;

	CHECK_INT(start_with_a_kiosk(&s, token), 0);
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 2", "--sector", "dat-dai",
		      NULL);
	CHECK_INT(r->status, 0);
	snprintf(other, sizeof(other), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(post_rating(&s, token, "K-1", 0), 201);
	CHECK_INT(post_rating(&s, other, "K-2", 0), 201);
	rating_json(a, sizeof(a), "K-3", 1, 0);
	rating_json(b, sizeof(b), "K-4", 2, 1);
	snprintf(batch, sizeof(batch), "{\"responses\":[%s,%s]}", a, b);
	CHECK_INT(kiosk_post(&s, token, "/api/responses/batch", batch, &h), 200);
	CHECK_CONTAINS(h.body, "\"status\":201");
	free(h.body);
	/* a phone rating, through the link `sipas link` prints */
	r = sipas_run(NULL, "link", "--form", "sipas-2017", "--agency", "P-HONGBANG", "--sector", "dat-dai",
		      "--dossier", "HS-1", NULL);
	CHECK_INT(r->status, 0);
	q = strstr(r->out, "&exp=");
	CHECK(q && sscanf(q, "&exp=%lld&sig=%64s", &exp, sig) == 2);
	snprintf(path, sizeof(path), "/api/responses?form=sipas-2017&agency=P-HONGBANG&sector=dat-dai"
		 "&dossier=HS-1&exp=%lld&sig=%s", exp, sig);
	vietnam_time(0, when);
	snprintf(body, sizeof(body), "{\"response_id\":\"P-1\",\"form\":\"sipas-2017\",\"agency\":\"P-HONGBANG\","
		 "\"sector\":\"dat-dai\",\"submitted_at\":\"%s\",\"dossier_code\":\"HS-1\",\"answers\":{\"overall\":5}}",
		 when);
	CHECK_INT(test_request(&s, "POST", path, NULL, body, &h), 201);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 5);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE device_id = 1 AND "
			      "response_id IN ('K-1','K-3','K-4')"), 3);
	CHECK_INT(test_db_int("sipas.db", "SELECT device_id FROM responses WHERE response_id = 'K-2'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE response_id = 'P-1' AND "
			      "device_id IS NULL AND officer_id IS NULL"), 1);
	/* no shift was set: no officer */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE officer_id IS NOT NULL"), 0);
}

/* Add the staff the shift tests use: A1 and B2 (and a disabled C3) at
 * P-HONGBANG, D4 at SO-XD.  0 or -1. */
static int add_staff(void)
{
	static const char *const rows[][3] = {
		{ "P-HONGBANG", "A1", "Nguyễn Văn An" }, { "P-HONGBANG", "B2", "Trần Thị Bình" },
		{ "P-HONGBANG", "C3", "Lê Văn Cường" }, { "SO-XD", "D4", "Phạm Thị Dung" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (sipas_run(NULL, "staff", "add", "--agency", rows[i][0], "--code", rows[i][1], "--name", rows[i][2],
			      NULL)->status != 0)
			return -1;
	return sipas_run(NULL, "staff", "disable", "--agency", "P-HONGBANG", "--code", "C3", NULL)->status == 0 ? 0
														  : -1;
}

/* The officer set in staff mode goes with every rating of the kiosk until
 * another is set, the shift is ended, or the day is over; a rating given
 * on another day than the shift's carries none. */
static void the_officer_on_duty_is_carried_until_changed_or_the_day_ends(void)
{
	struct test_server s;
	struct http_result h;
	char token[128], first[512], a[512], b[512], batch[1200];

	CHECK_INT(start_with_a_kiosk(&s, token), 0);
	CHECK_INT(add_staff(), 0);
	/* a code is taken whatever its letters' case; the answer names the officer */
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":\"a1\"}", &h), 200);
	CHECK_CONTAINS(h.body, "\"code\":\"A1\"");
	CHECK_CONTAINS(h.body, "\"name\":\"Nguyễn Văn An\"");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT officer_day - (strftime('%s','now') + 25200) / 86400 FROM devices "
			      "WHERE id = 1"), 0);
	rating_json(first, sizeof(first), "K-1", 3, 0);
	CHECK_INT(kiosk_post(&s, token, "/api/responses", first, &h), 201);
	free(h.body);
	rating_json(a, sizeof(a), "K-2", 1, 0);
	rating_json(b, sizeof(b), "K-3", 3, 0);
	snprintf(batch, sizeof(batch), "{\"responses\":[%s,%s]}", a, b);
	CHECK_INT(kiosk_post(&s, token, "/api/responses/batch", batch, &h), 200);
	free(h.body);
	/* a rating the tablet queued yesterday was not given during today's shift */
	CHECK_INT(post_rating(&s, token, "K-4", 1), 201);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":\"B2\"}", &h), 200);
	CHECK_CONTAINS(h.body, "Trần Thị Bình");
	free(h.body);
	CHECK_INT(post_rating(&s, token, "K-5", 0), 201);
	/* the shift was set yesterday: today's ratings carry nobody */
	CHECK_INT(db_exec_sql("UPDATE devices SET officer_day = officer_day - 1 WHERE id = 1"), 0);
	CHECK_INT(post_rating(&s, token, "K-6", 0), 201);
	/* set again, then ended */
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":\"A1\"}", &h), 200);
	free(h.body);
	CHECK_INT(post_rating(&s, token, "K-7", 0), 201);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":null}", &h), 200);
	CHECK_CONTAINS(h.body, "\"officer\":null");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE id = 1 AND officer_id IS NULL"), 1);
	CHECK_INT(post_rating(&s, token, "K-8", 0), 201);
	/* a re-sent rating (the very same body: its time is part of its content)
	 * is a duplicate and keeps what it was stored with */
	CHECK_INT(kiosk_post(&s, token, "/api/responses", first, &h), 200);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_OFFICER("K-1", "A1");
	CHECK_OFFICER("K-2", "A1");
	CHECK_OFFICER("K-3", "A1");
	CHECK_OFFICER("K-4", "");
	CHECK_OFFICER("K-5", "B2");
	CHECK_OFFICER("K-6", "");
	CHECK_OFFICER("K-7", "A1");
	CHECK_OFFICER("K-8", "");
}

/* A code that is not a registered, active officer of the kiosk's agency
 * is refused 422 naming the field, and the shift stays as it was; bodies
 * that are not {"officer": string|null} are 400 naming it; the routes take
 * only a kiosk token and a small body. */
static void a_shift_refuses_codes_not_of_the_kiosks_agency_and_changes_nothing(void)
{
	struct test_server s;
	struct http_result h;
	char token[128], *big;
	const char *codes[] = { "ZZ9", "C3", "D4" };
	const char *bad[] = { "{}", "{\"officer\":5}", "{\"officer\":\"A1\",\"x\":1}", "[\"A1\"]", "{\"officer\":\"\"}",
			      "{\"officer\":\"A 1\"}" };
	const struct cmd_result *r;

	CHECK_INT(start_with_a_kiosk(&s, token), 0);
	CHECK_INT(add_staff(), 0);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":\"A1\"}", &h), 200);
	free(h.body);
	CHECK_INT(db_exec_sql("UPDATE devices SET officer_day = 12345 WHERE id = 1"), 0);
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		char body[64];

		snprintf(body, sizeof(body), "{\"officer\":\"%s\"}", codes[i]);
		CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", body, &h), 422);
		CHECK_CONTAINS(h.body, "\"field\":\"officer\"");
		CHECK_CONTAINS(h.body, codes[i]);
		free(h.body);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", bad[i], &h), 400);
		CHECK_CONTAINS(h.body, "\"field\":\"officer\"");
		free(h.body);
	}
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":", &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"body\"");
	free(h.body);
	/* nothing changed: still A1, still the same day */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices d JOIN staff s ON s.id = d.officer_id "
			      "WHERE d.id = 1 AND s.code = 'A1' AND d.officer_day = 12345"), 1);
	/* credentials first; an admin token is not a kiosk */
	CHECK_INT(kiosk_post(&s, NULL, "/api/kiosk/shift", "{\"officer\":\"A1\"}", &h), 401);
	free(h.body);
	r = sipas_run(NULL, "device", "add", "--admin", "--counter", "ops", NULL);
	CHECK_INT(r->status, 0);
	{
		char admin[128];

		snprintf(admin, sizeof(admin), "%.*s", (int)strcspn(r->out, "\n"), r->out);
		CHECK_INT(kiosk_post(&s, admin, "/api/kiosk/shift", "{\"officer\":\"A1\"}", &h), 403);
		free(h.body);
		CHECK_INT(kiosk_post(&s, admin, "/api/kiosk/heartbeat", "{\"queued\":1}", &h), 403);
		free(h.body);
	}
	/* a body over 64 KiB is refused from its length */
	big = malloc(70000);
	CHECK(big);
	memset(big, ' ', 69999);
	big[69999] = '\0';
	memcpy(big, "{\"officer\":\"A1\"", 15);
	big[69998] = '}';
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", big, &h), 413);
	free(h.body);
	memcpy(big, "{\"queued\":1    ", 15);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/heartbeat", big, &h), 413);
	free(h.body);
	free(big);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices d JOIN staff s ON s.id = d.officer_id "
			      "WHERE d.id = 1 AND s.code = 'A1' AND d.officer_day = 12345"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE heartbeat_at IS NOT NULL"), 0);
}

/* A heartbeat notes when the kiosk was last heard of and how many ratings
 * wait in its queue; queue_growing counts heartbeats in a row whose queue
 * is longer than the one before, and falls to 0 when it is not.  Its
 * answer says who is on duty. */
static void heartbeats_count_a_growing_queue_and_reset(void)
{
	struct test_server s;
	struct http_result h;
	char token[128], body[64];
	static const struct { int queued, growing; } beats[] = {
		{ 0, 0 }, { 3, 1 }, { 5, 2 }, { 5, 0 }, { 2, 0 }, { 7, 1 }, { 0, 0 },
	};
	const char *bad[] = { "{\"queued\":-1}", "{\"queued\":1.5}", "{\"queued\":\"3\"}", "{}", "{\"queued\":null}",
			      "{\"queued\":1,\"x\":2}", "{\"queued\":10000000000}" };

	CHECK_INT(start_with_a_kiosk(&s, token), 0);
	CHECK_INT(add_staff(), 0);
	for (size_t i = 0; i < sizeof(beats) / sizeof(beats[0]); i++) {
		snprintf(body, sizeof(body), "{\"queued\":%d}", beats[i].queued);
		CHECK_INT(kiosk_post(&s, token, "/api/kiosk/heartbeat", body, &h), 200);
		CHECK_CONTAINS(h.body, "\"officer\":null");
		free(h.body);
		CHECK_INT(test_db_int("sipas.db", "SELECT queued FROM devices WHERE id = 1"), beats[i].queued);
		CHECK_INT(test_db_int("sipas.db", "SELECT queue_growing FROM devices WHERE id = 1"), beats[i].growing);
	}
	CHECK(test_db_int("sipas.db", "SELECT abs(heartbeat_at - strftime('%s','now')) FROM devices WHERE id = 1") < 30);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(kiosk_post(&s, token, "/api/kiosk/heartbeat", bad[i], &h), 400);
		CHECK_CONTAINS(h.body, "\"field\":\"queued\"");
		free(h.body);
	}
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/heartbeat", "queued=1", &h), 400);
	free(h.body);
	/* refused heartbeats changed nothing */
	CHECK_INT(test_db_int("sipas.db", "SELECT queued FROM devices WHERE id = 1"), 0);
	/* with a shift set, the heartbeat's answer names the officer (the staff mode shows it) */
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":\"B2\"}", &h), 200);
	free(h.body);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/heartbeat", "{\"queued\":4}", &h), 200);
	CHECK_CONTAINS(h.body, "\"code\":\"B2\"");
	CHECK_CONTAINS(h.body, "Trần Thị Bình");
	free(h.body);
	CHECK_INT(test_db_int("sipas.db", "SELECT queue_growing FROM devices WHERE id = 1"), 1);
	CHECK_INT(test_server_stop(&s), 0);
	/* the routes are listed */
	CHECK_INT(test_server_start(&s, "sipas.db", NULL), 0);
	CHECK_INT(test_request(&s, "GET", "/api", NULL, NULL, &h), 200);
	CHECK_CONTAINS(h.body, "/api/kiosk/shift");
	CHECK_CONTAINS(h.body, "/api/kiosk/heartbeat");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
}

/* A shift and a heartbeat each spend one of the kiosk's --device-rate, as
 * a rating does: once a full batch has taken the burst, both get 429. */
static void shift_and_heartbeat_spend_the_kiosks_rate(void)
{
	struct test_server s;
	struct http_result h;
	char token[128], one[512], *batch;
	size_t n, cap = 500 * sizeof(one) + 64;
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 1", "--sector", "dat-dai", NULL);
	CHECK_INT(r->status, 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(test_server_start(&s, "sipas.db", "--device-rate", "1", NULL), 0);   /* 1 a minute, bursts of 500 */
	batch = malloc(cap);
	CHECK(batch);
	n = (size_t)snprintf(batch, cap, "{\"responses\":[");
	for (int i = 0; i < 500; i++) {
		char id[16];

		snprintf(id, sizeof(id), "K-%d", i);
		rating_json(one, sizeof(one), id, 3, 0);
		n += (size_t)snprintf(batch + n, cap - n, "%s%s", i ? "," : "", one);
	}
	snprintf(batch + n, cap - n, "]}");
	CHECK_INT(kiosk_post(&s, token, "/api/responses/batch", batch, &h), 200);
	free(h.body);
	free(batch);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/heartbeat", "{\"queued\":0}", &h), 429);
	CHECK_CONTAINS(h.headers, "Retry-After: ");
	free(h.body);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":null}", &h), 429);
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE heartbeat_at IS NOT NULL"), 0);
}

/* `sipas staff add|list|disable`: codes unique per agency, errors naming
 * the option, every change and refusal in the audit log. */
static void staff_cli_adds_lists_and_disables_with_clear_errors_audited(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "staff", "add", "--agency", "P-HONGBANG", "--code", "cb-01", "--name", "Nguyễn Văn An", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "CB-01");
	/* the same code at the same agency, whatever its case, is refused */
	r = sipas_run(NULL, "staff", "add", "--agency", "P-HONGBANG", "--code", "CB-01", "--name", "Người khác", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--code");
	CHECK_CONTAINS(r->err, "CB-01");
	/* another agency may use it */
	CHECK_INT(sipas_run(NULL, "staff", "add", "--agency", "SO-XD", "--code", "CB-01", "--name", "Trần Thị Bình",
			    NULL)->status, 0);
	r = sipas_run(NULL, "staff", "add", "--agency", "NOWHERE", "--code", "X1", "--name", "Ai đó", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--agency");
	CHECK_CONTAINS(r->err, "NOWHERE");
	r = sipas_run(NULL, "staff", "add", "--agency", "SO-XD", "--code", "a b", "--name", "Ai đó", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--code");
	r = sipas_run(NULL, "staff", "add", "--agency", "SO-XD", "--code", "X1", "--name", "two\nlines", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--name");
	r = sipas_run(NULL, "staff", "add", "--agency", "SO-XD", "--code", "X1", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--name");
	CHECK_INT(sipas_run(NULL, "staff", "frobnicate", NULL)->status, 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM staff"), 2);
	/* list, all or one agency's */
	r = sipas_run(NULL, "staff", "list", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "Nguyễn Văn An");
	CHECK_CONTAINS(r->out, "Trần Thị Bình");
	r = sipas_run(NULL, "staff", "list", "--agency", "SO-XD", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "Trần Thị Bình");
	CHECK(!strstr(r->out, "Nguyễn Văn An"));
	/* disable: once; an unknown code names --code */
	CHECK_INT(sipas_run(NULL, "staff", "disable", "--agency", "P-HONGBANG", "--code", "cb-01", NULL)->status, 0);
	r = sipas_run(NULL, "staff", "list", "--agency", "P-HONGBANG", NULL);
	CHECK_CONTAINS(r->out, "disabled");
	r = sipas_run(NULL, "staff", "disable", "--agency", "P-HONGBANG", "--code", "CB-01", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "disabled");
	r = sipas_run(NULL, "staff", "disable", "--agency", "P-HONGBANG", "--code", "ZZ", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--code");
	/* a disabled code stays taken: its ratings name it */
	CHECK_INT(sipas_run(NULL, "staff", "add", "--agency", "P-HONGBANG", "--code", "CB-01", "--name", "Mới", NULL)->status,
		  1);
	/* audited: each change, and each refusal with why */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'staff.add' AND outcome = 'ok' "
			      "AND actor LIKE 'cli:%' AND subject IN ('P-HONGBANG CB-01', 'SO-XD CB-01')"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'staff.add' AND outcome <> 'ok'"), 5);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'staff.disable' AND outcome = 'ok' "
			      "AND subject = 'P-HONGBANG CB-01'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'staff.disable' AND outcome <> 'ok'"),
		  2);
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
	CHECK_CONTAINS(sipas_run(NULL, "staff", "--help", NULL)->out, "usage: sipas staff add");
}

/* Disabling an officer ends the shifts they are on: the kiosk's next
 * ratings carry nobody. */
static void disabling_an_officer_ends_their_shift(void)
{
	struct test_server s;
	struct http_result h;
	char token[128];

	CHECK_INT(start_with_a_kiosk(&s, token), 0);
	CHECK_INT(add_staff(), 0);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/shift", "{\"officer\":\"A1\"}", &h), 200);
	free(h.body);
	CHECK_INT(post_rating(&s, token, "K-1", 0), 201);
	CHECK_INT(sipas_run(NULL, "staff", "disable", "--agency", "P-HONGBANG", "--code", "A1", NULL)->status, 0);
	CHECK_INT(post_rating(&s, token, "K-2", 0), 201);
	CHECK_INT(kiosk_post(&s, token, "/api/kiosk/heartbeat", "{\"queued\":0}", &h), 200);
	CHECK_CONTAINS(h.body, "\"officer\":null");
	free(h.body);
	CHECK_INT(test_server_stop(&s), 0);
	CHECK_OFFICER("K-1", "A1");
	CHECK_OFFICER("K-2", "");
}

const struct test_case counters_tests[] = {
	{ "kiosk_ratings_store_their_device_and_phone_ratings_none", kiosk_ratings_store_their_device_and_phone_ratings_none },
	{ "the_officer_on_duty_is_carried_until_changed_or_the_day_ends",
	  the_officer_on_duty_is_carried_until_changed_or_the_day_ends },
	{ "a_shift_refuses_codes_not_of_the_kiosks_agency_and_changes_nothing",
	  a_shift_refuses_codes_not_of_the_kiosks_agency_and_changes_nothing },
	{ "heartbeats_count_a_growing_queue_and_reset", heartbeats_count_a_growing_queue_and_reset },
	{ "shift_and_heartbeat_spend_the_kiosks_rate", shift_and_heartbeat_spend_the_kiosks_rate },
	{ "staff_cli_adds_lists_and_disables_with_clear_errors_audited",
	  staff_cli_adds_lists_and_disables_with_clear_errors_audited },
	{ "disabling_an_officer_ends_their_shift", disabling_an_officer_ends_their_shift },
	{ NULL, NULL }
};
