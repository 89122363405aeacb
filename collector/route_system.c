/*
 * route_system.c - the API of a one-stop system (docs/onestop.md), called
 * with a system token for one or more agencies or all of them:
 *
 *   GET  /api/system   the token's name and the agencies it acts for
 *   POST /api/links    receipt links and their QR codes, 1 to 500 a call
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "device.h"
#include "handlers.h"
#include "link.h"
#include "request.h"
#include "../lib/period.h"
#include "../lib/url.h"
#include "../lib/utf8.h"

/* GET /api/system: what the token may do, for the one-stop system to check
 * its configuration: its name and the agencies it acts for, in registry
 * order. */
void col_handle_system(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		       const char *tail)
{
	const struct device_info *dev = &req->sender->dev;
	struct col_catalog *cat = col_app_catalog(app);
	const struct registry *reg = cat->reg;
	json_t *agencies = json_array();
	struct err e;
	sqlite3 *db;
	int yes = 0, rc;

	(void)tail;
	err_clear(&e);
	db = col_reader(app, &e);
	rc = db ? 0 : e.code;
	for (size_t i = 0; !rc && i < reg->n_agencies; i++) {
		rc = device_covers(db, dev, reg->agencies[i].id, &yes, &e);
		if (!rc && yes)
			json_array_append_new(agencies, json_pack("{s:s, s:s}", "code", reg->agencies[i].code,
								  "name", reg->agencies[i].name));
	}
	if (rc)
		col_reply_err(app, reply, &e);
	else
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:I, s:s, s:b, s:O}", "id", (json_int_t)dev->id,
							     "name", dev->counter, "all_agencies", dev->all_agencies,
							     "agencies", agencies));
	json_decref(agencies);
	col_catalog_release(cat);
}

/* The fields an item of POST /api/links may have. */
static const char *const link_fields_known[] = { "form", "agency", "sector", "dossier", "expires_days" };

/* Drop the end of s, a well-formed text that snprintf may have cut inside a
 * character, back to where it is well formed again: JSON carries only
 * UTF-8. */
static void cut_to_utf8(char *s)
{
	for (size_t n = strlen(s); n && !utf8_valid(s, n); n--)
		s[n - 1] = '\0';
}

/* Item i's refusal, {"error": {"code", "message", "field": "links[i].FIELD"}}
 * (field NULL: the item itself).  New reference; NULL when out of memory. */
static json_t *item_error(enum col_error why, size_t i, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static json_t *item_error(enum col_error why, size_t i, const char *field, const char *fmt, ...)
{
	char name[80], message[256];
	va_list ap;

	snprintf(name, sizeof(name), field ? "links[%zu].%s" : "links[%zu]", i, field ? field : "");
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	cut_to_utf8(name);
	cut_to_utf8(message);
	return json_pack("{s:o}", "error", col_error_json(why, message, name));
}

/* The string `name` of item, NULL when missing or not a string. */
static const char *item_string(json_t *item, const char *name)
{
	return json_string_value(json_object_get(item, name));
}

/* Check item i and fill *f (strings owned by item) for the token dev: NULL
 * when it may have its link, else its refusal (a new reference).  A
 * database error leaves *failed set and e filled. */
static json_t *check_item(const struct col_catalog *cat, sqlite3 *db, const struct device_info *dev,
			  json_t *item, size_t i, int64_t now, struct link_fields *f, int *failed,
			  struct err *e)
{
	static const char *const required[] = { "form", "agency", "sector", "dossier" };
	const struct registry_entry *agency;
	json_t *days = json_object_get(item, "expires_days"), *value;
	const char *key;
	struct err ended;
	int known, covers = 0;

	if (!json_is_object(item))
		return item_error(COL_E_INVALID, i, NULL, "an item must be an object {form, agency, sector, "
				  "dossier, expires_days}");
	json_object_foreach(item, key, value) {
		known = 0;
		for (size_t k = 0; k < sizeof(link_fields_known) / sizeof(link_fields_known[0]); k++)
			known |= strcmp(key, link_fields_known[k]) == 0;
		if (!known)
			return item_error(COL_E_INVALID, i, key, "unknown field '%.64s'", key);
	}
	for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
		if (!item_string(item, required[k]))
			return item_error(COL_E_INVALID, i, required[k], "%s must be a string", required[k]);
	f->form = item_string(item, "form");
	f->agency = item_string(item, "agency");
	f->sector = item_string(item, "sector");
	f->dossier = item_string(item, "dossier");
	if (!col_catalog_form(cat, f->form))
		return item_error(COL_E_INVALID, i, "form", "unknown form '%.64s'", f->form);
	agency = registry_agency(cat->reg, f->agency);
	if (!agency)
		return item_error(COL_E_INVALID, i, "agency", "unknown agency '%.64s'", f->agency);
	if (device_covers(db, dev, agency->id, &covers, e) != 0) {
		*failed = 1;
		return NULL;
	}
	if (!covers)
		return item_error(COL_E_FORBIDDEN, i, "agency", "this token does not act for agency %.64s", f->agency);
	/* a receipt of an agency that has ended: its rating would be refused */
	err_clear(&ended);
	if (registry_check_valid(agency, period_today(), &ended))
		return item_error(COL_E_INVALID, i, "agency", "%s", ended.text);
	if (!registry_sector(cat->reg, f->sector))
		return item_error(COL_E_INVALID, i, "sector", "unknown sector '%.64s'", f->sector);
	if (!link_dossier_valid(f->dossier))
		return item_error(COL_E_INVALID, i, "dossier", "dossier must be 1 to %d bytes on one line",
				  LINK_MAX_DOSSIER);
	if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
		     json_integer_value(days) > LINK_MAX_DAYS))
		return item_error(COL_E_INVALID, i, "expires_days", "expires_days must be a whole number of days, "
				  "1 to %d (default %d)", LINK_MAX_DAYS, LINK_DEFAULT_DAYS);
	f->expires = now + (int64_t)(days ? json_integer_value(days) : LINK_DEFAULT_DAYS) * 86400;
	return NULL;
}

