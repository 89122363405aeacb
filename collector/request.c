/*
 * request.c - what every handler uses (request.h): JSON and error replies,
 * the worker thread's read connection, bearer tokens, rate limits, phone
 * links and JSON bodies.  It knows no route: routes.c and the route_*.c
 * handlers call it, never the other way round.
 */
#include "request.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "device.h"
#include "link.h"

/* ---- replies ---- */

void col_reply_json(struct col_reply *reply, unsigned status, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	reply->status = status;
	reply->content_type = "application/json; charset=utf-8";
	strbuf_reset(&reply->body);
	if (!text) {
		const struct col_error_info *oom = col_error_info(COL_E_OUT_OF_MEMORY);

		reply->status = oom->status;
		strbuf_addf(&reply->body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n", oom->code,
			    oom->message);
		return;
	}
	strbuf_addstr(&reply->body, text);
	strbuf_addch(&reply->body, '\n');
	free(text);
}

json_t *col_error_json(enum col_error why, const char *message, const char *field)
{
	const struct col_error_info *info = col_error_info(why);
	json_t *err = json_pack("{s:s, s:s}", "code", info->code, "message",
				message && *message ? message : info->message);

	if (err && field && *field)
		json_object_set_new(err, "field", json_string(field));
	return err;
}

void col_reply_error(struct col_app *app, struct col_reply *reply, enum col_error why,
		     const char *message, const char *field)
{
	const struct col_error_info *info = col_error_info(why);

	col_metrics_reject(&app->metrics, why);
	if (!reply->retry_after)
		reply->retry_after = info->retry_after;
	col_reply_json(reply, info->status, json_pack("{s:o}", "error", col_error_json(why, message, field)));
}

void col_reply_err(struct col_app *app, struct col_reply *reply, const struct err *e)
{
	col_reply_error(app, reply, col_error_from_err(e->code), e->text, e->field);
}

int col_accepts_gzip(const struct col_request *req)
{
	const char *accept = req->header(req->cls, MHD_HTTP_HEADER_ACCEPT_ENCODING);

	/* a "gzip" entry whose q, if given, is above 0 */
	for (const char *p = accept; p && *p; p += *p == ',') {
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, ",");
		if (n >= 4 && strncasecmp(p, "gzip", 4) == 0 && strchr(" \t;,", p[4])) {
			const char *q = memmem(p, n, "q=", 2);

			return !q || strtod(q + 2, NULL) > 0;
		}
		p += n;
	}
	return 0;
}

/* ---- per-thread read connection ---- */

/* A token's row is re-read at most this long after the last read, so a
 * revocation takes effect within it (each worker thread caches its own). */
#define COL_DEVICE_RECHECK_SECONDS 1.0

/* What each worker thread keeps: its own read connection (SQLite
 * connections are not shared between threads here), prepared token
 * checks, and the receipt MAC keyed once.  Opened on first use, closed
 * when the thread ends. */
struct reader_state {
	sqlite3 *db;
	struct device_auth *auth;
	sqlite3_stmt *kept[COL_N_KEPT];   /* see col_reader_kept */
	struct secret_mac *receipt_mac;
};

static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;

static void reader_close(void *arg)
{
	struct reader_state *r = arg;

	device_auth_free(r->auth);
	secret_mac_free(r->receipt_mac);
	for (size_t i = 0; i < COL_N_KEPT; i++)
		sqlite3_finalize(r->kept[i]);
	db_close(r->db);
	free(r);
}

static void reader_key_init(void)
{
	pthread_key_create(&reader_key, reader_close);
}

static struct reader_state *reader_state(struct col_app *app, struct err *e)
{
	struct reader_state *r;

