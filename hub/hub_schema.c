/*
 * hub_schema.c - the hub's tables, policies and roles (see hub_schema.h).
 *
 * Row-level security is enabled and forced on every table with a
 * province: a push role reaches the rows of the provinces mapped to it in
 * sipas.province_roles (one), through sipas.may_write(province), a
 * SECURITY DEFINER function so that a push role needs no right on the
 * mapping itself; the ministry's readers select everything; the owner (who
 * ran hub init) does everything.  Forced, so that even the owner's own
 * sessions go through the policies; a superuser bypasses them anyway.
 */
#include "hub_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_pg.h"

int hub_province_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HUB_MAX_PROVINCE)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* The tables a province writes, for the policies and grants. */
static const char *const province_tables[] = {
	"provinces", "marks", "province_forms", "agencies", "sectors", "targets", "responses", "conflicts",
	"dossier_records", "dossier_totals", "published",
};

static const char schema_sql[] =
	"CREATE SCHEMA " HUB_SCHEMA ";"
	"CREATE TABLE " HUB_SCHEMA ".meta(name text PRIMARY KEY, value text NOT NULL);"
	"CREATE TABLE " HUB_SCHEMA ".provinces("
	"  province text PRIMARY KEY CHECK (province ~ '^[A-Za-z0-9-]{1,12}$'),"
	"  registered_at timestamptz NOT NULL DEFAULT now());"
	"CREATE TABLE " HUB_SCHEMA ".province_roles("       /* which province a push role writes */
	"  role name PRIMARY KEY,"
	"  province text NOT NULL REFERENCES " HUB_SCHEMA ".provinces);"
	/* the high-water mark of each province database (its identity): the
	 * last visibility sequence number pushed, and within an import's
	 * number (all its rows share it) the last row id pushed */
	"CREATE TABLE " HUB_SCHEMA ".marks("
	"  province text NOT NULL REFERENCES " HUB_SCHEMA ".provinces,"
	"  identity text NOT NULL,"
	"  response_seq bigint NOT NULL DEFAULT 0,"
	"  response_row bigint NOT NULL DEFAULT 0,"
	"  record_seq bigint NOT NULL DEFAULT 0,"
	"  pushed_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (province, identity));"
	"CREATE TABLE " HUB_SCHEMA ".forms("                /* by content: the SHA-256 of the canonical JSON */
	"  hash bytea PRIMARY KEY,"
	"  code text NOT NULL,"
	"  json text NOT NULL);"                             /* forms carry no province: no policy */
	"CREATE TABLE " HUB_SCHEMA ".province_forms("
	"  province text NOT NULL REFERENCES " HUB_SCHEMA ".provinces,"
	"  code text NOT NULL,"
	"  hash bytea NOT NULL REFERENCES " HUB_SCHEMA ".forms,"
	"  PRIMARY KEY (province, code));"
	"CREATE TABLE " HUB_SCHEMA ".agencies("            /* with their history (docs/onestop.md) */
	"  province text NOT NULL REFERENCES " HUB_SCHEMA ".provinces,"
	"  code text NOT NULL,"
	"  name text NOT NULL,"
	"  level text NOT NULL,"
	"  parent text,"
	"  valid_from date,"
	"  valid_to date,"
	"  successor text,"
	"  PRIMARY KEY (province, code));"
	"CREATE TABLE " HUB_SCHEMA ".sectors("
	"  province text NOT NULL REFERENCES " HUB_SCHEMA ".provinces,"
	"  code text NOT NULL,"
	"  name text NOT NULL,"
	"  PRIMARY KEY (province, code));"
	"CREATE TABLE " HUB_SCHEMA ".targets("
	"  province text NOT NULL REFERENCES " HUB_SCHEMA ".provinces,"
	"  scope text NOT NULL CHECK (scope IN ('all','sector','agency')),"
	"  code text NOT NULL DEFAULT '',"                   /* '' for scope 'all' */
	"  from_quarter integer NOT NULL,"
	"  threshold double precision NOT NULL CHECK (threshold > 0 AND threshold <= 1),"
	"  PRIMARY KEY (province, scope, code, from_quarter));"
	/* one row per response: what scoring reads, and its digest; no free
	 * text, no device or officer (the province keeps those) */
	"CREATE TABLE " HUB_SCHEMA ".responses("
	"  province text NOT NULL,"
	"  quarter integer NOT NULL,"                        /* of day: year * 4 + quarter - 1 */
	"  form text NOT NULL,"                              /* the province's form code (province_forms) */
	"  agency text NOT NULL,"
	"  response_id text NOT NULL,"
	"  day integer NOT NULL,"                            /* Vietnam date, days since 1970-01-01 */
	"  ts bigint NOT NULL,"                              /* submitted_at, Unix seconds */
	"  sector text NOT NULL,"
	"  channel smallint NOT NULL,"
	"  dossier_code text,"
	"  stratum text NOT NULL,"
	"  psu text,"                                        /* NULL: the response is its own PSU */
	"  weight double precision NOT NULL CHECK (weight > 0),"
	"  answers bytea NOT NULL,"                          /* as the province stores them */
	"  choices bytea NOT NULL,"
	"  digest bytea NOT NULL,"
	"  pushed_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (province, quarter, form, agency, response_id)"
	") PARTITION BY RANGE (quarter);"
	/* a pushed response whose key was stored with other content: reported,
	 * never overwritten */
	"CREATE TABLE " HUB_SCHEMA ".conflicts("
	"  province text NOT NULL,"
	"  quarter integer NOT NULL,"
	"  form text NOT NULL,"
	"  agency text NOT NULL,"
	"  response_id text NOT NULL,"
	"  stored_digest bytea NOT NULL,"
	"  pushed_digest bytea NOT NULL,"
	"  seen_at timestamptz NOT NULL DEFAULT now(),"
	"  PRIMARY KEY (province, quarter, form, agency, response_id, pushed_digest));"
	"CREATE TABLE " HUB_SCHEMA ".dossier_records("
	"  province text NOT NULL,"
	"  agency text NOT NULL,"
	"  code text NOT NULL,"
	"  received_by text NOT NULL,"
	"  sector text NOT NULL,"
	"  procedure text NOT NULL,"
	"  channel text NOT NULL,"
	"  received_at bigint NOT NULL,"
	"  due_at bigint,"
	"  finished_at bigint,"
	"  finished_day integer,"
	"  complaint smallint NOT NULL,"
	"  updated_at bigint NOT NULL,"
	"  PRIMARY KEY (province, agency, code));"
	"CREATE TABLE " HUB_SCHEMA ".dossier_totals("
	"  province text NOT NULL,"
	"  period text NOT NULL,"
	"  quarter integer NOT NULL,"
	"  agency text NOT NULL,"
	"  sector text NOT NULL,"
	"  dossiers bigint NOT NULL CHECK (dossiers >= 0),"
	"  PRIMARY KEY (province, period, agency, sector));"
	"CREATE TABLE " HUB_SCHEMA ".published("             /* a province's published figures, as it published them */
	"  province text NOT NULL,"
	"  form text NOT NULL,"
	"  period text NOT NULL,"
	"  grouping text NOT NULL,"
	"  json text NOT NULL,"
	"  PRIMARY KEY (province, form, period, grouping));"
	"DO $$ BEGIN"
	"  FOR q IN 2017 * 4 .. 2035 * 4 + 3 LOOP"
	"    EXECUTE format('CREATE TABLE " HUB_SCHEMA ".responses_%sq%s PARTITION OF " HUB_SCHEMA ".responses "
	"      FOR VALUES FROM (%s) TO (%s)', q / 4, q % 4 + 1, q, q + 1);"
	"  END LOOP;"
	"END $$;"
	"CREATE TABLE " HUB_SCHEMA ".responses_other PARTITION OF " HUB_SCHEMA ".responses DEFAULT;"
	"CREATE FUNCTION " HUB_SCHEMA ".may_write(p text) RETURNS boolean"
	"  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS"
	"  $$ SELECT EXISTS (SELECT 1 FROM " HUB_SCHEMA ".province_roles WHERE role = session_user AND province = p) $$;"
	"DO $$ BEGIN"
	"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" HUB_PUSH_ROLE "') THEN"
	"    CREATE ROLE " HUB_PUSH_ROLE " NOLOGIN;"
	"  END IF;"
	"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" HUB_MINISTRY_ROLE "') THEN"
	"    CREATE ROLE " HUB_MINISTRY_ROLE " NOLOGIN;"
	"  END IF;"
	"END $$;"
	"REVOKE ALL ON SCHEMA " HUB_SCHEMA " FROM PUBLIC;"
	"GRANT USAGE ON SCHEMA " HUB_SCHEMA " TO " HUB_PUSH_ROLE ", " HUB_MINISTRY_ROLE ";"
	"REVOKE ALL ON FUNCTION " HUB_SCHEMA ".may_write(text) FROM PUBLIC;"
	"GRANT EXECUTE ON FUNCTION " HUB_SCHEMA ".may_write(text) TO " HUB_PUSH_ROLE ";"
	"GRANT SELECT ON ALL TABLES IN SCHEMA " HUB_SCHEMA " TO " HUB_MINISTRY_ROLE ";"
	"GRANT SELECT, INSERT ON " HUB_SCHEMA ".forms TO " HUB_PUSH_ROLE ";"
	"GRANT SELECT ON " HUB_SCHEMA ".meta TO " HUB_PUSH_ROLE ";";

