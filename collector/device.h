/*
 * device.h - collector credentials (docs/collector.md): kiosk tokens bound to one
 * agency and the sectors its counter serves, admin tokens, and system
 * tokens, for a one-stop system acting for one or more agencies or all of
 * them (docs/onestop.md).  A token is
 * "PUBLICID.SECRET": the public id finds the row, the 256-bit secret is
 * stored only as its SHA-256 and compared in constant time.  The token is
 * shown once, when created, or handed once to the tablet that opens the
 * device's one-time pairing link (which replaces the secret).  A kiosk
 * also has a staff PIN (6 digits) that opens the tablet's staff mode,
 * stored as a salted slow hash and locked after too many wrong tries.
 */
#ifndef SIPAS_DEVICE_H
#define SIPAS_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "../lib/err.h"
#include "../lib/strbuf.h"

#define DEVICE_PUBLIC_ID_LEN 13         /* "d" + 12 hex digits */
#define DEVICE_TOKEN_LEN (DEVICE_PUBLIC_ID_LEN + 1 + 64)
#define DEVICE_MAX_SECTORS 16
#define DEVICE_PAIR_CODE_LEN 40             /* hex of 160 random bits */
#define DEVICE_PAIR_SECONDS (15 * 60)
#define DEVICE_PIN_DIGITS 6
#define DEVICE_PIN_TRIES 5                 /* wrong tries in a row that lock the PIN */
#define DEVICE_PIN_LOCK_SECONDS (5 * 60)
#define DEVICE_KIOSK_FORM "kiosk-2018"    /* a kiosk's form unless `device add --form` says */

enum device_role { DEVICE_KIOSK = 1, DEVICE_ADMIN = 2, DEVICE_SYSTEM = 3 };

/* What every part says of a role: one row per enum device_role. */
struct device_role_info {
	int role;                /* enum device_role */
	const char *name;        /* devices.role, `device list` and the console's JSON */
	const char *required;    /* the 403 of a route that takes only this role */
	const char *name_option; /* the `device add` option that names the device */
};

/* The row of role; NULL when role is none of enum device_role. */
const struct device_role_info *device_role_info(int role);

/* The role whose name (devices.role) is `name`; 0 when none. */
int device_role_named(const char *name);

struct device_info {
	long long id;
	char public_id[DEVICE_PUBLIC_ID_LEN + 1];
	int role;                 /* enum device_role */
	long long agency_id;      /* kiosks; 0 for admin */
	char agency[64];          /* agency code, "" for admin */
	char counter[128];        /* a kiosk's counter; another token's name */
	int all_agencies;         /* system tokens: acts for every agency */
	char form[64];            /* kiosks: the one form it posts; "" for admin */
	long long sector_ids[DEVICE_MAX_SECTORS];   /* kiosks: the sectors it serves */
	size_t n_sectors;                           /* 0: any (kiosks added before sectors) */
	long long created_at, revoked_at;   /* revoked_at 0 = active */
	long long paired_at, last_post_at;  /* 0 = never */
};

/* What `sipas device add` creates. */
struct device_spec {
	int role;                     /* enum device_role */
	const char *agency;           /* kiosks: a registry code */
	const char *const *sectors;   /* kiosks: 1 to DEVICE_MAX_SECTORS registry codes */
	size_t n_sectors;
	const char *counter;          /* 1 to 100 bytes: a kiosk's counter, a system token's name */
	const char *form;             /* kiosks: a loaded form without elements; NULL: DEVICE_KIOSK_FORM */
	const char *const *agencies;  /* system tokens: registry codes it acts for, unless all_agencies */
	size_t n_agencies;
	int all_agencies;             /* system tokens: every agency, present and future */
};

/* Create a credential inside the caller's transaction.  token gets the
 * token (DEVICE_TOKEN_LEN + 1 bytes), *id the device id.  ERR_INVALID names
 * the option at fault (agency, sector, counter, form).  A system token
 * acts for 1 or more agencies or all of them, and has no counter,
 * sectors, form, PIN or pairing.  A kiosk's form
 * must be loaded and ask no service elements: those are the survey's,
 * which counts in the SIPAS index and comes from signed links and
 * imports. */
/* 0 when every agency spec names (a kiosk's, a system token's) still
 * exists on `today` (period_today's day); else the refusal of
 * registry_check_valid, which names the successor, as ERR_INVALID on the
 * field "agency".  A new device is for the agencies as they are now: `sipas
 * device add` and the console check this first; the demo, which rebuilds
 * the past, does not. */
int device_check_open(sqlite3 *db, const struct device_spec *spec, int32_t today, struct err *e);

int device_add(sqlite3 *db, const struct device_spec *spec, char *token, long long *id,
	       struct err *e);

/* A one-time pairing code for kiosk `id`, usable once within
 * DEVICE_PAIR_SECONDS of `now` (Unix seconds), inside the caller's
 * transaction; only its hash is stored.  code gets DEVICE_PAIR_CODE_LEN + 1
 * bytes.  ERR_NOT_FOUND when id is no kiosk, ERR_INVALID when it is revoked. */
int device_pairing_new(sqlite3 *db, long long id, int64_t now, char *code, struct err *e);

/* Inside the caller's transaction: a one-time pairing code for kiosk id
 * (device_pairing_new) appended to url as "BASE/pair/CODE", the link the
 * tablet opens.  Errors as device_pairing_new's; ERR_INVALID when url
 * cannot hold it. */