	pthread_once(&reader_once, reader_key_init);
	r = pthread_getspecific(reader_key);
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r) {
		err_set(e, ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (db_open(app->db_path, 0, &r->db, e) != 0) {
		/* the file the server started with is gone (or was never
		 * there): a storage fault, and the reply must not show the path */
		if (e->code != ERR_NOMEM)
			err_set(e, COL_ERR_STORAGE_GONE, "the database cannot be opened");
		reader_close(r);
		return NULL;
	}
	/* The only write on this connection is a good pairing code's
	 * (device_pair): it waits for another process's write lock no longer
	 * than a post does at the writer, then is answered 503 busy. */
	sqlite3_busy_timeout(r->db, (int)(COL_WRITER_BUSY_SECONDS * 1000));
	if (device_auth_new(r->db, COL_DEVICE_RECHECK_SECONDS, &r->auth, e) != 0 ||
	    secret_mac_new(app->key, SECRET_KEY_BYTES, &r->receipt_mac, e) != 0) {
		reader_close(r);
		return NULL;
	}
	pthread_setspecific(reader_key, r);
	return r;
}

sqlite3 *col_reader(struct col_app *app, struct err *e)
{
	struct reader_state *r = reader_state(app, e);

	return r ? r->db : NULL;
}

sqlite3 *col_reader_kept(struct col_app *app, enum col_kept which, sqlite3_stmt ***slot, struct err *e)
{
	struct reader_state *r = reader_state(app, e);

	assert(which < COL_N_KEPT);
	if (!r)
		return NULL;
	*slot = &r->kept[which];
	return r->db;
}

int col_receipt(struct col_app *app, const char *form, const char *response_id,
		const uint8_t digest[STORE_DIGEST_BYTES], char out[33], struct err *e)
{
	struct reader_state *r = reader_state(app, e);
	uint8_t m[SECRET_HASH_BYTES];

	if (!r)
		return e->code;
	secret_mac_add(r->receipt_mac, form, strlen(form) + 1);
	secret_mac_add(r->receipt_mac, response_id, strlen(response_id) + 1);
	secret_mac_add(r->receipt_mac, digest, STORE_DIGEST_BYTES);
	secret_mac_end(r->receipt_mac, m);
	secret_hex(m, 16, out);
	return 0;
}

/* ---- authentication and limits ---- */

const char *col_bearer_token(const struct col_request *req)
{
	const char *h = req->header(req->cls, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return NULL;
	return h + 7;
}

int col_rate_limited(struct col_app *app, struct col_ratelimit *rl, uint64_t key,
			const struct col_request *req, struct col_reply *reply)
{
	int wait = col_ratelimit_take(rl, key, req->now);

	if (!wait)
		return 0;
	reply->retry_after = wait;
	col_reply_error(app, reply, COL_E_RATE_LIMITED, NULL, NULL);
	return 1;
}

/* Authenticate a bearer token of `role`; on failure the reply is set. */
int col_authenticate(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     int role, struct device_info *dev)
{
	const char *token = col_bearer_token(req);
	struct reader_state *rs;
	struct err e;

	err_clear(&e);
	if (!token) {
		col_reply_error(app, reply, COL_E_UNAUTHORIZED, NULL, "authorization");
		return -1;
	}
	rs = reader_state(app, &e);
	if (!rs) {
		col_reply_err(app, reply, &e);
		return -1;
	}
	if (device_auth_check(rs->auth, token, req->now, dev, &e) != 0) {
		/* failed tokens spend the address's allowance: guessing gets 429 */
		if (col_rate_limited(app, &app->address_limit, req->client, req, reply))
			return -1;
		if (e.code == ERR_INVALID)
			col_reply_error(app, reply, COL_E_UNAUTHORIZED, e.text, "authorization");
		else
			col_reply_err(app, reply, &e);
		return -1;
	}
	if (dev->role != role) {
		col_reply_error(app, reply, COL_E_FORBIDDEN, device_role_info(role)->required, "authorization");
		return -1;
	}
	return 0;
}

int col_link_from_query(struct col_app *app, const struct col_request *req, const char *form,
			   struct link_fields *link, struct err *e)
{
	const char *exp = req->query(req->cls, "exp"), *sig = req->query(req->cls, "sig");

	link->form = form;
	link->agency = req->query(req->cls, "agency");
	link->sector = req->query(req->cls, "sector");
	link->dossier = req->query(req->cls, "dossier");
	link->expires = 0;
	if (!form || !link->agency || !link->sector || !link->dossier || !*link->dossier || !sig || !exp) {
		err_set_field(e, ERR_INVALID, "link", "a kiosk token or, from a phone, the signed link "
			      "of the dossier receipt (form, agency, sector, dossier, exp, sig) is required");
		return COL_LINK_REFUSED_INVALID;
	}
	if (link_parse_expires(exp, &link->expires) != 0) {
		err_set_field(e, ERR_INVALID, "exp", "exp must be the link's expiry as signed: Unix seconds, "
			      "digits only, without a leading zero");
		return COL_LINK_REFUSED_INVALID;
	}
	/* the signature first (as if checked at the expiry), then the time */
	if (link_verify(app->key, link, sig, link->expires, e) != 0)
		return COL_LINK_REFUSED_INVALID;
	if (link_verify(app->key, link, sig, (int64_t)time(NULL), e) != 0)
		return COL_LINK_REFUSED_EXPIRED;
	return COL_LINK_OK;
}

int col_json_body(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     json_t **out)
{
	const char *ct = req->header(req->cls, MHD_HTTP_HEADER_CONTENT_TYPE);
	json_error_t jerr;
	char msg[256];

	if (!ct || strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
		col_reply_error(app, reply, COL_E_UNSUPPORTED_MEDIA_TYPE, NULL, "content-type");
		return -1;
	}
	*out = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out) {
		snprintf(msg, sizeof(msg), "the body is not JSON: line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		col_reply_error(app, reply, COL_E_INVALID, msg, "body");
		return -1;
	}
	return 0;
}

int col_json_string_body(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *name, json_t **doc, const char **value)
{
	json_t *field;
	char msg[128];

	if (col_json_body(app, req, reply, doc) != 0) {
		*doc = NULL;
		return -1;
	}
	field = json_object_get(*doc, name);
	if (!json_is_object(*doc) || json_object_size(*doc) != 1 || !json_is_string(field)) {
		snprintf(msg, sizeof(msg), "the body must be {\"%s\": \"...\"}", name);
		col_reply_error(app, reply, COL_E_INVALID, msg, name);
		json_decref(*doc);
		*doc = NULL;
		return -1;
	}
	*value = json_string_value(field);
	return 0;
}
