/*
 * dossiers.c - loading and summing dossier totals (see dossiers.h).
 */
#include "dossiers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/csv.h"
#include "../lib/period.h"

#define MAX_DOSSIERS 100000000LL   /* per row: far above any agency's quarter */

/* A period of the file: "YYYYQn" or "YYYY-MM"; *quarter gets its quarter. */
static int parse_period(const char *s, int *quarter)
{
	char *end;
	long year, month;

	if (strlen(s) == 6)
		return period_parse_quarter(s, quarter, NULL);
	if (strlen(s) != 7 || s[4] != '-' || strspn(s, "0123456789-") != 7)
		return -1;
	year = strtol(s, &end, 10);
	month = strtol(s + 5, &end, 10);
	if (year < 2000 || year > 2100 || month < 1 || month > 12)
		return -1;
	*quarter = (int)(year * 4 + (month - 1) / 3);
	return 0;
}

/* A count: a whole number from 0 to MAX_DOSSIERS, read as every number of
 * a file is (csv_parse_decimal); *hint as that gives it. */
static int parse_count(const struct csv_reader *r, const char *s, long long *out, const char **hint)
{
	double v;

	if (csv_parse_decimal(s, csv_decimal_comma(r), &v, hint) != 0 || v != floor(v) || v > MAX_DOSSIERS)
		return -1;
	*out = (long long)v;
	return 0;
}

/* The statements of one import. */
struct loader {
	sqlite3_stmt *clear, *seen, *insert;
};

static int import_row(sqlite3 *db, struct loader *l, const struct registry *reg, struct csv_reader *r,
		      const long *col, struct dossier_stats *stats, struct err *e)
{
	const char *period = csv_field(r, (size_t)col[0]), *agency_code = csv_field(r, (size_t)col[1]);
	const char *sector_code = csv_field(r, (size_t)col[2]), *count = csv_field(r, (size_t)col[3]);
	const struct registry_entry *agency = registry_agency(reg, agency_code);
	const struct registry_entry *sector = registry_sector(reg, sector_code);
	const char *hint;
	long long dossiers;
	struct period days;
	int quarter, first;

	if (parse_period(period, &quarter) != 0)
		return csv_row_fail(r, e, "period", "'%.40s' is not a quarter (YYYYQn) or a month (YYYY-MM)",
				    period);
	if (!agency)
		return csv_row_fail(r, e, "agency", "unknown agency '%.40s'", agency_code);
	period_of_quarter(quarter, &days);
	/* a total of a quarter the agency saw no day of (a month is checked
	 * by its quarter: mergers take effect on a quarter's first day) */
	if (registry_check_valid(agency, days.first_day, e) && registry_check_valid(agency, days.last_day, e))
		return csv_row_locate(r, e);
	if (!sector)
		return csv_row_fail(r, e, "sector", "unknown sector '%.40s'", sector_code);
	if (parse_count(r, count, &dossiers, &hint) != 0)
		return csv_row_fail(r, e, "dossiers", "'%.40s' is not a whole number from 0 to %lld%s", count,
				    MAX_DOSSIERS, hint);
	/* the first row of a (period, agency) in this file clears its stored rows */
	sqlite3_bind_text(l->seen, 1, period, -1, SQLITE_STATIC);
	sqlite3_bind_int64(l->seen, 2, agency->id);
	if (sqlite3_step(l->seen) != SQLITE_DONE)
		return db_fail(db, e, "loading dossier totals");
	first = sqlite3_changes(db) == 1;
	sqlite3_reset(l->seen);
	if (first) {
		sqlite3_bind_text(l->clear, 1, period, -1, SQLITE_STATIC);
		sqlite3_bind_int64(l->clear, 2, agency->id);
		if (sqlite3_step(l->clear) != SQLITE_DONE)
			return db_fail(db, e, "replacing dossier totals");
		stats->replaced += sqlite3_changes(db);
		sqlite3_reset(l->clear);
	}
	sqlite3_bind_text(l->insert, 1, period, -1, SQLITE_STATIC);
	sqlite3_bind_int(l->insert, 2, quarter);
	sqlite3_bind_int64(l->insert, 3, agency->id);
	sqlite3_bind_int64(l->insert, 4, sector->id);
	sqlite3_bind_int64(l->insert, 5, dossiers);
	if (sqlite3_step(l->insert) != SQLITE_DONE) {
		int dup = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY;

		sqlite3_reset(l->insert);
		return dup ? csv_row_fail(r, e, NULL, "%s, %s and %s are given twice", period, agency_code,
					  sector_code)
			   : db_fail(db, e, "storing dossier totals");
	}
	sqlite3_reset(l->insert);
	stats->rows++;
	return 0;
}

/* Read and load the data rows, listing the bad ones; ERR_DB and the like
 * stop it, bad rows do not.  *stopped gets the line where the file stopped
 * being CSV, if it did. */
