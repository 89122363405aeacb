/*
 * console_record.c - what the console's work routes share (console.h):
 * their actions on record in the audit log; refusals, recorded with
 * their outcome by a writer job the reply waits for (the request's thread
 * does not), and answered; work on a thread of its own; and times as the
 * API writes them.
 */
#include "console.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "../db/db.h"

#include "../office/audit.h"
#include "request.h"

/* A refusal on its way to the audit log, and the reply it gets once
 * recorded: so that the log holds it when the client reads the reply. */
struct refusal {
	struct col_console_action a;
	enum col_error why;
	char actor[USER_LOGIN_MAX + 1];
	char address[64];
	char action[32];
	char subject[256];
	char message[sizeof(((struct err *)0)->text)];
	char field[sizeof(((struct err *)0)->field)];
};

/* The audit's outcome of a refusal: its message, else its code's. */
static const char *refusal_outcome(const struct refusal *r)
{
	return r->message[0] ? r->message : col_error_info(r->why)->message;
}

static int store_refusal(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct refusal *r = (struct refusal *)(void *)a;
	struct audit_entry entry = { (long long)time(NULL), r->actor, r->address, r->action, r->subject,
				     refusal_outcome(r) };

	return audit_append(db, &entry, e);
}

static void say_unrecorded(const char *action, const char *subject, const char *why)
{
	fprintf(stderr, "sipas serve: cannot record a refused %s of %s in the audit log: %s\n", action, subject,
		why);
}

static void answer_refusal(struct col_console_action *a, struct col_reply *reply)
{
	struct refusal *r = (struct refusal *)(void *)a;

	/* the refusal stands whether or not it could be recorded */
	if (a->job.code)
		say_unrecorded(r->action, r->subject, a->job.err.text);
	col_reply_error(a->app, reply, r->why, r->message, r->field);
}

void col_console_refuse(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *action, const char *subject, enum col_error why, const char *message,
			const char *field)
{
	struct refusal *r = col_console_action_new(app, sizeof(*r), store_refusal, answer_refusal);

	if (!r) {
		say_unrecorded(action, subject, "out of memory");
		col_reply_error(app, reply, why, message, field);
		return;
	}
	r->why = why;
	snprintf(r->actor, sizeof(r->actor), "%s", req->sender->console.user.login);
	snprintf(r->address, sizeof(r->address), "%s", req->address);
	snprintf(r->action, sizeof(r->action), "%s", action);
	snprintf(r->subject, sizeof(r->subject), "%s", subject);
	snprintf(r->message, sizeof(r->message), "%s", message ? message : "");
	snprintf(r->field, sizeof(r->field), "%s", field ? field : "");
	col_console_defer(&r->a, reply);
}

void col_console_reply_refused(struct col_app *app, struct col_reply *reply, const struct err *refused)
{
	/* what is missing is what the path names (an account): 404 */
	col_reply_error(app, reply, refused->code == ERR_NOT_FOUND ? COL_E_NOT_FOUND : col_error_from_err(refused->code),
			refused->text, refused->field);
}

static void *thread_main(void *arg)
{
	struct col_console_thread *t = arg;
	sqlite3 *db = NULL;

	t->rc = db_open(t->app->db_path, 0, &db, &t->e);
	if (!t->rc)
		t->work(t, db);
	db_close(db);
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
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&thread, &attr, thread_main, t) == 0;
	pthread_attr_destroy(&attr);
	if (!started) {
		t->rc = err_set(&t->e, ERR_NOMEM, "no thread for this work: try again");
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
