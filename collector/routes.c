/*
 * routes.c - the collector's API (docs/collector.md): route table and handlers.
 *
 *   GET  /healthz               liveness and a database round trip
 *   GET  /metrics               Prometheus text (admin token)
 *   GET  /api/forms/{id}        the form JSON
 *   GET  /api/scores            the score JSON of a published period
 *   POST /api/responses         one response (kiosk token or signed phone link)
 *   POST /api/responses/batch   up to 500 queued responses (kiosk token)
 *
 * Submissions are checked here and in responses/response_json.c, then stored by
 * the group-commit writer (writer.c); a 2xx is sent only after the commit.
 */
#include "routes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../responses/response_json.h"
#include "../db/db.h"
#include "device.h"
#include "link.h"
#include "../lib/period.h"
#include "static.h"
#include "../reports/rep_stored.h"
#include "../scoring/score.h"

typedef void (*col_handler)(struct col_app *app, const struct col_request *req,
			    struct col_reply *reply, const char *tail);

/* Who may call a route, checked from the headers and the query before any
 * body byte is read (col_precheck). */
enum col_auth {
	AUTH_NONE,
	AUTH_KIOSK,           /* a kiosk token */
	AUTH_ADMIN,           /* an admin token */
	AUTH_KIOSK_OR_LINK    /* a kiosk token, or a phone's signed link in the query */
};

struct col_route {
	const char *method;
	const char *path;     /* exact, or a prefix when it ends with '/' */
	col_handler handler;
	enum col_auth auth;
	const char *about;    /* for GET /api */
	const char *page;     /* set: the route serves this file of collector/www/ */
};

/* ---- replies ---- */

static void reply_json(struct col_reply *reply, unsigned status, json_t *doc)
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

/* {"code", "message", "field"}: message NULL takes the table's. */
static json_t *error_object(enum col_error why, const char *message, const char *field)
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
	reply_json(reply, info->status, json_pack("{s:o}", "error", error_object(why, message, field)));
}

static void reply_err(struct col_app *app, struct col_reply *reply, const struct err *e)
{
	col_reply_error(app, reply, col_error_from_err(e->code), e->text, e->field);
}

/* ---- per-thread read connection ---- */

/* A token's row is re-read at most this long after the last read, so a
 * revocation takes effect within it (each worker thread caches its own). */
#define COL_DEVICE_RECHECK_SECONDS 1.0

/* What each worker thread keeps: its own read connection (SQLite
 * connections are not shared between threads here) and prepared token
 * checks.  Opened on first use, closed when the thread ends. */
struct reader_state {
	sqlite3 *db;
	struct device_auth *auth;
};

static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;

static void reader_close(void *arg)
{
	struct reader_state *r = arg;

	device_auth_free(r->auth);
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
	if (db_open(app->db_path, 0, &r->db, e) != 0 ||
	    device_auth_new(r->db, COL_DEVICE_RECHECK_SECONDS, &r->auth, e) != 0) {
		reader_close(r);
		return NULL;
	}
	pthread_setspecific(reader_key, r);
	return r;
}

static sqlite3 *reader(struct col_app *app, struct err *e)
{
	struct reader_state *r = reader_state(app, e);

	return r ? r->db : NULL;
}

/* ---- authentication and limits ---- */

