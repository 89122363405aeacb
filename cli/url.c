/*
 * url.c - the links commands print for people and devices: percent-encoding
 * of query values, and a link drawn as a QR code in SVG (libqrencode) for a
 * receipt or a tablet's camera.
 */
#include <stdio.h>
#include <qrencode.h>

#include "cli.h"

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
