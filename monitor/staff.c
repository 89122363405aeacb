/*
 * staff.c - officers and kiosk shifts (see staff.h).
 */
#include "staff.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "../db/db.h"

/* The columns struct staff_officer is read from, after a query's own. */
#define OFFICER_COLUMNS "a.code, s.code, s.name, s.created_at, s.disabled_at"

int staff_code_normalise(const char *code, char out[STAFF_CODE_MAX + 1], struct err *e)
{
	size_t n = code ? strlen(code) : 0;

	if (n == 0 || n > STAFF_CODE_MAX || strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
						  "0123456789-_.") != n)
		return err_set_field(e, ERR_INVALID, "code", "a staff code is 1 to %d of letters, digits, '-', '_' "
				     "and '.'", STAFF_CODE_MAX);
	for (size_t i = 0; i <= n; i++)
		out[i] = code[i] >= 'a' && code[i] <= 'z' ? (char)(code[i] - 'a' + 'A') : code[i];
	return 0;
}

/* Fill *o from st's columns from `first` on (OFFICER_COLUMNS). */
static void read_officer(sqlite3_stmt *st, int first, struct staff_officer *o)
{
	const unsigned char *agency = sqlite3_column_text(st, first), *code = sqlite3_column_text(st, first + 1);
	const unsigned char *name = sqlite3_column_text(st, first + 2);

	snprintf(o->agency, sizeof(o->agency), "%s", agency ? (const char *)agency : "");
	snprintf(o->code, sizeof(o->code), "%s", code ? (const char *)code : "");
	snprintf(o->name, sizeof(o->name), "%s", name ? (const char *)name : "");
	o->created_at = sqlite3_column_int64(st, first + 3);
	o->disabled_at = sqlite3_column_int64(st, first + 4);
}

/* The id of agency `code` into *id; ERR_INVALID naming field agency when
 * there is none. */
static int agency_id(sqlite3 *db, const char *code, long long *id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT id FROM agencies WHERE code = ?1", &st, e), step;

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else if (step == SQLITE_DONE)
		rc = err_set_field(e, ERR_INVALID, "agency", "no agency '%s' in the registry", code);
	else
		rc = db_fail(db, e, "reading an agency");
	sqlite3_finalize(st);
	return rc;
}

int staff_add(sqlite3 *db, const char *agency_code, const char *code, const char *name, long long now,
	      struct err *e)
{
	char norm[STAFF_CODE_MAX + 1];
	sqlite3_stmt *st = NULL;
	long long agency;
	int rc, step;

	assert(!sqlite3_get_autocommit(db));
	if ((rc = agency_id(db, agency_code, &agency, e)) != 0 || (rc = staff_code_normalise(code, norm, e)) != 0 ||
	    (rc = user_check_name(name, e)) != 0)
		return rc;
	rc = db_prepare(db, "INSERT INTO staff(agency_id, code, name, created_at) VALUES (?1, ?2, ?3, ?4)", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, agency);
	sqlite3_bind_text(st, 2, norm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	step = sqlite3_step(st);
	if (step == SQLITE_CONSTRAINT_UNIQUE)
		rc = err_set_field(e, ERR_CONFLICT, "code", "agency %s has staff code %s already (a disabled one "
				   "stays taken: its ratings name it)", agency_code, norm);
	else if (step != SQLITE_DONE)
		rc = db_fail(db, e, "adding an officer");
	sqlite3_finalize(st);
	return rc;
}

int staff_disable(sqlite3 *db, const char *agency_code, const char *code, long long now, struct err *e)
{
	char norm[STAFF_CODE_MAX + 1];
	sqlite3_stmt *st = NULL;
	long long agency, id = 0;
	int rc, step;

	assert(!sqlite3_get_autocommit(db));
	if ((rc = agency_id(db, agency_code, &agency, e)) != 0 || (rc = staff_code_normalise(code, norm, e)) != 0)
		return rc;
	rc = db_prepare(db, "SELECT id, disabled_at IS NOT NULL FROM staff WHERE agency_id = ?1 AND code = ?2", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, agency);
	sqlite3_bind_text(st, 2, norm, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_int(st, 1))
		rc = err_set_field(e, ERR_CONFLICT, "code", "officer %s of %s is disabled already", norm, agency_code);
	else if (step == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else if (step == SQLITE_DONE)
		rc = err_set_field(e, ERR_NOT_FOUND, "code", "agency %s has no staff code %s", agency_code, norm);
	else
		rc = db_fail(db, e, "reading an officer");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	rc = db_prepare(db, "UPDATE staff SET disabled_at = ?2 WHERE id = ?1", &st, e);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "disabling an officer");
		sqlite3_finalize(st);
	}
	if (rc)
		return rc;
	rc = db_prepare(db, "UPDATE devices SET officer_id = NULL, officer_day = NULL WHERE officer_id = ?1", &st, e);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "ending an officer's shifts");
		sqlite3_finalize(st);
	}
	return rc;
}

int staff_each(sqlite3 *db, const char *agency_code, int (*each)(void *arg, const struct staff_officer *o),
	       void *arg, struct err *e)
{
	struct staff_officer o;
	sqlite3_stmt *st = NULL;
	long long agency = 0;
	int rc = agency_code ? agency_id(db, agency_code, &agency, e) : 0, step;

	if (!rc)
		rc = db_prepare(db, "SELECT " OFFICER_COLUMNS " FROM staff s JOIN agencies a ON a.id = s.agency_id "
				"WHERE ?1 = 0 OR s.agency_id = ?1 ORDER BY a.code, s.code", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, agency);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		read_officer(st, 0, &o);
		if ((rc = each(arg, &o)) != 0)
			goto out;
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, e, "listing officers");
out:
	sqlite3_finalize(st);
	return rc;
}

int staff_shift_set(sqlite3 *db, long long device_id, const char *code, int32_t day, struct staff_officer *out,
		    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	assert(!sqlite3_get_autocommit(db));
	memset(out, 0, sizeof(*out));
	/* one statement: the officer must be an active one of the kiosk's own
	 * agency, else no row is updated and nothing changes */
	rc = db_prepare(db, code ?
			"UPDATE devices SET officer_id = s.id, officer_day = ?3 FROM staff s "
			"WHERE devices.id = ?1 AND s.agency_id = devices.agency_id AND s.code = ?2 "
			"AND s.disabled_at IS NULL" :
			"UPDATE devices SET officer_id = NULL, officer_day = NULL WHERE id = ?1", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, device_id);
	if (code) {
		sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, day);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "setting a kiosk's shift");
	else if (code && sqlite3_changes(db) == 0)
		rc = err_set_field(e, ERR_NOT_FOUND, "officer", "%s is not an active staff code of this kiosk's agency",
				   code);
	sqlite3_finalize(st);
	return rc || !code ? rc : staff_on_duty(db, device_id, day, out, e);
}

int staff_on_duty(sqlite3 *db, long long device_id, int32_t day, struct staff_officer *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT " OFFICER_COLUMNS " FROM devices d JOIN staff s ON s.id = d.officer_id "
			    "JOIN agencies a ON a.id = s.agency_id WHERE d.id = ?1 AND d.officer_day = ?2", &st, e), step;

	memset(out, 0, sizeof(*out));
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, device_id);
	sqlite3_bind_int(st, 2, day);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		read_officer(st, 0, out);
	else if (step != SQLITE_DONE)
		rc = db_fail(db, e, "reading a kiosk's shift");
	sqlite3_finalize(st);
	return rc;
}
