/*
 * rep_publish.c - storing and serving a published period's scores (see
 * rep_publish.h).  Scores are computed in a read transaction (one snapshot
 * for every form and grouping) and stored in a separate write transaction,
 * so scoring a large quarter never holds the lock the collector's writer
 * needs.
 */
#include "rep_publish.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "rep_export.h"
#include "rep_score.h"
#include "rep_stored.h"
#include "report.h"
#include "../db/db.h"
#include "../forms/form_store.h"
#include "../forms/registry.h"
#include "../lib/array.h"
#include "../scoring/score.h"

/* What is stored for each published form and period. */
static const struct {
	const char *name;
	int by;
} groupings[] = {
	{ REP_GROUPING_DEFAULT, 0 },
	{ REP_GROUPING_PAIR, SCORE_BY_AGENCY_SECTOR },
};

#define N_GROUPINGS (sizeof(groupings) / sizeof(groupings[0]))

/* The survey the quarterly report is about (its counter section reads the
 * kiosk form itself). */
#define REPORT_FORM "sipas-2017"
#define REPORT_MAX_FILES 16
#define REPORT_MAX_BYTES (64 * 1024 * 1024)

/* The rendered report's files, waiting to be stored. */
struct report_files {
	size_t n;
	char *name[REPORT_MAX_FILES];
	char *data[REPORT_MAX_FILES];
	size_t size[REPORT_MAX_FILES];
};

static void report_files_release(struct report_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->data[i]);
	}
	f->n = 0;
}

/* Read the regular files of dir into f, removing them and dir. */
static int take_files(const char *dir, struct report_files *f, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return err_set(e, ERR_IO, "%s: cannot read the report: %m", dir);
	while (!rc && (de = readdir(d))) {
		char path[4096];
		FILE *fp;
		long size;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fp = fopen(path, "rb");
		if (!fp || fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || size > REPORT_MAX_BYTES ||
		    fseek(fp, 0, SEEK_SET) != 0)
			rc = err_set(e, ERR_IO, "%s: cannot read the report file", path);
		else if (f->n == REPORT_MAX_FILES)
			rc = err_set(e, ERR_INTERNAL, "the report has more than %d files", REPORT_MAX_FILES);
		else if (!(f->name[f->n] = strdup(de->d_name)) || !(f->data[f->n] = malloc((size_t)size + 1)))
			rc = err_set(e, ERR_NOMEM, "out of memory");
		else if (fread(f->data[f->n], 1, (size_t)size, fp) != (size_t)size)
			rc = err_set(e, ERR_IO, "%s: cannot read the report file", path);
		else
			f->size[f->n++] = (size_t)size;
		if (rc && f->n < REPORT_MAX_FILES) {
			free(f->name[f->n]);
			free(f->data[f->n]);
			f->name[f->n] = NULL;
			f->data[f->n] = NULL;
		}
		if (fp)
			fclose(fp);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
	return rc;
}

/* Render the quarter's report (reports/report.c) into f. */
static int render_report(sqlite3 *db, const struct registry *reg, const struct period *p,
			 const struct rep_report_opts *opts, struct report_files *f, struct err *e)
{
	char dir[] = "/tmp/sipas-report-XXXXXX";
	struct form *form = NULL;
	int rc = form_store_get(db, REPORT_FORM, &form, e);

	if (!rc && !mkdtemp(dir))
		rc = err_set(e, ERR_IO, "cannot make a directory for the report: %m");
	else if (!rc) {
		rc = rep_report_write(db, reg, form, p->label, dir, opts, e);
		if (rc) {
			struct report_files ignored = { 0 };

			take_files(dir, &ignored, NULL);   /* clean up */
			report_files_release(&ignored);
		} else {
			rc = take_files(dir, f, e);
		}
	}
	form_free(form);
	return rc;
}

static int store_files(sqlite3 *db, const struct period *p, const struct report_files *f, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "INSERT INTO published_files(period, name, content) VALUES (?1, ?2, ?3)",
			    &st, e);

	for (size_t i = 0; !rc && i < f->n; i++) {
		sqlite3_bind_text(st, 1, p->label, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, f->name[i], -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, f->data[i], (int)f->size[i], SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "storing the published report");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* One form's computed scores, waiting to be stored. */
struct computed {
	char *form;
	char *json[N_GROUPINGS];
};

static void computed_release(struct computed *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].form);
		for (size_t g = 0; g < N_GROUPINGS; g++)
			free(c[i].json[g]);
	}
	free(c);
}

/* The codes of the forms to publish: `form`, or every form with responses
 * in the period.  *out is owned (free each, then the array). */
