/*
 * url.c - the links commands print for people and devices: the public
 * address they start with (one resolution for every command, so a phone
 * link and a pairing link never disagree), percent-encoding of query
 * values, and a link drawn as a QR code in SVG (libqrencode) for a receipt
 * or a tablet's camera.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <qrencode.h>

#include "cli.h"
#include "../db/db.h"

/* The settings row that holds the public address (schema 8). */
#define PUBLIC_URL_SETTING "public_url"

/* Append s percent-encoded for a query string (RFC 3986 unreserved kept). */
void cli_url_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			strbuf_addch(sb, c);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

int cli_write_qr_svg(const char *path, const char *text, const char *label, struct err *e)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	struct strbuf sb;
	FILE *fp;
	int rc = 0, quiet = 4, size;

	if (!qr)
		return err_set(e, ERR_INVALID, "the link is too long for a QR code");
	size = qr->width + 2 * quiet;
	strbuf_init(&sb, 0);
	strbuf_addf(&sb, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
		    "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\" role=\"img\" "
		    "aria-label=\"QR code: %s\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path d=\"",
		    size, size, size * 8, size * 8, label, size, size);
	for (int y = 0; y < qr->width; y++)
		for (int x = 0; x < qr->width; x++)
			if (qr->data[y * qr->width + x] & 1)
				strbuf_addf(&sb, "M%d %dh1v1h-1z", x + quiet, y + quiet);
	strbuf_addstr(&sb, "\" fill=\"#000\"/>\n</svg>\n");
	QRcode_free(qr);
	fp = fopen(path, "wb");
	if (!fp || sb.failed || fwrite(sb.buf, 1, sb.len, fp) != sb.len)
		rc = err_set(e, ERR_IO, "%s: cannot write the QR code", path);
	if (fp && fclose(fp) != 0 && !rc)
		rc = err_set(e, ERR_IO, "%s: cannot write the QR code", path);
	strbuf_release(&sb);
	return rc;
}

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

int cli_url_normalise(const char *url, const char *source, char out[CLI_URL_MAX], struct err *e)
{
	static const char *const schemes[] = { "http://", "https://" };
	const char *why = NULL, *rest = NULL, *path;
	struct strbuf sb;

	strbuf_init(&sb, CLI_URL_MAX - 1);
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

/* The stored public address into out, "" when none. */
static int read_stored(sqlite3 *db, char out[CLI_URL_MAX], struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT value FROM settings WHERE name = '" PUBLIC_URL_SETTING "'", &st, e);

	out[0] = '\0';
	if (rc)
		return rc;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = cli_url_normalise((const char *)sqlite3_column_text(st, 0),
				       "the stored public address (sipas init --public-url)", out, e);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = db_fail(db, e, "reading the public address");
	}
	sqlite3_finalize(st);
	return rc;
}

int cli_public_url(sqlite3 *db, const char *base, char out[CLI_URL_MAX], struct err *e)
{
	const char *env = getenv("SIPAS_PUBLIC_URL");
	int rc;

	if (base)
		return cli_url_normalise(base, "--base", out, e);
	if (env && *env)
		return cli_url_normalise(env, "SIPAS_PUBLIC_URL", out, e);
	rc = read_stored(db, out, e);
	if (rc || out[0])
		return rc;
	snprintf(out, CLI_URL_MAX, "%s", CLI_URL_DEFAULT);
	fprintf(stderr, "sipas: warning: no public address is set, so links carry %s, which phones and "
		"tablets cannot reach; set it once with sipas init --public-url URL (or $SIPAS_PUBLIC_URL, "
		"or --base)\n", CLI_URL_DEFAULT);
	return 0;
}

int cli_public_url_store(sqlite3 *db, const char *url, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, url ? "INSERT INTO settings(name, value) VALUES ('" PUBLIC_URL_SETTING "', ?1) "
				      "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
				    : "DELETE FROM settings WHERE name = '" PUBLIC_URL_SETTING "'", &st, e);

	if (rc)
		return rc;
	if (url)
		sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, e, "storing the public address");
	sqlite3_finalize(st);
	return rc;
}
