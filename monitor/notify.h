/*
 * notify.h - where notifications go and how they get there
 * (docs/monitoring.md, "Notifications"): the endpoints (a webhook URL or
 * an e-mail address, for one agency or all), and the delivery worker that
 * sends the outbox's rows (outbox.h) -- a webhook as a signed JSON POST,
 * an e-mail through SMTP with STARTTLS, both with libcurl -- and records
 * each outcome: delivered, due again later (exponential backoff), or
 * failed after NOTIFY_GIVE_UP_SECONDS.  Delivery is at least once: a row
 * is marked delivered only after its receiver said so, so a crash between
 * the two sends it again under the same delivery id.
 *
 * Functions that write (add, remove, queue a test) run inside the
 * caller's write transaction and never commit, so that the caller puts
 * its audit entry in the same transaction.
 */
#ifndef SIPAS_NOTIFY_H
#define SIPAS_NOTIFY_H

#include <stdint.h>
#include <sqlite3.h>

#include "outbox.h"
#include "../lib/err.h"
#include "../lib/secret.h"

#define NOTIFY_SECRET_HEX 64              /* a webhook's signing secret, as printed */
#define NOTIFY_TARGET_MAX 2000            /* bytes of a URL or an address */
#define NOTIFY_RETRY_FIRST_SECONDS 30     /* the wait after a first failure ... */
#define NOTIFY_RETRY_MAX_SECONDS 3600     /* ... doubling up to this */
#define NOTIFY_GIVE_UP_SECONDS (24 * 3600)   /* after the row was queued: failed */
#define NOTIFY_CONNECT_SECONDS 10         /* every transfer's bounds */
#define NOTIFY_TRANSFER_SECONDS 20
#define NOTIFY_ERROR_MAX 300              /* bytes of last_error kept */

enum notify_kind { NOTIFY_WEBHOOK, NOTIFY_EMAIL };

/* "webhook" or "email". */
const char *notify_kind_name(int kind);

/* 0 when url is a webhook address (http or https, a host, no user or
 * password, no fragment, at most NOTIFY_TARGET_MAX bytes of printable
 * ASCII), else ERR_INVALID naming `source` (the option it came from). */
int notify_check_webhook(const char *url, const char *source, struct err *e);

/* 0 when addr is a plain e-mail address (local@domain: ASCII letters,
 * digits and the usual punctuation, at most 254 bytes, no display name,
 * no quotes, no spaces), else ERR_INVALID naming `source`. */
int notify_check_email(const char *addr, const char *source, struct err *e);

/* The signing secret of webhook endpoint id: HMAC-SHA256 of "sipas
 * webhook secret " and the id in decimal under the installation's key
 * (db_server_key), in hex, into out.  It is never stored: `notify add`
 * prints it once and the worker derives it again for each delivery.
 * Receivers use its NOTIFY_SECRET_HEX characters as the HMAC key. */
int notify_secret(const uint8_t key[SECRET_KEY_BYTES], long long id, char out[NOTIFY_SECRET_HEX + 1],
		  struct err *e);

/* Add an endpoint of kind for the agency agency_code (NULL: every
 * agency), its target checked as above (source names the option);
 * *id gets its id.  ERR_INVALID naming agency_source for an unknown
 * agency. */
int notify_endpoint_add(sqlite3 *db, const char *agency_code, const char *agency_source, int kind,
			const char *target, const char *source, long long now, long long *id, struct err *e);

/* Remove endpoint id: it gets nothing more, and its deliveries not yet
 * made are kept as failed ("endpoint removed").  ERR_NOT_FOUND, "no
 * endpoint ID", when there is no such endpoint or it was removed. */
int notify_endpoint_remove(sqlite3 *db, long long id, long long now, struct err *e);

/* Queue a test notification to endpoint id (event "test"), saying who
 * asked (actor); delivery gets its delivery id.  ERR_NOT_FOUND as above. */
int notify_queue_test(sqlite3 *db, long long id, const char *actor, long long now,
		      char delivery[OUTBOX_DELIVERY_HEX + 1], struct err *e);

