/*
 * route_api.c - the JSON API besides submissions:
 *
 *   GET  /healthz        whether a rating posted now could be stored
 *   GET  /metrics        Prometheus text (admin token)
 *   GET  /api/forms/{id} the form JSON
 *   GET  /api/scores     a published period's stored figures
 *   GET  /api/kiosk      what a kiosk shows and posts (kiosk token)
 *   POST /api/pair       a pairing code for a tablet's token
 *   POST /api/kiosk/pin  whether a kiosk's staff PIN is right (kiosk token)
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../lib/period.h"
#include "../scoring/score.h"
#include "device.h"
#include "handlers.h"
#include "request.h"

/* POST /api/pair {"code"}: a tablet opening its one-time pairing link gets
 * its device token.  Every attempt has spent the address's allowance
 * (col_precheck); an unknown, used or expired code is refused from a read,
 * and only a good one takes the write lock. */
void col_handle_pair(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail)
{
	char token[DEVICE_TOKEN_LEN + 1];
	const char *code;
	json_t *doc;
	struct err e;
	sqlite3 *db;

	(void)tail;
	err_clear(&e);
	if (col_json_string_body(app, req, reply, "code", &doc, &code) != 0)
		return;
	db = col_reader(app, &e);
	if (!db) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	if (device_pair(db, code, (int64_t)time(NULL), token, &e) != 0) {
		if (e.code == ERR_INVALID)
			col_reply_error(app, reply, COL_E_UNAUTHORIZED, e.text, "code");
		else
			col_reply_err(app, reply, &e);
		goto out;
	}
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s}", "token", token));
	secret_wipe(token, sizeof(token));
out:
	json_decref(doc);
}

/* GET /api/kiosk: what the kiosk page shows and posts. */
void col_handle_kiosk(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *tail)
{
	const struct device_info *dev = &req->sender->dev;
	struct col_catalog *cat = col_app_catalog(app);
	const struct registry *reg = cat->reg;
	const struct registry_entry *agency = registry_agency_by_id(reg, dev->agency_id);
	json_t *sectors = json_array();

	(void)tail;
	for (size_t i = 0; i < reg->n_sectors; i++)
		if (device_serves_sector(dev, reg->sectors[i].id))
			json_array_append_new(sectors, json_pack("{s:s, s:s}", "code", reg->sectors[i].code,
								 "name", reg->sectors[i].name));
	col_reply_json(reply, MHD_HTTP_OK,
		   json_pack("{s:{s:s, s:s}, s:s, s:o, s:s}", "agency", "code", dev->agency, "name",
			     agency ? agency->name : dev->agency, "counter", dev->counter, "sectors", sectors,
			     "form", dev->form));
	col_catalog_release(cat);
}

/* GET /healthz: 200 when a rating posted now could be stored: the
 * database path still names the file the writer has open and it reads, a
 * write transaction can begin within a short wait, and the filesystem
 * keeps --min-free.  503 otherwise, "check" naming the first that failed.
 * Anyone may ask, so the answer names checks, never a path or a size. */
void col_handle_healthz(struct col_app *app, const struct col_request *req,
			   struct col_reply *reply, const char *tail)
{
	struct col_storage_health sh;
	const char *check = NULL;
	long long n = 0;
	struct err e;
	sqlite3 *db;
	int readable;

	(void)req;
	(void)tail;
	err_clear(&e);
	col_writer_health(app->writer, &sh);
	db = col_reader(app, &e);
	readable = db && db_query_int(db, "SELECT count(*) FROM forms", &n, &e) == 0;
	if (sh.replaced)
		check = "database_replaced";
	else if (!readable)
		check = "database_unreadable";
	else if (!sh.write_lock)
		check = "write_lock";
	else if (sh.free_bytes < app->min_free)
		check = "free_space";
	col_reply_json(reply, check ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
		       json_pack("{s:s, s:s?, s:I, s:{s:s, s:s, s:s}}", "status", check ? "unavailable" : "ok",
				 "check", check, "forms", (json_int_t)n, "checks", "database",
				 sh.replaced ? "replaced" : readable ? "ok" : "unreadable", "write_lock",
				 sh.write_lock ? "ok" : "busy", "free_space",
				 sh.free_bytes >= app->min_free ? "ok" : "low"));
}

void col_handle_form(struct col_app *app, const struct col_request *req,
			struct col_reply *reply, const char *id)
{
	struct col_catalog *cat = col_app_catalog(app);
	const struct form *form = col_catalog_form(cat, id);

