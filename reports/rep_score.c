/*
 * rep_score.c - JSON, CSV and table renderings of a score result (see
 * rep_score.h).  JSON and CSV keep full precision; the table rounds for
 * reading.  Unknown values are null in JSON and empty in CSV.
 */
#include "rep_score.h"

#include <string.h>

#include "rep_export.h"
#include "../lib/csv.h"
#include "../lib/period.h"
#include "../lib/strbuf.h"

/* part / whole for the counter's shares, 0 when whole is 0 (shown as unknown). */
static double share_of(long part, long whole)
{
	return whole ? (double)part / (double)whole : 0;
}

static json_t *estimate_json(const struct score_estimate *est, int with_n)
{
	json_t *o = json_object();

	rep_json_estimate(o, est);
	json_object_set_new(o, "ci", json_string(score_ci_name(est->ci)));
	if (with_n)
		json_object_set_new(o, "n", json_integer(est->n));
	return o;
}

/* {"reason": {"long-wait": 3, ...}}: the counts of each follow-up value. */
static json_t *followups_json(const struct form *f, const struct score_group *g)
{
	json_t *all = json_object();
	size_t slot = 0;

	for (size_t c = 0; c < f->n_choices; c++) {
		json_t *one;

		if (f->choices[c].is_demographic)
			continue;
		one = json_object();
		for (size_t v = 0; v < f->choices[c].n_values; v++)
			json_object_set_new(one, f->choices[c].values[v], json_integer(g->followups[slot++]));
		json_object_set_new(all, f->choices[c].id, one);
	}
	return all;
}

/* What a group's dossier-based rate covers: its cells with a dossier
 * total, their ratings and that share of the group's; null without any. */
static json_t *coverage_json(const struct score_group *g)
{
	if (!g->has_dossiers)
		return json_null();
	return json_pack("{s:I, s:I, s:o}", "cells", (json_int_t)g->dossier_cells,
			 "ratings", (json_int_t)g->covered_ratings,
			 "share_of_ratings", rep_json_num(g->ratings > 0, share_of(g->covered_ratings, g->ratings)));
}

/* The period's dossier cells: those the rates count ("dossier_cells"),
 * and those left out for a missing month ("dossier_gaps"). */
static void dossier_cells_json(const struct score_result *r, json_t *doc)
{
	json_t *cells = json_array(), *gaps = json_array();

	for (size_t k = 0; k < r->n_dossier_cells; k++) {
		const struct score_dossier_cell *c = &r->dossier_cells[k];
		struct period q;

		period_of_quarter(c->quarter, &q);
		if (c->complete) {
			json_array_append_new(cells, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "agency",
				c->agency->code, "sector", c->sector->code, "quarter", q.label,
				"dossiers", (json_int_t)c->dossiers, "ratings", (json_int_t)c->ratings,
				"unsatisfied", (json_int_t)c->unsatisfied));
		} else {
			json_t *months = json_array(), *missing = json_array();

			for (int i = 0; i < 3; i++) {
				char m[8];

				score_month_label(c->quarter, i, m);
				json_array_append_new(c->months & (1u << i) ? months : missing, json_string(m));
			}
			json_array_append_new(gaps, json_pack("{s:s, s:s, s:s, s:o, s:o}", "agency", c->agency->code,
				"sector", c->sector->code, "quarter", q.label, "months", months, "missing", missing));
		}
	}
	json_object_set_new(doc, "dossier_cells", cells);
	json_object_set_new(doc, "dossier_gaps", gaps);
}

/* What the groups' agencies are: agencies, or the hub's provinces. */
static const char *unit_of(const struct score_result *r)
{
	return r->unit ? r->unit : "agency";
}