int hub_schema_check(PGconn *conn, struct err *e)
{
	PGresult *res = NULL;
	int rc = hub_query(conn, "SELECT to_regclass('" HUB_SCHEMA ".meta') IS NOT NULL", 0, NULL, &res, e);
	int version;

	if (rc)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return err_set(e, ERR_NOT_FOUND, "the hub has no sipas schema: run sipas hub init");
	}
	PQclear(res);
	rc = hub_query(conn, "SELECT value FROM " HUB_SCHEMA ".meta WHERE name = 'version'", 0, NULL, &res, e);
	if (rc)
		return rc;
	version = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;
	PQclear(res);
	if (version != HUB_SCHEMA_VERSION)
		return err_set(e, ERR_CONFLICT, "the hub's schema is version %d; this sipas knows version %d",
			       version, HUB_SCHEMA_VERSION);
	return 0;
}

int hub_check_reader(PGconn *conn, struct err *e)
{
	PGresult *res = NULL;
	int rc = hub_query(conn, "SELECT current_user, r.rolsuper OR pg_has_role(current_user, '" HUB_MINISTRY_ROLE
			   "', 'MEMBER') OR n.nspowner = r.oid FROM pg_roles r, pg_namespace n "
			   "WHERE r.rolname = current_user AND n.nspname = '" HUB_SCHEMA "'", 0, NULL, &res, e);

	if (rc)
		return rc;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		rc = err_set(e, ERR_INVALID, "role %s reads only its own province's rows (row-level security): "
			     "national figures need the hub's owner or a member of " HUB_MINISTRY_ROLE,
			     PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	return rc;
}

/* The policies and grants of one province table. */
static int protect_table(PGconn *conn, const char *table, struct err *e)
{
	char sql[2048];

	snprintf(sql, sizeof(sql),
		 "ALTER TABLE " HUB_SCHEMA ".%1$s ENABLE ROW LEVEL SECURITY;"
		 "ALTER TABLE " HUB_SCHEMA ".%1$s FORCE ROW LEVEL SECURITY;"
		 "CREATE POLICY own_province ON " HUB_SCHEMA ".%1$s TO " HUB_PUSH_ROLE
		 "  USING (" HUB_SCHEMA ".may_write(province)) WITH CHECK (" HUB_SCHEMA ".may_write(province));"
		 "CREATE POLICY ministry_reads ON " HUB_SCHEMA ".%1$s FOR SELECT TO " HUB_MINISTRY_ROLE " USING (true);"
		 "CREATE POLICY owner_all ON " HUB_SCHEMA ".%1$s TO CURRENT_USER USING (true) WITH CHECK (true);"
		 "GRANT SELECT, INSERT, UPDATE, DELETE ON " HUB_SCHEMA ".%1$s TO " HUB_PUSH_ROLE ";",
		 table);
	return hub_exec(conn, sql, e);
}

int hub_schema_create(PGconn *conn, int *created, struct err *e)
{
	PGresult *res = NULL;
	char version[32];
	int rc, exists, made = 0;

	*created = 0;
	rc = hub_exec(conn, "BEGIN", e);
	if (rc)
		return rc;
	/* two inits at once: the second waits here, then finds the schema */
	rc = hub_exec(conn, "SELECT pg_advisory_xact_lock(hashtext('sipas hub init'))", e);
	if (!rc)
		rc = hub_query(conn, "SELECT to_regclass('" HUB_SCHEMA ".meta') IS NOT NULL", 0, NULL, &res, e);
	if (rc)
		goto out;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (exists) {
		rc = hub_schema_check(conn, e);
		goto out;
	}
	rc = hub_exec(conn, schema_sql, e);
	for (size_t i = 0; !rc && i < sizeof(province_tables) / sizeof(province_tables[0]); i++)
		rc = protect_table(conn, province_tables[i], e);
	snprintf(version, sizeof(version), "%d", HUB_SCHEMA_VERSION);
	if (!rc)
		rc = hub_query(conn, "INSERT INTO " HUB_SCHEMA ".meta(name, value) VALUES ('version', $1)", 1,
			       (const char *const[]){ version }, NULL, e);
	made = !rc;
out:
	if (rc) {
		hub_exec(conn, "ROLLBACK", NULL);
		return rc;
	}
	rc = hub_exec(conn, "COMMIT", e);
	*created = made && !rc;
	return rc;
}

int hub_grant(PGconn *conn, const char *province, const char *role, struct err *e)
{
	PGresult *res = NULL;
	char *quoted = NULL, sql[512];
	int rc;

	if (!hub_province_ok(province))
		return err_set_field(e, ERR_INVALID, "province",
				     "--province '%s' is not 1 to %d letters, digits or '-'", province, HUB_MAX_PROVINCE);
	if (!*role || strlen(role) > 63)
		return err_set_field(e, ERR_INVALID, "role", "--role must be 1 to 63 bytes");
	rc = hub_schema_check(conn, e);
	if (!rc)
		rc = hub_exec(conn, "BEGIN", e);
	if (rc)
		return rc;
	quoted = PQescapeIdentifier(conn, role, strlen(role));
	if (!quoted) {
		rc = hub_fail(conn, e, "quoting the role's name");
		goto out;
	}
	rc = hub_query(conn, "SELECT province FROM " HUB_SCHEMA ".province_roles WHERE role = $1", 1,
		       (const char *const[]){ role }, &res, e);
	if (rc)
		goto out;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), province) != 0)
		rc = err_set_field(e, ERR_CONFLICT, "role", "role %s already pushes province %s", role,
				   PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!rc)
		rc = hub_query(conn, "INSERT INTO " HUB_SCHEMA ".provinces(province) VALUES ($1) ON CONFLICT DO NOTHING",
			       1, (const char *const[]){ province }, NULL, e);
	if (rc)
		goto out;
	rc = hub_query(conn, "SELECT 1 FROM pg_roles WHERE rolname = $1", 1, (const char *const[]){ role }, &res, e);
	if (rc)
		goto out;
	if (PQntuples(res) == 0) {
		snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN", quoted);
		rc = hub_exec(conn, sql, e);
	}
	PQclear(res);
	snprintf(sql, sizeof(sql), "GRANT " HUB_PUSH_ROLE " TO %s", quoted);
	if (!rc)
		rc = hub_exec(conn, sql, e);
	if (!rc)
		rc = hub_query(conn, "INSERT INTO " HUB_SCHEMA ".province_roles(role, province) VALUES ($1, $2) "
			       "ON CONFLICT DO NOTHING", 2, (const char *const[]){ role, province }, NULL, e);
out:
	PQfreemem(quoted);
	if (rc) {
		hub_exec(conn, "ROLLBACK", NULL);
		return rc;
	}
	return hub_exec(conn, "COMMIT", e);
}

int hub_set_password(PGconn *conn, const char *role, const char *password, struct err *e)
{
	char *hashed = PQencryptPasswordConn(conn, password, role, "scram-sha-256");
	char *quoted = PQescapeIdentifier(conn, role, strlen(role)), *literal = NULL;
	char *sql = NULL;
	int rc;

	if (!hashed || !quoted) {
		rc = hub_fail(conn, e, "hashing the password");
		goto out;
	}
	literal = PQescapeLiteral(conn, hashed, strlen(hashed));
	if (!literal || asprintf(&sql, "ALTER ROLE %s PASSWORD %s", quoted, literal) < 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = hub_exec(conn, sql, e);
out:
	free(sql);
	PQfreemem(literal);
	PQfreemem(quoted);
	PQfreemem(hashed);
	return rc;
}
