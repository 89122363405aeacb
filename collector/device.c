/*
 * device.c - kiosk, admin and system credentials (see device.h).
 */
#include "device.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/array.h"
#include "../db/db.h"
#include "../forms/registry.h"
#include "../lib/intmap.h"
#include "../lib/secret.h"
#include "errors.h"

#define SECRET_BYTES 32
#define DEVICE_AUTH_MAX_CACHED 100000

/* A new secret: token gets "PUBLICID.SECRET" for public id pub_hex (12
 * hex digits), hash the SHA-256 of the secret. */
static int new_token(const char *pub_hex, char *token, uint8_t hash[SECRET_HASH_BYTES], struct err *e)
{
	uint8_t secret[SECRET_BYTES];
	char secret_hex_s[2 * SECRET_BYTES + 1];
	int rc = secret_random(secret, sizeof(secret), e);

	if (!rc)
		rc = secret_hash(secret, sizeof(secret), hash, e);
	if (!rc) {
		secret_hex(secret, sizeof(secret), secret_hex_s);
		snprintf(token, DEVICE_TOKEN_LEN + 1, "d%.12s.%.64s", pub_hex, secret_hex_s);
	}
	secret_wipe(secret_hex_s, sizeof(secret_hex_s));
	secret_wipe(secret, sizeof(secret));
	return rc;
}

static const struct device_role_info roles[] = {
	{ DEVICE_KIOSK, "kiosk", "a kiosk token is required", "--counter" },
	{ DEVICE_ADMIN, "admin", "an admin token is required", "--counter" },
	{ DEVICE_SYSTEM, "system", "a system token is required", "--name" },
};

const struct device_role_info *device_role_info(int role)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (roles[i].role == role)
			return &roles[i];
	return NULL;
}

int device_role_named(const char *name)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(roles[i].name, name) == 0)
			return roles[i].role;
	return 0;
}

/* Link device id to each of codes (n) by `sql`, an INSERT OR IGNORE
 * taking ?1 the device and ?2 a code; `exists` (?1 a code) tells an
 * unknown code, ERR_INVALID "unknown FIELD 'CODE'" on `field`, from a
 * repeated one. */
static int add_codes(sqlite3 *db, long long id, const char *sql, const char *exists,
		     const char *const *codes, size_t n, const char *field, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e), known;

	for (size_t i = 0; !rc && i < n; i++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, codes[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "adding a device's codes");
		else if (sqlite3_changes(db) == 0 &&
			 !(rc = db_query_exists(db, exists, &codes[i], 1, &known, e)) && !known)
			rc = err_set_field(e, ERR_INVALID, field, "unknown %s '%s'", field, codes[i]);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static int add_sectors(sqlite3 *db, long long id, const struct device_spec *spec, struct err *e)
{
	if (spec->n_sectors == 0 || spec->n_sectors > DEVICE_MAX_SECTORS)
		return err_set_field(e, ERR_INVALID, "sector", "a kiosk serves 1 to %d sectors (--sector CODE)",
				     DEVICE_MAX_SECTORS);
	return add_codes(db, id, "INSERT OR IGNORE INTO device_sectors(device_id, sector_id) "
			 "SELECT ?1, id FROM sectors WHERE code = ?2", "SELECT 1 FROM sectors WHERE code = ?1",
			 spec->sectors, spec->n_sectors, "sector", e);
}

/* A system token's agencies, unless it acts for all. */
static int add_agencies(sqlite3 *db, long long id, const struct device_spec *spec, struct err *e)
{
	if (spec->all_agencies)
		return spec->n_agencies ? err_set_field(e, ERR_INVALID, "agency",
							"--agency and --all-agencies exclude each other") : 0;
	if (spec->n_agencies == 0)
		return err_set_field(e, ERR_INVALID, "agency", "a system token acts for one or more agencies "
				     "(--agency CODE) or all of them (--all-agencies)");
	/* only `device add` makes system tokens: the message names its option */
	if (add_codes(db, id, "INSERT OR IGNORE INTO device_agencies(device_id, agency_id) "
		      "SELECT ?1, id FROM agencies WHERE code = ?2", "SELECT 1 FROM agencies WHERE code = ?1",
		      spec->agencies, spec->n_agencies, "agency", e) != 0)
		return e->code == ERR_INVALID ? err_prefix(e, "--agency") : e->code;
	return 0;
}

/* A kiosk's form: loaded, and without elements (docs/collector.md). */
static int check_kiosk_form(sqlite3 *db, const char *form, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT coalesce(json_array_length(json, '$.elements'), 0) FROM forms "
			    "WHERE code = ?1", &st, e);
	int step;

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, form, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_fail(db, e, "reading a form");
	else if (step == SQLITE_DONE)
		rc = err_set_field(e, ERR_INVALID, "form", "unknown form '%s'", form);
	else if (sqlite3_column_int64(st, 0) > 0)
		rc = err_set_field(e, ERR_INVALID, "form", "form %s rates service elements, as a survey does: "
				   "its ratings come from signed links and imports, not from a kiosk", form);
	sqlite3_finalize(st);
	return rc;
}

