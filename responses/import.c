/*
 * import.c - CSV import of responses (see import.h): map the header to
 * response fields, check and stage each row, then copy the staged rows in
 * one short write transaction.
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

#include "../lib/csv.h"
#include "../db/db.h"
#include "../lib/period.h"
#include "../lib/progress.h"
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

static double seconds_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Check every data row of r and stage it in store, skipping empty ones
 * when flags say so; counts go to stats. */
static int stage_rows(const struct registry *reg, const struct form *form, struct csv_reader *r,
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
		if (csv_nfields(r) != ncols) {
			rc = err_set(e, ERR_INVALID, "%s:%ld: %zu fields, the header has %zu",
				     csv_name(r), csv_line(r), csv_nfields(r), ncols);
			break;
		}
		response_init(resp, form);
		rc = 0;
		for (size_t i = 0; i < ncols && !rc; i++)
			rc = response_set_text(resp, reg, &fields[i], csv_field(r, i), e);
		if (!rc && response_is_empty(resp)) {
			/* a paper questionnaire that came back blank */
			if (!(flags & IMPORT_SKIP_EMPTY))
				rc = err_set(e, ERR_INVALID, "no answer at all (an empty questionnaire); the file "
					     "is refused whole: sipas import --skip-empty imports it without such rows");
			else if (stats->skipped++ < IMPORT_SKIPPED_LINES)
				stats->skipped_lines[stats->skipped - 1] = csv_line(r);
		} else {
			if (!rc)
				rc = response_check(resp, e);
			if (!rc)
				rc = response_check_date(resp, today, e);
			if (!rc)
				rc = store_stage(store, resp, csv_line(r), e);
		}
		if (rc) {
			csv_row_locate(r, e);
			break;
		}
		progress_update(&prog, csv_bytes(r), (uint64_t)stats->rows);
	}
	progress_end(&prog);
	free(resp);
	return rc;
}

/* Place an error about the staged row from file line `line` (0: none) as
 * a row's errors are: "NAME:LINE: column X: why". */
static int locate_line(const char *name, long line, struct err *e)
{
	return line ? err_prefix(e, "%s:%ld: column %s", name, line, e->field) : e->code;
}

/* Copy the staged rows under the write lock; its hold time goes to stats. */
static int copy_staged(sqlite3 *db, struct store *store, const char *name,
		       struct import_stats *stats, struct err *e)
{
	long added = 0, duplicates = 0, line = 0;
	double locked;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	if (rc)
		return rc;
	locked = seconds_now();
	rc = store_stage_copy(store, (int64_t)time(NULL), &added, &duplicates, &line, e);
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		locate_line(name, line, e);
	}
	stats->lock_seconds = seconds_now() - locked;
	stats->added = added;
	stats->duplicates += duplicates;
	return rc;
}

int import_csv(sqlite3 *db, const struct registry *reg, const struct form *form, FILE *fp,
	       const char *name, uint64_t size, unsigned flags, struct import_stats *stats,
	       struct err *e)
{
	struct csv_reader *r = csv_reader_new(fp, name);
	struct response_field *fields = NULL;
	struct store *store = NULL;
	double started = seconds_now();
	int rc;

	memset(stats, 0, sizeof(*stats));
	if (!r)
		return err_set(e, ERR_NOMEM, "out of memory");
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
	if (!rc)
		rc = store_stage_open(db, form->id, &store, e);
	/* staging writes only TEMP tables: this transaction locks nothing the collector uses */
	if (!rc)
		rc = db_exec(db, "BEGIN", e);
	if (rc)
		goto out;
	rc = stage_rows(reg, form, r, size, flags, store, fields, stats, e);
	if (!rc) {
		long line;

		rc = store_stage_check(store, &stats->duplicates, &line, e);
		if (rc)
			locate_line(csv_name(r), line, e);
	}
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		goto out;
	}
	stats->stage_seconds = seconds_now() - started;
	rc = copy_staged(db, store, csv_name(r), stats, e);
out:
	store_free(store);
	free(fields);
	csv_reader_free(r);
	if (rc)
		memset(stats, 0, sizeof(*stats));
	return rc;
}
