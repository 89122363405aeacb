/*
 * routes.c - the collector's API (docs/collector.md): the route table and
 * how a request is matched and authenticated.  The handlers live by what
 * they serve (handlers.h): route_submit.c (ratings), route_api.c (the JSON
 * that reads), route_pages.c (pages); what they share is request.c, the
 * state they share app.c.
 *
 * Authentication runs from the headers and the query before any body byte
 * is read (col_precheck); a submission's 2xx is sent only after the
 * writer's commit (writer.c).
 */
#include "routes.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../db/db.h"
#include "console.h"
#include "device.h"
#include "handlers.h"
#include "link.h"
#include "request.h"

/* Who may call a route, checked from the headers and the query before any
 * body byte is read (col_precheck). */
enum col_auth {
	AUTH_NONE,
	AUTH_ADDRESS,         /* anyone, each request spending its address's allowance */
	AUTH_KIOSK,           /* a kiosk token */
	AUTH_ADMIN,           /* an admin token */
	AUTH_SYSTEM,          /* a system token (a one-stop system, docs/onestop.md) */
	AUTH_KIOSK_OR_LINK,   /* a kiosk token, or a phone's signed link in the query */
	AUTH_CONSOLE,         /* a console session (and its CSRF token unless GET); the
				 handler applies the user's role and scope */
	AUTH_CONSOLE_OFFICE,  /* the same, for office users only */
	AUTH_ADMIN_OR_CONSOLE /* an admin token when the request has a bearer token,
				 else a console session; the handler applies the scope */
};

struct col_route {
	const char *method;
	const char *path;     /* exact, or a prefix when it ends with '/' */
	col_handler handler;
	enum col_auth auth;
	size_t body_limit;    /* the largest body taken; 0: none (a GET) */
			      /* above COL_MAX_HELD_BODY: a multipart upload streamed to disk */
	const char *about;    /* for GET /api */
	const char *page;     /* set: the route serves this file of collector/www/ */
};


static void handle_api_index(struct col_app *app, const struct col_request *req,
			     struct col_reply *reply, const char *tail);

/* The route table.  Its order is the metrics' route index.  Who may call
 * a route and the largest body it takes are both enforced from the
 * headers, before any body byte is buffered (col_precheck and
 * http_server.c). */