/* registry_check_valid for agency `code` as stored; an unknown code
 * passes (device_add names it). */
static int check_open_code(sqlite3 *db, const char *code, int32_t today, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct registry_entry a = { 0 };
	int rc = db_prepare(db, "SELECT a.code, coalesce(a.valid_from, ?2), coalesce(a.valid_to, ?3), s.code "
			    "FROM agencies a LEFT JOIN agencies s ON s.id = a.successor_id WHERE a.code = ?1", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, REGISTRY_ALWAYS_FROM);
	sqlite3_bind_int(st, 3, REGISTRY_STILL_VALID);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		a.code = (char *)sqlite3_column_text(st, 0);
		a.valid_from = sqlite3_column_int(st, 1);
		a.valid_to = sqlite3_column_int(st, 2);
		a.successor = (char *)sqlite3_column_text(st, 3);
		rc = registry_check_valid(&a, today, e);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_fail(db, e, "reading an agency");
	}
	sqlite3_finalize(st);
	return rc;
}

int device_check_open(sqlite3 *db, const struct device_spec *spec, int32_t today, struct err *e)
{
	int rc = 0;

	if (spec->role == DEVICE_KIOSK && spec->agency)
		rc = check_open_code(db, spec->agency, today, e);
	for (size_t i = 0; !rc && spec->role == DEVICE_SYSTEM && i < spec->n_agencies; i++)
		rc = check_open_code(db, spec->agencies[i], today, e);
	return rc;
}

int device_add(sqlite3 *db, const struct device_spec *spec, char *token, long long *id,
	       struct err *e)
{
	const struct device_role_info *role = device_role_info(spec->role);
	const char *form = spec->form ? spec->form : DEVICE_KIOSK_FORM;
	uint8_t pub[6], hash[SECRET_HASH_BYTES];
	char pub_hex[13];
	sqlite3_stmt *st = NULL;
	int kiosk = spec->role == DEVICE_KIOSK, rc;

