/*
 * err.c - filling and naming `struct err` values.  Messages are formatted
 * into fixed buffers on purpose: an error path must not allocate.
 */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void err_vset(struct err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
}

/* Rewrite e->text keeping code and field; an over-long message is cut at
 * the end, which keeps the file and line that come first. */
static int err_rewrite(struct err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return e->code;
}

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->field[0] = '\0';
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int err_set_field(struct err *e, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	snprintf(e->field, sizeof(e->field), "%s", field);
	va_start(ap, fmt);
	err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char prefix[256];
	char old[sizeof(e->text)];
	va_list ap;

	if (!e)
		return ERR_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->text, sizeof(old));
	return err_rewrite(e, "%s: %s", prefix, old);
}

void err_clear(struct err *e)
{
	e->code = ERR_OK;
	e->field[0] = '\0';
	e->text[0] = '\0';
}

const char *err_str(int code)
{
	switch (code) {
	case ERR_OK: return "ok";
	case ERR_INVALID: return "invalid";
	case ERR_CONFLICT: return "conflict";
	case ERR_NOT_FOUND: return "not_found";
	case ERR_TOO_LARGE: return "too_large";
	case ERR_IO: return "io";
	case ERR_DB: return "database";
	case ERR_NOMEM: return "out_of_memory";
	default: return "internal";
	}
}

int err_exit_status(int code)
{
	switch (code) {
	case ERR_OK:
		return 0;
	case ERR_INVALID:
	case ERR_CONFLICT:
	case ERR_NOT_FOUND:
	case ERR_TOO_LARGE:
	case ERR_IO:
		return 1;
	default:
		return 2;
	}
}
