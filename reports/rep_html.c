/*
 * rep_html.c - index.html of the quarterly report (docs/report.md): the
 * headline index and elements, agencies and sectors as bars and tables, the
 * agency × sector table, the four-quarter trend, each agency's weakest
 * criteria.  Self-contained XHTML-style markup: inline style, inline SVG,
 * no scripts, fonts or outside addresses; prints on A4.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rep_report.h"

static const char report_style[] =
	"<style>\n"
	"@page { size: A4; margin: 15mm }\n"
	"body { font-family: sans-serif; font-size: 11pt; color: #111; max-width: 60em; margin: 0 auto; padding: 1em; box-sizing: border-box }\n"
	"h1 { font-size: 18pt } h2 { font-size: 14pt; border-bottom: 1px solid #999 }\n"
	"section + section { break-before: page }\n"
	"table { border-collapse: collapse; margin: 0.5em 0 }\n"
	"th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top }\n"
	"td.num, th.num { text-align: right } td.num { white-space: nowrap }\n"
	"caption { caption-side: bottom; font-size: 9pt; color: #444; text-align: left }\n"
	".headline { font-size: 16pt } .note { font-size: 9pt; color: #444 }\n"
	".chart { max-width: 100%; height: auto; break-inside: avoid }\n"
	"table.cross { font-size: 8pt; break-inside: auto }\n"
	"table.counter { width: 100%; table-layout: fixed }\n"
	"table.counter td, table.counter th { overflow-wrap: break-word }\n"
	"table.counter .warn { display: block; white-space: normal }\n"
	"@media print { body { max-width: none; padding: 0 } }\n"
	".early { border: 2px solid #b00; padding: 0.5em }\n"
	"#nhat-ky code { overflow-wrap: anywhere }\n"
	"</style>\n";

void rep_page_start(struct strbuf *sb, const char *title)
{
	strbuf_addstr(sb, "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\"/>\n"
		      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>");
	rep_xml_escape(sb, title);
	strbuf_addstr(sb, "</title>\n");
	strbuf_addstr(sb, report_style);
	strbuf_addstr(sb, "</head>\n<body>\n");
}

void rep_page_end(struct strbuf *sb)
{
	strbuf_addstr(sb, "</main>\n</body>\n</html>\n");
}

static void add_interval(struct strbuf *sb, const struct score_estimate *est)
{
	if (!est->defined || !est->has_bounds) {
		strbuf_addstr(sb, "–");
		return;
	}
	rep_fmt_pct(sb, 1, est->lo);
	strbuf_addstr(sb, " – ");
	rep_fmt_pct(sb, 1, est->hi);
}

static void add_td_pct(struct strbuf *sb, int known, double p)
{
	strbuf_addstr(sb, "<td class=\"num\">");
	rep_fmt_pct(sb, known, p);
	strbuf_addstr(sb, "</td>");
}

/* n, n_eff and df of a group as table cells. */
static void add_td_sizes(struct strbuf *sb, const struct score_group *g)
{
	strbuf_addstr(sb, "<td class=\"num\">");
	rep_fmt_int(sb, g->n);
	strbuf_addstr(sb, "</td><td class=\"num\">");
	rep_fmt_dec1(sb, g->n_eff);
	strbuf_addstr(sb, "</td>");
}

/* The caption every figure carries: weighting, interval method, form. */
static void add_caption(struct strbuf *sb, const struct rep_report *r, const char *what)
{
	strbuf_addstr(sb, "<caption>");
	rep_xml_escape(sb, what);
	strbuf_addstr(sb, " Trọng số: thiết kế (design). Khoảng tin cậy 95" REP_NBSP "%: Wald cho chỉ số và "
		      "yếu tố, logit (Clopper–Pearson khi tỉ lệ 0 hoặc 1) cho tiêu chí. n: số phiếu; "
		      "n hiệu dụng: Kish. Phiếu khảo sát: ");
	rep_xml_escape(sb, r->form->id);
	strbuf_addstr(sb, ". Kỳ: ");
	rep_xml_escape(sb, r->period.label);
	strbuf_addstr(sb, ".</caption>\n");
}

