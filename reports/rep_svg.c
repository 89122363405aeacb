/*
 * rep_svg.c - the report's charts as inline SVG (no scripts, no fonts, no
 * links): horizontal bars of indices with 95 % interval whiskers and target
 * lines, and the four-quarter trend of the index and the elements.  Every
 * chart carries a <title>; the verdict is written in words beside each bar,
 * never shown by colour alone.
 */
#include <math.h>
#include <stdio.h>

#include "rep_report.h"

#define BAR_W 820
#define BAR_LABEL 250   /* x where the bars start */
#define BAR_END 580     /* x of 100 % */
#define BAR_ROW 24
#define BAR_TOP 28

static const char *verdict_fill(int status)
{
	switch (status) {
	case SCORE_MET: return "#2e7d32";
	case SCORE_NOT_MET: return "#c62828";
	case SCORE_INCONCLUSIVE: return "#f9a825";
	default: return "#9e9e9e";
	}
}

double rep_svg_axis_start(double lo, double per)
{
	lo = floor(lo * per - 1e-9) / per;
	if (lo < 0 || lo >= 1.0)
		lo = lo < 0 ? 0 : 1.0 - 1.0 / per;
	return lo;
}

void rep_svg_open(struct strbuf *sb, const char *id, const char *title, int w, int h)
{
	strbuf_addf(sb, "<svg class=\"chart\" role=\"img\" aria-labelledby=\"%s-t\" viewBox=\"0 0 %d %d\" "
		    "width=\"100%%\">\n<title id=\"%s-t\">", id, w, h, id);
	rep_xml_escape(sb, title);
	strbuf_addstr(sb, "</title>\n");
}

static double scale_x(double p, double lo)
{
	return BAR_LABEL + (p - lo) / (1.0 - lo) * (BAR_END - BAR_LABEL);
}

void rep_svg_bars(struct strbuf *sb, const char *id, const char *title,
		  const struct score_group *const *groups, size_t n, int by_agency)
{
	double lo = 1.0;
	int h = BAR_TOP + (int)n * BAR_ROW + 10;

	for (size_t i = 0; i < n; i++) {
		const struct score_group *g = groups[i];

		if (g->index.defined)
			lo = fmin(lo, g->index.has_bounds ? g->index.lo : g->index.est);
		if (g->has_target)
			lo = fmin(lo, g->target);
	}
	lo = rep_svg_axis_start(lo, 10.0);
	rep_svg_open(sb, id, title, BAR_W, h);
	/* axis: gridlines every 10 % (5 % when the scale is short) */
	for (double t = lo; t <= 1.0 + 1e-9; t += (1.0 - lo) <= 0.2 ? 0.05 : 0.1) {
		double x = scale_x(t, lo);

		strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
			    "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">", x, BAR_TOP - 4,
			    x, h - 10, x, BAR_TOP - 10);
		rep_fmt_dec1(sb, t * 100.0);
		strbuf_addstr(sb, REP_NBSP "%</text>\n");
	}
	for (size_t i = 0; i < n; i++) {
		const struct score_group *g = groups[i];
		const struct registry_entry *who = by_agency ? g->agency : g->sector;
		int y = BAR_TOP + (int)i * BAR_ROW;

		strbuf_addf(sb, "<g><text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"end\">",
			    BAR_LABEL - 6, y + 16);
		rep_xml_escape(sb, who ? who->name : "");
		strbuf_addstr(sb, "</text>");
		if (g->index.defined) {
			double x = scale_x(fmax(g->index.est, lo), lo);

			strbuf_addf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"14\" fill=\"%s\"/>",
				    BAR_LABEL, y + 5, x - BAR_LABEL, verdict_fill(g->status));
			if (g->index.has_bounds) {
				double x1 = scale_x(fmax(g->index.lo, lo), lo), x2 = scale_x(g->index.hi, lo);

				strbuf_addf(sb, "<path d=\"M%.1f %dV%dM%.1f %dH%.1fM%.1f %dV%d\" stroke=\"#000\" "
					    "fill=\"none\"/>", x1, y + 7, y + 17, x1, y + 12, x2, x2, y + 7, y + 17);
			}
		}
		if (g->has_target) {
			double xt = scale_x(g->target, lo);

			strbuf_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#1565c0\" "
				    "stroke-width=\"2\" stroke-dasharray=\"3 2\"/>", xt, y + 2, xt, y + 22);
		}
		strbuf_addf(sb, "<text x=\"%d\" y=\"%d\" font-size=\"12\">", BAR_END + 8, y + 16);
		rep_fmt_pct(sb, g->index.defined, g->index.est);
		strbuf_addstr(sb, " · ");
		strbuf_addstr(sb, rep_verdict_vi(g->status));
		strbuf_addstr(sb, "</text></g>\n");
	}
	strbuf_addstr(sb, "</svg>\n");
}

