/*
 * test_monitor_stats.c - the statistics of the monitor (monitor/cusum.c,
 * monitor/stats.c): the CUSUM's design against a seeded simulation of the
 * chart itself, the Wilson interval against Newcombe's published values,
 * the funnel limits against the binomial distribution, the overdispersion
 * factor, the funnel plot as well-formed SVG, and `sipas monitor design`.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>

#include "test.h"
#include "../monitor/cusum.h"
#include "../monitor/stats.h"

static void cusum_weights_and_steps(void)
{
	struct cusum_design d;
	struct err e;
	double p1 = 0.1 / 1.05;   /* odds 2 * 0.05/0.95 */

	CHECK_INT(cusum_design_make(0.95, 2, 5000, &d, &e), 0);
	CHECK_NEAR(d.p0, 0.05, 1e-12);
	CHECK_NEAR(d.p1, p1, 1e-12);
	CHECK_NEAR(d.w_unsatisfied, log(p1 / 0.05), 1e-12);
	CHECK_NEAR(d.w_satisfied, log((1 - p1) / 0.95), 1e-12);
	/* Steiner et al.'s form of the same weights: y log R - log(1 - p0 + R p0) */
	CHECK_NEAR(d.w_unsatisfied, log(2.0) - log(1.05), 1e-12);
	CHECK_NEAR(d.w_satisfied, -log(1.05), 1e-12);
	CHECK(d.h > 1 && d.h < 10);
	CHECK_NEAR(cusum_step(&d, 0, 0), 0, 0);          /* never below 0 */
	CHECK_NEAR(cusum_step(&d, 0, 1), d.w_unsatisfied, 1e-15);
	CHECK_NEAR(cusum_step(&d, 1, 0), 1 + d.w_satisfied, 1e-15);
	CHECK_INT(cusum_signals(&d, d.h), 1);
	CHECK_INT(cusum_signals(&d, nextafter(d.h, 0)), 0);
}

/* The Markov chain's run lengths agree with the chart simulated: at the
 * target, at the design's odds ratio and at 85 % satisfied.  The tolerance
 * is four standard errors of the simulation and the 1 % the grid may be
 * off by. */
static void cusum_arl_agrees_with_simulation(void)
{
	static const struct {
		double target, p;
		int runs;
	} cases[] = {
		{ 0.95, 0.05, 6000 },    /* in control: ~5,000 ratings a run */
		{ 0.95, 0.1 / 1.05, 20000 },
		{ 0.95, 0.15, 40000 },
		{ 0.90, 0.10, 6000 },
		{ 0.90, 0.15, 20000 },
	};
	struct err e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cusum_design d;
		double arl, mean, se;

		CHECK_INT(cusum_design_make(cases[i].target, 2, 5000, &d, &e), 0);
		arl = cusum_arl(&d, cases[i].p);
		CHECK_INT(cusum_simulate(&d, cases[i].p, cases[i].runs, 19 + i, &mean, &se), 0);
		if (!(fabs(mean - arl) <= 4 * se + 0.01 * arl))
			test_fail(__FILE__, __LINE__, "target %g, p %g: chain %.1f, simulation %.1f ± %.1f",
				  cases[i].target, cases[i].p, arl, mean, se);
		CHECK(fabs(mean - arl) <= 4 * se + 0.01 * arl);
	}
}

/* The grid is fine enough: doubling it moves the run length at h by under
 * 1 %; and h is the smallest threshold on the grid where the run length is
 * at least the minimum so settled: one cell lower, it is under the minimum
 * (on the grid or the finer one) or not settled, just past a step of the
 * chart's staircase of run lengths (docs/monitoring.md). */