static json_t *group_json(const struct score_result *r, const struct score_group *g)
{
	const struct form *f = r->form;
	json_t *o = json_object();
	const char *status = score_status_name(g->status);

	json_object_set_new(o, unit_of(r), g->agency ? json_string(g->agency->code) : json_null());
	json_object_set_new(o, "sector", g->sector ? json_string(g->sector->code) : json_null());
	json_object_set_new(o, "n", json_integer(g->n));
	json_object_set_new(o, "n_eff", json_real(g->n_eff));
	json_object_set_new(o, "df", json_integer(g->df));
	if (f->n_elements) {
		json_t *elements = json_object(), *criteria = json_object();

		json_object_set_new(o, "index", estimate_json(&g->index, 0));
		for (size_t i = 0; i < f->n_elements; i++)
			json_object_set_new(elements, f->elements[i].id, estimate_json(&g->elements[i], 0));
		for (size_t k = 0; k < f->n_items; k++)
			if (k != f->overall)
				json_object_set_new(criteria, f->items[k].id, estimate_json(&g->items[k], 1));
		json_object_set_new(o, "elements", elements);
		json_object_set_new(o, "criteria", criteria);
	}
	json_object_set_new(o, "overall", estimate_json(&g->items[f->overall], 1));
	if (!f->n_elements) {
		double rate = 0;
		int has_rate = score_dossier_rate(g, &rate);

		json_object_set_new(o, "counter", json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:b}",
			"ratings", (json_int_t)g->ratings, "satisfied", (json_int_t)g->satisfied,
			"share", rep_json_num(g->ratings > 0, share_of(g->satisfied, g->ratings)),
			"dossiers", g->has_dossiers ? json_integer(g->dossiers) : json_null(),
			"dossier_rate", rep_json_num(has_rate, rate),
			"dossier_coverage", coverage_json(g),
			"more_ratings_than_dossiers", score_more_ratings_than_dossiers(g)));
		if (g->followups)
			json_object_set_new(json_object_get(o, "counter"), "followups", followups_json(f, g));
	}
	json_object_set_new(o, "target", rep_json_num(g->has_target, g->target));
	json_object_set_new(o, "status", status ? json_string(status) : json_null());
	return o;
}

json_t *rep_score_json(const struct score_result *r)
{
	const struct form *f = r->form;
	json_t *doc = json_object(), *sat = json_array(), *groups = json_array();

	for (int v = f->scale_min; v <= f->scale_max; v++)
		if (form_is_satisfied(f, v))
			json_array_append_new(sat, json_integer(v));
	json_object_set_new(doc, "period", json_string(r->period.label));
	json_object_set_new(doc, "form", json_string(f->id));
	json_object_set_new(doc, "weights", json_string(r->raked ? "raked" : "design"));
	json_object_set_new(doc, "formula_version", json_integer(SCORE_FORMULA_VERSION));
	json_object_set_new(doc, "method", json_pack("{s:o, s:s, s:f}", "satisfied", sat, "ci", "logit",
						     "level", 0.95));
	for (size_t i = 0; i < r->n_groups; i++)
		json_array_append_new(groups, group_json(r, &r->groups[i]));
	json_object_set_new(doc, "groups", groups);
	if (!f->n_elements)
		dossier_cells_json(r, doc);
	return doc;
}

/* The counter method's columns of a group (forms without elements, whose
 * groups have one row each): COUNTER_CSV_HEADER. */
#define COUNTER_CSV_HEADER ",ratings,satisfied,share,dossiers,dossier_rate,dossier_cells,covered_ratings,covered_share"

static void counter_csv(struct strbuf *sb, const struct score_group *g)
{
	double rate = 0;
	int has_rate = score_dossier_rate(g, &rate);

	strbuf_addf(sb, ",%ld,%ld", g->ratings, g->satisfied);
	rep_csv_num(sb, g->ratings > 0, share_of(g->satisfied, g->ratings));
	if (g->has_dossiers)
		strbuf_addf(sb, ",%lld", g->dossiers);
	else
		strbuf_addch(sb, ',');
	rep_csv_num(sb, has_rate, rate);
	if (g->has_dossiers)
		strbuf_addf(sb, ",%ld,%ld", g->dossier_cells, g->covered_ratings);
	else
		strbuf_addstr(sb, ",,");
	rep_csv_num(sb, g->has_dossiers && g->ratings > 0, share_of(g->covered_ratings, g->ratings));
}

/* One estimate; `n` is its respondents who answered, or -1 for elements
 * and the index (built from several questions). */
static void csv_row(struct strbuf *sb, const struct score_result *r, const struct score_group *g,
		    const char *id, const struct score_estimate *est, long n)
{
	const char *status = score_status_name(g->status);

	csv_quote_cell(sb, g->agency ? g->agency->code : "");
	strbuf_addch(sb, ',');
	csv_quote_cell(sb, g->sector ? g->sector->code : "");
	strbuf_addch(sb, ',');
	csv_quote_cell(sb, id);
	rep_csv_estimate(sb, est);
	strbuf_addf(sb, ",%ld", g->n);
	rep_csv_num(sb, 1, g->n_eff);
	strbuf_addf(sb, ",%ld,%s,", g->df, score_ci_name(est->ci));
	if (n >= 0)
		strbuf_addf(sb, "%ld", n);
	rep_csv_num(sb, g->has_target, g->target);
	/* every row says what it was computed from and how */
	strbuf_addf(sb, ",%s,", status ? status : "");
	csv_quote_cell(sb, r->form->id);
	strbuf_addf(sb, ",%s,%s,%d", r->period.label, r->raked ? "raked" : "design", SCORE_FORMULA_VERSION);
	if (!r->form->n_elements)
		counter_csv(sb, g);
	strbuf_addch(sb, '\n');
}

