/*
 * rep_xlsx.c - scores.xlsx of the quarterly report, with libxlsxwriter
 * (officers work in Excel): sheets for the whole quarter, agencies, sectors,
 * criteria, agency × sector pairs and the counter's kiosk ratings;
 * Vietnamese headers; numbers stored as numbers (shares 0..1)
 * shown with percent formats; the header row frozen.  Text is written as
 * strings, never as formulas.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <xlsxwriter.h>

#include "rep_report.h"
#include "rep_score.h"

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

/* A group's index, target, verdict, sizes and element indices from column `col`. */
static void group_row(struct book *b, lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const struct form *f,
		      const struct score_group *g)
{
	estimate(b, ws, row, col, &g->index);
	num(ws, row, col + 4, g->has_target, g->target, b->pct);
	worksheet_write_string(ws, row, col + 5, rep_verdict_vi(g->status), NULL);
	worksheet_write_number(ws, row, col + 6, (double)g->n, NULL);
	worksheet_write_number(ws, row, col + 7, g->n_eff, b->dec);
	worksheet_write_number(ws, row, col + 8, (double)g->df, NULL);
	worksheet_write_string(ws, row, col + 9, score_ci_name(g->index.ci), NULL);
	for (size_t e = 0; e < f->n_elements; e++)
		num(ws, row, (lxw_col_t)(col + 10 + e), g->elements[e].defined, g->elements[e].est, b->pct);
}

/* Code and name of a registry entry from column `col`. */
static void who(lxw_worksheet *ws, lxw_row_t row, lxw_col_t col, const struct registry_entry *x)
{
	worksheet_write_string(ws, row, col, x ? x->code : "", NULL);
	worksheet_write_string(ws, row, col + 1, x ? x->name : "", NULL);
}

/* The agencies (kind 'a'), the sectors ('s') or the agency × sector pairs ('p'). */
static void groups(struct book *b, lxw_worksheet *ws, const struct rep_report *r, int kind)
{
	const struct score_result *res = kind == 'p' ? r->cross : r->main;
	lxw_row_t row = 1;

	for (size_t i = 1; i < res->n_groups; i++) {
		const struct score_group *g = &res->groups[i];

		if (kind == 'a' ? !g->agency || g->sector : kind == 's' ? !g->sector || g->agency :
		    !g->agency || !g->sector)
			continue;
		who(ws, row, 0, kind == 's' ? g->sector : g->agency);
		if (kind == 'p')
			who(ws, row, 2, g->sector);
		group_row(b, ws, row, kind == 'p' ? 4 : 2, r->form, g);
		row++;
	}
}

/* The per-dossier rate: each group with an active cell, the quarter and
 * each month, as the open data's per-dossier.csv. */
static void records_rows(struct book *b, lxw_worksheet *ws, const struct score_records *r)
{
	lxw_row_t row = 1;

	for (size_t i = 0; i < r->n_groups; i++) {
		const struct score_records_group *g = &r->groups[i];

		for (int m = -1; m < r->n_months; m++) {
			const struct score_records_counts *c = m < 0 ? &g->period : &g->months[m];
			const long flags[] = { c->late, c->complaint, c->unhappy, c->none };
			char month[8];

			if (m >= 0)
				score_records_month_label(r, m, month);
			who(ws, row, 0, g->agency);
			if (!g->agency)
				worksheet_write_string(ws, row, 1, "Toàn thành phố", NULL);
			who(ws, row, 2, g->sector);
			worksheet_write_string(ws, row, 4, m < 0 ? r->period.label : month, NULL);
			worksheet_write_number(ws, row, 5, (double)c->finished, NULL);
			for (int k = 0; k < 4; k++)
				num(ws, row, (lxw_col_t)(6 + k), c->finished > 0,
				    c->finished ? (double)flags[k] / (double)c->finished : 0, b->pct);
			worksheet_write_number(ws, row, 10, (double)c->cells, NULL);
			worksheet_write_number(ws, row, 11, (double)c->active_cells, NULL);
			row++;
		}
	}
}

/* The kiosk ratings: each group with some, its counter figures as the
 * open data gives them (rep_score_json), and the reasons. */
