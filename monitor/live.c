/*
 * live.c - the live views (see live.h): one scan of the window's rows
 * over the responses_by_day index, summed per group in a hash map, then
 * each group's interval, target, dossier-based rate and names.
 */
#include "live.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/array.h"
#include "../lib/intmap.h"
#include "../lib/period.h"
#include "../responses/dossiers.h"
#include "../scoring/score.h"
#include "stats.h"

/* One table for names, days and labels, by enum live_window. */
static const struct {
	const char *name;
	int days;            /* the last N days, today included; 0: the quarter so far */
	const char *label;   /* on the funnel plot */
} windows[] = {
	[LIVE_TODAY] = { "today", 1, "hôm nay" },
	[LIVE_7D] = { "7d", 7, "7 ngày qua" },
	[LIVE_30D] = { "30d", 30, "30 ngày qua" },
	[LIVE_QUARTER] = { "quarter", 0, "quý này đến nay" },
};

/* By enum live_by: its name, the funnel's label, and the column that must
 * be set for a row to belong to a group. */
static const struct {
	const char *name;
	const char *label;
	const char *needs;
} bys[] = {
	[LIVE_BY_AGENCY] = { "agency", "theo cơ quan", "" },
	[LIVE_BY_SECTOR] = { "sector", "theo lĩnh vực", "" },
	[LIVE_BY_COUNTER] = { "counter", "theo quầy", " AND r.device_id IS NOT NULL" },
	[LIVE_BY_OFFICER] = { "officer", "theo cán bộ", " AND r.officer_id IS NOT NULL" },
};

#define N_WINDOWS (sizeof(windows) / sizeof(windows[0]))
#define N_BYS (sizeof(bys) / sizeof(bys[0]))

int live_parse_window(const char *s)
{
	for (size_t i = 0; s && i < N_WINDOWS; i++)
		if (strcmp(s, windows[i].name) == 0)
			return (int)i;
	return -1;
}

int live_parse_by(const char *s)
{
	for (size_t i = 0; s && i < N_BYS; i++)
		if (strcmp(s, bys[i].name) == 0)
			return (int)i;
	return -1;
}

const char *live_window_name(int window)
{
	assert(window >= 0 && (size_t)window < N_WINDOWS);
	return windows[window].name;
}

const char *live_by_name(int by)
{
	assert(by >= 0 && (size_t)by < N_BYS);
	return bys[by].name;
}

void live_window_days(int window, int32_t today, int32_t *first, int32_t *last)
{
	struct period q;

	assert(window >= 0 && (size_t)window < N_WINDOWS);
	*last = today;
	if (windows[window].days) {
		*first = today - windows[window].days + 1;
		return;
	}
	period_of_quarter(period_quarter_of_day(today), &q);
	*first = q.first_day;
}

/* A form the scan reads: its row id, and where its follow-up values go
 * among the view's reasons. */
struct live_form {
	long long id;
	const struct form *form;
	size_t *reason_of;   /* by follow-up slot (choice, then value); [n_slots] */
	size_t n_slots;
};

/* What a group sums during the scan, beside struct live_group. */
struct group_sums {
	long long agency_id, sector_id, device_id, officer_id;
	long long counter_unsatisfied;  /* counter-method forms' unsatisfied ratings in covered cells */
};

/* The reading of one view, freed by read_done. */
struct reading {
	struct live_view *v;
	struct group_sums *sums;        /* beside v->groups */
	size_t groups_cap, sums_cap;
	struct intmap by_key;
	struct live_form *forms;
	size_t n_forms;
	size_t reasons_cap;
	struct intmap covered;          /* (agency, sector) -> dossier cell index: complete cells */
	struct dossier_cell *cells;
	size_t n_cells, cells_cap;
	const struct scope *scope;
};

static uint64_t pair_key(long long a, long long b)
{
	return ((uint64_t)a << 32) ^ (uint64_t)b;
}

/* The view's reason index of follow-up value `value`, added when new. */
static int reason_index(struct reading *r, const char *value, size_t *out)
{
	struct live_view *v = r->v;

	for (size_t i = 0; i < v->n_reasons; i++)
		if (strcmp(v->reasons[i], value) == 0) {
			*out = i;
			return 0;
		}
	if (ARRAY_RESERVE(v->reasons, r->reasons_cap, v->n_reasons) < 0)
		return -1;
	v->reasons[v->n_reasons] = value;
	*out = v->n_reasons++;
	return 0;
}