static void section_headline(struct strbuf *sb, const struct rep_report *r)
{
	const struct score_group *g = &r->main->groups[0];
	const struct form *f = r->form;

	strbuf_addstr(sb, "<section id=\"tong-quan\">\n<h2>1. Chỉ số SIPAS của quý</h2>\n<p class=\"headline\">"
		      "Chỉ số SIPAS: <strong id=\"chi-so\">");
	rep_fmt_pct(sb, g->index.defined, g->index.est);
	strbuf_addstr(sb, "</strong> (khoảng tin cậy 95" REP_NBSP "%: ");
	add_interval(sb, &g->index);
	strbuf_addstr(sb, ")");
	if (g->has_target) {
		strbuf_addstr(sb, "; chỉ tiêu ");
		rep_fmt_pct(sb, 1, g->target);
	}
	strbuf_addstr(sb, ": <strong id=\"ket-luan\">");
	strbuf_addstr(sb, rep_verdict_vi(g->status));
	strbuf_addstr(sb, "</strong></p>\n<p class=\"note\">");
	rep_fmt_int(sb, g->n);
	strbuf_addstr(sb, " phiếu, n hiệu dụng ");
	rep_fmt_dec1(sb, g->n_eff);
	strbuf_addf(sb, ", bậc tự do %ld, trọng số thiết kế (design), khoảng tin cậy ", g->df);
	strbuf_addstr(sb, score_ci_name(g->index.ci));
	strbuf_addstr(sb, ", phiếu ");
	rep_xml_escape(sb, f->id);
	strbuf_addstr(sb, ".</p>\n<table>\n<thead><tr><th>Yếu tố</th><th class=\"num\">Chỉ số</th>"
		      "<th class=\"num\">Khoảng tin cậy 95" REP_NBSP "%</th><th>Phương pháp</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < f->n_elements; i++) {
		strbuf_addstr(sb, "<tr><td>");
		rep_xml_escape(sb, rep_element_title(f, i));
		strbuf_addstr(sb, "</td>");
		add_td_pct(sb, g->elements[i].defined, g->elements[i].est);
		strbuf_addstr(sb, "<td class=\"num\">");
		add_interval(sb, &g->elements[i]);
		strbuf_addf(sb, "</td><td>%s</td></tr>\n", score_ci_name(g->elements[i].ci));
	}
	strbuf_addstr(sb, "</tbody>\n");
	add_caption(sb, r, "Năm yếu tố của chỉ số, toàn quý.");
	strbuf_addstr(sb, "</table>\n</section>\n");
}

static int by_index_desc(const void *a, const void *b)
{
	const struct score_group *x = *(const struct score_group *const *)a;
	const struct score_group *y = *(const struct score_group *const *)b;

	if (x->index.defined != y->index.defined)
		return x->index.defined ? -1 : 1;
	if (!x->index.defined || x->index.est == y->index.est)
		return 0;
	return x->index.est > y->index.est ? -1 : 1;
}

