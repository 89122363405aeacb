/*
 * rep_records.c - formatting the per-dossier rate (see rep_records.h).  Every
 * view names the figure as the national real-time index does ("none of
 * the three": not late, no complaint, not rated unhappy; unrated dossiers
 * count as satisfied) and says how many of the cells it covers.
 */
#include "rep_records.h"

#include <stddef.h>
#include <string.h>

#include "rep_export.h"
#include "rep_report.h"
#include "../lib/csv.h"

/* The shares of c, in the order of the flags. */
static const struct {
	const char *name;
	size_t offset;
} shares[] = {
	{ "late", offsetof(struct score_records_counts, late) },
	{ "complaint", offsetof(struct score_records_counts, complaint) },
	{ "unhappy", offsetof(struct score_records_counts, unhappy) },
	{ "none", offsetof(struct score_records_counts, none) },
};

#define N_SHARES (sizeof(shares) / sizeof(shares[0]))

static long count_of(const struct score_records_counts *c, size_t i)
{
	return *(const long *)(const void *)((const char *)c + shares[i].offset);
}

static json_t *counts_json(const struct score_records_counts *c)
{
	json_t *o = json_pack("{s:I, s:I, s:I}", "finished", (json_int_t)c->finished, "cells", (json_int_t)c->cells,
			      "active_cells", (json_int_t)c->active_cells);

	for (size_t i = 0; o && i < N_SHARES; i++) {
		char key[32];

		json_object_set_new(o, shares[i].name, json_integer(count_of(c, i)));
		snprintf(key, sizeof(key), "%s_share", shares[i].name);
		json_object_set_new(o, key, c->finished ? json_real((double)count_of(c, i) / (double)c->finished)
							: json_null());
	}
	return o;
}

json_t *rep_records_json(const struct score_records *r)
{
	json_t *doc = json_object(), *groups = json_array();

	json_object_set_new(doc, "period", json_string(r->period.label));
	json_object_set_new(doc, "measure", json_string("share of dossiers finished in the period neither late, "
						       "nor complained about, nor rated unhappy; unrated "
						       "dossiers count as satisfied"));
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct score_records_group *g = &r->groups[i];
		json_t *months = json_array();

		for (int m = 0; m < r->n_months; m++) {
			char label[8];
			json_t *o = counts_json(&g->months[m]);

			score_records_month_label(r, m, label);
			json_object_set_new(o, "month", json_string(label));
			json_array_append_new(months, o);
		}
		json_array_append_new(groups, json_pack("{s:o, s:o, s:o, s:o}",
			"agency", g->agency ? json_string(g->agency->code) : json_null(),
			"sector", g->sector ? json_string(g->sector->code) : json_null(),
			"period", counts_json(&g->period), "months", months));
	}
	json_object_set_new(doc, "groups", groups);
	return doc;
}

static void csv_row(struct strbuf *sb, const struct score_records_group *g, const char *period,
		    const struct score_records_counts *c)
{
	csv_quote_cell(sb, g->agency ? g->agency->code : "");
	strbuf_addch(sb, ',');
	csv_quote_cell(sb, g->sector ? g->sector->code : "");
	strbuf_addf(sb, ",%s,%ld", period, c->finished);
	for (size_t i = 0; i < N_SHARES; i++) {
		char num[REP_NUM_MAX] = "";

		if (c->finished)
			rep_num_shortest((double)count_of(c, i) / (double)c->finished, num);
		strbuf_addf(sb, ",%ld,%s", count_of(c, i), num);
	}
	strbuf_addf(sb, ",%ld,%ld\n", c->cells, c->active_cells);
}

typedef void row_fn(struct strbuf *sb, const struct score_records_group *g, const char *period,
		    const struct score_records_counts *c);

/* row() for each group's period, then its months: always in the open
 * data (every_month), in the table only when the period has several. */
static void each_row(const struct score_records *r, int every_month, row_fn *row, struct strbuf *sb)
{
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct score_records_group *g = &r->groups[i];

		row(sb, g, r->period.label, &g->period);
		for (int m = 0; (every_month || r->n_months > 1) && m < r->n_months; m++) {
			char label[8];

			score_records_month_label(r, m, label);
			row(sb, g, label, &g->months[m]);
		}
	}
}

int rep_records_csv(const struct score_records *r, FILE *fp)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	strbuf_addstr(&sb, "agency,sector,period,finished,late,late_share,complaint,complaint_share,"
		      "unhappy,unhappy_share,none,none_share,cells,active_cells\n");
	each_row(r, 1, csv_row, &sb);
	if (sb.failed || fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		rc = ERR_IO;
	strbuf_release(&sb);
	return rc;
}