static int load_rows(sqlite3 *db, struct loader *l, const struct registry *reg, struct csv_reader *r,
		     const long *col, struct dossier_stats *stats, struct csv_bad_rows *bad, long *read,
		     long *stopped, struct err *e)
{
	int rc;

	while ((rc = csv_read_record(r, e)) == 1) {
		(*read)++;
		rc = csv_nfields(r) != 4
			? csv_row_fail(r, e, NULL, "%zu fields, the header has 4", csv_nfields(r))
			: import_row(db, l, reg, r, col, stats, e);
		if (rc && rc != ERR_INVALID)
			return rc;
		if (rc)
			csv_bad_rows_note(bad, csv_line(r), e);
	}
	if (rc == ERR_INVALID) {
		*stopped = csv_line(r);
		csv_bad_rows_note(bad, *stopped, e);
		rc = 0;
	}
	return rc;
}

int dossier_import(sqlite3 *db, const struct registry *reg, FILE *fp, const char *name,
		   struct dossier_stats *stats, struct csv_bad_rows *bad, struct err *e)
{
	static const char *const cols[] = { "period", "agency", "sector", "dossiers", NULL };
	static const int required[] = { 1, 1, 1, 1 };
	struct csv_reader *r = csv_reader_new(fp, name);
	struct loader l = { NULL, NULL, NULL };
	long col[4], read = 0, stopped = 0;
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(bad, 0, sizeof(*bad));
	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	rc = db_exec(db, "BEGIN IMMEDIATE", e);
	if (rc)
		goto out;
	/* rows inserted by this file are the (period, agency) pairs it has seen */
	rc = db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS dossier_import(period TEXT, agency_id INTEGER, "
		     "PRIMARY KEY (period, agency_id)); DELETE FROM temp.dossier_import", e);
	if (!rc)
		rc = db_prepare(db, "DELETE FROM dossiers WHERE period = ?1 AND agency_id = ?2", &l.clear, e);
	if (!rc)
		rc = db_prepare(db, "INSERT OR IGNORE INTO temp.dossier_import VALUES (?1, ?2)", &l.seen, e);
	if (!rc)
		rc = db_prepare(db, "INSERT INTO dossiers(period, quarter, agency_id, sector_id, dossiers) "
				"VALUES (?1, ?2, ?3, ?4, ?5)", &l.insert, e);
	if (!rc) {
		rc = csv_read_record(r, e);
		if (rc == 0)
			rc = err_set(e, ERR_INVALID, "%s: empty file (a header row is required)", name);
		if (rc == 1)
			rc = csv_map_header(r, cols, required, col, e);
	}
	if (!rc)
		rc = load_rows(db, &l, reg, r, col, stats, bad, &read, &stopped, e);
	if (!rc && bad->bad) {
		char stop[64] = "";

		if (stopped)
			snprintf(stop, sizeof(stop), ", checking stopped at line %ld", stopped);
		rc = err_set(e, ERR_INVALID, "%s: %ld bad %s of %ld%s; nothing loaded (a file loads whole or "
			     "not at all)", name, bad->bad, bad->bad == 1 ? "row" : "rows", read, stop);
	}
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
out:
	sqlite3_finalize(l.clear);
	sqlite3_finalize(l.seen);
	sqlite3_finalize(l.insert);
	csv_reader_free(r);
	return rc;
}

int dossier_cells(sqlite3 *db, int first_quarter, int last_quarter,
		  int (*fn)(const struct dossier_cell *cell, void *arg), void *arg, struct err *e)
{
	sqlite3_stmt *st = NULL;
	/* a month row's period is YYYY-MM, a quarter row's YYYYQn; the primary
	 * key (period, agency, sector) makes each month's bit appear once */
	int rc = db_prepare(db, "SELECT agency_id, sector_id, quarter, "
			    "  max(CASE WHEN length(period) = 6 THEN dossiers END), "
			    "  sum(CASE WHEN length(period) = 7 THEN dossiers END), "
			    "  sum(CASE WHEN length(period) = 7 "
			    "    THEN 1 << ((CAST(substr(period, 6, 2) AS INTEGER) - 1) % 3) END) "
			    "FROM dossiers WHERE quarter BETWEEN ?1 AND ?2 "
			    "GROUP BY agency_id, sector_id, quarter ORDER BY agency_id, sector_id, quarter",
			    &st, e);
	int step = SQLITE_DONE;

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, first_quarter);
	sqlite3_bind_int(st, 2, last_quarter);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct dossier_cell c;

		c.agency_id = sqlite3_column_int64(st, 0);
		c.sector_id = sqlite3_column_int64(st, 1);
		c.quarter = sqlite3_column_int(st, 2);
		c.months = (unsigned)sqlite3_column_int(st, 5);
		c.complete = sqlite3_column_type(st, 3) != SQLITE_NULL || c.months == 7;
		c.dossiers = !c.complete ? 0
			     : sqlite3_column_type(st, 3) != SQLITE_NULL ? sqlite3_column_int64(st, 3)
			     : sqlite3_column_int64(st, 4);
		rc = fn(&c, arg);
	}
	if (!rc && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading dossier totals");
	sqlite3_finalize(st);
	return rc;
}
