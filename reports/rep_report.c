/*
 * rep_report.c - the quarterly report's run (docs/report.md): score the quarter
 * by agency, by sector and by agency × sector in one pass, and the three
 * quarters before it (design weights, as the quarter itself, so the trend
 * compares like with like; a quarter published raked gets a note), then
 * render index.html, methodology.html, the open data (scores.csv,
 * scores-excel-vn.csv, scores.json; counter.csv and counter.json of the
 * kiosk form) and scores.xlsx in memory; and write such files into a
 * directory for `sipas report` (`sipas publish` stores them instead).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rep_report.h"
#include "rep_export.h"
#include "rep_records.h"
#include "rep_score.h"
#include "rep_publish.h"
#include "../forms/form_store.h"

/* An --out the user can fix: not a directory, no permission, read-only. */
static int user_errno(int err)
{
	return err == EACCES || err == ENOTDIR || err == EROFS || err == EISDIR || err == EEXIST;
}

/* mkdir -p: `dir` and any missing parents. */
static int make_dirs(const char *dir, struct err *e)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return err_set(e, ERR_INVALID, "--out: bad directory name");
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(path, 0777) != 0 && errno != EEXIST)
				return err_set(e, user_errno(errno) ? ERR_INVALID : ERR_IO,
					       "%s: %s", path, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int rep_files_write(const struct report_files *f, const char *dir, struct err *e)
{
	int rc = make_dirs(dir, e);

	for (size_t i = 0; !rc && i < f->n; i++) {
		char path[4096];
		FILE *fp;
		int bad;

		snprintf(path, sizeof(path), "%s/%s", dir, f->file[i].name);
		fp = fopen(path, "wb");
		if (!fp)
			return err_set(e, user_errno(errno) ? ERR_INVALID : ERR_IO, "%s: %s", path, strerror(errno));
		bad = fwrite(f->file[i].data, 1, f->file[i].size, fp) != f->file[i].size;
		if (fclose(fp) != 0)
			bad = 1;
		if (bad)
			rc = err_set(e, ERR_IO, "%s: write failed", path);
	}
	return rc;
}

void rep_files_release(struct report_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->file[i].name);
		free(f->file[i].data);
	}
	f->n = 0;
}

int rep_files_add(struct report_files *f, const char *name, char *data, size_t size, struct err *e)
{
	struct report_file *rf;

	assert(f->n < REP_MAX_FILES);
	rf = &f->file[f->n];
	if (!data || !(rf->name = strdup(name))) {
		free(data);
		return err_set(e, ERR_NOMEM, "building %s: out of memory", name);
	}
	rf->data = data;
	rf->size = size;
	f->n++;
	return 0;
}

/* Add the text of sb (emptied) as file `name`. */
static int add_text(struct report_files *f, const char *name, struct strbuf *sb, struct err *e)
{
	size_t len = 0;
	char *data = strbuf_detach(sb, &len);

	return rep_files_add(f, name, data, len, e);
}

/* What prints one file of the open data: arg's figures in `format` into fp. */
typedef int print_fn(const void *arg, const char *format, FILE *fp, struct err *e);

/* Add file `name`, printed into memory by print(arg, format, ...). */
static int add_printed(struct report_files *f, const char *name, print_fn *print, const void *arg,
		       const char *format, struct err *e)
{
	char *data = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&data, &size);
	int rc;

	if (!mem)
		return err_set(e, ERR_NOMEM, "building %s: out of memory", name);
	rc = print(arg, format, mem, e);
	if (fclose(mem) != 0 && !rc)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (rc) {
		free(data);
		return err_prefix(e, "building %s", name);
	}
	return rep_files_add(f, name, data, size, e);
}

/* doc (taken; NULL: building it ran out of memory) as the open data's
 * JSON into fp. */
static int print_json(json_t *doc, FILE *fp, struct err *e)
{
	int rc = !doc || rep_json_dumpf(doc, JSON_INDENT(1), fp) != 0 ? err_set(e, ERR_NOMEM, "out of memory") : 0;

	json_decref(doc);
	return rc;
}

/* One file of the open data of a score_result (arg), as `sipas score
 * --format` prints it: "csv", "excel-vn" (--format csv --excel-vn) or "json". */
static int print_open_data(const void *arg, const char *format, FILE *fp, struct err *e)
{
	const struct score_result *res = arg;

	if (strcmp(format, "excel-vn") == 0)
		return rep_score_csv_excel_vn(res, fp, e);
	if (strcmp(format, "csv") == 0)
		return rep_score_csv(res, fp) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
	return print_json(rep_score_json(res), fp, e);
}

