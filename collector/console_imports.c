/*
 * console_imports.c - the console's Imports screen (docs/console.md): a
 * survey CSV or a dossier totals CSV, uploaded as multipart/form-data
 * (fields kind, form and file), imported exactly as `sipas import` and
 * `sipas dossiers import` import it (responses/import.h, dossiers.h):
 * whole or not at all, every bad row listed (the first hundred, with line,
 * column and message).  The HTTP layer has streamed the file to an
 * unlinked temporary file (app.h, struct col_upload); the import runs on a
 * thread of its own, on a connection of its own, while the request waits
 * in a deferred reply, and its outcome goes to the audit log ("import",
 * "dossiers.import", as the command line names them) once it is known.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "../office/audit.h"
#include "../responses/dossiers.h"
#include "../responses/import.h"
#include "console.h"
#include "handlers.h"
#include "request.h"

#define DEFAULT_SURVEY "sipas-2017"

/* What can be imported: the upload's kind field, and its audit action. */
enum import_kind { KIND_SURVEY, KIND_DOSSIERS };

static const struct {
	const char *name;
	const char *action;
} kinds[] = {
	[KIND_SURVEY] = { "survey", "import" },
	[KIND_DOSSIERS] = { "dossiers", "dossiers.import" },
};

#define N_KINDS (int)(sizeof(kinds) / sizeof(kinds[0]))

/* One import, from the handler to its reply: the deferred reply's
 * handle, what to import, and what came of it. */
struct import_job {
	struct col_console_thread t;   /* first: the thread, its outcome (t.rc, t.e) */
	struct col_catalog *catalog;   /* held until finish */
	int kind;                      /* enum import_kind */
	const struct form *form;       /* a survey's, in catalog */
	FILE *fp;                      /* the uploaded file, from its start */
	uint64_t size;
	char name[128];                /* the file's name, made safe for messages */
	char actor[AUDIT_ACTOR_MAX + 1];
	char address[64];
	/* the outcome, besides t.rc and t.e */
	struct import_stats stats;
	struct dossier_stats dossiers;
	struct import_report *report;  /* its rows also list a dossier file's bad rows */
	json_t *published;             /* periods already published that the file touches */
};

static void job_free(struct import_job *j)
{
	if (j->fp)
		fclose(j->fp);
	col_catalog_release(j->catalog);
	free(j->report);
	json_decref(j->published);
	free(j);
}

/* import_report's published(): the page says the figures will not move
 * until the quarter is published again. */
static void note_published(void *arg, const char *name, long line, const char *form, const struct period *p)
{
	struct import_job *j = arg;

	(void)name;
	(void)line;
	(void)form;
	json_array_append_new(j->published, json_string(p->label));
}

/* The import's outcome in the audit log, in a transaction of its own: the
 * import commits in parts (responses/import.c), so its record follows
 * the last of them. */
static void record_import(struct import_job *j, sqlite3 *db)
{
	char subject[256];
	struct audit_entry entry = { (long long)time(NULL), j->actor, j->address, kinds[j->kind].action, subject,
				     j->t.rc ? j->t.e.text : "ok" };

	snprintf(subject, sizeof(subject), "%s (%ld rows)", j->name,
		 j->kind == KIND_SURVEY ? j->stats.rows : j->dossiers.rows);
	col_console_audit_alone(db, &entry);
}

/* The import itself, on its own thread and its own connection. */
static void run_import(struct col_console_thread *t, sqlite3 *db)
{
	struct import_job *j = (struct import_job *)t;

	if (j->kind == KIND_SURVEY)
		t->rc = import_csv(db, j->catalog->reg, j->form, j->fp, j->name, j->size, 0, &j->stats, j->report,
				   &t->e);
	else
		t->rc = dossier_import(db, j->catalog->reg, j->fp, j->name, &j->dossiers, &j->report->rows, &t->e);
	record_import(j, db);
}

/* The listed bad rows as {"line", "column", "message"}; a refusal of the
 * file as a whole (its header, say) placed at its line is listed too. */
static json_t *bad_rows_json(const struct import_job *j)
{
	struct csv_bad_rows *own = NULL;
	const struct csv_bad_rows *rows = &j->report->rows;
	size_t len = strlen(j->name);
	json_t *list = json_array();

	if (!rows->listed && j->t.e.code == ERR_INVALID && strncmp(j->t.e.text, j->name, len) == 0 &&
	    j->t.e.text[len] == ':' && (own = calloc(1, sizeof(*own)))) {
		csv_bad_rows_note(own, strtol(j->t.e.text + len + 1, NULL, 10), &j->t.e);
		rows = own;
	}
	for (int i = 0; i < rows->listed; i++) {
		const struct csv_bad_row *r = &rows->row[i];

		json_array_append_new(list, json_pack("{s:I, s:s?, s:s}", "line", (json_int_t)r->line, "column",
						      r->column[0] ? r->column : NULL, "message", r->text + r->why_at));
	}
	free(own);
	return list;
}