static int counter(struct book *b, lxw_worksheet *ws, const struct score_result *kiosk)
{
	static const char *const keys[] = { "ratings", "satisfied", "share", "dossiers", "dossier_rate" };
	const struct form *f = kiosk->form;
	json_t *doc = rep_score_json(kiosk), *g;
	lxw_row_t row = 1;
	size_t i;

	if (!doc)
		return -1;
	json_array_foreach(json_object_get(doc, "groups"), i, g) {
		const struct score_group *sg = &kiosk->groups[i];
		json_t *c = json_object_get(g, "counter"), *fu = json_object_get(c, "followups");
		lxw_col_t col = 4;

		if (!sg->ratings)
			continue;
		who(ws, row, 0, sg->agency);
		who(ws, row, 2, sg->sector);
		if (!sg->agency && !sg->sector)
			worksheet_write_string(ws, row, 1, "Toàn thành phố", NULL);
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++, col++) {
			json_t *v = json_object_get(c, keys[k]);

			num(ws, row, col, json_is_number(v), json_number_value(v), json_is_real(v) ? b->pct : NULL);
		}
		for (size_t ch = 0; ch < f->n_choices; ch++)
			for (size_t v = 0; !f->choices[ch].is_demographic && v < f->choices[ch].n_values; v++, col++) {
				json_t *n = json_object_get(json_object_get(fu, f->choices[ch].id), f->choices[ch].values[v]);

				num(ws, row, col, json_is_integer(n), json_number_value(n), NULL);
			}
		row++;
	}
	json_decref(doc);
	return 0;
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

#define MAX_HEADS (4 + 10 + 16 + 32)

/* heads = first[0..n_first) then the index columns and one per element. */
static int group_heads(const struct form *f, const char *const *first, int n_first, const char **heads)
{
	static const char *const index_heads[] = { "Chỉ số SIPAS", "Sai số chuẩn", "Cận dưới 95%",
		"Cận trên 95%", "Chỉ tiêu", "Kết luận", "Số phiếu (n)", "n hiệu dụng", "Bậc tự do",
		"Khoảng tin cậy" };
	int n = 0;

	for (int i = 0; i < n_first; i++)
		heads[n++] = first[i];
	for (size_t i = 0; i < sizeof(index_heads) / sizeof(index_heads[0]); i++)
		heads[n++] = index_heads[i];
	for (size_t i = 0; i < f->n_elements && n < MAX_HEADS; i++)
		heads[n++] = rep_element_title(f, i);
	return n;
}

/* The counter sheet's heads: who, the figures, one per follow-up value. */
static int counter_heads(const struct form *f, const char **heads)
{
	static const char *const fixed[] = { "Mã cơ quan", "Cơ quan", "Mã lĩnh vực", "Lĩnh vực",
		"Số đánh giá", "Số đánh giá hài lòng", "Tỉ lệ đánh giá hài lòng", "Số hồ sơ",
		"Tỉ lệ hài lòng theo hồ sơ" };
	int n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		heads[n++] = fixed[i];
	for (size_t c = 0; c < f->n_choices; c++)
		for (size_t v = 0; !f->choices[c].is_demographic && v < f->choices[c].n_values && n < MAX_HEADS; v++)
			heads[n++] = rep_followup_label(f, c, v);
	return n;
}

/* libxlsxwriter 1.1 writes a workbook only to a named file, and each part
 * of it to a temporary file first.  The workbook goes to an anonymous
 * memory file (memfd), named through /proc/self/fd, and the parts to
 * /dev/shm, memory too, where the library unlinks each as soon as it has
 * made it: nothing is left behind, even by a kill -9, and nothing touches
 * $TMPDIR or /tmp.  Without /dev/shm the library's own choice ($TMPDIR,
 * else /tmp) is kept. */
static int open_memory_file(int *fd, char path[64], struct err *e)
{
	*fd = memfd_create("sipas-scores.xlsx", MFD_CLOEXEC);
	if (*fd < 0)
		return err_set(e, ERR_IO, "scores.xlsx: cannot make a memory file: %s", strerror(errno));
	snprintf(path, 64, "/proc/self/fd/%d", *fd);
	return 0;
}

/* The bytes of memory file fd into *data (owned by the caller) and *size. */
static int read_memory_file(int fd, char **data, size_t *size, struct err *e)
{
	struct stat st;
	ssize_t got = 0;

	if (fstat(fd, &st) != 0)
		return err_set(e, ERR_IO, "scores.xlsx: %s", strerror(errno));
	*data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!*data)
		return err_set(e, ERR_NOMEM, "scores.xlsx: out of memory");
	for (size_t done = 0; done < (size_t)st.st_size; done += (size_t)got) {
		got = pread(fd, *data + done, (size_t)st.st_size - done, (off_t)done);
		if (got <= 0) {
			free(*data);
			*data = NULL;
			return err_set(e, ERR_IO, "scores.xlsx: cannot read the memory file");
		}
	}
	*size = (size_t)st.st_size;
	return 0;
}