#define TR_W 820
#define TR_H 300
#define TR_L 60
#define TR_R 560
#define TR_T 20
#define TR_B 260

void rep_svg_trend(struct strbuf *sb, const char *id, const char *title, const struct rep_report *r)
{
	static const char *dash[] = { "", "6 3", "2 3", "8 3 2 3", "1 4", "10 4" };
	static const char *colour[] = { "#000", "#1565c0", "#2e7d32", "#c62828", "#6a1b9a", "#ef6c00" };
	const struct form *f = r->form;
	size_t n_lines = 1 + f->n_elements;
	double lo = 1.0;

	for (int q = 0; q < REP_TREND_QUARTERS; q++) {
		const struct score_group *g = &r->trend[q]->groups[0];

		for (size_t l = 0; l < n_lines; l++) {
			const struct score_estimate *est = l == 0 ? &g->index : &g->elements[l - 1];

			if (est->defined)
				lo = fmin(lo, est->est);
		}
	}
	lo = rep_svg_axis_start(lo, 20.0);
	rep_svg_open(sb, id, title, TR_W, TR_H);
	for (double t = lo; t <= 1.0 + 1e-9; t += 0.05) {
		double y = TR_B - (t - lo) / (1.0 - lo) * (TR_B - TR_T);

		strbuf_addf(sb, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
			    "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">",
			    TR_L, y, TR_R, y, TR_L - 4, y + 4);
		rep_fmt_dec1(sb, t * 100.0);
		strbuf_addstr(sb, REP_NBSP "%</text>\n");
	}
	for (int q = 0; q < REP_TREND_QUARTERS; q++) {
		double x = TR_L + 20 + q * (TR_R - TR_L - 40) / (REP_TREND_QUARTERS - 1.0);

		strbuf_addf(sb, "<text x=\"%.1f\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">", x, TR_B + 20);
		rep_xml_escape(sb, r->trend[q]->period.label);
		strbuf_addstr(sb, "</text>\n");
	}
	for (size_t l = 0; l < n_lines; l++) {
		const char *name = l == 0 ? "Chỉ số SIPAS" : rep_element_title(f, l - 1);
		int started = 0;
		double last_y = 0;

		strbuf_addf(sb, "<g><path fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s%s%s d=\"",
			    colour[l % 6], l == 0 ? "3" : "1.5", *dash[l % 6] ? " stroke-dasharray=\"" : "",
			    dash[l % 6], *dash[l % 6] ? "\"" : "");
		for (int q = 0; q < REP_TREND_QUARTERS; q++) {
			const struct score_group *g = &r->trend[q]->groups[0];
			const struct score_estimate *est = l == 0 ? &g->index : &g->elements[l - 1];
			double x = TR_L + 20 + q * (TR_R - TR_L - 40) / (REP_TREND_QUARTERS - 1.0);

			if (!est->defined) {
				started = 0;
				continue;
			}
			last_y = TR_B - (fmax(est->est, lo) - lo) / (1.0 - lo) * (TR_B - TR_T);
			strbuf_addf(sb, "%s%.1f %.1f ", started ? "L" : "M", x, last_y);
			started = 1;
		}
		(void)last_y;
		/* a mark at each quarter, so a lone quarter shows too */
		strbuf_addf(sb, "\"/><path fill=\"%s\" stroke=\"none\" d=\"", colour[l % 6]);
		for (int q = 0; q < REP_TREND_QUARTERS; q++) {
			const struct score_group *g = &r->trend[q]->groups[0];
			const struct score_estimate *est = l == 0 ? &g->index : &g->elements[l - 1];
			double x = TR_L + 20 + q * (TR_R - TR_L - 40) / (REP_TREND_QUARTERS - 1.0), y;

			if (!est->defined)
				continue;
			y = TR_B - (fmax(est->est, lo) - lo) / (1.0 - lo) * (TR_B - TR_T);
			strbuf_addf(sb, "M%.1f %.1fh3v3h-3z", x - 1.5, y - 1.5);
		}
		/* the legend: the same stroke and dash, then the name */
		strbuf_addf(sb, "\"/><path d=\"M%d %dh30\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s%s%s/>"
			    "<text x=\"%d\" y=\"%d\" font-size=\"11\">", TR_R + 10, TR_T + 6 + (int)l * 22,
			    colour[l % 6], l == 0 ? "3" : "1.5", *dash[l % 6] ? " stroke-dasharray=\"" : "",
			    dash[l % 6], *dash[l % 6] ? "\"" : "", TR_R + 44, TR_T + 10 + (int)l * 22);
		rep_xml_escape(sb, name);
		strbuf_addstr(sb, "</text></g>\n");
	}
	strbuf_addstr(sb, "</svg>\n");
}
