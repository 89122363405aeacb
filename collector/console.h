/*
 * console.h - what the console's routes share (inside collector/ only;
 * docs/console.md): the signed-in user of a request, checked from its
 * cookie before any body byte is read, and the writes a console action
 * makes.  The handlers themselves are declared in handlers.h.
 */
#ifndef SIPAS_CONSOLE_H
#define SIPAS_CONSOLE_H

#include <jansson.h>
#include <sqlite3.h>

#include "app.h"

/* Check the request's session cookie, and for a method other than GET and
 * HEAD its X-CSRF-Token; fill sender->console (COL_SENDER_USER).  With
 * office_only, refuse (403) anyone but an office user.  On failure the
 * reply is set (401 signed out, 403 no CSRF token or not allowed) and -1
 * returned.  Records that the session was seen (at most once a minute). */
int col_console_authenticate(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			     int office_only, struct col_sender *sender);

/* Run fn(db, arg, e) inside one write transaction and commit it; on
 * failure roll back and return its err_code with e filled.  fn must not
 * commit.  Blocks the calling thread until the commit. */
int col_console_transact(struct col_app *app, int (*fn)(sqlite3 *db, void *arg, struct err *e), void *arg,
			 struct err *e);

/* A col_console_transact fn: record that the session (a struct session *)
 * was seen now. */
int col_console_touch(sqlite3 *db, void *session, struct err *e);

/* ---- console_record.c: what the work routes share ---- */

/* Append a console action to the audit log (office/audit.h): actor the
 * signed-in user's login, address the request's, outcome "ok" or why it
 * failed.  Inside the caller's write transaction, so that the change and
 * its record commit together. */
int col_console_audit(sqlite3 *db, const struct col_request *req, const char *action, const char *subject,
		      const char *outcome, struct err *e);

/* Record a refused or failed console action with its outcome, in a write
 * transaction of its own, and fill reply with the refusal (why, message,
 * field).  A record that cannot be written is said on stderr: the refusal
 * stands either way. */
void col_console_refuse(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *action, const char *subject, enum col_error why, const char *message,
			const char *field);

/* col_console_refuse with an err's code, text and field. */
void col_console_refuse_err(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			    const char *action, const char *subject, const struct err *e);

/* Unix seconds as an ISO 8601 UTC JSON string; 0 as null.  New reference. */
json_t *col_json_time(long long t);

#endif
