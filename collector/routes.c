/*
 * routes.c - the collector's API (SPEC §6): the route table and handlers.
 * Replies are JSON built with jansson; errors use the SPEC §6 error object.
 */
#include "routes.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <microhttpd.h>

#include "../forms/form_store.h"
#include "../lib/db.h"

typedef void (*col_handler)(struct col_app *app, const struct col_request *req,
			    struct col_reply *reply, const char *tail);

struct col_route {
	const char *method;
	const char *path;     /* exact path, or a prefix when it ends with '/' */
	col_handler handler;
};

static void reply_json(struct col_reply *reply, unsigned status, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);

	json_decref(doc);
	reply->status = status;
	reply->content_type = "application/json; charset=utf-8";
	strbuf_reset(&reply->body);
	if (!text) {
		reply->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		strbuf_addstr(&reply->body, "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
		return;
	}
	strbuf_addstr(&reply->body, text);
	strbuf_addch(&reply->body, '\n');
	free(text);
}

static void reply_error(struct col_reply *reply, unsigned status, const char *code,
			const char *message, const char *field)
{
	json_t *err = json_pack("{s:s, s:s}", "code", code, "message", message);

	if (field && *field)
		json_object_set_new(err, "field", json_string(field));
	reply_json(reply, status, json_pack("{s:o}", "error", err));
}

static void handle_healthz(struct col_app *app, const struct col_request *req,
			   struct col_reply *reply, const char *tail)
{
	long long n = 0;
	struct err e;
	int rc;

	(void)req;
	(void)tail;
	pthread_mutex_lock(&app->db_lock);
	rc = db_query_int(app->db, "SELECT count(*) FROM forms", &n, &e);
	pthread_mutex_unlock(&app->db_lock);
	if (rc) {
		reply_error(reply, MHD_HTTP_SERVICE_UNAVAILABLE, "database", e.text, NULL);
		return;
	}
	reply_json(reply, MHD_HTTP_OK, json_pack("{s:s, s:s, s:I}", "status", "ok", "database", "ok",
						 "forms", (json_int_t)n));
}

static void handle_form(struct col_app *app, const struct col_request *req,
			struct col_reply *reply, const char *id)
{
	(void)req;
	for (size_t i = 0; i < app->n_forms; i++) {
		if (strcmp(app->forms[i]->id, id) == 0) {
			reply_json(reply, MHD_HTTP_OK, json_incref(app->forms[i]->doc));
			return;
		}
	}
	reply_error(reply, MHD_HTTP_NOT_FOUND, "not_found", "no such form", "form");
}

static const struct col_route routes[] = {
	{ "GET", "/healthz", handle_healthz },
	{ "GET", "/api/forms/", handle_form },
};

void col_route(struct col_app *app, const struct col_request *req, struct col_reply *reply)
{
	int path_known = 0;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct col_route *r = &routes[i];
		size_t n = strlen(r->path);
		int prefix = r->path[n - 1] == '/';
		const char *tail = req->path + n;

		if (prefix ? strncmp(req->path, r->path, n) != 0 || !*tail || strchr(tail, '/')
			   : strcmp(req->path, r->path) != 0)
			continue;
		path_known = 1;
		if (strcmp(req->method, r->method) != 0 &&
		    !(strcmp(req->method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
			continue;
		r->handler(app, req, reply, tail);
		return;
	}
	if (path_known)
		reply_error(reply, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
			    "method not allowed on this path", NULL);
	else
		reply_error(reply, MHD_HTTP_NOT_FOUND, "not_found", "no such path", NULL);
}

int col_app_open(struct col_app *app, const char *path, struct err *e)
{
	int rc;

	memset(app, 0, sizeof(*app));
	pthread_mutex_init(&app->db_lock, NULL);
	rc = db_open(path, 0, &app->db, e);
	if (!rc)
		rc = form_store_get_all(app->db, &app->forms, &app->n_forms, e);
	if (rc)
		col_app_close(app);
	return rc;
}

void col_app_close(struct col_app *app)
{
	form_store_free_all(app->forms, app->n_forms);
	app->forms = NULL;
	app->n_forms = 0;
	db_close(app->db);
	app->db = NULL;
	pthread_mutex_destroy(&app->db_lock);
}
