/*
 * cusum.c - the Bernoulli CUSUM's design: weights, the threshold h and the
 * average run lengths (docs/monitoring.md, "The statistics").
 *
 * The run length comes from the Markov chain of Brook & Evans (1972).  The
 * chart's value is put on a lattice of cells of size delta = (the smaller
 * of the two weights) / grid, so that the smaller step is exactly `grid`
 * cells; the larger one is split between the two cells around it (see
 * struct lattice).  The states 0 .. m-1 (m = h/delta) are transient, m and
 * above absorb.  The expected number of steps to absorption from each
 * state solves (I - Q) L = 1, Q the transitions among transient states.
 * Each row of Q has at most four entries, near the diagonal below and near
 * the larger step above, so I - Q is banded and is solved in the band
 * (band_solve), in time m * grid * (larger step in cells) instead of m^3
 * for a dense solve.  Refining the lattice (doubling grid) converges to the chart of
 * the exact weights; the design doubles it until that moves the run length
 * at h by under 0.5 % (half of the 1 % docs/monitoring.md promises).
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>


#include <gsl/gsl_rng.h>

#include "cusum.h"

/* Doubling the grid stops here, or where the band would need more than
 * 32 MB, which only a target within a hair of 0 or 1 asks for. */
#define GRID_MAX 256
#define BAND_CELLS_MAX (4L * 1024 * 1024)

/* The lattice of one grid: its cell size and the two steps in cells.  The
 * larger step rarely falls on a cell: it goes to the cell below or above
 * with the chances that keep its mean exact, rather than rounded, so that
 * the ARL moves smoothly with the grid and doubling it says how far off it
 * is (rounding would give the same chain for grids 1 and 2 whenever the
 * ratio of the steps rounds alike, and doubling would then move nothing). */
struct lattice {
	double delta;
	long up;    /* whole cells an unsatisfied rating adds at least */
	double up_frac; /* chance it adds one more */
	long down;  /* whole cells a satisfied rating takes away at least */
	double down_frac;
};

/* A step of `cells` cells as whole cells and the chance of one more; the
 * smaller step is `grid` cells but for rounding, which must not widen the
 * band by a cell. */
static void cells_split(double cells, long *whole, double *frac)
{
	double r = round(cells);

	if (fabs(cells - r) < 1e-9)
		cells = r;
	*whole = (long)floor(cells);
	*frac = cells - (double)*whole;
}

static struct lattice lattice_make(const struct cusum_design *d, int grid)
{
	double small = fmin(d->w_unsatisfied, -d->w_satisfied);
	struct lattice l;

	l.delta = small / grid;
	cells_split(d->w_unsatisfied / l.delta, &l.up, &l.up_frac);
	cells_split(-d->w_satisfied / l.delta, &l.down, &l.down_frac);
	return l;
}

/* Transient states below threshold h: the cells whose value i*delta < h. */
static long lattice_states(const struct lattice *l, double h)
{
	/* h is normally m*delta of some grid; the slack keeps rounding from
	 * adding a state */
	double m = ceil(h / l->delta - 1e-7);

	return m < 1 ? 1 : (long)m;
}

/* An m x m band matrix, lb diagonals below the main one and ub above: row
 * i keeps A(i, i - lb) .. A(i, i + ub) at a[i * width + j - i + lb]. */
struct band {
	double *a;
	long m, lb, ub, width;
};

static double *band_at(const struct band *b, long i, long j)
{
	assert(i - j <= b->lb && j - i <= b->ub);
	return &b->a[i * b->width + j - i + b->lb];
}

/* Add v to A(i, j), a column below 0 being state 0 (the chart stops at
 * zero); a column at m or above is absorbing and not in the matrix. */
static void band_add(struct band *b, long i, long j, double v)
{
	if (j < 0)
		j = 0;
	if (j < b->m && v != 0)
		*band_at(b, i, j) += v;
}

/* Solve A x = rhs in place (x holds rhs on entry; A is overwritten) by
 * Gaussian elimination without row exchanges: I - Q, Q substochastic and
 * every state able to absorb, is a nonsingular M-matrix, diagonally
 * dominant by rows, whose pivots stay positive and whose elimination is
 * stable without pivoting -- and so makes no fill outside the band and
 * costs m * lb * ub, where a pivoting banded LU would cost m * lb * (lb +
 * ub) and twice the memory.  0, or -1 on a pivot that is not positive. */