int rep_report_xlsx(const struct rep_report *r, char **data, size_t *size, struct err *e)
{
	static const char *const whole_heads[] = { "Mã", "Nội dung", "Tỉ lệ hài lòng", "Sai số chuẩn",
		"Cận dưới 95%", "Cận trên 95%", "Số phiếu (n)", "n hiệu dụng", "Bậc tự do", "Khoảng tin cậy",
		"Số người trả lời" };
	static const char *const crit_heads[] = { "Cơ quan", "Lĩnh vực", "Tiêu chí", "Nội dung",
		"Tỉ lệ hài lòng", "Sai số chuẩn", "Cận dưới 95%", "Cận trên 95%", "Số người trả lời",
		"Khoảng tin cậy" };
	static const char *const records_heads[] = { "Mã cơ quan", "Cơ quan", "Mã lĩnh vực", "Lĩnh vực",
		"Kỳ", "Số hồ sơ giải quyết xong", "Tỉ lệ trễ hạn", "Tỉ lệ có phản ánh, kiến nghị",
		"Tỉ lệ đánh giá không hài lòng", "Tỉ lệ không vướng cả ba", "Số ô có dữ liệu hồ sơ",
		"Số ô có hồ sơ hoặc đánh giá" };
	static const char *const one_who[] = { "Mã", "Tên" };
	static const char *const pair_who[] = { "Mã cơ quan", "Cơ quan", "Mã lĩnh vực", "Lĩnh vực" };
	/* sheet names: at most 31 characters, none of : \ / ? * [ ]; the
	 * criteria ('c') stay fourth, where they were before the pairs came */
	static const struct { const char *name; int kind; } group_sheets[] = {
		{ "Cơ quan", 'a' }, { "Lĩnh vực", 's' }, { "Tiêu chí", 'c' }, { "Cơ quan × lĩnh vực", 'p' },
	};
	const char *heads[MAX_HEADS];
	const struct form *f = r->form;
	lxw_workbook_options opts = { .constant_memory = LXW_FALSE, .tmpdir = NULL };
	char path[64];
	struct book b;
	lxw_worksheet *ws;
	int n_heads, fd, rc = open_memory_file(&fd, path, e);
	lxw_error xe;

	if (rc)
		return rc;
	if (access("/dev/shm", W_OK | X_OK) == 0)
		opts.tmpdir = "/dev/shm";
	b.wb = workbook_new_opt(path, &opts);
	if (!b.wb) {
		rc = err_set(e, ERR_IO, "scores.xlsx: cannot create the workbook");
		goto out;
	}
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
	for (size_t i = 0; i < sizeof(group_sheets) / sizeof(group_sheets[0]); i++) {
		int kind = group_sheets[i].kind;

		if (kind == 'c') {
			ws = sheet(&b, group_sheets[i].name, crit_heads, 10);
			if (!ws)
				goto fail;
			criteria(&b, ws, r);
			continue;
		}
		n_heads = group_heads(f, kind == 'p' ? pair_who : one_who, kind == 'p' ? 4 : 2, heads);
		ws = sheet(&b, group_sheets[i].name, heads, n_heads);
		if (!ws)
			goto fail;
		groups(&b, ws, r, kind);
	}
	if (r->kiosk) {
		n_heads = counter_heads(r->kiosk->form, heads);
		ws = sheet(&b, "Một cửa", heads, n_heads);
		if (!ws || counter(&b, ws, r->kiosk) != 0)
			goto fail;
	}
	if (r->records) {
		ws = sheet(&b, "Theo hồ sơ", records_heads, 12);
		if (!ws)
			goto fail;
		records_rows(&b, ws, r->records);
	}
	xe = workbook_close(b.wb);
	if (xe != LXW_NO_ERROR)
		rc = err_set(e, ERR_IO, "scores.xlsx: %s", lxw_strerror(xe));
	else
		rc = read_memory_file(fd, data, size, e);
	goto out;
fail:
	workbook_close(b.wb);
	rc = err_set(e, ERR_INTERNAL, "scores.xlsx: cannot add a worksheet");
out:
	close(fd);
	return rc;
}