/* forms' row ids, and their follow-up values among the view's reasons. */
static int read_forms(sqlite3 *db, struct reading *r, const struct form *const *forms, size_t n_forms,
		      struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT id FROM forms WHERE code = ?1", &st, e);

	if (rc)
		return rc;
	r->forms = calloc(n_forms ? n_forms : 1, sizeof(*r->forms));
	if (!r->forms) {
		rc = err_set(e, ERR_NOMEM, "out of memory reading a live view");
		goto out;
	}
	for (size_t i = 0; i < n_forms; i++) {
		const struct form *f = forms[i];
		struct live_form *lf = &r->forms[r->n_forms];
		size_t slot = 0;
		int step;

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
		step = sqlite3_step(st);
		if (step == SQLITE_DONE)
			continue;   /* loaded in the catalog but not stored: no rows */
		if (step != SQLITE_ROW) {
			rc = db_fail(db, e, "reading the forms");
			goto out;
		}
		lf->id = sqlite3_column_int64(st, 0);
		lf->form = f;
		for (size_t c = 0; c < f->n_choices; c++)
			if (!f->choices[c].is_demographic)
				lf->n_slots += f->choices[c].n_values;
		lf->reason_of = calloc(lf->n_slots ? lf->n_slots : 1, sizeof(*lf->reason_of));
		r->n_forms++;
		if (!lf->reason_of) {
			rc = err_set(e, ERR_NOMEM, "out of memory reading a live view");
			goto out;
		}
		for (size_t c = 0; c < f->n_choices; c++)
			for (size_t k = 0; !f->choices[c].is_demographic && k < f->choices[c].n_values; k++)
				if (reason_index(r, f->choices[c].values[k], &lf->reason_of[slot++]) < 0) {
					rc = err_set(e, ERR_NOMEM, "out of memory reading a live view");
					goto out;
				}
	}
out:
	sqlite3_finalize(st);
	return rc;
}

/* dossier_cells' callback: keep the complete cells of agencies in scope. */
static int keep_cell(const struct dossier_cell *cell, void *arg)
{
	struct reading *r = arg;

	if (!cell->complete || !scope_has(r->scope, cell->agency_id))
		return 0;
	if (ARRAY_RESERVE(r->cells, r->cells_cap, r->n_cells) < 0 ||
	    intmap_put(&r->covered, pair_key(cell->agency_id, cell->sector_id), (uint32_t)r->n_cells) < 0)
		return ERR_NOMEM;
	r->cells[r->n_cells++] = *cell;
	return 0;
}

static const struct live_form *form_of(const struct reading *r, long long id)
{
	for (size_t i = 0; i < r->n_forms; i++)
		if (r->forms[i].id == id)
			return &r->forms[i];
	return NULL;
}

/* The group of a row, made when new; NULL when out of memory. */
static struct live_group *group_of(struct reading *r, long long agency_id, long long sector_id, long long device_id,
				   long long officer_id, struct group_sums **sums)
{
	struct live_view *v = r->v;
	uint64_t key;
	long i;

	switch (v->by) {
	case LIVE_BY_AGENCY:
		key = (uint64_t)agency_id;
		sector_id = 0;
		device_id = officer_id = 0;
		break;
	case LIVE_BY_SECTOR:
		key = (uint64_t)sector_id;
		agency_id = device_id = officer_id = 0;
		break;
	case LIVE_BY_COUNTER:
		key = pair_key(device_id, sector_id);
		officer_id = 0;
		break;
	default:
		key = pair_key(officer_id, sector_id);
		device_id = 0;
		break;
	}
	i = intmap_get(&r->by_key, key);
	if (i < 0) {
		if (ARRAY_RESERVE(v->groups, r->groups_cap, v->n_groups) < 0 ||
		    ARRAY_RESERVE(r->sums, r->sums_cap, v->n_groups) < 0)
			return NULL;
		i = (long)v->n_groups;
		memset(&v->groups[i], 0, sizeof(v->groups[i]));
		r->sums[i] = (struct group_sums){ agency_id, sector_id, device_id, officer_id, 0 };
		v->groups[i].reasons = calloc(v->n_reasons ? v->n_reasons : 1, sizeof(long long));
		if (!v->groups[i].reasons || intmap_put(&r->by_key, key, (uint32_t)i) < 0) {
			free(v->groups[i].reasons);
			return NULL;
		}
		v->n_groups++;
	}
	*sums = &r->sums[i];
	return &v->groups[i];
}

