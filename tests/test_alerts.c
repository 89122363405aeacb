/*
 * test_alerts.c - the alert engine (docs/monitoring.md, "Alerts"): seeded
 * streams of kiosk ratings posted to a real server on 127.0.0.1 (a counter
 * above target raises nothing, one at target alarms no more often than its
 * run length allows, one that falls is flagged within its run length at
 * the new rate, the charts continue across a restart); the periodic rules
 * run on a real database file with an injected clock (silent kiosks in
 * opening hours only, below target once a day after the opening ends, on
 * enough ratings); the outbox rows each alert writes in its transaction;
 * opening hours and `sipas agency hours`.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gsl/gsl_cdf.h>

#include "test.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "../lib/secret.h"
#include "../lib/strbuf.h"
#include "../monitor/alert.h"
#include "../monitor/cusum.h"
#include "../monitor/hours.h"
#include "../monitor/outbox.h"

/* Unix time of a date and time in Vietnam. */
static int64_t vn(int y, int mon, int d, int hh, int mm)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = hh, .tm_min = mm };

	return (int64_t)timegm(&tm) - PERIOD_TZ_SECONDS;
}

/* ---- opening hours ---- */

static void opening_hours_count_only_open_time(void)
{
	struct hours h, every;
	struct err e;
	int64_t fri = vn(2026, 11, 27, 16, 30), brute = 0;

	CHECK_INT(hours_parse(HOURS_DEFAULT, &h, &e), 0);
	CHECK_INT(hours_is_open(&h, vn(2026, 11, 30, 7, 30)), 1);    /* Monday */
	CHECK_INT(hours_is_open(&h, vn(2026, 11, 30, 7, 29)), 0);
	CHECK_INT(hours_is_open(&h, vn(2026, 11, 30, 11, 30)), 0);   /* lunch */
	CHECK_INT(hours_is_open(&h, vn(2026, 11, 30, 16, 59)), 1);
	CHECK_INT(hours_is_open(&h, vn(2026, 11, 28, 9, 0)), 0);     /* Saturday */
	CHECK_INT(hours_day_end(&h, (int32_t)((vn(2026, 11, 27, 12, 0) + PERIOD_TZ_SECONDS) / 86400)),
		  vn(2026, 11, 27, 17, 0));
	CHECK_INT(hours_day_end(&h, (int32_t)((vn(2026, 11, 29, 12, 0) + PERIOD_TZ_SECONDS) / 86400)), -1);
	/* Friday 16:30 to Monday 09:00: half an hour, then an hour and a half */
	CHECK_INT(hours_open_seconds(&h, fri, vn(2026, 11, 30, 9, 0)), 7200);
	CHECK_INT(hours_open_seconds(&h, vn(2026, 11, 30, 9, 0), fri), 0);
	/* over months the weeks counted at once agree with minute by minute */
	for (int64_t t = fri; t < fri + 100 * 86400; t += 60)
		brute += hours_is_open(&h, t) ? 60 : 0;
	CHECK_INT(hours_open_seconds(&h, fri, fri + 100 * 86400), brute);
	CHECK_INT(hours_parse("Mon-Sun 00:00-24:00", &every, &e), 0);
	CHECK_INT(hours_open_seconds(&every, fri, fri + 40 * 86400 + 17), 40 * 86400 + 17);
	CHECK_INT(hours_parse("Mon-Fri 07:30-11:30; Sat 08:00-10:00", &h, &e), 0);
	CHECK_INT(hours_is_open(&h, vn(2026, 11, 28, 9, 0)), 1);
	CHECK_INT(hours_parse("Mon-Fri 07:30-11:30,11:00-12:00", &h, &e), ERR_INVALID);
	CHECK_STR(e.field, "hours");
	CHECK_CONTAINS(e.text, "'11:00-12:00': overlaps");
	CHECK_INT(hours_parse("Mon-Fri 17:00-07:30", &h, &e), ERR_INVALID);
	CHECK_CONTAINS(e.text, "ends before it starts");
	CHECK_INT(hours_parse("Mon-Fri 07:30-24:01", &h, &e), ERR_INVALID);
	CHECK_INT(hours_parse("", &h, &e), ERR_INVALID);
	CHECK_INT(hours_parse("Mon-Fri 07:30-11:30;", &h, &e), ERR_INVALID);
	CHECK_CONTAINS(e.text, "empty group");
}

