/*
 * console_quarter.c - the console's Quarter screen (docs/console.md), the
 * office's alone: a quarter's state and its publications, the report as
 * it would be published (rendered as `sipas report` renders it), and
 * publishing and withdrawing it through the same code as `sipas publish`
 * (reports/rep_publish.h), recorded with the user's login and the audit
 * log's head.  A quarter that has not ended is published only when the
 * office types the confirmation words (CONFIRM_EARLY), the console's
 * `--early`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../lib/period.h"
#include "../office/audit.h"
#include "../reports/rep_publish.h"
#include "../reports/rep_report.h"
#include "console.h"
#include "handlers.h"
#include "request.h"
#include "static.h"

/* What the office types to publish a quarter before it ends. */
#define CONFIRM_EARLY "CÔNG BỐ SỚM"

/* The survey the quarterly report is about. */
#define REPORT_FORM "sipas-2017"

/* A quarter label from the query or a body: *p filled, or the reply set
 * (400 naming period) and -1. */
static int read_quarter(struct col_app *app, struct col_reply *reply, const char *label, struct period *p)
{
	struct err e;
	int quarter;

	err_clear(&e);
	if (!label || period_parse_quarter(label, &quarter, NULL) != 0) {
		col_reply_error(app, reply, COL_E_INVALID, "period must be a quarter such as 2026Q3", "period");
		return -1;
	}
	period_of_quarter(quarter, p);
	return 0;
}

static json_t *publications_json(sqlite3 *db, const struct period *p, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *list = json_array();
	int step = SQLITE_DONE;

	if (db_prepare(db, "SELECT p.action, p.at, p.actor, f.code, p.audit_head FROM publications p JOIN forms f "
		       "ON f.id = p.form_id WHERE p.period = ?1 ORDER BY p.id", &st, e) != 0)
		goto fail;
	sqlite3_bind_text(st, 1, p->label, -1, SQLITE_STATIC);
	/* a publication made before who was recorded has a null actor */
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:s, s:o, s:s?, s:s, s:s?}", "action",
						      sqlite3_column_text(st, 0), "at",
						      col_json_time(sqlite3_column_int64(st, 1)), "actor",
						      sqlite3_column_text(st, 2), "form", sqlite3_column_text(st, 3),
						      "audit_head", sqlite3_column_text(st, 4)));
	if (step != SQLITE_DONE) {
		db_fail(db, e, "reading the publications");
		goto fail;
	}
	sqlite3_finalize(st);
	return list;
fail:
	sqlite3_finalize(st);
	json_decref(list);
	return NULL;
}

/* GET /console/api/quarter?period=P */
void col_handle_console_quarter(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail)
{
	sqlite3_stmt *st = NULL;
	json_t *publications = NULL;
	struct period p;
	struct err e;
	sqlite3 *db;
	int32_t today = period_today();

	(void)tail;
	err_clear(&e);
	if (read_quarter(app, reply, req->query(req->cls, "period"), &p) != 0)
		return;
	db = col_reader(app, &e);
	/* one read: the publications and what is published now agree */
	if (!db || db_exec(db, "BEGIN", &e) != 0) {
		col_reply_err(app, reply, &e);
		return;
	}
	publications = publications_json(db, &p, &e);
	if (!publications || db_prepare(db, "SELECT count(*), max(early), max(published_at), (SELECT audit_head FROM "
				       "publications WHERE period = ?1 AND action = 'publish' ORDER BY id DESC "
				       "LIMIT 1) FROM published WHERE period = ?1", &st, &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	sqlite3_bind_text(st, 1, p.label, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		db_fail(db, &e, "reading the publications");
		col_reply_err(app, reply, &e);
		goto out;
	}
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:b, s:b, s:b, s:b, s:o, s:s?, s:O}", "period", p.label,
		"started", p.first_day <= today, "ended", p.last_day < today,
		"published", sqlite3_column_int(st, 0) > 0, "early", sqlite3_column_int(st, 1) > 0,
		"published_at", col_json_time(sqlite3_column_int64(st, 2)),
		"audit_head", sqlite3_column_int(st, 0) > 0 ? (const char *)sqlite3_column_text(st, 3) : NULL,
		"publications", publications));
out:
	sqlite3_finalize(st);
	db_exec(db, "COMMIT", NULL);
	json_decref(publications);
}

/* GET /console/preview/{P}/{file}: the report rendered now, marked early
 * as it would be if published before the quarter ends, served with the
 * public report pages' policy. */
