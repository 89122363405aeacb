/*
 * rep_counter.c - the report's counter section: the quarter's kiosk
 * ratings (form kiosk-2018) beside the survey, per agency: ratings, the
 * share satisfied and, when dossier totals are loaded, the dossier-based
 * rate (each named, since they answer different questions), with a warning
 * where ratings exceed dossiers, and the reasons given with the lowest face;
 * then the per-dossier rate from the one-stop system's dossier records.
 */
#include <jansson.h>

#include "rep_records.h"
#include "rep_report.h"

const char *rep_followup_label(const struct form *f, size_t choice, size_t v)
{
	size_t first = 0;
	json_t *fu, *label;

	while (first < f->n_choices && f->choices[first].is_demographic)
		first++;
	fu = json_array_get(json_object_get(f->doc, "followups"), choice - first);
	label = json_array_get(json_object_get(json_object_get(fu, "labels"), "vi"), v);
	return json_is_string(label) ? json_string_value(label) : f->choices[choice].values[v];
}

/* "Phải chờ đợi lâu: 3; Lý do khác: 1" for a group, or "–". */
static void reasons(struct strbuf *sb, const struct form *f, const struct score_group *g)
{
	size_t slot = 0;
	int any = 0;

	for (size_t c = 0; g->followups && c < f->n_choices; c++) {
		if (f->choices[c].is_demographic)
			continue;
		for (size_t v = 0; v < f->choices[c].n_values; v++, slot++) {
			if (!g->followups[slot])
				continue;
			strbuf_addstr(sb, any ? "; " : "");
			rep_xml_escape(sb, rep_followup_label(f, c, v));
			strbuf_addstr(sb, ": ");
			rep_fmt_int(sb, g->followups[slot]);
			any = 1;
		}
	}
	if (!any)
		strbuf_addstr(sb, "–");
}

static void row(struct strbuf *sb, const struct form *f, const struct score_group *g, const char *name)
{
	double rate = 0;
	int has_rate;

	strbuf_addstr(sb, "<tr><th scope=\"row\">");
	rep_xml_escape(sb, name);
	strbuf_addstr(sb, "</th><td class=\"num\">");
	rep_fmt_int(sb, g->ratings);
	strbuf_addstr(sb, "</td><td class=\"num\">");
	rep_fmt_pct(sb, g->ratings > 0, g->ratings ? (double)g->satisfied / (double)g->ratings : 0);
	strbuf_addstr(sb, "</td><td class=\"num\">");
	if (g->has_dossiers)
		rep_fmt_int(sb, (long)g->dossiers);
	else
		strbuf_addstr(sb, "–");
	strbuf_addstr(sb, "</td><td class=\"num\">");
	has_rate = score_dossier_rate(g, &rate);
	rep_fmt_pct(sb, has_rate, rate);
	/* the rate counts only the cells with dossier totals: say so when others were rated */
	if (has_rate && g->covered_ratings < g->ratings) {
		strbuf_addstr(sb, " (theo hồ sơ của ");
		rep_fmt_int(sb, g->covered_ratings);
		strbuf_addstr(sb, "/");
		rep_fmt_int(sb, g->ratings);
		strbuf_addstr(sb, " đánh giá)");
	}
	if (score_more_ratings_than_dossiers(g))
		strbuf_addstr(sb, " <strong class=\"warn\">(số đánh giá nhiều hơn số hồ sơ: kiểm tra lại số liệu)</strong>");
	strbuf_addstr(sb, "</td><td>");
	reasons(sb, f, g);
	strbuf_addstr(sb, "</td></tr>\n");
}

void rep_report_counter(const struct score_result *kiosk, const struct score_records *records, struct strbuf *sb)
{
	const struct form *f = kiosk->form;

	strbuf_addstr(sb, "<section id=\"mot-cua\">\n<h2>6. Đánh giá tại Bộ phận Một cửa (máy đánh giá)</h2>\n"
		      "<p>Phiếu kiosk-2018, một câu hỏi ba mức; hài lòng = <em>Hài lòng</em> hoặc "
		      "<em>Rất hài lòng</em>. <strong>Tỉ lệ đánh giá hài lòng</strong> = số đánh giá hài lòng / "
		      "số đánh giá. <strong>Tỉ lệ hài lòng theo hồ sơ</strong> = (số hồ sơ − số đánh giá "
		      "<em>Không hài lòng</em>) / số hồ sơ: hồ sơ không được đánh giá tính là hài lòng, như chỉ "
		      "số thời gian thực quốc gia; chỉ tính các cặp cơ quan × lĩnh vực đã nạp số hồ sơ của quý "
		      "(sipas dossiers import) và các đánh giá của chính các cặp đó. "
		      "Không gia quyền.</p>\n");
	if (kiosk->n_groups == 0 || kiosk->groups[0].ratings == 0) {
		strbuf_addstr(sb, "<p>Không có đánh giá nào tại máy trong quý.</p>\n");
		if (records)
			rep_records_html(records, sb);
		strbuf_addstr(sb, "</section>\n");
		return;
	}
	/* fixed widths: the reasons, the longest text, must not take the page */
	strbuf_addstr(sb, "<table class=\"counter\"><caption>Đánh giá tại máy theo cơ quan</caption>\n"
		      "<colgroup><col style=\"width: 22%\"/><col style=\"width: 11%\"/><col style=\"width: 13%\"/>"
		      "<col style=\"width: 11%\"/><col style=\"width: 13%\"/><col style=\"width: 30%\"/></colgroup>\n"
		      "<thead><tr>"
		      "<th scope=\"col\">Cơ quan</th><th scope=\"col\">Số đánh giá</th>"
		      "<th scope=\"col\">Tỉ lệ đánh giá hài lòng</th><th scope=\"col\">Số hồ sơ</th>"
		      "<th scope=\"col\">Tỉ lệ hài lòng theo hồ sơ</th>"
		      "<th scope=\"col\">Lý do chưa hài lòng</th></tr></thead>\n<tbody>\n");
	row(sb, f, &kiosk->groups[0], "Toàn thành phố");
	for (size_t i = 1; i < kiosk->n_groups; i++) {
		const struct score_group *g = &kiosk->groups[i];

		if (g->agency && !g->sector && g->ratings > 0)
			row(sb, f, g, g->agency->name);
	}
	strbuf_addstr(sb, "</tbody></table>\n");
	if (records)
		rep_records_html(records, sb);
	strbuf_addstr(sb, "</section>\n");
}