/* Add one response row (the scan's columns) to its group. */
static int add_row(struct reading *r, sqlite3_stmt *st)
{
	const struct live_form *lf = form_of(r, sqlite3_column_int64(st, 0));
	const unsigned char *answers = sqlite3_column_blob(st, 5), *choices = sqlite3_column_blob(st, 6);
	size_t n_answers = (size_t)sqlite3_column_bytes(st, 5), n_choices = (size_t)sqlite3_column_bytes(st, 6);
	long long agency_id = sqlite3_column_int64(st, 1), sector_id = sqlite3_column_int64(st, 2);
	struct group_sums *sums;
	struct live_group *g;
	unsigned a;
	size_t slot = 0;

	if (!lf || lf->form->overall >= n_answers || !(a = answers[lf->form->overall]))
		return 0;   /* not a rating: its overall question was not answered */
	g = group_of(r, agency_id, sector_id, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), &sums);
	if (!g)
		return -1;
	g->n++;
	if (lf->form->satisfied_mask >> (a - 1) & 1) {
		g->satisfied++;
	} else if (!lf->form->n_elements && intmap_get(&r->covered, pair_key(agency_id, sector_id)) >= 0) {
		sums->counter_unsatisfied++;
	}
	for (size_t c = 0; c < lf->form->n_choices; c++) {
		const struct form_choice *ch = &lf->form->choices[c];

		if (ch->is_demographic)
			continue;
		if (c < n_choices && choices[c] && choices[c] <= ch->n_values)
			g->reasons[lf->reason_of[slot + choices[c] - 1]]++;
		slot += ch->n_values;
	}
	return 0;
}

/* The dossiers of g's covered cells, and whether it has any: dossier
 * totals are an agency's and a sector's, so counters and officers have
 * none. */
static int group_dossiers(const struct reading *r, const struct group_sums *s, long long *dossiers)
{
	int any = 0;

	*dossiers = 0;
	if (r->v->by != LIVE_BY_AGENCY && r->v->by != LIVE_BY_SECTOR)
		return 0;
	for (size_t k = 0; k < r->n_cells; k++) {
		const struct dossier_cell *c = &r->cells[k];

		if (r->v->by == LIVE_BY_AGENCY ? c->agency_id != s->agency_id : c->sector_id != s->sector_id)
			continue;
		any = 1;
		*dossiers += c->dossiers;
	}
	return any;
}

