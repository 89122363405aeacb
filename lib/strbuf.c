/*
 * strbuf.c - growable, size-limited strings (see strbuf.h).
 */
#include "strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char strbuf_empty[1];

void strbuf_init(struct strbuf *sb, size_t max)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->alloc = 0;
	sb->max = max ? max : SIZE_MAX / 2;
	sb->failed = 0;
}

int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want, alloc;
	char *p;

	if (sb->failed)
		return -1;
	if (sb->max == 0)
		sb->max = SIZE_MAX / 2;
	if (extra > sb->max - sb->len) {
		sb->failed = 1;
		return -1;
	}
	want = sb->len + extra + 1;
	if (want <= sb->alloc)
		return 0;
	alloc = sb->alloc ? sb->alloc : 64;
	while (alloc < want)
		alloc *= 2;
	p = realloc(sb->buf, alloc);
	if (!p) {
		sb->failed = 1;
		return -1;
	}
	sb->buf = p;
	sb->alloc = alloc;
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	if (strbuf_grow(sb, n) < 0)
		return -1;
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_addstr(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;

	return strbuf_add(sb, &ch, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	if (sb->failed)
		return -1;
	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || strbuf_grow(sb, (size_t)n) < 0) {
		sb->failed = 1;
		return -1;
	}
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return rc;
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : strbuf_empty;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->failed = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p;

	if (sb->failed) {
		strbuf_release(sb);
		return NULL;
	}
	p = sb->buf ? sb->buf : calloc(1, 1);
	if (len)
		*len = sb->len;
	sb->buf = NULL;
	sb->len = 0;
	sb->alloc = 0;
	return p;
}

void strbuf_release(struct strbuf *sb)
{
	if (!sb)
		return;
	free(sb->buf);
	sb->buf = NULL;
	sb->len = 0;
	sb->alloc = 0;
	sb->failed = 0;
}