/* The links of items into out, one per item; *made counts them.  0, or
 * the err code of a failure that is the server's (e filled). */
static int make_links(struct col_app *app, const struct col_catalog *cat, sqlite3 *db,
		      const struct device_info *dev, json_t *items, json_t *out, size_t *made, struct err *e)
{
	int64_t now = (int64_t)time(NULL);
	struct strbuf url, svg;
	int failed = 0, rc = 0;

	strbuf_init(&url, 8192);
	strbuf_init(&svg, 0);
	for (size_t i = 0; !rc && i < json_array_size(items); i++) {
		struct link_fields f;
		json_t *one = check_item(cat, db, dev, json_array_get(items, i), i, now, &f, &failed, e);

		if (failed) {
			rc = e->code;
			break;
		}
		strbuf_reset(&url);
		strbuf_reset(&svg);
		if (!one) {
			rc = link_url(app->key, app->public_url, &f, &url, e);
			if (!rc)
				rc = url_qr_svg(&svg, strbuf_str(&url), LINK_QR_LABEL, e);
			if (!rc)
				one = json_pack("{s:s, s:s}", "url", strbuf_str(&url), "qr_svg", strbuf_str(&svg));
			*made += !rc;
		}
		if (!rc && (!one || json_array_append_new(out, one) != 0))
			rc = err_set(e, ERR_NOMEM, "out of memory");
	}
	strbuf_release(&url);
	strbuf_release(&svg);
	return rc;
}

/* POST /api/links {"links": [{form, agency, sector, dossier, expires_days?}, ...]}:
 * the signed link of each dossier receipt and its QR code, as `sipas link`
 * makes them, in order; an item the token may not have (an agency it does
 * not act for: "forbidden") or that is not valid gets its error instead,
 * and the others their links.  A body that is no such list is refused
 * whole. */
void col_handle_links(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      const char *tail)
{
	struct col_catalog *cat = NULL;
	json_t *doc = NULL, *items, *out = json_array(), *value;
	const char *key;
	size_t made = 0, n;
	struct err e;
	sqlite3 *db;
	char msg[128];

	(void)tail;
	err_clear(&e);
	if (col_json_body(app, req, reply, &doc) != 0)
		goto out;
	items = json_object_get(doc, "links");
	n = json_array_size(items);
	if (!json_is_object(doc) || !json_is_array(items) || n < 1 || n > COL_MAX_BATCH) {
		snprintf(msg, sizeof(msg), "the body must be {\"links\": [...]} with 1 to %d items", COL_MAX_BATCH);
		col_reply_error(app, reply, COL_E_INVALID, msg, "links");
		goto out;
	}
	json_object_foreach(doc, key, value) {
		if (strcmp(key, "links") != 0) {
			snprintf(msg, sizeof(msg), "unknown field '%.64s'", key);
			col_reply_error(app, reply, COL_E_INVALID, msg, key);
			goto out;
		}
	}
	cat = col_app_catalog(app);
	db = col_reader(app, &e);
	if (!out || !db || make_links(app, cat, db, &req->sender->dev, items, out, &made, &e) != 0) {
		if (!out)
			err_set(&e, ERR_NOMEM, "out of memory");
		col_reply_err(app, reply, &e);
		goto out;
	}
	col_metrics_links(&app->metrics, made, n - made);
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:O}", "links", out));
out:
	if (cat)
		col_catalog_release(cat);
	json_decref(out);
	json_decref(doc);
}
