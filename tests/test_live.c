/*
 * test_live.c - the live views and the alerts list (docs/monitoring.md,
 * "Live views"; docs/console.md): a stream of ratings posted to a real
 * `sipas serve`, and GET /api/live, /api/live/funnel.svg and /api/alerts
 * read back with an admin token and console sessions: the figures against
 * what was posted (the Wilson bounds computed here, independently), the
 * windows' days, who sees which agency and officer, bad parameters, and
 * the funnel plot as well-formed SVG.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "../lib/strbuf.h"

struct live_setup {
	struct test_server s;
	char kiosk[128], admin[128];
};

/* The token a `sipas device add` printed, into token[128]. */
static int device_token(const struct cmd_result *r, char *token)
{
	if (r->status != 0 || strlen(r->out) < 10)
		return -1;
	snprintf(token, 128, "%.*s", (int)strcspn(r->out, "\n"), r->out);
	return 0;
}

/* The shipped registry, a kiosk at SO-XD for dat-dai and xay-dung, an
 * admin token, and a server. */
static int live_start(struct live_setup *st)
{
	if (sipas_run(NULL, "init", NULL)->status != 0 ||
	    device_token(sipas_run(NULL, "device", "add", "--agency", "SO-XD", "--counter", "Quầy 1", "--sector",
				   "dat-dai", "--sector", "xay-dung", NULL), st->kiosk) != 0 ||
	    device_token(sipas_run(NULL, "device", "add", "--admin", "--counter", "ops", NULL), st->admin) != 0)
		return -1;
	return test_server_start(&st->s, "sipas.db", NULL);
}

/* Run SQL on ./sipas.db (beside the server, as another process would). */
static int db_run(const char *sql)
{
	sqlite3 *db = NULL;
	int rc;

	/* through db_open: the comments' triggers call its sipas_fold */
	if (db_open("sipas.db", 0, &db, NULL) != 0)
		return -1;
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	if (rc)
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
	db_close(db);
	return rc;
}

/* A seeded stream: answer i of a run (1 to 3) from a small LCG. */
static int next_answer(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return 1 + (int)((*seed >> 16) % 3);
}

static const char *const reasons[] = { "long-wait", "staff-attitude", "extra-papers", "late-result", "other" };

/* What a test posted to one agency and sector. */
struct posted {
	long long n, satisfied, reason[5];
};

/* Post n kiosk ratings to SO-XD / sector dated `days_ago` days before now
 * (ids PREFIX0..), in one batch, adding them to *p. */
static int post_stream(const struct live_setup *st, const char *prefix, const char *sector, int n, int days_ago,
		       unsigned *seed, struct posted *p)
{
	time_t at = time(NULL) - (time_t)days_ago * 86400 - 60;
	struct http_result h;
	struct strbuf sb;
	char when[32], *body;
	long status;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&at));
	strbuf_init(&sb, 0);
	strbuf_addstr(&sb, "{\"responses\":[");
	for (int i = 0; i < n; i++) {
		int a = next_answer(seed);

		strbuf_addf(&sb, "%s{\"response_id\":\"%s%d\",\"form\":\"kiosk-2018\",\"agency\":\"SO-XD\",\"sector\":"
			    "\"%s\",\"channel\":\"kiosk\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":%d",
			    i ? "," : "", prefix, i, sector, when, a);
		p->n++;
		p->satisfied += a >= 2;
		if (a == 1) {
			strbuf_addf(&sb, ",\"reason\":\"%s\"", reasons[i % 5]);
			p->reason[i % 5]++;
		}
		strbuf_addstr(&sb, "}}");
	}
	strbuf_addstr(&sb, "]}");
	body = strbuf_detach(&sb, NULL);
	status = test_request(&st->s, "POST", "/api/responses/batch", st->kiosk, body, &h);
	free(body);
	if (status != 200 || strstr(h.body, "\"error\"")) {
		fprintf(stderr, "batch: %ld %s\n", status, h.body);
		status = -1;
	}
	free(h.body);
	return status == 200 ? 0 : -1;
}

/* The Wilson score interval at 95 %, computed here from its formula. */
static void wilson(long long k, long long n, double *lo, double *hi)
{
	const double z = 1.959963984540054;
	double p = (double)k / (double)n, d = 1 + z * z / (double)n;
	double c = (p + z * z / (2.0 * (double)n)) / d;
	double half = z * sqrt(p * (1 - p) / (double)n + z * z / (4.0 * (double)n * (double)n)) / d;

	*lo = c - half;
	*hi = c + half;
}

