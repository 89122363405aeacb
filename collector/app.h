/*
 * app.h - the collector's state every request may use (struct col_app: the
 * catalog, the key, the writer, limits, metrics, caches), and a request and
 * its reply as the handlers see them (docs/collector.md).  Only the http_*.c
 * files talk to libmicrohttpd.
 */
#ifndef SIPAS_APP_H
#define SIPAS_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "catalog.h"
#include "device.h"
#include "errors.h"
#include "link.h"
#include "metrics.h"
#include "ratelimit.h"
#include "scores_cache.h"
#include "writer.h"
#include "../lib/secret.h"
#include "../lib/strbuf.h"
#include "../lib/url.h"
#include "../office/scope.h"
#include "../office/session.h"
#include "../office/user.h"

#define COL_MAX_BODY (64 * 1024)          /* docs/collector.md */
#define COL_MAX_BATCH_BODY (1024 * 1024)  /* up to 500 queued ratings */
#define COL_MAX_BATCH 500
/* A route whose body limit is above COL_MAX_HELD_BODY takes a
 * multipart/form-data upload, streamed to a file as it comes (struct
 * col_upload), never held in memory nor counted against --max-buffered. */
#define COL_MAX_HELD_BODY COL_MAX_BATCH_BODY
#define COL_MAX_UPLOAD ((size_t)200 << 20)   /* a survey file for the console's imports */
#define COL_UPLOAD_SECONDS (30 * 60)         /* its request deadline: 200 MiB at 1 Mbit/s */

#define COL_DEFAULT_MAX_AGE_DAYS 30   /* sipas serve --max-age */
#define COL_DEFAULT_MIN_FREE ((uint64_t)256 << 20)  /* sipas serve --min-free */

struct col_limits {
	double device_per_minute, device_burst;
	double address_per_minute, address_burst;
	double system_per_minute, system_burst;   /* requests per system token */
	int64_t max_age;              /* seconds a posted submitted_at may lie in the past */
	uint64_t min_free;            /* bytes free on the database's filesystem, else /healthz 503 */
};

/* Shared by all requests; immutable after col_app_open but for the
 * catalog (swapped under catalog_lock by col_app_reload), and the
 * thread-safe writer, limiters and metrics. */
struct col_app {
	char *db_path;
	struct col_catalog *catalog;  /* read with col_app_catalog */
	pthread_mutex_t catalog_lock;
	uint8_t key[SECRET_KEY_BYTES];
	struct col_writer *writer;
	struct col_ratelimit device_limit, address_limit;
	struct col_ratelimit system_limit;         /* requests per system token (docs/onestop.md) */
	struct col_ratelimit login_limit;          /* console sign-in failures per login (console.h) */
	struct col_ratelimit login_address_limit;  /* console sign-in attempts per address */
	atomic_int hashing;                        /* password hashes running now (console.h) */
	struct col_metrics metrics;
	struct col_scores_cache *scores_cache;  /* GET /api/scores replies */
	pthread_mutex_t published_lock;         /* guards the two below */
	double published_read_at;               /* monotonic seconds; 0: never */
	struct published_days *published_days; /* days of published periods, for late ratings */
	int64_t max_age;              /* from col_limits */
	uint64_t min_free;            /* from col_limits */
	int tls;                      /* served over TLS: the session cookie is Secure and __Host- */
	char public_url[URL_MAX];     /* the address links carry (sipas serve says it at start) */
	atomic_int stopping;          /* set at shutdown: submissions get 503 */
};

/* Who sent a request, established from its headers and query before any
 * body byte is read. */
enum col_sender_kind { COL_SENDER_NONE, COL_SENDER_DEVICE, COL_SENDER_LINK, COL_SENDER_USER };

/* A signed-in console user (console_auth.c): the account, the agencies it
 * may see, its session and that session's CSRF token. */
struct col_console {
	struct user user;
	struct scope scope;
	struct session session;
	char csrf[SESSION_CSRF_HEX + 1];
};

/* Owned by the request (col_sender_release at its end). */
struct col_sender {
	int kind;                     /* enum col_sender_kind */
	struct device_info dev;       /* COL_SENDER_DEVICE: a kiosk, admin or system token */
	struct link_fields link;      /* COL_SENDER_LINK: checked; strings in the query */
	struct col_console console;   /* COL_SENDER_USER */
};

