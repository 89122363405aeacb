/*
 * rep_publish.c - computing what a publication stores, and reading the
 * stored figures back for their readers (see rep_publish.h); the statements
 * on the published tables are responses/published.c's.  Scores are
 * computed in a read transaction (one snapshot for every form and grouping)
 * and stored in a separate write transaction, so scoring a large quarter
 * never holds the lock the collector's writer needs.
 */
#include "rep_publish.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "rep_export.h"
#include "rep_score.h"
#include "rep_report.h"
#include "../db/db.h"
#include "../forms/form_store.h"
#include "../forms/registry.h"
#include "../lib/array.h"
#include "../lib/strbuf.h"
#include "../responses/published.h"
#include "../scoring/score.h"

/* What is stored for each published form and period, in the order
 * published_add takes them. */
static const struct {
	const char *name;
	int by;
} groupings[] = {
	{ PUBLISHED_GROUPING_DEFAULT, 0 },
	{ PUBLISHED_GROUPING_PAIR, SCORE_BY_AGENCY_SECTOR },
};

#define N_GROUPINGS (sizeof(groupings) / sizeof(groupings[0]))

/* The survey the quarterly report is about (its counter section reads the
 * kiosk form itself). */
#define REPORT_FORM "sipas-2017"

/* Render the quarter's report (reports/rep_report.c) into f, in memory. */
static int render_report(sqlite3 *db, const struct registry *reg, const struct period *p,
			 const struct rep_report_opts *opts, struct report_files *f, struct err *e)
{
	struct form *form = NULL;
	int rc = form_store_get(db, REPORT_FORM, &form, e);

	if (!rc)
		rc = rep_report_render(db, reg, form, p->label, opts, f, e);
	form_free(form);
	return rc;
}

/* What the report page holds where the audit log's head goes: the head is
 * known only inside the write transaction, once the publication is
 * recorded, and the page is rendered before it so that scoring never
 * holds the write lock; fill_audit_head then writes the head over it. */
#define REP_HEAD_MARK "@@audit-log-head-is-written-here-when-the-publication-is-stored@"
_Static_assert(sizeof(REP_HEAD_MARK) == REP_AUDIT_HEAD_HEX + 1, "the mark is as long as a head");

/* Write head over every mark in the page f (index.html), where the page
 * put it: inside <code> (stored text is escaped, so a name cannot hold
 * one). */
static void fill_audit_head(struct report_file *f, const char *head)
{
	static const char mark[] = "<code>" REP_HEAD_MARK "</code>";
	char *p = f->data, *end = f->data + f->size;

	while ((p = memmem(p, (size_t)(end - p), mark, sizeof(mark) - 1)) != NULL) {
		memcpy(p + strlen("<code>"), head, REP_AUDIT_HEAD_HEX);
		p += sizeof(mark) - 1;
	}
}

