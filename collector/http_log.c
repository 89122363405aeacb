/*
 * http_log.c - the collector's access log (http_parts.h): one line per
 * request on stderr (method, path, status, microseconds; never headers,
 * queries or bodies, so no token or link signature is logged).
 *
 * It is buffered, and the daemon flushes it once a second and at stop: a
 * write() per request would cost as much as the rest of a kiosk post.  A
 * crash can lose the last second of log lines, never a rating.  What a
 * client sent (method, path) is logged with bytes outside printable ASCII
 * written as \xNN, so it can neither forge a line nor reach a terminal.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "http_parts.h"

#define ACCESS_LOG_BUFFER (64 * 1024)

FILE *col_log_open(void)
{
	int fd = dup(STDERR_FILENO);
	FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!fp) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		errno = saved;
		return NULL;
	}
	setvbuf(fp, NULL, _IOFBF, ACCESS_LOG_BUFFER);
	return fp;
}

void col_log_field(char *dst, size_t size, const char *s)
{
	size_t n = 0;

	assert(size > 0);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int plain = ch > ' ' && ch < 0x7f && ch != '\\';

		if (n + (plain ? 1 : 4) >= size)
			break;
		if (plain)
			dst[n++] = (char)ch;
		else
			n += (size_t)snprintf(dst + n, 5, "\\x%02x", ch);
	}
	dst[n] = '\0';
}

void col_log_request(FILE *log, const char *method, const char *path, unsigned status, double seconds,
		     const char *end)
{
	fprintf(log, "%s %s %u %.0fus%s\n", method, path, status, seconds * 1e6, end);
}

void col_log_closed(FILE *log, unsigned status, const char *fmt, ...)
{
	va_list ap;

	fprintf(log, "- - %u 0us ", status);
	va_start(ap, fmt);
	vfprintf(log, fmt, ap);
	va_end(ap);
	fputc('\n', log);
}
