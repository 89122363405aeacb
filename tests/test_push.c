/*
 * test_push.c - `sipas push` to a real PostgreSQL 15 hub (docs/hub.md,
 * "Pushing a province"): two provinces' databases pushed by their own push
 * roles, signing in through a PGPASSFILE; pushes again, after more
 * ratings, killed midway and resumed; a changed response; a role pushing
 * another province.  The hub's rows are compared with the province's
 * (form, agency, response id, digest), the count and the set.  Each case
 * starts its own server (test_pg_start).
 */
#include "test.h"

#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../db/db.h"

/* A hub with provinces HP and HN, pushed by roles push_hp and push_hn
 * whose passwords libpq reads from ./pgpass. */
struct hub {
	struct test_pg pg;
	PGconn *owner;
	char hp[256], hn[256];   /* the push roles' conninfos */
};

static int hub_start(struct hub *h)
{
	char pgpass[512];

	if (test_pg_start(&h->pg) != 0)
		return -1;
	if (sipas_run(NULL, "hub", "init", "--hub", h->pg.conninfo, NULL)->status != 0 ||
	    test_write("hp.password", "secret of HP\n") || test_write("hn.password", "secret of HN\n") ||
	    sipas_run(NULL, "hub", "grant", "--hub", h->pg.conninfo, "--province", "HP", "--role", "push_hp",
		      "--password-file", "hp.password", NULL)->status != 0 ||
	    sipas_run(NULL, "hub", "grant", "--hub", h->pg.conninfo, "--province", "HN", "--role", "push_hn",
		      "--password-file", "hn.password", NULL)->status != 0)
		return -1;
	snprintf(pgpass, sizeof(pgpass), "%1$s:*:*:push_hp:secret of HP\n%1$s:*:*:push_hn:secret of HN\n", h->pg.dir);
	if (test_write("pgpass", pgpass) || chmod("pgpass", 0600))
		return -1;
	setenv("PGPASSFILE", "pgpass", 1);
	snprintf(h->hp, sizeof(h->hp), "host=%s dbname=postgres user=push_hp", h->pg.dir);
	snprintf(h->hn, sizeof(h->hn), "host=%s dbname=postgres user=push_hn", h->pg.dir);
	h->owner = PQconnectdb(h->pg.conninfo);
	return PQstatus(h->owner) == CONNECTION_OK ? 0 : -1;
}

static void hub_stop(struct hub *h)
{
	PQfinish(h->owner);
	unsetenv("PGPASSFILE");
	test_pg_stop(&h->pg);
}

/* The first value of sql on the hub (as its owner), owned by the caller;
 * NULL (and why on stderr) when it fails. */
static char *hub_text(struct hub *h, const char *sql)
{
	PGresult *res = PQexec(h->owner, sql);
	char *v = NULL;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		v = strdup(PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	else
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(h->owner));
	PQclear(res);
	return v;
}

static long long hub_int(struct hub *h, const char *sql)
{
	char *v = hub_text(h, sql);
	long long n = v ? atoll(v) : -1;

	free(v);
	return n;
}

/* `sipas init` with fixture `fixture`'s registry into db, and its
 * responses imported; 0 or -1. */
static int province_db(const char *db, const char *fixture)
{
	char reg[4200], csv[4200];

	snprintf(reg, sizeof(reg), "%s/%s/registry", test_fixtures(), fixture);
	snprintf(csv, sizeof(csv), "%s/%s/responses.csv", test_fixtures(), fixture);
	if (sipas_run(NULL, "init", "--db", db, "--registry", reg, NULL)->status)
		return -1;
	return sipas_run(NULL, "import", "--db", db, "--form", "sipas-2017", csv, NULL)->status ? -1 : 0;
}

/* Every visible response of db as "form,agency,response_id,digest,..."
 * lines (every column the hub keeps but the weight) in byte order, and the
 * hub's of province p the same way: equal when the hub holds each of the
 * province's rows exactly once, as the province has it. */