/* GET path with the bearer token (NULL: none) as parsed JSON; NULL unless
 * the status is `want`. */
static json_t *get_json(const struct live_setup *st, const char *path, const char *token, long want)
{
	struct http_result h;
	long status = test_request(&st->s, "GET", path, token, NULL, &h);
	json_t *doc = status == want ? json_loads(h.body, 0, NULL) : NULL;

	if (!doc)
		fprintf(stderr, "GET %s: %ld (expected %ld) %s\n", path, status, want, h.body);
	free(h.body);
	return doc;
}

/* The group of a view whose field `key` is `value`; NULL when none. */
static json_t *group_where(json_t *view, const char *key, const char *value)
{
	size_t i;
	json_t *g;

	json_array_foreach(json_object_get(view, "groups"), i, g) {
		const char *v = json_string_value(json_object_get(g, key));

		if (v && strcmp(v, value) == 0)
			return g;
	}
	return NULL;
}

static double num(json_t *g, const char *key)
{
	return json_number_value(json_object_get(g, key));
}

/* A group's n, satisfied, share, Wilson bounds, target and reasons
 * against what was posted: 0, or -1 (test_fail said why). */
static int check_group(json_t *g, const struct posted *p, double target)
{
	double lo, hi;

	if (!g) {
		test_fail(__FILE__, __LINE__, "no such group");
		return -1;
	}
	wilson(p->satisfied, p->n, &lo, &hi);
	if (json_integer_value(json_object_get(g, "n")) != p->n ||
	    json_integer_value(json_object_get(g, "satisfied")) != p->satisfied ||
	    fabs(num(g, "share") - (double)p->satisfied / (double)p->n) > 1e-12 || fabs(num(g, "lo") - lo) > 1e-9 ||
	    fabs(num(g, "hi") - hi) > 1e-9 || fabs(num(g, "target") - target) > 1e-12) {
		char *text = json_dumps(g, 0);

		test_fail(__FILE__, __LINE__, "group %s, posted n %lld satisfied %lld, interval %.12g..%.12g, target %g",
			  text, p->n, p->satisfied, lo, hi, target);
		free(text);
		return -1;
	}
	for (int r = 0; r < 5; r++)
		if (json_integer_value(json_object_get(json_object_get(g, "reasons"), reasons[r])) != p->reason[r]) {
			test_fail(__FILE__, __LINE__, "reason %s: expected %lld", reasons[r], p->reason[r]);
			return -1;
		}
	return 0;
}

/* The figures of today's view, by agency, sector and counter, are what
 * the stream posted: n, satisfied, share, the Wilson interval computed
 * here, the target that applies (95 % for the agency, 90 % for land and
 * construction) and the reasons chosen with the unhappy face. */