static void table_row(struct strbuf *sb, const struct score_records_group *g, const char *period,
		      const struct score_records_counts *c)
{
	char cells[48];

	strbuf_addf(sb, "%-16s %-16s %-23s %8ld", g->agency ? g->agency->code : "(all)",
		    g->sector ? g->sector->code : "(all)", period, c->finished);
	for (size_t i = 0; i < N_SHARES; i++) {
		if (c->finished)
			strbuf_addf(sb, " %9.1f%%", 100.0 * (double)count_of(c, i) / (double)c->finished);
		else
			strbuf_addf(sb, " %10s", "-");
	}
	snprintf(cells, sizeof(cells), "%ld of %ld", c->cells, c->active_cells);
	strbuf_addf(sb, "  %s\n", cells);
}

int rep_records_table(const struct score_records *r, FILE *fp)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	strbuf_addf(&sb, "per-dossier rate  %s  (none = neither late, nor complained about, nor rated unhappy;\n"
		    "unrated dossiers count as satisfied; only cells with records are counted)\n\n",
		    r->period.label);
	strbuf_addf(&sb, "%-16s %-16s %-23s %8s %10s %10s %10s %10s  %s\n", "agency", "sector", "period", "finished",
		    "late", "complaint", "unhappy", "none", "cells");
	each_row(r, 0, table_row, &sb);
	if (sb.failed || fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		rc = ERR_IO;
	strbuf_release(&sb);
	return rc;
}

static void html_row(struct strbuf *sb, const char *name, const struct score_records_counts *c)
{
	strbuf_addstr(sb, "<tr><th scope=\"row\">");
	rep_xml_escape(sb, name);
	strbuf_addstr(sb, "</th><td class=\"num\">");
	rep_fmt_int(sb, c->finished);
	for (size_t i = 0; i < N_SHARES; i++) {
		strbuf_addstr(sb, "</td><td class=\"num\">");
		rep_fmt_pct(sb, c->finished > 0, c->finished ? (double)count_of(c, i) / (double)c->finished : 0);
	}
	strbuf_addstr(sb, "</td><td class=\"num\">");
	rep_fmt_int(sb, c->cells);
	strbuf_addstr(sb, "/");
	rep_fmt_int(sb, c->active_cells);
	strbuf_addstr(sb, "</td></tr>\n");
}

void rep_records_html(const struct score_records *r, struct strbuf *sb)
{
	strbuf_addstr(sb, "<h3 id=\"theo-ho-so\">Tỉ lệ hài lòng theo từng hồ sơ</h3>\n"
		      "<p>Từ dữ liệu hồ sơ của Hệ thống thông tin giải quyết thủ tục hành chính: các hồ sơ "
		      "<strong>đã giải quyết xong trong quý</strong>, theo cơ quan giải quyết. "
		      "<strong>Không vướng cả ba</strong> = hồ sơ không trễ hạn, không bị phản ánh, kiến nghị và "
		      "không bị đánh giá <em>không hài lòng</em> (mặt thấp nhất tại máy, hoặc câu hỏi chung "
		      "của phiếu khảo sát ở mức 1 hoặc 2, với mã hồ sơ của hồ sơ, tại cơ quan giải quyết "
		      "hoặc nơi tiếp nhận): hồ sơ không được đánh giá tính là hài lòng, như chỉ số thời gian "
		      "thực quốc gia (Quyết định 766/QĐ-TTg năm 2022). Một hồ sơ vướng nhiều điều chỉ tính một "
		      "lần. Chỉ tính các ô cơ quan × lĩnh vực có dữ liệu hồ sơ; cột cuối ghi số ô có dữ liệu "
		      "trên số ô có hồ sơ hoặc đánh giá.</p>\n");
	if (r->n_groups == 0 || r->groups[0].period.cells == 0) {
		strbuf_addstr(sb, "<p>Chưa có dữ liệu hồ sơ nào giải quyết xong trong quý "
			      "(sipas dossiers import --records hoặc POST /api/dossiers).</p>\n");
		return;
	}
	strbuf_addstr(sb, "<table class=\"records\"><caption>Hồ sơ giải quyết xong trong quý theo cơ quan</caption>\n"
		      "<thead><tr><th scope=\"col\">Cơ quan</th><th scope=\"col\">Số hồ sơ</th>"
		      "<th scope=\"col\">Trễ hạn</th><th scope=\"col\">Có phản ánh, kiến nghị</th>"
		      "<th scope=\"col\">Đánh giá không hài lòng</th><th scope=\"col\">Không vướng cả ba</th>"
		      "<th scope=\"col\">Ô có dữ liệu</th></tr></thead>\n<tbody>\n");
	html_row(sb, "Toàn thành phố", &r->groups[0].period);
	for (size_t i = 1; i < r->n_groups; i++) {
		const struct score_records_group *g = &r->groups[i];

		if (g->agency && !g->sector && g->period.cells > 0)
			html_row(sb, g->agency->name, &g->period);
	}
	strbuf_addstr(sb, "</tbody></table>\n");
}