static char *province_rows(const char *db)
{
	return test_db_text(db, "SELECT ifnull(group_concat(x, char(10)), '') FROM (SELECT f.code || ',' || a.code || "
			    "',' || r.response_id || ',' || lower(hex(r.digest)) || ',' || r.day || ',' || r.ts || ',' || "
			    "s.code || ',' || r.channel || ',' || st.code || ',' || ifnull(p.code, '-') || ',' || "
			    "lower(hex(r.answers)) || ',' || lower(hex(r.choices)) AS x FROM responses r "
			    "JOIN forms f ON f.id = r.form_id JOIN agencies a ON a.id = r.agency_id "
			    "JOIN sectors s ON s.id = r.sector_id JOIN strata st ON st.id = r.stratum_id "
			    "LEFT JOIN psus p ON p.id = r.psu_id WHERE " DB_VISIBLE("r") " ORDER BY x)");
}

static char *hub_rows(struct hub *h, const char *p)
{
	char sql[1024];

	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(x, E'\\n' ORDER BY x COLLATE \"C\"), '') FROM "
		 "(SELECT form || ',' || agency || ',' || response_id || ',' || encode(digest, 'hex') || ',' || day || "
		 "',' || ts || ',' || sector || ',' || channel || ',' || stratum || ',' || coalesce(psu, '-') || ',' || "
		 "encode(answers, 'hex') || ',' || encode(choices, 'hex') AS x "
		 "FROM sipas.responses WHERE province = '%s') t", p);
	return hub_text(h, sql);
}

/* The hub holds exactly db's visible responses as province p's. */
static void check_same_rows(struct hub *h, const char *db, const char *p)
{
	char *a = province_rows(db), *b = hub_rows(h, p);

	CHECK(a && b);
	if (a && b) {
		CHECK_INT(strlen(a), strlen(b));
		CHECK(strcmp(a, b) == 0);
	}
	free(a);
	free(b);
}

static const struct cmd_result *push(const char *conninfo, const char *province, const char *db)
{
	return sipas_run(NULL, "push", "--hub", conninfo, "--province", province, "--db", db, NULL);
}

static void two_provinces_pushed_again_send_nothing_new(void)
{
	struct hub h;
	const struct cmd_result *r;
	char sql[256], *identity;

	if (hub_start(&h) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(province_db("a.db", "sipas-2017-a"), 0);
	CHECK_INT(province_db("b.db", "sipas-2017-b"), 0);
	CHECK_INT(sipas_run(NULL, "publish", "--db", "a.db", "--period", "2026Q3", NULL)->status, 0);
	r = push(h.hp, "HP", "a.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 2963 responses sent (2963 new, 0 already there, 0 changed)");
	CHECK(!strstr(r->out, "secret") && !strstr(r->err, "secret"));
	r = push(h.hn, "HN", "b.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HN: 2942 responses sent (2942 new");
	check_same_rows(&h, "a.db", "HP");
	check_same_rows(&h, "b.db", "HN");
	/* again: nothing new */
	r = push(h.hp, "HP", "a.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 0 responses sent (0 new, 0 already there, 0 changed)");
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.responses"), 2963 + 2942);
	/* the registry, the forms and the published figures went too, by code */
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.agencies WHERE province = 'HP'"),
		  test_db_int("a.db", "SELECT count(*) FROM agencies"));
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.sectors WHERE province = 'HN'"),
		  test_db_int("b.db", "SELECT count(*) FROM sectors"));
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.targets WHERE province = 'HP'"),
		  test_db_int("a.db", "SELECT count(*) FROM targets"));
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.province_forms WHERE province = 'HP'"),
		  test_db_int("a.db", "SELECT count(*) FROM forms"));
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.province_forms pf JOIN sipas.forms f ON f.hash = pf.hash "
			      "WHERE pf.province = 'HP' AND f.code = pf.code AND f.hash = sha256(convert_to(f.json, 'UTF8'))"),
		  test_db_int("a.db", "SELECT count(*) FROM forms"));
	/* both provinces load the same forms: stored once */
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.forms"), test_db_int("a.db", "SELECT count(*) FROM forms"));
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.published WHERE province = 'HP' AND period = '2026Q3' "
			      "AND json::jsonb ? 'groups'") > 0, 1);
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.published WHERE province = 'HP'"),
		  test_db_int("a.db", "SELECT count(*) FROM published_scores"));
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.published WHERE province = 'HN'"), 0);
	identity = test_db_text("a.db", "SELECT value FROM settings WHERE name = 'identity'");
	CHECK(identity && strlen(identity) == 32);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sipas.marks WHERE province = 'HP' AND identity = '%s'",
		 identity);
	free(identity);
	CHECK_INT(hub_int(&h, sql), 1);
	hub_stop(&h);
}