static void cusum_h_smallest_and_grid_converged(void)
{
	static const double targets[] = { 0.95, 0.92, 0.90, 0.80, 0.99, 0.5 };
	struct err e;

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct cusum_design d;
		double finer, lower;

		CHECK_INT(cusum_design_make(targets[i], 2, 5000, &d, &e), 0);
		CHECK(d.arl_target >= 5000);
		CHECK_NEAR(cusum_arl(&d, d.p0), d.arl_target, 0);
		CHECK_NEAR(d.cell, fmin(d.w_unsatisfied, -d.w_satisfied) / d.grid, 1e-15);
		finer = cusum_arl_at(&d, d.h, 2 * d.grid, d.p0);
		CHECK(fabs(finer - d.arl_target) < 0.01 * d.arl_target);
		lower = cusum_arl_at(&d, d.h - d.cell, d.grid, d.p0);
		CHECK(!cusum_settled(lower, cusum_arl_at(&d, d.h - d.cell, 2 * d.grid, d.p0), 5000));
		CHECK(cusum_settled(d.arl_target, finer, 5000));
		/* and the run length grows with h: a higher one is longer */
		CHECK(cusum_arl_at(&d, d.h + d.cell, d.grid, d.p0) > d.arl_target);
	}
}

static void cusum_design_is_deterministic(void)
{
	struct cusum_design a, b;
	struct err e;

	CHECK_INT(cusum_design_make(0.9, 2, 5000, &a, &e), 0);
	CHECK_INT(cusum_design_make(0.9, 2, 5000, &b, &e), 0);
	/* field by field: memcmp would compare the padding after grid too */
	CHECK(a.h == b.h && a.arl_target == b.arl_target && a.grid == b.grid && a.cell == b.cell &&
	      a.w_unsatisfied == b.w_unsatisfied && a.w_satisfied == b.w_satisfied && a.p1 == b.p1);
	/* a longer run length asks for a higher h */
	CHECK_INT(cusum_design_make(0.9, 2, 50000, &b, &e), 0);
	CHECK(b.h > a.h);
	/* a larger shift to detect: larger weights, a shorter run length there */
	CHECK_INT(cusum_design_make(0.9, 3, 5000, &b, &e), 0);
	CHECK(b.w_unsatisfied > a.w_unsatisfied);
	CHECK(cusum_arl(&b, b.p1) < cusum_arl(&a, a.p1));
}

/* The run lengths at the edges: never NaN; a counter at 98 % against a
 * 95 % target runs for millions of ratings; all unsatisfied signals after
 * exactly the ratings it takes to climb to h. */
static void cusum_arl_edges(void)
{
	struct cusum_design d;
	struct err e;
	double mean, se, again;

	CHECK_INT(cusum_design_make(0.95, 2, 5000, &d, &e), 0);
	CHECK(cusum_arl(&d, 0) == HUGE_VAL);
	CHECK(cusum_arl(&d, NAN) == HUGE_VAL);
	CHECK_NEAR(cusum_arl(&d, 1.5), cusum_arl(&d, 1), 0);
	CHECK(cusum_arl(&d, 0.02) > 1e6);
	CHECK_NEAR(cusum_arl(&d, 1), ceil(d.h / d.w_unsatisfied), 0.5);
	CHECK_INT(cusum_simulate(&d, 1, 10, 1, &mean, &se), 0);
	CHECK_NEAR(mean, ceil(d.h / d.w_unsatisfied), 0);
	CHECK_NEAR(se, 0, 0);
	CHECK_INT(cusum_simulate(&d, 0.2, 100, 7, &mean, &se), 0);
	CHECK_INT(cusum_simulate(&d, 0.2, 100, 7, &again, &se), 0);    /* seeded */
	CHECK_NEAR(again, mean, 0);
	for (int i = 0; i <= 20; i++) {
		double a = cusum_arl(&d, i / 20.0);

		CHECK(!isnan(a) && a >= 1);
	}
	/* the run length falls as satisfaction falls */
	CHECK(cusum_arl(&d, 0.15) < cusum_arl(&d, d.p1));
	CHECK(cusum_arl(&d, d.p1) < cusum_arl(&d, d.p0));
}