static void the_figures_are_what_was_posted(void)
{
	struct posted land = { 0 }, build = { 0 }, both;
	struct live_setup st;
	char public_id[64];
	unsigned seed = 19;
	json_t *v;

	CHECK_INT(live_start(&st), 0);
	CHECK_INT(post_stream(&st, "L", "dat-dai", 137, 0, &seed, &land), 0);
	CHECK_INT(post_stream(&st, "B", "xay-dung", 61, 0, &seed, &build), 0);
	both = land;
	both.n += build.n;
	both.satisfied += build.satisfied;
	for (int r = 0; r < 5; r++)
		both.reason[r] += build.reason[r];

	CHECK((v = get_json(&st, "/api/live?window=today&by=agency", st.admin, 200)) != NULL);
	CHECK_STR(json_string_value(json_object_get(v, "window")), "today");
	CHECK_STR(json_string_value(json_object_get(v, "by")), "agency");
	CHECK_INT(json_array_size(json_object_get(v, "groups")), 1);
	if (check_group(group_where(v, "agency", "SO-XD"), &both, 0.95) != 0)
		return;
	CHECK(json_is_null(json_object_get(group_where(v, "agency", "SO-XD"), "sector")));
	/* no dossier totals: no dossier-based rate */
	CHECK(json_is_null(json_object_get(group_where(v, "agency", "SO-XD"), "dossier_rate")));
	json_decref(v);

	CHECK((v = get_json(&st, "/api/live?window=7d&by=sector", st.admin, 200)) != NULL);
	CHECK_INT(json_array_size(json_object_get(v, "groups")), 2);
	if (check_group(group_where(v, "sector", "dat-dai"), &land, 0.90) != 0 ||
	    check_group(group_where(v, "sector", "xay-dung"), &build, 0.90) != 0)
		return;
	json_decref(v);

	/* a counter's ratings are its own, per sector (the kiosk stores which
	 * device posted them: done here as the collector does) */
	CHECK_INT(db_run("UPDATE responses SET device_id = (SELECT id FROM devices WHERE role = 'kiosk')"), 0);
	CHECK((v = get_json(&st, "/api/live?window=30d&by=counter", st.admin, 200)) != NULL);
	CHECK_INT(json_array_size(json_object_get(v, "groups")), 2);
	if (check_group(group_where(v, "sector", "dat-dai"), &land, 0.90) != 0)
		return;
	CHECK_STR(json_string_value(json_object_get(group_where(v, "sector", "dat-dai"), "counter")), "Quầy 1");
	CHECK_STR(json_string_value(json_object_get(group_where(v, "sector", "dat-dai"), "agency")), "SO-XD");
	/* the kiosk by its public id, the token's part before the dot */
	snprintf(public_id, sizeof(public_id), "%.*s", (int)strcspn(st.kiosk, "."), st.kiosk);
	CHECK_STR(json_string_value(json_object_get(group_where(v, "sector", "dat-dai"), "device")), public_id);
	json_decref(v);
	CHECK_INT(test_server_stop(&st.s), 0);
}

/* A rating is in a window by its Vietnam day: 8 days old is in the last
 * 30 days, not the last 7; today's is in every window; the quarter so far
 * holds those of its days. */
static void windows_take_their_days(void)
{
	struct posted old = { 0 }, recent = { 0 }, now = { 0 };
	struct live_setup st;
	struct period q;
	unsigned seed = 7;
	int32_t today = (int32_t)((time(NULL) + PERIOD_TZ_SECONDS) / 86400);
	long long in_quarter;
	json_t *v;
	static const struct {
		const char *window;
		int old, recent;   /* whether the 8- and 2-day-old ratings are in */
	} want[] = { { "today", 0, 0 }, { "7d", 0, 1 }, { "30d", 1, 1 } };

	CHECK_INT(live_start(&st), 0);
	CHECK_INT(post_stream(&st, "O", "dat-dai", 11, 8, &seed, &old), 0);
	CHECK_INT(post_stream(&st, "R", "dat-dai", 7, 2, &seed, &recent), 0);
	CHECK_INT(post_stream(&st, "N", "dat-dai", 5, 0, &seed, &now), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char path[96];

		snprintf(path, sizeof(path), "/api/live?window=%s&by=agency", want[i].window);
		CHECK((v = get_json(&st, path, st.admin, 200)) != NULL);
		CHECK_INT(json_integer_value(json_object_get(group_where(v, "agency", "SO-XD"), "n")),
			  now.n + (want[i].old ? old.n : 0) + (want[i].recent ? recent.n : 0));
		json_decref(v);
	}
	period_of_quarter(period_quarter_of_day(today), &q);
	in_quarter = now.n + (today - 8 >= q.first_day ? old.n : 0) + (today - 2 >= q.first_day ? recent.n : 0);
	CHECK((v = get_json(&st, "/api/live?window=quarter", st.admin, 200)) != NULL);
	CHECK_INT(json_integer_value(json_object_get(group_where(v, "agency", "SO-XD"), "n")), in_quarter);
	json_decref(v);
	CHECK_INT(test_server_stop(&st.s), 0);
}

/* The quarter so far has the dossier-based rate where dossier totals
 * cover the group's agency and sector: (dossiers - unsatisfied ratings in
 * them) / dossiers, for the agency and the sector; a counter has no
 * dossier total of its own, and the last 30 days no quarter's total. */
