/*
 * score_rake.h - raking (docs/scoring.md): iterative proportional fitting of the
 * design weights to population totals given as CSV `variable,level,total`
 * (variables: agency, sector, or a demographic of the form).  Raking works
 * on the table of weight totals per combination of the raked variables'
 * levels, so it needs one pass to gather that table and costs nothing per
 * response afterwards but a lookup of the combination's factor.
 */
#ifndef SIPAS_SCORE_RAKE_H
#define SIPAS_SCORE_RAKE_H

#include <stdint.h>

#include "../forms/form.h"
#include "../forms/registry.h"
#include "../lib/err.h"

#define SCORE_RAKE_TOLERANCE 1e-9    /* relative gap of every margin */
#define SCORE_RAKE_MAX_SWEEPS 1000

struct score_rake;

/* Read and check the margins file.  *out is owned (score_rake_free).
 * Errors name "FILE:LINE: column X". */
int score_rake_load(const char *path, const struct registry *reg, const struct form *form,
		    struct score_rake **out, struct err *e);

/* Gather one response's weight into its combination of levels.  ERR_INVALID
 * when its level of a raked variable has no population total. */
int score_rake_add(struct score_rake *r, long long agency_id, long long sector_id,
		   const uint8_t *choices, double w, struct err *e);

/* Fit the factors: ERR_INVALID for a level without respondents (an empty
 * cell) or when the margins are not reached within SCORE_RAKE_MAX_SWEEPS. */
int score_rake_fit(struct score_rake *r, struct err *e);

/* The factor for a response (after score_rake_fit); its combination must
 * have been seen by score_rake_add.  Can't fail. */
double score_rake_factor(const struct score_rake *r, long long agency_id, long long sector_id,
			 const uint8_t *choices);

/* Free; NULL-safe. */
void score_rake_free(struct score_rake *r);

#endif
