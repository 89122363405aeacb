/*
 * test_records.c - what the collector stores and when (docs/collector.md):
 * a post's submitted_at must lie within --max-age of the server's clock,
 * the server stamps received_at, a rating for a published period is stored
 * and counted as late while the published figures stay, and response ids
 * and dossier codes are each agency's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* A server on ./sipas.db (already initialised) with the extra arguments. */
struct records {
	struct test_server s;
	char kiosk[128], other[128], admin[128];
};

/* Add a device (a kiosk of `agency` serving `sector`, or "admin") and
 * keep its token (127 bytes at most). */
static int add_device(const char *agency, const char *sector, char *token)
{
	const struct cmd_result *r = strcmp(agency, "admin") == 0
		? sipas_run(NULL, "device", "add", "--admin", "--counter", "ops", NULL)
		: sipas_run(NULL, "device", "add", "--agency", agency, "--counter", "Quầy 1",
			    "--sector", sector, NULL);

	if (r->status != 0 || strlen(r->out) < 10)
		return -1;
	snprintf(token, 128, "%.*s", (int)strcspn(r->out, "\n"), r->out);
	return 0;
}

/* POST a kiosk rating of form kiosk-2018 and free the reply; its status. */
static long post_rating(const struct records *st, const char *token, const char *id,
			const char *agency, const char *when, const char *dossier, int answer)
{
	struct http_result h;
	char body[512];
	long status;

	snprintf(body, sizeof(body), "{\"response_id\":\"%s\",\"form\":\"kiosk-2018\",\"agency\":\"%s\","
		 "\"sector\":\"dat-dai\",\"submitted_at\":\"%s\",%s%s%s\"answers\":{\"overall\":%d}}",
		 id, agency, when, dossier ? "\"dossier_code\":\"" : "", dossier ? dossier : "",
		 dossier ? "\"," : "", answer);
	status = test_request(&st->s, "POST", "/api/responses", token, body, &h);
	free(h.body);
	return status;
}

