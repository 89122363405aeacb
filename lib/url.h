/*
 * url.h - the public address of the collector, as an office types it
 * (`sipas init --public-url`, `--base`, $SIPAS_PUBLIC_URL): checked and
 * normalised, so that "HTTPS://Host/" and "https://host" are one address.
 * Only what such an address holds is taken: no user, query or fragment.
 * And a link drawn as a QR code, for a receipt or a tablet's camera.
 */
#ifndef SIPAS_URL_H
#define SIPAS_URL_H

#include "err.h"
#include "strbuf.h"

#define URL_MAX 201   /* an address: 200 bytes and its NUL */

/* Check `url` and write it normalised to out: http or https, a host (a
 * name, an IPv4 address or [IPv6]), an optional port and path, no user,
 * query or fragment, ASCII only; the scheme and host in lower case and no
 * trailing slash.  Normalising its own output gives it back unchanged.
 * 0, or ERR_INVALID naming `source` (the option or variable it came from)
 * and what is wrong, out untouched. */
int url_normalise(const char *url, const char *source, char out[URL_MAX], struct err *e);

/* Append `text` drawn as a QR code (libqrencode, error correction M) to
 * out as an SVG document; `label` (trusted, no markup) names it for
 * screen readers.  ERR_INVALID when text is too long for a QR code,
 * ERR_NOMEM when out cannot grow. */
int url_qr_svg(struct strbuf *out, const char *text, const char *label, struct err *e);

#endif
