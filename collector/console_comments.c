/*
 * console_comments.c - the console's Comments screen (docs/console.md,
 * "Comments"): the citizens' comments and unhappy reasons of the agencies
 * a user may see (monitor/comments.h, scoped in the query), filtered and
 * paged as JSON or exported whole as CSV, and marking one handled with a
 * note, a writer job (console.h) that commits the mark with its audit
 * entry.  Another agency's comment, or one that does not exist, is 403
 * naming nothing of it for an agency user; a viewer reads and marks
 * nothing it may not act for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../lib/csv.h"
#include "../lib/period.h"
#include "../monitor/comments.h"
#include "console.h"
#include "handlers.h"
#include "request.h"

#define COMMENTS_PAGE_DEFAULT 50
#define COMMENTS_PAGE_MAX 500

/* Read the query's filter into f (its strings point into the request);
 * e names the field at fault. */
static int read_filter(const struct col_request *req, struct comments_filter *f, struct err *e)
{
	static const char *const days[] = { "from", "to" };
	const char *period = req->query(req->cls, "period"), *text;
	int32_t *bound[] = { &f->from_day, &f->to_day };
	struct period p;
	long long n;
	char *end;

	memset(f, 0, sizeof(*f));
	f->limit = COMMENTS_PAGE_DEFAULT;
	for (size_t i = 0; i < 2; i++) {
		text = req->query(req->cls, days[i]);
		if (text && *text && period_parse_day(text, bound[i], NULL) != 0)
			return err_set_field(e, ERR_INVALID, days[i], "%s is a day, YYYY-MM-DD", days[i]);
	}
	if (period && *period) {
		if (f->from_day || f->to_day)
			return err_set_field(e, ERR_INVALID, "period", "give a period or from and to, not both");
		if (period_parse(period, &p, NULL) != 0)
			return err_set_field(e, ERR_INVALID, "period", "period is a quarter (2026Q3), a year or "
					     "YYYY-MM-DD..YYYY-MM-DD");
		f->from_day = p.first_day;
		f->to_day = p.last_day;
	}
	if ((text = req->query(req->cls, "rating")) && *text) {
		n = strtoll(text, &end, 10);
		if (*end || n < 1 || n > 11)
			return err_set_field(e, ERR_INVALID, "rating", "rating is an answer on the form's scale, 1 to 11");
		f->rating = (int)n;
	}
	if ((text = req->query(req->cls, "before")) && *text) {
		f->before = strtoll(text, &end, 10);
		if (*end || f->before < 1)
			return err_set_field(e, ERR_INVALID, "before", "before is the id of a comment");
	}
	if ((text = req->query(req->cls, "limit")) && *text) {
		f->limit = strtoll(text, &end, 10);
		if (*end || f->limit < 1 || f->limit > COMMENTS_PAGE_MAX)
			return err_set_field(e, ERR_INVALID, "limit", "limit is 1 to %d", COMMENTS_PAGE_MAX);
	}
	f->words = req->query(req->cls, "q");
	if (f->words && strlen(f->words) > COMMENTS_WORDS_MAX)
		return err_set_field(e, ERR_INVALID, "q", "a search is at most %d bytes", COMMENTS_WORDS_MAX);
	f->sector = req->query(req->cls, "sector");
	f->agency = req->query(req->cls, "agency");
	if (f->sector && !*f->sector)
		f->sector = NULL;
	if (f->agency && !*f->agency)
		f->agency = NULL;
	return 0;
}

/* The filter of the request, checked against the user's scope: 0, or -1
 * with the reply set (400 naming the field; 403 for an agency not in
 * scope, naming nothing of it). */
static int request_filter(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			  struct comments_filter *f, sqlite3 **db)
{
	const struct col_console *c = &req->sender->console;
	struct err e;
	int in = 1;

	err_clear(&e);
	if (read_filter(req, f, &e) != 0) {
		col_reply_err(app, reply, &e);
		return -1;
	}
	*db = col_reader(app, &e);
	if (*db && f->agency)
		in = scope_has_code(*db, &c->scope, f->agency, &e);
	if (!*db || in < 0) {
		col_reply_err(app, reply, &e);
		return -1;
	}
	if (!in) {
		col_reply_error(app, reply, COL_E_FORBIDDEN, "not an agency of yours", "agency");
		return -1;
	}
	return 0;
}

static int row_json(const struct comments_row *row, void *arg)
{
	json_t *list = arg, *reasons = row->reasons ? json_loads(row->reasons, 0, NULL) : NULL;
	json_t *handled = row->handled_at ? json_pack("{s:o, s:s, s:s}", "at", col_json_time(row->handled_at),
						      "by", row->handled_by, "note", row->note) : json_null();

	return json_array_append_new(list, json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s?, s:s?, s:o, "
						     "s:{s:s?, s:s?}, s:s?, s:o, s:o}",
		"id", (json_int_t)row->id, "at", col_json_time(row->ts), "agency", row->agency,
		"agency_name", row->agency_name, "sector", row->sector, "sector_name", row->sector_name,
		"channel", row->channel, "counter", row->counter,
		"rating", row->rating ? json_integer(row->rating) : json_null(),
		"rating_label", "vi", row->rating_vi, "en", row->rating_en, "comment", row->comment,
		"reasons", reasons ? reasons : json_array(), "handled", handled ? handled : json_null()))
		? ERR_NOMEM : 0;
}