/* A kiosk rating of response id `id` posted to the collector s with
 * `token`; the HTTP status. */
static long kiosk_rating(const struct test_server *s, const char *token, const char *id)
{
	struct http_result h;
	char body[512];
	long status;

	snprintf(body, sizeof(body), "{\"response_id\":\"%s\",\"form\":\"kiosk-2018\",\"agency\":\"SO-XD\","
		 "\"sector\":\"dat-dai\",\"channel\":\"kiosk\",\"submitted_at\":\"2026-08-03T09:15:00+07:00\","
		 "\"answers\":{\"overall\":3}}", id);
	status = test_request(s, "POST", "/api/responses", token, body, &h);
	if (status >= 0)
		free(h.body);
	return status;
}

/* Ratings stored after a push are the next push's, and only they; an
 * import that became visible after later ratings (its rows hold lower ids
 * than theirs, its number is higher) is still sent. */
static void only_what_became_visible_since_is_sent(void)
{
	struct hub h;
	struct test_server s;
	const struct cmd_result *r;
	char reg[4200], csv[4200], token[128], sql[256];

	if (hub_start(&h) != 0) {
		CHECK(0);
		return;
	}
	snprintf(reg, sizeof(reg), "%s/sipas-2017-a/registry", test_fixtures());
	snprintf(csv, sizeof(csv), "%s/sipas-2017-a/responses.csv", test_fixtures());
	CHECK_INT(sipas_run(NULL, "init", "--db", "a.db", "--registry", reg, NULL)->status, 0);
	r = sipas_run(NULL, "device", "add", "--db", "a.db", "--agency", "SO-XD", "--counter", "Quầy 1", "--sector",
		      "dat-dai", NULL);
	CHECK_INT(r->status, 0);
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(r->out, "\n"), r->out);
	CHECK_INT(test_server_start(&s, "a.db", "--max-age", "36500", NULL), 0);
	CHECK_INT(kiosk_rating(&s, token, "k1"), 201);
	r = push(h.hp, "HP", "a.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 1 responses sent (1 new");
	/* an import copies its rows while the kiosk rates on; it becomes
	 * visible (done, numbered) only after rating k2 */
	CHECK_INT(sipas_run(NULL, "import", "--db", "a.db", "--form", "sipas-2017", csv, NULL)->status, 0);
	snprintf(sql, sizeof(sql), "UPDATE imports SET state = 'pending', seq = NULL, done_at = NULL, pid = %d",
		 (int)getpid());
	CHECK_INT(test_db_exec("a.db", sql), 0);
	CHECK_INT(kiosk_rating(&s, token, "k2"), 201);
	r = push(h.hp, "HP", "a.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 1 responses sent (1 new");
	check_same_rows(&h, "a.db", "HP");
	/* the import's flip, as sipas import makes it: the next number */
	CHECK_INT(test_db_exec("a.db", "UPDATE imports SET state = 'done', done_at = 1, seq = " DB_NEXT_SEQ), 0);
	CHECK(test_db_int("a.db", "SELECT max(id) FROM responses WHERE import_id IS NOT NULL") <
	      test_db_int("a.db", "SELECT id FROM responses WHERE response_id = 'k2'"));
	CHECK_INT(kiosk_rating(&s, token, "k3"), 201);
	r = push(h.hp, "HP", "a.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 2964 responses sent (2964 new, 0 already there");
	check_same_rows(&h, "a.db", "HP");
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.responses"), 3 + 2963);
	CHECK_INT(test_server_stop(&s), 0);
	hub_stop(&h);
}

/* Start `sipas push` (HP, a.db, batch `batch`) as a helper process; its pid. */
static pid_t push_start(struct hub *h, const char *batch)
{
	const char *bin = getenv("SIPAS_BIN") ? getenv("SIPAS_BIN") : "bin/sipas";
	char *const argv[] = { (char *)bin, "push", "--hub", h->hp, "--province", "HP", "--db", "a.db",
			       "--batch", (char *)batch, NULL };

	return test_helper_start("push.out", argv);
}