	(void)req;
	if (form)
		col_reply_json(reply, MHD_HTTP_OK, json_incref(form->doc));
	else
		col_reply_error(app, reply, COL_E_NOT_FOUND, "no such form", "form");
	col_catalog_release(cat);
}

/* GET /api/scores: a published period's stored figures, never computed
 * per request, and built into a reply once (scores_cache.c). */
void col_handle_scores(struct col_app *app, const struct col_request *req,
			  struct col_reply *reply, const char *tail)
{
	const char *period_s = req->query(req->cls, "period"), *by_s = req->query(req->cls, "by");
	const char *form_id = req->query(req->cls, "form");
	struct period period;
	sqlite3_stmt **stamp_kept = NULL;
	struct err e;
	sqlite3 *db;
	int by = 0, gzipped = 0;

	(void)tail;
	err_clear(&e);
	if (!period_s) {
		col_reply_error(app, reply, COL_E_INVALID, "period is required", "period");
		return;
	}
	if (period_parse(period_s, &period, &e) != 0) {
		col_reply_error(app, reply, COL_E_INVALID, e.text, "period");
		return;
	}
	if (by_s && score_parse_by(by_s, &by, &e) != 0) {
		col_reply_error(app, reply, COL_E_INVALID, e.text, "by");
		return;
	}
	if (form_id) {
		struct col_catalog *cat = col_app_catalog(app);
		int known = col_catalog_form(cat, form_id) != NULL;

		col_catalog_release(cat);
		if (!known) {
			err_set(&e, ERR_INVALID, "unknown form '%.64s'", form_id);
			col_reply_error(app, reply, COL_E_INVALID, e.text, "form");
			return;
		}
	}
	strbuf_reset(&reply->body);
	db = col_reader_kept(app, COL_KEPT_PUBLISHED_STAMP, &stamp_kept, &e);
	if (!db || col_scores_cache_reply(app->scores_cache, db, stamp_kept, form_id ? form_id : "sipas-2017",
					  period.label, by, col_accepts_gzip(req), &reply->body,
					  &gzipped, &e) != 0) {
		strbuf_reset(&reply->body);
		if (e.code == ERR_NOT_FOUND)
			col_reply_error(app, reply, COL_E_NOT_FOUND, e.text, "period");
		else
			col_reply_err(app, reply, &e);
		return;
	}
	reply->status = MHD_HTTP_OK;
	reply->content_type = "application/json; charset=utf-8";
	reply->content_encoding = gzipped ? "gzip" : NULL;
	reply->vary = MHD_HTTP_HEADER_ACCEPT_ENCODING;
}

void col_handle_metrics(struct col_app *app, const struct col_request *req,
			   struct col_reply *reply, const char *tail)
{
	uint64_t commits, stored;

	(void)req;
	(void)tail;
	col_writer_stats(app->writer, &commits, &stored);
	reply->status = MHD_HTTP_OK;
	reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
	strbuf_reset(&reply->body);
	col_metrics_render(&app->metrics, stored, commits, &reply->body);
}

/* POST /api/kiosk/pin {"pin"}: whether the staff PIN of the calling kiosk
 * (its token says which: one kiosk's PIN never opens another) is right.
 * 200 {"ok": true} yes; 403 no; 429 with Retry-After while locked after
 * DEVICE_PIN_TRIES wrong tries; 409 when the kiosk has no PIN. */
void col_handle_kiosk_pin(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			  const char *tail)
{
	const char *pin;
	int64_t retry_after;
	int result;
	json_t *doc;
	struct err e;
	sqlite3 *db;

	(void)tail;
	err_clear(&e);
	if (col_json_string_body(app, req, reply, "pin", &doc, &pin) != 0)
		return;
	if (!device_pin_valid(pin)) {
		col_reply_error(app, reply, COL_E_INVALID, "a staff PIN is 6 digits", "pin");
		goto out;
	}
	db = col_reader(app, &e);
	if (!db || device_pin_check(db, req->sender->dev.id, pin, (int64_t)time(NULL),
				    &result, &retry_after, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	switch (result) {
	case DEVICE_PIN_OK:
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1));
		break;
	case DEVICE_PIN_WRONG:
		col_reply_error(app, reply, COL_E_FORBIDDEN, "wrong PIN", "pin");
		break;
	case DEVICE_PIN_LOCKED:
		reply->retry_after = (int)(retry_after > 0 ? retry_after : 1);
		col_reply_error(app, reply, COL_E_RATE_LIMITED, "too many wrong PINs: the PIN is locked for a while",
				"pin");
		break;
	default:
		col_reply_error(app, reply, COL_E_CONFLICT, "this kiosk has no staff PIN", "pin");
		break;
	}
out:
	json_decref(doc);
}