int device_pair_link(sqlite3 *db, long long id, const char *base, int64_t now, struct strbuf *url,
		     struct err *e);

/* Inside the caller's transaction: make `pin` kiosk id's staff PIN; with
 * pin NULL, give a kiosk that has none a random one, put in made
 * (DEVICE_PIN_DIGITS + 1 bytes; "" when none was made) to be shown once. */
int device_pin_give(sqlite3 *db, long long id, const char *pin, char *made, struct err *e);

/* Exchange a pairing code for a fresh token of its device, in a
 * transaction of its own: the code is spent, the device's secret replaced
 * (an older token stops working) and paired_at set.  token gets
 * DEVICE_TOKEN_LEN + 1 bytes.  ERR_INVALID, field "code", when the code is
 * unknown, used or expired, or its device revoked: found by a read, before
 * the write lock is asked for, so only a good code waits for it (as long as
 * db's busy timeout; COL_ERR_BUSY, nothing changed, when it ran out). */
int device_pair(sqlite3 *db, const char *code, int64_t now, char *token, struct err *e);

/* 1 if pin is exactly DEVICE_PIN_DIGITS ASCII digits.  Can't fail. */
int device_pin_valid(const char *pin);

/* A random PIN into pin (DEVICE_PIN_DIGITS + 1 bytes). */
int device_pin_new(char *pin, struct err *e);

/* Make pin (device_pin_valid) kiosk id's staff PIN, inside the caller's
 * transaction; clears its failures and lock.  ERR_NOT_FOUND when there is
 * no such kiosk. */
int device_pin_set(sqlite3 *db, long long id, const char *pin, struct err *e);

/* *yes = 1 if kiosk id has a staff PIN. */
int device_pin_exists(sqlite3 *db, long long id, int *yes, struct err *e);

enum device_pin_result {
	DEVICE_PIN_OK,        /* right: the failures are cleared */
	DEVICE_PIN_WRONG,     /* wrong, and counted */
	DEVICE_PIN_LOCKED,    /* locked now or already: not checked */
	DEVICE_PIN_NONE       /* the kiosk has no PIN */
};

/* Check a staff PIN of kiosk id at `now` (Unix seconds).  A try is counted
 * in its own short transaction before the slow hash is computed, so
 * concurrent guesses cannot exceed DEVICE_PIN_TRIES; the last of them
 * locks the PIN for DEVICE_PIN_LOCK_SECONDS.  *result gets an enum
 * device_pin_result, *retry_after the seconds left when locked. */
int device_pin_check(sqlite3 *db, long long id, const char *pin, int64_t now, int *result,
		     int64_t *retry_after, struct err *e);

/* What `sipas device list` shows of a device beyond device_info. */
struct device_status {
	char agencies[2048];  /* a kiosk's agency, a system token's codes comma-separated or
				 "all"; "" for admin; cut short (ending "...") when longer */
	char sectors[DEVICE_MAX_SECTORS * 64];   /* sector codes, comma-separated; "" for admin */
	char form[64];        /* the form a kiosk posts; "" for admin */
	int link_open;        /* an unused pairing link that has not expired */
	int has_pin;
};

/* Fill *out for device id at `now` (Unix seconds). */
int device_status(sqlite3 *db, long long id, int64_t now, struct device_status *out, struct err *e);

/* *yes = 1 if device d acts for agency_id: a kiosk for its own agency, a
 * system token for those `device add --agency` gave it, or all of them;
 * an admin token for none.  Read from db on each call (not kept in
 * device_info: a system token may act for a province's hundreds of
 * agencies, and a check is one primary-key lookup). */
int device_covers(sqlite3 *db, const struct device_info *d, long long agency_id, int *yes, struct err *e);

/* 1 if kiosk d may post ratings for sector_id.  Can't fail. */
int device_serves_sector(const struct device_info *d, long long sector_id);

/* Revoke device `id`; ERR_NOT_FOUND if there is none, ok if already revoked. */
int device_revoke(sqlite3 *db, long long id, struct err *e);

/* Kiosk id was heard of at `now`, with `queued` ratings waiting in its
 * queue (docs/monitoring.md, "Counters and officers"): sets heartbeat_at
 * and queued, and counts in queue_growing the heartbeats in a row whose
 * queue is longer than the one before (0 when it is not).  Inside the
 * caller's write transaction. */
int device_heartbeat(sqlite3 *db, long long id, long long queued, int64_t now, struct err *e);

/* Call fn for every device in id order; stops on fn's non-zero return. */
int device_list(sqlite3 *db, int (*fn)(const struct device_info *d, void *arg), void *arg,
		struct err *e);

/* Token checks for a server thread: a prepared statement on one connection
 * and a cache of the devices it has seen.  Not thread-safe: one per thread. */
struct device_auth;

/* Prepare token checks on db (borrowed; must outlive it).  A device's row is
 * re-read when its cached copy is older than max_age seconds, so a
 * revocation takes effect within max_age (0 = read on every check).
 * *out is owned (device_auth_free). */
int device_auth_new(sqlite3 *db, double max_age, struct device_auth **out, struct err *e);

/* Check a presented token at time `now` (seconds, any monotonic clock).
 * On success *out describes the device.  ERR_INVALID "unknown or malformed
 * token" or "token revoked" otherwise.  The secret is always compared in
 * constant time against the stored hash. */
int device_auth_check(struct device_auth *a, const char *token, double now,
		      struct device_info *out, struct err *e);

/* NULL-safe. */
void device_auth_free(struct device_auth *a);

#endif