	assert(role);
	if (!spec->counter || !*spec->counter || strlen(spec->counter) > 100)
		return err_set_field(e, ERR_INVALID, "counter", "%s must be 1 to 100 characters", role->name_option);
	rc = kiosk ? check_kiosk_form(db, form, e) : 0;
	if (!rc)
		rc = secret_random(pub, sizeof(pub), e);
	if (!rc) {
		secret_hex(pub, sizeof(pub), pub_hex);
		rc = new_token(pub_hex, token, hash, e);
	}
	if (!rc)
		rc = db_prepare(db, "INSERT INTO devices(public_id, role, agency_id, counter, secret_hash, "
				"created_at, form, all_agencies) VALUES (?1, ?2, (SELECT id FROM agencies WHERE code = ?3), "
				"?4, ?5, ?6, ?7, ?8)", &st, e);
	if (rc)
		goto out;
	sqlite3_bind_text(st, 1, token, DEVICE_PUBLIC_ID_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, role->name, -1, SQLITE_STATIC);
	if (kiosk)
		sqlite3_bind_text(st, 3, spec->agency ? spec->agency : "", -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, spec->counter, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	if (kiosk)
		sqlite3_bind_text(st, 7, form, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_int(st, 8, spec->role == DEVICE_SYSTEM && spec->all_agencies);
	if (sqlite3_step(st) != SQLITE_DONE) {
		if (kiosk && sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_CHECK)
			rc = err_set_field(e, ERR_INVALID, "agency", "unknown agency '%s'",
					   spec->agency ? spec->agency : "");
		else
			rc = db_fail(db, e, "adding a device");
		goto out;
	}
	*id = sqlite3_last_insert_rowid(db);
	if (kiosk)
		rc = add_sectors(db, *id, spec, e);
	else if (spec->role == DEVICE_SYSTEM)
		rc = add_agencies(db, *id, spec, e);
out:
	sqlite3_finalize(st);
	if (rc)
		secret_wipe(token, DEVICE_TOKEN_LEN + 1);
	return rc;
}

/* The error for a device id that names no active kiosk. */
static int no_kiosk(sqlite3 *db, long long id, struct err *e)
{
	char id_s[32];
	int revoked = 0;

	snprintf(id_s, sizeof(id_s), "%lld", id);
	if (db_query_exists(db, "SELECT 1 FROM devices WHERE id = ?1 AND role = 'kiosk' AND revoked_at IS NOT NULL",
			    (const char *const[]){ id_s }, 1, &revoked, e) != 0)
		return e->code;
	if (revoked)
		return err_set(e, ERR_INVALID, "device %lld is revoked", id);
	return err_set(e, ERR_NOT_FOUND, "no kiosk %lld", id);
}

int device_pairing_new(sqlite3 *db, long long id, int64_t now, char *code, struct err *e)
{
	uint8_t raw[DEVICE_PAIR_CODE_LEN / 2], hash[SECRET_HASH_BYTES];
	sqlite3_stmt *st = NULL;
	int rc = secret_random(raw, sizeof(raw), e);

	if (!rc) {
		secret_hex(raw, sizeof(raw), code);
		rc = secret_hash(code, DEVICE_PAIR_CODE_LEN, hash, e);
	}
	if (!rc)
		rc = db_prepare(db, "INSERT INTO pairings(code_hash, device_id, expires_at) "
				"SELECT ?1, id, ?3 FROM devices WHERE id = ?2 AND role = 'kiosk' AND revoked_at IS NULL",
				&st, e);
	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, now + DEVICE_PAIR_SECONDS);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "adding a pairing code");
	else if (sqlite3_changes(db) == 0)
		rc = no_kiosk(db, id, e);
	sqlite3_finalize(st);
	return rc;
}

/* The device of a pairing code's hash, when the code may be used at `now`:
 * *device_id and pub (its public id) are set.  ERR_INVALID, field "code",
 * says why not.  A read: device_pair calls it before and inside its
 * transaction. */