static const char *bearer_token(const struct col_request *req)
{
	const char *h = req->header(req->cls, MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return NULL;
	return h + 7;
}

static int rate_limited(struct col_app *app, struct col_ratelimit *rl, uint64_t key,
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
static int authenticate(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			int role, struct device_info *dev)
{
	const char *token = bearer_token(req);
	struct reader_state *rs;
	struct err e;

	err_clear(&e);
	if (!token) {
		col_reply_error(app, reply, COL_E_UNAUTHORIZED, NULL, "authorization");
		return -1;
	}
	rs = reader_state(app, &e);
	if (!rs) {
		reply_err(app, reply, &e);
		return -1;
	}
	if (device_auth_check(rs->auth, token, req->now, dev, &e) != 0) {
		/* failed tokens spend the address's allowance: guessing gets 429 */
		if (rate_limited(app, &app->address_limit, req->client, req, reply))
			return -1;
		if (e.code == ERR_INVALID)
			col_reply_error(app, reply, COL_E_UNAUTHORIZED, e.text, "authorization");
		else
			reply_err(app, reply, &e);
		return -1;
	}
	if (dev->role != role) {
		col_reply_error(app, reply, COL_E_FORBIDDEN,
			    role == DEVICE_ADMIN ? "an admin token is required" : "a kiosk token is required",
			    "authorization");
		return -1;
	}
	return 0;
}

/* Why a phone link cannot be used; 0 when it can. */
enum { LINK_OK, LINK_REFUSED_INVALID, LINK_REFUSED_EXPIRED, LINK_REFUSED_USED };

/* Read and check a phone's signed link from the query (agency, sector,
 * dossier, exp, sig) for `form`.  The strings of *link point into the
 * request.  Returns LINK_OK, or a LINK_REFUSED_* reason with e filled. */
static int link_from_query(struct col_app *app, const struct col_request *req, const char *form,
			   struct link_fields *link, struct err *e)
{
	const char *exp = req->query(req->cls, "exp"), *sig = req->query(req->cls, "sig");
	char *end = NULL;
	long long expires = exp ? strtoll(exp, &end, 10) : 0;

	link->form = form;
	link->agency = req->query(req->cls, "agency");
	link->sector = req->query(req->cls, "sector");
	link->dossier = req->query(req->cls, "dossier");
	link->expires = expires;
	if (!form || !link->agency || !link->sector || !link->dossier || !*link->dossier || !sig ||
	    !exp || !*exp || *end) {
		err_set_field(e, ERR_INVALID, "link", "a kiosk token or, from a phone, the signed link "
			      "of the dossier receipt (form, agency, sector, dossier, exp, sig) is required");
		return LINK_REFUSED_INVALID;
	}
	/* the signature first (as if checked at the expiry), then the time */
	if (link_verify(app->key, link, sig, link->expires, e) != 0)
		return LINK_REFUSED_INVALID;
	if (link_verify(app->key, link, sig, (int64_t)time(NULL), e) != 0)
		return LINK_REFUSED_EXPIRED;
	return LINK_OK;
}

static int json_body(struct col_app *app, const struct col_request *req, struct col_reply *reply,
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

/* ---- submissions ---- */

/* Check one posted response against its sender (established before the
 * body was read: a kiosk token, or a phone's signed link).  On failure
 * fills e, and *why with how to refuse it. */
static int check_post(const struct col_catalog *cat, json_t *doc, const struct col_sender *sender,
		      struct response *r, enum col_error *why, struct err *e)
{
	const struct device_info *dev = &sender->dev;
	const struct link_fields *link = &sender->link;
	int channel_given = json_object_get(doc, "channel") != NULL;
	int rc = response_from_json(doc, cat->forms, cat->n_forms, cat->reg, r, e);

	if (rc) {
		*why = col_error_from_err(rc);
		return rc;
	}
	*why = COL_E_INVALID;
	if (sender->kind == COL_SENDER_DEVICE) {
		if (channel_given && r->channel != CHANNEL_KIOSK)
			return err_set_field(e, ERR_INVALID, "channel", "a kiosk token posts channel kiosk");
		r->channel = CHANNEL_KIOSK;
		*why = COL_E_FORBIDDEN;
		if (r->agency->id != dev->agency_id)
			return err_set_field(e, ERR_INVALID, "agency", "this kiosk's token is for agency %s, not %s",
					     dev->agency, r->agency->code);
		if (!device_serves_sector(dev, r->sector->id))
			return err_set_field(e, ERR_INVALID, "sector", "this kiosk does not serve sector %s",
					     r->sector->code);
		return 0;
	}
	if (channel_given && r->channel != CHANNEL_PHONE)
		return err_set_field(e, ERR_INVALID, "channel", "a phone link posts channel phone");
	r->channel = CHANNEL_PHONE;
	/* the body must be about what the link was signed for */
	*why = COL_E_UNAUTHORIZED;
	if (strcmp(r->form->id, link->form) != 0)
		return err_set_field(e, ERR_INVALID, "form", "the link is for form %.64s", link->form);
	if (strcmp(r->agency->code, link->agency) != 0)
		return err_set_field(e, ERR_INVALID, "agency", "the link is for agency %.64s", link->agency);
	if (strcmp(r->sector->code, link->sector) != 0)
		return err_set_field(e, ERR_INVALID, "sector", "the link is for sector %.64s", link->sector);
	if (strcmp(r->dossier, link->dossier) != 0)
		return err_set_field(e, ERR_INVALID, "dossier_code", "the link is for dossier %.64s",
				     link->dossier);
	return 0;
}

static json_t *result_json(const struct col_write_result *res)
{
	return json_pack("{s:s, s:b}", "receipt", res->receipt, "duplicate", res->duplicate);
}

/* One posted response: checked, then either queued for the writer (as
 * valid[which]) or refused (why, refused). */
struct pending_item {
	struct response r;
	int queued;
	size_t which;             /* when queued: its index in valid[] and results[] */
	enum col_error why;       /* when refused */
	struct err refused;
};

/* A submission between its checks and its commit: one item for a single
 * post, n for a batch (whose posted array is kept to build the reply).
 * It holds the catalog its responses were checked against, since they
 * point into its forms and registry. */
struct col_pending {
	struct col_write_job job;     /* responses = valid, results = results */
	struct col_catalog *catalog;
	int batch;
	json_t *items;                /* batch: the posted array (a reference) */
	const struct response **valid;
	struct col_write_result *results;
	size_t n;
	struct pending_item item[];
};

static void pending_free(struct col_pending *p)
{
	if (!p)
		return;
	free(p->valid);
	free(p->results);
	json_decref(p->items);
	col_catalog_release(p->catalog);
	free(p);
}

static struct col_pending *pending_new(struct col_app *app, size_t n, int batch)
{
	struct col_pending *p = malloc(sizeof(*p) + n * sizeof(p->item[0]));

	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->catalog = col_app_catalog(app);
	p->batch = batch;
	p->n = n;
	p->valid = calloc(n, sizeof(*p->valid));
	p->results = calloc(n, sizeof(*p->results));
	if (!p->valid || !p->results) {
		pending_free(p);
		return NULL;
	}
	p->job.responses = p->valid;
	p->job.results = p->results;
	return p;
}

struct col_write_job *col_pending_job(struct col_pending *p)
{
	return &p->job;
}

/* Check item i (doc) and add it to the job when valid. */
static void pending_add(struct col_app *app, struct col_pending *p, size_t i, json_t *doc,
			const struct col_sender *sender)
{
	struct pending_item *it = &p->item[i];

	it->queued = 0;   /* items are not zeroed by pending_new */
	if (check_post(p->catalog, doc, sender, &it->r, &it->why, &it->refused) != 0) {
		if (p->batch)   /* a single post counts when its error reply is made */
			col_metrics_reject(&app->metrics, it->why);
		return;
	}
	it->queued = 1;
	it->which = p->job.n;
	p->valid[p->job.n++] = &it->r;
}

/* Hand the pending submission to the HTTP layer, or answer at once when
 * nothing needs the writer. */
static void pending_submit(struct col_app *app, struct col_pending *p, struct col_reply *reply)
{
	if (p->job.n && atomic_load(&app->stopping)) {
		/* nothing was stored: the kiosk keeps the rating and re-sends it */
		col_reply_error(app, reply, COL_E_UNAVAILABLE, NULL, NULL);
		pending_free(p);
		return;
	}
	if (p->job.n == 0) {
		col_pending_finish(app, p, reply);
		return;
	}
	atomic_fetch_add(&app->pending, 1);
	reply->pending = p;
}

static void finish_single(struct col_app *app, struct col_pending *p, struct col_reply *reply)
{
	const struct pending_item *it = &p->item[0];
	const struct col_write_result *res = &p->results[0];

	if (!it->queued) {
		col_reply_error(app, reply, it->why, it->refused.text, it->refused.field);
	} else if (res->code) {
		reply_err(app, reply, &res->err);
	} else {
		/* the hot path: written directly (a receipt is 32 hex digits) */
		reply->status = res->duplicate ? MHD_HTTP_OK : MHD_HTTP_CREATED;
		reply->content_type = "application/json; charset=utf-8";
		strbuf_reset(&reply->body);
		strbuf_addf(&reply->body, "{\"receipt\":\"%s\",\"duplicate\":%s}\n", res->receipt,
			    res->duplicate ? "true" : "false");
	}
}

/* A batch item's refusal: {"status", "error": {...}}. */
static json_t *item_error(enum col_error why, const struct err *e)
{
	return json_pack("{s:I, s:o}", "status", (json_int_t)col_error_info(why)->status, "error",
			 error_object(why, e->text, e->field));
}

static void finish_batch(struct col_app *app, struct col_pending *p, struct col_reply *reply)
{
	json_t *results = json_array(), *item;
	size_t i;

	json_array_foreach(p->items, i, item) {
		json_t *rid = json_object_get(item, "response_id"), *o;
		const struct pending_item *it = &p->item[i];
		const struct col_write_result *res = &p->results[it->which];

		if (!it->queued) {
			o = item_error(it->why, &it->refused);
		} else if (res->code) {
			enum col_error why = col_error_from_err(res->code);

			col_metrics_reject(&app->metrics, why);
			o = item_error(why, &res->err);
		} else {
			o = result_json(res);
			json_object_set_new(o, "status", json_integer(res->duplicate ? 200 : 201));
		}
		json_object_set(o, "response_id", json_is_string(rid) ? rid : json_null());
		json_array_append_new(results, o);
	}
	reply_json(reply, MHD_HTTP_OK, json_pack("{s:o}", "results", results));
}

void col_pending_finish(struct col_app *app, struct col_pending *p, struct col_reply *reply)
{
	if (p->batch)
		finish_batch(app, p, reply);
	else
		finish_single(app, p, reply);
	pending_free(p);
}

static void handle_post(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail)
{
	struct col_pending *p;
	json_t *doc = NULL;

	(void)tail;
	if (json_body(app, req, reply, &doc) != 0)
		return;
	p = pending_new(app, 1, 0);
	if (!p) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
	} else {
		if (req->sender->kind == COL_SENDER_DEVICE)
			p->job.device_id = req->sender->dev.id;
		pending_add(app, p, 0, doc, req->sender);
		pending_submit(app, p, reply);
	}
	json_decref(doc);
}

static void handle_batch(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *tail)
{
	struct col_pending *p;
	json_t *doc = NULL, *items, *item;
	size_t n, i;

	(void)tail;
	if (json_body(app, req, reply, &doc) != 0)
		return;
	items = json_object_get(doc, "responses");
	n = json_array_size(items);
	if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_array(items) || n == 0 ||
	    n > COL_MAX_BATCH) {
		col_reply_error(app, reply, COL_E_INVALID,
				"the body must be {\"responses\": [...]} with 1 to 500 responses", "responses");
		json_decref(doc);
		return;
	}
	p = pending_new(app, n, 1);
	if (!p) {
		col_reply_error(app, reply, COL_E_OUT_OF_MEMORY, NULL, NULL);
		json_decref(doc);
		return;
	}
	p->items = json_incref(items);
	p->job.device_id = req->sender->dev.id;
	json_array_foreach(items, i, item)
		pending_add(app, p, i, item, req->sender);
	json_decref(doc);
	pending_submit(app, p, reply);
}

/* POST /api/pair {"code"}: a tablet opening its one-time pairing link gets
 * its device token.  Failed attempts spend the address's allowance. */
static void handle_pair(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail)
{
	char token[DEVICE_TOKEN_LEN + 1];
	json_t *doc = NULL, *code;
	struct err e;
	sqlite3 *db;

	(void)tail;
	err_clear(&e);
	if (json_body(app, req, reply, &doc) != 0)
		return;
	code = json_object_get(doc, "code");
	if (!json_is_object(doc) || json_object_size(doc) != 1 || !json_is_string(code)) {
		col_reply_error(app, reply, COL_E_INVALID, "the body must be {\"code\": \"...\"}", "code");
		goto out;
	}
	db = reader(app, &e);
	if (!db) {
		reply_err(app, reply, &e);
		goto out;
	}
	if (device_pair(db, json_string_value(code), (int64_t)time(NULL), token, &e) != 0) {
		if (e.code != ERR_INVALID)
			reply_err(app, reply, &e);
		else if (!rate_limited(app, &app->address_limit, req->client, req, reply))
			col_reply_error(app, reply, COL_E_UNAUTHORIZED, e.text, "code");
		goto out;
	}
	reply_json(reply, MHD_HTTP_OK, json_pack("{s:s}", "token", token));
	secret_wipe(token, sizeof(token));
out:
	json_decref(doc);
}

/* GET /api/kiosk: what the kiosk page shows and posts. */
static void handle_kiosk(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *tail)
{
	const struct device_info *dev = &req->sender->dev;
	struct col_catalog *cat = col_app_catalog(app);
	const struct registry *reg = cat->reg;
	const struct registry_entry *agency = registry_agency_by_id(reg, dev->agency_id);
	json_t *sectors = json_array();

	(void)tail;
	for (size_t i = 0; i < reg->n_sectors; i++)
		if (device_serves_sector(dev, reg->sectors[i].id))
			json_array_append_new(sectors, json_pack("{s:s, s:s}", "code", reg->sectors[i].code,
								 "name", reg->sectors[i].name));
	reply_json(reply, MHD_HTTP_OK,
		   json_pack("{s:{s:s, s:s}, s:s, s:o, s:s}", "agency", "code", dev->agency, "name",
			     agency ? agency->name : dev->agency, "counter", dev->counter, "sectors", sectors,
			     "form", COL_KIOSK_FORM));
	col_catalog_release(cat);
}

/* ---- reading ---- */

static void handle_healthz(struct col_app *app, const struct col_request *req,
			   struct col_reply *reply, const char *tail)
{
	long long n = 0;
	struct err e;
	sqlite3 *db;

	(void)req;
	(void)tail;
	err_clear(&e);
	db = reader(app, &e);
	if (!db || db_query_int(db, "SELECT count(*) FROM forms", &n, &e) != 0) {
		col_reply_error(app, reply, COL_E_DATABASE, e.text, NULL);
		return;
	}
	reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:s, s:I}", "status", "ok", "database", "ok",
						 "forms", (json_int_t)n));
}

