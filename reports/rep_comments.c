/*
 * rep_comments.c - the report's section on the citizens' comments: how
 * many free-text comments the quarter has and how often each reason was
 * chosen with an unhappy answer, never a comment's text (it may name a
 * citizen, an officer, a telephone number).  The text is read in the
 * console's Comments screen by those who may act on it.
 */
#include <stdlib.h>
#include <string.h>

#include "../db/db.h"
#include "rep_report.h"

static int count_comments(sqlite3 *db, const struct period *p, struct rep_comments *c, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT count(*) FILTER (WHERE r.comment <> ''), count(*) FILTER (WHERE EXISTS "
			    "(SELECT 1 FROM response_reasons WHERE response_id = r.id)) FROM responses r "
			    "WHERE r.day BETWEEN ?1 AND ?2 AND " DB_VISIBLE("r") " AND r.id IN (SELECT rowid FROM "
			    "comments_fts)", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, p->first_day);
	sqlite3_bind_int(st, 2, p->last_day);
	if (sqlite3_step(st) == SQLITE_ROW) {
		c->comments = sqlite3_column_int64(st, 0);
		c->with_reasons = sqlite3_column_int64(st, 1);
	} else {
		rc = db_fail(db, e, "counting the comments");
	}
	sqlite3_finalize(st);
	return rc;
}

static int count_reasons(sqlite3 *db, const struct period *p, struct rep_comments *c, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT ifnull(rr.label_vi, rr.value), ifnull(rr.label_en, rr.value), count(*) "
			    "FROM responses r JOIN response_reasons rr ON rr.response_id = r.id "
			    "WHERE r.day BETWEEN ?1 AND ?2 AND " DB_VISIBLE("r") " AND r.id IN (SELECT rowid FROM "
			    "comments_fts) GROUP BY 1, 2 ORDER BY 3 DESC, 1", &st, e), step;

	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, p->first_day);
	sqlite3_bind_int(st, 2, p->last_day);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && c->n_reasons < REP_MAX_REASONS) {
		struct rep_reason_count *r = &c->reasons[c->n_reasons++];

		r->vi = strdup((const char *)sqlite3_column_text(st, 0));
		r->en = strdup((const char *)sqlite3_column_text(st, 1));
		r->n = sqlite3_column_int64(st, 2);
		if (!r->vi || !r->en) {
			rc = err_set(e, ERR_NOMEM, "counting the reasons: out of memory");
			goto out;
		}
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_fail(db, e, "counting the reasons");
out:
	sqlite3_finalize(st);
	return rc;
}

int rep_comments_count(sqlite3 *db, const struct period *p, struct rep_comments **out, struct err *e)
{
	struct rep_comments *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return err_set(e, ERR_NOMEM, "counting the comments: out of memory");
	rc = count_comments(db, p, c, e);
	if (!rc)
		rc = count_reasons(db, p, c, e);
	if (rc) {
		rep_comments_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void rep_report_comments(const struct rep_comments *c, int number, struct strbuf *sb)
{
	strbuf_addf(sb, "<section id=\"y-kien\">\n<h2>%d. Ý kiến của người dân <span lang=\"en\">/ Citizens&#39; "
		    "comments</span></h2>\n<p>Số ý kiến viết trong quý: <strong>", number);
	rep_fmt_int(sb, c->comments);
	strbuf_addstr(sb, "</strong>; số đánh giá có chọn lý do chưa hài lòng: <strong>");
	rep_fmt_int(sb, c->with_reasons);
	strbuf_addstr(sb, "</strong>. Báo cáo không in nội dung ý kiến, vì có thể chứa thông tin cá nhân; cơ quan đọc "
		      "và xử lý từng ý kiến trong bảng điều khiển.</p>\n");
	if (c->n_reasons) {
		strbuf_addstr(sb, "<table><caption>Lý do chưa hài lòng được chọn</caption>\n<thead><tr><th scope=\"col\">"
			      "Lý do</th><th scope=\"col\">Số lần chọn</th></tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < c->n_reasons; i++) {
			strbuf_addstr(sb, "<tr><th scope=\"row\">");
			rep_xml_escape(sb, c->reasons[i].vi);
			strbuf_addstr(sb, " <span lang=\"en\">(");
			rep_xml_escape(sb, c->reasons[i].en);
			strbuf_addstr(sb, ")</span></th><td class=\"num\">");
			rep_fmt_int(sb, c->reasons[i].n);
			strbuf_addstr(sb, "</td></tr>\n");
		}
		strbuf_addstr(sb, "</tbody></table>\n");
	}
	strbuf_addstr(sb, "</section>\n");
}

void rep_comments_free(struct rep_comments *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_reasons; i++) {
		free(c->reasons[i].vi);
		free(c->reasons[i].en);
	}
	free(c);
}