static int pair_check(sqlite3 *db, const uint8_t *hash, int64_t now, long long *device_id,
		      char pub[DEVICE_PUBLIC_ID_LEN + 1], struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT p.device_id, p.expires_at, p.used_at IS NOT NULL, "
			    "d.revoked_at IS NOT NULL, d.public_id FROM pairings p "
			    "JOIN devices d ON d.id = p.device_id WHERE p.code_hash = ?1", &st, e);
	int step;

	if (rc)
		return rc;
	sqlite3_bind_blob(st, 1, hash, SECRET_HASH_BYTES, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = db_fail(db, e, "reading a pairing code");
	} else if (step == SQLITE_DONE) {
		rc = err_set_field(e, ERR_INVALID, "code", "unknown pairing code");
	} else if (sqlite3_column_int(st, 2)) {
		rc = err_set_field(e, ERR_INVALID, "code", "pairing code already used");
	} else if (sqlite3_column_int64(st, 1) < now) {
		rc = err_set_field(e, ERR_INVALID, "code", "pairing code expired");
	} else if (sqlite3_column_int(st, 3)) {
		rc = err_set_field(e, ERR_INVALID, "code", "device revoked");
	} else {
		*device_id = sqlite3_column_int64(st, 0);
		snprintf(pub, DEVICE_PUBLIC_ID_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	return rc;
}

/* Inside device_pair's transaction: check the code again (another request
 * may have spent it since the first check), spend it, then give its
 * device a new secret. */
static int pair_locked(sqlite3 *db, const uint8_t *hash, int64_t now, char *token, struct err *e)
{
	uint8_t fresh[SECRET_HASH_BYTES];
	sqlite3_stmt *st = NULL;
	long long device_id = 0;
	char pub[DEVICE_PUBLIC_ID_LEN + 1] = "";
	int rc = pair_check(db, hash, now, &device_id, pub, e);

	if (!rc)
		rc = new_token(pub + 1, token, fresh, e);
	if (!rc)
		rc = db_prepare(db, "UPDATE pairings SET used_at = ?2 WHERE code_hash = ?1", &st, e);
	if (!rc) {
		sqlite3_bind_blob(st, 1, hash, SECRET_HASH_BYTES, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "spending a pairing code");
		sqlite3_finalize(st);
		st = NULL;
	}
	if (!rc)
		rc = db_prepare(db, "UPDATE devices SET secret_hash = ?2, paired_at = ?3 WHERE id = ?1", &st, e);
	if (!rc) {
		sqlite3_bind_int64(st, 1, device_id);
		sqlite3_bind_blob(st, 2, fresh, sizeof(fresh), SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_fail(db, e, "pairing a device");
		sqlite3_finalize(st);
	}
	return rc;
}

int device_pair(sqlite3 *db, const char *code, int64_t now, char *token, struct err *e)
{
	uint8_t hash[SECRET_HASH_BYTES];
	char pub[DEVICE_PUBLIC_ID_LEN + 1];
	long long device_id;
	int rc;

	if (strlen(code) != DEVICE_PAIR_CODE_LEN || strspn(code, "0123456789abcdef") != DEVICE_PAIR_CODE_LEN)
		return err_set_field(e, ERR_INVALID, "code", "unknown pairing code");
	rc = secret_hash(code, DEVICE_PAIR_CODE_LEN, hash, e);
	/* a read first: a code that cannot be used never waits for the lock */
	if (!rc)
		rc = pair_check(db, hash, now, &device_id, pub, e);
	if (!rc)
		rc = db_exec(db, "BEGIN IMMEDIATE", e);
	if (!rc)
		rc = pair_locked(db, hash, now, token, e);
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc) {
		if (rc == ERR_DB && (sqlite3_errcode(db) & 0xff) == SQLITE_BUSY)
			rc = err_set(e, COL_ERR_BUSY, "the database is locked by another process: retry later");
		if (!sqlite3_get_autocommit(db))
			db_exec(db, "ROLLBACK", NULL);
		secret_wipe(token, DEVICE_TOKEN_LEN + 1);
	}
	return rc;
}

int device_pin_valid(const char *pin)
{
	return strlen(pin) == DEVICE_PIN_DIGITS && strspn(pin, "0123456789") == DEVICE_PIN_DIGITS;
}

int device_pin_new(char *pin, struct err *e)
{
	uint32_t r;

	/* 2^32 mod 10^6 leaves a bias of under 0.03 %: harmless for a PIN
	 * that the lock-out protects */
	if (secret_random(&r, sizeof(r), e) != 0)
		return e->code;
	snprintf(pin, DEVICE_PIN_DIGITS + 1, "%06u", (unsigned)(r % 1000000u));
	return 0;
}

int device_pin_set(sqlite3 *db, long long id, const char *pin, struct err *e)
{
	char hash[SECRET_SLOW_HASH_MAX];
	sqlite3_stmt *st = NULL;
	int rc;

	assert(device_pin_valid(pin));
	rc = secret_slow_hash(pin, hash, e);
	if (!rc)
		rc = db_prepare(db, "UPDATE devices SET pin_hash = ?2, pin_failures = 0, pin_locked_until = NULL "
				"WHERE id = ?1 AND role = 'kiosk'", &st, e);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "setting a staff PIN");
	else if (sqlite3_changes(db) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no kiosk %lld", id);
	sqlite3_finalize(st);
	return rc;
}

int device_pin_exists(sqlite3 *db, long long id, int *yes, struct err *e)
{
	char id_s[32];

	snprintf(id_s, sizeof(id_s), "%lld", id);
	return db_query_exists(db, "SELECT 1 FROM devices WHERE id = ?1 AND pin_hash IS NOT NULL",
			       (const char *const[]){ id_s }, 1, yes, e);
}

/* Run `sql` with ?1 = id and ?2 = t. */
static int pin_update(sqlite3 *db, const char *sql, long long id, int64_t t, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, sql, &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, t);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "recording a PIN try");
	sqlite3_finalize(st);
	return rc;
}

