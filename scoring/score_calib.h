/*
 * score_calib.h - the calibration-aware covariance after raking
 * (docs/scoring.md, "Raking"), as R's calibrate(design, ~v1 + v2 + ...,
 * calfun = "raking") linearises it.
 *
 * For group g and item k let z_i be the linearised ratio of response i
 * before weighting (0 outside the group), x_i its row of the calibration
 * model matrix, β the least-squares fit of z on X weighted with the design
 * weights over all responses, and e_i = z_i − x_iᵀβ.  The covariance is the
 * design's (score_design.h) of the scores w̃_i e_i, w̃ the raked weights.
 *
 * x_i is constant within a raking cell, so nothing is kept per response.
 * With PSU totals Z_j of w̃·z (what score_design.c already forms) and
 * x̄_j = Σ_{i∈j} w̃_i x_i, the PSU totals of the scores are Z_j − Bᵀx̄_j
 * (B = [β_1 … β_K], p×K), and every stratum's sum of outer products splits
 * into three parts:
 *  - Σ Z Zᵀ, centred within strata: score_design.c's covariance, V_ZZ;
 *  - Q = Σ_h f_h (Σ_j x̄_j Z_jᵀ − c_h T_h S_hᵀ/n_h), p×K per group, where
 *    T_h = Σ_j x̄_j and S_h = Σ_j Z_j over the n_h PSUs of stratum h,
 *    f_h = n_h/(n_h−1) and c_h = 1 (f_h = 1 and c_h = 0 for a lonely PSU);
 *  - V_XX = Σ_h f_h (Σ_j x̄_j x̄_jᵀ − c_h T_h T_hᵀ/n_h), p×p, one for all
 *    groups (PSUs without a group member still carry −Bᵀx̄_j);
 * and the covariance is V_ZZ − BᵀQ − QᵀB + BᵀV_XX B.  β solves
 * (XᵀWX) β = XᵀWz, XᵀWX from the raking table (score_rake.c), XᵀWz a sum
 * over the group's cells of their weighted totals divided by their factor.
 */
#ifndef SIPAS_SCORE_CALIB_H
#define SIPAS_SCORE_CALIB_H

#include <gsl/gsl_matrix.h>

#include "score_accum.h"
#include "score_rake.h"

struct score_calib_work;

/* Prepare for n_groups groups: T_h, and the parts of V_XX that come from
 * the cells.  *out is owned (score_calib_free). */
int score_calib_begin(const struct score_calib *cal, const struct score_accum *a, size_t n_groups,
		      struct score_calib_work **out, struct err *e);

/* Cell c is in group g, whose ratios are r (0 where undefined) and inverse
 * denominators inv_x (0 where undefined): its parts of XᵀWz and of Q. */
void score_calib_add_cell(struct score_calib_work *w, const struct score_cell *c, uint32_t g,
			  const gsl_vector *r, const gsl_vector *inv_x);

/* A named PSU made of the parts a->parts[part[0..n-1]]: its x̄ (kept until
 * the next call) and its part of V_XX. */
void score_calib_add_psu(struct score_calib_work *w, const uint32_t *part, size_t n);

/* The last PSU's total of w̃·z for group g: its part of Q. */
void score_calib_add_psu_group(struct score_calib_work *w, uint32_t g, const gsl_vector *z);

/* Group g is present in stratum h, where its total of w̃·z is s: the
 * centring of Q. */
void score_calib_add_stratum(struct score_calib_work *w, uint32_t g, long long stratum_id,
			     const gsl_vector *s);

/* Solve for group g's β and add −BᵀQ − QᵀB + BᵀV_XX B to its covariance. */
int score_calib_finish(struct score_calib_work *w, uint32_t g, gsl_matrix *cov, struct err *e);

/* Free; NULL-safe. */
void score_calib_free(struct score_calib_work *w);

#endif