static int section_groups(struct strbuf *sb, const struct rep_report *r, int by_agency)
{
	const struct score_group **list = calloc(r->main->n_groups + 1, sizeof(*list));
	const char *id = by_agency ? "co-quan" : "linh-vuc";
	const char *title = by_agency ? "Chỉ số SIPAS theo cơ quan" : "Chỉ số SIPAS theo lĩnh vực";
	size_t n = 0;

	if (!list)
		return -1;
	for (size_t i = 1; i < r->main->n_groups; i++) {
		const struct score_group *g = &r->main->groups[i];

		if (by_agency ? g->agency && !g->sector : g->sector && !g->agency)
			list[n++] = g;
	}
	qsort(list, n, sizeof(*list), by_index_desc);
	strbuf_addf(sb, "<section id=\"%s\">\n<h2>%s. ", id, by_agency ? "2a" : "2b");
	strbuf_addstr(sb, title);
	strbuf_addstr(sb, "</h2>\n<p class=\"note\">Thanh: chỉ số; vạch đen: khoảng tin cậy 95" REP_NBSP "%; "
		      "vạch xanh đứt: chỉ tiêu. Kết luận ghi bằng chữ bên phải.</p>\n");
	rep_svg_bars(sb, id, title, list, n, by_agency);
	strbuf_addf(sb, "<table>\n<thead><tr><th>%s</th><th class=\"num\">Chỉ số</th>"
		    "<th class=\"num\">Khoảng tin cậy 95" REP_NBSP "%%</th><th class=\"num\">Chỉ tiêu</th>"
		    "<th>Kết luận</th><th class=\"num\">n</th><th class=\"num\">n hiệu dụng</th>"
		    "<th>Khoảng tin cậy</th></tr></thead>\n<tbody>\n", by_agency ? "Cơ quan" : "Lĩnh vực");
	for (size_t i = 0; i < n; i++) {
		const struct score_group *g = list[i];
		const struct registry_entry *who = by_agency ? g->agency : g->sector;

		strbuf_addstr(sb, "<tr><td>");
		rep_xml_escape(sb, who->name);
		strbuf_addstr(sb, " (");
		rep_xml_escape(sb, who->code);
		strbuf_addstr(sb, ")</td>");
		add_td_pct(sb, g->index.defined, g->index.est);
		strbuf_addstr(sb, "<td class=\"num\">");
		add_interval(sb, &g->index);
		strbuf_addstr(sb, "</td>");
		add_td_pct(sb, g->has_target, g->target);
		strbuf_addstr(sb, "<td>");
		strbuf_addstr(sb, rep_verdict_vi(g->status));
		strbuf_addstr(sb, "</td>");
		add_td_sizes(sb, g);
		strbuf_addf(sb, "<td>%s</td></tr>\n", score_ci_name(g->index.ci));
	}
	strbuf_addstr(sb, "</tbody>\n");
	add_caption(sb, r, by_agency ? "Cơ quan xếp theo chỉ số, cao nhất trước." :
		    "Lĩnh vực xếp theo chỉ số, cao nhất trước.");
	strbuf_addstr(sb, "</table>\n</section>\n");
	free(list);
	return 0;
}

static const struct score_group *cross_group(const struct score_result *res, const struct registry_entry *a,
					     const struct registry_entry *s)
{
	for (size_t i = 1; i < res->n_groups; i++)
		if (res->groups[i].agency == a && res->groups[i].sector == s)
			return &res->groups[i];
	return NULL;
}

/* The agency × sector table fits the A4 width (180 mm between margins)
 * with at most this many sector columns; more are split into tables of
 * nearly equal width, each with the agency column and its caption. */
#define CROSS_MAX_COLUMNS 6

static void section_cross(struct strbuf *sb, const struct rep_report *r)
{
	const struct registry *reg = r->reg;
	size_t parts = (reg->n_sectors + CROSS_MAX_COLUMNS - 1) / CROSS_MAX_COLUMNS;
	size_t per = parts ? (reg->n_sectors + parts - 1) / parts : 0;

	strbuf_addstr(sb, "<section id=\"co-quan-linh-vuc\">\n<h2>3. Chỉ số theo cơ quan và lĩnh vực</h2>\n"
		      "<p class=\"note\">Ô trống: dưới 30 phiếu (không đủ để ước lượng).</p>\n");
	for (size_t part = 0; part < parts; part++) {
		size_t from = part * per, to = from + per < reg->n_sectors ? from + per : reg->n_sectors;
		char what[160];

		strbuf_addstr(sb, "<table class=\"cross\">\n<thead><tr><th>Cơ quan</th>");
		for (size_t j = from; j < to; j++) {
			strbuf_addstr(sb, "<th class=\"num\">");
			rep_xml_escape(sb, reg->sectors[j].name);
			strbuf_addstr(sb, "</th>");
		}
		strbuf_addstr(sb, "</tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < reg->n_agencies; i++) {
			strbuf_addstr(sb, "<tr><th>");
			rep_xml_escape(sb, reg->agencies[i].name);
			strbuf_addstr(sb, "</th>");
			for (size_t j = from; j < to; j++) {
				const struct score_group *g = cross_group(r->cross, &reg->agencies[i], &reg->sectors[j]);

				strbuf_addstr(sb, "<td class=\"num\">");
				if (g && g->n >= 30 && g->index.defined) {
					rep_fmt_pct(sb, 1, g->index.est);
					strbuf_addstr(sb, "<br/><span class=\"note\">n=");
					rep_fmt_int(sb, g->n);
					strbuf_addstr(sb, "</span>");
				}
				strbuf_addstr(sb, "</td>");
			}
			strbuf_addstr(sb, "</tr>\n");
		}
		strbuf_addstr(sb, "</tbody>\n");
		if (parts > 1)
			snprintf(what, sizeof(what), "Chỉ số SIPAS của từng cặp cơ quan × lĩnh vực có từ 30 phiếu "
				 "(phần %zu/%zu: lĩnh vực %zu–%zu).", part + 1, parts, from + 1, to);
		else
			snprintf(what, sizeof(what), "Chỉ số SIPAS của từng cặp cơ quan × lĩnh vực có từ 30 phiếu.");
		add_caption(sb, r, what);
		strbuf_addstr(sb, "</table>\n");
	}
	strbuf_addstr(sb, "</section>\n");
}

