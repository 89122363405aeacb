/*
 * records.c - checking and storing the one-stop system's dossier records
 * (see records.h).  Both ways in, the CSV export and the JSON of the API,
 * reduce a record to its fields as text and go through records_check, so
 * that they accept and refuse exactly the same records.
 */
#include "records.h"

#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/period.h"
#include "../lib/progress.h"
#include "../lib/utf8.h"

const char *const records_fields[RECORDS_N_FIELDS + 1] = {
	"dossier", "agency", "received_by", "sector", "procedure", "channel", "received_at", "due_at",
	"finished_at", "complaint", "updated_at", NULL
};

/* The fields a record may leave empty. */
static const int optional[RECORDS_N_FIELDS] = {
	[RECORDS_RECEIVED_BY] = 1, [RECORDS_DUE_AT] = 1, [RECORDS_FINISHED_AT] = 1
};

static const char *const channels[] = { "direct", "online", "postal", NULL };

static const char *const outcome_names[] = {
	[RECORDS_STORED] = "stored", [RECORDS_UPDATED] = "updated",
	[RECORDS_UNCHANGED] = "unchanged", [RECORDS_OLDER] = "older"
};

const char *records_outcome_name(int outcome)
{
	return outcome >= 0 && outcome <= RECORDS_OLDER ? outcome_names[outcome] : "?";
}

/* A text field: at most max bytes of UTF-8 without control characters. */
static int check_text(char *dst, size_t max, const char *field, const char *value, struct err *e)
{
	size_t n = strlen(value);

	if (n > max)
		return err_set_field(e, ERR_INVALID, field, "longer than %zu bytes", max);
	if (!utf8_valid(value, n))
		return err_set_field(e, ERR_INVALID, field, "is not valid UTF-8");
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set_field(e, ERR_INVALID, field, "holds a control character");
	memcpy(dst, value, n + 1);
	return 0;
}

static int check_agency(const struct registry *reg, const char *field, const char *value,
			const struct registry_entry **out, struct err *e)
{
	*out = registry_agency(reg, value);
	return *out ? 0 : err_set_field(e, ERR_INVALID, field, "unknown agency '%.40s'", value);
}

/* A time.  A date alone is refused except where date_ok: the one-stop
 * system writes a deadline as a day (the receipt's "ngày hẹn trả"), which
 * then runs to the end of that day in Vietnam time; every other time is
 * an instant. */
static int check_time(const char *field, const char *value, int date_ok, int64_t *ts, int32_t *day,
		      struct err *e)
{
	struct err why;

	if (period_parse_timestamp(value, ts, day, &why) != 0)
		return err_set_field(e, ERR_INVALID, field, "%s", why.text);
	if (strlen(value) == 10) {
		if (!date_ok)
			return err_set_field(e, ERR_INVALID, field, "'%s' is a date: give the date and time "
					     "(ISO 8601, e.g. 2026-07-01T09:30:00+07:00)", value);
		*ts += 86400 - 1;
	}
	return 0;
}

int records_check(const struct registry *reg, const char *const *value, int64_t now,
		  struct records_record *out, struct err *e)
{
	const char *v[RECORDS_N_FIELDS];
	int32_t day, received_day;
	int rc;

