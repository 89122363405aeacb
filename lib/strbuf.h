/*
 * strbuf.h - a growable string with a hard size limit, after git's strbuf.
 * Used to build JSON, CSV, HTML and SQL-free text without snprintf juggling.
 * Once an append fails (limit or memory) the buffer is marked failed and
 * later appends are no-ops, so callers may check once at the end.
 */
#ifndef SIPAS_STRBUF_H
#define SIPAS_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;      /* always NUL-terminated when alloc > 0 */
	size_t len;
	size_t alloc;
	size_t max;     /* hard limit on len; 0 means SIZE_MAX/2 */
	int failed;     /* set when an append hit the limit or ENOMEM */
};

#define STRBUF_INIT { NULL, 0, 0, 0, 0 }

/* Prepare an empty buffer that refuses to grow past `max` bytes (0 = no limit). */
void strbuf_init(struct strbuf *sb, size_t max);

/* Make room for `extra` more bytes (and the NUL) without changing the
 * contents, so a producer may write into buf + len directly; 0, or -1 (and
 * sb->failed set) on limit or out of memory. */
int strbuf_grow(struct strbuf *sb, size_t extra);

/* Append; return 0, or -1 (and set sb->failed) on limit or out of memory. */
int strbuf_add(struct strbuf *sb, const void *data, size_t n);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, int c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/* The contents as a C string; "" for an empty buffer. Owned by sb. Can't fail. */
const char *strbuf_str(const struct strbuf *sb);

/* Empty the buffer but keep its memory and limit; clears `failed`. */
void strbuf_reset(struct strbuf *sb);

/* Hand the contents to the caller (free() them); the buffer is left empty.
 * Returns NULL if the buffer failed or on out of memory. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

/* Free the memory; the buffer can be reused after strbuf_init. NULL-safe. */
void strbuf_release(struct strbuf *sb);

#endif
