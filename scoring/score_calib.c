/*
 * score_calib.c - the calibration-aware covariance (see score_calib.h for
 * the algebra).  Work grows with cells × p × K and named PSUs × their
 * non-zero model totals, memory with groups × p × K; the only system solved
 * is the p×p one, with the Cholesky factor of the raking (score_rake.c).
 */
#include "score_calib.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>

struct score_calib_work {
	const struct score_calib *cal;
	const struct score_accum *a;
	size_t k, p, n_groups;
	gsl_matrix **beta;       /* [n_groups] p×K: XᵀWz, then β */
	gsl_matrix **q;          /* [n_groups] p×K: Q */
	gsl_matrix *vxx;         /* p×p: V_XX */
	double *t;               /* [strata × p]: T_h */
	double *xbar;            /* [p]: the last PSU's x̄ */
	uint32_t *nz;            /* [p]: its non-zero columns */
	size_t n_nz;
	double f_psu;            /* f_h of its stratum */
};

/* f_h of a stratum, with n_h (docs/scoring.md: a lonely PSU has factor 1). */
static double stratum_factor(const struct score_accum *a, long long stratum_id, long *n_h)
{
	*n_h = score_accum_stratum_psus(a, stratum_id);
	return *n_h >= 2 ? (double)*n_h / (double)(*n_h - 1) : 1.0;
}

/* The model row of a raking cell: `width` columns, SCORE_CALIB_NONE skipped. */
static const uint32_t *model_row(const struct score_calib *cal, uint32_t cell)
{
	assert(cell < cal->n_cells);
	return cal->cols + (size_t)cell * cal->width;
}

int score_calib_begin(const struct score_calib *cal, const struct score_accum *a, size_t n_groups,
		      struct score_calib_work **out, struct err *e)
{
	struct score_calib_work *w = calloc(1, sizeof(*w));
	size_t p = cal->p, width = cal->width;

	if (!w)
		return err_set(e, ERR_NOMEM, "out of memory");
	w->cal = cal;
	w->a = a;
	w->k = a->k;
	w->p = p;
	w->n_groups = n_groups;
	w->beta = calloc(n_groups ? n_groups : 1, sizeof(*w->beta));
	w->q = calloc(n_groups ? n_groups : 1, sizeof(*w->q));
	w->vxx = gsl_matrix_calloc(p, p);
	w->t = calloc((a->n_strata ? a->n_strata : 1) * p, sizeof(*w->t));
	w->xbar = calloc(p, sizeof(*w->xbar));
	w->nz = malloc(p * sizeof(*w->nz));
	if (!w->beta || !w->q || !w->vxx || !w->t || !w->xbar || !w->nz)
		goto nomem;
	for (size_t g = 0; g < n_groups; g++)
		if (!(w->beta[g] = gsl_matrix_calloc(p, w->k)) || !(w->q[g] = gsl_matrix_calloc(p, w->k)))
			goto nomem;
	/* T_h; and V_XX of the responses that are their own PSU (x̄ = w̃·x) */
	for (size_t c = 0; c < a->n_cells; c++) {
		const struct score_cell *cell = &a->cells[c];
		const uint32_t *row = model_row(cal, cell->calib);
		long h = score_accum_stratum(a, cell->stratum_id), n_h;
		double f = stratum_factor(a, cell->stratum_id, &n_h);

		assert(h >= 0);
		for (size_t i = 0; i < width; i++) {
			if (row[i] == SCORE_CALIB_NONE)
				continue;
			w->t[(size_t)h * p + row[i]] += cell->sw;
			for (size_t j = 0; j < width && cell->ns > 0; j++)
				if (row[j] != SCORE_CALIB_NONE)
					*gsl_matrix_ptr(w->vxx, row[i], row[j]) += f * cell->sw2_s;
		}
	}
	/* V_XX's centring within strata */
	for (size_t h = 0; h < a->n_strata; h++) {
		long n_h;
		double f = stratum_factor(a, a->strata[h].id, &n_h);
		gsl_vector_view t = gsl_vector_view_array(w->t + h * p, p);

		if (n_h >= 2)
			gsl_blas_dger(-f / (double)n_h, &t.vector, &t.vector, w->vxx);
	}
	*out = w;
	return 0;
nomem:
	score_calib_free(w);
	return err_set(e, ERR_NOMEM, "out of memory");
}

