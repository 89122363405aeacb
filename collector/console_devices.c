/*
 * console_devices.c - the console's Devices screen (docs/console.md): the
 * kiosks a user may see, and adding, re-pairing and revoking them as
 * `sipas device add --pair`, `device pair` and `device revoke` do
 * (collector/device.h), each in one transaction with its audit entry.
 * The office sees every device, admin tokens too; an agency user the
 * kiosks of its agencies (office/scope.h, in the query), and another
 * agency's device, or one that does not exist, is 403 naming nothing of
 * it; a viewer sees no device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../lib/url.h"
#include "console.h"
#include "device.h"
#include "handlers.h"
#include "request.h"

#define QR_LABEL "liên kết ghép nối máy đánh giá"

/* A viewer reads figures only. */
static int may_manage_devices(const struct col_console *c)
{
	return c->user.role == USER_OFFICE || c->user.role == USER_AGENCY;
}

static void refuse_viewer(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			  const char *action, const char *subject)
{
	col_console_refuse(app, req, reply, action, subject, COL_E_FORBIDDEN, "a viewer has no devices", NULL);
}

/* The sectors column of the list: a JSON array as SQLite built it. */
static json_t *sectors_json(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_t *a = text ? json_loads(text, 0, NULL) : NULL;

	return a ? a : json_array();
}

static json_t *time_or_null(sqlite3_stmt *st, int col)
{
	return col_json_time(sqlite3_column_int64(st, col));
}

/* GET /console/api/devices */
void col_handle_console_devices(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail)
{
	const struct col_console *c = &req->sender->console;
	json_t *list = json_array();
	sqlite3_stmt *st = NULL;
	struct err e;
	sqlite3 *db;
	int step = SQLITE_DONE;

	(void)tail;
	err_clear(&e);
	if (!may_manage_devices(c)) {
		col_reply_error(app, reply, COL_E_FORBIDDEN, "a viewer has no devices", NULL);
		goto out;
	}
	db = col_reader(app, &e);
	if (!db || db_prepare(db, "SELECT d.id, d.role, a.code, d.counter, d.form, d.paired_at, d.last_post_at, "
			      "d.revoked_at, d.pin_hash IS NOT NULL, (SELECT json_group_array(s.code) FROM "
			      "device_sectors ds JOIN sectors s ON s.id = ds.sector_id WHERE ds.device_id = d.id) "
			      "FROM devices d LEFT JOIN agencies a ON a.id = d.agency_id WHERE " SCOPE_SQL("d.agency_id")
			      " ORDER BY d.id", &st, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	scope_bind(st, &c->scope);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int kiosk = strcmp((const char *)sqlite3_column_text(st, 1), "kiosk") == 0;

		json_array_append_new(list, json_pack("{s:I, s:s, s:s?, s:s, s:s?, s:o, s:o, s:o, s:o, s:o}",
			"id", (json_int_t)sqlite3_column_int64(st, 0), "role", sqlite3_column_text(st, 1),
			"agency", sqlite3_column_text(st, 2), "counter", sqlite3_column_text(st, 3),
			"form", sqlite3_column_text(st, 4), "sectors", sectors_json(st, 9),
			"paired_at", time_or_null(st, 5), "last_post_at", time_or_null(st, 6),
			"revoked_at", time_or_null(st, 7),
			"pin", kiosk ? json_boolean(sqlite3_column_int(st, 8)) : json_null()));
	}
	if (step != SQLITE_DONE) {
		db_fail(db, &e, "listing the devices");
		col_reply_err(app, reply, &e);
		goto out;
	}
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:O}", "devices", list));
out:
	sqlite3_finalize(st);
	json_decref(list);
}

/* What adding or re-pairing a kiosk writes, and what its reply shows. */
struct pairing {
	const struct col_request *req;
	const struct col_app *app;
	struct device_spec spec;      /* adding: the kiosk */
	long long id;                 /* re-pairing: the kiosk; adding: set */
	char pin[DEVICE_PIN_DIGITS + 1];
	struct strbuf url;
	long long expires_at;
	char subject[192];
};

/* A new staff PIN and a one-time link; every pairing sheet shows both. */
static int pair_kiosk(sqlite3 *db, struct pairing *p, struct err *e)
{
	long long now = (long long)time(NULL);
	char unused[DEVICE_PIN_DIGITS + 1];
	int rc = device_pair_link(db, p->id, p->app->public_url, now, &p->url, e);

	if (!rc)
		rc = device_pin_new(p->pin, e);
	if (!rc)
		rc = device_pin_give(db, p->id, p->pin, unused, e);
	p->expires_at = now + DEVICE_PAIR_SECONDS;
	return rc;
}