/* GET /console/api/comments */
void col_handle_console_comments(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				 const char *tail)
{
	struct comments_filter f;
	json_t *list = json_array(), *last;
	struct err e;
	sqlite3 *db;
	int rc;

	(void)tail;
	err_clear(&e);
	if (request_filter(app, req, reply, &f, &db) != 0)
		goto out;
	rc = list ? comments_list(db, &req->sender->console.scope, &f, row_json, list, &e) : ERR_NOMEM;
	if (rc) {
		if (rc == ERR_NOMEM)
			err_set(&e, ERR_NOMEM, "out of memory listing the comments");
		col_reply_err(app, reply, &e);
		goto out;
	}
	/* a full page may have more after it */
	last = (long long)json_array_size(list) == f.limit ? json_array_get(list, json_array_size(list) - 1) : NULL;
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:O, s:o}", "comments", list, "next",
						     last ? json_incref(json_object_get(last, "id")) : json_null()));
out:
	json_decref(list);
}

/* The CSV's columns, one table for its header and its cells. */
enum csv_column { CSV_ID, CSV_AT, CSV_AGENCY, CSV_SECTOR, CSV_COUNTER, CSV_CHANNEL, CSV_RATING, CSV_REASONS,
		  CSV_COMMENT, CSV_HANDLED_AT, CSV_HANDLED_BY, CSV_NOTE, CSV_COLUMNS };

static const char *const csv_header[CSV_COLUMNS] = {
	"id", "submitted_at", "agency", "sector", "counter", "channel", "rating", "reasons",
	"comment", "handled_at", "handled_by", "note"
};

/* Unix seconds as YYYY-MM-DD HH:MM in Vietnam time into buf (17 bytes); "" for 0. */
static void vietnam_time(long long t, char buf[17])
{
	time_t tt = (time_t)(t + PERIOD_TZ_SECONDS);
	struct tm tm;

	buf[0] = '\0';
	if (t && gmtime_r(&tt, &tm))
		strftime(buf, 17, "%Y-%m-%d %H:%M", &tm);
}

/* The reasons' Vietnamese labels, "; " between them, into sb. */
static void reasons_text(const char *reasons, struct strbuf *sb)
{
	json_t *list = reasons ? json_loads(reasons, 0, NULL) : NULL, *r;
	size_t i;

	json_array_foreach(list, i, r) {
		const char *label = json_string_value(json_object_get(r, "vi"));

		if (i)
			strbuf_addstr(sb, "; ");
		strbuf_addstr(sb, label ? label : json_string_value(json_object_get(r, "code")));
	}
	json_decref(list);
}

static int row_csv(const struct comments_row *row, void *arg)
{
	struct strbuf *out = arg, reasons = STRBUF_INIT;
	char id[24], rating[8], at[17], handled_at[17];
	const char *cells[CSV_COLUMNS];

	snprintf(id, sizeof(id), "%lld", row->id);
	snprintf(rating, sizeof(rating), "%d", row->rating);
	vietnam_time(row->ts, at);
	vietnam_time(row->handled_at, handled_at);
	reasons_text(row->reasons, &reasons);
	cells[CSV_ID] = id;
	cells[CSV_AT] = at;
	cells[CSV_AGENCY] = row->agency;
	cells[CSV_SECTOR] = row->sector;
	cells[CSV_COUNTER] = row->counter;
	cells[CSV_CHANNEL] = row->channel;
	cells[CSV_RATING] = row->rating ? rating : "";
	cells[CSV_REASONS] = strbuf_str(&reasons);
	cells[CSV_COMMENT] = row->comment;
	cells[CSV_HANDLED_AT] = handled_at;
	cells[CSV_HANDLED_BY] = row->handled_by;
	cells[CSV_NOTE] = row->note;
	for (size_t i = 0; i < CSV_COLUMNS; i++) {
		if (i)
			strbuf_addch(out, ',');
		/* every cell formula-safe: the text is the citizens' */
		csv_quote_cell(out, cells[i] ? cells[i] : "");
	}
	strbuf_addstr(out, "\r\n");
	strbuf_release(&reasons);
	return out->failed || reasons.failed ? ERR_NOMEM : 0;
}