static void the_quarter_has_the_dossier_rate(void)
{
	struct posted land = { 0 }, build = { 0 };
	struct live_setup st;
	unsigned seed = 11;
	char csv[160];
	int32_t today = (int32_t)((time(NULL) + PERIOD_TZ_SECONDS) / 86400);
	struct period q;
	double want;
	json_t *v;

	period_of_quarter(period_quarter_of_day(today), &q);
	CHECK_INT(live_start(&st), 0);
	CHECK_INT(post_stream(&st, "L", "dat-dai", 50, 0, &seed, &land), 0);
	CHECK_INT(post_stream(&st, "B", "xay-dung", 30, 0, &seed, &build), 0);
	/* totals for land only: construction's ratings are not subtracted */
	snprintf(csv, sizeof(csv), "period,agency,sector,dossiers\n%s,SO-XD,dat-dai,400\n", q.label);
	CHECK_INT(test_write("dossiers.csv", csv), 0);
	CHECK_INT(sipas_run(NULL, "dossiers", "import", "dossiers.csv", NULL)->status, 0);
	want = (400.0 - (double)(land.n - land.satisfied)) / 400.0;

	CHECK((v = get_json(&st, "/api/live?window=quarter&by=agency", st.admin, 200)) != NULL);
	CHECK_NEAR(num(group_where(v, "agency", "SO-XD"), "dossier_rate"), want, 1e-12);
	json_decref(v);
	CHECK((v = get_json(&st, "/api/live?window=quarter&by=sector", st.admin, 200)) != NULL);
	CHECK_NEAR(num(group_where(v, "sector", "dat-dai"), "dossier_rate"), want, 1e-12);
	CHECK(json_is_null(json_object_get(group_where(v, "sector", "xay-dung"), "dossier_rate")));
	json_decref(v);
	CHECK((v = get_json(&st, "/api/live?window=30d&by=agency", st.admin, 200)) != NULL);
	CHECK(json_is_null(json_object_get(group_where(v, "agency", "SO-XD"), "dossier_rate")));
	json_decref(v);
	CHECK_INT(db_run("UPDATE responses SET device_id = (SELECT id FROM devices WHERE role = 'kiosk')"), 0);
	CHECK((v = get_json(&st, "/api/live?window=quarter&by=counter", st.admin, 200)) != NULL);
	CHECK(json_is_null(json_object_get(group_where(v, "sector", "dat-dai"), "dossier_rate")));
	json_decref(v);
	CHECK_INT(test_server_stop(&st.s), 0);
}

/* A live view counts what the collector received: a file imported today
 * (paper surveys of the quarter) is not in it, while it is in the
 * quarter's scores. */
static void imports_are_not_live(void)
{
	struct posted p = { 0 };
	struct live_setup st;
	unsigned seed = 23;
	char csv[256], day[16];
	int32_t today = (int32_t)((time(NULL) + PERIOD_TZ_SECONDS) / 86400);
	json_t *v;

	CHECK_INT(live_start(&st), 0);
	CHECK_INT(post_stream(&st, "K", "dat-dai", 9, 0, &seed, &p), 0);
	period_format_day(today, day);
	snprintf(csv, sizeof(csv), "response_id,submitted_at,agency,sector,channel,overall\n"
		 "P-1,%s,SO-XD,dat-dai,paper,1\nP-2,%s,SO-XD,dat-dai,paper,1\n", day, day);
	CHECK_INT(test_write("paper.csv", csv), 0);
	CHECK_INT(sipas_run(NULL, "import", "--form", "kiosk-2018", "paper.csv", NULL)->status, 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 11);
	CHECK((v = get_json(&st, "/api/live?window=today", st.admin, 200)) != NULL);
	CHECK_INT(json_integer_value(json_object_get(group_where(v, "agency", "SO-XD"), "n")), p.n);
	CHECK_INT(json_integer_value(json_object_get(group_where(v, "agency", "SO-XD"), "satisfied")), p.satisfied);
	json_decref(v);
	CHECK_INT(test_server_stop(&st.s), 0);
}

/* An unknown window, grouping, state or target is 400 naming it. */
static void bad_parameters_are_named(void)
{
	static const struct {
		const char *path, *field;
	} bad[] = {
		{ "/api/live?window=week", "window" },
		{ "/api/live?window=7d&by=desk", "by" },
		{ "/api/live/funnel.svg?window=7d&by=agency&target=1.5", "target" },
		{ "/api/live/funnel.svg?by=agency&target=0,9", "target" },
		{ "/api/live/funnel.svg?by=floor", "by" },
		{ "/api/alerts?state=shut", "state" },
	};
	struct live_setup st;

	CHECK_INT(live_start(&st), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_result h;
		char field[64];

		snprintf(field, sizeof(field), "\"field\":\"%s\"", bad[i].field);
		CHECK_INT(test_request(&st.s, "GET", bad[i].path, st.admin, NULL, &h), 400);
		CHECK_CONTAINS(h.body, field);
		free(h.body);
	}
	CHECK_INT(test_server_stop(&st.s), 0);
}

