/*
 * url.c - a public address as people type it (see url.h): checked and
 * written one way, so that every link made from it is the same; and a
 * link drawn as a QR code.
 */
#include "url.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <qrencode.h>

#include "strbuf.h"

/* Bytes a URL's path may hold as they are (RFC 3986 pchar and '/', with
 * '%' for percent-encoding); '?' and '#' are refused with their own reason. */
static int path_byte(unsigned char c)
{
	return isalnum(c) || (c && strchr("-._~!$&'()*+,;=:@/%", c));
}

/* Check host[:port] (len bytes at s) into out; 0 or a reason. */
static const char *check_authority(const char *s, size_t len, struct strbuf *out)
{
	size_t host = len, i;

	if (memchr(s, '@', len))
		return "a user name or password does not belong in it";
	if (len && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close || close == s + 1)
			return "an IPv6 address must be written [like:this]";
		for (const char *p = s + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return "an IPv6 address must be written [like:this]";
		host = (size_t)(close + 1 - s);
	} else {
		for (host = 0; host < len && s[host] != ':'; host++)
			if (!isalnum((unsigned char)s[host]) && s[host] != '-' && s[host] != '.')
				return "the host may hold letters, digits, '-' and '.' only (a Vietnamese "
				       "domain name in its xn-- form)";
	}
	if (host == 0)
		return "it names no host";
	if (host < len) {
		long port = 0;

		if (s[host] != ':' || host + 1 == len || len - host > 6)
			return "the port must be a number from 1 to 65535";
		for (i = host + 1; i < len; i++) {
			if (!isdigit((unsigned char)s[i]))
				return "the port must be a number from 1 to 65535";
			port = port * 10 + (s[i] - '0');
		}
		if (port < 1 || port > 65535)
			return "the port must be a number from 1 to 65535";
	}
	for (i = 0; i < host; i++)
		strbuf_addch(out, tolower((unsigned char)s[i]));
	strbuf_add(out, s + host, len - host);
	return NULL;
}

int url_normalise(const char *url, const char *source, char out[URL_MAX], struct err *e)
{
	static const char *const schemes[] = { "http://", "https://" };
	const char *why = NULL, *rest = NULL, *path;
	struct strbuf sb;

	strbuf_init(&sb, URL_MAX - 1);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && !rest; i++)
		if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0) {
			strbuf_addstr(&sb, schemes[i]);
			rest = url + strlen(schemes[i]);
		}
	if (!rest)
		why = "it must start with http:// or https://";
	if (!why) {
		path = rest + strcspn(rest, "/?#");
		why = check_authority(rest, (size_t)(path - rest), &sb);
		for (const char *p = path; !why && *p; p++) {
			if (*p == '?')
				why = "a query ('?') does not belong in it";
			else if (*p == '#')
				why = "a fragment ('#') does not belong in it";
			else if (!path_byte((unsigned char)*p))
				why = "its path may hold only URL characters (percent-encode others)";
		}
		if (!why)
			strbuf_addstr(&sb, path);
	}
	/* "https://host/" and "https://host" are one address: links append "/s/…" */
	while (!why && sb.len > 0 && sb.buf[sb.len - 1] == '/')
		sb.buf[--sb.len] = '\0';
	if (!why && sb.failed)
		why = "it is longer than 200 characters";
	if (!why)
		memcpy(out, sb.buf, sb.len + 1);
	strbuf_release(&sb);
	if (why)
		return err_set_field(e, ERR_INVALID, source, "%s '%.100s' is not a public address: %s", source,
				     url, why);
	return 0;
}

int url_qr_svg(struct strbuf *out, const char *text, const char *label, struct err *e)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int quiet = 4, size;

	if (!qr)
		return err_set(e, ERR_INVALID, "the link is too long for a QR code");
	size = qr->width + 2 * quiet;
	strbuf_addf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		    "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\" role=\"img\" "
		    "aria-label=\"QR code: %s\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path d=\"",
		    size, size, size * 8, size * 8, label, size, size);
	/* one rectangle per run of dark modules in a row: a third of the
	 * bytes of one square per module (a receipt link's code has ~1800) */
	for (int y = 0; y < qr->width; y++) {
		for (int x = 0, run; x < qr->width; x += run ? run : 1) {
			for (run = 0; x + run < qr->width && (qr->data[y * qr->width + x + run] & 1); run++)
				;
			if (run)
				strbuf_addf(out, "M%d %dh%dv1h-%dz", x + quiet, y + quiet, run, run);
		}
	}
	strbuf_addstr(out, "\" fill=\"#000\"/>\n</svg>\n");
	QRcode_free(qr);
	return out->failed ? err_set(e, ERR_NOMEM, "out of memory") : 0;
}
