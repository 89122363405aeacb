/*
 * push.c - the hub's side of a push (see push.h).
 *
 * Row-level security refuses COPY FROM into the hub's tables for a push
 * role, so every COPY goes to a temporary stage of the transaction's own
 * (push_stage_TABLE, dropped at its end), and an INSERT ... SELECT moves
 * it into the hub, through the policies.
 */
#include "push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_pg.h"
#include "hub_schema.h"
#include "../lib/period.h"
#include "../lib/strbuf.h"

#define COPY_CHUNK (1 << 20)

/* Create the stage of `table` (its `columns`) for this transaction and
 * COPY `copy` into it. */
static int stage(PGconn *conn, const char *table, const char *columns, const struct strbuf *copy, struct err *e)
{
	char sql[512];
	PGresult *res;
	int rc;

	snprintf(sql, sizeof(sql), "CREATE TEMP TABLE push_stage_%s ON COMMIT DROP AS SELECT %s FROM "
		 HUB_SCHEMA ".%s WITH NO DATA", table, columns, table);
	rc = hub_exec(conn, sql, e);
	if (rc)
		return rc;
	snprintf(sql, sizeof(sql), "COPY push_stage_%s FROM STDIN", table);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		PQclear(res);
		return hub_fail(conn, e, "the hub refused a copy");
	}
	PQclear(res);
	for (size_t off = 0; !rc && off < copy->len; off += COPY_CHUNK) {
		size_t n = copy->len - off < COPY_CHUNK ? copy->len - off : COPY_CHUNK;

		if (PQputCopyData(conn, copy->buf + off, (int)n) != 1)
			rc = hub_fail(conn, e, "sending to the hub");
	}
	/* a copy cut short ends with an error message: the server drops it */
	if (PQputCopyEnd(conn, rc ? "sending failed" : NULL) != 1 && !rc)
		rc = hub_fail(conn, e, "sending to the hub");
	while ((res = PQgetResult(conn))) {
		if (!rc && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = hub_fail(conn, e, "the hub refused a copy");
		PQclear(res);
	}
	return rc;
}

/* End the transaction the caller began: commit when rc is 0, else roll
 * back (the failure in e stays the first one). */
static int finish(PGconn *conn, int rc, struct err *e)
{
	if (rc) {
		hub_exec(conn, "ROLLBACK", NULL);
		return rc;
	}
	return hub_exec(conn, "COMMIT", e);
}

/* Check that the hub has its schema and lets this role push province p,
 * and hold the push lock of (p, identity) for the session, so that two
 * pushes of one database (the timer's and a hand's) do not race on its
 * mark. */
static int push_begin(PGconn *conn, const char *const *key, struct err *e)
{
	PGresult *res = NULL;
	int rc = hub_schema_check(conn, e), ok;

	if (!rc)
		rc = hub_query(conn, "SELECT current_user, EXISTS (SELECT 1 FROM " HUB_SCHEMA ".provinces WHERE province = $1)",
			 1, key, &res, e);
	if (rc)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
		rc = err_set_field(e, ERR_NOT_FOUND, "province",
				   "the hub does not let role %s push province %s (the hub's owner maps a role to its "
				   "province with sipas hub grant)", PQgetvalue(res, 0, 0), key[0]);
	PQclear(res);
	if (!rc)
		rc = hub_query(conn, "SELECT pg_try_advisory_lock(hashtext('sipas push ' || $1 || ' ' || $2))", 2, key,
			 &res, e);
	if (rc)
		return rc;
	ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!ok)
		return err_set(e, ERR_CONFLICT, "another push of province %s from this database is running", key[0]);
	return 0;
}

/* The transaction of everything sent whole: forms, registry, dossier
 * totals, published figures; it also reads the mark (*at, *record),
 * creating it at 0, and with o->full sets it back to 0. */
static int push_tables_and_mark(PGconn *conn, struct push_source *src, const struct push_options *o,
				const char *const *key, struct push_pos *at, int64_t *record,
				struct push_stats *stats, struct err *e)
{
	struct strbuf copies[PUSH_N_TABLES];
	size_t rows[PUSH_N_TABLES];
	PGresult *res = NULL;
	char sql[512];
	int rc;