/* Queue body (JSON) about alert_id, as event ("alert.opened",
 * "alert.closed"), for every endpoint not removed that covers agency_id:
 * those for every agency, for that agency, and for an agency above it in
 * the registry (an endpoint of a city's committee hears of its
 * departments).  Runs inside the caller's write transaction, the one that
 * opens or closes the alert; *queued (may be NULL) gets the number of rows. */
int notify_queue_alert(sqlite3 *db, long long agency_id, long long alert_id, const char *event, const char *body,
		       long long now, long long *queued, struct err *e);

/* One endpoint and its deliveries, as notify_list reads it; strings
 * borrowed for the callback only. */
struct notify_endpoint_info {
	long long id;
	int kind;                   /* enum notify_kind */
	const char *agency;         /* its code; NULL: every agency */
	const char *target;
	long long created_at;
	long long pending, delivered, failed;
	const char *last_error;     /* of its latest attempt that failed; NULL: none */
};

/* Call fn for every endpoint not removed, by id; a non-zero return of fn
 * stops the listing and is returned.  ERR_DB when reading fails. */
int notify_list(sqlite3 *db, int (*fn)(const struct notify_endpoint_info *ep, void *arg), void *arg,
		struct err *e);

/* One delivery, as notify_delivery_find and notify_list_failed read it. */
struct notify_delivery {
	char delivery[OUTBOX_DELIVERY_HEX + 1];
	long long endpoint_id;
	char event[32];
	long long created_at, attempts, next_at;
	long long delivered_at, failed_at;   /* 0: not (yet) */
	char last_error[NOTIFY_ERROR_MAX + 1];   /* "" when none */
	int kind;                            /* its endpoint's: enum notify_kind ... */
	char target[NOTIFY_TARGET_MAX + 1];  /* ... and URL or address */
};

/* The delivery of id `delivery` into *out; ERR_NOT_FOUND when none. */
int notify_delivery_find(sqlite3 *db, const char *delivery, struct notify_delivery *out, struct err *e);

/* Call fn for the deliveries given up as failed, newest first, at most
 * limit of them (0: all); as notify_list otherwise. */
int notify_list_failed(sqlite3 *db, long long limit, int (*fn)(const struct notify_delivery *d, void *arg),
		       void *arg, struct err *e);

/* How the worker sends e-mail (sipas serve --smtp-*): strings borrowed
 * for the worker's life.  url NULL: no e-mail is sent (an e-mail row
 * fails its attempts with that reason, and is retried as any other). */
struct notify_smtp {
	const char *url;            /* smtp://HOST:PORT (STARTTLS) or smtps://HOST:PORT */
	const char *from;           /* the envelope and From: address */
	const char *user, *password;   /* both or neither */
	const char *ca;             /* a PEM file of the CA to trust; NULL: the system's */
	int plain;                  /* 1: no TLS (a relay on this machine only) */
};

/* 1 when the host of the SMTP url is this machine (127.0.0.1, ::1,
 * localhost), where --smtp-plain is allowed; 0 otherwise or unparsable. */
int notify_smtp_is_local(const char *url);

struct notify_worker;

/* Start the delivery thread on its own connection to db_path, signing
 * with the installation's key (copied) and mailing with smtp (borrowed,
 * may be NULL).  It sends each due row, one at a time, and looks for due
 * rows at least once a second.  *out owned: notify_stop it. */
int notify_start(const char *db_path, const uint8_t key[SECRET_KEY_BYTES], const struct notify_smtp *smtp,
		 struct notify_worker **out, struct err *e);

/* Have the worker take no more rows: the transfer in flight, if any,
 * finishes (NOTIFY_TRANSFER_SECONDS at most) and is recorded.  Returns at
 * once, so that the collector's own shutdown runs meanwhile.  NULL-safe. */
void notify_quit(struct notify_worker *w);

/* notify_quit, wait for the thread to end, and free w.  A graceful stop
 * therefore leaves no delivery made but unrecorded.  NULL-safe. */
void notify_stop(struct notify_worker *w);

#endif