static int band_solve(const struct band *b, double *x)
{
	for (long k = 0; k < b->m; k++) {
		double pivot = *band_at(b, k, k);
		long last_row = k + b->lb < b->m ? k + b->lb : b->m - 1;
		long last_col = k + b->ub < b->m ? k + b->ub : b->m - 1;

		if (!(pivot > 0))
			return -1;
		for (long i = k + 1; i <= last_row; i++) {
			double *row = band_at(b, i, k), f = *row / pivot;
			const double *src = band_at(b, k, k);

			if (f == 0)
				continue;
			for (long j = 0; j <= last_col - k; j++)
				row[j] -= f * src[j];
			x[i] -= f * x[k];
		}
	}
	for (long i = b->m - 1; i >= 0; i--) {
		long last_col = i + b->ub < b->m ? i + b->ub : b->m - 1;
		const double *row = band_at(b, i, i);
		double sum = x[i];

		for (long j = i + 1; j <= last_col; j++)
			sum -= row[j - i] * x[j];
		x[i] = sum / row[0];
	}
	return 0;
}

/* The ARL from state 0 of the chain with m transient states, when a step
 * goes up with probability p.  HUGE_VAL when it is over CUSUM_ARL_MAX (p
 * 0: the chain cannot absorb); NAN when the band would be too large or
 * memory runs out. */
static double lattice_arl(const struct lattice *l, long m, double p)
{
	struct band b;
	double *x = NULL, arl = NAN;

	if (p <= 0)
		return HUGE_VAL;
	b.m = m;
	b.lb = l->down + 1 < m ? l->down + 1 : m - 1;
	b.ub = l->up + 1 < m ? l->up + 1 : m - 1;
	b.width = b.lb + b.ub + 1;
	if ((double)m * (double)b.width > (double)BAND_CELLS_MAX)
		return NAN;
	b.a = calloc((size_t)(m * b.width), sizeof(*b.a));
	x = malloc((size_t)m * sizeof(*x));
	if (!b.a || !x)
		goto out;
	for (long i = 0; i < m; i++) {
		band_add(&b, i, i, 1.0);
		band_add(&b, i, i - l->down, -(1.0 - p) * (1.0 - l->down_frac));
		band_add(&b, i, i - l->down - 1, -(1.0 - p) * l->down_frac);
		band_add(&b, i, i + l->up, -p * (1.0 - l->up_frac));
		band_add(&b, i, i + l->up + 1, -p * l->up_frac);
		x[i] = 1.0;
	}
	if (band_solve(&b, x))
		goto out;
	arl = x[0];
	/* past CUSUM_ARL_MAX the system is too ill-conditioned for doubles to
	 * hold the digits that matter (its condition grows with the ARL) */
	if (!(arl >= 1) || arl > CUSUM_ARL_MAX)
		arl = HUGE_VAL;
out:
	free(x);
	free(b.a);
	return arl;
}

/* The ARL on lattice l of the chart of threshold h; 1 for h <= 0 (every
 * rating signals). */
static double arl_on(const struct lattice *l, double h, double p)
{
	return h > 0 ? lattice_arl(l, lattice_states(l, h), p) : 1;
}

double cusum_arl_at(const struct cusum_design *d, double h, int grid, double p_unsatisfied)
{
	struct lattice l = lattice_make(d, grid);

	return arl_on(&l, h, p_unsatisfied);
}

double cusum_arl(const struct cusum_design *d, double p_unsatisfied)
{
	return cusum_arl_at(d, d->h, d->grid, p_unsatisfied);
}

/* The fewest transient states m on lattice l whose in-control ARL reaches
 * arl_min, searched outwards from the guess: the ARL grows with m.  0 when
 * a solve failed (band too large). */
