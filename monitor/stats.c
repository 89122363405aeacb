/*
 * stats.c - the Wilson interval, the funnel plot's limits and its
 * overdispersion factor, and the funnel plot as SVG (docs/monitoring.md,
 * "The statistics").  The drawing reuses the report's SVG opening and its
 * Vietnamese number formats (reports/rep_svg.c, rep_fmt.c).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "../reports/rep_report.h"
#include "stats.h"

/* The funnel's two pairs of limits: two-sided 95 % and 99.8 %. */
static const struct {
	double lo, hi;       /* probabilities of the lower and upper limits */
	const char *name;    /* as written on the plot */
	const char *dash;
} funnel_levels[] = {
	{ 0.025, 0.975, "95" REP_NBSP "%", "6 4" },
	{ 0.001, 0.999, "99,8" REP_NBSP "%", "" },
};
#define N_LEVELS (sizeof(funnel_levels) / sizeof(funnel_levels[0]))

static double clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

void wilson_interval(long long k, long long n, double level, double *lo, double *hi)
{
	double z, z2, p, centre, half;

	if (n <= 0 || !(level > 0 && level < 1)) {
		*lo = 0;
		*hi = 1;
		return;
	}
	k = k < 0 ? 0 : k > n ? n : k;
	z = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
	z2 = z * z;
	p = (double)k / (double)n;
	centre = (p + z2 / (2.0 * (double)n)) / (1.0 + z2 / (double)n);
	half = z / (1.0 + z2 / (double)n) * sqrt(p * (1 - p) / (double)n + z2 / (4.0 * (double)n * (double)n));
	/* at k = 0 and k = n one bound is exactly the edge; say so rather than
	 * leave a rounding error of 1e-17 */
	*lo = k == 0 ? 0 : clamp01(centre - half);
	*hi = k == n ? 1 : clamp01(centre + half);
}

/* P(Y <= r) for Y binomial(n, target); 0 below 0. */
static double binom_cdf(long long r, double target, unsigned n)
{
	return r < 0 ? 0 : gsl_cdf_binomial_P((unsigned)r, target, n);
}

double funnel_limit(double target, long long n, double prob, double phi)
{
	unsigned nn;
	long long lo = 0, hi, r;
	double f_r, f_below, alpha, limit;

	if (n <= 0 || !(prob > 0 && prob < 1))
		return prob > 0.5 ? 1 : 0;
	if (!(target > 0 && target < 1))
		return clamp01(target);   /* no spread around a target of 0 or 1 */
	nn = n > UINT_MAX ? UINT_MAX : (unsigned)n;
	/* r: the smallest count with P(Y <= r) >= prob (bisection: n may be large) */
	hi = nn;
	while (lo < hi) {
		long long mid = lo + (hi - lo) / 2;

		if (binom_cdf(mid, target, nn) >= prob)
			hi = mid;
		else
			lo = mid + 1;
	}
	r = lo;
	f_r = binom_cdf(r, target, nn);
	f_below = binom_cdf(r - 1, target, nn);
	/* the paper's interpolation between the steps of the distribution */
	alpha = f_r > f_below ? (f_r - prob) / (f_r - f_below) : 0;
	limit = ((double)r - alpha) / (double)nn;
	if (phi > 1)
		limit = target + (limit - target) * sqrt(phi);
	return clamp01(limit);
}

double funnel_phi(double target, const struct funnel_point *pts, size_t n_pts)
{
	double *z, lo_q, hi_q, sum = 0;
	size_t n = 0;

	if (!(target > 0 && target < 1))
		return 1;
	z = malloc((n_pts ? n_pts : 1) * sizeof(*z));
	if (!z)
		return 1;
	for (size_t i = 0; i < n_pts; i++) {
		double y;

		if (pts[i].n <= 0)
			continue;
		y = (double)pts[i].k / (double)pts[i].n;
		z[n++] = (y - target) / sqrt(target * (1 - target) / (double)pts[i].n);
	}
	if (n < FUNNEL_PHI_MIN_POINTS) {
		free(z);
		return 1;
	}
	/* 10 % winsorising: the z-scores beyond the 10th and 90th percentiles
	 * are pulled in to them, so that one outlier does not widen the limits
	 * that are meant to show it */
	gsl_sort(z, 1, n);
	lo_q = gsl_stats_quantile_from_sorted_data(z, 1, n, 0.10);
	hi_q = gsl_stats_quantile_from_sorted_data(z, 1, n, 0.90);
	for (size_t i = 0; i < n; i++) {
		double w = z[i] < lo_q ? lo_q : z[i] > hi_q ? hi_q : z[i];

		sum += w * w;
	}
	free(z);
	return sum / (double)n;
}