static void cusum_design_refuses_bad_arguments(void)
{
	static const struct {
		double target, odds, arl;
		const char *field;
	} bad[] = {
		{ 0, 2, 5000, "target" }, { 1, 2, 5000, "target" }, { 1.2, 2, 5000, "target" },
		{ NAN, 2, 5000, "target" }, { 0.95, 1, 5000, "odds_ratio" }, { 0.95, 0.5, 5000, "odds_ratio" },
		{ 0.95, NAN, 5000, "odds_ratio" }, { 0.95, 2, 1, "run_length" }, { 0.95, 2, INFINITY, "run_length" },
		{ 1e-17, 2, 5000, "target" }, { 1 - 1e-12, 2, 5000, "" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cusum_design d;
		struct err e;

		err_clear(&e);
		CHECK_INT(cusum_design_make(bad[i].target, bad[i].odds, bad[i].arl, &d, &e), ERR_INVALID);
		CHECK_STR(e.field, bad[i].field);
	}
	/* a threshold past any grid is no run length, not a crash */
	{
		struct cusum_design d;
		struct err e;

		CHECK_INT(cusum_design_make(0.95, 2, 5000, &d, &e), 0);
		CHECK(isnan(cusum_arl_at(&d, 1e300, 1, 0.05)));
	}
}

/* Newcombe (1998), "Two-sided confidence intervals for the single
 * proportion", Stat Med 17:857, table I, method 3 (score, no continuity
 * correction). */
static void wilson_matches_newcombe(void)
{
	static const struct {
		long long k, n;
		double lo, hi;
	} t[] = {
		{ 81, 263, 0.2553, 0.3662 }, { 15, 148, 0.0624, 0.1605 },
		{ 0, 20, 0.0000, 0.1611 }, { 1, 29, 0.0061, 0.1718 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		double lo, hi;

		wilson_interval(t[i].k, t[i].n, 0.95, &lo, &hi);
		CHECK_NEAR(lo, t[i].lo, 0.00006);
		CHECK_NEAR(hi, t[i].hi, 0.00006);
	}
}

static void wilson_edges(void)
{
	double lo, hi, lo99, hi99;

	wilson_interval(0, 0, 0.95, &lo, &hi);
	CHECK(lo == 0 && hi == 1);
	wilson_interval(0, 10, 0.95, &lo, &hi);
	CHECK(lo == 0 && hi > 0.2 && hi < 0.4);
	wilson_interval(10, 10, 0.95, &lo, &hi);
	CHECK(hi == 1 && lo > 0.6 && lo < 0.8);
	CHECK_NEAR(lo, 10.0 / (10 + 1.959963984540054 * 1.959963984540054), 1e-9);
	wilson_interval(1, 1, 0.95, &lo, &hi);
	CHECK(hi == 1 && lo > 0 && lo < 0.5);
	wilson_interval(12, 10, 0.95, &lo, &hi);          /* k clamped to n */
	CHECK(hi == 1 && !isnan(lo));
	wilson_interval(50, 100, 0.95, &lo, &hi);
	wilson_interval(50, 100, 0.99, &lo99, &hi99);
	CHECK(lo99 < lo && hi99 > hi);
	CHECK_NEAR(lo + hi, 1, 1e-12);                      /* symmetric at 1/2 */
}

/* The limit x at n, probability p satisfies the paper's definition, checked
 * with GSL's binomial CDF: with r = ceil(n x), P(Y <= r) >= p > P(Y <= r-1)
 * and the CDF interpolated linearly between r-1 and r is p at n x. */
static int check_limit(double target, long long n, double p)
{
	double x = funnel_limit(target, n, p, 1), nx = x * (double)n;
	long long r = (long long)ceil(nx - 1e-9);
	double f_r = gsl_cdf_binomial_P((unsigned)r, target, (unsigned)n);
	double f_below = r > 0 ? gsl_cdf_binomial_P((unsigned)(r - 1), target, (unsigned)n) : 0;

	if (x == 0 || x == 1)    /* clipped to the share's range */
		return 1;
	return f_r >= p && f_below < p && fabs(f_below + (f_r - f_below) * (1 - ((double)r - nx)) - p) < 1e-9;
}

static void funnel_limits_are_binomial(void)
{
	static const double targets[] = { 0.95, 0.90, 0.5, 0.8 };
	static const long long ns[] = { 5, 20, 37, 100, 1000, 25000 };
	static const double probs[] = { 0.001, 0.025, 0.975, 0.999 };

	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++)
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
			for (size_t p = 0; p < sizeof(probs) / sizeof(probs[0]); p++) {
				if (!check_limit(targets[t], ns[i], probs[p]))
					test_fail(__FILE__, __LINE__, "limit %g at target %g, n %lld: %.9f",
						  probs[p], targets[t], ns[i],
						  funnel_limit(targets[t], ns[i], probs[p], 1));
				CHECK(check_limit(targets[t], ns[i], probs[p]));
			}
	/* by hand (python, math.comb): at n = 100, target 0.95, P(Y <= 90) =
	 * 0.0281883, P(Y <= 89) = 0.0114724, so the 2.5 % limit is
	 * (90 - (0.0281883 - 0.025) / (0.0281883 - 0.0114724)) / 100 */
	CHECK_NEAR(funnel_limit(0.95, 100, 0.025, 1), 0.8980927, 1e-6);
	/* ordered, around the target, and close to the normal one for large n */
	CHECK(funnel_limit(0.95, 100, 0.001, 1) < funnel_limit(0.95, 100, 0.025, 1));
	CHECK(funnel_limit(0.95, 100, 0.025, 1) < 0.95 && funnel_limit(0.95, 100, 0.975, 1) > 0.95);
	CHECK(funnel_limit(0.95, 100, 0.975, 1) < funnel_limit(0.95, 100, 0.999, 1));
	CHECK_NEAR(funnel_limit(0.95, 1000000, 0.975, 1), 0.95 + 1.96 * sqrt(0.95 * 0.05 / 1e6), 2e-5);
	/* nearly symmetric at 1/2: the CDF counts P(Y <= r), not P(Y >= r), so
	 * the interpolation is one step (1/n) to one side */
	CHECK_NEAR(funnel_limit(0.5, 400, 0.975, 1) + funnel_limit(0.5, 400, 0.025, 1), 1, 1.0 / 400 + 1e-9);
}

/* n and target at their edges give limits within [0, 1], never NaN. */
static void funnel_edges(void)
{
	static const double targets[] = { 0, 0.5, 0.95, 1 };
	static const long long ns[] = { -1, 0, 1, 2 };
	static const double probs[] = { 0.001, 0.025, 0.975, 0.999 };

	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++)
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
			for (size_t p = 0; p < sizeof(probs) / sizeof(probs[0]); p++) {
				double x = funnel_limit(targets[t], ns[i], probs[p], 4);

				CHECK(x >= 0 && x <= 1);
			}
	CHECK(funnel_limit(0.95, 0, 0.999, 1) == 1 && funnel_limit(0.95, 0, 0.001, 1) == 0);
	CHECK(funnel_limit(1, 50, 0.001, 1) == 1 && funnel_limit(1, 50, 0.999, 1) == 1);
	CHECK(funnel_limit(0.95, 1, 0.001, 1) == 0);
	CHECK(funnel_limit(NAN, 10, 0.975, 1) == 0 && funnel_limit(0.95, 10, NAN, 1) == 0);
}

