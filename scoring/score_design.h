/*
 * score_design.h - from the streaming sums (score_accum.h) to each group's
 * ratios and their joint covariance: Taylor linearisation for a stratified
 * cluster design with PSUs drawn with replacement, domains estimated inside
 * the full design, single-PSU strata centred on zero (docs/scoring.md).
 *
 * For group g and stratum h with n_h PSUs in the whole design, the PSU
 * totals of the linearised ratios are Z_j = (Y_j − R∘X_j) / X, so with
 * S1 = Σ_j Z_j and S2 = Σ_j Z_j Z_jᵀ (both from the sums) the stratum adds
 * n_h/(n_h−1)·(S2 − S1 S1ᵀ/n_h), or S2 when n_h = 1.  After raking, the
 * calibration's part of the covariance is added (score_calib.h).
 */
#ifndef SIPAS_SCORE_DESIGN_H
#define SIPAS_SCORE_DESIGN_H

#include <stdint.h>
#include <gsl/gsl_matrix.h>

#include "score_accum.h"
#include "score_rake.h"

#define SCORE_NO_GROUP UINT32_MAX

struct score_design_group {
	double n, sw, sw2;         /* respondents, Σw, Σw² */
	double *y, *x;             /* [K] Σw·s_k, Σw·a_k */
	double *ans_n, *ans_sw, *ans_sw2;  /* [K] answered: count, Σw, Σw² */
	double *sat_n;             /* [K] satisfied, unweighted count */
	double *ratio;             /* [K] y/x, NaN when x = 0 */
	gsl_matrix *cov;           /* K×K covariance of the ratios */
	long psus, strata;         /* with at least one respondent of the group */
};

/* Compute n_groups groups.  cell_groups has a->n_cells rows of n_kinds
 * group indexes (SCORE_NO_GROUP where a cell is in no group of that kind).
 * cal is the calibration model of the raking the weights come from, or NULL
 * for design weights.  out[] is filled; free it with score_design_release. */
int score_design_compute(const struct score_accum *a, const struct score_calib *cal,
			 const uint32_t *cell_groups, size_t n_kinds, size_t n_groups,
			 struct score_design_group *out, struct err *e);

void score_design_release(struct score_design_group *g, size_t n_groups);

#endif