/* Sign in as login with its password: 0 with c filled. */
static int sign_in(const struct live_setup *st, const char *login, struct console_client *c)
{
	return console_sign_in(&st->s, login, "a long enough password", c) == 0 ? 0 : -1;
}

static long console_get(const struct live_setup *st, const struct console_client *c, const char *path, char **body)
{
	struct http_result h;
	long status = console_request(&st->s, c, 0, "GET", path, NULL, &h);

	*body = h.body;
	return status;
}

/* Who sees what: an agency user only its agency's ratings and alerts
 * (UBND-TP sees the agencies under it, SO-XD only itself), officers only
 * of its own agency (not of those under it), a viewer no officers at all,
 * the office and an admin token everything; a kiosk token and no
 * credentials nothing. */
static void each_role_sees_its_own(void)
{
	struct console_client office, city, xd, viewer;
	struct live_setup st;
	struct http_result h;
	char *body;
	json_t *v;

	CHECK_INT(sipas_run(NULL, "init", NULL)->status, 0);
	CHECK_INT(console_add_user("sipas.db", "office1", "office", NULL, "a long enough password"), 0);
	CHECK_INT(console_add_user("sipas.db", "city1", "agency", "UBND-TP", "a long enough password"), 0);
	CHECK_INT(console_add_user("sipas.db", "xd1", "agency", "SO-XD", "a long enough password"), 0);
	CHECK_INT(console_add_user("sipas.db", "viewer1", "viewer", "SO-TP", "a long enough password"), 0);
	CHECK_INT(live_start(&st), 0);
	{
		struct posted p = { 0 };
		unsigned seed = 3;

		CHECK_INT(post_stream(&st, "X", "dat-dai", 20, 0, &seed, &p), 0);
	}
	/* ratings of SO-TP and UBND-TP too, each with an officer on duty, and
	 * an alert for each of SO-XD and SO-TP */
	CHECK_INT(db_run("INSERT INTO staff(agency_id, code, name, created_at) SELECT id, 'CB-' || code, "
			 "'Officer of ' || code, 0 FROM agencies WHERE code IN ('SO-XD', 'UBND-TP', 'SO-TP');"
			 "INSERT INTO responses(form_id, response_id, ts, day, agency_id, sector_id, channel, weight, "
			 "answers, choices, digest, received_at, stratum_id) SELECT r.form_id, r.response_id || a.code, "
			 "r.ts, r.day, a.id, r.sector_id, r.channel, r.weight, r.answers, r.choices, r.digest, "
			 "r.received_at, r.stratum_id "
			 "FROM responses r, agencies a WHERE a.code IN ('SO-TP', 'UBND-TP');"
			 "UPDATE responses SET officer_id = (SELECT s.id FROM staff s WHERE s.agency_id = "
			 "responses.agency_id);"
			 "INSERT INTO alerts(kind, agency_id, sector_id, opened_at, evidence) SELECT 'below_target', id, "
			 "(SELECT id FROM sectors WHERE code = 'dat-dai'), strftime('%s'), '{\"n\":20}' FROM agencies "
			 "WHERE code IN ('SO-XD', 'SO-TP');"), 0);
	CHECK_INT(sign_in(&st, "office1", &office), 0);
	CHECK_INT(sign_in(&st, "city1", &city), 0);
	CHECK_INT(sign_in(&st, "xd1", &xd), 0);
	CHECK_INT(sign_in(&st, "viewer1", &viewer), 0);

	/* agencies */
	CHECK_INT(console_get(&st, &xd, "/api/live?by=agency", &body), 200);
	CHECK_CONTAINS(body, "\"SO-XD\"");
	CHECK(!strstr(body, "SO-TP") && !strstr(body, "UBND-TP"));
	free(body);
	CHECK_INT(console_get(&st, &city, "/api/live?by=agency", &body), 200);
	CHECK(strstr(body, "\"SO-XD\"") && strstr(body, "\"SO-TP\"") && strstr(body, "\"UBND-TP\""));
	free(body);
	CHECK_INT(console_get(&st, &viewer, "/api/live?by=sector", &body), 200);
	CHECK((v = json_loads(body, 0, NULL)) != NULL);
	free(body);
	CHECK_INT(json_integer_value(json_object_get(group_where(v, "sector", "dat-dai"), "n")), 20);
	json_decref(v);

	/* officers */
	CHECK_INT(console_get(&st, &viewer, "/api/live?by=officer", &body), 403);
	CHECK_CONTAINS(body, "\"field\":\"by\"");
	free(body);
	CHECK_INT(console_get(&st, &city, "/api/live?by=officer", &body), 200);
	CHECK_CONTAINS(body, "\"CB-UBND-TP\"");
	CHECK(!strstr(body, "CB-SO-XD") && !strstr(body, "CB-SO-TP"));
	free(body);
	CHECK_INT(console_get(&st, &xd, "/api/live?by=officer", &body), 200);
	CHECK_CONTAINS(body, "\"officer_name\":\"Officer of SO-XD\"");
	CHECK(!strstr(body, "UBND-TP") && !strstr(body, "SO-TP"));
	free(body);
	CHECK_INT(console_get(&st, &office, "/api/live?by=officer", &body), 200);
	CHECK(strstr(body, "CB-SO-XD") && strstr(body, "CB-SO-TP") && strstr(body, "CB-UBND-TP"));
	free(body);
	CHECK((v = get_json(&st, "/api/live?by=officer", st.admin, 200)) != NULL);
	CHECK_INT(json_array_size(json_object_get(v, "groups")), 3);
	json_decref(v);

	/* alerts */
	CHECK_INT(console_get(&st, &xd, "/api/alerts?state=all", &body), 200);
	CHECK_CONTAINS(body, "\"agency\":\"SO-XD\"");
	CHECK(!strstr(body, "SO-TP"));
	free(body);
	CHECK_INT(console_get(&st, &viewer, "/api/alerts", &body), 200);
	CHECK_CONTAINS(body, "\"agency\":\"SO-TP\"");
	CHECK(!strstr(body, "SO-XD"));
	free(body);
	/* (the engine may have opened alerts of its own on the stream) */
	CHECK_INT(test_request(&st.s, "GET", "/api/alerts?state=open", st.admin, NULL, &h), 200);
	CHECK(strstr(h.body, "\"agency\":\"SO-XD\"") && strstr(h.body, "\"agency\":\"SO-TP\""));
	free(h.body);

	/* no credentials, and a kiosk's token */
	CHECK((v = get_json(&st, "/api/live", NULL, 401)) != NULL);
	json_decref(v);
	CHECK((v = get_json(&st, "/api/alerts", st.kiosk, 403)) != NULL);
	json_decref(v);
	CHECK_INT(test_server_stop(&st.s), 0);
}

