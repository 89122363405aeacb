/*
 * handlers.h - what the route handlers share (inside collector/ only).
 *
 * routes.c holds the route table, authentication and these helpers; the
 * handlers live by what they serve:
 *   route_submit.c  POST /api/responses and /batch: check, queue, reply
 *   route_api.c     the JSON API that reads: healthz, metrics, forms,
 *                   scores, the kiosk's setup, pairing
 *   route_pages.c   the pages, the published results and phone links
 * Every handler has the col_handler signature; `tail` is the path after
 * a prefix route ("" for an exact one).
 */
#ifndef SIPAS_HANDLERS_H
#define SIPAS_HANDLERS_H

#include <jansson.h>
#include <sqlite3.h>

#include "routes.h"

typedef void (*col_handler)(struct col_app *app, const struct col_request *req,
			    struct col_reply *reply, const char *tail);

/* Fill `reply` with status and doc as JSON; takes the reference to doc
 * (NULL, from a failed json_pack, becomes 507 out_of_memory). */
void col_reply_json(struct col_reply *reply, unsigned status, json_t *doc);

/* {"code", "message", "field"}: message NULL takes the table's.  New
 * reference, NULL when out of memory. */
json_t *col_error_json(enum col_error why, const char *message, const char *field);

/* col_reply_error with an err's code, text and field. */
void col_reply_err(struct col_app *app, struct col_reply *reply, const struct err *e);

/* 1 if the request's Accept-Encoding takes gzip. */
int col_accepts_gzip(const struct col_request *req);

/* This worker thread's read connection, opened on first use and owned by
 * the thread (closed when it ends).  NULL with e filled on failure. */
sqlite3 *col_reader(struct col_app *app, struct err *e);

/* Take one token from rl for key; when none is left fill a 429 reply with
 * its Retry-After and return 1. */
int col_rate_limited(struct col_app *app, struct col_ratelimit *rl, uint64_t key,
		     const struct col_request *req, struct col_reply *reply);

/* Why a phone link cannot be used; COL_LINK_OK (0) when it can. */
enum { COL_LINK_OK, COL_LINK_REFUSED_INVALID, COL_LINK_REFUSED_EXPIRED, COL_LINK_REFUSED_USED };

/* Read and check a phone's signed link from the query (agency, sector,
 * dossier, exp, sig) for `form`.  The strings of *link point into the
 * request.  Returns COL_LINK_OK, or a COL_LINK_REFUSED_* reason with e
 * filled. */
int col_link_from_query(struct col_app *app, const struct col_request *req, const char *form,
			struct link_fields *link, struct err *e);

/* Parse the request body as JSON (Content-Type must say so) into *out, a
 * new reference.  On failure the reply is set and -1 returned. */
int col_json_body(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		  json_t **out);

/* Reply with the compiled-in file `name`, gzipped when the browser takes
 * it; 304 when the browser's copy is current. */
void col_reply_static(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      unsigned status, const char *name);

/* route_submit.c */
void col_handle_post(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     const char *tail);
void col_handle_batch(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      const char *tail);

/* route_api.c */
void col_handle_healthz(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail);
void col_handle_metrics(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail);
void col_handle_form(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     const char *id);
void col_handle_scores(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		       const char *tail);
void col_handle_kiosk(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      const char *tail);
void col_handle_pair(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     const char *tail);

/* route_pages.c */
void col_handle_asset(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		      const char *name);
void col_handle_results(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			const char *tail);
void col_handle_result_file(struct col_app *app, const struct col_request *req,
			    struct col_reply *reply, const char *tail);
void col_handle_survey_page(struct col_app *app, const struct col_request *req,
			    struct col_reply *reply, const char *form);

#endif