static int forms_to_publish(sqlite3 *db, const struct period *p, const char *form, char ***out,
			    size_t *n, struct err *e)
{
	sqlite3_stmt *st = NULL;
	char **codes = NULL;
	size_t cap = 0;
	int rc = db_prepare(db, "SELECT f.code FROM forms f WHERE (?3 IS NULL OR f.code = ?3) AND EXISTS "
			    "(SELECT 1 FROM responses r WHERE r.form_id = f.id AND r.day BETWEEN ?1 AND ?2 AND " DB_VISIBLE("r") ") "
			    "ORDER BY f.id", &st, e);

	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, p->first_day);
	sqlite3_bind_int(st, 2, p->last_day);
	if (form)
		sqlite3_bind_text(st, 3, form, -1, SQLITE_STATIC);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		if (ARRAY_RESERVE(codes, cap, *n) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
		else if (!(codes[*n] = strdup((const char *)sqlite3_column_text(st, 0))))
			rc = err_set(e, ERR_NOMEM, "out of memory");
		else
			(*n)++;
	}
	sqlite3_finalize(st);
	if (!rc && *n == 0 && form)
		rc = err_set(e, ERR_NOT_FOUND, "form %s has no responses in %s", form, p->label);
	else if (!rc && *n == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no form has responses in %s", p->label);
	*out = codes;
	return rc;
}

static int compute(sqlite3 *db, const struct registry *reg, const char *code, const struct period *p,
		   const char *rake_path, struct computed *c, struct err *e)
{
	struct form *form = NULL;
	int rc = form_store_get(db, code, &form, e);

	c->form = strdup(code);
	if (!rc && !c->form)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	for (size_t g = 0; !rc && g < N_GROUPINGS; g++) {
		struct score_options so = { groupings[g].by, rake_path };
		struct score_result *res = NULL;
		json_t *doc;

		rc = score_run(db, reg, form, p, &so, &res, e);
		doc = rc ? NULL : rep_score_json(res);
		if (!rc && !(c->json[g] = doc ? rep_json_dumps(doc, JSON_COMPACT) : NULL))
			rc = err_set(e, ERR_NOMEM, "out of memory");
		json_decref(doc);
		score_result_free(res);
	}
	form_free(form);
	return rc;
}

/* Add to the publications log one row per published form of the period
 * (`form` NULL: every form) with `action`: run after publishing and before
 * withdrawing, inside their transaction. */
static int log_publications(sqlite3 *db, const char *period_label, const char *form, const char *action,
			    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "INSERT INTO publications(form_id, period, action, at) "
			    "SELECT form_id, period, ?3, CAST(strftime('%s', 'now') AS INTEGER) FROM published "
			    "WHERE period = ?1 AND (?2 IS NULL OR form_id = (SELECT id FROM forms WHERE code = ?2))",
			    &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, period_label, -1, SQLITE_STATIC);
	if (form)
		sqlite3_bind_text(st, 2, form, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "logging the publication");
	sqlite3_finalize(st);
	return rc;
}

static int store(sqlite3 *db, const struct period *p, const struct computed *c, int64_t now, int early,
		 struct err *e)
{
	sqlite3_stmt *pub = NULL, *scores = NULL;
	int rc = db_prepare(db, "INSERT INTO published(form_id, period, published_at, early) "
			    "SELECT id, ?2, ?3, ?4 FROM forms WHERE code = ?1", &pub, e);