/* Wait up to 10 s until sql (on the hub) yields a value other than "0";
 * 0, or -1 when it did not. */
static int hub_wait(struct hub *h, const char *sql)
{
	for (int i = 0; i < 10000; i++) {
		char *v = hub_text(h, sql);
		int done = v && strcmp(v, "0") != 0;

		free(v);
		if (done)
			return 0;
		usleep(1000);
	}
	return -1;
}

/* A push killed (SIGKILL) at several moments -- as soon as its session is
 * at the hub, in the middle of a COPY, after its mark has moved -- and
 * run again stores every row exactly once. */
static void a_killed_push_resumes_exactly_once(void)
{
	static const char *const moments[] = {
		"SELECT count(*) FROM pg_stat_activity WHERE usename = 'push_hp'",
		"SELECT count(*) FROM pg_stat_activity WHERE usename = 'push_hp' AND query LIKE 'COPY push_stage_responses%'",
		NULL,   /* the mark moved past where the last kill left it */
	};
	struct hub h;
	const struct cmd_result *r;
	long long before = 0;
	char sql[512], moved[256];

	if (hub_start(&h) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(province_db("a.db", "sipas-2017-a"), 0);
	for (size_t i = 0; i < sizeof(moments) / sizeof(moments[0]); i++) {
		pid_t pid;
		int status = 0;

		snprintf(moved, sizeof(moved), "SELECT count(*) FROM sipas.marks WHERE province = 'HP' AND "
			 "response_row > %lld", hub_int(&h, "SELECT coalesce(max(response_row), 0) FROM sipas.marks"));
		pid = push_start(&h, "100");
		CHECK(pid > 0);
		CHECK_INT(hub_wait(&h, moments[i] ? moments[i] : moved), 0);
		kill(-pid, SIGKILL);
		CHECK_INT(waitpid(pid, &status, 0), pid);
		/* it was killed midway: the hub has some rows, not all, or none */
		CHECK(WIFSIGNALED(status));
		before = hub_int(&h, "SELECT count(*) FROM sipas.responses");
		CHECK(before >= 0 && before < 2963);
		/* the rows and the mark committed together: the hub has exactly
		 * the province's rows up to the mark */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM responses r LEFT JOIN imports i ON i.id = r.import_id "
			 "WHERE " DB_VISIBLE("r") " AND (coalesce(r.seq, i.seq) < %1$lld OR (coalesce(r.seq, i.seq) = "
			 "%1$lld AND r.id <= %2$lld))",
			 hub_int(&h, "SELECT coalesce(max(response_seq), 0) FROM sipas.marks"),
			 hub_int(&h, "SELECT coalesce(max(response_row), 0) FROM sipas.marks"));
		CHECK_INT(test_db_int("a.db", sql), before);
		/* the next push once the server has ended the killed session (and
		 * its lock) */
		CHECK_INT(hub_wait(&h, "SELECT (count(*) = 0)::int FROM pg_stat_activity WHERE usename = 'push_hp'"), 0);
	}
	r = sipas_run(NULL, "push", "--hub", h.hp, "--province", "HP", "--db", "a.db", "--batch", "200", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "0 already there, 0 changed");
	check_same_rows(&h, "a.db", "HP");
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.responses"), 2963);
	/* what the last one sent is what the killed ones had not */
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.conflicts"), 0);
	hub_stop(&h);
}

/* A second database file of the same province whose response ids are the
 * first's, one of them with another answer: that one is reported by name
 * and recorded in sipas.conflicts, and the hub keeps the first. */