/* Count a try of kiosk id's PIN: *tries gets the tries in a row so far,
 * 0 when the PIN is locked (*locked_until set) or missing (hash ""). */
static int pin_claim_try(sqlite3 *db, long long id, int64_t now, char *hash, long long *tries,
			 int64_t *locked_until, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_exec(db, "BEGIN IMMEDIATE", e);

	if (rc)
		return rc;
	rc = pin_update(db, "UPDATE devices SET pin_failures = pin_failures + 1 WHERE id = ?1 AND "
			"pin_hash IS NOT NULL AND (pin_locked_until IS NULL OR pin_locked_until <= ?2)", id, now, e);
	*tries = !rc ? sqlite3_changes(db) : 0;
	if (!rc)
		rc = db_prepare(db, "SELECT coalesce(pin_hash, ''), pin_failures, coalesce(pin_locked_until, 0) "
				"FROM devices WHERE id = ?1", &st, e);
	if (!rc) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			rc = err_set(e, ERR_NOT_FOUND, "no kiosk %lld", id);
		} else {
			snprintf(hash, SECRET_SLOW_HASH_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
			*tries = *tries ? sqlite3_column_int64(st, 1) : 0;
			*locked_until = sqlite3_column_int64(st, 2);
		}
		sqlite3_finalize(st);
	}
	if (!rc)
		rc = db_exec(db, "COMMIT", e);
	if (rc)
		db_exec(db, "ROLLBACK", NULL);
	return rc;
}

int device_pin_check(sqlite3 *db, long long id, const char *pin, int64_t now, int *result,
		     int64_t *retry_after, struct err *e)
{
	char hash[SECRET_SLOW_HASH_MAX];
	long long tries = 0;
	int64_t locked_until = 0;
	int rc = pin_claim_try(db, id, now, hash, &tries, &locked_until, e), same;

	*retry_after = 0;
	if (rc)
		return rc;
	if (!*hash) {
		*result = DEVICE_PIN_NONE;
		return 0;
	}
	if (!tries || tries > DEVICE_PIN_TRIES) {   /* locked, or others took the last tries */
		*result = DEVICE_PIN_LOCKED;
		*retry_after = tries ? DEVICE_PIN_LOCK_SECONDS : locked_until - now;
		return 0;
	}
	same = device_pin_valid(pin) ? secret_slow_check(pin, hash, e) : 0;
	if (same < 0)   /* a hash this code did not write: the database's fault, not the caller's */
		return e->code == ERR_INVALID ? err_set(e, ERR_DB, "device %lld has a malformed PIN hash", id) : e->code;
	if (same) {
		*result = DEVICE_PIN_OK;
		return pin_update(db, "UPDATE devices SET pin_failures = 0, pin_locked_until = NULL WHERE id = ?1",
				  id, now, e);
	}
	if (tries < DEVICE_PIN_TRIES) {
		*result = DEVICE_PIN_WRONG;
		return 0;
	}
	*result = DEVICE_PIN_LOCKED;
	*retry_after = DEVICE_PIN_LOCK_SECONDS;
	return pin_update(db, "UPDATE devices SET pin_failures = 0, pin_locked_until = ?2 WHERE id = ?1", id,
			  now + DEVICE_PIN_LOCK_SECONDS, e);
}

