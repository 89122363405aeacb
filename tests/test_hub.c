/*
 * test_hub.c - the national hub's schema and roles on a real PostgreSQL 15
 * (docs/hub.md): sipas hub init and hub grant, and what a province's push
 * role may and may not do.  Each case starts its own server (test_pg_start).
 */
#include "test.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A statement's first value as a number, or -1 when it fails (the error on
 * stderr, for the case's output). */
static long long pg_int(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	long long v = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		v = atoll(PQgetvalue(res, 0, 0));
	else
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
	PQclear(res);
	return v;
}

/* A response row of `province` for the hub's table, as the owner or a
 * push role writes it by hand. */
static void response_row(char *sql, size_t size, const char *province, const char *response_id)
{
	snprintf(sql, size, "INSERT INTO sipas.responses(province, quarter, form, agency, response_id, day, ts, "
		 "sector, channel, stratum, weight, answers, choices, digest) VALUES ('%s', 8106, "
		 "'sipas-2017', 'SO-XD', '%s', 20636, 1783000000, 'dat-dai', 1, 'S', 1.5, '\\x04', '', '\\x00')",
		 province, response_id);
}

/* 0 when sql succeeds, else -1 with the server's message in why. */
static int pg_try(PGconn *conn, const char *sql, char *why, size_t size)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

	snprintf(why, size, "%s", rc ? PQerrorMessage(conn) : "");
	PQclear(res);
	return rc;
}

static void init_creates_the_schema_once(void)
{
	struct test_pg pg;
	PGconn *conn = NULL;
	const struct cmd_result *r;

	if (test_pg_start(&pg) != 0)
		return;
	r = sipas_run(NULL, "hub", "init", "--hub", pg.conninfo, NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "schema sipas created (version 1)");
	r = sipas_run(NULL, "hub", "init", "--hub", pg.conninfo, NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "schema sipas is there");
	conn = PQconnectdb(pg.conninfo);
	CHECK(PQstatus(conn) == CONNECTION_OK);
	/* 2017Q1 to 2035Q4, and the default partition */
	CHECK_INT(pg_int(conn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'sipas.responses'::regclass"),
		  19 * 4 + 1);
	CHECK_INT(pg_int(conn, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
			       "WHERE n.nspname = 'sipas' AND c.relkind IN ('r', 'p') AND c.relforcerowsecurity "
			       "AND c.relname NOT LIKE 'responses\\_%'"), 11);
	PQfinish(conn);
	/* no hub there: the message names the problem, not the conninfo's secrets */
	r = sipas_run(NULL, "hub", "init", "--hub", "host=/nonexistent dbname=x password=hunter2", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "cannot connect to the hub");
	CHECK(!strstr(r->err, "hunter2"));
	test_pg_stop(&pg);
}

/* A province's push role, signing in with its password from a PGPASSFILE,
 * writes its own province's rows and no other's, reads none of another's,
 * and owns nothing it could change the rules of. */
static void a_province_role_writes_only_its_own_rows(void)
{
	struct test_pg pg;
	PGconn *owner = NULL, *a = NULL;
	char conninfo[256], why[512], pgpass[512];
	char sql[512];

	if (test_pg_start(&pg) != 0)
		return;
	CHECK_INT(sipas_run(NULL, "hub", "init", "--hub", pg.conninfo, NULL)->status, 0);
	CHECK_INT(test_write("a.password", "a secret of province A\n"), 0);
	CHECK_INT(sipas_run(NULL, "hub", "grant", "--hub", pg.conninfo, "--province", "HP", "--role", "push_hp",
			    "--password-file", "a.password", NULL)->status, 0);
	CHECK_INT(sipas_run(NULL, "hub", "grant", "--hub", pg.conninfo, "--province", "HN", "--role", "push_hn",
			    NULL)->status, 0);
	/* one role pushes one province */
	CHECK_INT(sipas_run(NULL, "hub", "grant", "--hub", pg.conninfo, "--province", "HN", "--role", "push_hp",
			    NULL)->status, 1);
	owner = PQconnectdb(pg.conninfo);
	CHECK(PQstatus(owner) == CONNECTION_OK);
	response_row(sql, sizeof(sql), "HN", "R-HN-1");
	CHECK_INT(pg_try(owner, sql, why, sizeof(why)), 0);
	/* the password goes through libpq's PGPASSFILE, never a command line */
	snprintf(pgpass, sizeof(pgpass), "%s:*:*:push_hp:a secret of province A\n", pg.dir);
	CHECK_INT(test_write("pgpass", pgpass), 0);
	CHECK_INT(chmod("pgpass", 0600), 0);
	setenv("PGPASSFILE", "pgpass", 1);
	snprintf(conninfo, sizeof(conninfo), "host=%s dbname=postgres user=push_hp", pg.dir);
	a = PQconnectdb(conninfo);
	CHECK(PQstatus(a) == CONNECTION_OK);
	response_row(sql, sizeof(sql), "HP", "R-HP-1");
	CHECK_INT(pg_try(a, sql, why, sizeof(why)), 0);
	response_row(sql, sizeof(sql), "HN", "R-HN-2");
	CHECK_INT(pg_try(a, sql, why, sizeof(why)), -1);
	CHECK_CONTAINS(why, "row-level security");
	CHECK_INT(pg_int(a, "SELECT count(*) FROM sipas.responses"), 1);
	CHECK_INT(pg_try(a, "UPDATE sipas.responses SET province = 'HP' WHERE province = 'HN'", why, sizeof(why)), 0);
	CHECK_INT(pg_int(owner, "SELECT count(*) FROM sipas.responses WHERE province = 'HN'"), 1);
	CHECK_INT(pg_try(a, "UPDATE sipas.responses SET province = 'HN'", why, sizeof(why)), -1);
	CHECK_INT(pg_try(a, "DELETE FROM sipas.responses WHERE province = 'HN'", why, sizeof(why)), 0);
	CHECK_INT(pg_int(owner, "SELECT count(*) FROM sipas.responses WHERE province = 'HN'"), 1);
	CHECK_INT(pg_try(a, "ALTER TABLE sipas.responses NO FORCE ROW LEVEL SECURITY", why, sizeof(why)), -1);
	CHECK_CONTAINS(why, "must be owner");
	CHECK_INT(pg_try(a, "INSERT INTO sipas.province_roles VALUES ('push_hp', 'HN')", why, sizeof(why)), -1);
	/* a wrong password is refused */
	CHECK_INT(test_write("pgpass", "*:*:*:push_hp:not the secret\n"), 0);
	PQfinish(a);
	a = PQconnectdb(conninfo);
	CHECK(PQstatus(a) != CONNECTION_OK);
	PQfinish(a);
	PQfinish(owner);
	test_pg_stop(&pg);
}

const struct test_case hub_tests[] = {
	{ "init_creates_the_schema_once", init_creates_the_schema_once },
	{ "a_province_role_writes_only_its_own_rows", a_province_role_writes_only_its_own_rows },
	{ NULL, NULL }
};