static void agency_hours_sets_prints_and_refuses(void)
{
	const struct cmd_result *r;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	r = sipas_run(NULL, "agency", "hours", "P-HONGBANG", NULL);
	CHECK_INT(r->status, 0);
	CHECK_STR(r->out, "P-HONGBANG " HOURS_DEFAULT "\n");
	r = sipas_run(NULL, "agency", "hours", "P-HONGBANG", "Mon-Fri 07:00-11:00,13:00-16:30; Sat 07:30-11:30", NULL);
	CHECK_INT(r->status, 0);
	CHECK_STR(r->out, "P-HONGBANG Mon-Fri 07:00-11:00,13:00-16:30; Sat 07:30-11:30\n");
	r = sipas_run(NULL, "agency", "hours", "P-HONGBANG", NULL);
	CHECK_STR(r->out, "P-HONGBANG Mon-Fri 07:00-11:00,13:00-16:30; Sat 07:30-11:30\n");
	/* refused: nothing stored, and the refusal is in the audit log */
	r = sipas_run(NULL, "agency", "hours", "P-HONGBANG", "Mon-Fry 07:30-11:30", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "hours: 'Mon-Fry': unknown day");
	r = sipas_run(NULL, "agency", "hours", "P-HONGBANG", "Mon-Fri 7:30-11:30", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "'7:30-11:30': not a time range HH:MM-HH:MM");
	r = sipas_run(NULL, "agency", "hours", "NO-SUCH", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "no agency 'NO-SUCH'");
	r = sipas_run(NULL, "agency", "hours", NULL);
	CHECK_INT(r->status, 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM opening_hours"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'agency.hours' AND outcome = 'ok'"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM audit WHERE action = 'agency.hours' AND outcome != 'ok'"), 2);
	CHECK_INT(sipas_run(NULL, "audit", "verify", NULL)->status, 0);
}

/* ---- streams of kiosk ratings on a real server ---- */

/* A kiosk of P-HONGBANG serving tu-phap-ho-tich and lao-dong, whose target
 * is the 0.95 for all sectors, posting seeded ratings. */
struct stream {
	struct test_server s;
	char token[128];
	unsigned short rng[3];
	long next;            /* the next response id */
};

/* A new database with the kiosk, no server yet. */
static int stream_new(struct stream *st, unsigned short seed)
{
	const struct cmd_result *r;

	memset(st, 0, sizeof(*st));
	st->rng[0] = seed;
	st->rng[1] = 0x1234;
	st->rng[2] = 0x5678;
	if (sipas_run(NULL, "init", NULL)->status != 0)
		return -1;
	r = sipas_run(NULL, "device", "add", "--agency", "P-HONGBANG", "--counter", "Quầy 1", "--sector",
		      "tu-phap-ho-tich", "--sector", "lao-dong", NULL);
	if (r->status != 0)
		return -1;
	snprintf(st->token, sizeof(st->token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	return 0;
}

/* stream_new, and a server on it (extra: an option of serve, or NULL). */
static int stream_start(struct stream *st, unsigned short seed, const char *extra)
{
	if (stream_new(st, seed) != 0)
		return -1;
	return test_server_start(&st->s, "sipas.db", "--device-rate", "0", extra, NULL);
}

/* Post n ratings of sector, each satisfied with probability p_satisfied,
 * in batches of at most `batch`; 0 when every one was stored. */
static int post_ratings(struct stream *st, const char *sector, long n, double p_satisfied, long batch)
{
	time_t now = time(NULL);
	struct tm tm;
	char when[32];

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	while (n > 0) {
		long k = n < batch ? n : batch, stored = 0;
		struct strbuf body = STRBUF_INIT;
		struct http_result h;
		const char *at;

		strbuf_addstr(&body, "{\"responses\":[");
		for (long i = 0; i < k; i++)
			strbuf_addf(&body, "%s{\"response_id\":\"r%ld\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\","
				    "\"sector\":\"%s\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":%d}}",
				    i ? "," : "", st->next++, sector, when, erand48(st->rng) < p_satisfied ? 2 : 1);
		strbuf_addstr(&body, "]}");
		if (test_request(&st->s, "POST", "/api/responses/batch", st->token, body.buf, &h) != 200) {
			strbuf_release(&body);
			free(h.body);
			return -1;
		}
		for (at = h.body; (at = strstr(at, "\"status\":201")) != NULL; at++)
			stored++;
		strbuf_release(&body);
		free(h.body);
		if (stored != k)
			return -1;
		n -= k;
	}
	return 0;
}

/* The chart of the 0.95 target, as the engine designs it. */
static int design_95(struct cusum_design *d)
{
	struct err e;

	return cusum_design_make(0.95, ALERT_ODDS_RATIO, ALERT_ARL_IN_CONTROL, d, &e);
}

static void a_counter_at_98_percent_raises_nothing_in_20000_ratings(void)
{
	struct stream st;
	struct cusum_design d;

	CHECK_INT(design_95(&d), 0);
	CHECK(cusum_arl(&d, 0.02) > 1e6);     /* "its run length there is in the millions" */
	CHECK_INT(stream_start(&st, 98, NULL), 0);
	CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 20000, 0.98, 500), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	/* both charts saw every rating, none signalled */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM cusums WHERE ratings = 20000 AND signals = 0"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts"), 0);
}

