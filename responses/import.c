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
 * tables (store_stage), which takes no lock on the live tables, and so are
 * contradictions of stored rows.  Copying them takes seconds too: so the
 * lock is taken for one short part of it at a time (run_in_parts), the
 * rows copied as those of a pending import that no reader sees
 * (DB_VISIBLE), and one last part marks the import done.  An import killed
 * meanwhile leaves its rows pending, for import_clean_pending to remove.
 */
#include "import.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The write lock is taken for one part of the copy (or of a removal) at a
 * time, sized to work about PART_SECONDS (then a sync), then left free for
 * PAUSE_NS: the collector's writer retries every 10 ms at most, and
 * SQLite's own busy timeout every 25 ms in its first 100 ms, so a post
 * waiting meanwhile is stored between two parts. */
#define PART_SECONDS 0.03
#define PAUSE_NS 25000000L
#define FIRST_PART 2000L
#define MAX_PART 500000L

/* One part of work under the write lock: at most n rows; *done when no
 * rows are left. */
typedef int (*part_fn)(void *arg, long n, int *done, struct err *e);

/* The wait for the write lock between parts: a poll every millisecond, so
 * that the import takes the lock between two of the collector's commits
 * rather than sleeping through many (SQLite's own wait sleeps up to 100 ms
 * at a time); it gives up after DB_BUSY_TIMEOUT_MS, as that one does. */
static int busy_poll(void *arg, int count)
{
	const struct timespec ms = { 0, 1000000L };

	(void)arg;
	if (count >= DB_BUSY_TIMEOUT_MS)
		return 0;
	nanosleep(&ms, NULL);
	return 1;
}

/* Run part() in write transactions until it is done, each sized from the
 * last one's work to take about PART_SECONDS; the holds go to stats.  On
 * failure the failing part is rolled back (earlier parts stay). */