/* The plot's frame, in its own units. */
#define FN_W 720
#define FN_H 420
#define FN_L 64     /* x of 0 ratings */
#define FN_R 560    /* x of the most ratings */
#define FN_T 24
#define FN_B 370    /* y of the axis' lowest share */
#define FN_SAMPLES 120

struct frame {
	double n_max;   /* ratings at the right edge */
	double y_lo;    /* share at the bottom edge */
};

static double fx(const struct frame *f, double n)
{
	return FN_L + n / f->n_max * (FN_R - FN_L);
}

static double fy(const struct frame *f, double share)
{
	share = share < f->y_lo ? f->y_lo : share;
	return FN_B - (share - f->y_lo) / (1.0 - f->y_lo) * (FN_B - FN_T);
}

/* A round number of ratings at or above n: 1, 2 or 5 times a power of ten. */
static double round_up(double n)
{
	double p = pow(10, floor(log10(n)));

	return n <= p ? p : n <= 2 * p ? 2 * p : n <= 5 * p ? 5 * p : 10 * p;
}

/* phi with two decimals after a comma, as Vietnamese write it. */
static void add_phi(struct strbuf *sb, double phi)
{
	char buf[32], *dot;

	snprintf(buf, sizeof(buf), "%.2f", phi);
	dot = strchr(buf, '.');
	if (dot)
		*dot = ',';
	strbuf_addstr(sb, buf);
}

/* One limit curve (prob) from n_min to the right edge. */
static void add_curve(struct strbuf *sb, const struct frame *f, double target, double prob, double phi,
		      double n_min, const char *dash)
{
	strbuf_addstr(sb, "<polyline fill=\"none\" stroke=\"#555\"");
	if (*dash)
		strbuf_addf(sb, " stroke-dasharray=\"%s\"", dash);
	strbuf_addstr(sb, " points=\"");
	for (int i = 0; i <= FN_SAMPLES; i++) {
		/* denser at the left, where the funnel bends */
		double t = (double)i / FN_SAMPLES;
		long long n = llround(n_min + (f->n_max - n_min) * t * t);

		strbuf_addf(sb, "%s%.1f,%.1f", i ? " " : "", fx(f, (double)n),
			    fy(f, funnel_limit(target, n, prob, phi)));
	}
	strbuf_addstr(sb, "\"/>\n");
}