/* Free what a sender owns.  Can't fail. */
void col_sender_release(struct col_sender *s);

#define COL_UPLOAD_FIELDS 4
#define COL_UPLOAD_VALUE_MAX 128

/* A multipart/form-data body as the HTTP layer streamed it: its one file
 * part in a temporary file already unlinked (gone with its last
 * descriptor, whatever happens), its other parts as short strings.  Owned
 * by the HTTP layer, which closes fd when the request ends: a handler that
 * reads the file later dup()s it. */
struct col_upload {
	int fd;                       /* the file part's bytes from offset 0; -1: no file part */
	uint64_t size;
	char file_field[32];          /* the file part's field name */
	char filename[128];           /* as the client named it ("" when it did not) */
	size_t n_fields;
	struct {
		char name[32];
		char value[COL_UPLOAD_VALUE_MAX];
	} field[COL_UPLOAD_FIELDS];
};

/* The value of upload field `name`, NULL when it was not sent. */
const char *col_upload_field(const struct col_upload *u, const char *name);

struct col_request {
	const char *method;
	const char *path;
	const char *body;             /* NUL-terminated; "" when none */
	size_t body_len;
	uint64_t client;              /* the client address, for rate limits */
	const char *address;          /* the same as text, for sessions and the audit log */
	double now;                   /* seconds, monotonic */
	/* header and query lookups, provided by the HTTP layer */
	const char *(*header)(void *cls, const char *name);
	const char *(*query)(void *cls, const char *name);
	const char *(*cookie)(void *cls, const char *name);
	void *cls;
	const struct col_sender *sender;  /* from col_precheck */
	const struct col_upload *upload;  /* a streamed route's body (COL_MAX_HELD_BODY); else NULL */
};

/* A reply that waits for work on another thread (a submission's commit).
 * The route that cannot answer at once sets reply->deferred to a struct of
 * its own callbacks; the HTTP layer then knows only these two, never what
 * the work is (the way redis's event loop knows a callback, not its job):
 *   start(d, resume, arg)  called once, after the HTTP layer has
 *       suspended the request: begin the work, and when it is over call
 *       resume(arg) once, from any thread (possibly before start returns);
 *   finish(d, reply)       called once, after resume, on the request's
 *       thread: fill the reply; reply is NULL when the client has gone
 *       (the work is done all the same).  d is freed: not used again.
 * The route owns d (and what it points to) from the handler until finish. */
struct col_reply;

struct col_deferred {
	void (*start)(struct col_deferred *d, void (*resume)(void *arg), void *arg);
	void (*finish)(struct col_deferred *d, struct col_reply *reply);
};

struct col_reply {
	unsigned status;
	const char *content_type;
	struct strbuf body;
	int retry_after;              /* seconds; 0 = no Retry-After header */
	const char *allow;            /* for 405 */
	const void *static_body;      /* set: the body, compiled in (body unused) */
	size_t static_len;
	const char *etag;             /* for static files */
	const char *content_encoding; /* "gzip" or NULL */
	const char *vary;             /* a Vary header, or NULL */
	const char *csp;              /* NULL: the collector's default policy */
	char location[64];            /* a redirect's Location, "" for none */
	const char *cache_control;    /* NULL: no-store */
	char set_cookie[256];         /* a Set-Cookie header, "" for none */
	struct col_deferred *deferred; /* set: no reply yet; start it (see above) */
};

/* Load the catalog and the key, start the writer.  ERR_* on failure. */
int col_app_open(struct col_app *app, const char *db_path, const struct col_limits *limits,
		 struct err *e);

/* The current catalog, held: release it with col_catalog_release.  Can't
 * fail. */
struct col_catalog *col_app_catalog(struct col_app *app);

/* Re-read forms and registry from the database (what `sipas init` loaded
 * since) and make them current for new requests; requests in flight finish
 * with the catalog they started with.  On failure the current catalog
 * stays and e says why. */
int col_app_reload(struct col_app *app, struct err *e);

/* Stop the writer and free everything col_app_open took. */
void col_app_close(struct col_app *app);

#endif
