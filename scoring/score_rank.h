/*
 * score_rank.h - which places of a ranking are real (docs/hub.md, "The
 * national report"): independent estimates (the provinces' indices, each
 * from its own sample) ranked best first, every pair's difference tested
 * with the variances summed, the p-values Holm-adjusted, and each place
 * shown as the range of places it cannot be told apart from.
 */
#ifndef SIPAS_SCORE_RANK_H
#define SIPAS_SCORE_RANK_H

#include <stddef.h>

#include "../lib/err.h"

struct score_rank {
	size_t place;                 /* 1 = the highest estimate */
	size_t tied_first, tied_last; /* the places it is not told apart from, its own included */
};

/* One pair of estimates a < b (input indexes). */
struct score_pair {
	size_t a, b;
	double diff;        /* est[a] - est[b] */
	double se;          /* sqrt(se[a]² + se[b]²) */
	double p;           /* two-sided, normal */
	double p_holm;      /* Holm-adjusted over all n(n-1)/2 pairs */
	int differ;         /* p_holm < alpha */
};

/* Rank n estimates est[] with standard errors se[] (finite, >= 0) at
 * family-wise level alpha: ranks[i] for est[i] (n entries), pairs[] every
 * pair (a, b) with a < b in the order (0,1), (0,2), ..., (1,2), ...
 * (n(n-1)/2 entries).  Equal estimates take places in input order.  A pair
 * whose summed variance is 0 differs exactly when its estimates do.
 * ERR_NOMEM; the caller owns both arrays. */
int score_rank(const double *est, const double *se, size_t n, double alpha, struct score_rank *ranks,
	       struct score_pair *pairs, struct err *e);

#endif