/* An alert as the API shows it (and its notifications carry it): codes,
 * the kiosk's public id and counter, Vietnam times, its evidence as an object;
 * open, closed and all; newest first. */
static void alerts_are_listed_by_state_newest_first(void)
{
	struct live_setup st;
	char public_id[64];
	json_t *v, *a;

	CHECK_INT(live_start(&st), 0);
	CHECK_INT(db_run("INSERT INTO alerts(kind, agency_id, sector_id, device_id, opened_at, closed_at, evidence) "
			 "VALUES ('low_satisfaction', (SELECT id FROM agencies WHERE code = 'SO-XD'), (SELECT id FROM "
			 "sectors WHERE code = 'dat-dai'), (SELECT id FROM devices WHERE role = 'kiosk'), 1796000000, "
			 "NULL, '{\"ratings\":40,\"cusum\":4.1}'),"
			 "('silent_device', (SELECT id FROM agencies WHERE code = 'SO-XD'), NULL, (SELECT id FROM devices "
			 "WHERE role = 'kiosk'), 1795000000, 1795100000, '{\"silent_seconds\":7200}'),"
			 "('below_target', (SELECT id FROM agencies WHERE code = 'SO-XD'), NULL, NULL, 1797000000, NULL, "
			 "'{}')"), 0);
	CHECK((v = get_json(&st, "/api/alerts", st.admin, 200)) != NULL);
	CHECK_INT(json_array_size(json_object_get(v, "alerts")), 2);
	a = json_array_get(json_object_get(v, "alerts"), 1);
	CHECK_STR(json_string_value(json_object_get(a, "kind")), "low_satisfaction");
	CHECK_STR(json_string_value(json_object_get(a, "agency")), "SO-XD");
	CHECK_STR(json_string_value(json_object_get(a, "sector")), "dat-dai");
	CHECK_STR(json_string_value(json_object_get(a, "opened_at")), "2026-11-30T07:53:20+07:00");
	CHECK(json_is_null(json_object_get(a, "closed_at")));
	CHECK_INT(json_integer_value(json_object_get(json_object_get(a, "evidence"), "ratings")), 40);
	snprintf(public_id, sizeof(public_id), "%.*s", (int)strcspn(st.kiosk, "."), st.kiosk);
	CHECK_STR(json_string_value(json_object_get(a, "device")), public_id);
	CHECK_STR(json_string_value(json_object_get(a, "counter")), "Quầy 1");
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(v, "alerts"), 0), "kind")),
		  "below_target");
	json_decref(v);
	CHECK((v = get_json(&st, "/api/alerts?state=closed", st.admin, 200)) != NULL);
	CHECK_INT(json_array_size(json_object_get(v, "alerts")), 1);
	a = json_array_get(json_object_get(v, "alerts"), 0);
	CHECK_STR(json_string_value(json_object_get(a, "kind")), "silent_device");
	CHECK(json_is_null(json_object_get(a, "sector")));
	CHECK_STR(json_string_value(json_object_get(a, "closed_at")), "2026-11-19T21:53:20+07:00");
	json_decref(v);
	CHECK((v = get_json(&st, "/api/alerts?state=all", st.admin, 200)) != NULL);
	CHECK_INT(json_array_size(json_object_get(v, "alerts")), 3);
	json_decref(v);
	CHECK_INT(test_server_stop(&st.s), 0);
}

