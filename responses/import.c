/*
 * import.c - CSV import of responses (see import.h): map the header to
 * response fields, check and stage each row, then copy the staged rows in
 * one short write transaction.  A bad row does not stop the check: every
 * row is checked, so a refused file names all its bad rows at once (the
 * first hundred kept, the rest counted), and only a file with none is
 * copied.
 *
 * The collector's writer shares the database's one write lock.  Checking a
 * million rows takes seconds; so the rows are checked and staged in TEMP
 * tables (store_stage), which takes no lock on the live tables, and the lock
 * is held only for the copy (store_stage_copy), where duplicates and
 * conflicts with stored rows are found.
 */
#include "import.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/array.h"
#include "../lib/clock.h"
#include "../lib/csv.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "../lib/progress.h"
#include "published.h"
#include "store.h"
#include "response.h"

/* Columns every file must have (docs/design.md). */
static const char *const required_columns[] = {
	"response_id", "submitted_at", "agency", "sector", NULL
};

static int map_columns(struct csv_reader *r, const struct form *form,
		       struct response_field *fields, struct err *e)
{
	size_t n = csv_nfields(r);

	for (size_t i = 0; i < n; i++) {
		const char *name = csv_field(r, i);

		if (response_field_lookup(form, name, &fields[i], NULL))
			return csv_row_fail(r, e, name, "unknown column");
		fields[i].decimal_comma = csv_decimal_comma(r);
		fields[i].spreadsheet = 1;
		for (size_t j = 0; j < i; j++)
			if (fields[j].kind == fields[i].kind && fields[j].index == fields[i].index)
				return csv_row_fail(r, e, name, "appears twice");
	}
	for (size_t k = 0; required_columns[k]; k++) {
		struct response_field want;
		size_t i;

		response_field_lookup(form, required_columns[k], &want, NULL);
		for (i = 0; i < n; i++)
			if (fields[i].kind == want.kind)
				break;
		if (i == n)
			return csv_row_fail(r, e, required_columns[k], "missing from the header");
	}
	return 0;
}

/* What the checks of one import share: where bad rows go, and which
 * published periods the file has been said to touch. */
struct import_run {
	const char *name;
	const struct form *form;
	struct import_report *report;
	const struct published_days *published;
	const struct period **told;   /* published periods already told */
	size_t n_told, cap_told;
	long stopped;                 /* the line where the file stopped being CSV, or 0 */
};

/* store_refuse_fn: a staged row contradicts another, placed as a row's
 * errors are ("NAME:LINE: column X: why"). */
static int refuse_staged(void *arg, long line, struct err *why)
{
	struct import_run *run = arg;

	err_prefix(why, "%s:%ld: column %s", run->name, line, why->field);
	csv_bad_rows_note(&run->report->rows, line, why);
	return 0;
}

/* Tell the caller, once per period, that the row on `line` falls in a
 * period published for the form: it is said as soon as it is met, before
 * the rest of the file is read. */
static int tell_published(struct import_run *run, long line, int32_t day, struct err *e)
{
	const struct period *p = run->published ? published_days_period(run->published, run->form->id, day)
						: NULL;

	if (!p || !run->report->published)
		return 0;
	for (size_t i = 0; i < run->n_told; i++)
		if (run->told[i] == p)
			return 0;
	if (ARRAY_RESERVE(run->told, run->cap_told, run->n_told) != 0)
		return err_set(e, ERR_NOMEM, "out of memory");
	run->told[run->n_told++] = p;
	run->report->published(run->report->arg, run->name, line, run->form->id, p);
	return 0;
}

/* Check the current record of r and stage it in store, or skip it when it
 * is empty and flags say so.  A bad row is ERR_INVALID (or another user
 * error) with "NAME:LINE: ..." in e; anything else failed the import. */
static int stage_row(struct import_run *run, const struct registry *reg, struct csv_reader *r,
		     size_t ncols, unsigned flags, struct store *store, const struct response_field *fields,
		     struct response *resp, int32_t today, struct import_stats *stats, struct err *e)
{
	int rc = 0;

	if (csv_nfields(r) != ncols)
		return err_set(e, ERR_INVALID, "%s:%ld: %zu fields, the header has %zu",
			       csv_name(r), csv_line(r), csv_nfields(r), ncols);
	response_init(resp, run->form);
	for (size_t i = 0; i < ncols && !rc; i++)
		rc = response_set_text(resp, reg, &fields[i], csv_field(r, i), e);
	if (!rc && response_is_empty(resp)) {
		/* a paper questionnaire that came back blank */
		if (!(flags & IMPORT_SKIP_EMPTY))
			rc = err_set(e, ERR_INVALID, "no answer at all (an empty questionnaire); the file "
				     "is refused whole: sipas import --skip-empty imports it without such rows");
		else if (stats->skipped++ < IMPORT_SKIPPED_LINES)
			stats->skipped_lines[stats->skipped - 1] = csv_line(r);
		return rc ? csv_row_locate(r, e) : 0;
	}
	if (!rc)
		rc = response_check(resp, e);
	if (!rc)
		rc = response_check_date(resp, today, e);
	if (rc)
		return csv_row_locate(r, e);
	rc = tell_published(run, csv_line(r), resp->day, e);
	return rc ? rc : store_stage(store, resp, csv_line(r), e);
}

/* A failure that makes a row bad, rather than the import: bad input, not
 * a failing disk, database or allocation. */
static int is_bad_row(int rc)
{
	return err_exit_status(rc) == 1 && rc != ERR_IO;
}