static int store_new_kiosk(sqlite3 *db, void *arg, struct err *e)
{
	struct pairing *p = arg;
	char token[DEVICE_TOKEN_LEN + 1];
	int rc = device_add(db, &p->spec, token, &p->id, e);

	secret_wipe(token, sizeof(token));
	if (!rc)
		rc = pair_kiosk(db, p, e);
	if (!rc) {
		snprintf(p->subject, sizeof(p->subject), "device %lld (%s, %.100s)", p->id, p->spec.agency,
			 p->spec.counter);
		rc = col_console_audit(db, p->req, "device.add", p->subject, "ok", e);
	}
	return rc;
}

static int store_pairing(sqlite3 *db, void *arg, struct err *e)
{
	struct pairing *p = arg;
	int rc = pair_kiosk(db, p, e);

	return rc ? rc : col_console_audit(db, p->req, "device.pair", p->subject, "ok", e);
}

/* The reply of a pairing: the link, its expiry, the PIN and the link as
 * a QR code, for the sheet the office prints. */
static void reply_pairing(struct col_app *app, struct col_reply *reply, unsigned status, sqlite3 *db,
			  const struct pairing *p)
{
	struct strbuf svg;
	sqlite3_stmt *st = NULL;
	struct err e;
	json_t *sectors = NULL;
	const char *agency = "", *name = "", *counter = "";

	err_clear(&e);
	strbuf_init(&svg, 0);
	if (url_qr_svg(&svg, strbuf_str(&p->url), QR_LABEL, &e) != 0 ||
	    db_prepare(db, "SELECT a.code, a.name, d.counter, (SELECT json_group_array(s.code) FROM device_sectors ds "
		       "JOIN sectors s ON s.id = ds.sector_id WHERE ds.device_id = d.id) FROM devices d JOIN agencies a "
		       "ON a.id = d.agency_id WHERE d.id = ?1", &st, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	sqlite3_bind_int64(st, 1, p->id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		agency = (const char *)sqlite3_column_text(st, 0);
		name = (const char *)sqlite3_column_text(st, 1);
		counter = (const char *)sqlite3_column_text(st, 2);
		sectors = sectors_json(st, 3);
	}
	col_reply_json(reply, status, json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:s}", "id",
						(json_int_t)p->id, "agency", agency, "agency_name", name, "counter",
						counter, "sectors", sectors ? sectors : json_array(), "pair_url",
						strbuf_str(&p->url), "expires_at", col_json_time(p->expires_at), "pin",
						p->pin, "qr_svg", strbuf_str(&svg)));
out:
	sqlite3_finalize(st);
	strbuf_release(&svg);
}

