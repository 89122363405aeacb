/*
 * report_xlsx.c - scores.xlsx of the quarterly report, with libxlsxwriter
 * (officers work in Excel): sheets for the whole quarter, agencies, sectors
 * and criteria; Vietnamese headers; numbers stored as numbers (shares 0..1)
 * shown with percent formats; the header row frozen.  Text is written as
 * strings, never as formulas.
 */
#include <xlsxwriter.h>

#include "report.h"

struct book {
	lxw_workbook *wb;
	lxw_format *head, *pct, *dec;
};

static lxw_worksheet *sheet(struct book *b, const char *name, const char *const *heads, int n)
{
	lxw_worksheet *ws = workbook_add_worksheet(b->wb, name);

	if (!ws)
		return NULL;
	for (int c = 0; c < n; c++)
		worksheet_write_string(ws, 0, (lxw_col_t)c, heads[c], b->head);
	worksheet_freeze_panes(ws, 1, 0);
	worksheet_set_column(ws, 0, (lxw_col_t)(n - 1), 14, NULL);
	return ws;
}

static void num(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, int known, double v, lxw_format *fmt)
{
	if (known)
		worksheet_write_number(ws, row, col, v, fmt);
}

/* est, se, lo, hi from column `col`. */
static void estimate(struct book *b, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col,
		     const struct score_estimate *est)
{
	num(ws, row, col, est->defined, est->est, b->pct);
	num(ws, row, col + 1, est->defined && est->has_se, est->se, b->pct);
	num(ws, row, col + 2, est->defined && est->has_bounds, est->lo, b->pct);
	num(ws, row, col + 3, est->defined && est->has_bounds, est->hi, b->pct);
}

static void whole_quarter(struct book *b, lxw_worksheet *ws, const struct rep_report *r)
{
	const struct form *f = r->form;
	const struct score_group *g = &r->main->groups[0];
	lxw_row_t row = 1;

	for (size_t k = 0; k <= f->n_items + f->n_elements; k++, row++) {
		const struct score_estimate *est;
		const char *id, *name;
		long n = -1;

		if (k < f->n_items) {
			est = &g->items[k];
			id = f->items[k].id;
			name = rep_item_text(f, k);
			n = est->n;
		} else if (k < f->n_items + f->n_elements) {
			est = &g->elements[k - f->n_items];
			id = f->elements[k - f->n_items].id;
			name = rep_element_title(f, k - f->n_items);
		} else {
			est = &g->index;
			id = "index";
			name = "Chỉ số SIPAS";
		}
		worksheet_write_string(ws, row, 0, id, NULL);
		worksheet_write_string(ws, row, 1, name, NULL);
		estimate(b, ws, row, 2, est);
		worksheet_write_number(ws, row, 6, (double)g->n, NULL);
		worksheet_write_number(ws, row, 7, g->n_eff, b->dec);
		worksheet_write_number(ws, row, 8, (double)g->df, NULL);
		worksheet_write_string(ws, row, 9, score_ci_name(est->ci), NULL);
		if (n >= 0)
			worksheet_write_number(ws, row, 10, (double)n, NULL);
	}
}

static void groups(struct book *b, lxw_worksheet *ws, const struct rep_report *r, int by_agency)
{
	const struct form *f = r->form;
	lxw_row_t row = 1;

	for (size_t i = 1; i < r->main->n_groups; i++) {
		const struct score_group *g = &r->main->groups[i];
		const struct registry_entry *who = by_agency ? g->agency : g->sector;

		if (!who || (by_agency ? g->sector != NULL : g->agency != NULL))
			continue;
		worksheet_write_string(ws, row, 0, who->code, NULL);
		worksheet_write_string(ws, row, 1, who->name, NULL);
		estimate(b, ws, row, 2, &g->index);
		num(ws, row, 6, g->has_target, g->target, b->pct);
		worksheet_write_string(ws, row, 7, rep_verdict_vi(g->status), NULL);
		worksheet_write_number(ws, row, 8, (double)g->n, NULL);
		worksheet_write_number(ws, row, 9, g->n_eff, b->dec);
		worksheet_write_number(ws, row, 10, (double)g->df, NULL);
		worksheet_write_string(ws, row, 11, score_ci_name(g->index.ci), NULL);
		for (size_t e = 0; e < f->n_elements; e++)
			num(ws, row, (lxw_col_t)(12 + e), g->elements[e].defined, g->elements[e].est, b->pct);
		row++;
	}
}