/* The funnel plot served is well-formed SVG (xmllint), in the SVG
 * namespace, holding the agencies' points, for the target asked and by
 * default. */
static void the_funnel_is_well_formed_svg(void)
{
	struct live_setup st;
	struct http_result h;
	struct posted p = { 0 };
	unsigned seed = 5;

	CHECK_INT(live_start(&st), 0);
	CHECK_INT(post_stream(&st, "F", "dat-dai", 40, 0, &seed, &p), 0);
	CHECK_INT(test_request(&st.s, "GET", "/api/live/funnel.svg?window=today&by=agency", st.admin, NULL, &h), 200);
	CHECK_CONTAINS(h.headers, "image/svg+xml");
	CHECK_CONTAINS(h.body, "SO-XD");
	CHECK_INT(test_write("funnel.svg", h.body), 0);
	free(h.body);
	CHECK_INT(system("xmllint --noout funnel.svg"), 0);
	/* an SVG document of its own, as a browser opens it from its address */
	CHECK_INT(system("test \"$(xmllint --xpath 'namespace-uri(/*)' funnel.svg)\" = http://www.w3.org/2000/svg"), 0);
	CHECK_INT(test_request(&st.s, "GET", "/api/live/funnel.svg?window=7d&by=sector&target=0.9", st.admin, NULL,
			       &h), 200);
	CHECK_CONTAINS(h.body, "dat-dai");
	CHECK_INT(test_write("funnel.svg", h.body), 0);
	free(h.body);
	CHECK_INT(system("xmllint --noout funnel.svg"), 0);
	CHECK_INT(test_server_stop(&st.s), 0);
}

const struct test_case live_tests[] = {
	{ "the_figures_are_what_was_posted", the_figures_are_what_was_posted },
	{ "windows_take_their_days", windows_take_their_days },
	{ "the_quarter_has_the_dossier_rate", the_quarter_has_the_dossier_rate },
	{ "imports_are_not_live", imports_are_not_live },
	{ "bad_parameters_are_named", bad_parameters_are_named },
	{ "each_role_sees_its_own", each_role_sees_its_own },
	{ "alerts_are_listed_by_state_newest_first", alerts_are_listed_by_state_newest_first },
	{ "the_funnel_is_well_formed_svg", the_funnel_is_well_formed_svg },
	{ NULL, NULL },
};
