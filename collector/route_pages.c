/*
 * route_pages.c - the pages people open: the compiled-in files of
 * collector/www/ (gzipped, revalidated by ETag), the published results
 * (/results, /results/{quarter}/{file}) and the phone questionnaire of a
 * receipt's link (/s/{form}), or a page saying why the link cannot be used.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../lib/period.h"
#include "../lib/secret.h"
#include "../responses/published.h"
#include "handlers.h"
#include "request.h"
#include "static.h"
#include "writer.h"

/* Reply with a compiled-in file, gzipped when the browser takes it: 304
 * when its copy is current. */
void col_reply_static(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 unsigned status, const char *name)
{
	const struct col_static *f = col_static_find(name);
	const char *have = req->header(req->cls, MHD_HTTP_HEADER_IF_NONE_MATCH);
	int gzip;

	if (!f) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
		return;
	}
	gzip = f->gz_size < f->size && col_accepts_gzip(req);
	reply->content_type = f->content_type;
	reply->content_encoding = gzip ? "gzip" : NULL;
	reply->vary = MHD_HTTP_HEADER_ACCEPT_ENCODING;
	reply->etag = gzip ? f->gz_etag : f->etag;
	reply->cache_control = "no-cache";   /* revalidate: cheap with the ETag */
	strbuf_reset(&reply->body);
	if (status == MHD_HTTP_OK && have && strcmp(have, reply->etag) == 0) {
		reply->status = MHD_HTTP_NOT_MODIFIED;
		return;
	}
	reply->status = status;
	reply->static_body = gzip ? f->gz : f->data;
	reply->static_len = gzip ? f->gz_size : f->size;
}

void col_handle_asset(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *name)
{
	if (strstr(name, ".html")) {   /* pages have their own paths */
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
		return;
	}
	col_reply_static(app, req, reply, MHD_HTTP_OK, name);
}

/* Why a phone link is refused, in the words of the refusal page. */
static const struct {
	const char *vi, *en;
} link_refusals[] = {
	[COL_LINK_REFUSED_INVALID] = { "Liên kết này không hợp lệ: có thể nó đã bị sửa hoặc chép thiếu. "
				   "Hãy quét lại mã QR trên phiếu hẹn trả kết quả.",
				   "This link is not valid: it may have been changed or copied in part. "
				   "Scan the QR code on your receipt again." },
	[COL_LINK_REFUSED_EXPIRED] = { "Liên kết này đã hết hạn đánh giá.",
				   "The time to rate with this link is over." },
	[COL_LINK_REFUSED_USED] = { "Hồ sơ này đã được đánh giá. Cảm ơn ông/bà!",
				"This dossier has already been rated. Thank you!" },
};

/* Reply with a compiled-in page whose placeholders (keys[i], e.g.
 * "@REASON_VI@") are replaced by values[i], text the caller has made safe
 * for HTML.  The page is not cached: its content varies. */
static void reply_template(struct col_app *app, struct col_reply *reply, unsigned status,
			   const char *name, const char *const *keys, const char *const *values, size_t n)
{
	const struct col_static *f = col_static_find(name);
	const char *p, *end;

	if (!f) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
		return;
	}
	reply->status = status;
	reply->content_type = f->content_type;
	reply->cache_control = "no-store";
	strbuf_reset(&reply->body);
	end = (const char *)f->data + f->size;
	for (p = (const char *)f->data; p < end;) {
		const char *next = NULL;
		size_t which = 0;

		for (size_t k = 0; k < n; k++) {
			const char *at = memmem(p, (size_t)(end - p), keys[k], strlen(keys[k]));

			if (at && (!next || at < next)) {
				next = at;
				which = k;
			}
		}
		strbuf_add(&reply->body, p, (size_t)((next ? next : end) - p));
		if (!next)
			break;
		strbuf_addstr(&reply->body, values[which]);
		p = next + strlen(keys[which]);
	}
}

/* The refusal page of a phone link, saying why; with the receipt of the
 * dossier's rating when it is rated (32 hex digits, or NULL). */
static void reply_link_refused(struct col_app *app, struct col_reply *reply, int why, const char *receipt)
{
	static const char *const keys[] = { "@REASON_VI@", "@REASON_EN@", "@RECEIPT@" };
	char shown[256] = "";
	/* the reasons are fixed text of link_refusals, and a receipt hex: safe in HTML */
	const char *values[] = { link_refusals[why].vi, link_refusals[why].en, shown };

	if (receipt)
		snprintf(shown, sizeof(shown), "<div class=\"panel\"><p data-i18n=\"s.receiptCode\">Mã biên nhận</p>"
			 "<p class=\"receipt\" id=\"receipt\">%.32s</p></div>", receipt);
	col_metrics_reject(&app->metrics, COL_E_UNAUTHORIZED);
	reply_template(app, reply, MHD_HTTP_FORBIDDEN, "link-refused.html", keys, values, 3);
}

/* The receipt of the rating of the link's dossier into receipt[33]; ""
 * when it is not rated.  A reload of the questionnaire after sending, or
 * the receipt's QR code opened again, shows the receipt the phone was
 * given: it proves a rating was stored and tells nothing of its answers. */
static int rated_receipt(struct col_app *app, sqlite3 *db, const struct link_fields *link, char *receipt,
			 struct err *e)
{
	sqlite3_stmt *st = NULL;
	/* dossier codes are the agency's own: another agency's same code is another dossier */
	int rc = db_prepare(db, "SELECT r.response_id, r.digest FROM responses r JOIN forms f ON f.id = r.form_id "
			    "JOIN agencies a ON a.id = r.agency_id "
			    "WHERE f.code = ?1 AND a.code = ?2 AND r.dossier_code = ?3 AND " DB_VISIBLE("r"), &st, e);