/* 20 counters of 1,000 ratings at 93 % and 97 % against 95 %: every z is
 * +-2.90, so phi is its square; a set drawn at the target has phi <= 1 and
 * leaves the limits alone; one far outlier among points on target is
 * winsorised away. */
static void funnel_phi_overdispersed(void)
{
	struct funnel_point pts[20];
	double z = 0.02 / sqrt(0.95 * 0.05 / 1000), phi;

	for (int i = 0; i < 20; i++)
		pts[i] = (struct funnel_point){ "q", 1000, i % 2 ? 970 : 930 };
	phi = funnel_phi(0.95, pts, 20);
	CHECK_NEAR(phi, z * z, 1e-9);
	CHECK_NEAR(funnel_limit(0.95, 1000, 0.975, phi) - 0.95,
		   (funnel_limit(0.95, 1000, 0.975, 1) - 0.95) * z, 1e-9);
	CHECK_NEAR(funnel_limit(0.95, 1000, 0.001, phi) - 0.95,
		   (funnel_limit(0.95, 1000, 0.001, 1) - 0.95) * z, 1e-9);

	for (int i = 0; i < 20; i++)
		pts[i] = (struct funnel_point){ "q", 1000, 950 + (i % 3) - 1 };
	phi = funnel_phi(0.95, pts, 20);
	CHECK(phi <= 1);
	CHECK_NEAR(funnel_limit(0.95, 1000, 0.975, phi), funnel_limit(0.95, 1000, 0.975, 1), 0);

	pts[7].k = 500;    /* far off: z = -72.6, unwinsorised phi would be ~264 */
	phi = funnel_phi(0.95, pts, 20);
	CHECK(phi <= 1);
	/* too few points to say: 1 */
	CHECK_NEAR(funnel_phi(0.95, pts, FUNNEL_PHI_MIN_POINTS - 1), 1, 0);
	CHECK_NEAR(funnel_phi(1, pts, 20), 1, 0);
}