/* The smallest count c of alarms that a renewal process of run length arl
 * exceeds in n ratings with probability under 1e-3 (Poisson). */
static long alarm_bound(double n, double arl)
{
	long c = 0;

	while (gsl_cdf_poisson_Q((unsigned)c, n / arl) >= 1e-3)
		c++;
	return c;
}

static void a_counter_at_target_alarms_no_more_often_than_designed(void)
{
	struct stream st;
	struct cusum_design d;
	long bound;

	CHECK_INT(design_95(&d), 0);
	CHECK(d.arl_target >= ALERT_ARL_IN_CONTROL);
	bound = alarm_bound(20000, d.arl_target);
	CHECK(bound >= 8 && bound <= 14);     /* about 4 expected */
	CHECK_INT(stream_start(&st, 95, NULL), 0);
	CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 20000, 0.95, 500), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	/* the counter's and the agency's chart, fed the same stream */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(DISTINCT signals || '/' || ratings) FROM cusums"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM cusums"), 2);
	CHECK(test_db_int("sipas.db", "SELECT max(signals) FROM cusums") <= bound);
	/* one alert per episode: never more alerts than signals */
	CHECK(test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE kind = 'low_satisfaction'") <=
	      test_db_int("sipas.db", "SELECT sum(signals) FROM cusums"));
}

static void a_counter_falling_to_85_percent_is_flagged_within_its_run_length(void)
{
	struct stream st;
	struct cusum_design d;
	double arl85, limit;
	long posted = 0;
	char *evidence;
	json_t *ev;

	CHECK_INT(design_95(&d), 0);
	arl85 = cusum_arl(&d, 0.15);
	/* the run length is about geometric: P(RL > k ARL) is about e^-k */
	limit = arl85 * log(1e4) + 25;
	CHECK_INT(stream_start(&st, 85, NULL), 0);
	CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 2000, 0.98, 500), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts"), 0);
	while (posted < 5000 && test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE kind = 'low_satisfaction' "
					   "AND device_id IS NOT NULL AND closed_at IS NULL") == 0) {
		CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 25, 0.85, 25), 0);
		posted += 25;
	}
	/* back at 99 %: the episode stays open until the run since its last
	 * signal is three run lengths at the design's odds ratio long */
	CHECK(3 * cusum_arl(&d, d.p1) > 400 && 3 * cusum_arl(&d, d.p1) < 900);
	CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 300, 0.99, 500), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE device_id IS NOT NULL AND closed_at IS NULL"), 1);
	CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 700, 0.99, 500), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE device_id IS NOT NULL AND closed_at IS NULL"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM cusums WHERE alert_id IS NOT NULL"), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	if (posted > limit)
		test_fail(__FILE__, __LINE__, "flagged after %ld ratings at 85 %%, over %.0f (ARL %.1f)", posted, limit, arl85);
	CHECK(posted <= limit);
	/* the evidence: ratings, share, interval, CUSUM value and threshold */
	evidence = test_db_text("sipas.db", "SELECT evidence FROM alerts WHERE device_id IS NOT NULL");
	CHECK(evidence);
	ev = json_loads(evidence, 0, NULL);
	free(evidence);
	CHECK(ev);
	CHECK(json_number_value(json_object_get(ev, "cusum")) >= d.h);
	CHECK_NEAR(json_number_value(json_object_get(ev, "h")), d.h, 1e-9);
	CHECK_NEAR(json_number_value(json_object_get(ev, "target")), 0.95, 1e-9);
	CHECK(json_integer_value(json_object_get(ev, "ratings")) > 0);
	CHECK(json_number_value(json_object_get(ev, "lo")) <= json_number_value(json_object_get(ev, "share")));
	CHECK(json_number_value(json_object_get(ev, "hi")) >= json_number_value(json_object_get(ev, "share")));
	json_decref(ev);
	/* the chart restarted at 0 after its signal */
	CHECK(test_db_int("sipas.db", "SELECT signals FROM cusums WHERE scope = 'device'") >= 1);
}