static void handle_form(struct col_app *app, const struct col_request *req,
			struct col_reply *reply, const char *id)
{
	struct col_catalog *cat = col_app_catalog(app);
	const struct form *form = col_catalog_form(cat, id);

	(void)req;
	if (form)
		reply_json(reply, MHD_HTTP_OK, json_incref(form->doc));
	else
		col_reply_error(app, reply, COL_E_NOT_FOUND, "no such form", "form");
	col_catalog_release(cat);
}

/* GET /api/scores: a published period's stored figures, never computed
 * per request. */
static void handle_scores(struct col_app *app, const struct col_request *req,
			  struct col_reply *reply, const char *tail)
{
	const char *period_s = req->query(req->cls, "period"), *by_s = req->query(req->cls, "by");
	const char *form_id = req->query(req->cls, "form");
	struct period period;
	char *text = NULL;
	struct err e;
	sqlite3 *db;
	int by = 0;

	(void)tail;
	err_clear(&e);
	if (!period_s) {
		col_reply_error(app, reply, COL_E_INVALID, "period is required", "period");
		return;
	}
	if (period_parse(period_s, &period, &e) != 0) {
		col_reply_error(app, reply, COL_E_INVALID, e.text, "period");
		return;
	}
	if (by_s && score_parse_by(by_s, &by, &e) != 0) {
		col_reply_error(app, reply, COL_E_INVALID, e.text, "by");
		return;
	}
	db = reader(app, &e);
	if (!db || rep_published_scores(db, form_id ? form_id : "sipas-2017", period.label, by, &text,
					&e) != 0) {
		if (e.code == ERR_NOT_FOUND)
			col_reply_error(app, reply, COL_E_NOT_FOUND, e.text, "period");
		else
			reply_err(app, reply, &e);
		return;
	}
	reply->status = MHD_HTTP_OK;
	reply->content_type = "application/json; charset=utf-8";
	strbuf_reset(&reply->body);
	strbuf_addstr(&reply->body, text);
	strbuf_addch(&reply->body, '\n');
	free(text);
}

