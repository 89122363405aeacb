/*
 * score.c - scoring one form and period (see score.h): read the period's
 * responses once, accumulate (score_accum.c) and, when raking, gather the
 * raking table (score_rake.c) in the same pass; derive each group's ratios
 * and covariance (score_design.c, score_calib.c), then intervals and
 * verdicts here.
 */
#include "score.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>

#include "score_accum.h"
#include "score_design.h"
#include "score_rake.h"
#include "../lib/array.h"
#include "../db/db.h"
#include "../lib/intmap.h"
#include "../lib/progress.h"
#include "../responses/dossiers.h"

#define SCORE_LEVEL 0.95

enum group_kind { KIND_ALL, KIND_AGENCY, KIND_SECTOR, KIND_AGENCY_SECTOR, N_KINDS };

const char *score_ci_name(int ci)
{
	switch (ci) {
	case SCORE_CI_LOGIT: return "logit";
	case SCORE_CI_WALD: return "wald";
	case SCORE_CI_CLOPPER_PEARSON: return "clopper-pearson";
	default: return "none";
	}
}

const char *score_status_name(int status)
{
	switch (status) {
	case SCORE_MET: return "met";
	case SCORE_NOT_MET: return "not_met";
	case SCORE_INCONCLUSIVE: return "inconclusive";
	case SCORE_INSUFFICIENT_DATA: return "insufficient_data";
	default: return NULL;
	}
}

int score_parse_by(const char *s, int *by, struct err *e)
{
	if (strcmp(s, "agency") == 0)
		*by = SCORE_BY_AGENCY;
	else if (strcmp(s, "sector") == 0)
		*by = SCORE_BY_SECTOR;
	else if (strcmp(s, "agency,sector") == 0)
		*by = SCORE_BY_AGENCY_SECTOR;
	else
		return err_set_field(e, ERR_INVALID, "by", "--by '%s' is not agency, sector or agency,sector", s);
	return 0;
}

/* The one pass over the period's rows: accumulate with the design weights,
 * and when raking, gather the raking table at the same time; every cell
 * lies in one raking cell, so its sums take the raked weights afterwards
 * (score_accum_scale). */
struct scan {
	const struct score_source *src;
	const struct form *form;
	const struct period *period;
	long rows;
	const struct intmap *pool;  /* agency id -> the successor it is scored as; NULL: none */
};