/* Names of the counters and officers of the groups. */
static int name_groups(sqlite3 *db, struct reading *r, struct err *e)
{
	struct live_view *v = r->v;
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (v->by == LIVE_BY_COUNTER)
		rc = db_prepare(db, "SELECT counter, public_id FROM devices WHERE id = ?1", &st, e);
	else if (v->by == LIVE_BY_OFFICER)
		rc = db_prepare(db, "SELECT code, name FROM staff WHERE id = ?1", &st, e);
	for (size_t i = 0; !rc && st && i < v->n_groups; i++) {
		struct live_group *g = &v->groups[i];
		char **first = v->by == LIVE_BY_COUNTER ? &g->counter : &g->officer;
		char **second = v->by == LIVE_BY_COUNTER ? &g->device : &g->officer_name;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, v->by == LIVE_BY_COUNTER ? r->sums[i].device_id : r->sums[i].officer_id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = db_fail(db, e, "reading a counter's or an officer's name");
			break;
		}
		*first = strdup((const char *)sqlite3_column_text(st, 0));
		*second = strdup((const char *)sqlite3_column_text(st, 1));
		if (!*first || !*second)
			rc = err_set(e, ERR_NOMEM, "out of memory reading a live view");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Each group's figures, once the scan is over. */
static void finish_groups(struct reading *r, const struct registry *reg, int32_t today)
{
	struct live_view *v = r->v;
	int quarter = period_quarter_of_day(today);

	for (size_t i = 0; i < v->n_groups; i++) {
		struct live_group *g = &v->groups[i];
		const struct group_sums *s = &r->sums[i];
		const struct registry_entry *agency = registry_agency_by_id(reg, s->agency_id);
		const struct registry_entry *sector = registry_sector_by_id(reg, s->sector_id);
		long long dossiers;
		const struct registry_target *t = score_target(reg, s->agency_id, s->sector_id, quarter);

		g->agency = agency ? agency->code : NULL;
		g->sector = sector ? sector->code : NULL;
		wilson_interval(g->satisfied, g->n, 0.95, &g->lo, &g->hi);
		g->has_target = t != NULL;
		g->target = t ? t->threshold : 0;
		if (group_dossiers(r, s, &dossiers) && dossiers > 0) {
			g->has_dossier_rate = 1;
			g->dossier_rate = (double)(dossiers - s->counter_unsatisfied) / (double)dossiers;
		}
	}
}

static int compare_text(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int compare_groups(const void *pa, const void *pb)
{
	const struct live_group *a = pa, *b = pb;
	int c;

	if ((c = compare_text(a->agency, b->agency)) || (c = compare_text(a->counter, b->counter)) ||
	    (c = compare_text(a->device, b->device)) || (c = compare_text(a->officer, b->officer)))
		return c;
	return compare_text(a->sector, b->sector);
}

static void read_done(struct reading *r)
{
	for (size_t i = 0; i < r->n_forms; i++)
		free(r->forms[i].reason_of);
	free(r->forms);
	free(r->sums);
	free(r->cells);
	intmap_release(&r->by_key);
	intmap_release(&r->covered);
}

/* The forms' row ids as a JSON array, for json_each. */
static char *form_ids_json(const struct reading *r)
{
	struct strbuf sb;

	strbuf_init(&sb, 0);
	strbuf_addch(&sb, '[');
	for (size_t i = 0; i < r->n_forms; i++)
		strbuf_addf(&sb, "%s%lld", i ? "," : "", r->forms[i].id);
	strbuf_addch(&sb, ']');
	return strbuf_detach(&sb, NULL);
}

int live_view_read(sqlite3 *db, const struct registry *reg, const struct form *const *forms, size_t n_forms,
		   int window, int by, int32_t today, const struct scope *scope, struct live_view **out,
		   struct err *e)
{
	struct reading r = { .by_key = INTMAP_INIT, .covered = INTMAP_INIT, .scope = scope };
	char sql[640];
	sqlite3_stmt *st = NULL;
	char *ids = NULL;
	int rc, step;

	assert(window >= 0 && (size_t)window < N_WINDOWS && by >= 0 && (size_t)by < N_BYS);
	*out = NULL;
	r.v = calloc(1, sizeof(*r.v));
	if (!r.v)
		return err_set(e, ERR_NOMEM, "out of memory reading a live view");
	r.v->window = window;
	r.v->by = by;
	live_window_days(window, today, &r.v->first_day, &r.v->last_day);
	rc = read_forms(db, &r, forms, n_forms, e);
	if (!rc && window == LIVE_QUARTER) {
		int q = period_quarter_of_day(today);

		rc = dossier_cells(db, q, q, keep_cell, &r, e);
		if (rc == ERR_NOMEM)
			err_set(e, ERR_NOMEM, "out of memory reading dossier totals");
	}
	if (rc)
		goto out;
	if (!(ids = form_ids_json(&r))) {
		rc = err_set(e, ERR_NOMEM, "out of memory reading a live view");
		goto out;
	}
	/* the collector's rows only (import_id NULL: a live view is about
	 * what reaches the counters now), over responses_by_day: the window's
	 * days are what bounds the scan, also by counter, where the planner
	 * might otherwise take responses_by_device's every kiosk row */
	snprintf(sql, sizeof(sql),
		 "SELECT r.form_id, r.agency_id, r.sector_id, ifnull(r.device_id, 0), ifnull(r.officer_id, 0), "
		 "r.answers, r.choices FROM responses r INDEXED BY responses_by_day WHERE r.form_id IN (SELECT value FROM json_each(:forms)) "
		 "AND r.day BETWEEN :first AND :last AND r.import_id IS NULL%s AND " SCOPE_SQL("r.agency_id"),
		 bys[by].needs);
	rc = db_prepare(db, sql, &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":forms"), ids, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":first"), r.v->first_day);
	sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":last"), r.v->last_day);
	scope_bind(st, scope);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (add_row(&r, st) < 0) {
			rc = err_set(e, ERR_NOMEM, "out of memory reading a live view");
			goto out;
		}
	if (step != SQLITE_DONE) {
		rc = db_fail(db, e, "reading the live view's ratings");
		goto out;
	}
	rc = name_groups(db, &r, e);
	if (rc)
		goto out;
	finish_groups(&r, reg, today);
	if (r.v->n_groups)   /* no groups: the array may be NULL, which qsort must not get */
		qsort(r.v->groups, r.v->n_groups, sizeof(*r.v->groups), compare_groups);
	*out = r.v;
	r.v = NULL;
out:
	sqlite3_finalize(st);
	free(ids);
	read_done(&r);
	live_view_free(r.v);
	return rc;
}