/* Write svg into ./f.svg and check it with xmllint; 1 when well-formed. */
static int svg_well_formed(const char *svg)
{
	const char *src = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
	char *doc = malloc(strlen(src) + strlen(svg) + 1);
	int ok;

	if (!doc)
		return 0;
	strcpy(doc, src);
	strcat(doc, svg);
	ok = test_write("f.svg", doc) == 0 && system("xmllint --noout f.svg") == 0;
	free(doc);
	return ok;
}

static long count(const char *hay, const char *needle)
{
	long n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void funnel_svg_plot(void)
{
	struct funnel_point pts[8];
	struct strbuf sb = STRBUF_INIT;
	const char *svg;

	for (int i = 0; i < 8; i++)
		pts[i] = (struct funnel_point){ "Quầy 1", 100 * (i + 1), 95 * (i + 1) - (i == 3 ? 40 : 0) };
	pts[5].label = "A & B <i>\"x\"</i>";
	funnel_svg(&sb, "fp", "Phễu các quầy", 0.95, pts, 8);
	svg = strbuf_str(&sb);
	CHECK(!sb.failed);
	CHECK(svg_well_formed(svg));
	CHECK_CONTAINS(svg, "<title id=\"fp-t\">Phễu các quầy</title>");
	CHECK_CONTAINS(svg, "<desc id=\"fp-d\">8 điểm; mục tiêu 95,0\xc2\xa0%");
	CHECK_CONTAINS(svg, "ngoài giới hạn 99,8\xc2\xa0%: 1 dưới, 0 trên");  /* the 4th: 340 of 400 */
	CHECK_CONTAINS(svg, "A &amp; B &lt;i&gt;&quot;x&quot;&lt;/i&gt;");
	CHECK(!strstr(svg, "<i>"));
	CHECK_INT(count(svg, "<g class=\"point\"><title>"), 8);
	CHECK_INT(count(svg, "<g class=\"target\">"), 1);
	CHECK_INT(count(svg, "<g class=\"limit\"><title>Giới hạn 95\xc2\xa0%"), 1);
	CHECK_INT(count(svg, "<g class=\"limit\"><title>Giới hạn 99,8\xc2\xa0%"), 1);
	CHECK_INT(count(svg, "<polyline"), 4);
	CHECK(!strstr(svg, "<script") && !strstr(svg, "href"));
	CHECK(!strstr(svg, "φ"));    /* these points are not overdispersed */
	CHECK(!strstr(svg, "nan") && !strstr(svg, "inf"));

	/* over-dispersed: phi stated on the plot and in the description */
	for (int i = 0; i < 8; i++)
		pts[i] = (struct funnel_point){ "Quầy", 1000, i % 2 ? 990 : 910 };
	strbuf_reset(&sb);
	funnel_svg(&sb, "fp", "Phễu", 0.95, pts, 8);
	svg = strbuf_str(&sb);
	CHECK(svg_well_formed(svg));
	CHECK_CONTAINS(svg, "class=\"phi\"");
	CHECK_CONTAINS(svg, "φ = 33,68");
	strbuf_release(&sb);
}

/* No points, points of no ratings, one rating, a target of 1 or 0.5: a
 * well-formed plot without NaN or infinity anywhere. */
static void funnel_svg_edges(void)
{
	static const double targets[] = { 1, 0.5, 0.95, 0 };
	struct funnel_point pts[] = { { "a", 0, 0 }, { "b", 1, 1 }, { "c", 1, 0 }, { NULL, 2, 1 } };
	struct strbuf sb = STRBUF_INIT;

	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++)
		for (size_t n = 0; n <= 4; n += 1) {
			const char *svg;

			strbuf_reset(&sb);
			funnel_svg(&sb, "e", "Phễu", targets[t], pts, n);
			svg = strbuf_str(&sb);
			CHECK(svg_well_formed(svg));
			if (strstr(svg, "nan") || strstr(svg, "inf"))
				test_fail(__FILE__, __LINE__, "target %g, %zu points: %s", targets[t], n, svg);
			CHECK(!strstr(svg, "nan") && !strstr(svg, "inf"));
		}
	/* a count of satisfied ratings over the ratings is drawn as 100 % */
	{
		struct funnel_point over[] = { { "d", 2, 5 } };

		strbuf_reset(&sb);
		funnel_svg(&sb, "e", "Phễu", 0.95, over, 1);
		CHECK_CONTAINS(strbuf_str(&sb), "<title>d: 100,0\xc2\xa0% hài lòng, 2 lượt</title>");
		strbuf_reset(&sb);
		funnel_svg(&sb, "e", "Phễu", 0.95, pts, 4);
	}
	/* a plot of at most 2 ratings marks 0, 1 and 2 once each, and draws a
	 * limit through each count once */
	{
		const char *at = strstr(strbuf_str(&sb), "points=\"");
		size_t len;
		long spaces = 0;

		CHECK(at);
		at += strlen("points=\"");
		len = strcspn(at, "\"");
		for (size_t i = 0; i < len; i++)
			spaces += at[i] == ' ';
		CHECK_INT(spaces, 1);    /* at 1 and 2 ratings */
	}
	CHECK_INT(count(strbuf_str(&sb), "text-anchor=\"middle\">1</text>"), 1);
	CHECK_INT(count(strbuf_str(&sb), "text-anchor=\"middle\">2</text>"), 1);
	strbuf_release(&sb);
}

