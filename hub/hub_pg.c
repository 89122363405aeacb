/*
 * hub_pg.c - the hub's connection (see hub_pg.h).
 */
#include "hub_pg.h"

#include <stdio.h>
#include <string.h>

int hub_fail(PGconn *conn, struct err *e, const char *context)
{
	char msg[400];
	size_t n = 0;

	/* libpq's messages end in a newline and may span lines (DETAIL, HINT):
	 * one line, control characters as spaces */
	for (const char *p = conn ? PQerrorMessage(conn) : "no connection"; *p && n + 1 < sizeof(msg); p++)
		msg[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
	while (n > 0 && msg[n - 1] == ' ')
		n--;
	msg[n] = '\0';
	return err_set(e, ERR_DB, "%s: %s", context, msg);
}

/* 1 when s names a service alone: no '=' and no URI scheme */
static int is_service_name(const char *s)
{
	return !strchr(s, '=') && strncmp(s, "postgresql://", 13) != 0 && strncmp(s, "postgres://", 11) != 0;
}

int hub_connect(const char *conninfo, PGconn **out, struct err *e)
{
	/* a bare name is a service; otherwise dbname expands the connection
	 * string or URI, and the settings after it override nothing of it */
	const char *keys[] = { "dbname", "client_encoding", "options", "application_name", NULL };
	const char *values[] = { conninfo, "UTF8", "-c TimeZone=UTC", "sipas", NULL };
	PGconn *conn;

	if (!*conninfo)
		return err_set_field(e, ERR_INVALID, "hub", "--hub is empty: give a libpq connection string or a service name");
	if (is_service_name(conninfo))
		keys[0] = "service";
	conn = PQconnectdbParams(keys, values, 1);
	if (!conn)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		hub_fail(conn, e, "cannot connect to the hub");
		PQfinish(conn);
		if (e)
			e->code = ERR_IO;
		return ERR_IO;
	}
	*out = conn;
	return 0;
}

int hub_exec(PGconn *conn, const char *sql, struct err *e)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = hub_fail(conn, e, "the hub refused a statement");
	PQclear(res);
	return rc;
}

int hub_query(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **out,
	      struct err *e)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		PQclear(res);
		return hub_fail(conn, e, "the hub refused a query");
	}
	if (out)
		*out = res;
	else
		PQclear(res);
	return 0;
}