/* `now` plus `seconds` as an ISO 8601 UTC timestamp. */
static const char *at(time_t now, long seconds, char *buf)
{
	time_t t = now + seconds;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* A fresh database with kiosks of P-HONGBANG and P-LECHAN (sector dat-dai)
 * and an admin, and a server on it with the extra arguments. */
static int start(struct records *st, const char *extra1, const char *extra2)
{
	if (sipas_run(NULL, "init", NULL)->status != 0 || add_device("P-HONGBANG", "dat-dai", st->kiosk) ||
	    add_device("P-LECHAN", "dat-dai", st->other) || add_device("admin", NULL, st->admin))
		return -1;
	return test_server_start(&st->s, "sipas.db", extra1, extra2, NULL);
}

static void posts_outside_the_time_window_are_refused(void)
{
	struct records st;
	struct http_result h;
	char when[32], body[512];
	time_t t0 = time(NULL);

	CHECK_CONTAINS(sipas_run(NULL, "serve", "--help", NULL)->out, "--max-age DAYS");
	CHECK_INT(start(&st, NULL, NULL), 0);
	CHECK_INT(post_rating(&st, st.kiosk, "now", "P-HONGBANG", at(t0, 0, when), NULL, 3), 201);
	/* a kiosk's offline queue: 29 days old is taken, 31 days (beyond the default 30) is not */
	CHECK_INT(post_rating(&st, st.kiosk, "old-29", "P-HONGBANG", at(t0, -29 * 86400, when), NULL, 3), 201);
	snprintf(body, sizeof(body), "{\"response_id\":\"old-31\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\","
		 "\"sector\":\"dat-dai\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":3}}", at(t0, -31 * 86400, when));
	CHECK_INT(test_request(&st.s, "POST", "/api/responses", st.kiosk, body, &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"submitted_at\"");
	CHECK_CONTAINS(h.body, "older than 30 days");
	free(h.body);
	/* a clock a little ahead is drift; far ahead, or years off, is refused */
	CHECK_INT(post_rating(&st, st.kiosk, "ahead-5m", "P-HONGBANG", at(t0, 300, when), NULL, 3), 201);
	snprintf(body, sizeof(body), "{\"response_id\":\"ahead-11m\",\"form\":\"kiosk-2018\",\"agency\":\"P-HONGBANG\","
		 "\"sector\":\"dat-dai\",\"submitted_at\":\"%s\",\"answers\":{\"overall\":3}}", at(t0, 660, when));
	CHECK_INT(test_request(&st.s, "POST", "/api/responses", st.kiosk, body, &h), 400);
	CHECK_CONTAINS(h.body, "\"field\":\"submitted_at\"");
	CHECK_CONTAINS(h.body, "ahead of the server's clock");
	free(h.body);
	CHECK_INT(post_rating(&st, st.kiosk, "far", "P-HONGBANG", "9999-12-31", NULL, 3), 400);
	CHECK_INT(post_rating(&st, st.kiosk, "early", "P-HONGBANG", "2001-01-01", NULL, 3), 400);
	/* in a batch, the item is refused, not the batch */
	snprintf(body, sizeof(body), "{\"responses\":[{\"response_id\":\"b-old\",\"form\":\"kiosk-2018\","
		 "\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"submitted_at\":\"2020-01-01\","
		 "\"answers\":{\"overall\":3}},{\"response_id\":\"b-now\",\"form\":\"kiosk-2018\","
		 "\"agency\":\"P-HONGBANG\",\"sector\":\"dat-dai\",\"submitted_at\":\"%s\","
		 "\"answers\":{\"overall\":3}}]}", at(t0, 0, when));
	CHECK_INT(test_request(&st.s, "POST", "/api/responses/batch", st.kiosk, body, &h), 200);
	CHECK_CONTAINS(h.body, "\"field\":\"submitted_at\"");
	CHECK_CONTAINS(h.body, "\"status\":201");
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 4);
	/* the server stamped when it took each one */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE received_at IS NULL"), 0);
	CHECK(test_db_int("sipas.db", "SELECT min(received_at) FROM responses") >= (long long)t0);
	CHECK(test_db_int("sipas.db", "SELECT max(received_at) FROM responses") <= (long long)time(NULL));
	/* --max-age widens the window */
	CHECK_INT(test_server_start(&st.s, "sipas.db", "--max-age", "60", NULL), 0);
	CHECK_INT(post_rating(&st, st.kiosk, "old-45", "P-HONGBANG", at(t0, -45 * 86400, when), NULL, 3), 201);
	CHECK_INT(post_rating(&st, st.kiosk, "old-61", "P-HONGBANG", at(t0, -61 * 86400, when), NULL, 3), 400);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(sipas_run(NULL, "serve", "--max-age", "0", NULL)->status, 1);
}

static long long late_counter(const struct records *st)
{
	struct http_result h;
	const char *at_name;
	long long n = -1;

	if (test_request(&st->s, "GET", "/metrics", st->admin, NULL, &h) != 200)
		return -2;
	at_name = strstr(h.body, "\nsipas_late_ratings_total ");
	if (at_name)
		n = atoll(at_name + strlen("\nsipas_late_ratings_total "));
	free(h.body);
	return n;
}

/* A GET's body, owned by the caller; NULL unless 200. */
static char *fetch(const struct records *st, const char *path)
{
	struct http_result h;

	if (test_request(&st->s, "GET", path, NULL, NULL, &h) == 200)
		return h.body;
	free(h.body);
	return NULL;
}

/* The path that posts a survey rating of SO-XD's `dossier` in dat-dai
 * through the phone link `sipas link` prints (a kiosk token posts only its
 * kiosk form); 0, or -1 when the command fails. */