static void import_finish(struct col_deferred *d, struct col_reply *reply)
{
	struct import_job *j = (struct import_job *)d;
	const struct col_error_info *info;
	enum col_error why;

	if (!reply)
		goto out;
	if (j->t.rc) {
		why = col_error_from_err(j->t.rc);
		info = col_error_info(why);
		col_metrics_reject(&j->t.app->metrics, why);
		col_reply_json(reply, info->status, json_pack("{s:o, s:o}", "error",
							      col_error_json(why, j->t.e.text, j->t.e.field), "errors",
							      bad_rows_json(j)));
	} else if (j->kind == KIND_SURVEY) {
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:I, s:I, s:I, s:O}", "kind", kinds[j->kind].name,
							     "rows", (json_int_t)j->stats.rows, "imported",
							     (json_int_t)j->stats.added, "already",
							     (json_int_t)j->stats.duplicates, "published", j->published));
	} else {
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:I, s:I, s:i, s:I}", "kind", kinds[j->kind].name,
							     "rows", (json_int_t)j->dossiers.rows, "imported",
							     (json_int_t)j->dossiers.rows, "already", 0, "replaced",
							     (json_int_t)j->dossiers.replaced));
	}
out:
	job_free(j);
}

/* The uploaded file's name for messages: its last path component, with
 * ':' and control bytes replaced, so that "NAME:LINE:" reads one way. */
static void safe_name(const char *filename, char *out, size_t n)
{
	const char *base = strrchr(filename, '/');

	snprintf(out, n, "%s", base ? base + 1 : filename);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == ':' || *p == '\\' || *p == 0x7f)
			*p = '_';
	if (!*out)
		snprintf(out, n, "upload.csv");
}

/* POST /console/api/imports (multipart/form-data: kind, form, file) */
void col_handle_console_import(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			       const char *tail)
{
	const struct col_upload *u = req->upload;
	const char *kind, *form;
	struct import_job *j = calloc(1, sizeof(*j));
	char subject[160];
	int fd = -1;

	(void)tail;
	/* the route's limit makes the HTTP layer stream its body (app.h) */
	assert(u);
	kind = col_upload_field(u, "kind");
	form = col_upload_field(u, "form");
	if (!j || !(j->report = calloc(1, sizeof(*j->report))) || !(j->published = json_array())) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		goto fail;
	}
	j->catalog = col_app_catalog(app);
	j->report->published = note_published;
	j->report->arg = j;
	snprintf(j->actor, sizeof(j->actor), "%s", req->sender->console.user.login);
	snprintf(j->address, sizeof(j->address), "%s", req->address);
	safe_name(u->filename, j->name, sizeof(j->name));
	snprintf(subject, sizeof(subject), "%s", j->name);
	for (j->kind = 0; j->kind < N_KINDS && !(kind && strcmp(kind, kinds[j->kind].name) == 0); j->kind++)
		;
	if (j->kind == N_KINDS) {
		col_console_refuse(app, req, reply, kinds[KIND_SURVEY].action, subject, COL_E_INVALID,
				   "kind must be survey or dossiers", "kind");
		goto fail;
	}
	if (!u->file_field[0] || strcmp(u->file_field, "file") != 0) {
		col_console_refuse(app, req, reply, kinds[j->kind].action, subject, COL_E_INVALID,
				   "the upload has no file (field file)", "file");
		goto fail;
	}
	if (j->kind == KIND_SURVEY && !(j->form = col_catalog_form(j->catalog, form ? form : DEFAULT_SURVEY))) {
		col_console_refuse(app, req, reply, kinds[j->kind].action, subject, COL_E_INVALID,
				   "no such form", "form");
		goto fail;
	}
	fd = dup(u->fd);
	j->fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (!j->fp) {
		if (fd >= 0)
			close(fd);
		col_reply_error(app, reply, COL_E_IO, "the upload cannot be read again", NULL);
		goto fail;
	}
	/* the descriptors share the offset the HTTP layer left at the end */
	rewind(j->fp);
	j->size = u->size;
	col_console_thread_defer(&j->t, app, run_import, import_finish, reply);
	return;
fail:
	if (j)
		job_free(j);
}
