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

/* Every visible response of db as "form,agency,response_id,digest" lines
 * in byte order, and the hub's of province p the same way: equal when the
 * hub holds each of the province's rows exactly once. */
static char *province_rows(const char *db)
{
	return test_db_text(db, "SELECT ifnull(group_concat(x, char(10)), '') FROM (SELECT f.code || ',' || a.code || "
			    "',' || r.response_id || ',' || lower(hex(r.digest)) AS x FROM responses r "
			    "JOIN forms f ON f.id = r.form_id JOIN agencies a ON a.id = r.agency_id WHERE "
			    DB_VISIBLE("r") " ORDER BY x)");
}

static char *hub_rows(struct hub *h, const char *p)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(x, E'\\n' ORDER BY x COLLATE \"C\"), '') FROM "
		 "(SELECT form || ',' || agency || ',' || response_id || ',' || encode(digest, 'hex') AS x "
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
	char sql[256];

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
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sipas.marks WHERE province = 'HP' AND identity = '%s'",
		 test_db_text("a.db", "SELECT value FROM settings WHERE name = 'identity'"));
	CHECK_INT(hub_int(&h, sql), 1);
	hub_stop(&h);
}

const struct test_case push_tests[] = {
	{ "two_provinces_pushed_again_send_nothing_new", two_provinces_pushed_again_send_nothing_new },
	{ NULL, NULL }
};