/* `sipas monitor design` prints what the design computes. */
static void monitor_design_command(void)
{
	const struct cmd_result *r = sipas_run(NULL, "monitor", "design", NULL);
	struct cusum_design d;
	struct err e;
	double mean, se;
	char line[160];

	CHECK_INT(r->status, 0);
	CHECK_INT(cusum_design_make(0.95, 2, 5000, &d, &e), 0);
	snprintf(line, sizeof(line), "threshold h: %.3f\n", d.h);
	CHECK_CONTAINS(r->out, line);
	snprintf(line, sizeof(line), "run length at target (95.0 %% satisfied): %.0f\n", d.arl_target);
	CHECK_CONTAINS(r->out, line);
	snprintf(line, sizeof(line), "run length at odds ratio 2 (%.1f %% satisfied): %.0f\n", 100 * (1 - d.p1),
		 cusum_arl(&d, d.p1));
	CHECK_CONTAINS(r->out, line);
	snprintf(line, sizeof(line), "run length at 85.0 %% satisfied: %.0f\n", cusum_arl(&d, 0.15));
	CHECK_CONTAINS(r->out, line);

	r = sipas_run(NULL, "monitor", "design", "--target", "0.9", "--odds-ratio", "3", "--run-length", "10000",
		      NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(cusum_design_make(0.9, 3, 10000, &d, &e), 0);
	snprintf(line, sizeof(line), "threshold h: %.3f\n", d.h);
	CHECK_CONTAINS(r->out, line);

	r = sipas_run(NULL, "monitor", "design", "--target", "0.8", "--simulate", "50", NULL);
	CHECK_INT(r->status, 0);
	CHECK_INT(cusum_design_make(0.8, 2, 5000, &d, &e), 0);
	CHECK_INT(cusum_simulate(&d, 0.15, 50, 19, &mean, &se), 0);
	snprintf(line, sizeof(line), "run length at 85.0 %% satisfied: %.0f (simulated: %.1f ± %.1f in 50 runs)\n",
		 cusum_arl(&d, 0.15), mean, se);
	CHECK_CONTAINS(r->out, line);
	r = sipas_run(NULL, "monitor", "design", "--simulate", "1.5", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--simulate: '1.5' is not a whole number");

	r = sipas_run(NULL, "monitor", "design", "--target", "1.5", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "target");
	r = sipas_run(NULL, "monitor", "design", "--odds-ratio", "2x", NULL);
	CHECK_INT(r->status, 1);
	CHECK_CONTAINS(r->err, "--odds-ratio");
	/* --db, which every command takes, opens nothing here */
	r = sipas_run(NULL, "monitor", "design", "--db", "x.db", NULL);
	CHECK_INT(r->status, 0);
	CHECK(access("x.db", F_OK) != 0);
	r = sipas_run(NULL, "monitor", "frobnicate", NULL);
	CHECK_INT(r->status, 1);
	r = sipas_run(NULL, "monitor", "--help", NULL);
	CHECK_INT(r->status, 0);
	CHECK_CONTAINS(r->out, "sipas monitor design");
}

/* docs/monitoring.md quotes `sipas monitor design` runs: each "$ sipas
 * monitor design ARGS" line there, run now, prints the lines that follow it
 * (up to a blank line or the block's end), so the figures in the doc are
 * the code's. */
static void monitoring_doc_quotes_the_command(void)
{
	char path[4096], *doc, *p;
	int quoted = 0;

	snprintf(path, sizeof(path), "%s/docs/monitoring.md", getenv("SIPAS_SOURCE"));
	doc = test_read(path);
	CHECK(doc);
	for (p = strstr(doc, "\n$ sipas monitor design"); p; p = strstr(p, "\n$ sipas monitor design")) {
		char *args = p + strlen("\n$ sipas monitor design"), *end = strchr(args, '\n'), *out, *stop;
		char *a[8] = { NULL };
		const struct cmd_result *r;
		size_t len;
		int n = 0, same;

		CHECK(end);
		*end = '\0';   /* the command line, cut into its arguments */
		for (char *t = strtok(args, " "); t && n < 8; t = strtok(NULL, " "))
			a[n++] = t;
		out = end + 1;
		stop = strstr(out, "\n\n");
		if (!stop || (strstr(out, "\n```") && strstr(out, "\n```") < stop))
			stop = strstr(out, "\n```");
		CHECK(stop);
		r = sipas_run(NULL, "monitor", "design", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
		CHECK_INT(r->status, 0);
		len = (size_t)(stop + 1 - out);
		same = strlen(r->out) == len && strncmp(r->out, out, len) == 0;
		if (!same)
			test_fail(__FILE__, __LINE__, "monitoring.md quotes\n%.*sbut the command prints\n%s",
				  (int)len, out, r->out);
		CHECK(same);
		quoted++;
		p = stop;
	}
	CHECK(quoted >= 2);
	free(doc);
}

const struct test_case monitor_stats_tests[] = {
	{ "cusum_weights_and_steps", cusum_weights_and_steps },
	{ "cusum_arl_agrees_with_simulation", cusum_arl_agrees_with_simulation },
	{ "cusum_h_smallest_and_grid_converged", cusum_h_smallest_and_grid_converged },
	{ "cusum_design_is_deterministic", cusum_design_is_deterministic },
	{ "cusum_arl_edges", cusum_arl_edges },
	{ "cusum_design_refuses_bad_arguments", cusum_design_refuses_bad_arguments },
	{ "wilson_matches_newcombe", wilson_matches_newcombe },
	{ "wilson_edges", wilson_edges },
	{ "funnel_limits_are_binomial", funnel_limits_are_binomial },
	{ "funnel_edges", funnel_edges },
	{ "funnel_phi_overdispersed", funnel_phi_overdispersed },
	{ "funnel_svg_plot", funnel_svg_plot },
	{ "funnel_svg_edges", funnel_svg_edges },
	{ "monitor_design_command", monitor_design_command },
	{ "monitoring_doc_quotes_the_command", monitoring_doc_quotes_the_command },
	{ NULL, NULL }
};
