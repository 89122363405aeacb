/*
 * errors.c - the collector's error table (see errors.h).
 */
#include "errors.h"

#include <assert.h>
#include <microhttpd.h>

#include "../lib/err.h"

static const struct {
	struct col_error_info info;
	int from;               /* the err_code or col_err_code of this row; ERR_OK = none */
} table[COL_E_COUNT] = {
	[COL_E_INVALID] = { { "invalid", MHD_HTTP_BAD_REQUEST, 0, "the request is not valid" }, ERR_INVALID },
	[COL_E_UNAUTHORIZED] = { { "unauthorized", MHD_HTTP_UNAUTHORIZED, 0,
				   "an Authorization: Bearer token is required" }, ERR_OK },
	[COL_E_FORBIDDEN] = { { "forbidden", MHD_HTTP_FORBIDDEN, 0, "this token may not do that" }, ERR_OK },
	[COL_E_NOT_FOUND] = { { "not_found", MHD_HTTP_NOT_FOUND, 0, "no such path" }, ERR_OK },
	[COL_E_METHOD_NOT_ALLOWED] = { { "method_not_allowed", MHD_HTTP_METHOD_NOT_ALLOWED, 0,
				         "method not allowed on this path" }, ERR_OK },
	[COL_E_CONFLICT] = { { "conflict", MHD_HTTP_CONFLICT, 0,
			       "this contradicts a response already stored" }, ERR_CONFLICT },
	/* well formed, but naming what this sender cannot use (a staff code
	 * that is not an active officer of the kiosk's agency) */
	[COL_E_UNPROCESSABLE] = { { "unprocessable", MHD_HTTP_UNPROCESSABLE_CONTENT, 0,
				    "the request names something that cannot be used here" }, ERR_OK },
	[COL_E_TOO_LARGE] = { { "too_large", MHD_HTTP_CONTENT_TOO_LARGE, 0, "the request body is too large" },
			      ERR_TOO_LARGE },
	[COL_E_URI_TOO_LONG] = { { "uri_too_long", MHD_HTTP_URI_TOO_LONG, 0,
				   "the request target is too long or has too many query parameters" }, ERR_OK },
	[COL_E_HEADERS_TOO_LARGE] = { { "headers_too_large", MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, 0,
					"the request's header fields are too many or too large" }, ERR_OK },
	[COL_E_UNSUPPORTED_MEDIA_TYPE] = { { "unsupported_media_type", MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, 0,
					     "the body must be application/json" }, ERR_OK },
	[COL_E_RATE_LIMITED] = { { "rate_limited", MHD_HTTP_TOO_MANY_REQUESTS, 1,
				   "too many requests: retry later" }, ERR_OK },
	[COL_E_UNAVAILABLE] = { { "unavailable", MHD_HTTP_SERVICE_UNAVAILABLE, 5,
				  "the collector is shutting down: retry later" }, ERR_OK },
	/* Storage failures are worth a retry: the kiosk keeps the rating.
	 * busy: another process (sipas import) holds the write lock longer
	 * than the writer waits (COL_WRITER_BUSY_SECONDS). */
	[COL_E_BUSY] = { { "busy", MHD_HTTP_SERVICE_UNAVAILABLE, 5,
			   "the database is locked by another process: retry later" }, COL_ERR_BUSY },
	[COL_E_STORAGE_FULL] = { { "storage_full", MHD_HTTP_SERVICE_UNAVAILABLE, 60,
				   "the disk is full: nothing was stored, retry later" }, COL_ERR_STORAGE_FULL },
	/* Until a restart: what the writer has open is no longer the database. */
	[COL_E_STORAGE_GONE] = { { "storage_gone", MHD_HTTP_SERVICE_UNAVAILABLE, 60,
				   "the database file was removed or replaced: nothing can be stored "
				   "until the collector is restarted" }, COL_ERR_STORAGE_GONE },
	[COL_E_DATABASE] = { { "database", MHD_HTTP_SERVICE_UNAVAILABLE, 5,
			       "the database cannot be used now: retry later" }, ERR_DB },
	[COL_E_IO] = { { "io", MHD_HTTP_SERVICE_UNAVAILABLE, 5, "a file cannot be read or written: retry later" },
		       ERR_IO },
	[COL_E_OUT_OF_MEMORY] = { { "out_of_memory", MHD_HTTP_SERVICE_UNAVAILABLE, 5,
				    "the collector is out of memory: retry later" }, ERR_NOMEM },
	[COL_E_INTERNAL] = { { "internal", MHD_HTTP_INTERNAL_SERVER_ERROR, 0, "internal error" }, ERR_INTERNAL },
};

const struct col_error_info *col_error_info(enum col_error err)
{
	assert(err < COL_E_COUNT && table[err].info.code);
	return &table[err].info;
}

enum col_error col_error_from_err(int err_code)
{
	if (err_code == ERR_NOT_FOUND)
		return COL_E_INVALID;
	if (err_code == ERR_OK)   /* a failure that did not say why: a bug */
		return COL_E_INTERNAL;
	for (int i = 0; i < COL_E_COUNT; i++)
		if (table[i].from == err_code)
			return (enum col_error)i;
	return COL_E_INTERNAL;
}
