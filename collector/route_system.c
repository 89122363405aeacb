/*
 * route_system.c - the API of a one-stop system (docs/onestop.md), called
 * with a system token for one or more agencies or all of them:
 *
 *   GET  /api/system   the token's name and the agencies it acts for
 */
#include <jansson.h>
#include <microhttpd.h>

#include "device.h"
#include "handlers.h"
#include "request.h"

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
