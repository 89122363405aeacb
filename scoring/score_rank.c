/*
 * score_rank.c - ranking independent estimates with Holm-adjusted pairwise
 * tests (see score_rank.h).
 */
#include "score_rank.h"

#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_cdf.h>

struct by_value {
	const double *v;
	int descending;
};

static int cmp_index(const void *x, const void *y, void *arg)
{
	const struct by_value *b = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	double a = b->v[i], c = b->v[j];

	if (a != c)
		return (a < c) == b->descending ? 1 : -1;
	return (i > j) - (i < j);   /* stable: input order */
}

/* The index of pair (a, b), a < b, in the (0,1), (0,2), ... order. */
static size_t pair_index(size_t n, size_t a, size_t b)
{
	return a * n - a * (a + 1) / 2 + (b - a - 1);
}

int score_rank(const double *est, const double *se, size_t n, double alpha, struct score_rank *ranks,
	       struct score_pair *pairs, struct err *e)
{
	size_t m = n * (n - (n > 0)) / 2, k = 0;
	size_t *order = malloc((n ? n : 1) * sizeof(*order)), *by_p = malloc((m ? m : 1) * sizeof(*by_p));
	double *p = malloc((m ? m : 1) * sizeof(*p)), running = 0;
	struct by_value desc = { est, 1 }, asc = { p, 0 };

	if (!order || !by_p || !p) {
		free(order);
		free(by_p);
		free(p);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), cmp_index, &desc);
	for (size_t i = 0; i < n; i++)
		ranks[order[i]].place = i + 1;
	for (size_t a = 0; a < n; a++)
		for (size_t b = a + 1; b < n; b++, k++) {
			struct score_pair *q = &pairs[k];

			q->a = a;
			q->b = b;
			q->diff = est[a] - est[b];
			q->se = sqrt(se[a] * se[a] + se[b] * se[b]);
			q->p = q->se > 0 ? 2 * gsl_cdf_ugaussian_Q(fabs(q->diff) / q->se) : q->diff != 0 ? 0 : 1;
			p[k] = q->p;
			by_p[k] = k;
		}
	/* Holm: the j-th smallest of m p-values times (m - j + 1), kept
	 * monotone, at most 1 */
	qsort_r(by_p, m, sizeof(*by_p), cmp_index, &asc);
	for (size_t j = 0; j < m; j++) {
		struct score_pair *q = &pairs[by_p[j]];

		running = fmax(running, fmin(1.0, (double)(m - j) * q->p));
		q->p_holm = running;
		q->differ = q->p_holm < alpha;
	}
	for (size_t i = 0; i < n; i++) {
		ranks[i].tied_first = ranks[i].tied_last = ranks[i].place;
		for (size_t j = 0; j < n; j++) {
			if (j == i || pairs[pair_index(n, i < j ? i : j, i < j ? j : i)].differ)
				continue;
			if (ranks[j].place < ranks[i].tied_first)
				ranks[i].tied_first = ranks[j].place;
			if (ranks[j].place > ranks[i].tied_last)
				ranks[i].tied_last = ranks[j].place;
		}
	}
	free(order);
	free(by_p);
	free(p);
	return 0;
}
