/*
 * device.h - collector credentials (docs/collector.md): kiosk tokens bound to one
 * agency, and admin tokens.  A token is "PUBLICID.SECRET": the public id
 * finds the row, the 256-bit secret is stored only as its SHA-256 and
 * compared in constant time.  The token is shown once, when created.
 */
#ifndef SIPAS_DEVICE_H
#define SIPAS_DEVICE_H

#include <sqlite3.h>

#include "../lib/err.h"

#define DEVICE_PUBLIC_ID_LEN 13         /* "d" + 12 hex digits */
#define DEVICE_TOKEN_LEN (DEVICE_PUBLIC_ID_LEN + 1 + 64)

enum device_role { DEVICE_KIOSK = 1, DEVICE_ADMIN = 2 };

struct device_info {
	long long id;
	char public_id[DEVICE_PUBLIC_ID_LEN + 1];
	int role;                 /* enum device_role */
	long long agency_id;      /* kiosks; 0 for admin */
	char agency[64];          /* agency code, "" for admin */
	char counter[128];
	long long created_at, revoked_at;   /* revoked_at 0 = active */
};

/* Create a credential; for DEVICE_KIOSK `agency` is a registry code.  token
 * gets the token (DEVICE_TOKEN_LEN + 1 bytes), *id the device id. */
int device_add(sqlite3 *db, int role, const char *agency, const char *counter, char *token,
	       long long *id, struct err *e);

/* Revoke device `id`; ERR_NOT_FOUND if there is none, ok if already revoked. */
int device_revoke(sqlite3 *db, long long id, struct err *e);

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
