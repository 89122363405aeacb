/*
 * url.c - the links commands print for people and devices: the public
 * address they start with (one resolution for every command, so a phone
 * link and a pairing link never disagree), and a link drawn as a QR code
 * in SVG (libqrencode) for a receipt or a tablet's camera.  The phone
 * link itself is collector/link.c's (link_url).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../db/db.h"
#include "../lib/url.h"

/* The settings row that holds the public address (schema 8). */
#define PUBLIC_URL_SETTING "public_url"

int cli_write_qr_svg(const char *path, const char *text, const char *label, struct err *e)
{
	struct strbuf sb;
	FILE *fp = NULL;
	int rc;

	strbuf_init(&sb, 0);
	rc = url_qr_svg(&sb, text, label, e);
	if (!rc) {
		fp = fopen(path, "wb");
		if (!fp || fwrite(sb.buf, 1, sb.len, fp) != sb.len)
			rc = err_set(e, ERR_IO, "%s: cannot write the QR code", path);
	}
	if (fp && fclose(fp) != 0 && !rc)
		rc = err_set(e, ERR_IO, "%s: cannot write the QR code", path);
	strbuf_release(&sb);
	return rc;
}

/* The stored public address into out, "" when none. */
static int read_stored(sqlite3 *db, char out[URL_MAX], struct err *e)
{
	char stored[URL_MAX];
	int rc = db_setting_get(db, PUBLIC_URL_SETTING, stored, sizeof(stored), e);

	out[0] = '\0';
	if (rc || !stored[0])
		return rc;
	return url_normalise(stored, "the stored public address (sipas init --public-url)", out, e);
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
	return db_setting_set(db, PUBLIC_URL_SETTING, url, e);
}