/* The per-dossier rate (arg, struct score_records) as `sipas score
 * --per-dossier --format` prints it: "csv" or "json". */
static int print_records_data(const void *arg, const char *format, FILE *fp, struct err *e)
{
	const struct score_records *records = arg;

	if (strcmp(format, "csv") == 0)
		return rep_records_csv(records, fp) ? err_set(e, ERR_NOMEM, "out of memory") : 0;
	return print_json(rep_records_json(records), fp, e);
}

/* The per-dossier rate's open data: per-dossier.csv and per-dossier.json. */
static int add_records_data(struct report_files *f, const struct score_records *records, struct err *e)
{
	int rc = add_printed(f, "per-dossier.csv", print_records_data, records, "csv", e);

	return rc ? rc : add_printed(f, "per-dossier.json", print_records_data, records, "json", e);
}

/* The open data of one result: NAME.csv, NAME.json and, with excel_vn,
 * NAME-excel-vn.csv. */
static int add_open_data(struct report_files *f, const struct score_result *res, const char *name, int excel_vn,
			 struct err *e)
{
	static const struct { const char *format, *suffix; } files[] = {
		{ "csv", ".csv" }, { "excel-vn", "-excel-vn.csv" }, { "json", ".json" },
	};
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(files) / sizeof(files[0]); i++) {
		char file[64];

		if (!excel_vn && strcmp(files[i].format, "excel-vn") == 0)
			continue;
		snprintf(file, sizeof(file), "%s%s", name, files[i].suffix);
		rc = add_printed(f, file, print_open_data, res, files[i].format, e);
	}
	return rc;
}

/* The counter section's figures: the kiosk form's ratings in the quarter by
 * agency and by sector, with dossier totals and reasons (scoring/score.c).
 * None when the database has no kiosk form.  *form is owned (form_free),
 * r->kiosk too. */
static int score_counter(sqlite3 *db, const struct registry *reg, struct rep_report *r,
			 struct form **form, struct err *e)
{
	struct score_options by_default = { 0, NULL };   /* as `sipas score` gives the open data */
	struct err lookup;
	int rc = form_store_get(db, "kiosk-2018", form, &lookup);

	if (rc == ERR_NOT_FOUND)
		return 0;
	if (rc) {
		*e = lookup;
		return rc;
	}
	return score_run(db, reg, *form, &r->period, &by_default, &r->kiosk, e);
}

/* Trend quarter `slot` (quarter ordinal `ord`).  The trend compares like
 * with like, design weights throughout: a quarter published with them
 * shows its published figures (what the public read; late ratings do not
 * move them), one not published is scored from the database, and one
 * published with raked weights is scored again with design weights, its
 * published figures kept for the note (and shown, noted, only when the
 * database has no rows of it left). */
static int score_trend_quarter(sqlite3 *db, const struct registry *reg, const struct form *form, int ord,
			       struct rep_report *r, int slot, struct err *e)
{
	struct score_options whole = { SCORE_BY_SECTOR, NULL };
	struct score_result *pub = NULL;
	struct period p;
	int rc;

	period_of_quarter(ord, &p);
	rc = rep_published_whole(db, form, &p, &pub, e);
	if (rc == ERR_NOT_FOUND) {
		err_clear(e);
		return score_run(db, reg, form, &p, &whole, &r->trend[slot], e);
	}
	if (rc)
		return rc;
	if (!pub->raked) {
		r->trend[slot] = pub;
		return 0;
	}
	r->published[slot] = pub;
	rc = score_run(db, reg, form, &p, &whole, &r->trend[slot], e);
	if (!rc && r->trend[slot]->rows == 0) {
		r->published[slot] = r->trend[slot];
		r->trend[slot] = pub;
		r->from_published[slot] = 1;
	}
	return rc;
}

/* The agencies' trend, quarter `slot` (ordinal `ord`): from the database,
 * design weights, the agencies as they stand at the end of the report's
 * quarter, so that a ward created by merging three communes has, before
 * it existed, the figures of their respondents pooled (not an average of
 * theirs).  Published figures are not used: they name the agencies as
 * they were then. */
static int score_agency_trend(sqlite3 *db, const struct registry *reg, const struct form *form, int ord,
			      struct rep_report *r, int slot, struct err *e)
{
	struct score_options by_agency = { SCORE_BY_AGENCY, NULL };
	struct period p;

