/*
 * request.h - what routes.c and the handlers share (inside collector/
 * only): replies, the worker thread's read connection, credentials, rate
 * limits, phone links and JSON bodies.  Defined in request.c.
 */
#ifndef SIPAS_REQUEST_H
#define SIPAS_REQUEST_H

#include <jansson.h>
#include <sqlite3.h>

#include "app.h"

/* Fill `reply` with status and doc as JSON; takes the reference to doc
 * (NULL, from a failed json_pack, becomes 507 out_of_memory). */
void col_reply_json(struct col_reply *reply, unsigned status, json_t *doc);

/* {"code", "message", "field"}: message NULL takes the table's.  New
 * reference, NULL when out of memory. */
json_t *col_error_json(enum col_error why, const char *message, const char *field);

/* Fill `reply` with the JSON error `why` (message NULL: the table's), its
 * status and Retry-After (unless one is set), and count it in the metrics.
 * Can't fail. */
void col_reply_error(struct col_app *app, struct col_reply *reply, enum col_error why,
		     const char *message, const char *field);

/* col_reply_error with an err's code, text and field. */
void col_reply_err(struct col_app *app, struct col_reply *reply, const struct err *e);

/* 1 if the request's Accept-Encoding takes gzip. */
int col_accepts_gzip(const struct col_request *req);

/* This worker thread's read connection, opened on first use and owned by
 * the thread (closed when it ends).  NULL with e filled on failure. */
sqlite3 *col_reader(struct col_app *app, struct err *e);

/* Statements a worker thread keeps prepared on its read connection, for
 * the reads anyone may make thousands of times a second (preparing one
 * costs more than running it). */
enum col_kept { COL_KEPT_PUBLISHED_STAMP, COL_N_KEPT };

/* This thread's read connection (as col_reader) and, in *slot, its place
 * for statement `which`: NULL until its user prepares it there; finalized
 * with the connection. */
sqlite3 *col_reader_kept(struct col_app *app, enum col_kept which, sqlite3_stmt ***slot, struct err *e);

/* The receipt of a stored response: the HMAC-SHA256, keyed with the
 * server key, of its form code, response id and content digest
 * (store_digest), first 16 bytes as 32 hex digits into out[33]; so the
 * same submission always gets the same receipt and nobody can mint one.
 * Uses this worker thread's MAC (keyed once, with its read connection);
 * fails only when that state cannot be made (e filled). */
int col_receipt(struct col_app *app, const char *form, const char *response_id,
		const uint8_t digest[STORE_DIGEST_BYTES], char out[33], struct err *e);

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

/* Parse a body that must be {"NAME": "..."}, one string field: *doc gets
 * the document (a new reference, json_decref) and *value its string,
 * owned by *doc.  On failure the reply is set (400 naming NAME) and -1
 * returned, with *doc NULL. */
int col_json_string_body(struct col_app *app, const struct col_request *req, struct col_reply *reply,
			 const char *name, json_t **doc, const char **value);

/* The bearer token of the Authorization header, pointing into it; NULL
 * when there is none. */
const char *col_bearer_token(const struct col_request *req);

/* Authenticate the request's bearer token as a device of `role` (enum
 * device_role) and fill *dev; on failure the reply is set and -1
 * returned. */
int col_authenticate(struct col_app *app, const struct col_request *req, struct col_reply *reply,
		     int role, struct device_info *dev);

#endif