	for (size_t t = 0; t < PUSH_N_TABLES; t++)
		strbuf_init(&copies[t], 0);
	rc = push_source_tables(src, copies, rows, e);
	if (!rc)
		rc = hub_exec(conn, "BEGIN", e);
	if (rc)
		goto out;
	rc = hub_query(conn, "INSERT INTO " HUB_SCHEMA ".marks(province, identity) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		 2, key, NULL, e);
	if (!rc && o->full)
		rc = hub_query(conn, "UPDATE " HUB_SCHEMA ".marks SET response_seq = 0, response_row = 0, record_seq = 0 "
			 "WHERE province = $1 AND identity = $2", 2, key, NULL, e);
	if (!rc)
		rc = hub_query(conn, "SELECT response_seq, response_row, record_seq FROM " HUB_SCHEMA ".marks "
			 "WHERE province = $1 AND identity = $2 FOR UPDATE", 2, key, &res, e);
	if (!rc) {
		at->seq = atoll(PQgetvalue(res, 0, 0));
		at->row = atoll(PQgetvalue(res, 0, 1));
		*record = atoll(PQgetvalue(res, 0, 2));
		PQclear(res);
	}
	for (size_t t = 0; !rc && t < PUSH_N_TABLES; t++) {
		const struct push_table *pt = &push_tables[t];

		rc = stage(conn, pt->table, pt->columns, &copies[t], e);
		if (!rc && !pt->load[0]) {
			snprintf(sql, sizeof(sql), "DELETE FROM " HUB_SCHEMA ".%s WHERE province = $1", pt->table);
			rc = hub_query(conn, sql, 1, key, NULL, e);
			snprintf(sql, sizeof(sql), "INSERT INTO " HUB_SCHEMA ".%1$s(%2$s) SELECT %2$s FROM push_stage_%1$s",
				 pt->table, pt->columns);
			if (!rc)
				rc = hub_query(conn, sql, 0, NULL, NULL, e);
		}
		for (size_t i = 0; !rc && i < 3 && pt->load[i]; i++)
			rc = hub_query(conn, pt->load[i], strstr(pt->load[i], "$1") ? 1 : 0, key, NULL, e);
		if (strcmp(pt->table, "forms") == 0)
			stats->forms = rows[t];
		else if (strcmp(pt->table, "agencies") == 0)
			stats->agencies = rows[t];
	}
	rc = finish(conn, rc, e);
out:
	for (size_t t = 0; t < PUSH_N_TABLES; t++)
		strbuf_release(&copies[t]);
	return rc;
}

/* Report the changed responses of the batch in the stage (recorded in
 * conflicts) to o->changed; *n gets how many. */
static int report_changes(PGconn *conn, const struct push_options *o, size_t *n, struct err *e)
{
	PGresult *res = NULL;
	int rc = hub_query(conn,
		     "WITH c AS (SELECT s.province, s.quarter, s.form, s.agency, s.response_id, r.digest AS stored, "
		     "  s.digest AS pushed FROM push_stage_responses s JOIN " HUB_SCHEMA ".responses r "
		     "  ON r.province = s.province AND r.quarter = s.quarter AND r.form = s.form "
		     "  AND r.agency = s.agency AND r.response_id = s.response_id WHERE r.digest <> s.digest), "
		     "saved AS (INSERT INTO " HUB_SCHEMA ".conflicts(province, quarter, form, agency, response_id, "
		     "  stored_digest, pushed_digest) SELECT * FROM c ON CONFLICT DO NOTHING) "
		     "SELECT form, agency, response_id, quarter FROM c ORDER BY quarter, form, agency, response_id",
		     0, NULL, &res, e);

	if (rc)
		return rc;
	*n = (size_t)PQntuples(res);
	for (int i = 0; o->changed && i < PQntuples(res); i++) {
		struct period q;

		period_of_quarter(atoi(PQgetvalue(res, i, 3)), &q);
		o->changed(o->arg, &(struct push_change){ PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
							  PQgetvalue(res, i, 2), q.label });
	}
	PQclear(res);
	return 0;
}

/* One batch of responses, read and sent: *rows 0 when there was none. */
static int push_responses(PGconn *conn, struct push_source *src, const struct push_options *o,
			  const char *const *key, struct push_pos *at, struct strbuf *copy, size_t *rows,
			  struct push_stats *stats, struct err *e)
{
	struct push_pos last;
	PGresult *res = NULL;
	char seq[24], row[24];
	size_t added = 0, changed = 0;
	int rc;