static void a_changed_response_is_reported_not_overwritten(void)
{
	struct hub h;
	const struct cmd_result *r;
	char reg[4200], csv[4200], *text, *nl, *digest = NULL, *kept = NULL;

	if (hub_start(&h) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(province_db("a.db", "sipas-2017-a"), 0);
	CHECK_INT(push(h.hp, "HP", "a.db")->status, 0);
	/* the same file, but R08-06-007's overall answer 4 -> 2 */
	snprintf(csv, sizeof(csv), "%s/sipas-2017-a/responses.csv", test_fixtures());
	text = test_read(csv);
	CHECK(text != NULL);
	nl = strchr(strchr(text, '\n') + 1, '\n');
	CHECK(strncmp(nl - 2, ",4\n", 3) == 0 && strstr(text, "R08-06-007") < nl);
	nl[-1] = '2';
	CHECK_INT(test_write("changed.csv", text), 0);
	free(text);
	snprintf(reg, sizeof(reg), "%s/sipas-2017-a/registry", test_fixtures());
	CHECK_INT(sipas_run(NULL, "init", "--db", "c.db", "--registry", reg, NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "import", "--db", "c.db", "--form", "sipas-2017", "changed.csv", NULL)->status, 0);
	r = push(h.hp, "HP", "c.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 2963 responses sent (0 new, 2962 already there, 1 changed)");
	CHECK_CONTAINS(r->err, "changed response: form sipas-2017, agency P-HUNGDAO, response R08-06-007, 2026Q3");
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.conflicts WHERE province = 'HP' AND response_id = 'R08-06-007' "
			      "AND stored_digest <> pushed_digest"), 1);
	/* the hub keeps the first */
	digest = test_db_text("a.db", "SELECT lower(hex(digest)) FROM responses WHERE response_id = 'R08-06-007'");
	kept = hub_text(&h, "SELECT encode(digest, 'hex') FROM sipas.responses WHERE response_id = 'R08-06-007'");
	CHECK(digest && kept && strcmp(digest, kept) == 0);
	check_same_rows(&h, "a.db", "HP");
	free(digest);
	free(kept);
	/* --full sends everything again: no row is new, the change is still one */
	r = sipas_run(NULL, "push", "--hub", h.hp, "--province", "HP", "--db", "a.db", "--full", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 2963 responses sent (0 new, 2963 already there, 0 changed)");
	hub_stop(&h);
}

/* A province's role pushing another province is refused, with a message
 * that says so and not the password, and nothing is stored. */
static void a_role_cannot_push_another_province(void)
{
	struct hub h;
	const struct cmd_result *r;

	if (hub_start(&h) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(province_db("a.db", "sipas-2017-a"), 0);
	r = push(h.hp, "HN", "a.db");
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "the hub does not let role push_hp push province HN");
	CHECK(!strchr(strchr(r->err, '\n') + 1, '\n'));
	CHECK(!strstr(r->err, "secret"));
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.responses"), 0);
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.agencies"), 0);
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.marks"), 0);
	/* a hub that is not there: one line, non-zero, the province untouched */
	r = sipas_run(NULL, "push", "--hub", "host=/nonexistent dbname=x password=hunter2", "--province", "HP", "--db",
		      "a.db", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "cannot connect to the hub");
	CHECK(!strstr(r->err, "hunter2"));
	/* the environment, for the timer's unit */
	setenv("SIPAS_HUB", h.hp, 1);
	setenv("SIPAS_PROVINCE", "HP", 1);
	r = sipas_run(NULL, "push", "--db", "a.db", NULL);
	unsetenv("SIPAS_HUB");
	unsetenv("SIPAS_PROVINCE");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 2963 responses sent (2963 new");
	hub_stop(&h);
}

#define RECORDS "dossier,agency,received_by,sector,procedure,channel,received_at,due_at,finished_at," \
	"complaint,updated_at\n"

/* Dossier records go after the mark's record number, a replaced one again
 * (the hub's version replaced); dossier totals replace the province's. */
static void dossier_records_and_totals_arrive(void)
{
	struct hub h;
	const struct cmd_result *r;

	if (hub_start(&h) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(province_db("a.db", "sipas-2017-a"), 0);
	CHECK_INT(sipas_run(RECORDS "D1,SO-XD,,dat-dai,1.004227,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
			    "2026-07-05T10:00:00+07:00,0,2026-07-05T10:00:00+07:00\n"
			    "D2,SO-XD,P-HUNGDAO,xay-dung,1.004227,online,2026-07-01T08:00:00+07:00,,,0,"
			    "2026-07-01T08:00:00+07:00\n",
			    "dossiers", "import", "--db", "a.db", "--records", "-", NULL)->status, 0);
	CHECK_INT(sipas_run("period,agency,sector,dossiers\n2026Q3,SO-XD,dat-dai,120\n2026Q3,SO-YT,y-te,80\n",
			    "dossiers", "import", "--db", "a.db", "-", NULL)->status, 0);
	r = push(h.hp, "HP", "a.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "2963 new, 0 already there, 0 changed), 2 records");
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.dossier_records WHERE province = 'HP' AND agency = 'SO-XD' "
			      "AND received_by = 'SO-XD' AND code = 'D1' AND finished_at IS NOT NULL AND complaint = 0"), 1);
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.dossier_records WHERE code = 'D2' AND received_by = 'P-HUNGDAO' "
			      "AND sector = 'xay-dung' AND channel = 'online' AND due_at IS NULL AND finished_at IS NULL"), 1);
	CHECK_INT(hub_int(&h, "SELECT sum(dossiers) FROM sipas.dossier_totals WHERE province = 'HP' AND quarter = 2026 * 4 + 2"),
		  200);
	/* D1 complained about later; SO-YT's total corrected */
	CHECK_INT(sipas_run(RECORDS "D1,SO-XD,,dat-dai,1.004227,direct,2026-07-01T08:00:00+07:00,2026-07-10,"
			    "2026-07-05T10:00:00+07:00,1,2026-07-15T09:00:00+07:00\n",
			    "dossiers", "import", "--db", "a.db", "--records", "-", NULL)->status, 0);
	CHECK_INT(sipas_run("period,agency,sector,dossiers\n2026Q3,SO-YT,y-te,90\n", "dossiers", "import", "--db", "a.db",
			    "-", NULL)->status, 0);
	r = push(h.hp, "HP", "a.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 0 responses sent (0 new, 0 already there, 0 changed), 1 records");
	CHECK_INT(hub_int(&h, "SELECT complaint FROM sipas.dossier_records WHERE code = 'D1'"), 1);
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.dossier_records"), 2);
	CHECK_INT(hub_int(&h, "SELECT sum(dossiers) FROM sipas.dossier_totals WHERE province = 'HP'"), 210);
	hub_stop(&h);
}

