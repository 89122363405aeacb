/*
 * score_design.c - group totals, ratios and covariance (see score_design.h).
 * The K×K work is done with GSL matrices and BLAS; loops here only gather
 * the sums of score_accum.c into per-(group, stratum) blocks, and hand the
 * calibration's share to score_calib.c after raking.
 */
#include "score_design.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>

#include "score_calib.h"
#include "../lib/array.h"
#include "../lib/intmap.h"

/* One group within one stratum: its totals and second moments over PSUs. */
struct gstratum {
	uint32_t group;
	long long stratum_id;
	gsl_vector *y, *x;
	gsl_matrix *myy, *myx, *mxx;
};

struct builder {
	const struct score_accum *a;
	size_t k;
	struct intmap map;
	struct gstratum *gs;
	size_t n_gs, cap_gs;
	gsl_vector **r, **inv_x;         /* [group]: ratios and 1/X, 0 where undefined */
	struct score_calib_work *calib;  /* after raking, else NULL */
};

static void gstratum_free(struct gstratum *g)
{
	gsl_vector_free(g->y);
	gsl_vector_free(g->x);
	gsl_matrix_free(g->myy);
	gsl_matrix_free(g->myx);
	gsl_matrix_free(g->mxx);
}

static struct gstratum *get_gs(struct builder *b, uint32_t group, long long stratum,
			       struct err *e)
{
	uint64_t key = ((uint64_t)group << 32) | (uint64_t)stratum;
	long i = intmap_get(&b->map, key);
	struct gstratum *g;

	if (i >= 0)
		return &b->gs[i];
	if (ARRAY_RESERVE(b->gs, b->cap_gs, b->n_gs) < 0)
		goto nomem;
	g = &b->gs[b->n_gs];
	g->group = group;
	g->stratum_id = stratum;
	g->y = gsl_vector_calloc(b->k);
	g->x = gsl_vector_calloc(b->k);
	g->myy = gsl_matrix_calloc(b->k, b->k);
	g->myx = gsl_matrix_calloc(b->k, b->k);
	g->mxx = gsl_matrix_calloc(b->k, b->k);
	if (!g->y || !g->x || !g->myy || !g->myx || !g->mxx ||
	    intmap_put(&b->map, key, (uint32_t)b->n_gs) < 0) {
		gstratum_free(g);
		goto nomem;
	}
	return &b->gs[b->n_gs++];
nomem:
	err_set(e, ERR_NOMEM, "out of memory");
	return NULL;
}

/* M += c·11ᵀ − 1·uᵀ − v·1ᵀ + P: the second moment of (1−v)(1−u)ᵀ-type
 * sums rebuilt from the sparse sums of a cell (see score_accum.h). */
static void add_moment(gsl_matrix *m, double c, const double *u, const double *v,
		       const double *p, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		double *row = gsl_matrix_ptr(m, i, 0);

		for (size_t j = 0; j < k; j++)
			row[j] += c - u[j] - v[i] + p[i * k + j];
	}
}

static void add_cell(struct builder *b, const struct score_cell *c, struct gstratum *g,
		     struct score_design_group *grp)
{
	size_t k = b->k;

	for (size_t i = 0; i < k; i++) {
		double yi = c->sw - c->item[i].wd, xi = c->sw - c->item[i].wm;

		*gsl_vector_ptr(g->y, i) += yi;
		*gsl_vector_ptr(g->x, i) += xi;
		grp->y[i] += yi;
		grp->x[i] += xi;
		grp->ans_n[i] += c->n - c->item[i].cm;
		grp->ans_sw[i] += xi;
		grp->ans_sw2[i] += c->sw2 - c->item[i].w2m;
		grp->sat_n[i] += c->n - c->item[i].cd;
	}
	grp->n += c->n;
	grp->sw += c->sw;
	grp->sw2 += c->sw2;
	if (c->ns > 0) {
		add_moment(g->myy, c->sw2_s, c->w2d_s, c->w2d_s, c->dd, k);
		add_moment(g->mxx, c->sw2_s, c->w2m_s, c->w2m_s, c->mm, k);
		add_moment(g->myx, c->sw2_s, c->w2m_s, c->w2d_s, c->dm, k);
		grp->psus += (long)c->ns;
	}
}

static int cmp_part(const void *pa, const void *pb, void *arg)
{
	const struct score_accum *a = arg;
	const struct score_psu_part *x = &a->parts[*(const uint32_t *)pa];
	const struct score_psu_part *y = &a->parts[*(const uint32_t *)pb];

	return (x->psu_id > y->psu_id) - (x->psu_id < y->psu_id);
}

