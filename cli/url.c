/*
 * url.c - the links commands print for people and devices: the public
 * address they start with (one resolution for every command, so a phone
 * link and a pairing link never disagree), percent-encoding of query
 * values, and a link drawn as a QR code in SVG (libqrencode) for a receipt
 * or a tablet's camera.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qrencode.h>

#include "cli.h"
#include "../db/db.h"
#include "../lib/url.h"

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

/* The stored public address into out, "" when none. */
static int read_stored(sqlite3 *db, char out[URL_MAX], struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc = db_prepare(db, "SELECT value FROM settings WHERE name = '" PUBLIC_URL_SETTING "'", &st, e);

	out[0] = '\0';
	if (rc)
		return rc;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = url_normalise((const char *)sqlite3_column_text(st, 0),
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

int cli_public_url(sqlite3 *db, const char *base, char out[URL_MAX], struct err *e)
{
	const char *env = getenv("SIPAS_PUBLIC_URL");
	int rc;

	if (base)
		return url_normalise(base, "--base", out, e);
	if (env && *env)
		return url_normalise(env, "SIPAS_PUBLIC_URL", out, e);
	rc = read_stored(db, out, e);
	if (rc || out[0])
		return rc;
	snprintf(out, URL_MAX, "%s", CLI_URL_DEFAULT);
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