static int survey_post_path(const char *dossier, char *path, size_t n)
{
	const struct cmd_result *r = sipas_run(NULL, "link", "--form", "sipas-2017", "--agency", "SO-XD",
					       "--sector", "dat-dai", "--dossier", dossier, NULL);
	const char *query = r->status == 0 ? strchr(r->out, '?') : NULL;

	if (!query)
		return -1;
	snprintf(path, n, "/api/responses?form=sipas-2017&%s", query + 1);
	path[strcspn(path, "\n")] = '\0';
	return 0;
}

#define Q3_COUNT "SELECT count(*) FROM responses WHERE day BETWEEN " \
	"julianday('2026-07-01') - julianday('1970-01-01') AND julianday('2026-09-30') - julianday('1970-01-01')"

/* A rating for a day of a published quarter is stored and counted late;
 * the quarter's published scores and open data do not change. */
static void late_ratings_are_stored_and_counted_but_published_figures_stay(void)
{
	struct records st;
	struct http_result h;
	char *scores, *csv, *again;
	char when[32];
	long long q3;
	char late_path[1024], late_q2_path[1024];
	const char *late = "{\"response_id\":\"LATE-1\",\"form\":\"sipas-2017\",\"agency\":\"SO-XD\","
			   "\"sector\":\"dat-dai\",\"submitted_at\":\"2026-09-15T10:00:00+07:00\","
			   "\"dossier_code\":\"LATE-1\",\"answers\":{\"overall\":1,\"e1.1\":1}}";
	const char *late_q2 = "{\"response_id\":\"LATE-2\",\"form\":\"sipas-2017\",\"agency\":\"SO-XD\","
			      "\"sector\":\"dat-dai\",\"submitted_at\":\"2026-06-30\",\"dossier_code\":\"LATE-2\","
			      "\"answers\":{\"overall\":4}}";

	CHECK_INT(test_init_fixture(1), 0);
	CHECK_INT(add_device("SO-XD", "dat-dai", st.kiosk), 0);
	CHECK_INT(add_device("admin", NULL, st.admin), 0);
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q3", NULL)->status, 0);
	CHECK_INT(survey_post_path("LATE-1", late_path, sizeof(late_path)), 0);
	CHECK_INT(survey_post_path("LATE-2", late_q2_path, sizeof(late_q2_path)), 0);
	/* ratings dated in September: older than the default window */
	CHECK_INT(test_server_start(&st.s, "sipas.db", "--max-age", "36500", NULL), 0);
	scores = fetch(&st, "/api/scores?period=2026Q3");
	csv = fetch(&st, "/results/2026Q3/scores.csv");
	CHECK(scores && csv);
	q3 = test_db_int("sipas.db", Q3_COUNT);
	CHECK_INT(late_counter(&st), 0);
	CHECK_INT(test_request(&st.s, "POST", late_path, NULL, late, &h), 201);
	free(h.body);
	/* stored, and the database's own figures include it */
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE response_id = 'LATE-1' "
			      "AND received_at IS NOT NULL"), 1);
	CHECK_INT(test_db_int("sipas.db", Q3_COUNT), q3 + 1);
	CHECK_INT(late_counter(&st), 1);
	/* what the public reads has not moved */
	again = fetch(&st, "/api/scores?period=2026Q3");
	CHECK(again);
	CHECK_STR(again, scores);
	free(again);
	again = fetch(&st, "/results/2026Q3/scores.csv");
	CHECK(again);
	CHECK_STR(again, csv);
	free(again);
	/* a resend is not counted again; a rating for an unpublished day is not late */
	CHECK_INT(test_request(&st.s, "POST", late_path, NULL, late, &h), 200);
	free(h.body);
	CHECK_INT(late_counter(&st), 1);
	CHECK_INT(post_rating(&st, st.kiosk, "Q4-1", "SO-XD", at(time(NULL), 0, when), NULL, 2), 201);
	CHECK_INT(late_counter(&st), 1);
	/* a period published while the server runs is known within a second */
	CHECK_INT(sipas_run(NULL, "publish", "--period", "2026Q2", NULL)->status, 0);
	usleep(1100 * 1000);
	CHECK_INT(test_request(&st.s, "POST", late_q2_path, NULL, late_q2, &h), 201);
	free(h.body);
	CHECK_INT(late_counter(&st), 2);
	CHECK_INT(test_server_stop(&st.s), 0);
	free(scores);
	free(csv);
}