/* The change from the previous quarter in percentage points, and whether it
 * is real: |Δ| > 1.96·√(se₁² + se₂²).  Two cells. */
static void add_change(struct strbuf *sb, const struct score_estimate *a, const struct score_estimate *b)
{
	double d;

	strbuf_addstr(sb, "<td class=\"num\">");
	if (!a->defined || !b->defined) {
		strbuf_addstr(sb, "–</td><td>–</td>");
		return;
	}
	d = (b->est - a->est) * 100.0;
	if (d >= 0.05)
		strbuf_addch(sb, '+');
	rep_fmt_dec1(sb, d);
	strbuf_addstr(sb, REP_NBSP "điểm %</td><td>");
	if (a->has_se && b->has_se)
		strbuf_addstr(sb, fabs(b->est - a->est) > 1.96 * sqrt(a->se * a->se + b->se * b->se) ?
			      "Có ý nghĩa" : "Không có ý nghĩa thống kê");
	else
		strbuf_addstr(sb, "–");
	strbuf_addstr(sb, "</td>");
}

static void trend_row(struct strbuf *sb, const struct rep_report *r, const char *name, long element)
{
	const int last = REP_TREND_QUARTERS - 1;
	const struct score_estimate *prev = NULL, *cur = NULL;

	strbuf_addstr(sb, "<tr><th>");
	rep_xml_escape(sb, name);
	strbuf_addstr(sb, "</th>");
	for (int q = 0; q <= last; q++) {
		const struct score_group *g = &r->trend[q]->groups[0];
		const struct score_estimate *est = element < 0 ? &g->index : &g->elements[element];

		add_td_pct(sb, est->defined, est->est);
		if (q == last - 1)
			prev = est;
		if (q == last)
			cur = est;
	}
	add_change(sb, prev, cur);
	strbuf_addstr(sb, "</tr>\n");
}

/* An earlier quarter published with raked weights: its published index,
 * and what the trend shows instead (or that it shows that, noted). */
static void trend_notes(struct strbuf *sb, const struct rep_report *r)
{
	int any = 0;

	for (int q = 0; q < REP_TREND_QUARTERS - 1; q++) {
		const struct score_result *pub = r->from_published[q] ? r->trend[q] : r->published[q];

		if (!r->published[q])
			continue;
		strbuf_addstr(sb, any ? "<li>" : "<ul class=\"note\" id=\"xu-huong-ghi-chu\">\n<li>");
		any = 1;
		rep_fmt_quarter(sb, pub->period.first_day);
		strbuf_addstr(sb, " được công bố với trọng số hiệu chỉnh (raked): chỉ số công bố ");
		rep_fmt_pct(sb, pub->groups[0].index.defined, pub->groups[0].index.est);
		strbuf_addstr(sb, r->from_published[q] ?
			      ". Cơ sở dữ liệu không còn phiếu của quý này: bảng và biểu đồ dùng số đã công bố, "
			      "không so sánh được hoàn toàn với các quý khác.</li>\n" :
			      ". Ở đây tính lại với trọng số thiết kế, như các quý khác, để so sánh cùng một cách "
			      "tính.</li>\n");
	}
	if (any)
		strbuf_addstr(sb, "</ul>\n");
}

