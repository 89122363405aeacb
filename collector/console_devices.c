/*
 * console_devices.c - the console's Devices screen (docs/console.md): the
 * kiosks a user may see, and adding, re-pairing and revoking them as
 * `sipas device add --pair`, `device pair` and `device revoke` do
 * (collector/device.h), each a writer job (console.h) that commits the
 * change with its audit entry, a refused one with why.
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
#include "../lib/period.h"
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
		int kiosk = device_role_named((const char *)sqlite3_column_text(st, 1)) == DEVICE_KIOSK;

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

/* What may be done to a device: the path's word, the audit's action and
 * the change the writer makes (device_job). */
enum device_action { ACTION_ADD, ACTION_PAIR, ACTION_REVOKE };

static int change_add(sqlite3 *db, void *arg, struct err *e);
static int change_pair(sqlite3 *db, void *arg, struct err *e);
static int change_revoke(sqlite3 *db, void *arg, struct err *e);

static const struct {
	const char *name;          /* in the path; NULL: POST /console/api/devices */
	const char *audit;
	int (*change)(sqlite3 *db, void *arg, struct err *e);
} device_actions[] = {
	[ACTION_ADD] = { NULL, "device.add", change_add },
	[ACTION_PAIR] = { "pair", "device.pair", change_pair },
	[ACTION_REVOKE] = { "revoke", "device.revoke", change_revoke },
};

/* A device action as the writer makes it (console.h's deferred action):
 * what it acts on, who asks, and what its reply shows. */
struct device_job {
	struct col_console_action a;
	enum device_action action;
	json_t *doc;                  /* adding: the body, which spec points into */
	struct device_spec spec;      /* adding: the kiosk */
	const char *sectors[DEVICE_MAX_SECTORS];
	long long id;                 /* pairing, revoking: the device; adding: set */
	char actor[USER_LOGIN_MAX + 1];
	char address[64];
	char subject[192];
	char pin[DEVICE_PIN_DIGITS + 1];
	struct strbuf url;
	long long expires_at;
	struct err refused;           /* the change's refusal, recorded with it */
};

/* A new staff PIN and a one-time link; every pairing sheet shows both. */
static int pair_kiosk(sqlite3 *db, struct device_job *j, struct err *e)
{
	long long now = (long long)time(NULL);
	char unused[DEVICE_PIN_DIGITS + 1];
	int rc = device_pair_link(db, j->id, j->a.app->public_url, now, &j->url, e);

	if (!rc)
		rc = device_pin_new(j->pin, e);
	if (!rc)
		rc = device_pin_give(db, j->id, j->pin, unused, e);
	j->expires_at = now + DEVICE_PAIR_SECONDS;
	return rc;
}

static int change_add(sqlite3 *db, void *arg, struct err *e)
{
	struct device_job *j = arg;
	char token[DEVICE_TOKEN_LEN + 1];
	int rc = device_check_open(db, &j->spec, period_today(), e);

	if (!rc)
		rc = device_add(db, &j->spec, token, &j->id, e);
	secret_wipe(token, sizeof(token));
	if (!rc)
		rc = pair_kiosk(db, j, e);
	/* the new kiosk's record names it; a refused one, what was asked */
	if (!rc)
		snprintf(j->subject, sizeof(j->subject), "device %lld (%s, %.100s)", j->id, j->spec.agency,
			 j->spec.counter);
	return rc;
}

static int change_pair(sqlite3 *db, void *arg, struct err *e)
{
	return pair_kiosk(db, arg, e);
}

static int change_revoke(sqlite3 *db, void *arg, struct err *e)
{
	const struct device_job *j = arg;

	return device_revoke(db, j->id, e);
}

static int store_device(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct device_job *j = (struct device_job *)(void *)a;
	struct audit_entry entry = { (long long)time(NULL), j->actor, j->address, device_actions[j->action].audit,
				     j->subject, "ok" };

	return col_console_audited(db, device_actions[j->action].change, j, &entry, &j->refused, e);
}

/* The reply of a pairing: the link, its expiry, the PIN and the link as
 * a QR code, for the sheet the office prints. */
static void reply_pairing(struct col_app *app, struct col_reply *reply, unsigned status, const struct device_job *j)
{
	struct strbuf svg;
	sqlite3_stmt *st = NULL;
	struct err e;
	sqlite3 *db;
	json_t *sectors = NULL;
	const char *agency = "", *name = "", *counter = "";

	err_clear(&e);
	strbuf_init(&svg, 0);
	db = col_reader(app, &e);
	if (!db || url_qr_svg(&svg, strbuf_str(&j->url), QR_LABEL, &e) != 0 ||
	    db_prepare(db, "SELECT a.code, a.name, d.counter, (SELECT json_group_array(s.code) FROM device_sectors ds "
		       "JOIN sectors s ON s.id = ds.sector_id WHERE ds.device_id = d.id) FROM devices d JOIN agencies a "
		       "ON a.id = d.agency_id WHERE d.id = ?1", &st, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	sqlite3_bind_int64(st, 1, j->id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		agency = (const char *)sqlite3_column_text(st, 0);
		name = (const char *)sqlite3_column_text(st, 1);
		counter = (const char *)sqlite3_column_text(st, 2);
		sectors = sectors_json(st, 3);
	}
	col_reply_json(reply, status, json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:s}", "id",
						(json_int_t)j->id, "agency", agency, "agency_name", name, "counter",
						counter, "sectors", sectors ? sectors : json_array(), "pair_url",
						strbuf_str(&j->url), "expires_at", col_json_time(j->expires_at), "pin",
						j->pin, "qr_svg", strbuf_str(&svg)));
out:
	sqlite3_finalize(st);
	strbuf_release(&svg);
}