static void the_cusum_continues_across_a_restart(void)
{
	struct stream st;
	struct cusum_design d;
	double v;

	CHECK_INT(design_95(&d), 0);
	CHECK(4 * d.w_unsatisfied < d.h);
	CHECK_INT(stream_start(&st, 7, NULL), 0);
	CHECK_INT(post_ratings(&st, "lao-dong", 50, 1.0, 500), 0);
	CHECK_INT(post_ratings(&st, "lao-dong", 3, 0.0, 500), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM cusums WHERE ratings = 53 AND unsatisfied = 3"), 2);
	CHECK_INT(test_server_start(&st.s, "sipas.db", "--device-rate", "0", NULL), 0);
	CHECK_INT(post_ratings(&st, "lao-dong", 1, 0.0, 500), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	/* 4 unhappy in a row from 0: the value kept, and one more step on it */
	v = test_db_int("sipas.db", "SELECT CAST(value * 1e9 AS INTEGER) FROM cusums WHERE scope = 'device'") / 1e9;
	CHECK_NEAR(v, 4 * d.w_unsatisfied, 1e-6);
	CHECK_INT(test_db_int("sipas.db", "SELECT ratings FROM cusums WHERE scope = 'agency'"), 54);
}

static void serve_without_alerts_feeds_no_chart(void)
{
	struct stream st;

	CHECK_INT(stream_start(&st, 1, "--no-alerts"), 0);
	CHECK_INT(post_ratings(&st, "lao-dong", 100, 0.0, 500), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 100);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM cusums"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts"), 0);
}

/* ---- the periodic rules, with an injected clock ---- */

/* alert_check at now on sipas.db in a transaction; 0, or the error's code. */
static int check_at(int64_t now)
{
	sqlite3 *db = NULL;
	struct err e;
	int rc = db_open("sipas.db", 0, &db, &e);

	if (!rc)
		rc = db_exec(db, "BEGIN IMMEDIATE", &e);
	if (!rc) {
		rc = alert_check(db, now, &e);
		db_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL);
	}
	db_close(db);
	return rc ? e.code : 0;
}

static long long open_alerts(const char *kind)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM alerts WHERE kind = '%s' AND closed_at IS NULL", kind);
	return test_db_int("sipas.db", sql);
}

/* Three endpoints: P-HONGBANG's, every agency's, and P-LECHAN's. */
static int add_endpoints(void)
{
	return test_db_exec("sipas.db", "INSERT INTO notify_endpoints(agency_id, kind, target, created_at) VALUES "
			   "((SELECT id FROM agencies WHERE code = 'P-HONGBANG'), 'webhook', 'http://127.0.0.1:1/a', 0), "
			   "(NULL, 'email', 'office@example.org', 0), "
			   "((SELECT id FROM agencies WHERE code = 'P-LECHAN'), 'webhook', 'http://127.0.0.1:1/c', 0)");
}

/* The kiosk's heartbeats with the queue lengths listed ("5,10,20"), on a
 * server started for them; 0 when each was answered 200. */
static int heartbeats(struct stream *st, const char *queued)
{
	struct http_result h;
	char body[64];
	int rc = test_server_start(&st->s, "sipas.db", "--no-alerts", NULL);

	for (const char *q = queued; !rc && *q; q += strcspn(q, ",") + (q[strcspn(q, ",")] == ',')) {
		snprintf(body, sizeof(body), "{\"queued\":%.*s}", (int)strcspn(q, ","), q);
		rc = test_request(&st->s, "POST", "/api/kiosk/heartbeat", st->token, body, &h) == 200 ? 0 : -1;
		free(h.body);
	}
	return test_server_stop(&st->s) == 0 ? rc : -1;
}