void col_handle_console_preview(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail)
{
	size_t len = strcspn(tail, "/");
	const char *name = tail[len] ? tail + len + 1 : "";
	struct col_catalog *cat = col_app_catalog(app);
	const struct form *form = col_catalog_form(cat, REPORT_FORM);
	struct report_files files = { 0 };
	struct rep_report_opts opts = { 0, period_today(), NULL };
	char label[16];
	struct period p;
	struct err e;
	sqlite3 *db;
	size_t i;
	int quarter;

	(void)req;
	err_clear(&e);
	snprintf(label, sizeof(label), "%.*s", (int)(len < sizeof(label) ? len : 0), tail);
	if (!*name || strchr(name, '/') || period_parse_quarter(label, &quarter, NULL) != 0) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, "no such path: /console/preview/{quarter}/{file}", NULL);
		goto out;
	}
	period_of_quarter(quarter, &p);
	opts.early = p.last_day >= opts.today;
	db = col_reader(app, &e);
	if (!form)
		err_set(&e, ERR_NOT_FOUND, "form %s is not loaded", REPORT_FORM);
	/* one snapshot for every page of it */
	if (!db || !form || db_exec(db, "BEGIN", &e) != 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	if (rep_report_render(db, cat->reg, form, p.label, &opts, &files, &e) != 0) {
		db_exec(db, "ROLLBACK", NULL);
		col_reply_error(app, reply, e.code == ERR_NOT_FOUND ? COL_E_NOT_FOUND : col_error_from_err(e.code),
				e.text, NULL);
		goto out;
	}
	db_exec(db, "COMMIT", NULL);
	for (i = 0; i < files.n && strcmp(files.file[i].name, name) != 0; i++)
		;
	if (i == files.n) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, "no such file in the report", NULL);
		goto out;
	}
	reply->status = MHD_HTTP_OK;
	reply->content_type = col_static_type(name);
	reply->csp = COL_REPORT_CSP;
	strbuf_reset(&reply->body);
	strbuf_add(&reply->body, files.file[i].data, files.file[i].size);
out:
	rep_files_release(&files);
	col_catalog_release(cat);
}

/* A publication or withdrawal's body: {"period", ...}; the reply set and
 * -1 when it is not one. */
static int read_body(struct col_app *app, const struct col_request *req, struct col_reply *reply, json_t **doc,
		     struct period *p)
{
	if (col_json_body(app, req, reply, doc) != 0)
		return -1;
	return read_quarter(app, reply, json_string_value(json_object_get(*doc, "period")), p);
}

/* A publication or a withdrawal, from the handler to its reply.  It runs
 * on a thread of its own (col_console_thread): it stores the report's
 * files and figures under the write lock, as `sipas publish` does. */
struct publish_job {
	struct col_console_thread t;     /* first: the thread, its outcome */
	int withdraw;
	struct period p;
	int early;
	char actor[USER_LOGIN_MAX + 1];
	char address[64];
	int forms;                       /* published or withdrawn */
};

/* The job's struct rep_actor: the user's login, and its record in the
 * audit log with the head after it, in the publication's transaction. */
static int record_publication(void *arg, sqlite3 *db, const char *action, const char *subject, char *head,
			      struct err *e)
{
	const struct publish_job *j = arg;
	struct audit_entry entry = { (long long)time(NULL), j->actor, j->address, action, subject, "ok" };
	int rc = audit_append(db, &entry, e);

	return rc ? rc : audit_head(db, head, e);
}

static void run_publish(struct col_console_thread *t, sqlite3 *db)
{
	struct publish_job *j = (struct publish_job *)t;
	struct rep_actor who = { j->actor, record_publication, j };

	if (j->withdraw)
		t->rc = rep_withdraw(db, &j->p, NULL, &who, &j->forms, &t->e);
	else
		t->rc = rep_publish(db, &j->p, NULL, NULL, (int64_t)time(NULL), j->early, &who, &j->forms, &t->e);
	if (t->rc) {
		/* rolled back with its entry: the refusal is recorded alone */
		struct audit_entry refused = { (long long)time(NULL), j->actor, j->address,
					       j->withdraw ? "withdraw" : "publish", j->p.label, t->e.text };

		col_console_audit_alone(db, &refused);
	}
}

static void publish_finish(struct col_deferred *d, struct col_reply *reply)
{
	struct publish_job *j = (struct publish_job *)d;
	struct col_app *app = j->t.app;

	if (!reply)
		goto out;
	if (j->t.rc == ERR_NOT_FOUND && j->withdraw)
		col_reply_error(app, reply, COL_E_NOT_FOUND, j->t.e.text, "period");
	else if (j->t.rc)
		col_reply_err(app, reply, &j->t.e);
	else if (j->withdraw)
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:i}", "period", j->p.label, "forms", j->forms));
	else
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:i, s:b}", "period", j->p.label, "forms",
							     j->forms, "early", j->early));
out:
	free(j);
}

/* POST /console/api/publish and /withdraw: {"period"} (and, to publish a
 * quarter before it ends, "confirm_early"). */
static void publish_or_withdraw(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				int withdraw)
{
	struct publish_job *j = NULL;
	const char *words;
	json_t *doc = NULL;
	struct period p;

	if (read_body(app, req, reply, &doc, &p) != 0)
		goto out;
	j = calloc(1, sizeof(*j));
	if (!j) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		goto out;
	}
	j->withdraw = withdraw;
	j->p = p;
	j->early = !withdraw && p.last_day >= period_today();
	snprintf(j->actor, sizeof(j->actor), "%s", req->sender->console.user.login);
	snprintf(j->address, sizeof(j->address), "%s", req->address);
	words = json_string_value(json_object_get(doc, "confirm_early"));
	if (j->early && (!words || strcmp(words, CONFIRM_EARLY) != 0)) {
		col_console_refuse(app, req, reply, "publish", p.label, COL_E_CONFLICT,
				   "the quarter has not ended: type the words " CONFIRM_EARLY " to publish it early",
				   "confirm_early");
		free(j);
		goto out;
	}
	col_console_thread_defer(&j->t, app, run_publish, publish_finish, reply);
out:
	json_decref(doc);
}

void col_handle_console_publish(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail)
{
	(void)tail;
	publish_or_withdraw(app, req, reply, 0);
}

void col_handle_console_withdraw(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail)
{
	(void)tail;
	publish_or_withdraw(app, req, reply, 1);
}