int device_status(sqlite3 *db, long long id, int64_t now, struct device_status *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	/* a kiosk row without a form predates them: it posts kiosk-2018 */
	int rc = db_prepare(db, "SELECT coalesce((SELECT group_concat(code, ',') FROM (SELECT s.code FROM "
			    "device_sectors ds JOIN sectors s ON s.id = ds.sector_id WHERE ds.device_id = d.id "
			    "ORDER BY s.code)), ''), CASE d.role WHEN 'kiosk' THEN coalesce(d.form, 'kiosk-2018') "
			    "ELSE '' END, EXISTS (SELECT 1 FROM pairings p WHERE p.device_id = d.id AND "
			    "p.used_at IS NULL AND p.expires_at >= ?2), d.pin_hash IS NOT NULL, "
			    "CASE WHEN d.all_agencies THEN 'all' WHEN d.role = 'kiosk' THEN (SELECT code FROM "
			    "agencies WHERE id = d.agency_id) ELSE coalesce((SELECT group_concat(code, ',') FROM "
			    "(SELECT a.code FROM device_agencies da JOIN agencies a ON a.id = da.agency_id "
			    "WHERE da.device_id = d.id ORDER BY a.code)), '') END "
			    "FROM devices d WHERE d.id = ?1", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(out->sectors, sizeof(out->sectors), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(out->form, sizeof(out->form), "%s", (const char *)sqlite3_column_text(st, 1));
		out->link_open = sqlite3_column_int(st, 2);
		out->has_pin = sqlite3_column_int(st, 3);
		if (snprintf(out->agencies, sizeof(out->agencies), "%s", (const char *)sqlite3_column_text(st, 4)) >=
		    (int)sizeof(out->agencies))
			memcpy(out->agencies + sizeof(out->agencies) - 4, "...", 4);
	} else {
		rc = err_set(e, ERR_NOT_FOUND, "no device %lld", id);
	}
	sqlite3_finalize(st);
	return rc;
}

int device_covers(sqlite3 *db, const struct device_info *d, long long agency_id, int *yes, struct err *e)
{
	char device_s[32], agency_s[32];

	*yes = d->role == DEVICE_KIOSK ? d->agency_id == agency_id : d->role == DEVICE_SYSTEM && d->all_agencies;
	if (d->role != DEVICE_SYSTEM || d->all_agencies)
		return 0;
	snprintf(device_s, sizeof(device_s), "%lld", d->id);
	snprintf(agency_s, sizeof(agency_s), "%lld", agency_id);
	return db_query_exists(db, "SELECT 1 FROM device_agencies WHERE device_id = ?1 AND agency_id = ?2",
			       (const char *const[]){ device_s, agency_s }, 2, yes, e);
}

int device_serves_sector(const struct device_info *d, long long sector_id)
{
	if (d->n_sectors == 0)
		return 1;
	for (size_t i = 0; i < d->n_sectors; i++)
		if (d->sector_ids[i] == sector_id)
			return 1;
	return 0;
}

int device_revoke(sqlite3 *db, long long id, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
			    &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "revoking a device");
	else if (sqlite3_changes(db) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "no device %lld", id);
	sqlite3_finalize(st);
	return rc;
}

int device_heartbeat(sqlite3 *db, long long id, long long queued, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	/* the right-hand sides read the row as it was: queued is the previous one */
	int rc = db_prepare(db, "UPDATE devices SET heartbeat_at = ?2, queue_growing = CASE WHEN queued IS NOT NULL "
			    "AND ?3 > queued THEN queue_growing + 1 ELSE 0 END, queued = ?3 WHERE id = ?1", &st, e);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, queued);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "noting a kiosk's heartbeat");
	sqlite3_finalize(st);
	return rc;
}

