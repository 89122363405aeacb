/*
 * errors.h - every way the collector refuses a request, in one table:
 * the error code that goes into {"error": {"code", "message", "field"}},
 * the HTTP status, the default message, and whether a client should retry.
 * The routes, the JSON error replies and the /metrics rejection counters
 * all read this table, so a new error needs one row and nothing else.
 */
#ifndef SIPAS_COL_ERRORS_H
#define SIPAS_COL_ERRORS_H

enum col_error {
	COL_E_INVALID,
	COL_E_UNAUTHORIZED,
	COL_E_FORBIDDEN,
	COL_E_NOT_FOUND,
	COL_E_METHOD_NOT_ALLOWED,
	COL_E_CONFLICT,
	COL_E_UNPROCESSABLE,
	COL_E_TOO_LARGE,
	COL_E_URI_TOO_LONG,
	COL_E_HEADERS_TOO_LARGE,
	COL_E_UNSUPPORTED_MEDIA_TYPE,
	COL_E_RATE_LIMITED,
	COL_E_UNAVAILABLE,
	COL_E_BUSY,
	COL_E_STORAGE_FULL,
	COL_E_STORAGE_GONE,
	COL_E_DATABASE,
	COL_E_IO,
	COL_E_OUT_OF_MEMORY,
	COL_E_INTERNAL,
	COL_E_COUNT
};

/* Storage failures the writer reports that lib/err.h has no code for.
 * They travel in struct err like any err_code (the writer's results carry
 * them) and each has its row in the table. */
enum col_err_code {
	COL_ERR_BUSY = -100,          /* another process holds the write lock */
	COL_ERR_STORAGE_FULL = -101,  /* the disk (or a file size limit) is full */
	COL_ERR_STORAGE_GONE = -102   /* the database file was removed or replaced */
};

struct col_error_info {
	const char *code;       /* the JSON error code and the metrics reason */
	unsigned status;        /* the HTTP status */
	int retry_after;        /* seconds for a Retry-After header; 0 = none */
	const char *message;    /* used when the refusal has no message of its own */
};

/* The row of `err`, which must be < COL_E_COUNT.  Can't fail. */
const struct col_error_info *col_error_info(enum col_error err);

/* The collector error for a failed check or store (an err_code from
 * lib/err.h, or a col_err_code).  In a request, a name that is not found
 * (an agency, a sector, a form) is bad input: ERR_NOT_FOUND maps to
 * COL_E_INVALID. */
enum col_error col_error_from_err(int err_code);

#endif