	if (!rc)
		rc = db_prepare(db, "INSERT INTO published_scores(form_id, period, grouping, json) "
				"SELECT id, ?2, ?3, ?4 FROM forms WHERE code = ?1", &scores, e);
	if (!rc) {
		sqlite3_bind_text(pub, 1, c->form, -1, SQLITE_STATIC);
		sqlite3_bind_text(pub, 2, p->label, -1, SQLITE_STATIC);
		sqlite3_bind_int64(pub, 3, now);
		sqlite3_bind_int(pub, 4, early);
		if (sqlite3_step(pub) != SQLITE_DONE)
			rc = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_PRIMARYKEY
				? err_set(e, ERR_CONFLICT, "%s %s is already published: take it down first "
					  "(sipas publish --withdraw --period %s --form %s)", c->form, p->label,
					  p->label, c->form)
				: db_fail(db, e, "publishing");
	}
	if (!rc)
		rc = log_publications(db, p->label, c->form, "publish", e);
	for (size_t g = 0; !rc && g < N_GROUPINGS; g++) {
		sqlite3_bind_text(scores, 1, c->form, -1, SQLITE_STATIC);
		sqlite3_bind_text(scores, 2, p->label, -1, SQLITE_STATIC);
		sqlite3_bind_text(scores, 3, groupings[g].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(scores, 4, c->json[g], -1, SQLITE_STATIC);
		if (sqlite3_step(scores) != SQLITE_DONE)
			rc = db_fail(db, e, "storing published scores");
		sqlite3_reset(scores);
	}
	sqlite3_finalize(pub);
	sqlite3_finalize(scores);
	return rc;
}

/* Publishing is per quarter (the public results are listed and served by
 * quarter), and a quarter's figures are final only once it has ended. */
static int check_publishable(const struct period *p, int32_t today, int early, struct err *e)
{
	struct period q;
	char last[16];
	int rc;

	period_of_quarter(period_quarter_of_day(p->first_day), &q);
	if (q.first_day != p->first_day || q.last_day != p->last_day)
		return err_set_field(e, ERR_INVALID, "period", "%s is not a quarter: publishing is per quarter "
				     "(--period such as 2026Q3)", p->label);
	rc = period_check_started(p, today, e);
	if (rc)
		return rc;
	period_format_day(p->last_day, last);
	if (p->last_day >= today && !early)
		return err_set_field(e, ERR_INVALID, "period", "%s has not ended (its last day is %s): publish it "
				     "after that, or now with --early (the published report then says it is early)",
				     p->label, last);
	return 0;
}

int rep_publish(sqlite3 *db, const struct period *period, const char *form, const char *rake_path,
		int64_t now, int early, int *published, struct err *e)
{
	struct report_files files = { 0 };
	struct registry *reg = NULL;
	struct computed *done = NULL;
	char **codes = NULL;
	size_t n = 0;
	int32_t today = (int32_t)((now + PERIOD_TZ_SECONDS) / 86400);
	struct rep_report_opts opts = { 0, today };
	int rc, with_report = 0;

	rc = check_publishable(period, today, early, e);
	if (rc)
		return rc;
	/* --early for a quarter that has ended changes nothing */
	opts.early = early = early && period->last_day >= today;
	rc = db_exec(db, "BEGIN", e);   /* one snapshot for every form */
	if (rc)
		return rc;
	rc = forms_to_publish(db, period, form, &codes, &n, e);
	if (!rc)
		rc = registry_read(db, &reg, e);
	if (!rc && !(done = calloc(n ? n : 1, sizeof(*done))))
		rc = err_set(e, ERR_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		rc = compute(db, reg, codes[i], period, rake_path, &done[i], e);
		with_report |= strcmp(codes[i], REPORT_FORM) == 0;
	}
	/* a quarter of the survey gets its report (design weights, as printed) */
	if (!rc && with_report && !rake_path)
		rc = render_report(db, reg, period, &opts, &files, e);
	db_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL);
	if (!rc)
		rc = db_exec(db, "BEGIN IMMEDIATE", e);
	if (!rc) {
		for (size_t i = 0; !rc && i < n; i++)
			rc = store(db, period, &done[i], now, early, e);
		if (!rc)
			rc = store_files(db, period, &files, e);
		if (!rc)
			rc = db_exec(db, "COMMIT", e);
		if (rc)
			db_exec(db, "ROLLBACK", NULL);
	}
	if (!rc)
		*published = (int)n;
	for (size_t i = 0; i < n; i++)
		free(codes[i]);
	free(codes);
	computed_release(done, done ? n : 0);
	report_files_release(&files);
	registry_free(reg);
	return rc;
}

static int withdraw_locked(sqlite3 *db, const struct period *period, const char *form, int *withdrawn,
			   struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = log_publications(db, period->label, form, "withdraw", e);

	if (!rc)
		rc = db_prepare(db, "DELETE FROM published WHERE period = ?1 AND "
				"(?2 IS NULL OR form_id = (SELECT id FROM forms WHERE code = ?2))", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, period->label, -1, SQLITE_STATIC);
	if (form)
		sqlite3_bind_text(st, 2, form, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "withdrawing");
	else if ((*withdrawn = sqlite3_changes(db)) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "%s%s%s is not published", period->label, form ? " of " : "",
			     form ? form : "");
	sqlite3_finalize(st);
	st = NULL;
	/* the report is about the survey: it goes with it */
	if (!rc && (!form || strcmp(form, REPORT_FORM) == 0))
		rc = db_prepare(db, "DELETE FROM published_files WHERE period = ?1", &st, e);
	if (st) {
		sqlite3_bind_text(st, 1, period->label, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "withdrawing the report");
		sqlite3_finalize(st);
	}
	return rc;
}

int rep_withdraw(sqlite3 *db, const struct period *period, const char *form, int *withdrawn,
		 struct err *e)
{
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	if (rc)
		return rc;
	rc = withdraw_locked(db, period, form, withdrawn, e);
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

int rep_published_differs(sqlite3 *db, const struct period *period, const char *form, int *published,
			  int *differs, struct err *e)
{
	struct registry *reg = NULL;
	struct computed now = { 0 };
	char *stored = NULL;
	int rc = rep_published_scores(db, form, period->label, 0, &stored, e);

	*published = *differs = 0;
	if (rc == ERR_NOT_FOUND)
		return 0;
	if (!rc)
		rc = registry_read(db, &reg, e);
	if (!rc)
		rc = compute(db, reg, form, period, NULL, &now, e);
	if (!rc) {
		/* stored text went through a JSON round trip: compare documents */
		json_t *a = json_loads(stored, 0, NULL), *b = json_loads(now.json[0], 0, NULL);
		const char *weights = json_string_value(json_object_get(a, "weights"));

		*published = 1;
		/* raked figures need their margins again: only design weights compare */
		*differs = !a || !b || (!json_equal(a, b) && !(weights && strcmp(weights, "raked") == 0));
		json_decref(a);
		json_decref(b);
	}
	free(now.form);
	for (size_t g = 0; g < N_GROUPINGS; g++)
		free(now.json[g]);
	free(stored);
	registry_free(reg);
	return rc;
}
