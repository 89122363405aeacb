/*
 * hub_report.c - the national report (see hub_report.h): national scores
 * by province, the provinces with enough data ranked by score_rank, and
 * three renderings of one table of rows: the page (Vietnamese, in the
 * quarterly report's style), CSV and JSON.
 */
#include "hub_report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_score.h"
#include "../lib/strbuf.h"
#include "../reports/rep_export.h"
#include "../scoring/score_rank.h"

/* One row of the report: the country (group 0) or a province. */
struct ranked {
	const struct score_group *g;
	const struct score_estimate *on;   /* the index, or the overall for forms without elements */
	int ranked;                        /* enough data to be ranked */
	struct score_rank rank;
};

struct national {
	const struct hub_scores *hs;
	size_t n;                          /* rows: [0] the country, then the provinces by place */
	struct ranked *rows;
	size_t n_ranked, n_pairs;
	struct score_pair *pairs;          /* between ranked provinces, by their index in `ranked` */
	const struct score_group **ranked; /* [n_ranked] the ranked provinces, as score_rank had them */
};

/* Ranked only with an estimate, its standard error, and the n a verdict
 * needs (docs/scoring.md): a place on fewer respondents says nothing. */
static int rankable(const struct score_group *g, const struct score_estimate *on)
{
	return on->defined && on->has_se && g->n >= SCORE_MIN_N && g->n_eff >= SCORE_MIN_N;
}

static int cmp_row(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->ranked != y->ranked)
		return y->ranked - x->ranked;
	if (x->ranked)
		return (x->rank.place > y->rank.place) - (x->rank.place < y->rank.place);
	return strcmp(x->g->agency->code, y->g->agency->code);
}

static int build(const struct hub_scores *hs, struct national *nat, struct err *e)
{
	const struct score_result *res = hs->res;
	const struct form *f = hs->form;
	double *est = NULL, *se = NULL;
	struct score_rank *ranks = NULL;
	size_t *row_of = NULL;
	int rc = 0;

	memset(nat, 0, sizeof(*nat));
	nat->hs = hs;
	nat->n = res->n_groups;
	nat->rows = calloc(nat->n, sizeof(*nat->rows));
	nat->ranked = calloc(nat->n, sizeof(*nat->ranked));
	row_of = calloc(nat->n, sizeof(*row_of));
	est = calloc(nat->n, sizeof(*est));
	se = calloc(nat->n, sizeof(*se));
	ranks = calloc(nat->n, sizeof(*ranks));
	if (!nat->rows || !nat->ranked || !row_of || !est || !se || !ranks) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nat->n; i++) {
		struct ranked *r = &nat->rows[i];

		r->g = &res->groups[i];
		r->on = f->n_elements ? &r->g->index : &r->g->items[f->overall];
		r->ranked = i > 0 && rankable(r->g, r->on);
		if (r->ranked) {
			est[nat->n_ranked] = r->on->est;
			se[nat->n_ranked] = r->on->se;
			row_of[nat->n_ranked] = i;
			nat->ranked[nat->n_ranked++] = r->g;
		}
	}
	nat->n_pairs = nat->n_ranked * (nat->n_ranked ? nat->n_ranked - 1 : 0) / 2;
	nat->pairs = calloc(nat->n_pairs ? nat->n_pairs : 1, sizeof(*nat->pairs));
	if (!nat->pairs) {
		rc = err_set(e, ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = score_rank(est, se, nat->n_ranked, HUB_RANK_ALPHA, ranks, nat->pairs, e);
	for (size_t k = 0; !rc && k < nat->n_ranked; k++)
		nat->rows[row_of[k]].rank = ranks[k];
out:
	free(row_of);
	free(est);
	free(se);
	free(ranks);
	return rc;
}

static void release(struct national *nat)
{
	free(nat->rows);
	free(nat->pairs);
	free(nat->ranked);
}

/* The province code of ranked province k. */
static const char *ranked_code(const struct national *nat, size_t k)
{
	return nat->ranked[k]->agency->code;
}

/* ---- JSON and CSV ---- */

static json_t *row_json(const struct ranked *r)
{
	const struct score_estimate *on = r->on;
	json_t *o = json_object();

	if (r->g->agency)
		json_object_set_new(o, "province", json_string(r->g->agency->code));
	json_object_set_new(o, "place", r->ranked ? json_integer((json_int_t)r->rank.place) : json_null());
	json_object_set_new(o, "tied_places", r->ranked ? json_pack("[I, I]", (json_int_t)r->rank.tied_first,
								    (json_int_t)r->rank.tied_last) : json_null());
	rep_json_estimate(o, on);
	json_object_set_new(o, "n", json_integer(r->g->n));
	json_object_set_new(o, "n_eff", json_real(r->g->n_eff));
	json_object_set_new(o, "df", json_integer(r->g->df));
	json_object_set_new(o, "target", rep_json_num(r->g->has_target, r->g->target));
	json_object_set_new(o, "status", score_status_name(r->g->status) ? json_string(score_status_name(r->g->status))
									  : json_null());
	return o;
}

static json_t *national_json(const struct national *nat)
{
	const struct score_result *res = nat->hs->res;
	json_t *doc = json_object(), *provinces = json_array(), *pairs = json_array();

	json_object_set_new(doc, "form", json_string(res->form->id));
	json_object_set_new(doc, "period", json_string(res->period.label));
	json_object_set_new(doc, "measure", json_string(res->form->n_elements ? "index" : "overall"));
	json_object_set_new(doc, "formula_version", json_integer(SCORE_FORMULA_VERSION));
	json_object_set_new(doc, "method", json_pack("{s:f, s:s, s:f, s:s}", "level", 0.95, "pairs",
						     "two-sided z test, variances summed", "alpha", HUB_RANK_ALPHA,
						     "adjustment", "holm"));
	json_object_set_new(doc, "country", row_json(&nat->rows[0]));
	for (size_t i = 1; i < nat->n; i++)
		json_array_append_new(provinces, row_json(&nat->rows[i]));
	json_object_set_new(doc, "provinces", provinces);
	for (size_t k = 0; k < nat->n_pairs; k++) {
		const struct score_pair *p = &nat->pairs[k];

		json_array_append_new(pairs, json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:b}", "a",
						       ranked_code(nat, p->a), "b", ranked_code(nat, p->b), "diff",
						       p->diff, "se", p->se, "p", p->p, "p_holm", p->p_holm,
						       "differ", p->differ));
	}
	json_object_set_new(doc, "pairs", pairs);
	return doc;
}