	memset(out, 0, sizeof(*out));
	for (int f = 0; f < RECORDS_N_FIELDS; f++) {
		v[f] = value[f] ? value[f] : "";
		if (!*v[f] && !optional[f])
			return err_set_field(e, ERR_INVALID, records_fields[f], "required");
	}
	if ((rc = check_text(out->dossier, RECORDS_MAX_CODE, "dossier", v[RECORDS_DOSSIER], e)) ||
	    (rc = check_agency(reg, "agency", v[RECORDS_AGENCY], &out->agency, e)))
		return rc;
	/* an office that takes in only its own dossiers may leave it empty */
	out->received_by = out->agency;
	if (*v[RECORDS_RECEIVED_BY] &&
	    (rc = check_agency(reg, "received_by", v[RECORDS_RECEIVED_BY], &out->received_by, e)))
		return rc;
	out->sector = registry_sector(reg, v[RECORDS_SECTOR]);
	if (!out->sector)
		return err_set_field(e, ERR_INVALID, "sector", "unknown sector '%.40s'", v[RECORDS_SECTOR]);
	if ((rc = check_text(out->procedure, RECORDS_MAX_PROCEDURE, "procedure", v[RECORDS_PROCEDURE], e)))
		return rc;
	for (int c = 0; channels[c]; c++)
		if (strcmp(v[RECORDS_CHANNEL], channels[c]) == 0)
			out->channel = channels[c];
	if (!out->channel)
		return err_set_field(e, ERR_INVALID, "channel", "'%.40s' is not direct, online or postal",
				     v[RECORDS_CHANNEL]);
	if ((rc = check_time("received_at", v[RECORDS_RECEIVED_AT], 0, &out->received_at, &received_day, e)))
		return rc;
	out->has_due = *v[RECORDS_DUE_AT] != '\0';
	if (out->has_due && (rc = check_time("due_at", v[RECORDS_DUE_AT], 1, &out->due_at, &day, e)))
		return rc;
	if (out->has_due && out->due_at < out->received_at)
		return err_set_field(e, ERR_INVALID, "due_at", "before received_at");
	out->has_finished = *v[RECORDS_FINISHED_AT] != '\0';
	if (out->has_finished) {
		if ((rc = check_time("finished_at", v[RECORDS_FINISHED_AT], 0, &out->finished_at,
					 &out->finished_day, e)))
			return rc;
		if (out->finished_at < out->received_at)
			return err_set_field(e, ERR_INVALID, "finished_at", "before received_at");
	}
	/* the office took it in on its day, the deciding agency decided on its
	 * own (or, not yet finished, holds it since it came in): each must
	 * exist then (docs/onestop.md, "Registry with history") */
	if ((rc = registry_check_valid(out->received_by, received_day, e))) {
		if (e)
			snprintf(e->field, sizeof(e->field), "received_by");
		return rc;
	}
	if ((rc = registry_check_valid(out->agency, out->has_finished ? out->finished_day : received_day, e)))
		return rc;
	if (strcmp(v[RECORDS_COMPLAINT], "0") != 0 && strcmp(v[RECORDS_COMPLAINT], "1") != 0)
		return err_set_field(e, ERR_INVALID, "complaint", "'%.40s' is not 0 or 1", v[RECORDS_COMPLAINT]);
	out->complaint = v[RECORDS_COMPLAINT][0] == '1';
	if ((rc = check_time("updated_at", v[RECORDS_UPDATED_AT], 0, &out->updated_at, &day, e)))
		return rc;
	/* a version from the future would hide every real update until then */
	if (out->updated_at > now + RECORDS_FUTURE_SECONDS)
		return err_set_field(e, ERR_INVALID, "updated_at", "is in the future (check the sender's clock)");
	if (out->updated_at < out->received_at)
		return err_set_field(e, ERR_INVALID, "updated_at", "before received_at");
	return 0;
}

int records_check_json(const struct registry *reg, json_t *obj, int64_t now, struct records_record *out,
		       struct err *e)
{
	const char *value[RECORDS_N_FIELDS] = { NULL };
	char complaint[32];
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return err_set(e, ERR_INVALID, "a record must be an object");
	json_object_foreach(obj, key, v) {
		int f = 0;

		while (f < RECORDS_N_FIELDS && strcmp(key, records_fields[f]) != 0)
			f++;
		if (f == RECORDS_N_FIELDS)
			return err_set_field(e, ERR_INVALID, key, "unknown field");
		if (f == RECORDS_COMPLAINT && json_is_boolean(v)) {
			value[f] = json_is_true(v) ? "1" : "0";
		} else if (f == RECORDS_COMPLAINT && json_is_integer(v)) {
			snprintf(complaint, sizeof(complaint), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			value[f] = complaint;
		} else if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
			value[f] = json_string_value(v);
		} else if (!json_is_null(v) || !optional[f]) {
			return err_set_field(e, ERR_INVALID, key, f == RECORDS_COMPLAINT ? "must be 0 or 1"
							      : "must be a string without NUL");
		}
	}
	return records_check(reg, value, now, out, e);
}