static void a_silent_kiosk_is_flagged_in_opening_hours_and_closed_by_a_post(void)
{
	struct stream st;
	char *body;

	CHECK_INT(stream_start(&st, 3, NULL), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(add_endpoints(), 0);
	/* a token never used is not a kiosk in service yet */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM devices WHERE paired_at IS NULL AND last_post_at IS NULL"), 1);
	CHECK_INT(check_at(vn(2026, 11, 30, 9, 0)), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts"), 0);
	/* its token typed in, it last posted on Friday at 16:30 */
	CHECK_INT(test_db_exec("sipas.db", "UPDATE devices SET last_post_at = strftime('%s', '2026-11-27 09:30:00') WHERE role = 'kiosk'"), 0);
	CHECK_INT(check_at(vn(2026, 11, 27, 23, 0)), 0);   /* the night */
	CHECK_INT(check_at(vn(2026, 11, 29, 12, 0)), 0);   /* Sunday */
	CHECK_INT(check_at(vn(2026, 11, 30, 8, 59)), 0);   /* 1 h 59 min of opening time */
	CHECK_INT(open_alerts("silent_device"), 0);
	CHECK_INT(check_at(vn(2026, 11, 30, 9, 0)), 0);
	CHECK_INT(open_alerts("silent_device"), 1);
	CHECK_INT(check_at(vn(2026, 11, 30, 9, 1)), 0);    /* one alert per episode */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT opened_at FROM alerts"), vn(2026, 11, 30, 9, 0));
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE device_id IS NOT NULL AND sector_id IS NULL "
			      "AND json_extract(evidence, '$.reason') = 'no_post' "
			      "AND json_extract(evidence, '$.silent_opening_seconds') = 7200"), 1);
	/* its notifications: P-HONGBANG's endpoint and the one for all, not P-LECHAN's */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox WHERE event = 'alert.opened'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox o JOIN notify_endpoints n ON n.id = o.endpoint_id "
			      "WHERE n.target LIKE '%/c'"), 0);
	body = test_db_text("sipas.db", "SELECT body FROM outbox LIMIT 1");
	CHECK_CONTAINS(body, "\"event\":\"alert.opened\"");
	CHECK_CONTAINS(body, "\"kind\":\"silent_device\"");
	CHECK_CONTAINS(body, "\"agency\":\"P-HONGBANG\"");
	CHECK_CONTAINS(body, "\"opened_at\":\"2026-11-30T09:00:00+07:00\"");
	CHECK_CONTAINS(body, "\"closed_at\":null");
	CHECK_CONTAINS(body, "\"sector\":null");
	CHECK_CONTAINS(body, "\"counter\":\"Quầy 1\"");
	CHECK_CONTAINS(body, "\"evidence\":{\"");
	free(body);
	/* the kiosk by its public id, never its row number */
	body = test_db_text("sipas.db", "SELECT json_extract(o.body, '$.alert.device') = d.public_id FROM outbox o, devices d LIMIT 1");
	CHECK_STR(body, "1");
	free(body);
	/* a post ends the silence: the next check closes the episode */
	CHECK_INT(test_server_start(&st.s, "sipas.db", "--device-rate", "0", "--no-alerts", NULL), 0);
	CHECK_INT(post_ratings(&st, "lao-dong", 1, 1.0, 500), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(check_at((int64_t)time(NULL) + 60), 0);
	CHECK_INT(open_alerts("silent_device"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox WHERE event = 'alert.closed'"), 2);
	/* a queue of unsent ratings that keeps growing, heartbeat after
	 * heartbeat, is a silence too; one that shrinks ends it */
	CHECK_INT(heartbeats(&st, "5,10,20,40"), 0);
	CHECK_INT(check_at((int64_t)time(NULL) + 120), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE closed_at IS NULL AND "
			      "json_extract(evidence, '$.reason') = 'queue_growing' AND "
			      "json_extract(evidence, '$.queued') = 40"), 1);
	CHECK_INT(heartbeats(&st, "0"), 0);
	CHECK_INT(check_at((int64_t)time(NULL) + 180), 0);
	CHECK_INT(open_alerts("silent_device"), 0);
}

static void an_alert_and_its_outbox_rows_commit_together(void)
{
	struct stream st;

	CHECK_INT(stream_start(&st, 4, NULL), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(add_endpoints(), 0);
	CHECK_INT(test_db_exec("sipas.db", "UPDATE devices SET paired_at = 1, last_post_at = "
			      "strftime('%s', '2026-11-27 09:30:00') WHERE role = 'kiosk'"), 0);
	/* the second notification fails: the alert is not stored either */
	CHECK_INT(test_db_exec("sipas.db", "CREATE TRIGGER no_mail BEFORE INSERT ON outbox WHEN "
			      "(SELECT kind FROM notify_endpoints WHERE id = NEW.endpoint_id) = 'email' "
			      "BEGIN SELECT RAISE(ABORT, 'mail is down'); END"), 0);
	CHECK_INT(check_at(vn(2026, 11, 30, 9, 0)), ERR_DB);
	CHECK_INT(test_db_int("sipas.db", "SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM outbox)"), 0);
	CHECK_INT(test_db_exec("sipas.db", "DROP TRIGGER no_mail"), 0);
	CHECK_INT(check_at(vn(2026, 11, 30, 9, 0)), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts"), 1);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox o JOIN alerts a ON a.id = o.alert_id"), 2);
	/* an endpoint removed gets nothing more */
	CHECK_INT(test_db_exec("sipas.db", "UPDATE notify_endpoints SET removed_at = 1 WHERE kind = 'email'"), 0);
	CHECK_INT(test_db_exec("sipas.db", "UPDATE devices SET last_post_at = strftime('%s', 'now')"), 0);
	CHECK_INT(check_at((int64_t)time(NULL) + 60), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox WHERE event = 'alert.closed'"), 1);
}

static void below_target_is_judged_once_a_day_after_opening_on_enough_ratings(void)
{
	struct stream st;
	int64_t now = (int64_t)time(NULL), end, tomorrow_end, after_end;
	int32_t today = (int32_t)((now + PERIOD_TZ_SECONDS) / 86400);
	struct hours h;
	struct err e;

	CHECK_INT(stream_start(&st, 5, "--no-alerts"), 0);
	CHECK_INT(sipas_run(NULL, "agency", "hours", "P-HONGBANG", "Mon-Sun 07:30-11:30,13:30-17:00", NULL)->status, 0);
	CHECK_INT(hours_parse("Mon-Sun 07:30-11:30,13:30-17:00", &h, &e), 0);
	end = hours_day_end(&h, today);
	tomorrow_end = hours_day_end(&h, today + 1);
	after_end = hours_day_end(&h, today + 2);
	/* tu-phap-ho-tich: 60 ratings, 40 satisfied (upper bound 0.77);
	 * lao-dong: a handful, all unhappy (its bound 0.43, on 5 ratings) */
	CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 60, 0.0, 500), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(test_db_exec("sipas.db", "UPDATE responses SET answers = x'02' WHERE id IN "
			      "(SELECT id FROM responses ORDER BY id LIMIT 40)"), 0);
	CHECK_INT(test_server_start(&st.s, "sipas.db", "--device-rate", "0", "--no-alerts", NULL), 0);
	CHECK_INT(post_ratings(&st, "lao-dong", 5, 0.0, 500), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(check_at(end - 60), 0);     /* before the day's opening ends */
	CHECK_INT(open_alerts("below_target"), 0);
	CHECK_INT(check_at(end), 0);
	/* the agency's and its counter's, in that sector only */
	CHECK_INT(open_alerts("below_target"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts a JOIN sectors s ON s.id = a.sector_id "
			      "WHERE a.kind = 'below_target' AND s.code = 'tu-phap-ho-tich' "
			      "AND json_extract(a.evidence, '$.ratings') = 60 AND json_extract(a.evidence, '$.satisfied') = 40 "
			      "AND json_extract(a.evidence, '$.hi') < 0.95"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE device_id IS NULL"), 1);
	/* back above target: not judged again the same day, closed the next */
	CHECK_INT(test_db_exec("sipas.db", "UPDATE responses SET answers = x'02'"), 0);
	CHECK_INT(check_at(end + 3600), 0);
	CHECK_INT(open_alerts("below_target"), 2);
	CHECK_INT(check_at(tomorrow_end - 1), 0);
	CHECK_INT(open_alerts("below_target"), 2);
	CHECK_INT(check_at(tomorrow_end), 0);
	CHECK_INT(open_alerts("below_target"), 0);
	CHECK_INT(check_at(after_end), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE kind = 'below_target'"), 2);
}


/* ---- the whole way: a falling counter reaches a webhook and a mailbox ---- */

/* A webhook receiver on 127.0.0.1 (Python's http.server): each POST's
 * signature, delivery id and body, one JSON line each in hooks.jsonl; its
 * port written to hook.port once it listens. */
static const char hook_py[] =
	"import http.server, json, os\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_POST(self):\n"
	"        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))\n"
	"        with open('hooks.jsonl', 'a') as f:\n"
	"            f.write(json.dumps({'sig': self.headers.get('X-Sipas-Signature'),\n"
	"                                'delivery': self.headers.get('X-Sipas-Delivery'),\n"
	"                                'body': body.decode()}) + '\\n')\n"
	"        self.send_response(200)\n"
	"        self.end_headers()\n"
	"        self.wfile.write(b'ok')\n"
	"    def log_message(self, *args):\n"
	"        pass\n"
	"s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
	"open('hook.tmp', 'w').write(str(s.server_address[1]))\n"
	"os.rename('hook.tmp', 'hook.port')\n"
	"s.serve_forever()\n";

/* The webhook request of hooks.jsonl about the counter's low_satisfaction
 * alert opening, checked: its signature under secret, a delivery id, and
 * the evidence.  0, or -1 with why on stderr. */
static int check_hook(const char *secret)
{
	char *text = test_read("hooks.jsonl"), *line, *save = NULL;
	int found = -1;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line && found; line = strtok_r(NULL, "\n", &save)) {
		json_t *req = json_loads(line, 0, NULL), *msg, *alert, *ev;
		const char *sig = json_string_value(json_object_get(req, "sig"));
		const char *body = json_string_value(json_object_get(req, "body"));
		uint8_t mac[SECRET_HASH_BYTES];
		char hex[2 * SECRET_HASH_BYTES + 1];
		struct err e;

		msg = body ? json_loads(body, 0, NULL) : NULL;
		alert = json_object_get(msg, "alert");
		ev = json_object_get(alert, "evidence");
		if (json_is_string(json_object_get(alert, "device")) &&
		    strcmp(json_string_value(json_object_get(msg, "event")), "alert.opened") == 0 &&
		    strcmp(json_string_value(json_object_get(alert, "kind")), "low_satisfaction") == 0) {
			secret_hmac((const uint8_t *)secret, strlen(secret), body, strlen(body), mac, &e);
			secret_hex(mac, sizeof(mac), hex);
			if (!sig || strncmp(sig, "sha256=", 7) != 0 || strcmp(sig + 7, hex) != 0)
				fprintf(stderr, "bad signature %s on %s\n", sig ? sig : "(none)", body);
			else if (!json_is_string(json_object_get(req, "delivery")) ||
				 strlen(json_string_value(json_object_get(req, "delivery"))) != OUTBOX_DELIVERY_HEX)
				fprintf(stderr, "no delivery id on %s\n", body);
			else if (!json_is_integer(json_object_get(ev, "ratings")) || !json_is_real(json_object_get(ev, "share")) ||
				 !json_is_real(json_object_get(ev, "lo")) || !json_is_real(json_object_get(ev, "hi")) ||
				 !json_is_real(json_object_get(ev, "cusum")))
				fprintf(stderr, "evidence missing from %s\n", body);
			else
				found = 0;
		}
		json_decref(msg);
		json_decref(req);
	}
	free(text);
	return found;
}

static void a_falling_counter_reaches_a_signed_webhook_and_a_mailbox_the_same_day(void)
{
	static char py[] = "/usr/bin/python3";
	char *hook_argv[] = { py, (char *)"-c", (char *)hook_py, NULL };
	char smtp_listen[32], smtp_url[64], hook_url[64], secret[128] = "", *mail, *port_text = NULL;
	char *smtp_argv[] = { py, (char *)"-u", (char *)"-m", (char *)"aiosmtpd", (char *)"-n", (char *)"-l",
			      smtp_listen, (char *)"--tlscert", (char *)"cert.pem", (char *)"--tlskey",
			      (char *)"key.pem", NULL };
	const struct cmd_result *r;
	struct stream st;
	int smtp_port = test_free_port(), hook_port = 0, flagged = 0;
	pid_t hook, smtp;

	CHECK(smtp_port > 0);
	CHECK_INT(stream_new(&st, 19), 0);
	CHECK_INT(test_make_cert(), 0);
	snprintf(smtp_listen, sizeof(smtp_listen), "127.0.0.1:%d", smtp_port);
	smtp = test_helper_start("smtp.out", smtp_argv);
	hook = test_helper_start("hook.out", hook_argv);
	CHECK(smtp > 0 && hook > 0);
	for (int i = 0; i < 200 && !(port_text = test_read("hook.port")); i++)
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	hook_port = port_text ? atoi(port_text) : 0;
	free(port_text);
	CHECK(hook_port > 0 && test_port_ready(hook_port) && test_port_ready(smtp_port));
	snprintf(hook_url, sizeof(hook_url), "http://127.0.0.1:%d/hook", hook_port);
	r = sipas_run(NULL, "notify", "add", "--agency", "P-HONGBANG", "--webhook", hook_url, NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(sscanf(r->out, "%127s", secret), 1);
	CHECK_INT(sipas_run(NULL, "notify", "add", "--agency", "P-HONGBANG", "--email", "truong.phong@hongbang.example.vn",
			    NULL)->status, 0);
	snprintf(smtp_url, sizeof(smtp_url), "smtp://127.0.0.1:%d", smtp_port);
	CHECK_INT(test_server_start(&st.s, "sipas.db", "--device-rate", "0", "--smtp-url", smtp_url, "--smtp-from",
				    "sipas@hongbang.example.vn", "--smtp-ca", "cert.pem", NULL), 0);
	/* a good morning, then the counter falls to 80 % */
	CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 500, 0.98, 500), 0);
	for (int i = 0; i < 100 && !flagged; i++) {
		CHECK_INT(post_ratings(&st, "tu-phap-ho-tich", 25, 0.80, 25), 0);
		flagged = test_db_int("sipas.db", "SELECT count(*) FROM alerts WHERE kind = 'low_satisfaction' "
				      "AND device_id IS NOT NULL") > 0;
	}
	CHECK(flagged);
	/* every notification of the openings delivered, within the minute */
	for (int i = 0; i < 600 && test_db_int("sipas.db", "SELECT count(*) FROM outbox WHERE delivered_at IS NULL") != 0; i++)
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	CHECK_INT(test_server_stop(&st.s), 0);
	test_helper_stop(hook);
	test_helper_stop(smtp);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM outbox o JOIN alerts a ON a.id = o.alert_id "
			      "WHERE a.device_id IS NOT NULL AND o.delivered_at - a.opened_at < 60"), 2);
	CHECK_INT(check_hook(secret), 0);
	mail = test_read("smtp.out");
	CHECK_CONTAINS(mail, "To: truong.phong@hongbang.example.vn");
	CHECK_CONTAINS(mail, "low_satisfaction opened at P-HONGBANG (tu-phap-ho-tich)");
	CHECK_CONTAINS(mail, "  ratings: ");
	CHECK_CONTAINS(mail, "  share: ");
	CHECK_CONTAINS(mail, "  lo: ");
	CHECK_CONTAINS(mail, "  hi: ");
	CHECK_CONTAINS(mail, "  cusum: ");
	free(mail);
}

const struct test_case alerts_tests[] = {
	{ "opening_hours_count_only_open_time", opening_hours_count_only_open_time },
	{ "agency_hours_sets_prints_and_refuses", agency_hours_sets_prints_and_refuses },
	{ "a_counter_at_98_percent_raises_nothing_in_20000_ratings", a_counter_at_98_percent_raises_nothing_in_20000_ratings },
	{ "a_counter_at_target_alarms_no_more_often_than_designed", a_counter_at_target_alarms_no_more_often_than_designed },
	{ "a_counter_falling_to_85_percent_is_flagged_within_its_run_length",
	  a_counter_falling_to_85_percent_is_flagged_within_its_run_length },
	{ "the_cusum_continues_across_a_restart", the_cusum_continues_across_a_restart },
	{ "serve_without_alerts_feeds_no_chart", serve_without_alerts_feeds_no_chart },
	{ "a_silent_kiosk_is_flagged_in_opening_hours_and_closed_by_a_post",
	  a_silent_kiosk_is_flagged_in_opening_hours_and_closed_by_a_post },
	{ "an_alert_and_its_outbox_rows_commit_together", an_alert_and_its_outbox_rows_commit_together },
	{ "below_target_is_judged_once_a_day_after_opening_on_enough_ratings",
	  below_target_is_judged_once_a_day_after_opening_on_enough_ratings },
	{ "a_falling_counter_reaches_a_signed_webhook_and_a_mailbox_the_same_day",
	  a_falling_counter_reaches_a_signed_webhook_and_a_mailbox_the_same_day },
	{ NULL, NULL }
};