static int run_in_parts(sqlite3 *db, part_fn part, void *arg, struct import_stats *stats, struct err *e)
{
	const struct timespec pause = { 0, PAUSE_NS };
	long n = FIRST_PART;
	int rc = 0, done = 0;

	sqlite3_busy_handler(db, busy_poll, NULL);
	while (!rc && !done) {
		double worked, held, locked;

		rc = db_exec(db, "BEGIN IMMEDIATE", e);
		if (rc)
			break;
		locked = clock_seconds();
		rc = part(arg, n, &done, e);
		worked = clock_seconds() - locked;
		if (!rc)
			rc = db_exec(db, "COMMIT", e);
		if (rc)
			db_exec(db, "ROLLBACK", NULL);
		held = clock_seconds() - locked;
		if (stats) {
			stats->lock_seconds += held;
			if (held > stats->longest_hold)
				stats->longest_hold = held;
		}
		/* sized by the work alone: the commit's sync takes as long for
		 * fewer rows.  Grown by at most twice, so that one fast part (a
		 * cached page, a part of repeats) does not make the next one long. */
		if (worked * 2 < PART_SECONDS)
			n = n * 2;
		else
			n = (long)(n * (PART_SECONDS / worked));
		n = n < 100 ? 100 : n > MAX_PART ? MAX_PART : n;
		if (!rc && !done)
			nanosleep(&pause, NULL);
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	return rc;
}

/* What removing an import's rows needs: the import, and how many went. */
struct removal {
	sqlite3 *db;
	sqlite3_stmt *rows, *import;
	long removed;
};

/* part_fn: remove n rows of the import, and it with its last rows. */
static int remove_part(void *arg, long n, int *done, struct err *e)
{
	struct removal *rm = arg;
	int rc = 0;

	sqlite3_bind_int64(rm->rows, 2, n);
	if (sqlite3_step(rm->rows) != SQLITE_DONE)
		rc = db_fail(rm->db, e, "removing an import's rows");
	sqlite3_reset(rm->rows);
	if (rc)
		return rc;
	rm->removed += sqlite3_changes(rm->db);
	*done = sqlite3_changes(rm->db) < n;
	if (*done && sqlite3_step(rm->import) != SQLITE_DONE)
		rc = db_fail(rm->db, e, "removing an import");
	sqlite3_reset(rm->import);
	return rc;
}

/* Remove import `id` and its rows, in parts (a killed import may have
 * copied millions); *removed counts the rows. */
static int remove_import(sqlite3 *db, long long id, struct import_stats *stats, long *removed, struct err *e)
{
	struct removal rm = { .db = db };
	int rc = db_prepare(db, "DELETE FROM responses WHERE id IN (SELECT id FROM responses WHERE import_id = ?1 "
			    "LIMIT ?2)", &rm.rows, e);

	if (!rc)
		rc = db_prepare(db, "DELETE FROM imports WHERE id = ?1", &rm.import, e);
	if (!rc) {
		sqlite3_bind_int64(rm.rows, 1, id);
		sqlite3_bind_int64(rm.import, 1, id);
		rc = run_in_parts(db, remove_part, &rm, stats, e);
	}
	sqlite3_finalize(rm.rows);
	sqlite3_finalize(rm.import);
	*removed = rm.removed;
	return rc;
}

/* 1 when process `pid` runs (or may: one we may not signal). */
static int process_runs(long long pid)
{
	return pid > 0 && pid != getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int import_clean_pending(sqlite3 *db, FILE *say, struct err *e)
{
	sqlite3_stmt *st = NULL;
	long long after = 0;
	int rc = db_prepare(db, "SELECT id, pid, started_at FROM imports WHERE state = 'pending' AND id > ?1 "
			    "ORDER BY id LIMIT 1", &st, e);

	/* one import at a time, the read reset before the removal writes */
	while (!rc) {
		long long pid;
		time_t started;
		char when[32] = "?";
		struct tm tm;
		long removed;
		int step;

		sqlite3_bind_int64(st, 1, after);
		step = sqlite3_step(st);
		if (step != SQLITE_ROW) {
			if (step != SQLITE_DONE)
				rc = db_fail(db, e, "reading the pending imports");
			break;
		}
		after = sqlite3_column_int64(st, 0);
		pid = sqlite3_column_int64(st, 1);
		started = (time_t)sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		if (process_runs(pid))
			continue;
		rc = remove_import(db, after, NULL, &removed, e);
		if (!rc && say && localtime_r(&started, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		if (!rc && say)
			fprintf(say, "sipas: removed the %ld rows of an import that did not finish (started %s by "
				"process %lld, which is gone)\n", removed, when, pid);
	}
	sqlite3_finalize(st);
	return rc;
}

/* What the parts of a copy share. */
struct copy {
	sqlite3 *db;
	struct store *store;
	long long import_id;
	int64_t received_at;
	long added;
};

/* part_fn: the import's row, pending, for this process. */
static int begin_part(void *arg, long n, int *done, struct err *e)
{
	struct copy *c = arg;
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(c->db, "INSERT INTO imports(state, pid, started_at) VALUES ('pending', ?1, ?2)", &st, e);

	(void)n;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, getpid());
	sqlite3_bind_int64(st, 2, c->received_at);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c->db, e, "starting an import");
	sqlite3_finalize(st);
	c->import_id = sqlite3_last_insert_rowid(c->db);
	*done = 1;
	return rc;
}

/* part_fn: copy the next n staged rows. */
static int copy_part(void *arg, long n, int *done, struct err *e)
{
	struct copy *c = arg;
	long added = 0;
	int rc = store_stage_copy(c->store, c->import_id, c->received_at, n, &added, done, e);

	if (!rc)
		c->added += added;
	return rc;
}

/* part_fn: the flip: the import's rows become visible, all at once. */
static int finish_part(void *arg, long n, int *done, struct err *e)
{
	struct copy *c = arg;
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(c->db, "UPDATE imports SET state = 'done', done_at = ?2, seq = " DB_NEXT_SEQ " "
			    "WHERE id = ?1 AND state = 'pending'", &st, e);

	(void)n;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, c->import_id);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(c->db, e, "finishing an import");
	else if (sqlite3_changes(c->db) != 1)
		rc = err_set(e, ERR_DB, "the import's rows were removed while it ran (by a clean-up that "
			     "took its process for gone)");
	sqlite3_finalize(st);
	*done = 1;
	return rc;
}

/* Copy the staged rows in parts as a pending import, then make them
 * visible at once; the write lock's holds go to stats.  Rows that
 * contradict stored ones go to the report, and then the copied rows are
 * removed again: nothing is kept. */
static int copy_staged(sqlite3 *db, struct store *store, struct import_run *run,
		       struct import_stats *stats, struct err *e)
{
	struct copy c = { .db = db, .store = store, .received_at = (int64_t)time(NULL) };
	long removed;
	int rc = run_in_parts(db, begin_part, &c, stats, e);

	if (rc)
		return rc;
	rc = store_staged(store) ? run_in_parts(db, copy_part, &c, stats, e) : 0;
	/* rows skipped are identical to stored ones, or contradict them */
	if (!rc && c.added < store_staged(store))
		rc = store_stage_conflicts(store, c.import_id, refuse_staged, run, e);
	if (!rc && !run->report->rows.bad)
		rc = run_in_parts(db, finish_part, &c, stats, e);
	/* a removal that fails too leaves the import pending: the next
	 * import, init or serve removes it */
	if (rc || run->report->rows.bad)
		remove_import(db, c.import_id, stats, &removed, NULL);
	stats->added = c.added;
	stats->duplicates += store_staged(store) - c.added;
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
	/* its contradictions of stored rows, found before the copy (so a file
	 * they refuse has interned no stratum or PSU, copied no row) */
	if (!rc)
		rc = store_stage_conflicts(store, 0, refuse_staged, &run, e);
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
