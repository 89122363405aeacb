/*
 * routes.h - the collector's API (docs/collector.md): the route table
 * matches a request, checks its credentials before the body is read, and
 * hands it to its handler (handlers.h).
 */
#ifndef SIPAS_ROUTES_H
#define SIPAS_ROUTES_H

#include <stddef.h>

#include "app.h"

/* What the route table says of a request's method and path, looked up
 * once, by col_precheck, and used again by col_route. */
struct col_match {
	int route;            /* its index in the table; -1: none */
	const char *allow;    /* none: the method the path takes, if any (405) */
};

/* Answer the request as its route `m` (col_precheck's) says; fill
 * `reply`.  Returns the route's index for metrics, -1 when no route
 * matched.  Can't fail: problems become error replies ({"error": {"code",
 * "message", "field"}}, docs/collector.md). */
int col_route(struct col_app *app, const struct col_request *req, const struct col_match *m,
	      struct col_reply *reply);

/* Before the body is read: match the route (*m, for col_route), set
 * *body_limit to the largest body the route
 * takes (its body_limit column; 0 for GETs and for paths no route serves:
 * a Content-Length above it is answered 413 unread), authenticate the
 * request as its route asks (a kiosk, admin or system token, or a phone's signed
 * link in the query; for pairing, no credential but the address's
 * allowance) and take one token of its rate limit (for a batch,
 * its first item's: the batch handler takes one more per further item, so
 * a batch is refused whole only when not even one rating would be taken).
 * Returns 0 to go on, with *sender filled; -1 with the refusal in `reply`
 * (*m and *body_limit are set either way). */
int col_precheck(struct col_app *app, const struct col_request *req, struct col_match *m,
		 struct col_sender *sender, size_t *body_limit, struct col_reply *reply);

/* Name the routes in app's metrics (their order is the route index
 * col_route returns).  Can't fail. */
void col_routes_name_metrics(struct col_app *app);

#endif