	strbuf_reset(copy);
	rc = push_source_responses(src, at, o->batch, copy, rows, &last, e);
	if (rc || *rows == 0)
		return rc;
	rc = hub_exec(conn, "BEGIN", e);
	if (rc)
		return rc;
	rc = stage(conn, "responses", PUSH_RESPONSE_COLUMNS, copy, e);
	if (!rc)
		rc = hub_query(conn, "INSERT INTO " HUB_SCHEMA ".responses(" PUSH_RESPONSE_COLUMNS ") SELECT "
			 PUSH_RESPONSE_COLUMNS " FROM push_stage_responses ON CONFLICT DO NOTHING", 0, NULL, &res, e);
	if (!rc) {
		added = strtoull(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		/* every row new (the usual push): none can have changed */
		if (added < *rows)
			rc = report_changes(conn, o, &changed, e);
	}
	snprintf(seq, sizeof(seq), "%lld", (long long)last.seq);
	snprintf(row, sizeof(row), "%lld", (long long)last.row);
	if (!rc)
		rc = hub_query(conn, "UPDATE " HUB_SCHEMA ".marks SET response_seq = $3, response_row = $4, pushed_at = now() "
			 "WHERE province = $1 AND identity = $2", 4, (const char *const[]){ key[0], key[1], seq, row },
			 NULL, e);
	rc = finish(conn, rc, e);
	if (rc)
		return rc;
	*at = last;
	stats->sent += *rows;
	stats->added += added;
	stats->changed += changed;
	return 0;
}

/* One batch of dossier records: each replaces the hub's version of it. */
static int push_records(PGconn *conn, struct push_source *src, const struct push_options *o,
			const char *const *key, int64_t *at, struct strbuf *copy, size_t *rows,
			struct push_stats *stats, struct err *e)
{
	int64_t last;
	char seq[24];
	int rc;

	strbuf_reset(copy);
	rc = push_source_records(src, *at, o->batch, copy, rows, &last, e);
	if (rc || *rows == 0)
		return rc;
	rc = hub_exec(conn, "BEGIN", e);
	if (!rc)
		rc = stage(conn, "dossier_records", PUSH_RECORD_COLUMNS, copy, e);
	if (!rc)
		rc = hub_query(conn, "INSERT INTO " HUB_SCHEMA ".dossier_records(" PUSH_RECORD_COLUMNS ") SELECT "
			 PUSH_RECORD_COLUMNS " FROM push_stage_dossier_records ON CONFLICT (province, agency, code) "
			 "DO UPDATE SET received_by = excluded.received_by, sector = excluded.sector, "
			 "procedure = excluded.procedure, channel = excluded.channel, received_at = excluded.received_at, "
			 "due_at = excluded.due_at, finished_at = excluded.finished_at, "
			 "finished_day = excluded.finished_day, complaint = excluded.complaint, "
			 "updated_at = excluded.updated_at", 0, NULL, NULL, e);
	snprintf(seq, sizeof(seq), "%lld", (long long)last);
	if (!rc)
		rc = hub_query(conn, "UPDATE " HUB_SCHEMA ".marks SET record_seq = $3, pushed_at = now() "
			 "WHERE province = $1 AND identity = $2", 3, (const char *const[]){ key[0], key[1], seq }, NULL, e);
	rc = finish(conn, rc, e);
	if (rc)
		return rc;
	*at = last;
	stats->records += *rows;
	return 0;
}

int push_run(PGconn *conn, struct push_source *src, const struct push_options *o, struct push_stats *stats,
	     struct err *e)
{
	const char *key[2] = { o->province, push_source_identity(src) };
	struct strbuf copy;
	struct push_pos at = { 0, 0 };
	int64_t record = 0;
	size_t rows;
	int rc;

	memset(stats, 0, sizeof(*stats));
	strbuf_init(&copy, 0);
	rc = push_begin(conn, key, e);
	if (!rc)
		rc = push_tables_and_mark(conn, src, o, key, &at, &record, stats, e);
	do {
		if (!rc)
			rc = push_responses(conn, src, o, key, &at, &copy, &rows, stats, e);
		if (!rc && o->progress)
			progress_update(o->progress, stats->sent, stats->sent);
	} while (!rc && rows == o->batch);
	do {
		if (!rc)
			rc = push_records(conn, src, o, key, &record, &copy, &rows, stats, e);
	} while (!rc && rows == o->batch);
	strbuf_release(&copy);
	return rc;
}