	period_of_quarter(ord, &p);
	return score_run_as_of(db, reg, form, &p, &by_agency, r->period.last_day, &r->agency_trend[slot], e);
}

int rep_report_render(sqlite3 *db, const struct registry *reg, const struct form *form,
		      const char *period_s, const struct rep_report_opts *opts, struct report_files *out,
		      struct err *e)
{
	struct rep_report r;
	/* one pass for both groupings: the whole quarter, agencies and sectors
	 * come first (scoring/score.c), then the agency × sector pairs */
	struct score_options by_all = { SCORE_BY_AGENCY | SCORE_BY_SECTOR | SCORE_BY_AGENCY_SECTOR, NULL };
	struct score_result main_view;
	struct form *kiosk_form = NULL;
	struct strbuf sb = STRBUF_INIT;
	int ord, rc;

	memset(&r, 0, sizeof(r));
	r.form = form;
	r.reg = reg;
	r.today = opts && opts->today ? opts->today : period_today();
	r.early = opts && opts->early;
	r.audit_head = opts ? opts->audit_head : NULL;
	rc = period_parse_quarter(period_s, &ord, e);
	if (rc) {
		err_prefix(e, "--period must be a quarter such as 2026Q3");
		goto out;
	}
	period_of_quarter(ord, &r.period);
	rc = score_run(db, reg, form, &r.period, &by_all, &r.cross, e);
	if (rc)
		goto out;
	/* the default grouping (what `sipas score` writes) is the prefix of it */
	main_view = *r.cross;
	main_view.n_groups = 0;
	while (main_view.n_groups < r.cross->n_groups &&
	       !(r.cross->groups[main_view.n_groups].agency && r.cross->groups[main_view.n_groups].sector))
		main_view.n_groups++;
	r.main = &main_view;
	if (r.main->rows == 0) {
		rc = err_set(e, ERR_NOT_FOUND, "no responses to %s in %s", form->id, r.period.label);
		goto out;
	}
	if (form->n_elements == 0) {
		rc = err_set(e, ERR_INVALID, "form %s has no elements: the report needs a SIPAS index",
			     form->id);
		goto out;
	}
	for (int q = 0; !rc && q < REP_TREND_QUARTERS - 1; q++)
		rc = score_trend_quarter(db, reg, form, ord - (REP_TREND_QUARTERS - 1) + q, &r, q, e);
	if (rc)
		goto out;
	r.trend[REP_TREND_QUARTERS - 1] = r.main;
	for (int q = 0; !rc && q < REP_TREND_QUARTERS; q++)
		rc = score_agency_trend(db, reg, form, ord - (REP_TREND_QUARTERS - 1) + q, &r, q, e);
	if (rc)
		goto out;
	rc = score_counter(db, reg, &r, &kiosk_form, e);
	if (!rc)
		rc = rep_comments_count(db, &r.period, &r.comments, e);
	if (!rc)
		rc = score_records_run(db, reg, &r.period, &r.records, e);
	if (rc)
		goto out;
	rc = rep_report_html(&r, &sb) ? err_set(e, ERR_NOMEM, "building index.html: out of memory") : 0;
	if (!rc)
		rc = add_text(out, "index.html", &sb, e);
	if (!rc)
		rc = rep_report_method(&r, &sb) ? err_set(e, ERR_NOMEM, "building methodology.html: out of memory") : 0;
	if (!rc)
		rc = add_text(out, "methodology.html", &sb, e);
	if (!rc)
		rc = add_open_data(out, r.main, "scores", 1, e);
	if (!rc && r.kiosk)
		rc = add_open_data(out, r.kiosk, "counter", 0, e);
	if (!rc)
		rc = add_records_data(out, r.records, e);
	if (!rc) {
		char *xlsx = NULL;
		size_t size = 0;

		rc = rep_report_xlsx(&r, &xlsx, &size, e);
		if (!rc)
			rc = rep_files_add(out, "scores.xlsx", xlsx, size, e);
	}
out:
	strbuf_release(&sb);
	for (int q = 0; q < REP_TREND_QUARTERS - 1; q++) {
		score_result_free(r.trend[q]);
		score_result_free(r.published[q]);
	}
	for (int q = 0; q < REP_TREND_QUARTERS; q++)
		score_result_free(r.agency_trend[q]);
	score_result_free(r.cross);  /* r.main is a view of it */
	score_result_free(r.kiosk);
	form_free(kiosk_form);
	rep_comments_free(r.comments);
	score_records_free(r.records);
	return rc;
}