static void handle_metrics(struct col_app *app, const struct col_request *req,
			   struct col_reply *reply, const char *tail)
{
	uint64_t commits, stored;

	(void)req;
	(void)tail;
	col_writer_stats(app->writer, &commits, &stored);
	reply->status = MHD_HTTP_OK;
	reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
	strbuf_reset(&reply->body);
	col_metrics_render(&app->metrics, stored, commits, &reply->body);
}

/* ---- pages ---- */

/* 1 if an Accept-Encoding header takes gzip: a "gzip" entry whose q, if
 * given, is above 0. */
static int accepts_gzip(const char *accept)
{
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

/* Reply with a compiled-in file, gzipped when the browser takes it: 304
 * when its copy is current. */
static void reply_static(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 unsigned status, const char *name)
{
	const struct col_static *f = col_static_find(name);
	const char *have = req->header(req->cls, MHD_HTTP_HEADER_IF_NONE_MATCH);
	int gzip;

	if (!f) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
		return;
	}
	gzip = f->gz_size < f->size && accepts_gzip(req->header(req->cls, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	reply->content_type = f->content_type;
	reply->content_encoding = gzip ? "gzip" : NULL;
	reply->vary = MHD_HTTP_HEADER_ACCEPT_ENCODING;
	reply->etag = gzip ? f->gz_etag : f->etag;
	reply->cache_control = "no-cache";   /* revalidate: cheap with the ETag */
	strbuf_reset(&reply->body);
	if (status == MHD_HTTP_OK && have && strcmp(have, reply->etag) == 0) {
		reply->status = MHD_HTTP_NOT_MODIFIED;
		return;
	}
	reply->status = status;
	reply->static_body = gzip ? f->gz : f->data;
	reply->static_len = gzip ? f->gz_size : f->size;
}

static void handle_asset(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *name)
{
	if (strstr(name, ".html")) {   /* pages have their own paths */
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
		return;
	}
	reply_static(app, req, reply, MHD_HTTP_OK, name);
}

/* Why a phone link is refused, in the words of the refusal page. */
static const struct {
	const char *vi, *en;
} link_refusals[] = {
	[LINK_REFUSED_INVALID] = { "Liên kết này không hợp lệ: có thể nó đã bị sửa hoặc chép thiếu. "
				   "Hãy quét lại mã QR trên phiếu hẹn trả kết quả.",
				   "This link is not valid: it may have been changed or copied in part. "
				   "Scan the QR code on your receipt again." },
	[LINK_REFUSED_EXPIRED] = { "Liên kết này đã hết hạn đánh giá.",
				   "The time to rate with this link is over." },
	[LINK_REFUSED_USED] = { "Hồ sơ này đã được đánh giá. Cảm ơn ông/bà!",
				"This dossier has already been rated. Thank you!" },
};

/* Reply with a compiled-in page whose placeholders (keys[i], e.g.
 * "@REASON_VI@") are replaced by values[i], text the caller has made safe
 * for HTML.  The page is not cached: its content varies. */
static void reply_template(struct col_app *app, struct col_reply *reply, unsigned status,
			   const char *name, const char *const *keys, const char *const *values, size_t n)
{
	const struct col_static *f = col_static_find(name);
	const char *p, *end;

	if (!f) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
		return;
	}
	reply->status = status;
	reply->content_type = f->content_type;
	reply->cache_control = "no-store";
	strbuf_reset(&reply->body);
	end = (const char *)f->data + f->size;
	for (p = (const char *)f->data; p < end;) {
		const char *next = NULL;
		size_t which = 0;

		for (size_t k = 0; k < n; k++) {
			const char *at = memmem(p, (size_t)(end - p), keys[k], strlen(keys[k]));

			if (at && (!next || at < next)) {
				next = at;
				which = k;
			}
		}
		strbuf_add(&reply->body, p, (size_t)((next ? next : end) - p));
		if (!next)
			break;
		strbuf_addstr(&reply->body, values[which]);
		p = next + strlen(keys[which]);
	}
}

/* The refusal page of a phone link, saying why. */
static void reply_link_refused(struct col_app *app, struct col_reply *reply, int why)
{
	static const char *const keys[] = { "@REASON_VI@", "@REASON_EN@" };
	/* the reasons are fixed text of link_refusals, safe in HTML */
	const char *values[] = { link_refusals[why].vi, link_refusals[why].en };

	col_metrics_reject(&app->metrics, COL_E_UNAUTHORIZED);
	reply_template(app, reply, MHD_HTTP_FORBIDDEN, "link-refused.html", keys, values, 2);
}

/* rep_published_reports' callback: one list item per published quarter
 * (labels are YYYYQn, nothing to escape). */
static int list_period(const char *label, void *arg)
{
	strbuf_addf(arg, "<li><a href=\"/results/%s/\">%s</a> (<a href=\"/results/%s/scores.csv\">CSV</a>, "
		    "<a href=\"/results/%s/scores.json\">JSON</a>, <a href=\"/results/%s/scores.xlsx\">Excel</a>)"
		    "</li>\n", label, label, label, label, label);
	return 0;
}

/* GET /results: the published quarters. */
static void handle_results(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			   const char *tail)
{
	static const char *const keys[] = { "@RESULTS@" };
	struct strbuf list;
	const char *values[1];
	struct err e;
	sqlite3 *db;

	(void)req;
	(void)tail;
	err_clear(&e);
	strbuf_init(&list, 0);
	db = reader(app, &e);
	if (!db || rep_published_reports(db, list_period, &list, &e) != 0) {
		reply_err(app, reply, &e);
		goto out;
	}
	if (!list.len)
		strbuf_addstr(&list, "<li data-i18n=\"results.none\">Chưa có kỳ nào được công bố.</li>\n");
	values[0] = strbuf_str(&list);
	reply_template(app, reply, MHD_HTTP_OK, "results.html", keys, values, 1);
out:
	strbuf_release(&list);
}

/* GET /results/{quarter}/[file]: a published report's files, as stored
 * when it was published; /results/{quarter} redirects to its folder. */
static void handle_result_file(struct col_app *app, const struct col_request *req,
			       struct col_reply *reply, const char *tail)
{
	size_t len = strcspn(tail, "/");
	const char *name = tail[len] ? tail + len + 1 : NULL;
	char label[16], *data = NULL;
	int quarter;
	size_t size;
	struct err e;
	sqlite3 *db;

	(void)req;
	err_clear(&e);
	if (len >= sizeof(label) || (name && strchr(name, '/'))) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
		return;
	}
	memcpy(label, tail, len);
	label[len] = '\0';
	if (period_parse_quarter(label, &quarter, NULL) != 0) {
		col_reply_error(app, reply, COL_E_NOT_FOUND, "not a quarter", NULL);
		return;
	}
	db = reader(app, &e);
	if (!db || rep_published_file(db, label, name && *name ? name : "index.html", &data, &size, &e) != 0) {
		if (e.code == ERR_NOT_FOUND)
			col_reply_error(app, reply, COL_E_NOT_FOUND, "this quarter is not published", NULL);
		else
			reply_err(app, reply, &e);
		return;
	}
	if (!name) {   /* the report's relative links need the folder's slash */
		free(data);
		snprintf(reply->location, sizeof(reply->location), "/results/%s/", label);
		reply->status = MHD_HTTP_MOVED_PERMANENTLY;
		strbuf_reset(&reply->body);
		return;
	}
	reply->status = MHD_HTTP_OK;
	reply->content_type = col_static_type(*name ? name : "index.html");
	reply->cache_control = "no-cache";
	/* the report pages carry their own inline style and nothing else */
	reply->csp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
	strbuf_reset(&reply->body);
	strbuf_add(&reply->body, data, size);
	free(data);
}