static void criteria(struct book *b, lxw_worksheet *ws, const struct rep_report *r)
{
	const struct form *f = r->form;
	lxw_row_t row = 1;

	for (size_t i = 0; i < r->main->n_groups; i++) {
		const struct score_group *g = &r->main->groups[i];

		for (size_t k = 0; k < f->n_items; k++, row++) {
			const struct score_estimate *est = &g->items[k];

			worksheet_write_string(ws, row, 0, g->agency ? g->agency->code : "", NULL);
			worksheet_write_string(ws, row, 1, g->sector ? g->sector->code : "", NULL);
			worksheet_write_string(ws, row, 2, f->items[k].id, NULL);
			worksheet_write_string(ws, row, 3, rep_item_text(f, k), NULL);
			estimate(b, ws, row, 4, est);
			worksheet_write_number(ws, row, 8, (double)est->n, NULL);
			worksheet_write_string(ws, row, 9, score_ci_name(est->ci), NULL);
		}
	}
}

int rep_report_xlsx(const struct rep_report *r, const char *path, struct err *e)
{
	static const char *const whole_heads[] = { "Mã", "Nội dung", "Tỉ lệ hài lòng", "Sai số chuẩn",
		"Cận dưới 95%", "Cận trên 95%", "Số phiếu (n)", "n hiệu dụng", "Bậc tự do", "Khoảng tin cậy",
		"Số người trả lời" };
	static const char *const crit_heads[] = { "Cơ quan", "Lĩnh vực", "Tiêu chí", "Nội dung",
		"Tỉ lệ hài lòng", "Sai số chuẩn", "Cận dưới 95%", "Cận trên 95%", "Số người trả lời",
		"Khoảng tin cậy" };
	const char *group_heads[12 + 16];
	const struct form *f = r->form;
	lxw_workbook_options opts = { .constant_memory = LXW_FALSE, .tmpdir = NULL };
	struct book b;
	lxw_worksheet *ws;
	int n_heads = 12, rc = 0;
	lxw_error xe;

	b.wb = workbook_new_opt(path, &opts);
	if (!b.wb)
		return err_set(e, ERR_IO, "%s: cannot create the workbook", path);
	b.head = workbook_add_format(b.wb);
	format_set_bold(b.head);
	format_set_text_wrap(b.head);
	b.pct = workbook_add_format(b.wb);
	format_set_num_format(b.pct, "0.0%");
	b.dec = workbook_add_format(b.wb);
	format_set_num_format(b.dec, "#,##0.0");

	ws = sheet(&b, "Toàn quý", whole_heads, 11);
	if (!ws)
		goto fail;
	whole_quarter(&b, ws, r);
	group_heads[0] = "Mã";
	group_heads[1] = "Tên";
	group_heads[2] = "Chỉ số SIPAS";
	group_heads[3] = "Sai số chuẩn";
	group_heads[4] = "Cận dưới 95%";
	group_heads[5] = "Cận trên 95%";
	group_heads[6] = "Chỉ tiêu";
	group_heads[7] = "Kết luận";
	group_heads[8] = "Số phiếu (n)";
	group_heads[9] = "n hiệu dụng";
	group_heads[10] = "Bậc tự do";
	group_heads[11] = "Khoảng tin cậy";
	for (size_t i = 0; i < f->n_elements && n_heads < 12 + 16; i++)
		group_heads[n_heads++] = rep_element_title(f, i);
	for (int by_agency = 1; by_agency >= 0; by_agency--) {
		ws = sheet(&b, by_agency ? "Cơ quan" : "Lĩnh vực", group_heads, n_heads);
		if (!ws)
			goto fail;
		groups(&b, ws, r, by_agency);
	}
	ws = sheet(&b, "Tiêu chí", crit_heads, 10);
	if (!ws)
		goto fail;
	criteria(&b, ws, r);
	xe = workbook_close(b.wb);
	if (xe != LXW_NO_ERROR)
		rc = err_set(e, ERR_IO, "%s: %s", path, lxw_strerror(xe));
	return rc;
fail:
	workbook_close(b.wb);
	return err_set(e, ERR_INTERNAL, "%s: cannot add a worksheet", path);
}
