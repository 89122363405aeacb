/*
 * console_record.c - what the console's work routes share (console.h):
 * their actions on record in the audit log, a refusal recorded with its
 * outcome, and times as the API writes them.
 */
#include "console.h"

#include <stdio.h>
#include <time.h>

#include "../office/audit.h"
#include "request.h"

int col_console_audit(sqlite3 *db, const struct col_request *req, const char *action, const char *subject,
		      const char *outcome, struct err *e)
{
	struct audit_entry entry = { (long long)time(NULL), req->sender->console.user.login, req->address, action,
				     subject, outcome };

	return audit_append(db, &entry, e);
}

/* What a refusal records. */
struct refusal {
	const struct col_request *req;
	const char *action, *subject, *outcome;
};

static int record_refusal(sqlite3 *db, void *arg, struct err *e)
{
	const struct refusal *r = arg;

	return col_console_audit(db, r->req, r->action, r->subject, r->outcome, e);
}

void col_console_refuse(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *action, const char *subject, enum col_error why, const char *message,
			const char *field)
{
	const struct col_error_info *info = col_error_info(why);
	struct refusal r = { req, action, subject, message && *message ? message : info->message };
	struct err e;

	err_clear(&e);
	if (col_console_transact(app, record_refusal, &r, &e) != 0)
		fprintf(stderr, "sipas serve: cannot record a refused %s of %s in the audit log: %s\n", action,
			subject, e.text);
	col_reply_error(app, reply, why, message, field);
}

void col_console_refuse_err(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			    const char *action, const char *subject, const struct err *e)
{
	col_console_refuse(app, req, reply, action, subject, col_error_from_err(e->code), e->text, e->field);
}

json_t *col_json_time(long long t)
{
	time_t tt = (time_t)t;
	char text[32];
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm))
		return json_null();
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(text);
}