/* Check every data row of r and stage the good ones in store; bad rows go
 * to the report, counts to stats.  A record the reader cannot read (the
 * file stops being CSV there) is a bad row that ends the reading. */
static int stage_rows(struct import_run *run, const struct registry *reg, struct csv_reader *r,
		      uint64_t size, unsigned flags, struct store *store,
		      const struct response_field *fields, struct import_stats *stats, struct err *e)
{
	struct response *resp = malloc(sizeof(*resp));
	size_t ncols = csv_nfields(r);
	int32_t today = period_today();
	struct progress prog;
	int rc;

	if (!resp)
		return err_set(e, ERR_NOMEM, "out of memory");
	progress_start(&prog, csv_name(r), size);
	while ((rc = csv_read_record(r, e)) == 1) {
		stats->rows++;
		rc = stage_row(run, reg, r, ncols, flags, store, fields, resp, today, stats, e);
		if (rc && !is_bad_row(rc))
			break;
		if (rc)
			csv_bad_rows_note(&run->report->rows, csv_line(r), e);
		progress_update(&prog, csv_bytes(r), (uint64_t)stats->rows);
	}
	if (rc < 0 && is_bad_row(rc)) {
		run->stopped = csv_line(r);
		csv_bad_rows_note(&run->report->rows, run->stopped, e);
		rc = 0;
	}
	progress_end(&prog);
	free(resp);
	return rc;
}

/* Copy the staged rows under the write lock; its hold time goes to stats.
 * Rows that contradict stored ones go to the report and nothing is kept. */
static int copy_staged(sqlite3 *db, struct store *store, struct import_run *run,
		       struct import_stats *stats, struct err *e)
{
	long added = 0, duplicates = 0;
	double locked;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	if (rc)
		return rc;
	locked = clock_seconds();
	rc = store_stage_copy(store, (int64_t)time(NULL), &added, &duplicates, refuse_staged, run, e);
	if (!rc && !run->report->rows.bad)
		rc = db_exec(db, "COMMIT", e);
	if (rc || run->report->rows.bad)
		db_exec(db, "ROLLBACK", NULL);
	stats->lock_seconds = clock_seconds() - locked;
	stats->added = added;
	stats->duplicates += duplicates;
	return rc;
}

/* The error of a file refused for its bad rows: how many, of how many. */
static int refuse_file(const struct import_run *run, const struct import_stats *stats, struct err *e)
{
	char stop[64] = "";

	if (run->stopped)
		snprintf(stop, sizeof(stop), ", checking stopped at line %ld", run->stopped);
	return err_set(e, ERR_INVALID, "%s: %ld bad %s of %ld%s; nothing imported (a file imports whole or "
		       "not at all)", run->name, run->report->rows.bad, run->report->rows.bad == 1 ? "row" : "rows",
		       stats->rows, stop);
}

int import_csv(sqlite3 *db, const struct registry *reg, const struct form *form, FILE *fp,
	       const char *name, uint64_t size, unsigned flags, struct import_stats *stats,
	       struct import_report *report, struct err *e)
{
	struct csv_reader *r = csv_reader_new(fp, name);
	struct import_run run = { .form = form, .report = report };
	struct published_days *published = NULL;
	struct response_field *fields = NULL;
	struct store *store = NULL;
	double started = clock_seconds();
	int rc;

	memset(stats, 0, sizeof(*stats));
	memset(&report->rows, 0, sizeof(report->rows));
	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
	run.name = csv_name(r);
	rc = csv_read_record(r, e);
	if (rc == 0)
		rc = err_set(e, ERR_INVALID, "%s: empty file (a header row is required)", csv_name(r));
	if (rc < 0)
		goto out;
	fields = calloc(csv_nfields(r), sizeof(*fields));
	rc = fields ? map_columns(r, form, fields, e) : err_set(e, ERR_NOMEM, "out of memory");
	/* the live tables' pages for the copy (the staged rows are read in order and
	 * need no more than the default cache: a larger one was not faster) */
	if (!rc)
		rc = db_exec(db, "PRAGMA main.cache_size = -262144", e);
	if (!rc && report->published)
		rc = published_days_read(db, &published, e);
	run.published = published;
	if (!rc)
		rc = store_stage_open(db, form->id, &store, e);
	/* staging writes only TEMP tables: this transaction locks nothing the collector uses */
	if (!rc)
		rc = db_exec(db, "BEGIN", e);
	if (rc)
		goto out;
	rc = stage_rows(&run, reg, r, size, flags, store, fields, stats, e);
	if (!rc)
		rc = store_stage_check(store, &stats->duplicates, refuse_staged, &run, e);
	/* the file is refused already: list its contradictions of stored rows too */
	if (!rc && report->rows.bad)
		rc = store_stage_conflicts(store, refuse_staged, &run, e);
	if (!rc && !report->rows.bad)
		rc = db_exec(db, "COMMIT", e);
	if (rc || report->rows.bad) {
		db_exec(db, "ROLLBACK", NULL);
		goto out;
	}
	stats->stage_seconds = clock_seconds() - started;
	rc = copy_staged(db, store, &run, stats, e);
out:
	if (!rc && report->rows.bad)
		rc = refuse_file(&run, stats, e);
	store_free(store);
	published_days_free(published);
	free(run.told);
	free(fields);
	csv_reader_free(r);
	if (rc)
		memset(stats, 0, sizeof(*stats));
	return rc;
}