int score_scan_prepare(sqlite3 *db, const char *form_id, const struct period *period,
		       sqlite3_stmt **out, struct err *e)
{
	/* Through the (form_id, day) index rows arrive in day order, which is
	 * random access to the table when they were not stored in day order;
	 * when the period holds a large part of the table a plain scan of the
	 * table in storage order is several times faster. */
	static const char *const sql[2] = {
		"SELECT agency_id, sector_id, stratum_id, coalesce(psu_id, 0), weight, answers, choices, day "
		"FROM responses WHERE form_id = ?1 AND day BETWEEN ?2 AND ?3 AND " DB_VISIBLE("responses"),
		"SELECT agency_id, sector_id, stratum_id, coalesce(psu_id, 0), weight, answers, choices, day "
		"FROM responses NOT INDEXED WHERE form_id = ?1 AND day BETWEEN ?2 AND ?3 AND " DB_VISIBLE("responses"),
	};
	sqlite3_stmt *st = NULL;
	long long form_rowid = 0, in_period = 0, total = 0;
	int rc;

	rc = db_prepare(db, "SELECT id, (SELECT count(*) FROM responses WHERE form_id = f.id AND "
				"day BETWEEN ?2 AND ?3), (SELECT coalesce(max(id), 0) FROM responses) "
				"FROM forms f WHERE code = ?1", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, form_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, period->first_day);
	sqlite3_bind_int(st, 3, period->last_day);
	if (sqlite3_step(st) == SQLITE_ROW) {
		form_rowid = sqlite3_column_int64(st, 0);
		in_period = sqlite3_column_int64(st, 1);
		total = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (!form_rowid)
		return err_set_field(e, ERR_NOT_FOUND, "form", "unknown form '%s'", form_id);
	rc = db_prepare(db, sql[in_period * 8 > total], out, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(*out, 1, form_rowid);
	sqlite3_bind_int(*out, 2, period->first_day);
	sqlite3_bind_int(*out, 3, period->last_day);
	return 0;
}

/* ---- the rows of the province's own database ---- */

struct db_source {
	sqlite3 *db;
	const char *form_id;
	const struct period *period;
	sqlite3_stmt *st;
	int whole;
};

static int db_source_open(void *arg, int whole, struct err *e)
{
	struct db_source *s = arg;

	s->whole = whole;
	sqlite3_finalize(s->st);
	s->st = NULL;
	return score_scan_prepare(s->db, s->form_id, s->period, &s->st, e);
}

static int db_source_next(void *arg, struct score_row *row, struct err *e)
{
	struct db_source *s = arg;
	sqlite3_stmt *st = s->st;
	int step = sqlite3_step(st);

	if (step == SQLITE_DONE)
		return SCORE_SOURCE_END;
	if (step != SQLITE_ROW)
		return db_fail(s->db, e, "reading responses");
	row->agency_id = sqlite3_column_int64(st, 0);
	row->sector_id = sqlite3_column_int64(st, 1);
	row->stratum_id = sqlite3_column_int64(st, 2);
	row->psu_id = sqlite3_column_int64(st, 3);
	row->weight = sqlite3_column_double(st, 4);
	row->answers = sqlite3_column_blob(st, 5);
	row->n_answers = (size_t)sqlite3_column_bytes(st, 5);
	/* the choices' address and the day cost more than the rest of the
	 * row: only when asked */
	row->choices = s->whole ? sqlite3_column_blob(st, 6) : NULL;
	row->n_choices = (size_t)sqlite3_column_bytes(st, 6);
	row->day = s->whole ? sqlite3_column_int(st, 7) : 0;
	return 0;
}

static void db_source_close(void *arg)
{
	struct db_source *s = arg;

	sqlite3_finalize(s->st);
	s->st = NULL;
}

static int scan_rows(struct scan *s, struct score_rake *rake, struct score_accum *acc, struct err *e)
{
	const struct score_source *src = s->src;
	struct score_row row;
	struct progress prog;
	int rc;

	rc = src->open(src->arg, rake != NULL, e);   /* only raking reads the choices, none the day */
	if (rc)
		return rc;
	progress_start(&prog, "scoring", 0);
	s->rows = 0;
	while (!(rc = src->next(src->arg, &row, e))) {
		long long agency = row.agency_id;
		long successor = s->pool ? intmap_get(s->pool, (uint64_t)agency) : -1;
		uint32_t cell = 0;

		if (successor >= 0)
			agency = successor;
		if (row.n_answers != s->form->n_items || row.n_choices != s->form->n_choices) {
			rc = err_set(e, ERR_INTERNAL, "a stored response does not match form %s",
				     s->form->id);
			break;
		}
		s->rows++;
		progress_update(&prog, 0, (uint64_t)s->rows);
		if (rake)
			rc = score_rake_add(rake, agency, row.sector_id, row.choices, row.weight, &cell, e);
		if (!rc)
			rc = score_accum_add(acc, agency, row.sector_id, row.stratum_id, cell,
					     row.psu_id, row.weight, row.answers, e);
		if (rc)
			break;
	}
	progress_end(&prog);
	src->close(src->arg);
	return rc == SCORE_SOURCE_END ? 0 : rc;
}

/* ---- groups ---- */

struct group_list {
	struct score_group *v;
	size_t n, cap;
	struct intmap by_key[N_KINDS];   /* agency id, sector id, or the pair */
};

static long add_group(struct group_list *gl, int kind, uint64_t key,
		      const struct registry_entry *agency, const struct registry_entry *sector)
{
	if (ARRAY_RESERVE(gl->v, gl->cap, gl->n) < 0)
		return -1;
	memset(&gl->v[gl->n], 0, sizeof(gl->v[gl->n]));
	gl->v[gl->n].agency = agency;
	gl->v[gl->n].sector = sector;
	if (intmap_put(&gl->by_key[kind], key, (uint32_t)gl->n) < 0)
		return -1;
	return (long)gl->n++;
}

static int cmp_entry_id(const void *a, const void *b)
{
	const struct registry_entry *x = *(const struct registry_entry *const *)a;
	const struct registry_entry *y = *(const struct registry_entry *const *)b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Registry entries in id order (the order of the registry files). */
static const struct registry_entry **by_id(const struct registry_entry *v, size_t n)
{
	const struct registry_entry **out = malloc((n ? n : 1) * sizeof(*out));

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = &v[i];
	qsort(out, n, sizeof(*out), cmp_entry_id);
	return out;
}

static int cmp_cell_pair(const void *a, const void *b, void *arg)
{
	const struct score_cell *cells = arg;
	const struct score_cell *x = &cells[*(const uint32_t *)a], *y = &cells[*(const uint32_t *)b];

	if (x->agency_id != y->agency_id)
		return (x->agency_id > y->agency_id) - (x->agency_id < y->agency_id);
	return (x->sector_id > y->sector_id) - (x->sector_id < y->sector_id);
}

static uint64_t pair_key(long long agency, long long sector)
{
	return ((uint64_t)agency << 32) | (uint64_t)sector;
}

/* 1 when agency a gets no group of its own: it has no respondents in the
 * scan, and either it did not exist in the period or its respondents are
 * scored as its successor's (s->pool). */
static int agency_left_out(const struct scan *s, const struct score_accum *acc, const struct registry_entry *a)
{
	if (a->valid_from <= s->period->last_day && a->valid_to >= s->period->first_day &&
	    !(s->pool && intmap_get(s->pool, (uint64_t)a->id) >= 0))
		return 0;
	for (size_t c = 0; c < acc->n_cells; c++)
		if (acc->cells[c].agency_id == a->id)
			return 0;
	return 1;
}

/* Build the groups (all; every agency of the period; every sector;
 * agency×sector pairs with data) and each cell's group of every kind. */
static int build_groups(const struct registry *reg, const struct scan *s, const struct score_accum *acc,
			int by, struct group_list *gl, uint32_t **cell_groups, struct err *e)
{
	const struct registry_entry **agencies = by_id(reg->agencies, reg->n_agencies);
	const struct registry_entry **sectors = by_id(reg->sectors, reg->n_sectors);
	uint32_t *order = malloc((acc->n_cells ? acc->n_cells : 1) * sizeof(*order));
	uint32_t *cg = malloc((acc->n_cells ? acc->n_cells : 1) * N_KINDS * sizeof(*cg));
	int rc = 0;

	if (!agencies || !sectors || !order || !cg || add_group(gl, KIND_ALL, 0, NULL, NULL) < 0) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; (by & SCORE_BY_AGENCY) && i < reg->n_agencies && !rc; i++)
		if (!agency_left_out(s, acc, agencies[i]) &&
		    add_group(gl, KIND_AGENCY, (uint64_t)agencies[i]->id, agencies[i], NULL) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	for (size_t i = 0; (by & SCORE_BY_SECTOR) && i < reg->n_sectors && !rc; i++)
		if (add_group(gl, KIND_SECTOR, (uint64_t)sectors[i]->id, NULL, sectors[i]) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	for (size_t c = 0; c < acc->n_cells; c++)
		order[c] = (uint32_t)c;
	qsort_r(order, acc->n_cells, sizeof(*order), cmp_cell_pair, acc->cells);
	for (size_t i = 0; (by & SCORE_BY_AGENCY_SECTOR) && i < acc->n_cells && !rc; i++) {
		const struct score_cell *c = &acc->cells[order[i]];
		uint64_t key = pair_key(c->agency_id, c->sector_id);

		if (intmap_get(&gl->by_key[KIND_AGENCY_SECTOR], key) < 0 &&
		    add_group(gl, KIND_AGENCY_SECTOR, key, registry_agency_by_id(reg, c->agency_id),
			      registry_sector_by_id(reg, c->sector_id)) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	for (size_t c = 0; c < acc->n_cells && !rc; c++) {
		const struct score_cell *cell = &acc->cells[c];
		long g;

		cg[c * N_KINDS + KIND_ALL] = 0;
		g = intmap_get(&gl->by_key[KIND_AGENCY], (uint64_t)cell->agency_id);
		cg[c * N_KINDS + KIND_AGENCY] = g < 0 ? SCORE_NO_GROUP : (uint32_t)g;
		g = intmap_get(&gl->by_key[KIND_SECTOR], (uint64_t)cell->sector_id);
		cg[c * N_KINDS + KIND_SECTOR] = g < 0 ? SCORE_NO_GROUP : (uint32_t)g;
		g = intmap_get(&gl->by_key[KIND_AGENCY_SECTOR], pair_key(cell->agency_id, cell->sector_id));
		cg[c * N_KINDS + KIND_AGENCY_SECTOR] = g < 0 ? SCORE_NO_GROUP : (uint32_t)g;
	}
out:
	free(agencies);
	free(sectors);
	free(order);
	if (rc) {
		free(cg);
		return rc;
	}
	*cell_groups = cg;
	return 0;
}

/* ---- estimates ---- */

static void clopper_pearson(double p, double n_eff, struct score_estimate *est)
{
	double x = p * n_eff;

	/* GSL's beta inverse does not return on NaN or infinite arguments, and
	 * stored weights predate any check: no bounds rather than a hang */
	if (!isfinite(x) || !isfinite(n_eff) || !(n_eff > 0)) {
		est->ci = SCORE_CI_NONE;
		est->has_bounds = 0;
		return;
	}
	est->ci = SCORE_CI_CLOPPER_PEARSON;
	est->has_bounds = 1;
	est->lo = x <= 0 ? 0.0 : gsl_cdf_beta_Pinv(0.025, x, n_eff - x + 1);
	est->hi = x >= n_eff ? 1.0 : gsl_cdf_beta_Pinv(0.975, x + 1, n_eff - x);
}

/* t is Student's quantile on df (when df >= 1): computed once per group,
 * since the quantile costs more than everything else of an estimate. */
static void item_estimate(const struct score_design_group *g, size_t k, long df, double t,
			  struct score_estimate *est)
{
	double p = g->ratio[k], se = sqrt(fmax(gsl_matrix_get(g->cov, k, k), 0.0));

	memset(est, 0, sizeof(*est));
	est->n = (long)g->ans_n[k];
	if (isnan(p))
		return;
	est->defined = 1;
	est->est = p;
	est->has_se = df >= 1;
	est->se = se;
	if (p <= 0 || p >= 1 || df < 1) {
		clopper_pearson(p, g->ans_sw[k] * g->ans_sw[k] / g->ans_sw2[k], est);
	} else {
		double l = log(p / (1 - p)), h = t * se / (p * (1 - p));

		est->ci = SCORE_CI_LOGIT;
		est->has_bounds = 1;
		est->lo = 1 / (1 + exp(-(l - h)));
		est->hi = 1 / (1 + exp(-(l + h)));
	}
}

/* A linear combination c·R of the criterion ratios (elements, index).  When
 * every criterion in it is at 1, or every one at 0 (from the weighted sums,
 * exactly), the linearised variance is 0 and a Wald interval would claim
 * certainty: Clopper-Pearson on the group's Kish n instead. */
static void combination_estimate(const struct score_design_group *g, const gsl_vector *c,
				 const struct score_estimate *items, long df, double t,
				 struct score_estimate *est, gsl_vector *tmp)
{
	double var = 0, p = 0;
	int all_one = 1, all_zero = 1;

	memset(est, 0, sizeof(*est));
	for (size_t k = 0; k < c->size; k++) {
		double ck = gsl_vector_get(c, k);

		if (ck == 0)
			continue;
		if (!items[k].defined)
			return;
		p += ck * items[k].est;
		all_one &= g->y[k] == g->x[k];
		all_zero &= g->y[k] == 0;
	}
	est->defined = 1;
	est->est = all_one ? 1.0 : all_zero ? 0.0 : p;
	if (df < 1)
		return;   /* no design information on the variance: se, lo, hi null */
	est->has_se = 1;
	if (all_one || all_zero) {
		est->se = 0;
		clopper_pearson(est->est, g->sw2 > 0 ? g->sw * g->sw / g->sw2 : 0, est);
		return;
	}
	gsl_blas_dsymv(CblasUpper, 1.0, g->cov, c, 0.0, tmp);
	gsl_blas_ddot(c, tmp, &var);
	est->se = sqrt(fmax(var, 0.0));
	est->ci = SCORE_CI_WALD;
	est->has_bounds = 1;
	est->lo = fmax(0.0, p - t * est->se);
	est->hi = fmin(1.0, p + t * est->se);
}

static int group_estimates(const struct form *f, const struct score_design_group *dg,
			   struct score_group *g, struct err *e)
{
	gsl_vector *c = gsl_vector_alloc(f->n_items), *tmp = gsl_vector_alloc(f->n_items);
	double total_weight = 0, t;
	int rc = 0;

	g->items = calloc(f->n_items, sizeof(*g->items));
	g->elements = calloc(f->n_elements ? f->n_elements : 1, sizeof(*g->elements));
	if (!c || !tmp || !g->items || !g->elements) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	g->n = (long)dg->n;
	g->n_eff = dg->sw2 > 0 ? dg->sw * dg->sw / dg->sw2 : 0;
	g->df = dg->psus - dg->strata;
	g->ratings = (long)dg->ans_n[f->overall];
	g->satisfied = (long)dg->sat_n[f->overall];
	t = g->df >= 1 ? gsl_cdf_tdist_Pinv(0.5 + SCORE_LEVEL / 2, (double)g->df) : NAN;
	for (size_t k = 0; k < f->n_items; k++)
		item_estimate(dg, k, g->df, t, &g->items[k]);
	for (size_t el = 0; el < f->n_elements; el++) {
		const struct form_element *fe = &f->elements[el];

		gsl_vector_set_zero(c);
		for (size_t k = fe->first; k < fe->first + fe->count; k++)
			gsl_vector_set(c, k, 1.0 / (double)fe->count);
		combination_estimate(dg, c, g->items, g->df, t, &g->elements[el], tmp);
		total_weight += fe->weight;
	}
	if (f->n_elements) {
		gsl_vector_set_zero(c);
		for (size_t el = 0; el < f->n_elements; el++) {
			const struct form_element *fe = &f->elements[el];

			for (size_t k = fe->first; k < fe->first + fe->count; k++)
				gsl_vector_set(c, k, fe->weight / total_weight / (double)fe->count);
		}
		combination_estimate(dg, c, g->items, g->df, t, &g->index, tmp);
	}
out:
	gsl_vector_free(c);
	gsl_vector_free(tmp);
	return rc;
}

/* The target in force at quarter q for a scope, or NULL. */
static const struct registry_target *target_for(const struct registry *reg, int scope,
						long long ref_id, int q)
{
	const struct registry_target *best = NULL;

	for (size_t i = 0; i < reg->n_targets; i++) {
		const struct registry_target *t = &reg->targets[i];

		if (t->scope == scope && t->ref_id == ref_id && t->from_quarter <= q &&
		    (!best || t->from_quarter > best->from_quarter))
			best = t;
	}
	return best;
}

const struct registry_target *score_target(const struct registry *reg, long long agency_id,
					   long long sector_id, int q)
{
	const struct registry_target *t = NULL;

	if (agency_id)
		t = target_for(reg, SCOPE_AGENCY, agency_id, q);
	if (!t && sector_id)
		t = target_for(reg, SCOPE_SECTOR, sector_id, q);
	if (!t)
		t = target_for(reg, SCOPE_ALL, 0, q);
	return t;
}

static void judge(const struct registry *reg, const struct form *f, int q, struct score_group *g)
{
	const struct registry_target *t = score_target(reg, g->agency ? g->agency->id : 0,
							g->sector ? g->sector->id : 0, q);
	const struct score_estimate *on = f->n_elements ? &g->index : &g->items[f->overall];

	g->status = SCORE_NO_TARGET;
	if (!t)
		return;
	g->has_target = 1;
	g->target = t->threshold;
	/* n alone is not enough: 112 respondents whose weights leave a Kish n
	 * of 9 weigh as little as 9 equal ones (and a NaN Kish n is no n) */
	if (g->n < SCORE_MIN_N || !(g->n_eff >= SCORE_MIN_N) || !on->has_bounds)
		g->status = SCORE_INSUFFICIENT_DATA;
	else if (on->lo >= t->threshold)
		g->status = SCORE_MET;
	else if (on->hi < t->threshold)
		g->status = SCORE_NOT_MET;
	else
		g->status = SCORE_INCONCLUSIVE;
}

void score_result_free(struct score_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_groups; i++) {
		free(r->groups[i].items);
		free(r->groups[i].elements);
		free(r->groups[i].followups);
	}
	free(r->groups);
	free(r->dossier_cells);
	free(r);
}

int score_dossier_rate(const struct score_group *g, double *rate)
{
	if (!g->has_dossiers || g->dossiers <= 0)
		return 0;
	*rate = (double)(g->dossiers - g->covered_unsatisfied) / (double)g->dossiers;
	return 1;
}

int score_more_ratings_than_dossiers(const struct score_group *g)
{
	return g->has_dossiers && g->covered_ratings > g->dossiers;
}

void score_month_label(int q, int i, char *buf)
{
	unsigned year = (unsigned)q / 4u % 10000u, month = (unsigned)q % 4u * 3u + (unsigned)i % 3u + 1u;

	snprintf(buf, 8, "%04u-%02u", year, month);
}

static int in_group(const struct score_group *g, long long agency_id, long long sector_id)
{
	return (!g->agency || g->agency->id == agency_id) && (!g->sector || g->sector->id == sector_id);
}

/* Gathering the period's dossier cells into a result. */
struct cell_list {
	const struct registry *reg;
	struct score_result *res;
	size_t cap;
	struct err *e;
};

/* dossier_cells' callback: keep the cell, its agency and sector resolved. */
static int keep_cell(const struct dossier_cell *dc, void *arg)
{
	struct cell_list *l = arg;
	struct score_result *res = l->res;
	const struct registry_entry *agency = registry_agency_by_id(l->reg, dc->agency_id);
	const struct registry_entry *sector = registry_sector_by_id(l->reg, dc->sector_id);
	struct score_dossier_cell *c;

	if (!agency || !sector)   /* the schema's foreign keys forbid it */
		return err_set(l->e, ERR_INTERNAL, "dossier totals name an agency or sector not in the registry");
	if (ARRAY_RESERVE(res->dossier_cells, l->cap, res->n_dossier_cells) < 0)
		return err_set(l->e, ERR_NOMEM, "out of memory");
	c = &res->dossier_cells[res->n_dossier_cells++];
	memset(c, 0, sizeof(*c));
	c->agency = agency;
	c->sector = sector;
	c->quarter = dc->quarter;
	c->complete = dc->complete;
	c->months = dc->months;
	c->dossiers = dc->dossiers;
	return 0;
}

/* The counter method's dossier cells, when the period is made of whole
 * quarters (totals are loaded per quarter or month). */
static int load_cells(sqlite3 *db, const struct registry *reg, const struct period *p,
		      struct score_result *res, struct err *e)
{
	int first = period_quarter_of_day(p->first_day), last = period_quarter_of_day(p->last_day);
	struct cell_list l = { reg, res, 0, e };
	struct period a, b;

	period_of_quarter(first, &a);
	period_of_quarter(last, &b);
	if (a.first_day != p->first_day || b.last_day != p->last_day)
		return 0;
	return dossier_cells(db, first, last, keep_cell, &l, e);
}

/* The complete cell of a rating, or NULL: cells_of maps an (agency,
 * sector) to its first cell, the cells of a pair follow in quarter order. */
static struct score_dossier_cell *cell_of(struct score_result *res, const struct intmap *cells_of,
					  long long agency, long long sector, int quarter)
{
	long i = intmap_get(cells_of, pair_key(agency, sector));

	if (i < 0)
		return NULL;
	for (size_t k = (size_t)i; k < res->n_dossier_cells; k++) {
		struct score_dossier_cell *c = &res->dossier_cells[k];

		if (c->agency->id != agency || c->sector->id != sector)
			break;
		if (c->quarter == quarter)
			return c->complete ? c : NULL;
	}
	return NULL;
}

/* The counter method's second pass over the period's rows: the follow-up
 * answers (the reasons given with the lowest face) per group, and the
 * ratings of each complete dossier cell.  sat[b] is 1 when the stored
 * answer byte b is satisfied. */
static int counter_pass(const struct score_source *src, const struct form *f, const uint8_t *sat,
			struct score_result *res, struct err *e)
{
	struct intmap cells_of = INTMAP_INIT;
	size_t first = 0, n_values = 0;
	struct score_row row;
	int rc = 0, opened = 0;

	while (first < f->n_choices && f->choices[first].is_demographic)
		first++;
	for (size_t c = first; c < f->n_choices; c++)
		n_values += f->choices[c].n_values;
	if (!n_values && !res->n_dossier_cells)
		return 0;
	for (size_t i = 0; n_values && i < res->n_groups; i++)
		if (!(res->groups[i].followups = calloc(n_values, sizeof(long))))
			return err_set(e, ERR_NOMEM, "out of memory");
	for (size_t k = res->n_dossier_cells; k-- > 0 && !rc;)   /* backwards: each pair's first cell wins */
		if (intmap_put(&cells_of, pair_key(res->dossier_cells[k].agency->id, res->dossier_cells[k].sector->id),
			       (uint32_t)k) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	if (!rc)
		opened = !(rc = src->open(src->arg, 1, e));
	while (!rc && !(rc = src->next(src->arg, &row, e))) {
		const uint8_t *answers = row.answers, *choices = row.choices;
		size_t len = row.n_choices, slot = 0;
		struct score_dossier_cell *cell = cell_of(res, &cells_of, row.agency_id, row.sector_id,
							  period_quarter_of_day(row.day));

		if (cell && row.n_answers > f->overall && answers[f->overall]) {
			cell->ratings++;
			cell->unsatisfied += !sat[answers[f->overall]];
		}
		for (size_t c = first; n_values && c < f->n_choices; slot += f->choices[c++].n_values) {
			/* a stored choice byte is 0 (none) or 1 + the value's index */
			if (c >= len || !choices[c] || choices[c] > f->choices[c].n_values)
				continue;
			for (size_t i = 0; i < res->n_groups; i++)
				if (in_group(&res->groups[i], row.agency_id, row.sector_id))
					res->groups[i].followups[slot + choices[c] - 1]++;
		}
	}
	if (opened)
		src->close(src->arg);
	intmap_release(&cells_of);
	return rc == SCORE_SOURCE_END ? 0 : rc;
}

/* Each group's covered cells: its complete dossier cells, summed. */
static void cover_groups(struct score_result *res)
{
	for (size_t i = 0; i < res->n_groups; i++) {
		struct score_group *g = &res->groups[i];

		for (size_t k = 0; k < res->n_dossier_cells; k++) {
			const struct score_dossier_cell *c = &res->dossier_cells[k];

			if (!c->complete || !in_group(g, c->agency->id, c->sector->id))
				continue;
			g->has_dossiers = 1;
			g->dossiers += c->dossiers;
			g->dossier_cells++;
			g->covered_ratings += c->ratings;
			g->covered_unsatisfied += c->unsatisfied;
		}
	}
}

/* score_run on the rows of src, the respondents of the agencies in pool
 * scored as those of the agency it maps them to; db (NULL: none) holds the
 * dossier totals of the counter method. */
static int run(const struct score_source *src, sqlite3 *db, const struct registry *reg, const struct form *form,
	       const struct period *period, const struct score_options *opts, const struct intmap *pool,
	       struct score_result **out, struct err *e)
{
	struct scan scan = { src, form, period, 0, pool };
	struct score_calib cal, *calp = NULL;
	struct score_accum acc;
	struct score_rake *rake = NULL;
	struct group_list gl;
	struct score_design_group *dg = NULL;
	struct score_result *res = calloc(1, sizeof(*res));
	uint32_t *cell_groups = NULL;
	uint8_t sat[256] = { 0 };
	int by = opts->by ? opts->by : SCORE_BY_AGENCY | SCORE_BY_SECTOR, rc;

	memset(&gl, 0, sizeof(gl));
	for (int v = form->scale_min; v <= form->scale_max; v++)
		sat[v - form->scale_min + 1] = (uint8_t)form_is_satisfied(form, v);
	rc = res ? score_accum_init(&acc, form->n_items, sat, e) : err_set(e, ERR_NOMEM, "out of memory");
	if (rc) {
		free(res);
		return rc;
	}
	if (opts->rake_path)
		rc = score_rake_load(opts->rake_path, reg, form, &rake, e);
	if (!rc)
		rc = scan_rows(&scan, rake, &acc, e);
	if (!rc && rake)
		rc = score_rake_fit(rake, e);
	if (!rc && rake) {
		score_rake_calib(rake, &cal);
		calp = &cal;
		score_accum_scale(&acc, cal.factor);
	}
	if (!rc)
		rc = build_groups(reg, &scan, &acc, by, &gl, &cell_groups, e);
	if (!rc) {
		dg = calloc(gl.n, sizeof(*dg));
		rc = dg ? score_design_compute(&acc, calp, cell_groups, N_KINDS, gl.n, dg, e)
			: err_set(e, ERR_NOMEM, "out of memory");
	}
	res->form = form;
	res->period = *period;
	res->raked = rake != NULL;
	if (rake)
		snprintf(res->notice, sizeof(res->notice), "%s", score_rake_notice(rake));
	res->rows = scan.rows;
	res->groups = gl.v;
	res->n_groups = gl.n;
	for (size_t i = 0; !rc && i < gl.n; i++) {
		rc = group_estimates(form, &dg[i], &gl.v[i], e);
		judge(reg, form, period_quarter_of_day(period->last_day), &gl.v[i]);
	}
	if (!rc && form->n_elements == 0 && db)
		rc = load_cells(db, reg, period, res, e);
	if (!rc && form->n_elements == 0)
		rc = counter_pass(src, form, sat, res, e);
	if (!rc)
		cover_groups(res);
	if (dg)
		score_design_release(dg, gl.n);
	free(dg);
	free(cell_groups);
	for (int k = 0; k < N_KINDS; k++)
		intmap_release(&gl.by_key[k]);
	score_rake_free(rake);
	score_accum_release(&acc);
	if (rc) {
		score_result_free(res);
		return rc;
	}
	*out = res;
	return 0;
}

/* run on the rows of the province's database db. */
static int run_db(sqlite3 *db, const struct registry *reg, const struct form *form, const struct period *period,
		  const struct score_options *opts, const struct intmap *pool, struct score_result **out,
		  struct err *e)
{
	struct db_source ds = { db, form->id, period, NULL, 0 };
	struct score_source src = { db_source_open, db_source_next, db_source_close, &ds };

	return run(&src, db, reg, form, period, opts, pool, out, e);
}

int score_run(sqlite3 *db, const struct registry *reg, const struct form *form,
	      const struct period *period, const struct score_options *opts,
	      struct score_result **out, struct err *e)
{
	return run_db(db, reg, form, period, opts, NULL, out, e);
}

int score_run_source(const struct score_source *src, const struct registry *reg, const struct form *form,
		     const struct period *period, const struct score_options *opts,
		     struct score_result **out, struct err *e)
{
	return run(src, NULL, reg, form, period, opts, NULL, out, e);
}

int score_run_as_of(sqlite3 *db, const struct registry *reg, const struct form *form,
		    const struct period *period, const struct score_options *opts, int32_t as_of,
		    struct score_result **out, struct err *e)
{
	struct intmap pool = INTMAP_INIT;
	int rc = 0;

	for (size_t i = 0; !rc && i < reg->n_agencies; i++) {
		const struct registry_entry *a = &reg->agencies[i];
		const struct registry_entry *to = registry_agency_at(reg, a->id, as_of);

		if (to != a && intmap_put(&pool, (uint64_t)a->id, (uint32_t)to->id) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	if (!rc)
		rc = run_db(db, reg, form, period, opts, &pool, out, e);
	intmap_release(&pool);
	return rc;
}
