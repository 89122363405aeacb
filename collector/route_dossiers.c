/*
 * route_dossiers.c - POST /api/dossiers (docs/onestop.md, "Dossier records
 * and the per-dossier rate"): a one-stop system sends up to 500 dossier
 * records with its system token.  Each record is checked on the request's
 * thread (responses/records.c, as `sipas dossiers import --records`
 * checks a row) and against the agencies the token acts for; the good
 * ones are stored by the writer in one transaction, and the reply, one
 * result per record in order, waits for its commit: a 200 is on disk.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "console.h"
#include "device.h"
#include "handlers.h"
#include "request.h"
#include "../responses/records.h"

/* One record of the body and what became of it. */
struct dossier_item {
	struct records_record rec;   /* when ok */
	int ok;                      /* checked and covered: the writer stores it */
	int outcome;                 /* the writer's enum records_outcome, when ok */
	enum col_error why;          /* else: why it was refused */
	struct err refused;
};

struct dossiers_post {
	struct col_console_action a;  /* first: col_console_action_new's */
	struct col_catalog *cat;      /* held: the records borrow its registry */
	json_t *records;              /* the body's array, for the dossier codes of the reply */
	int64_t now;
	size_t n;
	struct dossier_item item[];
};

static int store_records(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct dossiers_post *p = (struct dossiers_post *)(void *)a;
	struct records_store *st = NULL;
	int rc = records_store_new(db, &st, e);

	for (size_t i = 0; !rc && i < p->n; i++)
		if (p->item[i].ok)
			rc = records_store_put(st, &p->item[i].rec, p->now, &p->item[i].outcome, e);
	records_store_free(st);
	return rc;
}

static void answer_records(struct col_console_action *a, struct col_reply *reply)
{
	struct dossiers_post *p = (struct dossiers_post *)(void *)a;
	json_t *results;

	if (a->job.code != 0) {
		col_reply_err(a->app, reply, &a->job.err);
		return;
	}
	results = json_array();
	for (size_t i = 0; i < p->n; i++) {
		const struct dossier_item *it = &p->item[i];
		json_t *dossier = json_object_get(json_array_get(p->records, i), "dossier");
		json_t *r = json_pack("{s:O, s:s}", "dossier", json_is_string(dossier) ? dossier : json_null(),
				      "status", it->ok ? records_outcome_name(it->outcome) : "error");

		if (r && !it->ok)
			json_object_set_new(r, "error", col_error_json(it->why, it->refused.text,
								      it->refused.field[0] ? it->refused.field : NULL));
		json_array_append_new(results, r);
	}
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:o}", "results", results));
}

static void release_records(struct col_console_action *a)
{
	struct dossiers_post *p = (struct dossiers_post *)(void *)a;

	json_decref(p->records);
	if (p->cat)
		col_catalog_release(p->cat);
}

/* Check record i of the body and that the token acts for its agency. */
static int check_item(struct dossiers_post *p, sqlite3 *db, const struct device_info *dev, size_t i,
		      struct err *e)
{
	struct dossier_item *it = &p->item[i];
	int yes = 0, rc;

	err_clear(&it->refused);
	it->why = COL_E_INVALID;
	if (records_check_json(p->cat->reg, json_array_get(p->records, i), p->now, &it->rec, &it->refused) != 0)
		return 0;
	rc = device_covers(db, dev, it->rec.agency->id, &yes, e);
	if (rc)
		return rc;
	if (!yes) {
		it->why = COL_E_FORBIDDEN;
		err_set_field(&it->refused, ERR_INVALID, "agency", "this token does not act for agency %s",
			      it->rec.agency->code);
		return 0;
	}
	it->ok = 1;
	return 0;
}

void col_handle_dossiers(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *tail)
{
	struct dossiers_post *p = NULL;
	json_t *doc = NULL, *records;
	struct err e;
	sqlite3 *db;
	size_t n;
	int rc = 0;

	(void)tail;
	if (col_json_body(app, req, reply, &doc) != 0)
		return;
	records = json_object_get(doc, "dossiers");
	n = json_array_size(records);
	if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_array(records) || n == 0 ||
	    n > RECORDS_MAX_BATCH) {
		col_reply_error(app, reply, COL_E_INVALID,
				"the body must be {\"dossiers\": [...]} with 1 to 500 records", "dossiers");
		goto out;
	}
	p = col_console_action_new(app, sizeof(*p) + n * sizeof(p->item[0]), store_records, answer_records);
	if (!p) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		goto out;
	}
	p->a.release = release_records;
	p->cat = col_app_catalog(app);
	p->records = json_incref(records);
	p->now = (int64_t)time(NULL);
	p->n = n;
	err_clear(&e);
	db = col_reader(app, &e);
	if (!db)
		rc = e.code;
	for (size_t i = 0; !rc && i < n; i++)
		rc = check_item(p, db, &req->sender->dev, i, &e);
	if (rc) {
		col_reply_err(app, reply, &e);
		col_console_action_free(&p->a);
		goto out;
	}
	col_console_defer(&p->a, reply);
out:
	json_decref(doc);
}
