/*
 * route_kiosk.c - what a kiosk tells the server besides its ratings
 * (docs/monitoring.md, "Counters and officers"):
 *
 *   POST /api/kiosk/shift      {"officer": CODE | null}: the officer on duty
 *   POST /api/kiosk/heartbeat  {"queued": N}: alive, N ratings waiting
 *
 * Both take the kiosk's token (checked, and the device's rate spent, before
 * the body is read) and write through the single writer as a job whose
 * reply waits for its commit, so no worker thread waits for the write lock.
 * Both answer who is on duty today, which the kiosk shows in its staff
 * mode only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../lib/period.h"
#include "../monitor/staff.h"
#include "console.h"
#include "device.h"
#include "handlers.h"
#include "request.h"

/* The most ratings a heartbeat may say are waiting: far beyond what a
 * tablet's queue holds, small enough for any integer type. */
#define KIOSK_QUEUED_MAX 1000000000LL

/* A shift set or ended, or a heartbeat: the writer's job and its answer. */
struct kiosk_note {
	struct col_console_action a;
	long long device_id;
	int32_t day;                     /* today, Vietnam time */
	int heartbeat;                   /* else a shift */
	long long queued;                /* heartbeat */
	int has_code;                    /* shift: set (else end) */
	char code[STAFF_CODE_MAX + 1];
	struct staff_officer officer;    /* on duty after the job */
};

static int store_note(sqlite3 *db, struct col_console_action *a, struct err *e)
{
	struct kiosk_note *k = (struct kiosk_note *)(void *)a;

	if (!k->heartbeat)
		return staff_shift_set(db, k->device_id, k->has_code ? k->code : NULL, k->day, &k->officer, e);
	if (device_heartbeat(db, k->device_id, k->queued, (int64_t)time(NULL), e) != 0)
		return e->code;
	return staff_on_duty(db, k->device_id, k->day, &k->officer, e);
}

/* {"officer": {"code", "name"} | null} */
static void answer_note(struct col_console_action *a, struct col_reply *reply)
{
	struct kiosk_note *k = (struct kiosk_note *)(void *)a;
	const struct staff_officer *o = &k->officer;

	if (a->job.code == ERR_NOT_FOUND) {
		col_reply_error(a->app, reply, COL_E_UNPROCESSABLE, a->job.err.text, a->job.err.field);
		return;
	}
	if (a->job.code) {
		col_reply_err(a->app, reply, &a->job.err);
		return;
	}
	col_reply_json(reply, MHD_HTTP_OK,
		       json_pack("{s:o}", "officer", o->code[0] ? json_pack("{s:s, s:s}", "code", o->code, "name", o->name)
							       : json_null()));
}

/* The body's one field `name`, which must be the only one: a borrowed
 * reference into *doc (json_decref it), or NULL with the reply set (400
 * naming the field, `shape` saying what is expected). */
static json_t *one_field(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *name, const char *shape, json_t **doc)
{
	json_t *value;

	if (col_json_body(app, req, reply, doc) != 0) {
		*doc = NULL;
		return NULL;
	}
	value = json_object_get(*doc, name);
	if (!json_is_object(*doc) || json_object_size(*doc) != 1 || !value) {
		col_reply_error(app, reply, COL_E_INVALID, shape, name);
		return NULL;
	}
	return value;
}

/* A new note of the calling kiosk, or NULL with the reply set. */
static struct kiosk_note *note_new(struct col_app *app, const struct col_request *req, struct col_reply *reply)
{
	struct kiosk_note *k = col_console_action_new(app, sizeof(*k), store_note, answer_note);

	if (!k) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		return NULL;
	}
	k->device_id = req->sender->dev.id;
	k->day = period_today();
	return k;
}

void col_handle_kiosk_shift(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			    const char *tail)
{
	static const char shape[] = "the body must be {\"officer\": \"CODE\"}, or {\"officer\": null} to end the shift";
	char code[STAFF_CODE_MAX + 1] = "";
	struct kiosk_note *k;
	json_t *doc, *value;
	struct err e;

	(void)tail;
	value = one_field(app, req, reply, "officer", shape, &doc);
	if (!value)
		goto out;
	if (!json_is_null(value) && !json_is_string(value)) {
		col_reply_error(app, reply, COL_E_INVALID, shape, "officer");
		goto out;
	}
	if (json_is_string(value) && staff_code_normalise(json_string_value(value), code, &e) != 0) {
		col_reply_error(app, reply, COL_E_INVALID, e.text, "officer");
		goto out;
	}
	k = note_new(app, req, reply);
	if (!k)
		goto out;
	k->has_code = code[0] != '\0';
	memcpy(k->code, code, sizeof(code));
	col_console_defer(&k->a, reply);
out:
	json_decref(doc);
}

void col_handle_kiosk_heartbeat(struct col_app *app, const struct col_request *req, struct col_reply *reply,
				const char *tail)
{
	static const char shape[] = "the body must be {\"queued\": N}, N the ratings waiting to be sent";
	struct kiosk_note *k;
	json_t *doc, *value;
	char msg[96];

	(void)tail;
	value = one_field(app, req, reply, "queued", shape, &doc);
	if (!value)
		goto out;
	if (!json_is_integer(value) || json_integer_value(value) < 0 || json_integer_value(value) > KIOSK_QUEUED_MAX) {
		snprintf(msg, sizeof(msg), "queued must be a whole number from 0 to %lld", KIOSK_QUEUED_MAX);
		col_reply_error(app, reply, COL_E_INVALID, msg, "queued");
		goto out;
	}
	k = note_new(app, req, reply);
	if (!k)
		goto out;
	k->heartbeat = 1;
	k->queued = (long long)json_integer_value(value);
	col_console_defer(&k->a, reply);
out:
	json_decref(doc);
}