static const struct col_route routes[] = {
	{ "GET", "/healthz", col_handle_healthz, AUTH_NONE, 0, "liveness and a database round trip", NULL },
	{ "GET", "/metrics", col_handle_metrics, AUTH_ADMIN, 0, "Prometheus metrics (admin token)", NULL },
	{ "GET", "/api", handle_api_index, AUTH_NONE, 0, "this list", NULL },
	{ "GET", "/api/forms/", col_handle_form, AUTH_NONE, 0, "a form's JSON: /api/forms/{id}", NULL },
	{ "GET", "/api/scores", col_handle_scores, AUTH_NONE, 0,
	  "a published period's scores: ?period=2026Q3&form=sipas-2017&by=agency", NULL },
	{ "GET", "/api/kiosk", col_handle_kiosk, AUTH_KIOSK, 0, "the kiosk's agency, counter and sectors", NULL },
	{ "GET", "/api/system", col_handle_system, AUTH_SYSTEM, 0,
	  "the system token's name and the agencies it acts for", NULL },
	{ "POST", "/api/links", col_handle_links, AUTH_SYSTEM, COL_MAX_BATCH_BODY,
	  "receipt links and QR codes: {links: [{form, agency, sector, dossier, expires_days}]}, 1 to 500 "
	  "(system token)", NULL },
	{ "POST", "/api/responses", col_handle_post, AUTH_KIOSK_OR_LINK, COL_MAX_BODY,
	  "one rating: kiosk token, or a phone's signed link in the query", NULL },
	{ "POST", "/api/responses/batch", col_handle_batch, AUTH_KIOSK, COL_MAX_BATCH_BODY,
	  "up to 500 queued kiosk ratings", NULL },
	{ "POST", "/api/dossiers", col_handle_dossiers, AUTH_SYSTEM, COL_MAX_BATCH_BODY,
	  "up to 500 dossier records of the one-stop system (system token)", NULL },
	{ "POST", "/api/pair", col_handle_pair, AUTH_ADDRESS, COL_MAX_BODY, "a pairing code for the kiosk's token", NULL },
	{ "POST", "/api/kiosk/pin", col_handle_kiosk_pin, AUTH_KIOSK, COL_MAX_BODY,
	  "whether the kiosk's staff PIN is right: 200, or 403, or 429 while locked", NULL },
	{ "POST", "/api/kiosk/shift", col_handle_kiosk_shift, AUTH_KIOSK, COL_MAX_BODY,
	  "the officer on duty at the kiosk: {officer: CODE}, or {officer: null} to end the shift", NULL },
	{ "POST", "/api/kiosk/heartbeat", col_handle_kiosk_heartbeat, AUTH_KIOSK, COL_MAX_BODY,
	  "the kiosk is alive: {queued: N}, the ratings waiting in its queue", NULL },
	{ "POST", "/console/api/login", col_handle_console_login, AUTH_ADDRESS, COL_MAX_BODY,
	  "sign in to the console: {login, password}; sets the session cookie", NULL },
	{ "POST", "/console/api/logout", col_handle_console_logout, AUTH_CONSOLE, 0, "sign out (ends the session)", NULL },
	{ "GET", "/console/api/me", col_handle_console_me, AUTH_CONSOLE, 0,
	  "the signed-in user, its role, agencies and CSRF token", NULL },
	{ "GET", "/console/api/overview", col_handle_console_overview, AUTH_CONSOLE, 0,
	  "the quarter so far per agency in scope, and the counters' ratings today: ?period=2026Q4", NULL },
	{ "GET", "/console/api/devices", col_handle_console_devices, AUTH_CONSOLE, 0,
	  "the devices in the user's scope (not for viewers)", NULL },
	{ "POST", "/console/api/devices", col_handle_console_device_add, AUTH_CONSOLE, COL_MAX_BODY,
	  "a new kiosk and its one-time pairing link: {agency, counter, sectors}", NULL },
	{ "POST", "/console/api/devices/", col_handle_console_device, AUTH_CONSOLE, COL_MAX_BODY,
	  "a kiosk's new pairing link, or its revocation: /console/api/devices/{id}/pair or /revoke", NULL },
	{ "POST", "/console/api/imports", col_handle_console_import, AUTH_CONSOLE_OFFICE, COL_MAX_UPLOAD,
	  "a survey or dossier CSV, multipart/form-data fields kind, form and file (up to 200 MiB)", NULL },
	{ "GET", "/console/api/quarter", col_handle_console_quarter, AUTH_CONSOLE_OFFICE, 0,
	  "a quarter's state and publications: ?period=2026Q3", NULL },
	{ "GET", "/console/preview/", col_handle_console_preview, AUTH_CONSOLE_OFFICE, 0,
	  "the report as it would be published: /console/preview/2026Q3/index.html", NULL },
	{ "POST", "/console/api/publish", col_handle_console_publish, AUTH_CONSOLE_OFFICE, COL_MAX_BODY,
	  "publish a quarter: {period, confirm_early}", NULL },
	{ "POST", "/console/api/withdraw", col_handle_console_withdraw, AUTH_CONSOLE_OFFICE, COL_MAX_BODY,
	  "withdraw a published quarter: {period}", NULL },
	{ "POST", "/console/api/password", col_handle_console_password, AUTH_ADDRESS, COL_MAX_BODY,
	  "set a password: {token, password} from a one-time link, or signed in {current, password}", NULL },
	{ "GET", "/console/api/users", col_handle_console_users, AUTH_CONSOLE_OFFICE, 0, "the accounts (office)", NULL },
	{ "POST", "/console/api/users", col_handle_console_user_add, AUTH_CONSOLE_OFFICE, COL_MAX_BODY,
	  "add an account: {login, name, role, agencies}; its one-time password link (office)", NULL },
	{ "POST", "/console/api/users/", col_handle_console_user_action, AUTH_CONSOLE_OFFICE, COL_MAX_BODY,
	  "/console/api/users/{login}/disable, or /reset for a new one-time link (office)", NULL },
	{ "GET", "/console/api/audit", col_handle_console_audit, AUTH_CONSOLE_OFFICE, 0,
	  "the audit log, newest first: ?since=YYYY-MM-DD&actor=&action=&limit= (office)", NULL },
	{ "GET", "/console/api/notify/failed", col_handle_console_notify_failed, AUTH_CONSOLE_OFFICE, 0,
	  "notifications given up after 24 hours of retries, newest first (office)", NULL },
	{ "GET", "/api/live", col_handle_live, AUTH_ADMIN_OR_CONSOLE, 0,
	  "ratings, share satisfied, interval, target, reasons: ?window=today|7d|30d|quarter&by=agency|sector|"
	  "counter|officer (admin token or console session)", NULL },
	{ "GET", "/api/live/funnel.svg", col_handle_live_funnel, AUTH_ADMIN_OR_CONSOLE, 0,
	  "the live view's funnel plot: ?window=&by=&target=0.95 (admin token or console session)", NULL },
	{ "GET", "/api/alerts", col_handle_alerts, AUTH_ADMIN_OR_CONSOLE, 0,
	  "the alerts, newest first: ?state=open|closed|all (admin token or console session)", NULL },
	{ "GET", "/console/api/comments", col_handle_console_comments, AUTH_CONSOLE, 0,
	  "citizens' comments, newest first: ?from=&to=&period=&agency=&sector=&rating=&q=&before=&limit=", NULL },
	{ "GET", "/console/api/comments.csv", col_handle_console_comments_csv, AUTH_CONSOLE, 0,
	  "the same comments as CSV, every row", NULL },
	{ "POST", "/console/api/comments/", col_handle_console_comment, AUTH_CONSOLE, COL_MAX_BODY,
	  "mark a comment handled: /console/api/comments/{id}/handled {note}", NULL },
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
	/* the console's pages: static, their data only through /console/api/ */
	{ "GET", "/console/login", NULL, AUTH_NONE, 0, "the console's sign-in page", "console-login.html" },
	{ "GET", "/console", NULL, AUTH_NONE, 0, "the console: this quarter so far", "console.html" },
	{ "GET", "/console/devices", NULL, AUTH_NONE, 0, "the console: kiosks, pairing, revoking", "console-devices.html" },
	{ "GET", "/console/devices/sheet", NULL, AUTH_NONE, 0, "the console: a kiosk's printable pairing sheet",
	  "console-sheet.html" },
	{ "GET", "/console/imports", NULL, AUTH_NONE, 0, "the console: survey and dossier files", "console-imports.html" },
	{ "GET", "/console/quarter", NULL, AUTH_NONE, 0, "the console: preview, publish, withdraw", "console-quarter.html" },
	{ "GET", "/console/users", NULL, AUTH_NONE, 0, "the console: accounts", "console-users.html" },
	{ "GET", "/console/audit", NULL, AUTH_NONE, 0, "the console: the audit log", "console-audit.html" },
	{ "GET", "/console/live", NULL, AUTH_NONE, 0, "the console: ratings today, 7 or 30 days, the quarter so far",
	  "console-live.html" },
	{ "GET", "/console/alerts", NULL, AUTH_NONE, 0, "the console: the alerts", "console-alerts.html" },
	{ "GET", "/console/comments", NULL, AUTH_NONE, 0, "the console: citizens' comments", "console-comments.html" },
	/* the page reads the one-time token from its own URL */
	{ "GET", "/console/password/", NULL, AUTH_NONE, 0, "sets a password: /console/password/{token}",
	  "console-password.html" },
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


/* The route for method and path; m->route -1 when none (m->allow then
 * names the method the path takes, if any). */
static void find_route(const char *method, const char *path, struct col_match *m)
{
	m->route = -1;
	m->allow = NULL;
	for (size_t i = 0; i < N_ROUTES; i++) {
		const struct col_route *r = &routes[i];
		size_t n = strlen(r->path);
		int prefix = n > 1 && r->path[n - 1] == '/';

		/* a prefix route takes any non-empty rest; handlers check it */
		if (prefix ? strncmp(path, r->path, n) != 0 || !path[n] : strcmp(path, r->path) != 0)
			continue;
		if (strcmp(method, r->method) != 0 &&
		    !(strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
			m->allow = r->method;
			continue;
		}
		m->route = (int)i;
		return;
	}
}

/* The device role a token route takes. */
static int auth_role(enum col_auth auth)
{
	switch (auth) {
	case AUTH_ADMIN:
	case AUTH_ADMIN_OR_CONSOLE:
		return DEVICE_ADMIN;
	case AUTH_SYSTEM:
		return DEVICE_SYSTEM;
	default:
		assert(auth == AUTH_KIOSK || auth == AUTH_KIOSK_OR_LINK);
		return DEVICE_KIOSK;
	}
}

int col_precheck(struct col_app *app, const struct col_request *req, struct col_match *m,
		 struct col_sender *sender, size_t *body_limit, struct col_reply *reply)
{
	const struct col_route *r;
	struct col_ratelimit *limit;
	struct err e;
	int why;

	find_route(req->method, req->path, m);
	r = m->route >= 0 ? &routes[m->route] : NULL;
	memset(sender, 0, sizeof(*sender));
	/* no route: the reply is 404 or 405, and needs no body */
	*body_limit = r ? r->body_limit : 0;
	if (!r || r->auth == AUTH_NONE)
		return 0;
	if (r->auth == AUTH_ADDRESS)
		return col_rate_limited(app, &app->address_limit, req->client, req, reply) ? -1 : 0;
	if (r->auth == AUTH_CONSOLE || r->auth == AUTH_CONSOLE_OFFICE ||
	    (r->auth == AUTH_ADMIN_OR_CONSOLE && !col_bearer_token(req)))
		return col_console_authenticate(app, req, reply, r->auth == AUTH_CONSOLE_OFFICE, sender);
	if (r->auth == AUTH_KIOSK_OR_LINK && !col_bearer_token(req)) {
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
	if (col_authenticate(app, req, reply, auth_role(r->auth), &sender->dev) != 0)
		return -1;
	sender->kind = COL_SENDER_DEVICE;
	limit = sender->dev.role == DEVICE_KIOSK ? &app->device_limit
		: sender->dev.role == DEVICE_SYSTEM ? &app->system_limit : NULL;
	if (limit && col_rate_limited(app, limit, (uint64_t)sender->dev.id, req, reply))
		return -1;
	return 0;
}

int col_route(struct col_app *app, const struct col_request *req, const struct col_match *m,
	      struct col_reply *reply)
{
	const struct col_route *r;

	assert(m->route >= -1 && m->route < (int)N_ROUTES);
	if (m->route >= 0) {
		r = &routes[m->route];
		if (r->page)
			col_reply_static(app, req, reply, MHD_HTTP_OK, r->page);
		else
			r->handler(app, req, reply, req->path + strlen(r->path));
		return m->route;
	}
	if (m->allow) {
		reply->allow = m->allow;
		col_reply_error(app, reply, COL_E_METHOD_NOT_ALLOWED, NULL, NULL);
	} else {
		col_reply_error(app, reply, COL_E_NOT_FOUND, NULL, NULL);
	}
	return -1;
}

void col_routes_name_metrics(struct col_app *app)
{
	for (size_t i = 0; i < N_ROUTES; i++)
		app->metrics.routes[i] = routes[i].path;
}