/* GET /console/api/comments.csv: the same filter, every row (no paging) */
void col_handle_console_comments_csv(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				     const char *tail)
{
	struct comments_filter f;
	struct err e;
	sqlite3 *db;
	int rc;

	(void)tail;
	err_clear(&e);
	if (request_filter(app, req, reply, &f, &db) != 0)
		return;
	f.limit = 0;
	f.before = 0;
	strbuf_reset(&reply->body);
	/* a BOM, so that a spreadsheet reads the Vietnamese as UTF-8 */
	strbuf_addstr(&reply->body, "\xEF\xBB\xBF");
	for (size_t i = 0; i < CSV_COLUMNS; i++)
		strbuf_addf(&reply->body, "%s%s", i ? "," : "", csv_header[i]);
	strbuf_addstr(&reply->body, "\r\n");
	rc = comments_list(db, &req->sender->console.scope, &f, row_csv, &reply->body, &e);
	if (rc || reply->body.failed) {
		if (rc != ERR_DB)
			err_set(&e, ERR_NOMEM, "out of memory exporting the comments");
		strbuf_reset(&reply->body);
		reply->body.failed = 0;
		col_reply_err(app, reply, &e);
		return;
	}
	reply->status = MHD_HTTP_OK;
	reply->content_type = "text/csv; charset=utf-8";
}

/* A handled mark as the writer makes it (console.h's deferred action). */
struct handled_job {
	struct col_console_action a;
	json_t *doc;                  /* the body, which note points into */
	const char *note;
	long long id;
	char actor[USER_LOGIN_MAX + 1];
	char address[64];
	char subject[128];
	struct err refused;           /* the change's refusal, recorded with it */
};

static int change_handled(sqlite3 *db, void *arg, struct err *e)
{
	const struct handled_job *j = arg;
	/* the user's scope was checked before the writer: a comment never
	 * changes agency, so here it only has to exist */
	const struct scope every = { .all = 1 };

	return comments_mark_handled(db, &every, j->id, j->actor, j->note, (long long)time(NULL), e);
}

static int store_handled(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct handled_job *j = (struct handled_job *)(void *)a;
	struct audit_entry entry = { (long long)time(NULL), j->actor, j->address, "comment.handled", j->subject, "ok" };

	return col_console_audited(db, change_handled, j, &entry, &j->refused, e);
}

static void answer_handled(struct col_console_action *a, struct col_reply *reply)
{
	struct handled_job *j = (struct handled_job *)(void *)a;

	if (a->job.code)
		col_reply_err(a->app, reply, &a->job.err);
	else if (j->refused.code)
		col_reply_err(a->app, reply, &j->refused);
	else
		col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:I, s:{s:o, s:s, s:s}}", "id", (json_int_t)j->id,
							     "handled", "at", col_json_time((long long)time(NULL)),
							     "by", j->actor, "note", j->note));
}

static void release_handled(struct col_console_action *a)
{
	json_decref(((struct handled_job *)(void *)a)->doc);
}

/* POST /console/api/comments/{id}/handled {"note"} */
void col_handle_console_comment(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail)
{
	const struct col_console *c = &req->sender->console;
	struct handled_job *j = NULL;
	char agency[65];
	long long id;
	struct err e;
	sqlite3 *db;
	char *end;
	int in;

	err_clear(&e);
	id = strtoll(tail, &end, 10);
	if (end == tail || id <= 0 || strcmp(end, "/handled") != 0) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, "no such path: /console/api/comments/{id}/handled", NULL);
		goto out;
	}
	if (!(j = col_console_action_new(app, sizeof(*j), store_handled, answer_handled))) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		goto out;
	}
	j->a.release = release_handled;
	j->id = id;
	snprintf(j->actor, sizeof(j->actor), "%s", c->user.login);
	snprintf(j->address, sizeof(j->address), "%s", req->address);
	snprintf(j->subject, sizeof(j->subject), "comment %lld", id);
	if (c->user.role == USER_VIEWER) {
		col_console_refuse(app, req, reply, "comment.handled", j->subject, COL_E_FORBIDDEN,
				   "a viewer reads comments only", NULL);
		goto out;
	}
	db = col_reader(app, &e);
	in = db ? comments_in_scope(db, &c->scope, id, agency, &e) : -1;
	if (in < 0) {
		col_reply_err(app, reply, &e);
		goto out;
	}
	/* the office is told a comment does not exist; an agency user is
	 * told nothing of any comment not its own */
	if (!in) {
		col_console_refuse(app, req, reply, "comment.handled", j->subject,
				   c->scope.all ? COL_E_NOT_FOUND : COL_E_FORBIDDEN,
				   c->scope.all ? "no such comment" : "not a comment of yours", NULL);
		goto out;
	}
	if (col_json_string_body(app, req, reply, "note", &j->doc, &j->note) != 0)
		goto out;
	if (!*j->note || strlen(j->note) > COMMENTS_NOTE_MAX) {
		col_reply_error(app, reply, COL_E_INVALID, "the note is 1 to " COMMENTS_NOTE_MAX_TEXT
				" bytes of text, saying what was done", "note");
		goto out;
	}
	snprintf(j->subject, sizeof(j->subject), "comment %lld (%s)", id, agency);
	col_console_defer(&j->a, reply);
	j = NULL;
out:
	if (j)
		col_console_action_free(&j->a);
}
