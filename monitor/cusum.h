/*
 * cusum.h - the Bernoulli CUSUM that watches a stream of ratings for a fall
 * in satisfaction (docs/monitoring.md, "The statistics").  Each rating is a
 * Bernoulli trial, unsatisfied = 1; the chart adds the log-likelihood ratio
 * of "unsatisfied at rate p1" against "unsatisfied at rate p0" and signals
 * when the sum reaches h (Steiner, Cook, Farewell & Treasure 2000; Reynolds
 * & Stoumbos 1999).  The threshold h is designed from the average run length
 * (ARL) computed by the Markov chain of Brook & Evans (1972).  Pure
 * arithmetic: no database, no I/O, no global state; safe on any thread.
 */
#ifndef SIPAS_CUSUM_H
#define SIPAS_CUSUM_H

#include "../lib/err.h"

/* A designed chart.  Plain values: copy it, keep it, share it read-only. */
struct cusum_design {
	double target;        /* share satisfied the chart is in control at */
	double odds_ratio;    /* the rise in the odds of "unsatisfied" to detect */
	double p0;            /* unsatisfied rate in control: 1 - target */
	double p1;            /* unsatisfied rate the chart is tuned to: odds(p1) = R odds(p0) */
	double w_unsatisfied; /* added for an unsatisfied rating: log(p1/p0) > 0 */
	double w_satisfied;   /* added for a satisfied one: log((1-p1)/(1-p0)) < 0 */
	double h;             /* signal when S >= h */
	double arl_min;       /* the in-control run length asked for */
	double arl_target;    /* in-control run length at h (>= arl_min) */
	int grid;             /* Markov-chain cells per smaller step (see cusum.c) */
	double cell;          /* their size: the smaller weight / grid; h is a multiple */
};

/* Design the chart for share satisfied `target` (0 < target < 1), detecting
 * an odds ratio `odds_ratio` (> 1) of being unsatisfied, with h the smallest
 * threshold whose in-control ARL is >= arl_min (>= 2, <= 1e9).  The grid is
 * refined until doubling it moves the ARL at h by under 1 %; h is the
 * lowest cell of that grid where the ARL is settled so (cusum_settled).
 * Deterministic and fast (milliseconds for targets from 0.5 to 0.99 at odds
 * ratio 2 and 5,000 ratings).  0 and *out filled, or ERR_INVALID naming the
 * argument out of range, or saying that no grid settles (a target within a
 * hair of 0 or 1). */
int cusum_design_make(double target, double odds_ratio, double arl_min,
		      struct cusum_design *out, struct err *e);

/* Run lengths beyond this are not computed (double precision does not
 * hold them): they are HUGE_VAL, "more than 10^12 ratings". */
#define CUSUM_ARL_MAX 1e12

/* The average number of ratings until the chart started at S = 0 signals,
 * when each rating is unsatisfied with probability p_unsatisfied (0..1), by
 * the Markov chain on the design's grid.  HUGE_VAL when it is over
 * CUSUM_ARL_MAX (p_unsatisfied 0: the chart never signals); never NaN. */
double cusum_arl(const struct cusum_design *d, double p_unsatisfied);

/* As cusum_arl, on a chart of threshold h and `grid` cells per smaller
 * step instead of the design's: what the tests and `sipas monitor design`
 * use to show that h is the smallest and the grid fine enough.  NaN when
 * the grid is too fine to solve (over ~128 MB of band matrix). */
double cusum_arl_at(const struct cusum_design *d, double h, int grid, double p_unsatisfied);

/* The design's criterion that the grid is fine enough: doubling it moves
 * the run length at h by under this share -- half of the 1 %
 * docs/monitoring.md promises. */
#define CUSUM_GRID_TOLERANCE 0.005

/* 1 when a run length arl on a grid, and finer on the grid twice as fine,
 * are both at least arl_min and agree within CUSUM_GRID_TOLERANCE: what
 * cusum_design_make asks of h (and of no lower cell of its grid). */
int cusum_settled(double arl, double finer, double arl_min);

/* The run length estimated by simulating the chart (cusum_step and
 * cusum_signals from S = 0 to the signal) `runs` times (>= 2), each rating
 * unsatisfied with probability p_unsatisfied (> 0), with GSL's MT19937
 * seeded with seed: the mean into *mean and its standard error into *se.
 * Deterministic for a seed.  0, or ERR_NOMEM. */
int cusum_simulate(const struct cusum_design *d, double p_unsatisfied, long runs, unsigned long seed,
		   double *mean, double *se);

/* The next value of the chart after one rating: max(0, s + w). */
double cusum_step(const struct cusum_design *d, double s, int unsatisfied);

/* 1 when the value s has reached the threshold, else 0.  The caller resets
 * the chart to 0 after a signal. */
int cusum_signals(const struct cusum_design *d, double s);

#endif
