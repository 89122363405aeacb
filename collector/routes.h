/*
 * routes.h - the collector's route table and its handlers.  A handler gets
 * the request (method, path, query, body) and fills a reply; it never talks
 * to libmicrohttpd, so the table can be read as the API's index.
 */
#ifndef SIPAS_ROUTES_H
#define SIPAS_ROUTES_H

#include <pthread.h>
#include <stddef.h>
#include <sqlite3.h>

#include "../forms/form.h"
#include "../lib/strbuf.h"

/* What every request may read.  Forms are loaded at start and immutable. */
struct col_app {
	sqlite3 *db;                 /* read connection, used under db_lock */
	pthread_mutex_t db_lock;
	struct form **forms;
	size_t n_forms;
};

struct col_request {
	const char *method;
	const char *path;
	struct MHD_Connection *conn; /* for query arguments and headers */
};

struct col_reply {
	unsigned status;
	const char *content_type;
	struct strbuf body;
};

/* Route the request to its handler and fill `reply`.  Can't fail: problems
 * become error replies (SPEC §6: {"error": {"code", "message", "field"}}). */
void col_route(struct col_app *app, const struct col_request *req, struct col_reply *reply);

/* Load what handlers need from the database at `path`; ERR_* on failure. */
int col_app_open(struct col_app *app, const char *path, struct err *e);

/* Release what col_app_open took. */
void col_app_close(struct col_app *app);

#endif