/* The agencies a standing agency took over: those that ended within the
 * trend's quarters and stand for it at the report's quarter, as "gộp từ
 * X-A, X-B trước 01/07/2025" (pooled from them before the day after the
 * last of them ended); nothing when none. */
static void pooled_note(struct strbuf *sb, const struct rep_report *r, const struct registry_entry *a)
{
	int32_t first_day = r->agency_trend[0]->period.first_day, end = 0;
	size_t n = 0;

	for (size_t i = 0; i < r->reg->n_agencies; i++) {
		const struct registry_entry *p = &r->reg->agencies[i];

		if (p == a || p->valid_to < first_day || p->valid_to > r->period.last_day ||
		    registry_agency_at(r->reg, p->id, r->period.last_day) != a)
			continue;
		strbuf_addstr(sb, n++ ? ", " : "gộp từ ");
		rep_xml_escape(sb, p->code);
		if (p->valid_to + 1 > end)
			end = p->valid_to + 1;
	}
	if (!n)
		return;
	strbuf_addstr(sb, " trước ");
	rep_fmt_date(sb, end);
}

/* The index of each agency standing at the end of the quarter over the
 * trend's quarters; an agency created by a merger is scored, before it,
 * from the respondents of the agencies merged into it, pooled (re-scored
 * as one population: rep_report.c), and says so. */