	receipt[0] = '\0';
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, link->form, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, link->agency, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, link->dossier, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (sqlite3_column_bytes(st, 1) != STORE_DIGEST_BYTES) {
			rc = err_set(e, ERR_DB, "a stored response has no digest");
			break;
		}
		rc = col_receipt(app, link->form, (const char *)sqlite3_column_text(st, 0),
				 sqlite3_column_blob(st, 1), receipt, e);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_fail(db, e, "looking up a dossier's rating");
	}
	sqlite3_finalize(st);
	return rc;
}

/* published_reports' callback: one list item per published quarter
 * (labels are YYYYQn, nothing to escape). */
static int list_period(const char *label, void *arg)
{
	strbuf_addf(arg, "<li><a href=\"/results/%s/\">%s</a> (<a href=\"/results/%s/scores.csv\">CSV</a>, "
		    "<a href=\"/results/%s/scores.json\">JSON</a>, <a href=\"/results/%s/scores.xlsx\">Excel</a>)"
		    "</li>\n", label, label, label, label, label);
	return 0;
}

/* GET /results: the published quarters. */
void col_handle_results(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			   const char *tail)
{
	static const char *const keys[] = { "@RESULTS@" };
	struct strbuf list;
	const char *values[1];
	struct err e;
	sqlite3 *db;

	(void)req;
	(void)tail;
	err_clear(&e);
	strbuf_init(&list, 0);
	db = col_reader(app, &e);
	if (!db || published_reports(db, list_period, &list, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	if (!list.len)
		strbuf_addstr(&list, "<li data-i18n=\"results.none\">Chưa có kỳ nào được công bố.</li>\n");
	values[0] = strbuf_str(&list);
	reply_template(app, reply, MHD_HTTP_OK, "results.html", keys, values, 1);
out:
	strbuf_release(&list);
}

/* The page of a quarter's report that is not published (a person opened
 * it): 404, in Vietnamese and English. */
static void reply_unpublished(struct col_app *app, struct col_reply *reply, int quarter)
{
	static const char *const keys[] = { "@QUARTER@" };
	struct period p;
	const char *values[1];

	period_of_quarter(quarter, &p);
	values[0] = p.label;   /* YYYYQn: nothing to escape */
	reply_template(app, reply, MHD_HTTP_NOT_FOUND, "results-missing.html", keys, values, 1);
}

/* GET /results/{quarter}/[file]: a published report's files, as stored
 * when it was published; /results/{quarter} redirects to its folder. */
void col_handle_result_file(struct col_app *app, const struct col_request *req,
			       struct col_reply *reply, const char *tail)
{
	size_t len = strcspn(tail, "/");
	const char *name = tail[len] ? tail + len + 1 : NULL;
	char label[16], *data = NULL;
	int quarter;
	size_t size;
	struct err e;
	sqlite3 *db;

	(void)req;
	err_clear(&e);
	if (len >= sizeof(label) || (name && strchr(name, '/'))) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
		return;
	}
	memcpy(label, tail, len);
	label[len] = '\0';
	if (period_parse_quarter(label, &quarter, NULL) != 0) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, "not a quarter", NULL);
		return;
	}
	db = col_reader(app, &e);
	if (!db || published_file(db, label, name && *name ? name : "index.html", &data, &size, &e) != 0) {
		int published = 0;

		if (e.code == ERR_NOT_FOUND && !(name && *name))
			reply_unpublished(app, reply, quarter);
		/* a published quarter's file that does not exist is not "not published" */
		else if (e.code == ERR_NOT_FOUND &&
			 published_has_report(db, label, &published, &e) == 0)
			col_reply_error(app, reply, COL_E_NOT_FOUND, published ? "no such file in this "
					"quarter's report" : "this quarter is not published", NULL);
		else
			col_reply_err(app, reply, &e);
		return;
	}
	if (!name) {   /* the report's relative links need the folder's slash */
		free(data);
		snprintf(reply->location, sizeof(reply->location), "/results/%s/", label);
		reply->status = MHD_HTTP_MOVED_PERMANENTLY;
		strbuf_reset(&reply->body);
		return;
	}
	reply->status = MHD_HTTP_OK;
	reply->content_type = col_static_type(*name ? name : "index.html");
	reply->cache_control = "no-cache";
	reply->csp = COL_REPORT_CSP;
	strbuf_reset(&reply->body);
	strbuf_add(&reply->body, data, size);
	free(data);
}

/* GET /s/{form}?agency&sector&dossier&exp&sig: the phone questionnaire, or
 * a page that says why its link cannot be used. */
void col_handle_survey_page(struct col_app *app, const struct col_request *req,
			       struct col_reply *reply, const char *form)
{
	struct link_fields link;
	char receipt[33];
	struct err e;
	sqlite3 *db;
	int why;

	err_clear(&e);
	why = col_link_from_query(app, req, form, &link, &e);
	if (why) {
		reply_link_refused(app, reply, why, NULL);
		return;
	}
	db = col_reader(app, &e);
	if (!db || rated_receipt(app, db, &link, receipt, &e) != 0) {
		col_reply_err(app, reply, &e);
		return;
	}
	if (*receipt)
		reply_link_refused(app, reply, COL_LINK_REFUSED_USED, receipt);
	else
		col_reply_static(app, req, reply, MHD_HTTP_OK, "survey.html");
}