/* Named PSUs: total each PSU per group, then add its outer products. */
static int add_psus(struct builder *b, const uint32_t *cell_groups, size_t n_kinds,
		    struct score_design_group *groups, struct err *e)
{
	const struct score_accum *a = b->a;
	size_t k = b->k, n = a->n_parts;
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order));
	uint32_t *seen = malloc((n ? n : 1) * sizeof(*seen));
	gsl_vector *y = gsl_vector_alloc(k), *x = gsl_vector_alloc(k);
	int rc = 0;

	if (!order || !seen || !y || !x) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, n, sizeof(*order), cmp_part, (void *)a);
	for (size_t lo = 0, hi; lo < n && !rc; lo = hi) {
		for (hi = lo; hi < n && a->parts[order[hi]].psu_id == a->parts[order[lo]].psu_id; hi++)
			;
		if (b->calib)
			score_calib_add_psu(b->calib, order + lo, hi - lo);
		for (size_t t = 0; t < n_kinds && !rc; t++) {
			size_t n_seen = 0;

			/* each distinct group of this kind among the PSU's parts */
			for (size_t i = lo; i < hi; i++) {
				uint32_t g = cell_groups[a->parts[order[i]].cell * n_kinds + t];
				int dup = 0;

				for (size_t s = 0; s < n_seen; s++)
					dup |= seen[s] == g;
				if (g != SCORE_NO_GROUP && !dup)
					seen[n_seen++] = g;
			}
			for (size_t s = 0; s < n_seen && !rc; s++) {
				const struct score_cell *cell = NULL;
				struct gstratum *gs;

				gsl_vector_set_zero(y);
				gsl_vector_set_zero(x);
				for (size_t i = lo; i < hi; i++) {
					const struct score_psu_part *p = &a->parts[order[i]];

					if (cell_groups[p->cell * n_kinds + t] != seen[s])
						continue;
					cell = &a->cells[p->cell];
					for (size_t j = 0; j < k; j++) {
						*gsl_vector_ptr(y, j) += p->sw - p->item[j].wd;
						*gsl_vector_ptr(x, j) += p->sw - p->item[j].wm;
					}
				}
				gs = get_gs(b, seen[s], cell->stratum_id, e);
				if (!gs) {
					rc = e->code;
					break;
				}
				gsl_blas_dger(1.0, y, y, gs->myy);
				gsl_blas_dger(1.0, y, x, gs->myx);
				gsl_blas_dger(1.0, x, x, gs->mxx);
				groups[seen[s]].psus++;
				if (b->calib) {
					/* Z_j = (Y_j − R∘X_j) / X, into y */
					gsl_vector_mul(x, b->r[seen[s]]);
					gsl_vector_sub(y, x);
					gsl_vector_mul(y, b->inv_x[seen[s]]);
					score_calib_add_psu_group(b->calib, seen[s], y);
				}
			}
		}
	}
out:
	gsl_vector_free(y);
	gsl_vector_free(x);
	free(order);
	free(seen);
	return rc;
}

/* Add stratum block g's contribution to its group's covariance. */
static int add_stratum_cov(const struct builder *b, const struct gstratum *g,
			   struct score_design_group *grp, struct err *e)
{
	const gsl_vector *r = b->r[g->group], *inv_x = b->inv_x[g->group];
	size_t k = b->k;
	long n_h = score_accum_stratum_psus(b->a, g->stratum_id);
	gsl_matrix *t1 = gsl_matrix_alloc(k, k), *s2 = gsl_matrix_alloc(k, k);
	gsl_vector *s1 = gsl_vector_alloc(k);
	int rc = 0;

	if (!t1 || !s2 || !s1) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	/* S1 = (Y_h − R∘X_h) ∘ (1/X) */
	gsl_vector_memcpy(s1, g->x);
	gsl_vector_mul(s1, r);
	gsl_vector_scale(s1, -1.0);
	gsl_vector_add(s1, g->y);
	gsl_vector_mul(s1, inv_x);
	/* A = MYY − MYX·diag(R) − (MYX·diag(R))ᵀ + diag(R)·MXX·diag(R) */
	gsl_matrix_memcpy(t1, g->myx);
	gsl_matrix_scale_columns(t1, r);
	gsl_matrix_memcpy(s2, g->mxx);
	gsl_matrix_scale_rows(s2, r);
	gsl_matrix_scale_columns(s2, r);
	gsl_matrix_add(s2, g->myy);
	gsl_matrix_sub(s2, t1);
	gsl_matrix_transpose(t1);
	gsl_matrix_sub(s2, t1);
	/* S2 = diag(1/X)·A·diag(1/X) */
	gsl_matrix_scale_rows(s2, inv_x);
	gsl_matrix_scale_columns(s2, inv_x);
	if (n_h >= 2) {
		gsl_blas_dger(-1.0 / (double)n_h, s1, s1, s2);
		gsl_matrix_scale(s2, (double)n_h / (double)(n_h - 1));
	}
	gsl_matrix_add(grp->cov, s2);
	if (b->calib)
		score_calib_add_stratum(b->calib, g->group, g->stratum_id, s1);
out:
	gsl_matrix_free(t1);
	gsl_matrix_free(s2);
	gsl_vector_free(s1);
	return rc;
}

