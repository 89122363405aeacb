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
	sqlite3_stmt *imports;     /* done imports from a number on, by seq */
	sqlite3_stmt *import_rows; /* an import's rows after an id */
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

/* the done imports from a visibility number on, and one import's rows
 * after an id: two statements, not a join, which SQLite would sort */
static const char imports_sql[] =
	"SELECT id, seq FROM imports WHERE seq >= ?1 AND state = 'done' ORDER BY seq";
static const char import_rows_sql[] =
	RESPONSE_SELECT "?2, r.id FROM responses r " RESPONSE_JOINS
	"WHERE r.import_id = ?3 AND r.id > ?4 ORDER BY r.id LIMIT ?5";

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
		rc = db_prepare(src->db, imports_sql, &src->imports, e);
	if (!rc)
		rc = db_prepare(src->db, import_rows_sql, &src->import_rows, e);
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
	sqlite3_finalize(src->imports);
	sqlite3_finalize(src->import_rows);
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

/* One of the two ordered streams of rows merged by push_source_responses:
 * its statement on a row (more 1) at position `at`, or ended (more 0). */
struct stream {
	sqlite3_stmt *st;
	struct push_pos at;
	int more;
};

static int stream_step(struct stream *s, struct err *e)
{
	s->more = step(s->st, e);
	if (s->more == 1)
		s->at = (struct push_pos){ sqlite3_column_int64(s->st, RESPONSE_SENT),
					   sqlite3_column_int64(s->st, RESPONSE_SENT + 1) };
	return s->more < 0 ? s->more : 0;
}

/* The imports' stream: the next row of this import, else (also when it
 * has not begun) the first of the next import that has one. */
static int imported_step(struct push_source *src, struct stream *s, const struct push_pos *after, size_t limit,
			 struct err *e)
{
	int rc = s->more ? stream_step(s, e) : 0, more = 0;

	while (!rc && !s->more && (more = step(src->imports, e)) == 1) {
		int64_t seq = sqlite3_column_int64(src->imports, 1);

		sqlite3_reset(s->st);
		sqlite3_bind_text(s->st, 1, src->province, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->st, 2, seq);
		sqlite3_bind_int64(s->st, 3, sqlite3_column_int64(src->imports, 0));
		sqlite3_bind_int64(s->st, 4, seq == after->seq ? after->row : 0);
		sqlite3_bind_int64(s->st, 5, (sqlite3_int64)limit);
		rc = stream_step(s, e);
	}
	return rc ? rc : more < 0 ? more : 0;
}

int push_source_responses(struct push_source *src, const struct push_pos *after, size_t limit,
			  struct strbuf *copy, size_t *rows, struct push_pos *last, struct err *e)
{
	/* s[0] collector ratings, s[1] imports' rows; each is limited to
	 * `limit`, so neither runs out early: the batch is full before */
	struct stream s[2] = { { src->collected, { 0, 0 }, 0 }, { src->import_rows, { 0, 0 }, 0 } };
	int rc;

	*rows = 0;
	*last = *after;
	rc = db_exec(src->db, "BEGIN", e);
	if (rc)
		return rc;
	sqlite3_reset(src->collected);
	sqlite3_bind_text(src->collected, 1, src->province, -1, SQLITE_STATIC);
	sqlite3_bind_int64(src->collected, 2, after->seq);
	sqlite3_bind_int64(src->collected, 3, after->row);
	sqlite3_bind_int64(src->collected, 4, (sqlite3_int64)limit);
	sqlite3_reset(src->imports);
	sqlite3_bind_int64(src->imports, 1, after->seq);
	sqlite3_reset(src->import_rows);
	rc = stream_step(&s[0], e);
	if (!rc)
		rc = imported_step(src, &s[1], after, limit, e);
	while (!rc && *rows < limit && (s[0].more || s[1].more)) {
		int i = !s[0].more || (s[1].more && pos_before(&s[1].at, &s[0].at));

		rc = copy_line(s[i].st, RESPONSE_SENT, copy, e);
		if (rc)
			break;
		assert(pos_before(last, &s[i].at));
		*last = s[i].at;
		++*rows;
		rc = i ? imported_step(src, &s[1], after, limit, e) : stream_step(&s[0], e);
	}
	sqlite3_reset(src->collected);
	sqlite3_reset(src->imports);
	sqlite3_reset(src->import_rows);
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