void funnel_svg(struct strbuf *out, const char *id, const char *title, double target,
		const struct funnel_point *pts, size_t n_pts)
{
	double phi = funnel_phi(target, pts, n_pts), lo = clamp01(target), n_min = 0;
	double applied = phi > 1 ? phi : 1;
	long below[N_LEVELS] = { 0 }, above[N_LEVELS] = { 0 }, shown = 0;
	struct frame f = { 1, 0 };

	for (size_t i = 0; i < n_pts; i++) {
		double y;

		if (pts[i].n <= 0)
			continue;
		y = (double)pts[i].k / (double)pts[i].n;
		if ((double)pts[i].n > f.n_max)
			f.n_max = (double)pts[i].n;
		if (!shown || (double)pts[i].n < n_min)
			n_min = (double)pts[i].n;
		lo = fmin(lo, y);
		shown++;
		for (size_t l = 0; l < N_LEVELS; l++) {
			below[l] += y < funnel_limit(target, pts[i].n, funnel_levels[l].lo, applied);
			above[l] += y > funnel_limit(target, pts[i].n, funnel_levels[l].hi, applied);
		}
	}
	f.n_max = round_up(f.n_max);
	n_min = n_min < 1 ? 1 : n_min;
	/* the axis reaches the lowest point and the 95 % lower limit where the
	 * first point is, so the inner funnel is seen where there are points */
	lo = fmin(lo, funnel_limit(target, (long long)n_min, funnel_levels[0].lo, applied));
	f.y_lo = rep_svg_axis_start(lo, 10.0);

	rep_svg_open(out, id, title, FN_W, FN_H);
	strbuf_addf(out, "<desc id=\"%s-d\">", id);
	rep_fmt_int(out, shown);
	strbuf_addstr(out, " điểm; mục tiêu ");
	rep_fmt_pct(out, 1, target);
	for (size_t l = 0; l < N_LEVELS; l++) {
		strbuf_addf(out, "; ngoài giới hạn %s: %ld dưới, %ld trên", funnel_levels[l].name, below[l], above[l]);
	}
	if (phi > 1) {
		strbuf_addstr(out, "; giới hạn nới rộng theo hệ số phân tán φ = ");
		add_phi(out, phi);
	}
	strbuf_addstr(out, ".</desc>\n");

	/* axes: shares every 10 % (5 % on a short scale), then ratings */
	for (double t = f.y_lo; t <= 1.0 + 1e-9; t += (1.0 - f.y_lo) <= 0.2 ? 0.05 : 0.1) {
		strbuf_addf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			    "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">",
			    FN_L, fy(&f, t), FN_R, fy(&f, t), FN_L - 4, fy(&f, t) + 4);
		rep_fmt_pct(out, 1, t);
		strbuf_addstr(out, "</text>\n");
	}
	/* fifths of the width, or every rating when there are fewer than 5 */
	for (double n = 0, step = fmax(1, f.n_max / 5); n <= f.n_max + 1e-9; n += step) {
		strbuf_addf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">",
			    fx(&f, n), FN_B + 16);
		rep_fmt_int(out, (long)llround(n));
		strbuf_addstr(out, "</text>\n");
	}
	strbuf_addf(out, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">Số lượt đánh giá</text>\n"
		    "<text x=\"14\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">"
		    "Tỷ lệ hài lòng</text>\n", (FN_L + FN_R) / 2, FN_B + 40, (FN_T + FN_B) / 2, (FN_T + FN_B) / 2);

	/* the target and the limits, each named for screen readers */
	strbuf_addf(out, "<g class=\"target\"><title>Mục tiêu ");
	rep_fmt_pct(out, 1, target);
	strbuf_addf(out, "</title><line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#1565c0\" "
		    "stroke-width=\"2\"/></g>\n", FN_L, fy(&f, target), FN_R, fy(&f, target));
	for (size_t l = 0; l < N_LEVELS; l++) {
		strbuf_addf(out, "<g class=\"limit\"><title>Giới hạn %s</title>\n", funnel_levels[l].name);
		add_curve(out, &f, target, funnel_levels[l].lo, applied, n_min, funnel_levels[l].dash);
		add_curve(out, &f, target, funnel_levels[l].hi, applied, n_min, funnel_levels[l].dash);
		strbuf_addstr(out, "</g>\n");
	}

	for (size_t i = 0; i < n_pts; i++) {
		double y, x, yy;

		if (pts[i].n <= 0)
			continue;
		y = (double)pts[i].k / (double)pts[i].n;
		x = fx(&f, (double)pts[i].n);
		yy = fy(&f, y);
		strbuf_addstr(out, "<g class=\"point\"><title>");
		rep_xml_escape(out, pts[i].label ? pts[i].label : "");
		strbuf_addstr(out, ": ");
		rep_fmt_pct(out, 1, y);
		strbuf_addstr(out, " hài lòng, ");
		rep_fmt_int(out, (long)pts[i].n);
		strbuf_addf(out, " lượt</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#000\"/>"
			    "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">", x, yy, x + 6, yy - 4);
		rep_xml_escape(out, pts[i].label ? pts[i].label : "");
		strbuf_addstr(out, "</text></g>\n");
	}

	/* the legend, in words */
	strbuf_addf(out, "<g font-size=\"11\"><line x1=\"%d\" y1=\"40\" x2=\"%d\" y2=\"40\" stroke=\"#1565c0\" "
		    "stroke-width=\"2\"/><text x=\"%d\" y=\"44\">Mục tiêu</text>\n", FN_R + 16, FN_R + 40, FN_R + 46);
	for (size_t l = 0; l < N_LEVELS; l++) {
		int y = 62 + 20 * (int)l;

		strbuf_addf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"%s%s%s/>"
			    "<text x=\"%d\" y=\"%d\">Giới hạn %s</text>\n", FN_R + 16, y, FN_R + 40, y,
			    *funnel_levels[l].dash ? " stroke-dasharray=\"" : "", funnel_levels[l].dash,
			    *funnel_levels[l].dash ? "\"" : "", FN_R + 46, y + 4, funnel_levels[l].name);
	}
	if (phi > 1) {
		strbuf_addf(out, "<text class=\"phi\" x=\"%d\" y=\"112\">Nới rộng: φ = ", FN_R + 16);
		add_phi(out, phi);
		strbuf_addstr(out, "</text>\n");
	}
	strbuf_addstr(out, "</g>\n</svg>\n");
}
