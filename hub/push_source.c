/*
 * push_source.c - reading a province's database for a push (see
 * push_source.h).
 *
 * Codes, never the province database's ids, go to the hub: every query
 * joins the registry's tables.  Rows become COPY text lines here, so that
 * a batch is one buffer and the SQLite read transaction ends before the
 * first byte goes to the hub.
 */
#include "push_source.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/period.h"

struct push_source {
	sqlite3 *db;
	const char *province;
	char identity[PUSH_IDENTITY_MAX];
	sqlite3_stmt *collected;   /* collector ratings after a position, by seq */
	sqlite3_stmt *imported;    /* done imports' rows after a position, by (imports.seq, id) */
	sqlite3_stmt *records;     /* dossier records after a number */
};

/* What a response row is on the hub; the last two columns are its
 * position, not sent. */
#define RESPONSE_SELECT \
	"SELECT ?1, sipas_quarter(r.day), f.code, a.code, r.response_id, r.day, r.ts, s.code, r.channel, " \
	"r.dossier_code, st.code, p.code, r.weight, CAST(r.answers AS BLOB), CAST(r.choices AS BLOB), " \
	"CAST(r.digest AS BLOB), "
#define RESPONSE_JOINS \
	"JOIN forms f ON f.id = r.form_id JOIN agencies a ON a.id = r.agency_id " \
	"JOIN sectors s ON s.id = r.sector_id JOIN strata st ON st.id = r.stratum_id " \
	"LEFT JOIN psus p ON p.id = r.psu_id "
#define RESPONSE_SENT 16

static const char collected_sql[] =
	RESPONSE_SELECT "r.seq, r.id FROM responses r " RESPONSE_JOINS
	"WHERE r.seq >= ?2 AND (r.seq > ?2 OR r.id > ?3) ORDER BY r.seq LIMIT ?4";

/* CROSS JOIN: imports drive, by imports_by_seq, and each one's rows come
 * by responses_by_import in id order, which is the order asked for */
static const char imported_sql[] =
	RESPONSE_SELECT "i.seq, r.id FROM imports i CROSS JOIN responses r " RESPONSE_JOINS
	"WHERE i.seq >= ?2 AND i.state = 'done' AND r.import_id = i.id AND (i.seq > ?2 OR r.id > ?3) "
	"ORDER BY i.seq, r.id LIMIT ?4";

static const char records_sql[] =
	"SELECT ?1, a.code, d.code, rb.code, s.code, d.procedure, d.channel, d.received_at, d.due_at, "
	"d.finished_at, d.finished_day, d.complaint, d.updated_at, d.seq FROM dossier_records d "
	"JOIN agencies a ON a.id = d.agency_id JOIN agencies rb ON rb.id = d.received_by "
	"JOIN sectors s ON s.id = d.sector_id WHERE d.seq > ?2 ORDER BY d.seq LIMIT ?3";
#define RECORD_SENT 13

const struct push_table push_tables[PUSH_N_TABLES] = {
	{ "forms", "code, json", "SELECT code, json FROM forms ORDER BY code",
	  { "INSERT INTO sipas.forms(hash, code, json) SELECT sha256(convert_to(json, 'UTF8')), code, json "
	    "FROM push_stage_forms ON CONFLICT DO NOTHING",
	    "DELETE FROM sipas.province_forms WHERE province = $1",
	    "INSERT INTO sipas.province_forms(province, code, hash) "
	    "SELECT $1, code, sha256(convert_to(json, 'UTF8')) FROM push_stage_forms" } },
	{ "agencies", "province, code, name, level, parent, valid_from, valid_to, successor",
	  "SELECT ?1, a.code, a.name, a.level, p.code, date(a.valid_from * 86400, 'unixepoch'), "
	  "date(a.valid_to * 86400, 'unixepoch'), s.code FROM agencies a LEFT JOIN agencies p ON p.id = a.parent_id "
	  "LEFT JOIN agencies s ON s.id = a.successor_id ORDER BY a.code", { NULL } },
	{ "sectors", "province, code, name", "SELECT ?1, code, name FROM sectors ORDER BY code", { NULL } },
	{ "targets", "province, scope, code, from_quarter, threshold",
	  "SELECT ?1, scope, coalesce(code, ''), from_quarter, threshold FROM targets", { NULL } },
	{ "dossier_totals", "province, period, quarter, agency, sector, dossiers",
	  "SELECT ?1, d.period, d.quarter, a.code, s.code, d.dossiers FROM dossiers d "
	  "JOIN agencies a ON a.id = d.agency_id JOIN sectors s ON s.id = d.sector_id", { NULL } },
	{ "published", "province, form, period, grouping, json",
	  "SELECT ?1, f.code, p.period, p.grouping, p.json FROM published_scores p JOIN forms f ON f.id = p.form_id",
	  { NULL } },
};

