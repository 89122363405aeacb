/*
 * hub_schema.h - the national hub's tables on PostgreSQL (docs/hub.md,
 * "The hub's tables"), and the roles that may touch them: a push role per
 * province, which writes only its own province's rows (row-level
 * security, forced), and the ministry's readers (sipas_ministry), who read
 * everything.
 *
 * Every table has a `province` column; responses are partitioned by
 * quarter (ordinal year * 4 + quarter - 1), so their key includes it:
 * (province, quarter, form, agency, response_id).  Agency, sector,
 * stratum and PSU codes are the province's own; national scoring
 * namespaces them as "PROVINCE.CODE".
 */
#ifndef SIPAS_HUB_SCHEMA_H
#define SIPAS_HUB_SCHEMA_H

#include <libpq-fe.h>

#include "../lib/err.h"

#define HUB_SCHEMA_VERSION 1
#define HUB_MAX_PROVINCE 12          /* a province code: 1 to 12 of [A-Za-z0-9-] */
#define HUB_PUSH_ROLE "sipas_push"   /* every province's push role is a member */
#define HUB_MINISTRY_ROLE "sipas_ministry"  /* members read every province */

/* 1 when s is a well-formed province code. */
int hub_province_ok(const char *s);

/* Create the hub's schema, tables, partitions (2017Q1 to 2035Q4, and a
 * default one for any other quarter), policies and the two group roles, in
 * one transaction; a hub already at HUB_SCHEMA_VERSION is left as it is
 * (*created 0), one at another version refused.  Needs a role that may
 * create roles (the hub's owner).  ERR_DB naming what the hub refused. */
int hub_schema_create(PGconn *conn, int *created, struct err *e);

/* Check that the hub's schema is there at HUB_SCHEMA_VERSION: ERR_NOT_FOUND
 * ("run sipas hub init") or ERR_CONFLICT otherwise. */
int hub_schema_check(PGconn *conn, struct err *e);

/* Check that the connection's role reads every province's rows (the
 * hub's owner, a superuser or a member of HUB_MINISTRY_ROLE): a push role
 * sees its own province's alone, and national figures from it would be a
 * country of one province.  ERR_INVALID naming the role otherwise. */
int hub_check_reader(PGconn *conn, struct err *e);

/* Register province `province` (a new one, or one already there) and
 * create the login role `role` (unless it exists) as its push role: a
 * member of HUB_PUSH_ROLE, mapped to that province alone.  A role already
 * mapped to another province is refused (ERR_CONFLICT).  The role gets no
 * password here: set one from a file with hub_set_password, or use
 * another of PostgreSQL's means (peer, certificates). */
int hub_grant(PGconn *conn, const char *province, const char *role, struct err *e);

/* Set `role`'s password, hashed on this side (SCRAM, PQencryptPasswordConn)
 * so that the server and its logs never see it. */
int hub_set_password(PGconn *conn, const char *role, const char *password, struct err *e);

#endif
