/*
 * stats.h - the small statistics of the live views and the funnel plot
 * (docs/monitoring.md, "The statistics"): the Wilson score interval of a
 * share, the exact binomial funnel limits around a target with the
 * interpolation and the multiplicative overdispersion of Spiegelhalter
 * (2005, "Funnel plots for comparing institutional performance", Stat Med
 * 24:1185), and the funnel plot drawn as SVG.  Pure arithmetic and text:
 * no database, no I/O, no global state.
 */
#ifndef SIPAS_STATS_H
#define SIPAS_STATS_H

#include <stddef.h>

#include "../lib/strbuf.h"

/* The Wilson score interval, without continuity correction, of k successes
 * in n trials at confidence `level` (e.g. 0.95) into *lo and *hi, within
 * [0, 1].  n = 0 gives [0, 1]; k is clamped to 0..n.  Never NaN. */
void wilson_interval(long long k, long long n, double level, double *lo, double *hi);

/* One institution on a funnel plot: k of n ratings satisfied.  label is
 * borrowed (UTF-8, escaped when drawn). */
struct funnel_point {
	const char *label;
	long long n;
	long long k;
};

/* The funnel's limit at n ratings around share `target` (0..1): the
 * p-quantile (prob, e.g. 0.975 or 0.025, 0.999 or 0.001) of the binomial
 * share under the target, interpolated between its steps as the paper's
 * appendix does, and, when phi > 1, moved away from the target by sqrt(phi)
 * (multiplicative overdispersion).  Within [0, 1]; n <= 0 gives 1 for an
 * upper limit (prob > 0.5) and 0 for a lower one.  Never NaN. */
double funnel_limit(double target, long long n, double prob, double phi);

/* The overdispersion factor of the points around `target`: the mean square
 * of their z-scores, 10 %-winsorised (the paper's method).  Points with
 * n <= 0 are left out (and k is taken within 0..n); with fewer than
 * FUNNEL_PHI_MIN_POINTS points left, or target 0 or 1, it is 1.  It may be
 * below 1: funnel_limit applies it only when over 1. */
#define FUNNEL_PHI_MIN_POINTS 5
double funnel_phi(double target, const struct funnel_point *pts, size_t n_pts);

/* Append to out an SVG (no script, no link) of share satisfied against
 * number of ratings: each point with a <title> naming it and its figures,
 * the target line, the 95 % and 99.8 % limits (widened by funnel_phi when
 * it is over 1, and phi then stated on the plot), and a <desc> text
 * alternative saying how many points fall outside each pair of limits.
 * id (letters, digits, '-') prefixes the element ids; title is escaped.
 * Texts are Vietnamese, numbers in Vietnamese format.  For a page's HTML,
 * like the report's charts: there is no xmlns for a file of its own. */
void funnel_svg(struct strbuf *out, const char *id, const char *title, double target,
		const struct funnel_point *pts, size_t n_pts);

#endif
