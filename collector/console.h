/*
 * console.h - what the console's routes share (inside collector/ only;
 * docs/console.md): the signed-in user of a request, checked from its
 * cookie before any body byte is read; the limits on sign-in attempts and
 * on password hashing; and the writes a console action makes, handed to
 * the writer (writer.h) so that no worker thread waits for the write lock.
 * The handlers themselves are declared in handlers.h.
 */
#ifndef SIPAS_CONSOLE_H
#define SIPAS_CONSOLE_H

#include <jansson.h>
#include <sqlite3.h>

#include "app.h"
#include "../office/audit.h"

/* Sign-in attempts (docs/console.md, "Sessions"): per login, a burst of
 * COL_CONSOLE_LOGIN_BURST failures, then one more every
 * 60 / COL_CONSOLE_LOGIN_PER_MINUTE seconds (a success costs nothing);
 * per address, COL_CONSOLE_ADDRESS_BURST attempts (sign-ins and password
 * links, right or wrong), then one every 45 s.  Both are checked before
 * any hashing. */
#define COL_CONSOLE_LOGIN_BURST 5
#define COL_CONSOLE_LOGIN_PER_MINUTE (5.0 / 15.0)
#define COL_CONSOLE_ADDRESS_BURST 20
#define COL_CONSOLE_ADDRESS_PER_MINUTE (20.0 / 15.0)
/* Password hashes and verifications running at once in the whole server;
 * one more is refused (503, Retry-After) rather than queued, so a flood of
 * sign-ins holds at most this many worker threads. */
#define COL_CONSOLE_HASHES 2

/* Set up app's sign-in limits.  Can't fail. */
void col_console_open(struct col_app *app);

/* Free what col_console_open took.  Can't fail. */
void col_console_close(struct col_app *app);

/* Check the request's session cookie, and for a method other than GET and
 * HEAD its X-CSRF-Token; fill sender->console (COL_SENDER_USER).  With
 * office_only, refuse (403) anyone but an office user.  On failure the
 * reply is set (401 signed out, 403 no CSRF token or not allowed) and -1
 * returned.  Records that the session was seen, at most once a minute, by
 * a writer job it does not wait for. */
int col_console_authenticate(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			     int office_only, struct col_sender *sender);

/* A console action whose reply waits for the writer's commit: the route's
 * deferred reply (app.h).  A route makes one with col_console_action_new,
 * inside a struct of its own whose first member it is, and hands it to
 * col_console_defer. */
struct col_console_action;

/* Run by the writer inside its transaction (writer.h's run: must not
 * commit); a non-zero return undoes the action's writes and is the job's
 * code. */
typedef int (*col_console_store)(sqlite3 *db, struct col_console_action *a, struct err *e);

/* On the request's thread once the job is committed (job.code 0) or has
 * failed (job.code, job.err say why): fill reply.  Not called when the
 * client has gone. */
typedef void (*col_console_answer)(struct col_console_action *a, struct col_reply *reply);

struct col_console_action {
	struct col_deferred deferred;   /* first: the HTTP layer's handle */
	struct col_app *app;
	struct col_write_job job;
	size_t size;                    /* of the whole allocation, wiped when freed */
	col_console_store store;
	col_console_answer answer;
	/* NULL, or set by the route: frees what the action owns beyond its
	 * own allocation (a JSON body, a buffer), whether answered or not */
	void (*release)(struct col_console_action *a);
};

/* A zeroed allocation of size bytes (at least a struct col_console_action,
 * its first member) with the action set up; NULL when out of memory.
 * Owned by the caller until col_console_defer. */
void *col_console_action_new(struct col_app *app, size_t size, col_console_store store,
			     col_console_answer answer);

/* Free an action that was not handed to col_console_defer, and what its
 * release frees. */
void col_console_action_free(struct col_console_action *a);

/* Make a the request's deferred reply: the writer runs its store, then its
 * answer fills the reply; a is then wiped and freed.  A shutdown waits
 * for it (its request is unanswered until then); once the
 * server is stopping, answered 503 at once instead.  Takes a. */
void col_console_defer(struct col_console_action *a, struct col_reply *reply);

/* Within a store: run change(db, arg, &why) in a savepoint of its own,
 * undone if it fails, then append the audit entry `entry` with its
 * outcome "ok" or the refusal's text, so that a refused action is recorded
 * too.  *refused gets the refusal (code 0 when done).  Returns non-zero
 * only when the database fails (the job fails). */
int col_console_audited(sqlite3 *db, int (*change)(sqlite3 *db, void *arg, struct err *e), void *arg,
			struct audit_entry *entry, struct err *refused, struct err *e);

/* ---- console_record.c: what the work routes share ---- */

/* Record a refused or failed console action with its outcome, by a
 * writer job of its own, and answer the refusal (why, message, field)
 * once it is committed: the reply is deferred (col_console_defer), so the
 * route sets nothing more on it.  A record that cannot be written is said
 * on stderr: the refusal stands either way. */
void col_console_refuse(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *action, const char *subject, enum col_error why, const char *message,
			const char *field);

/* Answer a refusal a store already recorded (col_console_audited, in the
 * change's own job; col_console_refuse is for one found before the
 * writer): the refusal's status, text and field, with ERR_NOT_FOUND as
 * 404 not_found (the account the path names). */
void col_console_reply_refused(struct col_app *app, struct col_reply *reply, const struct err *refused);

/* Work that takes the write lock for long on a connection of its own, as
 * the command line does (an import, a publication): it runs on a thread of
 * its own while its request waits in a deferred reply, so that no worker
 * thread holds or waits for the lock, and a stopping server waits for it
 * (its request is unanswered until then).  A job embeds this first and hands it over with
 * col_console_thread_defer; its finish (the deferred reply's) reads rc and
 * e, and frees the job. */
struct col_console_thread {
	struct col_deferred deferred;      /* first: the HTTP layer's handle */
	struct col_app *app;
	/* on the thread, with a connection of its own closed after it: do the
	 * work and set rc (0, or an err code with e filled) */
	void (*work)(struct col_console_thread *t, sqlite3 *db);
	int rc;
	struct err e;
	void (*resume)(void *arg);
	void *resume_arg;
};

/* Make t (embedded first in its job) the reply's deferred work: work runs
 * on a new thread once the HTTP layer has suspended the request, then
 * finish answers on the request's thread (reply NULL: the client left).
 * Owns the job from here: finish must free it. */
void col_console_thread_defer(struct col_console_thread *t, struct col_app *app,
			      void (*work)(struct col_console_thread *t, sqlite3 *db),
			      void (*finish)(struct col_deferred *d, struct col_reply *reply), struct col_reply *reply);

/* Append entry to the audit log in a transaction of its own on db (a
 * thread's connection); a record that cannot be written is said on
 * stderr. */
void col_console_audit_alone(sqlite3 *db, const struct audit_entry *entry);

/* Unix seconds as an ISO 8601 UTC JSON string; 0 as null.  New reference. */
json_t *col_json_time(long long t);

#endif