/* The path of the phone link `sipas link` prints for a kiosk-2018 dossier
 * of `agency` in dat-dai; 0, or -1 when the command fails. */
static int link_page(const char *agency, const char *dossier, char *page, size_t n)
{
	const struct cmd_result *r = sipas_run(NULL, "link", "--form", "kiosk-2018", "--agency", agency,
					       "--sector", "dat-dai", "--dossier", dossier, NULL);

	if (r->status != 0 || !strchr(r->out, '?'))
		return -1;
	snprintf(page, n, "/s/kiosk-2018%s", strchr(r->out, '?'));
	page[strcspn(page, "\n")] = '\0';
	return 0;
}

/* Two agencies' kiosks may number their ratings and dossiers alike; one
 * agency cannot use an id or a dossier twice. */
static void ids_and_dossiers_are_each_agencys_own(void)
{
	struct records st;
	struct http_result h;
	char when[32], page[1024];
	time_t t0 = time(NULL);

	CHECK_INT(start(&st, NULL, NULL), 0);
	at(t0, 0, when);
	CHECK_INT(post_rating(&st, st.kiosk, "K-1", "P-HONGBANG", when, "HS-1", 3), 201);
	CHECK_INT(post_rating(&st, st.other, "K-1", "P-LECHAN", when, "HS-1", 2), 201);
	/* the same again is a duplicate; other content under the same id, or a
	 * second rating of the dossier, is a conflict */
	CHECK_INT(post_rating(&st, st.kiosk, "K-1", "P-HONGBANG", when, "HS-1", 3), 200);
	CHECK_INT(post_rating(&st, st.other, "K-1", "P-LECHAN", when, "HS-1", 1), 409);
	CHECK_INT(post_rating(&st, st.other, "K-2", "P-LECHAN", when, "HS-1", 1), 409);
	/* the phone link of P-LECHAN's other dossier opens the questionnaire;
	 * P-HONGBANG's HS-1 is rated */
	CHECK_INT(link_page("P-LECHAN", "HS-2", page, sizeof(page)), 0);
	CHECK_INT(test_request(&st.s, "GET", page, NULL, NULL, &h), 200);
	free(h.body);
	CHECK_INT(post_rating(&st, st.kiosk, "K-2", "P-HONGBANG", when, "HS-2", 3), 201);
	CHECK_INT(test_request(&st.s, "GET", page, NULL, NULL, &h), 200);
	free(h.body);
	CHECK_INT(link_page("P-HONGBANG", "HS-2", page, sizeof(page)), 0);
	CHECK_INT(test_request(&st.s, "GET", page, NULL, NULL, &h), 403);
	CHECK_CONTAINS(h.body, "đã được đánh giá");
	free(h.body);
	CHECK_INT(test_server_stop(&st.s), 0);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE response_id = 'K-1'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses WHERE dossier_code = 'HS-1'"), 2);
	CHECK_INT(test_db_int("sipas.db", "SELECT count(*) FROM responses"), 3);
}

const struct test_case records_tests[] = {
	{ "posts_outside_the_time_window_are_refused", posts_outside_the_time_window_are_refused },
	{ "late_ratings_are_stored_and_counted_but_published_figures_stay",
	  late_ratings_are_stored_and_counted_but_published_figures_stay },
	{ "ids_and_dossiers_are_each_agencys_own", ids_and_dossiers_are_each_agencys_own },
	{ NULL, NULL }
};
