/*
 * outbox.c - queueing a notification in the caller's transaction (see
 * outbox.h).
 */
#include "outbox.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../db/db.h"
#include "../lib/secret.h"

int outbox_add(sqlite3 *db, long long endpoint_id, long long alert_id, const char *event,
	       const char *body, long long now, char *delivery, struct err *e)
{
	uint8_t id[OUTBOX_DELIVERY_HEX / 2];
	char hex[OUTBOX_DELIVERY_HEX + 1];
	sqlite3_stmt *st = NULL;
	int rc = -1;

	assert(endpoint_id > 0 && event && body);
	if (secret_random(id, sizeof(id), e) < 0)
		return -1;
	secret_hex(id, sizeof(id), hex);
	if (db_prepare(db, "INSERT INTO outbox(delivery, endpoint_id, alert_id, event, body, created_at, next_at) "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)", &st, e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, endpoint_id);
	if (alert_id > 0)
		sqlite3_bind_int64(st, 3, alert_id);
	sqlite3_bind_text(st, 4, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_fail(db, e, "queueing a notification");
		goto out;
	}
	if (delivery)
		memcpy(delivery, hex, sizeof(hex));
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}
