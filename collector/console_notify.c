/*
 * console_notify.c - the office's view of notifications that could not be
 * delivered (docs/monitoring.md, "Notifications"): every delivery given up
 * after 24 hours of retries, newest first, for the audit screen.  The
 * route is AUTH_CONSOLE_OFFICE: the precheck refuses anyone else.
 */
#include <jansson.h>
#include <microhttpd.h>

#include "../monitor/notify.h"
#include "console.h"
#include "handlers.h"
#include "request.h"

#define FAILED_LIMIT 200

static int failed_json(const struct notify_delivery *d, void *arg)
{
	json_t *rows = arg;

	return json_array_append_new(rows, json_pack("{s:s, s:I, s:s, s:s, s:s, s:o, s:o, s:I, s:s}", "delivery",
						      d->delivery, "endpoint", (json_int_t)d->endpoint_id, "kind",
						      notify_kind_name(d->kind), "target", d->target, "event", d->event,
						      "created_at", col_json_time(d->created_at), "failed_at",
						      col_json_time(d->failed_at), "attempts", (json_int_t)d->attempts,
						      "error", d->last_error))
		       ? ERR_NOMEM : 0;
}

void col_handle_console_notify_failed(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				      const char *tail)
{
	json_t *rows = json_array();
	struct err e;
	sqlite3 *db;
	int rc;

	(void)req;
	(void)tail;
	err_clear(&e);
	db = col_reader(app, &e);
	rc = db ? 0 : -1;
	if (!rc && !rows)
		rc = err_set(&e, ERR_NOMEM, "out of memory");
	if (!rc && notify_list_failed(db, FAILED_LIMIT, failed_json, rows, &e) != 0)
		rc = e.code ? e.code : err_set(&e, ERR_NOMEM, "out of memory listing failed notifications");
	if (rc) {
		col_reply_err(app, reply, &e);
		json_decref(rows);
		return;
	}
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:o}", "failed", rows));
}