static json_t *text_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *group_json(const struct live_view *v, const struct live_group *g)
{
	json_t *reasons = json_object();

	for (size_t i = 0; reasons && i < v->n_reasons; i++)
		if (g->reasons[i])
			json_object_set_new(reasons, v->reasons[i], json_integer(g->reasons[i]));
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:f, s:f, s:f, s:o, s:o, s:o}", "agency",
			 text_or_null(g->agency), "sector", text_or_null(g->sector), "device",
			 text_or_null(g->device), "counter", text_or_null(g->counter),
			 "officer", text_or_null(g->officer), "officer_name", text_or_null(g->officer_name), "n",
			 (json_int_t)g->n, "satisfied", (json_int_t)g->satisfied, "share",
			 (double)g->satisfied / (double)g->n, "lo", g->lo, "hi", g->hi, "target",
			 g->has_target ? json_real(g->target) : json_null(), "dossier_rate",
			 g->has_dossier_rate ? json_real(g->dossier_rate) : json_null(), "reasons", reasons);
}

json_t *live_view_json(const struct live_view *v)
{
	json_t *groups = json_array();
	char from[16], to[16];

	for (size_t i = 0; groups && i < v->n_groups; i++)
		if (json_array_append_new(groups, group_json(v, &v->groups[i])) < 0) {
			json_decref(groups);
			return NULL;
		}
	period_format_day(v->first_day, from);
	period_format_day(v->last_day, to);
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "window", live_window_name(v->window), "by",
			 live_by_name(v->by), "from", from, "to", to, "groups", groups);
}

/* A group's label on the funnel plot: what names it in its view. */
static void group_label(const struct live_view *v, const struct live_group *g, struct strbuf *sb)
{
	switch (v->by) {
	case LIVE_BY_AGENCY:
		strbuf_addstr(sb, g->agency ? g->agency : "?");
		break;
	case LIVE_BY_SECTOR:
		strbuf_addstr(sb, g->sector ? g->sector : "?");
		break;
	case LIVE_BY_COUNTER:
		strbuf_addf(sb, "%s · %s · %s", g->agency ? g->agency : "?", g->counter ? g->counter : "?",
			    g->sector ? g->sector : "?");
		break;
	default:
		strbuf_addf(sb, "%s · %s · %s", g->agency ? g->agency : "?", g->officer_name ? g->officer_name : "?",
			    g->sector ? g->sector : "?");
		break;
	}
	strbuf_addch(sb, '\0');   /* labels lie end to end, each NUL-terminated */
}

void live_view_funnel(const struct live_view *v, double target, struct strbuf *out)
{
	struct funnel_point *pts = calloc(v->n_groups ? v->n_groups : 1, sizeof(*pts));
	size_t *at = calloc(v->n_groups ? v->n_groups : 1, sizeof(*at));
	struct strbuf labels, title;
	size_t n = 0;

	strbuf_init(&labels, 0);
	strbuf_init(&title, 0);
	for (size_t i = 0; pts && at && i < v->n_groups; i++) {
		const struct live_group *g = &v->groups[i];

		if (!g->has_target || fabs(g->target - target) > 1e-9)
			continue;
		at[n] = labels.len;
		group_label(v, g, &labels);
		pts[n++] = (struct funnel_point){ NULL, g->n, g->satisfied };
	}
	/* the labels' buffer stops moving once every label is in */
	for (size_t i = 0; i < n; i++)
		pts[i].label = labels.buf + at[i];
	strbuf_addf(&title, "Tỷ lệ hài lòng theo số đánh giá, %s, %s (mục tiêu %g %%)", windows[v->window].label,
		    bys[v->by].label, target * 100);
	funnel_svg(out, "funnel", strbuf_str(&title), target, pts, pts && at && !labels.failed ? n : 0);
	strbuf_release(&labels);
	strbuf_release(&title);
	free(pts);
	free(at);
}

void live_view_free(struct live_view *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_groups; i++) {
		free(v->groups[i].reasons);
		free(v->groups[i].counter);
		free(v->groups[i].device);
		free(v->groups[i].officer);
		free(v->groups[i].officer_name);
	}
	free(v->groups);
	free(v->reasons);
	free(v);
}

int live_officer_scope(const long long *agency_ids, size_t n, struct scope *out, struct err *e)
{
	struct strbuf json;

	memset(out, 0, sizeof(*out));
	out->agency_ids = malloc((n ? n : 1) * sizeof(*out->agency_ids));
	strbuf_init(&json, 0);
	strbuf_addch(&json, '[');
	for (size_t i = 0; out->agency_ids && i < n; i++) {
		out->agency_ids[i] = agency_ids[i];
		strbuf_addf(&json, "%s%lld", i ? "," : "", agency_ids[i]);
	}
	strbuf_addch(&json, ']');
	out->n = n;
	out->json = strbuf_detach(&json, NULL);
	if (!out->agency_ids || !out->json) {
		scope_release(out);
		return err_set(e, ERR_NOMEM, "out of memory reading an account's agencies");
	}
	return 0;
}