/* sipas_quarter(day): the quarter ordinal of a Vietnam day, the hub's
 * partition key */
static void quarter_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_result_int(ctx, period_quarter_of_day((int32_t)sqlite3_value_int64(argv[0])));
}

int push_source_open(const char *path, const char *province, struct push_source **out, struct err *e)
{
	struct push_source *src = calloc(1, sizeof(*src));
	int rc;

	if (!src)
		return err_set(e, ERR_NOMEM, "out of memory");
	src->province = province;
	rc = db_open(path, DB_READONLY, &src->db, e);
	if (!rc && sqlite3_create_function(src->db, "sipas_quarter", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
					   quarter_fn, NULL, NULL) != SQLITE_OK)
		rc = db_fail(src->db, e, "registering sipas_quarter");
	if (!rc)
		rc = db_setting_get(src->db, "identity", src->identity, sizeof(src->identity), e);
	if (!rc && !*src->identity)
		rc = err_set(e, ERR_NOT_FOUND, "%s has no identity (settings 'identity'): migrate it with sipas init",
			     path);
	if (!rc)
		rc = db_prepare(src->db, collected_sql, &src->collected, e);
	if (!rc)
		rc = db_prepare(src->db, imported_sql, &src->imported, e);
	if (!rc)
		rc = db_prepare(src->db, records_sql, &src->records, e);
	if (rc) {
		push_source_close(src);
		return rc;
	}
	*out = src;
	return 0;
}

const char *push_source_identity(const struct push_source *src)
{
	return src->identity;
}

void push_source_close(struct push_source *src)
{
	if (!src)
		return;
	sqlite3_finalize(src->collected);
	sqlite3_finalize(src->imported);
	sqlite3_finalize(src->records);
	db_close(src->db);
	free(src);
}

/* Append text as a COPY text field: backslash and the line and field
 * separators escaped. */
static void copy_text(struct strbuf *sb, const unsigned char *s, int n)
{
	for (int i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': strbuf_add(sb, "\\\\", 2); break;
		case '\n': strbuf_add(sb, "\\n", 2); break;
		case '\r': strbuf_add(sb, "\\r", 2); break;
		case '\t': strbuf_add(sb, "\\t", 2); break;
		default: strbuf_addch(sb, s[i]);
		}
	}
}

/* Append the first n columns of st's row as one COPY text line: NULL as
 * \N, a blob as bytea's hex form (its backslash escaped), a real with
 * every digit it needs to come back the same double. */
static int copy_line(sqlite3_stmt *st, int n, struct strbuf *sb, struct err *e)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < n; i++) {
		if (i)
			strbuf_addch(sb, '\t');
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_NULL:
			strbuf_add(sb, "\\N", 2);
			break;
		case SQLITE_INTEGER:
			strbuf_addf(sb, "%lld", (long long)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			strbuf_addf(sb, "%.17g", sqlite3_column_double(st, i));
			break;
		case SQLITE_BLOB: {
			const unsigned char *b = sqlite3_column_blob(st, i);
			int len = sqlite3_column_bytes(st, i);

			strbuf_add(sb, "\\\\x", 3);
			if (strbuf_grow(sb, (size_t)len * 2) == 0) {
				for (int j = 0; j < len; j++) {
					sb->buf[sb->len++] = hex[b[j] >> 4];
					sb->buf[sb->len++] = hex[b[j] & 15];
				}
				sb->buf[sb->len] = '\0';
			}
			break;
		}
		default:
			copy_text(sb, sqlite3_column_text(st, i), sqlite3_column_bytes(st, i));
		}
	}
	strbuf_addch(sb, '\n');
	return sb->failed ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}