static void agency_trend(struct strbuf *sb, const struct rep_report *r)
{
	const int last = REP_TREND_QUARTERS - 1;
	const struct score_result *now = r->agency_trend[last];

	strbuf_addstr(sb, "<h3>Chỉ số SIPAS của từng cơ quan qua bốn quý</h3>\n<table>\n<thead><tr>"
		      "<th scope=\"col\">Cơ quan</th>");
	for (int q = 0; q <= last; q++) {
		strbuf_addstr(sb, "<th scope=\"col\" class=\"num\">");
		rep_xml_escape(sb, r->agency_trend[q]->period.label);
		strbuf_addstr(sb, "</th>");
	}
	strbuf_addstr(sb, "<th scope=\"col\">Ghi chú</th></tr></thead>\n<tbody>\n");
	for (size_t i = 1; i < now->n_groups; i++) {
		const struct registry_entry *a = now->groups[i].agency;

		if (!a)
			continue;
		strbuf_addstr(sb, "<tr><th scope=\"row\">");
		rep_xml_escape(sb, a->name);
		strbuf_addstr(sb, "</th>");
		for (int q = 0; q <= last; q++) {
			const struct score_group *g = NULL;

			for (size_t k = 1; !g && k < r->agency_trend[q]->n_groups; k++)
				if (r->agency_trend[q]->groups[k].agency == a)
					g = &r->agency_trend[q]->groups[k];
			add_td_pct(sb, g && g->index.defined, g ? g->index.est : 0);
		}
		strbuf_addstr(sb, "<td>");
		pooled_note(sb, r, a);
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody>\n");
	add_caption(sb, r, "Cơ quan như tại cuối quý; cơ quan mới do sáp nhập: các quý trước khi thành lập "
		    "tính từ người trả lời của các cơ quan được sáp nhập vào, gộp lại và tính lại như một tổng thể "
		    "(không lấy trung bình các chỉ số).");
	strbuf_addstr(sb, "</table>\n");
}

static void section_trend(struct strbuf *sb, const struct rep_report *r)
{
	const struct form *f = r->form;
	const int last = REP_TREND_QUARTERS - 1;

	strbuf_addstr(sb, "<section id=\"xu-huong\">\n<h2>4. Xu hướng bốn quý</h2>\n<p class=\"note\">Cùng một "
		      "cách tính: trọng số thiết kế (design) cho cả bốn quý; quý đã công bố theo số đã công bố.</p>\n");
	trend_notes(sb, r);
	rep_svg_trend(sb, "xu-huong-bd", "Chỉ số SIPAS và năm yếu tố qua bốn quý", r);
	strbuf_addstr(sb, "<table>\n<thead><tr><th>Ước lượng</th>");
	for (int q = 0; q <= last; q++) {
		strbuf_addstr(sb, "<th class=\"num\">");
		rep_xml_escape(sb, r->trend[q]->period.label);
		strbuf_addstr(sb, "</th>");
	}
	strbuf_addstr(sb, "<th class=\"num\">Thay đổi so với quý trước</th><th>Thay đổi thực?</th></tr></thead>\n"
		      "<tbody>\n");
	trend_row(sb, r, "Chỉ số SIPAS", -1);
	for (size_t i = 0; i < f->n_elements; i++)
		trend_row(sb, r, rep_element_title(f, i), (long)i);
	strbuf_addstr(sb, "<tr><th>n (n hiệu dụng)</th>");
	for (int q = 0; q <= last; q++) {
		const struct score_group *g = &r->trend[q]->groups[0];

		strbuf_addstr(sb, "<td class=\"num\">");
		rep_fmt_int(sb, g->n);
		strbuf_addstr(sb, " (");
		rep_fmt_dec1(sb, g->n_eff);
		strbuf_addstr(sb, ")</td>");
	}
	strbuf_addstr(sb, "<td></td><td></td></tr>\n</tbody>\n");
	add_caption(sb, r, "Thay đổi là thực (có ý nghĩa) khi |Δ| > 1,96·√(se₁² + se₂²), hai quý coi như hai mẫu độc lập.");
	strbuf_addstr(sb, "</table>\n");
	agency_trend(sb, r);
	strbuf_addstr(sb, "</section>\n");
}

/* qsort_r order of item indices by estimate, lowest first; ties by form order. */
static int by_item_est(const void *a, const void *b, void *items)
{
	const struct score_estimate *est = items;
	const struct score_estimate *x = &est[*(const size_t *)a], *y = &est[*(const size_t *)b];

	if (x->est == y->est)
		return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
	return x->est < y->est ? -1 : 1;
}

static int section_weakest(struct strbuf *sb, const struct rep_report *r)
{
	const struct form *f = r->form;
	size_t *order = calloc(f->n_items, sizeof(*order));

	if (!order)
		return -1;
	strbuf_addstr(sb, "<section id=\"tieu-chi-yeu\">\n<h2>5. Ba tiêu chí thấp nhất của mỗi cơ quan</h2>\n"
		      "<table>\n<thead><tr><th>Cơ quan</th><th>Tiêu chí</th><th class=\"num\">Tỉ lệ hài lòng</th>"
		      "<th class=\"num\">Khoảng tin cậy 95" REP_NBSP "%</th><th class=\"num\">n trả lời</th>"
		      "<th>Khoảng tin cậy</th></tr></thead>\n<tbody>\n");
	for (size_t i = 1; i < r->main->n_groups; i++) {
		const struct score_group *g = &r->main->groups[i];
		size_t n = 0;

		if (!g->agency || g->sector)
			continue;
		for (size_t k = 0; k < f->n_items; k++)
			if (k != f->overall && g->items[k].defined)
				order[n++] = k;
		qsort_r(order, n, sizeof(*order), by_item_est, g->items);
		if (n == 0) {
			strbuf_addstr(sb, "<tr><th>");
			rep_xml_escape(sb, g->agency->name);
			strbuf_addstr(sb, "</th><td colspan=\"5\">Không có phiếu trong quý.</td></tr>\n");
		}
		for (size_t j = 0; j < n && j < 3; j++) {
			const struct score_estimate *est = &g->items[order[j]];

			strbuf_addstr(sb, "<tr>");
			if (j == 0) {
				strbuf_addf(sb, "<th rowspan=\"%zu\">", n < 3 ? n : 3);
				rep_xml_escape(sb, g->agency->name);
				strbuf_addstr(sb, "</th>");
			}
			strbuf_addstr(sb, "<td>");
			rep_xml_escape(sb, f->items[order[j]].id);
			strbuf_addstr(sb, ". ");
			rep_xml_escape(sb, rep_item_text(f, order[j]));
			strbuf_addstr(sb, "</td>");
			add_td_pct(sb, 1, est->est);
			strbuf_addstr(sb, "<td class=\"num\">");
			add_interval(sb, est);
			strbuf_addstr(sb, "</td><td class=\"num\">");
			rep_fmt_int(sb, est->n);
			strbuf_addf(sb, "</td><td>%s</td></tr>\n", score_ci_name(est->ci));
		}
	}
	strbuf_addstr(sb, "</tbody>\n");
	add_caption(sb, r, "Tiêu chí có tỉ lệ hài lòng ước lượng thấp nhất.");
	strbuf_addstr(sb, "</table>\n</section>\n");
	free(order);
	return 0;
}

/* A quarter not yet over: published early (sipas publish --early), or a
 * report made before its end; its figures hold the ratings so far. */
static void add_unfinished(struct strbuf *sb, const struct rep_report *r)
{
	if (r->today <= r->period.last_day) {
		strbuf_addstr(sb, "<p class=\"early\" id=\"cong-bo-som\"><strong>");
		strbuf_addstr(sb, r->early ? "Công bố sớm" : "Báo cáo tạm");
		strbuf_addstr(sb, r->early ? ":</strong> công bố ngày " : ":</strong> lập ngày ");
		rep_fmt_date(sb, r->today);
		strbuf_addstr(sb, ", trước khi quý kết thúc (ngày ");
		rep_fmt_date(sb, r->period.last_day);
		strbuf_addstr(sb, "). Số liệu chỉ gồm các phiếu nhận đến ngày đó và chưa phải số liệu cả quý.</p>\n");
	}
}

/* A published report: the audit log's head at publication, which a
 * reader keeps to check the log against later (docs/console.md, "Audit
 * log"), in Vietnamese and in English. */
static void add_audit_head(struct strbuf *sb, const struct rep_report *r)
{
	if (!r->audit_head)
		return;
	strbuf_addstr(sb, "<p class=\"note\" id=\"nhat-ky\">Mã băm cuối của nhật ký thao tác khi công bố: <code>");
	rep_xml_escape(sb, r->audit_head);
	strbuf_addstr(sb, "</code><br/><span lang=\"en\">audit log head at publication: <code>");
	rep_xml_escape(sb, r->audit_head);
	strbuf_addstr(sb, "</code></span></p>\n");
}

int rep_report_html(const struct rep_report *r, struct strbuf *sb)
{
	struct strbuf title = STRBUF_INIT;
	int rc = 0;

	strbuf_addstr(&title, "Báo cáo chỉ số SIPAS ");
	rep_fmt_quarter(&title, r->period.first_day);
	rep_page_start(sb, strbuf_str(&title));
	strbuf_addstr(sb, "<header>\n<h1>");
	rep_xml_escape(sb, strbuf_str(&title));
	strbuf_addstr(sb, "</h1>\n<p>Sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành chính "
		      "nhà nước, phiếu ");
	rep_xml_escape(sb, r->form->id);
	strbuf_addstr(sb, ", từ ngày ");
	rep_fmt_date(sb, r->period.first_day);
	strbuf_addstr(sb, " đến ngày ");
	rep_fmt_date(sb, r->period.last_day);
	strbuf_addstr(sb, ". Lập ngày ");
	rep_fmt_date(sb, r->today);
	strbuf_addstr(sb, ". Cách tính: <a href=\"methodology.html\">phương pháp</a>.</p>\n");
	add_unfinished(sb, r);
	add_audit_head(sb, r);
	strbuf_addstr(sb, "</header>\n<main>\n");
	section_headline(sb, r);
	if (section_groups(sb, r, 1) || section_groups(sb, r, 0)) {
		rc = -1;
		goto out;
	}
	section_cross(sb, r);
	section_trend(sb, r);
	if (section_weakest(sb, r)) {
		rc = -1;
		goto out;
	}
	if (r->kiosk)
		rep_report_counter(r->kiosk, r->records, sb);
	if (r->comments)
		rep_report_comments(r->comments, r->kiosk ? 7 : 6, sb);
	rep_page_end(sb);
	if (sb->failed || title.failed)
		rc = -1;
out:
	strbuf_release(&title);
	return rc;
}