/* province,place,tied_first,tied_last,est,se,lo,hi,n,n_eff,df,target,status:
 * the country first (province empty), then the provinces by place. */
static void national_csv(const struct national *nat, struct strbuf *sb)
{
	strbuf_addstr(sb, "province,place,tied_first,tied_last,est,se,lo,hi,n,n_eff,df,target,status\n");
	for (size_t i = 0; i < nat->n; i++) {
		const struct ranked *r = &nat->rows[i];
		const char *status = score_status_name(r->g->status);

		strbuf_addstr(sb, r->g->agency ? r->g->agency->code : "");
		if (r->ranked)
			strbuf_addf(sb, ",%zu,%zu,%zu", r->rank.place, r->rank.tied_first, r->rank.tied_last);
		else
			strbuf_addstr(sb, ",,,");
		rep_csv_estimate(sb, r->on);
		strbuf_addf(sb, ",%ld", r->g->n);
		rep_csv_num(sb, 1, r->g->n_eff);
		strbuf_addf(sb, ",%ld", r->g->df);
		rep_csv_num(sb, r->g->has_target, r->g->target);
		strbuf_addf(sb, ",%s\n", status ? status : "");
	}
}

/* ---- the page ---- */

static void td_interval(struct strbuf *sb, const struct score_estimate *on)
{
	strbuf_addstr(sb, "<td class=\"num\">");
	if (on->defined && on->has_bounds) {
		rep_fmt_pct(sb, 1, on->lo);
		strbuf_addstr(sb, " – ");
		rep_fmt_pct(sb, 1, on->hi);
	} else {
		strbuf_addstr(sb, "–");
	}
	strbuf_addstr(sb, "</td>");
}