/* Step st: 1 with a row, 0 at the end, or ERR_DB. */
static int step(sqlite3_stmt *st, struct err *e)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(sqlite3_db_handle(st), e, "reading the province database");
}

/* A position's order: a < b. */
static int pos_before(const struct push_pos *a, const struct push_pos *b)
{
	return a->seq < b->seq || (a->seq == b->seq && a->row < b->row);
}

static void bind_after(sqlite3_stmt *st, const char *province, const struct push_pos *after, size_t limit)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, province, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after->seq);
	sqlite3_bind_int64(st, 3, after->row);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
}

int push_source_responses(struct push_source *src, const struct push_pos *after, size_t limit,
			  struct strbuf *copy, size_t *rows, struct push_pos *last, struct err *e)
{
	sqlite3_stmt *streams[2] = { src->collected, src->imported };
	struct push_pos at[2];
	int more[2], rc;

	*rows = 0;
	*last = *after;
	rc = db_exec(src->db, "BEGIN", e);
	if (rc)
		return rc;
	/* a merge of the two ordered streams; each is limited to `limit`, so
	 * neither runs out early: the batch is full before it could */
	for (int i = 0; i < 2; i++) {
		bind_after(streams[i], src->province, after, limit);
		more[i] = step(streams[i], e);
		if (more[i] < 0) {
			rc = more[i];
			goto out;
		}
		if (more[i])
			at[i] = (struct push_pos){ sqlite3_column_int64(streams[i], RESPONSE_SENT),
						   sqlite3_column_int64(streams[i], RESPONSE_SENT + 1) };
	}
	while (*rows < limit && (more[0] || more[1])) {
		int i = !more[0] || (more[1] && pos_before(&at[1], &at[0]));

		rc = copy_line(streams[i], RESPONSE_SENT, copy, e);
		if (rc)
			goto out;
		assert(pos_before(last, &at[i]));
		*last = at[i];
		++*rows;
		more[i] = step(streams[i], e);
		if (more[i] < 0) {
			rc = more[i];
			goto out;
		}
		if (more[i])
			at[i] = (struct push_pos){ sqlite3_column_int64(streams[i], RESPONSE_SENT),
						   sqlite3_column_int64(streams[i], RESPONSE_SENT + 1) };
	}
out:
	sqlite3_reset(src->collected);
	sqlite3_reset(src->imported);
	db_exec(src->db, "COMMIT", NULL);
	return rc;
}

int push_source_records(struct push_source *src, int64_t after, size_t limit, struct strbuf *copy,
			size_t *rows, int64_t *last, struct err *e)
{
	sqlite3_stmt *st = src->records;
	int rc, more;

	*rows = 0;
	*last = after;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, src->province, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	/* one statement: its own read transaction */
	while ((more = step(st, e)) == 1) {
		rc = copy_line(st, RECORD_SENT, copy, e);
		if (rc) {
			sqlite3_reset(st);
			return rc;
		}
		*last = sqlite3_column_int64(st, RECORD_SENT);
		++*rows;
	}
	sqlite3_reset(st);
	return more;
}

int push_source_tables(struct push_source *src, struct strbuf *copies, size_t *rows, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_exec(src->db, "BEGIN", e), more = 0;

	for (size_t t = 0; !rc && t < PUSH_N_TABLES; t++) {
		rows[t] = 0;
		rc = db_prepare(src->db, push_tables[t].query, &st, e);
		if (rc)
			break;
		sqlite3_bind_text(st, 1, src->province, -1, SQLITE_STATIC);
		while (!rc && (more = step(st, e)) == 1) {
			rc = copy_line(st, sqlite3_column_count(st), &copies[t], e);
			rows[t]++;
		}
		if (!rc)
			rc = more;
		sqlite3_finalize(st);
		st = NULL;
	}
	db_exec(src->db, "COMMIT", NULL);
	return rc;
}