/* GET /s/{form}?agency&sector&dossier&exp&sig: the phone questionnaire, or
 * a page that says why its link cannot be used. */
static void handle_survey_page(struct col_app *app, const struct col_request *req,
			       struct col_reply *reply, const char *form)
{
	struct link_fields link;
	struct err e;
	sqlite3 *db;
	int why, rated = 0;

	err_clear(&e);
	why = link_from_query(app, req, form, &link, &e);
	if (why) {
		reply_link_refused(app, reply, why);
		return;
	}
	db = reader(app, &e);
	if (!db || db_query_exists(db, "SELECT 1 FROM responses r JOIN forms f ON f.id = r.form_id "
				   "WHERE f.code = ?1 AND r.dossier_code = ?2", link.form, link.dossier,
				   &rated, &e) != 0) {
		reply_err(app, reply, &e);
		return;
	}
	if (rated)
		reply_link_refused(app, reply, LINK_REFUSED_USED);
	else
		reply_static(app, req, reply, MHD_HTTP_OK, "survey.html");
}

static void handle_api_index(struct col_app *app, const struct col_request *req,
			     struct col_reply *reply, const char *tail);

/* The route table.  Its order is the metrics' route index. */
static const struct col_route routes[] = {
	{ "GET", "/healthz", handle_healthz, AUTH_NONE, "liveness and a database round trip", NULL },
	{ "GET", "/metrics", handle_metrics, AUTH_ADMIN, "Prometheus metrics (admin token)", NULL },
	{ "GET", "/api", handle_api_index, AUTH_NONE, "this list", NULL },
	{ "GET", "/api/forms/", handle_form, AUTH_NONE, "a form's JSON: /api/forms/{id}", NULL },
	{ "GET", "/api/scores", handle_scores, AUTH_NONE,
	  "a published period's scores: ?period=2026Q3&form=sipas-2017&by=agency", NULL },
	{ "GET", "/api/kiosk", handle_kiosk, AUTH_KIOSK, "the kiosk's agency, counter and sectors", NULL },
	{ "POST", "/api/responses", handle_post, AUTH_KIOSK_OR_LINK,
	  "one rating: kiosk token, or a phone's signed link in the query", NULL },
	{ "POST", "/api/responses/batch", handle_batch, AUTH_KIOSK, "up to 500 queued kiosk ratings", NULL },
	{ "POST", "/api/pair", handle_pair, AUTH_NONE, "a pairing code for the kiosk's token", NULL },
	{ "GET", "/", NULL, AUTH_NONE, "what this service is", "index.html" },
	{ "GET", "/kiosk", NULL, AUTH_NONE, "the kiosk page", "kiosk.html" },
	/* the pairing page reads its code from its own URL */
	{ "GET", "/pair/", NULL, AUTH_NONE, "pairs a tablet: /pair/{code}", "pair.html" },
	{ "GET", "/s/", handle_survey_page, AUTH_NONE, "the phone questionnaire of a receipt's link", NULL },
	{ "GET", "/results", handle_results, AUTH_NONE, "the published quarters", NULL },
	{ "GET", "/results/", handle_result_file, AUTH_NONE,
	  "a published quarter's report and open data: /results/2026Q3/scores.csv", NULL },
	{ "GET", "/sw.js", NULL, AUTH_NONE, "the kiosk's service worker", "sw.js" },
	{ "GET", "/favicon.ico", NULL, AUTH_NONE, "the icon browsers ask for", "favicon.svg" },
	{ "GET", "/static/", handle_asset, AUTH_NONE, "styles, scripts and images of the pages", NULL },
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

_Static_assert(N_ROUTES <= COL_METRICS_ROUTES, "every route has its metrics");

static void handle_api_index(struct col_app *app, const struct col_request *req,
			     struct col_reply *reply, const char *tail)
{
	json_t *list = json_array();

	(void)app;
	(void)req;
	(void)tail;
	for (size_t i = 0; i < N_ROUTES; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "method", routes[i].method, "path",
						      routes[i].path, "about", routes[i].about));
	reply_json(reply, MHD_HTTP_OK, json_pack("{s:o}", "routes", list));
}