static void places_of(struct strbuf *sb, const struct ranked *r)
{
	if (!r->ranked)
		strbuf_addstr(sb, "–");
	else if (r->rank.tied_first == r->rank.tied_last)
		strbuf_addf(sb, "%zu", r->rank.place);
	else
		strbuf_addf(sb, "%zu–%zu", r->rank.tied_first, r->rank.tied_last);
}

/* The provinces' indices as bars with their intervals and the target, in
 * the table's order. */
static void provinces_chart(const struct national *nat, struct strbuf *sb)
{
	const struct score_group **groups = malloc(nat->n * sizeof(*groups));

	if (!groups) {
		sb->failed = 1;
		return;
	}
	for (size_t i = 1; i < nat->n; i++)
		groups[i - 1] = nat->rows[i].g;
	rep_svg_bars(sb, "tinh", "Chỉ số SIPAS theo tỉnh, khoảng tin cậy 95" REP_NBSP "%", groups, nat->n - 1, 1);
	free(groups);
}

static void national_html(const struct national *nat, struct strbuf *sb)
{
	const struct score_result *res = nat->hs->res;
	const struct ranked *all = &nat->rows[0];
	const char *measure = res->form->n_elements ? "Chỉ số SIPAS" : "Tỉ lệ hài lòng chung";
	size_t differ = 0;

	rep_page_start(sb, "Báo cáo SIPAS toàn quốc");
	strbuf_addstr(sb, "<main>\n<section>\n<h1>Báo cáo SIPAS toàn quốc – ");
	rep_fmt_quarter(sb, res->period.first_day);
	strbuf_addstr(sb, "</h1>\n<p class=\"headline\">");
	strbuf_addstr(sb, measure);
	strbuf_addstr(sb, " cả nước: <strong>");
	rep_fmt_pct(sb, all->on->defined, all->on->est);
	strbuf_addstr(sb, "</strong> (khoảng tin cậy 95" REP_NBSP "%: ");
	if (all->on->defined && all->on->has_bounds) {
		rep_fmt_pct(sb, 1, all->on->lo);
		strbuf_addstr(sb, " – ");
		rep_fmt_pct(sb, 1, all->on->hi);
	} else {
		strbuf_addstr(sb, "–");
	}
	strbuf_addf(sb, "), %zu tỉnh, thành phố; ", nat->n - 1);
	rep_fmt_int(sb, all->g->n);
	strbuf_addstr(sb, " phiếu.</p>\n");
	for (size_t k = 0; k < nat->n_pairs; k++)
		differ += nat->pairs[k].differ != 0;
	strbuf_addf(sb, "<p>%zu trong %zu cặp tỉnh khác nhau thật sự (mức 5" REP_NBSP "%%, hiệu chỉnh Holm); "
		    "các cặp còn lại chưa phân biệt được với số phiếu đã có.</p>\n", differ, nat->n_pairs);
	strbuf_addstr(sb, "</section>\n<section>\n<h2>Xếp hạng các tỉnh</h2>\n");
	if (res->form->n_elements)
		provinces_chart(nat, sb);
	strbuf_addstr(sb, "<table>\n<caption>Nhóm hạng: các hạng mà tỉnh không phân biệt được với nhau. "
		      "Tỉnh có dưới 30 phiếu (hoặc n hiệu dụng dưới 30) không được xếp hạng. "
		      "Trọng số: thiết kế; khoảng tin cậy 95" REP_NBSP "%: Wald cho chỉ số.</caption>\n<thead><tr>"
		      "<th class=\"num\">Hạng</th><th class=\"num\">Nhóm hạng</th><th>Tỉnh</th>"
		      "<th class=\"num\">");
	strbuf_addstr(sb, measure);
	strbuf_addstr(sb, "</th><th class=\"num\">Khoảng tin cậy 95" REP_NBSP "%</th><th class=\"num\">n</th>"
		      "<th class=\"num\">n hiệu dụng</th><th>Đánh giá</th></tr></thead>\n<tbody>\n");
	for (size_t i = 1; i < nat->n; i++) {
		const struct ranked *r = &nat->rows[i];

		strbuf_addstr(sb, "<tr><td class=\"num\">");
		if (r->ranked)
			strbuf_addf(sb, "%zu", r->rank.place);
		else
			strbuf_addstr(sb, "–");
		strbuf_addstr(sb, "</td><td class=\"num\">");
		places_of(sb, r);
		strbuf_addstr(sb, "</td><td>");
		rep_xml_escape(sb, r->g->agency->code);
		strbuf_addstr(sb, "</td><td class=\"num\">");
		rep_fmt_pct(sb, r->on->defined, r->on->est);
		strbuf_addstr(sb, "</td>");
		td_interval(sb, r->on);
		strbuf_addstr(sb, "<td class=\"num\">");
		rep_fmt_int(sb, r->g->n);
		strbuf_addstr(sb, "</td><td class=\"num\">");
		rep_fmt_dec1(sb, r->g->n_eff);
		strbuf_addstr(sb, "</td><td>");
		strbuf_addstr(sb, rep_verdict_vi(r->g->status));
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</tbody>\n</table>\n</section>\n<section>\n<h2>Phương pháp</h2>\n<p>Mỗi tỉnh là một mẫu độc lập: tầng và đơn vị "
		      "mẫu cấp 1 (PSU) được đặt tên theo tỉnh, nên chỉ số cả nước là ước lượng theo thiết kế của "
		      "hợp các mẫu. Với mỗi cặp tỉnh, hiệu hai chỉ số được chia cho căn của tổng hai phương sai "
		      "(hai mẫu độc lập) và kiểm định hai phía theo phân phối chuẩn. Các giá trị p của mọi cặp "
		      "được hiệu chỉnh theo Holm để toàn bộ các kết luận cùng giữ mức sai 5" REP_NBSP "%: giá trị "
		      "p nhỏ nhất nhân với số cặp, giá trị kế tiếp với số cặp trừ một, và cứ thế. Hai tỉnh "
		      "khác nhau thật sự khi giá trị p đã hiệu chỉnh nhỏ hơn 0,05. Nhóm hạng của một tỉnh là "
		      "từ hạng cao nhất đến hạng thấp nhất của các tỉnh mà nó không khác thật sự (kể cả chính "
		      "nó): «2–5» nghĩa là số liệu không cho phép nói tỉnh đó đứng trên tỉnh hạng 2 hay dưới "
		      "tỉnh hạng 5.</p>\n<p class=\"note\">Số liệu mở: national.csv, national.json (mọi cặp, giá "
		      "trị p và giá trị p đã hiệu chỉnh).</p>\n</section>\n");
	rep_page_end(sb);
}