static int group_alloc(struct score_design_group *g, size_t k)
{
	memset(g, 0, sizeof(*g));
	g->y = calloc(7 * k, sizeof(double));
	g->cov = gsl_matrix_calloc(k, k);
	if (!g->y || !g->cov)
		return -1;
	g->x = g->y + k;
	g->ans_n = g->y + 2 * k;
	g->ans_sw = g->y + 3 * k;
	g->ans_sw2 = g->y + 4 * k;
	g->sat_n = g->y + 5 * k;
	g->ratio = g->y + 6 * k;
	return 0;
}

int score_design_compute(const struct score_accum *a, const struct score_calib *cal,
			 const uint32_t *cell_groups, size_t n_kinds, size_t n_groups,
			 struct score_design_group *out, struct err *e)
{
	struct builder b = { a, a->k, INTMAP_INIT, NULL, 0, 0, NULL, NULL, NULL };
	int rc = 0;

	memset(out, 0, n_groups * sizeof(*out));
	b.r = calloc(n_groups ? n_groups : 1, sizeof(*b.r));
	b.inv_x = calloc(n_groups ? n_groups : 1, sizeof(*b.inv_x));
	if (!b.r || !b.inv_x)
		rc = err_set(e, ERR_NOMEM, "out of memory");
	for (size_t g = 0; g < n_groups && !rc; g++)
		if (group_alloc(&out[g], b.k) < 0)
			rc = err_set(e, ERR_NOMEM, "out of memory");
	for (size_t c = 0; c < a->n_cells && !rc; c++) {
		for (size_t t = 0; t < n_kinds && !rc; t++) {
			uint32_t g = cell_groups[c * n_kinds + t];
			struct gstratum *gs;

			if (g == SCORE_NO_GROUP)
				continue;
			gs = get_gs(&b, g, a->cells[c].stratum_id, e);
			if (!gs)
				rc = e->code;
			else
				add_cell(&b, &a->cells[c], gs, &out[g]);
		}
	}
	/* the ratios (every group total is in), before the PSUs that need them
	 * after raking */
	for (size_t g = 0; g < n_groups && !rc; g++) {
		b.r[g] = gsl_vector_alloc(b.k);
		b.inv_x[g] = gsl_vector_alloc(b.k);
		if (!b.r[g] || !b.inv_x[g]) {
			rc = err_set(e, ERR_NOMEM, "out of memory");
			break;
		}
		for (size_t i = 0; i < b.k; i++) {
			double x = out[g].x[i];

			out[g].ratio[i] = x > 0 ? out[g].y[i] / x : NAN;
			gsl_vector_set(b.r[g], i, x > 0 ? out[g].ratio[i] : 0.0);
			gsl_vector_set(b.inv_x[g], i, x > 0 ? 1.0 / x : 0.0);
		}
	}
	if (!rc && cal) {
		rc = score_calib_begin(cal, a, n_groups, &b.calib, e);
		for (size_t c = 0; c < a->n_cells && !rc; c++) {
			for (size_t t = 0; t < n_kinds; t++) {
				uint32_t g = cell_groups[c * n_kinds + t];

				if (g != SCORE_NO_GROUP)
					score_calib_add_cell(b.calib, &a->cells[c], g, b.r[g], b.inv_x[g]);
			}
		}
	}
	if (!rc)
		rc = add_psus(&b, cell_groups, n_kinds, out, e);
	/* each stratum's share of the covariance */
	for (size_t i = 0; i < b.n_gs && !rc; i++) {
		const struct gstratum *gs = &b.gs[i];

		out[gs->group].strata++;
		rc = add_stratum_cov(&b, gs, &out[gs->group], e);
	}
	for (size_t g = 0; g < n_groups && !rc && b.calib; g++)
		rc = score_calib_finish(b.calib, (uint32_t)g, out[g].cov, e);
	score_calib_free(b.calib);
	for (size_t g = 0; g < n_groups; g++) {
		if (b.r)
			gsl_vector_free(b.r[g]);
		if (b.inv_x)
			gsl_vector_free(b.inv_x[g]);
	}
	free(b.r);
	free(b.inv_x);
	for (size_t i = 0; i < b.n_gs; i++)
		gstratum_free(&b.gs[i]);
	free(b.gs);
	intmap_release(&b.map);
	if (rc)
		score_design_release(out, n_groups);
	return rc;
}

void score_design_release(struct score_design_group *g, size_t n_groups)
{
	for (size_t i = 0; g && i < n_groups; i++) {
		free(g[i].y);
		gsl_matrix_free(g[i].cov);
		g[i].y = NULL;
		g[i].cov = NULL;
	}
}
