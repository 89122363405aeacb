/*
 * rep_fmt.c - Vietnamese number and date formats for the report
 * (docs/report.md): 87,5 %, 1.234, dd/mm/yyyy; XML escaping; verdict words;
 * the form's Vietnamese texts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rep_report.h"

/* Digits of an unsigned integer with "." every three. */
static void add_grouped(struct strbuf *sb, unsigned long v)
{
	char d[32];
	int n = snprintf(d, sizeof(d), "%lu", v);

	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			strbuf_addch(sb, '.');
		strbuf_addch(sb, d[i]);
	}
}

void rep_fmt_int(struct strbuf *sb, long v)
{
	if (v < 0) {
		strbuf_addch(sb, '-');
		v = -v;
	}
	add_grouped(sb, (unsigned long)v);
}

void rep_fmt_dec1(struct strbuf *sb, double v)
{
	char d[64], *dot;

	if (!isfinite(v)) {
		strbuf_addstr(sb, "–");
		return;
	}
	snprintf(d, sizeof(d), "%.1f", v);
	dot = strchr(d, '.');
	if (d[0] == '-')
		strbuf_addch(sb, '-');
	if (dot)
		*dot = '\0';
	add_grouped(sb, strtoul(d[0] == '-' ? d + 1 : d, NULL, 10));
	if (dot) {
		strbuf_addch(sb, ',');
		strbuf_addstr(sb, dot + 1);
	}
}

void rep_fmt_pct(struct strbuf *sb, int known, double p)
{
	if (!known || !isfinite(p)) {
		strbuf_addstr(sb, "–");
		return;
	}
	rep_fmt_dec1(sb, p * 100.0);
	strbuf_addstr(sb, REP_NBSP "%");
}

void rep_fmt_date(struct strbuf *sb, int32_t day)
{
	char iso[16];

	period_format_day(day, iso);  /* YYYY-MM-DD */
	strbuf_addf(sb, "%.2s/%.2s/%.4s", iso + 8, iso + 5, iso);
}

void rep_fmt_quarter(struct strbuf *sb, int32_t day)
{
	static const char *const roman[] = { "I", "II", "III", "IV" };
	int q = period_quarter_of_day(day);

	strbuf_addf(sb, "Quý %s/%d", roman[q % 4], q / 4);
}

void rep_xml_escape(struct strbuf *sb, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': strbuf_addstr(sb, "&amp;"); break;
		case '<': strbuf_addstr(sb, "&lt;"); break;
		case '>': strbuf_addstr(sb, "&gt;"); break;
		case '"': strbuf_addstr(sb, "&quot;"); break;
		case '\'': strbuf_addstr(sb, "&#39;"); break;
		default: strbuf_addch(sb, (unsigned char)*s);
		}
	}
}

const char *rep_verdict_vi(int status)
{
	switch (status) {
	case SCORE_MET: return "Đạt";
	case SCORE_NOT_MET: return "Chưa đạt";
	case SCORE_INCONCLUSIVE: return "Chưa đủ cơ sở kết luận";
	case SCORE_INSUFFICIENT_DATA: return "Chưa đủ dữ liệu";
	default: return "Không có chỉ tiêu";
	}
}

static const char *vi_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(json_object_get(o, key), "vi"));

	return s ? s : "";
}

const char *rep_element_title(const struct form *f, size_t element)
{
	json_t *el = json_array_get(json_object_get(f->doc, "elements"), element);
	const char *s = vi_of(el, "title");

	return *s ? s : f->elements[element].id;
}

const char *rep_item_text(const struct form *f, size_t item)
{
	const struct form_item *it = &f->items[item];
	json_t *el, *cr;

	if (it->element < 0)
		return "Hài lòng chung";
	el = json_array_get(json_object_get(f->doc, "elements"), (size_t)it->element);
	cr = json_array_get(json_object_get(el, "criteria"), item - f->elements[it->element].first);
	return *vi_of(cr, "text") ? vi_of(cr, "text") : it->id;
}
