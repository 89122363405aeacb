/*
 * err.h - the one error type of sipas: a code from a project-wide enum and a
 * one-line message naming the file, line, field or JSON path at fault.
 * Functions that can fail take a `struct err *` and fill it only on failure.
 */
#ifndef SIPAS_ERR_H
#define SIPAS_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_INVALID = -1,   /* bad user input: a file, a field, an argument */
	ERR_CONFLICT = -2,  /* input contradicts what is stored */
	ERR_NOT_FOUND = -3, /* a named thing does not exist */
	ERR_TOO_LARGE = -4, /* input over a size limit */
	ERR_IO = -5,        /* a file could not be read or written */
	ERR_DB = -6,        /* sqlite reported an error */
	ERR_NOMEM = -7,     /* out of memory */
	ERR_INTERNAL = -8   /* a bug or a failing library */
};

struct err {
	int code;
	char field[64];  /* the offending field or column, "" when none */
	char text[512];  /* lowercase, no full stop; truncated if longer */
};

/* Fill `e` (may be NULL) with `code` and a printf-style message; returns `code`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* As err_set, and also records the field name (truncated to fit). */
int err_set_field(struct err *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prefix the message already in `e` with "prefix: "; returns e->code. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reset `e` to ERR_OK with empty text. */
void err_clear(struct err *e);

/* A short constant name for `code` ("invalid", "conflict", ...). Can't fail. */
const char *err_str(int code);

/* Process exit status for `code` (docs/design.md): 0 ok, 1 user error, 2 internal. */
int err_exit_status(int code);

#endif