static const char device_columns[] =
	"SELECT d.id, d.public_id, d.role, coalesce(d.agency_id, 0), coalesce(a.code, ''), d.counter, "
	"d.created_at, coalesce(d.revoked_at, 0), d.secret_hash, "
	"(SELECT group_concat(sector_id) FROM device_sectors s WHERE s.device_id = d.id), "
	"coalesce(d.paired_at, 0), coalesce(d.last_post_at, 0), coalesce(d.form, ''), d.all_agencies FROM devices d "
	"LEFT JOIN agencies a ON a.id = d.agency_id ";

static void read_row(sqlite3_stmt *st, struct device_info *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	snprintf(d->public_id, sizeof(d->public_id), "%s", (const char *)sqlite3_column_text(st, 1));
	d->role = device_role_named((const char *)sqlite3_column_text(st, 2));
	d->agency_id = sqlite3_column_int64(st, 3);
	snprintf(d->agency, sizeof(d->agency), "%s", (const char *)sqlite3_column_text(st, 4));
	snprintf(d->counter, sizeof(d->counter), "%s", (const char *)sqlite3_column_text(st, 5));
	d->created_at = sqlite3_column_int64(st, 6);
	d->revoked_at = sqlite3_column_int64(st, 7);
	for (const char *p = (const char *)sqlite3_column_text(st, 9); p && *p && d->n_sectors < DEVICE_MAX_SECTORS;) {
		char *end;

		d->sector_ids[d->n_sectors++] = strtoll(p, &end, 10);
		p = *end == ',' ? end + 1 : end;
	}
	d->paired_at = sqlite3_column_int64(st, 10);
	d->last_post_at = sqlite3_column_int64(st, 11);
	snprintf(d->form, sizeof(d->form), "%s", (const char *)sqlite3_column_text(st, 12));
	d->all_agencies = sqlite3_column_int(st, 13);
}

int device_list(sqlite3 *db, int (*fn)(const struct device_info *d, void *arg), void *arg,
		struct err *e)
{
	char sql[1024];
	sqlite3_stmt *st = NULL;
	int rc, step;

	snprintf(sql, sizeof(sql), "%sORDER BY d.id", device_columns);
	rc = db_prepare(db, sql, &st, e);
	while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct device_info d;

		read_row(st, &d);
		if (fn(&d, arg))
			break;
	}
	sqlite3_finalize(st);
	return rc;
}

/* A device as last read from the database. */
struct cached_device {
	struct device_info info;
	uint8_t hash[SECRET_HASH_BYTES];
	double read_at;
};

struct device_auth {
	sqlite3 *db;
	sqlite3_stmt *find;
	double max_age;
	struct intmap index;          /* public id (48 bits) -> cached[] */
	struct cached_device *cached;
	size_t n_cached, cap_cached;
};