/* POST /console/api/devices {"agency","counter","sectors":[...]} */
void col_handle_console_device_add(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				   const char *tail)
{
	const struct col_console *c = &req->sender->console;
	const char *sectors[DEVICE_MAX_SECTORS];
	struct pairing p = { .req = req, .app = app };
	json_t *doc = NULL, *list;
	struct err e;
	sqlite3 *db;
	size_t i;
	int in;

	(void)tail;
	err_clear(&e);
	strbuf_init(&p.url, 1024);
	if (col_json_body(app, req, reply, &doc) != 0)
		goto out;
	p.spec.role = DEVICE_KIOSK;
	p.spec.agency = json_string_value(json_object_get(doc, "agency"));
	p.spec.counter = json_string_value(json_object_get(doc, "counter"));
	p.spec.form = json_string_value(json_object_get(doc, "form"));
	p.spec.sectors = sectors;
	list = json_object_get(doc, "sectors");
	snprintf(p.subject, sizeof(p.subject), "a kiosk for %.60s", p.spec.agency ? p.spec.agency : "?");
	if (!may_manage_devices(c)) {
		refuse_viewer(app, req, reply, "device.add", p.subject);
		goto out;
	}
	if (!p.spec.agency || !p.spec.counter) {
		col_reply_error(app, reply, COL_E_INVALID, "the body must be {\"agency\", \"counter\", \"sectors\"}",
				p.spec.agency ? "counter" : "agency");
		goto out;
	}
	for (i = 0; i < json_array_size(list) && i < DEVICE_MAX_SECTORS; i++)
		if (!(sectors[i] = json_string_value(json_array_get(list, i))))
			break;
	if (!json_is_array(list) || i == 0 || i != json_array_size(list)) {
		col_reply_error(app, reply, COL_E_INVALID, "sectors must list 1 to 16 sector codes", "sectors");
		goto out;
	}
	p.spec.n_sectors = i;
	db = col_reader(app, &e);
	in = db ? scope_has_code(db, &c->scope, p.spec.agency, &e) : -1;
	if (in < 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	if (!in) {
		col_console_refuse(app, req, reply, "device.add", p.subject, COL_E_FORBIDDEN,
				   "not an agency of yours", "agency");
		goto out;
	}
	if (col_console_transact(app, store_new_kiosk, &p, &e) != 0) {
		col_console_refuse_err(app, req, reply, "device.add", p.subject, &e);
		goto out;
	}
	reply_pairing(app, reply, MHD_HTTP_CREATED, db, &p);
out:
	secret_wipe(p.pin, sizeof(p.pin));
	strbuf_release(&p.url);
	json_decref(doc);
}

/* What may be done to one device. */
enum device_action { ACTION_PAIR, ACTION_REVOKE };

static const struct {
	const char *name;          /* in the path */
	const char *audit;         /* the audit action */
} device_actions[] = {
	[ACTION_PAIR] = { "pair", "device.pair" },
	[ACTION_REVOKE] = { "revoke", "device.revoke" },
};

/* Parse "ID/ACTION" into *id and *action; -1 when it is not one. */
static int parse_tail(const char *tail, long long *id, int *action)
{
	char *end;

	*id = strtoll(tail, &end, 10);
	if (end == tail || *id <= 0 || *end != '/')
		return -1;
	for (size_t i = 0; i < sizeof(device_actions) / sizeof(device_actions[0]); i++)
		if (strcmp(end + 1, device_actions[i].name) == 0) {
			*action = (int)i;
			return 0;
		}
	return -1;
}

/* Whether the user may act on device id: 1, or 0 (an agency user: not
 * one of its kiosks, or no such device; the office: no such device), -1
 * when the database fails. */
static int device_in_scope(sqlite3 *db, const struct col_console *c, long long id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT 1 FROM devices d WHERE d.id = ?1 AND " SCOPE_SQL("d.agency_id"), &st, e);
	int step;

	if (rc)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	scope_bind(st, &c->scope);
	step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return db_fail(db, e, "reading a device"), -1;
	return step == SQLITE_ROW;
}

struct revocation {
	const struct col_request *req;
	long long id;
	const char *subject;
};

static int store_revocation(sqlite3 *db, void *arg, struct err *e)
{
	const struct revocation *r = arg;
	int rc = device_revoke(db, r->id, e);

	return rc ? rc : col_console_audit(db, r->req, "device.revoke", r->subject, "ok", e);
}

/* POST /console/api/devices/{id}/pair and /revoke */
void col_handle_console_device(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			       const char *tail)
{
	const struct col_console *c = &req->sender->console;
	struct pairing p = { .req = req, .app = app };
	struct revocation r = { req, 0, p.subject };
	int action, in;
	struct err e;
	sqlite3 *db;

	err_clear(&e);
	strbuf_init(&p.url, 1024);
	if (parse_tail(tail, &p.id, &action) != 0) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, "no such path: /console/api/devices/{id}/pair or /revoke",
				NULL);
		goto out;
	}
	snprintf(p.subject, sizeof(p.subject), "device %lld", p.id);
	if (!may_manage_devices(c)) {
		refuse_viewer(app, req, reply, device_actions[action].audit, p.subject);
		goto out;
	}
	db = col_reader(app, &e);
	in = db ? device_in_scope(db, c, p.id, &e) : -1;
	if (in < 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	/* the office is told a device does not exist; an agency user is
	 * told nothing of any device not its own */
	if (!in) {
		col_console_refuse(app, req, reply, device_actions[action].audit, p.subject,
				   c->scope.all ? COL_E_NOT_FOUND : COL_E_FORBIDDEN,
				   c->scope.all ? "no such device" : "not a device of yours", NULL);
		goto out;
	}
	r.id = p.id;
	if (col_console_transact(app, action == ACTION_PAIR ? store_pairing : store_revocation,
				 action == ACTION_PAIR ? (void *)&p : (void *)&r, &e) != 0) {
		col_console_refuse_err(app, req, reply, device_actions[action].audit, p.subject, &e);
		goto out;
	}
	if (action == ACTION_PAIR)
		reply_pairing(app, reply, MHD_HTTP_OK, db, &p);
	else
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:I, s:o}", "id", (json_int_t)p.id, "revoked_at",
							     col_json_time((long long)time(NULL))));
out:
	secret_wipe(p.pin, sizeof(p.pin));
	strbuf_release(&p.url);
}