struct records_store {
	sqlite3 *db;
	sqlite3_stmt *get, *put;
};

int records_store_new(sqlite3 *db, struct records_store **out, struct err *e)
{
	struct records_store *st = calloc(1, sizeof(*st));
	int rc;

	if (!st)
		return err_set(e, ERR_NOMEM, "out of memory");
	st->db = db;
	rc = db_prepare(db, "SELECT updated_at FROM dossier_records WHERE agency_id = ?1 AND code = ?2", &st->get, e);
	if (!rc)
		rc = db_prepare(db, "INSERT INTO dossier_records(agency_id, code, received_by, sector_id, procedure, "
				"channel, received_at, due_at, finished_at, finished_day, complaint, updated_at, "
				"stored_at, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
				DB_NEXT_RECORD_SEQ ") "
				"ON CONFLICT (agency_id, code) DO UPDATE SET received_by = excluded.received_by, "
				"sector_id = excluded.sector_id, procedure = excluded.procedure, "
				"channel = excluded.channel, received_at = excluded.received_at, "
				"due_at = excluded.due_at, finished_at = excluded.finished_at, "
				"finished_day = excluded.finished_day, complaint = excluded.complaint, "
				"updated_at = excluded.updated_at, stored_at = excluded.stored_at, seq = excluded.seq", &st->put, e);
	if (rc) {
		records_store_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

int records_store_put(struct records_store *st, const struct records_record *r, int64_t now, int *outcome,
		      struct err *e)
{
	int step;

	sqlite3_bind_int64(st->get, 1, r->agency->id);
	sqlite3_bind_text(st->get, 2, r->dossier, -1, SQLITE_STATIC);
	step = sqlite3_step(st->get);
	if (step == SQLITE_ROW) {
		int64_t stored = sqlite3_column_int64(st->get, 0);

		*outcome = r->updated_at > stored ? RECORDS_UPDATED
			   : r->updated_at == stored ? RECORDS_UNCHANGED : RECORDS_OLDER;
	} else {
		*outcome = RECORDS_STORED;
	}
	sqlite3_reset(st->get);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(st->db, e, "reading a dossier record");
	if (*outcome == RECORDS_UNCHANGED || *outcome == RECORDS_OLDER)
		return 0;
	sqlite3_bind_int64(st->put, 1, r->agency->id);
	sqlite3_bind_text(st->put, 2, r->dossier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->put, 3, r->received_by->id);
	sqlite3_bind_int64(st->put, 4, r->sector->id);
	sqlite3_bind_text(st->put, 5, r->procedure, -1, SQLITE_STATIC);
	sqlite3_bind_text(st->put, 6, r->channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->put, 7, r->received_at);
	if (r->has_due)
		sqlite3_bind_int64(st->put, 8, r->due_at);
	else
		sqlite3_bind_null(st->put, 8);
	if (r->has_finished) {
		sqlite3_bind_int64(st->put, 9, r->finished_at);
		sqlite3_bind_int(st->put, 10, r->finished_day);
	} else {
		sqlite3_bind_null(st->put, 9);
		sqlite3_bind_null(st->put, 10);
	}
	sqlite3_bind_int(st->put, 11, r->complaint);
	sqlite3_bind_int64(st->put, 12, r->updated_at);
	sqlite3_bind_int64(st->put, 13, now);
	step = sqlite3_step(st->put);
	sqlite3_reset(st->put);
	return step == SQLITE_DONE ? 0 : db_fail(st->db, e, "storing a dossier record");
}

void records_store_free(struct records_store *st)
{
	if (!st)
		return;
	sqlite3_finalize(st->get);
	sqlite3_finalize(st->put);
	free(st);
}

/* Check and store one data row of the file. */
static int import_row(struct records_store *st, const struct registry *reg, struct csv_reader *r,
		      const long *col, size_t ncols, int64_t now, struct records_stats *stats, struct err *e)
{
	const char *value[RECORDS_N_FIELDS] = { NULL };
	struct records_record rec;
	int rc, outcome;

	if (csv_nfields(r) != ncols)
		return csv_row_fail(r, e, NULL, "%zu fields, the header has %zu", csv_nfields(r), ncols);
	for (int f = 0; f < RECORDS_N_FIELDS; f++)
		if (col[f] >= 0)
			value[f] = csv_field(r, (size_t)col[f]);
	rc = records_check(reg, value, now, &rec, e);
	if (rc)
		return csv_row_locate(r, e);
	rc = records_store_put(st, &rec, now, &outcome, e);
	if (!rc)
		stats->outcomes[outcome]++;
	return rc;
}

/* Read, check and store the data rows, listing the bad ones; only a
 * failing database stops it.  *stopped gets the line where the file
 * stopped being CSV, if it did. */
static int load_rows(struct records_store *st, const struct registry *reg, struct csv_reader *r,
		     const long *col, uint64_t size, int64_t now, struct records_stats *stats,
		     struct csv_bad_rows *bad, long *stopped, struct err *e)
{
	size_t ncols = csv_nfields(r);
	struct progress prog;
	int rc;

	progress_start(&prog, csv_name(r), size);
	while ((rc = csv_read_record(r, e)) == 1) {
		stats->rows++;
		rc = import_row(st, reg, r, col, ncols, now, stats, e);
		if (rc && rc != ERR_INVALID)
			break;
		if (rc)
			csv_bad_rows_note(bad, csv_line(r), e);
		progress_update(&prog, csv_bytes(r), (uint64_t)stats->rows);
	}
	if (rc == ERR_INVALID) {
		*stopped = csv_line(r);
		csv_bad_rows_note(bad, *stopped, e);
		rc = 0;
	}
	progress_end(&prog);
	return rc;
}

int records_import_csv(sqlite3 *db, const struct registry *reg, FILE *fp, const char *name, uint64_t size,
		       int64_t now, struct records_stats *stats, struct csv_bad_rows *bad, struct err *e)
{
	struct csv_reader *r = csv_reader_new(fp, name);
	struct records_store *st = NULL;
	long col[RECORDS_N_FIELDS], stopped = 0;
	int required[RECORDS_N_FIELDS];
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(bad, 0, sizeof(*bad));
	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	for (int f = 0; f < RECORDS_N_FIELDS; f++)
		required[f] = !optional[f];
	rc = db_exec(db, "BEGIN IMMEDIATE", e);
	if (rc)
		goto out;
	rc = records_store_new(db, &st, e);
	if (!rc) {
		rc = csv_read_record(r, e);
		if (rc == 0)
			rc = err_set(e, ERR_INVALID, "%s: empty file (a header row is required)", name);
		if (rc == 1)
			rc = csv_map_header(r, records_fields, required, col, e);
	}
	if (!rc)
		rc = load_rows(st, reg, r, col, size, now, stats, bad, &stopped, e);
	if (!rc && bad->bad) {
		char stop[64] = "";

		if (stopped)
			snprintf(stop, sizeof(stop), ", checking stopped at line %ld", stopped);
		rc = err_set(e, ERR_INVALID, "%s: %ld bad %s of %ld%s; nothing stored (a file loads whole or "
			     "not at all)", name, bad->bad, bad->bad == 1 ? "row" : "rows", stats->rows, stop);
	}
	records_store_free(st);
	st = NULL;
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
out:
	csv_reader_free(r);
	return rc;
}
