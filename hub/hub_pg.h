/*
 * hub_pg.h - the national hub's connection (PostgreSQL through libpq,
 * docs/hub.md): open one from a CONNINFO, run statements, and turn libpq's
 * errors into a `struct err`.  A CONNINFO is a libpq connection string or
 * service name, and may hold a password: no message ever repeats it.
 * Passwords come through libpq's own means (PGPASSFILE, a service file).
 */
#ifndef SIPAS_HUB_PG_H
#define SIPAS_HUB_PG_H

#include <libpq-fe.h>

#include "../lib/err.h"

/* The hub's tables live in this schema of the hub's database. */
#define HUB_SCHEMA "sipas"

/* Connect with `conninfo` ("service=NAME" or a bare service name is
 * a service; anything else is passed to libpq as it is), with
 * client_encoding UTF8 and the timezone UTC.  On success *out is owned
 * (PQfinish).  ERR_IO with libpq's message (which names the host, never the
 * password) when the hub cannot be reached or refuses. */
int hub_connect(const char *conninfo, PGconn **out, struct err *e);

/* Run `sql` (one or more statements, no parameters).  ERR_DB with the
 * server's message on failure. */
int hub_exec(PGconn *conn, const char *sql, struct err *e);

/* Run `sql` with text parameters (NULL entries are SQL NULL) and keep its
 * result: *out owned (PQclear), also for a statement returning no rows;
 * out NULL: the result is dropped.  ERR_DB on failure (nothing to clear). */
int hub_query(PGconn *conn, const char *sql, int n, const char *const *params, PGresult **out,
	      struct err *e);

/* ERR_DB "context: the server's message" for a failed call on conn; the
 * message is escaped to one line.  Returns ERR_DB. */
int hub_fail(PGconn *conn, struct err *e, const char *context);

#endif
