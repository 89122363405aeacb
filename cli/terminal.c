/*
 * terminal.c - what commands print for a person at a terminal: stored
 * text escaped so that it cannot forge or hide a line (cli_escape), and
 * stored times (cli_format_time).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "../lib/utf8.h"

/* Code points a terminal or a reader would not see as they are: C0 and C1
 * controls, DEL, line and paragraph separators, and the invisible
 * formatting ones (zero widths, bidirectional overrides and isolates, the
 * byte order mark) that can make a line read as something else. */
static int hidden(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff;
}

/* The length of the UTF-8 sequence at s (n bytes left) and its code point,
 * or 0 when it is not well-formed. */
static size_t utf8_next(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t k = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;

	if (k == 0 || k > n || !utf8_valid((const char *)s, k))
		return 0;
	*cp = k == 1 ? s[0] : (unsigned long)(s[0] & (0x7f >> k));
	for (size_t i = 1; i < k; i++)
		*cp = (*cp << 6) | (s[i] & 0x3f);
	return k;
}

void cli_escape(struct strbuf *sb, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text);

	while (n) {
		unsigned long cp = 0;
		size_t k = utf8_next(s, n, &cp);

		if (k == 0)
			strbuf_addf(sb, "\\x%02x", s[0]);
		else if (cp == '\\')
			strbuf_addstr(sb, "\\\\");
		else if (cp == '\n' || cp == '\t' || cp == '\r')
			strbuf_addstr(sb, cp == '\n' ? "\\n" : cp == '\t' ? "\\t" : "\\r");
		else if (hidden(cp))
			strbuf_addf(sb, cp < 0x80 ? "\\x%02lx" : "\\u%04lx", cp);
		else
			strbuf_add(sb, s, k);
		k = k ? k : 1;
		s += k;
		n -= k;
	}
}

void cli_format_time(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t)
		snprintf(out, 32, "-");
	else
		strftime(out, 32, "%Y-%m-%d %H:%M", gmtime_r(&tt, &tm));
}
