/*
 * outbox.h - notifications waiting to be delivered (docs/monitoring.md,
 * "Notifications").  A row is written inside the transaction that decides
 * to notify (an alert opened or closed, `sipas notify test`), so once that
 * decision commits the notification can no longer be lost; the delivery
 * worker sends it at least once, always under the same delivery id, which
 * a receiver uses to drop a repeat.
 */
#ifndef SIPAS_OUTBOX_H
#define SIPAS_OUTBOX_H

#include <sqlite3.h>

#include "../lib/err.h"

/* Hex digits of a delivery id (128 random bits), without the NUL. */
#define OUTBOX_DELIVERY_HEX 32

/* Queue body (JSON, copied) for the endpoint endpoint_id, about the alert
 * alert_id (0: about none, as for a test), as event ("alert.opened",
 * "alert.closed", "test"), due at now.  Runs inside the caller's write
 * transaction and never commits.  If delivery is not NULL it receives the
 * new row's delivery id (OUTBOX_DELIVERY_HEX + 1 bytes).  0, or -1 with e
 * filled. */
int outbox_add(sqlite3 *db, long long endpoint_id, long long alert_id, const char *event,
	       const char *body, long long now, char *delivery, struct err *e);

#endif
