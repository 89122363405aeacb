/*
 * staff.h - the officers an agency registers for its counters, and the
 * shift a kiosk's staff mode sets (docs/monitoring.md, "Counters and
 * officers").  An officer is a code of their agency (unique there, letters
 * taken in upper case) and a name; a disabled officer stays listed, since
 * stored ratings name them, and can be set on duty no more.  A kiosk's
 * shift is devices.officer_id for the Vietnam day devices.officer_day:
 * the kiosk's ratings of that day carry the officer (responses/store.c),
 * and the shift ends by itself with the day.
 *
 * Every function that writes runs inside the caller's write transaction
 * and never commits, so that the caller can put its audit entry in the
 * same one.
 */
#ifndef SIPAS_STAFF_H
#define SIPAS_STAFF_H

#include <stdint.h>
#include <sqlite3.h>

#include "../forms/registry.h"
#include "../lib/err.h"
#include "../office/user.h"

#define STAFF_CODE_MAX 32     /* characters of A-Z, 0-9, '-', '_', '.' */

/* An officer as the kiosk's staff mode and `sipas staff list` show them. */
struct staff_officer {
	char agency[REGISTRY_MAX_CODE + 1];   /* the agency's code */
	char code[STAFF_CODE_MAX + 1];
	char name[USER_NAME_MAX + 1];
	long long created_at;             /* Unix seconds */
	long long disabled_at;            /* 0: active */
};

/* code as stored: ASCII letters in upper case, into out.  0, or ERR_INVALID
 * with e naming field "code" when code is not 1 to STAFF_CODE_MAX of
 * letters, digits, '-', '_' and '.'. */
int staff_code_normalise(const char *code, char out[STAFF_CODE_MAX + 1], struct err *e);

/* Register officer `code` (normalised) called `name` at agency
 * `agency_code`.  ERR_INVALID naming field agency (no such agency), code
 * or name; ERR_CONFLICT naming code when the agency has that code
 * already, disabled or not. */
int staff_add(sqlite3 *db, const char *agency_code, const char *code, const char *name, long long now,
	      struct err *e);

/* Disable officer `code` of `agency_code` and end the shifts they are on
 * (their kiosks' next ratings carry nobody).  ERR_NOT_FOUND naming code
 * when there is no such officer (agency when no such agency); ERR_CONFLICT
 * when already disabled. */
int staff_disable(sqlite3 *db, const char *agency_code, const char *code, long long now, struct err *e);

/* Call each(arg, officer) for every officer, of agency `agency_code` only
 * when not NULL, by agency and code; a non-zero return stops and is
 * returned.  The officer is valid during the call only.  ERR_INVALID
 * naming field agency for an agency that does not exist. */
int staff_each(sqlite3 *db, const char *agency_code, int (*each)(void *arg, const struct staff_officer *o),
	       void *arg, struct err *e);

/* Set kiosk device_id's shift to officer `code` (as staff_code_normalise
 * leaves it) for Vietnam day `day`, or end it when code is NULL; *out gets the officer (empty
 * code when ended).  ERR_NOT_FOUND naming field "officer", and nothing
 * changed, when code is not an active officer of the kiosk's agency. */
int staff_shift_set(sqlite3 *db, long long device_id, const char *code, int32_t day, struct staff_officer *out,
		    struct err *e);

/* The officer on duty at kiosk device_id on Vietnam day `day` into *out:
 * its code is empty when there is none (no shift, or one of another
 * day). */
int staff_on_duty(sqlite3 *db, long long device_id, int32_t day, struct staff_officer *out, struct err *e);

#endif
