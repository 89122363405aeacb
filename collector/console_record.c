/*
 * console_record.c - what the console's work routes share (console.h):
 * their actions on record in the audit log, a refusal recorded with its
 * outcome, work on a thread of its own, and times as the API writes them.
 */
#include "console.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "../db/db.h"

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

static void *thread_main(void *arg)
{
	struct col_console_thread *t = arg;
	sqlite3 *db = NULL;

	t->rc = db_open(t->app->db_path, 0, &db, &t->e);
	if (!t->rc)
		t->work(t, db);
	db_close(db);
	atomic_fetch_sub(&t->app->pending, 1);
	t->resume(t->resume_arg);
	return NULL;
}

static void thread_start(struct col_deferred *d, void (*resume)(void *arg), void *arg)
{
	struct col_console_thread *t = (struct col_console_thread *)d;
	pthread_attr_t attr;
	pthread_t thread;
	int started;

	t->resume = resume;
	t->resume_arg = arg;
	atomic_fetch_add(&t->app->pending, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&thread, &attr, thread_main, t) == 0;
	pthread_attr_destroy(&attr);
	if (!started) {
		t->rc = err_set(&t->e, ERR_NOMEM, "no thread for this work: try again");
		atomic_fetch_sub(&t->app->pending, 1);
		resume(arg);
	}
}

void col_console_thread_defer(struct col_console_thread *t, struct col_app *app,
			      void (*work)(struct col_console_thread *t, sqlite3 *db),
			      void (*finish)(struct col_deferred *d, struct col_reply *reply), struct col_reply *reply)
{
	t->deferred.start = thread_start;
	t->deferred.finish = finish;
	t->app = app;
	t->work = work;
	err_clear(&t->e);
	reply->deferred = &t->deferred;
}

void col_console_audit_alone(sqlite3 *db, const struct audit_entry *entry)
{
	struct err e;

	err_clear(&e);
	if (db_exec(db, "BEGIN IMMEDIATE", &e) != 0 || audit_append(db, entry, &e) != 0 ||
	    db_exec(db, "COMMIT", &e) != 0) {
		db_exec(db, "ROLLBACK", NULL);
		fprintf(stderr, "sipas serve: cannot record %s of %s in the audit log: %s\n", entry->action,
			entry->subject, e.text);
	}
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