int device_auth_new(sqlite3 *db, double max_age, struct device_auth **out, struct err *e)
{
	struct device_auth *a = calloc(1, sizeof(*a));
	char sql[1024];
	int rc;

	if (!a)
		return err_set(e, ERR_NOMEM, "out of memory");
	a->db = db;
	a->max_age = max_age;
	snprintf(sql, sizeof(sql), "%sWHERE d.public_id = ?1", device_columns);
	rc = db_prepare(db, sql, &a->find, e);
	if (rc) {
		free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void device_auth_free(struct device_auth *a)
{
	if (!a)
		return;
	sqlite3_finalize(a->find);
	intmap_release(&a->index);
	free(a->cached);
	free(a);
}

/* Read device `pub` into the cache; its slot, or NULL (e filled) when the
 * device does not exist or on a database error. */
static struct cached_device *read_device(struct device_auth *a, const char *pub, uint64_t key,
					 double now, struct err *e)
{
	sqlite3_stmt *st = a->find;
	struct cached_device *c = NULL;
	long i = intmap_get(&a->index, key);
	int step;

	sqlite3_bind_text(st, 1, pub, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_bytes(st, 8) == SECRET_HASH_BYTES) {
		if (i < 0 && a->n_cached < DEVICE_AUTH_MAX_CACHED &&
		    ARRAY_RESERVE(a->cached, a->cap_cached, a->n_cached) == 0 &&
		    intmap_put(&a->index, key, (uint32_t)a->n_cached) == 0)
			i = (long)a->n_cached++;
		c = i >= 0 ? &a->cached[i] : NULL;
		if (c) {
			read_row(st, &c->info);
			memcpy(c->hash, sqlite3_column_blob(st, 8), SECRET_HASH_BYTES);
			c->read_at = now;
		} else {
			err_set(e, ERR_NOMEM, "out of memory");
		}
	} else if (step == SQLITE_ROW || step == SQLITE_DONE) {
		err_set_field(e, ERR_INVALID, "authorization", "unknown or malformed token");
	} else {
		db_fail(a->db, e, "checking a token");
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return c;
}

int device_auth_check(struct device_auth *a, const char *token, double now,
		      struct device_info *out, struct err *e)
{
	uint8_t secret[SECRET_BYTES], hash[SECRET_HASH_BYTES], pub_bytes[6];
	char pub[DEVICE_PUBLIC_ID_LEN + 1];
	struct cached_device *c;
	uint64_t key = 0;
	long i;
	int rc;

	if (strlen(token) != DEVICE_TOKEN_LEN || token[0] != 'd' || token[DEVICE_PUBLIC_ID_LEN] != '.' ||
	    secret_unhex(token + DEVICE_PUBLIC_ID_LEN + 1, secret, sizeof(secret)) != 0)
		return err_set_field(e, ERR_INVALID, "authorization", "unknown or malformed token");
	memcpy(pub, token, DEVICE_PUBLIC_ID_LEN);
	pub[DEVICE_PUBLIC_ID_LEN] = '\0';
	if (secret_unhex(pub + 1, pub_bytes, sizeof(pub_bytes)) != 0)
		return err_set_field(e, ERR_INVALID, "authorization", "unknown or malformed token");
	for (size_t k = 0; k < sizeof(pub_bytes); k++)
		key = key << 8 | pub_bytes[k];
	rc = secret_hash(secret, sizeof(secret), hash, e);
	memset(secret, 0, sizeof(secret));
	if (rc)
		return rc;
	i = intmap_get(&a->index, key);
	c = i >= 0 ? &a->cached[i] : NULL;
	if (!c || now - c->read_at > a->max_age || now < c->read_at) {
		c = read_device(a, pub, key, now, e);
		if (!c)
			return e->code;
	}
	if (!secret_equal(c->hash, hash, SECRET_HASH_BYTES) && c->read_at != now) {
		/* pairing replaces a device's secret: a cached hash may be stale */
		c = read_device(a, pub, key, now, e);
		if (!c)
			return e->code;
	}
	if (!secret_equal(c->hash, hash, SECRET_HASH_BYTES))
		return err_set_field(e, ERR_INVALID, "authorization", "unknown or malformed token");
	if (c->info.revoked_at)
		return err_set_field(e, ERR_INVALID, "authorization", "token revoked");
	*out = c->info;
	return 0;
}

int device_pair_link(sqlite3 *db, long long id, const char *base, int64_t now, struct strbuf *url,
		     struct err *e)
{
	char code[DEVICE_PAIR_CODE_LEN + 1];
	int rc = device_pairing_new(db, id, now, code, e);

	if (!rc) {
		strbuf_addf(url, "%s/pair/%s", base, code);
		if (url->failed)
			rc = err_set(e, ERR_INVALID, "the address is too long for a pairing link");
	}
	secret_wipe(code, sizeof(code));
	return rc;
}

int device_pin_give(sqlite3 *db, long long id, const char *pin, char *made, struct err *e)
{
	int has = 0, rc = 0;

	made[0] = '\0';
	if (!pin) {
		rc = device_pin_exists(db, id, &has, e);
		if (rc || has)
			return rc;
		rc = device_pin_new(made, e);
		pin = made;
	}
	return rc ? rc : device_pin_set(db, id, pin, e);
}