/* "2026Q3: " and the forms into sb: what a publication's record names. */
static void describe(struct strbuf *sb, const struct period *p, char *const *codes, size_t n, const char *form)
{
	strbuf_addf(sb, "%s: ", p->label);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", codes[i]);
	if (!codes)
		strbuf_addstr(sb, form ? form : "every form");
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
		int64_t now, int early, const struct rep_actor *who, int *published, struct err *e)
{
	struct report_files files = { 0 };
	struct strbuf subject = STRBUF_INIT;
	char head[REP_AUDIT_HEAD_HEX + 1];
	struct registry *reg = NULL;
	struct computed *done = NULL;
	char **codes = NULL;
	size_t n = 0;
	int32_t today = (int32_t)((now + PERIOD_TZ_SECONDS) / 86400);
	struct rep_report_opts opts = { 0, today, REP_HEAD_MARK };
	int rc, with_report = 0;

	assert(who && who->record);
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
	describe(&subject, period, codes, n, form);
	if (!rc && subject.failed)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	if (!rc)
		rc = db_exec(db, "BEGIN IMMEDIATE", e);
	if (!rc) {
		rc = who->record(who->arg, db, "publish", strbuf_str(&subject), head, e);
		for (size_t i = 0; !rc && i < n; i++)
			rc = published_add(db, done[i].form, period->label, now, early, done[i].json[0],
					   done[i].json[1], who->name, head, e);
		for (size_t i = 0; !rc && i < files.n; i++) {
			/* the page is index.html: rep_report_html's */
			if (strcmp(files.file[i].name, "index.html") == 0)
				fill_audit_head(&files.file[i], head);
			rc = published_add_file(db, period->label, files.file[i].name, files.file[i].data,
						files.file[i].size, e);
		}
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
	rep_files_release(&files);
	registry_free(reg);
	strbuf_release(&subject);
	return rc;
}

int rep_withdraw(sqlite3 *db, const struct period *period, const char *form, const struct rep_actor *who,
		 int *withdrawn, struct err *e)
{
	struct strbuf subject = STRBUF_INIT;
	char head[REP_AUDIT_HEAD_HEX + 1];
	int rc;

	assert(who && who->record);
	describe(&subject, period, NULL, 0, form);
	rc = subject.failed ? err_set(e, ERR_NOMEM, "out of memory") : db_exec(db, "BEGIN IMMEDIATE", e);
	if (rc)
		goto out;
	rc = who->record(who->arg, db, "withdraw", strbuf_str(&subject), head, e);
	/* the report is about the survey: it goes with it */
	if (!rc)
		rc = published_withdraw(db, period->label, form, !form || strcmp(form, REPORT_FORM) == 0,
					who->name, head, withdrawn, e);
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
out:
	strbuf_release(&subject);
	return rc;
}

int rep_published_differs(sqlite3 *db, const struct period *period, const char *form, int *published,
			  int *differs, struct err *e)
{
	struct registry *reg = NULL;
	struct computed now = { 0 };
	char *stored = NULL;
	int rc = published_scores(db, form, period->label, PUBLISHED_GROUPING_DEFAULT, &stored, e);

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

/* Keep the whole-period group and the groups of one kind (the other key
 * null) of a default-grouping document. */
static void keep_groups(json_t *doc, const char *null_key)
{
	json_t *groups = json_object_get(doc, "groups");

	for (size_t i = json_array_size(groups); i-- > 1;)
		if (!json_is_null(json_object_get(json_array_get(groups, i), null_key)))
			json_array_remove(groups, i);
}

int rep_published_scores(sqlite3 *db, const char *form, const char *period_label, int by, char **text,
			 struct err *e)
{
	int pair = (by & SCORE_BY_AGENCY_SECTOR) != 0;
	const char *null_key = pair ? NULL : by == SCORE_BY_AGENCY ? "sector" : by == SCORE_BY_SECTOR ? "agency" : NULL;
	char *stored = NULL;
	json_t *doc;
	int rc = published_scores(db, form, period_label, pair ? PUBLISHED_GROUPING_PAIR : PUBLISHED_GROUPING_DEFAULT,
				  &stored, e);

	if (rc)
		return rc;
	/* written again even when whole, so periods published before numbers
	 * were written shortest read as the newer ones do */
	doc = json_loads(stored, 0, NULL);
	free(stored);
	if (!doc)
		return err_set(e, ERR_INTERNAL, "stored scores of %s %s are not JSON", form, period_label);
	if (null_key)
		keep_groups(doc, null_key);
	*text = rep_json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return *text ? 0 : err_set(e, ERR_NOMEM, "out of memory");
}

/* An estimate of a stored score JSON document back into its struct. */
static void estimate_from_json(json_t *o, struct score_estimate *est)
{
	json_t *v = json_object_get(o, "est"), *se = json_object_get(o, "se");
	json_t *lo = json_object_get(o, "lo"), *hi = json_object_get(o, "hi");
	const char *ci = json_string_value(json_object_get(o, "ci"));

	memset(est, 0, sizeof(*est));
	est->defined = json_is_number(v);
	est->est = json_number_value(v);
	est->has_se = json_is_number(se);
	est->se = json_number_value(se);
	est->has_bounds = json_is_number(lo) && json_is_number(hi);
	est->lo = json_number_value(lo);
	est->hi = json_number_value(hi);
	for (int k = SCORE_CI_NONE; ci && k <= SCORE_CI_CLOPPER_PEARSON; k++)
		if (strcmp(ci, score_ci_name(k)) == 0)
			est->ci = k;
	est->n = (long)json_integer_value(json_object_get(o, "n"));
}

int rep_published_whole(sqlite3 *db, const struct form *form, const struct period *period,
			struct score_result **out, struct err *e)
{
	struct score_result *res = NULL;
	json_t *doc = NULL, *all;
	char *text = NULL;
	int rc = rep_published_scores(db, form->id, period->label, 0, &text, e);

	if (rc)
		return rc;
	doc = json_loads(text, 0, NULL);
	all = json_array_get(json_object_get(doc, "groups"), 0);
	res = calloc(1, sizeof(*res));
	if (!doc || !all || !res) {
		rc = err_set(e, doc ? ERR_NOMEM : ERR_INTERNAL, "the stored scores of %s %s cannot be read",
			     form->id, period->label);
		goto out;
	}
	res->form = form;
	res->period = *period;
	{
		const char *weights = json_string_value(json_object_get(doc, "weights"));

		res->raked = weights && strcmp(weights, "raked") == 0;
	}
	res->groups = calloc(1, sizeof(*res->groups));
	if (res->groups) {
		res->n_groups = 1;
		res->groups[0].items = calloc(form->n_items, sizeof(*res->groups[0].items));
		res->groups[0].elements = calloc(form->n_elements ? form->n_elements : 1,
						 sizeof(*res->groups[0].elements));
	}
	if (!res->groups || !res->groups[0].items || !res->groups[0].elements) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	{
		struct score_group *g = &res->groups[0];

		g->n = (long)json_integer_value(json_object_get(all, "n"));
		g->n_eff = json_number_value(json_object_get(all, "n_eff"));
		g->df = (long)json_integer_value(json_object_get(all, "df"));
		estimate_from_json(json_object_get(all, "index"), &g->index);
		for (size_t i = 0; i < form->n_elements; i++)
			estimate_from_json(json_object_get(json_object_get(all, "elements"), form->elements[i].id),
					   &g->elements[i]);
		for (size_t k = 0; k < form->n_items; k++)
			estimate_from_json(k == form->overall ? json_object_get(all, "overall")
					   : json_object_get(json_object_get(all, "criteria"), form->items[k].id),
					   &g->items[k]);
		res->rows = g->n;
	}
out:
	json_decref(doc);
	free(text);
	if (rc) {
		score_result_free(res);
		return rc;
	}
	*out = res;
	return 0;
}