static long lattice_smallest(const struct lattice *l, double p0, double arl_min, long guess)
{
	long lo, hi, step = 1;   /* invariant: arl(lo) < arl_min <= arl(hi) */
	double a = lattice_arl(l, guess, p0);

	if (isnan(a))
		return 0;
	if (a >= arl_min) {
		hi = guess;
		for (;;) {
			lo = hi - step;
			if (lo < 1) {
				lo = 0;   /* no state: signals at once, ARL 1 < arl_min */
				break;
			}
			a = lattice_arl(l, lo, p0);
			if (isnan(a))
				return 0;
			if (a < arl_min)
				break;
			hi = lo;
			step *= 2;
		}
	} else {
		lo = guess;
		for (;;) {
			hi = lo + step;
			a = lattice_arl(l, hi, p0);
			if (isnan(a))
				return 0;
			if (a >= arl_min)
				break;
			lo = hi;
			step *= 2;
		}
	}
	while (hi - lo > 1) {
		long mid = lo + (hi - lo) / 2;

		a = lattice_arl(l, mid, p0);
		if (isnan(a))
			return 0;
		if (a >= arl_min)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

int cusum_settled(double arl, double finer, double arl_min)
{
	return arl >= arl_min && finer >= arl_min && fabs(finer - arl) < CUSUM_GRID_TOLERANCE * arl;
}

int cusum_design_make(double target, double odds_ratio, double arl_min,
		      struct cusum_design *out, struct err *e)
{
	struct cusum_design d = { 0 };
	double h_prev = 0;

	if (!(target > 0 && target < 1))
		return err_set_field(e, ERR_INVALID, "target", "target %g is not strictly between 0 and 1", target);
	if (!(odds_ratio > 1 && odds_ratio <= 100))
		return err_set_field(e, ERR_INVALID, "odds_ratio", "odds ratio %g is not above 1 (and at most 100)",
				     odds_ratio);
	if (!(arl_min >= 2 && arl_min <= 1e9))
		return err_set_field(e, ERR_INVALID, "run_length", "run length %g is not between 2 and 1e9", arl_min);
	d.target = target;
	d.odds_ratio = odds_ratio;
	d.p0 = 1.0 - target;
	d.p1 = odds_ratio * d.p0 / (1.0 - d.p0 + odds_ratio * d.p0);
	d.w_unsatisfied = log(d.p1 / d.p0);
	d.w_satisfied = log((1.0 - d.p1) / (1.0 - d.p0));
	d.arl_min = arl_min;
	assert(d.w_unsatisfied > 0 && d.w_satisfied < 0);
	for (int grid = 1; grid <= GRID_MAX; grid *= 2) {
		struct lattice l = lattice_make(&d, grid), finer = lattice_make(&d, 2 * grid);
		long m0 = lattice_smallest(&l, d.p0, arl_min, h_prev > 0 ? lattice_states(&l, h_prev) : 1);

		if (!m0)
			break;
		/* The chart's values are discrete, so its run length is a
		 * staircase in h, which a lattice smears over a few cells: just
		 * past the edge of a step no grid settles.  The cells above,
		 * on the same step of the true staircase, run the same chart:
		 * h is the lowest cell at which the run length is at least
		 * arl_min on this grid and on the one twice as fine, and the
		 * two agree. */
		for (long m = m0; m <= m0 + grid + 1; m++) {
			double arl = lattice_arl(&l, m, d.p0);
			double check = arl_on(&finer, (double)m * l.delta, d.p0);

			if (isnan(arl) || isnan(check))
				goto out;
			if (cusum_settled(arl, check, arl_min)) {
				d.grid = grid;
				d.cell = l.delta;
				d.h = (double)m * l.delta;
				d.arl_target = arl;
				*out = d;
				return 0;
			}
		}
		h_prev = (double)m0 * l.delta;
	}
out:
	return err_set(e, ERR_INVALID, "no grid of at most %d cells per step settles the run length "
		       "for target %g and odds ratio %g", GRID_MAX, target, odds_ratio);
}

double cusum_step(const struct cusum_design *d, double s, int unsatisfied)
{
	s += unsatisfied ? d->w_unsatisfied : d->w_satisfied;
	return s > 0 ? s : 0;
}

int cusum_signals(const struct cusum_design *d, double s)
{
	return s >= d->h;
}

int cusum_simulate(const struct cusum_design *d, double p_unsatisfied, long runs, unsigned long seed,
		   double *mean, double *se)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double sum = 0, sum2 = 0;

	assert(runs >= 2 && p_unsatisfied > 0);
	if (!rng)
		return ERR_NOMEM;
	gsl_rng_set(rng, seed);
	for (long r = 0; r < runs; r++) {
		double s = 0, len = 0;

		do {
			s = cusum_step(d, s, gsl_rng_uniform(rng) < p_unsatisfied);
			len++;
		} while (!cusum_signals(d, s));
		sum += len;
		sum2 += len * len;
	}
	gsl_rng_free(rng);
	*mean = sum / (double)runs;
	*se = sqrt(fmax(0, sum2 / (double)runs - *mean * *mean) * (double)runs / (double)(runs - 1) / (double)runs);
	return 0;
}