static void answer_device(struct col_console_action *a, struct col_reply *reply)
{
	struct device_job *j = (struct device_job *)(void *)a;

	if (a->job.code)
		col_reply_err(a->app, reply, &a->job.err);
	else if (j->refused.code)
		/* as a body's fault: a path's missing device is refused before */
		col_reply_err(a->app, reply, &j->refused);
	else if (j->action == ACTION_REVOKE)
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:I, s:o}", "id", (json_int_t)j->id, "revoked_at",
							     col_json_time((long long)time(NULL))));
	else
		reply_pairing(a->app, reply, j->action == ACTION_ADD ? MHD_HTTP_CREATED : MHD_HTTP_OK, j);
}

static void release_device(struct col_console_action *a)
{
	struct device_job *j = (struct device_job *)(void *)a;

	json_decref(j->doc);
	strbuf_release(&j->url);
}

/* A device action by the request's user, or NULL when out of memory (the
 * reply then says so).  Owned by the caller until col_console_defer. */
static struct device_job *device_job_new(struct col_app *app, const struct col_request *req,
					 struct col_reply *reply, enum device_action action)
{
	struct device_job *j = col_console_action_new(app, sizeof(*j), store_device, answer_device);

	if (!j) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		return NULL;
	}
	j->a.release = release_device;
	j->action = action;
	strbuf_init(&j->url, 1024);
	snprintf(j->actor, sizeof(j->actor), "%s", req->sender->console.user.login);
	snprintf(j->address, sizeof(j->address), "%s", req->address);
	return j;
}

/* POST /console/api/devices {"agency","counter","sectors":[...]} */
void col_handle_console_device_add(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				   const char *tail)
{
	const struct col_console *c = &req->sender->console;
	struct device_job *j = device_job_new(app, req, reply, ACTION_ADD);
	struct device_spec *spec;
	json_t *list;
	struct err e;
	sqlite3 *db;
	size_t i;
	int in;

	(void)tail;
	err_clear(&e);
	if (!j || col_json_body(app, req, reply, &j->doc) != 0)
		goto out;
	spec = &j->spec;
	spec->role = DEVICE_KIOSK;
	spec->agency = json_string_value(json_object_get(j->doc, "agency"));
	spec->counter = json_string_value(json_object_get(j->doc, "counter"));
	spec->form = json_string_value(json_object_get(j->doc, "form"));
	spec->sectors = j->sectors;
	list = json_object_get(j->doc, "sectors");
	snprintf(j->subject, sizeof(j->subject), "a kiosk for %.60s", spec->agency ? spec->agency : "?");
	if (!may_manage_devices(c)) {
		refuse_viewer(app, req, reply, "device.add", j->subject);
		goto out;
	}
	if (!spec->agency || !spec->counter) {
		col_reply_error(app, reply, COL_E_INVALID, "the body must be {\"agency\", \"counter\", \"sectors\"}",
				spec->agency ? "counter" : "agency");
		goto out;
	}
	for (i = 0; i < json_array_size(list) && i < DEVICE_MAX_SECTORS; i++)
		if (!(j->sectors[i] = json_string_value(json_array_get(list, i))))
			break;
	if (!json_is_array(list) || i == 0 || i != json_array_size(list)) {
		col_reply_error(app, reply, COL_E_INVALID, "sectors must list 1 to 16 sector codes", "sectors");
		goto out;
	}
	spec->n_sectors = i;
	db = col_reader(app, &e);
	in = db ? scope_has_code(db, &c->scope, spec->agency, &e) : -1;
	if (in < 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	if (!in) {
		col_console_refuse(app, req, reply, "device.add", j->subject, COL_E_FORBIDDEN,
				   "not an agency of yours", "agency");
		goto out;
	}
	col_console_defer(&j->a, reply);
	j = NULL;
out:
	if (j)
		col_console_action_free(&j->a);
}

/* Parse "ID/ACTION" into *id and *action; -1 when it is not one. */
static int parse_tail(const char *tail, long long *id, enum device_action *action)
{
	char *end;

	*id = strtoll(tail, &end, 10);
	if (end == tail || *id <= 0 || *end != '/')
		return -1;
	for (size_t i = 0; i < sizeof(device_actions) / sizeof(device_actions[0]); i++)
		if (device_actions[i].name && strcmp(end + 1, device_actions[i].name) == 0) {
			*action = (enum device_action)i;
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

/* POST /console/api/devices/{id}/pair and /revoke */
void col_handle_console_device(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			       const char *tail)
{
	const struct col_console *c = &req->sender->console;
	struct device_job *j = NULL;
	enum device_action action;
	long long id;
	struct err e;
	sqlite3 *db;
	int in;

	err_clear(&e);
	if (parse_tail(tail, &id, &action) != 0) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, "no such path: /console/api/devices/{id}/pair or /revoke",
				NULL);
		goto out;
	}
	if (!(j = device_job_new(app, req, reply, action)))
		goto out;
	j->id = id;
	snprintf(j->subject, sizeof(j->subject), "device %lld", id);
	if (!may_manage_devices(c)) {
		refuse_viewer(app, req, reply, device_actions[action].audit, j->subject);
		goto out;
	}
	db = col_reader(app, &e);
	in = db ? device_in_scope(db, c, id, &e) : -1;
	if (in < 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	/* the office is told a device does not exist; an agency user is
	 * told nothing of any device not its own */
	if (!in) {
		col_console_refuse(app, req, reply, device_actions[action].audit, j->subject,
				   c->scope.all ? COL_E_NOT_FOUND : COL_E_FORBIDDEN,
				   c->scope.all ? "no such device" : "not a device of yours", NULL);
		goto out;
	}
	col_console_defer(&j->a, reply);
	j = NULL;
out:
	if (j)
		col_console_action_free(&j->a);
}