/* A batch whose mark the hub refuses stores none of its rows: the rows
 * and the mark commit together or not at all; the push says why, and the
 * next one sends them. */
static void a_batch_is_stored_with_its_mark_or_not_at_all(void)
{
	struct hub h;
	const struct cmd_result *r;
	PGresult *res;

	if (hub_start(&h) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(province_db("a.db", "sipas-2017-a"), 0);
	res = PQexec(h.owner, "CREATE FUNCTION sipas.refuse_mark() RETURNS trigger LANGUAGE plpgsql AS "
		     "$$BEGIN IF NEW.response_row > 1000 THEN RAISE EXCEPTION 'no mark past 1000 today'; END IF; "
		     "RETURN NEW; END$$; CREATE TRIGGER refuse BEFORE UPDATE ON sipas.marks FOR EACH ROW "
		     "EXECUTE FUNCTION sipas.refuse_mark()");
	CHECK_INT(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	r = sipas_run(NULL, "push", "--hub", h.hp, "--province", "HP", "--db", "a.db", "--batch", "700", NULL);
	CHECK_INT(r->status, 2);
	CHECK_CONTAINS(r->err, "no mark past 1000 today");
	CHECK_CONTAINS(r->err, "700 responses were stored on the hub before this; the next push continues after them");
	/* the first batch (700 rows, mark at its last) stayed; the second,
	 * whose mark was refused, left nothing */
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.responses"), 700);
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.agencies WHERE province = 'HP'"), 10);
	res = PQexec(h.owner, "DROP TRIGGER refuse ON sipas.marks");
	PQclear(res);
	r = sipas_run(NULL, "push", "--hub", h.hp, "--province", "HP", "--db", "a.db", "--batch", "700", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 2263 responses sent (2263 new, 0 already there, 0 changed)");
	check_same_rows(&h, "a.db", "HP");
	hub_stop(&h);
}

/* fixture a's responses with their ids prefixed by `prefix`, into file */
static int renamed_responses(const char *file, char prefix)
{
	char csv[4200], *text;
	int rc;

	snprintf(csv, sizeof(csv), "%s/sipas-2017-a/responses.csv", test_fixtures());
	text = test_read(csv);
	if (!text)
		return -1;
	for (char *p = strstr(text, "\n\"R"); p; p = strstr(p + 1, "\n\"R"))
		p[2] = prefix;
	rc = test_write(file, text);
	free(text);
	return rc;
}

/* After a backup is restored, the province numbers again what the hub's
 * mark has passed: a plain push sends none of it, --full sends it, and
 * pushes after that go on from the restored file's numbers. */
static void full_sends_what_a_restored_backup_numbered_again(void)
{
	struct hub h;
	const struct cmd_result *r;

	if (hub_start(&h) != 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(province_db("a.db", "sipas-2017-a"), 0);
	CHECK_INT(sipas_run(NULL, "backup", "--db", "a.db", "a.bak", NULL)->status, 0);
	CHECK_INT(renamed_responses("x.csv", 'X'), 0);
	CHECK_INT(sipas_run(NULL, "import", "--db", "a.db", "--form", "sipas-2017", "x.csv", NULL)->status, 0);
	CHECK_INT(push(h.hp, "HP", "a.db")->status, 0);
	/* the restore, and new rows numbered as the lost ones were */
	CHECK_INT(rename("a.bak", "a.db"), 0);
	unlink("a.db-wal");
	unlink("a.db-shm");
	CHECK_INT(renamed_responses("y.csv", 'Y'), 0);
	CHECK_INT(sipas_run(NULL, "import", "--db", "a.db", "--form", "sipas-2017", "y.csv", NULL)->status, 0);
	r = push(h.hp, "HP", "a.db");
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 0 responses sent");
	r = sipas_run(NULL, "push", "--hub", h.hp, "--province", "HP", "--db", "a.db", "--full", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "push HP: 5926 responses sent (2963 new, 2963 already there, 0 changed)");
	CHECK_INT(hub_int(&h, "SELECT count(*) FROM sipas.responses WHERE response_id LIKE 'Y%'"), 2963);
	r = push(h.hp, "HP", "a.db");
	CHECK_CONTAINS(r->out, "push HP: 0 responses sent");
	CHECK_INT(renamed_responses("z.csv", 'Z'), 0);
	CHECK_INT(sipas_run(NULL, "import", "--db", "a.db", "--form", "sipas-2017", "z.csv", NULL)->status, 0);
	r = push(h.hp, "HP", "a.db");
	CHECK_CONTAINS(r->out, "push HP: 2963 responses sent (2963 new, 0 already there");
	hub_stop(&h);
}

/* Bad arguments are named before anything is read or sent. */
static void bad_arguments_are_named(void)
{
	static const char *const bad[][3] = {
		{ "--batch", "0", "--batch '0' is not a number from 1 to 1000000" },
		{ "--batch", "12x", "--batch '12x' is not a number" },
		{ "--province", "H.P", "--province 'H.P' is not 1 to 12 letters" },
		{ "--db", "missing.db", "missing.db: no database here" },
	};
	const struct cmd_result *r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = sipas_run(NULL, "push", "--hub", "host=/nonexistent", "--province", "HP", bad[i][0], bad[i][1], NULL);
		CHECK_INT(r->status, 1);
		CHECK_CONTAINS(r->err, bad[i][2]);
	}
	unsetenv("SIPAS_HUB");
	r = sipas_run(NULL, "push", "--province", "HP", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "give the hub: --hub CONNINFO or SIPAS_HUB");
	r = sipas_run(NULL, "push", "--help", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "$SIPAS_HUB");
	CHECK_CONTAINS(r->out, "$SIPAS_PROVINCE");
}

const struct test_case push_tests[] = {
	{ "two_provinces_pushed_again_send_nothing_new", two_provinces_pushed_again_send_nothing_new },
	{ "only_what_became_visible_since_is_sent", only_what_became_visible_since_is_sent },
	{ "a_killed_push_resumes_exactly_once", a_killed_push_resumes_exactly_once },
	{ "a_changed_response_is_reported_not_overwritten", a_changed_response_is_reported_not_overwritten },
	{ "a_role_cannot_push_another_province", a_role_cannot_push_another_province },
	{ "dossier_records_and_totals_arrive", dossier_records_and_totals_arrive },
	{ "a_batch_is_stored_with_its_mark_or_not_at_all", a_batch_is_stored_with_its_mark_or_not_at_all },
	{ "full_sends_what_a_restored_backup_numbered_again", full_sends_what_a_restored_backup_numbered_again },
	{ "bad_arguments_are_named", bad_arguments_are_named },
	{ NULL, NULL }
};