void score_calib_add_cell(struct score_calib_work *w, const struct score_cell *c, uint32_t g,
			  const gsl_vector *r, const gsl_vector *inv_x)
{
	const uint32_t *row = model_row(w->cal, c->calib);
	double inv_factor = 1.0 / w->cal->factor[c->calib], f;
	long n_h;

	f = stratum_factor(w->a, c->stratum_id, &n_h);
	for (size_t i = 0; i < w->cal->width; i++) {
		double *b, *q;

		if (row[i] == SCORE_CALIB_NONE)
			continue;
		b = gsl_matrix_ptr(w->beta[g], row[i], 0);
		q = gsl_matrix_ptr(w->q[g], row[i], 0);
		for (size_t k = 0; k < w->k; k++) {
			double rk = gsl_vector_get(r, k), ik = gsl_vector_get(inv_x, k);

			/* Σ w·z over the cell with design weights w = w̃ / factor */
			b[k] += ((c->sw - c->item[k].wd) - rk * (c->sw - c->item[k].wm)) * ik * inv_factor;
			/* own PSUs: x̄_i Z_iᵀ = x (w̃² (s − r·a) / X)ᵀ */
			if (c->ns > 0)
				q[k] += f * ((c->sw2_s - c->w2d_s[k]) - rk * (c->sw2_s - c->w2m_s[k])) * ik;
		}
	}
}

void score_calib_add_psu(struct score_calib_work *w, const uint32_t *part, size_t n)
{
	const struct score_accum *a = w->a;
	long n_h;

	for (size_t i = 0; i < w->n_nz; i++)
		w->xbar[w->nz[i]] = 0;
	w->n_nz = 0;
	assert(n > 0);
	w->f_psu = stratum_factor(a, a->cells[a->parts[part[0]].cell].stratum_id, &n_h);
	for (size_t i = 0; i < n; i++) {
		const struct score_psu_part *pp = &a->parts[part[i]];
		const uint32_t *row = model_row(w->cal, a->cells[pp->cell].calib);

		/* weights are > 0, so a column's sum is 0 only until it is first
		 * seen: nz lists each column once and never overflows */
		assert(pp->sw > 0);
		for (size_t j = 0; j < w->cal->width; j++) {
			if (row[j] == SCORE_CALIB_NONE)
				continue;
			if (w->xbar[row[j]] == 0)
				w->nz[w->n_nz++] = row[j];
			w->xbar[row[j]] += pp->sw;
		}
	}
	for (size_t i = 0; i < w->n_nz; i++)
		for (size_t j = 0; j < w->n_nz; j++)
			*gsl_matrix_ptr(w->vxx, w->nz[i], w->nz[j]) +=
				w->f_psu * w->xbar[w->nz[i]] * w->xbar[w->nz[j]];
}

void score_calib_add_psu_group(struct score_calib_work *w, uint32_t g, const gsl_vector *z)
{
	for (size_t i = 0; i < w->n_nz; i++) {
		gsl_vector_view row = gsl_matrix_row(w->q[g], w->nz[i]);

		gsl_blas_daxpy(w->f_psu * w->xbar[w->nz[i]], z, &row.vector);
	}
}

void score_calib_add_stratum(struct score_calib_work *w, uint32_t g, long long stratum_id,
			     const gsl_vector *s)
{
	long h = score_accum_stratum(w->a, stratum_id), n_h;
	double f = stratum_factor(w->a, stratum_id, &n_h);
	gsl_vector_view t;

	assert(h >= 0);
	if (n_h < 2)
		return;
	t = gsl_vector_view_array(w->t + (size_t)h * w->p, w->p);
	gsl_blas_dger(-f / (double)n_h, &t.vector, s, w->q[g]);
}

int score_calib_finish(struct score_calib_work *w, uint32_t g, gsl_matrix *cov, struct err *e)
{
	gsl_matrix *b = w->beta[g], *m = gsl_matrix_alloc(w->p, w->k);
	int rc = 0;

	if (!m)
		return err_set(e, ERR_NOMEM, "out of memory");
	if (gsl_linalg_cholesky_svx_mat(w->cal->chol, b) != GSL_SUCCESS) {
		rc = err_set(e, ERR_INTERNAL, "the calibration model could not be solved");
		goto out;
	}
	/* Bᵀ(V_XX B − Q) − QᵀB */
	gsl_matrix_memcpy(m, w->q[g]);
	gsl_blas_dsymm(CblasLeft, CblasUpper, 1.0, w->vxx, b, -1.0, m);
	gsl_blas_dgemm(CblasTrans, CblasNoTrans, 1.0, b, m, 1.0, cov);
	gsl_blas_dgemm(CblasTrans, CblasNoTrans, -1.0, w->q[g], b, 1.0, cov);
out:
	gsl_matrix_free(m);
	return rc;
}

void score_calib_free(struct score_calib_work *w)
{
	if (!w)
		return;
	for (size_t g = 0; w->beta && g < w->n_groups; g++)
		gsl_matrix_free(w->beta[g]);
	for (size_t g = 0; w->q && g < w->n_groups; g++)
		gsl_matrix_free(w->q[g]);
	free(w->beta);
	free(w->q);
	gsl_matrix_free(w->vxx);
	free(w->t);
	free(w->xbar);
	free(w->nz);
	free(w);
}