size_t col_body_limit(const char *path)
{
	return strcmp(path, "/api/responses/batch") == 0 ? COL_MAX_BATCH_BODY : COL_MAX_BODY;
}

/* The route for method and path, with the path's tail after a prefix
 * route; NULL when none (*allow then names the method the path takes, if
 * any). */
static const struct col_route *find_route(const char *method, const char *path, const char **tail,
					  const char **allow)
{
	*allow = NULL;
	for (size_t i = 0; i < N_ROUTES; i++) {
		const struct col_route *r = &routes[i];
		size_t n = strlen(r->path);
		int prefix = n > 1 && r->path[n - 1] == '/';

		*tail = path + n;
		/* a prefix route takes any non-empty rest; handlers check it */
		if (prefix ? strncmp(path, r->path, n) != 0 || !**tail : strcmp(path, r->path) != 0)
			continue;
		if (strcmp(method, r->method) != 0 &&
		    !(strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
			*allow = r->method;
			continue;
		}
		return r;
	}
	return NULL;
}

int col_precheck(struct col_app *app, const struct col_request *req, struct col_sender *sender,
		 struct col_reply *reply)
{
	const char *tail, *allow;
	const struct col_route *r = find_route(req->method, req->path, &tail, &allow);
	struct err e;
	int why;

	memset(sender, 0, sizeof(*sender));
	if (!r || r->auth == AUTH_NONE)
		return 0;
	if (r->auth == AUTH_KIOSK_OR_LINK && !bearer_token(req)) {
		if (rate_limited(app, &app->address_limit, req->client, req, reply))
			return -1;
		err_clear(&e);
		why = link_from_query(app, req, req->query(req->cls, "form"), &sender->link, &e);
		if (why) {
			col_reply_error(app, reply, COL_E_UNAUTHORIZED, e.text, e.field[0] ? e.field : "link");
			return -1;
		}
		sender->kind = COL_SENDER_LINK;
		return 0;
	}
	if (authenticate(app, req, reply, r->auth == AUTH_ADMIN ? DEVICE_ADMIN : DEVICE_KIOSK,
			 &sender->dev) != 0)
		return -1;
	sender->kind = COL_SENDER_DEVICE;
	if (r->auth != AUTH_ADMIN &&
	    rate_limited(app, &app->device_limit, (uint64_t)sender->dev.id, req, reply))
		return -1;
	return 0;
}

int col_route(struct col_app *app, const struct col_request *req, struct col_reply *reply)
{
	const char *tail, *allow;
	const struct col_route *r = find_route(req->method, req->path, &tail, &allow);

	if (r) {
		if (r->page)
			reply_static(app, req, reply, MHD_HTTP_OK, r->page);
		else
			r->handler(app, req, reply, tail);
		return (int)(r - routes);
	}
	if (allow) {
		reply->allow = allow;
		col_reply_error(app, reply, COL_E_METHOD_NOT_ALLOWED, NULL, NULL);
	} else {
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
	}
	return -1;
}

int col_app_open(struct col_app *app, const char *db_path, const struct col_limits *limits,
		 struct err *e)
{
	sqlite3 *db = NULL;
	int rc;

	memset(app, 0, sizeof(*app));
	for (size_t i = 0; i < N_ROUTES; i++)
		app->metrics.routes[i] = routes[i].path;
	col_ratelimit_init(&app->device_limit, limits->device_per_minute, limits->device_burst);
	col_ratelimit_init(&app->address_limit, limits->address_per_minute, limits->address_burst);
	app->db_path = strdup(db_path);
	if (!app->db_path)
		return err_set(e, ERR_NOMEM, "out of memory");
	pthread_mutex_init(&app->catalog_lock, NULL);
	rc = db_open(db_path, 0, &db, e);
	if (!rc)
		rc = col_catalog_load(db, &app->catalog, e);
	if (!rc)
		rc = db_server_key(db, app->key, e);
	db_close(db);
	if (!rc)
		rc = col_writer_start(db_path, app->key, &app->writer, e);
	if (rc)
		col_app_close(app);
	return rc;
}

void col_app_close(struct col_app *app)
{
	col_writer_stop(app->writer);
	app->writer = NULL;
	col_catalog_release(app->catalog);
	app->catalog = NULL;
	pthread_mutex_destroy(&app->catalog_lock);
	col_ratelimit_release(&app->device_limit);
	col_ratelimit_release(&app->address_limit);
	free(app->db_path);
	app->db_path = NULL;
	memset(app->key, 0, sizeof(app->key));
}

struct col_catalog *col_app_catalog(struct col_app *app)
{
	struct col_catalog *c;

	pthread_mutex_lock(&app->catalog_lock);
	c = col_catalog_hold(app->catalog);
	pthread_mutex_unlock(&app->catalog_lock);
	return c;
}

int col_app_reload(struct col_app *app, struct err *e)
{
	struct col_catalog *fresh = NULL, *old;
	sqlite3 *db = NULL;
	int rc = db_open(app->db_path, DB_READONLY, &db, e);

	if (!rc)
		rc = col_catalog_load(db, &fresh, e);
	db_close(db);
	if (rc)
		return rc;
	pthread_mutex_lock(&app->catalog_lock);
	old = app->catalog;
	app->catalog = fresh;
	pthread_mutex_unlock(&app->catalog_lock);
	/* requests that hold the old catalog keep it until they finish */
	col_catalog_release(old);
	return 0;
}