int rep_score_csv(const struct score_result *r, FILE *fp)
{
	const struct form *f = r->form;
	struct strbuf sb;
	int rc = 0;

	strbuf_init(&sb, 0);
	strbuf_addf(&sb, "%s,sector,id,est,se,lo,hi,n,n_eff,df,ci,n_answered,target,status,"
		    "form,period,weights,formula_version", unit_of(r));
	strbuf_addstr(&sb, f->n_elements ? "\n" : COUNTER_CSV_HEADER "\n");
	for (size_t i = 0; i < r->n_groups && !rc; i++) {
		const struct score_group *g = &r->groups[i];

		for (size_t k = 0; k < f->n_items; k++)
			csv_row(&sb, r, g, f->items[k].id, &g->items[k], g->items[k].n);
		for (size_t el = 0; el < f->n_elements; el++)
			csv_row(&sb, r, g, f->elements[el].id, &g->elements[el], -1);
		if (f->n_elements)
			csv_row(&sb, r, g, "index", &g->index, -1);
		if (sb.failed || fwrite(sb.buf, 1, sb.len, fp) != sb.len)
			rc = ERR_IO;
		strbuf_reset(&sb);
	}
	strbuf_release(&sb);
	return rc;
}

static void pct(struct strbuf *sb, const struct score_estimate *est)
{
	if (!est->defined) {
		strbuf_addf(sb, "%-22s", "-");
		return;
	}
	if (est->has_bounds)
		strbuf_addf(sb, "%5.1f%% [%5.1f–%5.1f]   ", 100 * est->est, 100 * est->lo, 100 * est->hi);
	else
		strbuf_addf(sb, "%5.1f%% [   no CI   ]   ", 100 * est->est);
}

/* The dossier-based rate and the group's ratings it covers:
 * " 99.7% [10/25]", as wide as its header. */
static void dossier_rate_cell(struct strbuf *sb, const struct score_group *g)
{
	char cell[64];
	double rate;

	if (score_dossier_rate(g, &rate))
		snprintf(cell, sizeof(cell), "%5.1f%% [%ld/%ld]", 100 * rate, g->covered_ratings, g->ratings);
	else
		snprintf(cell, sizeof(cell), "-");
	strbuf_addf(sb, "%-32s", cell);
}

int rep_score_table(const struct score_result *r, FILE *fp)
{
	const struct form *f = r->form;
	struct strbuf sb;
	int rc = 0;

	strbuf_init(&sb, 0);
	strbuf_addf(&sb, "%s  %s  %s weights  %ld responses\n\n", f->id, r->period.label,
		    r->raked ? "raked" : "design", r->rows);
	strbuf_addf(&sb, "%-16s %-16s %7s %8s %4s  %-22s%-22s%s%7s  %s\n", unit_of(r), "sector", "n", "n_eff",
		    "df", f->n_elements ? "SIPAS index [95% CI]" : "satisfied [95% CI]",
		    f->n_elements ? "overall [95% CI]" : "counter share",
		    f->n_elements ? "" : "dossier rate [ratings covered]  ", "target", "status");
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct score_group *g = &r->groups[i];
		const char *status = score_status_name(g->status);

		strbuf_addf(&sb, "%-16s %-16s %7ld %8.1f %4ld  ", g->agency ? g->agency->code : "(all)",
			    g->sector ? g->sector->code : "(all)", g->n, g->n_eff, g->df);
		pct(&sb, f->n_elements ? &g->index : &g->items[f->overall]);
		if (f->n_elements)
			pct(&sb, &g->items[f->overall]);
		else if (g->ratings)
			strbuf_addf(&sb, "%5.1f%%%16s", 100.0 * (double)g->satisfied / (double)g->ratings, "");
		else
			strbuf_addf(&sb, "%-22s", "-");
		if (!f->n_elements)
			dossier_rate_cell(&sb, g);
		if (g->has_target)
			strbuf_addf(&sb, "%6.1f%%  ", 100 * g->target);
		else
			strbuf_addf(&sb, "%7s  ", "-");
		strbuf_addf(&sb, "%s\n", status ? status : "");
	}
	if (sb.failed || fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		rc = ERR_IO;
	strbuf_release(&sb);
	return rc;
}
