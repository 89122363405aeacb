/*
 * routes.c - the collector's API (docs/collector.md): the route table, how
 * a request is matched and authenticated, and what the handlers share
 * (handlers.h).  The handlers live by what they serve: route_submit.c
 * (ratings), route_api.c (the JSON that reads), route_pages.c (pages).
 *
 * Authentication runs from the headers and the query before any body byte
 * is read (col_precheck); a submission's 2xx is sent only after the
 * writer's commit (writer.c).
 */
#include "routes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "device.h"
#include "handlers.h"
#include "link.h"

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
	size_t body_limit;    /* the largest body taken; 0: none (a GET) */
	const char *about;    /* for GET /api */
	const char *page;     /* set: the route serves this file of collector/www/ */
};

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
	if (db_open(app->db_path, 0, &r->db, e) != 0) {
		/* the file the server started with is gone (or was never
		 * there): a storage fault, and the reply must not show the path */
		if (e->code != ERR_NOMEM)
			err_set(e, COL_ERR_STORAGE_GONE, "the database cannot be opened");
		reader_close(r);
		return NULL;
	}
	if (device_auth_new(r->db, COL_DEVICE_RECHECK_SECONDS, &r->auth, e) != 0) {
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

/* ---- authentication and limits ---- */

static const char *bearer_token(const struct col_request *req)
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
		col_reply_error(app, reply, COL_E_FORBIDDEN,
			    role == DEVICE_ADMIN ? "an admin token is required" : "a kiosk token is required",
			    "authorization");
		return -1;
	}
	return 0;
}

int col_link_from_query(struct col_app *app, const struct col_request *req, const char *form,
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

static void handle_api_index(struct col_app *app, const struct col_request *req,
			     struct col_reply *reply, const char *tail);

/* The route table.  Its order is the metrics' route index.  Who may call
 * a route and the largest body it takes are both enforced from the
 * headers, before any body byte is buffered (col_precheck, col_body_limit
 * and http_server.c). */
static const struct col_route routes[] = {
	{ "GET", "/healthz", col_handle_healthz, AUTH_NONE, 0, "liveness and a database round trip", NULL },
	{ "GET", "/metrics", col_handle_metrics, AUTH_ADMIN, 0, "Prometheus metrics (admin token)", NULL },
	{ "GET", "/api", handle_api_index, AUTH_NONE, 0, "this list", NULL },
	{ "GET", "/api/forms/", col_handle_form, AUTH_NONE, 0, "a form's JSON: /api/forms/{id}", NULL },
	{ "GET", "/api/scores", col_handle_scores, AUTH_NONE, 0,
	  "a published period's scores: ?period=2026Q3&form=sipas-2017&by=agency", NULL },
	{ "GET", "/api/kiosk", col_handle_kiosk, AUTH_KIOSK, 0, "the kiosk's agency, counter and sectors", NULL },
	{ "POST", "/api/responses", col_handle_post, AUTH_KIOSK_OR_LINK, COL_MAX_BODY,
	  "one rating: kiosk token, or a phone's signed link in the query", NULL },
	{ "POST", "/api/responses/batch", col_handle_batch, AUTH_KIOSK, COL_MAX_BATCH_BODY,
	  "up to 500 queued kiosk ratings", NULL },
	{ "POST", "/api/pair", col_handle_pair, AUTH_NONE, COL_MAX_BODY, "a pairing code for the kiosk's token", NULL },
	{ "GET", "/", NULL, AUTH_NONE, 0, "what this service is", "index.html" },
	{ "GET", "/kiosk", NULL, AUTH_NONE, 0, "the kiosk page", "kiosk.html" },
	/* the pairing page reads its code from its own URL */
	{ "GET", "/pair/", NULL, AUTH_NONE, 0, "pairs a tablet: /pair/{code}", "pair.html" },
	{ "GET", "/s/", col_handle_survey_page, AUTH_NONE, 0, "the phone questionnaire of a receipt's link", NULL },
	{ "GET", "/results", col_handle_results, AUTH_NONE, 0, "the published quarters", NULL },
	{ "GET", "/results/", col_handle_result_file, AUTH_NONE, 0,
	  "a published quarter's report and open data: /results/2026Q3/scores.csv", NULL },
	{ "GET", "/sw.js", NULL, AUTH_NONE, 0, "the kiosk's service worker", "sw.js" },
	{ "GET", "/favicon.ico", NULL, AUTH_NONE, 0, "the icon browsers ask for", "favicon.svg" },
	{ "GET", "/static/", col_handle_asset, AUTH_NONE, 0, "styles, scripts and images of the pages", NULL },
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
	col_reply_json(reply, MHD_HTTP_OK, json_pack("{s:o}", "routes", list));
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

size_t col_body_limit(const char *method, const char *path)
{
	const char *tail, *allow;
	const struct col_route *r = find_route(method, path, &tail, &allow);

	/* no route: the reply is 404 or 405, and needs no body */
	return r ? r->body_limit : 0;
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
		if (col_rate_limited(app, &app->address_limit, req->client, req, reply))
			return -1;
		err_clear(&e);
		why = col_link_from_query(app, req, req->query(req->cls, "form"), &sender->link, &e);
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
	    col_rate_limited(app, &app->device_limit, (uint64_t)sender->dev.id, req, reply))
		return -1;
	return 0;
}

int col_route(struct col_app *app, const struct col_request *req, struct col_reply *reply)
{
	const char *tail, *allow;
	const struct col_route *r = find_route(req->method, req->path, &tail, &allow);

	if (r) {
		if (r->page)
			col_reply_static(app, req, reply, MHD_HTTP_OK, r->page);
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
	app->max_age = limits->max_age;
	app->min_free = limits->min_free;
	app->db_path = strdup(db_path);
	app->scores_cache = col_scores_cache_new();
	if (!app->db_path || !app->scores_cache) {
		free(app->db_path);
		col_scores_cache_free(app->scores_cache);
		return err_set(e, ERR_NOMEM, "out of memory");
	}
	pthread_mutex_init(&app->catalog_lock, NULL);
	pthread_mutex_init(&app->published_lock, NULL);
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
	store_published_free(app->published_days);
	app->published_days = NULL;
	pthread_mutex_destroy(&app->published_lock);
	col_ratelimit_release(&app->device_limit);
	col_ratelimit_release(&app->address_limit);
	col_scores_cache_free(app->scores_cache);
	app->scores_cache = NULL;
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
