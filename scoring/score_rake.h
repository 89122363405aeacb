/*
 * score_rake.h - raking (docs/scoring.md): iterative proportional fitting of the
 * design weights to population totals given as CSV `variable,level,total`
 * (variables: agency, sector, or a demographic of the form).  Raking works
 * on the table of weight totals per combination of the raked variables'
 * levels, gathered in scoring's one pass; nothing is kept per response.
 *
 * The combinations seen are the raking *cells*: every response of a cell has
 * the same factor and the same row of the calibration model matrix (an
 * intercept and one indicator per level of each variable but its first, as
 * R's model.matrix(~v1 + v2 + ...)), which is all the calibration-aware
 * variance needs of the raking (score_design.h).
 */
#ifndef SIPAS_SCORE_RAKE_H
#define SIPAS_SCORE_RAKE_H

#include <stdint.h>
#include <gsl/gsl_matrix.h>

#include "../forms/form.h"
#include "../forms/registry.h"
#include "../lib/err.h"

#define SCORE_RAKE_TOLERANCE 1e-9    /* relative gap of every margin */
#define SCORE_RAKE_MAX_SWEEPS 1000
#define SCORE_RAKE_RESCALE_LIMIT 1e-3   /* variables' totals this far apart (relative) are rescaled */
#define SCORE_CALIB_MAX_COLUMNS 2000    /* model columns: 1 + Σ (levels − 1) */
#define SCORE_CALIB_NONE UINT32_MAX

struct score_rake;

/* The calibration model of a fitted raking, owned by the raking. */
struct score_calib {
	size_t n_cells;          /* raking cells: the combinations of levels seen */
	size_t p;                /* model columns */
	size_t width;            /* entries per cell in cols: 1 + the raked variables */
	const uint32_t *cols;    /* [n_cells × width] the columns where the cell's model row
				  * is 1 (intercept first); SCORE_CALIB_NONE for a first level */
	const double *factor;    /* [n_cells] raked weight / design weight */
	const gsl_matrix *chol;  /* Cholesky factor of X'WX (W the design weights, all rows) */
};

/* Read and check the margins file.  *out is owned (score_rake_free).
 * Errors name "FILE:LINE: column X".  Variables whose totals differ from the
 * first variable's by at most SCORE_RAKE_RESCALE_LIMIT are rescaled to it
 * (score_rake_notice says so); further apart they are refused. */
int score_rake_load(const char *path, const struct registry *reg, const struct form *form,
		    struct score_rake **out, struct err *e);

/* Gather one response's weight into its combination of levels, whose
 * raking cell goes to *cell (0 for a response without a combination, which
 * score_rake_fit then refuses).  ERR_NOMEM only. */
int score_rake_add(struct score_rake *r, long long agency_id, long long sector_id,
		   const uint8_t *choices, double w, uint32_t *cell, struct err *e);

/* Fit the factors and the calibration model: ERR_INVALID for a level
 * without respondents (an empty cell), when the margins are not reached
 * within SCORE_RAKE_MAX_SWEEPS, or when a variable's levels are combinations
 * of the levels of the variables before it (X'WX singular). */
int score_rake_fit(struct score_rake *r, struct err *e);

/* The calibration model (after score_rake_fit), valid until score_rake_free. */
void score_rake_calib(const struct score_rake *r, struct score_calib *out);

/* What the caller should tell the user about the margins (a rescaled
 * variable, one line each), or "" when nothing; owned by r. */
const char *score_rake_notice(const struct score_rake *r);

/* Free; NULL-safe. */
void score_rake_free(struct score_rake *r);

#endif