/* Add the text of sb (emptied, ready for more) as file `name`. */
static int add_text(struct report_files *out, const char *name, struct strbuf *sb, struct err *e)
{
	size_t len = 0;
	char *data = strbuf_detach(sb, &len);

	strbuf_release(sb);
	strbuf_init(sb, 0);
	return rep_files_add(out, name, data, len, e);
}

int hub_report_render(PGconn *conn, const char *form_code, const struct period *period,
		      struct report_files *out, struct err *e)
{
	struct hub_scores *hs = NULL;
	struct national nat;
	struct strbuf sb;
	char *json = NULL;
	json_t *doc = NULL;
	int rc = hub_score_run(conn, form_code, NULL, HUB_SCORE_BY_PROVINCE, period, &hs, e);

	memset(&nat, 0, sizeof(nat));
	strbuf_init(&sb, 0);
	if (!rc && hs->res->rows == 0)
		rc = err_set(e, ERR_NOT_FOUND, "the hub has no responses to %s in %s", form_code, period->label);
	if (!rc)
		rc = build(hs, &nat, e);
	if (rc)
		goto out;
	/* the provinces by place, the unranked after them by code */
	qsort(nat.rows + 1, nat.n - 1, sizeof(*nat.rows), cmp_row);
	national_html(&nat, &sb);
	rc = add_text(out, "national.html", &sb, e);
	national_csv(&nat, &sb);
	if (!rc)
		rc = add_text(out, "national.csv", &sb, e);
	doc = national_json(&nat);
	json = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) : NULL;
	if (!rc)
		rc = rep_files_add(out, "national.json", json, json ? strlen(json) : 0, e);
	else
		free(json);
out:
	json_decref(doc);
	strbuf_release(&sb);
	release(&nat);
	hub_scores_free(hs);
	return rc;
}
